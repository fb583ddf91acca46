//! UDP tracker (BEP 15): wire codec, client, embeddable server.
//!
//! Everything protocol-shaped is sans-IO: [`codec`] has one type per message,
//! [`ServerCore`] maps a request datagram to a response datagram, [`ClientCore`] turns
//! announce/scrape commands into datagrams, retransmits and matches answers. The tokio
//! [`Client`] and [`Server`] and the threaded [`ThreadedServer`] are thin loops around them.
//!
//! The two cores talking to each other in memory:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use bip_utracker::{
//!     AnnounceParams, ClientConfig, ClientCore, ClientEvent, ConnectionIds, MemoryStore,
//!     MemoryStoreConfig, ServerConfig, ServerCore, codec::Event,
//! };
//! use bip_util::{InfoHash, PeerId};
//!
//! let now = Instant::now();
//! let store = Arc::new(MemoryStore::new(MemoryStoreConfig::default(), now, 1));
//! let ids = ConnectionIds::new(2, now, Duration::from_secs(60));
//! let mut server = ServerCore::new(ServerConfig::default(), store, ids);
//! let tracker = "127.0.0.1:6969".parse()?;
//! let info_hash = InfoHash::from_sha1(b"example");
//!
//! // Two peers announce; the second one learns about the first.
//! for (i, port) in [(1u8, 6881u16), (2, 6882)] {
//!     let me = format!("10.0.0.{i}:40000").parse()?;
//!     let mut client = ClientCore::new(ClientConfig::default(), [i; 32]);
//!     let mut params = AnnounceParams::new(info_hash, PeerId::new([i; 20]), port);
//!     params.event = Event::STARTED;
//!     params.left = 1000;
//!     let id = client.announce(now, tracker, params, None);
//!     // Shuttle datagrams until the client reports a result.
//!     let mut buf = Vec::new();
//!     while let Some(t) = client.poll_transmit(&mut buf) {
//!         assert_eq!(t.to, tracker);
//!         if let Some(reply) = server.handle_datagram(now, me, &buf[..t.len]) {
//!             let reply = reply.to_vec();
//!             client.handle_datagram(now, tracker, &reply);
//!         }
//!     }
//!     match client.poll_event() {
//!         Some(ClientEvent::Announced(got, reply)) => {
//!             assert_eq!(got, id);
//!             assert_eq!(reply.leechers, u32::from(i));
//!             if i == 2 {
//!                 assert_eq!(reply.peers, vec!["10.0.0.1:6881".parse()?]);
//!             }
//!         }
//!         other => panic!("{other:?}"),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is where
//!
//! * [`codec`]: connect, announce, scrape and error messages, requests and responses;
//!   [`Action`](codec::Action) and [`Event`](codec::Event) are newtypes so unknown values
//!   round-trip; announce responses carry IPv4 or IPv6 peers by the packet's
//!   [`AddressFamily`](codec::AddressFamily); BEP 41 URL data is parsed and written.
//! * [`ServerCore`]: stateless keyed-hash connection ids ([`ConnectionIds`]), an optional
//!   [`AccessList`], limits from [`ServerConfig`], [`ServerStats`]; decisions made by a
//!   [`Store`] such as the built-in [`MemoryStore`] (expiry, bounded torrents and peers, fair
//!   shares per source address so one address cannot evict the others).
//! * [`ClientCore`]: connection-id cache, retransmission at `base · 2ⁿ`, transaction matching,
//!   copes with opentracker's 8-byte announce reply ([`RequestError::ShortAnnounce`]).
//! * `Client` and `Server` (default `tokio` feature): the tokio drivers. [`Client::with_discovery`] feeds announced
//!   peers to a [`bip_handshake::Discovery`]; [`Server::serve_reuseport`] runs one socket per
//!   task with `SO_REUSEPORT`.
//! * `ThreadedServer` (default `tokio` feature): the fastest server driver, one OS thread per `SO_REUSEPORT` socket
//!   with blocking batched I/O (`recvmmsg`/`sendmmsg` on Linux through `nix`, so still no
//!   `unsafe` here); what the `tracker serve` tool runs.
//!
//! # Named limits (defaults)
//!
//! Scrape: 74 hashes per request ([`codec::MAX_SCRAPE_HASHES`]); peers per announce answer: 50;
//! largest request accepted: 2048 bytes; connection ids accepted two to three minutes;
//! [`MemoryStore`]: 1,000,000 torrents, 10,000 peers per torrent and family, peers expire after
//! two announce intervals; client: 1024 requests in flight, 9 tries from 15 s.

// One path per item: `codec` is the one public module (the wire types live only there); the
// other modules are private and their public items are re-exported here.
#[cfg(feature = "tokio")]
mod batch;
mod client;
pub mod codec;
#[cfg(feature = "tokio")]
mod driver;
mod server;
mod url;

pub use bip_util::Transmit;
pub use client::{
    AnnounceParams, AnnounceReply, ClientConfig, ClientCore, ClientEvent, ClientStats,
    RequestError, RequestId,
};
#[cfg(feature = "tokio")]
pub use driver::{seed_from_clock, Client, ClientError, Server, ThreadedServer};
pub use server::{
    AccessList, Announce, ConnectionIds, Counters, MemoryStore, MemoryStoreConfig, Refusal,
    ServerConfig, ServerCore, ServerStats, Store, SwarmCounts,
};
pub use url::{TrackerUrl, UrlError};

/// A 32-byte [`CoreRng`](bip_util::CoreRng) seed from a 64-bit one (little-endian in the first
/// eight bytes), for the constructors that keep their `u64` seed.
pub(crate) fn expand_seed(seed: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s
}
