//! The trait that discovery services (DHT, trackers, local discovery, your
//! own source) hand discovered peers to.

use std::net::SocketAddr;

use bip_util::{InfoHash, PeerId};

/// Where a peer was discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeerSource {
    /// A tracker (UDP, BEP 15, or HTTP).
    Tracker,
    /// The Mainline DHT (BEP 5).
    Dht,
    /// Local service discovery (BEP 14).
    Local,
    /// Peer exchange (BEP 11).
    Pex,
    /// Given by the user or application.
    Manual,
    /// Any other source, named by the application.
    Other(&'static str),
}

/// A peer some discovery service found for an info hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DiscoveredPeer {
    /// The torrent (or rendezvous hash) the peer was found for.
    pub info_hash: InfoHash,
    /// Where to connect.
    pub addr: SocketAddr,
    /// The peer id, when the source reported one (the handshake then checks it).
    pub peer_id: Option<PeerId>,
    /// Which service found it.
    pub source: PeerSource,
}

impl DiscoveredPeer {
    /// A peer without a known peer id.
    pub fn new(info_hash: InfoHash, addr: SocketAddr, source: PeerSource) -> Self {
        DiscoveredPeer {
            info_hash,
            addr,
            peer_id: None,
            source,
        }
    }
}

/// What became of a peer handed to [`Discovery::add_peer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddPeer {
    /// Accepted (queued for dialling, logged, forwarded, …).
    Accepted,
    /// Dropped: already known or in flight.
    Duplicate,
    /// Dropped by a filter (address, hash, own address, …).
    Filtered,
    /// Dropped: a queue is full.
    Full,
    /// Dropped: the receiver has shut down.
    Closed,
}

/// The interface between peer discovery and whatever uses the peers.
///
/// Discovery services (bip_dht, bip_utracker, your own) call
/// [`add_peer`](Discovery::add_peer) for every peer they find and read
/// [`peer_id`](Discovery::peer_id) and [`port`](Discovery::port) to announce
/// themselves. The [`Handshaker`](crate::Handshaker) implements it; so can any
/// pipeline stage (dedupe, filter, log, fan out).
///
/// Implementations are cheap to clone and callable from any task or thread;
/// `add_peer` must not block (queue or drop instead).
pub trait Discovery: Send + Sync {
    /// Hand over one discovered peer. Never blocks.
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer;

    /// Our peer id, for announces.
    fn peer_id(&self) -> PeerId;

    /// The TCP port we accept connections on, for announces.
    fn port(&self) -> u16;
}

impl<D: Discovery + ?Sized> Discovery for &D {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        (**self).add_peer(peer)
    }
    fn peer_id(&self) -> PeerId {
        (**self).peer_id()
    }
    fn port(&self) -> u16 {
        (**self).port()
    }
}

impl<D: Discovery + ?Sized> Discovery for std::sync::Arc<D> {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        (**self).add_peer(peer)
    }
    fn peer_id(&self) -> PeerId {
        (**self).peer_id()
    }
    fn port(&self) -> u16 {
        (**self).port()
    }
}
