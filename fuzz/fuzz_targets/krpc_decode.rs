//! KRPC decoding (`bip_dht::krpc::Message::decode`) of arbitrary bytes.
//!
//! Properties: decoding never panics; an accepted message re-encodes to canonical bencode
//! (the strict decoder accepts it), that encoding decodes to the same message, and encoding
//! that again gives the same bytes. (Accepted input itself need not re-encode byte for byte:
//! unknown keys, zero flags and extra error-list elements are dropped.)
#![no_main]

use bip_dht::krpc::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::decode(data) else {
        return;
    };
    let mut out = Vec::new();
    msg.encode(&mut out);
    assert!(
        bip_bencode::decode(&out).is_ok(),
        "encoding is not canonical bencode"
    );
    let again = Message::decode(&out).expect("an encoded message decodes");
    assert_eq!(again, msg, "decode(encode(m)) != m");
    let mut out2 = Vec::new();
    again.encode(&mut out2);
    assert_eq!(out2, out, "encoding is not stable");
});
