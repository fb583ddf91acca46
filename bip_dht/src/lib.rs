//! The Mainline DHT (BEP 5) with IPv6 (BEP 32), node-id security (BEP 42), read-only nodes
//! (BEP 43), stored items (BEP 44), infohash sampling (BEP 51) and scrapes (BEP 33), as a
//! deterministic sans-IO core and a thin tokio node.
//!
//! Layers:
//! * [`krpc`]: the wire codec, one [`Message`](krpc::Message) type, decoding borrows;
//! * [`security`]: BEP 42 node ids and the external-address voter;
//! * [`table`]: the routing table (K-buckets, node states, replacement cache);
//! * [`item`], [`items`]: BEP 44 items (ed25519 signing and verification) and their store;
//! * [`bloom`]: BEP 33 Bloom filters and their estimate;
//! * [`store`]: the peer store behind `announce_peer`/`get_peers`, with fairness per address;
//! * [`ratelimit`]: per-address inbound query limits with a block list;
//! * [`node`]: the node core ([`Node`]): datagrams and `now` in, datagrams, events and the next
//!   deadline out, lookups as sub-state named by a [`LookupId`];
//! * [`sim`]: a deterministic network of cores with virtual time, latency, loss and churn;
//! * `Dht` (feature `tokio`, on by default): the driver that owns the sockets.

#![forbid(unsafe_code)]

pub mod bloom;
pub mod item;
pub mod items;
pub mod krpc;
pub mod node;
pub mod ratelimit;
pub mod security;
pub mod sim;
pub mod state;
pub mod store;
pub mod table;

#[cfg(feature = "tokio")]
mod driver;
#[cfg(feature = "tokio")]
pub use driver::{
    save_state, Dht, DhtBuilder, Peers, Samples, Status, SwarmEstimate, COMMAND_BUFFER,
    DEFAULT_ROUTERS, DEFAULT_SAVE_INTERVAL, PEER_STREAM_BUFFER, SAMPLE_STREAM_BUFFER,
};

pub use node::{CommandError, Config, Event, LookupId, LookupSummary, Node, Stats, MAX_DATAGRAM};
