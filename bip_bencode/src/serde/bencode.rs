//! serde impls for the owned tree [`Bencode`].
//!
//! Decoding asks for the newtype struct [`BENCODE_TOKEN`]: this crate's
//! deserializers take that as "any value, byte strings as bytes" and skip
//! the UTF-8 check `deserialize_any` does to choose between `str` and bytes
//! (byte strings are bytes in the tree either way). Any other deserializer
//! sees an ordinary newtype struct and the visitor falls back to
//! `deserialize_any`, so every self-describing format works.
//!
//! Integers outside `i64` reach the visitor either as `u64`/`i128`/`u128`
//! (any deserializer) or, from this crate's deserializers, as an enum with
//! the private variant [`BIGINT_TOKEN`] whose value is the digits exactly as
//! written: both become [`Bencode::BigInt`], as [`Value::to_bencode`](crate::Value::to_bencode)
//! gives for documents decoded with `max_int_digits` above 19.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use ::serde::de::value::BorrowedBytesDeserializer;
use ::serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, Unexpected, Visitor};
use ::serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use ::serde::Deserialize;

use crate::Bencode;

/// The newtype-struct name through which [`Bencode`] asks this crate's
/// deserializers for any value with byte strings as bytes.
pub(crate) const BENCODE_TOKEN: &str = "$bip_bencode::private::Bencode";

/// The enum variant (and, when encoding, newtype-struct) name that carries
/// the digits of an integer outside `i64`.
pub(crate) const BIGINT_TOKEN: &str = "$bip_bencode::private::BigInt";

/// `digits` is an optional `-` and at least one ASCII digit.
pub(crate) fn valid_digits(digits: &[u8]) -> bool {
    let d = digits.strip_prefix(b"-").unwrap_or(digits);
    !d.is_empty() && d.iter().all(u8::is_ascii_digit)
}

/// Decoding a [`Bencode`] tree: byte strings (and strings) borrow from the
/// input when the deserializer lends them, and are copied otherwise.
///
/// With this crate's deserializers ([`from_bytes`](super::from_bytes) and
/// the others) the tree is built in the same single pass that validates the
/// input, and equals what [`Value::to_bencode`](crate::Value::to_bencode)
/// gives for the same input and [`Decoder`](crate::Decoder) settings: a
/// repeated dictionary key (lenient mode) keeps its first value, integers
/// outside `i64` (only accepted with `max_int_digits` above 19) are
/// [`Bencode::BigInt`] with their digits as written.
///
/// From other formats: booleans are `0`/`1`, integers beyond `i64` are
/// [`Bencode::BigInt`] in decimal, `Some(x)` is `x`; floats, units and
/// `None` are errors.
///
/// ```
/// use std::borrow::Cow;
/// use bip_bencode::{serde::from_bytes, Bencode};
///
/// let input = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
/// let msg: Bencode = from_bytes(input)?;
/// assert_eq!(msg.get(b"q").and_then(Bencode::as_bytes), Some(&b"ping"[..]));
/// // Byte strings borrow from the input.
/// assert!(matches!(msg.get(b"t"), Some(Bencode::Bytes(Cow::Borrowed(b"aa")))));
/// assert_eq!(bip_bencode::serde::to_vec(&msg)?, input);
/// # Ok::<(), bip_bencode::serde::Error>(())
/// ```
impl<'de: 'a, 'a> Deserialize<'de> for Bencode<'a> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Bencode::Int(0);
        Slot(&mut out).deserialize(d)?;
        Ok(out)
    }
}

/// Decodes one value into the place it goes: a list element or dictionary
/// value is stored where it ends up (a placeholder pushed or inserted
/// first, then overwritten) instead of being returned up the recursion
/// inside a `Result`. Large `Result<Bencode, _>` return values, copied at
/// every level, cost more than the parsing itself.
struct Slot<'s, 'de>(&'s mut Bencode<'de>);

impl<'de> DeserializeSeed<'de> for Slot<'_, 'de> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_newtype_struct(BENCODE_TOKEN, self)
    }
}

impl<'s, 'de> Slot<'s, 'de> {
    #[inline(always)]
    fn put<E>(self, v: Bencode<'de>) -> Result<(), E> {
        *self.0 = v;
        Ok(())
    }
}

/// An integer beyond `i64`, in decimal.
fn big<'a>(v: impl itoa::Integer) -> Bencode<'a> {
    let mut buf = itoa::Buffer::new();
    Bencode::BigInt(Cow::Owned(buf.format(v).as_bytes().to_vec()))
}

impl<'de> Visitor<'de> for Slot<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bencode value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.put(Bencode::Int(i64::from(v)))
    }

    #[inline]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.put(Bencode::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.put(match i64::try_from(v) {
            Ok(i) => Bencode::Int(i),
            Err(_) => big(v),
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        self.put(match i64::try_from(v) {
            Ok(i) => Bencode::Int(i),
            Err(_) => big(v),
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        self.put(match i64::try_from(v) {
            Ok(i) => Bencode::Int(i),
            Err(_) => big(v),
        })
    }

    #[inline]
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Borrowed(v)))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Owned(v.to_vec())))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Owned(v)))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Borrowed(v.as_bytes())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Owned(v.as_bytes().to_vec())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.put(Bencode::Bytes(Cow::Owned(v.into_bytes())))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // A deserializer that does not know the token: any value will do.
        d.deserialize_any(self)
    }

    #[inline]
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut l = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            l.push(Bencode::Int(0));
            let last = l.last_mut().expect("just pushed");
            if seq.next_element_seed(Slot(last))?.is_none() {
                l.pop();
                break;
            }
        }
        self.put(Bencode::List(l))
    }

    #[inline]
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut m = BTreeMap::new();
        while let Some(k) = map.next_key_seed(BytesSeed)? {
            match m.entry(k) {
                Entry::Vacant(e) => map.next_value_seed(Slot(e.insert(Bencode::Int(0))))?,
                // Lenient input may repeat a key: the first one wins, as in
                // lookups and `Value::to_bencode`. The later value is still
                // decoded in full (and so checked the same way).
                Entry::Occupied(_) => map.next_value_seed(Slot(&mut Bencode::Int(0)))?,
            }
        }
        self.put(Bencode::Dict(m))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // Only this crate's deserializers send this: an integer beyond `i64`.
        let (BigIntTag, v) = data.variant::<BigIntTag>()?;
        let digits = de::VariantAccess::newtype_variant_seed(v, BytesSeed)?;
        if !valid_digits(&digits) {
            return Err(de::Error::invalid_value(
                Unexpected::Bytes(&digits),
                &"the decimal digits of an integer",
            ));
        }
        self.put(Bencode::BigInt(digits))
    }
}

/// The [`BIGINT_TOKEN`] variant name; any other name is an error (bencode
/// has no enums).
struct BigIntTag;

impl<'de> Deserialize<'de> for BigIntTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = BigIntTag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bencode value (bencode has no enums)")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<BigIntTag, E> {
                if v == BIGINT_TOKEN.as_bytes() {
                    Ok(BigIntTag)
                } else {
                    Err(E::invalid_type(Unexpected::Enum, &self))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BigIntTag, E> {
                self.visit_bytes(v.as_bytes())
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A byte string (a dictionary key, the digits of a big integer), borrowed
/// when the deserializer lends it. Integer map keys (from other formats)
/// become their decimal digits.
struct BytesSeed;

impl<'de> DeserializeSeed<'de> for BytesSeed {
    type Value = Cow<'de, [u8]>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for BytesSeed {
    type Value = Cow<'de, [u8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    #[inline]
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

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.into_bytes()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(
            itoa::Buffer::new().format(v).as_bytes().to_vec(),
        ))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(
            itoa::Buffer::new().format(v).as_bytes().to_vec(),
        ))
    }
}

/// What this crate's deserializers give the [`Bencode`] visitor for an
/// integer outside `i64`: the variant [`BIGINT_TOKEN`] holding its digits
/// as written.
pub(crate) struct BigIntAccess<'de, E> {
    digits: &'de [u8],
    error: PhantomData<E>,
}

impl<'de, E> BigIntAccess<'de, E> {
    pub(crate) fn new(digits: &'de [u8]) -> Self {
        BigIntAccess {
            digits,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> EnumAccess<'de> for BigIntAccess<'de, E> {
    type Error = E;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), E> {
        let tag = seed.deserialize(BorrowedBytesDeserializer::<E>::new(BIGINT_TOKEN.as_bytes()))?;
        Ok((tag, self))
    }
}

impl<'de, E: de::Error> de::VariantAccess<'de> for BigIntAccess<'de, E> {
    type Error = E;

    fn unit_variant(self) -> Result<(), E> {
        Err(E::invalid_type(Unexpected::NewtypeVariant, &"unit variant"))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, E> {
        seed.deserialize(BorrowedBytesDeserializer::<E>::new(self.digits))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, E> {
        Err(E::invalid_type(
            Unexpected::NewtypeVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, E> {
        Err(E::invalid_type(
            Unexpected::NewtypeVariant,
            &"struct variant",
        ))
    }
}

/// Encoding a [`Bencode`] tree: byte strings through `serialize_bytes`,
/// lists as sequences, dictionaries as maps in key order (keys as bytes),
/// integers as `i64`.
///
/// [`Bencode::BigInt`] digits that fit in `i128` or `u128` are written as
/// that integer; longer ones go through a private newtype struct that this
/// crate's [`Serializer`](super::Serializer) writes as the integer itself
/// (canonically: leading zeros dropped, `-0` as `0`) and other serializers
/// see as a string of the digits. Digits that are not an optional `-` and
/// ASCII digits are an error.
impl Serialize for Bencode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Bencode::Int(i) => s.serialize_i64(*i),
            Bencode::Bytes(b) => s.serialize_bytes(b),
            Bencode::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Bencode::Dict(d) => {
                let mut map = s.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(&Key(k), v)?;
                }
                map.end()
            }
            Bencode::BigInt(d) => {
                if !valid_digits(d) {
                    return Err(::serde::ser::Error::custom(
                        "Bencode::BigInt holding something other than decimal digits",
                    ));
                }
                // ASCII digits and `-`: always UTF-8.
                let text = std::str::from_utf8(d).map_err(::serde::ser::Error::custom)?;
                if let Ok(v) = text.parse::<i128>() {
                    s.serialize_i128(v)
                } else if let Ok(v) = text.parse::<u128>() {
                    s.serialize_u128(v)
                } else {
                    s.serialize_newtype_struct(BIGINT_TOKEN, text)
                }
            }
        }
    }
}

/// A dictionary key, written as bytes.
struct Key<'k>(&'k [u8]);

impl Serialize for Key<'_> {
    #[inline]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}
