//! Zero-copy bencode for BitTorrent: decode with the exact raw bytes of every
//! value, strict (canonical) and lenient (libtorrent-compatible) modes, hard
//! limits, canonical encoding, and serde support behind the `serde` feature.
//!
//! ```
//! use bip_bencode::{decode, ben_map, ben_list, Decoder};
//!
//! // Decode: values borrow from the input and know their raw bytes.
//! let input = b"d4:infod6:lengthi5e4:name3:abce8:url-listl5:http:ee";
//! let doc = decode(input)?;
//! let root = doc.root().dict()?;
//! let info = root.require(b"info")?;
//! assert_eq!(info.raw(), b"d6:lengthi5e4:name3:abce"); // hash these for the info hash
//! assert_eq!(info.dict()?.get_int(b"length")?, 5);
//! assert_eq!(info.dict()?.get_str(b"name")?, "abc");
//!
//! // Typed accessors say what was wrong and where.
//! let err = info.dict()?.get_str(b"length").unwrap_err();
//! assert_eq!(err.to_string(), "`info.length`: expected byte string, found integer at offset 16");
//!
//! // Lenient mode accepts what libtorrent accepts and lists each soft fault.
//! let doc = Decoder::lenient().decode(b"d1:bi1e1:ai2ee")?;
//! assert_eq!(doc.soft_faults().len(), 1);
//!
//! // Encode: keys are always sorted.
//! let v = ben_map! { "name" => "abc", "length" => 5, "tags" => ben_list!["a", "b"] };
//! assert_eq!(v.encode(), b"d6:lengthi5e4:name3:abc4:tagsl1:a1:bee");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design
//! Decoding makes one pass over the input and writes a flat tape of 8-byte
//! tokens (libtorrent's `bdecode` approach); a [`Value`] is a cursor into the
//! tape, so navigation never allocates and byte strings borrow from the input.
//! A [`Decoder`] can be reused ([`Decoder::recycle`]) so that decoding a stream
//! of messages allocates nothing after the first.
//!
//! # Limits
//! No input can overflow the stack (the decoder is iterative) or make it
//! allocate more than a constant times the input's length. [`Limits`] bounds
//! nesting depth (default 512), item count and integer width (default `i64`).

mod decode;
pub mod encode;
mod error;
#[doc(hidden)]
pub mod owned;
mod value;

#[cfg(feature = "serde")]
pub mod serde;
#[cfg(feature = "serde")]
pub use crate::serde::{
    from_bytes, from_bytes_lenient, from_bytes_with, from_value, to_vec, to_writer, RawValue,
};

pub use decode::{decode, decode_lenient, Decoder, Document, Limits, Mode};
pub use error::{
    AccessError, DecodeError, DecodeErrorKind, Expected, Kind, SoftFault, SoftFaultKind,
};
pub use owned::{Bencode, IntoKey};
pub use value::{Dict, DictIter, EntryHandle, List, ListIter, Value};
