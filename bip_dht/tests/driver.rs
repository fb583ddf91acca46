//! The tokio driver on loopback sockets: bootstrap, announce and get_peers between `Dht` nodes,
//! the state file, cancel on drop, and the `Discovery` feed. Every test is bounded by a tokio
//! timeout.
#![cfg(feature = "tokio")]

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bip_dht::Dht;
use bip_handshake::{AddPeer, DiscoveredPeer, Discovery, PeerSource};
use bip_interop::TempDir;
use bip_util::{InfoHash, PeerId};
use tokio::net::UdpSocket;
use tokio_stream::StreamExt;

/// Run `f`, failing the test after `secs` seconds.
async fn bounded<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("test did not finish within {secs} s"))
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A node on 127.0.0.1 that bootstraps from `boot` only (no public routers).
async fn node(boot: &[&Dht]) -> Dht {
    let mut b = Dht::builder()
        .bind(loopback())
        .routers(Vec::<String>::new());
    for n in boot {
        b = b.bootstrap(n.local_addrs()[0].to_string());
    }
    b.build().await.expect("build node")
}

/// Every peer of one lookup, until the stream ends.
async fn collect(dht: &Dht, hash: InfoHash) -> (HashSet<SocketAddr>, bip_dht::LookupSummary) {
    let mut peers = dht.get_peers(hash).await.expect("get_peers");
    let mut found = HashSet::new();
    while let Some(p) = peers.next().await {
        assert!(found.insert(p), "{p} reported twice");
    }
    let summary = peers.summary().expect("a completed lookup has a summary");
    (found, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_bootstrap_from_each_other_announce_and_find() {
    bounded(30, async {
        let n0 = node(&[]).await;
        assert_eq!(n0.bootstrapped().await, 0, "nothing to bootstrap from");
        let n1 = node(&[&n0]).await;
        assert!(n1.bootstrapped().await >= 1);
        let n2 = node(&[&n0, &n1]).await;
        assert!(n2.bootstrapped().await >= 2);
        let n3 = node(&[&n1]).await;
        assert!(n3.bootstrapped().await >= 2, "learned n0 or n2 from n1");

        // n0 learned the others from their queries.
        let known: HashSet<SocketAddr> = n0.nodes().await.unwrap().iter().map(|n| n.addr).collect();
        assert!(known.contains(&n1.local_addrs()[0]), "{known:?}");

        let hash = InfoHash::from_sha1(b"bip_dht driver test");
        let accepted = n3.announce(hash, Some(6000)).await.unwrap();
        assert!(accepted >= 2, "accepted by {accepted}");
        let (found, summary) = collect(&n2, hash).await;
        assert!(
            found.contains(&"127.0.0.1:6000".parse().unwrap()),
            "{found:?}"
        );
        assert_eq!(summary.peers, found.len());
        assert!(
            summary.replies >= 1 && summary.queries >= summary.replies,
            "{summary:?}"
        );

        // BEP 5's implied port: the peer is the announcer's UDP address.
        let accepted = n1.announce(hash, None).await.unwrap();
        assert!(accepted >= 1);
        let (found, _) = collect(&n0, hash).await;
        assert!(found.contains(&n1.local_addrs()[0]), "{found:?}");

        let s = n0.status();
        assert!(s.bootstrapped);
        assert!(
            s.stats.queries_in > 0 && s.stats.stored_hashes + n1.status().stats.stored_hashes > 0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_file_restart_rejoins_without_bootstrap_and_keeps_its_id() {
    bounded(30, async {
        let dir = TempDir::new("dht-driver-state");
        let path = dir.path().join("node.state");
        let hub = node(&[]).await;
        let other = node(&[&hub]).await;
        other.bootstrapped().await;
        let hash = InfoHash::from_sha1(b"state file test");
        assert!(other.announce(hash, Some(7000)).await.unwrap() >= 1);

        let first = Dht::builder()
            .bind(loopback())
            .routers(Vec::<String>::new())
            .bootstrap(hub.local_addrs()[0].to_string())
            .state_file(&path)
            .build()
            .await
            .unwrap();
        assert!(first.bootstrapped().await >= 1);
        let id = first.status().id;
        first.save_state().await.unwrap();
        assert!(
            !dir.path().join("node.state.tmp").exists(),
            "renamed into place"
        );
        let saved = bip_dht::state::SavedState::load(&path).unwrap().unwrap();
        assert_eq!(saved.id, id);
        assert!(
            saved.nodes.iter().any(|n| n.addr == hub.local_addrs()[0]),
            "{saved:?}"
        );
        drop(first);

        // No bootstrap node and no routers: only the saved table.
        let second = Dht::builder()
            .bind(loopback())
            .routers(Vec::<String>::new())
            .state_file(&path)
            .build()
            .await
            .unwrap();
        assert_eq!(second.status().id, id, "same node id after the restart");
        assert!(
            second.bootstrapped().await >= 1,
            "rejoined from the saved nodes"
        );
        let (found, _) = collect(&second, hash).await;
        assert!(
            found.contains(&"127.0.0.1:7000".parse().unwrap()),
            "{found:?}"
        );

        // Without a state file configured, save_state is an error, not a silent no-op.
        assert!(hub.save_state().await.is_err());
        // An unreadable state file is ignored: a fresh id, the node still starts.
        std::fs::write(&path, b"garbage").unwrap();
        let third = Dht::builder()
            .bind(loopback())
            .routers(Vec::<String>::new())
            .state_file(&path)
            .build()
            .await
            .unwrap();
        assert_ne!(third.status().id, id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_peers_stream_cancels_the_lookup() {
    bounded(30, async {
        // A "node" that never answers, and slow-query timeouts long enough that a lookup
        // querying it stays alive for the whole test unless cancelled.
        let silent = UdpSocket::bind(loopback()).await.unwrap();
        let dht = Dht::builder()
            .bind(loopback())
            .routers(Vec::<String>::new())
            .bootstrap(silent.local_addr().unwrap().to_string())
            .config(|c| {
                c.short_timeout = Duration::from_secs(60);
                c.min_short_timeout = Duration::from_secs(60);
                c.long_timeout = Duration::from_secs(120);
            })
            .build()
            .await
            .unwrap();
        let hash = InfoHash::from_sha1(b"cancel test");
        let mut buf = [0u8; 1500];
        // The bootstrap find_node arrives first.
        let (n, _) = silent.recv_from(&mut buf).await.unwrap();
        assert!(contains(&buf[..n], b"find_node"));
        // The bootstrap lookup stays alive (its node never answers); wait until the status
        // shows it, as it is published after the turn that sent the query.
        while dht.status().stats.lookups == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let before = dht.status().stats.lookups;

        let peers = dht.get_peers(hash).await.unwrap();
        loop {
            let (n, _) = silent.recv_from(&mut buf).await.unwrap();
            if contains(&buf[..n], b"get_peers") && contains(&buf[..n], hash.as_bytes()) {
                break;
            }
        }
        // The status is published after the driver's turn that sent the query: wait for it
        // (bounded by the test's 30 s) rather than reading it once.
        while dht.status().stats.lookups != before + 1 {
            assert!(
                dht.status().stats.lookups <= before + 1,
                "our lookup is running"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(peers);
        loop {
            if dht.status().stats.lookups == before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The node still serves commands afterwards.
        assert!(dht.nodes().await.is_ok());
    })
    .await;
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A `Discovery` stage that records what it is given.
#[derive(Default)]
struct Recorder(Mutex<Vec<DiscoveredPeer>>);

impl Discovery for Recorder {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        self.0.lock().unwrap().push(peer);
        AddPeer::Accepted
    }
    fn peer_id(&self) -> PeerId {
        PeerId::new([7; 20])
    }
    fn port(&self) -> u16 {
        6881
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn found_peers_reach_discovery_as_dht_peers() {
    bounded(30, async {
        let hub = node(&[]).await;
        let announcer = node(&[&hub]).await;
        announcer.bootstrapped().await;
        let hash = InfoHash::from_sha1(b"discovery test");
        assert!(announcer.announce(hash, Some(6543)).await.unwrap() >= 1);

        let recorder = Arc::new(Recorder::default());
        let seeker = Dht::builder()
            .bind(loopback())
            .routers(Vec::<String>::new())
            .bootstrap(hub.local_addrs()[0].to_string())
            .discovery(recorder.clone())
            .build()
            .await
            .unwrap();
        seeker.bootstrapped().await;
        let (found, _) = collect(&seeker, hash).await;
        let want: SocketAddr = "127.0.0.1:6543".parse().unwrap();
        assert!(found.contains(&want), "{found:?}");
        let got = recorder.0.lock().unwrap().clone();
        assert!(
            got.iter().any(|p| p.addr == want
                && p.info_hash == hash
                && p.source == PeerSource::Dht
                && p.peer_id.is_none()),
            "{got:?}"
        );
        assert!(got.iter().all(|p| p.source == PeerSource::Dht));
    })
    .await;
}
