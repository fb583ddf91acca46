//! The BitTorrent handshake (BEP 3) on tokio, and the [`Discovery`] trait that peer discovery
//! services (DHT, trackers, local discovery, your own) hand discovered peers to.
//!
//! Discovery feeds a [`Handshaker`]; it dials, runs the handshake, and yields established,
//! identified [`Connection`]s on a [`Connections`] stream. Any stage in between is yours to
//! write: here a pipeline stage that drops peers it has already seen and forwards the rest.
//!
//! ```
//! use std::collections::HashSet;
//! use std::net::SocketAddr;
//! use std::sync::Mutex;
//!
//! use bip_handshake::{AddPeer, DiscoveredPeer, Discovery, Extensions, Handshaker, PeerSource};
//! use bip_util::{InfoHash, PeerId};
//!
//! /// Forwards each (address, info hash) once.
//! struct Dedupe<D> {
//!     seen: Mutex<HashSet<(SocketAddr, InfoHash)>>,
//!     next: D,
//! }
//!
//! impl<D: Discovery> Discovery for Dedupe<D> {
//!     fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
//!         if !self.seen.lock().unwrap().insert((peer.addr, peer.info_hash)) {
//!             return AddPeer::Duplicate;
//!         }
//!         self.next.add_peer(peer)
//!     }
//!     fn peer_id(&self) -> PeerId {
//!         self.next.peer_id()
//!     }
//!     fn port(&self) -> u16 {
//!         self.next.port()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let hash = InfoHash::from_sha1(b"some torrent's info dictionary");
//! let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
//!
//! // A peer serving the torrent...
//! let (seed, mut seed_conns) = Handshaker::builder(PeerId::new(*b"-BP0001-seed00000000"))
//!     .listen_addr(loopback)
//!     .torrent(hash)
//!     .build()
//!     .await?;
//!
//! // ...and our side: discovery -> dedupe -> handshaker.
//! let (handshaker, mut conns) = Handshaker::builder(PeerId::new(*b"-BP0001-leech0000000"))
//!     .listen_addr(loopback)
//!     .extensions(Extensions::DHT | Extensions::EXTENSION_PROTOCOL)
//!     .build()
//!     .await?;
//! let pipeline = Dedupe { seen: Mutex::new(HashSet::new()), next: handshaker.clone() };
//!
//! // What a DHT or tracker would do for every peer it finds:
//! let found = DiscoveredPeer::new(hash, seed.local_addr(), PeerSource::Dht);
//! assert_eq!(pipeline.add_peer(found.clone()), AddPeer::Accepted);
//! assert_eq!(pipeline.add_peer(found), AddPeer::Duplicate);
//! assert_eq!(pipeline.port(), handshaker.local_addr().port()); // what it would announce
//!
//! let conn = conns.next().await.expect("handshake completes");
//! assert_eq!(conn.peer_id, PeerId::new(*b"-BP0001-seed00000000"));
//! assert_eq!(conn.info_hash, hash);
//! assert!(conn.extensions.is_empty()); // the seed set no reserved bits
//! let incoming = seed_conns.next().await.expect("the seed sees it too");
//! assert_eq!(incoming.peer_id, handshaker.peer_id());
//! // conn.socket (plus conn.leftover) now carries the peer wire protocol.
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//!
//! * [`Handshake`]: the wire codec (decode borrows, encode appends).
//! * [`HandshakeState`]: the sans-IO state machine for one connection, either side, on the
//!   workspace's core contract (`handle_bytes`, `handle_timeout`, `poll_transmit`,
//!   `poll_event`, `poll_timeout`, `stats`): bytes and `now` in, bytes to send, a deadline and
//!   [`HandshakeEvent`]s out, ending in an [`Outcome`] (with any bytes read past the
//!   handshake). An incoming handshake stops at [`HandshakeEvent::NeedDecision`] before
//!   anything is sent, so an unknown info hash gets the connection closed without our
//!   handshake.
//! * `Handshaker` (default `tokio` feature): the tokio driver. A listener and a bounded dial
//!   queue, each handshake in a task bounded by the handshake timeout, inbound slots shared
//!   fairly between remote addresses, a registry of info hashes, [`HandshakeFilter`]s,
//!   `Stats` counters and an optional bounded `Failure` channel.
//!
//! Without the `tokio` feature the crate is the codec, [`HandshakeState`] and [`Discovery`]
//! only: no runtime, no TCP.
//! * [`Discovery`]: what discovery services call; [`Handshaker`] implements it.
//!
//! MSE/PE encryption and uTP are not supported.

// Every module is private and its public items are re-exported here, so each item has one
// path (`bip_handshake::Name`).
mod discovery;
mod error;
mod extensions;
mod filter;
#[cfg(feature = "tokio")]
mod handshaker;
mod message;
mod state;

pub use discovery::{AddPeer, DiscoveredPeer, Discovery, PeerSource};
pub use error::{ConfigError, DecodeError, FilterStage, HandshakeError};
pub use extensions::Extensions;
pub use filter::{FilterDecision, FilterInput, HandshakeFilter};
#[cfg(feature = "tokio")]
pub use handshaker::{
    Connection, Connections, Failure, FailureSink, Handshaker, HandshakerBuilder, Stats,
    DEFAULT_CONNECTION_BUFFER, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTES_TIMEOUT,
    DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUED_DIALS, READ_BUFFER,
};
pub use message::{Handshake, PrefixError, BITTORRENT_PROTOCOL, FIXED_LEN};
pub use state::{
    Direction, Event as HandshakeEvent, HandshakeConfig, HandshakeState, HandshakeStats, Outcome,
    Status, DEFAULT_HANDSHAKE_TIMEOUT,
};
#[cfg(feature = "tokio")]
pub use tokio_stream::Stream;
