//! The tokio driver: a listener and a dial queue around [`HandshakeState`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bip_util::{InfoHash, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_stream::Stream;
use tracing::Instrument;

use crate::discovery::{AddPeer, DiscoveredPeer, Discovery};
use crate::error::{FilterStage, HandshakeError};
use crate::extensions::Extensions;
use crate::filter::{FilterInput, FilterRun, HandshakeFilter};
use crate::state::{Direction, Event as HandshakeEvent, HandshakeConfig, HandshakeState, Status};

/// Default TCP connect timeout (5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default limit on concurrent handshakes in each direction (256).
pub const DEFAULT_MAX_CONCURRENT: usize = 256;
/// Default limit on dials waiting for a slot (1024); beyond it `add_peer` returns
/// [`AddPeer::Full`].
pub const DEFAULT_MAX_QUEUED_DIALS: usize = 1024;
/// Default number of completed connections buffered for the stream (64).
pub const DEFAULT_CONNECTION_BUFFER: usize = 64;

/// Default deadline for the first bytes of an incoming connection (2 s): a connection that
/// sends nothing within it is closed, long before the handshake timeout.
pub const DEFAULT_FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(2);

/// Size of the read buffer used during a handshake: bounds [`Connection::leftover`].
pub const READ_BUFFER: usize = 1024;

/// An established, identified connection.
#[non_exhaustive]
pub struct Connection {
    /// The socket, positioned right after the handshake (minus `leftover`).
    pub socket: TcpStream,
    /// Bytes read past the handshake: the next protocol layer starts with these.
    pub leftover: Vec<u8>,
    /// The remote address.
    pub remote_addr: SocketAddr,
    /// The remote's peer id.
    pub peer_id: PeerId,
    /// The torrent.
    pub info_hash: InfoHash,
    /// Negotiated extensions: the bits both sides set.
    pub extensions: Extensions,
    /// The remote's reserved bits as sent.
    pub remote_extensions: Extensions,
    /// Who dialled.
    pub direction: Direction,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("remote_addr", &self.remote_addr)
            .field("peer_id", &self.peer_id.printable())
            .field("info_hash", &self.info_hash)
            .field("extensions", &self.extensions)
            .field("remote_extensions", &self.remote_extensions)
            .field("direction", &self.direction)
            .field("leftover", &self.leftover.len())
            .finish()
    }
}

/// A handshake that failed, reported on the optional failure channel
/// ([`HandshakerBuilder::failures`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The remote address.
    pub addr: SocketAddr,
    /// The torrent, when known.
    pub info_hash: Option<InfoHash>,
    /// Who dialled.
    pub direction: Direction,
    /// Why it failed.
    pub error: HandshakeError,
}

/// Where [`Failure`]s go ([`HandshakerBuilder::failures`]): a bounded channel. When it is
/// full the failure is dropped and counted in [`Stats::failures_dropped`]; the handshaker never
/// waits on it or buffers without bound.
#[derive(Debug, Clone)]
pub struct FailureSink(SinkInner);

#[derive(Debug, Clone)]
enum SinkInner {
    Bounded(mpsc::Sender<Failure>),
}

impl From<mpsc::Sender<Failure>> for FailureSink {
    fn from(tx: mpsc::Sender<Failure>) -> Self {
        FailureSink(SinkInner::Bounded(tx))
    }
}

impl FailureSink {
    /// `false` when the failure was dropped (channel full).
    fn send(&self, f: Failure) -> bool {
        match &self.0 {
            SinkInner::Bounded(tx) => match tx.try_send(f) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => true,
                Err(mpsc::error::TrySendError::Full(_)) => false,
            },
        }
    }
}

/// Counters for monitoring (a snapshot; see [`Handshaker::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Dials accepted into the queue.
    pub dials_queued: u64,
    /// Incoming TCP connections accepted.
    pub incoming_accepted: u64,
    /// Incoming connections dropped at once: too many concurrent incoming handshakes.
    pub incoming_busy: u64,
    /// Completed outgoing handshakes.
    pub completed_outgoing: u64,
    /// Completed incoming handshakes.
    pub completed_incoming: u64,
    /// Failures: TCP connect failed or timed out.
    pub failed_connect: u64,
    /// Failures: handshake timeout.
    pub failed_timeout: u64,
    /// Failures: protocol violations (protocol string, info hash or peer id mismatch).
    pub failed_protocol: u64,
    /// Failures: incoming handshake for a hash not in the registry.
    pub failed_unknown_hash: u64,
    /// Failures: refused by a filter (or our own address / own peer id).
    pub failed_filtered: u64,
    /// Failures: peer closed early or I/O error.
    pub failed_io: u64,
    /// Failures not reported because the failure channel was full.
    pub failures_dropped: u64,
    /// Incoming connections closed to give their slot to an address holding fewer.
    pub incoming_evicted: u64,
}

#[derive(Default)]
struct Counters {
    dials_queued: AtomicU64,
    incoming_accepted: AtomicU64,
    incoming_busy: AtomicU64,
    completed_outgoing: AtomicU64,
    completed_incoming: AtomicU64,
    failed_connect: AtomicU64,
    failed_timeout: AtomicU64,
    failed_protocol: AtomicU64,
    failed_unknown_hash: AtomicU64,
    failed_filtered: AtomicU64,
    failed_io: AtomicU64,
    failures_dropped: AtomicU64,
    incoming_evicted: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            dials_queued: g(&self.dials_queued),
            incoming_accepted: g(&self.incoming_accepted),
            incoming_busy: g(&self.incoming_busy),
            completed_outgoing: g(&self.completed_outgoing),
            completed_incoming: g(&self.completed_incoming),
            failed_connect: g(&self.failed_connect),
            failed_timeout: g(&self.failed_timeout),
            failed_protocol: g(&self.failed_protocol),
            failed_unknown_hash: g(&self.failed_unknown_hash),
            failed_filtered: g(&self.failed_filtered),
            failed_io: g(&self.failed_io),
            failures_dropped: g(&self.failures_dropped),
            incoming_evicted: g(&self.incoming_evicted),
        }
    }

    fn failed(&self, e: &HandshakeError) {
        let c = match e {
            HandshakeError::ConnectTimeout { .. } | HandshakeError::Connect { .. } => {
                &self.failed_connect
            }
            HandshakeError::Timeout { .. } => &self.failed_timeout,
            HandshakeError::UnknownInfoHash { .. } => &self.failed_unknown_hash,
            HandshakeError::Filtered { .. } | HandshakeError::OwnConnection => {
                &self.failed_filtered
            }
            e if e.is_protocol_violation() => &self.failed_protocol,
            _ => &self.failed_io,
        };
        bump(c);
    }
}

/// Builds a [`Handshaker`]. Defaults: listen on `0.0.0.0:0`, `BitTorrent protocol`, reserved
/// bits none, handshake timeout 10 s, connect timeout 5 s, 256 concurrent handshakes each way,
/// 1024 queued dials, 64 buffered connections, no torrents registered, no filters.
pub struct HandshakerBuilder {
    listen: SocketAddr,
    config: HandshakeConfig,
    protocol: Option<Vec<u8>>,
    connect_timeout: Duration,
    max_incoming: usize,
    first_bytes_timeout: Duration,
    max_outgoing: usize,
    max_queued_dials: usize,
    connection_buffer: usize,
    announce_port: Option<u16>,
    filters: Vec<Arc<dyn HandshakeFilter>>,
    torrents: HashSet<InfoHash>,
    failures: Option<FailureSink>,
}

impl HandshakerBuilder {
    /// A builder with the defaults above and our peer id.
    pub fn new(peer_id: PeerId) -> Self {
        HandshakerBuilder {
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            config: HandshakeConfig::new(peer_id),
            protocol: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_incoming: DEFAULT_MAX_CONCURRENT,
            first_bytes_timeout: DEFAULT_FIRST_BYTES_TIMEOUT,
            max_outgoing: DEFAULT_MAX_CONCURRENT,
            max_queued_dials: DEFAULT_MAX_QUEUED_DIALS,
            connection_buffer: DEFAULT_CONNECTION_BUFFER,
            announce_port: None,
            filters: Vec::new(),
            torrents: HashSet::new(),
            failures: None,
        }
    }

    /// The TCP address to listen on (IPv4 or IPv6; port 0 picks one).
    pub fn listen_addr(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The protocol string (default `BitTorrent protocol`); 1 to 255 bytes, checked by
    /// [`build`](Self::build).
    pub fn protocol(mut self, protocol: &[u8]) -> Self {
        self.protocol = Some(protocol.to_vec());
        self
    }

    /// The reserved bits we send (default none).
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.config = self.config.with_extensions(extensions);
        self
    }

    /// The handshake timeout (default 10 s, [`DEFAULT_HANDSHAKE_TIMEOUT`](crate::DEFAULT_HANDSHAKE_TIMEOUT)).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config = self.config.with_timeout(timeout);
        self
    }

    /// The TCP connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Maximum concurrent incoming handshakes (default 256). While slots are free anyone gets
    /// one; when they run out, a connection from an address holding fewer slots takes the
    /// oldest slot of the address holding the most (that connection is closed), and one from
    /// an address already holding as many as anyone is closed at once.
    pub fn max_incoming(mut self, n: usize) -> Self {
        self.max_incoming = n.max(1);
        self
    }

    /// How long an incoming connection may stay silent before its first byte (default 2 s,
    /// capped by the handshake timeout).
    pub fn first_bytes_timeout(mut self, timeout: Duration) -> Self {
        self.first_bytes_timeout = timeout;
        self
    }

    /// Maximum concurrent outgoing handshakes, connects included (default 256).
    pub fn max_outgoing(mut self, n: usize) -> Self {
        self.max_outgoing = n.max(1);
        self
    }

    /// Maximum dials waiting for an outgoing slot (default 1024).
    pub fn max_queued_dials(mut self, n: usize) -> Self {
        self.max_queued_dials = n.max(1);
        self
    }

    /// Completed connections buffered before handshakes wait for the stream reader (default 64).
    pub fn connection_buffer(mut self, n: usize) -> Self {
        self.connection_buffer = n.max(1);
        self
    }

    /// The port [`Discovery::port`] reports (default: the listener's port), e.g. a port
    /// forwarded on a NAT.
    pub fn announce_port(mut self, port: u16) -> Self {
        self.announce_port = Some(port);
        self
    }

    /// Add a filter, consulted in the order added.
    pub fn filter(mut self, filter: impl HandshakeFilter) -> Self {
        self.filters.push(Arc::new(filter));
        self
    }

    /// Register a torrent we accept incoming handshakes for (more with
    /// [`Handshaker::add_torrent`]).
    pub fn torrent(mut self, info_hash: InfoHash) -> Self {
        self.torrents.insert(info_hash);
        self
    }

    /// Report failed handshakes on this bounded channel (for logs and tests); when it is full
    /// a failure is dropped and counted ([`Stats::failures_dropped`]).
    pub fn failures(mut self, tx: impl Into<FailureSink>) -> Self {
        self.failures = Some(tx.into());
        self
    }

    /// Bind the listener and start the tasks (needs a tokio runtime). Dropping every
    /// [`Handshaker`] clone stops listening and dialling; dropping [`Connections`] also stops
    /// the listener.
    ///
    /// # Errors
    ///
    /// Binding fails, or the protocol string is not 1 to 255 bytes (`InvalidInput`).
    pub async fn build(self) -> io::Result<(Handshaker, Connections)> {
        let config = match &self.protocol {
            Some(p) => self
                .config
                .clone()
                .with_protocol(p)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            None => self.config.clone(),
        };
        let listener = TcpListener::bind(self.listen).await?;
        let local_addr = listener.local_addr()?;
        let (conn_tx, conn_rx) = mpsc::channel(self.connection_buffer);
        let (dial_tx, dial_rx) = mpsc::channel(self.max_queued_dials);
        let shared = Arc::new(Shared {
            config,
            local_addr,
            connect_timeout: self.connect_timeout,
            filters: self.filters,
            torrents: RwLock::new(self.torrents),
            in_flight: Mutex::new(HashSet::new()),
            counters: Counters::default(),
            conn_tx,
            failures: self.failures,
            slots: Mutex::new(Slots::new(self.max_incoming)),
            first_bytes_timeout: self.first_bytes_timeout,
            out_sem: Arc::new(Semaphore::new(self.max_outgoing)),
        });
        let span = tracing::info_span!("handshaker", local = %local_addr);
        let listen_task =
            tokio::spawn(listen_loop(listener, shared.clone()).instrument(span.clone()))
                .abort_handle();
        tokio::spawn(dial_loop(dial_rx, shared.clone()).instrument(span));
        let handshaker = Handshaker {
            inner: Arc::new(Handle {
                dial_tx,
                shared,
                port: self.announce_port.unwrap_or(local_addr.port()),
                listen_task,
            }),
        };
        Ok((handshaker, Connections { rx: conn_rx }))
    }
}

struct Shared {
    config: HandshakeConfig,
    local_addr: SocketAddr,
    connect_timeout: Duration,
    filters: Vec<Arc<dyn HandshakeFilter>>,
    torrents: RwLock<HashSet<InfoHash>>,
    in_flight: Mutex<HashSet<(SocketAddr, InfoHash)>>,
    counters: Counters,
    conn_tx: mpsc::Sender<Connection>,
    failures: Option<FailureSink>,
    slots: Mutex<Slots>,
    first_bytes_timeout: Duration,
    out_sem: Arc<Semaphore>,
}

impl Shared {
    fn is_own_addr(&self, addr: SocketAddr) -> bool {
        let l = self.local_addr;
        addr.port() == l.port()
            && (addr.ip() == l.ip()
                || (l.ip().is_unspecified()
                    && (addr.ip().is_loopback() || addr.ip().is_unspecified())))
    }

    fn serves(&self, hash: &InfoHash) -> bool {
        self.torrents
            .read()
            .map(|t| t.contains(hash))
            .unwrap_or(false)
    }

    fn report(
        &self,
        addr: SocketAddr,
        info_hash: Option<InfoHash>,
        direction: Direction,
        error: HandshakeError,
    ) {
        self.counters.failed(&error);
        tracing::debug!(%addr, ?direction, %error, "handshake failed");
        if let Some(tx) = &self.failures {
            let sent = tx.send(Failure {
                addr,
                info_hash,
                direction,
                error,
            });
            if !sent {
                bump(&self.counters.failures_dropped);
            }
        }
    }
}

struct Handle {
    dial_tx: mpsc::Sender<DiscoveredPeer>,
    shared: Arc<Shared>,
    port: u16,
    listen_task: AbortHandle,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.listen_task.abort();
    }
}

/// The handshaker: dials peers handed to it ([`Discovery`]) and accepts incoming connections;
/// completed handshakes come out of the paired [`Connections`] stream.
///
/// Cheap to clone (an `Arc`); usable from any task or thread.
#[derive(Clone)]
pub struct Handshaker {
    inner: Arc<Handle>,
}

impl fmt::Debug for Handshaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshaker")
            .field("local_addr", &self.inner.shared.local_addr)
            .finish_non_exhaustive()
    }
}

impl Handshaker {
    /// A builder with our peer id (see [`HandshakerBuilder`] for the defaults).
    pub fn builder(peer_id: PeerId) -> HandshakerBuilder {
        HandshakerBuilder::new(peer_id)
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.shared.local_addr
    }

    /// Accept incoming handshakes for this torrent. Returns `false` if it was registered.
    pub fn add_torrent(&self, info_hash: InfoHash) -> bool {
        self.inner
            .shared
            .torrents
            .write()
            .map(|mut t| t.insert(info_hash))
            .unwrap_or(false)
    }

    /// Stop accepting incoming handshakes for this torrent. Returns `false` if it was not
    /// registered.
    pub fn remove_torrent(&self, info_hash: &InfoHash) -> bool {
        self.inner
            .shared
            .torrents
            .write()
            .map(|mut t| t.remove(info_hash))
            .unwrap_or(false)
    }

    /// Whether incoming handshakes for this torrent are accepted.
    pub fn has_torrent(&self, info_hash: &InfoHash) -> bool {
        self.inner.shared.serves(info_hash)
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.inner.shared.counters.snapshot()
    }

    /// Dials queued or handshaking now.
    pub fn dials_in_flight(&self) -> usize {
        self.inner
            .shared
            .in_flight
            .lock()
            .map(|s| s.len())
            .unwrap_or(0)
    }
}

impl Discovery for Handshaker {
    /// Queue a dial. [`AddPeer::Filtered`] for our own address or when a filter blocks on what
    /// is known (address, hash, reported peer id); [`AddPeer::Duplicate`] when a dial to the
    /// same address for the same hash is queued or running; [`AddPeer::Full`] when the dial
    /// queue is full.
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        let shared = &self.inner.shared;
        if shared.is_own_addr(peer.addr) {
            return AddPeer::Filtered;
        }
        let mut input = FilterInput::new(Direction::Outgoing, peer.addr);
        input.info_hash = Some(peer.info_hash);
        input.peer_id = peer.peer_id;
        if !FilterRun::default().pass(&shared.filters, &input) {
            return AddPeer::Filtered;
        }
        let key = (peer.addr, peer.info_hash);
        {
            let Ok(mut set) = shared.in_flight.lock() else {
                return AddPeer::Closed;
            };
            if !set.insert(key) {
                return AddPeer::Duplicate;
            }
        }
        match self.inner.dial_tx.try_send(peer) {
            Ok(()) => {
                bump(&shared.counters.dials_queued);
                AddPeer::Accepted
            }
            Err(e) => {
                if let Ok(mut set) = shared.in_flight.lock() {
                    set.remove(&key);
                }
                match e {
                    mpsc::error::TrySendError::Full(_) => AddPeer::Full,
                    mpsc::error::TrySendError::Closed(_) => AddPeer::Closed,
                }
            }
        }
    }

    fn peer_id(&self) -> PeerId {
        self.inner.shared.config.peer_id()
    }

    fn port(&self) -> u16 {
        self.inner.port
    }
}

/// The stream of completed connections. Ends when every [`Handshaker`] clone is dropped and the
/// handshakes in flight have finished.
#[derive(Debug)]
pub struct Connections {
    rx: mpsc::Receiver<Connection>,
}

impl Connections {
    /// The next completed connection; `None` once the stream ended.
    pub async fn next(&mut self) -> Option<Connection> {
        self.rx.recv().await
    }
}

impl Stream for Connections {
    type Item = Connection;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Connection>> {
        self.rx.poll_recv(cx)
    }
}

async fn listen_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = shared.conn_tx.closed() => return,
        };
        let (socket, addr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                // Out of file descriptors and the like: back off a little.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        bump(&shared.counters.incoming_accepted);
        let ip = addr.ip().to_canonical();
        let (id, evicted) = match shared.slots.lock() {
            Ok(mut slots) => slots.take(ip),
            Err(_) => return,
        };
        if let Some(victim) = evicted {
            victim.abort();
            bump(&shared.counters.incoming_evicted);
        }
        let Some(id) = id else {
            bump(&shared.counters.incoming_busy);
            shared.report(addr, None, Direction::Incoming, HandshakeError::Busy);
            continue;
        };
        let guard = SlotGuard {
            shared: shared.clone(),
            ip,
            id,
        };
        let task_shared = shared.clone();
        let span = tracing::debug_span!("handshake", %addr, direction = "incoming");
        let task = tokio::spawn(
            async move {
                let shared = task_shared;
                let result = run(socket, addr, None, None, Direction::Incoming, &shared).await;
                drop(guard);
                finish(&shared, addr, Direction::Incoming, result).await;
            }
            .instrument(span),
        );
        if let Ok(mut slots) = shared.slots.lock() {
            slots.set_handle(ip, id, task.abort_handle());
        }
    }
}

/// Inbound handshake slots, shared fairly between remote addresses: free slots go to anyone;
/// when none is free, an address holding fewer than the biggest holder takes that holder's
/// oldest slot. Memory: one map entry per address and 24 bytes per slot.
struct Slots {
    max: usize,
    used: usize,
    next_id: u64,
    by_ip: HashMap<IpAddr, VecDeque<(u64, Option<AbortHandle>)>>,
}

impl Slots {
    fn new(max: usize) -> Self {
        Slots {
            max,
            used: 0,
            next_id: 0,
            by_ip: HashMap::new(),
        }
    }

    /// A slot id for `ip`, or `None` (busy); and the task to abort if a slot was taken from
    /// the biggest holder.
    fn take(&mut self, ip: IpAddr) -> (Option<u64>, Option<AbortHandle>) {
        let mut evicted = None;
        if self.used >= self.max {
            let mine = self.by_ip.get(&ip).map_or(0, VecDeque::len);
            let top = self
                .by_ip
                .iter()
                .max_by_key(|(_, q)| q.len())
                .map(|(ip, q)| (*ip, q.len()));
            match top {
                Some((top_ip, n)) if n > mine => {
                    let q = self.by_ip.get_mut(&top_ip).expect("present");
                    let (_, handle) = q.pop_front().expect("non-empty");
                    if q.is_empty() {
                        self.by_ip.remove(&top_ip);
                    }
                    self.used -= 1;
                    evicted = handle;
                }
                _ => return (None, None),
            }
        }
        self.next_id += 1;
        let id = self.next_id;
        self.by_ip.entry(ip).or_default().push_back((id, None));
        self.used += 1;
        (Some(id), evicted)
    }

    fn set_handle(&mut self, ip: IpAddr, id: u64, h: AbortHandle) {
        if let Some(e) = self
            .by_ip
            .get_mut(&ip)
            .and_then(|q| q.iter_mut().find(|(i, _)| *i == id))
        {
            e.1 = Some(h);
        }
    }

    fn release(&mut self, ip: IpAddr, id: u64) {
        if let Some(q) = self.by_ip.get_mut(&ip) {
            if let Some(pos) = q.iter().position(|(i, _)| *i == id) {
                q.remove(pos);
                self.used -= 1;
            }
            if q.is_empty() {
                self.by_ip.remove(&ip);
            }
        }
    }
}

/// Gives an inbound slot back when its task ends or is aborted.
struct SlotGuard {
    shared: Arc<Shared>,
    ip: IpAddr,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.shared.slots.lock() {
            slots.release(self.ip, self.id);
        }
    }
}

async fn dial_loop(mut rx: mpsc::Receiver<DiscoveredPeer>, shared: Arc<Shared>) {
    while let Some(peer) = rx.recv().await {
        let Ok(permit) = shared.out_sem.clone().acquire_owned().await else {
            return;
        };
        let shared = shared.clone();
        let span = tracing::debug_span!("handshake", addr = %peer.addr, direction = "outgoing");
        tokio::spawn(
            async move {
                let result = dial(&peer, &shared).await;
                drop(permit);
                if let Ok(mut set) = shared.in_flight.lock() {
                    set.remove(&(peer.addr, peer.info_hash));
                }
                finish(&shared, peer.addr, Direction::Outgoing, result).await;
            }
            .instrument(span),
        );
    }
}

async fn dial(
    peer: &DiscoveredPeer,
    shared: &Shared,
) -> Result<Connection, (Option<InfoHash>, HandshakeError)> {
    let addr = peer.addr;
    let socket = match tokio::time::timeout(shared.connect_timeout, TcpStream::connect(addr)).await
    {
        Err(_) => {
            return Err((
                Some(peer.info_hash),
                HandshakeError::ConnectTimeout { addr },
            ))
        }
        Ok(Err(source)) => {
            return Err((
                Some(peer.info_hash),
                HandshakeError::Connect { addr, source },
            ))
        }
        Ok(Ok(s)) => s,
    };
    run(
        socket,
        addr,
        Some(peer.info_hash),
        peer.peer_id,
        Direction::Outgoing,
        shared,
    )
    .await
}

async fn finish(
    shared: &Shared,
    addr: SocketAddr,
    direction: Direction,
    result: Result<Connection, (Option<InfoHash>, HandshakeError)>,
) {
    match result {
        Ok(conn) => {
            bump(match direction {
                Direction::Outgoing => &shared.counters.completed_outgoing,
                Direction::Incoming => &shared.counters.completed_incoming,
            });
            tracing::debug!(%addr, ?direction, peer_id = %conn.peer_id.printable(), "handshake complete");
            let _ = shared.conn_tx.send(conn).await;
        }
        Err((hash, e)) => shared.report(addr, hash, direction, e),
    }
}

/// One handshake on an open socket, bounded by the state machine's deadline.
async fn run(
    mut socket: TcpStream,
    addr: SocketAddr,
    info_hash: Option<InfoHash>,
    expected: Option<PeerId>,
    direction: Direction,
    shared: &Shared,
) -> Result<Connection, (Option<InfoHash>, HandshakeError)> {
    let now = Instant::now().into_std();
    let mut hs = match info_hash {
        Some(h) => HandshakeState::new_initiator(&shared.config, now, addr, h, expected),
        None => HandshakeState::new_responder(&shared.config, now, addr),
    };
    let mut filters = FilterRun::default();
    let mut input = FilterInput::new(direction, addr);
    input.info_hash = info_hash;
    input.peer_id = expected;
    if direction == Direction::Incoming && !filters.pass(&shared.filters, &input) {
        return Err((
            None,
            HandshakeError::Filtered {
                stage: FilterStage::Address,
            },
        ));
    }
    let deadline = Instant::from_std(hs.poll_timeout().unwrap_or(now));
    let first_deadline = (Instant::from_std(now) + shared.first_bytes_timeout).min(deadline);
    let _ = socket.set_nodelay(true);
    let exchange = async {
        let mut buf = [0u8; READ_BUFFER];
        let mut out = Vec::new();
        let mut header_checked = false;
        loop {
            while let Some(t) = hs.poll_transmit(&mut out) {
                socket.write_all(&out[..t.len]).await?;
            }
            if !header_checked && hs.status() != Status::Failed {
                if let Some(hash) = hs.remote_info_hash() {
                    header_checked = true;
                    input.info_hash = Some(hash);
                    input.extensions = hs.remote_extensions();
                    if direction == Direction::Incoming && !shared.serves(&hash) {
                        hs.reject();
                    } else if !filters.pass(&shared.filters, &input) {
                        hs.abort();
                        return Err(HandshakeError::Filtered {
                            stage: FilterStage::InfoHash,
                        });
                    } else if matches!(hs.status(), Status::NeedDecision { .. }) {
                        hs.accept()?;
                        continue;
                    }
                }
            }
            while let Some(ev) = hs.poll_event() {
                match ev {
                    HandshakeEvent::Failed(e) => return Err(e),
                    HandshakeEvent::Complete(o) => {
                        input.peer_id = Some(o.peer_id);
                        if !filters.pass(&shared.filters, &input) {
                            return Err(HandshakeError::Filtered {
                                stage: FilterStage::PeerId,
                            });
                        }
                        return Ok(o);
                    }
                    HandshakeEvent::NeedDecision { .. } => {}
                }
            }
            let n = if direction == Direction::Incoming && hs.stats().bytes_received == 0 {
                match tokio::time::timeout_at(first_deadline, socket.read(&mut buf)).await {
                    Ok(r) => r?,
                    Err(_) => return Err(HandshakeError::Timeout { received: 0 }),
                }
            } else {
                socket.read(&mut buf).await?
            };
            if n == 0 {
                hs.handle_eof();
            } else {
                hs.handle_bytes(Instant::now().into_std(), &buf[..n]);
            }
        }
    };
    let result = match tokio::time::timeout_at(deadline, exchange).await {
        Ok(r) => r,
        Err(_) => Err(HandshakeError::Timeout {
            received: hs.stats().bytes_received,
        }),
    };
    let hash = hs.remote_info_hash().or(info_hash);
    match result {
        Ok(o) => Ok(Connection {
            socket,
            leftover: o.leftover,
            remote_addr: addr,
            peer_id: o.peer_id,
            info_hash: o.info_hash,
            extensions: o.extensions,
            remote_extensions: o.remote_extensions,
            direction,
        }),
        Err(e) => Err((hash, e)),
    }
}
