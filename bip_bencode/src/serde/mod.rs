//! Typed decoding and encoding through serde derive (the `serde` feature).
//!
//! [`from_bytes`] parses the input directly into your types in one pass (no
//! tape), borrowing `&[u8]` and `&str` fields from the input, with the same
//! canonical-form rules, limits and error kinds as [`Decoder`]. [`to_vec`]
//! writes canonical bencode: dictionary keys sorted by raw bytes, `None`
//! fields omitted.
//!
//! ```
//! use bip_bencode::serde::{from_bytes, to_vec, RawValue};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, Serialize, Debug, PartialEq)]
//! struct File<'a> {
//!     length: u64,
//!     #[serde(borrow)]
//!     path: Vec<&'a str>,
//! }
//!
//! #[derive(Deserialize, Serialize, Debug, PartialEq)]
//! struct Info<'a> {
//!     name: &'a str,
//!     #[serde(rename = "piece length")]
//!     piece_length: u32,
//!     #[serde(with = "bip_bencode::serde::bytes")]
//!     pieces: &'a [u8],
//!     #[serde(borrow)]
//!     files: Option<Vec<File<'a>>>,
//!     length: Option<u64>,
//! }
//!
//! #[derive(Deserialize)]
//! struct Torrent<'a> {
//!     announce: Option<&'a str>,
//!     #[serde(borrow)]
//!     info: RawValue<'a>, // the exact bytes, for the info hash
//! }
//!
//! let input = b"d8:announce3:url4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces3:abcee";
//! let t: Torrent = from_bytes(input)?;
//! assert_eq!(t.announce, Some("url"));
//! let info: Info = t.info.decode()?;
//! assert_eq!(info.length, Some(5));
//! assert_eq!(info.files, None);
//! assert_eq!(to_vec(&info)?, t.info.as_bytes()); // sorted keys, None omitted
//!
//! // Strict by default; errors carry the byte offset.
//! let err = from_bytes::<Info>(b"d4:name1:x4:name1:ye").unwrap_err();
//! assert_eq!(err.to_string(), "duplicate dictionary key at offset 10");
//! # Ok::<(), bip_bencode::serde::Error>(())
//! ```
//!
//! # Data model
//! Integers of every width are bencode integers (out-of-range values are an
//! error naming the offset); `bool` is `i0e`/`i1e`; strings and `char`s are
//! byte strings (UTF-8 checked when decoding); `&[u8]` borrows a byte string
//! (use [`bytes`] to also *write* byte slices, `Vec<u8>` and `[u8; N]` as byte
//! strings; they decode from byte strings either way); sequences and tuples
//! are lists; structs and maps are dictionaries (map keys: strings, bytes,
//! or integers written in decimal); `Option` fields are absent keys; unit
//! enum variants are their name, other variants `d<name><value>e`; `()` is an
//! empty list. Floats are [`Error::Unsupported`].
//!
//! [`Bencode`](crate::Bencode) takes any value (a whole document, or a
//! struct field of unknown shape, with `#[serde(borrow)]`): `from_bytes::<Bencode>`
//! builds in one pass the tree [`Value::to_bencode`] gives, byte strings
//! borrowed from the input and never checked for UTF-8.

mod bencode;
pub mod bytes;
mod de;
mod error;
mod raw;
mod ser;
mod value;

pub use de::Deserializer;
pub use error::{CustomError, Error, Unsupported};
pub use raw::RawValue;
pub use ser::Serializer;
pub use value::ValueDeserializer;

use ::serde::{Deserialize, Serialize};

use crate::{Decoder, Mode, Value};

fn run<'de, T: Deserialize<'de>>(mut de: Deserializer<'de>) -> Result<T, Error> {
    de.check_input()?;
    let v = T::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Decode `T` from canonical bencode (strict mode, default [`Limits`](crate::Limits)),
/// rejecting trailing data.
pub fn from_bytes<'de, T: Deserialize<'de>>(input: &'de [u8]) -> Result<T, Error> {
    run(Deserializer::new(input))
}

/// Decode `T` leniently (what libtorrent accepts: unsorted or duplicate keys,
/// leading zeros, `-0`), default limits, rejecting trailing data.
pub fn from_bytes_lenient<'de, T: Deserialize<'de>>(input: &'de [u8]) -> Result<T, Error> {
    run(Deserializer::new(input).mode(Mode::Lenient))
}

/// Decode `T` with the mode and limits of `decoder` (trailing data is always
/// rejected; use [`Deserializer`] and [`Deserializer::remaining`] to accept
/// it).
pub fn from_bytes_with<'de, T: Deserialize<'de>>(
    decoder: &Decoder,
    input: &'de [u8],
) -> Result<T, Error> {
    run(Deserializer::from_decoder(decoder, input))
}

/// Decode `T` from a value of an already decoded [`Document`](crate::Document),
/// e.g. after navigating to a subtree. Byte strings and
/// [`RawValue`]s borrow from the document's input.
///
/// ```
/// use bip_bencode::{decode, serde::from_value};
/// let doc = decode(b"d1:rd2:id2:abee")?;
/// let r = doc.root().get(b"r").unwrap();
/// let m: std::collections::BTreeMap<String, &[u8]> = from_value(r)?;
/// assert_eq!(m["id"], b"ab");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value<'a, T: Deserialize<'a>>(value: Value<'a, '_>) -> Result<T, Error> {
    T::deserialize(ValueDeserializer::new(value))
}

/// Append the canonical encoding of `value` to `out`.
pub fn to_vec_into<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    let start = out.len();
    value.serialize(&mut Serializer::new(out))?;
    if out.len() == start {
        return Err(Error::Unsupported(Unsupported::NoneTopLevel));
    }
    Ok(())
}

/// Encode `value` as canonical bencode.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    to_vec_into(&mut out, value)?;
    Ok(out)
}

/// Encode `value` as canonical bencode into `writer` (one `write_all`).
pub fn to_writer<W: std::io::Write, T: ?Sized + Serialize>(
    mut writer: W,
    value: &T,
) -> Result<(), Error> {
    let out = to_vec(value)?;
    writer.write_all(&out)?;
    Ok(())
}
