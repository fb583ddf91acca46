//! Conformance: every entry of `testdata/torrents/manifest.json` (libtorrent's
//! verdict, its `checks` and the `computed` hashes), and libtorrent's path
//! sanitization table.

use std::path::PathBuf;

use bip_metainfo::{repair_utf8, sanitize_path_element, Info, Metainfo};
use serde_json::Value as J;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/torrents")
}

/// Checks not asserted, with the reason.
const SKIPPED_CHECKS: &[(&str, &str)] = &[
    (
        "name_windows",
        "Windows-only expectation; this crate sanitizes like libtorrent on POSIX",
    ),
    (
        "magnet",
        "checked by re-parsing in `magnet_of_bep52_torrents` below",
    ),
];

/// Verdicts that differ from libtorrent's on purpose, with the reason. Each must be rejected
/// with the named error kind.
const DELIBERATE_DEVIATIONS: &[(&str, bip_metainfo::InvalidKind, &str)] = &[(
    "libtorrent/large_piece_size.torrent",
    bip_metainfo::InvalidKind::PieceLength,
    "a 536,854,528-byte piece length: bip caps piece lengths at MAX_PIECE_LENGTH (256 MiB) so \
     that buffers sized by a piece stay bounded; libtorrent accepts up to 2^31 - 1",
)];

fn full_path(info: &Info, f: &bip_metainfo::FileEntry) -> String {
    if info.multi_file && !(f.is_padding() && f.components().next() == Some(".pad")) {
        format!("{}/{}", info.name, f.path())
    } else {
        f.path().to_string()
    }
}

fn check(m: &Metainfo, checks: &serde_json::Map<String, J>) -> Result<(), String> {
    let info = &m.info;
    let files = info.all_files();
    let idx = |k: &str| -> usize { k.parse().unwrap() };
    let file = |k: &str| files.get(idx(k)).unwrap();
    for (key, want) in checks {
        if SKIPPED_CHECKS.iter().any(|(k, _)| k == key) {
            continue;
        }
        let ok = match key.as_str() {
            "renamed_files" => {
                let unique = info.unique_paths();
                want.as_object().unwrap().iter().all(|(i, p)| {
                    format!("{}/{}", info.name, unique[idx(i)]) == p.as_str().unwrap()
                })
            }
            "num_files" => files.len() as u64 == want.as_u64().unwrap(),
            "num_files_min" => files.len() as u64 >= want.as_u64().unwrap(),
            "file_paths" => want.as_object().unwrap().iter().all(|(i, p)| {
                let f = file(i);
                let got = full_path(info, &f);
                got == p.as_str().unwrap()
                    // libtorrent names a pathless pad file `.pad/N` outside the root folder.
                    || (f.is_padding() && format!("{}/{}", info.name, p.as_str().unwrap()) == got)
            }),
            "file_sizes" => want
                .as_object()
                .unwrap()
                .iter()
                .all(|(i, s)| file(i).length() == s.as_u64().unwrap()),
            "symlinks" => want.as_object().unwrap().iter().all(|(i, p)| {
                let t = file(i).symlink_target();
                t.map(|t| format!("{}/{}", info.name, t)).as_deref() == p.as_str()
            }),
            "pad_file" => want
                .as_object()
                .unwrap()
                .iter()
                .all(|(i, p)| file(i).attrs().pad == p.as_bool().unwrap()),
            "pieces_root" => want
                .as_object()
                .unwrap()
                .iter()
                .all(|(i, r)| file(i).pieces_root().map(hex::encode).as_deref() == r.as_str()),
            "has_v1" => info.version.has_v1() == want.as_bool().unwrap(),
            "has_v2" => info.version.has_v2() == want.as_bool().unwrap(),
            "info_hash_v1" => m.info_hash_v1().map(|h| h.to_hex()).as_deref() == want.as_str(),
            "info_hash_v2" => m.info_hash_v2().map(|h| h.to_hex()).as_deref() == want.as_str(),
            "name" => info.name == want.as_str().unwrap(),
            "piece_length" => info.piece_length == want.as_u64().unwrap(),
            "creation_date" => m.creation_date == want.as_i64(),
            "comment" => m.comment.as_deref() == want.as_str(),
            "url_seeds" => {
                let w: Vec<&str> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                m.web_seeds() == w
            }
            "url_seeds_count" => m.web_seeds().len() as u64 == want.as_u64().unwrap(),
            "trackers_first" => {
                m.trackers()
                    .first()
                    .and_then(|t| t.first())
                    .map(String::as_str)
                    == want.as_str()
            }
            "trackers" => {
                let got: Vec<String> = m.trackers().into_iter().flatten().collect();
                let w: Vec<&str> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                got == w
            }
            "dht_nodes" => {
                let w: Vec<(String, u16)> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap().to_string(),
                            p[1].as_u64().unwrap() as u16,
                        )
                    })
                    .collect();
                m.nodes == w
            }
            "similar_torrents" => {
                let w: Vec<String> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect();
                m.similar_torrents()
                    .iter()
                    .map(hex::encode)
                    .collect::<Vec<_>>()
                    == w
            }
            "collections" => {
                let w: Vec<&str> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                m.collections() == w
            }
            "file_sha1" => want
                .as_object()
                .unwrap()
                .iter()
                .all(|(i, h)| file(i).sha1().map(hex::encode).as_deref() == h.as_str()),
            "piece_layers_loaded" | "piece_layers_valid" => {
                m.piece_layers.is_empty() != want.as_bool().unwrap()
            }
            other => return Err(format!("unknown check {other}")),
        };
        if !ok {
            return Err(format!("check {key} failed: want {want}"));
        }
    }
    Ok(())
}

#[test]
fn manifest() {
    let manifest: J =
        serde_json::from_str(&std::fs::read_to_string(testdata().join("manifest.json")).unwrap())
            .unwrap();
    let entries = manifest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 119);
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for e in entries {
        let file = e["file"].as_str().unwrap();
        let bytes = std::fs::read(testdata().join(file)).unwrap();
        let res = Metainfo::from_bytes(&bytes);
        if let Some((_, kind, why)) = DELIBERATE_DEVIATIONS.iter().find(|d| d.0 == file) {
            match &res {
                Err(bip_metainfo::MetainfoError::Invalid { kind: k, .. }) if k == kind => {
                    rejected += 1;
                }
                other => failures.push(format!("{file}: want {kind:?} ({why}), got {other:?}")),
            }
            continue;
        }
        let computed = &e["computed"];
        match (e["expect"].as_str().unwrap(), res) {
            ("accept", Ok(m)) => {
                let want1 = computed.get("info_hash_v1").and_then(J::as_str);
                let want2 = computed.get("info_hash_v2").and_then(J::as_str);
                if m.info_hash_v1().map(|h| h.to_hex()).as_deref() != want1
                    || m.info_hash_v2().map(|h| h.to_hex()).as_deref() != want2
                {
                    failures.push(format!("{file}: info hashes differ"));
                    continue;
                }
                if let Some(checks) = e.get("checks").and_then(J::as_object) {
                    if let Err(err) = check(&m, checks) {
                        failures.push(format!("{file}: {err}"));
                        continue;
                    }
                }
                // Re-encoding keeps the info hashes.
                let again = Metainfo::from_bytes(&m.to_bytes()).expect("re-encoded torrent parses");
                assert_eq!(again.info_hash_v1(), m.info_hash_v1(), "{file}");
                assert_eq!(again.info_hash_v2(), m.info_hash_v2(), "{file}");
                assert_eq!(again, m, "{file}: re-encoded torrent differs");
                accepted += 1;
            }
            ("reject", Err(err)) => {
                // The error message is one line.
                assert!(!err.to_string().contains('\n'), "{file}: {err}");
                rejected += 1;
            }
            ("accept", Err(err)) => failures.push(format!("{file}: rejected: {err}")),
            (_, Ok(_)) => failures.push(format!(
                "{file}: accepted, libtorrent rejects ({})",
                e["error"]
            )),
            (x, _) => panic!("bad expect {x}"),
        }
    }
    eprintln!(
        "manifest: {accepted} accepted, {rejected} rejected, skipped checks: {SKIPPED_CHECKS:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(accepted + rejected, 119);
}

#[test]
fn path_sanitization_table() {
    let table: J = serde_json::from_str(
        &std::fs::read_to_string(testdata().join("libtorrent_paths.json")).unwrap(),
    )
    .unwrap();
    let cases = table["sanitize_append_path_element"].as_array().unwrap();
    assert_eq!(cases.len(), 87);
    let mut failures = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let force = c["force"].as_bool().unwrap();
        let elements: Vec<Vec<u8>> = match c.get("elements_hex") {
            Some(h) => h
                .as_array()
                .unwrap()
                .iter()
                .map(|e| hex::decode(e.as_str().unwrap()).unwrap())
                .collect(),
            None => c["elements_text"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().as_bytes().to_vec())
                .collect(),
        };
        let got: Vec<String> = elements
            .iter()
            .filter_map(|e| sanitize_path_element(e, force))
            .collect();
        let got = got.join("/");
        let want = hex::decode(c["expected_posix_hex"].as_str().unwrap()).unwrap();
        if got.as_bytes() != want {
            failures.push(format!(
                "case {n} ({}): got {got:?}, want {:?}",
                c["group"],
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Duplicate-path renaming.
    for g in table["resolve_duplicate_filenames"].as_array().unwrap() {
        let files: Vec<bip_bencode::Bencode<'static>> = g["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path: Vec<bip_bencode::Bencode<'static>> = f["path"]
                    .as_str()
                    .unwrap()
                    .split('/')
                    .skip(1)
                    .map(|e| bip_bencode::Bencode::from(e.to_string()))
                    .collect();
                let mut d = bip_bencode::ben_map! {
                    "length" => f["size"].as_i64().unwrap(),
                    "path" => bip_bencode::Bencode::List(path),
                };
                if f["pad_file"].as_bool().unwrap() {
                    d.as_dict_mut()
                        .unwrap()
                        .insert(b"attr".as_slice().into(), "p".into());
                }
                d
            })
            .collect();
        let total: u64 = g["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["size"].as_u64().unwrap())
            .sum();
        let pieces = vec![0u8; (total.div_ceil(16384) * 20) as usize];
        let info = bip_bencode::ben_map! {
            "name" => "test",
            "piece length" => 16384,
            "pieces" => bip_bencode::Bencode::Bytes(pieces.into()),
            "files" => bip_bencode::Bencode::List(files),
        };
        let info = Info::from_bytes(&info.encode()).unwrap();
        let unique = info.unique_paths();
        for (f, got) in g["files"].as_array().unwrap().iter().zip(&unique) {
            assert_eq!(
                format!("test/{got}"),
                f["expected_path"].as_str().unwrap(),
                "{g}"
            );
        }
    }

    for c in table["verify_encoding"].as_array().unwrap() {
        let input = hex::decode(c["input_hex"].as_str().unwrap()).unwrap();
        let (out, valid) = repair_utf8(&input);
        assert_eq!(
            out.as_bytes(),
            hex::decode(c["output_hex"].as_str().unwrap()).unwrap()
        );
        assert_eq!(valid, c["valid_utf8"].as_bool().unwrap());
    }
}
