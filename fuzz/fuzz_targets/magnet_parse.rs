//! Magnet link parsing (`bip_metainfo::Magnet::parse_bytes`) of arbitrary bytes.
//!
//! Properties: parsing never panics, nor do the accessors of an accepted link; an accepted
//! link printed with `to_string()` parses back to the same `Magnet`, and that printed form
//! is canonical: it re-encodes to the same bytes. (The input itself need not: escaping,
//! parameter order and case, `+` for space, duplicate `xt`, empty `tr`/`ws`/`x.pe`, invalid
//! `so`/`xl`/`dht` values and `tr.N` numbering are normalized.)
#![no_main]

use bip_metainfo::Magnet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Magnet::parse_bytes(data) else {
        return;
    };
    assert!(m.info_hash_v1.is_some() || m.info_hash_v2.is_some());
    assert!(m.wire_info_hash().is_some());
    let _ = m.peer_addrs();
    let _ = m.selected_indices(64);
    let printed = m.to_string();
    let again = Magnet::parse(&printed).expect("a printed magnet parses");
    assert_eq!(again, m, "parse(to_string(m)) != m");
    assert_eq!(again.to_string(), printed, "printed form is not canonical");
});
