//! The file table of a parsed torrent, kept compact (like libtorrent's `file_storage`): one
//! string holding every file's path, and per file its end offset, where its path ends and a
//! byte of flags; the rare extras (v2 roots, symlink targets, BEP 47 `mtime` and `sha1`) live
//! in side tables sorted by file index. About 13 bytes a file plus its path, and no heap
//! allocation per file. [`FileEntry`] is a borrowed view of one file.

use std::fmt;

use crate::info::FileAttrs;

const PAD: u8 = 1;
const EXECUTABLE: u8 = 1 << 1;
const HIDDEN: u8 = 1 << 2;
const SYMLINK: u8 = 1 << 3;
const HAS_TARGET: u8 = 1 << 4;
const HAS_ROOT: u8 = 1 << 5;
const HAS_MTIME: u8 = 1 << 6;
const HAS_SHA1: u8 = 1 << 7;

/// The files of an [`Info`](crate::Info), in torrent order.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct FileTable {
    /// Every file's path, its components joined with `/` (components never hold one), one
    /// after the other.
    pub(crate) paths: String,
    /// Where each file's path ends in `paths` (it starts where the previous one ends).
    path_ends: Vec<u32>,
    /// Where each file ends in the piece space (it starts where the previous one ends).
    ends: Vec<u64>,
    flags: Vec<u8>,
    roots: Vec<(u32, [u8; 32])>,
    targets: Vec<(u32, Box<str>)>,
    mtimes: Vec<(u32, i64)>,
    sha1s: Vec<(u32, [u8; 20])>,
}

/// The files as a list of [`FileEntry`] views (what `Info`'s `Debug` shows), not the columns.
impl fmt::Debug for FileTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| self.entry(i)))
            .finish()
    }
}

fn side<T>(table: &[(u32, T)], index: usize) -> Option<&T> {
    let i = table.binary_search_by_key(&index, |e| e.0 as usize).ok()?;
    Some(&table[i].1)
}

impl FileTable {
    /// An empty table with room for `files` files.
    pub(crate) fn with_capacity(files: usize) -> Self {
        FileTable {
            path_ends: Vec::with_capacity(files),
            ends: Vec::with_capacity(files),
            flags: Vec::with_capacity(files),
            ..FileTable::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.flags.len()
    }

    /// Where the next file's path starts in [`FileTable::paths`].
    pub(crate) fn next_path_start(&self) -> usize {
        self.path_ends.last().map_or(0, |&e| e as usize)
    }

    /// Add a file whose path is what was appended to [`FileTable::paths`] since the previous
    /// file. Returns its index, or `None` when the paths would pass 4 GiB.
    pub(crate) fn push(&mut self, length: u64, attrs: FileAttrs) -> Option<usize> {
        let path_end = u32::try_from(self.paths.len()).ok()?;
        let index = self.len();
        // Saturating: a total past MAX_FILE_SIZE is refused by the caller.
        let end = self.total().saturating_add(length);
        let mut flags = 0;
        for (set, bit) in [
            (attrs.pad, PAD),
            (attrs.executable, EXECUTABLE),
            (attrs.hidden, HIDDEN),
            (attrs.symlink, SYMLINK),
        ] {
            if set {
                flags |= bit;
            }
        }
        self.path_ends.push(path_end);
        self.ends.push(end);
        self.flags.push(flags);
        Some(index)
    }

    /// Set the extras of file `index`; files are given in increasing index order.
    pub(crate) fn set_extras(
        &mut self,
        index: usize,
        mtime: Option<i64>,
        sha1: Option<[u8; 20]>,
        target: Option<Box<str>>,
    ) {
        let i = index as u32;
        if let Some(m) = mtime {
            self.mtimes.push((i, m));
            self.flags[index] |= HAS_MTIME;
        }
        if let Some(h) = sha1 {
            self.sha1s.push((i, h));
            self.flags[index] |= HAS_SHA1;
        }
        if let Some(t) = target {
            self.targets.push((i, t));
            self.flags[index] |= HAS_TARGET;
        }
    }

    /// Set the v2 root of file `index`; files are given in increasing index order.
    pub(crate) fn set_root(&mut self, index: usize, root: [u8; 32]) {
        debug_assert!(self.roots.last().is_none_or(|r| (r.0 as usize) < index));
        self.roots.push((index as u32, root));
        self.flags[index] |= HAS_ROOT;
    }

    /// Replace the symlink target of file `index` (which has one).
    pub(crate) fn replace_target(&mut self, index: usize, target: String) {
        if let Ok(i) = self.targets.binary_search_by_key(&index, |e| e.0 as usize) {
            self.targets[i].1 = target.into_boxed_str();
        }
    }

    /// The symlink targets, by file index.
    pub(crate) fn targets(&self) -> &[(u32, Box<str>)] {
        &self.targets
    }

    /// The sum of all file lengths.
    pub(crate) fn total(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The path of file `index`.
    pub(crate) fn path(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.path_ends[index - 1] as usize
        };
        &self.paths[start..self.path_ends[index] as usize]
    }

    pub(crate) fn is_pad(&self, index: usize) -> bool {
        self.flags[index] & PAD != 0
    }

    /// Trim spare capacity once the table is complete.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.paths.shrink_to_fit();
        self.path_ends.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.flags.shrink_to_fit();
        self.roots.shrink_to_fit();
        self.targets.shrink_to_fit();
        self.mtimes.shrink_to_fit();
        self.sha1s.shrink_to_fit();
    }

    pub(crate) fn entry(&self, index: usize) -> FileEntry<'_> {
        FileEntry { table: self, index }
    }
}

/// One file of a torrent: a view into its [`Info`](crate::Info) (`Copy`, borrowed).
#[derive(Clone, Copy)]
pub struct FileEntry<'a> {
    table: &'a FileTable,
    index: usize,
}

impl<'a> FileEntry<'a> {
    /// Position of the file in [`Info::all_files`](crate::Info::all_files) (padding files
    /// included).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The sanitized path relative to the torrent's root folder (the folder named
    /// [`Info::name`](crate::Info::name) for a multi-file torrent), its components joined with
    /// `/`. For a single-file torrent this is the name. Every component is safe to join onto a
    /// directory: never empty, `.`, `..`, or containing a separator. A padding file without a
    /// path gets `.pad/<length>`.
    pub fn path(&self) -> &'a str {
        self.table.path(self.index)
    }

    /// The components of [`FileEntry::path`] (at least one).
    pub fn components(&self) -> impl DoubleEndedIterator<Item = &'a str> + 'a {
        self.path().split('/')
    }

    /// Length in bytes.
    pub fn length(&self) -> u64 {
        let end = self.table.ends[self.index];
        end - self.offset()
    }

    /// Byte offset of the file in the torrent's piece space: the sum of the lengths of the
    /// files before it, padding files included. (For v2-only torrents the padding files are
    /// implied, as libtorrent lays them out: one after every file that does not end on a piece
    /// boundary, so that each file starts on a piece boundary.)
    pub fn offset(&self) -> u64 {
        match self.index {
            0 => 0,
            i => self.table.ends[i - 1],
        }
    }

    /// BEP 47 attributes.
    pub fn attrs(&self) -> FileAttrs {
        let f = self.flags();
        FileAttrs {
            pad: f & PAD != 0,
            executable: f & EXECUTABLE != 0,
            hidden: f & HIDDEN != 0,
            symlink: f & SYMLINK != 0,
        }
    }

    /// Whether this is a padding file.
    pub fn is_padding(&self) -> bool {
        self.flags() & PAD != 0
    }

    /// Sanitized target of a symlink, relative to the torrent's root folder, its components
    /// joined with `/` (it names a file or folder of the torrent, or the link itself).
    pub fn symlink_target(&self) -> Option<&'a str> {
        if self.flags() & HAS_TARGET == 0 {
            return None;
        }
        side(&self.table.targets, self.index).map(|t| &**t)
    }

    /// The v2 merkle root of the file (`pieces root`); `None` for v1-only torrents, padding
    /// files and empty files.
    pub fn pieces_root(&self) -> Option<&'a [u8; 32]> {
        if self.flags() & HAS_ROOT == 0 {
            return None;
        }
        side(&self.table.roots, self.index)
    }

    /// BEP 47 `mtime`.
    pub fn mtime(&self) -> Option<i64> {
        if self.flags() & HAS_MTIME == 0 {
            return None;
        }
        side(&self.table.mtimes, self.index).copied()
    }

    /// BEP 47 per-file `sha1`.
    pub fn sha1(&self) -> Option<&'a [u8; 20]> {
        if self.flags() & HAS_SHA1 == 0 {
            return None;
        }
        side(&self.table.sha1s, self.index)
    }

    /// Number of v2 pieces of this file (`ceil(length / piece_length)`).
    pub fn num_pieces_v2(&self, piece_length: u64) -> u64 {
        self.length().div_ceil(piece_length.max(1))
    }

    fn flags(&self) -> u8 {
        self.table.flags[self.index]
    }
}

impl fmt::Debug for FileEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileEntry")
            .field("index", &self.index)
            .field("path", &self.path())
            .field("length", &self.length())
            .field("offset", &self.offset())
            .field("attrs", &self.attrs())
            .field("symlink_target", &self.symlink_target())
            .field("pieces_root", &self.pieces_root())
            .field("mtime", &self.mtime())
            .field("sha1", &self.sha1())
            .finish()
    }
}

/// Equal when every field is (index included), whichever torrent the files belong to.
impl PartialEq for FileEntry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
            && self.path() == other.path()
            && self.length() == other.length()
            && self.offset() == other.offset()
            && self.attrs() == other.attrs()
            && self.symlink_target() == other.symlink_target()
            && self.pieces_root() == other.pieces_root()
            && self.mtime() == other.mtime()
            && self.sha1() == other.sha1()
    }
}

impl Eq for FileEntry<'_> {}

/// Every file of a torrent in order, padding files included
/// ([`Info::all_files`](crate::Info::all_files)): `len`, `get` and iteration.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    table: &'a FileTable,
}

impl<'a> Files<'a> {
    pub(crate) fn new(table: &'a FileTable) -> Self {
        Files { table }
    }

    /// Number of files (padding files included).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there are no files (never, for a parsed torrent).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// File `index`.
    pub fn get(&self, index: usize) -> Option<FileEntry<'a>> {
        (index < self.len()).then(|| self.table.entry(index))
    }

    /// The files in order.
    pub fn iter(&self) -> FilesIter<'a> {
        FilesIter {
            table: self.table,
            range: 0..self.len(),
        }
    }
}

impl fmt::Debug for Files<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Files<'a> {
    type Item = FileEntry<'a>;
    type IntoIter = FilesIter<'a>;
    fn into_iter(self) -> FilesIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Files`].
#[derive(Clone)]
pub struct FilesIter<'a> {
    table: &'a FileTable,
    range: std::ops::Range<usize>,
}

impl fmt::Debug for FilesIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesIter")
            .field("range", &self.range)
            .finish()
    }
}

impl<'a> Iterator for FilesIter<'a> {
    type Item = FileEntry<'a>;
    fn next(&mut self) -> Option<FileEntry<'a>> {
        self.range.next().map(|i| self.table.entry(i))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
    fn nth(&mut self, n: usize) -> Option<FileEntry<'a>> {
        self.range.nth(n).map(|i| self.table.entry(i))
    }
}

impl DoubleEndedIterator for FilesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().map(|i| self.table.entry(i))
    }
}

impl ExactSizeIterator for FilesIter<'_> {}

impl std::iter::FusedIterator for FilesIter<'_> {}
