#![cfg(feature = "serde")]
//! The owned tree [`Bencode`] through serde: `from_bytes::<Bencode>` gives
//! what the tape decoder's `to_bencode` gives (values, errors, lenient
//! duplicates, big integers) on the whole conformance corpus, borrows from
//! the input, works as a struct field and round trips through `to_vec`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bip_bencode::serde::{from_bytes, from_bytes_lenient, from_bytes_with, from_value, to_vec};
use bip_bencode::{ben_list, ben_map, Bencode, DecodeErrorKind, Decoder, Limits, Mode};
use serde::{Deserialize, Serialize};

fn corpus() -> Vec<serde_json::Value> {
    // Some cases nest deeper than serde_json's default recursion limit.
    let mut de =
        serde_json::Deserializer::from_str(include_str!("../../testdata/bencode/cases.json"));
    de.disable_recursion_limit();
    let cases = serde_json::Value::deserialize(&mut de).unwrap();
    cases.as_array().unwrap().clone()
}

/// Every byte string and key of `v` borrows from the input.
fn all_borrowed(v: &Bencode) -> bool {
    match v {
        Bencode::Int(_) => true,
        Bencode::BigInt(d) | Bencode::Bytes(d) => matches!(d, Cow::Borrowed(_)),
        Bencode::List(l) => l.iter().all(all_borrowed),
        Bencode::Dict(d) => d
            .iter()
            .all(|(k, v)| matches!(k, Cow::Borrowed(_)) && all_borrowed(v)),
    }
}

/// The decoders each case is tried with: both modes, at the default integer
/// width and with wide integers, plus the case's own limits if it has any.
fn decoders(case: &serde_json::Value) -> Vec<Decoder> {
    let mut out = Vec::new();
    for mode in [Mode::Strict, Mode::Lenient] {
        out.push(Decoder::new().mode(mode));
        out.push(Decoder::new().mode(mode).max_int_digits(100));
        if let Some(l) = case.get("limits") {
            let mut limits = Limits::default();
            if let Some(d) = l.get("max_depth").and_then(|d| d.as_u64()) {
                limits.max_depth = d as usize;
            }
            if let Some(m) = l.get("max_items").and_then(|m| m.as_u64()) {
                limits.max_items = m as usize;
            }
            out.push(Decoder::new().mode(mode).limits(limits));
        }
    }
    out
}

#[test]
fn agrees_with_to_bencode_on_corpus() {
    let cases = corpus();
    assert!(cases.len() > 100);
    let (mut ok, mut big, mut err) = (0, 0, 0);
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let input = hex::decode(c["input_hex"].as_str().unwrap()).unwrap();
        for dec in decoders(c) {
            let what = format!("{name} {:?} {:?}", dec.get_mode(), dec.get_limits());
            let tape = dec.clone().decode(&input);
            let serde = from_bytes_with::<Bencode>(&dec, &input);
            match (&tape, &serde) {
                (Ok(doc), Ok(tree)) => {
                    let want = doc.root().to_bencode();
                    assert_eq!(tree, &want, "{what}");
                    assert!(all_borrowed(tree), "{what}");
                    // The tape-backed deserializer gives the same tree.
                    let from_tape: Bencode = from_value(doc.root()).unwrap();
                    assert_eq!(from_tape, want, "{what}");
                    // Encoding is canonical: strict decoding accepts it, and
                    // valid (canonical) input comes back byte for byte.
                    let enc = to_vec(tree).unwrap();
                    let back =
                        from_bytes_with::<Bencode>(&Decoder::new().max_int_digits(100), &enc)
                            .unwrap_or_else(|e| panic!("{what}: re-encoding not canonical: {e}"));
                    if c["valid"] == true {
                        assert_eq!(enc, input, "{what}");
                        assert_eq!(&back, tree, "{what}");
                    }
                    if matches!(tree, Bencode::BigInt(_)) {
                        big += 1;
                    }
                    ok += 1;
                }
                (Err(t), Err(s)) => {
                    assert_eq!(Some(t), s.as_decode(), "{what}");
                    err += 1;
                }
                _ => panic!("{what}: tape {:?} serde {serde:?}", tape.as_ref().map(drop)),
            }
        }
    }
    assert!(ok > 200 && err > 200 && big > 0, "{ok} {err} {big}");
}

#[test]
fn lenient_duplicate_keys_keep_the_first_value() {
    let input = b"d1:bli1ee1:ai1e1:ald1:xi2eee1:ai3ee";
    let tree: Bencode = from_bytes_lenient(input).unwrap();
    let tape = Decoder::lenient().decode(input).unwrap();
    assert_eq!(tree, tape.root().to_bencode());
    assert_eq!(tree.get(b"a"), Some(&Bencode::Int(1)));
    assert_eq!(to_vec(&tree).unwrap(), b"d1:ai1e1:bli1eee");
    // Strict mode rejects the duplicate where the tape decoder does.
    let err = from_bytes::<Bencode>(input).unwrap_err();
    assert_eq!(err.as_decode().unwrap().kind, DecodeErrorKind::UnsortedKeys);
    let err = from_bytes::<Bencode>(b"d1:ai1e1:ai2ee").unwrap_err();
    assert_eq!(err.as_decode().unwrap().kind, DecodeErrorKind::DuplicateKey);
    assert_eq!(err.offset(), Some(7));
}

#[test]
fn integers_beyond_i64() {
    let wide = Decoder::new().max_int_digits(40);
    let lenient_wide = Decoder::lenient().max_int_digits(40);
    for (dec, input, digits, canonical) in [
        (&wide, &b"i9223372036854775807e"[..], None, None),
        (&wide, &b"i-9223372036854775808e"[..], None, None),
        (
            &wide,
            &b"i9223372036854775808e"[..],
            Some("9223372036854775808"),
            None,
        ),
        (
            &wide,
            &b"i18446744073709551616e"[..],
            Some("18446744073709551616"),
            None,
        ),
        (
            &wide,
            &b"i-9223372036854775809e"[..],
            Some("-9223372036854775809"),
            None,
        ),
        (
            &wide,
            &b"i-123456789012345678901234567890123456789e"[..],
            Some("-123456789012345678901234567890123456789"),
            None,
        ),
        (
            &lenient_wide,
            &b"i000123456789012345678901234e"[..],
            Some("000123456789012345678901234"),
            Some(&b"i123456789012345678901234e"[..]),
        ),
    ] {
        let tree: Bencode = from_bytes_with(dec, input).unwrap();
        let tape = dec.clone().decode(input).unwrap().root().to_bencode();
        assert_eq!(tree, tape, "{}", input.escape_ascii());
        match digits {
            None => assert!(matches!(tree, Bencode::Int(_))),
            Some(d) => assert_eq!(tree, Bencode::BigInt(Cow::Borrowed(d.as_bytes()))),
        }
        assert_eq!(to_vec(&tree).unwrap(), canonical.unwrap_or(input));
    }
    // At the default width, the same error as the tape decoder.
    for input in [&b"i9223372036854775808e"[..], b"li-9223372036854775809ee"] {
        let t = Decoder::new().decode(input).unwrap_err();
        let s = from_bytes::<Bencode>(input).unwrap_err();
        assert_eq!(s.as_decode(), Some(&t));
        assert_eq!(t.kind, DecodeErrorKind::IntOverflow);
    }
    // Encoding big integers: exact whatever their size, canonical form.
    for (digits, want) in [
        (
            "170141183460469231731687303715884105728",
            "i170141183460469231731687303715884105728e",
        ),
        ("-0", "i0e"),
        ("-000", "i0e"),
        ("0042", "i42e"),
        (
            "-1234567890123456789012345678901234567890123456789",
            "i-1234567890123456789012345678901234567890123456789e",
        ),
        (
            "0001234567890123456789012345678901234567890123456789",
            "i1234567890123456789012345678901234567890123456789e",
        ),
    ] {
        let v = Bencode::BigInt(Cow::Borrowed(digits.as_bytes()));
        assert_eq!(to_vec(&v).unwrap(), want.as_bytes(), "{digits}");
    }
    for bad in ["", "-", "12a", "1 2", "+1"] {
        let v = Bencode::BigInt(Cow::Borrowed(bad.as_bytes()));
        assert!(to_vec(&v).is_err(), "{bad:?}");
        assert!(to_vec(&ben_list![v]).is_err(), "{bad:?}");
    }
}

#[test]
fn byte_strings_borrow_from_the_input() {
    let input = b"d4:infod4:name4:\xc3\xa9t\xc36:pieces4:\xff\x00\xfe\x01e4:listl0:3:abcee";
    let tree: Bencode = from_bytes(input).unwrap();
    assert!(all_borrowed(&tree));
    let info = tree.get(b"info").unwrap();
    // Not UTF-8: still bytes, untouched.
    assert_eq!(
        info.get(b"pieces"),
        Some(&Bencode::Bytes(Cow::Borrowed(b"\xff\x00\xfe\x01")))
    );
    assert_eq!(
        info.get(b"name").unwrap().as_bytes(),
        Some(&b"\xc3\xa9t\xc3"[..])
    );
    match info.get(b"pieces") {
        Some(Bencode::Bytes(Cow::Borrowed(b))) => {
            let at = input.windows(4).position(|w| w == b"\xff\x00\xfe\x01");
            assert_eq!(b.as_ptr(), input[at.unwrap()..].as_ptr());
        }
        other => panic!("{other:?}"),
    }
    // `into_owned` detaches it.
    let owned: Bencode<'static> = tree.clone().into_owned();
    assert_eq!(owned, tree);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Msg<'a> {
    #[serde(borrow)]
    a: Bencode<'a>,
    q: &'a str,
    #[serde(with = "bip_bencode::serde::bytes")]
    t: &'a [u8],
    #[serde(borrow, default)]
    extra: Option<Bencode<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    list: Vec<Bencode<'a>>,
}

#[test]
fn struct_with_bencode_fields() {
    let input: &[u8] = b"d1:ad2:id3:\xff\x00x6:targetli1ei-2ee1:zd0:0:ee1:q9:find_node1:t2:aae";
    let m: Msg = from_bytes(input).unwrap();
    assert_eq!(m.q, "find_node");
    assert_eq!(m.extra, None);
    assert_eq!(
        m.a,
        ben_map! {
            "id" => &b"\xff\x00x"[..],
            "target" => ben_list![1, -2],
            "z" => ben_map! { "" => "" },
        }
    );
    assert!(all_borrowed(&m.a));
    assert_eq!(to_vec(&m).unwrap(), input);

    let input: &[u8] = b"d1:ai7e5:extral1:xe4:listli1e1:ydee1:q0:1:t0:e";
    let m: Msg = from_bytes(input).unwrap();
    assert_eq!(m.a, Bencode::Int(7));
    assert_eq!(m.extra, Some(ben_list!["x"]));
    assert_eq!(
        m.list,
        vec![
            Bencode::Int(1),
            Bencode::from("y"),
            Bencode::Dict(BTreeMap::new())
        ]
    );
    assert_eq!(to_vec(&m).unwrap(), input);
    // Errors inside a `Bencode` field keep their offsets.
    let err = from_bytes::<Msg>(b"d1:ali1ei02ee1:q0:1:t0:e").unwrap_err();
    assert_eq!(err.as_decode().unwrap().kind, DecodeErrorKind::LeadingZero);
    assert_eq!(err.offset(), Some(8));
}

#[test]
fn round_trip_canonical_input() {
    let input: &[u8] = b"d8:announce3:url13:creation datei-5e4:infod5:filesld6:lengthi5e4:pathl1:a1:beee4:name1:x6:pieces3:\x00\x01\x02ee";
    let tree: Bencode = from_bytes(input).unwrap();
    assert_eq!(
        tree,
        bip_bencode::decode(input).unwrap().root().to_bencode()
    );
    assert_eq!(to_vec(&tree).unwrap(), input);
    assert_eq!(tree.encode(), input);
    // Built by hand, keys inserted in any order.
    let built = ben_map! { "b" => ben_list![ben_map! {}, ben_list![]], "a" => 0, "" => "" };
    let enc = to_vec(&built).unwrap();
    assert_eq!(enc, built.encode());
    assert_eq!(from_bytes::<Bencode>(&enc).unwrap(), built);
}

#[test]
fn deep_nesting_up_to_the_limit() {
    let depth = Limits::DEFAULT_MAX_DEPTH;
    // `depth` containers: lists, or dictionaries around one empty list.
    for open in [&b"l"[..], &b"d1:k"[..]] {
        let close = &b"e"[..];
        let mut input = open.repeat(depth - 1);
        input.extend_from_slice(b"le");
        input.extend_from_slice(&close.repeat(depth - 1));
        let tree: Bencode = from_bytes(&input).unwrap();
        assert_eq!(
            tree,
            bip_bencode::decode(&input).unwrap().root().to_bencode()
        );
        assert_eq!(to_vec(&tree).unwrap(), input);
        let mut deeper = open.to_vec();
        deeper.extend_from_slice(&input);
        deeper.extend_from_slice(close);
        let err = from_bytes::<Bencode>(&deeper).unwrap_err();
        assert_eq!(err.as_decode().unwrap().kind, DecodeErrorKind::DepthLimit);
    }
}

#[test]
fn other_formats() {
    // A self-describing format that does not know the private token: any
    // value through `deserialize_any`, strings borrowed when it lends them.
    let json = r#"{"b":[1,"x",true,18446744073709551615],"a":{"k":"v\n"}}"#;
    let tree: Bencode = serde_json::from_str(json).unwrap();
    assert_eq!(
        tree,
        ben_map! {
            "a" => ben_map! { "k" => "v\n" },
            "b" => ben_list![
                1,
                "x",
                1,
                Bencode::BigInt(Cow::Borrowed(b"18446744073709551615")),
            ],
        }
    );
    assert!(matches!(
        tree.get(b"b").unwrap().as_list().unwrap()[1],
        Bencode::Bytes(Cow::Borrowed(_))
    ));
    assert!(matches!(
        tree.get(b"a").unwrap().get(b"k"),
        Some(Bencode::Bytes(Cow::Owned(_)))
    ));
    assert!(serde_json::from_str::<Bencode>("null").is_err());
    assert!(serde_json::from_str::<Bencode>("1.5").is_err());
    // Encoding into another format: integers as integers, big ones beyond
    // 128 bits as their digits.
    let v = ben_list![
        5,
        Bencode::BigInt(Cow::Borrowed(b"18446744073709551616")),
        Bencode::BigInt(Cow::Borrowed(
            b"1234567890123456789012345678901234567890123"
        )),
    ];
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"[5,18446744073709551616,"1234567890123456789012345678901234567890123"]"#
    );
}
