//! The [`Store`] trait: what decides announces and scrapes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bip_util::{InfoHash, PeerId};

use crate::codec::{AddressFamily, Event, ScrapeStats};

/// One peer's announce, as the core hands it to a [`Store`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Announce<'a> {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The announcing peer's id.
    pub peer_id: PeerId,
    /// Where other peers reach it: the packet's source IP (or the IP field when the server
    /// honours it) and the announced port.
    pub addr: SocketAddr,
    /// The address the request came from (its share of the store is counted by this, even
    /// when `addr` comes from the IP field).
    pub source: std::net::IpAddr,
    /// The event.
    pub event: Event,
    /// Bytes left (0 = seeder).
    pub left: u64,
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// The client's key.
    pub key: u32,
    /// Peers to return, already capped by the server.
    pub num_want: usize,
    /// BEP 41 URL data, if any.
    pub url_data: Option<&'a [u8]>,
}

impl<'a> Announce<'a> {
    /// An announce of `peer_id` for `info_hash`, reachable at `addr` and counted against
    /// `addr`'s IP: event `none`, counters zero, 50 peers wanted, no URL data. Set the other
    /// fields on the result.
    pub fn new(info_hash: InfoHash, peer_id: PeerId, addr: SocketAddr) -> Self {
        Announce {
            info_hash,
            peer_id,
            addr,
            source: addr.ip(),
            event: Event::NONE,
            left: 0,
            uploaded: 0,
            downloaded: 0,
            key: 0,
            num_want: 50,
            url_data: None,
        }
    }
}

/// Swarm counts returned with an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SwarmCounts {
    /// Seeders.
    pub seeders: u32,
    /// Leechers.
    pub leechers: u32,
}

impl SwarmCounts {
    /// Counts for a [`Store`] implementation to return.
    pub const fn new(seeders: u32, leechers: u32) -> Self {
        SwarmCounts { seeders, leechers }
    }
}

/// A store's refusal; the text goes into an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub std::borrow::Cow<'static, str>);

/// Decides announces and scrapes: implement it for access control or your own persistence.
/// Methods take `&self` so one store can serve several sockets and threads.
pub trait Store: Send + Sync {
    /// Records `announce` and appends up to `announce.num_want` compact peers of
    /// `family` (6 or 18 bytes each) to `peers`, never the announcing peer itself.
    fn announce(
        &self,
        now: Instant,
        announce: &Announce<'_>,
        family: AddressFamily,
        peers: &mut Vec<u8>,
    ) -> Result<SwarmCounts, Refusal>;

    /// Counts for `info_hash` (zeros when unknown).
    fn scrape(&self, now: Instant, info_hash: &InfoHash) -> ScrapeStats;

    /// Periodic maintenance (expiry); called from the core's `handle_timeout`.
    fn housekeeping(&self, _now: Instant) {}
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn announce(
        &self,
        now: Instant,
        a: &Announce<'_>,
        f: AddressFamily,
        p: &mut Vec<u8>,
    ) -> Result<SwarmCounts, Refusal> {
        (**self).announce(now, a, f, p)
    }
    fn scrape(&self, now: Instant, h: &InfoHash) -> ScrapeStats {
        (**self).scrape(now, h)
    }
    fn housekeeping(&self, now: Instant) {
        (**self).housekeeping(now)
    }
}
