//! The XOR metric of Kademlia (BEP 5).
//!
//! The distance between two 160-bit ids is their bitwise XOR read as an unsigned big-endian
//! integer. [`Distance`] orders exactly that way, so sorting nodes by `distance(target)` puts the
//! closest first:
//!
//! ```
//! use bip_util::NodeId;
//!
//! let target = NodeId::new([0x80; 20]);
//! let mut nodes = vec![NodeId::new([0x00; 20]), NodeId::new([0x81; 20]), NodeId::new([0xff; 20])];
//! nodes.sort_by_key(|n| n.distance(&target));
//! assert_eq!(nodes[0], NodeId::new([0x81; 20]));
//! // The same order, without materialising the distances:
//! nodes.sort_by(|a, b| NodeId::closer_to(&target, a, b));
//! assert_eq!(nodes[0], NodeId::new([0x81; 20]));
//! ```

use std::fmt;

use crate::sha::SHA1_LEN;

/// Number of bits in a 20-byte id: distances have `0..=160` leading zeros and routing tables have
/// 160 buckets.
pub const ID_BITS: usize = SHA1_LEN * 8;

/// The XOR distance between two 20-byte ids.
///
/// `Ord` is big-endian lexicographic, which is the numeric order of the 160-bit integer: a smaller
/// `Distance` means a closer id. Obtained from the id types' `distance` method.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Distance([u8; SHA1_LEN]);

impl Distance {
    /// The distance from an id to itself.
    pub const ZERO: Distance = Distance([0; SHA1_LEN]);

    /// The largest possible distance (all bits set).
    pub const MAX: Distance = Distance([0xff; SHA1_LEN]);

    /// Wraps the XOR of two ids.
    pub const fn new(bytes: [u8; SHA1_LEN]) -> Self {
        Distance(bytes)
    }

    /// Computes the XOR of two 20-byte strings.
    #[inline]
    pub fn between(a: &[u8; SHA1_LEN], b: &[u8; SHA1_LEN]) -> Self {
        let mut out = [0u8; SHA1_LEN];
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o = x ^ y;
        }
        Distance(out)
    }

    /// The distance as 20 big-endian bytes.
    pub const fn as_bytes(&self) -> &[u8; SHA1_LEN] {
        &self.0
    }

    /// The distance as 20 big-endian bytes, by value.
    pub const fn to_bytes(self) -> [u8; SHA1_LEN] {
        self.0
    }

    /// Number of leading zero bits, `0..=160`: the length of the common prefix of the two ids.
    /// `160` means the ids are equal.
    ///
    /// ```
    /// use bip_util::Distance;
    ///
    /// assert_eq!(Distance::ZERO.leading_zeros(), 160);
    /// assert_eq!(Distance::MAX.leading_zeros(), 0);
    /// let mut bytes = [0u8; 20];
    /// bytes[2] = 0x10;
    /// assert_eq!(Distance::new(bytes).leading_zeros(), 19);
    /// ```
    #[inline]
    pub fn leading_zeros(&self) -> u32 {
        let (hi, lo) = self.0.split_at(16);
        let mut hi_bytes = [0u8; 16];
        hi_bytes.copy_from_slice(hi);
        let hi = u128::from_be_bytes(hi_bytes);
        if hi != 0 {
            return hi.leading_zeros();
        }
        let mut lo_bytes = [0u8; 4];
        lo_bytes.copy_from_slice(lo);
        128 + u32::from_be_bytes(lo_bytes).leading_zeros()
    }

    /// Whether the distance is zero, i.e. the two ids were equal.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; SHA1_LEN]
    }

    /// The routing-table bucket of an id at this distance: the number of leading zero bits, or
    /// `None` for a zero distance (an id is in no bucket of its own table).
    pub fn bucket_index(&self) -> Option<usize> {
        match self.leading_zeros() as usize {
            ID_BITS => None,
            n => Some(n),
        }
    }
}

impl From<[u8; SHA1_LEN]> for Distance {
    fn from(bytes: [u8; SHA1_LEN]) -> Self {
        Distance(bytes)
    }
}

impl From<Distance> for [u8; SHA1_LEN] {
    fn from(d: Distance) -> Self {
        d.0
    }
}

impl AsRef<[u8]> for Distance {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 2 * SHA1_LEN];
        f.pad(crate::id::hex_str(&self.0, &mut buf))
    }
}

impl fmt::LowerHex for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str("0x")?;
        }
        let mut buf = [0u8; 2 * SHA1_LEN];
        f.write_str(crate::id::hex_str(&self.0, &mut buf))
    }
}

impl fmt::Debug for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 2 * SHA1_LEN];
        write!(f, "Distance({})", crate::id::hex_str(&self.0, &mut buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_every_bit() {
        for bit in 0..ID_BITS {
            let mut bytes = [0u8; SHA1_LEN];
            bytes[bit / 8] = 0x80 >> (bit % 8);
            let d = Distance::new(bytes);
            assert_eq!(d.leading_zeros() as usize, bit);
            assert_eq!(d.bucket_index(), Some(bit));
            // Lower bits never change the count.
            for b in bytes.iter_mut().skip(bit / 8 + 1) {
                *b = 0xff;
            }
            assert_eq!(Distance::new(bytes).leading_zeros() as usize, bit);
        }
        assert_eq!(Distance::ZERO.leading_zeros(), 160);
        assert_eq!(Distance::ZERO.bucket_index(), None);
        assert!(Distance::ZERO.is_zero());
        assert!(!Distance::MAX.is_zero());
    }

    #[test]
    fn order_is_numeric() {
        let mut small = [0u8; SHA1_LEN];
        small[19] = 0xff;
        let mut big = [0u8; SHA1_LEN];
        big[0] = 0x01;
        assert!(Distance::new(small) < Distance::new(big));
        assert!(Distance::ZERO < Distance::new(small));
        assert!(Distance::new(big) < Distance::MAX);
    }

    #[test]
    fn between_is_xor() {
        let a = [0b1010_1010; SHA1_LEN];
        let b = [0b0110_0110; SHA1_LEN];
        assert_eq!(
            Distance::between(&a, &b).to_bytes(),
            [0b1100_1100; SHA1_LEN]
        );
    }

    #[test]
    fn formatting() {
        let d = Distance::new([0xab; SHA1_LEN]);
        let hex = "ab".repeat(20);
        assert_eq!(d.to_string(), hex);
        assert_eq!(format!("{d:x}"), hex);
        assert_eq!(format!("{d:#x}"), format!("0x{hex}"));
        assert_eq!(format!("{d:?}"), format!("Distance({hex})"));
    }
}
