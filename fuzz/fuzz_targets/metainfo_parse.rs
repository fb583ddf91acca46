//! .torrent parsing (`bip_metainfo::Metainfo::from_bytes`) of arbitrary bytes.
//!
//! Properties: parsing never panics, nor do the accessors of an accepted torrent;
//! `to_bytes()` keeps the info dictionary byte for byte (same info hashes), its output
//! parses to a torrent with the same `Info`, and it is a fixed point (re-encoding the
//! re-parsed torrent gives the same bytes); the bare info dictionary parses on its own
//! (`Info::from_bytes`) to the same `Info`; the torrent's magnet link prints and parses
//! back to itself. (An accepted file itself need not re-encode byte for byte: parsing is
//! lenient for v1, strings are UTF-8-repaired and trimmed, empty trackers and malformed
//! entries are dropped, and duplicate keys collapse.)
#![no_main]

use bip_metainfo::{Info, Magnet, Metainfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Metainfo::from_bytes(data) else {
        return;
    };
    // Accessors.
    let info = &m.info;
    let _ = (
        m.trackers(),
        m.web_seeds(),
        m.similar_torrents(),
        m.collections(),
    );
    let _ = (info.wire_info_hash(), info.payload_size(), info.pieces());
    let total = info.total_size();
    let n = info.num_pieces();
    for f in info.all_files() {
        let _ = (
            f.path(),
            f.components().count(),
            f.symlink_target(),
            f.pieces_root(),
            f.is_padding(),
            f.num_pieces_v2(info.piece_length),
        );
        assert!(f
            .offset()
            .checked_add(f.length())
            .is_some_and(|end| end <= total));
    }
    for i in [0, n.saturating_sub(1), n] {
        let _ = info.piece_size(i);
        let _ = info.piece_hash(usize::try_from(i).unwrap_or(usize::MAX));
    }
    if info.all_files().len() <= 4096 {
        assert_eq!(info.unique_paths().len(), info.all_files().len());
    }

    // Re-encoding keeps the info dictionary byte for byte.
    let bytes = m.to_bytes();
    let m2 = Metainfo::from_bytes(&bytes).expect("to_bytes output parses");
    assert_eq!(m2.info.raw(), info.raw(), "info dictionary changed");
    assert_eq!(m2.info_hash_v1(), m.info_hash_v1());
    assert_eq!(m2.info_hash_v2(), m.info_hash_v2());
    assert_eq!(m2.info, m.info, "re-parsed Info differs");
    assert_eq!(m2.to_bytes(), bytes, "to_bytes is not a fixed point");
    let bare = Info::from_bytes(info.raw()).expect("the info dictionary parses alone");
    assert_eq!(&bare, info, "bare info dictionary parses differently");

    // The magnet link round-trips.
    let magnet = m.magnet();
    let printed = magnet.to_string();
    assert_eq!(
        Magnet::parse(&printed).as_ref(),
        Ok(&magnet),
        "magnet round trip"
    );
});
