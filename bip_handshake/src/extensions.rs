//! The 64 reserved bits of the handshake.

use std::fmt;
use std::ops::{BitAnd, BitOr};

/// The eight reserved bytes of a handshake: which extensions a peer supports.
///
/// Named constants cover the extensions in common use; [`Extensions::from_bytes`] and
/// [`Extensions::bytes`] give raw access to all 64 bits, so unknown bits survive a round trip.
/// Bit numbering ([`Extensions::bit`]) follows libtorrent: bit 0 is the lowest bit of the last
/// byte, bit 63 the highest bit of the first.
///
/// ```
/// use bip_handshake::Extensions;
///
/// let ours = Extensions::DHT | Extensions::EXTENSION_PROTOCOL;
/// let theirs = Extensions::from_bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05]); // libtorrent's
/// let both = ours.negotiate(theirs);
/// assert!(both.contains(Extensions::EXTENSION_PROTOCOL) && both.contains(Extensions::DHT));
/// assert!(!both.contains(Extensions::FAST));
/// assert_eq!(theirs.to_string(), "0000000000100005");
/// assert_eq!(theirs.names(), ["dht", "fast", "extension_protocol"]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Extensions([u8; 8]);

impl Extensions {
    /// No bits set.
    pub const NONE: Extensions = Extensions([0; 8]);
    /// BEP 5: the peer runs a DHT node (byte 7, bit 0x01).
    pub const DHT: Extensions = Extensions([0, 0, 0, 0, 0, 0, 0, 0x01]);
    /// BEP 6: the Fast extension (byte 7, bit 0x04).
    pub const FAST: Extensions = Extensions([0, 0, 0, 0, 0, 0, 0, 0x04]);
    /// BEP 10: the extension protocol (byte 5, bit 0x10).
    pub const EXTENSION_PROTOCOL: Extensions = Extensions([0, 0, 0, 0, 0, 0x10, 0, 0]);

    /// The named extensions with their names, in the order [`names`](Self::names) lists them.
    pub const NAMED: [(Extensions, &'static str); 3] = [
        (Extensions::DHT, "dht"),
        (Extensions::FAST, "fast"),
        (Extensions::EXTENSION_PROTOCOL, "extension_protocol"),
    ];

    /// From the raw reserved bytes.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Extensions(bytes)
    }

    /// The raw reserved bytes.
    pub const fn bytes(&self) -> [u8; 8] {
        self.0
    }

    /// The bits as a big-endian integer (byte 0 is the most significant).
    pub const fn as_u64(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// From a big-endian integer (see [`as_u64`](Self::as_u64)).
    pub const fn from_u64(bits: u64) -> Self {
        Extensions(bits.to_be_bytes())
    }

    /// One bit, numbered 0 (lowest bit of byte 7) to 63 (highest bit of byte 0); `None` above 63.
    pub const fn bit(n: u32) -> Option<Self> {
        if n < 64 {
            Some(Extensions::from_u64(1 << n))
        } else {
            None
        }
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(&self, other: Extensions) -> bool {
        self.as_u64() & other.as_u64() == other.as_u64()
    }

    /// Whether no bit is set.
    pub const fn is_empty(&self) -> bool {
        self.as_u64() == 0
    }

    /// These bits plus `other`'s.
    pub const fn with(self, other: Extensions) -> Self {
        Extensions::from_u64(self.as_u64() | other.as_u64())
    }

    /// These bits minus `other`'s.
    pub const fn without(self, other: Extensions) -> Self {
        Extensions::from_u64(self.as_u64() & !other.as_u64())
    }

    /// The negotiated set: the bits both sides set.
    pub const fn negotiate(self, remote: Extensions) -> Self {
        Extensions::from_u64(self.as_u64() & remote.as_u64())
    }

    /// Names of the named extensions that are set (unknown bits are not listed).
    pub fn names(&self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(e, _)| self.contains(*e))
            .map(|&(_, n)| n)
            .collect()
    }

    /// The bits set that have no name here.
    pub const fn unknown(&self) -> Extensions {
        let mut bits = self.as_u64();
        let mut i = 0;
        while i < Self::NAMED.len() {
            bits &= !Self::NAMED[i].0.as_u64();
            i += 1;
        }
        Extensions::from_u64(bits)
    }
}

impl BitOr for Extensions {
    type Output = Extensions;
    fn bitor(self, rhs: Extensions) -> Extensions {
        self.with(rhs)
    }
}

impl BitAnd for Extensions {
    type Output = Extensions;
    fn bitand(self, rhs: Extensions) -> Extensions {
        self.negotiate(rhs)
    }
}

impl From<[u8; 8]> for Extensions {
    fn from(bytes: [u8; 8]) -> Self {
        Extensions(bytes)
    }
}

impl From<Extensions> for [u8; 8] {
    fn from(e: Extensions) -> Self {
        e.0
    }
}

/// 16 lowercase hex digits, as on the wire.
impl fmt::Display for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.as_u64())
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Extensions({:016x} {:?})", self.as_u64(), self.names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_names() {
        assert_eq!(Extensions::bit(0), Some(Extensions::DHT));
        assert_eq!(Extensions::bit(2), Some(Extensions::FAST));
        assert_eq!(Extensions::bit(20), Some(Extensions::EXTENSION_PROTOCOL));
        assert_eq!(Extensions::bit(64), None);
        let raw = Extensions::from_bytes([0x80, 0, 0, 0, 0, 0x10, 0, 0x05]);
        assert_eq!(raw.unknown(), Extensions::bit(63).unwrap());
        assert_eq!(raw.names(), ["dht", "fast", "extension_protocol"]);
        assert_eq!(raw.to_string(), "8000000000100005");
        assert_eq!(Extensions::from_u64(raw.as_u64()), raw);
        let neg = raw.negotiate(Extensions::DHT | Extensions::bit(63).unwrap());
        assert_eq!(neg.as_u64(), 0x8000_0000_0000_0001);
        assert!(Extensions::NONE.is_empty());
        assert_eq!(
            raw.without(Extensions::FAST).names(),
            ["dht", "extension_protocol"]
        );
    }
}
