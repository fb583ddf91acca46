//! Error and soft-fault types.

use std::fmt;

/// Why a decode failed. Offsets are byte offsets into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input was empty.
    #[error("empty input")]
    EmptyInput,
    /// A byte that cannot start a value (or end a container) was found.
    #[error("unexpected byte 0x{0:02x}")]
    UnexpectedChar(u8),
    /// An integer was malformed (no digits, a stray character, a lone `-`).
    #[error("invalid integer")]
    InvalidInt,
    /// An integer had a leading zero (strict mode only).
    #[error("leading zero in integer")]
    LeadingZero,
    /// The integer `-0` (strict mode only).
    #[error("negative zero")]
    NegativeZero,
    /// An integer did not fit the configured integer width.
    #[error("integer out of range")]
    IntOverflow,
    /// A string length prefix was malformed.
    #[error("invalid string length")]
    InvalidLength,
    /// A string length had a leading zero (strict mode only).
    #[error("leading zero in string length")]
    LeadingZeroLength,
    /// A string length did not fit in 32 bits.
    #[error("string length overflows")]
    LengthOverflow,
    /// A string length pointed past the end of the input.
    #[error("string length past end of input")]
    LengthPastEnd,
    /// The input ended inside a value.
    #[error("unexpected end of input")]
    Unterminated,
    /// A dictionary key was not a byte string.
    #[error("dictionary key is not a string")]
    NonStringKey,
    /// A dictionary key had no value.
    #[error("dictionary key without value")]
    MissingValue,
    /// Dictionary keys were not in ascending byte order (strict mode only).
    #[error("unsorted dictionary key")]
    UnsortedKeys,
    /// A dictionary key repeated the previous key (strict mode only).
    #[error("duplicate dictionary key")]
    DuplicateKey,
    /// Bytes followed the value although the whole input must be one value.
    #[error("trailing data after value")]
    TrailingData,
    /// Containers nested deeper than `Limits::max_depth`.
    #[error("nesting depth limit exceeded")]
    DepthLimit,
    /// More values than `Limits::max_items`.
    #[error("item count limit exceeded")]
    ItemLimit,
    /// The input is larger than 4 GiB - 1 bytes (offsets are 32 bits).
    #[error("input too large")]
    InputTooLarge,
}

/// A decode failure: what went wrong and at which byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{kind} at offset {offset}")]
#[non_exhaustive]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset in the input where it was detected.
    pub offset: usize,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }
}

/// A deviation from canonical bencode that lenient mode accepted
/// (libtorrent calls these "soft errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SoftFaultKind {
    /// A dictionary key sorted before the previous key.
    UnsortedKey,
    /// A dictionary key equal to the previous key.
    DuplicateKey,
    /// An integer with a leading zero (`i03e`).
    LeadingZero,
    /// The integer `-0`.
    NegativeZero,
    /// A string length with a leading zero (`03:abc`).
    LeadingZeroLength,
}

impl SoftFaultKind {
    /// The hard error strict mode raises for the same input.
    pub fn as_error_kind(self) -> DecodeErrorKind {
        match self {
            SoftFaultKind::UnsortedKey => DecodeErrorKind::UnsortedKeys,
            SoftFaultKind::DuplicateKey => DecodeErrorKind::DuplicateKey,
            SoftFaultKind::LeadingZero => DecodeErrorKind::LeadingZero,
            SoftFaultKind::NegativeZero => DecodeErrorKind::NegativeZero,
            SoftFaultKind::LeadingZeroLength => DecodeErrorKind::LeadingZeroLength,
        }
    }
}

impl fmt::Display for SoftFaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_error_kind(), f)
    }
}

/// One soft fault with the offset of the value (or key) that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SoftFault {
    /// What deviates from canonical form.
    pub kind: SoftFaultKind,
    /// Byte offset of the offending key or value.
    pub offset: usize,
}

impl fmt::Display for SoftFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

/// The kind of a bencode value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `i…e`
    Int,
    /// `N:…`
    Bytes,
    /// `l…e`
    List,
    /// `d…e`
    Dict,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Int => "integer",
            Kind::Bytes => "byte string",
            Kind::List => "list",
            Kind::Dict => "dictionary",
        })
    }
}

/// What a typed accessor expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// A value of this kind.
    Kind(Kind),
    /// A UTF-8 byte string.
    Utf8,
    /// An integer in the range of the requested Rust type.
    IntInRange,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Kind(k) => write!(f, "{k}"),
            Expected::Utf8 => f.write_str("UTF-8 string"),
            Expected::IntInRange => f.write_str("integer in range"),
        }
    }
}

/// A typed accessor found something other than what it expected.
///
/// `path` names where, from the document root: `info.files[3].length`
/// (keys that are not printable are shown as hex, `<0a1b>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// A required dictionary key was absent.
    #[error("missing key `{path}` (dictionary at offset {offset})")]
    Missing {
        /// Path of the missing key.
        path: String,
        /// Offset of the dictionary that lacks it.
        offset: usize,
    },
    /// The value had the wrong type (or was out of range).
    #[error("`{path}`: expected {expected}, found {found} at offset {offset}")]
    Type {
        /// Path of the value.
        path: String,
        /// What the accessor wanted.
        expected: Expected,
        /// What the value is.
        found: Kind,
        /// Offset of the value.
        offset: usize,
    },
}

impl AccessError {
    /// The path of the offending value.
    pub fn path(&self) -> &str {
        match self {
            AccessError::Missing { path, .. } | AccessError::Type { path, .. } => path,
        }
    }
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            AccessError::Missing { offset, .. } | AccessError::Type { offset, .. } => *offset,
        }
    }
}
