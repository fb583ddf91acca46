//! The info dictionary: files, pieces, v2 file tree.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bip_bencode::{Dict, SoftFault, Value};
use bip_util::{sha1, sha256, InfoHash, InfoHashV2};

use crate::error::{InvalidKind as K, MetainfoError};
use crate::files::{FileEntry, FileTable, Files};
use crate::path::{self, repair_utf8, sanitize_list_into, sanitize_path_element, PAD_MARKER};

/// Most files (padding files included) a torrent may list.
pub const MAX_FILES: usize = 1_000_000;
/// Most elements in a file path (directories plus the file name).
pub const MAX_PATH_DEPTH: usize = 64;
/// Longest name or path element accepted, in bytes before sanitization
/// (sanitization then shortens elements to about 255 bytes).
pub const MAX_NAME_LEN: usize = 4096;
/// Most pieces a torrent may have (libtorrent's default `max_pieces`).
pub const MAX_PIECES: u64 = 0x20_0000;
/// Most renaming attempts that files sharing a path may need: the n-th copy
/// of a path costs n - 1 attempts (libtorrent's default
/// `max_duplicate_filenames`, counted the same way).
pub const MAX_DUPLICATE_PATHS: usize = 500;
/// Largest file (and total) size accepted: 2^48 - 1 bytes, as libtorrent.
pub const MAX_FILE_SIZE: u64 = (1 << 48) - 1;
/// The v2 merkle tree's block size (16 KiB).
pub const BLOCK_SIZE: u64 = 16 * 1024;
/// Largest piece length accepted when parsing, creating and verifying: 256 MiB (a power of two).
/// Buffers sized by the piece length stay bounded by it.
pub const MAX_PIECE_LENGTH: u64 = 256 * 1024 * 1024;

/// Which BitTorrent protocol versions a torrent supports (parsed), or which to create
/// ([`TorrentBuilder::version`](crate::create::TorrentBuilder::version), default v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// BEP 3 only (`pieces`).
    #[default]
    V1,
    /// BEP 52 only (`meta version` 2, `file tree`).
    V2,
    /// Both: a v1 file list with padding plus a v2 file tree describing the
    /// same files.
    Hybrid,
}

impl Version {
    /// Has v1 piece hashes and a v1 info hash.
    pub fn has_v1(self) -> bool {
        matches!(self, Version::V1 | Version::Hybrid)
    }
    /// Has a v2 file tree and a v2 info hash.
    pub fn has_v2(self) -> bool {
        matches!(self, Version::V2 | Version::Hybrid)
    }
}

/// BEP 47 file attributes (the `attr` string).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FileAttrs {
    /// `p`: a padding file (zeros that align the next file to a piece
    /// boundary; not to be written to disk). Also set for BitComet-style
    /// `_____padding_file_` paths.
    pub pad: bool,
    /// `x`: executable.
    pub executable: bool,
    /// `h`: hidden.
    pub hidden: bool,
    /// `l`: a symbolic link (see [`FileEntry::symlink_target`]); its length
    /// is 0.
    pub symlink: bool,
}

/// A parsed info dictionary (v1, v2 or hybrid). Keeps its exact bytes, so
/// the info hashes are those of the input even for non-canonical files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Sanitized name: the file name of a single-file torrent, the root
    /// folder of a multi-file one. Never empty (a multi-file torrent whose
    /// name sanitizes to nothing is named after its hex info hash).
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u64,
    /// BEP 27 `private` flag.
    pub private: bool,
    /// `source` (used by private trackers to make info hashes unique).
    pub source: Option<String>,
    /// Protocol versions.
    pub version: Version,
    /// Whether the torrent is a folder of files (v1 `files` list, or a v2
    /// file tree with more than one file or a directory).
    pub multi_file: bool,
    /// BEP 52 `meta version`, if present.
    pub meta_version: Option<i64>,
    /// BEP 38 `similar` info hashes inside the info dict.
    pub similar: Vec<[u8; 20]>,
    /// BEP 38 `collections` inside the info dict.
    pub collections: Vec<String>,
    /// Keys of the info dict this crate does not interpret, kept as their bencoded bytes.
    pub unknown: BTreeMap<Vec<u8>, crate::RawBencode>,
    files: FileTable,
    pieces: Vec<u8>,
    raw: Vec<u8>,
    hash_v1: Option<InfoHash>,
    hash_v2: Option<InfoHashV2>,
}

impl Info {
    /// Parse a bare info dictionary (as fetched from peers with BEP 9). The
    /// bytes are hashed as given.
    ///
    /// ```
    /// use bip_metainfo::Info;
    /// let info = Info::from_bytes(b"d6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae")?;
    /// assert_eq!(info.name, "abc");
    /// assert_eq!(info.total_size(), 5);
    /// assert!(info.info_hash_v1().is_some());
    /// # Ok::<(), bip_metainfo::MetainfoError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Info, MetainfoError> {
        Self::from_bytes_with(bytes, &crate::LoadLimits::default())
    }

    /// [`Info::from_bytes`] within other [`LoadLimits`](crate::LoadLimits).
    ///
    /// # Errors
    /// [`MetainfoError::TooLarge`] and [`MetainfoError::TooManyTokens`] past the limits, else
    /// as [`Info::from_bytes`].
    pub fn from_bytes_with(
        bytes: &[u8],
        limits: &crate::LoadLimits,
    ) -> Result<Info, MetainfoError> {
        let doc = limits.decode(bytes)?;
        let root = doc.root();
        if root.as_dict().is_none() {
            return Err(MetainfoError::NotADictionary);
        }
        let raw = root.raw();
        let mut info = parse_info(root, doc.soft_faults())?;
        // Copied once the decoded tape is freed, so that the two never add up.
        drop(doc);
        info.set_raw(raw);
        Ok(info)
    }

    /// Keep a copy of the info dictionary's bytes (`parse_info` leaves them out).
    pub(crate) fn set_raw(&mut self, raw: &[u8]) {
        self.raw = raw.to_vec();
    }

    /// The exact bytes of the info dictionary.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// SHA-1 of the info bytes, for torrents with v1 pieces.
    pub fn info_hash_v1(&self) -> Option<InfoHash> {
        self.hash_v1
    }

    /// SHA-256 of the info bytes, for torrents with a v2 file tree.
    pub fn info_hash_v2(&self) -> Option<InfoHashV2> {
        self.hash_v2
    }

    /// The 20-byte hash used on the wire (handshake, DHT, trackers): the v1
    /// hash, or the truncated v2 hash of a v2-only torrent.
    pub fn wire_info_hash(&self) -> InfoHash {
        match (self.hash_v1, self.hash_v2) {
            (Some(h), _) => h,
            (None, Some(h)) => h.truncated(),
            (None, None) => InfoHash::from_sha1(&self.raw),
        }
    }

    /// Every file in torrent order, padding files included (what piece
    /// offsets are computed over). For v2-only torrents the padding files
    /// are synthesized (path `.pad/<length>`).
    ///
    /// ```
    /// use bip_metainfo::Info;
    /// let info = Info::from_bytes(b"d5:filesld6:lengthi3e4:pathl1:d5:a.txteed6:lengthi4e4:pathl5:b.txteee\
    /// 4:name4:root12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae")?;
    /// let files = info.all_files();
    /// assert_eq!(files.len(), 2);
    /// let b = files.get(1).unwrap();
    /// assert_eq!((b.path(), b.length(), b.offset()), ("b.txt", 4, 3));
    /// let paths: Vec<&str> = files.iter().map(|f| f.path()).collect();
    /// assert_eq!(paths, ["d/a.txt", "b.txt"]);
    /// assert!(files.get(0).unwrap().components().eq(["d", "a.txt"]));
    /// # Ok::<(), bip_metainfo::MetainfoError>(())
    /// ```
    pub fn all_files(&self) -> Files<'_> {
        Files::new(&self.files)
    }

    /// The files without padding files.
    pub fn files(&self) -> impl Iterator<Item = FileEntry<'_>> + '_ {
        self.all_files().into_iter().filter(|f| !f.is_padding())
    }

    /// File `index` of [`Info::all_files`].
    pub fn file(&self, index: usize) -> Option<FileEntry<'_>> {
        self.all_files().get(index)
    }

    /// Number of files, padding files included (the length of [`Info::all_files`]).
    pub fn num_files(&self) -> usize {
        self.files.len()
    }

    /// Total size of the piece space: the sum of all file lengths, padding
    /// files included (libtorrent's `total_size`).
    pub fn total_size(&self) -> u64 {
        self.files.total()
    }

    /// The sum of the lengths of the real files (padding left out).
    pub fn payload_size(&self) -> u64 {
        self.files().map(|f| f.length()).sum()
    }

    /// Number of pieces of the piece space (`ceil(total_size / piece_length)`;
    /// for v1 and hybrid torrents, the number of v1 piece hashes).
    pub fn num_pieces(&self) -> u64 {
        if self.version.has_v1() {
            (self.pieces.len() / 20) as u64
        } else {
            self.total_size().div_ceil(self.piece_length)
        }
    }

    /// The v1 SHA-1 hash of piece `index`.
    pub fn piece_hash(&self, index: usize) -> Option<[u8; 20]> {
        let chunk = self.pieces.get(index * 20..index * 20 + 20)?;
        chunk.try_into().ok()
    }

    /// The concatenated v1 piece hashes (empty for v2-only torrents).
    pub fn pieces(&self) -> &[u8] {
        &self.pieces
    }

    /// File paths made unique the way libtorrent does before it writes files
    /// (one entry per file of [`Info::all_files`], relative to the root
    /// folder, components joined with `/`). Paths are compared case-insensitively; a file whose
    /// path equals an earlier file's path or a directory of any file is renamed
    /// with a counter before its extension (`foo/bar.1.txt`). Padding files
    /// of the same length may share a path. Paths not renamed are borrowed.
    pub fn unique_paths(&self) -> Vec<Cow<'_, str>> {
        let mut out: Vec<Cow<'_, str>> = self
            .all_files()
            .iter()
            .map(|f| Cow::Borrowed(f.path()))
            .collect();
        for (i, p) in path::renames(&self.files) {
            out[i] = Cow::Owned(p);
        }
        out
    }

    /// Only the files [`Info::unique_paths`] renames, as `(index in [`Info::all_files`], new
    /// path)` in index order; usually empty. Cheaper than `unique_paths` for listing many files.
    pub fn renamed_paths(&self) -> Vec<(usize, String)> {
        if self.multi_file {
            path::renames(&self.files)
        } else {
            Vec::new()
        }
    }

    /// Where each file of [`Info::all_files`] lives relative to the download folder: the
    /// torrent's name, then the file's [unique path](Info::unique_paths) for a multi-file
    /// torrent; the name alone for a single file. `torrent show` lists these paths (without the
    /// name) and [`verify`](crate::verify) reads them, so both always agree. Every component is
    /// a plain name: joining the result onto a folder stays inside it.
    pub fn disk_paths(&self) -> Vec<std::path::PathBuf> {
        let files = self.all_files();
        if !self.multi_file {
            return files
                .iter()
                .map(|f| path::rel_path(f.components()))
                .collect();
        }
        let mut renamed = self.renamed_paths().into_iter().peekable();
        files
            .iter()
            .map(|f| {
                let new = renamed.next_if(|(i, _)| *i == f.index()).map(|r| r.1);
                let p = new.as_deref().unwrap_or(f.path());
                path::rel_path(std::iter::once(self.name.as_str()).chain(p.split('/')))
            })
            .collect()
    }

    /// Length of piece `index` of the v1 piece space (the last one may be
    /// short).
    pub fn piece_size(&self, index: u64) -> Option<u64> {
        let total = self.total_size();
        let start = index.checked_mul(self.piece_length)?;
        (start < total).then(|| (total - start).min(self.piece_length))
    }
}

fn field_err(v: Value<'_, '_>, kind: K) -> MetainfoError {
    MetainfoError::invalid(v.path(), kind)
}

fn key_path(d: Dict<'_, '_>, key: &str) -> String {
    let p = d.value().path();
    if p.is_empty() {
        key.to_string()
    } else {
        format!("{p}.{key}")
    }
}

fn parse_attrs(d: Dict<'_, '_>) -> FileAttrs {
    let mut a = FileAttrs::default();
    if let Some(s) = d.get(b"attr").and_then(|v| v.as_bytes()) {
        for &c in s {
            match c {
                b'p' => a.pad = true,
                b'x' => a.executable = true,
                b'h' => a.hidden = true,
                b'l' => a.symlink = true,
                _ => {}
            }
        }
    }
    a
}

fn length_of(d: Dict<'_, '_>, required: bool) -> Result<u64, MetainfoError> {
    match d.get(b"length") {
        None if !required => Ok(0),
        None => Err(MetainfoError::invalid(key_path(d, "length"), K::Length)),
        Some(v) => {
            let n = v.int()?;
            if n < 0 || n as u64 > MAX_FILE_SIZE {
                return Err(field_err(v, K::Length));
            }
            Ok(n as u64)
        }
    }
}

fn bytes_n<const N: usize>(v: Option<Value<'_, '_>>) -> Option<[u8; N]> {
    v.and_then(|v| v.as_bytes()).and_then(|b| b.try_into().ok())
}

fn paths_too_long(field: String) -> MetainfoError {
    MetainfoError::invalid_detail(field, K::Path, "file paths total more than 4 GiB")
}

/// A `symlink path`, sanitized (its elements joined with `/`).
fn parse_symlink(t: Value<'_, '_>) -> Result<Box<str>, MetainfoError> {
    let mut target = String::new();
    sanitize_list_into(t, K::Symlink, &mut target)?;
    Ok(target.into_boxed_str())
}

/// A v1 file entry of a `files` list, added to `files`.
fn parse_v1_file(v: Value<'_, '_>, files: &mut FileTable) -> Result<(), MetainfoError> {
    use std::fmt::Write;
    let d = v.dict()?;
    let mut attrs = parse_attrs(d);
    let length = if attrs.symlink {
        0
    } else {
        length_of(d, true)?
    };
    let path_val = d.get(b"path.utf-8").or_else(|| d.get(b"path"));
    let start = files.next_path_start();
    files.paths.truncate(start);
    match path_val {
        Some(p) if p.as_list().is_some_and(|l| !l.is_empty()) => {
            sanitize_list_into(p, K::Path, &mut files.paths)?;
        }
        _ if attrs.pad => {
            let _ = write!(files.paths, ".pad/{length}");
        }
        Some(p) if p.as_list().is_none() => return Err(field_err(p, K::Path)),
        _ => return Err(MetainfoError::invalid(key_path(d, "path"), K::Path)),
    }
    if files.paths.len() == start {
        // Every element was dropped (cannot happen in force mode, kept for safety).
        files.paths.push('_');
    }
    if files.paths[start..].contains(PAD_MARKER) {
        attrs.pad = true;
    }
    let mut symlink_target = None;
    if attrs.symlink {
        match d.get(b"symlink path") {
            Some(t) => symlink_target = Some(parse_symlink(t)?),
            None => attrs.symlink = false,
        }
    }
    let index = files
        .push(length, attrs)
        .ok_or_else(|| paths_too_long(key_path(d, "path")))?;
    files.set_extras(
        index,
        d.get(b"mtime").and_then(|m| m.as_int()),
        bytes_n(d.get(b"sha1")),
        symlink_target,
    );
    Ok(())
}

/// The joined paths of a v2 file tree may total at most this many times the info dictionary's
/// size (plus 1 MiB). A tree shares its folders' names between files while every joined path
/// repeats them, so without a bound a 5 MB tree of deep folders over many empty files claims
/// gigabytes of paths; real trees stay far below it.
pub const PATH_BYTES_PER_INFO_BYTE: usize = 8;

/// Walk a v2 `file tree` directory, adding its files to `files` (with `pad_to`, a padding file
/// after each file that does not end on a multiple of that piece length). `prefix` is the
/// sanitized path of the directory, `count` the files found so far.
fn walk_tree(
    dir: Dict<'_, '_>,
    prefix: &mut String,
    depth: usize,
    files: &mut FileTable,
    pad_to: Option<u64>,
    count: &mut usize,
    max_path_bytes: usize,
) -> Result<(), MetainfoError> {
    for (k, v) in dir.entries() {
        let key = k.as_bytes().unwrap_or_default();
        if key.is_empty() {
            return Err(MetainfoError::invalid_detail(
                v.path(),
                K::FileTree,
                "empty file name",
            ));
        }
        if key.len() > MAX_NAME_LEN {
            return Err(field_err(v, K::NameTooLong));
        }
        let node = v.as_dict().ok_or_else(|| {
            MetainfoError::invalid_detail(v.path(), K::FileTree, "not a dictionary")
        })?;
        if depth >= MAX_PATH_DEPTH {
            return Err(field_err(v, K::PathTooDeep));
        }
        let mark = prefix.len();
        if mark > 0 {
            prefix.push('/');
        }
        if !path::sanitize_path_element_into(key, true, prefix) {
            prefix.push('_');
        }
        if let Some(leaf) = node.get(b"") {
            if node.len() != 1 {
                return Err(MetainfoError::invalid_detail(
                    v.path(),
                    K::FileTree,
                    "a file entry next to other entries",
                ));
            }
            if *count >= MAX_FILES {
                return Err(field_err(v, K::TooManyFiles));
            }
            parse_v2_file(leaf, prefix, files, pad_to)?;
            *count += 1;
            // Each file's path repeats its folders' names: bound what a small tree can claim.
            if files.paths.len() > max_path_bytes {
                return Err(MetainfoError::invalid_detail(
                    v.path(),
                    K::Path,
                    format!(
                        "file paths total more than {max_path_bytes} bytes ({PATH_BYTES_PER_INFO_BYTE} \
                         times the info dictionary, plus 1 MiB)"
                    ),
                ));
            }
        } else {
            walk_tree(
                node,
                prefix,
                depth + 1,
                files,
                pad_to,
                count,
                max_path_bytes,
            )?;
        }
        prefix.truncate(mark);
    }
    Ok(())
}

/// A v2 file (the `""` leaf at `path`), added to `files`, followed by its padding file with
/// `pad_to`.
fn parse_v2_file(
    leaf: Value<'_, '_>,
    path: &str,
    files: &mut FileTable,
    pad_to: Option<u64>,
) -> Result<(), MetainfoError> {
    use std::fmt::Write;
    let d = leaf.dict()?;
    let attrs = parse_attrs(d);
    if attrs.pad {
        return Err(MetainfoError::invalid(key_path(d, "attr"), K::PadFileInV2));
    }
    let length = if attrs.symlink {
        0
    } else {
        length_of(d, true)?
    };
    let mut symlink_target = None;
    let mut attrs = attrs;
    if attrs.symlink {
        match d.get(b"symlink path") {
            Some(t) => symlink_target = Some(parse_symlink(t)?),
            None => attrs.symlink = false,
        }
    }
    let mut pieces_root = None;
    if length > 0 {
        let root: Option<[u8; 32]> = bytes_n(d.get(b"pieces root"));
        match root {
            Some(r) if r != [0; 32] => pieces_root = Some(r),
            _ => {
                return Err(MetainfoError::invalid(
                    key_path(d, "pieces root"),
                    K::PiecesRoot,
                ))
            }
        }
    }
    let too_long = || paths_too_long(leaf.path());
    let start = files.next_path_start();
    files.paths.truncate(start);
    files.paths.push_str(path);
    let index = files.push(length, attrs).ok_or_else(too_long)?;
    if let Some(r) = pieces_root {
        files.set_root(index, r);
    }
    files.set_extras(
        index,
        d.get(b"mtime").and_then(|m| m.as_int()),
        None,
        symlink_target,
    );
    if let Some(pl) = pad_to {
        let rem = length % pl;
        if rem != 0 {
            let pad = pl - rem;
            let _ = write!(files.paths, ".pad/{pad}");
            let attrs = FileAttrs {
                pad: true,
                ..FileAttrs::default()
            };
            files.push(pad, attrs).ok_or_else(too_long)?;
        }
    }
    Ok(())
}

const KNOWN_INFO_KEYS: &[&[u8]] = &[
    b"name",
    b"piece length",
    b"pieces",
    b"length",
    b"files",
    b"private",
    b"source",
    b"meta version",
    b"file tree",
    b"similar",
    b"collections",
];

/// Parse an info dictionary: named steps, each checking its fields.
pub(crate) fn parse_info(v: Value<'_, '_>, faults: &[SoftFault]) -> Result<Info, MetainfoError> {
    let d = v.dict()?;
    let raw = v.raw();
    let piece_length = parse_piece_length(d)?;
    let (version, meta_version) = detect_version(d);
    if version.has_v2() {
        check_v2_rules(v, faults, piece_length)?;
    }
    let hash_v1 = version.has_v1().then(|| InfoHash::new(sha1(raw)));
    let hash_v2 = version.has_v2().then(|| InfoHashV2::new(sha256(raw)));
    let name_sanitized = parse_name(d)?;

    let (mut files, mut multi_file) = if version.has_v1() {
        parse_v1_files(d, name_sanitized.as_deref())?
    } else {
        (FileTable::default(), false)
    };
    let pieces = if version.has_v1() {
        lay_out_v1(d, &files, piece_length, multi_file)?
    } else {
        &[]
    };
    if version.has_v2() {
        if version.has_v1() {
            let (v2_files, _) = parse_v2_tree(d, piece_length, None)?;
            attach_v2(
                &mut files,
                &v2_files,
                piece_length,
                key_path(d, "file tree"),
            )?;
        } else {
            // libtorrent's layout: a padding file after every file that does not end on a
            // piece boundary.
            let (v2_files, v2_multi) = parse_v2_tree(d, piece_length, Some(piece_length))?;
            multi_file = v2_multi;
            files = v2_files;
            if files.total() == 0 {
                return Err(MetainfoError::invalid_detail(
                    key_path(d, "file tree"),
                    K::Length,
                    "total size is zero",
                ));
            }
        }
    }
    if multi_file {
        path::check_duplicates(&files, key_path(d, "files"))?;
    }
    path::sanitize_symlinks(&mut files);
    files.shrink_to_fit();

    // The name: a multi-file torrent whose name sanitizes to nothing is
    // named after its info hash (libtorrent).
    let name = match (name_sanitized, hash_v1, hash_v2) {
        (Some(n), _, _) => n,
        (None, Some(h), _) => h.to_hex(),
        (None, None, Some(h)) => h.to_hex(),
        _ => return Err(MetainfoError::invalid(key_path(d, "name"), K::Name)),
    };
    let (similar, collections, unknown) = parse_extras(d, faults);
    Ok(Info {
        name,
        piece_length,
        private: d.get(b"private").and_then(|p| p.as_int()).unwrap_or(0) != 0,
        source: d
            .get(b"source")
            .and_then(|s| s.as_bytes())
            .map(|b| repair_utf8(b).0),
        version,
        multi_file,
        meta_version,
        similar,
        collections,
        unknown,
        files,
        pieces: pieces.to_vec(),
        // Set by the caller once the decoded tape is freed (`Info::set_raw`).
        raw: Vec::new(),
        hash_v1,
        hash_v2,
    })
}

/// `piece length`: positive and at most [`MAX_PIECE_LENGTH`].
fn parse_piece_length(d: Dict<'_, '_>) -> Result<u64, MetainfoError> {
    let pl_path = key_path(d, "piece length");
    match d.get(b"piece length").and_then(|p| p.as_int()) {
        Some(n) if n > 0 && n.unsigned_abs() <= MAX_PIECE_LENGTH => Ok(n.unsigned_abs()),
        Some(n) if n > 0 => Err(MetainfoError::invalid_detail(
            pl_path,
            K::PieceLength,
            format!("{n} is above {MAX_PIECE_LENGTH} (256 MiB)"),
        )),
        _ => Err(MetainfoError::invalid(pl_path, K::PieceLength)),
    }
}

/// v1 (`pieces`, or no v2 `meta version`), v2 (`meta version` 2) or both.
fn detect_version(d: Dict<'_, '_>) -> (Version, Option<i64>) {
    let meta_version = d.get(b"meta version").and_then(|m| m.as_int());
    let is_v2 = meta_version == Some(2);
    let is_v1 = d.contains_key(b"pieces") || !is_v2;
    let version = match (is_v1, is_v2) {
        (true, true) => Version::Hybrid,
        (false, true) => Version::V2,
        _ => Version::V1,
    };
    (version, meta_version)
}

/// A v2 info dictionary must be canonical (libtorrent: its v2 info hash depends on the exact
/// bytes) and its piece length a power of two of at least 16 KiB.
fn check_v2_rules(
    v: Value<'_, '_>,
    faults: &[SoftFault],
    piece_length: u64,
) -> Result<(), MetainfoError> {
    let span = v.span();
    if let Some(f) = faults.iter().find(|f| span.contains(&f.offset)) {
        return Err(MetainfoError::NonCanonicalV2(*f));
    }
    if !piece_length.is_power_of_two() || piece_length < BLOCK_SIZE {
        return Err(MetainfoError::invalid_detail(
            key_path(v.dict()?, "piece length"),
            K::PieceLength,
            "v2 needs a power of two of at least 16 KiB",
        ));
    }
    Ok(())
}

/// `name.utf-8` or `name`, sanitized (`None` when nothing is left of it).
fn parse_name(d: Dict<'_, '_>) -> Result<Option<String>, MetainfoError> {
    let name_val = d.get(b"name.utf-8").or_else(|| d.get(b"name"));
    let Some(name_raw) = name_val.and_then(|n| n.as_bytes()) else {
        return Err(MetainfoError::invalid(key_path(d, "name"), K::Name));
    };
    if name_raw.contains(&0) {
        return Err(MetainfoError::invalid_detail(
            key_path(d, "name"),
            K::Name,
            "contains a NUL byte",
        ));
    }
    if name_raw.len() > MAX_NAME_LEN {
        return Err(MetainfoError::invalid(key_path(d, "name"), K::NameTooLong));
    }
    Ok(sanitize_path_element(name_raw, false))
}

/// The v1 file list (`files`), or the single file (`length`); whether it is a folder.
fn parse_v1_files(d: Dict<'_, '_>, name: Option<&str>) -> Result<(FileTable, bool), MetainfoError> {
    let Some(files) = d.get(b"files") else {
        let attrs = parse_attrs(d);
        let length = length_of(d, !attrs.symlink)?;
        let name = name.ok_or_else(|| MetainfoError::invalid(key_path(d, "name"), K::Name))?;
        let mut table = FileTable::with_capacity(1);
        table.paths.push_str(name);
        let index = table
            .push(length, attrs)
            .ok_or_else(|| paths_too_long(key_path(d, "name")))?;
        table.set_extras(
            index,
            d.get(b"mtime").and_then(|m| m.as_int()),
            bytes_n(d.get(b"sha1")),
            None,
        );
        return Ok((table, false));
    };
    let list = files.list()?;
    // Exact capacity: no doubling slack on a million files.
    let mut out = FileTable::with_capacity(list.len().min(MAX_FILES));
    for (i, f) in list.iter().enumerate() {
        if i >= MAX_FILES {
            return Err(field_err(files, K::TooManyFiles));
        }
        parse_v1_file(f, &mut out)?;
    }
    if out.len() == 0 {
        return Err(field_err(files, K::NoFiles));
    }
    Ok((out, true))
}

/// The v1 files' total (bounded, not zero) and the `pieces` that cover it.
fn lay_out_v1<'a>(
    d: Dict<'a, '_>,
    files: &FileTable,
    piece_length: u64,
    multi_file: bool,
) -> Result<&'a [u8], MetainfoError> {
    let files_field = key_path(d, if multi_file { "files" } else { "length" });
    // The file table's offsets saturate: any total past the bound is refused here.
    let total = files.total();
    if total > MAX_FILE_SIZE {
        return Err(MetainfoError::invalid(files_field, K::Length));
    }
    if total == 0 {
        return Err(MetainfoError::invalid_detail(
            files_field,
            K::Length,
            "total size is zero",
        ));
    }
    let num_pieces = total.div_ceil(piece_length);
    let pieces_field = key_path(d, "pieces");
    if num_pieces > MAX_PIECES {
        return Err(MetainfoError::invalid(pieces_field, K::TooManyPieces));
    }
    let pieces = match d.get(b"pieces") {
        Some(p) => p.bytes()?,
        None => return Err(MetainfoError::invalid(pieces_field, K::Pieces)),
    };
    if pieces.len() as u64 != num_pieces * 20 {
        return Err(MetainfoError::invalid_detail(
            pieces_field,
            K::Pieces,
            format!(
                "{} bytes for {} pieces of {} bytes",
                pieces.len(),
                num_pieces,
                piece_length
            ),
        ));
    }
    Ok(pieces)
}

/// The v2 `file tree` (with `pad_to`, padding files as [`walk_tree`] adds them), its piece count
/// bounded; whether it is a folder.
fn parse_v2_tree(
    d: Dict<'_, '_>,
    piece_length: u64,
    pad_to: Option<u64>,
) -> Result<(FileTable, bool), MetainfoError> {
    let tree = match d.get(b"file tree") {
        Some(t) => t.dict()?,
        None => {
            return Err(MetainfoError::invalid(
                key_path(d, "file tree"),
                K::FileTree,
            ))
        }
    };
    let mut files = FileTable::default();
    let mut count = 0;
    let max_path_bytes = d
        .value()
        .raw()
        .len()
        .saturating_mul(PATH_BYTES_PER_INFO_BYTE)
        .saturating_add(1 << 20);
    walk_tree(
        tree,
        &mut String::new(),
        0,
        &mut files,
        pad_to,
        &mut count,
        max_path_bytes,
    )?;
    if count == 0 {
        return Err(MetainfoError::invalid(key_path(d, "file tree"), K::NoFiles));
    }
    // The first file is never padding.
    let multi = !(tree.len() == 1 && count == 1 && !files.path(0).contains('/'));
    let mut pieces = 0u64;
    for f in Files::new(&files).iter().filter(|f| !f.is_padding()) {
        let n = f.num_pieces_v2(piece_length);
        if n > MAX_PIECES {
            return Err(MetainfoError::invalid_detail(
                key_path(d, "file tree"),
                K::Length,
                format!("file {} has too many pieces", f.path()),
            ));
        }
        pieces += n;
    }
    if pieces > MAX_PIECES {
        return Err(MetainfoError::invalid(
            key_path(d, "file tree"),
            K::TooManyPieces,
        ));
    }
    Ok((files, multi))
}

/// BEP 38 `similar` and `collections`, and the keys this crate does not interpret.
#[allow(clippy::type_complexity)]
fn parse_extras(
    d: Dict<'_, '_>,
    faults: &[SoftFault],
) -> (
    Vec<[u8; 20]>,
    Vec<String>,
    BTreeMap<Vec<u8>, crate::RawBencode>,
) {
    let mut similar = Vec::new();
    if let Some(l) = d.get(b"similar").and_then(|s| s.as_list()) {
        similar.extend(l.iter().filter_map(|h| bytes_n::<20>(Some(h))));
    }
    let mut collections = Vec::new();
    if let Some(l) = d.get(b"collections").and_then(|s| s.as_list()) {
        collections.extend(
            l.iter()
                .filter_map(|c| c.as_bytes())
                .map(|b| repair_utf8(b).0),
        );
    }
    let mut unknown = BTreeMap::new();
    for (k, val) in d.iter() {
        if !KNOWN_INFO_KEYS.contains(&k) && !unknown.contains_key(k) {
            unknown.insert(k.to_vec(), crate::RawBencode::of(val, faults));
        }
    }
    (similar, collections, unknown)
}

/// Check a hybrid torrent's v1 files against its v2 files and copy the v2
/// roots onto the v1 entries.
fn attach_v2(
    v1: &mut FileTable,
    v2: &FileTable,
    piece_length: u64,
    field: String,
) -> Result<(), MetainfoError> {
    let mut it = Files::new(v2).iter();
    let non_pad = Files::new(v1).iter().filter(|f| !f.is_padding()).count();
    if non_pad != v2.len() {
        return Err(MetainfoError::invalid_detail(
            field,
            K::InconsistentFiles,
            format!("{non_pad} v1 files, {} v2 files", v2.len()),
        ));
    }
    let mut roots = Vec::new();
    for f in Files::new(v1).iter().filter(|f| !f.is_padding()) {
        let g = it
            .next()
            .ok_or_else(|| MetainfoError::invalid(field.clone(), K::InconsistentFiles))?;
        if f.path() != g.path()
            || f.length() != g.length()
            || f.attrs().symlink != g.attrs().symlink
        {
            return Err(MetainfoError::invalid_detail(
                field,
                K::InconsistentFiles,
                format!("v1 file {} does not match v2 file {}", f.path(), g.path()),
            ));
        }
        if f.length() > 0 && f.offset() % piece_length != 0 {
            return Err(MetainfoError::invalid_detail(
                field,
                K::InconsistentFiles,
                format!("file {} is not aligned to a piece boundary", f.path()),
            ));
        }
        if let Some(r) = g.pieces_root() {
            roots.push((f.index(), *r));
        }
    }
    for (i, r) in roots {
        v1.set_root(i, r);
    }
    Ok(())
}

/// The merkle root of a v2 piece layer: the layer is padded to a power of
/// two with the hash of an all-zero piece subtree and hashed up.
pub fn piece_layer_root(layer: &[[u8; 32]], piece_length: u64) -> [u8; 32] {
    let mut pad = [0u8; 32];
    let mut size = BLOCK_SIZE;
    while size < piece_length {
        pad = hash_pair(&pad, &pad);
        size *= 2;
    }
    if layer.is_empty() {
        return pad;
    }
    let mut level: Vec<[u8; 32]> = layer.to_vec();
    level.resize(layer.len().next_power_of_two(), pad);
    while level.len() > 1 {
        level = level.chunks(2).map(|c| hash_pair(&c[0], &c[1])).collect();
    }
    level[0]
}

fn hash_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a);
    buf[32..].copy_from_slice(b);
    sha256(&buf)
}
