//! Fixed-size identifiers: [`InfoHash`], [`PeerId`], [`NodeId`] (20 bytes) and [`InfoHashV2`]
//! (32 bytes).
//!
//! All of them are `Copy` newtypes over a byte array with the same conversions and text forms:
//!
//! * bytes: `new`, `as_bytes`, `to_bytes`, `from_slice`, `From<[u8; N]>` both ways,
//!   `AsRef<[u8]>`, `TryFrom<&[u8]>`;
//! * hex: `Display`, `LowerHex`, `UpperHex`, `to_hex`, `from_hex`, `FromStr` (hex in either case);
//!   `Debug` prints `TypeName(hex)`;
//! * randomness from a caller-supplied RNG: `random`.
//!
//! The 20-byte ids also have base32 (magnet links), `from_sha1`, XOR (`^`, `distance`,
//! `bucket_index`, `closer_to`). [`NodeId`] and [`InfoHash`] convert into each other, since DHT
//! lookups target info hashes.

use std::cmp::Ordering;
use std::fmt;
use std::ops::BitXor;
use std::str::FromStr;

use rand::RngCore;

use crate::distance::{Distance, ID_BITS};
use crate::error::{LengthError, ParseIdError};
use crate::sha::{SHA1_LEN, SHA256_LEN};

/// Length of the RFC 4648 base32 form of a 20-byte id (160 bits / 5, no padding needed).
pub const BASE32_LEN: usize = 32;

/// The multihash prefix of a SHA-256 digest: function code `0x12`, length `0x20`.
const MULTIHASH_SHA256_PREFIX: &str = "1220";

/// Writes the lowercase hex form of `bytes` into `buf` (which must hold `2 * bytes.len()` bytes)
/// and returns it as a `&str`. No allocation: used by every `Display`.
#[inline]
pub(crate) fn hex_str<'a>(bytes: &[u8], buf: &'a mut [u8]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let len = 2 * bytes.len();
    for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    // Always ASCII, so this never fails.
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// Decodes exactly `out.len()` bytes of hex (either case) from `s`, reporting the byte offset of
/// the first bad character. `offset` is added to positions (for inputs with a prefix).
#[inline]
fn decode_hex(s: &[u8], out: &mut [u8], offset: usize) -> Result<(), ParseIdError> {
    if s.len() != 2 * out.len() {
        return Err(ParseIdError::InvalidLength {
            expected: offset + 2 * out.len(),
            actual: offset + s.len(),
        });
    }
    hex::decode_to_slice(s, out).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => ParseIdError::InvalidHex {
            position: offset + index,
        },
        // Lengths were checked above; keep a sensible answer all the same.
        hex::FromHexError::OddLength | hex::FromHexError::InvalidStringLength => {
            ParseIdError::InvalidLength {
                expected: offset + 2 * out.len(),
                actual: offset + s.len(),
            }
        }
    })
}

/// Defines a byte-array newtype with the conversions and text forms every id shares.
macro_rules! byte_id {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name([u8; $len]);

        impl $name {
            #[doc = concat!("Length of a `", stringify!($name), "` in bytes.")]
            pub const LEN: usize = $len;

            #[doc = concat!("Wraps raw bytes as a `", stringify!($name), "`.")]
            #[inline]
            pub const fn new(bytes: [u8; $len]) -> Self {
                $name(bytes)
            }

            /// The raw bytes.
            #[inline]
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// The raw bytes, by value.
            #[inline]
            pub const fn to_bytes(self) -> [u8; $len] {
                self.0
            }

            #[doc = concat!("Copies a `", stringify!($name), "` out of a slice of exactly ",
                stringify!($len), " bytes.")]
            ///
            /// # Errors
            ///
            /// [`LengthError`] when the slice has any other length.
            #[inline]
            pub fn from_slice(bytes: &[u8]) -> Result<Self, LengthError> {
                <[u8; $len]>::try_from(bytes)
                    .map($name)
                    .map_err(|_| LengthError::new($len, bytes.len()))
            }

            /// Lowercase hex, two characters per byte (the same text as `Display`).
            pub fn to_hex(&self) -> String {
                let mut buf = [0u8; 2 * $len];
                hex_str(&self.0, &mut buf).to_owned()
            }

            #[doc = concat!("Parses exactly ", stringify!($len), " bytes of hex (", "2 × ",
                stringify!($len), " characters, upper or lower case).")]
            ///
            /// # Errors
            ///
            /// [`ParseIdError::InvalidLength`] for a string of the wrong length,
            /// [`ParseIdError::InvalidHex`] (with the byte offset) for a non-hex character.
            #[inline]
            pub fn from_hex(s: &str) -> Result<Self, ParseIdError> {
                let mut out = [0u8; $len];
                decode_hex(s.as_bytes(), &mut out, 0)?;
                Ok($name(out))
            }

            #[doc = concat!("A uniformly random `", stringify!($name), "` drawn from `rng`.")]
            ///
            /// The caller chooses the RNG (seeded ones make tests reproducible); nothing here
            /// reaches for a thread-local generator.
            pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
                let mut bytes = [0u8; $len];
                rng.fill_bytes(&mut bytes);
                $name(bytes)
            }
        }

        impl From<[u8; $len]> for $name {
            #[inline]
            fn from(bytes: [u8; $len]) -> Self {
                $name(bytes)
            }
        }

        impl From<$name> for [u8; $len] {
            #[inline]
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<[u8]> for $name {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = LengthError;

            #[inline]
            fn try_from(bytes: &[u8]) -> Result<Self, LengthError> {
                $name::from_slice(bytes)
            }
        }

        impl fmt::Display for $name {
            /// Lowercase hex; honours width, fill and alignment.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; 2 * $len];
                f.pad(hex_str(&self.0, &mut buf))
            }
        }

        impl fmt::LowerHex for $name {
            /// Lowercase hex; `{:#x}` adds a `0x` prefix.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if f.alternate() {
                    f.write_str("0x")?;
                }
                let mut buf = [0u8; 2 * $len];
                f.write_str(hex_str(&self.0, &mut buf))
            }
        }

        impl fmt::UpperHex for $name {
            /// Uppercase hex; `{:#X}` adds a `0x` prefix.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if f.alternate() {
                    f.write_str("0x")?;
                }
                let mut buf = [0u8; 2 * $len];
                let len = hex_str(&self.0, &mut buf).len();
                buf.make_ascii_uppercase();
                f.write_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; 2 * $len];
                f.write_str(concat!(stringify!($name), "("))?;
                f.write_str(hex_str(&self.0, &mut buf))?;
                f.write_str(")")
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            /// Same as `from_hex`.
            #[inline]
            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                $name::from_hex(s)
            }
        }
    };
}

/// Adds what the 20-byte (SHA-1 sized) ids have on top of `byte_id!`: base32, SHA-1, XOR metric.
macro_rules! sha1_id {
    ($name:ident) => {
        impl $name {
            /// RFC 4648 base32: 32 uppercase characters, no padding (the `btih` form some magnet
            /// links use).
            pub fn to_base32(&self) -> String {
                data_encoding::BASE32_NOPAD.encode(&self.0)
            }

            /// Parses the 32-character RFC 4648 base32 form; letters may be in either case.
            ///
            /// # Errors
            ///
            /// [`ParseIdError::InvalidLength`] for a string other than 32 characters,
            /// [`ParseIdError::InvalidBase32`] for a character outside the alphabet.
            pub fn from_base32(s: &str) -> Result<Self, ParseIdError> {
                let input = s.as_bytes();
                let mut upper = [0u8; BASE32_LEN];
                if input.len() != BASE32_LEN {
                    return Err(ParseIdError::InvalidLength {
                        expected: BASE32_LEN,
                        actual: input.len(),
                    });
                }
                upper.copy_from_slice(input);
                upper.make_ascii_uppercase();
                let mut out = [0u8; SHA1_LEN];
                match data_encoding::BASE32_NOPAD.decode_mut(&upper, &mut out) {
                    Ok(SHA1_LEN) => Ok($name(out)),
                    _ => Err(ParseIdError::InvalidBase32),
                }
            }

            /// The SHA-1 digest of `data` as an id (e.g. the info hash of a bencoded info
            /// dictionary, or a DHT key derived from a name).
            pub fn from_sha1(data: &[u8]) -> Self {
                $name(crate::sha::sha1(data))
            }

            /// The XOR distance between two ids (BEP 5). Symmetric; zero only for equal ids.
            #[inline]
            pub fn distance(&self, other: &Self) -> Distance {
                Distance::between(&self.0, &other.0)
            }

            /// The routing-table bucket `other` falls in, seen from `self`: the index of the
            /// highest differing bit counted from the most significant end, i.e. the
            /// [`leading_zeros`](Distance::leading_zeros) of the XOR. Ids sharing a prefix of
            /// exactly `k` bits fall in bucket `k` (`0..160`); `None` when the ids are equal.
            #[inline]
            pub fn bucket_index(&self, other: &Self) -> Option<usize> {
                self.distance(other).bucket_index()
            }

            /// Compares how close `a` and `b` are to `self` (the target): `Less` when `a` is
            /// closer. Call it as `T::closer_to(&target, &a, &b)` or `target.closer_to(&a, &b)`,
            /// e.g. in `nodes.sort_by(|a, b| target.closer_to(a, b))`.
            #[inline]
            pub fn closer_to(&self, a: &Self, b: &Self) -> Ordering {
                // Compare byte by byte without building both distances.
                for ((t, x), y) in self.0.iter().zip(&a.0).zip(&b.0) {
                    match (t ^ x).cmp(&(t ^ y)) {
                        Ordering::Equal => continue,
                        other => return other,
                    }
                }
                Ordering::Equal
            }
        }

        impl BitXor for $name {
            type Output = $name;

            /// Bitwise XOR of the two ids.
            #[inline]
            fn bitxor(self, rhs: $name) -> $name {
                $name(Distance::between(&self.0, &rhs.0).to_bytes())
            }
        }
    };
}

byte_id!(
    /// A BitTorrent v1 info hash: the SHA-1 of the bencoded info dictionary (BEP 3), also used
    /// for the truncated v2 hash (BEP 52, see [`InfoHashV2::truncated`]).
    ///
    /// ```
    /// use bip_util::InfoHash;
    ///
    /// let h = InfoHash::from_sha1(b"abc");
    /// assert_eq!(h.to_string(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    /// assert_eq!("A9993E364706816ABA3E25717850C26C9CD0D89D".parse::<InfoHash>(), Ok(h));
    /// assert_eq!(InfoHash::from_base32(&h.to_base32()), Ok(h));
    /// ```
    InfoHash,
    SHA1_LEN
);
sha1_id!(InfoHash);

byte_id!(
    /// A 20-byte peer id, sent in tracker announces and the peer handshake (BEP 3; conventions in
    /// BEP 20). See [`generate_peer_id`](crate::generate_peer_id) to make one and
    /// [`PeerId::client`] to recognise other clients.
    ///
    /// ```
    /// use bip_util::PeerId;
    ///
    /// let id = PeerId::new(*b"-LT2080-onbl90WCE04m");
    /// assert_eq!(id.printable(), "-LT2080-onbl90WCE04m");
    /// assert_eq!(id.client().unwrap().to_string(), "libtorrent (Rasterbar) 2.0.8");
    /// ```
    PeerId,
    SHA1_LEN
);
sha1_id!(PeerId);

byte_id!(
    /// A 160-bit DHT node id (BEP 5). Distances between node ids (and between node ids and info
    /// hashes, after `NodeId::from(info_hash)`) use the XOR metric.
    ///
    /// ```
    /// use bip_util::{InfoHash, NodeId};
    ///
    /// let me = NodeId::new([0; 20]);
    /// let target = NodeId::from(InfoHash::new([0xff; 20]));
    /// assert_eq!(me.bucket_index(&target), Some(0));
    /// assert_eq!(me.bucket_index(&me), None);
    /// ```
    NodeId,
    SHA1_LEN
);
sha1_id!(NodeId);

impl From<InfoHash> for NodeId {
    /// Reinterprets the info hash as a DHT key (free: same 20 bytes).
    #[inline]
    fn from(h: InfoHash) -> Self {
        NodeId(h.0)
    }
}

impl From<NodeId> for InfoHash {
    /// Reinterprets the node id as an info hash (free: same 20 bytes).
    #[inline]
    fn from(n: NodeId) -> Self {
        InfoHash(n.0)
    }
}

impl NodeId {
    /// A random id that shares exactly the first `bucket` bits with `self` and differs at bit
    /// `bucket` (counted from the most significant end), so that
    /// `self.bucket_index(&result) == Some(bucket)`. The bits after `bucket` are random.
    /// Used to refresh a routing-table bucket.
    ///
    /// Returns `None` when `bucket >= 160`.
    ///
    /// ```
    /// use bip_util::NodeId;
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let me = NodeId::random(&mut rng);
    /// let other = me.random_in_bucket(42, &mut rng).unwrap();
    /// assert_eq!(me.bucket_index(&other), Some(42));
    /// assert_eq!(me.random_in_bucket(160, &mut rng), None);
    /// ```
    pub fn random_in_bucket<R: RngCore + ?Sized>(
        &self,
        bucket: usize,
        rng: &mut R,
    ) -> Option<NodeId> {
        if bucket >= ID_BITS {
            return None;
        }
        let mut out = [0u8; SHA1_LEN];
        rng.fill_bytes(&mut out);
        let byte = bucket / 8;
        let bit = 0x80u8 >> (bucket % 8);
        // Bits strictly above `bit` within the byte.
        let prefix = !((bit << 1).wrapping_sub(1));
        out[..byte].copy_from_slice(&self.0[..byte]);
        out[byte] = (self.0[byte] & prefix) | (!self.0[byte] & bit) | (out[byte] & (bit - 1));
        Some(NodeId(out))
    }
}

byte_id!(
    /// A BitTorrent v2 info hash: the SHA-256 of the bencoded info dictionary (BEP 52).
    ///
    /// The handshake, the DHT and trackers use its first 20 bytes ([`truncated`](Self::truncated)),
    /// magnet links its multihash form (`btmh`).
    ///
    /// ```
    /// use bip_util::InfoHashV2;
    ///
    /// let h = InfoHashV2::from_sha256(b"abc");
    /// assert_eq!(h.to_hex().len(), 64);
    /// assert_eq!(h.truncated().as_bytes()[..], h.as_bytes()[..20]);
    /// let mh = h.to_multihash_hex();
    /// assert!(mh.starts_with("1220"));
    /// assert_eq!(InfoHashV2::from_multihash_hex(&mh), Ok(h));
    /// ```
    InfoHashV2,
    SHA256_LEN
);

impl InfoHashV2 {
    /// The SHA-256 digest of `data` as a v2 info hash.
    pub fn from_sha256(data: &[u8]) -> Self {
        InfoHashV2(crate::sha::sha256(data))
    }

    /// The first 20 bytes: the truncated v2 info hash of BEP 52, used in the handshake, the DHT
    /// and tracker requests.
    #[inline]
    pub fn truncated(&self) -> InfoHash {
        let mut out = [0u8; SHA1_LEN];
        out.copy_from_slice(&self.0[..SHA1_LEN]);
        InfoHash(out)
    }

    /// The hex multihash form used by magnet links (`xt=urn:btmh:...`, BEP 9): `"1220"`
    /// (SHA-256, 32 bytes) followed by 64 lowercase hex characters.
    pub fn to_multihash_hex(&self) -> String {
        let mut buf = [0u8; 2 * SHA256_LEN];
        let mut s = String::with_capacity(MULTIHASH_SHA256_PREFIX.len() + buf.len());
        s.push_str(MULTIHASH_SHA256_PREFIX);
        s.push_str(hex_str(&self.0, &mut buf));
        s
    }

    /// Parses the hex multihash form: `"1220"` followed by 64 hex characters (either case).
    ///
    /// # Errors
    ///
    /// [`ParseIdError::InvalidLength`] unless the text is 68 characters,
    /// [`ParseIdError::InvalidMultihash`] for another prefix (another hash function or length),
    /// [`ParseIdError::InvalidHex`] for a bad digit (position counted from the start, prefix
    /// included).
    pub fn from_multihash_hex(s: &str) -> Result<Self, ParseIdError> {
        let input = s.as_bytes();
        let prefix_len = MULTIHASH_SHA256_PREFIX.len();
        let expected = prefix_len + 2 * SHA256_LEN;
        if input.len() != expected {
            return Err(ParseIdError::InvalidLength {
                expected,
                actual: input.len(),
            });
        }
        if &input[..prefix_len] != MULTIHASH_SHA256_PREFIX.as_bytes() {
            return Err(ParseIdError::InvalidMultihash);
        }
        let mut out = [0u8; SHA256_LEN];
        decode_hex(&input[prefix_len..], &mut out, prefix_len)?;
        Ok(InfoHashV2(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hex_forms() {
        let h = InfoHash::from_sha1(b"abc");
        assert_eq!(h.to_hex(), ABC_SHA1);
        assert_eq!(h.to_string(), ABC_SHA1);
        assert_eq!(format!("{h:x}"), ABC_SHA1);
        assert_eq!(format!("{h:#x}"), format!("0x{ABC_SHA1}"));
        assert_eq!(format!("{h:X}"), ABC_SHA1.to_uppercase());
        assert_eq!(format!("{h:?}"), format!("InfoHash({ABC_SHA1})"));
        assert_eq!(format!("{h:>42}"), format!("  {ABC_SHA1}"));
        assert_eq!(InfoHash::from_hex(ABC_SHA1), Ok(h));
        assert_eq!(ABC_SHA1.to_uppercase().parse::<InfoHash>(), Ok(h));
        let p = PeerId::new([0; 20]);
        assert_eq!(format!("{p:?}"), format!("PeerId({})", "0".repeat(40)));
        let n = NodeId::new([0xff; 20]);
        assert_eq!(format!("{n:?}"), format!("NodeId({})", "f".repeat(40)));
    }

    #[test]
    fn hex_errors() {
        assert_eq!(
            InfoHash::from_hex("abc"),
            Err(ParseIdError::InvalidLength {
                expected: 40,
                actual: 3
            })
        );
        let mut bad = ABC_SHA1.to_owned();
        bad.replace_range(7..8, "g");
        assert_eq!(
            InfoHash::from_hex(&bad),
            Err(ParseIdError::InvalidHex { position: 7 })
        );
        // A multi-byte character: length is counted in bytes.
        let s = format!("é{}", &ABC_SHA1[2..]);
        assert_eq!(s.len(), 40);
        assert_eq!(
            s.parse::<NodeId>(),
            Err(ParseIdError::InvalidHex { position: 0 })
        );
    }

    #[test]
    fn base32_forms() {
        let h = InfoHash::from_sha1(b"abc");
        let b32 = h.to_base32();
        assert_eq!(b32.len(), BASE32_LEN);
        assert_eq!(b32, "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
        assert_eq!(InfoHash::from_base32(&b32), Ok(h));
        assert_eq!(InfoHash::from_base32(&b32.to_lowercase()), Ok(h));
        assert_eq!(
            InfoHash::from_base32("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE"),
            Err(ParseIdError::InvalidLength {
                expected: 32,
                actual: 31
            })
        );
        assert_eq!(
            InfoHash::from_base32("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE1"),
            Err(ParseIdError::InvalidBase32)
        );
        assert_eq!(
            InfoHash::from_base32("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE="),
            Err(ParseIdError::InvalidBase32)
        );
    }

    #[test]
    fn slices() {
        let bytes = [7u8; 20];
        assert_eq!(PeerId::from_slice(&bytes), Ok(PeerId::new(bytes)));
        assert_eq!(
            PeerId::try_from(&bytes[..19]),
            Err(LengthError::new(20, 19))
        );
        assert_eq!(
            InfoHashV2::from_slice(&bytes),
            Err(LengthError::new(32, 20))
        );
        let id = NodeId::from(bytes);
        assert_eq!(<[u8; 20]>::from(id), bytes);
        assert_eq!(id.as_ref(), &bytes[..]);
        assert_eq!(id.to_bytes(), bytes);
        assert_eq!(NodeId::LEN, 20);
        assert_eq!(InfoHashV2::LEN, 32);
    }

    #[test]
    fn node_info_hash_conversion() {
        let h = InfoHash::new([3; 20]);
        let n = NodeId::from(h);
        assert_eq!(n.as_bytes(), h.as_bytes());
        assert_eq!(InfoHash::from(n), h);
    }

    #[test]
    fn xor_and_distance() {
        let a = NodeId::new([0b1100_0000; 20]);
        let b = NodeId::new([0b1010_0000; 20]);
        assert_eq!(a ^ b, NodeId::new([0b0110_0000; 20]));
        assert_eq!(a.distance(&b).as_bytes(), (a ^ b).as_bytes());
        assert_eq!(a.bucket_index(&b), Some(1));
        assert_eq!(a.distance(&a), Distance::ZERO);
        assert_eq!(a.closer_to(&a, &b), Ordering::Less);
        assert_eq!(a.closer_to(&b, &a), Ordering::Greater);
        assert_eq!(a.closer_to(&b, &b), Ordering::Equal);
    }

    #[test]
    fn random_in_bucket_all_buckets() {
        let mut rng = ChaCha8Rng::seed_from_u64(0xb1b);
        for _ in 0..20 {
            let me = NodeId::random(&mut rng);
            for bucket in 0..ID_BITS {
                let other = me.random_in_bucket(bucket, &mut rng).unwrap();
                assert_eq!(me.bucket_index(&other), Some(bucket), "bucket {bucket}");
            }
            assert_eq!(me.random_in_bucket(ID_BITS, &mut rng), None);
            assert_eq!(me.random_in_bucket(usize::MAX, &mut rng), None);
        }
    }

    #[test]
    fn v2_hash() {
        let h = InfoHashV2::from_sha256(b"abc");
        assert_eq!(h.to_hex(), ABC_SHA256);
        assert_eq!(h.to_string(), ABC_SHA256);
        assert_eq!(format!("{h:?}"), format!("InfoHashV2({ABC_SHA256})"));
        assert_eq!(ABC_SHA256.parse::<InfoHashV2>(), Ok(h));
        assert_eq!(h.truncated().to_hex(), ABC_SHA256[..40]);
        let mh = h.to_multihash_hex();
        assert_eq!(mh, format!("1220{ABC_SHA256}"));
        assert_eq!(InfoHashV2::from_multihash_hex(&mh.to_uppercase()), Ok(h));
        assert_eq!(
            InfoHashV2::from_multihash_hex(&format!("1120{ABC_SHA256}")),
            Err(ParseIdError::InvalidMultihash)
        );
        assert_eq!(
            InfoHashV2::from_multihash_hex(ABC_SHA256),
            Err(ParseIdError::InvalidLength {
                expected: 68,
                actual: 64
            })
        );
        let mut bad = mh.clone();
        bad.replace_range(10..11, "x");
        assert_eq!(
            InfoHashV2::from_multihash_hex(&bad),
            Err(ParseIdError::InvalidHex { position: 10 })
        );
    }

    #[test]
    fn random_uses_the_rng() {
        let a = InfoHash::random(&mut ChaCha8Rng::seed_from_u64(5));
        let b = InfoHash::random(&mut ChaCha8Rng::seed_from_u64(5));
        let c = InfoHash::random(&mut ChaCha8Rng::seed_from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Works through a trait object too.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let dyn_rng: &mut dyn RngCore = &mut rng;
        assert_eq!(InfoHash::random(dyn_rng), a);
    }
}
