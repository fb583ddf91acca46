//! The DHT simulation as a benchmark: N nodes in one process with virtual time, latency, loss
//! and churn; announces then lookups; prints per-lookup figures, percentiles and a summary line.
//!
//! `cargo run --release -p bip_dht --example simulate -- --nodes 10000 --lookups 1000 --rtt-ms 50 --loss 0.2 --churn 0.1 --seed 1`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bip_dht::sim::{Sim, SimConfig};
use bip_dht::{Event, LookupId};
use bip_util::InfoHash;

struct Args {
    nodes: usize,
    lookups: usize,
    rtt_ms: u64,
    loss: f64,
    churn: f64,
    seed: u64,
    quiet: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        nodes: 1000,
        lookups: 100,
        rtt_ms: 50,
        loss: 0.0,
        churn: 0.0,
        seed: 1,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--quiet" {
            a.quiet = true;
            continue;
        }
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{k} {v}: {e}");
        match k.as_str() {
            "--nodes" => a.nodes = v.parse().map_err(|e| bad(&e))?,
            "--lookups" => a.lookups = v.parse().map_err(|e| bad(&e))?,
            "--rtt-ms" => a.rtt_ms = v.parse().map_err(|e| bad(&e))?,
            "--loss" => a.loss = v.parse().map_err(|e| bad(&e))?,
            "--churn" => a.churn = v.parse().map_err(|e| bad(&e))?,
            "--seed" => a.seed = v.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    if !(0.0..1.0).contains(&a.loss) || !(0.0..1.0).contains(&a.churn) || a.nodes < 2 {
        return Err("--loss and --churn must be in [0, 1), --nodes at least 2".into());
    }
    Ok(a)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("simulate: {e}");
            std::process::exit(2);
        }
    };
    let wall = Instant::now();
    let mut cfg = SimConfig::default();
    cfg.nodes = a.nodes;
    cfg.seed = a.seed;
    cfg.rtt = Duration::from_millis(a.rtt_ms);
    cfg.loss = a.loss;
    let mut sim = Sim::new(cfg);
    // Bootstrap: nodes join over the first seconds, then the network settles.
    sim.run_for(Duration::from_secs(60));
    let sizes: Vec<usize> = (0..sim.len())
        .map(|i| sim.node(i).node.stats().nodes_v4)
        .collect();
    let mean_table = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    eprintln!(
        "bootstrapped {} nodes in {:.1}s wall: mean table {:.1}, min {}",
        a.nodes,
        wall.elapsed().as_secs_f64(),
        mean_table,
        sizes.iter().min().copied().unwrap_or(0)
    );
    let _ = sim.drain_events();

    // Announces: one random node per hash.
    let mut hashes = Vec::new();
    let mut announcers = Vec::new();
    let mut x = a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for i in 0..a.lookups {
        let hash = InfoHash::from_sha1(format!("sim-{}-{i}", a.seed).as_bytes());
        let who = rnd(sim.len());
        let now = sim.now();
        let _ = sim
            .node_mut(who)
            .announce(now, hash, Some(10_000 + (i % 50_000) as u16), false);
        hashes.push(hash);
        announcers.push(who);
    }
    sim.run_for(Duration::from_secs(20));
    let _ = sim.drain_events();

    // Churn: a fraction of nodes leave, as many new ones join.
    let churned = (a.nodes as f64 * a.churn) as usize;
    for _ in 0..churned {
        let victim = rnd(sim.len());
        sim.kill(victim);
        sim.add_node();
    }
    if churned > 0 {
        sim.run_for(Duration::from_secs(30));
        let _ = sim.drain_events();
    }

    // Lookups from other random live nodes.
    let mut started: HashMap<(usize, LookupId), (usize, Instant)> = HashMap::new();
    for (i, hash) in hashes.iter().enumerate() {
        let mut who = rnd(sim.len());
        while sim.node(who).dead || who == announcers[i] {
            who = rnd(sim.len());
        }
        let now = sim.now();
        if let Ok(l) = sim.node_mut(who).get_peers(now, *hash) {
            started.insert((who, l), (i, now));
        }
    }
    let mut first: HashMap<usize, Duration> = HashMap::new();
    let mut done: HashMap<usize, (Duration, usize, bool)> = HashMap::new();
    let expect = |i: usize| 10_000 + (i % 50_000) as u16;
    for _ in 0..120 {
        sim.run_for(Duration::from_millis(250));
        for e in sim.drain_events() {
            let node = e.node;
            match e.event {
                Event::Peer { lookup, addr, .. } => {
                    if let Some(&(i, at)) = started.get(&(node, lookup)) {
                        if addr.port() == expect(i) {
                            first.entry(i).or_insert(e.at - at);
                        }
                    }
                }
                Event::LookupDone { lookup, summary } => {
                    if let Some(&(i, at)) = started.get(&(node, lookup)) {
                        done.insert(
                            i,
                            (
                                summary.elapsed.min(e.at - at),
                                summary.queries,
                                first.contains_key(&i),
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
        if done.len() == started.len() {
            break;
        }
    }
    let mut firsts: Vec<f64> = first.values().map(|d| d.as_secs_f64() * 1000.0).collect();
    let mut completes: Vec<f64> = done.values().map(|d| d.0.as_secs_f64() * 1000.0).collect();
    let msgs: Vec<f64> = done.values().map(|d| d.1 as f64).collect();
    let success = first.len() as f64 / a.lookups.max(1) as f64;
    if !a.quiet {
        let mut ids: Vec<&usize> = done.keys().collect();
        ids.sort();
        for i in ids {
            let (c, q, ok) = done[i];
            let f = first
                .get(i)
                .map_or("-".to_string(), |d| format!("{}", d.as_millis()));
            println!(
                "lookup {i} first_peer_ms={f} complete_ms={} msgs={q} found={ok}",
                c.as_millis()
            );
        }
    }
    let msgs_mean = msgs.iter().sum::<f64>() / msgs.len().max(1) as f64;
    println!(
        "first_peer_ms p50={:.0} p90={:.0} p99={:.0}; complete_ms p50={:.0} p95={:.0} p99={:.0}; msgs mean={:.1} p95={:.0}",
        pct(&mut firsts, 0.5), pct(&mut firsts, 0.9), pct(&mut firsts, 0.99),
        pct(&mut completes, 0.5), pct(&mut completes, 0.95), pct(&mut completes, 0.99),
        msgs_mean, pct(&mut msgs.clone(), 0.95)
    );
    println!(
        "network: {} datagrams delivered, {} lost; mean table {:.1}; peak RSS {:.0} MiB",
        sim.delivered,
        sim.lost,
        mean_table,
        peak_rss_mib()
    );
    println!(
        "summary nodes={} lookups={} success={:.3} first_peer_p50_ms={:.0} complete_p95_ms={:.0} msgs_mean={:.0} wall_s={:.0} trace={:016x}",
        a.nodes, a.lookups, success, pct(&mut firsts, 0.5), pct(&mut completes, 0.95), msgs_mean,
        wall.elapsed().as_secs_f64(), sim.trace_hash()
    );
}
