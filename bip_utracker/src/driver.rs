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

use crate::client::{
    AnnounceParams, AnnounceReply, ClientConfig, ClientCore, ClientEvent, RequestError, RequestId,
};
use crate::codec::{ScrapeStats, MAX_SCRAPE_HASHES};
use crate::server::{ConnectionIds, Counters, ServerConfig, ServerCore, Store};

/// Errors of the tokio client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `udp://host:port[/path?query]`.
    #[error("bad tracker URL {0:?}")]
    BadUrl(String),
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

/// A parsed `udp://host:port[/path?query]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// Path and query (BEP 41 URL data), empty when absent.
    pub path: String,
}

impl TrackerUrl {
    /// Parses a tracker URL.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let bad = || ClientError::BadUrl(url.to_string());
        let rest = url.strip_prefix("udp://").ok_or_else(bad)?;
        let (hostport, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, p) = h.split_once("]:").ok_or_else(bad)?;
            (h, p)
        } else {
            hostport.rsplit_once(':').ok_or_else(bad)?
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(TrackerUrl {
            host: host.to_string(),
            port: port.parse().map_err(|_| bad())?,
            path: path.to_string(),
        })
    }

    /// Resolves the host through tokio (first address returned).
    pub async fn resolve(&self) -> Result<SocketAddr, ClientError> {
        let mut addrs = tokio::net::lookup_host((self.host.as_str(), self.port)).await?;
        addrs
            .next()
            .ok_or_else(|| ClientError::Io(io::Error::new(io::ErrorKind::NotFound, "no address")))
    }

    fn url_data(&self) -> Option<Vec<u8>> {
        (!self.path.is_empty()).then(|| self.path.as_bytes().to_vec())
    }
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
    pub async fn new(config: ClientConfig, seed: u64) -> io::Result<Client> {
        let v4 = UdpSocket::bind("0.0.0.0:0").await?;
        let v6 = UdpSocket::bind("[::]:0").await.ok();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(run_client(ClientCore::new(config, seed), v4, v6, rx));
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
        let addr = u.resolve().await?;
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
        let addr = u.resolve().await?;
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

async fn run_client(
    mut core: ClientCore,
    v4: UdpSocket,
    v6: Option<UdpSocket>,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let mut pending = Pending::new();
    let mut buf4 = vec![0u8; 65536];
    let mut buf6 = vec![0u8; 65536];
    let mut open = true;
    loop {
        // Drain outputs.
        while let Some(t) = core.poll_transmit() {
            let sock = if t.to.is_ipv4() {
                Some(&v4)
            } else {
                v6.as_ref()
            };
            if let Some(s) = sock {
                let _ = s.send_to(&t.bytes, t.to).await;
            }
        }
        while let Some(ev) = core.poll_event() {
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
                    let id = core.announce(Instant::now(), addr, p, url);
                    pending.insert(id, PendingReply::Announce(tx));
                }
                Some(Cmd::Scrape(addr, h, tx)) => {
                    let id = core.scrape(Instant::now(), addr, h);
                    pending.insert(id, PendingReply::Scrape(tx));
                }
                None => open = false,
            },
            r = v4.recv_from(&mut buf4) => if let Ok((n, from)) = r {
                core.handle_datagram(Instant::now(), from, &buf4[..n]);
            },
            r = recv_opt(&v6, &mut buf6) => if let Ok((n, from)) = r {
                core.handle_datagram(Instant::now(), from, &buf6[..n]);
            },
            () = sleep => core.handle_timeout(Instant::now()),
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
        let now = Instant::now();
        let seed = seed_from_clock();
        let ids = ConnectionIds::new(seed, now, config.connection_id_window);
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
            tasks.push(tokio::spawn(run_server(core, sock)));
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

    /// The shared counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }
}

/// A seed from the system clock and std's random hasher keys, for drivers.
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
    let sleep = tokio::time::sleep_until(Instant::now().into());
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
                        Err(_) => continue,
                    };
                    if let Some(resp) = core.handle_datagram(Instant::now(), from, &buf[..n]) {
                        match sock.try_send_to(resp, from) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                let _ = sock.send_to(resp, from).await;
                            }
                            _ => {}
                        }
                    }
                }
            }
            () = &mut sleep => {
                let now = Instant::now();
                core.handle_timeout(now);
                let next = core.poll_timeout(now).max(now + Duration::from_millis(100));
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

    /// The shared counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
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
            next_timer = core.poll_timeout(now).max(now + THREAD_TICK);
        }
        debug_assert!(rx.len() == n);
    }
}
