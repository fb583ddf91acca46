//! The routing table (BEP 5): 160 K-buckets indexed by the length of the common prefix with our
//! own id, node states (good, questionable, bad) and a bounded replacement cache per bucket.
//!
//! A pure data structure: no I/O, no clock (time comes in as `now` arguments), no randomness.
//! Every bucket holds at most [`TableConfig::bucket_size`] entries plus at most as many in its
//! replacement cache, so the whole table is bounded by `160 * 2 * bucket_size` entries.
//!
//! ```
//! use bip_dht::table::{RoutingTable, TableConfig};
//! use bip_util::NodeId;
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut table = RoutingTable::new(NodeId::new([0; 20]), TableConfig::default());
//! let id = NodeId::new([0x80; 20]);
//! assert!(table.heard(now, id, "1.2.3.4:6881".parse().unwrap(), true, false));
//! let mut out = Vec::new();
//! table.closest(&id, 8, now, &mut out);
//! assert_eq!(out[0].id, id);
//! ```

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_util::{NodeId, ID_BITS};

/// Nodes per bucket (BEP 5's K).
pub const K: usize = 8;

/// Consecutive failed queries after which a node is bad.
///
/// BEP 5 says a node becomes bad after failing to respond to "multiple queries in a row". One
/// lost UDP datagram (loss rates of a few percent are common) must not condemn a node that was
/// good a moment ago, so a single timeout only makes it questionable; two in a row (a chance of
/// 0.25% at 5% independent loss) make it bad and eligible for replacement. libtorrent reaches
/// the same place from the other side: its "pinged and failed" nodes are replaced first.
pub const BAD_AFTER_FAILS: u32 = 2;

/// Failed queries after which a node is removed even with no replacement (libtorrent: 20).
pub const REMOVE_AFTER_FAILS: u32 = 20;

/// The number of buckets: one per possible common-prefix length.
pub const BUCKETS: usize = ID_BITS;

/// Buckets up to this size are sorted by [`RoutingTable::closest`] without allocating.
const SORT_INLINE: usize = 16;

/// Settings of a [`RoutingTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableConfig {
    /// Entries per bucket, and also the size of each bucket's replacement cache. Default [`K`].
    pub bucket_size: usize,
    /// How long after its last reply a node stays good (BEP 5: 15 minutes).
    pub good_for: Duration,
    /// At most one entry per IP address in a bucket (local and loopback addresses exempt).
    /// Default `true`.
    pub restrict_ips: bool,
    /// A verified newcomer (BEP 42 id valid for its address) replaces an unverified
    /// questionable entry of a full bucket. Default `true`.
    pub prefer_verified: bool,
    /// Unverified nodes (other than local ones) are never inserted. Default `false`.
    pub enforce_verified: bool,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            bucket_size: K,
            good_for: Duration::from_secs(15 * 60),
            restrict_ips: true,
            prefer_verified: true,
            enforce_verified: false,
        }
    }
}

/// The state of a node (BEP 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// Replied recently, or replied ever and queried us recently.
    Good,
    /// Neither good nor bad: to be pinged before trusting it.
    Questionable,
    /// Failed [`BAD_AFTER_FAILS`] queries in a row: first to be replaced.
    Bad,
}

/// One node known to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeEntry {
    /// Its node id.
    pub id: NodeId,
    /// Its address.
    pub addr: SocketAddr,
    /// When it last answered one of our queries.
    pub last_reply: Option<Instant>,
    /// When it last sent us a query.
    pub last_query: Option<Instant>,
    /// When we last sent it a query.
    pub last_pinged: Option<Instant>,
    /// Queries to it that timed out since its last reply.
    pub fails: u32,
    /// Whether its id is valid for its address (BEP 42).
    pub verified: bool,
}

impl NodeEntry {
    /// Its state at `now` (BEP 5): good if it replied within `good_for`, or replied ever and
    /// queried us within `good_for`; bad after [`BAD_AFTER_FAILS`] failed queries in a row;
    /// questionable otherwise.
    pub fn status(&self, now: Instant, good_for: Duration) -> NodeStatus {
        if self.fails >= BAD_AFTER_FAILS {
            return NodeStatus::Bad;
        }
        let recent =
            |t: Option<Instant>| t.is_some_and(|t| now.saturating_duration_since(t) < good_for);
        if recent(self.last_reply) || (self.last_reply.is_some() && recent(self.last_query)) {
            NodeStatus::Good
        } else {
            NodeStatus::Questionable
        }
    }

    /// The last time we heard from it or tried to: `max(last_reply, last_pinged)`.
    fn last_checked(&self) -> Option<Instant> {
        self.last_reply.max(self.last_pinged)
    }

    /// The last time we heard anything from it.
    fn last_seen(&self) -> Option<Instant> {
        self.last_reply.max(self.last_query)
    }
}

/// Whether `ip` is loopback or on a local network (RFC 1918, link-local, unique-local), where
/// many nodes legitimately share one address and BEP 42 does not apply: BEP 42's exemption,
/// [`crate::security::is_exempt`].
pub(crate) fn is_local(ip: IpAddr) -> bool {
    crate::security::is_exempt(ip)
}

/// The address index's hasher: a keyed folded multiply per written word (as foldhash and
/// wyhash do), a few instructions for a `SocketAddr` where std's SipHash-1-3 costs hundreds
/// (it ran on every incoming query). The key is random per table, so addresses an attacker
/// picks do not collide predictably; the table is bounded anyway.
#[derive(Debug, Clone, Copy)]
struct AddrHashState {
    key: [u64; 2],
}

impl AddrHashState {
    fn new() -> Self {
        use std::hash::BuildHasher;
        let r = std::collections::hash_map::RandomState::new();
        AddrHashState {
            key: [
                r.hash_one(0x6269_705f_6468_7431u64) | 1,
                r.hash_one(0x7461_626c_655f_6b32u64) | 1,
            ],
        }
    }
}

impl std::hash::BuildHasher for AddrHashState {
    type Hasher = AddrHasher;
    fn build_hasher(&self) -> AddrHasher {
        AddrHasher {
            acc: self.key[0],
            key: self.key[1],
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct AddrHasher {
    acc: u64,
    key: u64,
}

/// The high and low halves of the 128-bit product, folded.
#[inline]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl AddrHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.acc = folded_mul(self.acc ^ v, self.key ^ 0x243f_6a88_85a3_08d3);
    }
}

impl std::hash::Hasher for AddrHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.mix(u64::from_le_bytes(b) ^ ((c.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        folded_mul(
            self.acc ^ 0x1319_8a2e_0370_7344,
            self.key.rotate_left(29) | 1,
        )
    }
}

/// Where an indexed address lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    bucket: u8,
    cached: bool,
}

#[derive(Debug, Clone, Default)]
struct Bucket {
    /// The main entries, at most `bucket_size`.
    nodes: Vec<NodeEntry>,
    /// The replacement cache, at most `bucket_size`.
    cache: Vec<NodeEntry>,
    /// The last insert, reply or refresh mark.
    last_changed: Option<Instant>,
}

/// The routing table: 160 buckets indexed by [`NodeId::bucket_index`] from our own id, each
/// with at most `bucket_size` entries and a replacement cache of at most `bucket_size`.
///
/// Addresses are unique across the whole table (main entries and caches) and indexed, so a
/// lookup by address is O(1); everything else touching one node costs O(`bucket_size`).
#[derive(Debug, Clone)]
pub struct RoutingTable {
    own_id: NodeId,
    config: TableConfig,
    buckets: Vec<Bucket>,
    index: HashMap<SocketAddr, Slot, AddrHashState>,
    /// Number of main entries.
    len: usize,
}

impl RoutingTable {
    /// An empty table around `own_id`.
    pub fn new(own_id: NodeId, config: TableConfig) -> Self {
        RoutingTable {
            own_id,
            config,
            buckets: vec![Bucket::default(); BUCKETS],
            index: HashMap::with_hasher(AddrHashState::new()),
            len: 0,
        }
    }

    /// Our own node id.
    pub fn own_id(&self) -> NodeId {
        self.own_id
    }

    /// The table's settings.
    pub fn config(&self) -> &TableConfig {
        &self.config
    }

    /// Changes our own id and re-buckets every entry: main entries first, then cached ones,
    /// each into its new bucket's main part while there is room (and its IP is allowed), else
    /// into that bucket's cache while there is room; what fits nowhere is dropped, as is an
    /// entry with the new id itself. Every bucket is marked as never refreshed.
    pub fn set_own_id(&mut self, id: NodeId) {
        self.own_id = id;
        let mut entries = Vec::with_capacity(self.index.len());
        for b in &mut self.buckets {
            entries.append(&mut b.nodes);
        }
        let mut cached = Vec::new();
        for b in &mut self.buckets {
            cached.append(&mut b.cache);
            b.last_changed = None;
        }
        self.index.clear();
        self.len = 0;
        for e in entries.into_iter().chain(cached) {
            let Some(bi) = self.own_id.bucket_index(&e.id) else {
                continue;
            };
            if self.index.contains_key(&e.addr) {
                continue;
            }
            let size = self.config.bucket_size;
            let bucket = &self.buckets[bi];
            if bucket
                .nodes
                .iter()
                .chain(&bucket.cache)
                .any(|n| n.id == e.id)
            {
                continue;
            }
            if bucket.nodes.len() < size && self.ip_allowed(bi, e.addr.ip(), None) {
                self.push_main(bi, e);
            } else if bucket.cache.len() < size && self.cache_ip_free(bi, e.addr.ip()) {
                self.push_cache(bi, e);
            }
        }
    }

    /// The number of main entries (the replacement caches not counted).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no main entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of entries waiting in replacement caches.
    pub fn cached_len(&self) -> usize {
        self.index.len() - self.len
    }

    /// The number of good main entries at `now`.
    pub fn good_len(&self, now: Instant) -> usize {
        self.iter()
            .filter(|e| e.status(now, self.config.good_for) == NodeStatus::Good)
            .count()
    }

    /// We got an answer (`replied`) or a query (`!replied`) from `id` at `addr`; `verified`
    /// says whether `id` is valid for `addr` (BEP 42). Inserts or updates the node; returns
    /// whether it is now in the main table.
    ///
    /// * Our own id is never inserted. With `enforce_verified`, messages from unverified
    ///   non-local nodes are ignored (nothing is inserted or updated).
    /// * A known address with the same id is updated (a reply resets `fails` to 0).
    /// * A known address with a new id: the old entry is replaced, except that a mere query
    ///   (a UDP source address can be forged) does not displace a good entry.
    /// * A known id at a new address: the existing entry is kept unless it is bad.
    /// * With `restrict_ips`, a non-local IP already in the bucket under another address keeps
    ///   its place unless that entry is bad; the newcomer is refused.
    /// * A bucket with room takes the node (as questionable if it only queried us).
    /// * A full bucket, for a node that replied: a bad entry is replaced; else, with
    ///   `prefer_verified` and a verified newcomer, an unverified questionable entry is; else
    ///   the newcomer goes to the replacement cache. A node that only queried us goes to the
    ///   cache. A full cache drops its least valuable entry (unverified before verified, never
    ///   replied before replied, then least recently heard).
    pub fn heard(
        &mut self,
        now: Instant,
        id: NodeId,
        addr: SocketAddr,
        replied: bool,
        verified: bool,
    ) -> bool {
        let Some(bi) = self.own_id.bucket_index(&id) else {
            return false;
        };
        let ip = addr.ip();
        if self.config.enforce_verified && !verified && !is_local(ip) {
            // Ignored; report truthfully whether the node is in the table anyway.
            return self.get(&addr).is_some_and(|e| e.id == id);
        }
        let good_for = self.config.good_for;

        // A known address.
        if let Some(slot) = self.index.get(&addr).copied() {
            let (pos, entry) = match self.find_addr(slot, &addr) {
                Some(found) => found,
                None => return false, // unreachable while the index is consistent
            };
            if entry.id == id {
                let e = self.entry_mut(slot, pos);
                if replied {
                    e.last_reply = Some(now);
                    e.fails = 0;
                } else {
                    e.last_query = Some(now);
                }
                e.verified = verified;
                if slot.cached {
                    if replied {
                        return self.promote_cached(bi, pos, now);
                    }
                    return false;
                }
                if replied {
                    self.buckets[bi].last_changed = Some(now);
                }
                return true;
            }
            // The address claims a new id.
            if !replied && !slot.cached && entry.status(now, good_for) == NodeStatus::Good {
                return false;
            }
            self.remove(&addr);
        }

        // A known id at another address.
        let bucket = &self.buckets[bi];
        let existing = bucket
            .nodes
            .iter()
            .chain(&bucket.cache)
            .find(|n| n.id == id)
            .copied();
        if let Some(old) = existing {
            if old.status(now, good_for) != NodeStatus::Bad {
                return false;
            }
            self.remove(&old.addr);
        }

        let entry = NodeEntry {
            id,
            addr,
            last_reply: replied.then_some(now),
            last_query: (!replied).then_some(now),
            last_pinged: None,
            fails: 0,
            verified,
        };
        let size = self.config.bucket_size;
        if size == 0 {
            return false;
        }

        // One entry per IP per bucket.
        if self.config.restrict_ips && !is_local(ip) {
            let clash = self.buckets[bi]
                .nodes
                .iter()
                .position(|n| n.addr.ip() == ip);
            if let Some(pos) = clash {
                let old = self.buckets[bi].nodes[pos];
                if old.status(now, good_for) != NodeStatus::Bad {
                    return false;
                }
                self.replace_main(bi, pos, entry, now);
                return true;
            }
        }

        if self.buckets[bi].nodes.len() < size {
            self.push_main(bi, entry);
            self.buckets[bi].last_changed = Some(now);
            return true;
        }

        if replied {
            let nodes = &self.buckets[bi].nodes;
            let victim = nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.status(now, good_for) == NodeStatus::Bad)
                .max_by_key(|(_, n)| n.fails)
                .map(|(i, _)| i)
                .or_else(|| {
                    if !(self.config.prefer_verified && verified) {
                        return None;
                    }
                    nodes
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| {
                            !n.verified && n.status(now, good_for) == NodeStatus::Questionable
                        })
                        .min_by_key(|(_, n)| n.last_checked())
                        .map(|(i, _)| i)
                });
            if let Some(pos) = victim {
                self.replace_main(bi, pos, entry, now);
                return true;
            }
        }

        self.insert_cache(bi, entry);
        false
    }

    /// A query to (`id`, `addr`) timed out: its `fails` grows by one. When the entry becomes
    /// bad and the bucket's replacement cache has a node, the best replacement (verified
    /// first, then most recently replied) takes its place; at [`REMOVE_AFTER_FAILS`] it is
    /// removed regardless. A cached entry that becomes bad is dropped from the cache.
    /// Unknown nodes (or a known address with another id) are ignored.
    pub fn failed(&mut self, id: &NodeId, addr: SocketAddr) {
        let Some(slot) = self.index.get(&addr).copied() else {
            return;
        };
        let Some((pos, entry)) = self.find_addr(slot, &addr) else {
            return;
        };
        if entry.id != *id {
            return;
        }
        let fails = entry.fails.saturating_add(1);
        self.entry_mut(slot, pos).fails = fails;
        if slot.cached {
            if fails >= BAD_AFTER_FAILS {
                self.remove(&addr);
            }
            return;
        }
        let bi = usize::from(slot.bucket);
        if fails >= REMOVE_AFTER_FAILS {
            self.remove(&addr);
            self.fill_from_cache(bi);
        } else if fails >= BAD_AFTER_FAILS {
            if let Some(c) = self.best_replacement(bi, Some(pos)) {
                let repl = self.buckets[bi].cache.remove(c);
                self.index.remove(&repl.addr);
                let old = self.buckets[bi].nodes[pos];
                self.index.remove(&old.addr);
                self.buckets[bi].nodes[pos] = repl;
                self.index.insert(
                    repl.addr,
                    Slot {
                        bucket: slot.bucket,
                        cached: false,
                    },
                );
            }
        }
    }

    /// We sent `id` a query at `now` (for [`stalest`](Self::stalest)'s order). Looks in the
    /// main entries and the cache of the id's bucket.
    pub fn pinged(&mut self, now: Instant, id: &NodeId) {
        let Some(bi) = self.own_id.bucket_index(id) else {
            return;
        };
        let b = &mut self.buckets[bi];
        if let Some(e) = b.nodes.iter_mut().chain(&mut b.cache).find(|n| n.id == *id) {
            e.last_pinged = Some(now);
        }
    }

    /// Up to `n` non-bad main entries closest to `target` by XOR distance, closest first,
    /// into `out` (cleared first).
    ///
    /// Buckets are visited in exact distance order, so only the buckets that contribute are
    /// sorted: the target's own bucket `t` holds the closest ids; deeper buckets `j > t` come
    /// next, those where the target differs from our id at bit `j` before all deeper ones and
    /// the others after them; then the buckets below `t`, from `t - 1` down to 0.
    pub fn closest(&self, target: &NodeId, n: usize, now: Instant, out: &mut Vec<NodeEntry>) {
        // Only bad nodes are left out, and badness does not depend on the time.
        let _ = now;
        out.clear();
        if n == 0 {
            return;
        }
        let t = self.own_id.bucket_index(target).unwrap_or(BUCKETS);
        let x = (self.own_id ^ *target).to_bytes();
        let bit = |j: usize| x[j / 8] & (0x80 >> (j % 8)) != 0;
        // XOR distances as three integers that order like the 20 bytes, the last one with the
        // entry's position in its low byte (so equal distances keep bucket order).
        let words = |id: &NodeId| {
            let b = id.as_bytes();
            let w = |r: std::ops::Range<usize>| {
                let mut x = [0u8; 8];
                x[..r.len()].copy_from_slice(&b[r]);
                u64::from_be_bytes(x)
            };
            (w(0..8), w(8..16), w(16..20))
        };
        let tw = words(target);
        let visit = |bi: usize, out: &mut Vec<NodeEntry>| -> bool {
            let start = out.len();
            let nodes = &self.buckets[bi].nodes;
            // `status(..) == Bad` is exactly `fails >= BAD_AFTER_FAILS` (no clock needed).
            let live = |e: &&NodeEntry| e.fails < BAD_AFTER_FAILS;
            if nodes.len() <= SORT_INLINE {
                // Each distance computed once, then an insertion sort of the keys (stable, like
                // the small-slice sort it replaces), then the entries copied in order.
                let mut keys = [(0u64, 0u64, 0u64); SORT_INLINE];
                let mut m = 0;
                for (i, e) in nodes.iter().enumerate() {
                    if !live(&e) {
                        continue;
                    }
                    let d = words(&e.id);
                    let k = (d.0 ^ tw.0, d.1 ^ tw.1, (d.2 ^ tw.2) | i as u64);
                    let mut j = m;
                    while j > 0 && keys[j - 1] > k {
                        keys[j] = keys[j - 1];
                        j -= 1;
                    }
                    keys[j] = k;
                    m += 1;
                }
                let take = m.min(n - start);
                out.extend(keys[..take].iter().map(|k| nodes[(k.2 & 0xff) as usize]));
            } else {
                out.extend(nodes.iter().filter(live));
                out[start..].sort_by(|a, b| target.closer_to(&a.id, &b.id));
            }
            if out.len() >= n {
                out.truncate(n);
                true
            } else {
                false
            }
        };
        if t < BUCKETS && visit(t, out) {
            return;
        }
        let deeper = (t.saturating_add(1)..BUCKETS)
            .filter(|&j| bit(j))
            .chain((t.saturating_add(1)..BUCKETS).rev().filter(|&j| !bit(j)));
        for j in deeper {
            if visit(j, out) {
                return;
            }
        }
        for j in (0..t.min(BUCKETS)).rev() {
            if visit(j, out) {
                return;
            }
        }
    }

    /// The main entry to check next for liveness (libtorrent's "ping the stalest node"): the
    /// non-good entry (or, when all are good, any entry) whose `max(last_reply, last_pinged)`
    /// is oldest, never-checked first. `None` when the table is empty.
    pub fn stalest(&self, now: Instant) -> Option<NodeEntry> {
        let good_for = self.config.good_for;
        self.iter()
            .min_by_key(|e| {
                (
                    e.status(now, good_for) == NodeStatus::Good,
                    e.last_checked(),
                )
            })
            .copied()
    }

    /// A bucket to refresh with a lookup of a random id in it
    /// ([`NodeId::random_in_bucket`]): the lowest index in `0..=deepest non-empty bucket`
    /// whose last change (insert, reply or refresh mark) is older than `interval` or never
    /// happened. Marks it refreshed at `now`, so consecutive calls walk different buckets.
    /// `None` when all are fresh or the table is empty (bootstrap instead).
    pub fn bucket_to_refresh(&mut self, now: Instant, interval: Duration) -> Option<usize> {
        let deepest = self.buckets.iter().rposition(|b| !b.nodes.is_empty())?;
        let bi = self.buckets[..=deepest].iter().position(|b| {
            b.last_changed
                .is_none_or(|t| now.saturating_duration_since(t) >= interval)
        })?;
        self.buckets[bi].last_changed = Some(now);
        Some(bi)
    }

    /// The main entries, bucket by bucket from bucket 0.
    pub fn iter(&self) -> impl Iterator<Item = &NodeEntry> {
        self.buckets.iter().flat_map(|b| b.nodes.iter())
    }

    /// The entries waiting in replacement caches.
    pub fn iter_cached(&self) -> impl Iterator<Item = &NodeEntry> {
        self.buckets.iter().flat_map(|b| b.cache.iter())
    }

    /// The main entry at `addr` (cached entries are not returned).
    pub fn get(&self, addr: &SocketAddr) -> Option<&NodeEntry> {
        let slot = self.index.get(addr)?;
        if slot.cached {
            return None;
        }
        self.buckets[usize::from(slot.bucket)]
            .nodes
            .iter()
            .find(|n| n.addr == *addr)
    }

    /// Removes the entry at `addr`, main or cached. A bucket that loses a main entry takes
    /// no replacement here; [`failed`](Self::failed) and [`heard`](Self::heard) refill it.
    pub fn remove(&mut self, addr: &SocketAddr) -> Option<NodeEntry> {
        let slot = self.index.remove(addr)?;
        let b = &mut self.buckets[usize::from(slot.bucket)];
        let list = if slot.cached {
            &mut b.cache
        } else {
            &mut b.nodes
        };
        let pos = list.iter().position(|n| n.addr == *addr)?;
        let e = list.remove(pos);
        if !slot.cached {
            self.len -= 1;
        }
        Some(e)
    }

    // ---- internals ----

    fn find_addr(&self, slot: Slot, addr: &SocketAddr) -> Option<(usize, NodeEntry)> {
        let b = &self.buckets[usize::from(slot.bucket)];
        let list = if slot.cached { &b.cache } else { &b.nodes };
        list.iter()
            .position(|n| n.addr == *addr)
            .map(|p| (p, list[p]))
    }

    fn entry_mut(&mut self, slot: Slot, pos: usize) -> &mut NodeEntry {
        let b = &mut self.buckets[usize::from(slot.bucket)];
        if slot.cached {
            &mut b.cache[pos]
        } else {
            &mut b.nodes[pos]
        }
    }

    fn push_main(&mut self, bi: usize, e: NodeEntry) {
        self.index.insert(
            e.addr,
            Slot {
                bucket: bi as u8,
                cached: false,
            },
        );
        self.buckets[bi].nodes.push(e);
        self.len += 1;
    }

    fn push_cache(&mut self, bi: usize, e: NodeEntry) {
        self.index.insert(
            e.addr,
            Slot {
                bucket: bi as u8,
                cached: true,
            },
        );
        self.buckets[bi].cache.push(e);
    }

    /// Replaces main entry `pos` of bucket `bi` with `e` (the old entry is dropped).
    fn replace_main(&mut self, bi: usize, pos: usize, e: NodeEntry, now: Instant) {
        let old = self.buckets[bi].nodes[pos];
        self.index.remove(&old.addr);
        self.buckets[bi].nodes[pos] = e;
        self.index.insert(
            e.addr,
            Slot {
                bucket: bi as u8,
                cached: false,
            },
        );
        self.buckets[bi].last_changed = Some(now);
    }

    /// Whether `ip` may enter the main part of bucket `bi`, ignoring main entry `except`.
    fn ip_allowed(&self, bi: usize, ip: IpAddr, except: Option<usize>) -> bool {
        !self.config.restrict_ips
            || is_local(ip)
            || !self.buckets[bi]
                .nodes
                .iter()
                .enumerate()
                .any(|(i, n)| Some(i) != except && n.addr.ip() == ip)
    }

    fn cache_ip_free(&self, bi: usize, ip: IpAddr) -> bool {
        !self.config.restrict_ips
            || is_local(ip)
            || !self.buckets[bi].cache.iter().any(|n| n.addr.ip() == ip)
    }

    /// Puts `e` into the replacement cache of bucket `bi`: replaces a cached entry with the
    /// same non-local IP (when IPs are restricted), else drops the least valuable entry of a
    /// full cache.
    fn insert_cache(&mut self, bi: usize, e: NodeEntry) {
        let size = self.config.bucket_size;
        let ip = e.addr.ip();
        let cache = &self.buckets[bi].cache;
        let same_ip = if self.config.restrict_ips && !is_local(ip) {
            cache.iter().position(|n| n.addr.ip() == ip)
        } else {
            None
        };
        let victim = same_ip.or_else(|| {
            if cache.len() < size {
                None
            } else {
                cache
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, n)| (n.verified, n.last_reply.is_some(), n.last_seen()))
                    .map(|(i, _)| i)
            }
        });
        if let Some(v) = victim {
            let old = self.buckets[bi].cache.remove(v);
            self.index.remove(&old.addr);
        }
        if self.buckets[bi].cache.len() < size {
            self.push_cache(bi, e);
        }
    }

    /// The best cached replacement for bucket `bi` (verified first, then most recently
    /// replied), whose IP may enter the main part in place of main entry `except`.
    fn best_replacement(&self, bi: usize, except: Option<usize>) -> Option<usize> {
        self.buckets[bi]
            .cache
            .iter()
            .enumerate()
            .filter(|(_, c)| self.ip_allowed(bi, c.addr.ip(), except))
            .max_by_key(|(_, c)| (c.verified, c.last_reply))
            .map(|(i, _)| i)
    }

    /// Moves the best cached entries into the main part of bucket `bi` while it has room.
    fn fill_from_cache(&mut self, bi: usize) {
        while self.buckets[bi].nodes.len() < self.config.bucket_size {
            let Some(c) = self.best_replacement(bi, None) else {
                return;
            };
            let e = self.buckets[bi].cache.remove(c);
            self.index.remove(&e.addr);
            self.push_main(bi, e);
        }
    }

    /// Cached entry `pos` of bucket `bi` just replied: it moves to the main part if there is
    /// room or a bad entry to replace. Returns whether it did.
    fn promote_cached(&mut self, bi: usize, pos: usize, now: Instant) -> bool {
        let e = self.buckets[bi].cache[pos];
        let good_for = self.config.good_for;
        let target = if self.buckets[bi].nodes.len() < self.config.bucket_size {
            None
        } else {
            match self.buckets[bi]
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.status(now, good_for) == NodeStatus::Bad)
                .max_by_key(|(_, n)| n.fails)
            {
                Some((i, _)) => Some(i),
                None => return false,
            }
        };
        if !self.ip_allowed(bi, e.addr.ip(), target) {
            return false;
        }
        self.buckets[bi].cache.remove(pos);
        self.index.remove(&e.addr);
        match target {
            None => {
                self.push_main(bi, e);
                self.buckets[bi].last_changed = Some(now);
            }
            Some(i) => self.replace_main(bi, i, e, now),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.3.4",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_local(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "172.15.0.1",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ] {
            assert!(!is_local(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn status_rules() {
        let t0 = Instant::now();
        let good_for = Duration::from_secs(900);
        let mut e = NodeEntry {
            id: NodeId::new([1; 20]),
            addr: "1.2.3.4:1".parse().unwrap(),
            last_reply: None,
            last_query: None,
            last_pinged: None,
            fails: 0,
            verified: false,
        };
        assert_eq!(e.status(t0, good_for), NodeStatus::Questionable);
        e.last_query = Some(t0);
        assert_eq!(e.status(t0, good_for), NodeStatus::Questionable);
        e.last_reply = Some(t0);
        assert_eq!(e.status(t0, good_for), NodeStatus::Good);
        let later = t0 + Duration::from_secs(1000);
        assert_eq!(e.status(later, good_for), NodeStatus::Questionable);
        e.last_query = Some(later);
        assert_eq!(e.status(later, good_for), NodeStatus::Good);
        e.fails = BAD_AFTER_FAILS;
        assert_eq!(e.status(later, good_for), NodeStatus::Bad);
    }
}
