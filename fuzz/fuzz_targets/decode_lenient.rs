//! Lenient decoding of arbitrary bytes.
//!
//! Properties: decoding never panics; every value of an accepted document can
//! be navigated (kind, raw span, integer and byte accessors, dictionary
//! lookups of each of its keys) without panicking, and each value's raw span
//! re-decodes (leniently) to a value of the same kind; a document without soft
//! faults is canonical: strict mode accepts it too and it re-encodes to the
//! identical bytes.
#![no_main]

use bip_bencode::{Decoder, Kind, Value};
use libfuzzer_sys::fuzz_target;

/// Visit every value without recursion (an explicit stack), checking accessors.
fn walk(root: Value<'_, '_>, input: &[u8]) {
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        let raw = v.raw();
        let span = v.span();
        assert_eq!(&input[span.clone()], raw);
        assert_eq!(v.offset(), span.start);
        assert!(!raw.is_empty());
        match v.kind() {
            Kind::Int => {
                assert!(v.int_digits().is_some());
                assert!(v.as_bytes().is_none());
                // With default limits every accepted integer fits in i64.
                assert!(v.as_int().is_some(), "integer outside i64 accepted");
                assert_eq!(raw[0], b'i');
            }
            Kind::Bytes => {
                let b = v.as_bytes().expect("byte string has bytes");
                assert!(raw.ends_with(b));
                assert!(v.as_int().is_none());
            }
            Kind::List => {
                let l = v.as_list().expect("list");
                assert_eq!(raw[0], b'l');
                assert_eq!(l.is_empty(), l.iter().next().is_none());
                stack.extend(l.iter());
            }
            Kind::Dict => {
                let d = v.as_dict().expect("dict");
                assert_eq!(raw[0], b'd');
                for (k, val) in d.iter() {
                    let got = d.get(k).expect("dict get of an existing key");
                    // Duplicate keys: `get` returns the first occurrence.
                    assert!(got.offset() <= val.offset());
                    stack.push(val);
                }
                for (k, _) in d.entries() {
                    assert_eq!(k.kind(), Kind::Bytes);
                }
            }
        }
        // Each value's span is a complete value on its own (checked for
        // small values only, so deep documents stay fast to fuzz).
        if raw.len() <= 256 {
            let sub = Decoder::lenient().decode(raw).expect("span re-decodes");
            assert_eq!(sub.root().kind(), v.kind());
            assert_eq!(sub.root().raw(), raw);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut dec = Decoder::lenient();
    let Ok(doc) = dec.decode(data) else {
        // Lenient accepts a superset of strict.
        assert!(
            Decoder::new().decode(data).is_err(),
            "strict accepted what lenient rejected"
        );
        return;
    };
    let root = doc.root();
    assert_eq!(root.raw(), data);
    walk(root, data);
    let strict = Decoder::new().decode(data);
    if doc.soft_faults().is_empty() {
        assert!(
            strict.is_ok(),
            "no soft faults but strict rejected: {strict:?}"
        );
        assert_eq!(
            root.to_bencode().encode(),
            data,
            "canonical input re-encodes differently"
        );
    } else {
        let first = doc.soft_faults()[0];
        let err = strict.expect_err("soft faults but strict accepted");
        // Strict mode stops at the first deviation, with the matching error.
        assert_eq!(err.kind, first.kind.as_error_kind());
        assert_eq!(err.offset, first.offset);
    }
});
