//! Strict decoding of arbitrary bytes.
//!
//! Properties: decoding never panics; whatever strict mode accepts is
//! canonical, so the root's raw span is the whole input and re-encoding the
//! owned tree reproduces the input byte for byte.
#![no_main]

use bip_bencode::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut dec = Decoder::new();
    let Ok(doc) = dec.decode(data) else {
        return;
    };
    assert!(
        doc.soft_faults().is_empty(),
        "strict mode recorded soft faults"
    );
    let root = doc.root();
    assert_eq!(root.raw(), data, "root span is not the whole input");
    assert_eq!(root.span(), 0..data.len());
    // The default depth limit (512) bounds the recursion of `to_bencode`.
    let encoded = root.to_bencode().encode();
    assert_eq!(
        encoded, data,
        "strict-accepted input does not re-encode identically"
    );
});
