//! KRPC decoding (`bip_dht::krpc::Message::decode`, and `decode_with` on a decoder kept
//! between inputs) of arbitrary bytes.
//!
//! Properties: decoding never panics; `decode_with` on a decoder reused across every input
//! (its recycled buffers) gives the same result as a fresh `decode`; an accepted message
//! re-encodes to canonical bencode (the strict decoder accepts it), that encoding decodes to
//! the same message, and encoding that again gives the same bytes. (Accepted input itself
//! need not re-encode byte for byte: unknown keys, zero flags and extra error-list elements
//! are dropped.)
//!
//! One exception to canonical output: a BEP 44 `v` value (`put` argument or `get` answer)
//! is kept and written back as the raw bytes received (its hash and signature cover those
//! bytes), and the decoder does not check that they are canonical, so a message carrying a
//! non-canonical `v` (`i01e`, unsorted keys, ...) re-encodes to non-canonical bencode. For
//! such messages only the round trip and the fixed point are checked.
#![no_main]

use std::cell::RefCell;

use bip_bencode::Decoder;
use bip_dht::krpc::{Body, Message, Method};
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// One decoder for the whole run, as a node keeps one between datagrams.
    static DECODER: RefCell<Decoder> = RefCell::new(Message::decoder());
}

/// The raw BEP 44 `v` value the message carries, if any.
fn raw_value<'a>(msg: &Message<'a>) -> Option<&'a [u8]> {
    match &msg.body {
        Body::Query(q) => match q.method {
            Method::Put { value, .. } => Some(value),
            _ => None,
        },
        Body::Response(r) => r.value,
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let fresh = Message::decode(data);
    let reused = DECODER.with(|d| Message::decode_with(&mut d.borrow_mut(), data));
    assert_eq!(reused, fresh, "decode_with on a reused decoder differs");
    let Ok(msg) = fresh else {
        return;
    };
    let mut out = Vec::new();
    msg.encode(&mut out);
    let value_canonical = raw_value(&msg).is_none_or(|v| bip_bencode::decode(v).is_ok());
    if value_canonical {
        assert!(
            bip_bencode::decode(&out).is_ok(),
            "encoding is not canonical bencode"
        );
    }
    let again = Message::decode(&out).expect("an encoded message decodes");
    assert_eq!(again, msg, "decode(encode(m)) != m");
    let mut out2 = Vec::new();
    again.encode(&mut out2);
    assert_eq!(out2, out, "encoding is not stable");
});
