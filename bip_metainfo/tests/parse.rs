//! Parsing: fields, round trips, error messages, limits, truncation sweep.

use std::path::PathBuf;

use bip_bencode::{ben_list, ben_map, Bencode};
use bip_metainfo::{Info, InvalidKind, Metainfo, MetainfoError, Version, MAX_PATH_DEPTH};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/torrents")
            .join(rel),
    )
    .unwrap()
}

fn v1_info(files: Bencode<'static>) -> Bencode<'static> {
    ben_map! {
        "name" => "root",
        "piece length" => 16384,
        "pieces" => Bencode::Bytes(vec![7u8; 20].into()),
        "files" => files,
    }
}

fn torrent(info: Bencode<'static>, extra: Vec<(&'static str, Bencode<'static>)>) -> Vec<u8> {
    let mut top = ben_map! { "info" => info };
    for (k, v) in extra {
        top.as_dict_mut().unwrap().insert(k.as_bytes().into(), v);
    }
    top.encode()
}

#[test]
fn all_common_fields() {
    let info = ben_map! {
        "name" => "root",
        "piece length" => 16384,
        "pieces" => Bencode::Bytes(vec![7u8; 40].into()),
        "private" => 1,
        "source" => "SRC",
        "x-info-extra" => ben_list![1, 2],
        "files" => ben_list![
            ben_map! { "length" => 100, "path" => ben_list!["dir", "a.txt"], "attr" => "xh", "mtime" => 5 },
            ben_map! { "length" => 16284, "path" => ben_list![".pad", "16284"], "attr" => "p" },
            ben_map! { "length" => 0, "path" => ben_list!["link"], "attr" => "l", "symlink path" => ben_list!["dir", "a.txt"] },
            ben_map! { "length" => 50, "path" => ben_list!["..", "b"] },
        ],
    };
    let bytes = torrent(
        info,
        vec![
            ("announce", "  http://a/announce ".into()),
            (
                "announce-list",
                ben_list![
                    ben_list!["http://a/announce", ""],
                    ben_list!["udp://b:1"],
                    5
                ],
            ),
            ("url-list", "http://seed/x y".into()),
            ("httpseeds", ben_list!["http://hs/"]),
            (
                "nodes",
                ben_list![ben_list!["router.example", 6881], ben_list!["bad"]],
            ),
            ("comment", "hi".into()),
            ("created by", "me".into()),
            ("creation date", 1234.into()),
            ("encoding", "UTF-8".into()),
            ("z-unknown", ben_map! { "k" => "v" }),
        ],
    );
    let m = Metainfo::from_bytes(&bytes).unwrap();
    assert_eq!(m.announce.as_deref(), Some("http://a/announce"));
    assert_eq!(
        m.announce_list,
        vec![
            vec!["http://a/announce".to_string()],
            vec!["udp://b:1".to_string()]
        ]
    );
    assert_eq!(m.trackers().len(), 2);
    assert_eq!(m.url_list, ["http://seed/x y"]);
    assert_eq!(m.web_seeds(), ["http://seed/x%20y/"]);
    assert_eq!(m.httpseeds, ["http://hs/"]);
    assert_eq!(m.nodes, [("router.example".to_string(), 6881)]);
    assert_eq!(m.comment.as_deref(), Some("hi"));
    assert_eq!(m.created_by.as_deref(), Some("me"));
    assert_eq!(m.creation_date, Some(1234));
    assert_eq!(m.encoding.as_deref(), Some("UTF-8"));
    assert!(m.unknown.contains_key(b"z-unknown".as_slice()));

    let info = &m.info;
    assert_eq!(info.version, Version::V1);
    assert!(info.private && info.multi_file);
    assert_eq!(info.source.as_deref(), Some("SRC"));
    assert!(info.unknown.contains_key(b"x-info-extra".as_slice()));
    let files = info.all_files();
    assert_eq!(files.len(), 4);
    let all: Vec<_> = files.iter().collect();
    assert_eq!(all[0].path(), "dir/a.txt");
    assert!(all[0].components().eq(["dir", "a.txt"]));
    let attrs = all[0].attrs();
    assert!(attrs.executable && attrs.hidden && !attrs.pad);
    assert_eq!(all[0].mtime(), Some(5));
    assert!(all[1].attrs().pad && all[1].is_padding());
    assert_eq!(all[1].offset(), 100);
    assert!(all[2].attrs().symlink);
    assert_eq!(all[2].symlink_target(), Some("dir/a.txt"));
    // `..` is replaced, never kept.
    assert_eq!(all[3].path(), "_/b");
    assert_eq!(all[3].offset(), 16384);
    assert_eq!(info.file(3), Some(all[3]));
    assert_eq!(info.num_files(), 4);
    assert_eq!(info.files().count(), 3);
    assert_eq!(info.total_size(), 16434);
    assert_eq!(info.payload_size(), 150);
    assert_eq!(info.num_pieces(), 2);
    assert_eq!(info.piece_hash(1), Some([7u8; 20]));
    assert_eq!(info.piece_size(1), Some(50));
}

#[test]
fn piece_count_mismatch_names_field() {
    let info = ben_map! {
        "name" => "a", "piece length" => 16384, "length" => 16385,
        "pieces" => Bencode::Bytes(vec![0u8; 20].into()),
    };
    let err = Metainfo::from_bytes(&torrent(info, vec![])).unwrap_err();
    assert_eq!(err.field(), Some("info.pieces"));
    assert!(matches!(
        err,
        MetainfoError::Invalid {
            kind: InvalidKind::Pieces,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "`info.pieces`: wrong number of piece hashes (20 bytes for 2 pieces of 16384 bytes)"
    );
}

#[test]
fn error_messages_name_fields() {
    let cases: Vec<(Bencode<'static>, &str)> = vec![
        (
            v1_info(ben_list![
                ben_map! { "length" => 1, "path" => ben_list!["a"] },
                ben_map! { "length" => "x", "path" => ben_list!["b"] }
            ]),
            "`info.files[1].length`: expected integer, found byte string",
        ),
        (
            v1_info(ben_list![
                ben_map! { "length" => 1, "path" => ben_list!["a", 5] }
            ]),
            "`info.files[0].path[1]`: invalid path",
        ),
        (
            v1_info(ben_list![ben_map! { "path" => ben_list!["a"] }]),
            "`info.files[0].length`: invalid length",
        ),
        (
            v1_info(ben_list![
                ben_map! { "length" => -1, "path" => ben_list!["a"] }
            ]),
            "`info.files[0].length`: invalid length",
        ),
        (
            ben_map! { "name" => "a", "length" => 5 },
            "`info.piece length`: invalid or missing piece length",
        ),
        (
            ben_map! { "piece length" => 16384, "length" => 5, "pieces" => "aaaaaaaaaaaaaaaaaaaa" },
            "`info.name`: invalid or missing name",
        ),
    ];
    for (info, want) in cases {
        let err = Metainfo::from_bytes(&torrent(info, vec![]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(want), "{err:?} should start with {want:?}");
    }
    let err = Metainfo::from_bytes(b"d8:announce3:abce").unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing key `info` (dictionary at offset 0)"
    );
    let err = Metainfo::from_bytes(b"d4:infoi5ee").unwrap_err();
    assert_eq!(err.field(), Some("info"));
}

#[test]
fn limits() {
    // Path deeper than MAX_PATH_DEPTH.
    let deep: Vec<Bencode<'static>> = (0..=MAX_PATH_DEPTH).map(|_| Bencode::from("d")).collect();
    let info = v1_info(ben_list![
        ben_map! { "length" => 1, "path" => Bencode::List(deep) }
    ]);
    let err = Metainfo::from_bytes(&torrent(info, vec![])).unwrap_err();
    assert!(
        matches!(
            err,
            MetainfoError::Invalid {
                kind: InvalidKind::PathTooDeep,
                ..
            }
        ),
        "{err}"
    );
    // Name too long.
    let info = ben_map! {
        "name" => Bencode::Bytes(vec![b'a'; 5000].into()), "piece length" => 16384, "length" => 5,
        "pieces" => "aaaaaaaaaaaaaaaaaaaa",
    };
    let err = Metainfo::from_bytes(&torrent(info, vec![])).unwrap_err();
    assert!(
        matches!(
            err,
            MetainfoError::Invalid {
                kind: InvalidKind::NameTooLong,
                ..
            }
        ),
        "{err}"
    );
    // A long but acceptable element is truncated to a safe length.
    let info = ben_map! {
        "name" => Bencode::Bytes([vec![b'a'; 1000], b".mkv".to_vec()].concat().into()),
        "piece length" => 16384, "length" => 5, "pieces" => "aaaaaaaaaaaaaaaaaaaa",
    };
    let m = Metainfo::from_bytes(&torrent(info, vec![])).unwrap();
    assert!(m.info.name.len() <= 255 && m.info.name.ends_with(".mkv"));
}

#[test]
fn round_trip_keeps_info_bytes_and_unknown_keys() {
    for rel in [
        "libtorrent/pad_file.torrent", // unsorted keys in the info dict
        "libtorrent/sample.torrent",
        "bep52/bittorrent-v2-hybrid-test.torrent",
        "bep52/bittorrent-v2-test.torrent",
        "libtorrent/sample.torrent+\n", // trailing byte
    ] {
        // (`large_piece_size.torrent`, the corpus' trailing-byte case, has a piece length above
        // MAX_PIECE_LENGTH; a trailing newline after sample.torrent stands in for it.)
        let bytes = match rel.split_once('+') {
            Some((f, tail)) => [read(f), tail.as_bytes().to_vec()].concat(),
            None => read(rel),
        };
        let m = Metainfo::from_bytes(&bytes).unwrap();
        let out = m.to_bytes();
        let again = Metainfo::from_bytes(&out).unwrap();
        assert_eq!(again.info.raw(), m.info.raw(), "{rel}");
        assert_eq!(again.info_hash_v1(), m.info_hash_v1());
        assert_eq!(again.info_hash_v2(), m.info_hash_v2());
        assert_eq!(again, m, "{rel}");
        // Canonical input round-trips byte for byte.
        if rel == "libtorrent/sample.torrent" || rel.starts_with("bep52") {
            assert_eq!(out, bytes, "{rel}");
        }
    }
    // Unknown keys survive.
    let bytes = torrent(
        v1_info(ben_list![
            ben_map! { "length" => 3, "path" => ben_list!["a"] }
        ]),
        vec![
            ("zzz", ben_map! { "nested" => ben_list![1, "two"] }),
            ("announce", 5.into()),
        ],
    );
    let m = Metainfo::from_bytes(&bytes).unwrap();
    // A known key with the wrong type is kept as unknown rather than lost.
    assert!(m.unknown.contains_key(b"announce".as_slice()));
    assert_eq!(m.to_bytes(), bytes);
}

#[test]
fn bare_info_dict_and_hashes() {
    let m = Metainfo::from_bytes(&read("bep52/bittorrent-v2-hybrid-test.torrent")).unwrap();
    let info = Info::from_bytes(m.info.raw()).unwrap();
    assert_eq!(info, m.info);
    assert_eq!(
        info.info_hash_v1().unwrap().to_hex(),
        "631a31dd0a46257d5078c0dee4e66e26f73e42ac"
    );
    assert_eq!(
        info.info_hash_v2().unwrap().to_hex(),
        "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb"
    );
    assert_eq!(info.wire_info_hash(), info.info_hash_v1().unwrap());
    // Every real file of a hybrid carries its v2 root and starts on a piece boundary.
    for f in info.files().filter(|f| f.length() > 0) {
        assert!(f.pieces_root().is_some());
        assert_eq!(f.offset() % info.piece_length, 0);
        if f.length() > info.piece_length {
            let layer = m.piece_layer(f.pieces_root().unwrap()).unwrap();
            assert_eq!(layer.len() as u64, f.num_pieces_v2(info.piece_length));
            assert_eq!(
                bip_metainfo::piece_layer_root(layer, info.piece_length),
                *f.pieces_root().unwrap()
            );
        }
    }
    assert_eq!(info.piece_hash(0).unwrap()[..], info.pieces()[..20]);
    assert!(info.piece_hash(info.num_pieces() as usize).is_none());
}

#[test]
fn v2_info_must_be_canonical() {
    let err = Metainfo::from_bytes(&read("libtorrent/v2_unordered_files.torrent")).unwrap_err();
    assert!(matches!(err, MetainfoError::NonCanonicalV2(_)), "{err}");
    // The same fault in a v1 info dict is accepted (libtorrent does too).
    assert!(Metainfo::from_bytes(&read("libtorrent/unordered.torrent")).is_ok());
}

#[test]
fn truncation_sweep_never_panics() {
    // Every prefix of small torrents; about 150 prefixes of the large hybrid
    // (debug-mode hashing of its 34 KB info dict dominates the run time).
    for (rel, points) in [
        ("libtorrent/sample.torrent", 100_000),
        ("libtorrent/symlink2.torrent", 100_000),
        ("bep52/bittorrent-v2-test.torrent", 500),
        ("bep52/bittorrent-v2-hybrid-test.torrent", 150),
    ] {
        let bytes = read(rel);
        let step = (bytes.len() / points).max(1);
        let mut n = 0;
        while n < bytes.len() {
            let res = Metainfo::from_bytes(&bytes[..n]);
            if let Err(e) = res {
                assert!(!e.to_string().contains('\n'));
            }
            let _ = Info::from_bytes(&bytes[..n]);
            n += step;
        }
        // Corrupt single bytes too.
        for i in (0..bytes.len()).step_by(step.max(bytes.len() / 300).max(1)) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let _ = Metainfo::from_bytes(&b);
        }
    }
}
