//! BEP 44 (items), BEP 33 (Bloom filters) and BEP 51 (samples): the conformance vectors
//! (positive and negative), the codec on the corpus messages, the item store's rules, and two
//! cores serving each other (put/get, every BEP 44 error code, scrape, sample_infohashes).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bip_dht::bloom::BloomFilter;
use bip_dht::item::{
    immutable_target, mutable_target, signed_buffer, signing_key, verify, Item, ItemError,
    MutableItem,
};
use bip_dht::items::{ItemStore, ItemStoreConfig, PutError};
use bip_dht::krpc::{Body, ErrorCode, Message, Method, Query, Want};
use bip_dht::{Config, Event, LookupId, Node};
use bip_util::{InfoHash, NodeId};
use serde_json::Value as Json;

const CORPUS: &str = include_str!("../testdata/bep44_vectors.json");

fn corpus() -> Json {
    serde_json::from_str(CORPUS).expect("bep44_vectors.json parses")
}

fn hex(v: &Json) -> Vec<u8> {
    hex::decode(v.as_str().expect("a hex string")).expect("hex")
}

fn arr<const N: usize>(v: &Json) -> [u8; N] {
    hex(v).try_into().expect("length")
}

#[test]
fn vectors_sign_verify_and_target() {
    let c = corpus();
    let vectors = c["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let value = hex(&v["value_bencoded_hex"]);
        let target = hex(&v["target"]);
        if v["type"] == "immutable" {
            assert_eq!(immutable_target(&value).as_bytes(), &target[..], "{name}");
            assert!(Item::Immutable(value).verify().is_ok(), "{name}");
            continue;
        }
        let salt = hex(&v["salt_hex"]);
        let seq = v["seq"].as_i64().unwrap();
        let key: [u8; 32] = arr(&v["public_key"]);
        let sig: [u8; 64] = arr(&v["signature"]);
        let esk: [u8; 64] = arr(&v["secret_key_expanded"]);
        assert_eq!(
            signed_buffer(&salt, seq, &value),
            hex(&v["signed_buffer_hex"]),
            "{name}"
        );
        // Signing with the BEP's expanded key reproduces the published signature exactly.
        let item = MutableItem::sign_expanded(&esk, &salt, seq, &value).unwrap();
        assert_eq!(item.key, key, "{name}: public key from the expanded key");
        assert_eq!(item.signature, sig, "{name}: signature");
        assert_eq!(item.target().as_bytes(), &target[..], "{name}: target");
        assert_eq!(mutable_target(&key, &salt).as_bytes(), &target[..]);
        assert!(item.verify().is_ok(), "{name}");
        assert!(verify(&key, &salt, seq, &value, &sig).is_ok(), "{name}");
        eprintln!("{name}: signature and target match");
    }
}

#[test]
fn negative_vectors_do_not_verify() {
    let c = corpus();
    let negative = c["negative"].as_array().unwrap();
    assert_eq!(negative.len(), 3);
    for n in negative {
        let name = n["name"].as_str().unwrap();
        assert_eq!(n["verifies"], false);
        let key: [u8; 32] = arr(&n["public_key"]);
        let sig: [u8; 64] = arr(&n["signature"]);
        let buf = n["signed_buffer_ascii"].as_str().unwrap().as_bytes();
        // Parse the buffer back into (salt, seq, value) and check through the item API.
        let (salt, rest) = match buf.strip_prefix(b"4:salt") {
            Some(r) => {
                let colon = r.iter().position(|&b| b == b':').unwrap();
                let len: usize = std::str::from_utf8(&r[..colon]).unwrap().parse().unwrap();
                (
                    r[colon + 1..colon + 1 + len].to_vec(),
                    &r[colon + 1 + len..],
                )
            }
            None => (Vec::new(), buf),
        };
        let rest = rest.strip_prefix(b"3:seqi").unwrap();
        let e = rest.iter().position(|&b| b == b'e').unwrap();
        let seq: i64 = std::str::from_utf8(&rest[..e]).unwrap().parse().unwrap();
        let value = rest[e + 1..].strip_prefix(b"1:v").unwrap();
        assert_eq!(signed_buffer(&salt, seq, value), buf, "{name}");
        assert_eq!(
            verify(&key, &salt, seq, value, &sig),
            Err(ItemError::InvalidSignature),
            "{name}"
        );
        eprintln!("{name}: rejected");
    }
}

#[test]
fn rules_salt_value_and_canonical_bencode() {
    let key = signing_key(&[9; 32]);
    // A 64-byte salt is fine, 65 is not (error 207 on the wire).
    assert!(MutableItem::sign(&key, &[1; 64], 1, b"1:x").is_ok());
    assert_eq!(
        MutableItem::sign(&key, &[1; 65], 1, b"1:x"),
        Err(ItemError::SaltTooBig(65))
    );
    // An empty salt is no salt: target SHA-1(k).
    let item = MutableItem::sign(&key, b"", 1, b"1:x").unwrap();
    assert_eq!(item.target(), NodeId::from_sha1(&item.key));
    // 1000 bytes of bencoded value are fine, 1001 are not (205).
    let v1000 = format!("996:{}", "a".repeat(996));
    assert_eq!(v1000.len(), 1000);
    assert!(Item::Immutable(v1000.into_bytes()).verify().is_ok());
    let v1001 = format!("997:{}", "a".repeat(997));
    assert_eq!(
        Item::Immutable(v1001.into_bytes()).verify(),
        Err(ItemError::ValueTooBig(1001))
    );
    // Invalid bencoding (unsorted keys, trailing data) is refused (203).
    for bad in [&b"d1:bi1e1:ai2ee"[..], b"1:xx", b"i01e", b""] {
        assert_eq!(
            Item::Immutable(bad.to_vec()).verify(),
            Err(ItemError::InvalidValue),
            "{}",
            bad.escape_ascii()
        );
    }
    // Seeds sign and verify; another key's signature does not verify.
    let other = signing_key(&[10; 32]);
    let mut forged = MutableItem::sign(&other, b"", 1, b"1:x").unwrap();
    forged.key = item.key;
    assert_eq!(forged.verify(), Err(ItemError::InvalidSignature));
}

#[test]
fn corpus_messages_decode_and_reencode() {
    let c = corpus();
    for m in c["messages"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let bytes = hex(&m["bencoded_hex"]);
        let msg = Message::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Body::Query(q) = &msg.body else {
            panic!("{name}: not a query")
        };
        match &q.method {
            Method::Put {
                token,
                value,
                key,
                signature,
                seq,
                salt,
                cas,
            } => {
                assert_eq!(*token, b"aoeusnth");
                assert_eq!(*value, b"12:Hello World!");
                let k: [u8; 32] = arr(&c["vectors"][0]["public_key"]);
                let s: [u8; 64] = arr(&c["vectors"][0]["signature"]);
                assert_eq!(*key, Some(&k));
                assert_eq!(*signature, Some(&s));
                assert_eq!((*seq, *salt, *cas), (Some(1), None, None));
                assert!(verify(&k, b"", 1, value, &s).is_ok());
            }
            Method::Get { target, seq, .. } => {
                assert_eq!(target.as_bytes(), &arr::<20>(&c["vectors"][0]["target"]));
                assert_eq!(*seq, None);
            }
            other => panic!("{name}: {other:?}"),
        }
        let mut out = Vec::new();
        msg.encode(&mut out);
        assert_eq!(out, bytes, "{name}: canonical re-encoding");
        // Truncation sweep: every prefix is an error, never a panic.
        for i in 0..bytes.len() {
            assert!(Message::decode(&bytes[..i]).is_err());
        }
    }
}

#[test]
fn item_store_rules() {
    let now = Instant::now();
    let key = signing_key(&[3; 32]);
    let mut store = ItemStore::new(ItemStoreConfig::default());
    let m = |seq: i64, v: &[u8]| Item::Mutable(MutableItem::sign(&key, b"s", seq, v).unwrap());
    store.put(now, m(5, b"1:a"), None).unwrap();
    assert_eq!(store.put(now, m(4, b"1:b"), None), Err(PutError::SeqTooLow));
    assert_eq!(
        store.put(now, m(6, b"1:b"), Some(4)),
        Err(PutError::CasMismatch)
    );
    store.put(now, m(6, b"1:b"), Some(5)).unwrap();
    let target = m(6, b"1:b").target();
    assert_eq!(store.get(now, &target), Some(&m(6, b"1:b")));
    // Expiry.
    let ttl = store.config().item_ttl;
    assert_eq!(store.get(now + ttl, &target), None);
    store.expire(now + ttl);
    assert!(store.is_empty());
    // LRU: with room for 2, the least recently used goes.
    let mut cfg = ItemStoreConfig::default();
    cfg.max_items = 2;
    let mut store = ItemStore::new(cfg);
    let a = Item::Immutable(b"1:a".to_vec());
    let b = Item::Immutable(b"1:b".to_vec());
    let c = Item::Immutable(b"1:c".to_vec());
    store.put(now, a.clone(), None).unwrap();
    store
        .put(now + Duration::from_secs(1), b.clone(), None)
        .unwrap();
    store.touch(now + Duration::from_secs(2), &a.target());
    store
        .put(now + Duration::from_secs(3), c.clone(), None)
        .unwrap();
    assert_eq!(store.len(), 2);
    let t = now + Duration::from_secs(4);
    assert!(store.get(t, &a.target()).is_some());
    assert!(store.get(t, &b.target()).is_none());
    assert!(store.get(t, &c.target()).is_some());
}

/// BEP 33's test vector: 192.0.2.0-255 and 2001:DB8::-2001:DB8::3E7 give the published filter
/// and an estimate of 1224.9308.
#[test]
fn bep33_bloom_vector() {
    let expected = "F6C3F5EAA07FFD91BDE89F777F26FB2BFF37BDB8FB2BBAA2FD3DDDE7BACFFF75EE7CCBAE\
        FE5EEDB1FBFAFF67F6ABFF5E43DDBCA3FD9B9FFDF4FFD3E9DFF12D1BDF59DB53DBE9FA5B\
        7FF3B8FDFCDE1AFB8BEDD7BE2F3EE71EBBBFE93BCDEEFE148246C2BC5DBFF7E7EFDCF24F\
        D8DC7ADFFD8FFFDFDDFFF7A4BBEEDF5CB95CE81FC7FCFF1FF4FFFFDFE5F7FDCBB7FD79B3\
        FA1FC77BFE07FFF905B7B7FFC7FEFEFFE0B8370BB0CD3F5B7F2BD93FEB4386CFDD6F7FD5\
        BFAF2E9EBFFFFEECD67ADBF7C67F17EFD5D75EBA6FFEBA7FFF47A91EB1BFBB53E8ABFB57\
        62ABE8FF237279BFEFBFEEF5FFC5FEBFDFE5ADFFADFEE1FB737FFFFBFD9F6AEFFEEE76B6\
        FD8F72EF";
    let mut f = BloomFilter::new();
    for i in 0..=255u8 {
        f.insert(std::net::Ipv4Addr::new(192, 0, 2, i).into());
    }
    let base = u128::from("2001:db8::".parse::<std::net::Ipv6Addr>().unwrap());
    for i in 0..=0x3e7u128 {
        f.insert(std::net::Ipv6Addr::from(base + i).into());
    }
    assert_eq!(hex::encode_upper(f.0), expected);
    let est = f.estimate();
    assert!((est - 1224.9308).abs() < 0.001, "estimate {est}");
    assert!(f.contains("192.0.2.7".parse().unwrap()));
    assert_eq!(BloomFilter::new().estimate(), 0.0);
}

// ---- two cores ---------------------------------------------------------------------------------

fn query(tid: u32, id: NodeId, method: Method<'_>) -> Vec<u8> {
    let t = tid.to_be_bytes();
    let mut out = Vec::new();
    Message {
        transaction_id: &t,
        version: None,
        ip: None,
        read_only: false,
        body: Body::Query(Query { id, method }),
    }
    .encode(&mut out);
    out
}

/// The one answer `node` sends to `to` after `query`.
fn answer_to(node: &mut Node, now: Instant, to: SocketAddr, query: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    while node.poll_transmit(&mut buf).is_some() {}
    node.handle_datagram(now, to, query);
    let mut answers = Vec::new();
    while let Some(t) = node.poll_transmit(&mut buf) {
        if t.to == to {
            answers.push(buf[..t.len].to_vec());
        }
    }
    assert_eq!(answers.len(), 1, "exactly one answer");
    answers.pop().unwrap()
}

/// A get to `node`: its token, and the answer's bytes.
fn get(
    node: &mut Node,
    now: Instant,
    from: SocketAddr,
    target: NodeId,
    seq: Option<i64>,
) -> Vec<u8> {
    answer_to(
        node,
        now,
        from,
        &query(
            1,
            NodeId::from([4; 20]),
            Method::Get {
                target,
                seq,
                want: Want::default(),
            },
        ),
    )
}

fn token_of(answer: &[u8]) -> Vec<u8> {
    let Body::Response(r) = Message::decode(answer).unwrap().body else {
        panic!("not a response")
    };
    r.token.expect("a token").to_vec()
}

fn error_code(answer: &[u8]) -> Option<ErrorCode> {
    match Message::decode(answer).unwrap().body {
        Body::Error(e) => Some(e.code),
        _ => None,
    }
}

fn put_item(
    node: &mut Node,
    now: Instant,
    from: SocketAddr,
    token: &[u8],
    item: &MutableItem,
    cas: Option<i64>,
) -> Vec<u8> {
    answer_to(
        node,
        now,
        from,
        &query(
            2,
            NodeId::from([4; 20]),
            Method::Put {
                token,
                value: &item.value,
                key: Some(&item.key),
                signature: Some(&item.signature),
                seq: Some(item.seq),
                salt: (!item.salt.is_empty()).then_some(&item.salt[..]),
                cas,
            },
        ),
    )
}

#[test]
fn serving_put_and_get_with_every_error() {
    let now = Instant::now();
    let mut node = Node::new(Config::default(), [1; 32]);
    node.handle_timeout(now);
    let from: SocketAddr = "10.0.0.9:7000".parse().unwrap();
    let key = signing_key(&[5; 32]);
    let item = MutableItem::sign(&key, b"salt", 3, b"5:hello").unwrap();
    let target = item.target();

    // Nothing yet: a token, no value.
    let a = get(&mut node, now, from, target, None);
    let token = token_of(&a);
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert!(r.value.is_none());

    // A bad token: 203.
    assert_eq!(
        error_code(&put_item(&mut node, now, from, b"12345678", &item, None)),
        Some(ErrorCode::PROTOCOL)
    );
    // A bad signature: 206.
    let mut bad = item.clone();
    bad.signature[0] ^= 1;
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &bad, None)),
        Some(ErrorCode::INVALID_SIGNATURE)
    );
    // A salt over 64 bytes: 207 (the signature is checked after the salt).
    let mut salty = item.clone();
    salty.salt = vec![1; 65];
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &salty, None)),
        Some(ErrorCode::SALT_TOO_BIG)
    );
    // A value over 1000 bytes: 205.
    let big = format!("1200:{}", "b".repeat(1200));
    let mut large = item.clone();
    large.value = big.into_bytes();
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &large, None)),
        Some(ErrorCode::MESSAGE_TOO_BIG)
    );
    // Stored.
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &item, None)),
        None
    );
    let mut stored = Vec::new();
    while let Some(e) = node.poll_event() {
        if let Event::ItemStored { target } = e {
            stored.push(target);
        }
    }
    assert_eq!(stored, [target]);
    // A lower seq: 302; a wrong cas: 301.
    let older = MutableItem::sign(&key, b"salt", 2, b"3:old").unwrap();
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &older, None)),
        Some(ErrorCode::SEQUENCE_TOO_LOW)
    );
    let newer = MutableItem::sign(&key, b"salt", 4, b"3:new").unwrap();
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &newer, Some(2))),
        Some(ErrorCode::CAS_MISMATCH)
    );
    // The get returns k, seq, sig and v; with `seq` not older than stored, no v.
    let a = get(&mut node, now, from, target, None);
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert_eq!(r.value, Some(&b"5:hello"[..]));
    assert_eq!(
        (r.key, r.seq, r.signature),
        (Some(&item.key), Some(3), Some(&item.signature))
    );
    let a = get(&mut node, now, from, target, Some(3));
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert_eq!((r.value, r.seq), (None, Some(3)));

    // Immutable: invalid bencoding 203, then stored and returned.
    let imm = |v: &'static [u8]| {
        query(
            3,
            NodeId::from([4; 20]),
            Method::Put {
                token: &token,
                value: v,
                key: None,
                signature: None,
                seq: None,
                salt: None,
                cas: None,
            },
        )
    };
    assert_eq!(
        error_code(&answer_to(&mut node, now, from, &imm(b"d1:bi1e1:ai2ee"))),
        Some(ErrorCode::PROTOCOL)
    );
    assert_eq!(
        error_code(&answer_to(&mut node, now, from, &imm(b"12:Hello World!"))),
        None
    );
    let a = get(
        &mut node,
        now,
        from,
        immutable_target(b"12:Hello World!"),
        None,
    );
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert_eq!(r.value, Some(&b"12:Hello World!"[..]));
    assert_eq!(node.stats().stored_items, 2);
}

/// Carry datagrams between cores until all are quiet.
fn shuttle(now: Instant, nodes: &mut [(Node, SocketAddr)]) {
    let mut buf = Vec::new();
    for _ in 0..16 {
        let mut moved = false;
        for i in 0..nodes.len() {
            while let Some(t) = nodes[i].0.poll_transmit(&mut buf) {
                moved = true;
                let from = nodes[i].1;
                if let Some(j) = nodes.iter().position(|(_, a)| *a == t.to) {
                    nodes[j].0.handle_datagram(now, from, &buf[..t.len]);
                }
            }
        }
        if !moved {
            break;
        }
    }
}

fn events_of(node: &mut Node, l: LookupId) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = node.poll_event() {
        match &e {
            Event::Item { lookup, .. }
            | Event::Sample { lookup, .. }
            | Event::Scrape { lookup, .. }
            | Event::LookupDone { lookup, .. }
                if *lookup == l =>
            {
                out.push(e)
            }
            _ => {}
        }
    }
    out
}

/// Four cores on one virtual instant: put/get immutable and mutable (the higher seq wins),
/// a scrape's estimates, and a sampling crawl.
#[test]
fn lookups_between_cores() {
    let now = Instant::now();
    let mut nodes: Vec<(Node, SocketAddr)> = (0..4u8)
        .map(|i| {
            (
                Node::new(Config::default(), [i + 1; 32]),
                SocketAddr::from(([10, 0, 0, i + 1], 6881)),
            )
        })
        .collect();
    for i in 0..4 {
        nodes[i].0.handle_timeout(now);
        for j in 0..4 {
            if i != j {
                let a = nodes[j].1;
                nodes[i].0.add_node(now, a);
            }
        }
    }
    shuttle(now, &mut nodes);
    for (n, _) in nodes.iter_mut() {
        while n.poll_event().is_some() {}
    }

    // Immutable.
    let value = b"12:Hello World!".to_vec();
    let l = nodes[0]
        .0
        .put(now, Item::Immutable(value.clone()), None)
        .unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[0].0, l);
    let Some(Event::LookupDone { summary, .. }) = ev.last() else {
        panic!("{ev:?}")
    };
    assert_eq!(summary.announced, Some(3), "three nodes stored it");
    let l = nodes[3]
        .0
        .get_immutable(now, immutable_target(&value))
        .unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[3].0, l);
    assert!(ev.contains(&Event::Item {
        lookup: l,
        item: Item::Immutable(value.clone())
    }));

    // Mutable: two puts, the get returns the higher seq.
    let key = signing_key(&[42; 32]);
    for (seq, v) in [(1, &b"3:one"[..]), (2, b"3:two")] {
        let item = MutableItem::sign(&key, b"room", seq, v).unwrap();
        let l = nodes[1].0.put(now, Item::Mutable(item), None).unwrap();
        shuttle(now, &mut nodes);
        let ev = events_of(&mut nodes[1].0, l);
        assert!(
            matches!(ev.last(), Some(Event::LookupDone { summary, .. }) if summary.announced == Some(3))
        );
    }
    let pk = key.verifying_key().to_bytes();
    let l = nodes[2].0.get_mutable(now, pk, b"room").unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[2].0, l);
    let item = ev
        .iter()
        .find_map(|e| match e {
            Event::Item {
                item: Item::Mutable(m),
                ..
            } => Some(m.clone()),
            _ => None,
        })
        .expect("found");
    assert_eq!((item.seq, &item.value[..]), (2, &b"3:two"[..]));
    // The wrong salt finds nothing.
    let l = nodes[2].0.get_mutable(now, pk, b"other").unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[2].0, l);
    assert!(!ev.iter().any(|e| matches!(e, Event::Item { .. })));

    // Scrape: announce 1 seed + 2 peers to everyone, then estimate.
    let hash = InfoHash::from_sha1(b"swarm");
    for (i, seed) in [(0, true), (1, false), (2, false)] {
        nodes[i].0.announce(now, hash, Some(7000), seed).unwrap();
        shuttle(now, &mut nodes);
    }
    let l = nodes[3].0.scrape(now, hash).unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[3].0, l);
    assert!(
        ev.contains(&Event::Scrape {
            lookup: l,
            info_hash: hash,
            seeds: 1,
            peers: 2
        }),
        "{ev:?}"
    );

    // Sampling: node 3 crawls and meets the hash from the others' stores.
    let l = nodes[3].0.sample_infohashes(now, 100).unwrap();
    shuttle(now, &mut nodes);
    let ev = events_of(&mut nodes[3].0, l);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Sample { info_hash, .. } if *info_hash == hash)),
        "{ev:?}"
    );
    let Some(Event::LookupDone { summary, .. }) = ev.last() else {
        panic!("{ev:?}")
    };
    assert_eq!(summary.peers, 1, "one distinct hash");
    assert_eq!(summary.replies, 3);
}

/// Every new query and answer field round-trips byte for byte, and every prefix of each is an
/// error (never a panic).
#[test]
fn new_messages_round_trip_and_truncate() {
    let id = NodeId::from([1; 20]);
    let target = NodeId::from([2; 20]);
    let key = [3u8; 32];
    let sig = [4u8; 64];
    let bf = [5u8; 256];
    let samples = [6u8; 40];
    let queries = [
        Method::Get {
            target,
            seq: Some(7),
            want: Want { v4: true, v6: true },
        },
        Method::Get {
            target,
            seq: None,
            want: Want::default(),
        },
        Method::Put {
            token: b"tok",
            value: b"d1:ai1ee",
            key: Some(&key),
            signature: Some(&sig),
            seq: Some(-1),
            salt: Some(b"salt"),
            cas: Some(9),
        },
        Method::Put {
            token: b"tok",
            value: b"5:hello",
            key: None,
            signature: None,
            seq: None,
            salt: None,
            cas: None,
        },
        Method::SampleInfohashes {
            target,
            want: Want {
                v4: true,
                v6: false,
            },
        },
    ];
    let mut all = Vec::new();
    for m in queries {
        all.push(query(9, id, m));
    }
    let mut r = bip_dht::krpc::Response::new(id);
    r.value = Some(b"l1:ae");
    r.key = Some(&key);
    r.signature = Some(&sig);
    r.seq = Some(42);
    r.samples = Some(&samples);
    r.num = Some(2);
    r.interval = Some(21600);
    r.bf_seeds = Some(&bf);
    r.bf_peers = Some(&bf);
    r.token = Some(b"tt");
    r.nodes = Some(&[]);
    let mut out = Vec::new();
    Message {
        transaction_id: b"aa",
        version: None,
        ip: None,
        read_only: false,
        body: Body::Response(r.clone()),
    }
    .encode(&mut out);
    all.push(out);
    for bytes in &all {
        let msg =
            Message::decode(bytes).unwrap_or_else(|e| panic!("{e}: {}", bytes.escape_ascii()));
        let mut again = Vec::new();
        msg.encode(&mut again);
        assert_eq!(&again, bytes, "{}", bytes.escape_ascii());
        for i in 0..bytes.len() {
            assert!(Message::decode(&bytes[..i]).is_err());
        }
    }
    let Body::Response(back) = Message::decode(all.last().unwrap()).unwrap().body else {
        panic!()
    };
    assert_eq!(back, r);
    // Wrong lengths are errors naming the field.
    for (bad, field) in [
        (
            &b"d1:rd2:id20:aaaaaaaaaaaaaaaaaaaa1:k3:abce1:t2:aa1:y1:re"[..],
            "r.k",
        ),
        (
            b"d1:rd4:BFsd3:abc2:id20:aaaaaaaaaaaaaaaaaaaae1:t2:aa1:y1:re",
            "r.BFsd",
        ),
        (
            b"d1:rd2:id20:aaaaaaaaaaaaaaaaaaaa7:samples3:abce1:t2:aa1:y1:re",
            "r.samples",
        ),
    ] {
        assert_eq!(
            Message::decode(bad),
            Err(bip_dht::krpc::DecodeError::Invalid(field))
        );
    }
}

/// A `get` answer carrying a 1,000-byte value to a requester that wants both families still fits
/// in one datagram (the other family's nodes are left out).
#[test]
fn large_item_answers_fit_one_datagram() {
    let now = Instant::now();
    let mut cfg = Config::default();
    cfg.ipv6 = true;
    let mut node = Node::new(cfg, [7; 32]);
    node.handle_timeout(now);
    // Fill both tables: pings from 16 IPv4 and 16 IPv6 nodes.
    for i in 0..16u8 {
        let ping = |id: u8| query(100 + u32::from(id), NodeId::from([id; 20]), Method::Ping);
        let v4 = SocketAddr::from(([10, 0, 1, i], 7000));
        let v6: SocketAddr = format!("[fd00::{}]:7000", i + 1).parse().unwrap();
        answer_to(&mut node, now, v4, &ping(i + 1));
        answer_to(&mut node, now, v6, &ping(i + 100));
    }
    let s = node.stats();
    assert!(s.nodes_v4 >= 8 && s.nodes_v6 >= 8, "{s:?}");
    let from: SocketAddr = "10.0.0.9:7000".parse().unwrap();
    let key = signing_key(&[5; 32]);
    let big = format!("995:{}", "x".repeat(995));
    let item = MutableItem::sign(&key, b"", 1, big.as_bytes()).unwrap();
    let token = token_of(&get(&mut node, now, from, item.target(), None));
    assert_eq!(
        error_code(&put_item(&mut node, now, from, &token, &item, None)),
        None
    );
    let a = answer_to(
        &mut node,
        now,
        from,
        &query(
            5,
            NodeId::from([4; 20]),
            Method::Get {
                target: item.target(),
                seq: None,
                want: Want { v4: true, v6: true },
            },
        ),
    );
    assert!(a.len() <= bip_dht::MAX_DATAGRAM, "{} bytes", a.len());
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert_eq!(r.value, Some(big.as_bytes()));
    assert!(r.nodes.is_some_and(|n| !n.is_empty()));
}
