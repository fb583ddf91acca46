//! Hostile inputs against the decoder's [`Limits`]: deep nesting (megabytes of
//! `l` or `d1:a`), huge string lengths, item counts, integer width, trailing
//! data, and many tiny values. Every case must end in a typed error (or
//! success) quickly, without overflowing the stack or allocating more than a
//! constant times the input.
//!
//! Documents nested a million deep are only navigated iteratively here:
//! `Value::to_bencode` and the `Debug` impls recurse, so they are never called
//! on them (and never on values beyond the default depth limit).

use bip_bencode::{DecodeErrorKind, Decoder, Kind, Limits, Value};

const MB: usize = 1 << 20;

fn both_modes() -> [Decoder; 2] {
    [Decoder::new(), Decoder::lenient()]
}

/// `unit` repeated until the input is `size` bytes long (at least).
fn repeat(unit: &[u8], size: usize) -> Vec<u8> {
    unit.repeat(size.div_ceil(unit.len()))
}

/// Depth of the chain of first children under `v`, walked iteratively.
fn first_child_depth(mut v: Value<'_, '_>) -> usize {
    let mut depth = 0;
    loop {
        let next = match v.kind() {
            Kind::List => v.as_list().and_then(|l| l.get(0)),
            Kind::Dict => v.as_dict().and_then(|d| d.iter().next().map(|(_, x)| x)),
            _ => None,
        };
        match next {
            Some(child) => {
                depth += 1;
                v = child;
            }
            None => return depth,
        }
    }
}

fn assert_depth_limit(input: &[u8], at: usize) {
    for mut dec in both_modes() {
        let err = dec
            .decode(input)
            .expect_err("nesting beyond the limit is rejected");
        assert_eq!(
            err.kind,
            DecodeErrorKind::DepthLimit,
            "{:?}",
            dec.get_mode()
        );
        assert_eq!(err.offset, at, "{:?}", dec.get_mode());
    }
}

#[test]
fn megabytes_of_list_nesting_hit_the_depth_limit() {
    for size in [MB, 10 * MB] {
        let input = repeat(b"l", size);
        // The 513th `l` is one too deep.
        assert_depth_limit(&input, Limits::DEFAULT_MAX_DEPTH);
    }
}

#[test]
fn megabytes_of_dict_nesting_hit_the_depth_limit() {
    for size in [MB, 10 * MB] {
        let input = repeat(b"d1:a", size);
        assert_depth_limit(&input, Limits::DEFAULT_MAX_DEPTH * 4);
    }
}

#[test]
fn nesting_just_at_the_limit_is_accepted() {
    let depth = Limits::DEFAULT_MAX_DEPTH;
    let mut input = repeat(b"l", depth);
    input.extend(repeat(b"e", depth));
    for mut dec in both_modes() {
        let doc = dec.decode(&input).expect("512 deep is allowed");
        assert_eq!(first_child_depth(doc.root()), depth - 1);
        // Within the default limit the recursive conversion is fine.
        assert_eq!(doc.root().to_bencode().encode(), input);
    }
    let mut deeper = repeat(b"l", depth + 1);
    deeper.extend(repeat(b"e", depth + 1));
    assert_depth_limit(&deeper, depth);
    // A custom limit moves the boundary.
    let err = Decoder::new().max_depth(3).decode(b"llllee").unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::DepthLimit, 3));
    assert!(Decoder::new().max_depth(3).decode(b"llleee").is_ok());
    let err = Decoder::new().max_depth(0).decode(b"le").unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::DepthLimit, 0));
    assert!(Decoder::new().max_depth(0).decode(b"i1e").is_ok());
}

/// With no depth limit, a million real levels decode (the decoder is
/// iterative) and navigate iteratively. (Lists in strict mode, dictionaries
/// in lenient mode: the decoder's depth handling is the same in both, and
/// this keeps the test fast in debug builds.)
#[test]
fn million_deep_nesting_without_depth_limit() {
    const N: usize = 1_000_000;
    let mut lists = repeat(b"l", N);
    lists.extend(repeat(b"e", N));
    let mut dec = Decoder::new().max_depth(usize::MAX);
    let doc = dec.decode(&lists).expect("deep lists decode");
    assert_eq!(doc.root().raw().len(), 2 * N);
    assert_eq!(first_child_depth(doc.root()), N - 1);
    dec.recycle(doc);
    // Unclosed, it is an ordinary end-of-input error.
    let err = dec.decode(&lists[..N]).unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::Unterminated, N));

    let mut dicts = repeat(b"d1:a", 4 * N);
    dicts.extend_from_slice(b"i7e");
    dicts.extend(repeat(b"e", N));
    let doc = Decoder::lenient()
        .max_depth(usize::MAX)
        .decode(&dicts)
        .expect("deep dictionaries decode");
    assert!(doc.soft_faults().is_empty());
    let mut v = doc.root();
    let mut depth = 0;
    while let Some(x) = v.get(b"a") {
        v = x;
        depth += 1;
    }
    assert_eq!(depth, N);
    assert_eq!(v.as_int(), Some(7));
    assert_eq!(v.offset(), 4 * N);
}

#[test]
fn huge_string_lengths_fail_without_allocating() {
    // (input, error, offset). These finish instantly: nothing is sized from
    // the claimed length (a 4 GiB or 10^19 byte buffer would abort the test).
    let cases: &[(&[u8], DecodeErrorKind, usize)] = &[
        (b"9999999999999999999:", DecodeErrorKind::LengthOverflow, 0),
        (
            b"99999999999999999999999999999:x",
            DecodeErrorKind::LengthOverflow,
            0,
        ),
        (b"4294967296:", DecodeErrorKind::LengthOverflow, 0),
        (b"4294967295:x", DecodeErrorKind::LengthPastEnd, 0),
        (b"4294967295:", DecodeErrorKind::LengthPastEnd, 0),
        (b"2:x", DecodeErrorKind::LengthPastEnd, 0),
        (b"l4294967295:xe", DecodeErrorKind::LengthPastEnd, 1),
        (b"d4294967296:ae", DecodeErrorKind::LengthOverflow, 1),
        (b"d1:a4294967295:", DecodeErrorKind::LengthPastEnd, 4),
        (b"4294967295", DecodeErrorKind::Unterminated, 10),
        (b"12x", DecodeErrorKind::InvalidLength, 2),
    ];
    for &(input, kind, offset) in cases {
        for mut dec in both_modes() {
            let err = dec.decode(input).expect_err("rejected");
            assert_eq!(
                (err.kind, err.offset),
                (kind, offset),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
    // A megabyte of length digits stops at the first digit that overflows.
    let digits = repeat(b"9", MB);
    for mut dec in both_modes() {
        let err = dec.decode(&digits).unwrap_err();
        assert_eq!((err.kind, err.offset), (DecodeErrorKind::LengthOverflow, 0));
    }
    // Lenient: a megabyte of leading zeros is a header too long to record.
    let mut zeros = repeat(b"0", MB);
    zeros.extend_from_slice(b"1:x");
    let err = Decoder::new().decode(&zeros).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::LeadingZeroLength);
    let err = Decoder::lenient().decode(&zeros).unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::LengthOverflow, 0));
}

#[test]
fn max_items_counts_every_value_and_key() {
    // l, i1e, d, 1:a (key), i2e (value), 3:xyz: six values.
    let input = b"li1ed1:ai2ee3:xyze";
    assert_eq!(Decoder::new().decode(input).unwrap().item_count(), 6);
    assert!(Decoder::new().max_items(6).decode(input).is_ok());
    let err = Decoder::new().max_items(5).decode(input).unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::ItemLimit, 12));
    let err = Decoder::new().max_items(3).decode(input).unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::ItemLimit, 5));
    let err = Decoder::lenient().max_items(0).decode(b"i1e").unwrap_err();
    assert_eq!((err.kind, err.offset), (DecodeErrorKind::ItemLimit, 0));
    // Many values: a megabyte of `i0e` stops at the limit.
    let mut many = b"l".to_vec();
    many.extend(repeat(b"i0e", MB));
    many.push(b'e');
    let err = Decoder::new().max_items(1000).decode(&many).unwrap_err();
    assert_eq!(
        (err.kind, err.offset),
        (DecodeErrorKind::ItemLimit, 1 + 999 * 3)
    );
}

#[test]
fn integer_width_follows_max_int_digits() {
    let ok = |dec: &mut Decoder, input: &[u8]| -> Option<i64> {
        dec.decode(input)
            .unwrap_or_else(|e| panic!("{e}"))
            .root()
            .as_int()
    };
    let overflow = |dec: &mut Decoder, input: &[u8]| {
        let err = dec.decode(input).expect_err("too wide");
        assert_eq!((err.kind, err.offset), (DecodeErrorKind::IntOverflow, 0));
    };
    // Default: i64.
    let mut dec = Decoder::new();
    assert_eq!(ok(&mut dec, b"i9223372036854775807e"), Some(i64::MAX));
    assert_eq!(ok(&mut dec, b"i-9223372036854775808e"), Some(i64::MIN));
    overflow(&mut dec, b"i9223372036854775808e");
    overflow(&mut dec, b"i-9223372036854775809e");
    overflow(&mut dec, b"i10000000000000000000e");
    overflow(
        &mut dec,
        &[b"i".as_slice(), &repeat(b"9", MB), b"e"].concat(),
    );
    // Leading zeros are not digits that count (lenient only accepts them).
    let mut lenient = Decoder::lenient();
    assert_eq!(
        ok(&mut lenient, b"i0009223372036854775807e"),
        Some(i64::MAX)
    );
    overflow(&mut lenient, b"i0009223372036854775808e");
    assert_eq!(
        ok(
            &mut lenient,
            &[b"i".as_slice(), &repeat(b"0", MB), b"5e"].concat()
        ),
        Some(5)
    );
    // Narrower.
    let mut dec = Decoder::new().max_int_digits(3);
    assert_eq!(ok(&mut dec, b"i-999e"), Some(-999));
    overflow(&mut dec, b"i1000e");
    let mut dec = Decoder::lenient().max_int_digits(3);
    assert_eq!(ok(&mut dec, b"i0999e"), Some(999));
    // Wider: big integers are kept as digits.
    let mut dec = Decoder::new().max_int_digits(40);
    let doc = dec.decode(b"i-123456789012345678901234567890e").unwrap();
    assert_eq!(doc.root().as_int(), None);
    assert_eq!(
        doc.root().int_digits(),
        Some(b"-123456789012345678901234567890".as_slice())
    );
    assert_eq!(
        doc.root().to_bencode().encode(),
        b"i-123456789012345678901234567890e"
    );
    overflow(
        &mut dec,
        &[b"i".as_slice(), &repeat(b"1", 41), b"e"].concat(),
    );
    // Beyond 19 digits, values just outside i64 are accepted as digits.
    assert_eq!(ok(&mut dec, b"i9223372036854775808e"), None);
}

#[test]
fn trailing_data_needs_allow_trailing() {
    for input in [b"i1eXYZ".as_slice(), b"i1ei2e", b"lee"] {
        let value_len = if input.starts_with(b"l") { 2 } else { 3 };
        for mut dec in both_modes() {
            let err = dec.decode(input).unwrap_err();
            assert_eq!(
                (err.kind, err.offset),
                (DecodeErrorKind::TrailingData, value_len)
            );
            let mut dec = dec.allow_trailing(true);
            let doc = dec.decode(input).unwrap();
            assert_eq!(doc.root().raw(), &input[..value_len]);
            assert_eq!(doc.trailing(), &input[value_len..]);
        }
    }
    // Without trailing bytes, allow_trailing changes nothing.
    let doc = Decoder::new().allow_trailing(true).decode(b"i1e").unwrap();
    assert!(doc.trailing().is_empty());
    // The value must still be complete.
    let err = Decoder::new()
        .allow_trailing(true)
        .decode(b"li1e")
        .unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::Unterminated);
}

/// Ten megabytes of empty strings in one list: five million values, one
/// token each, decoded (both modes) and walked once.
#[test]
fn ten_megabytes_of_empty_strings() {
    let mut input = b"l".to_vec();
    input.extend(repeat(b"0:", 10 * MB));
    input.push(b'e');
    let n = 5 * MB;
    let doc = Decoder::lenient()
        .decode(&input)
        .expect("decodes leniently");
    assert_eq!(doc.root().raw().len(), input.len());
    drop(doc);
    let doc = Decoder::new().decode(&input).expect("decodes");
    let mut count = 0usize;
    let mut last = None;
    for v in doc.root().as_list().unwrap().iter() {
        count += 1;
        last = Some(v);
    }
    assert_eq!(count, n);
    let last = last.unwrap();
    assert_eq!(
        (last.offset(), last.as_bytes()),
        (input.len() - 3, Some(b"".as_slice()))
    );
}

#[test]
fn empty_and_garbage_inputs() {
    for mut dec in both_modes() {
        let err = dec.decode(b"").unwrap_err();
        assert_eq!((err.kind, err.offset), (DecodeErrorKind::EmptyInput, 0));
        let err = dec.decode(b"e").unwrap_err();
        assert_eq!(
            (err.kind, err.offset),
            (DecodeErrorKind::UnexpectedChar(b'e'), 0)
        );
        let err = dec.decode(b"x").unwrap_err();
        assert_eq!(
            (err.kind, err.offset),
            (DecodeErrorKind::UnexpectedChar(b'x'), 0)
        );
        let err = dec.decode(b"di1ei2ee").unwrap_err();
        assert_eq!((err.kind, err.offset), (DecodeErrorKind::NonStringKey, 1));
        let err = dec.decode(b"d1:ae").unwrap_err();
        assert_eq!((err.kind, err.offset), (DecodeErrorKind::MissingValue, 4));
    }
}
