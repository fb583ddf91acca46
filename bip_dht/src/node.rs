//! The DHT node core: a sans-IO state machine with the one core contract of the workspace.
//!
//! Datagrams and `now` go in ([`Node::handle_datagram`], [`Node::handle_timeout`], commands such
//! as [`Node::get_peers`]); datagrams to send ([`Node::poll_transmit`]), [`Event`]s and the next
//! deadline ([`Node::poll_timeout`]) come out. No socket, no clock, no thread RNG: all
//! randomness comes from the seed given to [`Node::new`], so a run is reproducible.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//! use bip_dht::{Config, Event, Node};
//! use bip_util::InfoHash;
//!
//! /// Carry datagrams between two cores until both are quiet.
//! fn shuttle(now: Instant, a: &mut Node, a_addr: SocketAddr, b: &mut Node, b_addr: SocketAddr) {
//!     let mut buf = Vec::new();
//!     for _ in 0..8 {
//!         while let Some(t) = a.poll_transmit(&mut buf) {
//!             b.handle_datagram(now, a_addr, &buf[..t.len]);
//!         }
//!         while let Some(t) = b.poll_transmit(&mut buf) {
//!             a.handle_datagram(now, b_addr, &buf[..t.len]);
//!         }
//!     }
//! }
//!
//! let now = Instant::now();
//! let mut a = Node::new(Config::default(), [1; 32]);
//! let mut b = Node::new(Config::default(), [2; 32]);
//! let (addr_a, addr_b) = ("10.0.0.1:6881".parse()?, "10.0.0.2:6881".parse()?);
//! a.add_node(now, addr_b); // a pings b: each learns of the other
//! shuttle(now, &mut a, addr_a, &mut b, addr_b);
//! assert_eq!(a.stats().nodes_v4, 1);
//! assert_eq!(b.stats().nodes_v4, 1);
//!
//! // b announces a hash (its announce is stored at a); a's lookup then reports b's port.
//! let hash = InfoHash::from_sha1(b"room");
//! b.announce(now, hash, Some(7000), false)?;
//! shuttle(now, &mut a, addr_a, &mut b, addr_b);
//! let lookup = a.get_peers(now, hash)?;
//! shuttle(now, &mut a, addr_a, &mut b, addr_b);
//! let mut found = Vec::new();
//! while let Some(ev) = a.poll_event() {
//!     if let Event::Peer { lookup: l, addr, .. } = ev {
//!         assert_eq!(l, lookup);
//!         found.push(addr);
//!     }
//! }
//! assert_eq!(found, ["10.0.0.2:7000".parse()?]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_util::core::{core_rng, ip_key_bytes, CoreRng, Transmit, WindowedMac};
use bip_util::{CompactNode, Distance, InfoHash, NodeId};
use rand::Rng;

use crate::bloom::BloomFilter;
use crate::item::{check_value, Item, ItemError, MutableItem};
use crate::items::{ItemStore, ItemStoreConfig, PutError};
use crate::krpc::{Body, ErrorCode, ErrorMessage, Message, Method, Query, Response, Values, Want};
use crate::ratelimit::{RateLimitConfig, RateLimiter, Verdict};
use crate::security::{generate_node_id, is_exempt, is_valid_node_id, IpVoter};
use crate::store::{PeerStore, StoreConfig};
use crate::table::{NodeEntry, RoutingTable, TableConfig, K};

/// Largest datagram the node sends; answers are trimmed to fit (below the common 1,500-byte MTU
/// minus IPv6 and UDP headers).
pub const MAX_DATAGRAM: usize = 1400;
/// Most candidates a lookup keeps per address family (the closest ones).
pub const MAX_CANDIDATES: usize = 64;
/// Most distinct peers a lookup reports (later duplicates and extras are dropped).
pub const MAX_LOOKUP_PEERS: usize = 4096;
/// Most peers in one `get_peers` answer (libtorrent's default too).
pub const MAX_PEERS_REPLY: usize = 100;
/// Most info hashes in a `sample_infohashes` answer (BEP 51; libtorrent's default too).
pub const MAX_SAMPLES: usize = 20;
/// Queries a sampling crawl keeps in flight at most (each also needs the outgoing query budget).
pub const CRAWL_BRANCHING: usize = 16;
/// Nodes a sampling crawl keeps queued to visit, at most.
pub const MAX_CRAWL_QUEUE: usize = 4096;
/// Distinct info hashes a sampling crawl reports, at most (then it ends).
pub const MAX_CRAWL_HASHES: usize = 1 << 20;
/// Our client version (`v`): "BP" and version 0.1.
pub const VERSION: [u8; 4] = *b"BP\x00\x01";

/// A lookup (get_peers, announce or find_node) inside a [`Node`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// Node configuration; every limit is named here with its default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Our node id. `None`: derived from [`Config::external_ip`] (BEP 42) if given, else random.
    pub node_id: Option<NodeId>,
    /// Our external address if known (BEP 42 id); otherwise learned from answers' `ip` votes.
    pub external_ip: Option<IpAddr>,
    /// We have an IPv4 socket.
    pub ipv4: bool,
    /// We have an IPv6 socket.
    pub ipv6: bool,
    /// Nodes to bootstrap from (kept in the table when they answer).
    pub bootstrap: Vec<SocketAddr>,
    /// Routers: queried while bootstrapping, never kept in the table (libtorrent does the same).
    pub routers: Vec<SocketAddr>,
    /// Nodes known from an earlier run (id and address), pinged at start.
    pub known_nodes: Vec<CompactNode>,
    /// BEP 43: do not answer queries and ask others not to add us.
    pub read_only: bool,
    /// Routing table settings (K, BEP 42 preference or enforcement, one IP per bucket).
    pub table: TableConfig,
    /// Peer store limits.
    pub store: StoreConfig,
    /// BEP 44 item store limits.
    pub items: ItemStoreConfig,
    /// BEP 51: our sample of stored info hashes is recomputed at most this often (and sooner
    /// only while it is smaller than it could be); sent as `interval` (default 6 hours, the
    /// BEP's maximum and libtorrent's default).
    pub sample_interval: Duration,
    /// Inbound per-address query limits.
    pub rate_limit: RateLimitConfig,
    /// Queries of ours awaiting an answer, at most (default 1,024).
    pub max_in_flight: usize,
    /// Our outgoing queries per second, at most (default 1,000).
    pub max_queries_per_sec: u32,
    /// Concurrent user lookups, at most (default 256).
    pub max_lookups: usize,
    /// Queries a lookup keeps in flight (libtorrent's `search_branching`; default 4).
    pub branching: usize,
    /// Upper bound of the "slow query" timeout: after `min(short_timeout, srtt + 4·rttvar)`
    /// (the round-trip estimate as TCP keeps it, over all answers) a lookup queries another node
    /// in place of one that has not answered (default 1 s).
    pub short_timeout: Duration,
    /// Lower bound of the slow-query timeout (default 100 ms).
    pub min_short_timeout: Duration,
    /// After this a query has failed and the node's failure count grows (default 5 s).
    pub long_timeout: Duration,
    /// Maintenance period: ping the stalest node, refresh a bucket, bootstrap if needed
    /// (default 5 s).
    pub tick: Duration,
    /// A bucket untouched this long is refreshed (default 15 min).
    pub refresh_interval: Duration,
    /// Re-bootstrap at most this often while the table is short of good nodes (default 30 s).
    pub rebootstrap_interval: Duration,
    /// Token secret rotation; a token stays valid for two periods (default 5 min).
    pub token_rotation: Duration,
    /// Distinct voters needed before we believe an external address (default 5).
    pub ip_votes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node_id: None,
            external_ip: None,
            ipv4: true,
            ipv6: false,
            bootstrap: Vec::new(),
            routers: Vec::new(),
            known_nodes: Vec::new(),
            read_only: false,
            table: TableConfig::default(),
            store: StoreConfig::default(),
            items: ItemStoreConfig::default(),
            sample_interval: Duration::from_secs(6 * 60 * 60),
            rate_limit: RateLimitConfig::default(),
            max_in_flight: 1024,
            max_queries_per_sec: 1000,
            max_lookups: 256,
            branching: 4,
            short_timeout: Duration::from_secs(1),
            min_short_timeout: Duration::from_millis(100),
            long_timeout: Duration::from_secs(5),
            tick: Duration::from_secs(5),
            refresh_interval: Duration::from_secs(15 * 60),
            rebootstrap_interval: Duration::from_secs(30),
            token_rotation: Duration::from_secs(5 * 60),
            ip_votes: 5,
        }
    }
}

/// What a finished lookup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupSummary {
    /// The target (info hash or node id).
    pub target: NodeId,
    /// Distinct peers reported.
    pub peers: usize,
    /// Nodes that answered.
    pub replies: usize,
    /// Queries sent (including announces).
    pub queries: usize,
    /// For announces and puts: nodes that accepted our announce_peer or put.
    pub announced: Option<usize>,
    /// From start to completion.
    pub elapsed: Duration,
}

/// Something the node reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A lookup found a peer (each distinct address once per lookup).
    Peer {
        /// The lookup.
        lookup: LookupId,
        /// The hash looked up.
        info_hash: InfoHash,
        /// The peer.
        addr: SocketAddr,
    },
    /// A lookup finished (or was refused: see [`Node::get_peers`]).
    LookupDone {
        /// The lookup.
        lookup: LookupId,
        /// What it did.
        summary: LookupSummary,
    },
    /// The first bootstrap finished: the table holds `nodes` nodes.
    Bootstrapped {
        /// Table size (both families).
        nodes: usize,
    },
    /// Enough answers agree on our external address (BEP 42).
    ExternalAddress(IpAddr),
    /// Our node id changed to match our external address (BEP 42).
    NodeIdChanged(NodeId),
    /// A get lookup found its item (verified). An immutable item is reported as soon as it is
    /// found and the lookup ends; a mutable one when the lookup ends, with the highest `seq`
    /// seen. No event when nothing was found.
    Item {
        /// The lookup.
        lookup: LookupId,
        /// The item.
        item: Item,
    },
    /// A sampling crawl ([`Node::sample_infohashes`]) met a new info hash.
    Sample {
        /// The crawl.
        lookup: LookupId,
        /// The info hash.
        info_hash: InfoHash,
        /// The node whose sample held it.
        from: SocketAddr,
    },
    /// A scrape lookup ([`Node::scrape`]) finished: BEP 33 estimates of the swarm, from the
    /// union of the Bloom filters of the nodes that answered (reported before `LookupDone`).
    Scrape {
        /// The lookup.
        lookup: LookupId,
        /// The hash.
        info_hash: InfoHash,
        /// Estimated seeds.
        seeds: usize,
        /// Estimated other peers.
        peers: usize,
    },
    /// Another node stored a BEP 44 item with us.
    ItemStored {
        /// The item's target.
        target: NodeId,
    },
    /// Another node announced a peer to us (it is in our store).
    PeerAnnounced {
        /// The hash.
        info_hash: InfoHash,
        /// The peer.
        addr: SocketAddr,
    },
}

/// Counters and sizes, a plain snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Routing table size, IPv4.
    pub nodes_v4: usize,
    /// Routing table size, IPv6.
    pub nodes_v6: usize,
    /// Queries received (answered or not).
    pub queries_in: u64,
    /// Queries sent.
    pub queries_out: u64,
    /// Answers (responses and errors) received to our queries.
    pub replies_in: u64,
    /// Our queries that timed out.
    pub timeouts: u64,
    /// Datagrams that were not KRPC, or answers to nothing we asked.
    pub dropped: u64,
    /// Queries dropped by the per-address rate limit.
    pub rate_limited: u64,
    /// Addresses blocked now.
    pub blocked: usize,
    /// Info hashes in the peer store.
    pub stored_hashes: usize,
    /// BEP 44 items stored.
    pub stored_items: usize,
    /// Peers in the peer store.
    pub stored_peers: usize,
    /// Lookups running.
    pub lookups: usize,
    /// Our queries awaiting an answer.
    pub in_flight: usize,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// [`Config::max_lookups`] lookups are running.
    #[error("too many lookups running")]
    TooManyLookups,
    /// No address family is enabled.
    #[error("no address family enabled")]
    NoFamily,
    /// The item to put is not valid (value, salt or signature).
    #[error("invalid item: {0}")]
    InvalidItem(ItemError),
    /// The salt is longer than 64 bytes.
    #[error("salt longer than 64 bytes")]
    SaltTooBig,
}

// ---- internal state ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4 = 0,
    V6 = 1,
}

fn family_of(addr: &SocketAddr) -> Family {
    if addr.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LookupKind {
    FindNode,
    GetPeers,
    Announce { port: Option<u16>, seed: bool },
    GetItem,
    PutItem,
    Scrape,
    Sample,
}

impl LookupKind {
    /// Whether `values` in answers are peers to report.
    fn wants_peers(self) -> bool {
        matches!(self, LookupKind::GetPeers | LookupKind::Announce { .. })
    }
}

/// What a lookup beyond get_peers/find_node carries (boxed in [`Lookup`]).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum LookupData {
    /// A get: the salt (mutable items), and the best item so far.
    Get {
        mutable: Option<([u8; 32], Vec<u8>)>,
        best: Option<Item>,
    },
    /// A put: the item, `cas`, and the nodes (with their tokens) that replace a refusing or
    /// silent one.
    Put {
        item: Item,
        cas: Option<i64>,
        spare: VecDeque<(SocketAddr, Option<NodeId>, Token)>,
    },
    /// A scrape: the union of the filters, and addresses from legacy `values`.
    Scrape {
        seeds: BloomFilter,
        peers: BloomFilter,
        legacy: Vec<IpAddr>,
    },
    /// A sampling crawl.
    Crawl(Crawl),
}

#[derive(Debug, Default)]
struct Crawl {
    queue: VecDeque<(SocketAddr, Option<NodeId>)>,
    seen: HashSet<SocketAddr>,
    /// In flight and not yet slow.
    active: HashSet<SocketAddr>,
    /// In flight, slow or not.
    pending: usize,
    hashes: HashSet<InfoHash>,
    max_nodes: usize,
    queried: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CandState {
    New,
    InFlight,
    Slow,
    Replied,
    Failed,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    len: u8,
    bytes: [u8; crate::krpc::MAX_TOKEN_LEN],
}

impl Token {
    fn new(t: &[u8]) -> Option<Token> {
        if t.len() > crate::krpc::MAX_TOKEN_LEN {
            return None;
        }
        let mut bytes = [0u8; crate::krpc::MAX_TOKEN_LEN];
        bytes[..t.len()].copy_from_slice(t);
        Some(Token {
            len: t.len() as u8,
            bytes,
        })
    }
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

#[derive(Debug, Clone)]
struct Cand {
    id: Option<NodeId>,
    addr: SocketAddr,
    dist: Distance,
    state: CandState,
    token: Option<Token>,
}

#[derive(Debug, Default)]
struct Traversal {
    cands: Vec<Cand>,
    done: bool,
}

impl Traversal {
    fn add(&mut self, target: &NodeId, id: Option<NodeId>, addr: SocketAddr) {
        if self.cands.iter().any(|c| c.addr == addr) {
            return;
        }
        let dist = match id {
            Some(id) => id.distance(target),
            None => Distance::MAX,
        };
        let pos = self.cands.partition_point(|c| c.dist <= dist);
        if pos >= MAX_CANDIDATES {
            return;
        }
        self.cands.insert(
            pos,
            Cand {
                id,
                addr,
                dist,
                state: CandState::New,
                token: None,
            },
        );
        if self.cands.len() > MAX_CANDIDATES {
            // Drop the farthest candidate that is not waiting for an answer.
            if let Some(i) = self
                .cands
                .iter()
                .rposition(|c| c.state != CandState::InFlight && c.state != CandState::Slow)
            {
                self.cands.remove(i);
            } else {
                self.cands.pop();
            }
        }
    }

    fn find(&mut self, addr: &SocketAddr) -> Option<&mut Cand> {
        self.cands.iter_mut().find(|c| c.addr == *addr)
    }

    /// Set a candidate's id once it answered (routers and bootstrap nodes start without one).
    fn learn_id(&mut self, target: &NodeId, addr: &SocketAddr, id: NodeId) {
        let Some(i) = self.cands.iter().position(|c| c.addr == *addr) else {
            return;
        };
        if self.cands[i].id == Some(id) {
            return;
        }
        let mut c = self.cands.remove(i);
        c.id = Some(id);
        c.dist = id.distance(target);
        let pos = self.cands.partition_point(|x| x.dist <= c.dist);
        self.cands.insert(pos, c);
    }
}

#[derive(Debug)]
struct Lookup {
    kind: LookupKind,
    target: NodeId,
    started: Instant,
    /// Internal lookups (bootstrap, refresh) report no events.
    internal: bool,
    bootstrap: bool,
    trav: [Option<Traversal>; 2],
    peers: HashSet<SocketAddr>,
    replies: usize,
    queries: usize,
    /// Announce (or put) phase: answers still awaited, and acceptances.
    announcing: Option<(usize, usize)>,
    /// Get, put, scrape and crawl state.
    data: Option<Box<LookupData>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    /// A lookup's get_peers / find_node.
    Lookup(LookupId),
    /// A lookup's announce_peer.
    Announce(LookupId),
    /// Maintenance ping (find_node to the stalest node, or add_node).
    Ping,
}

#[derive(Debug, Clone, Copy)]
struct Tx {
    to: SocketAddr,
    id: Option<NodeId>,
    kind: TxKind,
    sent: Instant,
    gen: u64,
    slow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Short(u16, u64),
    Long(u16, u64),
    Tick,
    Wake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimerEntry {
    at: Instant,
    seq: u64,
    timer: Timer,
}

impl Ord for TimerEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What an answer carries beyond the nodes.
#[derive(Default)]
struct Extra<'d> {
    token: Option<&'d [u8]>,
    peers: &'d [SocketAddr],
    bloom: Option<(&'d BloomFilter, &'d BloomFilter)>,
    /// The item, and whether to include a mutable item's value.
    item: Option<(&'d Item, bool)>,
    /// Samples, `num`, `interval`.
    samples: Option<(&'d [u8], i64, i64)>,
}

/// A Mainline DHT node, sans IO. See the [module docs](self).
pub struct Node {
    config: Config,
    id: NodeId,
    rng: CoreRng,
    tables: [Option<RoutingTable>; 2],
    store: PeerStore,
    items: ItemStore,
    /// BEP 51: our current sample and when it was drawn.
    samples: Vec<InfoHash>,
    samples_at: Option<Instant>,
    /// Created at the first input (its windows count from then).
    tokens: Option<WindowedMac>,
    last_now: Option<Instant>,
    limiter: RateLimiter,
    voters: [IpVoter; 2],
    txs: HashMap<u16, Tx>,
    /// Lookup and announce queries kept for one retransmission at their slow timeout.
    resend: HashMap<u16, Vec<u8>>,
    timers: BinaryHeap<Reverse<TimerEntry>>,
    timer_seq: u64,
    tick_at: Option<Instant>,
    wake_at: Option<Instant>,
    lookups: HashMap<LookupId, Lookup>,
    next_lookup: u64,
    out: VecDeque<(SocketAddr, Vec<u8>)>,
    free: Vec<Vec<u8>>,
    events: VecDeque<Event>,
    stats: Stats,
    routers: HashSet<SocketAddr>,
    /// Outgoing query budget (token bucket) and when it was last refilled.
    send_budget: f64,
    budget_at: Option<Instant>,
    bootstrapped: bool,
    bootstrap_lookup: Option<LookupId>,
    last_bootstrap: Option<Instant>,
    refresh_lookup: Option<LookupId>,
    started: bool,
    /// Smoothed round-trip time and its variation, seconds (RFC 6298 style).
    srtt: Option<(f64, f64)>,
    scratch: Vec<u8>,
    /// The KRPC decoder, kept so its buffers are reused ([`Message::decode_with`]).
    decoder: bip_bencode::Decoder,
    scratch6: Vec<u8>,
    peers_buf: Vec<SocketAddr>,
    closest_buf: Vec<NodeEntry>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Node {
    /// A node with all randomness drawn from `seed` (tests give fixed seeds; drivers OS entropy).
    /// It starts (maintenance, bootstrap) at its first input: call
    /// [`handle_timeout`](Self::handle_timeout) once with the current time.
    pub fn new(config: Config, seed: [u8; 32]) -> Self {
        let mut rng = core_rng(seed);
        let id = match (config.node_id, config.external_ip) {
            (Some(id), _) => id,
            (None, Some(ip)) if !is_exempt(ip) => generate_node_id(ip, &mut rng),
            _ => NodeId::random(&mut rng),
        };
        let tables = [
            config.ipv4.then(|| RoutingTable::new(id, config.table)),
            config.ipv6.then(|| RoutingTable::new(id, config.table)),
        ];
        let routers = config.routers.iter().copied().collect();
        Node {
            store: PeerStore::new(config.store),
            items: ItemStore::new(config.items),
            samples: Vec::new(),
            samples_at: None,
            limiter: RateLimiter::new(config.rate_limit),
            voters: [IpVoter::new(config.ip_votes), IpVoter::new(config.ip_votes)],
            config,
            id,
            rng,
            tables,
            tokens: None,
            txs: HashMap::new(),
            resend: HashMap::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            tick_at: None,
            wake_at: None,
            lookups: HashMap::new(),
            next_lookup: 0,
            out: VecDeque::new(),
            free: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            routers,
            send_budget: 0.0,
            budget_at: None,
            bootstrapped: false,
            bootstrap_lookup: None,
            last_bootstrap: None,
            refresh_lookup: None,
            started: false,
            srtt: None,
            last_now: None,
            scratch: Vec::new(),
            decoder: Message::decoder(),
            scratch6: Vec::new(),
            peers_buf: Vec::new(),
            closest_buf: Vec::new(),
        }
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A snapshot of the counters and sizes.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.nodes_v4 = self.tables[0].as_ref().map_or(0, |t| t.len());
        s.nodes_v6 = self.tables[1].as_ref().map_or(0, |t| t.len());
        s.stored_hashes = self.store.hashes();
        s.stored_peers = self.store.peers();
        s.stored_items = self.items.len();
        s.lookups = self.lookups.len();
        s.in_flight = self.txs.len();
        s.blocked = self.last_now.map_or(0, |now| self.limiter.blocked(now));
        s
    }

    /// The nodes of both routing tables (for persistence: give them back as
    /// [`Config::known_nodes`] on the next start).
    pub fn nodes(&self) -> Vec<CompactNode> {
        self.tables
            .iter()
            .flatten()
            .flat_map(|t| t.iter())
            .map(|e| CompactNode::new(e.id, e.addr))
            .collect()
    }

    /// Whether the first bootstrap has finished.
    pub fn is_bootstrapped(&self) -> bool {
        self.bootstrapped
    }

    // ---- the core contract -------------------------------------------------------------

    /// One datagram from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.start(now);
        let from = SocketAddr::new(from.ip().to_canonical(), from.port());
        self.stats.bytes_in += data.len() as u64;
        if from.port() == 0 || self.table(family_of(&from)).is_none() {
            self.stats.dropped += 1;
            return;
        }
        let msg = match Message::decode_with(&mut self.decoder, data) {
            Ok(m) => m,
            Err(_) => {
                self.stats.dropped += 1;
                return;
            }
        };
        match &msg.body {
            Body::Query(q) => self.on_query(now, from, &msg, q),
            Body::Response(r) => self.on_response(now, from, &msg, Ok(r)),
            Body::Error(e) => self.on_response(now, from, &msg, Err(e)),
        }
    }

    /// Timers: query timeouts and maintenance. A spurious call is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.start(now);
        while let Some(Reverse(top)) = self.timers.peek().copied() {
            if top.at > now {
                break;
            }
            self.timers.pop();
            match top.timer {
                Timer::Short(tid, gen) => self.on_short_timeout(now, tid, gen),
                Timer::Long(tid, gen) => self.on_long_timeout(now, tid, gen),
                Timer::Tick => {
                    self.tick_at = None;
                    self.tick(now);
                }
                Timer::Wake => {
                    self.wake_at = None;
                    self.step_all(now);
                }
            }
        }
    }

    /// The next datagram to send: its bytes are written into `buf` (cleared first).
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (to, bytes) = self.out.pop_front()?;
        buf.clear();
        buf.extend_from_slice(&bytes);
        self.stats.bytes_out += bytes.len() as u64;
        self.recycle(bytes);
        Some(Transmit { to, len: buf.len() })
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline (a spurious wake-up is harmless).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse(t)| t.at)
    }

    // ---- commands --------------------------------------------------------------------

    /// Look up peers for `info_hash`; [`Event::Peer`]s follow as they are found, then
    /// [`Event::LookupDone`].
    pub fn get_peers(
        &mut self,
        now: Instant,
        info_hash: InfoHash,
    ) -> Result<LookupId, CommandError> {
        self.start_lookup(now, LookupKind::GetPeers, NodeId::from(info_hash), false)
    }

    /// Announce that we have `info_hash` on `port` (`None`: the port our datagrams come from,
    /// BEP 5's `implied_port`), with `seed` for BEP 33. Runs a get_peers lookup (reporting the
    /// peers it finds), then announces to the closest nodes that answered; the
    /// [`LookupSummary::announced`] count says how many accepted.
    pub fn announce(
        &mut self,
        now: Instant,
        info_hash: InfoHash,
        port: Option<u16>,
        seed: bool,
    ) -> Result<LookupId, CommandError> {
        self.start_lookup(
            now,
            LookupKind::Announce { port, seed },
            NodeId::from(info_hash),
            false,
        )
    }

    /// Find the nodes closest to `target` (reports only [`Event::LookupDone`]).
    pub fn find_node(&mut self, now: Instant, target: NodeId) -> Result<LookupId, CommandError> {
        self.start_lookup(now, LookupKind::FindNode, target, false)
    }

    /// Look up the BEP 44 immutable item stored under `target` (the SHA-1 of its bencoded
    /// value): an [`Event::Item`] as soon as a node returns a value that hashes to `target`,
    /// then [`Event::LookupDone`]. A token is collected from every node, as for `put`.
    pub fn get_immutable(
        &mut self,
        now: Instant,
        target: NodeId,
    ) -> Result<LookupId, CommandError> {
        let data = LookupData::Get {
            mutable: None,
            best: None,
        };
        self.start_lookup_data(now, LookupKind::GetItem, target, false, Some(data))
    }

    /// Look up the BEP 44 mutable item of public key `key` and `salt` (empty: none): the
    /// lookup converges on the closest nodes and reports the item with the highest `seq` whose
    /// signature verifies ([`Event::Item`], only if one was found), then
    /// [`Event::LookupDone`].
    pub fn get_mutable(
        &mut self,
        now: Instant,
        key: [u8; 32],
        salt: &[u8],
    ) -> Result<LookupId, CommandError> {
        if salt.len() > crate::item::MAX_SALT_LEN {
            return Err(CommandError::SaltTooBig);
        }
        let target = crate::item::mutable_target(&key, salt);
        let data = LookupData::Get {
            mutable: Some((key, salt.to_vec())),
            best: None,
        };
        self.start_lookup_data(now, LookupKind::GetItem, target, false, Some(data))
    }

    /// Store a BEP 44 item (verified first) at the K closest nodes to its target: a `get`
    /// lookup collects their tokens, then each gets a `put` (with `cas` for a mutable item, if
    /// given). [`LookupSummary::announced`] says how many accepted. We keep a copy too.
    pub fn put(
        &mut self,
        now: Instant,
        item: Item,
        cas: Option<i64>,
    ) -> Result<LookupId, CommandError> {
        item.verify().map_err(CommandError::InvalidItem)?;
        let target = item.target();
        let _ = self.items.put(now, item.clone(), None);
        let data = LookupData::Put {
            item,
            cas,
            spare: VecDeque::new(),
        };
        self.start_lookup_data(now, LookupKind::PutItem, target, false, Some(data))
    }

    /// A BEP 33 scrape of `info_hash`: a get_peers lookup with `scrape=1` that merges the
    /// Bloom filters of the nodes that answer, then [`Event::Scrape`] with the estimates and
    /// [`Event::LookupDone`].
    pub fn scrape(&mut self, now: Instant, info_hash: InfoHash) -> Result<LookupId, CommandError> {
        let data = LookupData::Scrape {
            seeds: BloomFilter::new(),
            peers: BloomFilter::new(),
            legacy: Vec::new(),
        };
        self.start_lookup_data(
            now,
            LookupKind::Scrape,
            NodeId::from(info_hash),
            false,
            Some(data),
        )
    }

    /// A BEP 51 crawl: `sample_infohashes` to every node met (starting from the routing
    /// table, then the nodes each answer names, each with a random target so the walk spreads
    /// over the keyspace), at most `max_nodes` of them, [`CRAWL_BRANCHING`] in flight and
    /// within the outgoing query cap ([`Config::max_queries_per_sec`]). Each distinct info hash
    /// is reported once ([`Event::Sample`], with the node it came from); then
    /// [`Event::LookupDone`], whose `peers` counts the distinct info hashes.
    pub fn sample_infohashes(
        &mut self,
        now: Instant,
        max_nodes: usize,
    ) -> Result<LookupId, CommandError> {
        let data = LookupData::Crawl(Crawl {
            max_nodes,
            ..Crawl::default()
        });
        let target = self.id;
        self.start_lookup_data(now, LookupKind::Sample, target, false, Some(data))
    }

    /// The BEP 44 item stored with us under `target`, if any.
    pub fn stored_item(&self, now: Instant, target: &NodeId) -> Option<&Item> {
        self.items.get(now, target)
    }

    /// Stop a lookup; no more events come for it.
    pub fn cancel(&mut self, id: LookupId) {
        self.lookups.remove(&id);
    }

    /// Ping `addr` (a node to learn about, as libtorrent's `add_dht_node`): it joins the table
    /// if it answers.
    pub fn add_node(&mut self, now: Instant, addr: SocketAddr) {
        self.start(now);
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        if self.table(family_of(&addr)).is_none() {
            return;
        }
        let target = self.id;
        self.send_query(now, addr, None, TxKind::Ping, |want| Method::FindNode {
            target,
            want,
        });
    }

    // ---- internals: plumbing -------------------------------------------------------------

    fn start(&mut self, now: Instant) {
        self.last_now = Some(now);
        if self.started {
            return;
        }
        self.started = true;
        self.tokens = Some(WindowedMac::new(
            &mut self.rng,
            now,
            self.config.token_rotation,
            1,
        ));
        self.budget_at = Some(now);
        self.send_budget = self.config.max_queries_per_sec.max(1) as f64;
        // First maintenance round at once: it bootstraps.
        self.schedule(now, Timer::Tick);
        self.tick_at = Some(now);
    }

    fn table(&self, f: Family) -> Option<&RoutingTable> {
        self.tables[f as usize].as_ref()
    }

    fn table_mut(&mut self, f: Family) -> Option<&mut RoutingTable> {
        self.tables[f as usize].as_mut()
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse(TimerEntry {
            at,
            seq: self.timer_seq,
            timer,
        }));
    }

    fn buffer(&mut self) -> Vec<u8> {
        let mut b = self
            .free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(MAX_DATAGRAM));
        b.clear();
        b
    }

    fn recycle(&mut self, b: Vec<u8>) {
        if self.free.len() < 64 {
            self.free.push(b);
        }
    }

    fn verified(ip: IpAddr, id: &NodeId) -> bool {
        is_exempt(ip) || is_valid_node_id(ip, id)
    }

    /// Whether our send budget and in-flight limit allow one more query now.
    fn can_send(&mut self, now: Instant) -> bool {
        if self.txs.len() >= self.config.max_in_flight {
            return false;
        }
        let rate = self.config.max_queries_per_sec.max(1) as f64;
        if let Some(at) = self.budget_at {
            let dt = now.saturating_duration_since(at).as_secs_f64();
            self.send_budget = (self.send_budget + dt * rate).min(rate);
        }
        self.budget_at = Some(now);
        self.send_budget >= 1.0
    }

    fn starved(&mut self, now: Instant) {
        if self.wake_at.is_none() {
            let rate = self.config.max_queries_per_sec.max(1) as f64;
            let at = now + Duration::from_secs_f64(1.0 / rate).max(Duration::from_millis(1));
            self.wake_at = Some(at);
            self.schedule(at, Timer::Wake);
        }
    }

    fn short_timeout(&self) -> Duration {
        let max = self.config.short_timeout;
        let min = self.config.min_short_timeout.min(max);
        match self.srtt {
            None => max,
            Some((srtt, var)) => Duration::from_secs_f64(srtt + 4.0 * var).clamp(min, max),
        }
    }

    fn sample_rtt(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64();
        self.srtt = Some(match self.srtt {
            None => (r, r / 2.0),
            Some((s, v)) => (s + (r - s) / 8.0, v + ((r - s).abs() - v) / 4.0),
        });
    }

    fn new_tid(&mut self) -> u16 {
        loop {
            let t: u16 = self.rng.random();
            if !self.txs.contains_key(&t) {
                return t;
            }
        }
    }

    /// BEP 32: ask for both families' nodes when we have a table for each; otherwise leave
    /// `want` out (the answer then carries the family the query went over).
    fn want(&self) -> Want {
        if self.tables[0].is_some() && self.tables[1].is_some() {
            Want { v4: true, v6: true }
        } else {
            Want::default()
        }
    }

    /// Encode and queue a query; registers the transaction and its timers.
    fn send_query<'m>(
        &mut self,
        now: Instant,
        to: SocketAddr,
        id: Option<NodeId>,
        kind: TxKind,
        method: impl FnOnce(Want) -> Method<'m>,
    ) -> bool {
        if !self.can_send(now) {
            return false;
        }
        self.send_budget -= 1.0;
        let tid = self.new_tid();
        let want = self.want();
        let msg = Message {
            transaction_id: &tid.to_be_bytes(),
            version: Some(&VERSION),
            ip: None,
            read_only: self.config.read_only,
            body: Body::Query(Query {
                id: self.id,
                method: method(want),
            }),
        };
        let mut buf = self.buffer();
        msg.encode(&mut buf);
        if kind != TxKind::Ping {
            let mut copy = self.buffer();
            copy.extend_from_slice(&buf);
            self.resend.insert(tid, copy);
        }
        self.out.push_back((to, buf));
        self.stats.queries_out += 1;
        self.timer_seq += 1;
        let gen = self.timer_seq;
        self.txs.insert(
            tid,
            Tx {
                to,
                id,
                kind,
                sent: now,
                gen,
                slow: false,
            },
        );
        let short = self.short_timeout();
        self.schedule(now + short, Timer::Short(tid, gen));
        self.schedule(now + self.config.long_timeout, Timer::Long(tid, gen));
        if let Some(id) = id {
            if let Some(t) = self.table_mut(family_of(&to)) {
                t.pinged(now, &id);
            }
        }
        true
    }

    fn send_answer(&mut self, to: SocketAddr, tid: &[u8], body: Body<'_>) {
        let msg = Message {
            transaction_id: tid,
            version: Some(&VERSION),
            ip: Some(to),
            read_only: false,
            body,
        };
        let mut buf = self.buffer();
        msg.encode(&mut buf);
        self.out.push_back((to, buf));
    }

    fn send_error(&mut self, to: SocketAddr, tid: &[u8], code: ErrorCode, text: &[u8]) {
        self.send_answer(
            to,
            tid,
            Body::Error(ErrorMessage {
                code,
                message: text,
            }),
        );
    }

    // ---- serving -------------------------------------------------------------------------

    fn on_query(&mut self, now: Instant, from: SocketAddr, msg: &Message<'_>, q: &Query<'_>) {
        self.stats.queries_in += 1;
        match self.limiter.check(now, from.ip()) {
            Verdict::Allow => {}
            Verdict::Block | Verdict::Blocked => {
                self.stats.rate_limited += 1;
                return;
            }
        }
        if self.config.read_only {
            return;
        }
        if q.id == self.id {
            // Our own query, come back to us (others list our address under an id we had
            // before a restart): answering would let a lookup count us as a remote node.
            self.stats.dropped += 1;
            return;
        }
        let fam = family_of(&from);
        if !msg.read_only && q.id != self.id {
            let verified = Self::verified(from.ip(), &q.id);
            if let Some(t) = self.table_mut(fam) {
                t.heard(now, q.id, from, false, verified);
            }
        }
        let tid = msg.transaction_id;
        match &q.method {
            Method::Ping => {
                let id = self.id;
                self.send_answer(from, tid, Body::Response(Response::new(id)));
            }
            Method::FindNode { target, want } => {
                self.answer_nodes(now, from, tid, target, *want, &Extra::default())
            }
            Method::Unknown {
                target: Some(target),
                want,
                ..
            } => self.answer_nodes(now, from, tid, target, *want, &Extra::default()),
            Method::Get { target, seq, want } => {
                let token = self.issue_token(now, from);
                let item = self.items.get(now, target).cloned();
                if item.is_some() {
                    self.items.touch(now, target);
                }
                let fresh = match (&item, seq) {
                    (Some(Item::Mutable(m)), Some(seq)) => m.seq > *seq,
                    _ => true,
                };
                let extra = Extra {
                    token: Some(&token),
                    item: item.as_ref().map(|i| (i, fresh)),
                    ..Extra::default()
                };
                self.answer_nodes(now, from, tid, target, *want, &extra);
            }
            Method::SampleInfohashes { target, want } => {
                self.refresh_samples(now);
                let mut samples = Vec::with_capacity(self.samples.len() * 20);
                for h in &self.samples {
                    samples.extend_from_slice(h.as_bytes());
                }
                let interval = self.config.sample_interval.as_secs();
                let extra = Extra {
                    samples: Some((
                        &samples,
                        self.store.hashes() as i64,
                        i64::try_from(interval).unwrap_or(i64::MAX),
                    )),
                    ..Extra::default()
                };
                self.answer_nodes(now, from, tid, target, *want, &extra);
            }
            Method::Put {
                token,
                value,
                key,
                signature,
                seq,
                salt,
                cas,
            } => {
                if !self.check_token(now, from, token) {
                    self.send_error(from, tid, ErrorCode::PROTOCOL, b"bad token");
                    return;
                }
                let item = match (key, signature, seq) {
                    (None, None, None) => Item::Immutable(value.to_vec()),
                    (Some(k), Some(sig), Some(seq)) => Item::Mutable(MutableItem {
                        key: **k,
                        salt: salt.unwrap_or_default().to_vec(),
                        seq: *seq,
                        value: value.to_vec(),
                        signature: **sig,
                    }),
                    _ => {
                        self.send_error(from, tid, ErrorCode::PROTOCOL, b"missing k, sig or seq");
                        return;
                    }
                };
                if let Err(e) = item.verify() {
                    let (code, text): (ErrorCode, &[u8]) = match e {
                        ItemError::ValueTooBig(_) => {
                            (ErrorCode::MESSAGE_TOO_BIG, b"message (v field) too big")
                        }
                        ItemError::SaltTooBig(_) => {
                            (ErrorCode::SALT_TOO_BIG, b"salt (salt field) too big")
                        }
                        ItemError::InvalidSignature | ItemError::InvalidKey => {
                            (ErrorCode::INVALID_SIGNATURE, b"invalid signature")
                        }
                        _ => (ErrorCode::PROTOCOL, b"invalid value"),
                    };
                    self.send_error(from, tid, code, text);
                    return;
                }
                let target = item.target();
                match self.items.put(now, item, *cas) {
                    Ok(()) => {
                        self.events.push_back(Event::ItemStored { target });
                        let id = self.id;
                        self.send_answer(from, tid, Body::Response(Response::new(id)));
                    }
                    Err(PutError::CasMismatch) => self.send_error(
                        from,
                        tid,
                        ErrorCode::CAS_MISMATCH,
                        b"the CAS hash mismatched, re-read value and try again",
                    ),
                    Err(PutError::SeqTooLow) => self.send_error(
                        from,
                        tid,
                        ErrorCode::SEQUENCE_TOO_LOW,
                        b"sequence number less than current",
                    ),
                    Err(_) => self.send_error(from, tid, ErrorCode::SERVER, b"no room"),
                }
            }
            Method::Unknown { target: None, .. } => {
                self.send_error(from, tid, ErrorCode::METHOD_UNKNOWN, b"Method Unknown")
            }
            Method::GetPeers {
                info_hash,
                want,
                noseed,
                scrape,
            } => {
                let token = self.issue_token(now, from);
                let bloom = if *scrape {
                    self.store.bloom(now, info_hash)
                } else {
                    None
                };
                let mut peers = std::mem::take(&mut self.peers_buf);
                peers.clear();
                self.store.get(
                    now,
                    info_hash,
                    fam == Family::V6,
                    *noseed,
                    MAX_PEERS_REPLY,
                    &mut self.rng,
                    &mut peers,
                );
                let extra = Extra {
                    token: Some(&token),
                    peers: &peers,
                    bloom: bloom.as_ref().map(|(s, p)| (s, p)),
                    ..Extra::default()
                };
                self.answer_nodes(now, from, tid, &NodeId::from(*info_hash), *want, &extra);
                self.peers_buf = peers;
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
                seed,
            } => {
                if !self.check_token(now, from, token) {
                    self.send_error(from, tid, ErrorCode::PROTOCOL, b"bad token");
                    return;
                }
                let port = if *implied_port { from.port() } else { *port };
                if port == 0 {
                    self.send_error(from, tid, ErrorCode::PROTOCOL, b"invalid port");
                    return;
                }
                let peer = SocketAddr::new(from.ip(), port);
                if self.store.announce(now, *info_hash, peer, *seed) {
                    self.events.push_back(Event::PeerAnnounced {
                        info_hash: *info_hash,
                        addr: peer,
                    });
                }
                let id = self.id;
                self.send_answer(from, tid, Body::Response(Response::new(id)));
            }
        }
    }

    /// A token for `from` (get_peers, get).
    fn issue_token(&mut self, now: Instant, from: SocketAddr) -> [u8; 8] {
        let mut key = [0u8; 16];
        self.tokens
            .as_mut()
            .map_or(0, |m| m.issue(now, ip_key_bytes(from.ip(), &mut key)))
            .to_be_bytes()
    }

    /// Whether `token` is one we issued to `from` in the current or previous period.
    fn check_token(&mut self, now: Instant, from: SocketAddr, token: &[u8]) -> bool {
        let Ok(t) = <[u8; 8]>::try_from(token) else {
            return false;
        };
        let mut key = [0u8; 16];
        let data = ip_key_bytes(from.ip(), &mut key);
        self.tokens
            .as_mut()
            .is_some_and(|m| m.check(now, data, u64::from_be_bytes(t)))
    }

    /// Redraw our BEP 51 sample when it is older than the interval, or smaller than it could be.
    fn refresh_samples(&mut self, now: Instant) {
        let stale = self
            .samples_at
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.sample_interval);
        let short = self.samples.len() < MAX_SAMPLES && self.store.hashes() > self.samples.len();
        if stale || short {
            self.samples.clear();
            self.store
                .sample(MAX_SAMPLES, &mut self.rng, &mut self.samples);
            self.samples_at = Some(now);
        }
    }

    /// Answer with the closest nodes (families per `want`, default the requester's), and what
    /// `extra` holds: a token, as many peers as fit in [`MAX_DATAGRAM`], Bloom filters, an item,
    /// samples.
    fn answer_nodes(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: &[u8],
        target: &NodeId,
        want: Want,
        extra: &Extra<'_>,
    ) {
        let fam = family_of(&from);
        let (mut v4, mut v6) = (want.v4, want.v6);
        if !v4 && !v6 {
            v4 = fam == Family::V4;
            v6 = fam == Family::V6;
        }
        let mut n4 = std::mem::take(&mut self.scratch);
        let mut n6 = std::mem::take(&mut self.scratch6);
        n4.clear();
        n6.clear();
        let mut closest = std::mem::take(&mut self.closest_buf);
        for (f, on, out) in [(Family::V4, v4, &mut n4), (Family::V6, v6, &mut n6)] {
            if !on {
                continue;
            }
            if let Some(t) = self.table(f) {
                t.closest(target, K, now, &mut closest);
                for e in &closest {
                    bip_util::encode_node(&e.id, &e.addr, out);
                }
            }
        }
        self.closest_buf = closest;
        // Keep the answer within one datagram: with a large item, samples or Bloom filters,
        // the other family's nodes go first (BEP 33's advice), then nodes from the end.
        let payload = extra.item.map_or(0, |(i, _)| i.value().len() + 120)
            + extra.samples.map_or(0, |(s, _, _)| s.len() + 40)
            + if extra.bloom.is_some() { 540 } else { 0 };
        if payload > 0 {
            let fixed = 120 + tid.len() + extra.token.map_or(0, <[u8]>::len) + payload;
            if fixed + n4.len() + n6.len() > MAX_DATAGRAM {
                match fam {
                    Family::V4 => n6.clear(),
                    Family::V6 => n4.clear(),
                }
            }
            let room = MAX_DATAGRAM.saturating_sub(fixed);
            for (buf, len) in [
                (&mut n4, crate::krpc::NODE_V4_LEN),
                (&mut n6, crate::krpc::NODE_V6_LEN),
            ] {
                if buf.len() > room {
                    buf.truncate(room / len * len);
                }
            }
        }
        let mut r = Response::new(self.id);
        r.nodes = v4.then_some(&n4[..]);
        r.nodes6 = v6.then_some(&n6[..]);
        let mut values_len = 0;
        if let Some((seeds, peers)) = extra.bloom {
            r.bf_seeds = Some(&seeds.0);
            r.bf_peers = Some(&peers.0);
        }
        if let Some((item, with_value)) = extra.item {
            match item {
                Item::Immutable(v) => r.value = Some(v),
                Item::Mutable(m) => {
                    r.seq = Some(m.seq);
                    if with_value {
                        r.value = Some(&m.value);
                        r.key = Some(&m.key);
                        r.signature = Some(&m.signature);
                    }
                }
            }
        }
        if let Some((samples, num, interval)) = extra.samples {
            r.samples = Some(samples);
            r.num = Some(num);
            r.interval = Some(interval);
        }
        if let Some(token) = extra.token {
            r.token = Some(token);
            let peers = extra.peers;
            if !peers.is_empty() {
                // Room left for values: datagram minus everything else (with margin).
                let blooms = if extra.bloom.is_some() { 540 } else { 0 };
                let fixed = 120 + tid.len() + n4.len() + n6.len() + token.len() + blooms;
                let per = if fam == Family::V6 { 20 } else { 8 };
                let room = MAX_DATAGRAM.saturating_sub(fixed) / per;
                values_len = peers.len().min(room);
            }
            r.values = (values_len > 0).then_some(Values::Addrs(&peers[..values_len]));
        }
        self.send_answer(from, tid, Body::Response(r));
        self.scratch = n4;
        self.scratch6 = n6;
    }

    // ---- answers to our queries ------------------------------------------------------------

    fn on_response(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        body: Result<&Response<'_>, &ErrorMessage<'_>>,
    ) {
        let tid = match <[u8; 2]>::try_from(msg.transaction_id) {
            Ok(t) => u16::from_be_bytes(t),
            Err(_) => {
                self.stats.dropped += 1;
                return;
            }
        };
        let Some(tx) = self.txs.get(&tid).copied() else {
            self.stats.dropped += 1;
            return;
        };
        if tx.to != from {
            self.stats.dropped += 1;
            return;
        }
        self.txs.remove(&tid);
        if let Some(b) = self.resend.remove(&tid) {
            self.recycle(b);
        }
        self.stats.replies_in += 1;
        if !tx.slow {
            self.sample_rtt(now.saturating_duration_since(tx.sent));
        }
        let fam = family_of(&from);
        let r = match body {
            Ok(r) => r,
            Err(_) => {
                // An error answer: the node is alive but the query failed.
                match tx.kind {
                    TxKind::Lookup(l) => {
                        self.crawl_query_over(l, &from, true);
                        if let Some(lk) = self.lookups.get_mut(&l) {
                            if let Some(c) =
                                lk.trav[fam as usize].as_mut().and_then(|t| t.find(&from))
                            {
                                c.state = CandState::Failed;
                            }
                        }
                        self.step(now, l);
                    }
                    TxKind::Announce(l) => self.announce_answered(now, l, false),
                    TxKind::Ping => {}
                }
                return;
            }
        };
        // The routing table learns from every answer (never from routers, nor read-only nodes).
        if !msg.read_only && !self.routers.contains(&from) && r.id != self.id {
            let verified = Self::verified(from.ip(), &r.id);
            if let Some(t) = self.table_mut(fam) {
                t.heard(now, r.id, from, true, verified);
            }
        }
        // BEP 42: votes for our external address.
        if let Some(seen) = msg.ip {
            self.vote(from.ip(), seen.ip());
        }
        match tx.kind {
            TxKind::Ping => {
                // Learn the nodes a maintenance find_node returned (ping them? no: add as
                // questionable only when they answer us later). Use them to fill an empty table.
                self.learn_nodes(now, r);
            }
            TxKind::Announce(l) => self.announce_answered(now, l, true),
            TxKind::Lookup(l) => {
                self.lookup_answer(now, l, from, r);
                self.step(now, l);
            }
        }
    }

    /// Nodes from a maintenance answer: when our table is short, ping some of them.
    fn learn_nodes(&mut self, now: Instant, r: &Response<'_>) {
        let mut add = Vec::new();
        for (fam, bytes) in [(Family::V4, r.nodes), (Family::V6, r.nodes6)] {
            let (Some(bytes), Some(t)) = (bytes, self.table(fam)) else {
                continue;
            };
            if t.len() >= 4 * K {
                continue;
            }
            for n in decode_nodes(bytes, fam) {
                if n.id != self.id && t.get(&n.addr).is_none() {
                    add.push(n);
                }
            }
        }
        for n in add.into_iter().take(K) {
            let target = self.id;
            if !self.send_query(now, n.addr, Some(n.id), TxKind::Ping, |want| {
                Method::FindNode { target, want }
            }) {
                break;
            }
        }
    }

    fn vote(&mut self, voter: IpAddr, seen: IpAddr) {
        let seen = seen.to_canonical();
        let fam = if seen.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        if let Some(ip) = self.voters[fam as usize].vote(voter, seen) {
            self.events.push_back(Event::ExternalAddress(ip));
            if self.config.node_id.is_none()
                && !is_exempt(ip)
                && !is_valid_node_id(ip, &self.id)
                && fam == Family::V4
            {
                let id = generate_node_id(ip, &mut self.rng);
                self.id = id;
                for t in self.tables.iter_mut().flatten() {
                    t.set_own_id(id);
                }
                self.events.push_back(Event::NodeIdChanged(id));
            }
        }
    }

    fn on_short_timeout(&mut self, now: Instant, tid: u16, gen: u64) {
        let Some(tx) = self.txs.get_mut(&tid) else {
            return;
        };
        if tx.gen != gen {
            return;
        }
        tx.slow = true;
        let tx = *tx;
        // One retransmission with the same transaction id: under loss this is what keeps a
        // close node (the one holding the peers) from being skipped. The lookup moves on at
        // the same time, so a slow node costs no latency.
        if let Some(bytes) = self.resend.remove(&tid) {
            self.out.push_back((tx.to, bytes));
            self.stats.queries_out += 1;
            if let TxKind::Lookup(l) | TxKind::Announce(l) = tx.kind {
                if let Some(lk) = self.lookups.get_mut(&l) {
                    lk.queries += 1;
                }
            }
        }
        if let TxKind::Lookup(l) = tx.kind {
            self.crawl_query_over(l, &tx.to, false);
            if let Some(lk) = self.lookups.get_mut(&l) {
                if let Some(c) = lk.trav[family_of(&tx.to) as usize]
                    .as_mut()
                    .and_then(|t| t.find(&tx.to))
                {
                    if c.state == CandState::InFlight {
                        c.state = CandState::Slow;
                    }
                }
            }
            self.step(now, l);
        }
    }

    fn on_long_timeout(&mut self, now: Instant, tid: u16, gen: u64) {
        match self.txs.get(&tid) {
            Some(tx) if tx.gen == gen => {}
            _ => return,
        }
        let Some(tx) = self.txs.remove(&tid) else {
            return;
        };
        if let Some(b) = self.resend.remove(&tid) {
            self.recycle(b);
        }
        self.stats.timeouts += 1;
        let fam = family_of(&tx.to);
        if let Some(id) = tx.id {
            if let Some(t) = self.table_mut(fam) {
                t.failed(&id, tx.to);
            }
        } else if let Some(id) = self.table(fam).and_then(|t| t.get(&tx.to)).map(|e| e.id) {
            if let Some(t) = self.table_mut(fam) {
                t.failed(&id, tx.to);
            }
        }
        match tx.kind {
            TxKind::Lookup(l) => {
                self.crawl_query_over(l, &tx.to, true);
                if let Some(lk) = self.lookups.get_mut(&l) {
                    if let Some(c) = lk.trav[fam as usize].as_mut().and_then(|t| t.find(&tx.to)) {
                        c.state = CandState::Failed;
                    }
                }
                self.step(now, l);
            }
            TxKind::Announce(l) => self.announce_answered(now, l, false),
            TxKind::Ping => {}
        }
    }

    // ---- lookups ---------------------------------------------------------------------------

    fn start_lookup(
        &mut self,
        now: Instant,
        kind: LookupKind,
        target: NodeId,
        internal: bool,
    ) -> Result<LookupId, CommandError> {
        self.start_lookup_data(now, kind, target, internal, None)
    }

    fn start_lookup_data(
        &mut self,
        now: Instant,
        kind: LookupKind,
        target: NodeId,
        internal: bool,
        data: Option<LookupData>,
    ) -> Result<LookupId, CommandError> {
        self.start(now);
        if self.tables.iter().all(Option::is_none) {
            return Err(CommandError::NoFamily);
        }
        let user = self.lookups.values().filter(|l| !l.internal).count();
        if !internal && user >= self.config.max_lookups {
            return Err(CommandError::TooManyLookups);
        }
        self.next_lookup += 1;
        let id = LookupId(self.next_lookup);
        let mut lk = Lookup {
            kind,
            target,
            started: now,
            internal,
            bootstrap: false,
            trav: [None, None],
            peers: HashSet::new(),
            replies: 0,
            queries: 0,
            announcing: None,
            data: data.map(Box::new),
        };
        let mut closest = std::mem::take(&mut self.closest_buf);
        for f in [Family::V4, Family::V6] {
            let Some(t) = self.table(f) else { continue };
            let mut tr = Traversal::default();
            t.closest(&target, MAX_CANDIDATES.min(4 * K), now, &mut closest);
            for e in &closest {
                tr.add(&target, Some(e.id), e.addr);
            }
            if tr.cands.len() < K {
                // Few known nodes: start from the bootstrap list and routers too.
                for n in &self.config.known_nodes {
                    if family_of(&n.addr) == f && n.id != self.id {
                        tr.add(&target, Some(n.id), n.addr);
                    }
                }
                for a in self.config.bootstrap.iter().chain(&self.config.routers) {
                    let a = SocketAddr::new(a.ip().to_canonical(), a.port());
                    if family_of(&a) == f {
                        tr.add(&target, None, a);
                    }
                }
            }
            lk.trav[f as usize] = Some(tr);
        }
        self.closest_buf = closest;
        // Peers other nodes announced to us count too (in a small network we may be the
        // closest node ourselves).
        if kind.wants_peers() && !internal {
            let hash = InfoHash::from(target);
            let mut peers = std::mem::take(&mut self.peers_buf);
            peers.clear();
            for v6 in [false, true] {
                self.store.get(
                    now,
                    &hash,
                    v6,
                    false,
                    MAX_PEERS_REPLY,
                    &mut self.rng,
                    &mut peers,
                );
            }
            for &addr in &peers {
                if lk.peers.insert(addr) {
                    self.events.push_back(Event::Peer {
                        lookup: id,
                        info_hash: hash,
                        addr,
                    });
                }
            }
            self.peers_buf = peers;
        }
        // What we hold ourselves counts too; a crawl starts from every node we know.
        let mut found_here = false;
        match lk.data.as_deref_mut() {
            Some(LookupData::Get { mutable, best }) => {
                if let Some(item) = self.items.get(now, &target) {
                    match (item, &*mutable) {
                        (Item::Immutable(_), None) => {
                            *best = Some(item.clone());
                            found_here = true;
                        }
                        (Item::Mutable(m), Some((key, salt))) if m.key == *key => {
                            let mut m = m.clone();
                            m.salt = salt.clone();
                            if m.verify().is_ok() {
                                *best = Some(Item::Mutable(m));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(LookupData::Scrape { seeds, peers, .. }) => {
                if let Some((s, p)) = self.store.bloom(now, &InfoHash::from(target)) {
                    seeds.merge(&s);
                    peers.merge(&p);
                }
            }
            Some(LookupData::Crawl(c)) => {
                for tr in lk.trav.iter_mut() {
                    if let Some(tr) = tr.take() {
                        for cand in tr.cands {
                            if c.seen.insert(cand.addr) {
                                c.queue.push_back((cand.addr, cand.id));
                            }
                        }
                    }
                }
                for t in self.tables.iter().flatten() {
                    for e in t.iter() {
                        if c.queue.len() < MAX_CRAWL_QUEUE && c.seen.insert(e.addr) {
                            c.queue.push_back((e.addr, Some(e.id)));
                        }
                    }
                }
            }
            _ => {}
        }
        if found_here {
            if let Some(LookupData::Get {
                best: Some(item), ..
            }) = lk.data.as_deref()
            {
                self.events.push_back(Event::Item {
                    lookup: id,
                    item: item.clone(),
                });
            }
            self.lookups.insert(id, lk);
            self.finish(now, id);
            return Ok(id);
        }
        self.lookups.insert(id, lk);
        self.step(now, id);
        Ok(id)
    }

    fn lookup_answer(&mut self, now: Instant, l: LookupId, from: SocketAddr, r: &Response<'_>) {
        let fam = family_of(&from);
        let own = self.id;
        let Some(lk) = self.lookups.get_mut(&l) else {
            return;
        };
        let target = lk.target;
        lk.replies += 1;
        if let Some(LookupData::Crawl(c)) = lk.data.as_deref_mut() {
            c.active.remove(&from);
            c.pending = c.pending.saturating_sub(1);
            for (f, bytes) in [(Family::V4, r.nodes), (Family::V6, r.nodes6)] {
                let Some(bytes) = bytes else { continue };
                if self.tables[f as usize].is_none() {
                    continue;
                }
                for n in decode_nodes(bytes, f) {
                    if c.queue.len() >= MAX_CRAWL_QUEUE {
                        break;
                    }
                    if n.id != own
                        && n.addr.port() != 0
                        && !n.addr.ip().is_unspecified()
                        && c.seen.insert(n.addr)
                    {
                        c.queue.push_back((n.addr, Some(n.id)));
                    }
                }
            }
            if let Some(samples) = r.samples {
                for chunk in samples.chunks_exact(20) {
                    if c.hashes.len() >= MAX_CRAWL_HASHES {
                        // Enough: end the crawl once the queries in flight are answered.
                        c.queue.clear();
                        break;
                    }
                    let mut h = [0u8; 20];
                    h.copy_from_slice(chunk);
                    let info_hash = InfoHash::new(h);
                    if c.hashes.insert(info_hash) {
                        self.events.push_back(Event::Sample {
                            lookup: l,
                            info_hash,
                            from,
                        });
                    }
                }
            }
            return;
        }
        if let Some(tr) = lk.trav[fam as usize].as_mut() {
            tr.learn_id(&target, &from, r.id);
            if let Some(c) = tr.find(&from) {
                c.state = CandState::Replied;
                c.token = r.token.and_then(Token::new);
            }
        }
        for (f, bytes) in [(Family::V4, r.nodes), (Family::V6, r.nodes6)] {
            let (Some(bytes), Some(tr)) = (bytes, lk.trav[f as usize].as_mut()) else {
                continue;
            };
            for n in decode_nodes(bytes, f) {
                if n.id != own && n.addr.port() != 0 && !n.addr.ip().is_unspecified() {
                    tr.add(&target, Some(n.id), n.addr);
                }
            }
        }
        let mut found = None;
        match lk.data.as_deref_mut() {
            Some(LookupData::Get { mutable, best }) => {
                if let Some(value) = r.value {
                    match mutable {
                        None => {
                            if best.is_none()
                                && crate::item::immutable_target(value) == target
                                && check_value(value).is_ok()
                            {
                                let item = Item::Immutable(value.to_vec());
                                *best = Some(item.clone());
                                found = Some(item);
                            }
                        }
                        Some((key, salt)) => {
                            if let (Some(k), Some(seq), Some(sig)) = (r.key, r.seq, r.signature) {
                                let newer = match best {
                                    Some(Item::Mutable(b)) => seq > b.seq,
                                    _ => true,
                                };
                                if k == key
                                    && newer
                                    && check_value(value).is_ok()
                                    && crate::item::verify(key, salt, seq, value, sig).is_ok()
                                {
                                    *best = Some(Item::Mutable(MutableItem {
                                        key: *key,
                                        salt: salt.clone(),
                                        seq,
                                        value: value.to_vec(),
                                        signature: *sig,
                                    }));
                                }
                            }
                        }
                    }
                }
            }
            Some(LookupData::Scrape {
                seeds,
                peers,
                legacy,
            }) => {
                let (sd, pe) = (r.bf_seeds, r.bf_peers);
                if let Some(b) = sd {
                    seeds.merge(&BloomFilter(*b));
                }
                if let Some(b) = pe {
                    peers.merge(&BloomFilter(*b));
                }
                if sd.is_none() && pe.is_none() {
                    if let Some(values) = r.values {
                        for addr in values.iter() {
                            if legacy.len() < MAX_PEERS_REPLY * 4 {
                                legacy.push(addr.ip());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(item) = found {
            self.events.push_back(Event::Item { lookup: l, item });
            self.finish(now, l);
            return;
        }
        if lk.kind.wants_peers() {
            if let Some(values) = r.values {
                let hash = InfoHash::from(target);
                for addr in values.iter() {
                    if addr.port() == 0 || lk.peers.len() >= MAX_LOOKUP_PEERS {
                        continue;
                    }
                    if lk.peers.insert(addr) && !lk.internal {
                        self.events.push_back(Event::Peer {
                            lookup: l,
                            info_hash: hash,
                            addr,
                        });
                    }
                }
            }
        }
    }

    fn step_all(&mut self, now: Instant) {
        let mut ids: Vec<LookupId> = self.lookups.keys().copied().collect();
        ids.sort();
        for id in ids {
            self.step(now, id);
        }
    }

    /// Keep `branching` queries in flight per traversal toward the K closest; finish when the K
    /// closest live candidates have all answered.
    fn step(&mut self, now: Instant, l: LookupId) {
        let Some(lk) = self.lookups.get_mut(&l) else {
            return;
        };
        if lk.announcing.is_some() {
            return;
        }
        if matches!(lk.data.as_deref(), Some(LookupData::Crawl(_))) {
            self.step_crawl(now, l);
            return;
        }
        let target = lk.target;
        let kind = lk.kind;
        let branching = self.config.branching.max(1);
        let mut to_send: Vec<(Family, SocketAddr, Option<NodeId>)> = Vec::new();
        for f in [Family::V4, Family::V6] {
            let Some(tr) = lk.trav[f as usize].as_mut() else {
                continue;
            };
            if tr.done {
                continue;
            }
            let active = tr
                .cands
                .iter()
                .filter(|c| c.state == CandState::InFlight)
                .count();
            let mut slots = branching.saturating_sub(active);
            let mut considered = 0;
            let mut pending = false;
            for c in tr.cands.iter_mut() {
                if considered >= K {
                    break;
                }
                match c.state {
                    CandState::Failed | CandState::Slow => continue,
                    CandState::Replied => considered += 1,
                    CandState::InFlight => {
                        considered += 1;
                        pending = true;
                    }
                    CandState::New => {
                        considered += 1;
                        pending = true;
                        if slots > 0 {
                            slots -= 1;
                            to_send.push((f, c.addr, c.id));
                        }
                    }
                }
            }
            if !pending {
                tr.done = true;
            }
        }
        // Send; a query we could not send (budget) leaves its candidate New for the next wake.
        let mut starved = false;
        for (f, addr, id) in to_send {
            let sent = if starved {
                false
            } else {
                match kind {
                    LookupKind::FindNode => {
                        self.send_query(now, addr, id, TxKind::Lookup(l), |want| Method::FindNode {
                            target,
                            want,
                        })
                    }
                    LookupKind::GetItem | LookupKind::PutItem => {
                        self.send_query(now, addr, id, TxKind::Lookup(l), |want| Method::Get {
                            target,
                            seq: None,
                            want,
                        })
                    }
                    _ => {
                        let scrape = kind == LookupKind::Scrape;
                        self.send_query(now, addr, id, TxKind::Lookup(l), |want| Method::GetPeers {
                            info_hash: InfoHash::from(target),
                            want,
                            noseed: false,
                            scrape,
                        })
                    }
                }
            };
            let Some(lk) = self.lookups.get_mut(&l) else {
                return;
            };
            if sent {
                lk.queries += 1;
                if let Some(c) = lk.trav[f as usize].as_mut().and_then(|t| t.find(&addr)) {
                    c.state = CandState::InFlight;
                }
            } else {
                starved = true;
                if let Some(tr) = lk.trav[f as usize].as_mut() {
                    tr.done = false;
                }
            }
        }
        if starved {
            self.starved(now);
            return;
        }
        let Some(lk) = self.lookups.get(&l) else {
            return;
        };
        if lk.trav.iter().flatten().all(|t| t.done) {
            self.traversal_done(now, l);
        }
    }

    /// A crawl: keep [`CRAWL_BRANCHING`] queries in flight from the queue; finish when the
    /// queue is empty (or `max_nodes` were queried) and nothing is in flight.
    fn step_crawl(&mut self, now: Instant, l: LookupId) {
        loop {
            let Some(lk) = self.lookups.get_mut(&l) else {
                return;
            };
            let Some(LookupData::Crawl(c)) = lk.data.as_deref_mut() else {
                return;
            };
            if c.active.len() >= CRAWL_BRANCHING || c.queried >= c.max_nodes {
                break;
            }
            let Some((addr, id)) = c.queue.pop_front() else {
                break;
            };
            let target = NodeId::random(&mut self.rng);
            let sent = self.send_query(now, addr, id, TxKind::Lookup(l), |want| {
                Method::SampleInfohashes { target, want }
            });
            let Some(lk) = self.lookups.get_mut(&l) else {
                return;
            };
            let Some(LookupData::Crawl(c)) = lk.data.as_deref_mut() else {
                return;
            };
            if sent {
                c.queried += 1;
                c.pending += 1;
                c.active.insert(addr);
                lk.queries += 1;
            } else {
                c.queue.push_front((addr, id));
                self.starved(now);
                return;
            }
        }
        let Some(lk) = self.lookups.get(&l) else {
            return;
        };
        if let Some(LookupData::Crawl(c)) = lk.data.as_deref() {
            if c.pending == 0 && (c.queue.is_empty() || c.queried >= c.max_nodes) {
                self.finish(now, l);
            }
        }
    }

    /// A crawl query ended without an answer (error or long timeout), or became slow.
    fn crawl_query_over(&mut self, l: LookupId, to: &SocketAddr, ended: bool) -> bool {
        let Some(lk) = self.lookups.get_mut(&l) else {
            return false;
        };
        let Some(LookupData::Crawl(c)) = lk.data.as_deref_mut() else {
            return false;
        };
        c.active.remove(to);
        if ended {
            c.pending = c.pending.saturating_sub(1);
        }
        true
    }

    /// Send lookup `l`'s item in a `put` to one node; counts the query.
    fn send_put(
        &mut self,
        now: Instant,
        l: LookupId,
        addr: SocketAddr,
        id: Option<NodeId>,
        token: Token,
    ) -> bool {
        let Some(Some(LookupData::Put { item, cas, .. })) =
            self.lookups.get(&l).map(|lk| lk.data.as_deref())
        else {
            return false;
        };
        let (item, cas) = (item.clone(), *cas);
        let ok = self.send_query(now, addr, id, TxKind::Announce(l), |_| match &item {
            Item::Mutable(m) => Method::Put {
                token: token.as_slice(),
                value: &m.value,
                key: Some(&m.key),
                signature: Some(&m.signature),
                seq: Some(m.seq),
                salt: (!m.salt.is_empty()).then_some(&m.salt[..]),
                cas,
            },
            _ => Method::Put {
                token: token.as_slice(),
                value: item.value(),
                key: None,
                signature: None,
                seq: None,
                salt: None,
                cas: None,
            },
        });
        if ok {
            if let Some(lk) = self.lookups.get_mut(&l) {
                lk.queries += 1;
            }
        }
        ok
    }

    fn traversal_done(&mut self, now: Instant, l: LookupId) {
        let Some(lk) = self.lookups.get_mut(&l) else {
            return;
        };
        if lk.kind == LookupKind::PutItem {
            // The K closest that answered with a token get the put; the next K are kept to
            // replace any of them that refuses or does not answer.
            let mut first = Vec::new();
            let mut spare = VecDeque::new();
            for tr in lk.trav.iter().flatten() {
                let with_token = tr
                    .cands
                    .iter()
                    .filter(|c| c.state == CandState::Replied)
                    .filter_map(|c| c.token.map(|t| (c.addr, c.id, t)));
                for (i, t) in with_token.take(2 * K).enumerate() {
                    if i < K {
                        first.push(t);
                    } else {
                        spare.push_back(t);
                    }
                }
            }
            if let Some(LookupData::Put { spare: s, .. }) = lk.data.as_deref_mut() {
                *s = spare;
            }
            lk.announcing = Some((0, 0));
            let mut sent = 0;
            for (addr, id, token) in first {
                if self.send_put(now, l, addr, id, token) {
                    sent += 1;
                }
            }
            if let Some(lk) = self.lookups.get_mut(&l) {
                lk.announcing = Some((sent, 0));
            }
            if sent == 0 {
                self.finish(now, l);
            }
            return;
        }
        if let LookupKind::Announce { port, seed } = lk.kind {
            let hash = InfoHash::from(lk.target);
            let mut targets = Vec::new();
            for tr in lk.trav.iter().flatten() {
                targets.extend(
                    tr.cands
                        .iter()
                        .filter(|c| c.state == CandState::Replied && c.token.is_some())
                        .take(K)
                        .map(|c| (c.addr, c.id, c.token.expect("filtered"))),
                );
            }
            lk.announcing = Some((0, 0));
            let mut sent = 0;
            for (addr, id, token) in targets {
                let ok = self.send_query(now, addr, id, TxKind::Announce(l), |_| {
                    Method::AnnouncePeer {
                        info_hash: hash,
                        port: port.unwrap_or(0),
                        implied_port: port.is_none(),
                        token: token.as_slice(),
                        seed,
                    }
                });
                if ok {
                    sent += 1;
                }
            }
            if let Some(lk) = self.lookups.get_mut(&l) {
                lk.queries += sent;
                lk.announcing = Some((sent, 0));
            }
            if sent == 0 {
                self.finish(now, l);
            }
            return;
        }
        self.finish(now, l);
    }

    fn announce_answered(&mut self, now: Instant, l: LookupId, accepted: bool) {
        let Some(lk) = self.lookups.get_mut(&l) else {
            return;
        };
        let Some((pending, acc)) = lk.announcing.as_mut() else {
            return;
        };
        *pending = pending.saturating_sub(1);
        if accepted {
            *acc += 1;
        } else if let Some(LookupData::Put { spare, .. }) = lk.data.as_deref_mut() {
            // A put that failed: try the next closest node that gave us a token.
            if let Some((addr, id, token)) = spare.pop_front() {
                if self.send_put(now, l, addr, id, token) {
                    if let Some((pending, _)) = self
                        .lookups
                        .get_mut(&l)
                        .and_then(|lk| lk.announcing.as_mut())
                    {
                        *pending += 1;
                    }
                    return;
                }
            }
        }
        let Some((pending, _)) = self.lookups.get(&l).and_then(|lk| lk.announcing) else {
            return;
        };
        if pending == 0 {
            self.finish(now, l);
        }
    }

    fn finish(&mut self, now: Instant, l: LookupId) {
        let Some(lk) = self.lookups.remove(&l) else {
            return;
        };
        let mut peers = lk.peers.len();
        if !lk.internal {
            match lk.data.as_deref() {
                Some(LookupData::Get {
                    mutable: Some(_),
                    best: Some(item),
                }) => self.events.push_back(Event::Item {
                    lookup: l,
                    item: item.clone(),
                }),
                Some(LookupData::Scrape {
                    seeds,
                    peers: pe,
                    legacy,
                }) => {
                    let mut pe = *pe;
                    for ip in legacy {
                        if !seeds.contains(*ip) {
                            pe.insert(*ip);
                        }
                    }
                    self.events.push_back(Event::Scrape {
                        lookup: l,
                        info_hash: InfoHash::from(lk.target),
                        seeds: seeds.estimate().round() as usize,
                        peers: pe.estimate().round() as usize,
                    });
                }
                Some(LookupData::Crawl(c)) => peers = c.hashes.len(),
                _ => {}
            }
        }
        let summary = LookupSummary {
            target: lk.target,
            peers,
            replies: lk.replies,
            queries: lk.queries,
            announced: lk.announcing.map(|(_, a)| a),
            elapsed: now.saturating_duration_since(lk.started),
        };
        if lk.bootstrap {
            self.bootstrap_lookup = None;
            if !self.bootstrapped {
                self.bootstrapped = true;
                let nodes = self.tables.iter().flatten().map(|t| t.len()).sum();
                self.events.push_back(Event::Bootstrapped { nodes });
            }
        }
        if self.refresh_lookup == Some(l) {
            self.refresh_lookup = None;
        }
        if !lk.internal {
            self.events
                .push_back(Event::LookupDone { lookup: l, summary });
        }
    }

    // ---- maintenance -------------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        let next = now + self.config.tick;
        self.tick_at = Some(next);
        self.schedule(next, Timer::Tick);
        if let Some(m) = self.tokens.as_mut() {
            m.rotate(now);
        }
        self.store.expire(now);
        self.items.expire(now);
        self.limiter.expire(now);

        // Bootstrap when the table is short of good nodes (with back-off).
        let good: usize = self.tables.iter().flatten().map(|t| t.good_len(now)).sum();
        let due = self
            .last_bootstrap
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.rebootstrap_interval);
        if good < K && self.bootstrap_lookup.is_none() && due {
            self.last_bootstrap = Some(now);
            for n in self.config.known_nodes.clone() {
                if self
                    .table(family_of(&n.addr))
                    .is_some_and(|t| t.get(&n.addr).is_none())
                {
                    let target = self.id;
                    self.send_query(now, n.addr, Some(n.id), TxKind::Ping, |want| {
                        Method::FindNode { target, want }
                    });
                }
            }
            let target = self.id;
            if let Ok(id) = self.start_lookup(now, LookupKind::FindNode, target, true) {
                if let Some(lk) = self.lookups.get_mut(&id) {
                    lk.bootstrap = true;
                    self.bootstrap_lookup = Some(id);
                } else if !self.bootstrapped {
                    // Finished at once (nothing to ask).
                    self.bootstrapped = true;
                    self.events.push_back(Event::Bootstrapped { nodes: 0 });
                }
            }
            return;
        }

        // NICE-style liveness: one find_node to the stalest node of each table.
        for f in [Family::V4, Family::V6] {
            let Some(e) = self.table(f).and_then(|t| t.stalest(now)) else {
                continue;
            };
            let last = e.last_reply.max(e.last_pinged);
            if last.is_some_and(|t| now.saturating_duration_since(t) < self.config.tick * 12) {
                continue;
            }
            let target = NodeId::random(&mut self.rng);
            self.send_query(now, e.addr, Some(e.id), TxKind::Ping, |want| {
                Method::FindNode { target, want }
            });
        }

        // Refresh one stale bucket at a time.
        if self.refresh_lookup.is_none() {
            let interval = self.config.refresh_interval;
            let bucket = self
                .tables
                .iter_mut()
                .flatten()
                .find_map(|t| t.bucket_to_refresh(now, interval));
            if let Some(b) = bucket {
                if let Some(target) = self.id.random_in_bucket(b, &mut self.rng) {
                    if let Ok(id) = self.start_lookup(now, LookupKind::FindNode, target, true) {
                        if self.lookups.contains_key(&id) {
                            self.refresh_lookup = Some(id);
                        }
                    }
                }
            }
        }
    }
}

fn decode_nodes(bytes: &[u8], fam: Family) -> Vec<CompactNode> {
    match fam {
        Family::V4 => bip_util::nodes_v4(bytes)
            .map(|it| {
                it.map(|(id, a)| CompactNode::new(id, SocketAddr::V4(a)))
                    .collect()
            })
            .unwrap_or_default(),
        Family::V6 => bip_util::nodes_v6(bytes)
            .map(|it| {
                it.map(|(id, a)| CompactNode::new(id, SocketAddr::V6(a)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
