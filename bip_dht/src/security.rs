//! BEP 42 (DHT security extension): node ids tied to the node's external address, and the
//! voter that learns that address from the `ip` field of answers.
//!
//! A node id is valid for an address when its first 21 bits equal the first 21 bits of
//! `crc32c((ip & mask) | (r << shift))`, where `r` is the low 3 bits of the id's last byte. For
//! IPv4 the masked address is 4 bytes (mask `0x030f3fff`, `r << 29`); for IPv6 it is the high 8
//! bytes (mask `0x0103070f1f3f7fff`, `r << 61`). Both are hashed big-endian.
//!
//! ```
//! use std::net::IpAddr;
//! use bip_dht::security::{generate_node_id, is_valid_node_id};
//! let ip: IpAddr = "124.31.75.21".parse().unwrap();
//! use rand::SeedableRng;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let id = generate_node_id(ip, &mut rng);
//! assert!(is_valid_node_id(ip, &id));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bip_util::NodeId;
use rand::RngCore;

/// The IPv4 mask applied before hashing.
pub const IPV4_MASK: u32 = 0x030f_3fff;
/// The mask applied to the high 64 bits of an IPv6 address before hashing.
pub const IPV6_MASK: u64 = 0x0103_070f_1f3f_7fff;
/// How many leading bits of a node id are fixed by the address.
pub const PREFIX_BITS: u32 = 21;
/// The default number of distinct voters that must agree before [`IpVoter`] trusts an address.
pub const DEFAULT_MIN_VOTES: usize = 5;
/// Most distinct voters remembered in one voting round.
pub const MAX_VOTERS: usize = 64;
/// Most distinct candidate addresses remembered in one voting round.
pub const MAX_CANDIDATES: usize = 16;

/// The address an id check uses: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4
/// address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// The CRC-32C of the masked address with `r` (its low 3 bits) in the top bits: the value whose
/// first 21 bits a node id for `ip` must start with. IPv4-mapped IPv6 addresses hash as IPv4.
pub fn node_id_prefix(ip: IpAddr, r: u8) -> u32 {
    let r = r & 7;
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let masked = (u32::from(v4) & IPV4_MASK) | (u32::from(r) << 29);
            crc32c::crc32c(&masked.to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            let high = u64::from_be_bytes([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]]);
            let masked = (high & IPV6_MASK) | (u64::from(r) << 61);
            crc32c::crc32c(&masked.to_be_bytes())
        }
    }
}

/// A random node id valid for `ip`: the first 21 bits come from [`node_id_prefix`], the last
/// byte is random with its low 3 bits being the `r` used, everything else is random.
pub fn generate_node_id<R: RngCore + ?Sized>(ip: IpAddr, rng: &mut R) -> NodeId {
    let mut id = [0u8; NodeId::LEN];
    rng.fill_bytes(&mut id);
    let r = id[NodeId::LEN - 1] & 7;
    let crc = node_id_prefix(ip, r).to_be_bytes();
    id[0] = crc[0];
    id[1] = crc[1];
    id[2] = (crc[2] & 0xf8) | (id[2] & 0x07);
    NodeId::new(id)
}

/// Whether `id` is valid for `ip` under BEP 42. A pure check: local addresses are not exempted
/// here (see [`is_exempt`]). IPv4-mapped IPv6 addresses are checked as IPv4.
pub fn is_valid_node_id(ip: IpAddr, id: &NodeId) -> bool {
    let id = id.as_bytes();
    let crc = node_id_prefix(ip, id[NodeId::LEN - 1]).to_be_bytes();
    id[0] == crc[0] && id[1] == crc[1] && (id[2] & 0xf8) == (crc[2] & 0xf8)
}

fn is_exempt_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 10
        || (o[0] == 172 && o[1] & 0xf0 == 16)
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 169 && o[1] == 254)
        || o[0] == 127
        || ip.is_unspecified()
}

fn is_exempt_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || first & 0xffc0 == 0xfe80 // link-local fe80::/10
        || first & 0xfe00 == 0xfc00 // unique local fc00::/7
}

/// Whether `ip` is on a local network, where BEP 42 does not apply: 10.0.0.0/8, 172.16.0.0/12,
/// 192.168.0.0/16, 169.254.0.0/16, 127.0.0.0/8 and the unspecified address; for IPv6 the
/// loopback, link-local (fe80::/10), unique-local (fc00::/7) and unspecified addresses.
/// IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_exempt(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_exempt_v4(v4),
        IpAddr::V6(v6) => is_exempt_v6(v6),
    }
}

/// Learns our external address from the `ip` field of answers (BEP 42), one vote per voter IP.
///
/// Votes are counted in rounds. Within a round each voter address counts once; an address
/// leads once at least `min_votes` distinct voters named it and more voters named it than the
/// current external address. When a round has seen [`MAX_VOTERS`] voters, or a vote names a new
/// address while [`MAX_CANDIDATES`] are already counted, a fresh round starts (the current
/// external address is kept until another one wins), so memory stays bounded and a changed
/// address is picked up. Use one voter per address family. Votes for the unspecified address
/// are ignored.
#[derive(Debug, Clone)]
pub struct IpVoter {
    min_votes: usize,
    voters: Vec<IpAddr>,
    candidates: Vec<(IpAddr, usize)>,
    external: Option<IpAddr>,
}

impl Default for IpVoter {
    /// A voter needing [`DEFAULT_MIN_VOTES`].
    fn default() -> Self {
        IpVoter::new(DEFAULT_MIN_VOTES)
    }
}

impl IpVoter {
    /// A voter that trusts an address once `min_votes` distinct voters agree on it (at least 1;
    /// [`DEFAULT_MIN_VOTES`] is a sound choice).
    pub fn new(min_votes: usize) -> Self {
        IpVoter {
            min_votes: min_votes.max(1),
            voters: Vec::new(),
            candidates: Vec::new(),
            external: None,
        }
    }

    /// Counts that `voter` saw us as `seen_as`. Returns the new external address when this vote
    /// changed it.
    pub fn vote(&mut self, voter: IpAddr, seen_as: IpAddr) -> Option<IpAddr> {
        let voter = canonical(voter);
        let seen_as = canonical(seen_as);
        if seen_as.is_unspecified() || self.voters.contains(&voter) {
            return None;
        }
        let known = self.candidates.iter().any(|(a, _)| *a == seen_as);
        if self.voters.len() >= MAX_VOTERS || (!known && self.candidates.len() >= MAX_CANDIDATES) {
            self.voters.clear();
            self.candidates.clear();
        }
        self.voters.push(voter);
        let count = match self.candidates.iter_mut().find(|(a, _)| *a == seen_as) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.candidates.push((seen_as, 1));
                1
            }
        };
        if count < self.min_votes || self.external == Some(seen_as) {
            return None;
        }
        let current = self.external.map_or(0, |ext| {
            self.candidates
                .iter()
                .find(|(a, _)| *a == ext)
                .map_or(0, |&(_, n)| n)
        });
        if count > current {
            self.external = Some(seen_as);
            Some(seen_as)
        } else {
            None
        }
    }

    /// The external address, once enough voters agreed.
    pub fn external(&self) -> Option<IpAddr> {
        self.external
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn voter(i: usize) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(1, 2, (i >> 8) as u8, i as u8))
    }

    #[test]
    fn consensus_needs_min_votes_distinct_voters() {
        let mut v = IpVoter::new(3);
        let me = v4("203.0.113.7");
        assert_eq!(v.vote(voter(1), me), None);
        // The same voter again does not count.
        assert_eq!(v.vote(voter(1), me), None);
        assert_eq!(v.vote(voter(2), me), None);
        assert_eq!(v.external(), None);
        assert_eq!(v.vote(voter(3), me), Some(me));
        assert_eq!(v.external(), Some(me));
        // Further agreement reports nothing new.
        assert_eq!(v.vote(voter(4), me), None);
    }

    #[test]
    fn minority_does_not_win_and_majority_takes_over() {
        let mut v = IpVoter::new(2);
        let (a, b) = (v4("203.0.113.7"), v4("198.51.100.9"));
        assert_eq!(v.vote(voter(1), a), None);
        assert_eq!(v.vote(voter(2), a), Some(a));
        assert_eq!(v.vote(voter(3), a), None);
        assert_eq!(v.vote(voter(4), b), None);
        // b has 2 votes, a has 3: a stays.
        assert_eq!(v.vote(voter(5), b), None);
        assert_eq!(v.vote(voter(6), b), None); // tie 3:3, a stays
        assert_eq!(v.vote(voter(7), b), Some(b));
        assert_eq!(v.external(), Some(b));
    }

    #[test]
    fn mapped_addresses_count_as_ipv4_and_unspecified_is_ignored() {
        let mut v = IpVoter::new(2);
        let me = v4("203.0.113.7");
        let mapped = v4("::ffff:203.0.113.7");
        assert_eq!(v.vote(voter(1), mapped), None);
        assert_eq!(v.vote(voter(2), me), Some(me));
        assert_eq!(v.vote(voter(3), v4("0.0.0.0")), None);
        assert_eq!(v.vote(voter(4), v4("::")), None);
        // A mapped voter address is the same voter.
        let mut v = IpVoter::new(2);
        assert_eq!(v.vote(v4("1.1.1.1"), me), None);
        assert_eq!(v.vote(v4("::ffff:1.1.1.1"), me), None);
        assert_eq!(v.external(), None);
    }

    #[test]
    fn memory_is_bounded_and_a_new_round_keeps_the_winner() {
        let mut v = IpVoter::new(3);
        let me = v4("203.0.113.7");
        for i in 0..3 {
            v.vote(voter(i), me);
        }
        assert_eq!(v.external(), Some(me));
        // Many voters and many distinct (spoofed) addresses.
        for i in 3..10_000 {
            let seen = IpAddr::V4(Ipv4Addr::new(100, 64, (i >> 8) as u8, i as u8));
            v.vote(voter(i), seen);
            assert!(v.voters.len() <= MAX_VOTERS);
            assert!(v.candidates.len() <= MAX_CANDIDATES);
            // Every address got one vote: none can reach 3.
            assert_eq!(v.external(), Some(me));
        }
    }

    #[test]
    fn a_changed_address_is_picked_up_after_a_round() {
        let mut v = IpVoter::new(3);
        let (old, new) = (v4("203.0.113.7"), v4("198.51.100.9"));
        for i in 0..MAX_VOTERS {
            v.vote(voter(i), old);
        }
        assert_eq!(v.external(), Some(old));
        let mut changed = None;
        for i in MAX_VOTERS..3 * MAX_VOTERS {
            if let Some(a) = v.vote(voter(i), new) {
                changed = Some((i, a));
                break;
            }
        }
        // The full round resets at the next voter; 3 votes in the new round win.
        assert_eq!(changed, Some((MAX_VOTERS + 2, new)));
    }

    #[test]
    fn zero_min_votes_means_one() {
        let mut v = IpVoter::new(0);
        let me = v4("2001:db8::7");
        assert_eq!(v.vote(v4("2001:db8::1"), me), Some(me));
        assert_eq!(IpVoter::default().min_votes, DEFAULT_MIN_VOTES);
    }

    #[test]
    fn exempt_edges() {
        for ip in [
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.3.4",
            "127.0.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fdff::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_exempt(v4(ip)), "{ip}");
        }
        for ip in [
            "11.0.0.1",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "169.253.1.1",
            "128.0.0.1",
            "8.8.8.8",
            "2001:db8::1",
            "fec0::1",
            "fe00::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_exempt(v4(ip)), "{ip}");
        }
    }

    #[test]
    fn mapped_ipv6_checks_as_ipv4() {
        let id = NodeId::from_hex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401").unwrap();
        assert!(is_valid_node_id(v4("124.31.75.21"), &id));
        assert!(is_valid_node_id(v4("::ffff:124.31.75.21"), &id));
        assert_eq!(
            node_id_prefix(v4("::ffff:124.31.75.21"), 1),
            node_id_prefix(v4("124.31.75.21"), 1)
        );
    }
}
