//! The error type of parsing.

use bip_bencode::{AccessError, DecodeError, SoftFault};

/// What is wrong with a field (see [`MetainfoError::Invalid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidKind {
    /// `piece length` missing, not positive, above
    /// [`MAX_PIECE_LENGTH`](crate::MAX_PIECE_LENGTH), or (v2) not a power of two of at
    /// least 16 KiB.
    PieceLength,
    /// A name that is missing, empty or unusable after sanitization.
    Name,
    /// A file path that is not a list of strings.
    Path,
    /// A file length that is missing, negative or too large, or a total size
    /// of zero.
    Length,
    /// `pieces` missing, or not 20 bytes per piece of the total size.
    Pieces,
    /// More pieces than [`MAX_PIECES`](crate::MAX_PIECES).
    TooManyPieces,
    /// No files.
    NoFiles,
    /// More files than [`MAX_FILES`](crate::MAX_FILES).
    TooManyFiles,
    /// A path deeper than [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH).
    PathTooDeep,
    /// A name or path element longer than [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes.
    NameTooLong,
    /// More identical file paths than
    /// [`MAX_DUPLICATE_PATHS`](crate::MAX_DUPLICATE_PATHS).
    TooManyDuplicatePaths,
    /// A malformed v2 `file tree` (a node that is not a dictionary, an empty
    /// file name, a file entry in the wrong place).
    FileTree,
    /// A v2 file without a valid 32-byte `pieces root` (or an all-zero one).
    PiecesRoot,
    /// A v2 file with the padding attribute.
    PadFileInV2,
    /// The v1 and v2 file lists of a hybrid torrent disagree.
    InconsistentFiles,
    /// A v2 piece layer with an unknown root, a size that does not match its
    /// file, or hashes that do not hash up to the file's `pieces root`.
    PieceLayer,
    /// A symlink target that is not a list of strings.
    Symlink,
    /// The info dictionary has neither v1 `pieces` nor a v2 `file tree`.
    NoVersion,
}

impl std::fmt::Display for InvalidKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidKind::PieceLength => "invalid or missing piece length",
            InvalidKind::Name => "invalid or missing name",
            InvalidKind::Path => "invalid path",
            InvalidKind::Length => "invalid length",
            InvalidKind::Pieces => "wrong number of piece hashes",
            InvalidKind::TooManyPieces => "too many pieces",
            InvalidKind::NoFiles => "no files",
            InvalidKind::TooManyFiles => "too many files",
            InvalidKind::PathTooDeep => "path too deep",
            InvalidKind::NameTooLong => "name too long",
            InvalidKind::TooManyDuplicatePaths => "too many duplicate file paths",
            InvalidKind::FileTree => "invalid file tree",
            InvalidKind::PiecesRoot => "missing or invalid pieces root",
            InvalidKind::PadFileInV2 => "padding attribute in a v2 file tree",
            InvalidKind::InconsistentFiles => "v1 and v2 file lists do not match",
            InvalidKind::PieceLayer => "invalid piece layer",
            InvalidKind::Symlink => "invalid symlink target",
            InvalidKind::NoVersion => "neither v1 pieces nor a v2 file tree",
        })
    }
}

/// Why a torrent, info dictionary or magnet link could not be parsed.
///
/// Every variant about a field names it by its path from the document root,
/// like `info.files[3].length`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetainfoError {
    /// The input is not bencode (or breaks a decoder limit such as depth).
    #[error("invalid bencode: {0}")]
    Bencode(#[from] DecodeError),
    /// The input is larger than [`LoadLimits::max_size`](crate::LoadLimits::max_size).
    #[error("the torrent is {size} bytes, more than the load limit of {limit}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input holds more bencode values than
    /// [`LoadLimits::max_tokens`](crate::LoadLimits::max_tokens).
    #[error("the torrent holds more than {limit} bencode values (the load limit)")]
    TooManyTokens {
        /// The limit.
        limit: usize,
    },
    /// The top-level value is not a dictionary.
    #[error("the torrent is not a dictionary")]
    NotADictionary,
    /// A field is missing or has the wrong type.
    #[error("{0}")]
    Field(#[from] AccessError),
    /// A field is present with the right type but an invalid value.
    #[error("`{field}`: {kind}{}", if .detail.is_empty() { String::new() } else { format!(" ({})", .detail) })]
    Invalid {
        /// Path of the field, e.g. `info.files[3].length`.
        field: String,
        /// What is wrong.
        kind: InvalidKind,
        /// More detail (may be empty).
        detail: String,
    },
    /// The info dictionary of a v2 or hybrid torrent is not canonical
    /// bencode; its v2 info hash would not be reproducible (libtorrent
    /// rejects this too).
    #[error("non-canonical bencode inside a v2 info dictionary: {0}")]
    NonCanonicalV2(SoftFault),
    /// A magnet link could not be parsed.
    #[error("magnet link: {0}")]
    Magnet(#[from] crate::magnet::MagnetError),
}

impl MetainfoError {
    pub(crate) fn invalid(field: impl Into<String>, kind: InvalidKind) -> Self {
        MetainfoError::Invalid {
            field: field.into(),
            kind,
            detail: String::new(),
        }
    }

    pub(crate) fn invalid_detail(
        field: impl Into<String>,
        kind: InvalidKind,
        detail: impl Into<String>,
    ) -> Self {
        MetainfoError::Invalid {
            field: field.into(),
            kind,
            detail: detail.into(),
        }
    }

    /// The path of the offending field, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            MetainfoError::Field(e) => Some(e.path()),
            MetainfoError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
