//! Create .torrent files (v1, v2, hybrid) with parallel hashing.
//!
//! ```
//! use bip_metainfo::create::{MemorySource, TorrentBuilder};
//! use bip_metainfo::Version;
//!
//! let src = MemorySource { files: vec![(vec!["a.txt".into()], b"hello".to_vec())] };
//! let created = TorrentBuilder::new()
//!     .announce("udp://127.0.0.1:6969/announce")
//!     .creation_date(None)
//!     .version(Version::Hybrid)
//!     .build_from_source("demo", &src)?;
//! assert!(created.info_hash_v1.is_some() && created.info_hash_v2.is_some());
//! # Ok::<(), bip_metainfo::create::CreateError>(())
//! ```
//!
//! # Defaults
//! v1, piece length chosen automatically ([`auto_piece_length`]), all cores
//! ([`std::thread::available_parallelism`]), `created by` = `bip/0.1.0`, `creation date` = now,
//! public, no trackers.
//!
//! # File order
//! v1 files are sorted by their full relative path bytes (`a/b/c` joined with `/`), as mktorrent
//! does, so that for the same content and piece length the v1 info hash equals mktorrent's. v2 and
//! hybrid torrents sort by path components (the order of the `file tree` dictionary), as BEP 52
//! requires for hybrids. Multi-file hybrid torrents follow every file whose length is not a
//! multiple of the piece length with a BEP 47 padding file (`.pad/N`, `attr` = `p`), the last one
//! included, as libtorrent 2.0 does: bip's hybrid info hash then equals libtorrent's for the same
//! files in the same order.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bip_bencode::Bencode;
use bip_util::{InfoHash, InfoHashV2};

pub(crate) mod hasher;
mod source;

pub use source::{
    DataSource, ExcludeFilter, FsSource, MemorySource, SkipReason, Skipped, SourceFile, WalkOptions,
};

use hasher::{Entry, Segment};

/// Default `created by`.
pub const DEFAULT_CREATED_BY: &str = "bip/0.1.0";
/// Smallest piece length (BEP 52's block size).
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;
/// Largest automatically chosen piece length.
pub const MAX_AUTO_PIECE_LENGTH: u64 = 16 * 1024 * 1024;
/// Largest piece length accepted (256 MiB, as when parsing).
use crate::info::MAX_PIECE_LENGTH;
/// Most zero padding a hybrid torrent may need when it is also more than the content itself
/// (4 GiB): hybrid v1 pieces hash the padding, so a huge piece length over many small files
/// would hash mostly zeros.
pub const MAX_HYBRID_PADDING: u64 = 4 << 30;

/// Torrent format to create: the crate's one [`Version`](crate::Version) type (default v1).
use crate::info::Version;

/// Why creation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// Reading the content failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (or a description of the source file).
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file or directory name is not UTF-8.
    #[error("{}: file name is not UTF-8", .0.display())]
    NonUtf8Path(PathBuf),
    /// No data to hash (no files, or only empty ones).
    #[error("no data: the content is empty")]
    Empty,
    /// The piece length is not a power of two from 16 KiB ([`MIN_PIECE_LENGTH`]) to 256 MiB
    /// ([`MAX_PIECE_LENGTH`]).
    #[error("piece length {0} is not a power of two from 16384 (16 KiB) to 268435456 (256 MiB)")]
    InvalidPieceLength(u64),
    /// The content is too large for a torrent: its size (padding included) exceeds
    /// [`MAX_FILE_SIZE`](crate::MAX_FILE_SIZE) or overflows, or it needs more than
    /// [`MAX_PIECES`](crate::MAX_PIECES) pieces.
    #[error("content too large: {0}")]
    TooLarge(String),
    /// A hybrid torrent would need more than [`MAX_HYBRID_PADDING`] bytes of padding, more
    /// than the content itself (choose a smaller piece length).
    #[error(
        "a hybrid torrent of this content needs {padding} bytes of padding for {content} bytes \
         of data; choose a smaller piece length"
    )]
    ExcessivePadding {
        /// Bytes of padding needed.
        padding: u64,
        /// Bytes of content.
        content: u64,
    },
    /// The source's file list is unusable: an empty path in a multi-file source, a duplicate
    /// path, or a name or path that parsing would change (see
    /// [`check_create_paths`](crate::check_create_paths): separators, control characters,
    /// invisible marks, names over 240 bytes, `.`/`..`, padding-like names, paths deeper than
    /// 64, paths equal ignoring case).
    #[error("invalid file list: {0}")]
    InvalidFiles(String),
    /// The cancel flag was raised.
    #[error("cancelled")]
    Cancelled,
}

/// A created torrent.
#[derive(Debug, Clone)]
pub struct Created {
    /// The .torrent file.
    pub bytes: Vec<u8>,
    /// v1 info hash (v1 and hybrid).
    pub info_hash_v1: Option<InfoHash>,
    /// v2 info hash (v2 and hybrid).
    pub info_hash_v2: Option<InfoHashV2>,
    /// Piece length used.
    pub piece_length: u64,
    /// Number of v1 pieces (v1/hybrid) or of v2 pieces summed over files (v2).
    pub num_pieces: u64,
    /// Bytes of content (padding excluded).
    pub total_length: u64,
}

type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Builds a torrent; see the [module documentation](self) for defaults.
#[derive(Clone)]
pub struct TorrentBuilder {
    piece_length: Option<u64>,
    tiers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
    private: bool,
    source: Option<String>,
    nodes: Vec<(String, u16)>,
    version: Version,
    threads: usize,
    progress: Option<Progress>,
    cancel: Option<Arc<AtomicBool>>,
    name: Option<String>,
}

impl std::fmt::Debug for TorrentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorrentBuilder")
            .field("piece_length", &self.piece_length)
            .field("tiers", &self.tiers)
            .field("version", &self.version)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Default for TorrentBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Automatic piece length for `total` bytes: the smallest power of two from 16 KiB to 16 MiB
/// giving at most 2,000 pieces (so 1,000–2,000 pieces between 16 MiB and 32 GiB of content).
///
/// ```
/// assert_eq!(bip_metainfo::create::auto_piece_length(2 << 30), 2 << 20);
/// assert_eq!(bip_metainfo::create::auto_piece_length(1000), 16384);
/// ```
pub fn auto_piece_length(total: u64) -> u64 {
    let mut pl = MIN_PIECE_LENGTH;
    while pl < MAX_AUTO_PIECE_LENGTH && total.div_ceil(pl) > 2000 {
        pl *= 2;
    }
    pl
}

impl TorrentBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        TorrentBuilder {
            piece_length: None,
            tiers: Vec::new(),
            web_seeds: Vec::new(),
            comment: None,
            created_by: Some(DEFAULT_CREATED_BY.to_owned()),
            creation_date: Some(now()),
            private: false,
            source: None,
            nodes: Vec::new(),
            version: Version::V1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: None,
            cancel: None,
            name: None,
        }
    }

    /// Piece length in bytes (a power of two from 16 KiB to [`MAX_PIECE_LENGTH`]);
    /// `None` = automatic. Other values make building fail with
    /// [`CreateError::InvalidPieceLength`].
    pub fn piece_length(mut self, pl: impl Into<Option<u64>>) -> Self {
        self.piece_length = pl.into();
        self
    }
    /// Add a tracker tier. The first tracker becomes `announce`; `announce-list` is written when
    /// there is more than one tracker.
    pub fn announce_tier(mut self, tier: Vec<String>) -> Self {
        if !tier.is_empty() {
            self.tiers.push(tier);
        }
        self
    }
    /// Add a tier of one tracker.
    pub fn announce(self, url: impl Into<String>) -> Self {
        self.announce_tier(vec![url.into()])
    }
    /// Add a web seed (BEP 19 `url-list`).
    pub fn web_seed(mut self, url: impl Into<String>) -> Self {
        self.web_seeds.push(url.into());
        self
    }
    /// Set `comment`.
    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = Some(c.into());
        self
    }
    /// Set `created by` (`None` leaves it out).
    pub fn created_by(mut self, c: Option<String>) -> Self {
        self.created_by = c;
        self
    }
    /// Set `creation date` in Unix seconds (`None` leaves it out, for reproducible output).
    pub fn creation_date(mut self, d: Option<i64>) -> Self {
        self.creation_date = d;
        self
    }
    /// Set the BEP 27 `private` flag.
    pub fn private(mut self, p: bool) -> Self {
        self.private = p;
        self
    }
    /// Set the info dictionary's `source` (changes the info hash; used by private trackers).
    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.source = Some(s.into());
        self
    }
    /// Add a BEP 5 DHT node (`nodes`).
    pub fn dht_node(mut self, host: impl Into<String>, port: u16) -> Self {
        self.nodes.push((host.into(), port));
        self
    }
    /// Torrent format (default v1).
    pub fn version(mut self, v: Version) -> Self {
        self.version = v;
        self
    }
    /// Hashing threads (default: all cores; 0 counts as 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
    /// Progress callback `(bytes done, bytes total)`, called from the hashing threads.
    pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
    /// Cancel flag, checked between chunks of pieces: when set, building returns
    /// [`CreateError::Cancelled`].
    pub fn cancel(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }
    /// Override the torrent's `name` (default: the file or directory name).
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = Some(n.into());
        self
    }

    /// Create a torrent of a file or directory.
    ///
    /// # Errors
    /// See [`CreateError`].
    pub fn build_from_path(&self, path: impl AsRef<Path>) -> Result<Created, CreateError> {
        let path = path.as_ref();
        self.build_from_fs(path, &FsSource::walk(path)?)
    }

    /// Create a torrent of `path` from a walk of it (see [`FsSource::walk_with`]); the name is
    /// `path`'s file name unless [`TorrentBuilder::name`] was set.
    ///
    /// # Errors
    /// See [`CreateError`].
    pub fn build_from_fs(&self, path: &Path, src: &FsSource) -> Result<Created, CreateError> {
        let name = match &self.name {
            Some(n) => n.clone(),
            None => {
                let abs = std::fs::canonicalize(path).map_err(|source| CreateError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                abs.file_name()
                    .ok_or_else(|| CreateError::InvalidFiles("path has no file name".into()))?
                    .to_str()
                    .ok_or_else(|| CreateError::NonUtf8Path(abs.clone()))?
                    .to_owned()
            }
        };
        self.build(&name, src, &|i| src.disk_path(i).to_path_buf())
    }

    /// Create a torrent named `name` from a custom [`DataSource`]. A source with a single file
    /// whose path is empty gives a single-file torrent.
    ///
    /// # Errors
    /// See [`CreateError`].
    pub fn build_from_source(
        &self,
        name: &str,
        src: &dyn DataSource,
    ) -> Result<Created, CreateError> {
        let name = self.name.as_deref().unwrap_or(name);
        let files = src.files();
        self.build(name, src, &|i| {
            files
                .get(i)
                .map(|f| PathBuf::from(f.path.join("/")))
                .unwrap_or_default()
        })
    }

    /// Build in named steps: check the names, size and piece length, lay out the files (and
    /// padding), hash, then encode the info dictionary and the torrent.
    fn build(
        &self,
        name: &str,
        src: &dyn DataSource,
        describe: &dyn Fn(usize) -> PathBuf,
    ) -> Result<Created, CreateError> {
        let files = src.files();
        let single = files.len() == 1 && files[0].path.is_empty();
        let total = self.check_files(name, &files, single)?;
        let pl = self
            .piece_length
            .unwrap_or_else(|| auto_piece_length(total));
        if !pl.is_power_of_two() || !(MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&pl) {
            return Err(CreateError::InvalidPieceLength(pl));
        }
        let order = self.file_order(&files)?;
        let layout = self.lay_out(&files, &order, single, pl, total)?;
        let progress = self.progress.clone();
        let spec = hasher::Spec {
            piece_length: pl,
            v1: self.version.has_v1(),
            v2: self.version.has_v2(),
            threads: self.threads,
            fail_fast: true,
            progress: progress.as_deref().map(|p| p as &(dyn Fn(u64, u64) + Sync)),
            cancel: self.cancel.as_deref(),
        };
        let outs =
            hasher::run(&layout.entries, &layout.segments, &spec, src).map_err(|e| match e {
                hasher::EngineError::Cancelled => CreateError::Cancelled,
                hasher::EngineError::Io { src, err } => CreateError::Io {
                    path: describe(src),
                    source: err,
                },
            })?;
        let hashes = self.collect_hashes(&files, &order, &outs, pl)?;
        let info_bytes =
            self.encode_info(name, &files, &order, single, pl, total, &layout, &hashes);
        let bytes = self.encode_torrent(&info_bytes, &hashes.layers);
        let v1 = self.version.has_v1();
        let v2 = self.version.has_v2();
        Ok(Created {
            bytes,
            info_hash_v1: v1.then(|| InfoHash::from_sha1(&info_bytes)),
            info_hash_v2: v2.then(|| InfoHashV2::from_sha256(&info_bytes)),
            piece_length: pl,
            num_pieces: if v1 {
                (hashes.pieces.len() / 20) as u64
            } else {
                hashes.num_v2
            },
            total_length: total,
        })
    }

    /// The path policy ([`check_create_paths`](crate::check_create_paths)) and the total size
    /// (bounded, not zero).
    fn check_files(
        &self,
        name: &str,
        files: &[SourceFile],
        single: bool,
    ) -> Result<u64, CreateError> {
        crate::check_create_component(name).map_err(|reason| {
            CreateError::InvalidFiles(format!("torrent name {name:?}: {reason}"))
        })?;
        if !single {
            if files.is_empty() {
                return Err(CreateError::Empty);
            }
            if files.iter().any(|f| f.path.is_empty()) {
                return Err(CreateError::InvalidFiles(
                    "empty path in a multi-file source".into(),
                ));
            }
            if files.len() > crate::MAX_FILES {
                return Err(CreateError::InvalidFiles(format!(
                    "more than {} files",
                    crate::MAX_FILES
                )));
            }
            let mut sorted: Vec<&[String]> = files.iter().map(|f| f.path.as_slice()).collect();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(CreateError::InvalidFiles(format!(
                    "duplicate path {}",
                    w[0].join("/")
                )));
            }
            if self.version == Version::V2 && files.len() == 1 && files[0].path.len() == 1 {
                // BEP 52 cannot tell `{"a": file}` in a folder from a single-file torrent, and
                // parsers read it as the latter.
                return Err(CreateError::InvalidFiles(format!(
                    "a v2 torrent of a folder holding only the file {:?} reads as a single-file \
                     torrent; make the torrent of the file itself, or a hybrid one",
                    files[0].path[0]
                )));
            }
            let padded = self.version == Version::Hybrid;
            crate::check_create_paths(files.iter().map(|f| f.path.as_slice()), padded)
                .map_err(|r| CreateError::InvalidFiles(r.to_string()))?;
        }
        let total = files
            .iter()
            .try_fold(0u64, |t, f| t.checked_add(f.length))
            .filter(|&t| t <= crate::MAX_FILE_SIZE)
            .ok_or_else(too_large)?;
        if total == 0 {
            return Err(CreateError::Empty);
        }
        Ok(total)
    }

    /// v1: by the full path's bytes (as mktorrent); v2 and hybrid: by components (the `file
    /// tree` order).
    fn file_order(&self, files: &[SourceFile]) -> Result<Vec<usize>, CreateError> {
        let mut order: Vec<usize> = (0..files.len()).collect();
        if self.version == Version::V1 {
            order.sort_by(|&a, &b| files[a].path.join("/").cmp(&files[b].path.join("/")));
        } else {
            order.sort_by(|&a, &b| files[a].path.cmp(&files[b].path));
        }
        Ok(order)
    }

    /// The piece space: files in order, hybrid padding after each file not ending on a piece
    /// boundary, and the hashing segments. Bounds padding, size and piece counts first.
    fn lay_out(
        &self,
        files: &[SourceFile],
        order: &[usize],
        single: bool,
        pl: u64,
        total: u64,
    ) -> Result<Layout, CreateError> {
        let v1 = self.version.has_v1();
        let v2 = self.version.has_v2();
        // With `total <= MAX_FILE_SIZE` and `pad < pl` per file nothing below overflows.
        let padded = |len: u64| {
            if self.version == Version::Hybrid && !single && len % pl != 0 {
                pl - len % pl
            } else {
                0
            }
        };
        let padding: u64 = files.iter().map(|f| padded(f.length)).sum();
        if padding > MAX_HYBRID_PADDING && padding > total {
            return Err(CreateError::ExcessivePadding {
                padding,
                content: total,
            });
        }
        if total + padding > crate::MAX_FILE_SIZE {
            return Err(too_large());
        }
        let v1_pieces = (total + padding).div_ceil(pl);
        let v2_pieces: u64 = files.iter().map(|f| f.length.div_ceil(pl)).sum();
        if (v1 && v1_pieces > crate::MAX_PIECES) || (v2 && v2_pieces > crate::MAX_PIECES) {
            return Err(CreateError::TooLarge(format!(
                "more than {} pieces of {pl} bytes",
                crate::MAX_PIECES
            )));
        }
        let mut out = Layout::default();
        let mut off = 0u64;
        for &i in order {
            let len = files[i].length;
            out.entries.push(Entry {
                start: off,
                len,
                src: Some(i),
            });
            out.v1_files.push((Some(i), len));
            let start = off;
            off += len;
            let pad = padded(len);
            if pad > 0 {
                out.entries.push(Entry {
                    start: off,
                    len: pad,
                    src: None,
                });
                out.v1_files.push((None, pad));
                off += pad;
            }
            if v2 && len > 0 {
                out.segments.push(Segment {
                    start,
                    data_len: len,
                    v1_len: if v1 { len + pad } else { len },
                });
            }
        }
        if !v2 {
            out.segments.push(Segment {
                start: 0,
                data_len: total,
                v1_len: total,
            });
        }
        Ok(out)
    }

    /// v1 piece hashes, v2 roots and piece layers from the hasher's output.
    fn collect_hashes(
        &self,
        files: &[SourceFile],
        order: &[usize],
        outs: &[hasher::SegOut],
        pl: u64,
    ) -> Result<Hashes, CreateError> {
        let mut h = Hashes::default();
        if self.version.has_v1() {
            for o in outs {
                for p in &o.v1 {
                    h.pieces
                        .extend_from_slice(&p.ok_or(CreateError::Cancelled)?);
                }
            }
        }
        if self.version.has_v2() {
            let mut seg = 0;
            for &i in order {
                if files[i].length == 0 {
                    continue;
                }
                let hashes: Vec<[u8; 32]> = outs[seg]
                    .v2
                    .iter()
                    .map(|h| h.ok_or(CreateError::Cancelled))
                    .collect::<Result<_, _>>()?;
                seg += 1;
                h.num_v2 += hashes.len() as u64;
                let root = hasher::file_root(&hashes, pl);
                if files[i].length > pl {
                    h.layers.insert(root, hashes);
                }
                h.roots.insert(i, root);
            }
        }
        Ok(h)
    }

    /// The info dictionary's bytes.
    #[allow(clippy::too_many_arguments)]
    fn encode_info(
        &self,
        name: &str,
        files: &[SourceFile],
        order: &[usize],
        single: bool,
        pl: u64,
        total: u64,
        layout: &Layout,
        hashes: &Hashes,
    ) -> Vec<u8> {
        let mut info: BTreeMap<Cow<'static, [u8]>, Bencode<'static>> = BTreeMap::new();
        let k = |s: &'static str| Cow::Borrowed(s.as_bytes());
        let s = |v: &str| Bencode::Bytes(Cow::Owned(v.as_bytes().to_vec()));
        info.insert(k("name"), s(name));
        info.insert(k("piece length"), Bencode::Int(pl as i64));
        if self.private {
            info.insert(k("private"), Bencode::Int(1));
        }
        if let Some(src) = &self.source {
            info.insert(k("source"), s(src));
        }
        if self.version.has_v1() {
            info.insert(
                k("pieces"),
                Bencode::Bytes(Cow::Owned(hashes.pieces.clone())),
            );
            if single {
                info.insert(k("length"), Bencode::Int(total as i64));
            } else {
                let list = layout
                    .v1_files
                    .iter()
                    .map(|&(i, len)| {
                        let mut m = BTreeMap::new();
                        m.insert(k("length"), Bencode::Int(len as i64));
                        match i {
                            Some(i) => {
                                let p = files[i].path.iter().map(|c| s(c)).collect();
                                m.insert(k("path"), Bencode::List(p));
                            }
                            None => {
                                m.insert(k("attr"), s("p"));
                                m.insert(
                                    k("path"),
                                    Bencode::List(vec![s(".pad"), s(&len.to_string())]),
                                );
                            }
                        }
                        Bencode::Dict(m)
                    })
                    .collect();
                info.insert(k("files"), Bencode::List(list));
            }
        }
        if self.version.has_v2() {
            info.insert(k("meta version"), Bencode::Int(2));
            let mut tree = BTreeMap::new();
            for &i in order {
                let f = &files[i];
                let mut leaf = BTreeMap::new();
                leaf.insert(k("length"), Bencode::Int(f.length as i64));
                if let Some(r) = hashes.roots.get(&i) {
                    leaf.insert(k("pieces root"), Bencode::Bytes(Cow::Owned(r.to_vec())));
                }
                let comps: Vec<&str> = if single {
                    vec![name]
                } else {
                    f.path.iter().map(String::as_str).collect()
                };
                // Checked before hashing: no file is also a directory.
                insert_tree(&mut tree, &comps, Bencode::Dict(leaf));
            }
            info.insert(k("file tree"), Bencode::Dict(tree));
        }
        Bencode::Dict(info).encode()
    }

    /// The torrent around `info`, through the crate's one top-level encoder.
    fn encode_torrent(&self, info: &[u8], layers: &BTreeMap<[u8; 32], Vec<[u8; 32]>>) -> Vec<u8> {
        let tracker_count: usize = self.tiers.iter().map(Vec::len).sum();
        let no_unknown = BTreeMap::new();
        let no_layers = BTreeMap::new();
        crate::metainfo::TopLevel {
            announce: self
                .tiers
                .first()
                .and_then(|t| t.first())
                .map(String::as_str),
            announce_list: if tracker_count > 1 { &self.tiers } else { &[] },
            url_list: &self.web_seeds,
            url_list_as_string: true,
            httpseeds: &[],
            nodes: &self.nodes,
            comment: self.comment.as_deref(),
            created_by: self.created_by.as_deref(),
            creation_date: self.creation_date,
            encoding: None,
            piece_layers: if self.version.has_v2() {
                layers
            } else {
                &no_layers
            },
            unknown: &no_unknown,
        }
        .encode(info)
    }
}

fn too_large() -> CreateError {
    CreateError::TooLarge(format!("more than {} bytes in all", crate::MAX_FILE_SIZE))
}

/// The piece space of a torrent being created.
#[derive(Default)]
struct Layout {
    /// Files and padding in piece-space order.
    entries: Vec<Entry>,
    /// What the hasher hashes (one per v2 file, or the whole space for v1).
    segments: Vec<Segment>,
    /// The v1 `files` list: (source file, or None for padding; length).
    v1_files: Vec<(Option<usize>, u64)>,
}

/// The hashes of a torrent being created.
#[derive(Default)]
struct Hashes {
    /// v1 piece hashes, concatenated.
    pieces: Vec<u8>,
    /// v2 root of each source file with data.
    roots: BTreeMap<usize, [u8; 32]>,
    /// v2 piece layers of files longer than a piece, by root.
    layers: BTreeMap<[u8; 32], Vec<[u8; 32]>>,
    /// v2 pieces in all.
    num_v2: u64,
}

fn insert_tree(
    tree: &mut BTreeMap<Cow<'static, [u8]>, Bencode<'static>>,
    comps: &[&str],
    leaf: Bencode<'static>,
) {
    let Some((first, rest)) = comps.split_first() else {
        return;
    };
    let key = Cow::Owned(first.as_bytes().to_vec());
    if rest.is_empty() {
        let mut m = BTreeMap::new();
        m.insert(Cow::Borrowed(&b""[..]), leaf);
        tree.insert(key, Bencode::Dict(m));
        return;
    }
    let sub = tree
        .entry(key)
        .or_insert_with(|| Bencode::Dict(BTreeMap::new()));
    if let Some(d) = sub.as_dict_mut() {
        insert_tree(d, rest, leaf);
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
