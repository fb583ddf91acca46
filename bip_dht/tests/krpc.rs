//! KRPC codec: the conformance messages (BEP 5 examples and constructed BEP 32/42 ones), round
//! trips of every message kind, a truncation sweep and mutated input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bip_dht::krpc::{
    Body, DecodeError, ErrorCode, ErrorMessage, Message, Method, Query, Response, Values, Want,
    MAX_TOKEN_LEN, MAX_TRANSACTION_ID_LEN, MAX_VERSION_LEN,
};
use bip_util::{InfoHash, NodeId};
use proptest::prelude::*;
use serde_json::Value as Json;

const CORPUS: &str = include_str!("../testdata/krpc_messages.json");

/// Cases the codec rejects on purpose, with the reason and the expected error.
const REJECTED: &[(&str, &str, DecodeError)] = &[
    (
        "find_node_response",
        "BEP 5's example `nodes: \"def456...\"` is 9 bytes, not compact node info (26 bytes each)",
        DecodeError::Invalid("r.nodes"),
    ),
    (
        "get_peers_response_nodes",
        "BEP 5's example `nodes: \"def456...\"` is 9 bytes, not compact node info (26 bytes each)",
        DecodeError::Invalid("r.nodes"),
    ),
];

fn corpus() -> Json {
    serde_json::from_str(CORPUS).expect("krpc_messages.json parses")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// The `decoded` tree: `{"d": [[key_hex, v]...]}`, `{"l": [...]}`, `{"b": hex}`, `{"i": "n"}`.
fn get<'j>(tree: &'j Json, key: &str) -> Option<&'j Json> {
    let key = hex::encode(key);
    tree["d"]
        .as_array()
        .expect("a dictionary")
        .iter()
        .find(|kv| kv[0] == key.as_str())
        .map(|kv| &kv[1])
}

fn bytes_of(tree: &Json) -> Vec<u8> {
    unhex(tree["b"].as_str().expect("a byte string"))
}

fn int_of(tree: &Json) -> i64 {
    tree["i"].as_str().expect("an integer").parse().unwrap()
}

fn opt_bytes(tree: &Json, key: &str) -> Option<Vec<u8>> {
    get(tree, key).map(bytes_of)
}

fn flag(tree: &Json, key: &str) -> bool {
    get(tree, key).is_some_and(|v| int_of(v) != 0)
}

fn want_of(args: &Json) -> Want {
    let mut w = Want::default();
    if let Some(list) = get(args, "want") {
        for item in list["l"].as_array().unwrap() {
            match bytes_of(item).as_slice() {
                b"n4" => w.v4 = true,
                b"n6" => w.v6 = true,
                _ => {}
            }
        }
    }
    w
}

/// Checks every field of `msg` against the `decoded` tree.
fn check_fields(name: &str, msg: &Message<'_>, tree: &Json) {
    assert_eq!(
        msg.transaction_id,
        bytes_of(get(tree, "t").unwrap()),
        "{name}: t"
    );
    assert_eq!(
        msg.version.map(<[u8]>::to_vec),
        opt_bytes(tree, "v"),
        "{name}: v"
    );
    assert_eq!(
        msg.ip,
        opt_bytes(tree, "ip").map(|b| bip_util::decode_peer(&b).unwrap()),
        "{name}: ip"
    );
    assert_eq!(msg.read_only, flag(tree, "ro"), "{name}: ro");
    let y = bytes_of(get(tree, "y").unwrap());
    match &msg.body {
        Body::Query(q) => {
            assert_eq!(y, b"q", "{name}: y");
            let args = get(tree, "a").unwrap();
            assert_eq!(
                q.method.name(),
                bytes_of(get(tree, "q").unwrap()),
                "{name}: q"
            );
            assert_eq!(
                q.id.as_bytes()[..],
                opt_bytes(args, "id").unwrap(),
                "{name}"
            );
            match &q.method {
                Method::Ping => {}
                Method::FindNode { target, want: w } => {
                    assert_eq!(target.as_bytes()[..], opt_bytes(args, "target").unwrap());
                    assert_eq!(*w, want_of(args), "{name}: want");
                }
                Method::GetPeers {
                    info_hash,
                    want: w,
                    noseed,
                    scrape,
                } => {
                    assert_eq!(
                        info_hash.as_bytes()[..],
                        opt_bytes(args, "info_hash").unwrap()
                    );
                    assert_eq!(*w, want_of(args), "{name}: want");
                    assert_eq!(*noseed, flag(args, "noseed"));
                    assert_eq!(*scrape, flag(args, "scrape"));
                }
                Method::AnnouncePeer {
                    info_hash,
                    port,
                    implied_port,
                    token,
                    seed,
                } => {
                    assert_eq!(
                        info_hash.as_bytes()[..],
                        opt_bytes(args, "info_hash").unwrap()
                    );
                    assert_eq!(
                        i64::from(*port),
                        get(args, "port").map_or(0, int_of),
                        "{name}: port"
                    );
                    assert_eq!(*implied_port, flag(args, "implied_port"));
                    assert_eq!(token.to_vec(), opt_bytes(args, "token").unwrap());
                    assert_eq!(*seed, flag(args, "seed"));
                }
                other => panic!("{name}: unexpected method {other:?}"),
            }
        }
        Body::Response(r) => {
            assert_eq!(y, b"r", "{name}: y");
            let d = get(tree, "r").unwrap();
            assert_eq!(r.id.as_bytes()[..], opt_bytes(d, "id").unwrap(), "{name}");
            assert_eq!(r.nodes.map(<[u8]>::to_vec), opt_bytes(d, "nodes"), "{name}");
            assert_eq!(
                r.nodes6.map(<[u8]>::to_vec),
                opt_bytes(d, "nodes6"),
                "{name}"
            );
            assert_eq!(r.token.map(<[u8]>::to_vec), opt_bytes(d, "token"), "{name}");
            let expected_values: Option<Vec<SocketAddr>> = get(d, "values").map(|l| {
                l["l"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| bip_util::decode_peer(&bytes_of(b)).unwrap())
                    .collect()
            });
            assert_eq!(
                r.values.map(|v| v.iter().collect::<Vec<_>>()),
                expected_values,
                "{name}: values"
            );
        }
        Body::Error(e) => {
            assert_eq!(y, b"e", "{name}: y");
            let list = get(tree, "e").unwrap()["l"].as_array().unwrap();
            assert_eq!(e.code, ErrorCode(int_of(&list[0])), "{name}");
            assert_eq!(e.message, bytes_of(&list[1]), "{name}");
        }
    }
}

fn encode(m: &Message<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

/// The byte vectors of every message the codec accepts.
fn valid_corpus_messages() -> Vec<(String, Vec<u8>)> {
    let c = corpus();
    c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                unhex(m["bencoded_hex"].as_str().unwrap()),
            )
        })
        .filter(|(name, _)| !REJECTED.iter().any(|r| r.0 == name))
        .collect()
}

#[test]
fn conformance_messages() {
    let c = corpus();
    let messages = c["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 15, "corpus changed: review REJECTED");
    let mut accepted = 0;
    for m in messages {
        let name = m["name"].as_str().unwrap();
        let bytes = unhex(m["bencoded_hex"].as_str().unwrap());
        if let Some((_, reason, err)) = REJECTED.iter().find(|r| r.0 == name) {
            assert!(
                m["note"].as_str().unwrap_or("").contains("26"),
                "{name}: the corpus notes why ({reason})"
            );
            assert_eq!(
                Message::decode(&bytes),
                Err(err.clone()),
                "{name}: {reason}"
            );
            continue;
        }
        let msg = Message::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let kind = match msg.body {
            Body::Query(_) => "query",
            Body::Response(_) => "response",
            Body::Error(_) => "error",
        };
        assert_eq!(kind, m["kind"].as_str().unwrap(), "{name}");
        check_fields(name, &msg, &m["decoded"]);
        assert_eq!(encode(&msg), bytes, "{name}: re-encoding");
        accepted += 1;
    }
    assert_eq!(accepted, messages.len() - REJECTED.len());
}

#[test]
fn conformance_messages_with_valid_nodes_are_accepted() {
    // The two rejected BEP 5 examples with `nodes` replaced by one valid 26-byte node decode
    // and round trip (so only the 9-byte illustration is what is refused).
    let node = unhex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee4017c1f4b151ae1");
    let c = corpus();
    for (name, _, _) in REJECTED {
        let m = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == *name)
            .unwrap();
        let bytes = unhex(m["bencoded_hex"].as_str().unwrap());
        let needle = b"5:nodes9:def456...";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut fixed = bytes[..at].to_vec();
        fixed.extend_from_slice(b"5:nodes26:");
        fixed.extend_from_slice(&node);
        fixed.extend_from_slice(&bytes[at + needle.len()..]);
        let msg = Message::decode(&fixed).unwrap();
        let Body::Response(r) = &msg.body else {
            panic!("{name}: not a response")
        };
        assert_eq!(r.nodes, Some(&node[..]));
        assert_eq!(encode(&msg), fixed);
    }
}

#[test]
fn error_code_table() {
    let c = corpus();
    let named = [
        (201, ErrorCode::GENERIC),
        (202, ErrorCode::SERVER),
        (203, ErrorCode::PROTOCOL),
        (204, ErrorCode::METHOD_UNKNOWN),
        (205, ErrorCode::MESSAGE_TOO_BIG),
        (206, ErrorCode::INVALID_SIGNATURE),
        (207, ErrorCode::SALT_TOO_BIG),
        (301, ErrorCode::CAS_MISMATCH),
        (302, ErrorCode::SEQUENCE_TOO_LOW),
    ];
    let table = c["error_codes"].as_array().unwrap();
    assert_eq!(table.len(), named.len());
    for (entry, (code, constant)) in table.iter().zip(named) {
        assert_eq!(entry["code"].as_i64().unwrap(), code);
        assert_eq!(constant, ErrorCode(code));
        assert_eq!(constant.meaning(), entry["meaning"].as_str());
        // Every code survives a round trip.
        let m = Message {
            transaction_id: b"aa",
            version: None,
            ip: None,
            read_only: false,
            body: Body::Error(ErrorMessage {
                code: constant,
                message: b"x",
            }),
        };
        let bytes = encode(&m);
        assert_eq!(bytes, format!("d1:eli{code}e1:xe1:t2:aa1:y1:ee").as_bytes());
        assert_eq!(Message::decode(&bytes).unwrap(), m);
    }
    assert_eq!(ErrorCode(200).meaning(), None);
    // Unknown and negative codes survive too.
    for code in [0, -1, 999, i64::MIN, i64::MAX] {
        let bytes = format!("d1:eli{code}e0:e1:t0:1:y1:ee");
        let m = Message::decode(bytes.as_bytes()).unwrap();
        assert!(matches!(m.body, Body::Error(e) if e.code == ErrorCode(code)));
        assert_eq!(encode(&m), bytes.as_bytes());
    }
}

/// Every strict prefix of `bytes` is an error (never a panic, never a message).
fn assert_prefixes_fail(name: &str, bytes: &[u8]) {
    for end in 0..bytes.len() {
        assert!(
            Message::decode(&bytes[..end]).is_err(),
            "{name}: prefix of {end} bytes decoded"
        );
    }
}

#[test]
fn truncation_sweep() {
    for (name, bytes) in valid_corpus_messages() {
        Message::decode(&bytes).unwrap();
        assert_prefixes_fail(&name, &bytes);
    }
    // And a message with every optional field.
    let addrs: Vec<SocketAddr> = vec![
        "1.2.3.4:5".parse().unwrap(),
        "[2001:db8::1]:6881".parse().unwrap(),
    ];
    let mut resp = Response::new(NodeId::new([7; 20]));
    resp.nodes = Some(&[1; 52]);
    resp.nodes6 = Some(&[2; 38]);
    resp.token = Some(b"token");
    resp.values = Some(Values::Addrs(&addrs));
    let m = Message {
        transaction_id: b"\xff\x00",
        version: Some(b"UT\x01\x02"),
        ip: Some("[2001:db8::2]:1".parse().unwrap()),
        read_only: true,
        body: Body::Response(resp),
    };
    let bytes = encode(&m);
    Message::decode(&bytes).unwrap();
    assert_prefixes_fail("full response", &bytes);
}

// ---------------------------------------------------------------------------------------------
// Round trips of messages built in code
// ---------------------------------------------------------------------------------------------

/// Owned parts of a message, so a strategy can produce them and a `Message` can borrow them.
#[derive(Debug, Clone)]
struct Owned {
    tid: Vec<u8>,
    version: Option<Vec<u8>>,
    ip: Option<SocketAddr>,
    read_only: bool,
    body: OwnedBody,
}

#[derive(Debug, Clone)]
enum OwnedBody {
    Ping([u8; 20]),
    FindNode([u8; 20], [u8; 20], Want),
    GetPeers([u8; 20], [u8; 20], Want, bool, bool),
    Announce([u8; 20], [u8; 20], u16, bool, Vec<u8>, bool),
    Unknown([u8; 20], Vec<u8>, Option<[u8; 20]>, Want),
    Response {
        id: [u8; 20],
        nodes: Option<Vec<u8>>,
        nodes6: Option<Vec<u8>>,
        token: Option<Vec<u8>>,
        values: Option<Vec<SocketAddr>>,
    },
    Error(i64, Vec<u8>),
}

impl Owned {
    fn message(&self) -> Message<'_> {
        let body = match &self.body {
            OwnedBody::Ping(id) => query(id, Method::Ping),
            OwnedBody::FindNode(id, target, want) => query(
                id,
                Method::FindNode {
                    target: NodeId::new(*target),
                    want: *want,
                },
            ),
            OwnedBody::GetPeers(id, ih, want, noseed, scrape) => query(
                id,
                Method::GetPeers {
                    info_hash: InfoHash::new(*ih),
                    want: *want,
                    noseed: *noseed,
                    scrape: *scrape,
                },
            ),
            OwnedBody::Announce(id, ih, port, implied_port, token, seed) => query(
                id,
                Method::AnnouncePeer {
                    info_hash: InfoHash::new(*ih),
                    port: *port,
                    implied_port: *implied_port,
                    token,
                    seed: *seed,
                },
            ),
            OwnedBody::Unknown(id, name, target, want) => query(
                id,
                Method::Unknown {
                    name,
                    target: target.map(NodeId::new),
                    want: *want,
                },
            ),
            OwnedBody::Response {
                id,
                nodes,
                nodes6,
                token,
                values,
            } => {
                let mut r = Response::new(NodeId::new(*id));
                r.nodes = nodes.as_deref();
                r.nodes6 = nodes6.as_deref();
                r.token = token.as_deref();
                r.values = values.as_deref().map(Values::Addrs);
                Body::Response(r)
            }
            OwnedBody::Error(code, message) => Body::Error(ErrorMessage {
                code: ErrorCode(*code),
                message,
            }),
        };
        Message {
            transaction_id: &self.tid,
            version: self.version.as_deref(),
            ip: self.ip,
            read_only: self.read_only,
            body,
        }
    }
}

fn query<'a>(id: &[u8; 20], method: Method<'a>) -> Body<'a> {
    Body::Query(Query {
        id: NodeId::new(*id),
        method,
    })
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(ip),
            port,
            0,
            0
        ))),
    ]
}

fn want_strategy() -> impl Strategy<Value = Want> {
    (any::<bool>(), any::<bool>()).prop_map(|(v4, v6)| Want { v4, v6 })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn body() -> impl Strategy<Value = OwnedBody> {
    let id = any::<[u8; 20]>;
    prop_oneof![
        id().prop_map(OwnedBody::Ping),
        (id(), id(), want_strategy()).prop_map(|(a, b, w)| OwnedBody::FindNode(a, b, w)),
        (id(), id(), want_strategy(), any::<bool>(), any::<bool>())
            .prop_map(|(a, b, w, n, s)| OwnedBody::GetPeers(a, b, w, n, s)),
        (
            id(),
            id(),
            any::<u16>(),
            any::<bool>(),
            bytes(MAX_TOKEN_LEN),
            any::<bool>()
        )
            .prop_map(|(a, b, p, i, t, s)| OwnedBody::Announce(a, b, p, i, t, s)),
        (
            id(),
            "[a-z_]{1,24}".prop_filter("not a known method", |n| ![
                "ping",
                "find_node",
                "get_peers",
                "announce_peer",
                "get",
                "put",
                "sample_infohashes"
            ]
            .contains(&n.as_str())),
            proptest::option::of(id()),
            want_strategy()
        )
            .prop_map(|(a, n, t, w)| OwnedBody::Unknown(a, n.into_bytes(), t, w)),
        (
            id(),
            proptest::option::of((0usize..5).prop_flat_map(|n| bytes(n * 26).prop_map(
                move |mut b| {
                    b.resize(n * 26, 0);
                    b
                }
            ))),
            proptest::option::of((0usize..4).prop_flat_map(|n| bytes(n * 38).prop_map(
                move |mut b| {
                    b.resize(n * 38, 0);
                    b
                }
            ))),
            proptest::option::of(bytes(MAX_TOKEN_LEN)),
            proptest::option::of(prop::collection::vec(addr(), 0..40)),
        )
            .prop_map(|(id, nodes, nodes6, token, values)| OwnedBody::Response {
                id,
                nodes,
                nodes6,
                token,
                values
            }),
        (any::<i64>(), bytes(64)).prop_map(|(c, m)| OwnedBody::Error(c, m)),
    ]
}

fn owned() -> impl Strategy<Value = Owned> {
    (
        bytes(MAX_TRANSACTION_ID_LEN),
        proptest::option::of(bytes(MAX_VERSION_LEN)),
        proptest::option::of(addr()),
        any::<bool>(),
        body(),
    )
        .prop_map(|(tid, version, ip, read_only, body)| Owned {
            tid,
            version,
            ip,
            read_only,
            body,
        })
}

/// `values` as addresses, so a built `Values::Addrs` compares with a decoded `Values::Wire`.
fn values_of(m: &Message<'_>) -> Option<Vec<SocketAddr>> {
    match &m.body {
        Body::Response(r) => r.values.map(|v| v.iter().collect()),
        _ => None,
    }
}

fn without_values<'a>(m: &Message<'a>) -> Message<'a> {
    let mut m = m.clone();
    if let Body::Response(r) = &mut m.body {
        r.values = None;
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip(o in owned()) {
        let m = o.message();
        let bytes = encode(&m);
        // Canonical: the strict bencode decoder (sorted keys, no leading zeros) accepts it.
        prop_assert!(bip_bencode::decode(&bytes).is_ok());
        let d = Message::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(without_values(&d), without_values(&m));
        prop_assert_eq!(values_of(&d), values_of(&m));
        prop_assert_eq!(encode(&d), bytes);
    }

    #[test]
    fn built_messages_truncate_to_errors(o in owned()) {
        let bytes = encode(&o.message());
        for end in 0..bytes.len() {
            prop_assert!(Message::decode(&bytes[..end]).is_err());
        }
    }

    #[test]
    fn mutated_input_never_panics(
        seed in 0usize..64,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let corpus = valid_corpus_messages();
        let mut bytes = corpus[seed % corpus.len()].1.clone();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ if i < bytes.len() => bytes[i] ^= 1 << (byte % 8),
                _ => bytes.push(byte),
            }
        }
        if let Ok(m) = Message::decode(&bytes) {
            // Whatever is accepted re-encodes canonically and decodes to the same message.
            let again = encode(&m);
            prop_assert!(bip_bencode::decode(&again).is_ok());
            let d = Message::decode(&again).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(&d, &m);
            prop_assert_eq!(encode(&d), again);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in bytes(256)) {
        let _ = Message::decode(&bytes);
    }
}

#[test]
fn ipv4_mapped_values_stay_ipv6() {
    let mapped = SocketAddr::new(IpAddr::V6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped()), 80);
    let addrs = [mapped];
    let mut r = Response::new(NodeId::new([0; 20]));
    r.values = Some(Values::Addrs(&addrs));
    let m = Message {
        transaction_id: b"t",
        version: None,
        ip: Some(mapped),
        read_only: false,
        body: Body::Response(r),
    };
    let d_bytes = encode(&m);
    let d = Message::decode(&d_bytes).unwrap();
    assert_eq!(d.ip, Some(mapped));
    assert_eq!(values_of(&d), Some(vec![mapped]));
}

/// Found by the `krpc_decode` fuzz target: a BEP 44 `v` that is not canonical bencode
/// (`i01e`) was accepted in an answer and then re-encoded non-canonically. Answers refuse it at
/// decode now.
#[test]
fn non_canonical_bep44_value_is_refused() {
    let answer = hex::decode(
        "64313a7264323a696432303a6162636465666768696a30313233343536373839313a766930316565313a74323a6161313a79313a7265",
    )
    .unwrap();
    assert_eq!(
        bip_dht::krpc::Message::decode(&answer).unwrap_err(),
        bip_dht::krpc::DecodeError::Invalid("r.v")
    );
    // In a put query it still decodes, so the node can answer 203 (tests/bep44.rs); only then
    // does encoding write the value back as received.
    let put = hex::decode(
        "64313a6164323a696432303a6162636465666768696a30313233343536373839353a746f6b656e313a78313a766930316565313a71333a707574313a74323a6161313a79313a7165",
    )
    .unwrap();
    assert!(bip_dht::krpc::Message::decode(&put).is_ok());
    // The canonical spelling of the same value is accepted.
    let ok = b"d1:rd2:id20:abcdefghij01234567891:vi1ee1:t2:aa1:y1:re";
    assert!(bip_dht::krpc::Message::decode(ok).is_ok());
}
