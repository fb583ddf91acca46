//! A deterministic network of [`Node`] cores in one process: virtual time that jumps to the next
//! event, seeded per-link latency with jitter, packet loss, churn and outages, no sockets and no
//! sleeps. The same seed gives the same run, and [`Sim::trace_hash`] proves it.
//!
//! ```
//! use std::time::Duration;
//! use bip_dht::sim::{Sim, SimConfig};
//! use bip_dht::Event;
//! use bip_util::InfoHash;
//!
//! let mut cfg = SimConfig::default();
//! cfg.nodes = 50;
//! cfg.seed = 7;
//! let mut sim = Sim::new(cfg);
//! sim.run_for(Duration::from_secs(30)); // bootstrap
//! let hash = InfoHash::from_sha1(b"room");
//! let now = sim.now();
//! sim.node_mut(3).announce(now, hash, Some(7000), false)?;
//! sim.run_for(Duration::from_secs(5));
//! let now = sim.now();
//! let lookup = sim.node_mut(40).get_peers(now, hash)?;
//! sim.run_for(Duration::from_secs(5));
//! let found = sim.drain_events().into_iter().any(|e| {
//!     e.node == 40
//!         && matches!(e.event, Event::Peer { lookup: l, addr, .. } if l == lookup && addr.port() == 7000)
//! });
//! assert!(found);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bip_util::core::{core_rng, CoreRng};
use rand::Rng;

use crate::node::{Config, Event, Node};

/// Simulation parameters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Nodes at the start.
    pub nodes: usize,
    /// Seed for everything (node seeds, latency, loss, bootstrap choices).
    pub seed: u64,
    /// Mean round-trip time between two nodes; each link gets a fixed base in
    /// `[0.5, 1.5] × rtt` and each packet a jitter on top.
    pub rtt: Duration,
    /// Per-packet jitter as a fraction of the link's one-way delay (uniform in `±jitter`).
    pub jitter: f64,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Bootstrap nodes each node is given (chosen at random among the first nodes).
    pub bootstrap_per_node: usize,
    /// The node configuration template (ids and addresses are set per node).
    pub node: Config,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 100,
            seed: 1,
            rtt: Duration::from_millis(50),
            jitter: 0.2,
            loss: 0.0,
            bootstrap_per_node: 3,
            node: Config::default(),
        }
    }
}

/// One simulated node.
#[derive(Debug)]
pub struct SimNode {
    /// The core.
    pub node: Node,
    /// Its address.
    pub addr: SocketAddr,
    /// Gone for good (churned out): nothing reaches it, it sends nothing.
    pub dead: bool,
    /// Network down (an outage): datagrams in and out are lost, the node keeps running.
    pub offline: bool,
}

/// An event a node reported, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// Index of the node.
    pub node: usize,
    /// Virtual time it was reported.
    pub at: Instant,
    /// The event.
    pub event: Event,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// A datagram for node `to`.
    Packet {
        to: usize,
        from: SocketAddr,
        data: Vec<u8>,
    },
    /// Node `idx`'s timer.
    Timer { idx: usize },
}

/// The simulated network. See the [module docs](self).
#[derive(Debug)]
pub struct Sim {
    config: SimConfig,
    now: Instant,
    start: Instant,
    nodes: Vec<SimNode>,
    by_addr: HashMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<(Instant, u64, Item)>>,
    scheduled: Vec<Option<Instant>>,
    seq: u64,
    rng: CoreRng,
    trace: u64,
    events: Vec<SimEvent>,
    buf: Vec<u8>,
    next_ip: u32,
    /// Datagrams delivered.
    pub delivered: u64,
    /// Datagrams lost (loss, dead or offline endpoints, unknown addresses).
    pub lost: u64,
}

const FNV_PRIME: u64 = 0x100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// A fixed, symmetric factor in [0.5, 1.5] for the link between two addresses.
fn link_factor(seed: u64, a: &SocketAddr, b: &SocketAddr) -> f64 {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for s in [x, y] {
        h = match s.ip() {
            IpAddr::V4(ip) => fnv(h, &ip.octets()),
            IpAddr::V6(ip) => fnv(h, &ip.octets()),
        };
        h = fnv(h, &s.port().to_be_bytes());
    }
    // splitmix finaliser for a well-spread value
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    0.5 + (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Sim {
    /// A network of `config.nodes` nodes; call [`run_for`](Self::run_for) to let them
    /// bootstrap.
    pub fn new(config: SimConfig) -> Self {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&config.seed.to_le_bytes());
        let start = Instant::now();
        let mut sim = Sim {
            rng: core_rng(seed),
            now: start,
            start,
            nodes: Vec::with_capacity(config.nodes),
            by_addr: HashMap::with_capacity(config.nodes),
            queue: BinaryHeap::new(),
            scheduled: Vec::with_capacity(config.nodes),
            seq: 0,
            trace: 0xcbf2_9ce4_8422_2325,
            events: Vec::new(),
            buf: Vec::with_capacity(2048),
            next_ip: 0,
            delivered: 0,
            lost: 0,
            config,
        };
        for _ in 0..sim.config.nodes {
            sim.add_node();
        }
        sim
    }

    fn fresh_addr(&mut self) -> SocketAddr {
        // Public-looking IPv4 addresses (BEP 42 applies to them), one per node: 1.0.0.1, ...
        self.next_ip += 1;
        let ip = Ipv4Addr::from(0x0100_0000u32 + self.next_ip * 7);
        SocketAddr::new(IpAddr::V4(ip), 6881)
    }

    /// Add a node (bootstrapping from random existing live nodes); returns its index.
    pub fn add_node(&mut self) -> usize {
        let addr = self.fresh_addr();
        let mut cfg = self.config.node.clone();
        cfg.external_ip = Some(addr.ip());
        cfg.bootstrap.clear();
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].dead)
            .collect();
        if !live.is_empty() {
            for _ in 0..self.config.bootstrap_per_node {
                let pick = live[self.rng.random_range(0..live.len())];
                cfg.bootstrap.push(self.nodes[pick].addr);
            }
        } else if let Some(first) = self.nodes.first() {
            cfg.bootstrap.push(first.addr);
        }
        let mut seed = [0u8; 32];
        self.rng.fill(&mut seed);
        let idx = self.nodes.len();
        self.nodes.push(SimNode {
            node: Node::new(cfg, seed),
            addr,
            dead: false,
            offline: false,
        });
        self.by_addr.insert(addr, idx);
        self.scheduled.push(None);
        // Start it now.
        self.push(self.now, Item::Timer { idx });
        self.scheduled[idx] = Some(self.now);
        // Node 0 has nobody to bootstrap from; `seed_first` introduces it to later nodes.
        idx
    }

    /// Let the first nodes know about a few later ones (for a network created in one go, the
    /// first node has nobody to bootstrap from otherwise).
    fn seed_first(&mut self) {
        if self.nodes.len() > 1 && self.nodes[0].node.stats().nodes_v4 == 0 {
            for k in 1..self.nodes.len().min(4) {
                let a = self.nodes[k].addr;
                self.nodes[0].node.add_node(self.now, a);
            }
            self.flush(0);
        }
    }

    fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, item)));
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Number of nodes (dead ones included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A node.
    pub fn node(&self, i: usize) -> &SimNode {
        &self.nodes[i]
    }

    /// A node's core, for commands. Give commands `sim.now()`; their datagrams go out at the
    /// next [`run_for`](Self::run_for) step.
    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        // Make sure what the command queues is flushed soon.
        let now = self.now;
        if self.scheduled[i].is_none_or(|t| t > now) {
            self.scheduled[i] = Some(now);
            self.push(now, Item::Timer { idx: i });
        }
        &mut self.nodes[i].node
    }

    /// Take a node out for good (churn).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].dead = true;
    }

    /// Cut or restore a node's network (an outage; the node keeps its state and timers).
    pub fn set_offline(&mut self, i: usize, offline: bool) {
        self.nodes[i].offline = offline;
    }

    /// Deliver a raw datagram to node `to` at `at` (for attack traffic); `from` need not be a
    /// node.
    pub fn inject(&mut self, at: Instant, from: SocketAddr, to: usize, data: Vec<u8>) {
        self.push(at.max(self.now), Item::Packet { to, from, data });
    }

    /// Events reported since the last call.
    pub fn drain_events(&mut self) -> Vec<SimEvent> {
        std::mem::take(&mut self.events)
    }

    /// A hash of everything delivered and reported so far (same seed, same hash).
    pub fn trace_hash(&self) -> u64 {
        self.trace
    }

    /// Run until `d` of virtual time has passed.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end);
    }

    /// Run until virtual time `end`.
    pub fn run_until(&mut self, end: Instant) {
        self.seed_first();
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > end {
                break;
            }
            let Some(Reverse((at, _, item))) = self.queue.pop() else {
                break;
            };
            self.now = at;
            match item {
                Item::Packet { to, from, data } => {
                    let n = &mut self.nodes[to];
                    if n.dead || n.offline {
                        self.lost += 1;
                        continue;
                    }
                    self.delivered += 1;
                    let t = (at - self.start).as_micros() as u64;
                    self.trace = fnv(self.trace, &t.to_le_bytes());
                    self.trace = fnv(self.trace, &(to as u64).to_le_bytes());
                    self.trace = fnv(self.trace, &data);
                    n.node.handle_datagram(at, from, &data);
                    self.flush(to);
                }
                Item::Timer { idx } => {
                    if self.scheduled[idx] != Some(at) || self.nodes[idx].dead {
                        continue;
                    }
                    self.scheduled[idx] = None;
                    self.nodes[idx].node.handle_timeout(at);
                    self.flush(idx);
                }
            }
        }
        self.now = self.now.max(end);
    }

    /// Move node `i`'s datagrams onto the network, collect its events, re-arm its timer.
    fn flush(&mut self, i: usize) {
        let now = self.now;
        let mut buf = std::mem::take(&mut self.buf);
        while let Some(t) = self.nodes[i].node.poll_transmit(&mut buf) {
            let from = self.nodes[i].addr;
            if self.nodes[i].offline || self.rng.random_bool(self.config.loss.clamp(0.0, 1.0)) {
                self.lost += 1;
                continue;
            }
            let Some(&to) = self.by_addr.get(&t.to) else {
                self.lost += 1;
                continue;
            };
            let one_way = self.config.rtt.as_secs_f64() / 2.0
                * link_factor(self.config.seed, &from, &t.to)
                * (1.0 + self.config.jitter * self.rng.random_range(-1.0..=1.0));
            let at = now + Duration::from_secs_f64(one_way.max(0.0));
            self.push(
                at,
                Item::Packet {
                    to,
                    from,
                    data: buf[..t.len].to_vec(),
                },
            );
        }
        self.buf = buf;
        while let Some(ev) = self.nodes[i].node.poll_event() {
            self.trace = fnv(self.trace, format!("{i}{ev:?}").as_bytes());
            self.events.push(SimEvent {
                node: i,
                at: now,
                event: ev,
            });
        }
        if let Some(t) = self.nodes[i].node.poll_timeout() {
            let t = t.max(now);
            if self.scheduled[i].is_none_or(|s| t < s) {
                self.scheduled[i] = Some(t);
                self.push(t, Item::Timer { idx: i });
            }
        }
    }
}
