//! usage: dht_replay QUERIES
//!
//! The throughput benchmark's query mix replayed into a `bip_dht::Node` in one process, with no
//! sockets (for instruction counts per answered query under callgrind):
//!
//!     valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*dht_replay*flood*' \
//!         bench/dht/target/release/dht_replay 30000
//!
//! then divide the `Collected` instructions by QUERIES. Setup mirrors dht_load: 200 fake nodes
//! on 127.0.0.1:21000.., 8 per bucket level, which ping the node and answer its pings; 500 of
//! 1,000 info hashes get 8 announced peers; then QUERIES queries, ping : find_node : get_peers
//! 1:1:1 from 64 of the nodes (random targets, hashes from all 1,000), every answer taken with
//! `poll_transmit`. The clock advances 10 µs per query.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bip_dht::krpc::{Body, Message};
use bip_dht::{Config, Node};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn id(&mut self) -> [u8; 20] {
        let mut b = [0u8; 20];
        for c in b.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        b
    }
}

fn bstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s);
}

fn query(id: &[u8; 20], method: &[u8], args: &[u8], ro: bool, tid: &[u8]) -> Vec<u8> {
    let mut m = b"d1:ad2:id20:".to_vec();
    m.extend_from_slice(id);
    m.extend_from_slice(args);
    m.extend_from_slice(b"e1:q");
    bstr(&mut m, method);
    if ro {
        m.extend_from_slice(b"2:roi1e");
    }
    m.extend_from_slice(b"1:t");
    bstr(&mut m, tid);
    m.extend_from_slice(b"1:y1:qe");
    m
}

fn response(id: &[u8; 20], tid: &[u8]) -> Vec<u8> {
    let mut m = b"d1:rd2:id20:".to_vec();
    m.extend_from_slice(id);
    m.extend_from_slice(b"5:nodes0:5:token2:tke1:t");
    bstr(&mut m, tid);
    m.extend_from_slice(b"1:y1:re");
    m
}

/// Answers every query the node sent to a fake node; returns the answers to `probe`.
fn drain(
    node: &mut Node,
    now: Instant,
    ids: &[([u8; 20], SocketAddr)],
    probe: SocketAddr,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut replies = Vec::new();
    let mut to_probe = Vec::new();
    while let Some(t) = node.poll_transmit(&mut out) {
        if t.to == probe {
            to_probe.push(out[..t.len].to_vec());
            continue;
        }
        let Some((id, addr)) = ids.iter().find(|(_, a)| *a == t.to) else {
            continue;
        };
        if let Ok(m) = Message::decode(&out[..t.len]) {
            if matches!(m.body, Body::Query(_)) {
                replies.push((*addr, response(id, m.transaction_id)));
            }
        }
    }
    for (a, r) in replies {
        node.handle_datagram(now, a, &r);
    }
    while node.poll_event().is_some() {}
    to_probe
}

#[inline(never)]
fn flood(
    node: &mut Node,
    mut now: Instant,
    msgs: &[Vec<u8>],
    froms: &[SocketAddr],
    n: usize,
) -> (usize, usize) {
    let mut out = Vec::with_capacity(bip_dht::MAX_DATAGRAM);
    let (mut answered, mut bytes) = (0, 0);
    for (i, from) in froms.iter().cycle().take(n).enumerate() {
        let m = &msgs[i % msgs.len()];
        node.handle_datagram(now, *from, m);
        while let Some(t) = node.poll_transmit(&mut out) {
            answered += 1;
            bytes += t.len;
        }
        now += Duration::from_micros(10);
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
    }
    (answered, bytes)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(30_000, |s| s.parse().expect("QUERIES"));
    let seed: [u8; 32] = *b"bench-dht-throughput-seed-000001";
    let mut node = Node::new(Config::default(), seed);
    let mut now = Instant::now();
    node.handle_timeout(now);
    let server_id = *node.id().as_bytes();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let hashes: Vec<[u8; 20]> = (0..1000).map(|_| rng.id()).collect();
    let targets: Vec<[u8; 20]> = (0..4096).map(|_| rng.id()).collect();
    let probe = SocketAddr::from(([127, 0, 0, 1], 20999));
    let probe_id = rng.id();
    let mut ids = Vec::new();
    for i in 0..200usize {
        let level = i / 8;
        let mut id = rng.id();
        for bit in 0..=level {
            let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
            let want = if bit < level {
                server_id[byte] & mask
            } else {
                !server_id[byte] & mask
            };
            id[byte] = (id[byte] & !mask) | want;
        }
        ids.push((id, SocketAddr::from(([127, 0, 0, 1], 21000 + i as u16))));
    }
    for round in 0..3 {
        for (id, addr) in &ids {
            node.add_node(now, *addr);
            node.handle_datagram(now, *addr, &query(id, b"ping", b"", false, b"wp"));
        }
        drain(&mut node, now, &ids, probe);
        now += Duration::from_millis(100 * (round + 1));
        node.handle_timeout(now);
        drain(&mut node, now, &ids, probe);
    }
    for (h, hash) in hashes.iter().enumerate().take(500) {
        let mut args = b"9:info_hash20:".to_vec();
        args.extend_from_slice(hash);
        let tid = [b'A', (h >> 8) as u8, h as u8];
        node.handle_datagram(
            now,
            probe,
            &query(&probe_id, b"get_peers", &args, true, &tid),
        );
        let answers = drain(&mut node, now, &ids, probe);
        let token = answers.iter().find_map(|a| match Message::decode(a) {
            Ok(Message {
                body: Body::Response(r),
                ..
            }) => r.token.map(<[u8]>::to_vec),
            _ => None,
        });
        let token = token.expect("token");
        for k in 0..8 {
            let mut args = b"9:info_hash20:".to_vec();
            args.extend_from_slice(hash);
            args.extend_from_slice(format!("4:porti{}e5:token", 40000 + k).as_bytes());
            bstr(&mut args, &token);
            let tid = [b'B', (h >> 8) as u8, h as u8, k as u8];
            node.handle_datagram(
                now,
                probe,
                &query(&probe_id, b"announce_peer", &args, true, &tid),
            );
            drain(&mut node, now, &ids, probe);
        }
    }
    // Pre-built queries: 64 senders, 4096 messages cycling ping, find_node, get_peers.
    let froms: Vec<SocketAddr> = ids[..64].iter().map(|(_, a)| *a).collect();
    let mut msgs = Vec::new();
    for i in 0..4096usize {
        let (id, _) = &ids[i % 64];
        let tid = [b'F', (i >> 8) as u8, i as u8];
        let m = match i % 3 {
            0 => query(id, b"ping", b"", false, &tid),
            1 => {
                let mut a = b"6:target20:".to_vec();
                a.extend_from_slice(&targets[i]);
                query(id, b"find_node", &a, false, &tid)
            }
            _ => {
                let mut a = b"9:info_hash20:".to_vec();
                a.extend_from_slice(&hashes[(rng.next() % 1000) as usize]);
                query(id, b"get_peers", &a, false, &tid)
            }
        };
        msgs.push(m);
    }
    // froms cycles with period 64 and msgs with period 4096: sender i % 64 sends msgs[i % 4096].
    let t = Instant::now();
    let (answered, bytes) = flood(&mut node, now, &msgs, &froms, n);
    let el = t.elapsed();
    let s = node.stats();
    println!(
        "queries={n} answered={answered} mean_bytes={} table_nodes={} stored_hashes={} ns_per_query={:.0}",
        bytes / answered.max(1),
        s.nodes_v4,
        s.stored_hashes,
        el.as_nanos() as f64 / n.max(1) as f64
    );
}
