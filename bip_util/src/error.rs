//! Error types shared by the whole crate.
//!
//! Every error is `#[non_exhaustive]`, `Copy` and cheap: they carry only the numbers a caller needs
//! to report or act on the failure (lengths, the byte offset of a bad character).

use thiserror::Error;

/// A byte slice had the wrong length for the fixed-size type it was converted into.
///
/// Returned by `from_slice` / `TryFrom<&[u8]>` on the id types and by
/// [`peer_id_with_prefix`](crate::peer_id_with_prefix) (where `expected` is the maximum).
///
/// ```
/// use bip_util::{InfoHash, LengthError};
///
/// let err = InfoHash::from_slice(&[0u8; 19]).unwrap_err();
/// assert_eq!(err, LengthError::new(20, 19));
/// assert_eq!(err.to_string(), "expected 20 bytes, got 19");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[error("expected {expected} bytes, got {actual}")]
#[non_exhaustive]
pub struct LengthError {
    /// The length the type needs (or, for prefixes, the largest length allowed).
    pub expected: usize,
    /// The length that was given.
    pub actual: usize,
}

impl LengthError {
    /// Creates a length error (the struct is `#[non_exhaustive]`, so other crates build it here).
    pub const fn new(expected: usize, actual: usize) -> Self {
        Self { expected, actual }
    }
}

/// A textual id (hex, base32 or multihash hex) could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum ParseIdError {
    /// The text has the wrong length (counted in bytes of the UTF-8 string).
    #[error("expected {expected} characters, got {actual}")]
    InvalidLength {
        /// The length the encoding needs, e.g. 40 for the hex form of a 20-byte id.
        expected: usize,
        /// The length of the text that was given.
        actual: usize,
    },
    /// A character that is not a hex digit.
    #[error("invalid hex character at byte {position}")]
    InvalidHex {
        /// Byte offset of the first bad character in the input text.
        position: usize,
    },
    /// The text is not valid RFC 4648 base32 (letters `A`-`Z` in either case, digits `2`-`7`).
    #[error("invalid base32 encoding")]
    InvalidBase32,
    /// The text does not start with the SHA-256 multihash prefix `1220`.
    #[error("not a SHA-256 multihash: expected the prefix \"1220\"")]
    InvalidMultihash,
}

/// Compact peer or node data (BEP 5, 23, 32) had an impossible length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum CompactError {
    /// A compact list whose length is not a multiple of the entry size.
    #[error("compact list of {len} bytes is not a multiple of {unit}")]
    BadLength {
        /// Length of the whole list in bytes.
        len: usize,
        /// Size of one entry (6, 18, 26 or 38).
        unit: usize,
    },
    /// A single entry of one address family whose length is not the entry size.
    #[error("compact entry must be {expected} bytes, got {actual}")]
    InvalidLength {
        /// The entry size (6, 18, 26 or 38).
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
    /// A single entry of either family whose length matches neither the IPv4 nor the IPv6 size.
    #[error("compact entry must be {v4} (IPv4) or {v6} (IPv6) bytes, got {actual}")]
    UnknownFamily {
        /// The IPv4 entry size (6 for peers, 26 for nodes).
        v4: usize,
        /// The IPv6 entry size (18 for peers, 38 for nodes).
        v6: usize,
        /// The length that was given.
        actual: usize,
    },
}
