//! The built-in [`MemoryStore`]: peers in memory, sharded by info hash, with fair shares per
//! address.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bip_util::{CoreRng, InfoHash, PeerId};
use rand::Rng;

use crate::codec::{AddressFamily, Event, ScrapeStats};

use super::store::{Announce, Refusal, Store, SwarmCounts};

/// [`MemoryStore`] settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MemoryStoreConfig {
    /// Peers expire this long after their last announce (default 2 × 1800 s).
    pub peer_ttl: Duration,
    /// Most torrents (default 1,000,000). When full, a new torrent first triggers an expiry
    /// sweep of its shard, then evicts an arbitrary torrent of that shard.
    pub max_torrents: usize,
    /// Most peers per torrent and address family (default 10,000). When a swarm is full, room
    /// is made at the expense of the source address holding the most entries in it: its own
    /// entry goes if the newcomer's address holds as many, else one of the biggest holder's.
    /// Another address's peers are never dropped for an address that holds more.
    pub max_peers_per_torrent: usize,
    /// Most peers one source address may hold across the whole store (default 10,000: a NAT
    /// or a 100-peer demo on one loopback address stays far below it). Announces past it are
    /// answered but not stored.
    pub max_peers_per_address: usize,
    /// Lock shards (default 64).
    pub shards: usize,
}

impl Default for MemoryStoreConfig {
    fn default() -> Self {
        MemoryStoreConfig {
            peer_ttl: Duration::from_secs(2 * 1800),
            max_torrents: 1_000_000,
            max_peers_per_torrent: 10_000,
            max_peers_per_address: 10_000,
            shards: 64,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PeerEntry<A> {
    id: PeerId,
    addr: A,
    port: u16,
    seen: u32,
    seeder: bool,
    /// The entry counts against a source address other than its own `addr` (kept in the
    /// list's [`Extra::foreign`]); false in the common case, where the request came from the
    /// peer's own address and nothing more is stored.
    foreign: bool,
}

/// The store's maps: ahash keyed from the store's seed (fast, and a client cannot aim
/// collisions at keys it does not know).
type KeyedMap<K, V> = HashMap<K, V, ahash::RandomState>;
type KeyedSet<K> = HashSet<K, ahash::RandomState>;

/// Peer lists longer than this keep a hash index; shorter ones (most swarms) are searched
/// linearly in the list the answer is read from anyway: no second table to miss in cache.
const INDEX_ABOVE: usize = 32;

#[derive(Debug)]
struct PeerList<A> {
    list: Vec<PeerEntry<A>>,
    /// What only big, once-full or proxied swarms need, behind one pointer (`None` in the
    /// common small swarm).
    extra: Option<Box<Extra<A>>>,
}

#[derive(Debug)]
struct Extra<A> {
    index: Option<KeyedMap<(PeerId, A), u32>>,
    /// Entries per source address, once the list has been full (`None` while it never was).
    shares: Option<KeyedMap<IpAddr, u32>>,
    /// The source of each entry whose source is not its own address.
    foreign: KeyedMap<(PeerId, A), IpAddr>,
}

impl<A> Extra<A> {
    fn new(hasher: &ahash::RandomState) -> Self {
        Extra {
            index: None,
            shares: None,
            foreign: HashMap::with_hasher(hasher.clone()),
        }
    }
    fn is_unused(&self) -> bool {
        self.index.is_none() && self.shares.is_none() && self.foreign.is_empty()
    }
}

impl<A> Default for PeerList<A> {
    fn default() -> Self {
        PeerList {
            list: Vec::new(),
            extra: None,
        }
    }
}

/// A peer address type the store keeps (IPv4 or IPv6), written out through bip_util's compact
/// peer encoder.
trait PeerAddr: Copy + Eq + std::hash::Hash {
    fn put(&self, port: u16, out: &mut Vec<u8>);
    /// The address as a source address (an entry's own, unless it is foreign).
    fn ip(&self) -> IpAddr;
}
impl PeerAddr for Ipv4Addr {
    fn put(&self, port: u16, out: &mut Vec<u8>) {
        bip_util::compact::encode_peer_v4(&SocketAddrV4::new(*self, port), out);
    }
    fn ip(&self) -> IpAddr {
        IpAddr::V4(*self)
    }
}
impl PeerAddr for Ipv6Addr {
    fn put(&self, port: u16, out: &mut Vec<u8>) {
        bip_util::compact::encode_peer_v6(&SocketAddrV6::new(*self, port, 0, 0), out);
    }
    fn ip(&self) -> IpAddr {
        IpAddr::V6(*self)
    }
}

/// Seeder and leecher counts of a swarm.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    seeders: u32,
    leechers: u32,
    completed: u32,
}

impl Counts {
    fn add(&mut self, seeder: bool) {
        if seeder {
            self.seeders += 1;
        } else {
            self.leechers += 1;
        }
    }
    fn sub(&mut self, seeder: bool) {
        if seeder {
            self.seeders = self.seeders.saturating_sub(1);
        } else {
            self.leechers = self.leechers.saturating_sub(1);
        }
    }
}

/// One announce as a swarm list sees it.
struct PeerAnnounce<A> {
    id: PeerId,
    ip: A,
    port: u16,
    source: IpAddr,
    event: Event,
    seeder: bool,
    num_want: usize,
    /// Whether the answer is read from this list (the packet's family).
    answer_here: bool,
}

impl<A> PeerAnnounce<A> {
    /// Announce `a` as the list of `ip`'s family sees it.
    fn new(a: &Announce<'_>, ip: A, source: IpAddr, answer_here: bool) -> Self {
        PeerAnnounce {
            id: a.peer_id,
            ip,
            port: a.addr.port(),
            source,
            event: a.event,
            seeder: a.left == 0,
            num_want: a.num_want,
            answer_here,
        }
    }
}

/// What every list operation of one announce needs from the shard and the store.
struct Env<'a> {
    now: u32,
    max_peers: usize,
    rng: &'a mut CoreRng,
    hasher: &'a ahash::RandomState,
    /// Whether the source may add one more entry to the store (its store-wide share).
    may_add: bool,
}

/// What an announce did to the store-wide shares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ShareChange {
    added: Option<IpAddr>,
    removed: Option<IpAddr>,
}

impl<A: PeerAddr> PeerList<A> {
    /// The source address `e` counts against.
    fn source_of(&self, e: &PeerEntry<A>) -> IpAddr {
        if e.foreign {
            if let Some(ip) = self
                .extra
                .as_ref()
                .and_then(|x| x.foreign.get(&(e.id, e.addr)))
            {
                return *ip;
            }
        }
        e.addr.ip()
    }

    fn extra_mut(&mut self, hasher: &ahash::RandomState) -> &mut Extra<A> {
        self.extra
            .get_or_insert_with(|| Box::new(Extra::new(hasher)))
    }

    /// Removes entry `i`; returns it with its source.
    fn remove_at(&mut self, i: usize) -> (PeerEntry<A>, IpAddr) {
        let e = self.list.swap_remove(i);
        let mut source = e.addr.ip();
        if let Some(x) = &mut self.extra {
            if let Some(index) = &mut x.index {
                if self.list.len() <= INDEX_ABOVE / 2 {
                    // Hysteresis: drop the index well below the threshold.
                    x.index = None;
                } else {
                    index.remove(&(e.id, e.addr));
                    if let Some(moved) = self.list.get(i) {
                        index.insert((moved.id, moved.addr), i as u32);
                    }
                }
            }
            if e.foreign {
                if let Some(ip) = x.foreign.remove(&(e.id, e.addr)) {
                    source = ip;
                }
            }
            if let Some(shares) = &mut x.shares {
                if let Entry::Occupied(mut o) = shares.entry(source) {
                    *o.get_mut() -= 1;
                    if *o.get() == 0 {
                        o.remove();
                    }
                }
            }
            if x.is_unused() {
                self.extra = None;
            }
        }
        (e, source)
    }

    fn find(&self, key: &(PeerId, A)) -> Option<usize> {
        match self.extra.as_ref().and_then(|x| x.index.as_ref()) {
            Some(index) => index.get(key).map(|&i| i as usize),
            None => self
                .list
                .iter()
                .position(|e| e.id == key.0 && e.addr == key.1),
        }
    }

    fn push(&mut self, mut e: PeerEntry<A>, source: IpAddr, hasher: &ahash::RandomState) -> usize {
        let i = self.list.len();
        let key = (e.id, e.addr);
        e.foreign = source != e.addr.ip();
        if e.foreign {
            self.extra_mut(hasher).foreign.insert(key, source);
        }
        if let Some(shares) = self.extra.as_mut().and_then(|x| x.shares.as_mut()) {
            *shares.entry(source).or_insert(0) += 1;
        }
        if self.list.len() == self.list.capacity() {
            // Grow by half (at least 4) rather than double: most swarms are small and stop
            // growing, and a doubled list would carry up to half its entries empty.
            let c = self.list.capacity();
            self.list.reserve_exact((c / 2).max(4));
        }
        self.list.push(e);
        let len = self.list.len();
        if let Some(index) = self.extra.as_mut().and_then(|x| x.index.as_mut()) {
            index.insert(key, i as u32);
        } else if len > INDEX_ABOVE {
            let mut index = KeyedMap::with_capacity_and_hasher(len * 2, hasher.clone());
            for (j, p) in self.list.iter().enumerate() {
                index.insert((p.id, p.addr), j as u32);
            }
            self.extra_mut(hasher).index = Some(index);
        }
        i
    }

    /// The list is full and `source` wants in: which entry goes, if any. The source's own
    /// entry when it holds at least as many as anyone, else one of the biggest holder's;
    /// `None` when the source holds nothing and nobody holds more than one (every entry is
    /// another address's only one).
    fn victim(
        &mut self,
        source: IpAddr,
        rng: &mut CoreRng,
        hasher: &ahash::RandomState,
    ) -> Option<usize> {
        if self.extra.as_ref().is_none_or(|x| x.shares.is_none()) {
            let mut shares = KeyedMap::with_hasher(hasher.clone());
            for e in &self.list {
                *shares.entry(self.source_of(e)).or_insert(0u32) += 1;
            }
            self.extra_mut(hasher).shares = Some(shares);
        }
        let shares = self.extra.as_ref()?.shares.as_ref()?;
        let mine = shares.get(&source).copied().unwrap_or(0);
        let (top, top_n) = shares
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(ip, n)| (*ip, *n))?;
        let loser = if mine >= top_n {
            source
        } else if top_n > mine + 1 {
            top
        } else if mine > 0 {
            source
        } else {
            return None;
        };
        // Any entry of the loser: scan from a random point (the biggest holder usually owns
        // most entries, so this ends in a few steps).
        let n = self.list.len();
        let start = rng.random_range(0..n);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.source_of(&self.list[i]) == loser)
    }

    /// Records one announce; returns the share change for the store-wide count.
    fn announce(
        &mut self,
        counts: &mut Counts,
        a: &PeerAnnounce<A>,
        env: &mut Env<'_>,
        out: &mut Vec<u8>,
    ) -> ShareChange {
        let mut change = ShareChange::default();
        let key = (a.id, a.ip);
        if a.event == Event::STOPPED {
            if let Some((e, source)) = self.remove(&key) {
                counts.sub(e.seeder);
                change.removed = Some(source);
            }
            return change;
        }
        let me = match self.find(&key) {
            Some(i) => {
                let e = &mut self.list[i];
                if e.seeder != a.seeder {
                    counts.sub(e.seeder);
                    counts.add(a.seeder);
                }
                if a.event == Event::COMPLETED && !e.seeder {
                    counts.completed = counts.completed.saturating_add(1);
                }
                e.seeder = a.seeder;
                e.port = a.port;
                e.seen = env.now;
                Some(i)
            }
            None if !env.may_add => None,
            None => {
                let mut room = self.list.len() < env.max_peers.max(1);
                if !room {
                    if let Some(v) = self.victim(a.source, env.rng, env.hasher) {
                        let (e, source) = self.remove_at(v);
                        counts.sub(e.seeder);
                        change.removed = Some(source);
                        room = true;
                    }
                }
                if room {
                    if a.event == Event::COMPLETED {
                        counts.completed = counts.completed.saturating_add(1);
                    }
                    counts.add(a.seeder);
                    change.added = Some(a.source);
                    Some(self.push(
                        PeerEntry {
                            id: a.id,
                            addr: a.ip,
                            port: a.port,
                            seen: env.now,
                            seeder: a.seeder,
                            foreign: false,
                        },
                        a.source,
                        env.hasher,
                    ))
                } else {
                    None
                }
            }
        };
        if a.answer_here {
            self.select(me, a.num_want, env.rng, out);
        }
        change
    }

    /// Removes the peer with `key`, if present.
    fn remove(&mut self, key: &(PeerId, A)) -> Option<(PeerEntry<A>, IpAddr)> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    fn select(&self, me: Option<usize>, want: usize, rng: &mut CoreRng, out: &mut Vec<u8>) {
        let n = self.list.len();
        if n == 0 || want == 0 {
            return;
        }
        let start = rng.random_range(0..n);
        let mut taken = 0;
        for k in 0..n {
            let i = (start + k) % n;
            if Some(i) == me {
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

    /// Removes entries not seen since `cutoff`; reports each removed entry's source.
    fn expire(&mut self, cutoff: u32, counts: &mut Counts, removed: &mut Vec<IpAddr>) {
        let mut i = 0;
        while i < self.list.len() {
            if self.list[i].seen < cutoff {
                let (e, source) = self.remove_at(i);
                counts.sub(e.seeder);
                removed.push(source);
            } else {
                i += 1;
            }
        }
    }

    /// Every entry's source.
    fn sources(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.list.iter().map(|e| self.source_of(e))
    }
}

#[derive(Debug, Default)]
struct Torrent {
    v4: PeerList<Ipv4Addr>,
    /// IPv6 peers, boxed: most swarms have none and pay one pointer.
    v6: Option<Box<PeerList<Ipv6Addr>>>,
    counts: Counts,
}

impl Torrent {
    fn is_empty(&self) -> bool {
        self.v4.list.is_empty() && self.v6.as_ref().is_none_or(|l| l.list.is_empty())
    }
    fn sources(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let b = self.v6.iter().flat_map(|l| l.sources());
        self.v4.sources().chain(b)
    }
    fn expire(&mut self, cutoff: u32, removed: &mut Vec<IpAddr>) {
        self.v4.expire(cutoff, &mut self.counts, removed);
        if let Some(l) = &mut self.v6 {
            l.expire(cutoff, &mut self.counts, removed);
            if l.list.is_empty() && l.extra.is_none() {
                self.v6 = None;
            }
        }
    }
}

#[derive(Debug)]
struct Shard {
    torrents: KeyedMap<InfoHash, Torrent>,
    hasher: ahash::RandomState,
    rng: CoreRng,
}

/// The built-in store: peers in memory, sharded by info hash behind mutexes.
///
/// Fair shares: within a full swarm, room is made at the expense of the source address
/// holding the most entries there (see [`MemoryStoreConfig::max_peers_per_torrent`]); across
/// the store, one source address holds at most
/// [`MemoryStoreConfig::max_peers_per_address`] entries. So one address announcing any number
/// of fake peers displaces only its own entries, and every other address's peers stay.
#[derive(Debug)]
pub struct MemoryStore {
    config: MemoryStoreConfig,
    epoch: Instant,
    shards: Box<[Mutex<Shard>]>,
    /// Store-wide entries per source address, sharded by address. Locked after a torrent
    /// shard, never before.
    shares: Box<[Mutex<Shares>]>,
    share_hasher: ahash::RandomState,
}

/// One shard of the store-wide entry counts. Most addresses hold one entry (a peer announcing
/// from its own address): those are only members of a set (an IPv4 one costs 4 bytes plus a
/// control byte); counts are kept for the few addresses holding more.
#[derive(Debug)]
struct Shares {
    one_v4: KeyedSet<u32>,
    one_v6: KeyedSet<Ipv6Addr>,
    many: KeyedMap<IpAddr, u32>,
}

impl Shares {
    fn new(hasher: &ahash::RandomState) -> Self {
        Shares {
            one_v4: HashSet::with_hasher(hasher.clone()),
            one_v6: HashSet::with_hasher(hasher.clone()),
            many: HashMap::with_hasher(hasher.clone()),
        }
    }

    fn has_one(&self, ip: &IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => self.one_v4.contains(&v4.to_bits()),
            IpAddr::V6(v6) => self.one_v6.contains(v6),
        }
    }

    fn take_one(&mut self, ip: &IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => self.one_v4.remove(&v4.to_bits()),
            IpAddr::V6(v6) => self.one_v6.remove(v6),
        }
    }

    fn put_one(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => self.one_v4.insert(v4.to_bits()),
            IpAddr::V6(v6) => self.one_v6.insert(v6),
        };
    }

    fn get(&self, ip: &IpAddr) -> u32 {
        match self.many.get(ip) {
            Some(n) => *n,
            None => u32::from(self.has_one(ip)),
        }
    }

    fn add(&mut self, ip: IpAddr) {
        if let Some(n) = self.many.get_mut(&ip) {
            *n += 1;
        } else if self.take_one(&ip) {
            self.many.insert(ip, 2);
        } else {
            self.put_one(ip);
        }
    }

    fn sub(&mut self, ip: IpAddr) {
        match self.many.entry(ip) {
            Entry::Occupied(mut o) => {
                *o.get_mut() -= 1;
                if *o.get() <= 1 {
                    o.remove();
                    self.put_one(ip);
                }
            }
            Entry::Vacant(_) => {
                self.take_one(&ip);
            }
        }
    }
}

impl MemoryStore {
    /// An empty store; `now` is its time origin, `seed` (expanded through the reproducible
    /// [`CoreRng`]) keys its maps and seeds the peer selection.
    pub fn new(config: MemoryStoreConfig, now: Instant, seed: u64) -> Self {
        let n = config.shards.max(1);
        let mut root = bip_util::core_rng(crate::expand_seed(seed));
        let shards = (0..n)
            .map(|_| {
                let mut s = [0u8; 32];
                root.fill(&mut s[..]);
                let mut rng = bip_util::core_rng(s);
                let hasher = ahash::RandomState::with_seeds(
                    rng.random(),
                    rng.random(),
                    rng.random(),
                    rng.random(),
                );
                Mutex::new(Shard {
                    torrents: HashMap::with_hasher(hasher.clone()),
                    hasher,
                    rng,
                })
            })
            .collect();
        let share_hasher = ahash::RandomState::with_seeds(
            root.random(),
            root.random(),
            root.random(),
            root.random(),
        );
        let shares = (0..n)
            .map(|_| Mutex::new(Shares::new(&share_hasher)))
            .collect();
        MemoryStore {
            config,
            epoch: now,
            shards,
            shares,
            share_hasher,
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

    fn share_shard(&self, ip: &IpAddr) -> &Mutex<Shares> {
        let x = self.share_hasher.hash_one(ip);
        &self.shares[(x as usize) % self.shares.len()]
    }

    fn share(&self, ip: &IpAddr) -> u32 {
        let s = self
            .share_shard(ip)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.get(ip)
    }

    fn adjust_share(&self, ip: IpAddr, added: bool) {
        let mut s = self
            .share_shard(&ip)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if added {
            s.add(ip);
        } else {
            s.sub(ip);
        }
    }

    fn released(&self, sources: &[IpAddr]) {
        for ip in sources {
            self.adjust_share(*ip, false);
        }
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
                .map(|t| t.v4.list.len() + t.v6.as_ref().map_or(0, |l| l.list.len()))
                .sum::<usize>();
        }
        (t, p)
    }

    /// Entries that `source` holds across the store.
    pub fn peers_of(&self, source: IpAddr) -> usize {
        self.share(&source.to_canonical()) as usize
    }

    /// Removes peers not seen for the TTL and torrents left empty.
    pub fn expire(&self, now: Instant) {
        let cutoff = self
            .secs(now)
            .saturating_sub(self.config.peer_ttl.as_secs() as u32);
        let mut removed = Vec::new();
        for s in self.shards.iter() {
            let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
            expire_shard(&mut s, cutoff, &mut removed);
            drop(s);
            self.released(&removed);
            removed.clear();
        }
    }
}

fn expire_shard(s: &mut Shard, cutoff: u32, removed: &mut Vec<IpAddr>) {
    s.torrents.retain(|_, t| {
        t.expire(cutoff, removed);
        !t.is_empty()
    });
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
        let source = a.source.to_canonical();
        let may_add = (self.share(&source) as usize) < self.config.max_peers_per_address.max(1);
        let mut removed = Vec::new();
        let mut guard = self
            .shard(&a.info_hash)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let shard = &mut *guard;
        let per_shard = (self.config.max_torrents / self.shards.len()).max(1);
        // The length test first: on the hot path (room left) one hash lookup per announce.
        if shard.torrents.len() >= per_shard
            && a.event != Event::STOPPED
            && may_add
            && !shard.torrents.contains_key(&a.info_hash)
        {
            let cutoff = secs.saturating_sub(self.config.peer_ttl.as_secs() as u32);
            expire_shard(shard, cutoff, &mut removed);
            if shard.torrents.len() >= per_shard {
                let victim = *shard.torrents.keys().next().expect("full shard");
                if let Some(t) = shard.torrents.remove(&victim) {
                    removed.extend(t.sources());
                }
            }
        }
        let mut created = false;
        let t = match shard.torrents.entry(a.info_hash) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(_) if a.event == Event::STOPPED || !may_add => {
                drop(guard);
                self.released(&removed);
                return Ok(SwarmCounts::default());
            }
            Entry::Vacant(v) => {
                created = true;
                v.insert(Torrent::default())
            }
        };
        let mut env = Env {
            now: secs,
            max_peers: self.config.max_peers_per_torrent,
            rng: &mut shard.rng,
            hasher: &shard.hasher,
            may_add,
        };
        let change = match a.addr.ip() {
            IpAddr::V4(ip) => t.v4.announce(
                &mut t.counts,
                &PeerAnnounce::new(a, ip, source, family == AddressFamily::V4),
                &mut env,
                out,
            ),
            IpAddr::V6(ip) => t.v6.get_or_insert_with(Box::default).announce(
                &mut t.counts,
                &PeerAnnounce::new(a, ip, source, family == AddressFamily::V6),
                &mut env,
                out,
            ),
        };
        if t.v6
            .as_ref()
            .is_some_and(|l| l.list.is_empty() && l.extra.is_none())
        {
            t.v6 = None;
        }
        let counts = SwarmCounts {
            seeders: t.counts.seeders,
            leechers: t.counts.leechers,
        };
        if created && t.is_empty() {
            // Nothing was stored (no room the newcomer may take): no empty torrent stays.
            shard.torrents.remove(&a.info_hash);
        }
        drop(guard);
        removed.extend(change.removed);
        self.released(&removed);
        if let Some(ip) = change.added {
            self.adjust_share(ip, true);
        }
        Ok(counts)
    }

    fn scrape(&self, _now: Instant, h: &InfoHash) -> ScrapeStats {
        let s = self.shard(h).lock().unwrap_or_else(|e| e.into_inner());
        s.torrents
            .get(h)
            .map(|t| ScrapeStats {
                seeders: t.counts.seeders,
                completed: t.counts.completed,
                leechers: t.counts.leechers,
            })
            .unwrap_or_default()
    }

    fn housekeeping(&self, now: Instant) {
        self.expire(now);
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn announce(
        s: &MemoryStore,
        now: Instant,
        t: u32,
        peer: SocketAddr,
        source: IpAddr,
        id: u32,
        event: Event,
    ) {
        let mut pid = [0u8; 20];
        pid[..4].copy_from_slice(&id.to_be_bytes());
        let mut a = Announce::new(
            InfoHash::from_sha1(&t.to_be_bytes()),
            PeerId::new(pid),
            peer,
        );
        a.source = source;
        a.event = event;
        let family = match peer {
            SocketAddr::V4(_) => AddressFamily::V4,
            SocketAddr::V6(_) => AddressFamily::V6,
        };
        s.announce(now, &a, family, &mut Vec::new()).unwrap();
    }

    fn v4(n: u32) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::from(0x0a00_0000 | n), 6881))
    }

    #[test]
    fn entries_are_counted_against_their_source_through_every_removal() {
        let now = Instant::now();
        let s = MemoryStore::new(MemoryStoreConfig::default(), now, 7);
        let proxy: IpAddr = "192.0.2.1".parse().unwrap();
        let own = v4(1);
        // Own-address entries: none, one, two, one, none.
        assert_eq!(s.peers_of(own.ip()), 0);
        announce(&s, now, 1, own, own.ip(), 1, Event::STARTED);
        assert_eq!(s.peers_of(own.ip()), 1);
        announce(&s, now, 2, own, own.ip(), 1, Event::STARTED);
        assert_eq!(s.peers_of(own.ip()), 2);
        announce(&s, now, 1, own, own.ip(), 1, Event::STOPPED);
        assert_eq!(s.peers_of(own.ip()), 1);
        // Entries from a source other than their address (the IP field honoured).
        for n in 10..20 {
            announce(&s, now, 3, v4(n), proxy, n, Event::STARTED);
            assert_eq!(s.peers_of(v4(n).ip()), 0);
        }
        assert_eq!(s.peers_of(proxy), 10);
        // A v4-mapped IPv6 peer address from its own (canonical) v4 source.
        let mapped = SocketAddr::new("::ffff:10.0.0.99".parse().unwrap(), 6881);
        announce(
            &s,
            now,
            3,
            mapped,
            mapped.ip().to_canonical(),
            99,
            Event::STARTED,
        );
        assert_eq!(s.peers_of(v4(99).ip()), 1);
        announce(&s, now, 3, v4(10), proxy, 10, Event::STOPPED);
        assert_eq!(s.peers_of(proxy), 9);
        // Torrent 1 stays (empty) until expiry.
        assert_eq!(s.len(), (3, 11));
        // Expiry releases every source.
        let later = now + MemoryStoreConfig::default().peer_ttl + Duration::from_secs(2);
        s.expire(later);
        assert_eq!(s.len(), (0, 0));
        for ip in [proxy, own.ip(), v4(99).ip(), v4(11).ip()] {
            assert_eq!(s.peers_of(ip), 0, "{ip}");
        }
    }

    #[test]
    fn a_proxied_flood_displaces_only_the_proxy() {
        let now = Instant::now();
        let config = MemoryStoreConfig {
            max_peers_per_torrent: 20,
            max_peers_per_address: 50,
            ..MemoryStoreConfig::default()
        };
        let s = MemoryStore::new(config, now, 9);
        for n in 0..10 {
            announce(&s, now, 1, v4(n), v4(n).ip(), n, Event::STARTED);
        }
        let proxy: IpAddr = "192.0.2.66".parse().unwrap();
        for n in 100..200 {
            announce(&s, now, 1, v4(n), proxy, n, Event::STARTED);
        }
        assert_eq!(s.len(), (1, 20));
        assert_eq!(s.peers_of(proxy), 10);
        for n in 0..10 {
            assert_eq!(s.peers_of(v4(n).ip()), 1);
        }
        // The store-wide cap counts the proxied entries across torrents.
        for t in 2..100 {
            announce(&s, now, t, v4(1000 + t), proxy, 1000 + t, Event::STARTED);
        }
        assert_eq!(s.peers_of(proxy), 50);
        // Evicting a whole torrent (max_torrents) releases its proxied entries too.
        let config = MemoryStoreConfig {
            max_torrents: 1,
            shards: 1,
            ..MemoryStoreConfig::default()
        };
        let s = MemoryStore::new(config, now, 9);
        for n in 0..5 {
            announce(&s, now, 1, v4(n), proxy, n, Event::STARTED);
        }
        assert_eq!(s.peers_of(proxy), 5);
        announce(&s, now, 2, v4(9), v4(9).ip(), 9, Event::STARTED);
        assert_eq!(s.peers_of(proxy), 0);
        assert_eq!(s.peers_of(v4(9).ip()), 1);
    }
}
