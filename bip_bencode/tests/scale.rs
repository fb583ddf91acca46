//! Costs at scale (issue 12, item 5): lenient decoding of many unsorted or duplicate keys stays
//! O(n log n) at worst, and the tape costs a constant per value.

use std::time::Instant;

use bip_bencode::{Decoder, Mode};

/// A dictionary of `n` keys in a scrambled order (a permutation by a multiplier coprime to n).
fn unsorted_dict(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 13 + 2);
    out.push(b'd');
    for i in 0..n {
        let k = (i * 7_919 + 13) % n;
        out.extend_from_slice(format!("8:{k:08}i1e").as_bytes());
    }
    out.push(b'e');
    out
}

#[test]
fn lenient_unsorted_keys_cost_about_n_log_n() {
    let time = |n: usize| {
        let input = unsorted_dict(n);
        let t = Instant::now();
        let doc = Decoder::new().mode(Mode::Lenient).decode(&input).unwrap();
        let dict = doc.root().dict().unwrap();
        assert_eq!(dict.len(), n);
        assert!(!doc.soft_faults().is_empty());
        t.elapsed().as_secs_f64()
    };
    let small = time(50_000).max(1e-4);
    let big = time(500_000);
    eprintln!("50k keys {small:.4} s, 500k keys {big:.4} s");
    // 10x the keys: linear is 10x, n log n about 12x; quadratic would be 100x.
    assert!(big / small < 40.0, "{small} -> {big}");
}

/// `Dict::handles` / `Dict::entry`: 4-byte handles sort a large unsorted dictionary to the same
/// order as `(key, value)` pairs, and a handle from another dictionary never panics.
#[test]
fn entry_handles_sort_like_pairs_and_reject_foreign_handles() {
    let input = unsorted_dict(50_000);
    let doc = Decoder::new().mode(Mode::Lenient).decode(&input).unwrap();
    let dict = doc.root().dict().unwrap();
    let mut pairs: Vec<_> = dict.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut handles: Vec<_> = dict.handles().collect();
    assert_eq!(handles.len(), 50_000);
    handles.sort_by_key(|&h| dict.by_handle(h).unwrap().0);
    let via: Vec<_> = handles
        .iter()
        .map(|&h| dict.by_handle(h).unwrap())
        .collect();
    assert_eq!(via, pairs);

    let doc = Decoder::new().decode(b"d1:ad1:bi1ee1:cli2eee").unwrap();
    let outer = doc.root().dict().unwrap();
    let inner = outer.get_dict(b"a").unwrap();
    let inner_handle = inner.handles().next().unwrap();
    assert_eq!(inner.by_handle(inner_handle).unwrap().0, b"b");
    for h in outer.handles() {
        assert!(inner.by_handle(h).is_none());
    }
    let _ = outer.by_handle(inner_handle); // some entry or None, never a panic
}
