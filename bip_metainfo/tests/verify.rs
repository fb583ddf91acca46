//! Verification of data on disk against bip-created torrents (v1, v2, hybrid).

use std::path::PathBuf;

use bip_metainfo::create::TorrentBuilder;
use bip_metainfo::verify::{verify, Check, FileStatus, VerifyError, VerifyOptions, VerifyPlan};
use bip_metainfo::Version;

use bip_interop::{test_bytes as data, TempDir};

fn content(dir: &TempDir) {
    dir.write("m/a.bin", &data(1, 100_000));
    dir.write("m/sub/b.bin", &data(2, 40_000));
    dir.write("m/sub/c.bin", &data(3, 16_384));
    dir.write("m/empty", b"");
}

fn status_of(r: &bip_metainfo::verify::VerifyReport, name: &str) -> FileStatus {
    r.files
        .iter()
        .find(|f| f.rel_path.ends_with(name))
        .unwrap()
        .status
}

#[test]
fn good_then_corrupt_missing_wrong_size_for_every_version() {
    for (v, checks) in [
        (Version::V1, vec![Check::V1]),
        (Version::V2, vec![Check::V2]),
        (Version::Hybrid, vec![Check::V1, Check::V2]),
    ] {
        let dir = TempDir::new(&format!("{v:?}"));
        content(&dir);
        let t = TorrentBuilder::new()
            .piece_length(16_384u64)
            .version(v)
            .build_from_path(dir.path().join("m"))
            .unwrap();
        let plan = VerifyPlan::from_torrent(&t.bytes).unwrap();
        for &check in &checks {
            let opts = VerifyOptions {
                check,
                threads: 3,
                ..VerifyOptions::default()
            };
            let r = verify(&plan, dir.path(), &opts).unwrap();
            assert!(r.all_good(), "{v:?} {check:?}: {r:?}");
            assert_eq!(r.checked, check);
            assert_eq!(r.files.len(), 4);
        }
        // Flip one byte in b.bin.
        let mut b = data(2, 40_000);
        b[20_000] ^= 1;
        dir.write("m/sub/b.bin", &b);
        for &check in &checks {
            let opts = VerifyOptions {
                check,
                ..VerifyOptions::default()
            };
            let r = verify(&plan, dir.path(), &opts).unwrap();
            assert_eq!(r.pieces_bad, 1, "{v:?} {check:?}");
            assert!(matches!(
                status_of(&r, "b.bin"),
                FileStatus::Bad { bad_pieces: 1 }
            ));
            assert_eq!(status_of(&r, "c.bin"), FileStatus::Good);
            assert!(!r.all_good());
        }
        // Missing and truncated files.
        std::fs::remove_file(dir.path().join("m/sub/c.bin")).unwrap();
        dir.write("m/a.bin", &data(1, 50_000));
        for &check in &checks {
            let opts = VerifyOptions {
                check,
                ..VerifyOptions::default()
            };
            let r = verify(&plan, dir.path(), &opts).unwrap();
            assert_eq!(status_of(&r, "c.bin"), FileStatus::Missing);
            assert_eq!(
                status_of(&r, "a.bin"),
                FileStatus::WrongSize { actual: 50_000 }
            );
            assert_eq!(status_of(&r, "empty"), FileStatus::Good);
            assert!(r.pieces_bad >= 4, "{v:?} {check:?} {r:?}");
        }
    }
}

#[test]
fn single_file_v2_and_progress() {
    let dir = TempDir::new("verify-single");
    dir.write("s.bin", &data(9, 300_000));
    let t = TorrentBuilder::new()
        .piece_length(32_768u64)
        .version(Version::V2)
        .build_from_path(dir.path().join("s.bin"))
        .unwrap();
    let plan = VerifyPlan::from_torrent(&t.bytes).unwrap();
    assert_eq!(plan.files.len(), 1);
    assert_eq!(plan.files[0].rel_path, PathBuf::from("s.bin"));
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let s = seen.clone();
    let opts = VerifyOptions {
        progress: Some(std::sync::Arc::new(move |d, _| {
            s.fetch_max(d, std::sync::atomic::Ordering::Relaxed);
        })),
        ..VerifyOptions::default()
    };
    let r = verify(&plan, dir.path(), &opts).unwrap();
    assert!(r.all_good());
    assert_eq!(r.pieces_good, 10);
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 300_000);
}

#[test]
fn malformed_torrents_name_the_field() {
    let cases: [(&[u8], &str); 5] = [
        (b"not bencode", "bencode"),
        (
            b"d4:infod4:name1:a12:piece lengthi16384e6:pieces3:abc6:lengthi1eee",
            "pieces",
        ),
        (
            b"d4:infod12:piece lengthi16384e6:pieces0:6:lengthi1eee",
            "name",
        ),
        (
            b"d4:infod4:name2:..12:piece lengthi16384e6:pieces0:6:lengthi1eee",
            "name",
        ),
        (b"d4:infod4:name1:a6:pieces0:6:lengthi1eee", "piece length"),
    ];
    for (bytes, field) in cases {
        let e = VerifyPlan::from_torrent(bytes).unwrap_err();
        assert!(matches!(e, VerifyError::Malformed(_)));
        assert!(e.to_string().contains(field), "{e} should name {field}");
    }
}

#[test]
fn plan_from_parsed_metainfo_equals_minimal_parser() {
    let dir = TempDir::new("verify-parsed");
    content(&dir);
    for v in [Version::V1, Version::V2, Version::Hybrid] {
        let t = TorrentBuilder::new()
            .piece_length(16_384u64)
            .version(v)
            .build_from_path(dir.path().join("m"))
            .unwrap();
        let m = bip_metainfo::Metainfo::from_bytes(&t.bytes).unwrap();
        assert_eq!(m.info_hash_v1(), t.info_hash_v1, "{v:?}");
        assert_eq!(m.info_hash_v2(), t.info_hash_v2, "{v:?}");
        let from_parsed = VerifyPlan::from(&m);
        let minimal = VerifyPlan::from_torrent(&t.bytes).unwrap();
        if v == Version::V2 {
            // Same files and hashes; the parser may list v2 files in another order.
            let mut a = from_parsed.files.clone();
            let mut b = minimal.files.clone();
            a.retain(|f| !f.pad);
            a.sort_by(|x, y| x.rel_path.cmp(&y.rel_path));
            b.sort_by(|x, y| x.rel_path.cmp(&y.rel_path));
            assert_eq!(a, b);
        } else {
            assert_eq!(from_parsed, minimal, "{v:?}");
        }
        assert!(verify(&from_parsed, dir.path(), &VerifyOptions::default())
            .unwrap()
            .all_good());
    }
}

#[test]
fn big_pieces_with_missing_and_short_files() {
    // 2 MiB pieces go through the sliced path; unreadable data makes pieces bad, not errors.
    let dir = TempDir::new("verify-bigpieces");
    dir.write("m/a.bin", &data(5, 3 << 20));
    dir.write("m/b.bin", &data(6, 1000));
    for v in [Version::V1, Version::V2, Version::Hybrid] {
        dir.write("m/a.bin", &data(5, 3 << 20));
        dir.write("m/b.bin", &data(6, 1000));
        let t = TorrentBuilder::new()
            .piece_length(2u64 << 20)
            .version(v)
            .build_from_path(dir.path().join("m"))
            .unwrap();
        let plan = VerifyPlan::from_torrent(&t.bytes).unwrap();
        assert!(verify(&plan, dir.path(), &VerifyOptions::default())
            .unwrap()
            .all_good());
        dir.write("m/a.bin", &data(5, 1 << 20));
        std::fs::remove_file(dir.path().join("m/b.bin")).unwrap();
        let r = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap();
        assert_eq!(status_of(&r, "b.bin"), FileStatus::Missing, "{v:?}");
        assert_eq!(
            status_of(&r, "a.bin"),
            FileStatus::WrongSize { actual: 1 << 20 }
        );
        assert_eq!(r.pieces_good, 0, "{v:?} {r:?}");
    }
}
