//! Every case of the shared bencode conformance corpus (`testdata/bencode/cases.json`),
//! as its README prescribes:
//! - valid cases decode (strict and lenient) to `decoded` and re-encode to the input;
//! - `hard` invalid cases are rejected in both modes;
//! - `canonical` cases are rejected in strict mode and give `lenient_decoded`
//!   (entries in input order) with a soft fault in lenient mode;
//! - `limit` cases are rejected with their limit and accepted without it
//!   (`int_overflow`: rejected at the default `i64` width, accepted as a big
//!   integer with a wider one).

use bip_bencode::{Bencode, DecodeErrorKind, Decoder, Kind, Value};
use serde_json::Value as J;

const CASES: &str = include_str!("../../testdata/bencode/cases.json");

fn input(c: &J) -> Vec<u8> {
    hex::decode(c["input_hex"].as_str().unwrap()).unwrap()
}

/// Compare a decoded value with the corpus's typed JSON form, entries in input order.
fn check(v: Value<'_, '_>, j: &J, name: &str) {
    let (tag, body) = j.as_object().unwrap().iter().next().unwrap();
    match tag.as_str() {
        "i" => {
            let want = body.as_str().unwrap();
            assert_eq!(v.kind(), Kind::Int, "{name}");
            match v.as_int() {
                Some(i) => assert_eq!(i.to_string(), want, "{name}"),
                None => {
                    let digits = std::str::from_utf8(v.int_digits().unwrap()).unwrap();
                    assert_eq!(digits.trim_start_matches('0'), want, "{name}");
                }
            }
        }
        "b" => assert_eq!(
            hex::encode(v.as_bytes().unwrap_or_else(|| panic!("{name}: not bytes"))),
            body.as_str().unwrap(),
            "{name}"
        ),
        "l" => {
            let items: Vec<_> = v.as_list().unwrap().iter().collect();
            let want = body.as_array().unwrap();
            assert_eq!(items.len(), want.len(), "{name}");
            for (a, b) in items.into_iter().zip(want) {
                check(a, b, name);
            }
        }
        "d" => {
            let items: Vec<_> = v.as_dict().unwrap().iter().collect();
            let want = body.as_array().unwrap();
            assert_eq!(items.len(), want.len(), "{name}");
            for ((k, val), w) in items.into_iter().zip(want) {
                assert_eq!(hex::encode(k), w[0].as_str().unwrap(), "{name}");
                check(val, &w[1], name);
            }
        }
        t => panic!("unknown tag {t}"),
    }
}

/// Build an owned value from the typed JSON form.
fn build(j: &J) -> Bencode<'static> {
    let (tag, body) = j.as_object().unwrap().iter().next().unwrap();
    match tag.as_str() {
        "i" => Bencode::Int(body.as_str().unwrap().parse().unwrap()),
        "b" => Bencode::from(hex::decode(body.as_str().unwrap()).unwrap()),
        "l" => Bencode::List(body.as_array().unwrap().iter().map(build).collect()),
        "d" => Bencode::Dict(
            body.as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        hex::decode(e[0].as_str().unwrap()).unwrap().into(),
                        build(&e[1]),
                    )
                })
                .collect(),
        ),
        t => panic!("unknown tag {t}"),
    }
}

fn cases() -> Vec<J> {
    // Some cases nest deeper than serde_json's default recursion limit.
    let mut de = serde_json::Deserializer::from_str(CASES);
    de.disable_recursion_limit();
    let v: J = serde::Deserialize::deserialize(&mut de).unwrap();
    v.as_array().unwrap().clone()
}

#[test]
fn corpus_has_every_case() {
    assert_eq!(cases().len(), 219);
}

#[test]
fn valid_cases_decode_and_round_trip() {
    let mut n = 0;
    for c in cases().iter().filter(|c| c["valid"] == true) {
        let name = c["name"].as_str().unwrap();
        let bytes = input(c);
        for mut dec in [Decoder::new(), Decoder::lenient()] {
            let doc = dec.decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            check(doc.root(), &c["decoded"], name);
            assert!(doc.soft_faults().is_empty(), "{name}");
            assert_eq!(doc.root().raw(), &bytes[..], "{name}");
            assert_eq!(doc.root().to_bencode().encode(), bytes, "{name}");
        }
        assert_eq!(build(&c["decoded"]).encode(), bytes, "{name}: encode");
        n += 1;
    }
    assert_eq!(n, 75);
}

#[test]
fn hard_cases_are_rejected_in_both_modes() {
    let mut n = 0;
    for c in cases().iter().filter(|c| c["strictness"] == "hard") {
        let name = c["name"].as_str().unwrap();
        let bytes = input(c);
        for mut dec in [Decoder::new(), Decoder::lenient()] {
            let r = dec.decode(&bytes);
            assert!(
                r.is_err(),
                "{name}: accepted {:?}",
                r.map(|d| d.root().raw().len())
            );
        }
        n += 1;
    }
    assert_eq!(n, 105);
}

#[test]
fn hard_case_reasons_map_onto_error_kinds() {
    use DecodeErrorKind as K;
    let mut bad = 0;
    for c in cases().iter().filter(|c| c["strictness"] == "hard") {
        let name = c["name"].as_str().unwrap();
        let err = Decoder::new().decode(&input(c)).unwrap_err();
        let ok = match c["reason"].as_str().unwrap() {
            "empty_input" => matches!(err.kind, K::EmptyInput),
            "trailing_data" => matches!(err.kind, K::TrailingData),
            "unterminated" => matches!(err.kind, K::Unterminated),
            "non_string_key" => matches!(err.kind, K::NonStringKey),
            // Strict mode checks key order before it finds the key has no value.
            "missing_value" => matches!(
                err.kind,
                K::MissingValue | K::UnexpectedChar(_) | K::DuplicateKey | K::UnsortedKeys
            ),
            // Lengths beyond 32 bits are reported as overflow before the end is reached.
            "length_past_end" => matches!(
                err.kind,
                K::LengthPastEnd | K::Unterminated | K::LengthOverflow
            ),
            "length_overflow" => matches!(err.kind, K::LengthOverflow | K::LengthPastEnd),
            "invalid_length" => matches!(err.kind, K::InvalidLength | K::UnexpectedChar(_)),
            "invalid_int" => matches!(err.kind, K::InvalidInt | K::Unterminated),
            "unexpected_char" => matches!(
                err.kind,
                K::UnexpectedChar(_) | K::InvalidLength | K::Unterminated
            ),
            _ => true,
        };
        if !ok {
            eprintln!(
                "MISMATCH {name}: reason {} off {} but got {err} input {:?}",
                c["reason"], c["error_offset"], c["input_ascii"]
            );
            bad += 1;
        }
    }
    assert_eq!(bad, 0);
}

#[test]
fn canonical_cases_strict_rejects_lenient_accepts() {
    let mut n = 0;
    for c in cases().iter().filter(|c| c["strictness"] == "canonical") {
        let name = c["name"].as_str().unwrap();
        let bytes = input(c);
        let err = Decoder::new()
            .decode(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{name}: strict accepted"));
        if let Some(off) = c["error_offset"].as_u64() {
            // Offsets are advisory; ours point at the offending key or value.
            assert!(err.offset <= bytes.len(), "{name}: {err} vs {off}");
        }
        let doc = Decoder::lenient()
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{name}: lenient rejected: {e}"));
        check(doc.root(), &c["lenient_decoded"], name);
        assert!(doc.has_soft_fault(), "{name}: no soft fault recorded");
        assert_eq!(
            doc.soft_faults()[0].kind.as_error_kind(),
            err.kind,
            "{name}"
        );
        n += 1;
    }
    assert_eq!(n, 31);
}

#[test]
fn limit_cases_reject_exactly_under_their_limit() {
    let mut n = 0;
    for c in cases().iter().filter(|c| c["strictness"] == "limit") {
        let name = c["name"].as_str().unwrap();
        let bytes = input(c);
        match c["reason"].as_str().unwrap() {
            "depth_limit" => {
                let d = c["limits"]["max_depth"].as_u64().unwrap() as usize;
                let e = Decoder::new().max_depth(d).decode(&bytes).unwrap_err();
                assert_eq!(e.kind, DecodeErrorKind::DepthLimit, "{name}");
                assert_eq!(e.offset as u64, c["error_offset"].as_u64().unwrap());
                Decoder::new()
                    .max_depth(usize::MAX)
                    .decode(&bytes)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            "item_limit" => {
                let m = c["limits"]["max_items"].as_u64().unwrap() as usize;
                let e = Decoder::new().max_items(m).decode(&bytes).unwrap_err();
                assert_eq!(e.kind, DecodeErrorKind::ItemLimit, "{name}");
                Decoder::new()
                    .decode(&bytes)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            "int_overflow" => {
                for mut dec in [Decoder::new(), Decoder::lenient()] {
                    let e = dec.decode(&bytes).unwrap_err();
                    assert_eq!(e.kind, DecodeErrorKind::IntOverflow, "{name}");
                }
                let mut wide = Decoder::new().max_int_digits(100);
                let doc = wide
                    .decode(&bytes)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(doc.root().as_int(), None);
                check(doc.root(), &c["bigint_decoded"], name);
                assert_eq!(doc.root().to_bencode().encode(), bytes);
            }
            r => panic!("{name}: unknown limit reason {r}"),
        }
        n += 1;
    }
    assert_eq!(n, 8);
}
