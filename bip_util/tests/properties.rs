//! Property tests of the public API: text round trips, length checks, the XOR metric and the
//! compact codecs.

use std::cmp::Ordering;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bip_util::compact::{self, CompactNode};
use bip_util::{
    CompactError, Distance, InfoHash, InfoHashV2, LengthError, NodeId, ParseIdError, PeerId,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn id20() -> impl Strategy<Value = [u8; 20]> {
    any::<[u8; 20]>()
}

fn addr_v4() -> impl Strategy<Value = SocketAddrV4> {
    (any::<u32>(), any::<u16>()).prop_map(|(ip, port)| SocketAddrV4::new(Ipv4Addr::from(ip), port))
}

fn addr_v6() -> impl Strategy<Value = SocketAddrV6> {
    (any::<u128>(), any::<u16>())
        .prop_map(|(ip, port)| SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, 0))
}

proptest! {
    #[test]
    fn hex_round_trip(bytes in id20()) {
        for text in [InfoHash::new(bytes).to_hex(), InfoHash::new(bytes).to_hex().to_uppercase()] {
            prop_assert_eq!(text.len(), 40);
            prop_assert_eq!(InfoHash::from_hex(&text), Ok(InfoHash::new(bytes)));
            prop_assert_eq!(text.parse::<PeerId>(), Ok(PeerId::new(bytes)));
            prop_assert_eq!(text.parse::<NodeId>(), Ok(NodeId::new(bytes)));
        }
        let id = NodeId::new(bytes);
        prop_assert_eq!(id.to_string(), hex::encode(bytes));
        prop_assert_eq!(format!("{id:x}"), hex::encode(bytes));
        prop_assert_eq!(format!("{id:X}"), hex::encode_upper(bytes));
    }

    #[test]
    fn hex_round_trip_v2(bytes in any::<[u8; 32]>()) {
        let h = InfoHashV2::new(bytes);
        prop_assert_eq!(h.to_hex(), hex::encode(bytes));
        prop_assert_eq!(h.to_string().parse::<InfoHashV2>(), Ok(h));
        prop_assert_eq!(InfoHashV2::from_multihash_hex(&h.to_multihash_hex()), Ok(h));
        prop_assert_eq!(&h.truncated().to_bytes()[..], &bytes[..20]);
    }

    #[test]
    fn hex_rejects_bad_characters(bytes in id20(), pos in 0usize..40, bad in "[g-zG-Z!@# ]") {
        let mut text = InfoHash::new(bytes).to_hex();
        text.replace_range(pos..pos + 1, &bad);
        prop_assert_eq!(InfoHash::from_hex(&text), Err(ParseIdError::InvalidHex { position: pos }));
    }

    #[test]
    fn hex_rejects_wrong_lengths(text in "[0-9a-f]{0,80}") {
        prop_assume!(text.len() != 40);
        prop_assert_eq!(
            InfoHash::from_hex(&text),
            Err(ParseIdError::InvalidLength { expected: 40, actual: text.len() })
        );
    }

    #[test]
    fn base32_round_trip(bytes in id20()) {
        let id = InfoHash::new(bytes);
        let text = id.to_base32();
        prop_assert_eq!(text.len(), 32);
        prop_assert_eq!(&text, &data_encoding::BASE32_NOPAD.encode(&bytes));
        prop_assert!(text.bytes().all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
        prop_assert_eq!(InfoHash::from_base32(&text), Ok(id));
        prop_assert_eq!(InfoHash::from_base32(&text.to_lowercase()), Ok(id));
        prop_assert_eq!(PeerId::from_base32(&text), Ok(PeerId::new(bytes)));
    }

    #[test]
    fn base32_never_panics(text in "\\PC{0,40}") {
        if let Ok(id) = InfoHash::from_base32(&text) {
            prop_assert_eq!(id.to_base32(), text.to_uppercase());
        }
    }

    #[test]
    fn xor_metric(a in id20(), b in id20(), c in id20()) {
        let (a, b, c) = (NodeId::new(a), NodeId::new(b), NodeId::new(c));
        prop_assert_eq!(a.distance(&b), b.distance(&a));
        prop_assert_eq!(a.distance(&a), Distance::ZERO);
        prop_assert_eq!(a.distance(&b).to_bytes(), (a ^ b).to_bytes());
        prop_assert_eq!(a.distance(&b) == Distance::ZERO, a == b);
        prop_assert_eq!(a ^ b ^ b, a);
        // Unidirectional: for a given a and distance there is exactly one b.
        prop_assert_eq!(NodeId::new(a.distance(&b).to_bytes()) ^ a, b);
        // closer_to agrees with comparing distances.
        prop_assert_eq!(c.closer_to(&a, &b), a.distance(&c).cmp(&b.distance(&c)));
        // d(a,c) = d(a,b) ^ d(b,c), so the common prefix with c is at least the shorter of the
        // other two (the property routing tables rely on).
        let (ab, bc, ac) = (a.distance(&b), b.distance(&c), a.distance(&c));
        prop_assert_eq!(
            NodeId::new(ab.to_bytes()) ^ NodeId::new(bc.to_bytes()),
            NodeId::new(ac.to_bytes())
        );
        prop_assert!(ac.leading_zeros() >= ab.leading_zeros().min(bc.leading_zeros()));
        // bucket_index is the length of the common prefix.
        match a.bucket_index(&b) {
            None => prop_assert_eq!(a, b),
            Some(k) => {
                prop_assert!(k < 160);
                prop_assert_eq!(a.distance(&b).leading_zeros() as usize, k);
                prop_assert_eq!(bit(&a, k) != bit(&b, k), true);
                for i in 0..k {
                    prop_assert_eq!(bit(&a, i), bit(&b, i));
                }
            }
        }
    }

    #[test]
    fn info_hash_node_id_conversion(bytes in id20()) {
        let h = InfoHash::new(bytes);
        prop_assert_eq!(InfoHash::from(NodeId::from(h)), h);
        prop_assert_eq!(h.distance(&h), Distance::ZERO);
    }

    #[test]
    fn peers_v4_round_trip(peers in prop::collection::vec(addr_v4(), 0..40)) {
        let mut wire = Vec::new();
        compact::encode_peers_v4(&peers, &mut wire);
        prop_assert_eq!(wire.len(), peers.len() * compact::COMPACT_PEER_V4_LEN);
        let it = compact::peers_v4(&wire).unwrap();
        prop_assert_eq!(it.len(), peers.len());
        prop_assert_eq!(it.clone().collect::<Vec<_>>(), peers.clone());
        let reversed: Vec<SocketAddrV4> = peers.iter().rev().copied().collect();
        prop_assert_eq!(it.rev().collect::<Vec<_>>(), reversed);
        for (chunk, p) in wire.chunks(6).zip(&peers) {
            prop_assert_eq!(compact::decode_peer_v4(chunk), Ok(*p));
            prop_assert_eq!(compact::decode_peer(chunk), Ok(SocketAddr::V4(*p)));
        }
    }

    #[test]
    fn peers_v6_round_trip(peers in prop::collection::vec(addr_v6(), 0..20)) {
        let mut wire = Vec::new();
        compact::encode_peers_v6(peers.iter(), &mut wire);
        prop_assert_eq!(wire.len(), peers.len() * compact::COMPACT_PEER_V6_LEN);
        prop_assert_eq!(compact::peers_v6(&wire).unwrap().collect::<Vec<_>>(), peers.clone());
        let mut one_by_one = Vec::new();
        for p in &peers {
            compact::encode_peer(&SocketAddr::V6(*p), &mut one_by_one);
        }
        prop_assert_eq!(one_by_one, wire);
    }

    #[test]
    fn nodes_round_trip(
        v4 in prop::collection::vec((id20().prop_map(NodeId::new), addr_v4()), 0..20),
        v6 in prop::collection::vec((id20().prop_map(NodeId::new), addr_v6()), 0..20),
    ) {
        let mut wire = Vec::new();
        compact::encode_nodes_v4(&v4, &mut wire);
        prop_assert_eq!(wire.len(), v4.len() * compact::COMPACT_NODE_V4_LEN);
        prop_assert_eq!(compact::nodes_v4(&wire).unwrap().collect::<Vec<_>>(), v4.clone());
        for (chunk, &(id, addr)) in wire.chunks(26).zip(&v4) {
            prop_assert_eq!(CompactNode::decode(chunk), Ok(CompactNode::from((id, addr))));
        }

        let mut wire = Vec::new();
        compact::encode_nodes_v6(v6.iter().copied(), &mut wire);
        prop_assert_eq!(wire.len(), v6.len() * compact::COMPACT_NODE_V6_LEN);
        prop_assert_eq!(compact::nodes_v6(&wire).unwrap().collect::<Vec<_>>(), v6.clone());
        for (chunk, &(id, addr)) in wire.chunks(38).zip(&v6) {
            let node = CompactNode::decode(chunk).unwrap();
            prop_assert_eq!(node, CompactNode::from((id, addr)));
            let mut again = Vec::new();
            node.encode(&mut again);
            prop_assert_eq!(&again[..], chunk);
        }
    }

    #[test]
    fn compact_lists_reject_partial_entries(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let len = bytes.len();
        for (unit, ok) in [
            (6, compact::peers_v4(&bytes).is_ok()),
            (18, compact::peers_v6(&bytes).is_ok()),
            (26, compact::nodes_v4(&bytes).is_ok()),
            (38, compact::nodes_v6(&bytes).is_ok()),
        ] {
            prop_assert_eq!(ok, len % unit == 0, "len {} unit {}", len, unit);
        }
        if len % 6 != 0 {
            let err = CompactError::BadLength { len, unit: 6 };
            prop_assert_eq!(compact::peers_v4(&bytes).unwrap_err(), err);
        }
        if len % 38 != 0 {
            let err = CompactError::BadLength { len, unit: 38 };
            prop_assert_eq!(compact::nodes_v6(&bytes).unwrap_err(), err);
        }
        // Single-entry decoders accept exactly one length.
        prop_assert_eq!(compact::decode_peer_v4(&bytes).is_ok(), len == 6);
        prop_assert_eq!(compact::decode_peer_v6(&bytes).is_ok(), len == 18);
        prop_assert_eq!(compact::decode_peer(&bytes).is_ok(), len == 6 || len == 18);
        prop_assert_eq!(compact::decode_node_v4(&bytes).is_ok(), len == 26);
        prop_assert_eq!(compact::decode_node_v6(&bytes).is_ok(), len == 38);
        prop_assert_eq!(CompactNode::decode(&bytes).is_ok(), len == 26 || len == 38);
    }
}

fn bit(id: &NodeId, i: usize) -> bool {
    id.as_bytes()[i / 8] & (0x80 >> (i % 8)) != 0
}

#[test]
fn from_slice_rejects_every_wrong_length() {
    let bytes = [0xa5u8; 64];
    for len in 0..=64 {
        let slice = &bytes[..len];
        let check20 = |r: Result<(), LengthError>| {
            if len == 20 {
                assert_eq!(r, Ok(()));
            } else {
                assert_eq!(r, Err(LengthError::new(20, len)));
            }
        };
        check20(InfoHash::from_slice(slice).map(drop));
        check20(PeerId::from_slice(slice).map(drop));
        check20(NodeId::from_slice(slice).map(drop));
        check20(InfoHash::try_from(slice).map(drop));
        check20(PeerId::try_from(slice).map(drop));
        check20(NodeId::try_from(slice).map(drop));
        let v2 = InfoHashV2::from_slice(slice);
        if len == 32 {
            assert_eq!(v2, Ok(InfoHashV2::new([0xa5; 32])));
        } else {
            assert_eq!(v2, Err(LengthError::new(32, len)));
        }
        assert_eq!(InfoHashV2::try_from(slice).is_ok(), len == 32);
    }
}

#[test]
fn random_in_bucket_matches_bucket_index() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    for _ in 0..50 {
        let me = NodeId::random(&mut rng);
        for bucket in 0..160 {
            let other = me.random_in_bucket(bucket, &mut rng).expect("bucket < 160");
            assert_eq!(me.bucket_index(&other), Some(bucket));
            assert_eq!(other.bucket_index(&me), Some(bucket));
            assert_eq!(
                me.distance(&other).leading_zeros() as usize,
                bucket,
                "leading zeros agree"
            );
        }
        assert_eq!(me.random_in_bucket(160, &mut rng), None);
    }
}

#[test]
fn random_in_bucket_randomises_the_tail() {
    // Over many draws every bit after the bucket bit takes both values.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let me = NodeId::new([0; 20]);
    let mut ones = [0u8; 20];
    let mut zeros = [0u8; 20];
    for _ in 0..64 {
        let id = me.random_in_bucket(10, &mut rng).unwrap();
        for (i, b) in id.as_bytes().iter().enumerate() {
            ones[i] |= b;
            zeros[i] |= !b;
        }
    }
    // Bits 0..10 equal ours (zero), bit 10 set, bits 11.. random.
    assert_eq!(ones[0], 0);
    assert_eq!(ones[1], 0b0010_0000 | 0b0001_1111);
    assert_eq!(zeros[1], !0b0010_0000);
    assert!(ones[2..].iter().all(|&b| b == 0xff));
    assert!(zeros[2..].iter().all(|&b| b == 0xff));
}

#[test]
fn sorting_by_closeness() {
    let target = NodeId::from(InfoHash::from_sha1(b"target"));
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut nodes: Vec<NodeId> = (0..100).map(|_| NodeId::random(&mut rng)).collect();
    let mut by_key = nodes.clone();
    by_key.sort_by_key(|n| n.distance(&target));
    nodes.sort_by(|a, b| NodeId::closer_to(&target, a, b));
    assert_eq!(nodes, by_key);
    for w in nodes.windows(2) {
        assert_ne!(target.closer_to(&w[0], &w[1]), Ordering::Greater);
    }
}

#[test]
fn known_vectors() {
    assert_eq!(
        InfoHash::from_sha1(b"abc").to_string(),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        InfoHashV2::from_sha256(b"abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        bip_util::sha1(b"abc"),
        *InfoHash::from_sha1(b"abc").as_bytes()
    );
}
