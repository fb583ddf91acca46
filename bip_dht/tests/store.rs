//! Peer store limits, fairness, expiry and random selection.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_dht::store::{PeerStore, StoreConfig};
use bip_util::InfoHash;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn hash(n: u32) -> InfoHash {
    let mut b = [0u8; 20];
    b[..4].copy_from_slice(&n.to_be_bytes());
    InfoHash::new(b)
}

fn v4(ip: u32, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::from(ip.to_be_bytes()), port)
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

#[test]
fn hundred_peers_from_one_loopback_ip_fit() {
    let now = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    for port in 0..100u16 {
        assert!(s.announce(
            now,
            h,
            SocketAddr::from(([127, 0, 0, 1], 6000 + port)),
            false
        ));
    }
    assert_eq!(s.peers(), 100);
    let mut out = Vec::new();
    s.get(now, &h, false, false, 200, &mut rng(), &mut out);
    assert_eq!(out.len(), 100);
}

#[test]
fn flood_from_one_ip_never_evicts_other_ips() {
    let t0 = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    let others: Vec<SocketAddr> = (0..30).map(|i| v4(0x0a00_0000 + i, 6881)).collect();
    for a in &others {
        assert!(s.announce(t0, h, *a, false));
    }
    let attacker = 0x0505_0505;
    for i in 0..100_000u32 {
        let now = t0 + Duration::from_micros(u64::from(i));
        s.announce(now, h, v4(attacker, (i % 65_535) as u16 + 1), false);
    }
    // A late legitimate peer still gets in, at the attacker's expense.
    let late = v4(0x0b00_0001, 1);
    assert!(s.announce(t0 + Duration::from_secs(1), h, late, true));
    let now = t0 + Duration::from_secs(1);
    let mut out = Vec::new();
    s.get(now, &h, false, false, 1000, &mut rng(), &mut out);
    assert_eq!(out.len(), 100);
    let set: HashSet<SocketAddr> = out.iter().copied().collect();
    for a in others.iter().chain([&late]) {
        assert!(set.contains(a), "{a} was evicted");
    }
    assert_eq!(
        out.iter()
            .filter(|a| a.ip() == IpAddr::from(0x0505_0505u32.to_be_bytes()))
            .count(),
        100 - 31
    );
}

#[test]
fn attacker_arriving_first_yields_to_newcomers() {
    let t0 = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    for port in 1..=100 {
        assert!(s.announce(t0, h, v4(0x0505_0505, port), false));
    }
    for i in 0..50 {
        assert!(s.announce(t0, h, v4(0x0a00_0000 + i, 1), false));
    }
    // The attacker keeps announcing: it only rotates its own entries.
    for port in 101..1000 {
        assert!(s.announce(t0, h, v4(0x0505_0505, port), false));
    }
    assert_eq!(s.counts(t0, &h), (0, 100));
    let mut out = Vec::new();
    s.get(t0, &h, false, false, 1000, &mut rng(), &mut out);
    for i in 0..50 {
        assert!(out.contains(&v4(0x0a00_0000 + i, 1)));
    }
}

#[test]
fn two_big_ips_share_fairly() {
    let t0 = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    for port in 1..=100 {
        s.announce(t0, h, v4(1, port), false);
    }
    for port in 1..=1000 {
        s.announce(t0, h, v4(2, port), false);
    }
    let mut out = Vec::new();
    s.get(t0, &h, false, false, 1000, &mut rng(), &mut out);
    let ones = out
        .iter()
        .filter(|a| a.ip() == IpAddr::from(1u32.to_be_bytes()))
        .count();
    assert_eq!(ones, 50);
}

#[test]
fn expiry() {
    let t0 = Instant::now();
    let cfg = StoreConfig::default();
    let mut s = PeerStore::new(cfg);
    s.announce(t0, hash(1), v4(1, 1), false);
    s.announce(t0, hash(2), v4(1, 1), true);
    let later = t0 + Duration::from_secs(20 * 60);
    s.announce(later, hash(2), v4(2, 1), false);
    let end = t0 + cfg.peer_ttl;
    assert_eq!(s.counts(end, &hash(1)), (0, 0));
    assert_eq!(s.counts(end, &hash(2)), (0, 1));
    let mut out = Vec::new();
    s.get(end, &hash(2), false, false, 10, &mut rng(), &mut out);
    assert_eq!(out, [v4(2, 1)]);
    s.expire(end);
    assert_eq!(s.hashes(), 1);
    assert_eq!(s.peers(), 1);
    s.expire(later + cfg.peer_ttl);
    assert_eq!(s.hashes(), 0);
    assert_eq!(s.peers(), 0);
}

#[test]
fn refresh_keeps_a_peer_alive() {
    let t0 = Instant::now();
    let cfg = StoreConfig::default();
    let mut s = PeerStore::new(cfg);
    s.announce(t0, hash(1), v4(1, 1), false);
    s.announce(t0 + Duration::from_secs(1000), hash(1), v4(1, 1), true);
    s.expire(t0 + cfg.peer_ttl);
    assert_eq!(s.counts(t0 + cfg.peer_ttl, &hash(1)), (1, 0));
}

#[test]
fn full_store_refuses_new_hashes_until_swarms_expire() {
    let t0 = Instant::now();
    let mut cfg = StoreConfig::default();
    cfg.max_hashes = 10;
    let mut s = PeerStore::new(cfg);
    for i in 0..10 {
        assert!(s.announce(t0 + Duration::from_secs(i.into()), hash(i), v4(1, 1), false));
    }
    assert!(!s.announce(t0 + Duration::from_secs(100), hash(99), v4(1, 1), false));
    // Existing swarms still accept peers.
    assert!(s.announce(t0 + Duration::from_secs(100), hash(3), v4(2, 1), false));
    // Once the oldest swarm has expired, a new hash takes its place.
    let t = t0 + cfg.peer_ttl;
    assert!(s.announce(t, hash(99), v4(1, 1), false));
    assert_eq!(s.hashes(), 10);
    assert_eq!(s.counts(t, &hash(0)), (0, 0));
}

#[test]
fn random_selection_is_distinct_and_bounded() {
    let now = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    for i in 0..100 {
        s.announce(now, h, v4(i, 1), i % 2 == 0);
        s.announce(
            now,
            h,
            SocketAddr::new(format!("2001:db8::{i:x}").parse().unwrap(), 1),
            false,
        );
    }
    assert_eq!(s.peers(), 100, "one swarm holds at most 100");
    let mut r = rng();
    let mut seen = HashSet::new();
    for _ in 0..20 {
        let mut out = Vec::new();
        s.get(now, &h, false, false, 30, &mut r, &mut out);
        assert_eq!(out.len(), 30);
        assert_eq!(out.iter().collect::<HashSet<_>>().len(), 30);
        assert!(out.iter().all(|a| a.is_ipv4()));
        seen.extend(out);
    }
    assert!(seen.len() > 30, "selection varies");
    let mut out = Vec::new();
    s.get(now, &h, true, true, 1000, &mut r, &mut out);
    assert!(out.iter().all(|a| a.is_ipv6()));
    // get appends.
    let before = out.len();
    s.get(now, &h, false, true, 5, &mut r, &mut out);
    assert_eq!(out.len(), before + 5);
    // Seeds are the even addresses: noseed returns only odd ones.
    assert!(out[before..].iter().all(|a| match a.ip() {
        IpAddr::V4(ip) => ip.octets()[3] % 2 == 1,
        IpAddr::V6(_) => false,
    }));
}

#[test]
fn noseed_skips_seeds() {
    let now = Instant::now();
    let mut s = PeerStore::new(StoreConfig::default());
    let h = hash(1);
    s.announce(now, h, v4(1, 1), true);
    s.announce(now, h, v4(2, 1), false);
    let mut out = Vec::new();
    s.get(now, &h, false, true, 10, &mut rng(), &mut out);
    assert_eq!(out, [v4(2, 1)]);
    assert_eq!(s.counts(now, &h), (1, 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn limits_hold(
        max_hashes in 1usize..6,
        max_peers in 1usize..8,
        ops in prop::collection::vec(
            (0u32..10, 0u32..6, 0u16..6, any::<bool>(), 0u64..400, any::<bool>()),
            0..300,
        ),
    ) {
        let mut cfg = StoreConfig::default();
        cfg.max_hashes = max_hashes;
        cfg.max_peers_per_hash = max_peers;
        cfg.peer_ttl = Duration::from_secs(600);
        let mut s = PeerStore::new(cfg);
        let mut now = Instant::now();
        let mut r = rng();
        for (h, ip, port, seed, dt, expire) in ops {
            now += Duration::from_secs(dt);
            let a = v4(ip, port);
            let ok = s.announce(now, hash(h), a, seed);
            if ok {
                let mut out = Vec::new();
                s.get(now, &hash(h), false, false, usize::MAX, &mut r, &mut out);
                prop_assert!(out.contains(&a));
            }
            if expire {
                s.expire(now);
            }
            prop_assert!(s.hashes() <= max_hashes);
            prop_assert!(s.peers() <= max_hashes * max_peers);
            let mut total = 0;
            for h in 0..10 {
                let mut out = Vec::new();
                s.get(now, &hash(h), false, false, usize::MAX, &mut r, &mut out);
                prop_assert!(out.len() <= max_peers);
                prop_assert_eq!(out.iter().collect::<HashSet<_>>().len(), out.len());
                let (seeds, leechers) = s.counts(now, &hash(h));
                prop_assert_eq!(seeds + leechers, out.len());
                let mut some = Vec::new();
                s.get(now, &hash(h), false, false, 2, &mut r, &mut some);
                prop_assert_eq!(some.len(), out.len().min(2));
                prop_assert!(some.iter().all(|a| out.contains(a)));
                total += out.len();
            }
            prop_assert!(total <= s.peers());
        }
    }
}
