//! One path policy (issue 10, item 3): `show` and `verify` see the same paths, `create` refuses
//! what parsing would rename (so verifying a torrent against its source always passes), and no
//! torrent makes `verify` open anything outside its folder.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bip_bencode::Bencode;
use bip_interop::TempDir;
use bip_metainfo::create::{CreateError, MemorySource, TorrentBuilder};
use bip_metainfo::verify::{verify, FileStatus, PlanFile, VerifyError, VerifyOptions, VerifyPlan};
use bip_metainfo::Version;
use bip_metainfo::{check_create_component, Metainfo};
use bip_util::sha1;
use proptest::prelude::*;
use serde_json::Value as J;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

fn b(x: &[u8]) -> Bencode<'static> {
    Bencode::Bytes(Cow::Owned(x.to_vec()))
}

fn dict(entries: Vec<(&[u8], Bencode<'static>)>) -> Bencode<'static> {
    Bencode::Dict(
        entries
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k.to_vec()), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A v1 multi-file torrent named `name` whose files have these raw paths and lengths, with
/// correct piece hashes for `data` (all files' bytes concatenated, 16 KiB pieces).
fn v1_torrent(
    name: &[u8],
    files: &[(Vec<Vec<u8>>, Vec<u8>)],
    extra: &[(&[u8], Bencode<'static>)],
) -> Vec<u8> {
    let all: Vec<u8> = files.iter().flat_map(|(_, d)| d.clone()).collect();
    let pieces: Vec<u8> = all.chunks(16384).flat_map(sha1).collect();
    let list = files
        .iter()
        .map(|(p, d)| {
            let mut e = vec![
                (&b"length"[..], Bencode::Int(d.len() as i64)),
                (
                    &b"path"[..],
                    Bencode::List(p.iter().map(|c| b(c)).collect()),
                ),
            ];
            e.extend(extra.iter().cloned());
            dict(e)
        })
        .collect();
    let info = dict(vec![
        (b"name", b(name)),
        (b"piece length", Bencode::Int(16384)),
        (b"pieces", b(&pieces)),
        (b"files", Bencode::List(list)),
    ]);
    dict(vec![(b"info", info)]).encode()
}

/// The paths `torrent show` lists (relative to the download folder) and the paths `verify`
/// reports, for a torrent verified against an empty folder.
fn shown_and_verified(m: &Metainfo, dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let shown: Vec<PathBuf> = m
        .info
        .all_files()
        .iter()
        .zip(m.info.disk_paths())
        .filter(|(f, _)| !f.is_padding())
        .map(|(_, p)| p)
        .collect();
    let plan = VerifyPlan::from(&m.clone());
    let report = match verify(&plan, dir, &VerifyOptions::default()) {
        Ok(r) => r,
        // v2 torrents without piece layers cannot be checked, but their plan still names paths.
        Err(VerifyError::Plan(_)) => {
            let paths = plan
                .files
                .iter()
                .filter(|f| !f.pad)
                .map(|f| f.rel_path.clone());
            return (shown, paths.collect());
        }
        Err(e) => panic!("{e}"),
    };
    (
        shown,
        report.files.iter().map(|f| f.rel_path.clone()).collect(),
    )
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn show_and_verify_see_the_same_paths_for_every_path_table_case() {
    let dir = TempDir::new("paths-table");
    let table: J =
        serde_json::from_slice(&std::fs::read(testdata("torrents/libtorrent_paths.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    // libtorrent's sanitizer table: each case's elements as one file's path.
    for case in table["sanitize_append_path_element"].as_array().unwrap() {
        let elements: Vec<Vec<u8>> = case["elements_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| hex(e.as_str().unwrap()))
            .collect();
        let t = v1_torrent(
            b"root",
            &[
                (elements.clone(), vec![1; 10]),
                (vec![b"zz".to_vec()], vec![2; 5]),
            ],
            &[],
        );
        let m = Metainfo::from_bytes(&t).unwrap_or_else(|e| panic!("{case}: {e}"));
        let (shown, verified) = shown_and_verified(&m, dir.path());
        assert_eq!(shown, verified, "{case}");
        // In force mode (file paths) the expectation is libtorrent's.
        if case["force"] == true {
            let want =
                String::from_utf8(hex(case["expected_posix_hex"].as_str().unwrap())).unwrap();
            assert_eq!(shown[0], Path::new("root").join(&want), "{case}");
        }
        checked += 1;
    }
    // libtorrent's duplicate-name table: the renamed paths are where both look.
    for case in table["resolve_duplicate_filenames"].as_array().unwrap() {
        let files: Vec<(Vec<Vec<u8>>, Vec<u8>)> = case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let p = f["path"].as_str().unwrap();
                let comps = p
                    .split('/')
                    .skip(1)
                    .map(|c| c.as_bytes().to_vec())
                    .collect();
                (comps, vec![0; f["size"].as_u64().unwrap() as usize])
            })
            .collect();
        let root = case["files"][0]["path"]
            .as_str()
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let pads: Vec<bool> = case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pad_file"] == true)
            .collect();
        let mut t_files = files.clone();
        // Padding files are marked with `attr`; build those entries by hand.
        let t = if pads.iter().any(|&p| p) {
            let all: Vec<u8> = files.iter().flat_map(|(_, d)| d.clone()).collect();
            let pieces: Vec<u8> = all.chunks(16384).flat_map(sha1).collect();
            let list = files
                .iter()
                .zip(&pads)
                .map(|((p, d), &pad)| {
                    let mut e = vec![
                        (&b"length"[..], Bencode::Int(d.len() as i64)),
                        (
                            &b"path"[..],
                            Bencode::List(p.iter().map(|c| b(c)).collect()),
                        ),
                    ];
                    if pad {
                        e.push((b"attr", b(b"p")));
                    }
                    dict(e)
                })
                .collect();
            let info = dict(vec![
                (b"name", b(root.as_bytes())),
                (
                    b"piece length",
                    Bencode::Int(case["piece_length"].as_i64().unwrap()),
                ),
                (b"pieces", b(&pieces)),
                (b"files", Bencode::List(list)),
            ]);
            t_files.clear();
            dict(vec![(b"info", info)]).encode()
        } else {
            v1_torrent(root.as_bytes(), &files, &[])
        };
        let Ok(m) = Metainfo::from_bytes(&t) else {
            continue; // a piece length this helper does not hash for
        };
        let (shown, verified) = shown_and_verified(&m, dir.path());
        assert_eq!(shown, verified, "{case}");
        for (f, (got, pad)) in case["files"].as_array().unwrap().iter().zip(
            m.info
                .all_files()
                .iter()
                .zip(m.info.disk_paths())
                .map(|(f, p)| (p, f.is_padding())),
        ) {
            if !pad {
                assert_eq!(
                    got,
                    PathBuf::from(f["expected_path"].as_str().unwrap()),
                    "{case}"
                );
            }
        }
        checked += 1;
    }
    // And every corpus torrent that parses.
    for dir_name in [
        "torrents/libtorrent",
        "torrents/constructed",
        "torrents/bep52",
    ] {
        for e in std::fs::read_dir(testdata(dir_name)).unwrap() {
            let p = e.unwrap().path();
            let Ok(m) = Metainfo::from_bytes(&std::fs::read(&p).unwrap()) else {
                continue;
            };
            let (shown, verified) = shown_and_verified(&m, dir.path());
            assert_eq!(shown, verified, "{}", p.display());
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked}");
}

/// What a crafted torrent may try: path components that escape, name the root, a drive, hold
/// NUL or backslashes.
const HOSTILE: &[&[u8]] = &[
    b"..",
    b".",
    b"/etc",
    b"/",
    b"C:",
    b"C:\\Windows",
    b"..\\..\\secret",
    b"a\0b",
    b"\\\\server\\share",
    b"../secret",
    b"",
];

#[test]
fn no_torrent_makes_verify_open_a_path_outside_its_folder() {
    let dir = TempDir::new("paths-escape");
    // A secret outside the download folder whose hash the torrents carry: verify would call it
    // good if it ever read it.
    let secret = vec![0x5a; 100];
    dir.write("secret", &secret);
    dir.write("etc/secret", &secret);
    dir.write("Windows/secret", &secret);
    let inner = dir.path().join("dl");
    std::fs::create_dir_all(inner.join("x")).unwrap();
    let mut torrents: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, &c) in HOSTILE.iter().enumerate() {
        for shape in 0..4 {
            let path: Vec<Vec<u8>> = match shape {
                0 => vec![c.to_vec(), b"secret".to_vec()],
                1 => vec![c.to_vec(), c.to_vec(), b"secret".to_vec()],
                2 => vec![c.to_vec()],
                _ => vec![
                    b"..".to_vec(),
                    b"..".to_vec(),
                    c.to_vec(),
                    b"secret".to_vec(),
                ],
            };
            torrents.push((
                format!("v1 {i}/{shape}"),
                v1_torrent(b"x", &[(path.clone(), secret.clone())], &[]),
            ));
            // The torrent's name itself.
            torrents.push((
                format!("name {i}/{shape}"),
                v1_torrent(c, &[(path, secret.clone())], &[]),
            ));
        }
        // Symlink attributes pointing out.
        let link = [
            (&b"attr"[..], b(b"l")),
            (
                &b"symlink path"[..],
                Bencode::List(vec![b(b".."), b(b".."), b(c), b(b"secret")]),
            ),
        ];
        torrents.push((
            format!("symlink {i}"),
            v1_torrent(
                b"x",
                &[
                    (vec![b"link".to_vec()], vec![]),
                    (vec![b"f".to_vec()], secret.clone()),
                ],
                &link,
            ),
        ));
        // A v2 file tree with the component as a key.
        let root: [u8; 32] = bip_util::sha256(&{
            let mut blk = secret.clone();
            blk.resize(16384, 0);
            blk
        });
        let leaf = dict(vec![(
            b"",
            dict(vec![
                (b"length", Bencode::Int(100)),
                (b"pieces root", b(&root)),
            ]),
        )]);
        let tree = dict(vec![(c, dict(vec![(b"secret", leaf)]))]);
        let info = dict(vec![
            (b"file tree", tree),
            (b"meta version", Bencode::Int(2)),
            (b"name", b(b"x")),
            (b"piece length", Bencode::Int(16384)),
        ]);
        torrents.push((format!("v2 {i}"), dict(vec![(b"info", info)]).encode()));
    }
    for e in std::fs::read_dir(testdata("torrents/libtorrent")).unwrap() {
        let p = e.unwrap().path();
        torrents.push((p.display().to_string(), std::fs::read(&p).unwrap()));
    }
    let mut parsed = 0;
    for (what, t) in &torrents {
        let Ok(m) = Metainfo::from_bytes(t) else {
            continue;
        };
        parsed += 1;
        let plan = VerifyPlan::from(&m);
        for f in &plan.files {
            assert!(
                f.rel_path
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{what}: {:?}",
                f.rel_path
            );
        }
        for check in [
            bip_metainfo::verify::Check::Auto,
            bip_metainfo::verify::Check::V1,
        ] {
            let opts = VerifyOptions {
                check,
                ..VerifyOptions::default()
            };
            if let Ok(r) = verify(&plan, &inner, &opts) {
                // Nothing exists below `dl` but an empty folder: no file can be good.
                for f in &r.files {
                    assert_ne!(
                        f.status,
                        FileStatus::Good,
                        "{what}: {:?} was read",
                        f.rel_path
                    );
                }
            }
        }
    }
    assert!(parsed > 60, "{parsed}");
    // A plan made by hand with an escaping path is refused before anything is opened.
    for bad in ["../secret", "/etc/passwd", "x/../../secret", "./x", ""] {
        let plan = VerifyPlan {
            piece_length: 16384,
            files: vec![PlanFile {
                rel_path: PathBuf::from(bad),
                length: 100,
                pad: false,
                pieces_root: None,
            }],
            v1_pieces: Some(vec![sha1(&secret)]),
            ..VerifyPlan::default()
        };
        let e = verify(&plan, &inner, &VerifyOptions::default()).unwrap_err();
        assert!(matches!(e, VerifyError::Plan(_)), "{bad}: {e}");
    }
}

/// Names a hostile or careless source folder may hold.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => "[a-z]{1,8}(\\.[a-z]{1,3})?",
        4 => "[A-Za-z]{1,3}", // case-only differences
        1 => Just("a\\b".to_string()),
        1 => "[a-z]{0,3}[\\x01-\\x1f\\x7f][a-z]{0,3}",
        1 => prop::sample::select(vec!["\u{200b}", "\u{202e}", "\u{feff}", "\u{2066}", "\u{061c}"])
            .prop_map(|m| format!("x{m}y.txt")),
        1 => (240usize..260).prop_map(|n| format!("{}.bin", "l".repeat(n))),
        1 => prop::sample::select(vec![
            "_____padding_file_0".to_string(),
            ".pad".to_string(),
            "..".to_string(),
            ".".to_string(),
            "".to_string(),
            " ".to_string(),
            "é".to_string(),
            "日本".to_string(),
            ".hidden".to_string(),
        ]),
    ]
}

fn tree() -> impl Strategy<Value = Vec<(Vec<String>, usize)>> {
    let shallow = prop::collection::vec(name(), 1..5);
    let deep = (60usize..70).prop_map(|d| (0..d).map(|i| format!("d{i}")).collect::<Vec<_>>());
    let path = prop_oneof![8 => shallow, 1 => deep];
    prop::collection::vec((path, 0usize..40_000), 1..8)
}

/// Whether the file system here can hold this path at all (no NUL, `/`, empty, `.`, `..`;
/// at most 255 bytes a name).
fn fs_can_hold(p: &[String]) -> bool {
    p.iter().all(|c| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && !c.contains('/')
            && !c.contains('\0')
            && c.len() <= 255
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Create from arbitrary names, depths and piece lengths: either parsing gives back exactly
    /// the source's paths and verify against the source folder passes, or create refused with
    /// an error naming the path.
    #[test]
    fn create_gives_back_its_paths_or_refuses(
        files in tree(),
        pl_shift in 14u32..18,
        version in prop::sample::select(vec![Version::V1, Version::V2, Version::Hybrid]),
        torrent_name in prop_oneof![8 => "[a-z]{1,8}", 1 => name()],
    ) {
        let dir = TempDir::new("paths-prop");
        let root_name = if fs_can_hold(std::slice::from_ref(&torrent_name)) { torrent_name.clone() } else { "root".into() };
        let root = dir.path().join(&root_name);
        std::fs::create_dir_all(&root).unwrap();
        let mut on_disk: Vec<Vec<String>> = Vec::new();
        for (i, (p, len)) in files.iter().enumerate() {
            if !fs_can_hold(p) {
                // Names no file system holds: the in-memory source must be refused.
                let src = MemorySource { files: vec![(p.clone(), vec![1; *len]), (vec!["ok".into()], vec![2; 10])] };
                let r = TorrentBuilder::new().version(version).build_from_source("n", &src);
                prop_assert!(matches!(r, Err(CreateError::InvalidFiles(_)) | Err(CreateError::Empty)), "{p:?}: {r:?}");
                continue;
            }
            let full = p.iter().fold(root.clone(), |a, c| a.join(c));
            if full.parent().is_some_and(|d| std::fs::create_dir_all(d).is_err()) || full.exists() {
                continue; // a file where a folder is wanted, or the reverse
            }
            if std::fs::write(&full, vec![(i as u8).wrapping_add(1); *len]).is_err() {
                continue;
            }
            on_disk.push(p.clone());
        }
        prop_assume!(!on_disk.is_empty());
        let t = TorrentBuilder::new()
            .piece_length(1u64 << pl_shift)
            .version(version)
            .threads(1)
            .creation_date(None)
            .build_from_path(&root);
        match t {
            Ok(t) => {
                let m = Metainfo::from_bytes(&t.bytes).unwrap();
                prop_assert_eq!(&m.info.name, &root_name);
                for p in &on_disk {
                    for c in p {
                        prop_assert!(check_create_component(c).is_ok(), "{c:?} accepted");
                    }
                }
                let mut want: Vec<PathBuf> = on_disk
                    .iter()
                    .filter(|p| {
                        std::fs::metadata(p.iter().fold(root.clone(), |a, c| a.join(c))).is_ok_and(|m| m.is_file())
                    })
                    .map(|p| p.iter().fold(PathBuf::from(&root_name), |a, c| a.join(c)))
                    .collect();
                let single = !m.info.multi_file;
                let mut got: Vec<PathBuf> = m.info.all_files().iter().zip(m.info.disk_paths())
                    .filter(|(f, _)| !f.is_padding()).map(|(_, p)| p).collect();
                if !single {
                    want.sort();
                    got.sort();
                    prop_assert_eq!(&got, &want);
                }
                let r = verify(&VerifyPlan::from(&m), dir.path(), &VerifyOptions::default()).unwrap();
                prop_assert!(r.all_good(), "{r:?}");
            }
            Err(CreateError::InvalidFiles(msg)) => {
                prop_assert!(!msg.is_empty());
                // The refusal is justified: some name would change, collide or go too deep.
                let refused = on_disk.iter().any(|p| p.len() > 64 || p.iter().any(|c| check_create_component(c).is_err()))
                    || check_create_component(&root_name).is_err()
                    || bip_metainfo::check_create_paths(on_disk.iter().map(|p| p.as_slice()), version == Version::Hybrid).is_err();
                let v2_lone_file = version == Version::V2 && on_disk.len() == 1 && on_disk[0].len() == 1;
                prop_assert!(refused || v2_lone_file, "{msg}");
            }
            Err(CreateError::Empty) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}
