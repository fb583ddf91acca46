//! The tracker side: a pure request → response core ([`ServerCore`]), the [`Store`] trait
//! that decides announces and scrapes, and the built-in [`MemoryStore`].

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bip_util::WindowedMac;
use bip_util::{InfoHash, PeerId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::codec::{
    encode_announce_header, Action, AddressFamily, AnnounceRequest, ConnectRequest,
    ConnectResponse, ErrorResponse, Event, ScrapeRequest, ScrapeStats, CONNECT_LEN,
    MAX_SCRAPE_HASHES, PROTOCOL_ID,
};

/// Stateless connection ids: a keyed MAC of the client address (IP and port) under a secret
/// that rotates every window ([`bip_util::WindowedMac`], the same mechanism as DHT tokens), so
/// no per-client state is kept. An id is accepted in its own window and the two that follow, so
/// it stays valid for at least two windows (BEP 15: the tracker accepts an id for two minutes;
/// default window one minute) and at most three. A forged id passes one check with probability
/// 2⁻⁶⁴ (three keys are tried, so about 2⁻⁶² per packet). Clones share the secret, so several
/// cores (one per socket) accept each other's ids.
#[derive(Clone, Debug)]
pub struct ConnectionIds {
    mac: WindowedMac,
}

/// Windows before the current one in which an id is still accepted.
const ACCEPTED_PAST_WINDOWS: u64 = 2;

fn addr_bytes(addr: &SocketAddr, buf: &mut [u8; 18]) -> usize {
    let mut ip = [0u8; 16];
    let n = bip_util::core::ip_key_bytes(addr.ip(), &mut ip).len();
    buf[..n].copy_from_slice(&ip[..n]);
    buf[n..n + 2].copy_from_slice(&addr.port().to_be_bytes());
    n + 2
}

impl ConnectionIds {
    /// A new secret from `seed`; `epoch` is the time origin of the windows.
    pub fn new(seed: u64, epoch: Instant, window: Duration) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        let mut rng = bip_util::core_rng(s);
        ConnectionIds {
            mac: WindowedMac::new(&mut rng, epoch, window, ACCEPTED_PAST_WINDOWS),
        }
    }

    /// The connection id for `addr` at `now`.
    pub fn issue(&mut self, now: Instant, addr: &SocketAddr) -> u64 {
        let mut b = [0u8; 18];
        let n = addr_bytes(addr, &mut b);
        self.mac.issue(now, &b[..n])
    }

    /// Whether `id` was issued to `addr` in this window or one of the two before.
    pub fn check(&mut self, now: Instant, addr: &SocketAddr, id: u64) -> bool {
        let mut b = [0u8; 18];
        let n = addr_bytes(addr, &mut b);
        self.mac.check(now, &b[..n], id)
    }

    /// Pre-computes the current window's key (call from `handle_timeout`).
    pub fn rotate(&mut self, now: Instant) {
        self.mac.rotate(now);
    }

    /// When the next window starts.
    pub fn next_rotation(&self, now: Instant) -> Instant {
        self.mac.next_rotation(now)
    }
}

/// One peer's announce, as the core hands it to a [`Store`].
#[derive(Debug, Clone)]
pub struct Announce<'a> {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The announcing peer's id.
    pub peer_id: PeerId,
    /// Where other peers reach it: the packet's source IP (or the IP field when the server
    /// honours it) and the announced port.
    pub addr: SocketAddr,
    /// The event.
    pub event: Event,
    /// Bytes left (0 = seeder).
    pub left: u64,
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// The client's key.
    pub key: u32,
    /// Peers to return, already capped by the server.
    pub num_want: usize,
    /// BEP 41 URL data, if any.
    pub url_data: Option<&'a [u8]>,
}

/// Swarm counts returned with an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwarmCounts {
    /// Seeders.
    pub seeders: u32,
    /// Leechers.
    pub leechers: u32,
}

/// A store's refusal; the text goes into an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub std::borrow::Cow<'static, str>);

/// Decides announces and scrapes: implement it for access control or your own persistence.
/// Methods take `&self` so one store can serve several sockets and threads.
pub trait Store: Send + Sync {
    /// Records `announce` and appends up to `announce.num_want` compact peers of
    /// `family` (6 or 18 bytes each) to `peers`, never the announcing peer itself.
    fn announce(
        &self,
        now: Instant,
        announce: &Announce<'_>,
        family: AddressFamily,
        peers: &mut Vec<u8>,
    ) -> Result<SwarmCounts, Refusal>;

    /// Counts for `info_hash` (zeros when unknown).
    fn scrape(&self, now: Instant, info_hash: &InfoHash) -> ScrapeStats;

    /// Periodic maintenance (expiry); called from the core's `handle_timeout`.
    fn housekeeping(&self, _now: Instant) {}
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn announce(
        &self,
        now: Instant,
        a: &Announce<'_>,
        f: AddressFamily,
        p: &mut Vec<u8>,
    ) -> Result<SwarmCounts, Refusal> {
        (**self).announce(now, a, f, p)
    }
    fn scrape(&self, now: Instant, h: &InfoHash) -> ScrapeStats {
        (**self).scrape(now, h)
    }
    fn housekeeping(&self, now: Instant) {
        (**self).housekeeping(now)
    }
}

/// Which info hashes the server serves.
#[derive(Debug, Clone, Default)]
pub enum AccessList {
    /// Every hash.
    #[default]
    Open,
    /// Only these.
    Allow(HashSet<InfoHash>),
    /// All but these.
    Deny(HashSet<InfoHash>),
}

impl AccessList {
    /// Whether `h` is served.
    pub fn allows(&self, h: &InfoHash) -> bool {
        match self {
            AccessList::Open => true,
            AccessList::Allow(s) => s.contains(h),
            AccessList::Deny(s) => !s.contains(h),
        }
    }
}

/// Server core settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Announce interval told to clients (default 1800 s).
    pub announce_interval: u32,
    /// Most peers per announce response (default 50); `num_want` is capped to it and -1
    /// or 0 mean this number.
    pub max_num_want: usize,
    /// Most hashes answered per scrape (default 74); further hashes are ignored.
    pub max_scrape: usize,
    /// Requests longer than this are dropped (default 2048 bytes).
    pub max_request_len: usize,
    /// Use the announce's IP field (IPv4 only) instead of the packet source (default false).
    pub honour_ip_field: bool,
    /// Which hashes are served (default all).
    pub access: AccessList,
    /// Connection id window; ids are accepted for two to three windows (default 60 s).
    pub connection_id_window: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            announce_interval: 1800,
            max_num_want: 50,
            max_scrape: MAX_SCRAPE_HASHES,
            max_request_len: 2048,
            honour_ip_field: false,
            access: AccessList::Open,
            connection_id_window: Duration::from_secs(60),
        }
    }
}

/// Request and response counters, shared between cores (relaxed atomics).
#[derive(Debug, Default)]
pub struct Counters {
    /// Connect requests accepted.
    pub connects: AtomicU64,
    /// Announce requests accepted.
    pub announces: AtomicU64,
    /// Scrape requests accepted.
    pub scrapes: AtomicU64,
    /// Responses sent (including error responses).
    pub responses: AtomicU64,
    /// Error responses sent.
    pub errors: AtomicU64,
    /// Packets dropped without an answer (garbage, short, oversized, forged ids).
    pub dropped: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    /// Connect requests accepted.
    pub connects: u64,
    /// Announce requests accepted.
    pub announces: u64,
    /// Scrape requests accepted.
    pub scrapes: u64,
    /// Responses sent.
    pub responses: u64,
    /// Error responses sent.
    pub errors: u64,
    /// Packets dropped.
    pub dropped: u64,
}

impl Counters {
    /// Reads all counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CounterSnapshot {
            connects: l(&self.connects),
            announces: l(&self.announces),
            scrapes: l(&self.scrapes),
            responses: l(&self.responses),
            errors: l(&self.errors),
            dropped: l(&self.dropped),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// The sans-IO tracker: datagram in, optional datagram out. No sockets, no clock.
///
/// Packets shorter than 16 bytes, longer than the limit, with an unknown protocol id or a
/// forged connection id are dropped (counted in [`Counters::dropped`]); well-authenticated
/// but malformed requests get an error response.
#[derive(Debug)]
pub struct ServerCore<S> {
    config: ServerConfig,
    store: S,
    ids: ConnectionIds,
    counters: Arc<Counters>,
    out: Vec<u8>,
    next_housekeeping: Option<Instant>,
}

impl<S: Store> ServerCore<S> {
    /// A core serving `store`, with connection ids from `ids` (clone one `ConnectionIds` for
    /// every core of a server).
    pub fn new(config: ServerConfig, store: S, ids: ConnectionIds) -> Self {
        ServerCore {
            config,
            store,
            ids,
            counters: Arc::new(Counters::default()),
            out: Vec::with_capacity(1500),
            next_housekeeping: None,
        }
    }

    /// Shares `counters` with other cores.
    pub fn with_counters(mut self, counters: Arc<Counters>) -> Self {
        self.counters = counters;
        self
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles one datagram from `from`; returns the response to send back, if any.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, b: &[u8]) -> Option<&[u8]> {
        self.out.clear();
        if b.len() < CONNECT_LEN || b.len() > self.config.max_request_len {
            bump(&self.counters.dropped);
            return None;
        }
        let head = u64::from_be_bytes(b[0..8].try_into().expect("8 bytes"));
        let action = Action(u32::from_be_bytes(b[8..12].try_into().expect("4 bytes")));
        let tid = u32::from_be_bytes(b[12..16].try_into().expect("4 bytes"));
        if action == Action::CONNECT {
            if head != PROTOCOL_ID {
                bump(&self.counters.dropped);
                return None;
            }
            let req = ConnectRequest::decode(b).ok()?;
            bump(&self.counters.connects);
            let connection_id = self.ids.issue(now, &from);
            ConnectResponse {
                transaction_id: req.transaction_id,
                connection_id,
            }
            .encode(&mut self.out);
            bump(&self.counters.responses);
            return Some(&self.out);
        }
        if !self.ids.check(now, &from, head) {
            bump(&self.counters.dropped);
            return None;
        }
        match action {
            Action::ANNOUNCE => match AnnounceRequest::decode(b) {
                Ok(req) => {
                    bump(&self.counters.announces);
                    self.announce(now, from, &req);
                }
                Err(_) => self.error(tid, "malformed announce"),
            },
            Action::SCRAPE => match ScrapeRequest::decode(b) {
                Ok(req) => {
                    bump(&self.counters.scrapes);
                    self.scrape(now, &req);
                }
                Err(_) => self.error(tid, "malformed scrape"),
            },
            _ => self.error(tid, "unknown action"),
        }
        bump(&self.counters.responses);
        Some(&self.out)
    }

    fn error(&mut self, tid: u32, msg: &str) {
        self.out.clear();
        bump(&self.counters.errors);
        ErrorResponse {
            transaction_id: tid,
            message: msg.as_bytes(),
        }
        .encode(&mut self.out);
    }

    fn announce(&mut self, now: Instant, from: SocketAddr, req: &AnnounceRequest<'_>) {
        if !self.config.access.allows(&req.info_hash) {
            return self.error(req.transaction_id, "info hash not allowed");
        }
        let family = AddressFamily::of(&from);
        let mut ip = from.ip().to_canonical();
        if self.config.honour_ip_field
            && req.ip != Ipv4Addr::UNSPECIFIED
            && family == AddressFamily::V4
        {
            ip = IpAddr::V4(req.ip);
        }
        let max = self.config.max_num_want;
        let num_want = if req.num_want <= 0 {
            max
        } else {
            (req.num_want as usize).min(max)
        };
        let announce = Announce {
            info_hash: req.info_hash,
            peer_id: req.peer_id,
            addr: SocketAddr::new(ip, req.port),
            event: req.event,
            left: req.left,
            uploaded: req.uploaded,
            downloaded: req.downloaded,
            key: req.key,
            num_want: if req.event == Event::STOPPED {
                0
            } else {
                num_want
            },
            url_data: req.url_data.as_deref(),
        };
        encode_announce_header(
            req.transaction_id,
            self.config.announce_interval,
            0,
            0,
            &mut self.out,
        );
        match self.store.announce(now, &announce, family, &mut self.out) {
            Ok(c) => {
                self.out[12..16].copy_from_slice(&c.leechers.to_be_bytes());
                self.out[16..20].copy_from_slice(&c.seeders.to_be_bytes());
            }
            Err(Refusal(msg)) => self.error(req.transaction_id, &msg),
        }
    }

    fn scrape(&mut self, now: Instant, req: &ScrapeRequest<'_>) {
        self.out.extend_from_slice(&Action::SCRAPE.0.to_be_bytes());
        self.out
            .extend_from_slice(&req.transaction_id.to_be_bytes());
        for h in req.hashes().take(self.config.max_scrape) {
            let s = if self.config.access.allows(&h) {
                self.store.scrape(now, &h)
            } else {
                ScrapeStats::default()
            };
            s.encode(&mut self.out);
        }
    }

    /// Rotates the connection-id key and runs store housekeeping when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ids.rotate(now);
        if self.next_housekeeping.is_none_or(|t| now >= t) {
            self.store.housekeeping(now);
            self.next_housekeeping = Some(now + Duration::from_secs(30));
        }
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self, now: Instant) -> Instant {
        let r = self.ids.next_rotation(now);
        match self.next_housekeeping {
            Some(h) => r.min(h),
            None => now,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The in-memory store
// ---------------------------------------------------------------------------------------

/// [`MemoryStore`] settings.
#[derive(Debug, Clone)]
pub struct MemoryStoreConfig {
    /// Peers expire this long after their last announce (default 2 × 1800 s).
    pub peer_ttl: Duration,
    /// Most torrents (default 1,000,000). When full, a new torrent first triggers an expiry
    /// sweep of its shard, then evicts an arbitrary torrent of that shard.
    pub max_torrents: usize,
    /// Most peers per torrent and address family (default 10,000). When full, a new peer
    /// replaces a randomly chosen one.
    pub max_peers_per_torrent: usize,
    /// Lock shards (default 64).
    pub shards: usize,
}

impl Default for MemoryStoreConfig {
    fn default() -> Self {
        MemoryStoreConfig {
            peer_ttl: Duration::from_secs(2 * 1800),
            max_torrents: 1_000_000,
            max_peers_per_torrent: 10_000,
            shards: 64,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PeerEntry<A> {
    id: PeerId,
    addr: A,
    port: u16,
    seeder: bool,
    seen: u32,
}

/// The store's maps: ahash keyed from the store's seed (fast, and a client cannot aim
/// collisions at keys it does not know).
type KeyedMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// Peer lists longer than this keep a hash index; shorter ones (most swarms) are searched
/// linearly in the list the answer is read from anyway: no second table to miss in cache.
const INDEX_ABOVE: usize = 32;

#[derive(Debug)]
struct PeerList<A> {
    list: Vec<PeerEntry<A>>,
    index: Option<Box<KeyedMap<(PeerId, A), u32>>>,
}

impl<A> Default for PeerList<A> {
    fn default() -> Self {
        PeerList {
            list: Vec::new(),
            index: None,
        }
    }
}

trait PeerAddr: Copy + Eq + std::hash::Hash {
    fn put(&self, port: u16, out: &mut Vec<u8>);
}
impl PeerAddr for Ipv4Addr {
    fn put(&self, port: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.octets());
        out.extend_from_slice(&port.to_be_bytes());
    }
}
impl PeerAddr for Ipv6Addr {
    fn put(&self, port: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.octets());
        out.extend_from_slice(&port.to_be_bytes());
    }
}

impl<A: PeerAddr> PeerList<A> {
    fn remove_at(&mut self, i: usize) -> PeerEntry<A> {
        let e = self.list.swap_remove(i);
        if let Some(index) = &mut self.index {
            if self.list.len() <= INDEX_ABOVE / 2 {
                // Hysteresis: drop the index well below the threshold.
                self.index = None;
            } else {
                index.remove(&(e.id, e.addr));
                if let Some(moved) = self.list.get(i) {
                    index.insert((moved.id, moved.addr), i as u32);
                }
            }
        }
        e
    }

    fn find(&self, key: &(PeerId, A)) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).map(|&i| i as usize),
            None => self
                .list
                .iter()
                .position(|e| e.id == key.0 && e.addr == key.1),
        }
    }

    fn push(&mut self, e: PeerEntry<A>, hasher: &ahash::RandomState) -> usize {
        let i = self.list.len();
        let key = (e.id, e.addr);
        self.list.push(e);
        match &mut self.index {
            Some(index) => {
                index.insert(key, i as u32);
            }
            None if self.list.len() > INDEX_ABOVE => {
                let mut index =
                    KeyedMap::with_capacity_and_hasher(self.list.len() * 2, hasher.clone());
                for (j, p) in self.list.iter().enumerate() {
                    index.insert((p.id, p.addr), j as u32);
                }
                self.index = Some(Box::new(index));
            }
            None => {}
        }
        i
    }

    /// Removes the peer with `key`, if present.
    fn remove(&mut self, key: &(PeerId, A)) -> Option<PeerEntry<A>> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    fn select(&self, me: usize, want: usize, rng: &mut StdRng, out: &mut Vec<u8>) {
        let n = self.list.len();
        if n == 0 || want == 0 {
            return;
        }
        let start = rng.gen_range(0..n);
        let mut taken = 0;
        for k in 0..n {
            let i = (start + k) % n;
            if i == me {
                continue;
            }
            let e = &self.list[i];
            e.addr.put(e.port, out);
            taken += 1;
            if taken == want {
                break;
            }
        }
    }
}

#[derive(Debug, Default)]
struct Torrent {
    v4: PeerList<Ipv4Addr>,
    v6: PeerList<Ipv6Addr>,
    seeders: u32,
    leechers: u32,
    completed: u32,
}

#[derive(Debug)]
struct Shard {
    torrents: KeyedMap<InfoHash, Torrent>,
    hasher: ahash::RandomState,
    rng: StdRng,
}

/// The built-in store: peers in memory, sharded by info hash behind mutexes.
#[derive(Debug)]
pub struct MemoryStore {
    config: MemoryStoreConfig,
    epoch: Instant,
    shards: Box<[Mutex<Shard>]>,
}

impl MemoryStore {
    /// An empty store; `now` is its time origin, `seed` seeds the peer selection.
    pub fn new(config: MemoryStoreConfig, now: Instant, seed: u64) -> Self {
        let n = config.shards.max(1);
        let shards = (0..n)
            .map(|i| {
                let mut rng =
                    StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let hasher =
                    ahash::RandomState::with_seeds(rng.gen(), rng.gen(), rng.gen(), rng.gen());
                Mutex::new(Shard {
                    torrents: HashMap::with_hasher(hasher.clone()),
                    hasher,
                    rng,
                })
            })
            .collect();
        MemoryStore {
            config,
            epoch: now,
            shards,
        }
    }

    fn shard(&self, h: &InfoHash) -> &Mutex<Shard> {
        // Fibonacci hashing of both ends of the hash: uniform for SHA-1 hashes and for
        // sequential test hashes alike.
        let b = h.as_bytes();
        let lo = u64::from_le_bytes(b[0..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(b[12..20].try_into().expect("8 bytes"));
        let x = (lo ^ hi.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        &self.shards[((x >> 32) as usize) % self.shards.len()]
    }

    fn secs(&self, now: Instant) -> u32 {
        now.saturating_duration_since(self.epoch).as_secs() as u32
    }

    /// Number of torrents and peers stored.
    pub fn len(&self) -> (usize, usize) {
        let mut t = 0;
        let mut p = 0;
        for s in self.shards.iter() {
            let s = s.lock().unwrap_or_else(|e| e.into_inner());
            t += s.torrents.len();
            p += s
                .torrents
                .values()
                .map(|t| t.v4.list.len() + t.v6.list.len())
                .sum::<usize>();
        }
        (t, p)
    }

    /// Removes peers not seen for the TTL and torrents left empty.
    pub fn expire(&self, now: Instant) {
        let cutoff = self
            .secs(now)
            .saturating_sub(self.config.peer_ttl.as_secs() as u32);
        for s in self.shards.iter() {
            let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
            expire_shard(&mut s, cutoff);
        }
    }
}

fn expire_list<A: PeerAddr>(
    l: &mut PeerList<A>,
    cutoff: u32,
    seeders: &mut u32,
    leechers: &mut u32,
) {
    let mut i = 0;
    while i < l.list.len() {
        if l.list[i].seen < cutoff {
            let e = l.remove_at(i);
            if e.seeder {
                *seeders -= 1;
            } else {
                *leechers -= 1;
            }
        } else {
            i += 1;
        }
    }
}

fn expire_shard(s: &mut Shard, cutoff: u32) {
    s.torrents.retain(|_, t| {
        expire_list(&mut t.v4, cutoff, &mut t.seeders, &mut t.leechers);
        expire_list(&mut t.v6, cutoff, &mut t.seeders, &mut t.leechers);
        !(t.v4.list.is_empty() && t.v6.list.is_empty())
    });
}

#[allow(clippy::too_many_arguments)]
fn announce_in<A: PeerAddr>(
    l: &mut PeerList<A>,
    seeders: &mut u32,
    leechers: &mut u32,
    completed: &mut u32,
    a: &Announce<'_>,
    ip: A,
    now: u32,
    max_peers: usize,
    rng: &mut StdRng,
    hasher: &ahash::RandomState,
    want_here: bool,
    out: &mut Vec<u8>,
) {
    let key = (a.peer_id, ip);
    let seeder = a.left == 0;
    if a.event == Event::STOPPED {
        if let Some(e) = l.remove(&key) {
            if e.seeder {
                *seeders -= 1;
            } else {
                *leechers -= 1;
            }
        }
        return;
    }
    let me = match l.find(&key) {
        Some(i) => {
            let e = &mut l.list[i];
            if e.seeder != seeder {
                if seeder {
                    *seeders += 1;
                    *leechers -= 1;
                } else {
                    *seeders -= 1;
                    *leechers += 1;
                }
            }
            if a.event == Event::COMPLETED && !e.seeder {
                *completed = completed.saturating_add(1);
            }
            e.seeder = seeder;
            e.port = a.addr.port();
            e.seen = now;
            i
        }
        None => {
            if l.list.len() >= max_peers.max(1) {
                let victim = rng.gen_range(0..l.list.len());
                let e = l.remove_at(victim);
                if e.seeder {
                    *seeders -= 1;
                } else {
                    *leechers -= 1;
                }
            }
            if a.event == Event::COMPLETED {
                *completed = completed.saturating_add(1);
            }
            if seeder {
                *seeders += 1;
            } else {
                *leechers += 1;
            }
            l.push(
                PeerEntry {
                    id: a.peer_id,
                    addr: ip,
                    port: a.addr.port(),
                    seeder,
                    seen: now,
                },
                hasher,
            )
        }
    };
    if want_here {
        l.select(me, a.num_want, rng, out);
    }
}

impl Store for MemoryStore {
    fn announce(
        &self,
        now: Instant,
        a: &Announce<'_>,
        family: AddressFamily,
        out: &mut Vec<u8>,
    ) -> Result<SwarmCounts, Refusal> {
        let secs = self.secs(now);
        let mut guard = self
            .shard(&a.info_hash)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let shard = &mut *guard;
        let per_shard = (self.config.max_torrents / self.shards.len()).max(1);
        // The length test first: on the hot path (room left) one hash lookup per announce.
        if shard.torrents.len() >= per_shard
            && a.event != Event::STOPPED
            && !shard.torrents.contains_key(&a.info_hash)
        {
            let cutoff = secs.saturating_sub(self.config.peer_ttl.as_secs() as u32);
            expire_shard(shard, cutoff);
            if shard.torrents.len() >= per_shard {
                let victim = *shard.torrents.keys().next().expect("full shard");
                shard.torrents.remove(&victim);
            }
        }
        let t = match shard.torrents.entry(a.info_hash) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(_) if a.event == Event::STOPPED => return Ok(SwarmCounts::default()),
            Entry::Vacant(v) => v.insert(Torrent::default()),
        };
        let max = self.config.max_peers_per_torrent;
        match a.addr.ip() {
            IpAddr::V4(ip) => announce_in(
                &mut t.v4,
                &mut t.seeders,
                &mut t.leechers,
                &mut t.completed,
                a,
                ip,
                secs,
                max,
                &mut shard.rng,
                &shard.hasher,
                family == AddressFamily::V4,
                out,
            ),
            IpAddr::V6(ip) => announce_in(
                &mut t.v6,
                &mut t.seeders,
                &mut t.leechers,
                &mut t.completed,
                a,
                ip,
                secs,
                max,
                &mut shard.rng,
                &shard.hasher,
                family == AddressFamily::V6,
                out,
            ),
        }
        Ok(SwarmCounts {
            seeders: t.seeders,
            leechers: t.leechers,
        })
    }

    fn scrape(&self, _now: Instant, h: &InfoHash) -> ScrapeStats {
        let s = self.shard(h).lock().unwrap_or_else(|e| e.into_inner());
        s.torrents
            .get(h)
            .map(|t| ScrapeStats {
                seeders: t.seeders,
                completed: t.completed,
                leechers: t.leechers,
            })
            .unwrap_or_default()
    }

    fn housekeeping(&self, now: Instant) {
        self.expire(now);
    }
}
