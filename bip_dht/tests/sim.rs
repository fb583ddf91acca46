//! Deterministic simulations of ~1,000 [`Node`] cores (`bip_dht::sim`): bootstrap, announce and
//! get_peers without and with loss and churn, an outage, a query flood, reproducibility; plus
//! unknown query methods between two cores. No sockets, no sleeps: every test runs on virtual
//! time and bounds its work in virtual time. Each test prints its key figures (`--nocapture`).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bip_dht::krpc::{Body, ErrorCode, Message, Method, Query, Want};
use bip_dht::sim::{Sim, SimConfig};
use bip_dht::table::K;
use bip_dht::{Config, Event, LookupId, Node};
use bip_util::{InfoHash, NodeId};

/// Nodes in the large simulations.
const NODES: usize = 1000;
/// Virtual time given to a fresh network to bootstrap.
const BOOTSTRAP: Duration = Duration::from_secs(60);
/// Virtual time a batch of lookups may take at most.
const LOOKUP_BOUND: Duration = Duration::from_secs(30);

/// A small deterministic generator (splitmix64) for the tests' own choices.
struct Pick(u64);

impl Pick {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A random live node other than those in `not`.
    fn live(&mut self, sim: &Sim, not: &[usize]) -> usize {
        loop {
            let i = self.below(sim.len());
            if !sim.node(i).dead && !sim.node(i).offline && !not.contains(&i) {
                return i;
            }
        }
    }
}

fn network(nodes: usize, seed: u64, loss: f64) -> Sim {
    let mut cfg = SimConfig::default();
    cfg.nodes = nodes;
    cfg.seed = seed;
    cfg.loss = loss;
    Sim::new(cfg)
}

/// Table sizes of the live nodes.
fn table_sizes(sim: &Sim) -> Vec<usize> {
    (0..sim.len())
        .filter(|&i| !sim.node(i).dead)
        .map(|i| sim.node(i).node.stats().nodes_v4)
        .collect()
}

/// One announced hash: who announced it, on which port.
#[derive(Debug, Clone, Copy)]
struct Announced {
    hash: InfoHash,
    who: usize,
    peer: SocketAddr,
}

/// Announce `n` hashes, each from a random live node, and let the announces finish.
fn announce(sim: &mut Sim, pick: &mut Pick, n: usize, tag: &str) -> Vec<Announced> {
    let mut out = Vec::with_capacity(n);
    let mut started = HashSet::new();
    for i in 0..n {
        let hash = InfoHash::from_sha1(format!("{tag}-{i}").as_bytes());
        let who = pick.live(sim, &[]);
        let port = 20_000 + i as u16;
        let now = sim.now();
        let l = sim
            .node_mut(who)
            .announce(now, hash, Some(port), false)
            .expect("announce");
        started.insert((who, l));
        out.push(Announced {
            hash,
            who,
            peer: SocketAddr::new(sim.node(who).addr.ip(), port),
        });
    }
    // Bounded: announces finish well within 20 s of virtual time.
    let mut accepted = Vec::new();
    for _ in 0..80 {
        sim.run_for(Duration::from_millis(250));
        for e in sim.drain_events() {
            if let Event::LookupDone { lookup, summary } = e.event {
                if started.remove(&(e.node, lookup)) {
                    accepted.push(summary.announced.unwrap_or(0));
                }
            }
        }
        if started.is_empty() {
            break;
        }
    }
    let mean = accepted.iter().sum::<usize>() as f64 / accepted.len().max(1) as f64;
    eprintln!(
        "  {n} announces: {} finished, {} unfinished, mean {mean:.1} nodes accepted, min {}",
        accepted.len(),
        started.len(),
        accepted.iter().min().copied().unwrap_or(0)
    );
    out
}

/// What a batch of lookups did.
#[derive(Debug, Default)]
struct Outcome {
    /// Lookups started.
    started: usize,
    /// Lookups that reported the announced peer.
    found: usize,
    /// Lookups that finished (`LookupDone`).
    done: usize,
    /// Virtual time to the first matching peer, per lookup that found it.
    first_ms: Vec<f64>,
    /// Queries per finished lookup.
    queries: Vec<usize>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.found as f64 / self.started.max(1) as f64
    }

    fn print(&mut self, what: &str) {
        self.first_ms.sort_by(f64::total_cmp);
        let p = |v: &[f64], q: f64| {
            if v.is_empty() {
                f64::NAN
            } else {
                v[((v.len() - 1) as f64 * q).round() as usize]
            }
        };
        let q_mean = self.queries.iter().sum::<usize>() as f64 / self.queries.len().max(1) as f64;
        eprintln!(
            "  {what}: {}/{} found ({:.1}%), {} finished; first peer p50 {:.0} ms p95 {:.0} ms; {q_mean:.1} queries/lookup",
            self.found,
            self.started,
            100.0 * self.rate(),
            self.done,
            p(&self.first_ms, 0.5),
            p(&self.first_ms, 0.95)
        );
    }
}

/// Start every `(node, target)` lookup at once and run until all finished or `bound` passed.
fn lookups(sim: &mut Sim, jobs: &[(usize, Announced)], bound: Duration) -> Outcome {
    let mut started: HashMap<(usize, LookupId), (SocketAddr, Instant)> = HashMap::new();
    for (who, a) in jobs {
        let now = sim.now();
        let l = sim
            .node_mut(*who)
            .get_peers(now, a.hash)
            .expect("get_peers");
        started.insert((*who, l), (a.peer, now));
    }
    let mut out = Outcome {
        started: started.len(),
        ..Outcome::default()
    };
    let mut found = HashSet::new();
    let mut done = HashSet::new();
    let end = sim.now() + bound;
    while sim.now() < end && done.len() < started.len() {
        sim.run_for(Duration::from_millis(250));
        for e in sim.drain_events() {
            match e.event {
                Event::Peer { lookup, addr, .. } => {
                    if let Some(&(peer, at)) = started.get(&(e.node, lookup)) {
                        if addr == peer && found.insert((e.node, lookup)) {
                            out.first_ms.push((e.at - at).as_secs_f64() * 1000.0);
                        }
                    }
                }
                Event::LookupDone { lookup, summary }
                    if started.contains_key(&(e.node, lookup)) && done.insert((e.node, lookup)) =>
                {
                    out.queries.push(summary.queries);
                }
                _ => {}
            }
        }
    }
    out.found = found.len();
    out.done = done.len();
    out
}

/// For each announced hash, a lookup from a random other live node.
fn jobs_for(sim: &Sim, pick: &mut Pick, announced: &[Announced]) -> Vec<(usize, Announced)> {
    announced
        .iter()
        .map(|a| (pick.live(sim, &[a.who]), *a))
        .collect()
}

/// (1) After 60 s of virtual time every node's routing table holds at least K nodes.
#[test]
fn bootstrap_fills_routing_tables() {
    bootstrap_fills_routing_tables_run(11);
}

fn bootstrap_fills_routing_tables_run(seed: u64) {
    let wall = Instant::now();
    let mut sim = network(NODES, seed, 0.0);
    sim.run_for(BOOTSTRAP);
    let sizes = table_sizes(&sim);
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    let min = *sizes.iter().min().expect("nodes");
    let max = *sizes.iter().max().expect("nodes");
    let below = sizes.iter().filter(|&&s| s < K).count();
    let bootstrapped = sim
        .drain_events()
        .iter()
        .filter(|e| matches!(e.event, Event::Bootstrapped { .. }))
        .map(|e| e.node)
        .collect::<HashSet<_>>()
        .len();
    eprintln!(
        "bootstrap: {NODES} nodes, {:?} virtual: table mean {mean:.1} min {min} max {max}, {below} below K={K}, {bootstrapped} Bootstrapped events; {} datagrams delivered; {:.2} s wall",
        sim.elapsed(),
        sim.delivered,
        wall.elapsed().as_secs_f64()
    );
    assert_eq!(below, 0, "nodes with fewer than K={K} table entries");
    assert!(mean >= 2.0 * K as f64, "mean table size {mean:.1}");
    assert_eq!(bootstrapped, NODES, "every node reports Bootstrapped");
}

/// (2) Without loss every lookup reports the announced peer and finishes.
#[test]
fn lookups_without_loss_all_succeed() {
    lookups_without_loss_all_succeed_run(12);
}

fn lookups_without_loss_all_succeed_run(seed: u64) {
    let wall = Instant::now();
    let mut sim = network(NODES, seed, 0.0);
    let mut pick = Pick(seed);
    sim.run_for(BOOTSTRAP);
    let _ = sim.drain_events();
    let announced = announce(&mut sim, &mut pick, 200, "lossless");
    let jobs = jobs_for(&sim, &mut pick, &announced);
    let mut out = lookups(&mut sim, &jobs, LOOKUP_BOUND);
    eprintln!(
        "no loss: {NODES} nodes, {:?} virtual, {:.2} s wall",
        sim.elapsed(),
        wall.elapsed().as_secs_f64()
    );
    out.print("lookups");
    assert_eq!(
        out.found, out.started,
        "every lookup finds the announced peer"
    );
    assert_eq!(out.done, out.started, "every lookup finishes");
}

/// (3) With 20% loss and 10% churn between announce and lookup, at least 99% of lookups find
/// the peer.
#[test]
fn lookups_with_loss_and_churn() {
    lookups_with_loss_and_churn_run(13);
}

fn lookups_with_loss_and_churn_run(seed: u64) {
    let wall = Instant::now();
    let mut sim = network(NODES, seed, 0.2);
    let mut pick = Pick(seed);
    sim.run_for(BOOTSTRAP);
    let _ = sim.drain_events();
    let announced = announce(&mut sim, &mut pick, 250, "churn");
    // Churn: 10% of the nodes leave (announcers included, as in examples/simulate.rs), as
    // many new ones join, and the network settles for 30 s.
    let churned = NODES / 10;
    let mut killed_announcers = 0;
    for _ in 0..churned {
        let victim = pick.live(&sim, &[]);
        killed_announcers += announced.iter().filter(|a| a.who == victim).count();
        sim.kill(victim);
        sim.add_node();
    }
    sim.run_for(Duration::from_secs(30));
    let _ = sim.drain_events();
    let jobs = jobs_for(&sim, &mut pick, &announced);
    let mut out = lookups(&mut sim, &jobs, LOOKUP_BOUND);
    eprintln!(
        "loss 20%, churn {churned} of {NODES} ({killed_announcers} announcers gone): {:?} virtual, {} delivered, {} lost, {:.2} s wall",
        sim.elapsed(),
        sim.delivered,
        sim.lost,
        wall.elapsed().as_secs_f64()
    );
    out.print("lookups");
    assert!(out.started >= 200);
    assert!(
        out.rate() >= 0.99,
        "success {:.1}% < 99%",
        100.0 * out.rate()
    );
    assert_eq!(
        out.done, out.started,
        "every lookup finishes within the bound"
    );
}

/// (4) A node offline for 10 minutes (all its queries fail) recovers within 2 minutes of its
/// return: its own maintenance, with no command, gets K answers (each answer makes its sender
/// a good table entry again; the node does not expose its count of good entries), and then a
/// get_peers from it finds the peer.
#[test]
fn outage_recovery() {
    outage_recovery_run(14, Duration::from_secs(10 * 60));
}

/// (4b) The same after 20 minutes offline: every table entry is then older than BEP 5's 15
/// minutes, so the node must re-bootstrap rather than trust its table.
#[test]
fn outage_recovery_after_table_went_stale() {
    outage_recovery_run(16, Duration::from_secs(20 * 60));
}

fn outage_recovery_run(seed: u64, outage: Duration) {
    let wall = Instant::now();
    let mut sim = network(NODES, seed, 0.0);
    let mut pick = Pick(seed);
    sim.run_for(BOOTSTRAP);
    let _ = sim.drain_events();
    let victim = pick.live(&sim, &[]);
    let before = sim.node(victim).node.stats();
    sim.set_offline(victim, true);
    let outage_start = sim.now();
    sim.run_for(outage - Duration::from_secs(60));
    // Near the end of the outage: a hash is announced elsewhere (for the lookup after the
    // return), and a lookup from the victim gets no answer at all.
    let announced = announce(&mut sim, &mut pick, 1, "outage");
    let a = announced[0];
    assert_ne!(a.who, victim);
    let now = sim.now();
    let dark = sim
        .node_mut(victim)
        .get_peers(now, InfoHash::from_sha1(b"dark"))
        .expect("get_peers");
    sim.run_until(outage_start + outage);
    let dark_summary = sim
        .drain_events()
        .into_iter()
        .find_map(|e| match e.event {
            Event::LookupDone { lookup, summary } if e.node == victim && lookup == dark => {
                Some(summary)
            }
            _ => None,
        })
        .expect("the lookup during the outage finishes");
    let during = sim.node(victim).node.stats();
    eprintln!(
        "outage: node {victim} offline {outage:?}: replies {} -> {}, timeouts {} -> {}, table {} -> {}; lookup while offline: {} queries, {} replies",
        before.replies_in,
        during.replies_in,
        before.timeouts,
        during.timeouts,
        before.nodes_v4,
        during.nodes_v4,
        dark_summary.queries,
        dark_summary.replies
    );
    assert_eq!(
        during.replies_in, before.replies_in,
        "no answer while offline"
    );
    assert!(during.timeouts > before.timeouts + 10, "queries failed");
    assert_eq!(dark_summary.replies, 0);

    // Back online. First maintenance alone (no command), bounded by 2 minutes: the node must
    // hear answers from the network again (each answer makes its sender good in the table).
    sim.set_offline(victim, false);
    let back = sim.now();
    let bound = back + Duration::from_secs(120);
    let mut heard = None;
    while sim.now() < bound {
        sim.run_for(Duration::from_secs(1));
        if sim.node(victim).node.stats().replies_in >= during.replies_in + K as u64 {
            heard = Some(sim.now() - back);
            break;
        }
    }
    let healed = sim.node(victim).node.stats();
    // Then get_peers from it, retried every 5 s within the same bound.
    let mut found = None;
    let mut attempts = 0;
    while sim.now() < bound && found.is_none() {
        attempts += 1;
        let out = lookups(&mut sim, &[(victim, a)], Duration::from_secs(10));
        if out.found == 1 {
            found = Some(sim.now() - back);
        } else {
            sim.run_for(Duration::from_secs(5));
        }
    }
    let after = sim.node(victim).node.stats();
    eprintln!(
        "  back online: {K} answers from maintenance alone after {heard:?} (replies +{}, timeouts +{}, table {}); get_peers found the peer after {found:?} ({attempts} lookups); {:.2} s wall",
        healed.replies_in - during.replies_in,
        healed.timeouts - during.timeouts,
        after.nodes_v4,
        wall.elapsed().as_secs_f64()
    );
    assert!(heard.is_some(), "no answers within 2 minutes of the return");
    assert!(after.nodes_v4 >= K);
    assert!(
        found.is_some(),
        "get_peers failed for 2 minutes after the return"
    );
}

/// A query datagram from outside the simulation.
fn query(tid: u32, id: NodeId, method: Method<'_>) -> Vec<u8> {
    let t = tid.to_be_bytes();
    let mut out = Vec::new();
    Message {
        transaction_id: &t,
        version: None,
        ip: None,
        read_only: false,
        body: Body::Query(Query { id, method }),
    }
    .encode(&mut out);
    out
}

/// (5) 200 queries a second from one foreign address: the node blocks that address while
/// honest lookups through it (and from it) still succeed.
#[test]
fn flood_from_one_address_is_blocked() {
    flood_from_one_address_is_blocked_run(15);
}

fn flood_from_one_address_is_blocked_run(seed: u64) {
    let wall = Instant::now();
    let mut sim = network(NODES, seed, 0.0);
    let mut pick = Pick(seed);
    sim.run_for(BOOTSTRAP);
    let _ = sim.drain_events();
    let victim = pick.live(&sim, &[]);
    // A hash equal to the victim's id: the victim is among the nodes storing it, so lookups
    // for it go through the victim.
    let own = InfoHash::from(sim.node(victim).node.id());
    let mut announced = announce(&mut sim, &mut pick, 20, "flood");
    let who = pick.live(&sim, &[victim]);
    let port = 30_000;
    let now = sim.now();
    let l = sim
        .node_mut(who)
        .announce(now, own, Some(port), false)
        .expect("announce");
    sim.run_for(Duration::from_secs(10));
    let stored = sim.drain_events().iter().any(|e| {
        e.node == victim
            && matches!(e.event, Event::PeerAnnounced { info_hash, .. } if info_hash == own)
    });
    let _ = l;
    assert!(stored, "the victim stores the peer of its own id");
    let own_peer = Announced {
        hash: own,
        who,
        peer: SocketAddr::new(sim.node(who).addr.ip(), port),
    };

    // The flood: 60 s at 200 queries a second, get_peers and ping alternately.
    let attacker: SocketAddr = "203.0.113.66:4000".parse().unwrap();
    let mut ids = Pick(99);
    let flood_start = sim.now();
    let before = sim.node(victim).node.stats();
    let lost_before = sim.lost;
    let sent: u32 = 200 * 60;
    for i in 0..sent {
        let mut raw = [0u8; 20];
        for c in raw.chunks_mut(8) {
            c.copy_from_slice(&ids.next().to_le_bytes()[..c.len()]);
        }
        let id = NodeId::from(raw);
        let method = if i % 2 == 0 {
            Method::GetPeers {
                info_hash: InfoHash::from_sha1(&i.to_be_bytes()),
                want: Want::default(),
                noseed: false,
                scrape: false,
            }
        } else {
            Method::Ping
        };
        let at = flood_start + Duration::from_millis(5 * i as u64);
        sim.inject(at, attacker, victim, query(i, id, method));
    }
    // Honest traffic during the flood: lookups through the victim for its own id from 30
    // other nodes, and lookups from the victim for the other hashes.
    sim.run_for(Duration::from_secs(5));
    let mut jobs: Vec<(usize, Announced)> = (0..30)
        .map(|_| (pick.live(&sim, &[victim, who]), own_peer))
        .collect();
    for a in announced.drain(..) {
        if a.who != victim {
            jobs.push((victim, a));
        }
    }
    let mut out = lookups(&mut sim, &jobs, LOOKUP_BOUND);
    sim.run_until(flood_start + Duration::from_secs(61));
    let after = sim.node(victim).node.stats();
    // In a lossless network without churn the only datagrams lost are those to addresses
    // outside the simulation: the victim's answers to the attacker, and any query a node sends
    // it after learning its address (so this over-counts the answers).
    let answered = sim.lost - lost_before;
    eprintln!(
        "flood: {sent} queries in 60 s from {attacker} into node {victim}: answered {answered}, rate_limited +{}, blocked {}, queries_in +{}; {:.2} s wall",
        after.rate_limited - before.rate_limited,
        after.blocked,
        after.queries_in - before.queries_in,
        wall.elapsed().as_secs_f64()
    );
    out.print("honest lookups during the flood");
    assert!(after.blocked >= 1, "the attacker is blocked");
    assert_eq!(after.blocked, 1, "only the attacker is blocked");
    assert!(
        after.rate_limited - before.rate_limited >= sent as u64 - 100,
        "almost all of the flood is dropped"
    );
    assert!(
        answered <= 100,
        "the victim answered {answered} flood queries"
    );
    assert_eq!(out.found, out.started, "honest lookups still succeed");
    assert_eq!(out.done, out.started);
}

/// Everything a run reports, with times relative to its start (comparable across runs).
type Trace = (u64, Vec<(usize, Duration, Event)>, usize, usize);

fn traced_run(seed: u64) -> Trace {
    let mut sim = network(300, seed, 0.1);
    let mut pick = Pick(seed);
    let start = sim.now();
    sim.run_for(Duration::from_secs(30));
    let mut events: Vec<(usize, Duration, Event)> = Vec::new();
    let mut keep = |sim: &mut Sim| {
        for e in sim.drain_events() {
            events.push((e.node, e.at - start, e.event));
        }
    };
    keep(&mut sim);
    let announced = announce(&mut sim, &mut pick, 20, "determinism");
    for _ in 0..20 {
        let v = pick.live(&sim, &[]);
        sim.kill(v);
        sim.add_node();
    }
    sim.run_for(Duration::from_secs(10));
    let jobs = jobs_for(&sim, &mut pick, &announced);
    let out = lookups(&mut sim, &jobs, Duration::from_secs(20));
    keep(&mut sim);
    (sim.trace_hash(), events, out.found, out.done)
}

/// (6) The same seed gives the same trace and results; another seed another trace.
#[test]
fn same_seed_same_run() {
    let wall = Instant::now();
    let a = traced_run(21);
    let b = traced_run(21);
    let c = traced_run(22);
    eprintln!(
        "determinism: seed 21 trace {:016x} ({} events, found {}, done {}) twice {:016x}; seed 22 trace {:016x} (found {}); {:.2} s wall",
        a.0,
        a.1.len(),
        a.2,
        a.3,
        b.0,
        c.0,
        c.2,
        wall.elapsed().as_secs_f64()
    );
    assert_eq!(a.0, b.0, "same seed, same trace hash");
    assert_eq!(a.1, b.1, "same seed, same events");
    assert_eq!((a.2, a.3), (b.2, b.3), "same seed, same results");
    assert_ne!(a.0, c.0, "another seed, another trace");
}

/// Carry datagrams between two cores until both are quiet.
fn shuttle(now: Instant, a: &mut Node, a_addr: SocketAddr, b: &mut Node, b_addr: SocketAddr) {
    let mut buf = Vec::new();
    for _ in 0..8 {
        while let Some(t) = a.poll_transmit(&mut buf) {
            b.handle_datagram(now, a_addr, &buf[..t.len]);
        }
        while let Some(t) = b.poll_transmit(&mut buf) {
            a.handle_datagram(now, b_addr, &buf[..t.len]);
        }
    }
}

/// The one answer `node` sends to `to` after `query` (other datagrams are discarded).
fn answer_to(node: &mut Node, now: Instant, to: SocketAddr, query: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    while node.poll_transmit(&mut buf).is_some() {}
    node.handle_datagram(now, to, query);
    let mut answers = Vec::new();
    while let Some(t) = node.poll_transmit(&mut buf) {
        if t.to == to {
            answers.push(buf[..t.len].to_vec());
        }
    }
    assert_eq!(answers.len(), 1, "exactly one answer");
    answers.pop().unwrap()
}

/// An unknown method with `target` is answered like find_node; one without, with error 204.
#[test]
fn unknown_methods() {
    let now = Instant::now();
    let mut a = Node::new(Config::default(), [1; 32]);
    let mut b = Node::new(Config::default(), [2; 32]);
    let (addr_a, addr_b): (SocketAddr, SocketAddr) = (
        "10.0.0.1:6881".parse().unwrap(),
        "10.0.0.2:6881".parse().unwrap(),
    );
    a.add_node(now, addr_b);
    shuttle(now, &mut a, addr_a, &mut b, addr_b);
    assert_eq!(b.stats().nodes_v4, 1);

    let asker: SocketAddr = "10.0.0.3:7000".parse().unwrap();
    let asker_id = NodeId::from([3; 20]);
    let target = NodeId::from([0x55; 20]);
    let q = query(
        7,
        asker_id,
        Method::Unknown {
            name: b"frobnicate",
            target: Some(target),
            want: Want::default(),
        },
    );
    let bytes = answer_to(&mut b, now, asker, &q);
    let msg = Message::decode(&bytes).expect("an answer decodes");
    eprintln!(
        "unknown method with target: answer {}",
        bytes.escape_ascii()
    );
    assert_eq!(msg.transaction_id, 7u32.to_be_bytes());
    let Body::Response(r) = &msg.body else {
        panic!("not a response: {msg:?}")
    };
    assert_eq!(r.id, b.id());
    let nodes: Vec<(NodeId, SocketAddr)> = bip_util::nodes_v4(r.nodes.expect("nodes"))
        .expect("compact nodes")
        .map(|(id, addr)| (id, SocketAddr::V4(addr)))
        .collect();
    assert!(nodes.contains(&(a.id(), addr_a)), "nodes {nodes:?}");
    assert!(r.token.is_none() && r.values.is_none());
    assert_eq!(msg.ip.map(|ip| ip.ip()), Some(IpAddr::from([10, 0, 0, 3])));

    let q = query(
        8,
        asker_id,
        Method::Unknown {
            name: b"frobnicate",
            target: None,
            want: Want::default(),
        },
    );
    let bytes = answer_to(&mut b, now, asker, &q);
    let msg = Message::decode(&bytes).expect("an answer decodes");
    eprintln!(
        "unknown method without target: answer {}",
        bytes.escape_ascii()
    );
    assert_eq!(msg.transaction_id, 8u32.to_be_bytes());
    let Body::Error(e) = msg.body else {
        panic!("not an error: {msg:?}")
    };
    assert_eq!(e.code, ErrorCode::METHOD_UNKNOWN);
}
