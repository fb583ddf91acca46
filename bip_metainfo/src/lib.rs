//! .torrent files (v1, v2, hybrid): parse, create with parallel hashing,
//! verify, magnet links.
//!
//! ```
//! use bip_metainfo::{Magnet, Metainfo};
//!
//! let bytes = b"d8:announce14:udp://t.org:804:infod6:lengthi20000e4:name5:a.txt\
//! 12:piece lengthi16384e6:pieces40:aaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbb\
//! 7:privatei1eee";
//! let torrent = Metainfo::from_bytes(bytes)?;
//! assert_eq!(torrent.info.name, "a.txt");
//! assert_eq!(torrent.info.total_size(), 20000);
//! assert_eq!(torrent.info.num_pieces(), 2);
//! assert!(torrent.info.private);
//! assert_eq!(torrent.info.piece_hash(1), Some([b'b'; 20]));
//!
//! // The info hash is the SHA-1 of the exact info bytes; re-encoding keeps them.
//! let hash = torrent.info_hash_v1().unwrap();
//! assert_eq!(Metainfo::from_bytes(&torrent.to_bytes())?.info_hash_v1(), Some(hash));
//!
//! // Files: sanitized relative paths, lengths and offsets.
//! let file = torrent.info.files().next().unwrap();
//! assert_eq!((file.path(), file.length(), file.offset()), ("a.txt", 20000, 0));
//!
//! // Magnet links.
//! let magnet = torrent.magnet();
//! assert_eq!(
//!     magnet.to_string(),
//!     format!("magnet:?xt=urn:btih:{hash}&dn=a.txt&tr=udp%3A%2F%2Ft.org%3A80")
//! );
//! assert_eq!(Magnet::parse(&magnet.to_string())?.info_hash_v1, Some(hash));
//!
//! // Errors name the field.
//! let err = Metainfo::from_bytes(b"d4:infod6:lengthi-1e4:name1:a12:piece lengthi16384e6:pieces0:ee")
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "`info.length`: invalid length");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Parsing
//! [`Metainfo::from_bytes`] parses a whole .torrent, [`Info::from_bytes`] a
//! bare info dictionary (as fetched with BEP 9). Decoding is as lenient as
//! libtorrent's for v1 (unsorted keys, leading zeros, trailing bytes) and
//! strict inside v2 info dictionaries. Everything a file controls is bounded
//! ([`MAX_FILES`], [`MAX_PATH_DEPTH`], [`MAX_NAME_LEN`], [`MAX_PIECES`],
//! [`MAX_PIECE_LENGTH`], [`MAX_FILE_SIZE`], [`MAX_DECODE_DEPTH`],
//! [`MAX_DUPLICATE_PATHS`], [`PATH_BYTES_PER_INFO_BYTE`]), and [`LoadLimits`]
//! bounds the file's size and token count as libtorrent does. Files are kept in a
//! compact table (one string of paths, about 13 bytes a file; [`FileEntry`] is a
//! borrowed view), so a parsed torrent stays within a few times the file's size.
//!
//! # File paths
//! One path policy (the `path` module) serves parsing, creating, showing and
//! verifying. Paths are sanitized as libtorrent does ([`sanitize_path_element`]):
//! no component is empty, `.`, `..` or holds a separator, and all are valid
//! UTF-8, so the components of a [`FileEntry::path`] can be joined onto a download directory.
//! [`Info::disk_paths`] are the paths `torrent show` lists and
//! [`verify`](verify::verify) reads. Creating refuses names that parsing would
//! change ([`check_create_component`], [`check_create_paths`]).
//!
//! # For creating and verifying
//! [`Info::piece_length`], [`Info::piece_hash`] / [`Info::pieces`] (v1),
//! [`Info::all_files`] (with padding files, [`FileAttrs::pad`]) and their
//! [`FileEntry::offset`]s, [`FileEntry::pieces_root`] and
//! [`Metainfo::piece_layer`] (v2), and [`piece_layer_root`].

pub mod create;
mod error;
mod files;
mod info;
mod magnet;
mod metainfo;
mod path;
pub mod verify;

pub use error::{InvalidKind, MetainfoError};
pub use files::{FileEntry, Files, FilesIter};
pub use info::{
    piece_layer_root, FileAttrs, Info, Version, BLOCK_SIZE, MAX_DUPLICATE_PATHS, MAX_FILES,
    MAX_FILE_SIZE, MAX_NAME_LEN, MAX_PATH_DEPTH, MAX_PIECES, MAX_PIECE_LENGTH,
    PATH_BYTES_PER_INFO_BYTE,
};
pub use magnet::{Magnet, MagnetError, MAX_SO_INDEX};
pub use metainfo::{Metainfo, RawBencode};
pub use path::{
    check_create_component, check_create_paths, repair_utf8, sanitize_path_element, PathRefusal,
    TRUNCATE_ELEMENT_AT,
};

/// Deepest bencode nesting accepted in a torrent (libtorrent's default).
pub const MAX_DECODE_DEPTH: usize = 100;

/// What loading one torrent (or info dictionary) may cost, like libtorrent's
/// `load_torrent_limits`: the file's size and its number of bencode values (tokens) bound the
/// memory and time of parsing before any work is done. [`Metainfo::from_bytes`] and
/// [`Info::from_bytes`] use the defaults; [`Metainfo::from_bytes_with`] and
/// [`Info::from_bytes_with`] take others.
///
/// ```
/// use bip_metainfo::{LoadLimits, Metainfo, MetainfoError};
/// let t = b"d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
/// let tight = LoadLimits::default().max_size(20);
/// assert!(matches!(
///     Metainfo::from_bytes_with(t, &tight),
///     Err(MetainfoError::TooLarge { limit: 20, .. })
/// ));
/// let few = LoadLimits::default().max_tokens(3);
/// assert!(matches!(
///     Metainfo::from_bytes_with(t, &few),
///     Err(MetainfoError::TooManyTokens { limit: 3 })
/// ));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadLimits {
    /// Largest input accepted, in bytes (default 10,000,000, libtorrent's `max_buffer_size`).
    pub max_size: usize,
    /// Most bencode values (integers, strings, lists, dictionaries) in the input (default
    /// 3,000,000, libtorrent's `max_decode_tokens`).
    pub max_tokens: usize,
    /// Deepest nesting (default [`MAX_DECODE_DEPTH`]).
    pub max_depth: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_size: 10_000_000,
            max_tokens: 3_000_000,
            max_depth: MAX_DECODE_DEPTH,
        }
    }
}

impl LoadLimits {
    /// Set [`LoadLimits::max_size`].
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }
    /// Set [`LoadLimits::max_tokens`].
    pub fn max_tokens(mut self, tokens: usize) -> Self {
        self.max_tokens = tokens;
        self
    }
    /// Set [`LoadLimits::max_depth`].
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Decode `bytes` within these limits.
    pub(crate) fn decode<'a>(
        &self,
        bytes: &'a [u8],
    ) -> Result<bip_bencode::Document<'a>, MetainfoError> {
        if bytes.len() > self.max_size {
            return Err(MetainfoError::TooLarge {
                size: bytes.len(),
                limit: self.max_size,
            });
        }
        bip_bencode::Decoder::lenient()
            .allow_trailing(true)
            .max_depth(self.max_depth)
            .max_items(self.max_tokens)
            .decode(bytes)
            .map_err(|e| match e.kind {
                bip_bencode::DecodeErrorKind::ItemLimit => MetainfoError::TooManyTokens {
                    limit: self.max_tokens,
                },
                _ => MetainfoError::Bencode(e),
            })
    }
}
