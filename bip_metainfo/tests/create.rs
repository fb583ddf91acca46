//! Torrent creation: piece hashes, merkle trees, layout, options, threads, progress, cancel.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bip_bencode::decode;
use bip_metainfo::create::{auto_piece_length, CreateError, MemorySource, TorrentBuilder};
use bip_metainfo::Version;
use bip_util::{sha1, sha256};

use bip_interop::{test_bytes as data, TempDir};

/// Naive v2 root: leaves = SHA-256 of each 16 KiB block, padded with zero leaves to a power of
/// two (at least one piece's worth when the file spans more than one piece).
fn naive_root(d: &[u8], pl: usize) -> [u8; 32] {
    let mut layer: Vec<[u8; 32]> = d.chunks(16384).map(sha256).collect();
    let mut n = layer.len().next_power_of_two();
    if d.len() > pl {
        n = n.max(pl / 16384);
    }
    layer.resize(n, [0; 32]);
    while layer.len() > 1 {
        layer = layer
            .chunks(2)
            .map(|p| sha256(&[p[0], p[1]].concat()))
            .collect();
    }
    layer[0]
}

/// Naive piece layer: root of each piece's subtree (pl/16 KiB leaves, zero padded).
fn naive_layer(d: &[u8], pl: usize) -> Vec<u8> {
    d.chunks(pl)
        .flat_map(|p| {
            let mut layer: Vec<[u8; 32]> = p.chunks(16384).map(sha256).collect();
            layer.resize(pl / 16384, [0; 32]);
            while layer.len() > 1 {
                layer = layer
                    .chunks(2)
                    .map(|q| sha256(&[q[0], q[1]].concat()))
                    .collect();
            }
            layer[0]
        })
        .collect()
}

fn no_date() -> TorrentBuilder {
    TorrentBuilder::new().creation_date(None)
}

#[test]
fn single_file_v1_pieces_and_info_hash() {
    let d = data(1, 5_000_003);
    let src = MemorySource {
        files: vec![(vec![], d.clone())],
    };
    let t = no_date()
        .piece_length(262_144)
        .announce("udp://127.0.0.1:6969/announce")
        .build_from_source("single.bin", &src)
        .unwrap();
    let doc = decode(&t.bytes).unwrap();
    let root = doc.root().dict().unwrap();
    assert_eq!(
        root.get_str(b"announce").unwrap(),
        "udp://127.0.0.1:6969/announce"
    );
    assert_eq!(root.get_str(b"created by").unwrap(), "bip/0.1.0");
    assert!(root.get(b"creation date").is_none());
    assert!(root.get(b"announce-list").is_none());
    let info = root.get_dict(b"info").unwrap();
    assert_eq!(info.get_int(b"length").unwrap(), 5_000_003);
    assert_eq!(info.get_str(b"name").unwrap(), "single.bin");
    assert_eq!(info.get_int(b"piece length").unwrap(), 262_144);
    let want: Vec<u8> = d.chunks(262_144).flat_map(sha1).collect();
    assert_eq!(info.get_bytes(b"pieces").unwrap(), &want[..]);
    let raw = root.get(b"info").unwrap().raw();
    assert_eq!(t.info_hash_v1.unwrap().as_bytes(), &sha1(raw));
    assert!(t.info_hash_v2.is_none());
    assert_eq!(t.num_pieces, 20);
    assert_eq!(t.total_length, 5_000_003);
}

#[test]
fn multi_file_sorted_by_full_path_bytes_with_empty_files() {
    let dir = TempDir::new("create-multi");
    let a = data(2, 70_000);
    dir.write("m/a/x", &a);
    dir.write("m/a.txt", b"hello world\n");
    dir.write("m/empty", b"");
    dir.write("m/sub/deep/z.bin", &data(3, 33_000));
    let t = no_date()
        .piece_length(32_768)
        .build_from_path(dir.path().join("m"))
        .unwrap();
    let doc = decode(&t.bytes).unwrap();
    let info = doc.root().dict().unwrap().get_dict(b"info").unwrap();
    assert_eq!(info.get_str(b"name").unwrap(), "m");
    let paths: Vec<String> = info
        .get_list(b"files")
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.dict().unwrap();
            f.get_list(b"path")
                .unwrap()
                .iter()
                .map(|c| c.str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    // '.' (0x2e) < '/' (0x2f): mktorrent's order.
    assert_eq!(paths, ["a.txt", "a/x", "empty", "sub/deep/z.bin"]);
    let mut all = b"hello world\n".to_vec();
    all.extend(&a);
    all.extend(data(3, 33_000));
    let want: Vec<u8> = all.chunks(32_768).flat_map(sha1).collect();
    assert_eq!(info.get_bytes(b"pieces").unwrap(), &want[..]);
}

#[test]
fn v2_roots_and_piece_layers_match_naive_trees() {
    let pl = 32_768;
    let sizes = [
        1usize,
        16_384,
        16_385,
        32_768,
        32_769,
        100_000,
        5 * 32_768 + 7,
    ];
    let files: Vec<(Vec<String>, Vec<u8>)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (vec![format!("f{i}")], data(i as u64 + 10, n)))
        .collect();
    let src = MemorySource {
        files: files.clone(),
    };
    let t = no_date()
        .piece_length(pl as u64)
        .version(Version::V2)
        .build_from_source("tree", &src)
        .unwrap();
    let doc = decode(&t.bytes).unwrap();
    let root = doc.root().dict().unwrap();
    let info = root.get_dict(b"info").unwrap();
    assert_eq!(info.get_int(b"meta version").unwrap(), 2);
    assert!(info.get(b"pieces").is_none() && info.get(b"files").is_none());
    let tree = info.get_dict(b"file tree").unwrap();
    let layers = root.get_dict(b"piece layers").unwrap();
    for (p, d) in &files {
        let leaf = tree
            .get_dict(p[0].as_bytes())
            .unwrap()
            .get_dict(b"")
            .unwrap();
        assert_eq!(leaf.get_int(b"length").unwrap(), d.len() as i64);
        let r = leaf.get_bytes(b"pieces root").unwrap();
        assert_eq!(r, naive_root(d, pl), "root of {}", p[0]);
        if d.len() > pl {
            assert_eq!(layers.get_bytes(r).unwrap(), &naive_layer(d, pl)[..]);
        } else {
            assert!(layers.get(r).is_none());
        }
    }
    let raw = root.get(b"info").unwrap().raw();
    assert_eq!(t.info_hash_v2.unwrap().as_bytes(), &sha256(raw));
}

#[test]
fn hybrid_pads_files_to_piece_boundaries() {
    let pl = 16_384usize;
    let a = data(20, 20_000);
    let b = data(21, 16_384);
    let c = data(22, 5);
    let src = MemorySource {
        files: vec![
            (vec!["c".into()], c.clone()),
            (vec!["a".into()], a.clone()),
            (vec!["b".into()], b.clone()),
            (vec!["e".into()], vec![]),
        ],
    };
    let t = no_date()
        .piece_length(pl as u64)
        .version(Version::Hybrid)
        .build_from_source("h", &src)
        .unwrap();
    let doc = decode(&t.bytes).unwrap();
    let info = doc.root().dict().unwrap().get_dict(b"info").unwrap();
    let files: Vec<(String, i64, Option<String>)> = info
        .get_list(b"files")
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.dict().unwrap();
            let p: Vec<&str> = f
                .get_list(b"path")
                .unwrap()
                .iter()
                .map(|c| c.str().unwrap())
                .collect();
            (
                p.join("/"),
                f.get_int(b"length").unwrap(),
                f.opt_str(b"attr").unwrap().map(str::to_owned),
            )
        })
        .collect();
    let p = Some("p".to_owned());
    assert_eq!(
        files,
        [
            ("a".into(), 20_000, None),
            (".pad/12768".into(), 12_768, p.clone()),
            ("b".into(), 16_384, None),
            ("c".into(), 5, None),
            (".pad/16379".into(), 16_379, p),
            ("e".into(), 0, None),
        ]
    );
    let mut v1 = a.clone();
    v1.resize(32_768, 0);
    v1.extend(&b);
    v1.extend(&c);
    v1.resize(65_536, 0);
    let want: Vec<u8> = v1.chunks(pl).flat_map(sha1).collect();
    assert_eq!(info.get_bytes(b"pieces").unwrap(), &want[..]);
    let tree = info.get_dict(b"file tree").unwrap();
    let leaf = |n: &[u8]| tree.get_dict(n).unwrap().get_dict(b"").unwrap();
    assert_eq!(
        leaf(b"a").get_bytes(b"pieces root").unwrap(),
        naive_root(&a, pl)
    );
    assert!(leaf(b"e").get(b"pieces root").is_none());
    assert!(t.info_hash_v1.is_some() && t.info_hash_v2.is_some());
}

#[test]
fn single_file_hybrid_info_equals_v1_plus_v2_keys() {
    let src = MemorySource {
        files: vec![(vec![], data(30, 100_000))],
    };
    let h = no_date()
        .piece_length(16_384)
        .version(Version::Hybrid)
        .build_from_source("s", &src)
        .unwrap();
    let v1 = no_date()
        .piece_length(16_384)
        .build_from_source("s", &src)
        .unwrap();
    let dh = decode(&h.bytes).unwrap();
    let dv = decode(&v1.bytes).unwrap();
    let ih = dh.root().dict().unwrap().get_dict(b"info").unwrap();
    let iv = dv.root().dict().unwrap().get_dict(b"info").unwrap();
    assert_eq!(
        ih.get_bytes(b"pieces").unwrap(),
        iv.get_bytes(b"pieces").unwrap()
    );
    let tree = ih.get_dict(b"file tree").unwrap();
    assert!(tree.get_dict(b"s").unwrap().get_dict(b"").is_ok());
}

#[test]
fn options_are_written() {
    let src = MemorySource {
        files: vec![(vec!["x".into()], data(40, 1000))],
    };
    let t = TorrentBuilder::new()
        .creation_date(Some(1_700_000_000))
        .announce_tier(vec!["http://a/1".into(), "http://a/2".into()])
        .announce("http://b/1")
        .web_seed("http://ws/1")
        .web_seed("http://ws/2")
        .comment("c")
        .created_by(Some("me".into()))
        .private(true)
        .source("SRC")
        .dht_node("127.0.0.1", 6881)
        .build_from_source("n", &src)
        .unwrap();
    let want = concat!(
        "d8:announce10:http://a/113:announce-listll10:http://a/110:http://a/2el10:http://b/1ee",
        "7:comment1:c10:created by2:me13:creation datei1700000000e",
    );
    assert!(
        t.bytes.starts_with(want.as_bytes()),
        "{}",
        String::from_utf8_lossy(&t.bytes)
    );
    let doc = decode(&t.bytes).unwrap();
    let root = doc.root().dict().unwrap();
    assert_eq!(root.get_list(b"url-list").unwrap().len(), 2);
    assert_eq!(root.get_list(b"nodes").unwrap().len(), 1);
    let info = root.get_dict(b"info").unwrap();
    assert_eq!(info.get_int(b"private").unwrap(), 1);
    assert_eq!(info.get_str(b"source").unwrap(), "SRC");
    // One web seed: a string (as mktorrent writes it).
    let one = no_date()
        .web_seed("http://ws/1")
        .build_from_source("n", &src)
        .unwrap();
    let doc = decode(&one.bytes).unwrap();
    assert_eq!(
        doc.root().dict().unwrap().get_str(b"url-list").unwrap(),
        "http://ws/1"
    );
}

#[test]
fn reproducible_and_thread_count_independent() {
    let files: Vec<(Vec<String>, Vec<u8>)> = (0..50)
        .map(|i| {
            (
                vec![format!("d{}", i % 3), format!("f{i}")],
                data(i, (i as usize * 7919) % 40_000),
            )
        })
        .collect();
    let src = MemorySource { files };
    for v in [Version::V1, Version::V2, Version::Hybrid] {
        let one = no_date().piece_length(16_384).version(v).threads(1);
        let a = one.build_from_source("r", &src).unwrap();
        let b = one.clone().threads(7).build_from_source("r", &src).unwrap();
        assert_eq!(a.bytes, b.bytes, "{v:?}");
    }
}

#[test]
fn progress_reaches_total_and_cancel_stops() {
    let src = MemorySource {
        files: vec![(vec![], data(50, 3 << 20))],
    };
    let last = Arc::new(AtomicU64::new(0));
    let l = last.clone();
    no_date()
        .piece_length(16_384)
        .threads(2)
        .progress(move |done, total| {
            assert!(done <= total);
            l.fetch_max(done, Ordering::Relaxed);
        })
        .build_from_source("p", &src)
        .unwrap();
    assert_eq!(last.load(Ordering::Relaxed), 3 << 20);

    let flag = Arc::new(AtomicBool::new(true));
    let err = no_date()
        .cancel(flag)
        .build_from_source("p", &src)
        .unwrap_err();
    assert!(matches!(err, CreateError::Cancelled), "{err}");
}

#[test]
fn errors() {
    let empty = MemorySource {
        files: vec![(vec!["a".into()], vec![])],
    };
    assert!(matches!(
        no_date().build_from_source("e", &empty),
        Err(CreateError::Empty)
    ));
    let src = MemorySource {
        files: vec![(vec![], vec![1])],
    };
    assert!(matches!(
        no_date().piece_length(1000).build_from_source("e", &src),
        Err(CreateError::InvalidPieceLength(1000))
    ));
    let dup = MemorySource {
        files: vec![(vec!["a".into()], vec![1]), (vec!["a".into()], vec![2])],
    };
    assert!(matches!(
        no_date().build_from_source("e", &dup),
        Err(CreateError::InvalidFiles(_))
    ));
    let bad = MemorySource {
        files: vec![(vec!["..".into()], vec![1])],
    };
    assert!(no_date().build_from_source("e", &bad).is_err());
    assert!(matches!(
        no_date().build_from_path("/nonexistent/bip/path"),
        Err(CreateError::Io { .. })
    ));
}

#[test]
fn auto_piece_length_aims_at_1000_to_2000_pieces() {
    assert_eq!(auto_piece_length(1), 16_384);
    for total in [40u64 << 20, 1 << 30, 5 << 30, 30 << 30] {
        let pl = auto_piece_length(total);
        let n = total.div_ceil(pl);
        assert!((1000..=2000).contains(&n), "{total}: {pl} -> {n}");
    }
    assert_eq!(auto_piece_length(1 << 50), 16 << 20);
}

#[test]
fn pieces_larger_than_the_read_size_hash_incrementally() {
    // 2 MiB pieces are hashed in 1 MiB slices: compare with one-shot hashes.
    let pl = 2usize << 20;
    let a = data(60, pl + 3 * 16384 + 5);
    let b = data(61, 100);
    let src = MemorySource {
        files: vec![(vec!["a".into()], a.clone()), (vec!["b".into()], b.clone())],
    };
    let t = no_date()
        .piece_length(pl as u64)
        .version(Version::Hybrid)
        .build_from_source("big", &src)
        .unwrap();
    let doc = decode(&t.bytes).unwrap();
    let root = doc.root().dict().unwrap();
    let info = root.get_dict(b"info").unwrap();
    let mut v1 = a.clone();
    v1.resize(2 * pl, 0);
    v1.extend(&b);
    v1.resize(3 * pl, 0);
    let want: Vec<u8> = v1.chunks(pl).flat_map(sha1).collect();
    assert_eq!(info.get_bytes(b"pieces").unwrap(), &want[..]);
    let tree = info.get_dict(b"file tree").unwrap();
    let ra = tree
        .get_dict(b"a")
        .unwrap()
        .get_dict(b"")
        .unwrap()
        .get_bytes(b"pieces root")
        .unwrap();
    assert_eq!(ra, naive_root(&a, pl));
    assert_eq!(
        root.get_dict(b"piece layers")
            .unwrap()
            .get_bytes(ra)
            .unwrap(),
        &naive_layer(&a, pl)[..]
    );
    let rb = tree
        .get_dict(b"b")
        .unwrap()
        .get_dict(b"")
        .unwrap()
        .get_bytes(b"pieces root")
        .unwrap();
    assert_eq!(rb, naive_root(&b, pl));
}

/// v2 and hybrid torrents of many files of one length (their padding files all share one
/// `.pad/N` path) parse back: padding does not count as duplicate paths (it used to, so 33 such
/// files made bip refuse its own torrent), and padding files of one length are not renamed.
#[test]
fn many_equal_files_with_shared_padding_paths_parse_back() {
    for (count, version) in [
        (40usize, Version::Hybrid),
        (40, Version::V2),
        (2_000, Version::Hybrid),
    ] {
        let src = MemorySource {
            files: (0..count)
                .map(|i| (vec![format!("f{i:05}")], vec![i as u8; 1000]))
                .collect(),
        };
        let t = no_date()
            .piece_length(16_384)
            .version(version)
            .build_from_source("many", &src)
            .unwrap();
        let m = bip_metainfo::Metainfo::from_bytes(&t.bytes)
            .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert_eq!(m.info.files().count(), count);
        assert!(m.info.renamed_paths().is_empty(), "{version:?}");
        assert_eq!(m.info.disk_paths().len(), m.info.all_files().len());
    }
}
