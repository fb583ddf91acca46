//! UDP tracker requests as a tracker receives them (`bip_utracker::codec::Request::decode`),
//! arbitrary bytes.
//!
//! Properties: decoding never panics; the typed decoder of the message named by the action
//! field agrees with `Request::decode`; re-encoding an accepted request reproduces the bytes
//! it was decoded from (connect: the 16 bytes, extra bytes ignored; scrape: the header and
//! the whole info hashes, a trailing partial hash ignored; announce: the fixed 98 bytes, and
//! BEP 41 options only as the URLData options `encode` writes, since NOPs, unknown options
//! and the split of the URL into options are not kept); the encoding decodes to the same
//! request and is a fixed point (canonical input re-encodes to itself); `RequestHeader`
//! (what a server reads first to route a datagram) reads any 16 bytes, and the same
//! connection id, action and transaction id as the whole request.
#![no_main]

use bip_utracker::codec::{
    parse_options, Action, AnnounceRequest, ConnectRequest, Request, RequestHeader, ScrapeRequest,
    ANNOUNCE_REQUEST_LEN, CONNECT_LEN, PROTOCOL_ID, SCRAPE_REQUEST_HEADER_LEN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Each typed decoder alone must not panic either.
    let connect = ConnectRequest::decode(data);
    let announce = AnnounceRequest::decode(data);
    let scrape = ScrapeRequest::decode(data);
    let header = RequestHeader::decode(data);
    assert_eq!(header.is_ok(), data.len() >= CONNECT_LEN);
    let Ok(req) = Request::decode(data) else {
        return;
    };
    let header = header.expect("a decoded request has a header");
    let (cid, action, tid) = match &req {
        Request::Connect(c) => (PROTOCOL_ID, Action::CONNECT, c.transaction_id),
        Request::Announce(a) => (a.connection_id, Action::ANNOUNCE, a.transaction_id),
        Request::Scrape(s) => (s.connection_id, Action::SCRAPE, s.transaction_id),
    };
    assert_eq!(
        (header.connection_id, header.action, header.transaction_id),
        (cid, action, tid),
        "request header disagrees with the request"
    );
    let mut out = Vec::new();
    req.encode(&mut out);
    match &req {
        Request::Connect(c) => {
            assert_eq!(connect.as_ref(), Ok(c));
            assert_eq!(out, &data[..CONNECT_LEN], "connect re-encodes differently");
        }
        Request::Announce(a) => {
            assert_eq!(announce.as_ref(), Ok(a));
            assert_eq!(
                &out[..ANNOUNCE_REQUEST_LEN],
                &data[..ANNOUNCE_REQUEST_LEN],
                "announce re-encodes differently"
            );
            let opts = &data[ANNOUNCE_REQUEST_LEN..];
            match parse_options(opts) {
                Ok(url) => assert_eq!(url, a.url_data),
                Err(_) => assert_eq!(a.url_data, None, "malformed options give no URL data"),
            }
            // Input whose options are exactly what `encode` writes re-encodes identically.
            if a.url_data.is_none() && opts.is_empty() {
                assert_eq!(out, data);
            }
        }
        Request::Scrape(s) => {
            assert_eq!(scrape.as_ref(), Ok(s));
            let whole = (data.len() - SCRAPE_REQUEST_HEADER_LEN) / 20 * 20;
            assert_eq!(s.info_hashes.len(), whole);
            assert_eq!(s.hashes().len(), whole / 20);
            assert_eq!(
                out,
                &data[..SCRAPE_REQUEST_HEADER_LEN + whole],
                "scrape re-encodes differently"
            );
        }
    }
    let again = Request::decode(&out).expect("an encoded request decodes");
    assert_eq!(again, req, "decode(encode(r)) != r");
    let mut out2 = Vec::new();
    again.encode(&mut out2);
    assert_eq!(out2, out, "encoding is not a fixed point");
});
