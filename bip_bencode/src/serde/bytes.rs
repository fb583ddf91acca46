//! Serialize byte-like fields as bencode byte strings:
//! `#[serde(with = "bip_bencode::serde::bytes")]`.
//!
//! serde serializes `&[u8]`, `Vec<u8>` and `[u8; N]` as sequences (lists of
//! integers in bencode). With this module they are written as byte strings.
//! Decoding needs no attribute for `&[u8]` (it borrows from the input), and
//! `Vec<u8>` and `[u8; N]` fields are read from byte strings either way; the
//! attribute also works for `Option`s of those types.
//!
//! ```
//! use bip_bencode::serde::{from_bytes, to_vec};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Ping<'a> {
//!     #[serde(with = "bip_bencode::serde::bytes")]
//!     id: [u8; 4],
//!     #[serde(with = "bip_bencode::serde::bytes", borrow)]
//!     token: &'a [u8],
//!     #[serde(with = "bip_bencode::serde::bytes", default, skip_serializing_if = "Option::is_none")]
//!     v: Option<Vec<u8>>,
//! }
//!
//! let p = Ping { id: *b"abcd", token: b"xy", v: None };
//! let out = to_vec(&p)?;
//! assert_eq!(out, b"d2:id4:abcd5:token2:xye");
//! assert_eq!(from_bytes::<Ping>(&out)?, p);
//! # Ok::<(), bip_bencode::serde::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use ::serde::de::{self, Deserializer, Visitor};
use ::serde::ser::Serializer;

/// Types written as a byte string by [`serialize`].
pub trait SerBytes {
    /// Serialize `self` as a byte string (or `None`).
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// Types read from a byte string by [`deserialize`].
pub trait DeBytes<'de>: Sized {
    /// Deserialize `Self` from a byte string.
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Serialize a byte-like value as a bencode byte string.
pub fn serialize<T: ?Sized + SerBytes, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.ser_bytes(s)
}

/// Deserialize a byte-like value from a bencode byte string.
pub fn deserialize<'de, T: DeBytes<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::de_bytes(d)
}

impl SerBytes for [u8] {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}
impl SerBytes for &[u8] {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}
impl SerBytes for Vec<u8> {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}
impl SerBytes for Cow<'_, [u8]> {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}
impl<const N: usize> SerBytes for [u8; N] {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}
impl<T: SerBytes> SerBytes for Option<T> {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => s.serialize_some(&Wrap(v)),
            None => s.serialize_none(),
        }
    }
}

struct Wrap<'a, T>(&'a T);

impl<T: SerBytes> ::serde::Serialize for Wrap<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.ser_bytes(s)
    }
}

/// Accepts borrowed, transient or owned bytes (and, for non-bencode
/// formats, sequences of `u8`).
struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Cow<'de, [u8]>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v.as_bytes()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.as_bytes().to_vec()))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            v.push(b);
        }
        Ok(Cow::Owned(v))
    }
}

impl<'de: 'a, 'a> DeBytes<'de> for &'a [u8] {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a [u8] as ::serde::Deserialize>::deserialize(d)
    }
}
impl<'de: 'a, 'a> DeBytes<'de> for Cow<'a, [u8]> {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(BytesVisitor)
    }
}
impl<'de> DeBytes<'de> for Vec<u8> {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_byte_buf(BytesVisitor).map(Cow::into_owned)
    }
}
impl<'de, const N: usize> DeBytes<'de> for [u8; N] {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let b = d.deserialize_bytes(BytesVisitor)?;
        <[u8; N]>::try_from(&*b)
            .map_err(|_| de::Error::invalid_length(b.len(), &&*format!("{N} bytes")))
    }
}
impl<'de, T: DeBytes<'de>> DeBytes<'de> for Option<T> {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OptV<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeBytes<'de>> Visitor<'de> for OptV<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an optional byte string")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                T::de_bytes(d).map(Some)
            }
        }
        d.deserialize_option(OptV(std::marker::PhantomData))
    }
}

/// A list of byte strings (`values` in a DHT `get_peers` response).
impl<T: SerBytes> SerBytes for Vec<T> {
    fn ser_bytes<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ::serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for v in self {
            seq.serialize_element(&Wrap(v))?;
        }
        seq.end()
    }
}

/// A list of byte strings (`values` in a DHT `get_peers` response).
impl<'de, T: DeBytes<'de>> DeBytes<'de> for Vec<T> {
    fn de_bytes<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seed<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeBytes<'de>> de::DeserializeSeed<'de> for Seed<T> {
            type Value = T;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
                T::de_bytes(d)
            }
        }
        struct SeqV<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeBytes<'de>> Visitor<'de> for SeqV<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of byte strings")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element_seed(Seed(std::marker::PhantomData))? {
                    v.push(x);
                }
                Ok(v)
            }
        }
        d.deserialize_seq(SeqV(std::marker::PhantomData))
    }
}
