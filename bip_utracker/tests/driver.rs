//! The tokio drivers on loopback: client ↔ server, discovery feeding, many in flight.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bip_handshake::{AddPeer, DiscoveredPeer, Discovery, PeerSource};
use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::Event;
use bip_utracker::*;

#[derive(Default)]
struct Collect(Mutex<Vec<DiscoveredPeer>>);

impl Discovery for Collect {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        self.0.lock().unwrap().push(peer);
        AddPeer::Accepted
    }
    fn peer_id(&self) -> PeerId {
        PeerId::new([3; 20])
    }
    fn port(&self) -> u16 {
        7003
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_server_on_loopback() {
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        Instant::now(),
        1,
    ));
    let server = Server::serve_reuseport(
        "127.0.0.1:0".parse().unwrap(),
        2,
        ServerConfig::default(),
        store,
    )
    .await
    .unwrap();
    let url = format!(
        "udp://localhost:{}/announce?x=1",
        server.local_addr().port()
    );
    let cfg = {
        let mut c = ClientConfig::default();
        c.base_timeout = Duration::from_millis(200);
        c.max_tries = 4;
        c
    };
    let ih = InfoHash::new([9; 20]);

    let a = Client::new(cfg.clone(), 1).await.unwrap();
    let mut p = AnnounceParams::new(ih, PeerId::new([1; 20]), 7001);
    p.event = Event::STARTED;
    p.left = 0;
    let r = a.announce(&url, p).await.unwrap();
    assert_eq!((r.seeders, r.leechers, r.peers.len()), (1, 0, 0));

    let disc = Arc::new(Collect::default());
    let b = Client::new(cfg, 2)
        .await
        .unwrap()
        .with_discovery(disc.clone());
    let mut p = AnnounceParams::new(ih, disc.peer_id(), disc.port());
    p.left = 5;
    let r = b.announce(&url, p).await.unwrap();
    assert_eq!((r.seeders, r.leechers), (1, 1));
    assert_eq!(r.peers, vec!["127.0.0.1:7001".parse().unwrap()]);
    let got = disc.0.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![DiscoveredPeer::new(
            ih,
            "127.0.0.1:7001".parse().unwrap(),
            PeerSource::Tracker
        )]
    );

    // Many in flight on one socket, and a scrape of more than 74 hashes split in requests.
    let mut tasks = Vec::new();
    for i in 0..50u8 {
        let b = b.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let p = AnnounceParams::new(InfoHash::new([i; 20]), PeerId::new([i; 20]), 8000);
            b.announce(&url, p).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let hashes: Vec<InfoHash> = (0..100u8).map(|i| InfoHash::new([i; 20])).collect();
    let s = b.scrape(&url, &hashes).await.unwrap();
    assert_eq!(s.len(), 100);
    assert_eq!(s[9].seeders, 2);
    assert_eq!(s[10].seeders, 1);
    let c = server.stats();
    assert!(c.announces >= 52 && c.scrapes == 2, "{c:?}");
}

#[tokio::test]
async fn unanswered_requests_time_out() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let url = format!("udp://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let cfg = {
        let mut c = ClientConfig::default();
        c.base_timeout = Duration::from_millis(20);
        c.max_tries = 2;
        c
    };
    let c = Client::new(cfg, 3).await.unwrap();
    let p = AnnounceParams::new(InfoHash::new([1; 20]), PeerId::new([1; 20]), 1);
    let e = c.announce(&url, p).await.unwrap_err();
    assert!(
        matches!(e, ClientError::Request(RequestError::Timeout(2))),
        "{e}"
    );
    assert!(matches!(
        c.announce(
            "http://x:1",
            AnnounceParams::new(InfoHash::new([1; 20]), PeerId::new([1; 20]), 1)
        )
        .await,
        Err(ClientError::BadUrl(_))
    ));
}

#[test]
fn tracker_urls() {
    let u = TrackerUrl::parse("udp://tracker.example.com:80/dir?a=b&c=d").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("tracker.example.com", 80, "/dir?a=b&c=d")
    );
    let u = TrackerUrl::parse("udp://[::1]:6969").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("::1", 6969, "")
    );
    assert!(TrackerUrl::parse("udp://host").is_err());
}

#[tokio::test]
async fn ipv6_requesters_get_ipv6_peers() {
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        Instant::now(),
        1,
    ));
    let Ok(server) = Server::bind("[::1]:0".parse().unwrap(), ServerConfig::default(), store).await
    else {
        eprintln!("SKIP: no IPv6 loopback");
        return;
    };
    let url = format!("udp://[::1]:{}", server.local_addr().port());
    let cfg = {
        let mut c = ClientConfig::default();
        c.base_timeout = Duration::from_millis(200);
        c.max_tries = 3;
        c
    };
    let c = Client::new(cfg, 9).await.unwrap();
    let ih = InfoHash::new([4; 20]);
    c.announce(&url, AnnounceParams::new(ih, PeerId::new([1; 20]), 7001))
        .await
        .unwrap();
    let r = c
        .announce(&url, AnnounceParams::new(ih, PeerId::new([2; 20]), 7002))
        .await
        .unwrap();
    assert_eq!(r.peers, vec!["[::1]:7001".parse().unwrap()]);
    assert_eq!(r.seeders, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threaded_server_batches_answers() {
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        Instant::now(),
        3,
    ));
    let server = ThreadedServer::spawn(
        "127.0.0.1:0".parse().unwrap(),
        2,
        ServerConfig::default(),
        store.clone(),
    )
    .unwrap();
    let url = format!("udp://127.0.0.1:{}", server.local_addr().port());
    let cfg = {
        let mut c = ClientConfig::default();
        c.base_timeout = Duration::from_millis(200);
        c.max_tries = 4;
        c
    };
    let c = Client::new(cfg, 4).await.unwrap();
    // Many requests in flight at once, so receives and sends come in batches.
    let mut tasks = Vec::new();
    for i in 0..64u8 {
        let c = c.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut p = AnnounceParams::new(InfoHash::new([i % 8; 20]), PeerId::new([i; 20]), 9000);
            p.left = u64::from(i % 2);
            c.announce(&url, p).await.unwrap()
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.seeders + r.leechers >= 1 && r.peers.len() < 8, "{r:?}");
    }
    let hashes: Vec<InfoHash> = (0..100u8).map(|i| InfoHash::new([i; 20])).collect();
    let s = c.scrape(&url, &hashes).await.unwrap();
    assert_eq!(s.len(), 100);
    for (i, st) in s.iter().enumerate() {
        let n = if i < 8 { 8 } else { 0 };
        assert_eq!(st.seeders + st.leechers, n, "hash {i}");
    }
    assert_eq!(store.len(), (8, 64));

    // An oversized datagram is dropped, not truncated into a valid-looking request.
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut big = vec![0u8; 3000];
    big[..8].copy_from_slice(&0x41727101980u64.to_be_bytes());
    raw.send_to(&big, server.local_addr()).unwrap();
    raw.send_to(&big[..16], server.local_addr()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = raw.recv_from(&mut buf).unwrap();
    assert_eq!(n, 16, "only the 16-byte connect is answered");
    let snap = server.stats();
    assert!(snap.dropped >= 1 && snap.scrapes == 2, "{snap:?}");
    drop(server);
}
