//! The server core: datagram in, answer out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::{
    Action, AddressFamily, AnnounceRequest, AnnounceResponse, ConnectRequest, ConnectResponse,
    ErrorResponse, Event, Peers, RequestHeader, ScrapeRequest, ScrapeResponse, ScrapeStats,
    CONNECT_LEN, MAX_SCRAPE_HASHES, PROTOCOL_ID,
};

use super::access::AccessList;
use super::ids::ConnectionIds;
use super::store::{Announce, Refusal, Store};

/// Server core settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Announce interval told to clients (default 1800 s).
    pub announce_interval: u32,
    /// Most peers per announce response (default 50); `num_want` is capped to it and -1
    /// or 0 mean this number.
    pub max_num_want: usize,
    /// Most hashes answered per scrape (default 74); further hashes are ignored.
    pub max_scrape: usize,
    /// Requests longer than this are dropped (default 2048 bytes).
    pub max_request_len: usize,
    /// Use the announce's IP field (IPv4 only) instead of the packet source (default false).
    pub honour_ip_field: bool,
    /// Which hashes are served (default all).
    pub access: AccessList,
    /// Connection id window; ids are accepted for two to three windows (default 60 s).
    pub connection_id_window: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            announce_interval: 1800,
            max_num_want: 50,
            max_scrape: MAX_SCRAPE_HASHES,
            max_request_len: 2048,
            honour_ip_field: false,
            access: AccessList::Open,
            connection_id_window: Duration::from_secs(60),
        }
    }
}

/// Request and response counters that several cores (one per socket or thread) add to. The
/// atomics are private: read them with [`snapshot`](Self::snapshot) or
/// [`ServerCore::stats`].
#[derive(Debug, Default)]
pub struct Counters {
    connects: AtomicU64,
    announces: AtomicU64,
    scrapes: AtomicU64,
    responses: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

/// Server counters, a plain `Copy` snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connect requests accepted.
    pub connects: u64,
    /// Announce requests accepted.
    pub announces: u64,
    /// Scrape requests accepted.
    pub scrapes: u64,
    /// Responses sent (including error responses).
    pub responses: u64,
    /// Error responses sent.
    pub errors: u64,
    /// Packets dropped without an answer (garbage, short, oversized, forged ids).
    pub dropped: u64,
}

impl Counters {
    /// Reads all counters.
    pub fn snapshot(&self) -> ServerStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ServerStats {
            connects: l(&self.connects),
            announces: l(&self.announces),
            scrapes: l(&self.scrapes),
            responses: l(&self.responses),
            errors: l(&self.errors),
            dropped: l(&self.dropped),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// The sans-IO tracker: datagram in, optional datagram out. No sockets, no clock.
///
/// It follows the workspace's core contract with one difference, kept on purpose:
/// [`handle_datagram`](Self::handle_datagram) returns its answer directly instead of queueing
/// it for `poll_transmit`. The server is stateless per request (an answer goes to the sender
/// of the request, at once, and nothing else is ever sent), so a queue would only add a copy
/// and a branch to the hot path; it has no events. `handle_timeout`, `poll_timeout` and
/// `stats` are as everywhere else.
///
/// Packets shorter than 16 bytes, longer than the limit, with an unknown protocol id or a
/// forged connection id are dropped (counted in [`ServerStats::dropped`]); well-authenticated
/// but malformed requests get an error response.
#[derive(Debug)]
pub struct ServerCore<S> {
    config: ServerConfig,
    store: S,
    ids: ConnectionIds,
    counters: Arc<Counters>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    next_housekeeping: Option<Instant>,
    next_rotation: Option<Instant>,
}

impl<S: Store> ServerCore<S> {
    /// A core serving `store`, with connection ids from `ids` (clone one `ConnectionIds` for
    /// every core of a server; it holds the seeded secret, so this constructor takes no seed).
    pub fn new(config: ServerConfig, store: S, ids: ConnectionIds) -> Self {
        ServerCore {
            config,
            store,
            ids,
            counters: Arc::new(Counters::default()),
            out: Vec::with_capacity(1500),
            scratch: Vec::with_capacity(1500),
            next_housekeeping: None,
            next_rotation: None,
        }
    }

    /// Adds to `counters`, shared with other cores.
    pub fn with_counters(mut self, counters: Arc<Counters>) -> Self {
        self.counters = counters;
        self
    }

    /// The counters (shared with the cores given the same [`Counters`]).
    pub fn stats(&self) -> ServerStats {
        self.counters.snapshot()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles one datagram from `from`; returns the response to send back, if any.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, b: &[u8]) -> Option<&[u8]> {
        self.out.clear();
        if b.len() < CONNECT_LEN || b.len() > self.config.max_request_len {
            bump(&self.counters.dropped);
            return None;
        }
        let Ok(head) = RequestHeader::decode(b) else {
            bump(&self.counters.dropped);
            return None;
        };
        let tid = head.transaction_id;
        if head.action == Action::CONNECT {
            if head.connection_id != PROTOCOL_ID {
                bump(&self.counters.dropped);
                return None;
            }
            let req = ConnectRequest::decode(b).ok()?;
            bump(&self.counters.connects);
            let connection_id = self.ids.issue(now, &from);
            ConnectResponse {
                transaction_id: req.transaction_id,
                connection_id,
            }
            .encode(&mut self.out);
            bump(&self.counters.responses);
            return Some(&self.out);
        }
        if !self.ids.check(now, &from, head.connection_id) {
            bump(&self.counters.dropped);
            return None;
        }
        match head.action {
            Action::ANNOUNCE => match AnnounceRequest::decode(b) {
                Ok(req) => {
                    bump(&self.counters.announces);
                    self.announce(now, from, &req);
                }
                Err(_) => self.error(tid, "malformed announce"),
            },
            Action::SCRAPE => match ScrapeRequest::decode(b) {
                Ok(req) => {
                    bump(&self.counters.scrapes);
                    self.scrape(now, &req);
                }
                Err(_) => self.error(tid, "malformed scrape"),
            },
            _ => self.error(tid, "unknown action"),
        }
        bump(&self.counters.responses);
        Some(&self.out)
    }

    fn error(&mut self, tid: u32, msg: &str) {
        self.out.clear();
        bump(&self.counters.errors);
        ErrorResponse {
            transaction_id: tid,
            message: msg.as_bytes(),
        }
        .encode(&mut self.out);
    }

    fn announce(&mut self, now: Instant, from: SocketAddr, req: &AnnounceRequest<'_>) {
        if !self.config.access.allows(&req.info_hash) {
            return self.error(req.transaction_id, "info hash not allowed");
        }
        let family = AddressFamily::of(&from);
        let mut ip = from.ip().to_canonical();
        if self.config.honour_ip_field
            && req.ip != Ipv4Addr::UNSPECIFIED
            && family == AddressFamily::V4
        {
            ip = IpAddr::V4(req.ip);
        }
        let max = self.config.max_num_want;
        let num_want = if req.num_want <= 0 {
            max
        } else {
            (req.num_want as usize).min(max)
        };
        let announce = Announce {
            info_hash: req.info_hash,
            peer_id: req.peer_id,
            addr: SocketAddr::new(ip, req.port),
            source: from.ip().to_canonical(),
            event: req.event,
            left: req.left,
            uploaded: req.uploaded,
            downloaded: req.downloaded,
            key: req.key,
            num_want: if req.event == Event::STOPPED {
                0
            } else {
                num_want
            },
            url_data: req.url_data.as_deref(),
        };
        self.scratch.clear();
        match self
            .store
            .announce(now, &announce, family, &mut self.scratch)
        {
            Ok(c) => AnnounceResponse {
                transaction_id: req.transaction_id,
                interval: self.config.announce_interval,
                leechers: c.leechers,
                seeders: c.seeders,
                peers: Peers::new(family, &self.scratch),
            }
            .encode(&mut self.out),
            Err(Refusal(msg)) => self.error(req.transaction_id, &msg),
        }
    }

    fn scrape(&mut self, now: Instant, req: &ScrapeRequest<'_>) {
        self.scratch.clear();
        for h in req.hashes().take(self.config.max_scrape) {
            let s = if self.config.access.allows(&h) {
                self.store.scrape(now, &h)
            } else {
                ScrapeStats::default()
            };
            s.encode(&mut self.scratch);
        }
        ScrapeResponse {
            transaction_id: req.transaction_id,
            files: &self.scratch,
        }
        .encode(&mut self.out);
    }

    /// Rotates the connection-id key and runs store housekeeping when due; a call before
    /// [`poll_timeout`](Self::poll_timeout) is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ids.rotate(now);
        self.next_rotation = Some(self.ids.next_rotation(now));
        if self.next_housekeeping.is_none_or(|t| now >= t) {
            self.store.housekeeping(now);
            self.next_housekeeping = Some(now + Duration::from_secs(30));
        }
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) has work: `None` until the first
    /// `handle_timeout` (call it once at start), then the earlier of the key rotation and the
    /// next housekeeping.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.next_rotation, self.next_housekeeping) {
            (Some(r), Some(h)) => Some(r.min(h)),
            (r, h) => r.or(h),
        }
    }
}
