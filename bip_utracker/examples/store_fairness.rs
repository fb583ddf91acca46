//! Tracker store fairness at the size of issue 12 item 8, printing its figures:
//!
//! ```sh
//! cargo run --release -p bip_utracker --example store_fairness
//! ```
//!
//! A [`MemoryStore`] holds 1,000 swarms of 20 honest peers (one seeder each) and one swarm of
//! 2,000 honest peers, every honest peer on its own address. Then one address (192.0.2.66)
//! announces 100,000 fake peers: half into the big swarm, half spread over the small ones.
//! Afterwards every honest peer is checked (its entry is still there, its swarm's seeder is
//! still counted) and re-announces (it is answered with peers, and nothing is added). Run
//! twice: with the default limits, and with no store-wide per-address cap (only the shares
//! within each swarm, and swarms of 2,100 peers, so the big swarm is full).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::{AddressFamily, Event};
use bip_utracker::{Announce, MemoryStore, MemoryStoreConfig, Store};

const SMALL: u32 = 1_000;
const SMALL_PEERS: u32 = 20;
const BIG_PEERS: u32 = 2_000;
const FAKE: u32 = 100_000;
const FLOODER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn hash(t: u32) -> InfoHash {
    InfoHash::from_sha1(&t.to_be_bytes())
}

/// Announces and returns (answered, peers in the answer).
fn announce(
    s: &MemoryStore,
    now: Instant,
    h: InfoHash,
    source: Ipv4Addr,
    id: u32,
    left: u64,
) -> (bool, usize) {
    let mut pid = [0u8; 20];
    pid[..4].copy_from_slice(&id.to_be_bytes());
    let ip = IpAddr::V4(source);
    let mut a = Announce::new(
        h,
        PeerId::new(pid),
        SocketAddr::new(ip, (id % 60_000) as u16 + 1024),
    );
    a.event = Event::STARTED;
    a.left = left;
    let mut out = Vec::new();
    match s.announce(now, &a, AddressFamily::V4, &mut out) {
        Ok(_) => (true, out.len() / 6),
        Err(_) => (false, 0),
    }
}

/// The honest peers: (swarm, address, peer id, left).
fn honest() -> Vec<(InfoHash, Ipv4Addr, u32, u64)> {
    let mut v = Vec::new();
    let mut n = 0u32;
    let mut next = |h, i: u32| {
        n += 1;
        (h, Ipv4Addr::from(0x0a00_0000 | n), n, u64::from(i != 0))
    };
    for i in 0..BIG_PEERS {
        v.push(next(hash(u32::MAX), i));
    }
    for t in 0..SMALL {
        for i in 0..SMALL_PEERS {
            v.push(next(hash(t), i));
        }
    }
    v
}

fn scenario(name: &str, config: MemoryStoreConfig) -> bool {
    let now = Instant::now();
    let store = MemoryStore::new(config.clone(), now, 7);
    let peers = honest();
    for &(h, ip, id, left) in &peers {
        announce(&store, now, h, ip, id, left);
    }
    let (_, honest_stored) = store.len();
    let seeders_before: u64 = (0..SMALL)
        .map(hash)
        .chain([hash(u32::MAX)])
        .map(|h| u64::from(store.scrape(now, &h).seeders))
        .sum();

    let t0 = Instant::now();
    let mut answered = 0u32;
    for i in 0..FAKE {
        let h = if i % 2 == 0 {
            hash(u32::MAX)
        } else {
            hash(i / 2 % SMALL)
        };
        answered += u32::from(announce(&store, now, h, FLOODER, 1_000_000 + i, 1).0);
    }
    let flood = t0.elapsed();

    // Every honest peer still in place: its address holds its one entry, seeders unchanged,
    // and its re-announce is answered with peers without adding an entry.
    let in_place = peers
        .iter()
        .filter(|p| store.peers_of(IpAddr::V4(p.1)) == 1)
        .count();
    let seeders_after: u64 = (0..SMALL)
        .map(hash)
        .chain([hash(u32::MAX)])
        .map(|h| u64::from(store.scrape(now, &h).seeders))
        .sum();
    let (_, before_reannounce) = store.len();
    let mut reanswered = 0;
    let mut with_peers = 0;
    for &(h, ip, id, left) in &peers {
        let (ok, n) = announce(&store, now, h, ip, id, left);
        reanswered += usize::from(ok);
        with_peers += usize::from(n > 0);
    }
    let (torrents, after) = store.len();
    let pass = in_place == peers.len()
        && seeders_after == seeders_before
        && reanswered == peers.len()
        && with_peers == peers.len()
        && after == before_reannounce;

    println!(
        "{name}: max_peers_per_torrent {}, max_peers_per_address {}",
        config.max_peers_per_torrent, config.max_peers_per_address
    );
    println!(
        "  honest: {} peers on {} addresses in {} swarms ({honest_stored} stored), {seeders_before} seeders",
        peers.len(),
        peers.len(),
        SMALL + 1
    );
    println!(
        "  flood: {FAKE} fake peers from {FLOODER} in {:.2} s = {:.0} announces/s, {answered} answered; it holds {} entries",
        flood.as_secs_f64(),
        f64::from(FAKE) / flood.as_secs_f64(),
        store.peers_of(IpAddr::V4(FLOODER)),
    );
    println!(
        "  after: {in_place}/{} honest peers in place, seeders {seeders_after}/{seeders_before}, \
         {reanswered} re-announces answered ({with_peers} with peers), entries {before_reannounce} -> {after} \
         in {torrents} torrents: {}",
        peers.len(),
        if pass { "PASS" } else { "FAIL" }
    );
    pass
}

fn main() {
    let rss0 = status_kib("VmRSS:");
    let a = scenario("default limits", MemoryStoreConfig::default());
    let mut uncapped = MemoryStoreConfig::default();
    uncapped.max_peers_per_torrent = (BIG_PEERS + 100) as usize;
    uncapped.max_peers_per_address = usize::MAX;
    let b = scenario("no store-wide per-address cap", uncapped);
    println!(
        "peak RSS (VmHWM) {:.1} MiB (started at {:.1} MiB)",
        status_kib("VmHWM:") as f64 / 1024.0,
        rss0 as f64 / 1024.0
    );
    if !(a && b) {
        println!("GOAL MISSED");
        std::process::exit(1);
    }
}
