//! Shared BitTorrent types for the `bip` crates: info hashes, peer and node ids, the Kademlia XOR
//! metric, compact address codecs and SHA helpers. No I/O and no async runtime: everything here is
//! plain data and pure functions.
//!
//! ```
//! use std::net::SocketAddrV4;
//!
//! use bip_util::{compact, generate_peer_id, InfoHash, NodeId};
//! use rand::SeedableRng;
//!
//! // Randomness always comes from the caller; a seeded RNG makes runs reproducible.
//! let mut rng = rand::rngs::StdRng::seed_from_u64(42);
//!
//! // Info hashes: SHA-1 of the bencoded info dictionary, shown as hex or base32.
//! let info_hash = InfoHash::from_sha1(b"d4:name5:hello12:piece lengthi16384ee");
//! let hex = info_hash.to_string();
//! assert_eq!(hex.len(), 40);
//! assert_eq!(hex.parse::<InfoHash>()?, info_hash);
//! assert_eq!(InfoHash::from_base32(&info_hash.to_base32())?, info_hash);
//!
//! // Our peer id, recognisable by other clients.
//! let peer_id = generate_peer_id(&mut rng);
//! assert!(peer_id.printable().starts_with("-BP"));
//!
//! // The DHT's XOR metric: which bucket a node falls in, and who is closer to a target.
//! let me = NodeId::random(&mut rng);
//! let other = me.random_in_bucket(3, &mut rng).expect("bucket < 160");
//! assert_eq!(me.bucket_index(&other), Some(3));
//! let target = NodeId::from(info_hash);
//! let mut nodes = vec![me, other];
//! nodes.sort_by_key(|n| n.distance(&target));
//!
//! // Compact peer lists (BEP 23).
//! let mut wire = Vec::new();
//! compact::encode_peers_v4(&["127.0.0.1:6881".parse::<SocketAddrV4>()?], &mut wire);
//! let peers: Vec<SocketAddrV4> = compact::peers_v4(&wire)?.collect();
//! assert_eq!(peers[0].port(), 6881);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! * [`id`]: [`InfoHash`], [`PeerId`], [`NodeId`] (20 bytes) and [`InfoHashV2`] (32 bytes), with
//!   hex, base32 and multihash text forms;
//! * [`distance`]: [`Distance`], the XOR metric and bucket indices;
//! * [`peer_id`]: [`generate_peer_id`], [`identify_client`] (BEP 20);
//! * [`compact`]: compact peers and nodes (BEP 5, 23, 32);
//! * [`sha`]: [`sha1()`], [`sha256()`] and the incremental [`Sha1`] / [`Sha256`] hashers;
//! * [`core`]: [`Transmit`], [`CoreRng`] and [`WindowedMac`], shared by the protocol cores;
//! * [`error`]: [`LengthError`], [`ParseIdError`], [`CompactError`].
//!
//! Everything is also re-exported at the crate root.

pub mod compact;
pub mod core;
pub mod distance;
pub mod error;
pub mod id;
pub mod peer_id;
pub mod sha;

pub use crate::compact::{
    decode_node_v4, decode_node_v6, decode_peer, decode_peer_v4, decode_peer_v6, encode_node,
    encode_node_v4, encode_node_v6, encode_nodes_v4, encode_nodes_v6, encode_peer, encode_peer_v4,
    encode_peer_v6, encode_peers_v4, encode_peers_v6, nodes_v4, nodes_v6, peers_v4, peers_v6,
    CompactNode, CompactNodesV4, CompactNodesV6, CompactPeersV4, CompactPeersV6,
    COMPACT_NODE_V4_LEN, COMPACT_NODE_V6_LEN, COMPACT_PEER_V4_LEN, COMPACT_PEER_V6_LEN,
};
pub use crate::core::{core_rng, CoreRng, Transmit, WindowedMac};
pub use crate::distance::{Distance, ID_BITS};
pub use crate::error::{CompactError, LengthError, ParseIdError};
pub use crate::id::{InfoHash, InfoHashV2, NodeId, PeerId, BASE32_LEN};
pub use crate::peer_id::{
    generate_peer_id, identify_client, peer_id_with_prefix, ClientInfo, PEER_ID_PREFIX,
};
pub use crate::sha::{sha1, sha256, Digest, Sha1, Sha256, SHA1_LEN, SHA256_LEN};
