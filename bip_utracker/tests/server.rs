//! Server core and memory store, driven without sockets or sleeps.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::*;
use bip_utracker::*;

struct Fixture {
    now: Instant,
    core: ServerCore<Arc<MemoryStore>>,
}

fn fixture(config: ServerConfig, store_cfg: MemoryStoreConfig) -> Fixture {
    let now = Instant::now();
    let store = Arc::new(MemoryStore::new(store_cfg, now, 7));
    let ids = ConnectionIds::new(11, now, config.connection_id_window);
    Fixture {
        now,
        core: ServerCore::new(config, store, ids),
    }
}

impl Fixture {
    fn connect(&mut self, from: SocketAddr) -> u64 {
        let mut b = Vec::new();
        ConnectRequest { transaction_id: 5 }.encode(&mut b);
        let r = self
            .core
            .handle_datagram(self.now, from, &b)
            .expect("connect answered")
            .to_vec();
        let c = ConnectResponse::decode(&r).unwrap();
        assert_eq!(c.transaction_id, 5);
        c.connection_id
    }

    fn announce_raw(
        &mut self,
        from: SocketAddr,
        cid: u64,
        peer: u8,
        left: u64,
        event: Event,
        num_want: i32,
    ) -> Option<Vec<u8>> {
        let mut b = Vec::new();
        AnnounceRequest {
            connection_id: cid,
            transaction_id: 9,
            info_hash: InfoHash::new([1; 20]),
            peer_id: PeerId::new([peer; 20]),
            downloaded: 0,
            left,
            uploaded: 0,
            event,
            ip: Ipv4Addr::new(203, 0, 113, 5),
            key: 1,
            num_want,
            port: 6000 + u16::from(peer),
            url_data: None,
        }
        .encode(&mut b);
        self.core
            .handle_datagram(self.now, from, &b)
            .map(<[u8]>::to_vec)
    }

    fn announce(
        &mut self,
        from: SocketAddr,
        peer: u8,
        left: u64,
        event: Event,
    ) -> (u32, u32, Vec<SocketAddr>) {
        let cid = self.connect(from);
        let r = self
            .announce_raw(from, cid, peer, left, event, -1)
            .expect("answer");
        let a = AnnounceResponse::decode(&r, AddressFamily::of(&from)).unwrap();
        assert_eq!(a.transaction_id, 9);
        (a.seeders, a.leechers, a.peers.iter().collect())
    }

    fn scrape(&mut self, from: SocketAddr, hashes: &[InfoHash]) -> Vec<ScrapeStats> {
        let cid = self.connect(from);
        let mut b = Vec::new();
        ScrapeRequest {
            connection_id: cid,
            transaction_id: 3,
            info_hashes: &hashes
                .iter()
                .flat_map(|h| *h.as_bytes())
                .collect::<Vec<_>>(),
        }
        .encode(&mut b);
        let r = self
            .core
            .handle_datagram(self.now, from, &b)
            .unwrap()
            .to_vec();
        ScrapeResponse::decode(&r).unwrap().stats().collect()
    }
}

fn v4(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 40000))
}
fn v6(i: u16) -> SocketAddr {
    SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, i], 40000))
}

#[test]
fn swarm_counts_self_exclusion_and_packet_source() {
    let mut f = fixture(ServerConfig::default(), MemoryStoreConfig::default());
    let (s, l, peers) = f.announce(v4(1), 1, 100, Event::STARTED);
    assert_eq!((s, l), (0, 1));
    assert!(peers.is_empty(), "the requester is never in its own list");
    let (s, l, peers) = f.announce(v4(2), 2, 0, Event::STARTED);
    assert_eq!((s, l), (1, 1));
    // Address from the packet source, not the IP field (203.0.113.5).
    assert_eq!(peers, vec![SocketAddr::from(([10, 0, 0, 1], 6001))]);
    // Leecher completes.
    let (s, l, _) = f.announce(v4(1), 1, 0, Event::COMPLETED);
    assert_eq!((s, l), (2, 0));
    let st = f.scrape(v4(3), &[InfoHash::new([1; 20]), InfoHash::new([2; 20])]);
    assert_eq!(
        st[0],
        ScrapeStats {
            seeders: 2,
            completed: 1,
            leechers: 0
        }
    );
    assert_eq!(st[1], ScrapeStats::default());
    // Stopped removes.
    f.announce(v4(2), 2, 0, Event::STOPPED);
    assert_eq!(f.scrape(v4(3), &[InfoHash::new([1; 20])])[0].seeders, 1);
}

#[test]
fn ip_field_honoured_only_when_configured() {
    let mut f = fixture(
        {
            let mut c = ServerConfig::default();
            c.honour_ip_field = true;
            c
        },
        MemoryStoreConfig::default(),
    );
    f.announce(v4(1), 1, 100, Event::STARTED);
    let (_, _, peers) = f.announce(v4(2), 2, 100, Event::STARTED);
    assert_eq!(peers, vec![SocketAddr::from(([203, 0, 113, 5], 6001))]);
}

#[test]
fn families_are_kept_apart() {
    let mut f = fixture(ServerConfig::default(), MemoryStoreConfig::default());
    f.announce(v4(1), 1, 100, Event::STARTED);
    f.announce(v6(1), 11, 100, Event::STARTED);
    let (_, l, peers) = f.announce(v6(2), 12, 100, Event::STARTED);
    assert_eq!(l, 3, "counts cover both families");
    assert_eq!(
        peers,
        vec![SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 6011))]
    );
    let (_, _, peers) = f.announce(v4(2), 2, 100, Event::STARTED);
    assert_eq!(peers, vec![SocketAddr::from(([10, 0, 0, 1], 6001))]);
}

#[test]
fn num_want_capped_and_scrape_capped() {
    let mut f = fixture(
        {
            let mut c = ServerConfig::default();
            c.max_num_want = 5;
            c
        },
        MemoryStoreConfig::default(),
    );
    for i in 1..=20 {
        f.announce(v4(i), i, 100, Event::STARTED);
    }
    let cid = f.connect(v4(30));
    let r = f
        .announce_raw(v4(30), cid, 30, 100, Event::NONE, 1000)
        .unwrap();
    assert_eq!(
        AnnounceResponse::decode(&r, AddressFamily::V4)
            .unwrap()
            .peers
            .len(),
        5
    );
    let r = f
        .announce_raw(v4(30), cid, 30, 100, Event::NONE, 2)
        .unwrap();
    let peers: Vec<_> = AnnounceResponse::decode(&r, AddressFamily::V4)
        .unwrap()
        .peers
        .iter()
        .collect();
    assert_eq!(peers.len(), 2);
    assert!(!peers.contains(&SocketAddr::from(([10, 0, 0, 30], 6030))));
    let hashes: Vec<InfoHash> = (0..100u8).map(|i| InfoHash::new([i; 20])).collect();
    assert_eq!(f.scrape(v4(1), &hashes).len(), 74);
}

#[test]
fn access_list_and_errors() {
    let allowed = InfoHash::new([2; 20]);
    let mut f = fixture(
        {
            let mut c = ServerConfig::default();
            c.access = AccessList::Allow(HashSet::from([allowed]));
            c
        },
        MemoryStoreConfig::default(),
    );
    let cid = f.connect(v4(1));
    let r = f
        .announce_raw(v4(1), cid, 1, 1, Event::STARTED, -1)
        .unwrap();
    let e = ErrorResponse::decode(&r).unwrap();
    assert_eq!(e.transaction_id, 9);
    assert_eq!(e.message, b"info hash not allowed");
    // Valid connection id, short announce: error packet. Unknown action: error packet.
    let mut b = r.clone();
    b.clear();
    b.extend_from_slice(&cid.to_be_bytes());
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&4u32.to_be_bytes());
    b.extend_from_slice(&[0; 20]);
    let r = f.core.handle_datagram(f.now, v4(1), &b).unwrap().to_vec();
    assert_eq!(
        ErrorResponse::decode(&r).unwrap().message,
        b"malformed announce"
    );
    b[11] = 7;
    let r = f.core.handle_datagram(f.now, v4(1), &b).unwrap().to_vec();
    assert_eq!(
        ErrorResponse::decode(&r).unwrap().message,
        b"unknown action"
    );
    let c = f.core.stats();
    assert_eq!((c.errors, c.connects), (3, 1));
}

#[test]
fn connection_ids_are_bound_to_address_and_time() {
    let cfg = ServerConfig::default();
    let mut f = fixture(cfg, MemoryStoreConfig::default());
    let cid = f.connect(v4(1));
    // Another address (even another port) cannot use it.
    assert!(f
        .announce_raw(v4(2), cid, 1, 1, Event::STARTED, -1)
        .is_none());
    assert!(f
        .announce_raw(
            SocketAddr::from(([10, 0, 0, 1], 40001)),
            cid,
            1,
            1,
            Event::STARTED,
            -1
        )
        .is_none());
    // Valid for at least two minutes (here issued at the start of a window: three).
    let start = f.now;
    f.now = start + Duration::from_secs(179);
    assert!(f
        .announce_raw(v4(1), cid, 1, 1, Event::STARTED, -1)
        .is_some());
    f.now = start + Duration::from_secs(180);
    assert!(f
        .announce_raw(v4(1), cid, 1, 1, Event::STARTED, -1)
        .is_none());
    // Issued at the end of a window: still valid two minutes later, not three.
    f.now = start + Duration::from_secs(239);
    let late = f.connect(v4(1));
    f.now = start + Duration::from_secs(359);
    assert!(f
        .announce_raw(v4(1), late, 1, 1, Event::STARTED, -1)
        .is_some());
    f.now = start + Duration::from_secs(360);
    assert!(f
        .announce_raw(v4(1), late, 1, 1, Event::STARTED, -1)
        .is_none());
    // A fresh id works again; forged ids are dropped and counted.
    let cid2 = f.connect(v4(1));
    assert_ne!(cid, cid2);
    assert!(f
        .announce_raw(v4(1), cid2 ^ 1, 1, 1, Event::STARTED, -1)
        .is_none());
    assert!(f.core.stats().dropped >= 4);
}

#[test]
fn peers_expire_and_memory_is_bounded() {
    let mut f = fixture(
        {
            let mut c = ServerConfig::default();
            c.announce_interval = 60;
            c
        },
        {
            let mut c = MemoryStoreConfig::default();
            c.peer_ttl = Duration::from_secs(120);
            c.max_peers_per_torrent = 3;
            c.max_torrents = 4;
            c.shards = 1;
            c
        },
    );
    for i in 1..=5 {
        f.announce(v4(i), i, 100, Event::STARTED);
    }
    assert_eq!(f.core.store().len(), (1, 3), "peers per torrent capped");
    assert_eq!(f.scrape(v4(9), &[InfoHash::new([1; 20])])[0].leechers, 3);
    // Torrent cap.
    let ids = ConnectionIds::new(1, f.now, Duration::from_secs(60));
    let store = f.core.store().clone();
    let mut other = ServerCore::new(ServerConfig::default(), store.clone(), ids);
    for t in 0..10u8 {
        let mut b = Vec::new();
        ConnectRequest { transaction_id: 1 }.encode(&mut b);
        let cid = ConnectResponse::decode(other.handle_datagram(f.now, v4(1), &b).unwrap())
            .unwrap()
            .connection_id;
        b.clear();
        AnnounceRequest {
            connection_id: cid,
            transaction_id: 1,
            info_hash: InfoHash::new([100 + t; 20]),
            peer_id: PeerId::new([1; 20]),
            downloaded: 0,
            left: 0,
            uploaded: 0,
            event: Event::STARTED,
            ip: Ipv4Addr::UNSPECIFIED,
            key: 0,
            num_want: -1,
            port: 1,
            url_data: None,
        }
        .encode(&mut b);
        assert!(other.handle_datagram(f.now, v4(1), &b).is_some());
    }
    assert_eq!(store.len().0, 4, "torrents capped");
    // Expiry.
    f.now += Duration::from_secs(121);
    f.core.handle_timeout(f.now);
    assert_eq!(store.len(), (0, 0));
}

#[test]
fn random_packets_never_change_state() {
    let mut f = fixture(ServerConfig::default(), MemoryStoreConfig::default());
    f.announce(v4(1), 1, 100, Event::STARTED);
    let before = f.core.store().len();
    let n: u32 = 1_000_000;
    // xorshift64: a cheap generator so the test stays fast in debug builds.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut buf = [0u8; 128];
    let mut answered = 0u32;
    for i in 0..n {
        let len = (next() % 121) as usize;
        for w in buf.chunks_exact_mut(8).take(len.div_ceil(8)) {
            w.copy_from_slice(&next().to_ne_bytes());
        }
        // Some packets look like real requests with a random connection id.
        if len >= 16 && i % 4 == 0 {
            buf[8..12].copy_from_slice(&((next() % 4) as u32).to_be_bytes());
        }
        if let Some(r) = f
            .core
            .handle_datagram(f.now, v4((i % 200) as u8), &buf[..len])
        {
            // Only connects with a random but correct protocol id could be answered.
            assert_eq!(&r[..4], &[0, 0, 0, 0]);
            answered += 1;
        }
    }
    assert_eq!(answered, 0);
    assert_eq!(f.core.store().len(), before);
    let c = f.core.stats();
    assert_eq!((c.announces, c.scrapes), (1, 0));
    assert_eq!(c.dropped, u64::from(n));
    // Oversized packets are dropped too.
    assert!(f.core.handle_datagram(f.now, v4(1), &[0u8; 4096]).is_none());
}

#[test]
fn large_swarms_grow_and_shrink_past_the_peer_index() {
    // Past 32 peers a list keeps a hash index, below it a linear search: counts, updates,
    // self-exclusion and removal must agree on both sides of the switch.
    let mut f = fixture(ServerConfig::default(), MemoryStoreConfig::default());
    for i in 1..=100u8 {
        let (s, l, peers) = f.announce(v4(i), i, 100, Event::STARTED);
        assert_eq!((s, l), (0, u32::from(i)));
        assert_eq!(peers.len(), usize::from(i - 1).min(50));
        assert!(!peers.contains(&SocketAddr::from(([10, 0, 0, i], 6000 + u16::from(i)))));
    }
    // Re-announces update in place (now seeders), never duplicate.
    for i in 1..=100u8 {
        let (s, l, _) = f.announce(v4(i), i, 0, Event::COMPLETED);
        assert_eq!((s, l), (u32::from(i), 100 - u32::from(i)));
    }
    assert_eq!(f.core.store().len(), (1, 100));
    assert_eq!(f.scrape(v4(1), &[InfoHash::new([1; 20])])[0].completed, 100);
    // Shrink to 10 peers (drops the index on the way), then every lookup still works.
    for i in 11..=100u8 {
        let cid = f.connect(v4(i));
        f.announce_raw(v4(i), cid, i, 0, Event::STOPPED, -1)
            .expect("answer");
    }
    assert_eq!(f.core.store().len(), (1, 10));
    for i in 1..=10u8 {
        let (s, l, peers) = f.announce(v4(i), i, 0, Event::NONE);
        assert_eq!((s, l, peers.len()), (10, 0, 9));
    }
    // Grow again past the threshold: one entry per (peer id, address).
    for i in 1..=60u8 {
        f.announce(v4(i), i, 5, Event::NONE);
        f.announce(v4(i), i, 5, Event::NONE);
    }
    assert_eq!(f.core.store().len(), (1, 60));
    let (s, l, peers) = f.announce(v4(200), 200, 5, Event::STARTED);
    assert_eq!((s, l, peers.len()), (0, 61, 50));
    let unique: HashSet<_> = peers.iter().collect();
    assert_eq!(unique.len(), 50);
}
