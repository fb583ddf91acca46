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
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| CreateError::Io { path: p, source }
        };
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let mut files = Vec::new();
        if meta.is_file() {
            files.push((
                path.to_path_buf(),
                SourceFile {
                    path: Vec::new(),
                    length: meta.len(),
                },
            ));
        } else {
            let mut stack = vec![(path.to_path_buf(), Vec::<String>::new())];
            while let Some((dir, comps)) = stack.pop() {
                for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
                    let entry = entry.map_err(io_err(&dir))?;
                    let p = entry.path();
                    let name = entry
                        .file_name()
                        .into_string()
                        .map_err(|_| CreateError::NonUtf8Path(p.clone()))?;
                    let m = std::fs::metadata(&p).map_err(io_err(&p))?;
                    let mut c = comps.clone();
                    c.push(name);
                    if m.is_dir() {
                        stack.push((p, c));
                    } else if m.is_file() {
                        files.push((
                            p,
                            SourceFile {
                                path: c,
                                length: m.len(),
                            },
                        ));
                    }
                }
            }
        }
        Ok(FsSource { files })
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
