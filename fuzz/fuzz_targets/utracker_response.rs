//! UDP tracker responses as a client receives them (`bip_utracker::codec::Response::decode`),
//! arbitrary bytes, decoded as from an IPv4 and from an IPv6 tracker.
//!
//! Properties: decoding never panics; `response_header` reads the same action and
//! transaction id; re-encoding an accepted response reproduces the bytes it was decoded from
//! (connect: the 16 bytes, extra bytes ignored; announce and scrape: the header and the whole
//! peer / stats entries, a trailing partial entry ignored; error: the whole packet); the
//! encoding decodes to the same response and is a fixed point; peers and stats iterate
//! without panicking and their counts match the byte lengths.
#![no_main]

use bip_utracker::codec::{
    response_header, AddressFamily, ErrorResponse, Peers, Response, ScrapeResponse,
    ANNOUNCE_RESPONSE_MIN_LEN, CONNECT_LEN, RESPONSE_HEADER_LEN,
};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8], family: AddressFamily) {
    let Ok(resp) = Response::decode(data, family) else {
        return;
    };
    let (action, tid) = response_header(data).expect("an accepted response has a header");
    assert_eq!(tid, resp.transaction_id());
    let mut out = Vec::new();
    resp.encode(&mut out);
    match &resp {
        Response::Connect(_) => {
            assert_eq!(action.0, 0);
            assert_eq!(out, &data[..CONNECT_LEN]);
        }
        Response::Announce(a) => {
            assert_eq!(action.0, 1);
            let entry = match (family, a.peers) {
                (AddressFamily::V4, Peers::V4(_)) => 6,
                (AddressFamily::V6, Peers::V6(_)) => 18,
                _ => panic!("peers of the wrong family"),
            };
            let whole = (data.len() - ANNOUNCE_RESPONSE_MIN_LEN) / entry * entry;
            assert_eq!(a.peers.as_bytes().len(), whole);
            assert_eq!(a.peers.len(), whole / entry);
            assert_eq!(a.peers.iter().count(), a.peers.len());
            assert_eq!(out, &data[..ANNOUNCE_RESPONSE_MIN_LEN + whole]);
        }
        Response::Scrape(s) => {
            assert_eq!(action.0, 2);
            assert_eq!(ScrapeResponse::decode(data).as_ref(), Ok(s));
            let whole = (data.len() - RESPONSE_HEADER_LEN) / 12 * 12;
            assert_eq!(s.files.len(), whole);
            assert_eq!(s.stats().count(), whole / 12);
            assert_eq!(out, &data[..RESPONSE_HEADER_LEN + whole]);
        }
        Response::Error(e) => {
            assert_eq!(action.0, 3);
            assert_eq!(ErrorResponse::decode(data).as_ref(), Ok(e));
            assert_eq!(out, data, "error response re-encodes differently");
        }
    }
    let again = Response::decode(&out, family).expect("an encoded response decodes");
    assert_eq!(again, resp, "decode(encode(r)) != r");
    let mut out2 = Vec::new();
    again.encode(&mut out2);
    assert_eq!(out2, out, "encoding is not a fixed point");
}

fuzz_target!(|data: &[u8]| {
    check(data, AddressFamily::V4);
    check(data, AddressFamily::V6);
});
