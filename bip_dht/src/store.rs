//! The peer store behind `announce_peer` and `get_peers` (BEP 5): which peers announced which
//! info hash, bounded in swarms, peers per swarm and time, and fair between addresses.
//!
//! A pure data structure: no I/O, no clock (time comes in as `now` arguments), randomness only
//! from the caller's RNG.
//!
//! Costs: an announce is O(log hashes) plus, when its swarm is full, O(`max_peers_per_hash`);
//! [`PeerStore::expire`] sweeps a bounded batch of swarms per call.
//!
//! ```
//! use bip_dht::store::{PeerStore, StoreConfig};
//! use bip_util::InfoHash;
//! use rand::SeedableRng;
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut store = PeerStore::new(StoreConfig::default());
//! let hash = InfoHash::new([7; 20]);
//! assert!(store.announce(now, hash, "1.2.3.4:6881".parse().unwrap(), false));
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut peers = Vec::new();
//! store.get(now, &hash, false, false, 50, &mut rng, &mut peers);
//! assert_eq!(peers, ["1.2.3.4:6881".parse::<std::net::SocketAddr>().unwrap()]);
//! ```

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_util::InfoHash;
use rand::Rng;

/// Swarms swept for expired peers per [`PeerStore::expire`] call.
pub const EXPIRE_BATCH: usize = 256;

/// Settings of a [`PeerStore`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Swarms (info hashes) stored at most. Default 16,384.
    pub max_hashes: usize,
    /// Peers stored per swarm at most. Default 100.
    pub max_peers_per_hash: usize,
    /// How long an announce is kept without being refreshed. Default 30 minutes.
    pub peer_ttl: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_hashes: 16_384,
            max_peers_per_hash: 100,
            peer_ttl: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Peer {
    addr: SocketAddr,
    seed: bool,
    last_seen: Instant,
}

#[derive(Debug, Clone)]
struct Swarm {
    /// At most `max_peers_per_hash`, addresses unique.
    peers: Vec<Peer>,
    /// The newest `last_seen` of any peer: the swarm is wholly expired `peer_ttl` after it.
    newest: Instant,
}

/// The stored announces: a map of swarms, each a small vector of peers, and an index of the
/// swarms ordered by their newest announce so wholly expired swarms are found without a scan.
///
/// # Policies
/// * Fairness inside a full swarm: room is made by evicting the oldest entry among the IPs
///   that hold the most entries in that swarm, but only if the announcing IP holds fewer than
///   they do; otherwise the announcer's own oldest entry makes room (so one IP's entries rotate
///   among themselves). One address announcing 100,000 ports never evicts another address's
///   peer, while 100 peers behind one loopback address still all fit an otherwise empty swarm.
///   Expired peers of the swarm are dropped first.
/// * A new swarm when `max_hashes` are stored: wholly expired swarms are dropped (cheapest
///   first from the ordered index), and if the store is still full the announce is refused.
///   Stored swarms are never evicted for a new one: the data others rely on stays, flooding
///   with fake hashes cannot push real swarms out, and the refused announcer still stores its
///   peer on the other nodes close to the hash. The cost is O(log hashes) per announce.
#[derive(Debug, Clone)]
pub struct PeerStore {
    config: StoreConfig,
    swarms: HashMap<InfoHash, Swarm>,
    /// `(swarm.newest, hash)` for every swarm.
    by_newest: BTreeSet<(Instant, InfoHash)>,
    /// Swarms still to sweep in the current [`expire`](PeerStore::expire) pass.
    sweep: Vec<InfoHash>,
    peers: usize,
}

impl PeerStore {
    /// An empty store.
    pub fn new(config: StoreConfig) -> Self {
        PeerStore {
            config,
            swarms: HashMap::new(),
            by_newest: BTreeSet::new(),
            sweep: Vec::new(),
            peers: 0,
        }
    }

    /// The store's settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn expired(&self, now: Instant, t: Instant) -> bool {
        now.saturating_duration_since(t) >= self.config.peer_ttl
    }

    /// Stores (or refreshes) `addr` as a peer of `hash`, a seed if `seed`. Returns `false` if
    /// refused (see the policies on [`PeerStore`]). An IPv4-mapped IPv6 address is stored as
    /// its IPv4 address.
    pub fn announce(&mut self, now: Instant, hash: InfoHash, addr: SocketAddr, seed: bool) -> bool {
        // An IPv4-mapped IPv6 address (from a dual-stack socket) is stored as the IPv4 peer
        // it is, so families and fairness see one address.
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        let max_peers = self.config.max_peers_per_hash;
        if max_peers == 0 {
            return false;
        }
        if !self.swarms.contains_key(&hash) {
            if self.swarms.len() >= self.config.max_hashes {
                self.drop_expired_swarms(now);
                if self.swarms.len() >= self.config.max_hashes {
                    return false;
                }
            }
            self.swarms.insert(
                hash,
                Swarm {
                    peers: Vec::new(),
                    newest: now,
                },
            );
            self.by_newest.insert((now, hash));
        }
        let ttl = self.config.peer_ttl;
        let Some(swarm) = self.swarms.get_mut(&hash) else {
            return false;
        };

        let mut stored = false;
        if let Some(p) = swarm.peers.iter_mut().find(|p| p.addr == addr) {
            p.last_seen = p.last_seen.max(now);
            p.seed = seed;
            stored = true;
        } else {
            if swarm.peers.len() >= max_peers {
                let before = swarm.peers.len();
                swarm
                    .peers
                    .retain(|p| now.saturating_duration_since(p.last_seen) < ttl);
                self.peers -= before - swarm.peers.len();
            }
            if swarm.peers.len() >= max_peers {
                if let Some(victim) = fair_victim(&swarm.peers, addr.ip()) {
                    swarm.peers.swap_remove(victim);
                    self.peers -= 1;
                }
            }
            if swarm.peers.len() < max_peers {
                swarm.peers.push(Peer {
                    addr,
                    seed,
                    last_seen: now,
                });
                self.peers += 1;
                stored = true;
            }
        }

        if now > swarm.newest {
            self.by_newest.remove(&(swarm.newest, hash));
            swarm.newest = now;
            self.by_newest.insert((now, hash));
        }
        if swarm.peers.is_empty() {
            let newest = swarm.newest;
            self.swarms.remove(&hash);
            self.by_newest.remove(&(newest, hash));
        }
        stored
    }

    /// Appends to `out` (not cleared) up to `max` peers of `hash` of the requested family
    /// (IPv6 if `v6`, else IPv4), skipping seeds if `noseed` and expired peers; a random
    /// selection from `rng` when more qualify. The peers appended are distinct.
    #[allow(clippy::too_many_arguments)]
    pub fn get<R: rand::RngCore + ?Sized>(
        &self,
        now: Instant,
        hash: &InfoHash,
        v6: bool,
        noseed: bool,
        max: usize,
        rng: &mut R,
        out: &mut Vec<SocketAddr>,
    ) {
        if max == 0 {
            return;
        }
        let Some(swarm) = self.swarms.get(hash) else {
            return;
        };
        let start = out.len();
        out.extend(
            swarm
                .peers
                .iter()
                .filter(|p| {
                    p.addr.is_ipv6() == v6 && !(noseed && p.seed) && !self.expired(now, p.last_seen)
                })
                .map(|p| p.addr),
        );
        let found = out.len() - start;
        if found > max {
            // A partial Fisher-Yates shuffle of the appended part.
            let chosen = &mut out[start..];
            for i in 0..max {
                let j = rng.random_range(i..found);
                chosen.swap(i, j);
            }
            out.truncate(start + max);
        }
    }

    /// Drops expired peers and empty swarms, amortised: every call drops all wholly expired
    /// swarms (O(log hashes) each, from the ordered index) and sweeps at most
    /// [`EXPIRE_BATCH`] further swarms for expired peers, so a pass over `S` swarms takes
    /// `S / EXPIRE_BATCH` calls. Call it periodically (the node does on every tick). Expired
    /// peers not yet swept are never returned by [`get`](Self::get) or counted by
    /// [`counts`](Self::counts).
    pub fn expire(&mut self, now: Instant) {
        self.drop_expired_swarms(now);
        if self.sweep.is_empty() {
            self.sweep.extend(self.swarms.keys().copied());
        }
        let ttl = self.config.peer_ttl;
        for _ in 0..EXPIRE_BATCH {
            let Some(hash) = self.sweep.pop() else {
                break;
            };
            let Some(swarm) = self.swarms.get_mut(&hash) else {
                continue;
            };
            let before = swarm.peers.len();
            swarm
                .peers
                .retain(|p| now.saturating_duration_since(p.last_seen) < ttl);
            self.peers -= before - swarm.peers.len();
            if swarm.peers.is_empty() {
                let newest = swarm.newest;
                self.swarms.remove(&hash);
                self.by_newest.remove(&(newest, hash));
            }
        }
    }

    /// Drops the swarms whose newest announce has expired, oldest first, from the index:
    /// O(log hashes) per swarm dropped.
    fn drop_expired_swarms(&mut self, now: Instant) {
        while let Some(&(newest, hash)) = self.by_newest.first() {
            if !self.expired(now, newest) {
                break;
            }
            self.by_newest.pop_first();
            if let Some(s) = self.swarms.remove(&hash) {
                self.peers -= s.peers.len();
            }
        }
    }

    /// The number of swarms stored (including not yet expired-away ones).
    pub fn hashes(&self) -> usize {
        self.swarms.len()
    }

    /// The number of peers stored over all swarms (including not yet expired-away ones).
    pub fn peers(&self) -> usize {
        self.peers
    }

    /// BEP 33 Bloom filters of the non-expired seeds and of the other peers of `hash`, in that
    /// order; `None` when nothing is stored for it.
    pub fn bloom(
        &self,
        now: Instant,
        hash: &InfoHash,
    ) -> Option<(crate::bloom::BloomFilter, crate::bloom::BloomFilter)> {
        let swarm = self.swarms.get(hash)?;
        let (mut seeds, mut peers) = (
            crate::bloom::BloomFilter::new(),
            crate::bloom::BloomFilter::new(),
        );
        let mut any = false;
        for p in swarm
            .peers
            .iter()
            .filter(|p| !self.expired(now, p.last_seen))
        {
            any = true;
            if p.seed {
                seeds.insert(p.addr.ip());
            } else {
                peers.insert(p.addr.ip());
            }
        }
        any.then_some((seeds, peers))
    }

    /// Appends to `out` (not cleared) up to `max` distinct stored info hashes, a random
    /// selection from `rng` when more are stored (BEP 51 samples). O(hashes · log hashes).
    pub fn sample<R: rand::RngCore + ?Sized>(
        &self,
        max: usize,
        rng: &mut R,
        out: &mut Vec<InfoHash>,
    ) {
        // Sorted first, so the choice depends only on the RNG (the map's order is random).
        let mut all: Vec<InfoHash> = self.swarms.keys().copied().collect();
        all.sort_unstable();
        let n = all.len();
        let take = max.min(n);
        for i in 0..take {
            let j = rng.random_range(i..n);
            all.swap(i, j);
        }
        out.extend_from_slice(&all[..take]);
    }

    /// The numbers of non-expired seeds and non-seeds stored for `hash`, in that order.
    pub fn counts(&self, now: Instant, hash: &InfoHash) -> (usize, usize) {
        let Some(swarm) = self.swarms.get(hash) else {
            return (0, 0);
        };
        swarm
            .peers
            .iter()
            .filter(|p| !self.expired(now, p.last_seen))
            .fold(
                (0, 0),
                |(s, l), p| if p.seed { (s + 1, l) } else { (s, l + 1) },
            )
    }
}

/// The entry to evict from a full swarm for a newcomer from `ip`: the oldest entry among the
/// IPs holding the most entries if `ip` holds fewer, else `ip`'s own oldest entry. O(peers).
fn fair_victim(peers: &[Peer], ip: IpAddr) -> Option<usize> {
    let mut counts: HashMap<IpAddr, usize> = HashMap::with_capacity(peers.len());
    for p in peers {
        *counts.entry(p.addr.ip()).or_insert(0) += 1;
    }
    let top = counts.values().copied().max()?;
    let mine = counts.get(&ip).copied().unwrap_or(0);
    let pick = |want: &dyn Fn(IpAddr) -> bool| {
        peers
            .iter()
            .enumerate()
            .filter(|(_, p)| want(p.addr.ip()))
            .min_by_key(|(_, p)| p.last_seen)
            .map(|(i, _)| i)
    };
    if mine < top {
        pick(&|i| counts.get(&i) == Some(&top))
    } else {
        pick(&|i| i == ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refresh_and_counts() {
        let t = Instant::now();
        let mut s = PeerStore::new(StoreConfig::default());
        let h = InfoHash::new([1; 20]);
        assert!(s.announce(t, h, a("1.1.1.1:1"), false));
        assert!(s.announce(t, h, a("1.1.1.1:1"), true));
        assert!(s.announce(t, h, a("[::2]:1"), false));
        assert_eq!(s.peers(), 2);
        assert_eq!(s.counts(t, &h), (1, 1));
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut out = Vec::new();
        s.get(t, &h, false, true, 10, &mut rng, &mut out);
        assert!(out.is_empty());
        s.get(t, &h, true, true, 10, &mut rng, &mut out);
        assert_eq!(out, [a("[::2]:1")]);
    }

    #[test]
    fn mapped_addresses_are_stored_as_ipv4() {
        let t = Instant::now();
        let mut s = PeerStore::new(StoreConfig::default());
        let h = InfoHash::new([1; 20]);
        assert!(s.announce(t, h, a("[::ffff:1.2.3.4]:5"), false));
        assert!(s.announce(t, h, a("1.2.3.4:5"), true));
        assert_eq!(s.counts(t, &h), (1, 0));
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut out = Vec::new();
        s.get(t, &h, false, false, 10, &mut rng, &mut out);
        assert_eq!(out, [a("1.2.3.4:5")]);
    }

    #[test]
    fn fair_victim_prefers_the_biggest_ip() {
        let t = Instant::now();
        let mk = |s: &str, dt: u64| Peer {
            addr: a(s),
            seed: false,
            last_seen: t + Duration::from_secs(dt),
        };
        let peers = [mk("1.1.1.1:1", 0), mk("2.2.2.2:1", 1), mk("2.2.2.2:2", 2)];
        assert_eq!(fair_victim(&peers, a("3.3.3.3:1").ip()), Some(1));
        assert_eq!(fair_victim(&peers, a("2.2.2.2:9").ip()), Some(1));
        assert_eq!(fair_victim(&peers, a("1.1.1.1:9").ip()), Some(1));
        let peers = [mk("1.1.1.1:1", 0), mk("2.2.2.2:1", 1)];
        assert_eq!(fair_victim(&peers, a("1.1.1.1:9").ip()), Some(0));
        assert_eq!(fair_victim(&peers, a("3.3.3.3:9").ip()), Some(0));
    }
}
