//! A custom discovery pipeline: the DHT and a UDP tracker client feed one user-written
//! `Discovery` stage that drops duplicates and a blocklisted range, then hands the rest to a
//! handshaker; each connection is printed with the service that found it.
//!
//! `cargo run --release --example pipeline -- [--info-hash HEX] [--tracker URL] [--bootstrap HOST:PORT]... [--block CIDR]... [--seconds N]`
//!
//! Without `--tracker` and `--bootstrap` it first starts a small swarm of its own on 127.0.0.1
//! (a tracker, a DHT node and three peers serving the hash), so it runs offline as written.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bip_dht::Dht;
use bip_handshake::{AddPeer, DiscoveredPeer, Discovery, Handshaker, PeerSource};
use bip_util::{InfoHash, PeerId};
use bip_utracker::{AnnounceParams, Client, ClientConfig, MemoryStore, Server};
use clap::Parser;
use tokio_stream::StreamExt;

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "pipeline",
    version,
    about = "DHT + UDP tracker -> dedupe/blocklist stage -> handshaker",
    after_help = "Exit status: 0 at least one connection, 1 none before the end, 2 bad usage or a socket error."
)]
struct Args {
    /// The info hash (40 hex digits); default: SHA-1 of "bip pipeline demo".
    #[arg(long)]
    info_hash: Option<InfoHash>,
    /// A UDP tracker URL.
    #[arg(long)]
    tracker: Option<String>,
    /// DHT bootstrap nodes.
    #[arg(long)]
    bootstrap: Vec<String>,
    /// Drop peers in this range (`IP/PREFIX`), repeatable.
    #[arg(long)]
    block: Vec<Cidr>,
    /// Run this long.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

/// `IP/PREFIX`.
#[derive(Debug, Clone, Copy)]
struct Cidr(IpAddr, u8);

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (ip, len) = s.split_once('/').unwrap_or((s, ""));
        let ip: IpAddr = ip.parse().map_err(|e| format!("{s}: {e}"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = if len.is_empty() {
            max
        } else {
            len.parse().map_err(|_| format!("{s}: bad prefix"))?
        };
        if len > max {
            return Err(format!("{s}: prefix over {max}"));
        }
        Ok(Cidr(ip, len))
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip.to_canonical() {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        let ((net, w1), (x, w2)) = (bits(self.0), bits(ip));
        let keep = u32::from(self.1);
        w1 == w2 && (keep == 0 || (net ^ x) >> (w1 - keep) == 0)
    }
}

/// The pipeline stage: dedupe, blocklist, remember the source, forward.
struct Stage<D> {
    block: Vec<Cidr>,
    seen: Mutex<HashMap<SocketAddr, PeerSource>>,
    next: D,
}

impl<D: Discovery> Discovery for Stage<D> {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        if self.block.iter().any(|c| c.contains(peer.addr.ip())) {
            return AddPeer::Filtered;
        }
        if self
            .seen
            .lock()
            .expect("lock")
            .insert(peer.addr, peer.source)
            .is_some()
        {
            return AddPeer::Duplicate;
        }
        self.next.add_peer(peer)
    }
    fn peer_id(&self) -> PeerId {
        self.next.peer_id()
    }
    fn port(&self) -> u16 {
        self.next.port()
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("pipeline: {msg}");
    std::process::exit(2)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let hash = args
        .info_hash
        .unwrap_or_else(|| InfoHash::from_sha1(b"bip pipeline demo"));
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let demo = args.tracker.is_none() && args.bootstrap.is_empty();
    let (tracker, bootstrap, _keep) = if demo {
        local_swarm(hash).await.unwrap_or_else(|e| fail(e))
    } else {
        (args.tracker.clone(), args.bootstrap.clone(), None)
    };

    // Our side: handshaker <- stage <- (DHT, tracker).
    let me = bip_util::generate_peer_id(&mut rand::rng());
    let (handshaker, mut conns) = Handshaker::builder(me)
        .listen_addr(if demo {
            loopback
        } else {
            "0.0.0.0:0".parse().expect("addr")
        })
        .torrent(hash)
        .build()
        .await
        .unwrap_or_else(|e| fail(e));
    let stage = Arc::new(Stage {
        block: args.block.clone(),
        seen: Mutex::default(),
        next: handshaker.clone(),
    });
    let mut dht = Dht::builder().bind(if demo {
        loopback
    } else {
        "0.0.0.0:0".parse().expect("addr")
    });
    for b in &bootstrap {
        dht = dht.bootstrap(b.clone());
    }
    let dht = dht
        .discovery(stage.clone())
        .build()
        .await
        .unwrap_or_else(|e| fail(e));
    dht.bootstrapped().await;
    if let Some(url) = &tracker {
        let client = Client::new(ClientConfig::default(), 5)
            .await
            .unwrap_or_else(|e| fail(e));
        let client = client.with_discovery(stage.clone());
        let params = AnnounceParams::new(hash, stage.peer_id(), stage.port());
        if let Err(e) = client.announce(url, params).await {
            eprintln!("pipeline: tracker {url}: {e}");
        }
    }
    let mut lookup = dht.get_peers(hash).await.unwrap_or_else(|e| fail(e));
    tokio::spawn(async move { while lookup.next().await.is_some() {} });

    let mut connected = 0;
    let end = tokio::time::sleep(Duration::from_secs(args.seconds));
    tokio::pin!(end);
    loop {
        tokio::select! {
            Some(c) = conns.next() => {
                let source = stage.seen.lock().expect("lock").get(&c.remote_addr).copied();
                let source = source.map_or("incoming".to_string(), |s| format!("{s:?}"));
                println!("connected {} {} via {source}", c.remote_addr, c.peer_id.printable());
                connected += 1;
            }
            () = &mut end => break,
        }
    }
    println!("done: {connected} connections");
    std::process::exit(if connected > 0 { 0 } else { 1 });
}

/// Things kept alive while the demo runs.
type Keep = Option<(
    Server,
    Vec<Dht>,
    Vec<(Handshaker, bip_handshake::Connections)>,
)>;

/// A tracker, a DHT node and three peers serving `hash` on 127.0.0.1: the first two announce
/// to the tracker, the third into the DHT.
async fn local_swarm(hash: InfoHash) -> Result<(Option<String>, Vec<String>, Keep), String> {
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let store = Arc::new(MemoryStore::new(
        Default::default(),
        std::time::Instant::now(),
        1,
    ));
    let server = Server::bind(loopback, Default::default(), store)
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("udp://{}/announce", server.local_addr());
    let router = Dht::builder()
        .bind(loopback)
        .routers(Vec::<String>::new())
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let boot = router.local_addrs()[0].to_string();
    let client = Client::new(ClientConfig::default(), 9)
        .await
        .map_err(|e| e.to_string())?;
    let (mut dhts, mut peers) = (vec![router], Vec::new());
    for i in 0..3u8 {
        let id = PeerId::new(*b"-BP0100-demo-peer-00").with_last(i);
        let (hs, conns) = Handshaker::builder(id)
            .listen_addr(loopback)
            .torrent(hash)
            .build()
            .await
            .map_err(|e| e.to_string())?;
        if i < 2 {
            let params = AnnounceParams::new(hash, id, hs.local_addr().port());
            client
                .announce(&url, params)
                .await
                .map_err(|e| e.to_string())?;
        } else {
            let d = Dht::builder()
                .bind(loopback)
                .bootstrap(boot.clone())
                .build()
                .await
                .map_err(|e| e.to_string())?;
            d.bootstrapped().await;
            d.announce(hash, Some(hs.local_addr().port()))
                .await
                .map_err(|e| e.to_string())?;
            dhts.push(d);
        }
        peers.push((hs, conns));
    }
    eprintln!("pipeline: local swarm: tracker {url}, DHT node {boot}, 3 peers");
    Ok((Some(url), vec![boot], Some((server, dhts, peers))))
}

/// A distinct last byte for the demo peers' ids.
trait WithLast {
    fn with_last(self, b: u8) -> Self;
}

impl WithLast for PeerId {
    fn with_last(self, b: u8) -> Self {
        let mut bytes = self.to_bytes();
        bytes[19] = b'0' + b;
        PeerId::new(bytes)
    }
}
