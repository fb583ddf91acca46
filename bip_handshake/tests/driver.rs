//! The tokio driver on loopback sockets.

use std::net::SocketAddr;
use std::time::Duration;

use bip_handshake::{
    AddPeer, DiscoveredPeer, Discovery, Extensions, FilterDecision, FilterInput, FilterStage,
    HandshakeError, Handshaker, PeerSource,
};
use bip_util::{InfoHash, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

const H: InfoHash = InfoHash::new([0x42; 20]);
const LIMIT: Duration = Duration::from_secs(20);

fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn id(tag: u8) -> PeerId {
    let mut b = *b"-BP0001-000000000000";
    b[19] = tag;
    PeerId::new(b)
}

fn hello(hash: InfoHash, peer: PeerId) -> Vec<u8> {
    let mut v = vec![19];
    v.extend_from_slice(b"BitTorrent protocol");
    v.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0x01]);
    v.extend_from_slice(hash.as_bytes());
    v.extend_from_slice(peer.as_bytes());
    v
}

#[tokio::test]
async fn bip_to_bip_both_directions_ipv4_and_ipv6() {
    timeout(LIMIT, async {
        for addr in ["127.0.0.1:0", "[::1]:0"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let Ok((seed, mut seed_conns)) = Handshaker::builder(id(b'S'))
                .listen_addr(addr)
                .torrent(H)
                .extensions(Extensions::FAST | Extensions::DHT)
                .build()
                .await
            else {
                eprintln!("SKIP: cannot bind {addr}");
                continue;
            };
            let (us, mut conns) = Handshaker::builder(id(b'U'))
                .listen_addr(addr)
                .extensions(Extensions::DHT | Extensions::EXTENSION_PROTOCOL)
                .build()
                .await
                .unwrap();
            assert_eq!(us.port(), us.local_addr().port());
            let mut peer = DiscoveredPeer::new(H, seed.local_addr(), PeerSource::Manual);
            peer.peer_id = Some(id(b'S'));
            assert_eq!(us.add_peer(peer), AddPeer::Accepted);
            let c = conns.next().await.unwrap();
            assert_eq!(c.peer_id, id(b'S'));
            assert_eq!(c.extensions, Extensions::DHT);
            assert_eq!(c.remote_extensions, Extensions::FAST | Extensions::DHT);
            assert_eq!(c.remote_addr, seed.local_addr());
            let s = seed_conns.next().await.unwrap();
            assert_eq!(s.peer_id, id(b'U'));
            assert_eq!(s.info_hash, H);
            assert_eq!(s.direction, bip_handshake::Direction::Incoming);
            // The sockets carry on.
            let (mut a, mut b) = (c.socket, s.socket);
            a.write_all(b"\0\0\0\0").await.unwrap();
            let mut four = [1u8; 4];
            b.read_exact(&mut four).await.unwrap();
            assert_eq!(four, [0; 4]);
            let st = us.stats();
            assert_eq!((st.dials_queued, st.completed_outgoing), (1, 1));
            assert_eq!(seed.stats().completed_incoming, 1);
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn leftover_bytes_are_kept() {
    timeout(LIMIT, async {
        let (seed, mut conns) = Handshaker::builder(id(b'S'))
            .listen_addr(lo())
            .torrent(H)
            .build()
            .await
            .unwrap();
        let mut raw = TcpStream::connect(seed.local_addr()).await.unwrap();
        let mut msg = hello(H, id(b'R'));
        msg.extend_from_slice(&[0, 0, 0, 1, 2]); // interested, right behind the handshake
        raw.write_all(&msg).await.unwrap();
        let c = conns.next().await.unwrap();
        assert_eq!(c.leftover, [0, 0, 0, 1, 2]);
        assert_eq!(c.remote_extensions.names(), ["dht", "extension_protocol"]);
        let mut reply = [0u8; 68];
        raw.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply[28..48], H.as_bytes());
        assert_eq!(&reply[48..], id(b'S').as_bytes());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_hash_is_closed_without_our_handshake() {
    timeout(LIMIT, async {
        let (fail_tx, mut fails) = mpsc::channel(1024);
        let (seed, _conns) = Handshaker::builder(id(b'S'))
            .listen_addr(lo())
            .torrent(H)
            .failures(fail_tx)
            .build()
            .await
            .unwrap();
        let mut raw = TcpStream::connect(seed.local_addr()).await.unwrap();
        raw.write_all(&hello(InfoHash::new([9; 20]), id(b'R')))
            .await
            .unwrap();
        let mut buf = Vec::new();
        raw.read_to_end(&mut buf).await.unwrap_or_default();
        assert!(buf.is_empty(), "nothing sent for an unknown hash");
        let f = fails.recv().await.unwrap();
        assert!(matches!(f.error, HandshakeError::UnknownInfoHash { .. }));
        assert_eq!(seed.stats().failed_unknown_hash, 1);

        // And a bip dialer for the wrong hash gets a typed error, not a hang.
        let (dial_tx, mut dial_fails) = mpsc::channel(1024);
        let (us, _c) = Handshaker::builder(id(b'U'))
            .listen_addr(lo())
            .failures(dial_tx)
            .build()
            .await
            .unwrap();
        us.add_peer(DiscoveredPeer::new(
            InfoHash::new([9; 20]),
            seed.local_addr(),
            PeerSource::Manual,
        ));
        let f = dial_fails.recv().await.unwrap();
        assert!(
            matches!(f.error, HandshakeError::Closed { received: 0 }),
            "{f:?}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn slow_drip_cannot_hold_a_slot_past_the_timeout() {
    timeout(LIMIT, async {
        let (fail_tx, mut fails) = mpsc::channel(1024);
        let (seed, _conns) = Handshaker::builder(id(b'S'))
            .listen_addr(lo())
            .torrent(H)
            .handshake_timeout(Duration::from_millis(300))
            .max_incoming(1)
            .failures(fail_tx)
            .build()
            .await
            .unwrap();
        let mut raw = TcpStream::connect(seed.local_addr()).await.unwrap();
        let msg = hello(H, id(b'R'));
        let drip = tokio::spawn(async move {
            for b in msg {
                if raw.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        // A second connection while the slot is held is refused at once.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _second = TcpStream::connect(seed.local_addr()).await.unwrap();
        let f1 = fails.recv().await.unwrap();
        assert!(matches!(f1.error, HandshakeError::Busy), "{f1:?}");
        let f2 = fails.recv().await.unwrap();
        assert!(matches!(f2.error, HandshakeError::Timeout { .. }), "{f2:?}");
        drip.abort();
        let st = seed.stats();
        assert_eq!((st.incoming_busy, st.failed_timeout), (1, 1));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn dial_limits_duplicates_own_address_and_full_queue() {
    timeout(LIMIT, async {
        // A listener that accepts and never answers keeps dials in flight.
        let silent = TcpListener::bind(lo()).await.unwrap();
        let silent_addr = silent.local_addr().unwrap();
        let (us, _c) = Handshaker::builder(id(b'U'))
            .listen_addr(lo())
            .max_outgoing(1)
            .max_queued_dials(2)
            .handshake_timeout(Duration::from_secs(5))
            .build()
            .await
            .unwrap();
        let p = |h: u8| DiscoveredPeer::new(InfoHash::new([h; 20]), silent_addr, PeerSource::Dht);
        assert_eq!(us.add_peer(p(1)), AddPeer::Accepted);
        assert_eq!(us.add_peer(p(1)), AddPeer::Duplicate);
        let own = DiscoveredPeer::new(H, us.local_addr(), PeerSource::Dht);
        assert_eq!(us.add_peer(own), AddPeer::Filtered);
        // Let the first dial leave the queue and take the only slot.
        while us.stats().dials_queued == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(us.add_peer(p(2)), AddPeer::Accepted);
        assert_eq!(us.add_peer(p(3)), AddPeer::Accepted);
        assert_eq!(us.add_peer(p(4)), AddPeer::Full);
        assert_eq!(us.dials_in_flight(), 3);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn filters_block_at_each_stage() {
    timeout(LIMIT, async {
        let other = InfoHash::new([7; 20]);
        let (fail_tx, mut fails) = mpsc::channel(1024);
        let (seed, mut conns) = Handshaker::builder(id(b'S'))
            .listen_addr(lo())
            .torrent(H)
            .torrent(other)
            .filter(|i: &FilterInput| match i.info_hash {
                None => FilterDecision::Defer,
                Some(h) if h == InfoHash::new([7; 20]) => FilterDecision::Block,
                Some(_) => FilterDecision::Allow,
            })
            .filter(|i: &FilterInput| match i.peer_id {
                None => FilterDecision::Defer,
                Some(p) if p.as_bytes()[19] == b'X' => FilterDecision::Block,
                Some(_) => FilterDecision::Allow,
            })
            .failures(fail_tx)
            .build()
            .await
            .unwrap();
        let (us, mut ours) = Handshaker::builder(id(b'U'))
            .listen_addr(lo())
            .filter(|i: &FilterInput| {
                if i.addr.port() == 1 {
                    FilterDecision::Block
                } else {
                    FilterDecision::Allow
                }
            })
            .build()
            .await
            .unwrap();
        let blocked = DiscoveredPeer::new(H, "127.0.0.1:1".parse().unwrap(), PeerSource::Dht);
        assert_eq!(us.add_peer(blocked), AddPeer::Filtered);

        let mut raw = TcpStream::connect(seed.local_addr()).await.unwrap();
        raw.write_all(&hello(other, id(b'R'))).await.unwrap();
        let f = fails.recv().await.unwrap();
        assert!(matches!(
            f.error,
            HandshakeError::Filtered {
                stage: FilterStage::InfoHash
            }
        ));

        let mut raw = TcpStream::connect(seed.local_addr()).await.unwrap();
        raw.write_all(&hello(H, id(b'X'))).await.unwrap();
        let f = fails.recv().await.unwrap();
        assert!(matches!(
            f.error,
            HandshakeError::Filtered {
                stage: FilterStage::PeerId
            }
        ));

        us.add_peer(DiscoveredPeer::new(
            H,
            seed.local_addr(),
            PeerSource::Manual,
        ));
        assert_eq!(conns.next().await.unwrap().peer_id, id(b'U'));
        assert_eq!(ours.next().await.unwrap().peer_id, id(b'S'));
        assert_eq!(seed.stats().failed_filtered, 2);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn custom_protocol_and_registry_changes() {
    timeout(LIMIT, async {
        let (seed, mut conns) = Handshaker::builder(id(b'S'))
            .listen_addr(lo())
            .protocol(b"bip chat")
            .build()
            .await
            .unwrap();
        let (us, mut ours) = Handshaker::builder(id(b'U'))
            .listen_addr(lo())
            .protocol(b"bip chat")
            .build()
            .await
            .unwrap();
        assert!(seed.add_torrent(H));
        assert!(seed.has_torrent(&H));
        us.add_peer(DiscoveredPeer::new(
            H,
            seed.local_addr(),
            PeerSource::Manual,
        ));
        assert_eq!(conns.next().await.unwrap().info_hash, H);
        assert_eq!(ours.next().await.unwrap().peer_id, id(b'S'));
        assert!(seed.remove_torrent(&H));
        assert!(Handshaker::builder(id(b'Z'))
            .protocol(&[b'x'; 300])
            .build()
            .await
            .is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn connect_failure_is_typed() {
    timeout(LIMIT, async {
        // Bind then drop: nothing listens on that port now.
        let port = TcpListener::bind(lo()).await.unwrap().local_addr().unwrap();
        let (tx, mut fails) = mpsc::channel(1024);
        let (us, _c) = Handshaker::builder(id(b'U'))
            .listen_addr(lo())
            .failures(tx)
            .build()
            .await
            .unwrap();
        us.add_peer(DiscoveredPeer::new(H, port, PeerSource::Manual));
        let f = fails.recv().await.unwrap();
        assert!(matches!(f.error, HandshakeError::Connect { .. }), "{f:?}");
        assert_eq!(us.stats().failed_connect, 1);
        assert_eq!(us.dials_in_flight(), 0);
    })
    .await
    .unwrap();
}
