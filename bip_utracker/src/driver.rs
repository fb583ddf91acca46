//! Thin drivers around the cores: the tokio [`Client`] and [`Server`], and the
//! [`ThreadedServer`] on OS threads with batched system calls.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_handshake::{DiscoveredPeer, Discovery, PeerSource};
use bip_util::InfoHash;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::client::{
    AnnounceParams, AnnounceReply, ClientConfig, ClientCore, ClientEvent, RequestError, RequestId,
};
use crate::codec::{ScrapeStats, MAX_SCRAPE_HASHES};
use crate::server::{ConnectionIds, Counters, ServerConfig, ServerCore, ServerStats, Store};
use crate::url::{TrackerUrl, UrlError};

/// Errors of the tokio client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `udp://host:port[/path?query]`.
    #[error(transparent)]
    BadUrl(#[from] UrlError),
    /// DNS or socket failure.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The request failed.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The client task is gone.
    #[error("client task stopped")]
    Closed,
}

/// Resolves a tracker URL's host through tokio (first address returned).
async fn resolve(u: &TrackerUrl) -> Result<SocketAddr, ClientError> {
    let mut addrs = tokio::net::lookup_host((u.host.as_str(), u.port)).await?;
    addrs
        .next()
        .ok_or_else(|| ClientError::Io(io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// The drivers' clock: tokio's, so tests can pause it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

enum Cmd {
    Announce(
        SocketAddr,
        AnnounceParams,
        Option<Vec<u8>>,
        oneshot::Sender<Result<AnnounceReply, RequestError>>,
    ),
    Scrape(
        SocketAddr,
        Vec<InfoHash>,
        oneshot::Sender<Result<Vec<ScrapeStats>, RequestError>>,
    ),
}

/// A UDP tracker client on tokio: a cheap-to-clone handle to a task that owns the sockets
/// and a [`ClientCore`]. The task ends when the last handle is dropped. Needs a tokio
/// runtime with time and I/O enabled.
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Cmd>,
    discovery: Option<Arc<dyn Discovery>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Binds an IPv4 and (when available) an IPv6 socket and starts the client task.
    ///
    /// `seed` is the only source of the client's randomness: it seeds the transaction ids
    /// (which let the client match answers and ignore forged ones) and the announce key
    /// (which lets a tracker recognise us across address changes), through the reproducible
    /// [`CoreRng`](bip_util::CoreRng) (expanded into the 32-byte seed of
    /// [`ClientCore::new`]). It needs no cryptographic quality, but two clients given the same
    /// seed pick the same ids and key: give each client a fresh one with the helper
    /// [`seed_from_clock`]; give a fixed one only in tests that must be reproducible.
    /// An announce or scrape to an address family without a socket fails at once with
    /// [`RequestError::Unreachable`]; dropping its future cancels its retransmissions.
    pub async fn new(config: ClientConfig, seed: u64) -> io::Result<Client> {
        let v4 = UdpSocket::bind("0.0.0.0:0").await?;
        let v6 = UdpSocket::bind("[::]:0").await.ok();
        let (tx, rx) = mpsc::channel(64);
        let core = ClientCore::new(config, crate::expand_seed(seed));
        let span = tracing::info_span!("tracker_client", v4 = ?v4.local_addr().ok());
        tokio::spawn(run_client(core, v4, v6, rx).instrument(span));
        Ok(Client {
            tx,
            discovery: None,
        })
    }

    /// Hands every peer from announce responses to `discovery` as well.
    pub fn with_discovery(mut self, discovery: Arc<dyn Discovery>) -> Self {
        self.discovery = Some(discovery);
        self
    }

    /// Announces to `url`.
    pub async fn announce(
        &self,
        url: &str,
        params: AnnounceParams,
    ) -> Result<AnnounceReply, ClientError> {
        let u = TrackerUrl::parse(url)?;
        let addr = resolve(&u).await?;
        let (tx, rx) = oneshot::channel();
        let ih = params.info_hash;
        self.tx
            .send(Cmd::Announce(addr, params, u.url_data(), tx))
            .await
            .map_err(|_| ClientError::Closed)?;
        let reply = rx.await.map_err(|_| ClientError::Closed)??;
        if let Some(d) = &self.discovery {
            for p in &reply.peers {
                d.add_peer(DiscoveredPeer::new(ih, *p, PeerSource::Tracker));
            }
        }
        Ok(reply)
    }

    /// Scrapes `hashes` at `url` (74 per request, requests in parallel), counts in order.
    pub async fn scrape(
        &self,
        url: &str,
        hashes: &[InfoHash],
    ) -> Result<Vec<ScrapeStats>, ClientError> {
        let u = TrackerUrl::parse(url)?;
        let addr = resolve(&u).await?;
        let mut rxs = Vec::new();
        for chunk in hashes.chunks(MAX_SCRAPE_HASHES) {
            let (tx, rx) = oneshot::channel();
            self.tx
                .send(Cmd::Scrape(addr, chunk.to_vec(), tx))
                .await
                .map_err(|_| ClientError::Closed)?;
            rxs.push(rx);
        }
        let mut out = Vec::with_capacity(hashes.len());
        for rx in rxs {
            out.extend(rx.await.map_err(|_| ClientError::Closed)??);
        }
        Ok(out)
    }
}

type Pending = std::collections::HashMap<RequestId, PendingReply>;
enum PendingReply {
    Announce(oneshot::Sender<Result<AnnounceReply, RequestError>>),
    Scrape(oneshot::Sender<Result<Vec<ScrapeStats>, RequestError>>),
}

async fn recv_opt(s: &Option<UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match s {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

fn reply(pending: &mut Pending, ev: ClientEvent) {
    match ev {
        ClientEvent::Announced(id, r) => {
            if let Some(PendingReply::Announce(tx)) = pending.remove(&id) {
                let _ = tx.send(Ok(r));
            }
        }
        ClientEvent::Scraped(id, s) => {
            if let Some(PendingReply::Scrape(tx)) = pending.remove(&id) {
                let _ = tx.send(Ok(s));
            }
        }
        ClientEvent::Failed(id, e) => match pending.remove(&id) {
            Some(PendingReply::Announce(tx)) => {
                let _ = tx.send(Err(e));
            }
            Some(PendingReply::Scrape(tx)) => {
                let _ = tx.send(Err(e));
            }
            None => {}
        },
    }
}

impl PendingReply {
    fn is_closed(&self) -> bool {
        match self {
            PendingReply::Announce(tx) => tx.is_closed(),
            PendingReply::Scrape(tx) => tx.is_closed(),
        }
    }
}

async fn run_client(
    mut core: ClientCore,
    v4: UdpSocket,
    v6: Option<UdpSocket>,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let mut pending = Pending::new();
    let mut buf4 = vec![0u8; 65536];
    let mut buf6 = vec![0u8; 65536];
    let mut out = Vec::with_capacity(1500);
    let mut open = true;
    let sock_for = |to: &SocketAddr| {
        if to.is_ipv4() {
            Some(&v4)
        } else {
            v6.as_ref()
        }
    };
    loop {
        // Drain outputs.
        while let Some(t) = core.poll_transmit(&mut out) {
            let sent = match sock_for(&t.to) {
                Some(s) => s.send_to(&out[..t.len], t.to).await.map(|_| ()),
                None => Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "no socket of this address family",
                )),
            };
            if let Err(e) = sent {
                tracing::debug!(to = %t.to, error = %e, "send failed");
                core.fail_target(t.to, &e.to_string());
            }
        }
        while let Some(ev) = core.poll_event() {
            reply(&mut pending, ev);
        }
        if !open && pending.is_empty() {
            return;
        }
        let deadline = core.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            cmd = rx.recv(), if open => match cmd {
                Some(Cmd::Announce(addr, p, url, tx)) => {
                    let id = core.announce(now(), addr, p, url);
                    pending.insert(id, PendingReply::Announce(tx));
                }
                Some(Cmd::Scrape(addr, h, tx)) => {
                    let id = core.scrape(now(), addr, h);
                    pending.insert(id, PendingReply::Scrape(tx));
                }
                None => open = false,
            },
            r = v4.recv_from(&mut buf4) => if let Ok((n, from)) = r {
                core.handle_datagram(now(), from, &buf4[..n]);
            },
            r = recv_opt(&v6, &mut buf6) => if let Ok((n, from)) = r {
                core.handle_datagram(now(), from, &buf6[..n]);
            },
            () = sleep => {
                // Requests whose future was dropped are cancelled before anything is
                // retransmitted for them.
                let gone: Vec<RequestId> = pending
                    .iter()
                    .filter(|(_, p)| p.is_closed())
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    pending.remove(&id);
                    core.cancel(id);
                    tracing::debug!(?id, "request dropped by its caller: cancelled");
                }
                core.handle_timeout(now());
            }
        }
    }
}

/// A running tracker: one tokio task per socket, each with its own [`ServerCore`] over a
/// shared store, connection-id secret and counters. Dropping it stops the tasks.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    counters: Arc<Counters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn reuseport_socket(addr: SocketAddr, reuse: bool) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if reuse {
        #[cfg(unix)]
        s.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

impl Server {
    /// Serves `store` on one socket bound to `addr`.
    pub async fn bind<S: Store + 'static>(
        addr: SocketAddr,
        config: ServerConfig,
        store: Arc<S>,
    ) -> io::Result<Server> {
        Self::serve_reuseport(addr, 1, config, store).await
    }

    /// Serves `store` on `n` sockets bound to the same `addr` with `SO_REUSEPORT` (the
    /// kernel spreads clients over them); run on a multi-thread runtime to use all cores.
    pub async fn serve_reuseport<S: Store + 'static>(
        addr: SocketAddr,
        n: usize,
        config: ServerConfig,
        store: Arc<S>,
    ) -> io::Result<Server> {
        let seed = seed_from_clock();
        let ids = ConnectionIds::new(seed, now(), config.connection_id_window);
        let counters = Arc::new(Counters::default());
        let first = reuseport_socket(addr, n > 1)?;
        let local_addr = first.local_addr()?;
        let mut sockets = vec![first];
        for _ in 1..n {
            sockets.push(reuseport_socket(local_addr, true)?);
        }
        let mut tasks = Vec::new();
        for s in sockets {
            let sock = UdpSocket::from_std(s)?;
            let core = ServerCore::new(config.clone(), store.clone(), ids.clone())
                .with_counters(counters.clone());
            let span = tracing::info_span!("tracker_server", local = %local_addr);
            tasks.push(tokio::spawn(run_server(core, sock).instrument(span)));
        }
        Ok(Server {
            local_addr,
            counters,
            tasks,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters of all sockets, a snapshot.
    pub fn stats(&self) -> ServerStats {
        self.counters.snapshot()
    }
}

/// A fresh `u64` seed from the system clock, the process id and std's randomly keyed hasher:
/// what to pass as the `seed` of [`Client::new`] and [`MemoryStore::new`](crate::MemoryStore::new)
/// outside tests.
pub fn seed_from_clock() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

async fn run_server<S: Store>(mut core: ServerCore<S>, sock: UdpSocket) {
    let mut buf = vec![0u8; 65536];
    core.handle_timeout(now());
    let sleep = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            r = sock.readable() => {
                if r.is_err() {
                    continue;
                }
                // Drain what is queued without going back to the reactor.
                for _ in 0..1024 {
                    let (n, from) = match sock.try_recv_from(&mut buf) {
                        Ok(x) => x,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            tracing::trace!(error = %e, "receive failed");
                            continue;
                        }
                    };
                    if let Some(resp) = core.handle_datagram(now(), from, &buf[..n]) {
                        match sock.try_send_to(resp, from) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                let _ = sock.send_to(resp, from).await;
                            }
                            Err(e) => tracing::trace!(to = %from, error = %e, "send failed"),
                            Ok(_) => {}
                        }
                    }
                }
            }
            () = &mut sleep => {
                let t = now();
                core.handle_timeout(t);
                let next = core
                    .poll_timeout()
                    .unwrap_or(t + Duration::from_secs(60))
                    .max(t + Duration::from_millis(100));
                sleep.as_mut().reset(next.into());
            }
        }
    }
}

/// A tracker on plain OS threads: one thread per socket, each with its own [`ServerCore`]
/// over a shared store, blocking batched I/O (`recvmmsg`/`sendmmsg` on Linux: one system
/// call per batch of datagrams, no reactor). The fastest driver when the tracker owns its
/// threads; [`Server`] is the one to embed in a tokio application. Dropping it stops and
/// joins the threads (within about 100 ms).
///
/// Its threads run no tokio runtime, so they read `std::time::Instant::now()`; the tokio
/// drivers read tokio's clock.
#[derive(Debug)]
pub struct ThreadedServer {
    local_addr: SocketAddr,
    counters: Arc<Counters>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// How long a blocked receive waits before the thread checks for stop and timers.
const THREAD_TICK: Duration = Duration::from_millis(100);

impl ThreadedServer {
    /// Serves `store` on `threads` sockets (at least one) bound to `addr`, with
    /// `SO_REUSEPORT` when more than one (the kernel spreads clients over them).
    pub fn spawn<S: Store + 'static>(
        addr: SocketAddr,
        threads: usize,
        config: ServerConfig,
        store: Arc<S>,
    ) -> io::Result<ThreadedServer> {
        let n = threads.max(1);
        let now = Instant::now();
        let ids = ConnectionIds::new(seed_from_clock(), now, config.connection_id_window);
        let counters = Arc::new(Counters::default());
        let first = reuseport_socket(addr, n > 1)?;
        let local_addr = first.local_addr()?;
        let mut sockets = vec![first];
        for _ in 1..n {
            sockets.push(reuseport_socket(local_addr, true)?);
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut handles = Vec::new();
        for (i, s) in sockets.into_iter().enumerate() {
            s.set_nonblocking(false)?;
            s.set_read_timeout(Some(THREAD_TICK))?;
            let slot = config.max_request_len.saturating_add(1);
            let core = ServerCore::new(config.clone(), store.clone(), ids.clone())
                .with_counters(counters.clone());
            let stop = stop.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("utracker-{i}"))
                    .spawn(move || run_threaded(core, s, slot, &stop))?,
            );
        }
        Ok(ThreadedServer {
            local_addr,
            counters,
            stop,
            threads: handles,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters of all sockets, a snapshot.
    pub fn stats(&self) -> ServerStats {
        self.counters.snapshot()
    }
}

impl Drop for ThreadedServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn run_threaded<S: Store>(
    mut core: ServerCore<S>,
    sock: std::net::UdpSocket,
    slot: usize,
    stop: &std::sync::atomic::AtomicBool,
) {
    use crate::batch::{RecvBatch, SendBatch};
    let mut rx = RecvBatch::new(slot);
    let mut tx = SendBatch::new();
    let mut next_timer = Instant::now();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        // Errors other than timeouts (rare on UDP) are retried after the timer check.
        let n = rx.recv(&sock).unwrap_or(0);
        let now = Instant::now();
        for i in 0..n {
            let (b, from) = rx.get(i);
            if let Some(resp) = core.handle_datagram(now, from, b) {
                tx.push(&sock, resp, from);
            }
        }
        tx.flush(&sock);
        if n == 0 || now >= next_timer {
            core.handle_timeout(now);
            next_timer = core
                .poll_timeout()
                .unwrap_or(now + THREAD_TICK)
                .max(now + THREAD_TICK);
        }
        debug_assert!(rx.len() == n);
    }
}
