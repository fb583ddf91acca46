//! The offline swarm demo: discovery feeding handshakes, end to end, on loopback only.
//!
//! Starts a bip UDP tracker, a small network of bip DHT nodes and several peers, each with its
//! own `Handshaker`. Every peer announces to the tracker and into the DHT, discovers the others
//! through both, and hands them to its handshaker through the `Discovery` trait (a small
//! counting stage in between, to show where each peer came from). Prints progress, then a table;
//! exits 0 only when every peer has found and handshaken every other.
//!
//! `cargo run --release --example swarm -- [--peers 8] [--nodes 20] [--json] [--timeout 60]`

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bip_dht::Dht;
use bip_handshake::{AddPeer, Direction, DiscoveredPeer, Discovery, Handshaker, PeerSource};
use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::Event as TrackerEvent;
use bip_utracker::{
    AnnounceParams, Client, ClientConfig, MemoryStore, MemoryStoreConfig, Server, ServerConfig,
};
use clap::Parser;

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "swarm",
    version,
    about = "Offline swarm demo: a UDP tracker and a DHT feed peers into handshakers, on 127.0.0.1",
    after_help = "Exit status: 0 every peer found and handshook every other, 1 not all did before the timeout, 2 bad usage or a socket error."
)]
struct Args {
    /// Peers, each with its own handshaker, DHT node and tracker client.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=1000))]
    peers: u32,
    /// DHT nodes besides the peers' own.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=5000))]
    nodes: u32,
    /// Print the final table as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

/// A pipeline stage between discovery and the handshaker: remembers which service found which
/// address, drops our own address, and forwards each address once.
struct Tally {
    me: SocketAddr,
    via_tracker: Mutex<HashSet<SocketAddr>>,
    via_dht: Mutex<HashSet<SocketAddr>>,
    forwarded: Mutex<HashSet<SocketAddr>>,
    next: Handshaker,
}

impl Discovery for Tally {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        if peer.addr == self.me {
            return AddPeer::Filtered;
        }
        match peer.source {
            PeerSource::Tracker => self.via_tracker.lock().expect("lock").insert(peer.addr),
            PeerSource::Dht => self.via_dht.lock().expect("lock").insert(peer.addr),
            _ => false,
        };
        if !self.forwarded.lock().expect("lock").insert(peer.addr) {
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

#[derive(Default)]
struct Handshakes {
    incoming: usize,
    outgoing: usize,
    with: HashSet<PeerId>,
}

struct Peer {
    tally: Arc<Tally>,
    dht: Dht,
    handshakes: Arc<Mutex<Handshakes>>,
}

fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("swarm: {msg}");
    std::process::exit(code)
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(2, format!("runtime: {e}")));
    let code = rt.block_on(run(args));
    // Sockets and tasks stop with the runtime.
    rt.shutdown_timeout(Duration::from_secs(1));
    std::process::exit(code);
}

async fn run(args: Args) -> i32 {
    let start = Instant::now();
    let t = || start.elapsed().as_secs_f64();
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let hash = InfoHash::from_sha1(b"bip swarm demo");
    let n = args.peers as usize;
    let deadline = start + Duration::from_secs(args.timeout);

    // 1. The tracker.
    let store = Arc::new(MemoryStore::new(MemoryStoreConfig::default(), start, 7));
    let tracker = Server::bind(loopback, ServerConfig::default(), store)
        .await
        .unwrap_or_else(|e| fail(2, format!("tracker: {e}")));
    let url = format!("udp://{}/announce", tracker.local_addr());
    eprintln!("[{:5.1}s] tracker on {}", t(), tracker.local_addr());

    // 2. The DHT: node 0 first, the others bootstrap from it (and from each other later).
    let mut nodes: Vec<Dht> = Vec::new();
    for i in 0..args.nodes as usize {
        let mut b = Dht::builder().bind(loopback).routers(Vec::<String>::new());
        if let Some(first) = nodes.first() {
            b = b.bootstrap(first.local_addrs()[0].to_string());
        }
        if i > 1 {
            b = b.bootstrap(nodes[i - 1].local_addrs()[0].to_string());
        }
        let dht = b
            .build()
            .await
            .unwrap_or_else(|e| fail(2, format!("dht node: {e}")));
        nodes.push(dht);
    }
    for d in &nodes[1..] {
        let _ = tokio::time::timeout(Duration::from_secs(10), d.bootstrapped()).await;
    }
    let sizes: Vec<usize> = nodes.iter().map(|d| d.status().stats.nodes_v4).collect();
    eprintln!(
        "[{:5.1}s] {} DHT nodes up, routing tables {}..{} nodes",
        t(),
        nodes.len(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );

    // 3. The peers.
    let mut peers = Vec::with_capacity(n);
    let tracker_client = Client::new(ClientConfig::default(), 11)
        .await
        .unwrap_or_else(|e| fail(2, format!("tracker client: {e}")));
    for i in 0..n {
        let id =
            bip_util::peer_id_with_prefix(format!("-BP0100-{i:04}").as_bytes(), &mut rand::rng())
                .unwrap_or_else(|e| fail(2, format!("peer id: {e}")));
        let (hs, mut conns) = Handshaker::builder(id)
            .listen_addr(loopback)
            .torrent(hash)
            .build()
            .await
            .unwrap_or_else(|e| fail(2, format!("handshaker: {e}")));
        let tally = Arc::new(Tally {
            me: hs.local_addr(),
            via_tracker: Mutex::default(),
            via_dht: Mutex::default(),
            forwarded: Mutex::default(),
            next: hs.clone(),
        });
        let boot = nodes[i % nodes.len()].local_addrs()[0].to_string();
        let dht = Dht::builder()
            .bind(loopback)
            .routers(Vec::<String>::new())
            .bootstrap(boot)
            .discovery(tally.clone())
            .build()
            .await
            .unwrap_or_else(|e| fail(2, format!("peer dht: {e}")));
        let handshakes = Arc::new(Mutex::new(Handshakes::default()));
        let h = handshakes.clone();
        tokio::spawn(async move {
            while let Some(c) = conns.next().await {
                let mut h = h.lock().expect("lock");
                match c.direction {
                    Direction::Incoming => h.incoming += 1,
                    Direction::Outgoing => h.outgoing += 1,
                }
                h.with.insert(c.peer_id);
            }
        });
        peers.push(Peer {
            tally,
            dht,
            handshakes,
        });
    }
    for p in &peers {
        let _ = tokio::time::timeout(Duration::from_secs(10), p.dht.bootstrapped()).await;
    }
    eprintln!(
        "[{:5.1}s] {n} peers up (handshaker + DHT node + tracker client each)",
        t()
    );

    // 4. Announce and look up until everyone found and handshook everyone, or the deadline.
    let ids: Vec<PeerId> = peers.iter().map(|p| p.tally.peer_id()).collect();
    let mut round = 0u32;
    let mut last_print = Instant::now() - Duration::from_secs(10);
    let ok = loop {
        round += 1;
        let mut tasks = Vec::new();
        for p in &peers {
            let need_tracker = p.tally.via_tracker.lock().expect("lock").len() < n - 1;
            let need_dht = p.tally.via_dht.lock().expect("lock").len() < n - 1;
            let tally = p.tally.clone();
            let dht = p.dht.clone();
            let client = tracker_client.clone();
            let url = url.clone();
            let first = round == 1;
            tasks.push(tokio::spawn(async move {
                if need_tracker || first {
                    let mut params = AnnounceParams::new(hash, tally.peer_id(), tally.port());
                    if first {
                        params.event = TrackerEvent::STARTED;
                    }
                    params.left = 1;
                    params.num_want = 200;
                    if let Ok(Ok(reply)) =
                        tokio::time::timeout(Duration::from_secs(5), client.announce(&url, params))
                            .await
                    {
                        for a in reply.peers {
                            tally.add_peer(DiscoveredPeer::new(hash, a, PeerSource::Tracker));
                        }
                    }
                }
                if first {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        dht.announce(hash, Some(tally.port())),
                    )
                    .await;
                } else if need_dht {
                    // The stream hands peers to the discovery stage as the DHT finds them.
                    if let Ok(mut s) = dht.get_peers(hash).await {
                        let _ = tokio::time::timeout(Duration::from_secs(5), async {
                            while tokio_stream::StreamExt::next(&mut s).await.is_some() {}
                        })
                        .await;
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let (ft, fd, hs) = totals(&peers, &ids);
        let pairs = n * (n - 1);
        if last_print.elapsed() >= Duration::from_millis(900)
            || (ft == pairs && fd == pairs && hs == pairs)
        {
            last_print = Instant::now();
            eprintln!(
                "[{:5.1}s] round {round}: found via tracker {ft}/{pairs}, via DHT {fd}/{pairs}, handshaken pairs {}/{}",
                t(),
                hs / 2,
                pairs / 2
            );
        }
        if ft == pairs && fd == pairs && hs == pairs {
            break true;
        }
        if Instant::now() >= deadline {
            break hs == pairs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Let in-flight handshakes land before the table.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // 5. The table.
    let mut rows = Vec::new();
    for (i, p) in peers.iter().enumerate() {
        let h = p.handshakes.lock().expect("lock");
        rows.push((
            i,
            p.tally.me,
            p.tally.via_tracker.lock().expect("lock").len(),
            p.tally.via_dht.lock().expect("lock").len(),
            h.incoming,
            h.outgoing,
            ids.iter()
                .filter(|id| **id != ids[i] && h.with.contains(id))
                .count(),
        ));
    }
    let (ft, fd, hs) = totals(&peers, &ids);
    let elapsed = t();
    if args.json {
        let json = serde_json::json!({
            "peers": rows.iter().map(|r| serde_json::json!({
                "peer": r.0, "address": r.1.to_string(), "via_tracker": r.2, "via_dht": r.3,
                "handshakes_in": r.4, "handshakes_out": r.5, "connected_to": r.6,
            })).collect::<Vec<_>>(),
            "total": {"peers": n, "dht_nodes": nodes.len(), "found_via_tracker": ft, "found_via_dht": fd,
                      "connected_pairs": hs / 2, "pairs": n * (n - 1) / 2, "seconds": elapsed, "ok": ok},
        });
        println!("{json}");
    } else {
        println!(
            "{:>4}  {:<21} {:>11} {:>7} {:>6} {:>6} {:>9}",
            "peer", "address", "via tracker", "via DHT", "hs in", "hs out", "connected"
        );
        for r in &rows {
            println!(
                "{:>4}  {:<21} {:>11} {:>7} {:>6} {:>6} {:>9}",
                r.0,
                r.1.to_string(),
                r.2,
                r.3,
                r.4,
                r.5,
                r.6
            );
        }
        println!(
            "total: {n} peers, {} DHT nodes; found via tracker {ft}/{p}, via DHT {fd}/{p}; {} of {} pairs handshaken; {:.1}s; {}",
            nodes.len(),
            hs / 2,
            n * (n - 1) / 2,
            elapsed,
            if ok { "ok" } else { "INCOMPLETE" },
            p = n * (n - 1),
        );
    }
    if ok {
        0
    } else {
        1
    }
}

/// (found via tracker, found via DHT, ordered pairs with a completed handshake).
fn totals(peers: &[Peer], ids: &[PeerId]) -> (usize, usize, usize) {
    let mut ft = 0;
    let mut fd = 0;
    let mut pairs: HashMap<(usize, usize), bool> = HashMap::new();
    for (i, p) in peers.iter().enumerate() {
        ft += p.tally.via_tracker.lock().expect("lock").len();
        fd += p.tally.via_dht.lock().expect("lock").len();
        let h = p.handshakes.lock().expect("lock");
        for (j, id) in ids.iter().enumerate() {
            if i != j && h.with.contains(id) {
                pairs.insert((i, j), true);
            }
        }
    }
    (ft, fd, pairs.len())
}
