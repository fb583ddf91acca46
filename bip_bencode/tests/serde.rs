#![cfg(feature = "serde")]
//! Typed decode/encode through serde: torrent- and KRPC-shaped structs, raw
//! spans, canonical output, strict/lenient rules, limits, truncation and a
//! property round trip; the serde decoder agrees with the tape decoder on the
//! whole conformance corpus.

use std::collections::BTreeMap;

use bip_bencode::serde::{
    bytes, from_bytes, from_bytes_lenient, from_bytes_with, from_value, to_vec, to_writer,
    Deserializer, Error,
};
use bip_bencode::{decode, DecodeErrorKind, Decoder, Mode, RawValue};
use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- helpers

use bip_util::sha1;

fn kind(e: &Error) -> DecodeErrorKind {
    e.as_decode()
        .unwrap_or_else(|| panic!("not a decode error: {e}"))
        .kind
}

fn bstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{}:", s.len()).as_bytes());
    out.extend_from_slice(s);
}

// ---------------------------------------------------------------- torrent

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File<'a> {
    length: u64,
    #[serde(borrow)]
    path: Vec<&'a str>,
    #[serde(with = "bytes", borrow, default)]
    md5sum: Option<&'a [u8]>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Info<'a> {
    // Deliberately not in key order.
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: u32,
    #[serde(with = "bytes", borrow)]
    pieces: &'a [u8],
    #[serde(borrow)]
    files: Option<Vec<File<'a>>>,
    length: Option<u64>,
    private: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Torrent<'a> {
    announce: Option<&'a str>,
    #[serde(rename = "announce-list", borrow)]
    announce_list: Option<Vec<Vec<&'a str>>>,
    #[serde(rename = "creation date")]
    creation_date: Option<i64>,
    comment: Option<String>,
    #[serde(borrow)]
    info: RawValue<'a>,
}

/// A multi-file torrent in canonical form, built by hand.
fn torrent_bytes(files: usize) -> Vec<u8> {
    let mut info = b"d5:filesl".to_vec();
    for i in 0..files {
        info.extend_from_slice(b"d6:length");
        info.extend_from_slice(format!("i{}e", 1000 + i).as_bytes());
        info.extend_from_slice(b"4:pathl3:dir");
        bstr(&mut info, format!("file{i}.bin").as_bytes());
        info.extend_from_slice(b"ee");
    }
    info.extend_from_slice(b"e4:name4:test12:piece lengthi16384e6:pieces");
    let pieces: Vec<u8> = (0..60u8).map(|b| b.wrapping_mul(37)).collect();
    bstr(&mut info, &pieces);
    info.extend_from_slice(b"7:privatei1ee");
    let mut t = b"d8:announce".to_vec();
    bstr(&mut t, b"http://t.example/ann");
    t.extend_from_slice(b"13:announce-listll");
    bstr(&mut t, b"http://t.example/ann");
    t.extend_from_slice(b"el3:udpee7:comment2:hi13:creation datei1700000000e4:info");
    t.extend_from_slice(&info);
    t.push(b'e');
    t
}

#[test]
fn torrent_typed_decode_and_raw_info() {
    let input = torrent_bytes(3);
    assert!(decode(&input).is_ok(), "fixture must be canonical");
    let t: Torrent = from_bytes(&input).unwrap();
    assert_eq!(t.announce, Some("http://t.example/ann"));
    assert_eq!(
        t.announce_list,
        Some(vec![vec!["http://t.example/ann"], vec!["udp"]])
    );
    assert_eq!(t.creation_date, Some(1_700_000_000));
    assert_eq!(t.comment.as_deref(), Some("hi"));

    // The raw info span is exactly the bytes after `4:info` up to the final `e`.
    let at = input.windows(6).position(|w| w == b"4:info").unwrap() + 6;
    let span = &input[at..input.len() - 1];
    assert_eq!(t.info.as_bytes(), span);
    assert!(std::ptr::eq(t.info.as_bytes().as_ptr(), span.as_ptr()));
    // Same span as the tape decoder's raw(), same hash.
    let doc = decode(&input).unwrap();
    let tape_info = doc.root().get(b"info").unwrap().raw();
    assert_eq!(sha1(t.info.as_bytes()), sha1(tape_info));
    assert_eq!(sha1(t.info.as_bytes()), sha1(span));

    let info: Info = t.info.decode().unwrap();
    assert_eq!(info.name, "test");
    assert_eq!(info.piece_length, 16384);
    assert_eq!(info.pieces.len(), 60);
    assert_eq!(info.private, Some(true));
    assert_eq!(info.length, None);
    let files = info.files.as_ref().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[2].length, 1002);
    assert_eq!(files[2].path, vec!["dir", "file2.bin"]);
    assert_eq!(files[0].md5sum, None);
    // pieces borrows from the input.
    let p = info.pieces.as_ptr() as usize;
    let r = input.as_ptr_range();
    assert!(p >= r.start as usize && p < r.end as usize);

    // Round trips: info and the whole torrent re-encode byte for byte.
    assert_eq!(to_vec(&info).unwrap(), span);
    assert_eq!(to_vec(&t).unwrap(), input);
    let mut w = Vec::new();
    to_writer(&mut w, &t).unwrap();
    assert_eq!(w, input);
}

#[test]
fn torrent_with_many_files() {
    let input = torrent_bytes(5000);
    let t: Torrent = from_bytes(&input).unwrap();
    let info: Info = t.info.decode().unwrap();
    assert_eq!(info.files.as_ref().unwrap().len(), 5000);
    assert_eq!(to_vec(&t).unwrap(), input);
    // from_value over the tape gives the same result.
    let doc = decode(&input).unwrap();
    let info2: Info = from_value(doc.root().get(b"info").unwrap()).unwrap();
    assert_eq!(info2, info);
}

#[test]
fn from_value_raw_and_errors() {
    let input = torrent_bytes(1);
    let doc = decode(&input).unwrap();
    let t: Torrent = from_value(doc.root()).unwrap();
    assert_eq!(t.info.as_bytes(), doc.root().get(b"info").unwrap().raw());
    let err = from_value::<Info>(doc.root()).unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
    assert_eq!(err.offset(), Some(0));
}

// ---------------------------------------------------------------- KRPC

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Args<'a> {
    #[serde(with = "bytes")]
    id: [u8; 20],
    #[serde(with = "bytes", default)]
    target: Option<[u8; 20]>,
    #[serde(with = "bytes", default)]
    info_hash: Option<[u8; 20]>,
    #[serde(with = "bytes", borrow, default)]
    token: Option<&'a [u8]>,
    port: Option<u16>,
    implied_port: Option<bool>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Resp<'a> {
    #[serde(with = "bytes")]
    id: [u8; 20],
    #[serde(with = "bytes", borrow, default)]
    nodes: Option<&'a [u8]>,
    #[serde(with = "bytes", borrow, default)]
    values: Option<Vec<&'a [u8]>>,
    #[serde(with = "bytes", borrow, default)]
    token: Option<&'a [u8]>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Krpc<'a> {
    #[serde(with = "bytes", borrow)]
    t: &'a [u8],
    y: &'a str,
    q: Option<&'a str>,
    #[serde(borrow)]
    a: Option<Args<'a>>,
    #[serde(borrow)]
    r: Option<Resp<'a>>,
    e: Option<(i64, String)>,
    #[serde(with = "bytes", borrow, default)]
    v: Option<&'a [u8]>,
    #[serde(skip_serializing, default)]
    ip: Option<IgnoredAny>,
}

#[test]
fn krpc_messages() {
    let q = b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
    let m: Krpc = from_bytes(q).unwrap();
    assert_eq!(m.y, "q");
    assert_eq!(m.q, Some("find_node"));
    assert_eq!(m.t, b"aa");
    let a = m.a.as_ref().unwrap();
    assert_eq!(&a.id, b"abcdefghij0123456789");
    assert_eq!(a.target.as_ref(), Some(b"mnopqrstuvwxyz123456"));
    assert!(m.r.is_none() && m.e.is_none());
    assert_eq!(to_vec(&m).unwrap(), q);

    let r = b"d1:rd2:id20:0123456789abcdefghij5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    let m: Krpc = from_bytes(r).unwrap();
    let resp = m.r.as_ref().unwrap();
    assert_eq!(resp.token, Some(&b"aoeusnth"[..]));
    assert_eq!(
        resp.values.as_ref().unwrap(),
        &vec![&b"axje.u"[..], b"idhtnm"]
    );
    assert_eq!(to_vec(&m).unwrap(), r);

    let e = b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
    let m: Krpc = from_bytes(e).unwrap();
    assert_eq!(m.e, Some((201, "A Generic Error Ocurred".to_string())));
    assert_eq!(to_vec(&m).unwrap(), e);

    // Unknown keys (here a nested one) are skipped; `ip` is ignored.
    let x = b"d1:ad2:id20:abcdefghij01234567895:xtrald1:xi1eee1:q4:ping1:t2:aa1:y1:qe";
    let m: Krpc = from_bytes(x).unwrap();
    assert_eq!(m.q, Some("ping"));
    // A 19-byte id is a typed error, not a panic.
    let bad = b"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe";
    let err = from_bytes::<Krpc>(bad).unwrap_err();
    assert!(matches!(err, Error::Custom(_)), "{err}");
}

// ---------------------------------------------------------------- encoding

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Unsorted {
    zeta: u8,
    alpha: Option<i32>,
    #[serde(rename = "b")]
    beta: Vec<String>,
    a: bool,
}

#[test]
fn struct_keys_sorted_and_none_omitted() {
    let v = Unsorted {
        zeta: 1,
        alpha: Some(-2),
        beta: vec!["x".into()],
        a: false,
    };
    let out = to_vec(&v).unwrap();
    assert_eq!(out, b"d1:ai0e5:alphai-2e1:bl1:xe4:zetai1ee");
    assert!(decode(&out).is_ok());
    assert_eq!(from_bytes::<Unsorted>(&out).unwrap(), v);

    let v = Unsorted { alpha: None, ..v };
    let out = to_vec(&v).unwrap();
    assert_eq!(out, b"d1:ai0e1:bl1:xe4:zetai1ee");
    assert_eq!(from_bytes::<Unsorted>(&out).unwrap(), v);
}

#[test]
fn maps_enums_and_primitives() {
    let mut m = std::collections::HashMap::new();
    m.insert("b".to_string(), Some(2u8));
    m.insert("a".to_string(), Some(1));
    m.insert("c".to_string(), None);
    assert_eq!(to_vec(&m).unwrap(), b"d1:ai1e1:bi2ee");
    let back: BTreeMap<&str, u8> = from_bytes(b"d1:ai1e1:bi2ee").unwrap();
    assert_eq!(back.len(), 2);
    // Integer keys are decimal strings.
    let mut im = BTreeMap::new();
    im.insert(10u32, "x");
    im.insert(9u32, "y");
    let out = to_vec(&im).unwrap();
    assert_eq!(out, b"d2:101:x1:91:ye");
    assert_eq!(from_bytes::<BTreeMap<u32, &str>>(&out).unwrap(), im);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum E {
        Unit,
        New(u8),
        Tup(u8, String),
        St { x: i8 },
    }
    for (v, enc) in [
        (E::Unit, &b"4:Unit"[..]),
        (E::New(5), b"d3:Newi5ee"),
        (E::Tup(1, "s".into()), b"d3:Tupli1e1:see"),
        (E::St { x: -1 }, b"d2:Std1:xi-1eee"),
    ] {
        assert_eq!(to_vec(&v).unwrap(), enc);
        assert_eq!(from_bytes::<E>(enc).unwrap(), v);
    }
    assert!(from_bytes::<E>(b"4:Nope").is_err());

    assert_eq!(to_vec(&true).unwrap(), b"i1e");
    assert!(!from_bytes::<bool>(b"i0e").unwrap());
    assert!(from_bytes::<bool>(b"i2e").is_err());
    assert_eq!(to_vec(&'é').unwrap(), "2:é".as_bytes());
    assert_eq!(from_bytes::<char>("2:é".as_bytes()).unwrap(), 'é');
    assert_eq!(to_vec(&()).unwrap(), b"le");
    assert_eq!(to_vec(&(1u8, "a")).unwrap(), b"li1e1:ae");
    assert_eq!(to_vec(&u64::MAX).unwrap(), b"i18446744073709551615e");
    assert!(matches!(to_vec(&1.5f64), Err(Error::Unsupported(_))));
    assert!(matches!(
        from_bytes::<f64>(b"i1e"),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(to_vec(&None::<u8>), Err(Error::Unsupported(_))));
    assert!(matches!(
        to_vec(&vec![Some(1), None]),
        Err(Error::Unsupported(_))
    ));
    let mut bad = BTreeMap::new();
    bad.insert(vec![1u8], 1);
    assert!(matches!(to_vec(&bad), Err(Error::Unsupported(_))));
    // Vec<u8> and arrays decode from byte strings too.
    assert_eq!(from_bytes::<Vec<u8>>(b"3:abc").unwrap(), b"abc");
    assert_eq!(from_bytes::<[u8; 3]>(b"3:abc").unwrap(), *b"abc");
    assert!(from_bytes::<[u8; 3]>(b"4:abcd").is_err());
    assert_eq!(from_bytes::<Vec<u8>>(b"li1ei2ee").unwrap(), vec![1, 2]);
}

#[test]
fn integer_ranges() {
    assert_eq!(from_bytes::<u8>(b"i255e").unwrap(), 255);
    let err = from_bytes::<u8>(b"i256e").unwrap_err();
    assert!(
        matches!(&err, Error::Custom(c) if c.offset == Some(0)),
        "{err}"
    );
    assert!(from_bytes::<u32>(b"i-1e").is_err());
    assert_eq!(
        from_bytes::<i64>(b"i-9223372036854775808e").unwrap(),
        i64::MIN
    );
    assert_eq!(
        from_bytes::<i64>(b"i9223372036854775807e").unwrap(),
        i64::MAX
    );
    assert_eq!(
        kind(&from_bytes::<i64>(b"i9223372036854775808e").unwrap_err()),
        DecodeErrorKind::IntOverflow
    );
    assert_eq!(
        kind(&from_bytes::<u64>(b"i18446744073709551615e").unwrap_err()),
        DecodeErrorKind::IntOverflow
    );
    // Wider integers when the limits allow them.
    let dec = Decoder::new().max_int_digits(20);
    assert_eq!(
        from_bytes_with::<u64>(&dec, b"i18446744073709551615e").unwrap(),
        u64::MAX
    );
    assert_eq!(
        kind(&from_bytes_with::<u64>(&dec, b"i18446744073709551616e").unwrap_err()),
        DecodeErrorKind::IntOverflow
    );
    // Offsets point at the value inside the structure.
    let err = from_bytes::<BTreeMap<&str, u8>>(b"d1:ai1e1:bi300ee").unwrap_err();
    assert_eq!(err.offset(), Some(10));
    assert!(err.to_string().ends_with("at offset 10"), "{err}");
}

// ---------------------------------------------------------------- strictness

#[test]
fn strict_and_lenient() {
    let cases: [(&[u8], DecodeErrorKind); 5] = [
        (b"d1:bi1e1:ai2ee", DecodeErrorKind::UnsortedKeys),
        (b"d1:ai1e1:ai2ee", DecodeErrorKind::DuplicateKey),
        (b"d1:ai01e1:bi2ee", DecodeErrorKind::LeadingZero),
        (b"d1:ai-0e1:bi2ee", DecodeErrorKind::NegativeZero),
        (b"d01:ai1e1:bi2ee", DecodeErrorKind::LeadingZeroLength),
    ];
    for (input, want) in cases {
        let err = from_bytes::<BTreeMap<&str, i64>>(input).unwrap_err();
        assert_eq!(kind(&err), want, "{}", input.escape_ascii());
        // Same kind and offset as the tape decoder.
        assert_eq!(err.as_decode(), decode(input).err().as_ref());
        // Also when the value is skipped or captured raw.
        assert_eq!(kind(&from_bytes::<IgnoredAny>(input).unwrap_err()), want);
        assert_eq!(kind(&from_bytes::<RawValue>(input).unwrap_err()), want);
        let m: BTreeMap<&str, i64> = from_bytes_lenient(input).unwrap();
        assert!(m.contains_key("a"));
        let dec = Decoder::new().mode(Mode::Lenient);
        assert!(from_bytes_with::<BTreeMap<&str, i64>>(&dec, input).is_ok());
    }
    // Structs too: unsorted keys rejected in strict mode, accepted leniently.
    let input = b"d4:zetai1e1:ai1e1:ble5:alphai3ee";
    assert_eq!(
        kind(&from_bytes::<Unsorted>(input).unwrap_err()),
        DecodeErrorKind::UnsortedKeys
    );
    let v: Unsorted = from_bytes_lenient(input).unwrap();
    assert_eq!(v.alpha, Some(3));
    // Non-canonical re-encodes canonically.
    assert_eq!(to_vec(&v).unwrap(), b"d1:ai1e5:alphai3e1:ble4:zetai1ee");
}

#[test]
fn trailing_and_empty() {
    assert_eq!(
        kind(&from_bytes::<i64>(b"i1ei2e").unwrap_err()),
        DecodeErrorKind::TrailingData
    );
    assert_eq!(
        kind(&from_bytes::<i64>(b"").unwrap_err()),
        DecodeErrorKind::EmptyInput
    );
    let mut de = Deserializer::new(b"d1:ai1ee<payload>");
    let m = BTreeMap::<&str, i64>::deserialize(&mut de).unwrap();
    assert_eq!(m["a"], 1);
    assert_eq!(de.remaining(), b"<payload>");
    assert!(de.end().is_err());
}

#[test]
fn missing_field_has_offset() {
    let err = from_bytes::<Unsorted>(b"li1ee").unwrap_err();
    assert_eq!(err.offset(), Some(0));
    let err = from_bytes::<Vec<Unsorted>>(b"ld1:ai1eee").unwrap_err();
    assert!(err.to_string().contains("missing field `zeta`"), "{err}");
    assert_eq!(err.offset(), Some(1));
}

// ---------------------------------------------------------------- limits

#[derive(Debug, Deserialize)]
struct Nested(Vec<Nested>);

impl Nested {
    fn depth(&self) -> usize {
        1 + self.0.iter().map(Nested::depth).max().unwrap_or(0)
    }
}

#[test]
fn depth_limit_no_stack_overflow() {
    let n = 100_000;
    let mut input = vec![b'l'; n];
    input.extend(std::iter::repeat_n(b'e', n));
    for r in [
        from_bytes::<Nested>(&input).map(drop),
        from_bytes::<IgnoredAny>(&input).map(drop),
        from_bytes::<RawValue>(&input).map(drop),
        from_bytes::<Vec<Vec<Vec<IgnoredAny>>>>(&input).map(drop),
    ] {
        let err = r.unwrap_err();
        assert_eq!(kind(&err), DecodeErrorKind::DepthLimit);
        assert_eq!(err.offset(), Some(512));
    }
    // Within the limit it works; a lower configured limit is honoured.
    let mut ok = vec![b'l'; 512];
    ok.extend(std::iter::repeat_n(b'e', 512));
    assert_eq!(from_bytes::<Nested>(&ok).unwrap().depth(), 512);
    let dec = Decoder::new().max_depth(10);
    assert_eq!(
        kind(&from_bytes_with::<IgnoredAny>(&dec, &ok).unwrap_err()),
        DecodeErrorKind::DepthLimit
    );
    let dec = Decoder::new().max_items(3);
    assert_eq!(
        kind(&from_bytes_with::<Vec<u8>>(&dec, b"li1ei2ei3ee").unwrap_err()),
        DecodeErrorKind::ItemLimit
    );
}

#[test]
fn truncation_sweep() {
    let torrent = torrent_bytes(2);
    let krpc = b"d1:rd2:id20:0123456789abcdefghij5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    for input in [&torrent[..], &krpc[..]] {
        for cut in 0..input.len() {
            let p = &input[..cut];
            assert!(from_bytes::<Torrent>(p).is_err(), "prefix {cut}");
            assert!(from_bytes::<Krpc>(p).is_err(), "prefix {cut}");
            assert!(from_bytes::<IgnoredAny>(p).is_err(), "prefix {cut}");
            assert!(from_bytes_lenient::<RawValue>(p).is_err(), "prefix {cut}");
        }
    }
    // Every single-byte corruption gives a result or an error, never a panic.
    for i in 0..krpc.len() {
        for b in [b'e', b'i', b'0', b'9', b':', b'l', b'd', b'-', 0xff] {
            let mut m = krpc.to_vec();
            m[i] = b;
            let _ = from_bytes::<Krpc>(&m);
            let _ = from_bytes_lenient::<IgnoredAny>(&m);
        }
    }
}

// ---------------------------------------------------------------- conformance

#[test]
fn agrees_with_tape_decoder_on_corpus() {
    // Some cases nest deeper than serde_json's default recursion limit.
    let mut de =
        serde_json::Deserializer::from_str(include_str!("../../testdata/bencode/cases.json"));
    de.disable_recursion_limit();
    let cases = serde_json::Value::deserialize(&mut de).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() > 100);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let input = hex::decode(c["input_hex"].as_str().unwrap()).unwrap();
        for mode in [Mode::Strict, Mode::Lenient] {
            let dec = Decoder::new().mode(mode);
            let tape = dec.clone().decode(&input).map(drop);
            let typed = from_bytes_with::<IgnoredAny>(&dec, &input).map(drop);
            match (&tape, &typed) {
                (Ok(()), Ok(())) => {}
                (Err(t), Err(s)) => {
                    assert_eq!(Some(t), s.as_decode(), "{name} {mode:?}")
                }
                _ => panic!("{name} {mode:?}: tape {tape:?} serde {typed:?}"),
            }
            let raw = from_bytes_with::<RawValue>(&dec, &input);
            assert_eq!(raw.is_ok(), tape.is_ok(), "{name}");
            if let Ok(r) = raw {
                assert_eq!(r.as_bytes(), &input[..], "{name}");
            }
        }
    }
}

// ---------------------------------------------------------------- proptest

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    #[serde(with = "bytes")]
    blob: Vec<u8>,
    n: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Prop {
    z: u64,
    name: String,
    #[serde(with = "bytes")]
    data: Vec<u8>,
    nums: Vec<i64>,
    opt: Option<u16>,
    #[serde(with = "bytes", default)]
    opt_bytes: Option<Vec<u8>>,
    inner: Vec<Inner>,
    map: BTreeMap<String, i8>,
    flag: bool,
}

fn prop_strategy() -> impl Strategy<Value = Prop> {
    let inner = (proptest::collection::vec(any::<u8>(), 0..8), any::<i32>())
        .prop_map(|(blob, n)| Inner { blob, n });
    (
        0..=i64::MAX as u64,
        ".{0,8}",
        proptest::collection::vec(any::<u8>(), 0..32),
        proptest::collection::vec(any::<i64>(), 0..8),
        any::<Option<u16>>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
        proptest::collection::vec(inner, 0..4),
        proptest::collection::btree_map(".{0,4}", any::<i8>(), 0..4),
        any::<bool>(),
    )
        .prop_map(
            |(z, name, data, nums, opt, opt_bytes, inner, map, flag)| Prop {
                z,
                name,
                data,
                nums,
                opt,
                opt_bytes,
                inner,
                map,
                flag,
            },
        )
}

proptest! {
    #[test]
    fn prop_round_trip(v in prop_strategy()) {
        let enc = to_vec(&v).unwrap();
        // Canonical: the strict tape decoder accepts it and re-encodes it identically.
        let doc = decode(&enc).unwrap();
        prop_assert_eq!(doc.root().to_bencode().encode(), enc.clone());
        let back: Prop = from_bytes(&enc).unwrap();
        prop_assert_eq!(&back, &v);
        let back2: Prop = from_value(doc.root()).unwrap();
        prop_assert_eq!(&back2, &v);
        prop_assert_eq!(to_vec(&back).unwrap(), enc);
    }
}

#[test]
fn error_stays_small() {
    // The decoder's hot path returns `Result`s; a 16-byte error keeps them cheap.
    assert!(std::mem::size_of::<Error>() <= 16);
    assert!(std::mem::size_of::<Result<u8, Error>>() <= 16);
}
