//! Check data on disk against a torrent (v1 or v2), in parallel, with progress.
//!
//! Verification works on a [`VerifyPlan`]: the piece length, the files (in torrent order, padding
//! included) with their v2 roots, the v1 piece hashes and the v2 piece layers. Build one from a
//! parsed torrent (`VerifyPlan::from(&metainfo)`), from a file's bytes with
//! [`VerifyPlan::from_torrent`] (the same parser), or by hand. Its paths are
//! [`Info::disk_paths`](crate::Info::disk_paths), the paths `torrent show` lists, and
//! [`verify`] refuses any path that is not made of plain components (no root, drive, `.` or
//! `..`), so nothing outside the folder it is given is ever opened.
//!
//! v1 pieces may span files, so a bad piece marks every file it touches as bad; v2 pieces never
//! span files, so a v2 check gives exact per-file answers. [`Check::Auto`] therefore checks v2
//! when the plan has it (v2 and hybrid torrents) and v1 otherwise. Padding files are zeros and
//! never read from disk.
//!
//! Data that cannot be read (a missing or short file, a permission error, a FIFO or other
//! non-regular file, which is never opened) costs exactly the pieces that overlap the unreadable
//! bytes. The work and memory of a check are bounded by the plan's hashes (its v1 pieces and v2
//! piece layers), never by the sizes the files claim: sizes are summed with checked arithmetic
//! ([`VerifyError::TooLarge`]) and a v2 file of several pieces needs its piece layer.
//!
//! ```
//! use bip_metainfo::create::{TorrentBuilder};
//! use bip_metainfo::{Version};
//! use bip_metainfo::verify::{verify, VerifyOptions, VerifyPlan};
//!
//! let dir = std::env::temp_dir().join(format!("bip-verify-doc-{}", std::process::id()));
//! std::fs::create_dir_all(dir.join("content"))?;
//! std::fs::write(dir.join("content/a.bin"), vec![7u8; 100_000])?;
//! let t = TorrentBuilder::new().version(Version::Hybrid).build_from_path(dir.join("content"))?;
//! let plan = VerifyPlan::from_torrent(&t.bytes)?;
//! let report = verify(&plan, &dir, &VerifyOptions::default())?;
//! assert!(report.all_good());
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bip_bencode::AccessError;

use crate::create::hasher::{self, Entry, Segment};
use crate::create::{DataSource, SourceFile};

/// One file of a [`VerifyPlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFile {
    /// Path relative to the download folder (starts with the torrent's name).
    pub rel_path: PathBuf,
    /// Length in bytes.
    pub length: u64,
    /// BEP 47 padding file (zeros, not on disk).
    pub pad: bool,
    /// v2 merkle root (non-empty files of v2/hybrid torrents).
    pub pieces_root: Option<[u8; 32]>,
}

/// What to check, independent of how the torrent was parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyPlan {
    /// Piece length.
    pub piece_length: u64,
    /// Files in torrent order (the v1 order, padding included).
    pub files: Vec<PlanFile>,
    /// v1 piece hashes.
    pub v1_pieces: Option<Vec<[u8; 20]>>,
    /// v2 piece layers, by pieces root.
    pub piece_layers: HashMap<[u8; 32], Vec<[u8; 32]>>,
}

/// Which hashes to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    /// v2 when every file of the plan has a v2 pieces root (v2 and hybrid torrents), else v1.
    #[default]
    Auto,
    /// v1 piece hashes.
    V1,
    /// v2 merkle trees.
    V2,
}

/// Verification options.
#[derive(Clone)]
pub struct VerifyOptions {
    /// Threads (default: all cores).
    pub threads: usize,
    /// Which hashes to check.
    pub check: Check,
    /// Progress `(bytes done, total)`.
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    /// Cancel flag.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("threads", &self.threads)
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            check: Check::Auto,
            progress: None,
            cancel: None,
        }
    }
}

/// State of one file after verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileStatus {
    /// Every piece touching it is good (and the size is right).
    Good,
    /// Some pieces touching it are bad.
    Bad {
        /// Bad pieces touching the file.
        bad_pieces: u64,
    },
    /// Not on disk.
    Missing,
    /// On disk with another size.
    WrongSize {
        /// Size on disk.
        actual: u64,
    },
    /// On disk but not a regular file (a directory, FIFO, socket or device); never opened.
    NotAFile,
    /// On disk with the right size, but reading it failed (permissions, I/O errors).
    Unreadable,
}

/// One file of a [`VerifyReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// Path relative to the download folder.
    pub rel_path: PathBuf,
    /// Expected length.
    pub length: u64,
    /// Result.
    pub status: FileStatus,
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Which hashes were checked (never `Auto`).
    pub checked: Check,
    /// Good pieces.
    pub pieces_good: u64,
    /// Bad (or unreadable) pieces.
    pub pieces_bad: u64,
    /// Per piece: good? (v1: torrent pieces; v2: each file's pieces, file after file).
    pub pieces: Vec<bool>,
    /// Non-padding files in torrent order.
    pub files: Vec<FileReport>,
}

impl VerifyReport {
    /// No bad piece and every file good.
    pub fn all_good(&self) -> bool {
        self.pieces_bad == 0 && self.files.iter().all(|f| f.status == FileStatus::Good)
    }
}

/// Why verification could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The torrent is malformed (the message names the field).
    #[error("{0}")]
    Malformed(String),
    /// The plan cannot be checked as asked (e.g. no v1 pieces for [`Check::V1`]).
    #[error("cannot verify: {0}")]
    Plan(String),
    /// The sizes in the plan overflow 64 bits or exceed
    /// [`MAX_FILE_SIZE`](crate::MAX_FILE_SIZE).
    #[error("too large: {0}")]
    TooLarge(String),
    /// The cancel flag was raised.
    #[error("cancelled")]
    Cancelled,
}

impl From<AccessError> for VerifyError {
    fn from(e: AccessError) -> Self {
        VerifyError::Malformed(e.to_string())
    }
}

/// Reads plan files below a directory; padding never reaches it.
///
/// Each file was examined once before hashing (`sizes`): a file that is missing or not a
/// regular file is never opened (a FIFO would block), and reads past its size on disk fail
/// without touching it.
struct DiskPlan {
    paths: Vec<PathBuf>,
    /// Size of each regular file on disk; `None` when missing or not a regular file.
    sizes: Vec<Option<u64>>,
}

impl DataSource for DiskPlan {
    fn files(&self) -> Vec<SourceFile> {
        Vec::new()
    }
    fn read_at(&self, file: usize, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let (Some(path), Some(size)) = (self.paths.get(file), self.sizes.get(file)) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such plan file"));
        };
        let Some(size) = *size else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "missing or not a regular file",
            ));
        };
        if offset.saturating_add(buf.len() as u64) > size {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let f = open_regular(path)?;
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&f, buf, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = f;
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(buf)
        }
    }
}

/// `O_NONBLOCK` where its value is known without the libc crate: opening a FIFO that replaced a
/// regular file after it was examined then cannot block either.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
)))]
const O_NONBLOCK: i32 = 0;

/// Open `path` for reading; an error unless it is a regular file.
fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, O_NONBLOCK);
    let _ = O_NONBLOCK;
    let f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// What is at a plan file's path, examined once before hashing.
#[derive(Debug, Clone, Copy)]
enum OnDisk {
    Missing,
    Unreadable,
    NotAFile,
    File(u64),
}

fn examine(path: &Path) -> OnDisk {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => OnDisk::File(m.len()),
        Ok(_) => OnDisk::NotAFile,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => OnDisk::Unreadable,
        Err(_) => OnDisk::Missing,
    }
}

fn invalid(msg: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(msg.into())
}

impl VerifyPlan {
    /// The plan of a .torrent file (v1, v2 or hybrid): the crate's one reader
    /// ([`Metainfo::from_bytes`](crate::Metainfo::from_bytes)), then
    /// [`VerifyPlan::from`]`(&metainfo)`. The paths are those `torrent show` lists
    /// ([`Info::disk_paths`](crate::Info::disk_paths)).
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] naming the faulty field.
    pub fn from_torrent(bytes: &[u8]) -> Result<Self, VerifyError> {
        crate::Metainfo::from_bytes(bytes)
            .map(|m| VerifyPlan::from(&m))
            .map_err(|e| invalid(e.to_string()))
    }
}

/// Check the files below `root_dir` (the download folder: it holds the torrent's name) against
/// `plan`.
///
/// # Errors
/// [`VerifyError::Plan`] when the plan lacks the hashes asked for or is inconsistent (for v2, a
/// file of several pieces without a piece layer of the right size), [`VerifyError::TooLarge`]
/// when its sizes overflow, [`VerifyError::Cancelled`]. Unreadable data is not an error: it
/// makes exactly the pieces that overlap it bad.
pub fn verify(
    plan: &VerifyPlan,
    root_dir: &Path,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let pl = plan.piece_length;
    if pl == 0 || pl > crate::MAX_PIECE_LENGTH {
        return Err(VerifyError::Plan(format!(
            "piece length {pl} is not between 1 and {}",
            crate::MAX_PIECE_LENGTH
        )));
    }
    let check = match opts.check {
        Check::Auto if plan.has_v2() => Check::V2,
        Check::Auto if plan.v1_pieces.is_some() => Check::V1,
        Check::Auto => Check::V2,
        c => c,
    };
    if check == Check::V2 && (pl < hasher::BLOCK || !pl.is_power_of_two()) {
        return Err(VerifyError::Plan(format!(
            "v2 piece length {pl} is invalid"
        )));
    }
    let too_large = || {
        VerifyError::TooLarge(format!(
            "the files add up to more than {} bytes",
            crate::MAX_FILE_SIZE
        ))
    };
    // Validate the plan and bound the work before touching the disk.
    let mut total = 0u64;
    for f in &plan.files {
        total = total
            .checked_add(f.length)
            .filter(|&t| t <= crate::MAX_FILE_SIZE)
            .ok_or_else(too_large)?;
    }
    if check == Check::V1 {
        let Some(expected) = &plan.v1_pieces else {
            return Err(VerifyError::Plan("no v1 piece hashes".into()));
        };
        if total.div_ceil(pl) != expected.len() as u64 {
            return Err(VerifyError::Plan(format!(
                "{} bytes need {} pieces, the torrent has {}",
                total,
                total.div_ceil(pl),
                expected.len()
            )));
        }
    } else {
        for f in plan.files.iter().filter(|f| !f.pad && f.length > 0) {
            let Some(root) = &f.pieces_root else {
                return Err(VerifyError::Plan(format!(
                    "{}: no pieces root",
                    f.rel_path.display()
                )));
            };
            let n = f.length.div_ceil(pl);
            if n > 1 && plan.piece_layers.get(root).map(Vec::len) != Some(n as usize) {
                return Err(VerifyError::Plan(format!(
                    "{}: no piece layer of {n} hashes for its {} bytes",
                    f.rel_path.display(),
                    f.length
                )));
            }
        }
    }
    // Paths of plain components only: nothing outside `root_dir` is ever opened, whatever a
    // hand-made plan holds (plans from a parsed torrent always pass).
    if let Some(f) = plan
        .files
        .iter()
        .find(|f| !f.pad && !crate::path::is_contained(&f.rel_path))
    {
        return Err(VerifyError::Plan(format!(
            "{:?} is not a relative path of plain components",
            f.rel_path
        )));
    }
    let paths: Vec<PathBuf> = plan
        .files
        .iter()
        .map(|f| root_dir.join(&f.rel_path))
        .collect();
    let on_disk: Vec<OnDisk> = plan
        .files
        .iter()
        .zip(&paths)
        .map(|(f, p)| if f.pad { OnDisk::Missing } else { examine(p) })
        .collect();
    let disk = DiskPlan {
        sizes: on_disk
            .iter()
            .map(|d| match d {
                OnDisk::File(n) => Some(*n),
                _ => None,
            })
            .collect(),
        paths,
    };
    let progress = opts.progress.clone();
    let spec = hasher::Spec {
        piece_length: pl,
        v1: check == Check::V1,
        v2: check == Check::V2,
        threads: opts.threads.max(1),
        fail_fast: false,
        progress: progress.as_deref().map(|p| p as &(dyn Fn(u64, u64) + Sync)),
        cancel: opts.cancel.as_deref(),
    };
    let map_err = |e| match e {
        hasher::EngineError::Cancelled => VerifyError::Cancelled,
        hasher::EngineError::Io { err, .. } => VerifyError::Plan(err.to_string()),
    };
    // Per file: number of bad pieces touching it, and whether a read of it failed.
    let mut bad_per_file = vec![0u64; plan.files.len()];
    let mut read_failed = vec![false; plan.files.len()];
    let mut pieces = Vec::new();
    if check == Check::V1 {
        let expected = plan.v1_pieces.as_deref().unwrap_or_default();
        let mut layout = Vec::new();
        let mut off = 0u64;
        for (i, f) in plan.files.iter().enumerate() {
            layout.push(Entry {
                start: off,
                len: f.length,
                src: (!f.pad).then_some(i),
            });
            off += f.length;
        }
        let seg = [Segment {
            start: 0,
            data_len: off,
            v1_len: off,
        }];
        let out = hasher::run(&layout, &seg, &spec, &disk).map_err(map_err)?;
        for o in &out {
            for &s in &o.failed {
                if let Some(r) = read_failed.get_mut(s) {
                    *r = true;
                }
            }
        }
        pieces = out[0]
            .v1
            .iter()
            .zip(expected)
            .map(|(got, want)| got.as_ref() == Some(want))
            .collect();
        for (i, e) in layout.iter().enumerate() {
            if e.len > 0 {
                let (a, b) = (e.start / pl, (e.start + e.len - 1) / pl);
                bad_per_file[i] = pieces
                    .get(a as usize..=b as usize)
                    .unwrap_or_default()
                    .iter()
                    .filter(|g| !**g)
                    .count() as u64;
            }
        }
    } else {
        let mut layout = Vec::new();
        let mut segs = Vec::new();
        let mut idx = Vec::new();
        let mut off = 0u64;
        for (i, f) in plan.files.iter().enumerate() {
            if f.pad || f.length == 0 {
                continue;
            }
            layout.push(Entry {
                start: off,
                len: f.length,
                src: Some(i),
            });
            segs.push(Segment {
                start: off,
                data_len: f.length,
                v1_len: f.length,
            });
            idx.push(i);
            off += f.length;
        }
        let out = hasher::run(&layout, &segs, &spec, &disk).map_err(map_err)?;
        for (o, &i) in out.iter().zip(&idx) {
            for &s in &o.failed {
                if let Some(r) = read_failed.get_mut(s) {
                    *r = true;
                }
            }
            let f = &plan.files[i];
            let root = f.pieces_root.unwrap_or_default();
            let good: Vec<bool> = if f.length > pl {
                let layer = plan
                    .piece_layers
                    .get(&root)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                o.v2.iter()
                    .zip(layer)
                    .map(|(g, w)| g.as_ref() == Some(w))
                    .collect()
            } else {
                vec![o.v2.first().copied().flatten() == Some(root)]
            };
            bad_per_file[i] = good.iter().filter(|g| !**g).count() as u64;
            pieces.extend(good);
        }
    }
    let files = plan
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.pad)
        .map(|(i, f)| {
            let status = match on_disk[i] {
                OnDisk::Missing => FileStatus::Missing,
                OnDisk::NotAFile => FileStatus::NotAFile,
                OnDisk::Unreadable => FileStatus::Unreadable,
                OnDisk::File(n) if n != f.length => FileStatus::WrongSize { actual: n },
                OnDisk::File(_) if read_failed[i] => FileStatus::Unreadable,
                OnDisk::File(_) if bad_per_file[i] > 0 => FileStatus::Bad {
                    bad_pieces: bad_per_file[i],
                },
                OnDisk::File(_) => FileStatus::Good,
            };
            FileReport {
                rel_path: f.rel_path.clone(),
                length: f.length,
                status,
            }
        })
        .collect();
    let good = pieces.iter().filter(|g| **g).count() as u64;
    Ok(VerifyReport {
        checked: check,
        pieces_good: good,
        pieces_bad: pieces.len() as u64 - good,
        pieces,
        files,
    })
}

impl VerifyPlan {
    /// Whether every non-padding file with data has a v2 pieces root (v2 and hybrid torrents),
    /// so that [`Check::Auto`] checks v2.
    pub fn has_v2(&self) -> bool {
        let mut data = self.files.iter().filter(|f| !f.pad && f.length > 0);
        data.clone().next().is_some() && data.all(|f| f.pieces_root.is_some())
    }
}

impl From<&crate::Metainfo> for VerifyPlan {
    /// The plan of a parsed torrent: v1 pieces when it has v1, files in torrent order (padding
    /// included) with their v2 roots, and the piece layers.
    fn from(m: &crate::Metainfo) -> Self {
        let info = &m.info;
        let files = info
            .all_files()
            .iter()
            .zip(info.disk_paths())
            // A v2-only torrent's padding is implied (never hashed); leave it out.
            .filter(|(f, _)| info.version.has_v1() || !f.is_padding())
            .map(|(f, rel_path)| PlanFile {
                rel_path,
                length: f.length(),
                pad: f.is_padding(),
                pieces_root: f.pieces_root().copied(),
            })
            .collect();
        VerifyPlan {
            piece_length: info.piece_length,
            files,
            v1_pieces: info.version.has_v1().then(|| {
                info.pieces()
                    .chunks_exact(20)
                    .map(|c| c.try_into().unwrap_or([0; 20]))
                    .collect()
            }),
            piece_layers: m
                .piece_layers
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
        }
    }
}
