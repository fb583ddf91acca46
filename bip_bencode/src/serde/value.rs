//! Typed decoding of an already decoded tape [`Value`].

use ::serde::de::{self, DeserializeSeed, Unexpected, Visitor};
use ::serde::forward_to_deserialize_any;

use super::bencode::{BigIntAccess, BENCODE_TOKEN};
use super::error::{Error, Unsupported};
use super::raw::RAW_VALUE_TOKEN;
use crate::{DictIter, Kind, ListIter, Value};

type Result<T> = std::result::Result<T, Error>;

/// A serde deserializer over a tape [`Value`] (see [`from_value`](super::from_value)).
/// The tape was validated when it was decoded, so only type errors remain.
#[derive(Clone, Copy)]
pub struct ValueDeserializer<'a, 'd> {
    v: Value<'a, 'd>,
}

impl<'a, 'd> ValueDeserializer<'a, 'd> {
    /// A deserializer for `v`.
    pub fn new(v: Value<'a, 'd>) -> Self {
        ValueDeserializer { v }
    }

    #[cold]
    fn invalid_type(&self, exp: &dyn de::Expected) -> Error {
        let unexp = match self.v.kind() {
            Kind::Int => Unexpected::Other("integer"),
            Kind::Bytes => Unexpected::Other("byte string"),
            Kind::List => Unexpected::Seq,
            Kind::Dict => Unexpected::Map,
        };
        <Error as de::Error>::invalid_type(unexp, exp).at(self.v.offset())
    }

    fn int(&self, exp: &dyn de::Expected) -> Result<i64> {
        match self.v.kind() {
            Kind::Int => self.v.as_int().ok_or_else(|| {
                <Error as de::Error>::custom("integer out of range").at(self.v.offset())
            }),
            _ => Err(self.invalid_type(exp)),
        }
    }

    fn bytes(&self, exp: &dyn de::Expected) -> Result<&'a [u8]> {
        self.v.as_bytes().ok_or_else(|| self.invalid_type(exp))
    }
}

macro_rules! value_int {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
            let i = self.int(&visitor)?;
            match <$ty>::try_from(i) {
                Ok(x) => visitor.$visit(x),
                Err(_) => Err(<Error as de::Error>::invalid_value(Unexpected::Signed(i), &visitor)),
            }
            .map_err(|e: Error| e.at(self.v.offset()))
        }
    )*};
}

impl<'a> de::Deserializer<'a> for ValueDeserializer<'a, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        let off = self.v.offset();
        match self.v.kind() {
            Kind::Int => match self.v.as_int() {
                Some(i) => visitor.visit_i64(i),
                None => Err(<Error as de::Error>::custom("integer out of range")),
            },
            Kind::Bytes => {
                let b = self.bytes(&visitor)?;
                match std::str::from_utf8(b) {
                    Ok(s) => visitor.visit_borrowed_str(s),
                    Err(_) => visitor.visit_borrowed_bytes(b),
                }
            }
            Kind::List => return self.deserialize_seq(visitor),
            Kind::Dict => return self.deserialize_map(visitor),
        }
        .map_err(|e: Error| e.at(off))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.int(&visitor)? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            i => Err(<Error as de::Error>::invalid_value(
                Unexpected::Signed(i),
                &"0 or 1",
            )),
        }
        .map_err(|e: Error| e.at(self.v.offset()))
    }

    value_int! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error::Unsupported(Unsupported::Float))
    }

    fn deserialize_f64<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error::Unsupported(Unsupported::Float))
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        let b = self.bytes(&visitor)?;
        match std::str::from_utf8(b) {
            Ok(s) => visitor.visit_borrowed_str(s),
            Err(_) => Err(<Error as de::Error>::invalid_value(
                Unexpected::Bytes(b),
                &visitor,
            )),
        }
        .map_err(|e: Error| e.at(self.v.offset()))
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        let b = self.bytes(&visitor)?;
        visitor
            .visit_borrowed_bytes(b)
            .map_err(|e: Error| e.at(self.v.offset()))
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == BENCODE_TOKEN {
            // Any value for the `Bencode` visitor, byte strings as bytes
            // (no UTF-8 check), integers outside `i64` as their digits.
            let off = self.v.offset();
            return match self.v.kind() {
                Kind::Int => match (self.v.as_int(), self.v.int_digits()) {
                    (Some(i), _) => visitor.visit_i64(i),
                    (None, Some(d)) => visitor.visit_enum(BigIntAccess::new(d)),
                    (None, None) => Err(self.invalid_type(&visitor)),
                },
                Kind::Bytes => {
                    let b = self.bytes(&visitor)?;
                    visitor.visit_borrowed_bytes(b)
                }
                Kind::List => return self.deserialize_seq(visitor),
                Kind::Dict => return self.deserialize_map(visitor),
            }
            .map_err(|e: Error| e.at(off));
        }
        if name == RAW_VALUE_TOKEN {
            return visitor.visit_borrowed_bytes(self.v.raw());
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        let off = self.v.offset();
        if let Some(list) = self.v.as_list() {
            let mut seq = Seq { it: list.iter() };
            let r = visitor.visit_seq(&mut seq).map_err(|e: Error| e.at(off))?;
            if seq.it.next().is_some() {
                return Err(<Error as de::Error>::custom("too many list elements").at(off));
            }
            return Ok(r);
        }
        if let Some(b) = self.v.as_bytes() {
            let mut seq = de::value::SeqDeserializer::new(b.iter().copied());
            let r = visitor.visit_seq(&mut seq).map_err(|e: Error| e.at(off))?;
            seq.end().map_err(|e: Error| e.at(off))?;
            return Ok(r);
        }
        Err(self.invalid_type(&visitor))
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.v.as_dict() {
            Some(d) => visitor
                .visit_map(Map {
                    it: d.iter(),
                    value: None,
                })
                .map_err(|e: Error| e.at(self.v.offset())),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let off = self.v.offset();
        if let Some(b) = self.v.as_bytes() {
            return visitor
                .visit_enum(Variant {
                    name: b,
                    value: None,
                })
                .map_err(|e: Error| e.at(off));
        }
        if let Some(d) = self.v.as_dict() {
            let mut it = d.iter();
            if let (Some((k, v)), None) = (it.next(), it.next()) {
                return visitor
                    .visit_enum(Variant {
                        name: k,
                        value: Some(v),
                    })
                    .map_err(|e: Error| e.at(off));
            }
        }
        Err(self.invalid_type(&visitor))
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

struct Seq<'a, 'd> {
    it: ListIter<'a, 'd>,
}

impl<'a> de::SeqAccess<'a> for Seq<'a, '_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.it.next() {
            Some(v) => seed.deserialize(ValueDeserializer::new(v)).map(Some),
            None => Ok(None),
        }
    }
}

struct Map<'a, 'd> {
    it: DictIter<'a, 'd>,
    value: Option<Value<'a, 'd>>,
}

impl<'a> de::MapAccess<'a> for Map<'a, '_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.it.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(Key { key: k }).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(v) => seed.deserialize(ValueDeserializer::new(v)),
            None => Err(<Error as de::Error>::custom("map value without a key")),
        }
    }
}

/// A dictionary key from the tape.
struct Key<'a> {
    key: &'a [u8],
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match std::str::from_utf8(self.key) {
            Ok(s) => visitor.visit_borrowed_str(s),
            Err(_) => visitor.visit_borrowed_bytes(self.key),
        }
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(Variant {
            name: self.key,
            value: None,
        })
    }
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        ignored_any
    }
}

/// An enum: its variant name and, unless it is a bare unit variant, its value.
struct Variant<'a, 'd> {
    name: &'a [u8],
    value: Option<Value<'a, 'd>>,
}

impl<'a, 'd> de::EnumAccess<'a> for Variant<'a, 'd> {
    type Error = Error;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self)> {
        let v = seed.deserialize(Key { key: self.name })?;
        Ok((v, self))
    }
}

impl<'a> de::VariantAccess<'a> for Variant<'a, '_> {
    type Error = Error;
    fn unit_variant(self) -> Result<()> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value> {
        match self.value {
            Some(v) => seed.deserialize(ValueDeserializer::new(v)),
            None => Err(<Error as de::Error>::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }
    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        match self.value {
            Some(v) => de::Deserializer::deserialize_seq(ValueDeserializer::new(v), visitor),
            None => Err(<Error as de::Error>::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Some(v) => de::Deserializer::deserialize_map(ValueDeserializer::new(v), visitor),
            None => Err(<Error as de::Error>::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}
