//! The error type of typed decoding and encoding.

use std::fmt;

use crate::DecodeError;

/// A typed decode or encode failure.
///
/// Kept at 16 bytes (large payloads are boxed) so that results stay cheap to
/// pass around on the decoder's hot path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not valid bencode (or not canonical in strict mode, or it
    /// broke a [`Limits`](crate::Limits) bound); carries the byte offset.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A message from serde or a `Deserialize`/`Serialize` impl (a missing
    /// field, a value of the wrong type, an integer out of range...), with the
    /// byte offset of the value it is about when decoding.
    #[error(transparent)]
    Custom(Box<CustomError>),
    /// A Rust type or value bencode cannot represent.
    #[error("unsupported: {0}")]
    Unsupported(Unsupported),
    /// Writing the output failed ([`to_writer`](super::to_writer)).
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A serde message with the input offset it refers to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Offset(*.offset))]
#[non_exhaustive]
pub struct CustomError {
    /// The message.
    pub message: String,
    /// Byte offset in the input of the value the message is about (`None`
    /// when encoding).
    pub offset: Option<usize>,
}

/// What bencode cannot represent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// `f32`/`f64`.
    #[error("floating point numbers")]
    Float,
    /// `None` as a list element (bencode has no null).
    #[error("None in a list")]
    NoneInList,
    /// `None` as the whole value.
    #[error("None at the top level")]
    NoneTopLevel,
    /// `None` as the value of an enum variant.
    #[error("None as an enum variant's value")]
    NoneVariant,
    /// A map key that is not a string, byte string, integer or unit variant.
    #[error("dictionary key that is not a string or bytes")]
    KeyType,
    /// A map serialized two entries with the same key.
    #[error("duplicate dictionary key")]
    DuplicateKey,
    /// A map value was serialized without a key.
    #[error("map value without a key")]
    ValueWithoutKey,
    /// A [`RawValue`](super::RawValue) was given something other than bytes.
    #[error("RawValue content that is not bytes")]
    RawValue,
    /// A [`Bencode::BigInt`](crate::Bencode::BigInt) whose content is not an
    /// optional `-` and decimal digits.
    #[error("Bencode::BigInt content that is not decimal digits")]
    BigIntDigits,
}

struct Offset(Option<usize>);

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(o) => write!(f, " at offset {o}"),
            None => Ok(()),
        }
    }
}

impl Error {
    /// The byte offset in the input that the error refers to, if known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Decode(e) => Some(e.offset),
            Error::Custom(c) => c.offset,
            _ => None,
        }
    }

    /// The decode error, if the input itself was malformed.
    pub fn as_decode(&self) -> Option<&DecodeError> {
        match self {
            Error::Decode(e) => Some(e),
            _ => None,
        }
    }

    /// Attach `offset` to a [`Error::Custom`] that has none yet (the innermost
    /// value wins).
    #[inline]
    pub(crate) fn at(self, offset: usize) -> Self {
        match self {
            Error::Custom(mut c) if c.offset.is_none() => {
                c.offset = Some(offset);
                Error::Custom(c)
            }
            e => e,
        }
    }

    pub(crate) fn decode(kind: crate::DecodeErrorKind, offset: usize) -> Self {
        Error::Decode(DecodeError { kind, offset })
    }
}

impl ::serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(Box::new(CustomError {
            message: msg.to_string(),
            offset: None,
        }))
    }
}

impl ::serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(Box::new(CustomError {
            message: msg.to_string(),
            offset: None,
        }))
    }
}
