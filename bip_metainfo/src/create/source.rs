//! Where content comes from: the [`DataSource`] trait and its file-system implementation.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::CreateError;

/// One file of a [`DataSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path components inside the torrent (without the torrent's name). Empty only for the
    /// single file of a single-file torrent.
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
}

/// Content to hash, for custom storage (databases, object stores, in-memory data...).
///
/// `read_at` is called from several threads at once, with ranges inside `files()[file]`.
pub trait DataSource: Sync {
    /// The files, in the order given (the builder sorts them, see
    /// [`TorrentBuilder`](super::TorrentBuilder)).
    fn files(&self) -> Vec<SourceFile>;
    /// Fill all of `buf` with the bytes of file `file` starting at `offset`.
    ///
    /// # Errors
    /// Any I/O error; a short file must give [`io::ErrorKind::UnexpectedEof`].
    fn read_at(&self, file: usize, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

/// In-memory content: `(path components, bytes)` pairs. Handy for tests and small torrents.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    /// The files.
    pub files: Vec<(Vec<String>, Vec<u8>)>,
}

impl DataSource for MemorySource {
    fn files(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .map(|(p, d)| SourceFile {
                path: p.clone(),
                length: d.len() as u64,
            })
            .collect()
    }

    fn read_at(&self, file: usize, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let data = &self.files[file].1;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let src = data
            .get(start..)
            .and_then(|d| d.get(..buf.len()))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Files on disk: a list of absolute paths with their torrent paths.
#[derive(Debug, Clone)]
pub struct FsSource {
    files: Vec<(PathBuf, SourceFile)>,
}

impl FsSource {
    /// A source over explicit `(disk path, torrent file)` pairs.
    pub fn new(files: Vec<(PathBuf, SourceFile)>) -> Self {
        FsSource { files }
    }

    /// Walk `path`: a single file (torrent path empty) or every regular file under a directory
    /// (symbolic links followed), in directory order (the builder sorts).
    ///
    /// # Errors
    /// [`CreateError::Io`] when the walk fails, [`CreateError::NonUtf8Path`] for a name that is
    /// not UTF-8.
    pub fn walk(path: &Path) -> Result<Self, CreateError> {
        Self::walk_with(
            path,
            &WalkOptions {
                include_hidden: true,
                follow_symlinks: true,
                ..WalkOptions::default()
            },
        )
        .map(|(s, _)| s)
    }

    /// Walk `path` as [`FsSource::walk`] does, leaving out what `opts` says, and report what was
    /// left out (in walk order). A folder left out is reported once, not its contents. Symbolic
    /// links that point inside `path` are always followed (each folder once, so links cannot
    /// loop); those pointing outside only with [`WalkOptions::follow_symlinks`].
    ///
    /// # Errors
    /// As [`FsSource::walk`].
    pub fn walk_with(path: &Path, opts: &WalkOptions) -> Result<(Self, Vec<Skipped>), CreateError> {
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| CreateError::Io { path: p, source }
        };
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        if meta.is_file() {
            files.push((
                path.to_path_buf(),
                SourceFile {
                    path: Vec::new(),
                    length: meta.len(),
                },
            ));
            return Ok((FsSource { files }, skipped));
        }
        let root = std::fs::canonicalize(path).map_err(io_err(path))?;
        let mut visited = std::collections::HashSet::new();
        visited.insert(root.clone());
        let mut stack = vec![(path.to_path_buf(), Vec::<String>::new())];
        while let Some((dir, comps)) = stack.pop() {
            let mut entries = std::fs::read_dir(&dir)
                .map_err(io_err(&dir))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(io_err(&dir))?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let p = entry.path();
                let name = entry
                    .file_name()
                    .into_string()
                    .map_err(|_| CreateError::NonUtf8Path(p.clone()))?;
                let mut c = comps.clone();
                c.push(name.clone());
                let skip = |reason| Skipped {
                    path: c.clone(),
                    reason,
                };
                if !opts.include_hidden && name.starts_with('.') {
                    skipped.push(skip(SkipReason::Hidden));
                    continue;
                }
                if opts.exclude.as_ref().is_some_and(|f| f(&c)) {
                    skipped.push(skip(SkipReason::Excluded));
                    continue;
                }
                let link = std::fs::symlink_metadata(&p)
                    .map_err(io_err(&p))?
                    .file_type()
                    .is_symlink();
                let target = if link {
                    match std::fs::canonicalize(&p) {
                        Ok(t) => Some(t),
                        Err(_) => {
                            skipped.push(skip(SkipReason::BrokenSymlink));
                            continue;
                        }
                    }
                } else {
                    None
                };
                if let Some(t) = &target {
                    if !t.starts_with(&root) && !opts.follow_symlinks {
                        skipped.push(skip(SkipReason::SymlinkOutside));
                        continue;
                    }
                }
                let m = std::fs::metadata(&p).map_err(io_err(&p))?;
                if m.is_dir() {
                    let canon = match target {
                        Some(t) => t,
                        None => std::fs::canonicalize(&p).map_err(io_err(&p))?,
                    };
                    if !visited.insert(canon) {
                        skipped.push(skip(SkipReason::SymlinkLoop));
                        continue;
                    }
                    stack.push((p, c));
                } else if m.is_file() {
                    files.push((
                        p,
                        SourceFile {
                            path: c,
                            length: m.len(),
                        },
                    ));
                } else {
                    skipped.push(skip(SkipReason::NotAFile));
                }
            }
        }
        Ok((FsSource { files }, skipped))
    }

    /// Disk path of file `i`.
    pub fn disk_path(&self, i: usize) -> &Path {
        &self.files[i].0
    }
}

impl DataSource for FsSource {
    fn files(&self) -> Vec<SourceFile> {
        self.files.iter().map(|(_, f)| f.clone()).collect()
    }

    fn read_at(&self, file: usize, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let f = File::open(&self.files[file].0)?;
        read_exact_at(&f, offset, buf)
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut f: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// A filter of [`WalkOptions::exclude`]: true for the path components to leave out.
pub type ExcludeFilter = Box<dyn Fn(&[String]) -> bool + Sync>;

/// What [`FsSource::walk_with`] leaves out.
#[derive(Default)]
pub struct WalkOptions {
    /// Take files and folders whose name starts with `.` (`.git/`, `.DS_Store`); default: leave
    /// them out.
    pub include_hidden: bool,
    /// Follow symbolic links that point outside the folder walked; default: leave them out
    /// (links pointing inside are followed).
    pub follow_symlinks: bool,
    /// Leave out files and folders for which this returns true (given the path components
    /// below the folder walked).
    pub exclude: Option<ExcludeFilter>,
}

impl std::fmt::Debug for WalkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalkOptions")
            .field("include_hidden", &self.include_hidden)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("exclude", &self.exclude.is_some())
            .finish()
    }
}

/// One file or folder [`FsSource::walk_with`] left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its path components below the folder walked.
    pub path: Vec<String>,
    /// Why.
    pub reason: SkipReason,
}

/// Why a file or folder was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its name starts with `.`.
    Hidden,
    /// The exclude filter matched it.
    Excluded,
    /// A symbolic link pointing outside the folder walked.
    SymlinkOutside,
    /// A symbolic link to a folder already walked.
    SymlinkLoop,
    /// A symbolic link whose target does not exist.
    BrokenSymlink,
    /// Not a regular file or folder (FIFO, socket, device).
    NotAFile,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Hidden => "hidden",
            SkipReason::Excluded => "excluded",
            SkipReason::SymlinkOutside => "symlink pointing outside",
            SkipReason::SymlinkLoop => "symlink to a folder already included",
            SkipReason::BrokenSymlink => "broken symlink",
            SkipReason::NotAFile => "not a regular file",
        })
    }
}
