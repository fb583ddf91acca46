//! [`RawValue`]: a value's exact bytes, captured while decoding.

use std::fmt;

use ::serde::de::{self, Deserialize, Deserializer, Visitor};
use ::serde::ser::{Serialize, Serializer};

use crate::{DecodeError, Decoder};

/// The magic newtype-struct name through which [`RawValue`] talks to this
/// crate's `Deserializer` and `Serializer`.
pub(crate) const RAW_VALUE_TOKEN: &str = "$bip_bencode::private::RawValue";

/// The exact input bytes of one bencoded value (from its first byte through
/// its last), borrowed from the input.
///
/// Deserializing a `RawValue` with this crate's deserializers (validated like
/// any other value) captures the span; serializing one writes the bytes
/// verbatim. The metainfo use: the info hash is the SHA-1 of the info
/// dictionary exactly as it appears in the file.
///
/// ```
/// use bip_bencode::serde::{from_bytes, RawValue};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Torrent<'a> {
///     announce: Option<&'a str>,
///     #[serde(borrow)]
///     info: RawValue<'a>,
/// }
///
/// let input = b"d8:announce3:url4:infod6:lengthi5e4:name1:xee";
/// let t: Torrent = from_bytes(input)?;
/// assert_eq!(t.announce, Some("url"));
/// // Hash these bytes (e.g. `sha1::Sha1::digest(t.info.as_bytes())`) for the info hash.
/// assert_eq!(t.info.as_bytes(), b"d6:lengthi5e4:name1:xe");
/// // Navigate or decode it further as needed.
/// #[derive(Deserialize)]
/// struct Info<'a> { length: u64, name: &'a str }
/// let info: Info = t.info.decode()?;
/// assert_eq!((info.length, info.name), (5, "x"));
/// # Ok::<(), bip_bencode::serde::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawValue<'a>(&'a [u8]);

impl<'a> RawValue<'a> {
    /// Wrap the bytes of one complete bencoded value, checking that they are
    /// one (leniently, so any valid bencode is accepted).
    pub fn from_slice(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Decoder::lenient().decode(bytes)?;
        Ok(RawValue(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Decode the raw bytes as `T` (strict mode, default limits).
    pub fn decode<T: Deserialize<'a>>(&self) -> Result<T, super::Error> {
        super::from_bytes(self.0)
    }
}

impl fmt::Debug for RawValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawValue({})", self.0.escape_ascii())
    }
}

impl AsRef<[u8]> for RawValue<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for RawValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW_VALUE_TOKEN, &RawBytes(self.0))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a raw bencode value (only bip_bencode's deserializers provide one)")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(RawValue(v))
            }
        }
        d.deserialize_newtype_struct(RAW_VALUE_TOKEN, V)
    }
}
