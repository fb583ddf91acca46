//! Routing table behaviour and property tests of its invariants.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_dht::table::{
    NodeEntry, NodeStatus, RoutingTable, TableConfig, BAD_AFTER_FAILS, K, REMOVE_AFTER_FAILS,
};
use bip_util::NodeId;
use proptest::prelude::*;

const OWN: NodeId = NodeId::new([0; 20]);

/// An id in bucket 0 of `OWN` (first bit set), distinguished by `n`.
fn far(n: u8) -> NodeId {
    let mut b = [0u8; 20];
    b[0] = 0x80;
    b[19] = n;
    NodeId::new(b)
}

fn addr(i: u32) -> SocketAddr {
    SocketAddr::new(IpAddr::from((0x0100_0000u32 + i).to_be_bytes()), 6881)
}

fn table() -> RoutingTable {
    RoutingTable::new(OWN, TableConfig::default())
}

/// Fills bucket 0 with K replied nodes 0..K at addresses 0..K.
fn full_bucket(now: Instant) -> RoutingTable {
    let mut t = table();
    for i in 0..K as u8 {
        assert!(t.heard(now, far(i), addr(i.into()), true, false));
    }
    assert_eq!(t.len(), K);
    t
}

#[test]
fn own_id_is_never_inserted() {
    let now = Instant::now();
    let mut t = table();
    assert!(!t.heard(now, OWN, addr(1), true, true));
    assert!(t.is_empty());
}

#[test]
fn update_resets_fails_and_marks_good() {
    let now = Instant::now();
    let mut t = table();
    assert!(t.heard(now, far(1), addr(1), false, false));
    assert_eq!(
        t.good_len(now),
        0,
        "a query alone makes a node questionable"
    );
    t.failed(&far(1), addr(1));
    assert_eq!(t.get(&addr(1)).unwrap().fails, 1);
    assert!(t.heard(now, far(1), addr(1), true, false));
    let e = t.get(&addr(1)).unwrap();
    assert_eq!(e.fails, 0);
    assert_eq!(e.last_reply, Some(now));
    assert_eq!(e.last_query, Some(now));
    assert_eq!(t.good_len(now), 1);
}

#[test]
fn full_bucket_sends_newcomers_to_the_cache() {
    let now = Instant::now();
    let mut t = full_bucket(now);
    assert!(!t.heard(now, far(100), addr(100), true, false));
    assert_eq!(t.len(), K);
    assert_eq!(t.cached_len(), 1);
    assert!(t.get(&addr(100)).is_none());
}

#[test]
fn bad_entry_is_replaced_by_a_replying_newcomer() {
    let now = Instant::now();
    let mut t = full_bucket(now);
    for _ in 0..BAD_AFTER_FAILS {
        t.failed(&far(3), addr(3));
    }
    assert_eq!(
        t.get(&addr(3))
            .unwrap()
            .status(now, Duration::from_secs(900)),
        NodeStatus::Bad
    );
    // A query alone does not displace it.
    assert!(!t.heard(now, far(100), addr(100), false, false));
    assert!(t.get(&addr(3)).is_some());
    // A reply does (the cached entry for the same address is promoted).
    assert!(t.heard(now, far(100), addr(100), true, false));
    assert!(t.get(&addr(3)).is_none());
    assert!(t.get(&addr(100)).is_some());
    assert_eq!(t.len(), K);
}

#[test]
fn failed_node_gives_way_to_the_best_replacement() {
    let now = Instant::now();
    let later = now + Duration::from_secs(10);
    let mut t = full_bucket(now);
    assert!(!t.heard(now, far(100), addr(100), true, false));
    assert!(!t.heard(later, far(101), addr(101), true, false));
    assert!(!t.heard(now, far(102), addr(102), true, true));
    assert!(!t.heard(later, far(103), addr(103), false, false));
    t.failed(&far(0), addr(0));
    assert!(t.get(&addr(0)).is_some(), "one failure is not enough");
    t.failed(&far(0), addr(0));
    assert!(t.get(&addr(0)).is_none());
    assert!(t.get(&addr(102)).is_some(), "verified first");
    for _ in 0..BAD_AFTER_FAILS {
        t.failed(&far(1), addr(1));
    }
    assert!(t.get(&addr(101)).is_some(), "then most recently replied");
    assert_eq!(t.len(), K);
}

#[test]
fn failed_with_the_wrong_id_is_ignored() {
    let now = Instant::now();
    let mut t = full_bucket(now);
    t.failed(&far(9), addr(1));
    assert_eq!(t.get(&addr(1)).unwrap().fails, 0);
}

#[test]
fn removed_after_many_fails_even_without_replacement() {
    let now = Instant::now();
    let mut t = full_bucket(now);
    for i in 0..REMOVE_AFTER_FAILS {
        assert!(t.get(&addr(2)).is_some(), "after {i} fails");
        t.failed(&far(2), addr(2));
    }
    assert!(t.get(&addr(2)).is_none());
    assert_eq!(t.len(), K - 1);
}

#[test]
fn prefer_verified_replaces_unverified_questionable() {
    let now = Instant::now();
    let mut t = table();
    for i in 0..K as u8 {
        // Only queried us: questionable.
        assert!(t.heard(now, far(i), addr(i.into()), false, false));
    }
    assert!(!t.heard(now, far(100), addr(100), true, false));
    assert!(t.heard(now, far(101), addr(101), true, true));
    assert_eq!(t.len(), K);
    assert!(t.get(&addr(101)).is_some());

    let mut cfg = TableConfig::default();
    cfg.prefer_verified = false;
    let mut t = RoutingTable::new(OWN, cfg);
    for i in 0..K as u8 {
        assert!(t.heard(now, far(i), addr(i.into()), false, false));
    }
    assert!(!t.heard(now, far(101), addr(101), true, true));
}

#[test]
fn good_entries_are_never_displaced_by_verified_newcomers() {
    let now = Instant::now();
    let mut t = full_bucket(now);
    assert!(!t.heard(now, far(101), addr(101), true, true));
    assert!((0..K as u32).all(|i| t.get(&addr(i)).is_some()));
}

#[test]
fn enforce_verified_refuses_unverified_public_nodes() {
    let now = Instant::now();
    let mut cfg = TableConfig::default();
    cfg.enforce_verified = true;
    let mut t = RoutingTable::new(OWN, cfg);
    assert!(!t.heard(now, far(1), addr(1), true, false));
    assert!(t.heard(now, far(2), addr(2), true, true));
    assert!(t.heard(now, far(3), "192.168.1.5:1".parse().unwrap(), true, false));
    assert_eq!(t.len(), 2);
    assert_eq!(t.cached_len(), 0);
}

#[test]
fn one_entry_per_public_ip_in_a_bucket() {
    let now = Instant::now();
    let mut t = table();
    let a: SocketAddr = "8.8.8.8:1".parse().unwrap();
    let b: SocketAddr = "8.8.8.8:2".parse().unwrap();
    assert!(t.heard(now, far(1), a, true, false));
    assert!(!t.heard(now, far(2), b, true, false));
    // Loopback is exempt.
    for i in 0..K as u16 {
        assert!(
            t.heard(
                now,
                far(10 + i as u8),
                SocketAddr::from(([127, 0, 0, 1], 1000 + i)),
                true,
                false
            ) || i as usize >= K - 1
        );
    }
    // Unrestricted config allows both.
    let mut cfg = TableConfig::default();
    cfg.restrict_ips = false;
    let mut t = RoutingTable::new(OWN, cfg);
    assert!(t.heard(now, far(1), a, true, false));
    assert!(t.heard(now, far(2), b, true, false));
}

#[test]
fn same_id_at_another_address_keeps_the_existing_entry() {
    let now = Instant::now();
    let mut t = table();
    assert!(t.heard(now, far(1), addr(1), true, false));
    assert!(!t.heard(now, far(1), addr(2), true, false));
    assert!(t.get(&addr(1)).is_some());
    for _ in 0..BAD_AFTER_FAILS {
        t.failed(&far(1), addr(1));
    }
    assert!(t.heard(now, far(1), addr(2), true, false));
    assert!(t.get(&addr(1)).is_none());
    assert_eq!(t.get(&addr(2)).unwrap().id, far(1));
}

#[test]
fn same_address_with_a_new_id() {
    let now = Instant::now();
    let mut t = table();
    assert!(t.heard(now, far(1), addr(1), true, false));
    // A forgeable query does not displace a good entry.
    assert!(!t.heard(now, far(2), addr(1), false, false));
    assert_eq!(t.get(&addr(1)).unwrap().id, far(1));
    // A reply does.
    assert!(t.heard(now, far(2), addr(1), true, false));
    assert_eq!(t.get(&addr(1)).unwrap().id, far(2));
    assert_eq!(t.len(), 1);
}

#[test]
fn stalest_prefers_non_good_and_never_checked() {
    let t0 = Instant::now();
    let mut t = table();
    assert_eq!(t.stalest(t0), None);
    t.heard(t0, far(1), addr(1), true, false);
    t.heard(t0 + Duration::from_secs(5), far(2), addr(2), true, false);
    assert_eq!(t.stalest(t0 + Duration::from_secs(6)).unwrap().id, far(1));
    t.pinged(t0 + Duration::from_secs(7), &far(1));
    assert_eq!(t.stalest(t0 + Duration::from_secs(8)).unwrap().id, far(2));
    // A questionable node (only queried us) comes before good ones.
    t.heard(t0 + Duration::from_secs(9), far(3), addr(3), false, false);
    assert_eq!(t.stalest(t0 + Duration::from_secs(9)).unwrap().id, far(3));
}

#[test]
fn bucket_to_refresh_walks_stale_buckets() {
    let t0 = Instant::now();
    let mut t = table();
    let interval = Duration::from_secs(900);
    assert_eq!(t.bucket_to_refresh(t0, interval), None);
    let mut deep = [0u8; 20];
    deep[0] = 0x04; // bucket 5
    t.heard(t0, NodeId::new(deep), addr(1), true, false);
    // Buckets 0..=4 were never changed, 5 just was.
    for b in 0..5 {
        assert_eq!(t.bucket_to_refresh(t0, interval), Some(b));
    }
    assert_eq!(t.bucket_to_refresh(t0, interval), None);
    let later = t0 + interval;
    for b in 0..6 {
        assert_eq!(t.bucket_to_refresh(later, interval), Some(b));
    }
    assert_eq!(t.bucket_to_refresh(later, interval), None);
}

#[test]
fn closest_orders_by_distance() {
    let now = Instant::now();
    let mut t = table();
    let mut ids = Vec::new();
    for i in 0..50u32 {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&(i.wrapping_mul(0x9e37_79b9)).to_be_bytes());
        let id = NodeId::new(b);
        if t.heard(now, id, addr(i), true, false) {
            ids.push(id);
        }
    }
    let target = NodeId::new([0x5a; 20]);
    let mut out = Vec::new();
    t.closest(&target, 8, now, &mut out);
    ids.sort_by(|a, b| target.closer_to(a, b));
    assert_eq!(out.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..8]);
}

#[test]
fn set_own_id_rebuckets() {
    let now = Instant::now();
    let mut t = table();
    for i in 0..20u8 {
        t.heard(now, far(i), addr(i.into()), true, false);
    }
    assert_eq!(t.len(), K);
    let new_own = far(0);
    t.set_own_id(new_own);
    assert_eq!(t.own_id(), new_own);
    assert!(t.iter().all(|e| e.id != new_own));
    check_invariants(&t, now);
    assert!(t.len() > K, "entries spread over several buckets");
}

// ---- properties ----

#[derive(Debug, Clone)]
enum Op {
    Heard {
        id: NodeId,
        addr: SocketAddr,
        replied: bool,
        verified: bool,
    },
    /// Fail the i-th known entry (main or cached).
    FailKnown(usize),
    Failed(NodeId, SocketAddr),
    Pinged(usize),
    Remove(usize),
    SetOwnId(NodeId),
    Advance(u16),
}

/// Ids from a small space so buckets collide: a few top bytes, a few low bits.
fn id_strategy() -> impl Strategy<Value = NodeId> {
    (
        prop::sample::select(vec![0x00u8, 0x01, 0x40, 0x7f, 0x80, 0xc0, 0xff]),
        0u8..4,
        0u8..8,
    )
        .prop_map(|(a, b, c)| {
            let mut bytes = [0u8; 20];
            bytes[0] = a;
            bytes[1] = b << 6;
            bytes[19] = c;
            NodeId::new(bytes)
        })
}

fn addr_strategy() -> impl Strategy<Value = SocketAddr> {
    (
        prop::sample::select(vec![
            "1.1.1.1",
            "2.2.2.2",
            "3.3.3.3",
            "4.4.4.4",
            "127.0.0.1",
            "10.0.0.1",
            "2001:db8::1",
            "::1",
        ]),
        1u16..5,
    )
        .prop_map(|(ip, port)| SocketAddr::new(ip.parse().unwrap(), port))
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (id_strategy(), addr_strategy(), any::<bool>(), any::<bool>()).prop_map(
            |(id, addr, replied, verified)| Op::Heard { id, addr, replied, verified }
        ),
        3 => any::<usize>().prop_map(Op::FailKnown),
        1 => (id_strategy(), addr_strategy()).prop_map(|(i, a)| Op::Failed(i, a)),
        1 => any::<usize>().prop_map(Op::Pinged),
        1 => any::<usize>().prop_map(Op::Remove),
        1 => id_strategy().prop_map(Op::SetOwnId),
        2 => (0u16..1200).prop_map(Op::Advance),
    ]
}

fn config_strategy() -> impl Strategy<Value = TableConfig> {
    (1usize..5, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(size, r, p, e)| {
        let mut c = TableConfig::default();
        c.bucket_size = size;
        c.restrict_ips = r;
        c.prefer_verified = p;
        c.enforce_verified = e;
        c
    })
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn check_invariants(t: &RoutingTable, now: Instant) {
    let cfg = *t.config();
    let own = t.own_id();
    let mut addrs = HashSet::new();
    let mut per_bucket: HashMap<usize, usize> = HashMap::new();
    let mut cached_per_bucket: HashMap<usize, usize> = HashMap::new();
    let mut ips: HashSet<(usize, IpAddr)> = HashSet::new();
    let mut ids: HashSet<NodeId> = HashSet::new();
    for e in t.iter() {
        assert_ne!(e.id, own, "own id present");
        assert!(addrs.insert(e.addr), "duplicate address {}", e.addr);
        assert!(ids.insert(e.id), "duplicate id in main entries");
        let b = own.bucket_index(&e.id).unwrap();
        *per_bucket.entry(b).or_default() += 1;
        if cfg.restrict_ips && !is_local(e.addr.ip()) {
            assert!(
                ips.insert((b, e.addr.ip())),
                "two entries of {} in bucket {b}",
                e.addr
            );
        }
        assert_eq!(t.get(&e.addr), Some(e));
        if cfg.enforce_verified {
            assert!(e.verified || is_local(e.addr.ip()));
        }
    }
    for e in t.iter_cached() {
        assert_ne!(e.id, own, "own id cached");
        assert!(addrs.insert(e.addr), "duplicate address {}", e.addr);
        assert!(t.get(&e.addr).is_none());
        let b = own.bucket_index(&e.id).unwrap();
        *cached_per_bucket.entry(b).or_default() += 1;
    }
    assert!(per_bucket.values().all(|&n| n <= cfg.bucket_size));
    assert!(cached_per_bucket.values().all(|&n| n <= cfg.bucket_size));
    assert_eq!(t.len(), t.iter().count());
    assert_eq!(t.cached_len(), t.iter_cached().count());
    assert_eq!(t.is_empty(), t.iter().next().is_none());
    let _ = now;
}

fn brute_closest(t: &RoutingTable, target: &NodeId, n: usize, now: Instant) -> Vec<NodeEntry> {
    let good_for = t.config().good_for;
    let mut all: Vec<NodeEntry> = t
        .iter()
        .filter(|e| e.status(now, good_for) != NodeStatus::Bad)
        .copied()
        .collect();
    all.sort_by(|a, b| target.closer_to(&a.id, &b.id));
    all.truncate(n);
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold(
        cfg in config_strategy(),
        own in id_strategy(),
        ops in prop::collection::vec(op_strategy(), 0..120),
        targets in prop::collection::vec((id_strategy(), 0usize..12), 4),
    ) {
        let mut now = Instant::now();
        let mut t = RoutingTable::new(own, cfg);
        for op in ops {
            match op {
                Op::Heard { id, addr, replied, verified } => {
                    let main = t.heard(now, id, addr, replied, verified);
                    prop_assert_eq!(main, t.get(&addr).is_some_and(|e| e.id == id));
                }
                Op::FailKnown(i) => {
                    let known: Vec<NodeEntry> =
                        t.iter().chain(t.iter_cached()).copied().collect();
                    if !known.is_empty() {
                        let e = known[i % known.len()];
                        t.failed(&e.id, e.addr);
                    }
                }
                Op::Failed(id, addr) => t.failed(&id, addr),
                Op::Pinged(i) => {
                    let known: Vec<NodeId> = t.iter().map(|e| e.id).collect();
                    if !known.is_empty() {
                        t.pinged(now, &known[i % known.len()]);
                    }
                }
                Op::Remove(i) => {
                    let known: Vec<SocketAddr> = t.iter().map(|e| e.addr).collect();
                    if !known.is_empty() {
                        let a = known[i % known.len()];
                        prop_assert_eq!(t.remove(&a).map(|e| e.addr), Some(a));
                        prop_assert!(t.get(&a).is_none());
                    }
                }
                Op::SetOwnId(id) => t.set_own_id(id),
                Op::Advance(s) => now += Duration::from_secs(s.into()),
            }
            check_invariants(&t, now);
        }
        let mut out = Vec::new();
        for (target, n) in targets.iter().chain([(t.own_id(), 8)].iter()) {
            t.closest(target, *n, now, &mut out);
            prop_assert_eq!(&out, &brute_closest(&t, target, *n, now));
        }
        if let Some(s) = t.stalest(now) {
            prop_assert!(t.get(&s.addr).is_some());
        } else {
            prop_assert!(t.is_empty());
        }
    }

    #[test]
    fn closest_matches_brute_force_on_random_ids(
        ids in prop::collection::vec(any::<[u8; 20]>(), 0..300),
        own in any::<[u8; 20]>(),
        target in any::<[u8; 20]>(),
        n in 0usize..40,
    ) {
        let now = Instant::now();
        let mut cfg = TableConfig::default();
        cfg.restrict_ips = false;
        let mut t = RoutingTable::new(NodeId::new(own), cfg);
        for (i, id) in ids.iter().enumerate() {
            t.heard(now, NodeId::new(*id), addr(i as u32), true, false);
        }
        let target = NodeId::new(target);
        let mut out = Vec::new();
        t.closest(&target, n, now, &mut out);
        prop_assert_eq!(&out, &brute_closest(&t, &target, n, now));
    }
}
