//! Handshake decoding (`bip_handshake::Handshake::decode`, `decode_prefix`, and the
//! `decode_header` / `check_prefix` the sans-IO core uses on a handshake still arriving) of
//! arbitrary bytes.
//!
//! Properties: decoding never panics; `decode_prefix` consumes exactly
//! `encoded_len()` bytes and re-encoding gives those bytes back (the format has
//! one encoding per message, so every accepted handshake is canonical); `decode`
//! accepts exactly the inputs with nothing after the handshake, and otherwise
//! reports the prefix's error or the number of trailing bytes; `decode_header` reads
//! the same protocol string, reserved bits and info hash as the whole decode, from the
//! first `header_len_for` bytes; `check_prefix` refuses exactly the inputs whose length
//! byte or protocol string differ from the expected one (at the first differing byte), and
//! a prefix it accepts stays accepted when shortened.
#![no_main]

use bip_handshake::{DecodeError, Handshake, PrefixError, BITTORRENT_PROTOCOL};
use libfuzzer_sys::fuzz_target;

/// `check_prefix` as its documentation states it.
fn expected_check(expected: &[u8], data: &[u8]) -> Result<(), PrefixError> {
    let Some(&len) = data.first() else {
        return Ok(());
    };
    if usize::from(len) != expected.len() {
        return Err(PrefixError::Length { received: len });
    }
    for (offset, (a, b)) in data[1..].iter().zip(expected).enumerate() {
        if a != b {
            return Err(PrefixError::Protocol { offset });
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let exact = Handshake::decode(data);
    let prefix = Handshake::decode_prefix(data);

    match Handshake::decode_header(data) {
        Ok((protocol, reserved, info_hash)) => {
            let len = Handshake::header_len_for(protocol.len());
            assert!(len <= data.len());
            assert_eq!(protocol, &data[1..1 + protocol.len()]);
            assert_eq!(
                Handshake::decode_header(&data[..len]),
                Ok((protocol, reserved, info_hash))
            );
            if let Ok((hs, _)) = prefix {
                assert_eq!(
                    (hs.protocol, hs.reserved, hs.info_hash),
                    (protocol, reserved, info_hash)
                );
            }
        }
        Err(e) => {
            assert!(matches!(e, DecodeError::Truncated { .. }), "{e:?}");
            assert!(
                prefix.is_err(),
                "header truncated but the whole handshake decodes"
            );
        }
    }
    for expected in [BITTORRENT_PROTOCOL, b"bip chat", &data[..data.len().min(3)]] {
        let check = Handshake::check_prefix(expected, data);
        assert_eq!(
            check,
            expected_check(expected, data),
            "check_prefix({expected:?})"
        );
        if check.is_ok() {
            for n in [0, data.len().min(1), data.len() / 2] {
                assert_eq!(Handshake::check_prefix(expected, &data[..n]), Ok(()));
            }
        }
        if let Ok((hs, _)) = prefix {
            assert_eq!(check.is_ok(), hs.protocol == expected);
        }
    }

    let (hs, rest) = match prefix {
        Ok(ok) => ok,
        Err(e) => {
            assert_eq!(exact, Err(e), "decode and decode_prefix disagree");
            return;
        }
    };
    let len = hs.encoded_len();
    assert_eq!(len + rest.len(), data.len(), "prefix length");
    assert_eq!(len, Handshake::encoded_len_for(hs.protocol.len()));
    let mut out = Vec::new();
    hs.encode(&mut out);
    assert_eq!(
        out,
        &data[..len],
        "accepted handshake re-encodes differently"
    );
    if rest.is_empty() {
        assert_eq!(exact, Ok(hs));
    } else {
        assert_eq!(exact, Err(DecodeError::TrailingBytes { extra: rest.len() }));
    }
    // The reserved bits' accessors.
    let _ = hs.reserved.names();
    let _ = hs.reserved.to_string();
    assert_eq!(hs.reserved.bytes(), data[1 + hs.protocol.len()..][..8]);
});
