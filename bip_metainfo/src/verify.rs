//! Check data on disk against a torrent (v1 or v2), in parallel, with progress.
//!
//! Verification works on a [`VerifyPlan`]: the piece length, the files (in torrent order, padding
//! included) with their v2 roots, the v1 piece hashes and the v2 piece layers. Build one from a
//! parsed torrent (`VerifyPlan::from(&metainfo)`), with the minimal reader
//! [`VerifyPlan::from_torrent`], or by hand.
//!
//! v1 pieces may span files, so a bad piece marks every file it touches as bad; v2 pieces never
//! span files. Padding files are zeros and never read from disk.
//!
//! ```
//! use bip_metainfo::create::{TorrentBuilder, Version};
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

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bip_bencode::{AccessError, Decoder, Dict};

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
    /// v1 when the plan has v1 pieces, else v2.
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
struct DiskPlan {
    paths: Vec<PathBuf>,
}

impl DataSource for DiskPlan {
    fn files(&self) -> Vec<SourceFile> {
        Vec::new()
    }
    fn read_at(&self, file: usize, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let f = std::fs::File::open(&self.paths[file])?;
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

fn invalid(msg: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(msg.into())
}

impl VerifyPlan {
    /// Read the fields verification needs from a .torrent file (v1, v2 or hybrid).
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] naming the faulty field.
    pub fn from_torrent(bytes: &[u8]) -> Result<Self, VerifyError> {
        let doc = Decoder::lenient()
            .decode(bytes)
            .map_err(|e| invalid(format!("not bencode: {e}")))?;
        let root = doc.root().dict()?;
        let info = root.get_dict(b"info")?;
        let name = info.get_str(b"name")?;
        check_comp(name, "info.name")?;
        let pl = info.get_int(b"piece length")?;
        if pl <= 0 || pl > 1 << 34 {
            return Err(invalid(format!("`info.piece length`: invalid value {pl}")));
        }
        let pl = pl as u64;
        let v1_pieces = match info.opt_bytes(b"pieces")? {
            None => None,
            Some(p) if p.len() % 20 == 0 => Some(
                p.chunks(20)
                    .map(|c| c.try_into().unwrap_or([0; 20]))
                    .collect(),
            ),
            Some(p) => {
                return Err(invalid(format!(
                    "`info.pieces`: length {} is not a multiple of 20",
                    p.len()
                )))
            }
        };
        // v2 file tree: path components -> (length, root).
        let mut tree_files: Vec<TreeFile> = Vec::new();
        if let Some(tree) = info.opt_dict(b"file tree")? {
            walk_tree(tree, &mut Vec::new(), &mut tree_files, 0)?;
        }
        let mut files = Vec::new();
        let roots: BTreeMap<Vec<String>, Option<[u8; 32]>> =
            tree_files.iter().map(|(p, _, r)| (p.clone(), *r)).collect();
        let single_tree = tree_files.len() == 1 && tree_files[0].0 == [name.to_owned()];
        if let Some(list) = info.opt_list(b"files")? {
            for (i, f) in list.iter().enumerate() {
                let f = f.dict()?;
                let length = f.get_int(b"length")?;
                if length < 0 {
                    return Err(invalid(format!("`info.files[{i}].length`: negative")));
                }
                let pad = f.opt_str(b"attr")?.is_some_and(|a| a.contains('p'));
                let mut comps = Vec::new();
                for c in f.get_list(b"path")?.iter() {
                    let c = c.str()?;
                    check_comp(c, "info.files.path")?;
                    comps.push(c.to_owned());
                }
                if comps.is_empty() {
                    return Err(invalid(format!("`info.files[{i}].path`: empty")));
                }
                let mut rel = PathBuf::from(name);
                rel.extend(&comps);
                files.push(PlanFile {
                    rel_path: rel,
                    length: length as u64,
                    pad,
                    pieces_root: roots.get(&comps).copied().flatten(),
                });
            }
        } else if let Some(length) = info.opt_int(b"length")? {
            if length < 0 {
                return Err(invalid("`info.length`: negative"));
            }
            files.push(PlanFile {
                rel_path: PathBuf::from(name),
                length: length as u64,
                pad: false,
                pieces_root: roots.get(&vec![name.to_owned()]).copied().flatten(),
            });
        } else if !tree_files.is_empty() {
            for (comps, length, root) in &tree_files {
                let rel = if single_tree {
                    PathBuf::from(name)
                } else {
                    let mut r = PathBuf::from(name);
                    r.extend(comps);
                    r
                };
                files.push(PlanFile {
                    rel_path: rel,
                    length: *length,
                    pad: false,
                    pieces_root: *root,
                });
            }
        } else {
            return Err(invalid("`info`: no `files`, `length` or `file tree`"));
        }
        let mut piece_layers = HashMap::new();
        if let Some(layers) = root.opt_dict(b"piece layers")? {
            for (k, v) in layers.iter() {
                let key: [u8; 32] = k
                    .try_into()
                    .map_err(|_| invalid("`piece layers`: key is not 32 bytes"))?;
                let b = v.bytes()?;
                if b.len() % 32 != 0 {
                    return Err(invalid("`piece layers`: value length not a multiple of 32"));
                }
                piece_layers.insert(
                    key,
                    b.chunks(32)
                        .map(|c| c.try_into().unwrap_or([0; 32]))
                        .collect(),
                );
            }
        }
        Ok(VerifyPlan {
            piece_length: pl,
            files,
            v1_pieces,
            piece_layers,
        })
    }
}

/// A `file tree` leaf: path components, length, pieces root.
type TreeFile = (Vec<String>, u64, Option<[u8; 32]>);

fn check_comp(c: &str, field: &str) -> Result<(), VerifyError> {
    if c.is_empty() || c == "." || c == ".." || c.contains('/') || c.contains('\\') {
        return Err(invalid(format!("`{field}`: unsafe path component {c:?}")));
    }
    Ok(())
}

fn walk_tree(
    d: Dict<'_, '_>,
    prefix: &mut Vec<String>,
    out: &mut Vec<TreeFile>,
    depth: usize,
) -> Result<(), VerifyError> {
    if depth > 64 {
        return Err(invalid("`info.file tree`: too deep"));
    }
    for (k, v) in d.iter() {
        let v = v.dict()?;
        if k.is_empty() {
            let length = v.get_int(b"length")?;
            if length < 0 {
                return Err(invalid("`info.file tree`: negative length"));
            }
            let root = match v.opt_bytes(b"pieces root")? {
                None => None,
                Some(r) => Some(
                    r.try_into()
                        .map_err(|_| invalid("`info.file tree.pieces root`: not 32 bytes"))?,
                ),
            };
            out.push((prefix.clone(), length as u64, root));
            continue;
        }
        let name = std::str::from_utf8(k)
            .map_err(|_| invalid("`info.file tree`: file name is not UTF-8"))?;
        check_comp(name, "info.file tree")?;
        prefix.push(name.to_owned());
        walk_tree(v, prefix, out, depth + 1)?;
        prefix.pop();
    }
    Ok(())
}

/// Check the files below `root_dir` (the download folder: it holds the torrent's name) against
/// `plan`.
///
/// # Errors
/// [`VerifyError::Plan`] when the plan lacks the hashes asked for or is inconsistent,
/// [`VerifyError::Cancelled`]. Unreadable data is not an error: it makes pieces bad.
pub fn verify(
    plan: &VerifyPlan,
    root_dir: &Path,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let pl = plan.piece_length;
    if pl == 0 {
        return Err(VerifyError::Plan("piece length 0".into()));
    }
    let check = match opts.check {
        Check::Auto if plan.v1_pieces.is_some() => Check::V1,
        Check::Auto => Check::V2,
        c => c,
    };
    if check == Check::V2 && (pl < hasher::BLOCK || !pl.is_power_of_two()) {
        return Err(VerifyError::Plan(format!(
            "v2 piece length {pl} is invalid"
        )));
    }
    let disk = DiskPlan {
        paths: plan
            .files
            .iter()
            .map(|f| root_dir.join(&f.rel_path))
            .collect(),
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
    // Per file: number of bad pieces touching it.
    let mut bad_per_file = vec![0u64; plan.files.len()];
    let mut pieces = Vec::new();
    if check == Check::V1 {
        let Some(expected) = &plan.v1_pieces else {
            return Err(VerifyError::Plan("no v1 piece hashes".into()));
        };
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
        if off.div_ceil(pl) != expected.len() as u64 {
            return Err(VerifyError::Plan(format!(
                "{} bytes need {} pieces, the torrent has {}",
                off,
                off.div_ceil(pl),
                expected.len()
            )));
        }
        let seg = [Segment {
            start: 0,
            data_len: off,
            v1_len: off,
        }];
        let out = hasher::run(&layout, &seg, &spec, &disk).map_err(map_err)?;
        pieces = out[0]
            .v1
            .iter()
            .zip(expected)
            .map(|(got, want)| got.as_ref() == Some(want))
            .collect();
        for (i, e) in layout.iter().enumerate() {
            if e.len > 0 {
                let (a, b) = (e.start / pl, (e.start + e.len - 1) / pl);
                bad_per_file[i] = pieces[a as usize..=b as usize]
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
            if f.pieces_root.is_none() {
                return Err(VerifyError::Plan(format!(
                    "{}: no pieces root",
                    f.rel_path.display()
                )));
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
            let f = &plan.files[i];
            let root = f.pieces_root.unwrap_or_default();
            let good: Vec<bool> = if f.length > pl {
                match plan.piece_layers.get(&root) {
                    Some(layer) if layer.len() == o.v2.len() => {
                        o.v2.iter()
                            .zip(layer)
                            .map(|(g, w)| g.as_ref() == Some(w))
                            .collect()
                    }
                    _ => vec![false; o.v2.len()],
                }
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
            let status = match std::fs::metadata(root_dir.join(&f.rel_path)) {
                Err(_) => FileStatus::Missing,
                Ok(m) if !m.is_file() => FileStatus::Missing,
                Ok(m) if m.len() != f.length => FileStatus::WrongSize { actual: m.len() },
                Ok(_) if bad_per_file[i] > 0 => FileStatus::Bad {
                    bad_pieces: bad_per_file[i],
                },
                Ok(_) => FileStatus::Good,
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

impl From<&crate::Metainfo> for VerifyPlan {
    /// The plan of a parsed torrent: v1 pieces when it has v1, files in torrent order (padding
    /// included) with their v2 roots, and the piece layers.
    fn from(m: &crate::Metainfo) -> Self {
        let info = &m.info;
        let files = info
            .all_files()
            .iter()
            .map(|f| {
                let mut rel = PathBuf::new();
                if info.multi_file {
                    rel.push(&info.name);
                }
                rel.extend(&f.path);
                PlanFile {
                    rel_path: rel,
                    length: f.length,
                    pad: f.is_padding(),
                    pieces_root: f.pieces_root,
                }
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
