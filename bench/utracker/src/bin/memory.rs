//! Memory of bip's MemoryStore holding 1,000,000 peers across 100,000 torrents (VmRSS delta).
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::{AddressFamily, Event};
use bip_utracker::*;

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn main() {
    let torrents: u32 = 100_000;
    let per: u32 = 10;
    let before = rss_kib();
    let now = Instant::now();
    let store = MemoryStore::new(MemoryStoreConfig::default(), now, 1);
    let mut out = Vec::new();
    for t in 0..torrents {
        let h = InfoHash::from_sha1(&t.to_be_bytes());
        for p in 0..per {
            let mut id = [0u8; 20];
            id[..4].copy_from_slice(&t.to_be_bytes());
            id[4..8].copy_from_slice(&p.to_be_bytes());
            let n = t * per + p;
            let addr = SocketAddr::from((Ipv4Addr::from(0x0a00_0000 | n), 6881));
            let mut a = Announce::new(h, PeerId::new(id), addr);
            a.event = Event::STARTED;
            a.left = u64::from(p % 2);
            a.num_want = 0;
            out.clear();
            store
                .announce(now, &a, AddressFamily::V4, &mut out)
                .unwrap();
        }
    }
    let after = rss_kib();
    let (t, p) = store.len();
    println!(
        "bip MemoryStore: {t} torrents, {p} peers: {:.1} MiB RSS ({:.0} bytes/peer)",
        (after - before) as f64 / 1024.0,
        (after - before) as f64 * 1024.0 / p as f64
    );
}
