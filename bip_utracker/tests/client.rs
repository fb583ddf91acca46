//! Client core in virtual time: retransmission schedule, connection-id expiry,
//! transaction matching, opentracker's 8-byte reply.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::*;
use bip_utracker::*;

const TRACKER: &str = "192.0.2.1:6969";

fn tracker() -> SocketAddr {
    TRACKER.parse().unwrap()
}

fn params() -> AnnounceParams {
    let mut p = AnnounceParams::new(InfoHash::new([5; 20]), PeerId::new([6; 20]), 6881);
    p.event = Event::STARTED;
    p.left = 10;
    p
}

fn cfg() -> ClientConfig {
    let mut c = ClientConfig::default();
    c.base_timeout = Duration::from_millis(10);
    c.max_tries = 3;
    c
}

/// A datagram the core handed out, as owned bytes.
struct Sent {
    #[allow(dead_code)]
    to: SocketAddr,
    bytes: Vec<u8>,
}

fn tx(c: &mut ClientCore) -> Option<Sent> {
    let mut buf = Vec::new();
    let t = c.poll_transmit(&mut buf)?;
    buf.truncate(t.len);
    Some(Sent {
        to: t.to,
        bytes: buf,
    })
}

fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

fn connect_reply(req: &[u8], cid: u64) -> Vec<u8> {
    let c = ConnectRequest::decode(req).unwrap();
    let mut b = Vec::new();
    ConnectResponse {
        transaction_id: c.transaction_id,
        connection_id: cid,
    }
    .encode(&mut b);
    b
}

#[test]
fn retransmits_at_base_times_two_to_the_n_then_fails() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(cfg(), seed(1));
    let id = c.announce(t0, tracker(), params(), None);
    let mut sends = vec![];
    let mut now = t0;
    while let Some(t) = tx(&mut c) {
        sends.push((now - t0, t.bytes));
    }
    while let Some(d) = c.poll_timeout() {
        now = d;
        c.handle_timeout(now);
        while let Some(t) = tx(&mut c) {
            sends.push((now - t0, t.bytes));
        }
    }
    let times: Vec<u64> = sends.iter().map(|(d, _)| d.as_millis() as u64).collect();
    assert_eq!(times, vec![0, 10, 30], "10 ms, then 20 ms");
    assert!(sends.iter().all(|(_, b)| ConnectRequest::decode(b).is_ok()));
    assert_eq!(now - t0, Duration::from_millis(70));
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Failed(id, RequestError::Timeout(3)))
    );
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn connection_id_cached_for_a_minute_and_transactions_matched() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(ClientConfig::default(), seed(2));
    let a = c.announce(t0, tracker(), params(), Some(b"/ann?k=1".to_vec()));
    let b = c.scrape(t0, tracker(), vec![InfoHash::new([5; 20])]);
    // One connect serves both requests.
    let conn = tx(&mut c).unwrap();
    assert!(tx(&mut c).is_none());
    // The corpus' wrong-transaction reply is ignored; so is a reply from another address.
    let mut wrong = connect_reply(&conn.bytes, 1);
    wrong[7] ^= 1;
    c.handle_datagram(t0, tracker(), &wrong);
    c.handle_datagram(
        t0,
        "192.0.2.2:6969".parse().unwrap(),
        &connect_reply(&conn.bytes, 1),
    );
    assert!(tx(&mut c).is_none());
    c.handle_datagram(t0, tracker(), &connect_reply(&conn.bytes, 0xabc));
    let r1 = tx(&mut c).unwrap().bytes;
    let r2 = tx(&mut c).unwrap().bytes;
    let ann = AnnounceRequest::decode(&r1).unwrap();
    assert_eq!(ann.connection_id, 0xabc);
    assert_eq!(ann.url_data.as_deref(), Some(&b"/ann?k=1"[..]));
    assert_eq!(ann.event, Event::STARTED);
    let scr = ScrapeRequest::decode(&r2).unwrap();
    // Answer out of order.
    let mut out = Vec::new();
    ScrapeResponse {
        transaction_id: scr.transaction_id,
        files: &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
    }
    .encode(&mut out);
    c.handle_datagram(t0, tracker(), &out);
    out.clear();
    let peers = [192, 0, 2, 9, 0x1a, 0xe1];
    AnnounceResponse {
        transaction_id: ann.transaction_id,
        interval: 60,
        leechers: 1,
        seeders: 2,
        peers: Peers::V4(&peers),
    }
    .encode(&mut out);
    c.handle_datagram(t0, tracker(), &out);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Scraped(
            b,
            vec![ScrapeStats {
                seeders: 1,
                completed: 2,
                leechers: 3
            }]
        ))
    );
    match c.poll_event() {
        Some(ClientEvent::Announced(id, r)) => {
            assert_eq!(id, a);
            assert_eq!(
                (r.interval, r.leechers, r.seeders, r.peers),
                (60, 1, 2, vec!["192.0.2.9:6881".parse().unwrap()])
            );
        }
        other => panic!("{other:?}"),
    }
    // A duplicate answer is ignored.
    c.handle_datagram(t0, tracker(), &out);
    assert!(c.poll_event().is_none());
    // Within the minute: no new connect.
    c.announce(t0 + Duration::from_secs(59), tracker(), params(), None);
    assert!(AnnounceRequest::decode(&tx(&mut c).unwrap().bytes).is_ok());
    // After the minute: connect again.
    let t1 = t0 + Duration::from_secs(61);
    c.handle_timeout(t1);
    c.announce(t1, tracker(), params(), None);
    let mut saw_connect = false;
    while let Some(t) = tx(&mut c) {
        saw_connect |= ConnectRequest::decode(&t.bytes).is_ok();
    }
    assert!(saw_connect);
}

#[test]
fn opentracker_eight_byte_reply_and_errors_end_the_request() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(cfg(), seed(3));
    let id = c.announce(t0, tracker(), params(), None);
    let conn = tx(&mut c).unwrap();
    c.handle_datagram(t0, tracker(), &connect_reply(&conn.bytes, 7));
    let ann = AnnounceRequest::decode(&tx(&mut c).unwrap().bytes)
        .unwrap()
        .transaction_id;
    let mut short = vec![0, 0, 0, 1];
    short.extend_from_slice(&ann.to_be_bytes());
    c.handle_datagram(t0, tracker(), &short);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Failed(id, RequestError::ShortAnnounce(8)))
    );
    assert_eq!(c.poll_timeout(), None, "nothing left to retransmit");
    // Error packet.
    let id = c.scrape(t0, tracker(), vec![InfoHash::new([1; 20])]);
    let sb = tx(&mut c).unwrap().bytes;
    let s = ScrapeRequest::decode(&sb).unwrap();
    let mut e = Vec::new();
    ErrorResponse {
        transaction_id: s.transaction_id,
        message: b"nope",
    }
    .encode(&mut e);
    c.handle_datagram(t0, tracker(), &e);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Failed(
            id,
            RequestError::Tracker("nope".into())
        ))
    );
    // Scrape size limits.
    let id = c.scrape(t0, tracker(), vec![InfoHash::new([1; 20]); 75]);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Failed(id, RequestError::ScrapeSize(75)))
    );
}

#[test]
fn retransmitted_request_after_connect() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(cfg(), seed(4));
    c.announce(t0, tracker(), params(), None);
    let conn = tx(&mut c).unwrap();
    c.handle_datagram(t0, tracker(), &connect_reply(&conn.bytes, 7));
    let first = AnnounceRequest::decode(&tx(&mut c).unwrap().bytes)
        .unwrap()
        .transaction_id;
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(10)));
    c.handle_timeout(t0 + Duration::from_millis(10));
    let ab = tx(&mut c).unwrap().bytes;
    let again = AnnounceRequest::decode(&ab).unwrap();
    assert_eq!(again.connection_id, 7);
    assert_ne!(again.transaction_id, first);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(30)));
}

#[test]
fn tracker_answering_only_connects_still_times_out() {
    let t0 = Instant::now();
    // Connection ids expire faster than the retransmission schedule.
    let mut cfg = cfg();
    cfg.connection_id_lifetime = Duration::from_millis(15);
    let mut c = ClientCore::new(cfg, seed(5));
    let id = c.announce(t0, tracker(), params(), None);
    let mut now = t0;
    let mut connects = 0;
    for _ in 0..100 {
        while let Some(t) = tx(&mut c) {
            if ConnectRequest::decode(&t.bytes).is_ok() {
                connects += 1;
                c.handle_datagram(now, tracker(), &connect_reply(&t.bytes, 1));
            }
        }
        if let Some(ev) = c.poll_event() {
            assert_eq!(ev, ClientEvent::Failed(id, RequestError::Timeout(3)));
            assert!(connects >= 2, "reconnected after the id expired");
            return;
        }
        now = c.poll_timeout().expect("a deadline while in flight");
        c.handle_timeout(now);
    }
    panic!("never timed out");
}

#[test]
fn cancel_stops_retransmissions_and_reports_nothing() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(cfg(), seed(9));
    let id = c.announce(t0, tracker(), params(), None);
    assert!(tx(&mut c).is_some());
    c.cancel(id);
    assert_eq!(c.poll_timeout(), None, "nothing pending after cancel");
    c.handle_timeout(t0 + Duration::from_secs(10));
    assert!(tx(&mut c).is_none());
    assert!(c.poll_event().is_none());
    assert_eq!(c.stats().cancelled, 1);
    assert_eq!(c.stats().in_flight, 0);
}

#[test]
fn unreachable_target_fails_at_once() {
    let t0 = Instant::now();
    let mut c = ClientCore::new(cfg(), seed(10));
    let v6: SocketAddr = "[2001:db8::1]:6969".parse().unwrap();
    let id = c.announce(t0, v6, params(), None);
    let _ = tx(&mut c);
    c.fail_target(v6, "no socket of this address family");
    match c.poll_event() {
        Some(ClientEvent::Failed(got, RequestError::Unreachable { addr, .. })) => {
            assert_eq!((got, addr), (id, v6));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.poll_timeout(), None);
}
