//! Property tests (proptest) of the decoder and encoder:
//! - `decode(encode(v)) == v` for arbitrary value trees;
//! - canonical encodings round-trip byte for byte (raw span and re-encoding) in
//!   strict and lenient mode, lenient with zero soft faults;
//! - every strict prefix of a valid encoding is an error in both modes;
//! - random mutations of valid encodings never panic; what strict mode accepts
//!   re-encodes identically, and lenient mode accepts it too without faults;
//! - non-canonical encodings (leading zeros, unsorted or duplicate keys) are
//!   accepted leniently with soft faults, and strict mode rejects them at the
//!   first fault;
//! - each value's raw span (dictionary values, list elements) re-decodes to
//!   the same value.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bip_bencode::{Bencode, Decoder, Kind, Mode, Value};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

/// Byte strings: mostly short over a tiny alphabet (so dictionary keys share
/// prefixes and sort interestingly), sometimes arbitrary bytes.
fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(prop::sample::select(b"ab\x00\xff".to_vec()), 0..4),
        2 => vec(any::<u8>(), 0..max),
    ]
}

/// Integers: edge values and arbitrary ones.
fn arb_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => prop::sample::select(vec![0, -1, 1, 9, 10, -10, i64::MIN, i64::MAX, i64::MIN + 1]),
        3 => any::<i64>(),
    ]
}

/// An arbitrary value tree (bounded depth and size).
fn arb_bencode() -> impl Strategy<Value = Bencode<'static>> {
    let leaf = prop_oneof![
        arb_int().prop_map(Bencode::Int),
        arb_bytes(40).prop_map(|b| Bencode::Bytes(Cow::Owned(b))),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Bencode::List),
            btree_map(arb_bytes(12).prop_map(Cow::Owned), inner, 0..8).prop_map(Bencode::Dict),
        ]
    })
}

fn decoder(mode: Mode) -> Decoder {
    Decoder::new().mode(mode)
}

/// Every value of the tree under `root` (iteratively, pre-order).
fn all_values<'a, 'd>(root: Value<'a, 'd>) -> Vec<Value<'a, 'd>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        out.push(v);
        if let Some(l) = v.as_list() {
            stack.extend(l.iter());
        }
        if let Some(d) = v.as_dict() {
            stack.extend(d.iter().map(|(_, v)| v));
        }
    }
    out
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the grammar are likelier than random ones.
    let byte = prop_oneof![
        prop::sample::select(b"ilde0123456789:-".to_vec()),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
    ]
}

fn apply(input: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Set(i, b) if !input.is_empty() => {
            let n = input.len();
            input[i % n] = b;
        }
        Mutation::Insert(i, b) => {
            let n = input.len() + 1;
            input.insert(i % n, b);
        }
        Mutation::Delete(i) if !input.is_empty() => {
            let n = input.len();
            input.remove(i % n);
        }
        _ => {}
    }
}

/// Write `N:bytes`, with a leading zero on the length if `zero`.
fn write_bytes(b: &[u8], zero: bool, out: &mut Vec<u8>) {
    if zero {
        out.push(b'0');
    }
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

/// A non-canonical but lenient-valid encoding of a value, steered by
/// `choices`: integers and string lengths may get leading zeros (zero may
/// become `-0`), dictionary entries may come in reverse order or have their
/// last entry repeated. Returns whether any deviation was written.
fn encode_sloppy(
    v: &Bencode<'_>,
    choices: &mut impl Iterator<Item = u8>,
    out: &mut Vec<u8>,
) -> bool {
    let c = choices.next().unwrap_or(1);
    let mut sloppy = false;
    match v {
        Bencode::Int(i) => {
            out.push(b'i');
            if c % 5 == 0 {
                if *i < 0 {
                    out.extend_from_slice(b"-0");
                    out.extend_from_slice(i.unsigned_abs().to_string().as_bytes());
                } else {
                    out.push(b'0');
                    out.extend_from_slice(i.to_string().as_bytes());
                }
                sloppy = true;
            } else if c % 5 == 1 && *i == 0 {
                out.extend_from_slice(b"-0");
                sloppy = true;
            } else {
                out.extend_from_slice(i.to_string().as_bytes());
            }
            out.push(b'e');
        }
        Bencode::BigInt(d) => {
            out.push(b'i');
            out.extend_from_slice(d);
            out.push(b'e');
        }
        Bencode::Bytes(b) => {
            sloppy = c % 4 == 0;
            write_bytes(b, sloppy, out);
        }
        Bencode::List(l) => {
            out.push(b'l');
            for x in l {
                sloppy |= encode_sloppy(x, choices, out);
            }
            out.push(b'e');
        }
        Bencode::Dict(d) => {
            let mut entries: Vec<_> = d.iter().collect();
            if c % 3 == 0 && entries.len() > 1 {
                entries.reverse();
                sloppy = true;
            }
            if c % 3 == 1 && !entries.is_empty() {
                let last = *entries.last().expect("non-empty");
                entries.push(last);
                sloppy = true;
            }
            out.push(b'd');
            for (k, x) in entries {
                let zero = choices.next().unwrap_or(1) % 4 == 0;
                sloppy |= zero;
                write_bytes(k, zero, out);
                sloppy |= encode_sloppy(x, choices, out);
            }
            out.push(b'e');
        }
    }
    sloppy
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// decode(encode(v)) == v, and `encoded_len` is exact.
    #[test]
    fn decode_inverts_encode(v in arb_bencode()) {
        let enc = v.encode();
        prop_assert_eq!(enc.len(), v.encoded_len());
        let doc = bip_bencode::decode(&enc).expect("canonical encoding decodes");
        prop_assert_eq!(doc.root().to_bencode(), v);
    }

    /// Canonical input: raw span and re-encoding equal the input, both modes,
    /// and lenient mode records no soft fault.
    #[test]
    fn canonical_round_trips_bytewise(v in arb_bencode()) {
        let enc = v.encode();
        for mode in [Mode::Strict, Mode::Lenient] {
            let doc = decoder(mode).decode(&enc).expect("canonical encoding decodes");
            prop_assert_eq!(doc.root().raw(), &enc[..]);
            prop_assert_eq!(doc.root().span(), 0..enc.len());
            prop_assert_eq!(doc.root().to_bencode().encode(), enc.clone());
            prop_assert!(doc.soft_faults().is_empty());
            prop_assert!(doc.trailing().is_empty());
        }
    }

    /// Bencode is prefix-free: every strict prefix of a valid encoding is an
    /// error, in both modes.
    #[test]
    fn every_truncation_is_an_error(v in arb_bencode()) {
        let enc = v.encode();
        for mode in [Mode::Strict, Mode::Lenient] {
            let mut dec = decoder(mode);
            for cut in 0..enc.len() {
                let res = dec.decode(&enc[..cut]);
                prop_assert!(res.is_err(), "{:?} accepted prefix {:?}", mode, &enc[..cut]);
            }
        }
    }

    /// Random edits never panic; strict acceptance means canonical (identical
    /// re-encoding) and implies lenient acceptance with zero soft faults.
    #[test]
    fn mutations_never_panic(
        v in arb_bencode(),
        muts in vec(arb_mutation(), 1..6),
    ) {
        let mut input = v.encode();
        for m in &muts {
            apply(&mut input, m);
        }
        let strict = decoder(Mode::Strict).decode(&input);
        let lenient = decoder(Mode::Lenient).decode(&input);
        if let Ok(doc) = &strict {
            prop_assert_eq!(doc.root().raw(), &input[..]);
            prop_assert_eq!(doc.root().to_bencode().encode(), input.clone());
            let ldoc = lenient.as_ref().expect("lenient accepts what strict accepts");
            prop_assert!(ldoc.soft_faults().is_empty());
            prop_assert_eq!(ldoc.root().to_bencode(), doc.root().to_bencode());
        }
        if let Ok(doc) = &lenient {
            // Navigating an accepted document never panics.
            for val in all_values(doc.root()) {
                let _ = (val.kind(), val.raw(), val.as_int(), val.as_bytes(), val.path());
                if let Some(d) = val.as_dict() {
                    for (k, _) in d.iter() {
                        prop_assert!(d.get(k).is_some());
                    }
                }
            }
            if doc.soft_faults().is_empty() {
                prop_assert!(strict.is_ok(), "no soft fault yet strict rejected");
            } else {
                let first = doc.soft_faults()[0];
                let err = strict.expect_err("strict accepted a document with soft faults");
                prop_assert_eq!(err.kind, first.kind.as_error_kind());
                prop_assert_eq!(err.offset, first.offset);
            }
        }
    }

    /// Non-canonical encodings: lenient accepts them with soft faults and
    /// means the same value (first key wins); strict rejects them.
    #[test]
    fn sloppy_encodings_are_lenient_only(v in arb_bencode(), choices in vec(any::<u8>(), 64)) {
        let mut input = Vec::new();
        let sloppy = encode_sloppy(&v, &mut choices.into_iter().cycle(), &mut input);
        let doc = decoder(Mode::Lenient).decode(&input).expect("lenient accepts sloppy encodings");
        prop_assert_eq!(doc.root().raw(), &input[..]);
        let strict = decoder(Mode::Strict).decode(&input);
        if sloppy {
            prop_assert!(doc.has_soft_fault());
            let err = strict.expect_err("strict rejects sloppy encodings");
            prop_assert_eq!(err.kind, doc.soft_faults()[0].kind.as_error_kind());
            prop_assert_eq!(err.offset, doc.soft_faults()[0].offset);
        } else {
            prop_assert!(!doc.has_soft_fault());
            prop_assert!(strict.is_ok());
        }
        // Entries repeated or reordered still mean the same map: the first
        // occurrence of a key wins, and repeats carry the same value here.
        prop_assert_eq!(doc.root().to_bencode(), v);
    }

    /// Spans: every dictionary value's (and list element's) raw bytes decode on
    /// their own to the same value.
    #[test]
    fn value_spans_redecode(v in arb_bencode()) {
        let enc = v.encode();
        let doc = bip_bencode::decode(&enc).expect("decodes");
        for val in all_values(doc.root()) {
            if let Some(d) = val.as_dict() {
                for (k, entry) in d.entries() {
                    prop_assert_eq!(k.kind(), Kind::Bytes);
                    let sub = bip_bencode::decode(k.raw()).expect("key span decodes");
                    prop_assert_eq!(sub.root().as_bytes(), k.as_bytes());
                    let sub = bip_bencode::decode(entry.raw()).expect("value span decodes");
                    prop_assert_eq!(sub.root().to_bencode(), entry.to_bencode());
                    prop_assert_eq!(sub.root().raw(), entry.raw());
                }
            }
            let sub = bip_bencode::decode(val.raw()).expect("span decodes");
            prop_assert_eq!(sub.root().to_bencode(), val.to_bencode());
        }
    }
}

/// The strategy does produce nested containers of every kind (guards against
/// a strategy that silently degenerates to leaves).
#[test]
fn strategy_covers_containers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strat = arb_bencode();
    let mut seen = BTreeMap::new();
    for _ in 0..200 {
        let v = strat.new_tree(&mut runner).expect("tree").current();
        let enc = v.encode();
        let doc = bip_bencode::decode(&enc).expect("decodes");
        for val in all_values(doc.root()) {
            *seen.entry(format!("{:?}", val.kind())).or_insert(0usize) += 1;
        }
    }
    for kind in ["Int", "Bytes", "List", "Dict"] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 10,
            "{kind}: {seen:?}"
        );
    }
}
