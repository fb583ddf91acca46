//! The shared conformance corpus (`testdata/utracker`): decode gives `fields`, encode from
//! `fields` gives the bytes, invalid packets are rejected; plus truncation sweeps.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::*;
use serde_json::Value;

const PACKETS: &str = include_str!("../../testdata/utracker/bep15_packets.json");
const OPTIONS: &str = include_str!("../../testdata/utracker/bep41_options.json");

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}
fn u32f(v: &Value) -> u32 {
    v.as_u64().unwrap() as u32
}
fn ih(v: &Value) -> InfoHash {
    v.as_str().unwrap().parse().unwrap()
}
fn peers_of(f: &Value) -> Vec<SocketAddr> {
    f["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            SocketAddr::new(
                p["ip"].as_str().unwrap().parse::<IpAddr>().unwrap(),
                p["port"].as_u64().unwrap() as u16,
            )
        })
        .collect()
}

fn check(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
    let f = &case["fields"];
    let valid = &case["valid"];
    let mut out = Vec::new();
    match name {
        n if n.starts_with("connect_request") => {
            let r = ConnectRequest::decode(&bytes).unwrap();
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            assert_eq!(hex_u64(&f["protocol_id"]), PROTOCOL_ID);
            r.encode(&mut out);
            assert_eq!(out, bytes[..16], "{name}");
        }
        "connect_response_wrong_transaction" => {
            // Well-formed; the client core must ignore it (see tests/client.rs).
            let r = ConnectResponse::decode(&bytes).unwrap();
            assert_ne!(r.transaction_id, 0x1234_5678);
        }
        n if n.starts_with("connect_response") => {
            if valid == false {
                assert!(
                    matches!(
                        ConnectResponse::decode(&bytes),
                        Err(DecodeError::TooShort { .. })
                    ),
                    "{name}"
                );
                assert!(Response::decode(&bytes, AddressFamily::V4).is_err());
                return;
            }
            let r = ConnectResponse::decode(&bytes).unwrap();
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            assert_eq!(r.connection_id, hex_u64(&f["connection_id"]));
            r.encode(&mut out);
            assert_eq!(out, bytes);
        }
        n if n.starts_with("announce_request") => {
            let r = AnnounceRequest::decode(&bytes).unwrap();
            assert_eq!(r.connection_id, hex_u64(&f["connection_id"]));
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            assert_eq!(r.info_hash, ih(&f["info_hash"]));
            assert_eq!(
                r.peer_id.as_bytes(),
                f["peer_id_ascii"].as_str().unwrap().as_bytes()
            );
            assert_eq!(r.downloaded, f["downloaded"].as_u64().unwrap());
            assert_eq!(r.left, f["left"].as_u64().unwrap());
            assert_eq!(r.uploaded, f["uploaded"].as_u64().unwrap());
            assert_eq!(r.event, Event(u32f(&f["event"])));
            assert_eq!(r.event.to_string(), f["event_name"].as_str().unwrap());
            assert_eq!(u32::from(r.ip), u32f(&f["ip"]));
            assert_eq!(r.key, u32f(&f["key"]));
            assert_eq!(r.num_want, f["num_want"].as_i64().unwrap() as i32);
            assert_eq!(r.port, f["port"].as_u64().unwrap() as u16);
            assert_eq!(r.url_data, None);
            // Build from fields.
            let built = AnnounceRequest {
                connection_id: hex_u64(&f["connection_id"]),
                transaction_id: u32f(&f["transaction_id"]),
                info_hash: ih(&f["info_hash"]),
                peer_id: PeerId::from_slice(f["peer_id_ascii"].as_str().unwrap().as_bytes())
                    .unwrap(),
                downloaded: f["downloaded"].as_u64().unwrap(),
                left: f["left"].as_u64().unwrap(),
                uploaded: f["uploaded"].as_u64().unwrap(),
                event: Event(u32f(&f["event"])),
                ip: Ipv4Addr::from(u32f(&f["ip"])),
                key: u32f(&f["key"]),
                num_want: f["num_want"].as_i64().unwrap() as i32,
                port: f["port"].as_u64().unwrap() as u16,
                url_data: None,
            };
            built.encode(&mut out);
            assert_eq!(out, bytes, "{name}");
        }
        n if n.starts_with("announce_response") => {
            let fam = if n.ends_with("ipv6") {
                AddressFamily::V6
            } else {
                AddressFamily::V4
            };
            if valid == false {
                assert!(
                    matches!(
                        AnnounceResponse::decode(&bytes, fam),
                        Err(DecodeError::TooShort { .. })
                    ),
                    "{name}"
                );
                return;
            }
            let r = AnnounceResponse::decode(&bytes, fam).unwrap();
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            assert_eq!(r.interval, u32f(&f["interval"]));
            assert_eq!(r.leechers, u32f(&f["leechers"]));
            assert_eq!(r.seeders, u32f(&f["seeders"]));
            assert_eq!(r.peers.iter().collect::<Vec<_>>(), peers_of(f), "{name}");
            // The same bytes read as the other family give other peers (family is not an action).
            r.encode(&mut out);
            if valid == true {
                assert_eq!(out, bytes);
            } else {
                // Lenient reading of a partial trailing entry: complete entries kept.
                assert_eq!(out, bytes[..20 + 6 * r.peers.len()]);
            }
        }
        "scrape_request" => {
            let r = ScrapeRequest::decode(&bytes).unwrap();
            assert_eq!(r.connection_id, hex_u64(&f["connection_id"]));
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            let want: Vec<InfoHash> = f["info_hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(ih)
                .collect();
            assert_eq!(r.hashes().collect::<Vec<_>>(), want);
            r.encode(&mut out);
            assert_eq!(out, bytes);
        }
        n if n.starts_with("scrape_response") => {
            if valid == false {
                assert!(matches!(
                    ScrapeResponse::decode(&bytes),
                    Err(DecodeError::TooShort { .. })
                ));
                return;
            }
            let r = ScrapeResponse::decode(&bytes).unwrap();
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            let want: Vec<ScrapeStats> = f["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| ScrapeStats {
                    seeders: u32f(&x["seeders"]),
                    completed: u32f(&x["completed"]),
                    leechers: u32f(&x["leechers"]),
                })
                .collect();
            assert_eq!(r.stats().collect::<Vec<_>>(), want);
            let mut files = Vec::new();
            for s in &want {
                s.encode(&mut files);
            }
            ScrapeResponse {
                transaction_id: u32f(&f["transaction_id"]),
                files: &files,
            }
            .encode(&mut out);
            assert_eq!(out, bytes);
        }
        n if n.starts_with("error_response") => {
            let r = ErrorResponse::decode(&bytes).unwrap();
            assert_eq!(r.transaction_id, u32f(&f["transaction_id"]));
            assert_eq!(r.message, f["message"].as_str().unwrap().as_bytes());
            match Response::decode(&bytes, AddressFamily::V4).unwrap() {
                Response::Error(e) => assert_eq!(e, r),
                other => panic!("{other:?}"),
            }
            r.encode(&mut out);
            assert_eq!(out, bytes);
        }
        other => panic!("unhandled case {other}"),
    }
}

#[test]
fn bep15_packets() {
    let v: Value = serde_json::from_str(PACKETS).unwrap();
    let cases = v["packets"].as_array().unwrap();
    assert_eq!(cases.len(), 20);
    for c in cases {
        check(c);
    }
}

#[test]
fn bep41_options() {
    let v: Value = serde_json::from_str(OPTIONS).unwrap();
    let mut n = 0;
    for c in v["cases"].as_array().unwrap() {
        let Some(opts) = c["options_hex"].as_str() else {
            continue;
        };
        n += 1;
        let name = c["name"].as_str().unwrap();
        let opts = hex::decode(opts).unwrap();
        let packet = hex::decode(c["announce_request_hex"].as_str().unwrap()).unwrap();
        let want = c["url_data_ascii"].as_str().map(|s| s.as_bytes().to_vec());
        let parsed = parse_options(&opts);
        if c["valid"] == false {
            assert!(
                matches!(parsed, Err(DecodeError::MalformedOption { .. })),
                "{name}"
            );
        } else {
            assert_eq!(parsed.unwrap().map(Cow::into_owned), want, "{name}");
        }
        let req = AnnounceRequest::decode(&packet).unwrap();
        assert_eq!(req.url_data.clone().map(Cow::into_owned), want, "{name}");
        // Our encoder chunks like the corpus does (255-byte pieces).
        if matches!(
            name,
            "urldata_basic" | "urldata_chunked" | "urldata_empty" | "no_options"
        ) {
            let mut out = Vec::new();
            req.encode(&mut out);
            assert_eq!(out, packet, "{name}");
        }
    }
    assert!(n >= 11, "{n}");
}

#[test]
fn truncation_sweep() {
    let v: Value = serde_json::from_str(PACKETS).unwrap();
    for c in v["packets"].as_array().unwrap() {
        if c["valid"] != true {
            continue;
        }
        let bytes = hex::decode(c["hex"].as_str().unwrap()).unwrap();
        let name = c["name"].as_str().unwrap();
        let min = if name.starts_with("connect") {
            16
        } else if name.starts_with("announce_request") {
            98
        } else if name.starts_with("announce_response") {
            20
        } else if name.starts_with("scrape_request") {
            36
        } else {
            8
        };
        for cut in 0..min.min(bytes.len()) {
            let p = &bytes[..cut];
            if c["direction"] == "client_to_tracker" {
                assert!(Request::decode(p).is_err(), "{name} cut at {cut}");
            } else {
                assert!(
                    Response::decode(p, AddressFamily::V4).is_err(),
                    "{name} cut at {cut}"
                );
                assert!(
                    Response::decode(p, AddressFamily::V6).is_err(),
                    "{name} cut at {cut}"
                );
            }
        }
    }
}

#[test]
fn round_trips_and_unknown_actions() {
    let h = InfoHash::new([7; 20]);
    let mut b = Vec::new();
    let req = AnnounceRequest {
        connection_id: 1,
        transaction_id: 2,
        info_hash: h,
        peer_id: PeerId::new([9; 20]),
        downloaded: 3,
        left: 4,
        uploaded: 5,
        event: Event(77),
        ip: Ipv4Addr::new(1, 2, 3, 4),
        key: 6,
        num_want: 50,
        port: 7,
        url_data: Some(Cow::Borrowed(&b"/announce?x=y"[..])),
    };
    req.encode(&mut b);
    assert_eq!(Request::decode(&b).unwrap(), Request::Announce(req.clone()));
    // An unknown action is reported with its value.
    let mut c = Vec::new();
    ConnectRequest { transaction_id: 1 }.encode(&mut c);
    c[11] = 9;
    assert!(matches!(
        Request::decode(&c),
        Err(DecodeError::WrongAction {
            action: Action(9),
            ..
        })
    ));
    let mut r = vec![0, 0, 0, 9, 0, 0, 0, 1];
    assert!(matches!(
        Response::decode(&r, AddressFamily::V4),
        Err(DecodeError::WrongAction {
            action: Action(9),
            ..
        })
    ));
    r[3] = 3;
    assert!(matches!(
        Response::decode(&r, AddressFamily::V4),
        Ok(Response::Error(_))
    ));
    // Bad protocol id.
    let mut c = Vec::new();
    ConnectRequest { transaction_id: 1 }.encode(&mut c);
    c[0] = 1;
    assert!(matches!(
        ConnectRequest::decode(&c),
        Err(DecodeError::BadProtocolId(_))
    ));
}
