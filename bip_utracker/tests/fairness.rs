//! MemoryStore fairness (issue 12 item 8), scaled down with the ratio: one address
//! announcing ten times a swarm's capacity in fake peers leaves every other address's peers
//! in place; one address on loopback with 100 peers (the demo) still works.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::{AddressFamily, Event};
use bip_utracker::{Announce, MemoryStore, MemoryStoreConfig, Store};

fn announce(
    s: &MemoryStore,
    now: Instant,
    h: InfoHash,
    src: [u8; 4],
    id: u32,
    left: u64,
) -> Vec<u8> {
    let mut pid = [0u8; 20];
    pid[..4].copy_from_slice(&id.to_be_bytes());
    let ip = IpAddr::from(src);
    let mut a = Announce::new(
        h,
        PeerId::new(pid),
        SocketAddr::new(ip, (id % 60000) as u16 + 1),
    );
    a.event = Event::STARTED;
    a.left = left;
    let mut out = Vec::new();
    s.announce(now, &a, AddressFamily::V4, &mut out).unwrap();
    out
}

#[test]
fn a_flooding_address_displaces_only_itself() {
    let now = Instant::now();
    let mut cfg = MemoryStoreConfig::default();
    cfg.max_peers_per_torrent = 100;
    cfg.max_peers_per_address = 100;
    cfg.shards = 1;
    let s = MemoryStore::new(cfg, now, 3);
    let h = InfoHash::new([1; 20]);
    announce(&s, now, h, [10, 0, 0, 1], 1, 0); // the seeder
    for i in 0..20u8 {
        announce(&s, now, h, [10, 0, 1, i], 100 + u32::from(i), 5);
    }
    // 1,000 fake peers (ten times the swarm) from one address.
    for i in 0..1_000 {
        announce(&s, now, h, [192, 0, 2, 66], 10_000 + i, 5);
    }
    assert!(s.peers_of("192.0.2.66".parse().unwrap()) <= 100);
    let stats = s.scrape(now, &h);
    assert_eq!(stats.seeders, 1, "the seeder stays");
    // Every honest peer is still there: a re-announce does not add one.
    let (_, before) = s.len();
    announce(&s, now, h, [10, 0, 0, 1], 1, 0);
    for i in 0..20u8 {
        announce(&s, now, h, [10, 0, 1, i], 100 + u32::from(i), 5);
    }
    assert_eq!(s.len().1, before);
    for i in 0..20u8 {
        assert_eq!(s.peers_of(IpAddr::from([10, 0, 1, i])), 1);
    }
}

#[test]
fn a_hundred_peer_demo_on_one_address_works() {
    let now = Instant::now();
    let s = MemoryStore::new(MemoryStoreConfig::default(), now, 4);
    let h = InfoHash::new([2; 20]);
    for i in 0..100 {
        announce(&s, now, h, [127, 0, 0, 1], i, 5);
    }
    assert_eq!(s.len(), (1, 100));
    let peers = announce(&s, now, h, [127, 0, 0, 1], 0, 5);
    assert_eq!(peers.len(), 50 * 6);
}

#[test]
fn one_address_cannot_fill_the_store_across_torrents() {
    let now = Instant::now();
    let mut cfg = MemoryStoreConfig::default();
    cfg.max_peers_per_address = 1_000;
    let s = MemoryStore::new(cfg, now, 5);
    for i in 0..10_000u32 {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&i.to_be_bytes());
        announce(&s, now, InfoHash::new(b), [192, 0, 2, 7], i, 5);
    }
    assert_eq!(s.peers_of("192.0.2.7".parse().unwrap()), 1_000);
    announce(&s, now, InfoHash::new([9; 20]), [10, 9, 9, 9], 1, 0);
    assert_eq!(s.peers_of("10.9.9.9".parse().unwrap()), 1);
}
