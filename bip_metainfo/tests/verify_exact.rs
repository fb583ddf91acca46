//! `verify` answers exactly: each file of a multi-file torrent in turn is deleted, truncated,
//! corrupted, extended or replaced by a FIFO or a folder, for v1, v2 and hybrid torrents, and
//! the reported pieces and per-file statuses are compared with the exact expected set (computed
//! here from the byte ranges that were damaged) and with libtorrent's recheck of the same data.

use std::path::{Path, PathBuf};
use std::process::Command;

use bip_interop::{test_bytes, TempDir};
use bip_metainfo::create::TorrentBuilder;
use bip_metainfo::verify::{verify, Check, FileStatus, VerifyOptions, VerifyPlan, VerifyReport};
use bip_metainfo::Version;

/// How one file is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    Delete,
    /// Cut to half its length.
    Truncate,
    /// One byte flipped in the middle.
    Corrupt,
    /// 10 bytes appended (pieces stay good, the size is wrong).
    Extend,
    /// Replaced by a FIFO (must not block).
    Fifo,
    /// Replaced by a folder.
    Folder,
}

const ALL: [Damage; 6] = [
    Damage::Delete,
    Damage::Truncate,
    Damage::Corrupt,
    Damage::Extend,
    Damage::Fifo,
    Damage::Folder,
];

/// A content set: torrent name, piece length, files (path below the name, bytes).
struct Content {
    name: &'static str,
    piece_length: u64,
    files: Vec<(&'static str, Vec<u8>)>,
}

/// The issue's reproduction: a.bin 5,000,000 random bytes, b.txt 6 bytes, c.bin 1,000,000.
fn issue_content() -> Content {
    Content {
        name: "mydir",
        piece_length: 262_144,
        files: vec![
            ("a.bin", test_bytes(11, 5_000_000)),
            ("b.txt", b"hello\n".to_vec()),
            ("c.bin", test_bytes(12, 1_000_000)),
        ],
    }
}

/// Small pieces, nested folders, an empty file, a piece-aligned file and one-byte files.
fn small_content() -> Content {
    Content {
        name: "m",
        piece_length: 16_384,
        files: vec![
            ("x/aligned.bin", test_bytes(21, 3 * 16_384)),
            ("x/one", b"1".to_vec()),
            ("empty", Vec::new()),
            ("y.bin", test_bytes(22, 40_000)),
            ("z/deep/z.bin", test_bytes(23, 100_001)),
            ("z/two", b"2".to_vec()),
        ],
    }
}

fn write_content(root: &Path, c: &Content) {
    for (p, bytes) in &c.files {
        let path = root.join(c.name).join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Damage file `i` below `root`; returns its bad byte range (relative to the file) and the
/// status it must get.
fn damage(root: &Path, c: &Content, i: usize, d: Damage) -> (std::ops::Range<u64>, FileStatus) {
    let (p, bytes) = &c.files[i];
    let path = root.join(c.name).join(p);
    let len = bytes.len() as u64;
    match d {
        Damage::Delete => {
            std::fs::remove_file(&path).unwrap();
            (0..len, FileStatus::Missing)
        }
        Damage::Truncate if len == 0 => (0..0, FileStatus::Good),
        Damage::Truncate => {
            let t = len / 2;
            std::fs::write(&path, &bytes[..t as usize]).unwrap();
            (t..len, FileStatus::WrongSize { actual: t })
        }
        Damage::Corrupt => {
            let mut b = bytes.clone();
            let x = len / 2;
            if let Some(byte) = b.get_mut(x as usize) {
                *byte ^= 0x40;
                std::fs::write(&path, b).unwrap();
                (x..x + 1, FileStatus::Bad { bad_pieces: 0 })
            } else {
                (0..0, FileStatus::Good)
            }
        }
        Damage::Extend => {
            let mut b = bytes.clone();
            b.extend_from_slice(&[7; 10]);
            std::fs::write(&path, b).unwrap();
            (0..0, FileStatus::WrongSize { actual: len + 10 })
        }
        Damage::Fifo => {
            std::fs::remove_file(&path).unwrap();
            let ok = Command::new("mkfifo")
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "mkfifo {}", path.display());
            (0..len, FileStatus::NotAFile)
        }
        Damage::Folder => {
            std::fs::remove_file(&path).unwrap();
            std::fs::create_dir(&path).unwrap();
            (0..len, FileStatus::NotAFile)
        }
    }
}

fn restore(root: &Path, c: &Content, i: usize) {
    let path = root.join(c.name).join(c.files[i].0);
    if path.is_dir() {
        std::fs::remove_dir(&path).unwrap();
    } else {
        let _ = std::fs::remove_file(&path);
    }
    std::fs::write(&path, &c.files[i].1).unwrap();
}

/// What a check must report: per piece good?, and per file (torrent order, no padding).
struct Expected {
    pieces: Vec<bool>,
    files: Vec<(PathBuf, FileStatus)>,
}

/// The exact answer for `plan` when `bad` bytes (file index in `c`, range) are unreadable or
/// wrong and `status` is the damaged file's own status.
fn expected(
    plan: &VerifyPlan,
    c: &Content,
    check: Check,
    damaged: Option<(usize, std::ops::Range<u64>, FileStatus)>,
) -> Expected {
    let pl = plan.piece_length;
    let which = |rel: &Path| {
        c.files
            .iter()
            .position(|(p, _)| Path::new(c.name).join(p) == rel)
    };
    let bad_range = |fi: usize| match &damaged {
        Some((i, r, _)) if *i == fi && !r.is_empty() => Some(r.clone()),
        _ => None,
    };
    let mut pieces = Vec::new();
    // (plan file index, first piece, last piece) of each non-empty file in `pieces`.
    let mut spans = Vec::new();
    if check == Check::V1 {
        let total: u64 = plan.files.iter().map(|f| f.length).sum();
        pieces = vec![true; total.div_ceil(pl) as usize];
        let mut off = 0;
        for (k, f) in plan.files.iter().enumerate() {
            if f.length > 0 {
                spans.push((k, off / pl, (off + f.length - 1) / pl));
            }
            if let Some(r) = (!f.pad)
                .then(|| which(&f.rel_path))
                .flatten()
                .and_then(bad_range)
            {
                for p in (off + r.start) / pl..=(off + r.end - 1) / pl {
                    pieces[p as usize] = false;
                }
            }
            off += f.length;
        }
    } else {
        for (k, f) in plan.files.iter().enumerate() {
            if f.pad || f.length == 0 {
                continue;
            }
            let first = pieces.len() as u64;
            let n = f.length.div_ceil(pl);
            spans.push((k, first, first + n - 1));
            pieces.extend(std::iter::repeat_n(true, n as usize));
            if let Some(r) = which(&f.rel_path).and_then(bad_range) {
                for p in r.start / pl..=(r.end - 1) / pl {
                    pieces[(first + p) as usize] = false;
                }
            }
        }
    }
    let files = plan
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.pad)
        .map(|(k, f)| {
            let bad = spans.iter().find(|s| s.0 == k).map_or(0, |&(_, a, b)| {
                pieces[a as usize..=b as usize]
                    .iter()
                    .filter(|g| !**g)
                    .count() as u64
            });
            let own = match &damaged {
                Some((i, _, s)) if which(&f.rel_path) == Some(*i) => Some(*s),
                _ => None,
            };
            let status = match own {
                Some(FileStatus::Bad { .. }) | None if bad > 0 => {
                    FileStatus::Bad { bad_pieces: bad }
                }
                Some(FileStatus::Bad { .. }) | None => FileStatus::Good,
                Some(s) => s,
            };
            (f.rel_path.clone(), status)
        })
        .collect();
    Expected { pieces, files }
}

fn compare(r: &VerifyReport, e: &Expected, what: &str) {
    let bad = |v: &[bool]| -> Vec<usize> { (0..v.len()).filter(|&i| !v[i]).collect() };
    assert_eq!(bad(&r.pieces), bad(&e.pieces), "{what}: bad pieces");
    assert_eq!(r.pieces.len(), e.pieces.len(), "{what}: piece count");
    let bad_n = e.pieces.iter().filter(|g| !**g).count() as u64;
    assert_eq!(r.pieces_bad, bad_n, "{what}");
    assert_eq!(r.pieces_good, e.pieces.len() as u64 - bad_n, "{what}");
    let got: Vec<(PathBuf, FileStatus)> = r
        .files
        .iter()
        .map(|f| (f.rel_path.clone(), f.status))
        .collect();
    assert_eq!(got, e.files, "{what}: file statuses");
}

/// Every version and check of `c`, every file damaged every way in turn.
fn exact_for(c: &Content, tag: &str) {
    let dir = TempDir::new(tag);
    write_content(dir.path(), c);
    for (v, checks) in [
        (Version::V1, vec![Check::V1]),
        (Version::V2, vec![Check::V2]),
        (Version::Hybrid, vec![Check::V1, Check::V2]),
    ] {
        let t = TorrentBuilder::new()
            .piece_length(c.piece_length)
            .version(v)
            .creation_date(None)
            .build_from_path(dir.path().join(c.name))
            .unwrap();
        let plan = VerifyPlan::from_torrent(&t.bytes).unwrap();
        let auto = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap();
        let want_auto = if v == Version::V1 {
            Check::V1
        } else {
            Check::V2
        };
        assert_eq!(
            auto.checked, want_auto,
            "{v:?}: Auto checks v2 when present"
        );
        assert!(auto.all_good(), "{v:?}: {auto:?}");
        for i in 0..c.files.len() {
            for d in ALL {
                let (range, status) = damage(dir.path(), c, i, d);
                for &check in &checks {
                    let what = format!("{tag} {v:?} {check:?}: {} {d:?}", c.files[i].0);
                    let opts = VerifyOptions {
                        check,
                        threads: 2,
                        ..VerifyOptions::default()
                    };
                    let r = verify(&plan, dir.path(), &opts).unwrap();
                    let e = expected(&plan, c, check, Some((i, range.clone(), status)));
                    compare(&r, &e, &what);
                }
                restore(dir.path(), c, i);
            }
        }
    }
}

#[test]
fn issue_reproduction_exact_for_v1_v2_hybrid() {
    exact_for(&issue_content(), "verify-exact-issue");
}

#[test]
fn small_pieces_nested_empty_and_aligned_files_exact() {
    exact_for(&small_content(), "verify-exact-small");
}

#[test]
fn deleting_b_txt_costs_one_piece() {
    // The issue's numbers, spelled out.
    let c = issue_content();
    let dir = TempDir::new("verify-exact-btxt");
    write_content(dir.path(), &c);
    let t = TorrentBuilder::new()
        .piece_length(c.piece_length)
        .build_from_path(dir.path().join("mydir"))
        .unwrap();
    std::fs::remove_file(dir.path().join("mydir/b.txt")).unwrap();
    let plan = VerifyPlan::from_torrent(&t.bytes).unwrap();
    let r = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap();
    assert_eq!((r.pieces_good, r.pieces_bad), (22, 1));
    assert!(!r.pieces[19]);
    let st: Vec<FileStatus> = r.files.iter().map(|f| f.status).collect();
    assert_eq!(
        st,
        [
            FileStatus::Bad { bad_pieces: 1 },
            FileStatus::Missing,
            FileStatus::Bad { bad_pieces: 1 }
        ]
    );
}

/// The pieces libtorrent has after rechecking `pairs` (torrent file, save path).
fn libtorrent_recheck(pairs: &[(PathBuf, PathBuf)]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/lt_recheck.py");
    let args: Vec<String> = pairs
        .iter()
        .map(|(t, s)| format!("{}={}", t.display(), s.display()))
        .collect();
    for attempt in 1..=2 {
        let out = Command::new(bip_interop::PYTHON)
            .arg(&script)
            .args(&args)
            .output()
            .expect("run python");
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            return args
                .iter()
                .map(|a| {
                    let line = text
                        .lines()
                        .find(|l| l.starts_with(&format!("{a} ")))
                        .unwrap_or_else(|| panic!("no libtorrent answer for {a}:\n{text}"));
                    let v = line.rsplit(' ').next().unwrap_or_default();
                    v.strip_prefix("pieces=")
                        .unwrap_or_else(|| panic!("libtorrent: {line}"))
                        .to_owned()
                })
                .collect();
        }
        // libtorrent 2.0.8's bindings occasionally die by a signal; try once more.
        eprintln!(
            "libtorrent attempt {attempt}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.code().is_none(), "libtorrent recheck failed");
    }
    panic!("libtorrent recheck died twice");
}

#[test]
fn agrees_with_libtorrent_recheck() {
    if !bip_interop::have_libtorrent() {
        return;
    }
    let c = issue_content();
    let dir = TempDir::new("verify-exact-lt");
    let mut torrents = Vec::new();
    {
        let src = dir.path().join("src");
        write_content(&src, &c);
        for v in [Version::V1, Version::V2, Version::Hybrid] {
            let t = TorrentBuilder::new()
                .piece_length(c.piece_length)
                .version(v)
                .creation_date(None)
                .build_from_path(src.join(c.name))
                .unwrap();
            let path = dir.path().join(format!("{v:?}.torrent"));
            std::fs::write(&path, &t.bytes).unwrap();
            torrents.push((v, path, VerifyPlan::from_torrent(&t.bytes).unwrap()));
        }
    }
    // One folder per (file, damage); every torrent is checked against every folder.
    let mut cases = Vec::new();
    for i in 0..c.files.len() {
        for d in [Damage::Delete, Damage::Truncate, Damage::Corrupt] {
            let save = dir.path().join(format!("case-{i}-{d:?}"));
            write_content(&save, &c);
            let (range, status) = damage(&save, &c, i, d);
            cases.push((save, i, d, range, status));
        }
    }
    let mut pairs = Vec::new();
    for (_, t, _) in &torrents {
        for (save, ..) in &cases {
            pairs.push((t.clone(), save.clone()));
        }
    }
    let lt = libtorrent_recheck(&pairs);
    let mut k = 0;
    for (v, _, plan) in &torrents {
        for (save, i, d, range, status) in &cases {
            let what = format!("{v:?}: {} {d:?}", c.files[*i].0);
            // libtorrent checks v1 pieces of v1 torrents and the padded piece space of v2 and
            // hybrid ones, where piece n is v2 piece n of bip's file-after-file list.
            let check = if *v == Version::V1 {
                Check::V1
            } else {
                Check::V2
            };
            let opts = VerifyOptions {
                check,
                ..VerifyOptions::default()
            };
            let r = verify(plan, save, &opts).unwrap();
            let e = expected(plan, &c, check, Some((*i, range.clone(), *status)));
            compare(&r, &e, &what);
            let ours: String = r
                .pieces
                .iter()
                .map(|g| if *g { '1' } else { '0' })
                .collect();
            assert_eq!(ours, lt[k], "{what}: bip vs libtorrent");
            if *v == Version::Hybrid {
                let r1 = verify(
                    plan,
                    save,
                    &VerifyOptions {
                        check: Check::V1,
                        ..VerifyOptions::default()
                    },
                )
                .unwrap();
                let ours1: String = r1
                    .pieces
                    .iter()
                    .map(|g| if *g { '1' } else { '0' })
                    .collect();
                assert_eq!(ours1, lt[k], "{what}: bip v1 vs libtorrent");
            }
            k += 1;
        }
    }
}
