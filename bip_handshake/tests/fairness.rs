//! Inbound slot fairness (issue 12 item 7), scaled down with the ratios: one address
//! (127.0.0.1) holds many idle connections plus as many slow-drip ones as there are slots;
//! handshakes from another address (127.0.0.2) still complete within a second.

use std::net::SocketAddr;
use std::time::Duration;

use bip_handshake::{Extensions, Handshake, Handshaker, BITTORRENT_PROTOCOL};
use bip_util::{InfoHash, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const H: InfoHash = InfoHash::new([0x42; 20]);

async fn from(ip: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((ip, 0)))?;
    s.connect(to).await
}

async fn handshake_from(ip: [u8; 4], to: SocketAddr, n: u8) -> bool {
    let run = async {
        let mut s = from(ip, to).await.ok()?;
        let mut hello = Vec::new();
        Handshake {
            protocol: BITTORRENT_PROTOCOL,
            reserved: Extensions::NONE,
            info_hash: H,
            peer_id: PeerId::new([n; 20]),
        }
        .encode(&mut hello);
        s.write_all(&hello).await.ok()?;
        let mut reply = [0u8; 68];
        s.read_exact(&mut reply).await.ok()?;
        Handshake::decode(&reply).ok().map(|h| h.info_hash == H)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), run).await,
        Ok(Some(true))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_address_gets_through_an_idle_and_slow_drip_flood() {
    // The sizes are 256 slots, 10,000 idle and 256 slow-drip connections; scaled
    // down by 16: 16 slots, 625 idle, 16 slow-drip.
    let (hs, mut conns) = Handshaker::builder(PeerId::new(*b"-BP0001-fairness0000"))
        .listen_addr("127.0.0.1:0".parse().unwrap())
        .torrent(H)
        .max_incoming(16)
        .build()
        .await
        .unwrap();
    tokio::spawn(async move { while conns.next().await.is_some() {} });
    let to = hs.local_addr();
    let mut held = Vec::new();
    for _ in 0..625 {
        if let Ok(s) = from([127, 0, 0, 1], to).await {
            held.push(s);
        }
    }
    let mut drips = Vec::new();
    for _ in 0..16 {
        drips.push(tokio::spawn(async move {
            let Ok(mut s) = from([127, 0, 0, 1], to).await else {
                return;
            };
            for b in [19u8, b'B', b'i', b't', b'T', b'o', b'r', b'r'] {
                if s.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ok = 0;
    for i in 0..100u8 {
        if handshake_from([127, 0, 0, 2], to, i).await {
            ok += 1;
        }
    }
    assert!(
        ok >= 99,
        "{ok} of 100 handshakes from 127.0.0.2 completed within 1 s"
    );
    assert!(hs.stats().incoming_evicted > 0);
    // And the flooding address alone still gets its free slots when nobody else competes.
    drop(held);
    for d in drips {
        d.abort();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(handshake_from([127, 0, 0, 1], to, 200).await);
}
