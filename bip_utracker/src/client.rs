//! The client side, sans-IO: [`ClientCore`] turns announce and scrape commands into
//! datagrams, matches responses by transaction id, caches connection ids and retransmits.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bip_util::{core_rng, CoreRng, InfoHash, PeerId, Transmit};
use rand::Rng;
use thiserror::Error;

use crate::codec::{
    response_header, Action, AddressFamily, AnnounceRequest, ConnectRequest, Event, Response,
    ScrapeRequest, ScrapeStats, MAX_SCRAPE_HASHES,
};

/// Client core settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// First retransmission timeout; attempt `n` waits `base_timeout · 2ⁿ` (BEP 15: 15 s).
    pub base_timeout: Duration,
    /// Attempts per step before giving up (BEP 15: 9, i.e. n = 0..=8).
    pub max_tries: u32,
    /// How long a connection id is used after it was received (BEP 15: one minute).
    pub connection_id_lifetime: Duration,
    /// Most requests in flight (default 1024); more are refused.
    pub max_in_flight: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_timeout: Duration::from_secs(15),
            max_tries: 9,
            connection_id_lifetime: Duration::from_secs(60),
            max_in_flight: 1024,
        }
    }
}

/// What to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnnounceParams {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our peer id.
    pub peer_id: PeerId,
    /// Our TCP port.
    pub port: u16,
    /// The event.
    pub event: Event,
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// Bytes left.
    pub left: u64,
    /// Key (None = a random one per client core).
    pub key: Option<u32>,
    /// Peers wanted (-1 = tracker default).
    pub num_want: i32,
}

impl AnnounceParams {
    /// A `started`-free regular announce with default counters and `num_want` -1.
    pub fn new(info_hash: InfoHash, peer_id: PeerId, port: u16) -> Self {
        AnnounceParams {
            info_hash,
            peer_id,
            port,
            event: Event::NONE,
            uploaded: 0,
            downloaded: 0,
            left: 0,
            key: None,
            num_want: -1,
        }
    }
}

/// A decoded announce answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnnounceReply {
    /// Seconds until the next announce.
    pub interval: u32,
    /// Leechers.
    pub leechers: u32,
    /// Seeders.
    pub seeders: u32,
    /// Peers.
    pub peers: Vec<SocketAddr>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No answer after all retransmissions.
    #[error("tracker did not answer after {0} tries")]
    Timeout(u32),
    /// The tracker sent an error response.
    #[error("tracker error: {0}")]
    Tracker(String),
    /// The tracker answered an announce with a header only (opentracker does this for
    /// hashes it does not track).
    #[error("tracker sent an {0}-byte announce reply: torrent not tracked")]
    ShortAnnounce(usize),
    /// More than 74 hashes in one scrape, or an empty scrape.
    #[error("scrape needs 1 to 74 info hashes, got {0}")]
    ScrapeSize(usize),
    /// Too many requests in flight.
    #[error("too many requests in flight")]
    Busy,
    /// The datagram could not be sent: no socket of the tracker's address family, or the
    /// send failed (reported at once instead of after the retransmission schedule).
    #[error("cannot reach {addr}: {reason}")]
    Unreachable {
        /// The tracker.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Identifies a request of a [`ClientCore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A result coming out of a [`ClientCore`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// An announce completed.
    Announced(RequestId, AnnounceReply),
    /// A scrape completed (counts in request order).
    Scraped(RequestId, Vec<ScrapeStats>),
    /// A request failed.
    Failed(RequestId, RequestError),
}

/// Counters of a [`ClientCore`], a plain snapshot ([`ClientCore::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Announces and scrapes started.
    pub requests: u64,
    /// Datagrams handed out (connects, requests, retransmissions).
    pub datagrams_sent: u64,
    /// Retransmissions (connects and requests).
    pub retransmits: u64,
    /// Requests answered.
    pub answered: u64,
    /// Requests failed (timeouts, tracker errors, unreachable).
    pub failed: u64,
    /// Requests cancelled by the caller.
    pub cancelled: u64,
    /// Requests in flight now.
    pub in_flight: u64,
}

#[derive(Debug)]
enum Kind {
    Announce(AnnounceParams, Option<Vec<u8>>),
    Scrape(Vec<InfoHash>),
}

#[derive(Debug)]
enum Phase {
    /// Waiting for the connect of the target; `tries` of this request so far.
    Connecting { tries: u32 },
    /// Request sent with this transaction id.
    Sent { tid: u32, tries: u32 },
}

#[derive(Debug)]
struct Req {
    target: SocketAddr,
    kind: Kind,
    phase: Phase,
}

#[derive(Debug)]
enum Conn {
    Connecting {
        tid: u32,
        tries: u32,
        waiters: Vec<RequestId>,
    },
    Connected {
        id: u64,
        expires: Instant,
    },
}

/// A deadline in [`ClientCore`]'s timer heap. Entries are never removed when their request
/// or connect ends early (lazy deletion): an entry counts only while the state it names still
/// carries the same transaction id (or expiry), which [`ClientCore::is_live`] checks.
/// Connects order before requests with the same deadline, as a due connect is handled first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// Retransmit (or give up) the connect to this tracker sent with this transaction id.
    Connect(SocketAddr, u32),
    /// Retransmit (or fail) this request, sent with this transaction id.
    Request(RequestId, u32),
    /// Forget this tracker's connection id (not a wake-up: never returned by `poll_timeout`).
    Expiry(SocketAddr),
}

#[derive(Debug, Clone, Copy)]
enum Tx {
    Connect(SocketAddr),
    Request(RequestId),
}

/// The sans-IO UDP tracker client, on the workspace's core contract. Drive it with
/// [`handle_datagram`](Self::handle_datagram) and [`handle_timeout`](Self::handle_timeout);
/// drain [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event) after
/// every input; sleep until [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct ClientCore {
    config: ClientConfig,
    rng: CoreRng,
    stats: ClientStats,
    key: u32,
    next_id: u64,
    conns: HashMap<SocketAddr, Conn>,
    reqs: HashMap<RequestId, Req>,
    txs: HashMap<u32, Tx>,
    /// Retransmission deadlines, earliest on top, with lazy deletion: the top is kept live
    /// after every input ([`Self::prune`]), so [`poll_timeout`](Self::poll_timeout) is a peek
    /// and [`handle_timeout`](Self::handle_timeout) pops only what is due.
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    /// Connection-id expiries, the same way (kept apart: they wake nobody).
    expiries: BinaryHeap<Reverse<(Instant, Timer)>>,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<ClientEvent>,
}

impl ClientCore {
    /// A client whose randomness (transaction ids, the announce key) all comes from `seed`
    /// through the reproducible [`CoreRng`]: tests give fixed seeds, drivers
    /// [`bip_util::core::os_seed`].
    pub fn new(config: ClientConfig, seed: [u8; 32]) -> Self {
        let mut rng = core_rng(seed);
        let key = rng.random();
        ClientCore {
            config,
            rng,
            stats: ClientStats::default(),
            key,
            next_id: 0,
            conns: HashMap::new(),
            reqs: HashMap::new(),
            txs: HashMap::new(),
            timers: BinaryHeap::new(),
            expiries: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.reqs.len()
    }

    fn new_tid(&mut self, tx: Tx) -> u32 {
        loop {
            let t: u32 = self.rng.random();
            if let std::collections::hash_map::Entry::Vacant(v) = self.txs.entry(t) {
                v.insert(tx);
                return t;
            }
        }
    }

    fn timeout(&self, tries: u32) -> Duration {
        self.config.base_timeout * 2u32.saturating_pow(tries.min(16))
    }

    /// Whether a heap entry still names live state: the connect or request it was set for is
    /// still waiting with the same transaction id, or the connection id still expires then.
    fn is_live(&self, at: Instant, timer: &Timer) -> bool {
        match timer {
            Timer::Connect(target, tid) => {
                matches!(self.conns.get(target), Some(Conn::Connecting { tid: t, .. }) if t == tid)
            }
            Timer::Request(id, tid) => {
                matches!(self.reqs.get(id), Some(Req { phase: Phase::Sent { tid: t, .. }, .. }) if t == tid)
            }
            Timer::Expiry(target) => {
                matches!(self.conns.get(target), Some(Conn::Connected { expires, .. }) if *expires == at)
            }
        }
    }

    /// Drops dead entries from the tops of the heaps, and rebuilds a heap that holds more than
    /// twice as many entries as there can be live ones (amortised O(1) per entry), so answered
    /// and cancelled requests cost no memory for long.
    fn prune(&mut self) {
        let live = self.reqs.len() + self.conns.len();
        for expiries in [false, true] {
            let mut heap = std::mem::take(if expiries {
                &mut self.expiries
            } else {
                &mut self.timers
            });
            if heap.len() > 2 * live + 64 {
                heap.retain(|Reverse((at, t))| self.is_live(*at, t));
            }
            while let Some(Reverse((at, t))) = heap.peek() {
                if self.is_live(*at, t) {
                    break;
                }
                heap.pop();
            }
            *(if expiries {
                &mut self.expiries
            } else {
                &mut self.timers
            }) = heap;
        }
    }

    /// Announces to the tracker at `target`; `url_data` is the tracker URL's path and
    /// query, sent as BEP 41 URL data.
    pub fn announce(
        &mut self,
        now: Instant,
        target: SocketAddr,
        params: AnnounceParams,
        url_data: Option<Vec<u8>>,
    ) -> RequestId {
        self.start(now, target, Kind::Announce(params, url_data))
    }

    /// Scrapes 1 to 74 info hashes at `target`.
    pub fn scrape(&mut self, now: Instant, target: SocketAddr, hashes: Vec<InfoHash>) -> RequestId {
        if hashes.is_empty() || hashes.len() > MAX_SCRAPE_HASHES {
            let id = self.alloc_id();
            self.events.push_back(ClientEvent::Failed(
                id,
                RequestError::ScrapeSize(hashes.len()),
            ));
            return id;
        }
        self.start(now, target, Kind::Scrape(hashes))
    }

    fn alloc_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    fn start(&mut self, now: Instant, target: SocketAddr, kind: Kind) -> RequestId {
        let id = self.alloc_id();
        self.stats.requests += 1;
        if self.reqs.len() >= self.config.max_in_flight {
            self.stats.failed += 1;
            self.events
                .push_back(ClientEvent::Failed(id, RequestError::Busy));
            return id;
        }
        self.reqs.insert(
            id,
            Req {
                target,
                kind,
                phase: Phase::Connecting { tries: 0 },
            },
        );
        self.dispatch(now, id, 0);
        self.prune();
        id
    }

    /// Sends request `id` (try `tries`) if the target's connection id is fresh, else joins
    /// or starts a connect.
    fn dispatch(&mut self, now: Instant, id: RequestId, tries: u32) {
        let Some(target) = self.reqs.get(&id).map(|r| r.target) else {
            return;
        };
        match self.conns.get_mut(&target) {
            Some(Conn::Connected { id: cid, expires }) if now < *expires => {
                let cid = *cid;
                self.send_request(now, id, cid, tries);
            }
            Some(Conn::Connecting { waiters, .. }) => {
                waiters.push(id);
                if let Some(r) = self.reqs.get_mut(&id) {
                    r.phase = Phase::Connecting { tries };
                }
            }
            _ => {
                let tid = self.new_tid(Tx::Connect(target));
                let deadline = now + self.timeout(0);
                self.timers
                    .push(Reverse((deadline, Timer::Connect(target, tid))));
                self.conns.insert(
                    target,
                    Conn::Connecting {
                        tid,
                        tries: 0,
                        waiters: vec![id],
                    },
                );
                if let Some(r) = self.reqs.get_mut(&id) {
                    r.phase = Phase::Connecting { tries };
                }
                self.send_connect(target, tid);
            }
        }
    }

    fn send_connect(&mut self, target: SocketAddr, tid: u32) {
        let mut bytes = Vec::with_capacity(16);
        ConnectRequest {
            transaction_id: tid,
        }
        .encode(&mut bytes);
        self.transmits.push_back((target, bytes));
    }

    fn send_request(&mut self, now: Instant, id: RequestId, cid: u64, tries: u32) {
        let tid = self.new_tid(Tx::Request(id));
        let deadline = now + self.timeout(tries);
        let key = self.key;
        let Some(r) = self.reqs.get_mut(&id) else {
            self.txs.remove(&tid);
            return;
        };
        r.phase = Phase::Sent { tid, tries };
        self.timers
            .push(Reverse((deadline, Timer::Request(id, tid))));
        let mut bytes = Vec::with_capacity(128);
        match &r.kind {
            Kind::Announce(p, url) => AnnounceRequest {
                connection_id: cid,
                transaction_id: tid,
                info_hash: p.info_hash,
                peer_id: p.peer_id,
                downloaded: p.downloaded,
                left: p.left,
                uploaded: p.uploaded,
                event: p.event,
                ip: Ipv4Addr::UNSPECIFIED,
                key: p.key.unwrap_or(key),
                num_want: p.num_want,
                port: p.port,
                url_data: url.as_deref().map(std::borrow::Cow::Borrowed),
            }
            .encode(&mut bytes),
            Kind::Scrape(h) => {
                let hashes: Vec<u8> = h.iter().flat_map(|h| *h.as_bytes()).collect();
                ScrapeRequest {
                    connection_id: cid,
                    transaction_id: tid,
                    info_hashes: &hashes,
                }
                .encode(&mut bytes)
            }
        }
        self.transmits.push_back((r.target, bytes));
    }

    fn finish(&mut self, id: RequestId, ev: ClientEvent) {
        if let Some(r) = self.reqs.remove(&id) {
            if let Phase::Sent { tid, .. } = r.phase {
                self.txs.remove(&tid);
            }
            if matches!(ev, ClientEvent::Failed(..)) {
                self.stats.failed += 1;
            } else {
                self.stats.answered += 1;
            }
            self.events.push_back(ev);
        }
    }

    /// Forgets request `id`: no more retransmissions and no event for it (what a dropped
    /// `announce`/`scrape` future of the driver does). A connect it was waiting on goes on
    /// only while other requests wait on it too.
    pub fn cancel(&mut self, id: RequestId) {
        let Some(r) = self.reqs.remove(&id) else {
            return;
        };
        self.stats.cancelled += 1;
        if let Phase::Sent { tid, .. } = r.phase {
            self.txs.remove(&tid);
        }
        if let Some(Conn::Connecting { tid, waiters, .. }) = self.conns.get_mut(&r.target) {
            waiters.retain(|w| *w != id);
            if waiters.is_empty() {
                let tid = *tid;
                self.txs.remove(&tid);
                self.conns.remove(&r.target);
            }
        }
        self.prune();
    }

    /// Fails every request to `target` at once with [`RequestError::Unreachable`]: the driver
    /// has no socket of its address family, or sending to it failed.
    pub fn fail_target(&mut self, target: SocketAddr, reason: &str) {
        if let Some(Conn::Connecting { tid, .. }) = self.conns.remove(&target) {
            self.txs.remove(&tid);
        }
        let mut ids: Vec<RequestId> = self
            .reqs
            .iter()
            .filter(|(_, r)| r.target == target)
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        for id in ids {
            let e = RequestError::Unreachable {
                addr: target,
                reason: reason.to_string(),
            };
            self.finish(id, ClientEvent::Failed(id, e));
        }
        self.prune();
    }

    /// Counters so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            in_flight: self.reqs.len() as u64,
            ..self.stats
        }
    }

    /// Feeds a datagram received from `from`. Unknown transaction ids, wrong senders and
    /// garbage are ignored.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, b: &[u8]) {
        self.datagram(now, from, b);
        self.prune();
    }

    fn datagram(&mut self, now: Instant, from: SocketAddr, b: &[u8]) {
        let Some((action, tid)) = response_header(b) else {
            return;
        };
        let Some(&tx) = self.txs.get(&tid) else {
            return;
        };
        match tx {
            Tx::Connect(target) => {
                if !same_peer(&target, &from) {
                    return;
                }
                match Response::decode(b, AddressFamily::of(&from)) {
                    Ok(Response::Connect(c)) => {
                        self.txs.remove(&tid);
                        let expires = now + self.config.connection_id_lifetime;
                        let Some(Conn::Connecting { waiters, .. }) = self.conns.insert(
                            target,
                            Conn::Connected {
                                id: c.connection_id,
                                expires,
                            },
                        ) else {
                            return;
                        };
                        self.expiries
                            .push(Reverse((expires, Timer::Expiry(target))));
                        for w in waiters {
                            // A request keeps its count of tries across reconnects, so a
                            // tracker that answers connects only still times out.
                            let tries = match self.reqs.get(&w).map(|r| &r.phase) {
                                Some(Phase::Connecting { tries }) => *tries,
                                _ => 0,
                            };
                            self.send_request(now, w, c.connection_id, tries);
                        }
                    }
                    Ok(Response::Error(e)) => {
                        self.txs.remove(&tid);
                        if let Some(Conn::Connecting { waiters, .. }) = self.conns.remove(&target) {
                            let msg = String::from_utf8_lossy(e.message).into_owned();
                            for w in waiters {
                                self.finish(
                                    w,
                                    ClientEvent::Failed(w, RequestError::Tracker(msg.clone())),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            Tx::Request(id) => {
                let Some(r) = self.reqs.get(&id) else {
                    self.txs.remove(&tid);
                    return;
                };
                if !same_peer(&r.target, &from) {
                    return;
                }
                let ev = match (Response::decode(b, AddressFamily::of(&from)), &r.kind) {
                    (Ok(Response::Announce(a)), Kind::Announce(..)) => ClientEvent::Announced(
                        id,
                        AnnounceReply {
                            interval: a.interval,
                            leechers: a.leechers,
                            seeders: a.seeders,
                            peers: a.peers.iter().collect(),
                        },
                    ),
                    (Ok(Response::Scrape(s)), Kind::Scrape(_)) => {
                        ClientEvent::Scraped(id, s.stats().collect())
                    }
                    (Ok(Response::Error(e)), _) => ClientEvent::Failed(
                        id,
                        RequestError::Tracker(String::from_utf8_lossy(e.message).into_owned()),
                    ),
                    (Err(_), Kind::Announce(..)) if action == Action::ANNOUNCE => {
                        ClientEvent::Failed(id, RequestError::ShortAnnounce(b.len()))
                    }
                    _ => return,
                };
                self.finish(id, ev);
            }
        }
    }

    /// Retransmits what is due and fails what has run out of tries. Pops only the heap
    /// entries that are due (a spurious call pops nothing).
    pub fn handle_timeout(&mut self, now: Instant) {
        let max = self.config.max_tries.max(1);
        // Everything due at `now`, in deadline order, connects before requests at the same
        // deadline; what this call schedules lies after `now` and waits for a later call.
        let mut due = Vec::new();
        while let Some(&Reverse((at, t))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.is_live(at, &t) {
                due.push(t);
            }
        }
        // Connects first, then requests, as one pass over each.
        due.sort_by_key(|t| !matches!(t, Timer::Connect(..)));
        for t in due {
            match t {
                Timer::Connect(target, _) => self.connect_due(now, target, max),
                Timer::Request(id, tid) => {
                    // A connect handled above may have failed this request already.
                    let Some(Req {
                        phase: Phase::Sent { tid: t, tries, .. },
                        ..
                    }) = self.reqs.get(&id)
                    else {
                        continue;
                    };
                    if *t != tid {
                        continue;
                    }
                    let tries = tries + 1;
                    self.txs.remove(&tid);
                    if tries >= max {
                        self.finish(id, ClientEvent::Failed(id, RequestError::Timeout(tries)));
                        continue;
                    }
                    self.stats.retransmits += 1;
                    self.dispatch(now, id, tries);
                }
                Timer::Expiry(_) => {}
            }
        }
        // Forget expired connection ids.
        while let Some(&Reverse((at, t))) = self.expiries.peek() {
            if at > now {
                break;
            }
            self.expiries.pop();
            if let Timer::Expiry(target) = t {
                if self.is_live(at, &t) {
                    self.conns.remove(&target);
                }
            }
        }
        self.prune();
    }

    /// The connect to `target` ran out of time: retransmit it or fail its waiters.
    fn connect_due(&mut self, now: Instant, target: SocketAddr, max: u32) {
        let Some(Conn::Connecting {
            tid,
            tries,
            waiters,
            ..
        }) = self.conns.remove(&target)
        else {
            return;
        };
        self.txs.remove(&tid);
        let tries = tries + 1;
        if tries >= max {
            for w in waiters {
                self.finish(w, ClientEvent::Failed(w, RequestError::Timeout(tries)));
            }
            return;
        }
        let tid = self.new_tid(Tx::Connect(target));
        let deadline = now + self.timeout(tries);
        self.stats.retransmits += 1;
        self.timers
            .push(Reverse((deadline, Timer::Connect(target, tid))));
        self.conns.insert(
            target,
            Conn::Connecting {
                tid,
                tries,
                waiters,
            },
        );
        self.send_connect(target, tid);
    }

    /// The earliest retransmission deadline, if any request is in flight: the top of the
    /// timer heap, O(1) (the top is always live, see [`Self::prune`]).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// The next datagram to send, written into `buf` (cleared first).
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (to, bytes) = self.transmits.pop_front()?;
        buf.clear();
        buf.extend_from_slice(&bytes);
        self.stats.datagrams_sent += 1;
        Some(Transmit {
            to,
            len: bytes.len(),
        })
    }

    /// The next result.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}

fn same_peer(a: &SocketAddr, b: &SocketAddr) -> bool {
    a.ip().to_canonical() == b.ip().to_canonical() && a.port() == b.port()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(n: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 6000 + n))
    }

    fn drain(c: &mut ClientCore) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(t) = c.poll_transmit(&mut buf) {
            out.push((t.to, buf[..t.len].to_vec()));
        }
        out
    }

    /// Answered and cancelled requests leave heap entries behind (lazy deletion); the heap
    /// stays within twice the live state, and its top is always a live deadline.
    #[test]
    fn timer_heap_stays_bounded_and_its_top_live() {
        let t0 = Instant::now();
        let mut c = ClientCore::new(ClientConfig::default(), [9; 32]);
        let mut now = t0;
        for round in 0..200u64 {
            now += Duration::from_millis(10);
            let target = tracker((round % 4) as u16);
            let p = AnnounceParams::new(InfoHash::new([1; 20]), PeerId::new([2; 20]), 1);
            let id = c.announce(now, target, p, None);
            for (to, req) in drain(&mut c) {
                // Answer connects; leave announces unanswered, then cancel them.
                if req.len() == 16 {
                    let mut reply = Vec::new();
                    reply.extend_from_slice(&0u32.to_be_bytes());
                    reply.extend_from_slice(&req[12..16]);
                    reply.extend_from_slice(&round.to_be_bytes());
                    c.handle_datagram(now, to, &reply);
                }
            }
            drain(&mut c);
            c.cancel(id);
            assert_eq!(c.poll_timeout(), None, "round {round}");
            let live = c.reqs.len() + c.conns.len();
            assert!(c.timers.len() <= 2 * live + 64 + 2, "{}", c.timers.len());
            assert!(c.expiries.len() <= 2 * live + 64 + 2);
        }
        // Connection ids expire through their own heap, without a wake-up.
        assert_eq!(c.conns.len(), 4);
        c.handle_timeout(now + Duration::from_secs(61));
        assert!(c.conns.is_empty());
        assert!(c.expiries.is_empty());
    }

    #[test]
    fn poll_timeout_is_the_earliest_live_deadline() {
        let t0 = Instant::now();
        let cfg = ClientConfig {
            base_timeout: Duration::from_millis(100),
            ..ClientConfig::default()
        };
        let mut c = ClientCore::new(cfg, [3; 32]);
        let p = AnnounceParams::new(InfoHash::new([1; 20]), PeerId::new([2; 20]), 1);
        let a = c.announce(t0, tracker(1), p.clone(), None);
        let _b = c.announce(t0 + Duration::from_millis(50), tracker(2), p, None);
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(100)));
        c.cancel(a);
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(150)));
        // A spurious wake-up touches nothing.
        assert_eq!(drain(&mut c).len(), 2, "two connects");
        c.handle_timeout(t0 + Duration::from_millis(120));
        assert!(drain(&mut c).is_empty());
        c.handle_timeout(t0 + Duration::from_millis(150));
        assert_eq!(
            drain(&mut c).len(),
            1,
            "the second connect is retransmitted"
        );
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_millis(350)));
    }
}
