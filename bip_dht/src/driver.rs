//! The tokio node: [`Dht`] owns the UDP sockets and a timer around one [`Node`] core, and has no
//! protocol logic of its own.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bip_handshake::{DiscoveredPeer, Discovery, PeerSource};
use bip_util::{CompactNode, InfoHash, NodeId};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant as TokioInstant;
use tokio_stream::Stream;
use tracing::{debug, info_span, trace, warn, Instrument};

use crate::item::{Item, MutableItem};
use crate::node::{CommandError, Config, Event, LookupId, LookupSummary, Node, Stats};
use crate::state::SavedState;

/// The public bootstrap routers of the Mainline DHT (resolved by the driver when used).
pub const DEFAULT_ROUTERS: [&str; 4] = [
    "router.bittorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "router.utorrent.com:6881",
    "dht.libtorrent.org:25401",
];

/// Peers buffered per lookup stream before the oldest undelivered are dropped.
pub const PEER_STREAM_BUFFER: usize = 1024;
/// Info hashes buffered per sampling crawl stream ([`Dht::sample_infohashes`]) before new ones
/// are dropped.
pub const SAMPLE_STREAM_BUFFER: usize = 4096;
/// Commands buffered toward the node task.
pub const COMMAND_BUFFER: usize = 256;
/// How often the state file is saved while running (also on shutdown).
pub const DEFAULT_SAVE_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Builds a [`Dht`]. Defaults: bind `0.0.0.0:6881`-style addresses are yours to give (default
/// `0.0.0.0:0`), bootstrap from [`DEFAULT_ROUTERS`] unless nodes are given, not read-only.
pub struct DhtBuilder {
    binds: Vec<SocketAddr>,
    bootstrap: Vec<String>,
    routers: Option<Vec<String>>,
    config: Config,
    state_file: Option<PathBuf>,
    save_interval: Duration,
    discovery: Option<Arc<dyn Discovery>>,
    seed: Option<[u8; 32]>,
}

impl std::fmt::Debug for DhtBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhtBuilder")
            .field("binds", &self.binds)
            .field("bootstrap", &self.bootstrap)
            .field("routers", &self.routers)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

impl DhtBuilder {
    /// Bind a UDP socket at `addr` (one IPv4 and/or one IPv6).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.binds.push(addr);
        self
    }

    /// A node to bootstrap from (`HOST:PORT`, resolved at build). Giving any replaces the
    /// default routers unless [`routers`](Self::routers) is called too.
    pub fn bootstrap(mut self, node: impl Into<String>) -> Self {
        self.bootstrap.push(node.into());
        self
    }

    /// Routers (`HOST:PORT`): queried while bootstrapping, never kept in the table. Replaces
    /// [`DEFAULT_ROUTERS`].
    pub fn routers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, routers: I) -> Self {
        self.routers = Some(routers.into_iter().map(Into::into).collect());
        self
    }

    /// BEP 43 read-only mode.
    pub fn read_only(mut self, ro: bool) -> Self {
        self.config.read_only = ro;
        self
    }

    /// Adjust the core's [`Config`] (limits, timeouts, BEP 42 enforcement, ...).
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Load the node id and routing table from `path` at start when it exists; save them there
    /// periodically and on shutdown (written to a temporary file, then renamed).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// How often the state file is saved (default [`DEFAULT_SAVE_INTERVAL`]).
    pub fn save_interval(mut self, every: Duration) -> Self {
        self.save_interval = every.max(Duration::from_secs(1));
        self
    }

    /// Hand every peer any lookup finds to `discovery` (with [`PeerSource::Dht`]): a
    /// `Handshaker`, or your own pipeline stage.
    pub fn discovery(mut self, discovery: Arc<dyn Discovery>) -> Self {
        self.discovery = Some(discovery);
        self
    }

    /// Seed the core's RNG (tests); default OS entropy.
    pub fn seed(mut self, seed: [u8; 32]) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Bind the sockets, resolve bootstrap nodes and routers, load the state file, and start
    /// the node task.
    pub async fn build(self) -> io::Result<Dht> {
        let binds = if self.binds.is_empty() {
            vec![SocketAddr::from(([0, 0, 0, 0], 0))]
        } else {
            self.binds
        };
        let (mut v4, mut v6) = (None, None);
        for b in binds {
            let sock = UdpSocket::bind(b).await?;
            let slot = if b.is_ipv4() { &mut v4 } else { &mut v6 };
            if slot.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "one bind address per family",
                ));
            }
            *slot = Some(Arc::new(sock));
        }
        let mut config = self.config;
        config.ipv4 = v4.is_some();
        config.ipv6 = v6.is_some();
        config.bootstrap = resolve_all(&self.bootstrap, true).await?;
        let routers: Vec<String> = match self.routers {
            Some(r) => r,
            None if self.bootstrap.is_empty() => {
                DEFAULT_ROUTERS.iter().map(|s| s.to_string()).collect()
            }
            None => Vec::new(),
        };
        // Routers that do not resolve (offline machine) are skipped, not fatal.
        config.routers = resolve_all(&routers, false).await?;
        if let Some(path) = &self.state_file {
            match SavedState::load(path) {
                Ok(Some(s)) => {
                    config.node_id = config.node_id.or(Some(s.id));
                    config.known_nodes = s.nodes;
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(path = %path.display(), error = %e, "ignoring unreadable DHT state file")
                }
            }
        }
        let seed = self.seed.unwrap_or_else(bip_util::core::os_seed);
        let node = Node::new(config, seed);
        let local: Vec<SocketAddr> = [&v4, &v6]
            .into_iter()
            .flatten()
            .map(|s| s.local_addr())
            .collect::<io::Result<_>>()?;
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_BUFFER);
        let (stats_tx, stats_rx) = watch::channel(Status {
            stats: node.stats(),
            id: node.id(),
            bootstrapped: false,
        });
        let task = Task {
            node,
            v4,
            v6,
            cmds: cmd_rx,
            status: stats_tx,
            lookups: HashMap::new(),
            discovery: self.discovery,
            state_file: self.state_file,
            save_interval: self.save_interval,
        };
        let span = info_span!("dht", local = ?local);
        tokio::spawn(task.run().instrument(span));
        Ok(Dht {
            inner: Arc::new(Inner {
                cmds: cmd_tx,
                status: stats_rx,
                local,
            }),
        })
    }
}

async fn resolve_all(names: &[String], strict: bool) -> io::Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for n in names {
        match tokio::net::lookup_host(n.as_str()).await {
            Ok(addrs) => out.extend(addrs),
            Err(e) if strict => {
                return Err(io::Error::new(e.kind(), format!("cannot resolve {n}: {e}")))
            }
            Err(e) => debug!(router = %n, error = %e, "router does not resolve"),
        }
    }
    Ok(out)
}

/// What [`Dht::status`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The core's counters.
    pub stats: Stats,
    /// Our node id.
    pub id: NodeId,
    /// Whether the first bootstrap finished.
    pub bootstrapped: bool,
}

enum Command {
    GetPeers {
        hash: InfoHash,
        peers: mpsc::Sender<SocketAddr>,
        summary: oneshot::Sender<LookupSummary>,
        reply: oneshot::Sender<Result<LookupId, crate::node::CommandError>>,
    },
    Announce {
        hash: InfoHash,
        port: Option<u16>,
        seed: bool,
        done: oneshot::Sender<Result<LookupSummary, crate::node::CommandError>>,
    },
    Put {
        item: Item,
        cas: Option<i64>,
        done: oneshot::Sender<Result<LookupSummary, CommandError>>,
    },
    GetItem {
        target: NodeId,
        mutable: Option<([u8; 32], Vec<u8>)>,
        done: oneshot::Sender<Result<Option<Item>, CommandError>>,
    },
    Scrape {
        hash: InfoHash,
        done: oneshot::Sender<Result<SwarmEstimate, CommandError>>,
    },
    Sample {
        max_nodes: usize,
        samples: mpsc::Sender<(InfoHash, SocketAddr)>,
        reply: oneshot::Sender<Result<LookupId, CommandError>>,
    },
    Cancel(LookupId),
    AddNode(SocketAddr),
    Nodes(oneshot::Sender<Vec<CompactNode>>),
    Save(oneshot::Sender<io::Result<()>>),
}

/// BEP 33 estimates of a swarm's size ([`Dht::scrape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SwarmEstimate {
    /// Estimated seeds.
    pub seeds: usize,
    /// Estimated other peers.
    pub peers: usize,
}

struct Inner {
    cmds: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
    local: Vec<SocketAddr>,
}

/// A running DHT node. Cheap to clone; the node stops (saving its state file, if any) when the
/// last clone is dropped.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use bip_dht::Dht;
/// use bip_util::InfoHash;
/// use tokio_stream::StreamExt;
///
/// let dht = Dht::builder().bind("0.0.0.0:6881".parse().unwrap()).build().await?;
/// dht.bootstrapped().await;
/// let hash = InfoHash::from_sha1(b"my chat room");
/// let mut peers = dht.get_peers(hash).await?;
/// while let Some(peer) = peers.next().await {
///     println!("{peer}");
/// }
/// let accepted = dht.announce(hash, Some(6881)).await?;
/// println!("{accepted} nodes stored our announce");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Dht {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Dht {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dht")
            .field("local", &self.inner.local)
            .finish_non_exhaustive()
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the DHT node has stopped")
}

fn refused(e: crate::node::CommandError) -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, e.to_string())
}

impl Dht {
    /// A builder.
    pub fn builder() -> DhtBuilder {
        DhtBuilder {
            binds: Vec::new(),
            bootstrap: Vec::new(),
            routers: None,
            config: Config::default(),
            state_file: None,
            save_interval: DEFAULT_SAVE_INTERVAL,
            discovery: None,
            seed: None,
        }
    }

    /// The bound socket addresses.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.inner.local
    }

    /// Counters, table sizes and id, as of the node's last wake-up.
    pub fn status(&self) -> Status {
        *self.inner.status.borrow()
    }

    /// Wait until the first bootstrap has finished; returns the table size then (0 if nobody
    /// answered).
    pub async fn bootstrapped(&self) -> usize {
        let mut rx = self.inner.status.clone();
        loop {
            let s = *rx.borrow_and_update();
            if s.bootstrapped {
                return s.stats.nodes_v4 + s.stats.nodes_v6;
            }
            if rx.changed().await.is_err() {
                return 0;
            }
        }
    }

    /// Look up peers for `hash`: a stream of distinct peers that ends when the lookup
    /// completes. Dropping it cancels the lookup.
    pub async fn get_peers(&self, hash: InfoHash) -> io::Result<Peers> {
        let (ptx, prx) = mpsc::channel(PEER_STREAM_BUFFER);
        let (stx, srx) = oneshot::channel();
        let (rtx, rrx) = oneshot::channel();
        self.inner
            .cmds
            .send(Command::GetPeers {
                hash,
                peers: ptx,
                summary: stx,
                reply: rtx,
            })
            .await
            .map_err(|_| closed())?;
        let id = rrx.await.map_err(|_| closed())?.map_err(refused)?;
        Ok(Peers {
            rx: prx,
            summary: srx,
            id,
            cmds: self.inner.cmds.clone(),
        })
    }

    /// Announce `hash` on TCP `port` (`None`: BEP 5's implied port, the UDP port) to the closest
    /// nodes; returns how many accepted.
    pub async fn announce(&self, hash: InfoHash, port: Option<u16>) -> io::Result<usize> {
        Ok(self
            .announce_with(hash, port, false)
            .await?
            .announced
            .unwrap_or(0))
    }

    /// [`announce`](Self::announce) with the BEP 33 seed flag, returning the whole summary.
    pub async fn announce_with(
        &self,
        hash: InfoHash,
        port: Option<u16>,
        seed: bool,
    ) -> io::Result<LookupSummary> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .cmds
            .send(Command::Announce {
                hash,
                port,
                seed,
                done: tx,
            })
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?.map_err(refused)
    }

    /// Store a BEP 44 item (immutable or signed mutable, with `cas` for a mutable one) at the
    /// nodes closest to its target; the summary's `announced` says how many accepted.
    pub async fn put(&self, item: Item, cas: Option<i64>) -> io::Result<LookupSummary> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Put {
            item,
            cas,
            done: tx,
        })
        .await?;
        rx.await.map_err(|_| closed())?.map_err(refused)
    }

    /// Look up the BEP 44 immutable item stored under `target`; `None` if no node has it.
    pub async fn get_immutable(&self, target: NodeId) -> io::Result<Option<Vec<u8>>> {
        Ok(self
            .get_item(target, None)
            .await?
            .map(|i| i.value().to_vec()))
    }

    /// Look up the BEP 44 mutable item of `key` and `salt` (empty: none): the one with the
    /// highest `seq` whose signature verifies, or `None`.
    pub async fn get_mutable(&self, key: [u8; 32], salt: &[u8]) -> io::Result<Option<MutableItem>> {
        if salt.len() > crate::item::MAX_SALT_LEN {
            return Err(refused(CommandError::SaltTooBig));
        }
        let target = crate::item::mutable_target(&key, salt);
        Ok(
            match self.get_item(target, Some((key, salt.to_vec()))).await? {
                Some(Item::Mutable(m)) => Some(m),
                _ => None,
            },
        )
    }

    async fn get_item(
        &self,
        target: NodeId,
        mutable: Option<([u8; 32], Vec<u8>)>,
    ) -> io::Result<Option<Item>> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::GetItem {
            target,
            mutable,
            done: tx,
        })
        .await?;
        rx.await.map_err(|_| closed())?.map_err(refused)
    }

    /// A BEP 33 scrape: estimates of the seeds and other peers of `hash`.
    pub async fn scrape(&self, hash: InfoHash) -> io::Result<SwarmEstimate> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Scrape { hash, done: tx }).await?;
        rx.await.map_err(|_| closed())?.map_err(refused)
    }

    /// A BEP 51 crawl over at most `max_nodes` nodes: a stream of distinct info hashes, each
    /// with the node whose sample held it, that ends when the crawl does. Dropping it cancels
    /// the crawl.
    pub async fn sample_infohashes(&self, max_nodes: usize) -> io::Result<Samples> {
        let (stx, srx) = mpsc::channel(SAMPLE_STREAM_BUFFER);
        let (rtx, rrx) = oneshot::channel();
        self.send(Command::Sample {
            max_nodes,
            samples: stx,
            reply: rtx,
        })
        .await?;
        let id = rrx.await.map_err(|_| closed())?.map_err(refused)?;
        Ok(Samples {
            rx: srx,
            id,
            cmds: self.inner.cmds.clone(),
        })
    }

    async fn send(&self, cmd: Command) -> io::Result<()> {
        self.inner.cmds.send(cmd).await.map_err(|_| closed())
    }

    /// Ping `addr`; it joins the routing table if it answers.
    pub async fn add_node(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner
            .cmds
            .send(Command::AddNode(addr))
            .await
            .map_err(|_| closed())
    }

    /// The routing table's nodes.
    pub async fn nodes(&self) -> io::Result<Vec<CompactNode>> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .cmds
            .send(Command::Nodes(tx))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())
    }

    /// Save the state file now (an error if none was configured).
    pub async fn save_state(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .cmds
            .send(Command::Save(tx))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

/// The peers of one lookup ([`Dht::get_peers`]); ends when the lookup completes, cancels it
/// when dropped.
#[derive(Debug)]
pub struct Peers {
    rx: mpsc::Receiver<SocketAddr>,
    summary: oneshot::Receiver<LookupSummary>,
    id: LookupId,
    cmds: mpsc::Sender<Command>,
}

impl Peers {
    /// What the lookup did (peers, replies, queries, elapsed), once the stream has ended
    /// because the lookup completed; `None` before that, or when the node stopped.
    pub fn summary(&mut self) -> Option<LookupSummary> {
        self.summary.try_recv().ok()
    }
}

impl Stream for Peers {
    type Item = SocketAddr;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SocketAddr>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        // Best effort: a full command queue means the lookup simply runs to its end.
        let _ = self.cmds.try_send(Command::Cancel(self.id));
    }
}

/// The info hashes of a sampling crawl ([`Dht::sample_infohashes`]), each with the node it
/// came from; ends when the crawl completes, cancels it when dropped.
#[derive(Debug)]
pub struct Samples {
    rx: mpsc::Receiver<(InfoHash, SocketAddr)>,
    id: LookupId,
    cmds: mpsc::Sender<Command>,
}

impl Stream for Samples {
    type Item = (InfoHash, SocketAddr);
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Samples {
    fn drop(&mut self) {
        let _ = self.cmds.try_send(Command::Cancel(self.id));
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

enum Waiter {
    Peers(mpsc::Sender<SocketAddr>, oneshot::Sender<LookupSummary>),
    Announce(oneshot::Sender<Result<LookupSummary, crate::node::CommandError>>),
    Item(
        Option<Item>,
        oneshot::Sender<Result<Option<Item>, CommandError>>,
    ),
    Scrape(
        SwarmEstimate,
        oneshot::Sender<Result<SwarmEstimate, CommandError>>,
    ),
    Samples(mpsc::Sender<(InfoHash, SocketAddr)>),
}

struct Task {
    node: Node,
    v4: Option<Arc<UdpSocket>>,
    v6: Option<Arc<UdpSocket>>,
    cmds: mpsc::Receiver<Command>,
    status: watch::Sender<Status>,
    lookups: HashMap<LookupId, Waiter>,
    discovery: Option<Arc<dyn Discovery>>,
    state_file: Option<PathBuf>,
    save_interval: Duration,
}

async fn recv(sock: &Option<Arc<UdpSocket>>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match sock {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Datagrams read per wake-up at most: after one arrives, up to this many more already queued
/// are taken without waiting (`try_recv_from`), so the select, timer and status work of the
/// loop is paid once per batch instead of once per datagram; the bound keeps timers and
/// commands served under a flood.
const RECV_BATCH: usize = 32;

/// Reads the datagrams already queued on `sock` (at most [`RECV_BATCH`] - 1) into `node`.
fn drain(node: &mut Node, sock: &Option<Arc<UdpSocket>>, buf: &mut [u8], now: std::time::Instant) {
    let Some(s) = sock else { return };
    for _ in 1..RECV_BATCH {
        match s.try_recv_from(buf) {
            Ok((n, from)) => node.handle_datagram(now, from, &buf[..n]),
            Err(e) => {
                if e.kind() != io::ErrorKind::WouldBlock {
                    trace!(error = %e, "recv");
                }
                break;
            }
        }
    }
}

fn now() -> std::time::Instant {
    TokioInstant::now().into_std()
}

impl Task {
    async fn run(mut self) {
        let mut buf4 = vec![0u8; 65_536];
        let mut buf6 = vec![0u8; 65_536];
        let mut out = Vec::with_capacity(crate::MAX_DATAGRAM);
        let mut next_save = TokioInstant::now() + self.save_interval;
        self.node.handle_timeout(now());
        self.flush(&mut out).await;
        loop {
            let deadline = self
                .node
                .poll_timeout()
                .map(TokioInstant::from_std)
                .unwrap_or_else(|| TokioInstant::now() + Duration::from_secs(3600))
                .min(next_save);
            tokio::select! {
                r = recv(&self.v4, &mut buf4) => match r {
                    Ok((n, from)) => {
                        let now = now();
                        self.node.handle_datagram(now, from, &buf4[..n]);
                        drain(&mut self.node, &self.v4, &mut buf4, now);
                    }
                    Err(e) => trace!(error = %e, "recv (v4)"),
                },
                r = recv(&self.v6, &mut buf6) => match r {
                    Ok((n, from)) => {
                        let now = now();
                        self.node.handle_datagram(now, from, &buf6[..n]);
                        drain(&mut self.node, &self.v6, &mut buf6, now);
                    }
                    Err(e) => trace!(error = %e, "recv (v6)"),
                },
                _ = tokio::time::sleep_until(deadline) => {
                    self.node.handle_timeout(now());
                    if TokioInstant::now() >= next_save {
                        next_save = TokioInstant::now() + self.save_interval;
                        if let Err(e) = self.save() {
                            warn!(error = %e, "saving DHT state");
                        }
                    }
                }
                cmd = self.cmds.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
            }
            self.flush(&mut out).await;
        }
        if let Err(e) = self.save() {
            warn!(error = %e, "saving DHT state on shutdown");
        }
    }

    fn command(&mut self, cmd: Command) {
        let now = now();
        match cmd {
            Command::GetPeers {
                hash,
                peers,
                summary,
                reply,
            } => {
                let r = self.node.get_peers(now, hash);
                if let Ok(id) = r {
                    self.lookups.insert(id, Waiter::Peers(peers, summary));
                }
                let _ = reply.send(r);
            }
            Command::Announce {
                hash,
                port,
                seed,
                done,
            } => match self.node.announce(now, hash, port, seed) {
                Ok(id) => {
                    self.lookups.insert(id, Waiter::Announce(done));
                }
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            },
            Command::Put { item, cas, done } => match self.node.put(now, item, cas) {
                Ok(id) => {
                    self.lookups.insert(id, Waiter::Announce(done));
                }
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            },
            Command::GetItem {
                target,
                mutable,
                done,
            } => {
                let r = match mutable {
                    Some((key, salt)) => self.node.get_mutable(now, key, &salt),
                    None => self.node.get_immutable(now, target),
                };
                match r {
                    Ok(id) => {
                        self.lookups.insert(id, Waiter::Item(None, done));
                    }
                    Err(e) => {
                        let _ = done.send(Err(e));
                    }
                }
            }
            Command::Scrape { hash, done } => match self.node.scrape(now, hash) {
                Ok(id) => {
                    self.lookups
                        .insert(id, Waiter::Scrape(SwarmEstimate::default(), done));
                }
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            },
            Command::Sample {
                max_nodes,
                samples,
                reply,
            } => {
                let r = self.node.sample_infohashes(now, max_nodes);
                if let Ok(id) = r {
                    self.lookups.insert(id, Waiter::Samples(samples));
                }
                let _ = reply.send(r);
            }
            Command::Cancel(id) => {
                self.node.cancel(id);
                self.lookups.remove(&id);
            }
            Command::AddNode(addr) => self.node.add_node(now, addr),
            Command::Nodes(tx) => {
                let _ = tx.send(self.node.nodes());
            }
            Command::Save(tx) => {
                let r = match &self.state_file {
                    Some(_) => self.save(),
                    None => Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "no state file configured",
                    )),
                };
                let _ = tx.send(r);
            }
        }
    }

    fn save(&self) -> io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        save_state(path, &self.node)
    }

    async fn flush(&mut self, out: &mut Vec<u8>) {
        while let Some(t) = self.node.poll_transmit(out) {
            let sock = if t.to.is_ipv4() { &self.v4 } else { &self.v6 };
            if let Some(s) = sock {
                if let Err(e) = s.send_to(&out[..t.len], t.to).await {
                    trace!(to = %t.to, error = %e, "send");
                }
            }
        }
        while let Some(ev) = self.node.poll_event() {
            match ev {
                Event::Peer {
                    lookup,
                    info_hash,
                    addr,
                } => {
                    if let Some(Waiter::Peers(tx, _)) = self.lookups.get(&lookup) {
                        let _ = tx.try_send(addr);
                    }
                    if let Some(d) = &self.discovery {
                        let r = d.add_peer(DiscoveredPeer::new(info_hash, addr, PeerSource::Dht));
                        trace!(peer = %addr, result = ?r, "handed to discovery");
                    }
                }
                Event::Item { lookup, item } => {
                    if let Some(Waiter::Item(slot, _)) = self.lookups.get_mut(&lookup) {
                        *slot = Some(item);
                    }
                }
                Event::Scrape {
                    lookup,
                    seeds,
                    peers,
                    ..
                } => {
                    if let Some(Waiter::Scrape(slot, _)) = self.lookups.get_mut(&lookup) {
                        *slot = SwarmEstimate { seeds, peers };
                    }
                }
                Event::Sample {
                    lookup,
                    info_hash,
                    from,
                } => {
                    if let Some(Waiter::Samples(tx)) = self.lookups.get(&lookup) {
                        let _ = tx.try_send((info_hash, from));
                    }
                }
                Event::LookupDone { lookup, summary } => {
                    debug!(?lookup, ?summary, "lookup done");
                    match self.lookups.remove(&lookup) {
                        Some(Waiter::Item(item, tx)) => {
                            let _ = tx.send(Ok(item));
                        }
                        Some(Waiter::Scrape(est, tx)) => {
                            let _ = tx.send(Ok(est));
                        }
                        Some(Waiter::Samples(_)) => {}
                        Some(Waiter::Announce(tx)) => {
                            let _ = tx.send(Ok(summary));
                        }
                        // The summary first: the stream ends (the sender drops) after it.
                        Some(Waiter::Peers(_, tx)) => {
                            let _ = tx.send(summary);
                        }
                        None => {}
                    }
                }
                Event::Bootstrapped { nodes } => debug!(nodes, "bootstrapped"),
                other => trace!(event = ?other, "dht event"),
            }
        }
        let status = Status {
            stats: self.node.stats(),
            id: self.node.id(),
            bootstrapped: self.node.is_bootstrapped(),
        };
        self.status.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }
}

/// Write `node`'s id and table to `path` atomically (a temporary file, then rename).
pub fn save_state(path: &Path, node: &Node) -> io::Result<()> {
    let state = SavedState {
        id: node.id(),
        nodes: node.nodes(),
    };
    state.save(path)
}
