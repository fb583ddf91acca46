//! Hostile sizes (issue 12, items 1-3): claimed sizes never panic, overflow or allocate in
//! proportion to the claim.

use std::path::PathBuf;

use bip_interop::TempDir;
use bip_metainfo::create::{CreateError, MemorySource, TorrentBuilder};
use bip_metainfo::verify::{verify, Check, PlanFile, VerifyError, VerifyOptions, VerifyPlan};
use bip_metainfo::{InvalidKind, Metainfo, MetainfoError};
use bip_metainfo::{Version, MAX_PIECE_LENGTH};

#[test]
fn v1_lengths_summing_past_2_pow_64_are_a_typed_error() {
    let dir = TempDir::new("hostile-sum");
    // Through the minimal reader: each length is bounded by MAX_FILE_SIZE.
    let t = format!(
        "d4:infod5:filesld6:lengthi{m}e4:pathl1:aeed6:lengthi{m}e4:pathl1:beee\
         4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
        m = i64::MAX
    );
    let e = VerifyPlan::from_torrent(t.as_bytes()).unwrap_err();
    assert!(matches!(e, VerifyError::Malformed(_)), "{e}");
    assert!(e.to_string().contains("length"), "{e}");
    // A plan built by hand: checked sums.
    let file = |n: &str| PlanFile {
        rel_path: PathBuf::from(n),
        length: u64::MAX / 2 + 1,
        pad: false,
        pieces_root: None,
    };
    let plan = VerifyPlan {
        piece_length: 16_384,
        files: vec![file("a"), file("b")],
        v1_pieces: Some(vec![[0; 20]]),
        ..VerifyPlan::default()
    };
    let e = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap_err();
    assert!(matches!(e, VerifyError::TooLarge(_)), "{e}");
    // Below 2^64 but above MAX_FILE_SIZE: also refused before any allocation.
    let plan = VerifyPlan {
        files: vec![PlanFile {
            length: 1 << 62,
            ..file("a")
        }],
        ..plan
    };
    let e = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap_err();
    assert!(matches!(e, VerifyError::TooLarge(_)), "{e}");
}

/// A v2 torrent of about 130 bytes claiming one file of `len` bytes.
fn tiny_v2(len: u64) -> Vec<u8> {
    let mut t = format!("d4:infod9:file treed1:fd0:d6:lengthi{len}e11:pieces root32:").into_bytes();
    t.extend_from_slice(&[1; 32]);
    t.extend_from_slice(b"eee12:meta versioni2e4:name1:f12:piece lengthi16384eee");
    t
}

#[test]
fn tiny_v2_torrent_claiming_huge_file_allocates_nothing_proportional() {
    let dir = TempDir::new("hostile-v2");
    for shift in [40u32, 47, 62] {
        let bytes = tiny_v2(1 << shift);
        assert!(bytes.len() < 160, "{}", bytes.len());
        match VerifyPlan::from_torrent(&bytes) {
            // 2^62 is above MAX_FILE_SIZE; 2^40 and 2^47 in 16 KiB pieces are more than
            // MAX_PIECES (the one reader, `Metainfo::from_bytes`, bounds them).
            Err(e) => assert!(matches!(e, VerifyError::Malformed(_)), "2^{shift}: {e}"),
            Ok(plan) => {
                // No piece layer for a file of 2^26.. pieces: refused, not hashed.
                for check in [Check::Auto, Check::V2] {
                    let opts = VerifyOptions {
                        check,
                        ..VerifyOptions::default()
                    };
                    let e = verify(&plan, dir.path(), &opts).unwrap_err();
                    assert!(matches!(e, VerifyError::Plan(_)), "2^{shift}: {e}");
                    assert!(e.to_string().contains("piece layer"), "{e}");
                }
            }
        }
        // The full parser refuses or accepts it without a layer; either way, no blow-up.
        let _ = Metainfo::from_bytes(&bytes);
    }
    // The same torrent with a small file is checked (and reported missing).
    let plan = VerifyPlan::from_torrent(&tiny_v2(100)).unwrap();
    let r = verify(&plan, dir.path(), &VerifyOptions::default()).unwrap();
    assert_eq!((r.pieces_good, r.pieces_bad), (0, 1));
}

#[test]
fn piece_length_must_be_a_power_of_two_from_16_kib_to_256_mib() {
    let src = MemorySource {
        files: vec![
            (vec!["a".into()], vec![1; 1000]),
            (vec!["b".into()], vec![2; 10]),
        ],
    };
    for pl in [
        0,
        1,
        16_383,
        16_385,
        300_000,
        MAX_PIECE_LENGTH * 2,
        1 << 31,
        1 << 40,
        1 << 50,
        u64::MAX,
    ] {
        for v in [Version::V1, Version::V2, Version::Hybrid] {
            let e = TorrentBuilder::new()
                .piece_length(pl)
                .version(v)
                .build_from_source("x", &src)
                .unwrap_err();
            assert!(
                matches!(e, CreateError::InvalidPieceLength(p) if p == pl),
                "{pl}: {e}"
            );
            assert!(e.to_string().contains("256 MiB"), "{e}");
        }
    }
    // The largest accepted piece length works, hybrid included (padding below 256 MiB).
    let t = TorrentBuilder::new()
        .piece_length(MAX_PIECE_LENGTH)
        .version(Version::Hybrid)
        .threads(2)
        .build_from_source(
            "x",
            &MemorySource {
                files: vec![(vec!["a".into()], vec![1; 10])],
            },
        )
        .unwrap();
    assert_eq!(
        Metainfo::from_bytes(&t.bytes).unwrap().info.piece_length,
        MAX_PIECE_LENGTH
    );
}

#[test]
fn parsing_rejects_piece_lengths_above_256_mib() {
    for (pl, ok) in [
        (MAX_PIECE_LENGTH, true),
        (MAX_PIECE_LENGTH * 2, false),
        (1 << 31, false),
    ] {
        let t = format!(
            "d4:infod6:lengthi5e4:name1:x12:piece lengthi{pl}e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"
        );
        match Metainfo::from_bytes(t.as_bytes()) {
            Ok(_) => assert!(ok, "{pl} accepted"),
            Err(MetainfoError::Invalid { kind, .. }) => {
                assert!(!ok, "{pl} rejected");
                assert_eq!(kind, InvalidKind::PieceLength);
            }
            Err(e) => panic!("{pl}: {e}"),
        }
        let plan = VerifyPlan::from_torrent(t.as_bytes());
        assert_eq!(plan.is_ok(), ok, "{pl}");
    }
}

/// A source claiming sizes it does not have.
struct Claims(Vec<u64>);

impl bip_metainfo::create::DataSource for Claims {
    fn files(&self) -> Vec<bip_metainfo::create::SourceFile> {
        self.0
            .iter()
            .enumerate()
            .map(|(i, &length)| bip_metainfo::create::SourceFile {
                path: vec![format!("f{i}")],
                length,
            })
            .collect()
    }
    fn read_at(&self, _: usize, _: u64, _: &mut [u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("no data"))
    }
}

#[test]
fn create_refuses_overflowing_or_absurd_sizes_before_hashing() {
    let e = TorrentBuilder::new()
        .build_from_source("x", &Claims(vec![u64::MAX, 2]))
        .unwrap_err();
    assert!(matches!(e, CreateError::TooLarge(_)), "{e}");
    let e = TorrentBuilder::new()
        .build_from_source("x", &Claims(vec![1 << 50]))
        .unwrap_err();
    assert!(matches!(e, CreateError::TooLarge(_)), "{e}");
    // 2^40 bytes in 16 KiB pieces: 2^26 pieces, more than MAX_PIECES.
    let e = TorrentBuilder::new()
        .piece_length(16_384u64)
        .build_from_source("x", &Claims(vec![1 << 40]))
        .unwrap_err();
    assert!(matches!(e, CreateError::TooLarge(_)), "{e}");
    // A hybrid of many tiny files in 256 MiB pieces would hash terabytes of zero padding.
    let e = TorrentBuilder::new()
        .piece_length(MAX_PIECE_LENGTH)
        .version(Version::Hybrid)
        .build_from_source("x", &Claims(vec![1; 100]))
        .unwrap_err();
    assert!(matches!(e, CreateError::ExcessivePadding { .. }), "{e}");
}

/// A v2 file tree of `depth` nested folders with `name_len`-byte names holding `leaves` empty
/// files (the first of one byte): every joined path repeats the folders' names.
fn deep_v2(depth: usize, name_len: usize, leaves: usize) -> Vec<u8> {
    let mut t = b"d4:infod9:file treed".to_vec();
    for level in 0..depth {
        let name = format!("{level:02}").repeat(name_len / 2);
        t.extend_from_slice(format!("{}:{name}d", name.len()).as_bytes());
    }
    // The first file holds one byte (a torrent of only empty files is refused).
    t.extend_from_slice(b"7:0000000d0:d6:lengthi1e11:pieces root32:");
    t.extend_from_slice(&[7; 32]);
    t.extend_from_slice(b"ee");
    for i in 1..leaves {
        t.extend_from_slice(format!("7:{i:07}d0:d6:lengthi0eee").as_bytes());
    }
    t.extend(std::iter::repeat_n(b'e', depth + 1));
    t.extend_from_slice(b"12:meta versioni2e4:name1:x12:piece lengthi16384eee");
    t
}

/// Found in review: a 5 MB v2 tree of 60 folders with 240-byte names over 200,000 empty files
/// became 3 GB of joined paths (2.99 GB peak, 7 s) under the default load limits. Joined paths
/// may now total at most `PATH_BYTES_PER_INFO_BYTE` times the info dictionary plus 1 MiB: the
/// torrent is refused after about 2,800 files, while a real deep tree still loads.
#[test]
fn deep_v2_tree_cannot_claim_gigabytes_of_paths() {
    let bytes = deep_v2(60, 240, 200_000);
    assert!(bytes.len() < 6_000_000, "{}", bytes.len());
    match Metainfo::from_bytes(&bytes) {
        Err(MetainfoError::Invalid { kind, detail, .. }) => {
            assert_eq!(kind, InvalidKind::Path);
            assert!(detail.contains("file paths total more than"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // 4 levels of 50-byte names over 5,000 files (1 MB of joined paths for a 120 KB tree) load.
    let m = Metainfo::from_bytes(&deep_v2(4, 50, 5_000)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.info.files().count(), 5_000);
    assert!(m.info.files().all(|f| f.path().len() > 200));
}
