//! BEP 33 Bloom filters: 256 bytes, k = 2, indices from the SHA-1 of an IP address, and the
//! BEP's estimate of how many addresses a filter (or a union of filters) holds.
//!
//! ```
//! use bip_dht::bloom::BloomFilter;
//! let mut f = BloomFilter::new();
//! for i in 0..=255u8 {
//!     f.insert("192.0.2.0".parse::<std::net::Ipv4Addr>().unwrap().into());
//!     f.insert(std::net::Ipv4Addr::new(10, 0, 0, i).into());
//! }
//! assert!((f.estimate() - 257.0).abs() < 25.0);
//! ```

use std::net::IpAddr;

/// Bytes in a filter.
pub const BLOOM_LEN: usize = 256;
/// Bits in a filter (`m`).
const BITS: usize = BLOOM_LEN * 8;

/// One BEP 33 Bloom filter (`BFsd` or `BFpe`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BloomFilter(pub [u8; BLOOM_LEN]);

impl Default for BloomFilter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for BloomFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BloomFilter(~{:.0})", self.estimate())
    }
}

impl BloomFilter {
    /// An empty filter.
    pub fn new() -> Self {
        BloomFilter([0; BLOOM_LEN])
    }

    /// A filter from its 256 wire bytes; `None` for another length.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; BLOOM_LEN]>::try_from(b).ok().map(BloomFilter)
    }

    /// The two bit indices of an address (SHA-1 of its 4 or 16 bytes; an IPv4-mapped IPv6
    /// address counts as its IPv4 address).
    fn indices(ip: IpAddr) -> [usize; 2] {
        let h = match ip.to_canonical() {
            IpAddr::V4(a) => bip_util::sha::sha1(&a.octets()),
            IpAddr::V6(a) => bip_util::sha::sha1(&a.octets()),
        };
        [
            (usize::from(h[0]) | usize::from(h[1]) << 8) % BITS,
            (usize::from(h[2]) | usize::from(h[3]) << 8) % BITS,
        ]
    }

    /// Inserts an address.
    pub fn insert(&mut self, ip: IpAddr) {
        for i in Self::indices(ip) {
            self.0[i / 8] |= 1 << (i % 8);
        }
    }

    /// Whether an address may be in the filter (false positives possible).
    pub fn contains(&self, ip: IpAddr) -> bool {
        Self::indices(ip)
            .iter()
            .all(|&i| self.0[i / 8] & (1 << (i % 8)) != 0)
    }

    /// Adds every address of `other` (the union).
    pub fn merge(&mut self, other: &BloomFilter) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// BEP 33's estimate of the number of addresses inserted:
    /// `log(c / m) / (k · log(1 − 1/m))` with `c = min(m − 1, zero bits)`; an empty filter
    /// is 0 (the formula's `min` would make it 0.5).
    pub fn estimate(&self) -> f64 {
        let zeros: u32 = self.0.iter().map(|b| b.count_zeros()).sum();
        let m = BITS as f64;
        if f64::from(zeros) >= m {
            return 0.0;
        }
        let c = f64::from(zeros).min(m - 1.0);
        (c / m).ln() / (2.0 * (1.0 - 1.0 / m).ln())
    }
}
