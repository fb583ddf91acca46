//! The serde `Serializer`: writes canonical bencode into a `Vec<u8>`.

use ::serde::ser::{self, Serialize};

use super::bencode::{valid_digits, BIGINT_TOKEN};
use super::error::{Error, Unsupported};
use super::raw::RAW_VALUE_TOKEN;
use crate::encode;

type Result<T> = std::result::Result<T, Error>;

/// A serde serializer that appends canonical bencode to a `Vec<u8>`.
///
/// Struct fields and map entries are written with their keys sorted by raw
/// bytes, whatever their declaration or iteration order; entries whose value
/// is `None` are omitted (bencode has no null). Booleans are `i0e`/`i1e`,
/// `char`s and strings are byte strings, unit variants are their name as a
/// byte string and other variants `d<name><value>e`; `()` and unit structs
/// are an empty list. Floats, `None` outside a dictionary and map keys that
/// are not strings or byte strings give [`Error::Unsupported`].
///
/// ```
/// use bip_bencode::serde::Serializer;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Ping<'a> { y: &'a str, t: &'a str, v: Option<&'a str> }
///
/// let mut out = Vec::new();
/// Ping { y: "q", t: "aa", v: None }.serialize(&mut Serializer::new(&mut out))?;
/// assert_eq!(out, b"d1:t2:aa1:y1:qe");
/// # Ok::<(), bip_bencode::serde::Error>(())
/// ```
#[derive(Debug)]
pub struct Serializer<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Serializer<'o> {
    /// A serializer appending to `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        Serializer { out }
    }
}

#[inline]
fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = itoa::Buffer::new();
    out.push(b'i');
    out.extend_from_slice(buf.format(v).as_bytes());
    out.push(b'e');
}

#[inline]
fn write_i128(out: &mut Vec<u8>, v: i128) {
    let mut buf = itoa::Buffer::new();
    out.push(b'i');
    out.extend_from_slice(buf.format(v).as_bytes());
    out.push(b'e');
}

impl<'a, 'o> ser::Serializer for &'a mut Serializer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSer<'a, 'o>;
    type SerializeTuple = SeqSer<'a, 'o>;
    type SerializeTupleStruct = SeqSer<'a, 'o>;
    type SerializeTupleVariant = SeqSer<'a, 'o>;
    type SerializeMap = DictSer<'a, 'o>;
    type SerializeStruct = DictSer<'a, 'o>;
    type SerializeStructVariant = DictSer<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.extend_from_slice(if v { b"i1e" } else { b"i0e" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<()> {
        encode::int(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        write_i128(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(v.into())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<()> {
        write_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        let mut buf = itoa::Buffer::new();
        self.out.push(b'i');
        self.out.extend_from_slice(buf.format(v).as_bytes());
        self.out.push(b'e');
        Ok(())
    }
    fn serialize_f32(self, _v: f32) -> Result<()> {
        Err(Error::Unsupported(Unsupported::Float))
    }
    fn serialize_f64(self, _v: f64) -> Result<()> {
        Err(Error::Unsupported(Unsupported::Float))
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<()> {
        encode::bytes(self.out, v.as_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        encode::bytes(self.out, v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<()> {
        // Writes nothing: the enclosing dictionary drops the key, and a list
        // or the top level reports an error.
        Ok(())
    }
    #[inline]
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.extend_from_slice(b"le");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if name == RAW_VALUE_TOKEN {
            return value.serialize(RawSer {
                out: self.out,
                big_int: false,
            });
        }
        if name == BIGINT_TOKEN {
            return value.serialize(RawSer {
                out: self.out,
                big_int: true,
            });
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        encode::dict_start(self.out);
        encode::bytes(self.out, variant.as_bytes());
        let mark = self.out.len();
        value.serialize(&mut *self)?;
        if self.out.len() == mark {
            return Err(Error::Unsupported(Unsupported::NoneVariant));
        }
        encode::end(self.out);
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqSer<'a, 'o>> {
        encode::list_start(self.out);
        Ok(SeqSer {
            ser: self,
            close: 1,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a, 'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer<'a, 'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SeqSer<'a, 'o>> {
        encode::dict_start(self.out);
        encode::bytes(self.out, variant.as_bytes());
        encode::list_start(self.out);
        Ok(SeqSer {
            ser: self,
            close: 2,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<DictSer<'a, 'o>> {
        Ok(DictSer::new(self, len.unwrap_or(0), 1))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<DictSer<'a, 'o>> {
        Ok(DictSer::new(self, len, 1))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<DictSer<'a, 'o>> {
        encode::dict_start(self.out);
        encode::bytes(self.out, variant.as_bytes());
        Ok(DictSer::new(self, len, 2))
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

/// Serializes lists, tuples and tuple variants.
#[doc(hidden)]
#[derive(Debug)]
pub struct SeqSer<'a, 'o> {
    ser: &'a mut Serializer<'o>,
    /// Number of `e` to write at the end (2 for a tuple variant).
    close: u8,
}

impl SeqSer<'_, '_> {
    #[inline]
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let mark = self.ser.out.len();
        value.serialize(&mut *self.ser)?;
        if self.ser.out.len() == mark {
            return Err(Error::Unsupported(Unsupported::NoneInList));
        }
        Ok(())
    }
    fn finish(self) -> Result<()> {
        for _ in 0..self.close {
            encode::end(self.ser.out);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

/// One written entry: its key's data range and the entry's range (key header
/// through value) in the output.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: (usize, usize),
    span: (usize, usize),
}

/// Serializes maps, structs and struct variants: entries are written in
/// place as they come and reordered at the end if their keys were not
/// already sorted.
#[doc(hidden)]
#[derive(Debug)]
pub struct DictSer<'a, 'o> {
    ser: &'a mut Serializer<'o>,
    /// Offset just after the `d`.
    body: usize,
    entries: Vec<Entry>,
    sorted: bool,
    /// Start of the pending map entry (its key is written, its value not yet).
    pending: Option<(usize, (usize, usize))>,
    /// Number of `e` to write at the end (2 for a struct variant).
    close: u8,
}

impl<'a, 'o> DictSer<'a, 'o> {
    fn new(ser: &'a mut Serializer<'o>, len: usize, close: u8) -> Self {
        encode::dict_start(ser.out);
        let body = ser.out.len();
        DictSer {
            ser,
            body,
            entries: Vec::with_capacity(len.min(64)),
            sorted: true,
            pending: None,
            close,
        }
    }

    /// Write the key (as a byte string) that starts an entry.
    #[inline]
    fn begin(&mut self, key: &[u8]) -> (usize, (usize, usize)) {
        let mark = self.ser.out.len();
        encode::bytes(self.ser.out, key);
        let end = self.ser.out.len();
        (mark, (end - key.len(), end))
    }

    /// Serialize the value of the entry begun at `mark`; drop the entry if
    /// the value wrote nothing (`None`).
    #[inline]
    fn value<T: ?Sized + Serialize>(
        &mut self,
        mark: usize,
        key: (usize, usize),
        value: &T,
    ) -> Result<()> {
        let vstart = self.ser.out.len();
        value.serialize(&mut *self.ser)?;
        let end = self.ser.out.len();
        if end == vstart {
            self.ser.out.truncate(mark);
            return Ok(());
        }
        if self.sorted {
            if let Some(last) = self.entries.last() {
                let out = &self.ser.out;
                if out[key.0..key.1] <= out[last.key.0..last.key.1] {
                    self.sorted = false;
                }
            }
        }
        self.entries.push(Entry {
            key,
            span: (mark, end),
        });
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if !self.sorted {
            let body = self.ser.out.split_off(self.body);
            let base = self.body;
            self.entries
                .sort_unstable_by(|a, b| rel(&body, base, a.key).cmp(rel(&body, base, b.key)));
            for w in self.entries.windows(2) {
                if rel(&body, base, w[0].key) == rel(&body, base, w[1].key) {
                    return Err(Error::Unsupported(Unsupported::DuplicateKey));
                }
            }
            for e in &self.entries {
                self.ser.out.extend_from_slice(rel(&body, base, e.span));
            }
        }
        for _ in 0..self.close {
            encode::end(self.ser.out);
        }
        Ok(())
    }
}

#[inline]
fn rel(body: &[u8], base: usize, r: (usize, usize)) -> &[u8] {
    &body[r.0 - base..r.1 - base]
}

impl ser::SerializeMap for DictSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let mark = self.ser.out.len();
        key.serialize(KeySer {
            out: &mut *self.ser.out,
        })?;
        // The key is a complete byte string `N:data`.
        let end = self.ser.out.len();
        let colon = self.ser.out[mark..]
            .iter()
            .position(|&c| c == b':')
            .map_or(end, |i| mark + i + 1);
        self.pending = Some((mark, (colon, end)));
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let (mark, key) = self
            .pending
            .take()
            .ok_or(Error::Unsupported(Unsupported::ValueWithoutKey))?;
        self.value(mark, key, value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStruct for DictSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let (mark, k) = self.begin(key.as_bytes());
        self.value(mark, k, value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for DictSer<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let (mark, k) = self.begin(key.as_bytes());
        self.value(mark, k, value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

/// Serializes a map key: strings, byte strings, chars, integers (written in
/// decimal) and unit variants become byte strings; anything else is
/// unsupported.
struct KeySer<'o> {
    out: &'o mut Vec<u8>,
}

const KEY_ERR: Error = Error::Unsupported(Unsupported::KeyType);

macro_rules! key_int {
    ($($method:ident => $ty:ty;)*) => {$(
        fn $method(self, v: $ty) -> Result<()> {
            let mut buf = itoa::Buffer::new();
            encode::bytes(self.out, buf.format(v).as_bytes());
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeySer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    key_int! {
        serialize_i8 => i8; serialize_i16 => i16; serialize_i32 => i32; serialize_i64 => i64;
        serialize_i128 => i128; serialize_u8 => u8; serialize_u16 => u16; serialize_u32 => u32;
        serialize_u64 => u64; serialize_u128 => u128;
    }

    fn serialize_bool(self, _v: bool) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_f32(self, _v: f32) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_f64(self, _v: f64) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        encode::bytes(self.out, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        encode::bytes(self.out, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(KEY_ERR)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(KEY_ERR)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(KEY_ERR)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(KEY_ERR)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(KEY_ERR)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(KEY_ERR)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(KEY_ERR)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(KEY_ERR)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

/// Writes the bytes of a [`RawValue`](super::RawValue) verbatim, or (with
/// `big_int`) the digits of a [`Bencode::BigInt`](crate::Bencode::BigInt)
/// as an integer.
struct RawSer<'o> {
    out: &'o mut Vec<u8>,
    big_int: bool,
}

const RAW_ERR: Error = Error::Unsupported(Unsupported::RawValue);

impl ser::Serializer for RawSer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        if self.big_int {
            return Err(Error::Unsupported(Unsupported::BigIntDigits));
        }
        self.out.extend_from_slice(v);
        Ok(())
    }

    fn serialize_bool(self, _v: bool) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_i8(self, _v: i8) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_i16(self, _v: i16) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_i32(self, _v: i32) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_i64(self, _v: i64) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_u8(self, _v: u8) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_u16(self, _v: u16) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_u32(self, _v: u32) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_u64(self, _v: u64) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_f32(self, _v: f32) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_f64(self, _v: f64) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_char(self, _v: char) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        if !self.big_int {
            return Err(RAW_ERR);
        }
        let v = v.as_bytes();
        if !valid_digits(v) {
            return Err(Error::Unsupported(Unsupported::BigIntDigits));
        }
        // Canonical: no leading zeros, no `-0`.
        let (neg, digits) = match v.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, v),
        };
        let digits = match digits.iter().position(|&d| d != b'0') {
            Some(i) => &digits[i..],
            None => &b"0"[..],
        };
        self.out.push(b'i');
        if neg && digits != b"0" {
            self.out.push(b'-');
        }
        self.out.extend_from_slice(digits);
        self.out.push(b'e');
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_unit(self) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(RAW_ERR)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(RAW_ERR)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(RAW_ERR)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(RAW_ERR)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(RAW_ERR)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(RAW_ERR)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(RAW_ERR)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(RAW_ERR)
    }
}
