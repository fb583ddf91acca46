//! Compact peer and node info: the fixed-size address encodings of BEP 23 (tracker `peers`),
//! BEP 5 (DHT `nodes`, `values`) and BEP 32 (IPv6 `peers6`, `nodes6`).
//!
//! Byte layouts (all numbers big-endian, "network order"):
//!
//! | entry          | layout                                  | bytes |
//! |----------------|-----------------------------------------|-------|
//! | IPv4 peer      | IPv4 address (4), port (2)              | 6     |
//! | IPv6 peer      | IPv6 address (16), port (2)             | 18    |
//! | IPv4 node      | node id (20), IPv4 address (4), port (2) | 26    |
//! | IPv6 node      | node id (20), IPv6 address (16), port (2) | 38    |
//!
//! A list is entries concatenated with no separator, so its length must be a multiple of the
//! entry size. Decoding lists is zero-copy: [`peers_v4`] and friends check the length once and
//! return an iterator ([`ExactSizeIterator`], `Clone`) that decodes entries as it goes. Encoders
//! append to a caller-owned `Vec<u8>`. IPv6 flow info and scope ids are not encoded and decode as
//! zero.
//!
//! ```
//! use std::net::SocketAddrV4;
//! use bip_util::compact;
//!
//! let peers: Vec<SocketAddrV4> = vec!["10.0.0.1:6881".parse()?, "1.2.3.4:80".parse()?];
//! let mut wire = Vec::new();
//! compact::encode_peers_v4(&peers, &mut wire);
//! assert_eq!(wire, [10, 0, 0, 1, 0x1a, 0xe1, 1, 2, 3, 4, 0, 80]);
//!
//! let decoded: Vec<SocketAddrV4> = compact::peers_v4(&wire)?.collect();
//! assert_eq!(decoded, peers);
//! assert!(compact::peers_v4(&wire[..11]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::iter::FusedIterator;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::slice::ChunksExact;

use crate::error::CompactError;
use crate::id::NodeId;
use crate::sha::SHA1_LEN;

/// Size of a compact IPv4 peer: 4-byte address, 2-byte port.
pub const COMPACT_PEER_V4_LEN: usize = 6;
/// Size of a compact IPv6 peer: 16-byte address, 2-byte port.
pub const COMPACT_PEER_V6_LEN: usize = 18;
/// Size of a compact IPv4 node: 20-byte node id, then a compact IPv4 peer.
pub const COMPACT_NODE_V4_LEN: usize = SHA1_LEN + COMPACT_PEER_V4_LEN;
/// Size of a compact IPv6 node: 20-byte node id, then a compact IPv6 peer.
pub const COMPACT_NODE_V6_LEN: usize = SHA1_LEN + COMPACT_PEER_V6_LEN;

// ---- single entries ------------------------------------------------------------------------

/// Decodes a chunk known to be `COMPACT_PEER_V4_LEN` bytes.
#[inline]
fn v4_from_chunk(c: &[u8]) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::new(c[0], c[1], c[2], c[3]),
        u16::from_be_bytes([c[4], c[5]]),
    )
}

/// Decodes a chunk known to be `COMPACT_PEER_V6_LEN` bytes.
#[inline]
fn v6_from_chunk(c: &[u8]) -> SocketAddrV6 {
    let mut ip = [0u8; 16];
    ip.copy_from_slice(&c[..16]);
    SocketAddrV6::new(Ipv6Addr::from(ip), u16::from_be_bytes([c[16], c[17]]), 0, 0)
}

/// Decodes the id at the start of a node chunk.
#[inline]
fn id_from_chunk(c: &[u8]) -> NodeId {
    let mut id = [0u8; SHA1_LEN];
    id.copy_from_slice(&c[..SHA1_LEN]);
    NodeId::new(id)
}

#[inline]
fn check_exact(bytes: &[u8], expected: usize) -> Result<(), CompactError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(CompactError::InvalidLength {
            expected,
            actual: bytes.len(),
        })
    }
}

#[inline]
fn check_multiple(bytes: &[u8], unit: usize) -> Result<(), CompactError> {
    if bytes.len() % unit == 0 {
        Ok(())
    } else {
        Err(CompactError::BadLength {
            len: bytes.len(),
            unit,
        })
    }
}

/// Appends the 6-byte compact form of an IPv4 peer: address, then port.
#[inline]
pub fn encode_peer_v4(addr: &SocketAddrV4, out: &mut Vec<u8>) {
    out.extend_from_slice(&addr.ip().octets());
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Appends the 18-byte compact form of an IPv6 peer: address, then port (flow info and scope id
/// are dropped).
#[inline]
pub fn encode_peer_v6(addr: &SocketAddrV6, out: &mut Vec<u8>) {
    out.extend_from_slice(&addr.ip().octets());
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Appends the compact form of a peer: 6 bytes for IPv4, 18 for IPv6 (an IPv4-mapped IPv6
/// address stays IPv6; convert it first if the list is an IPv4 one).
#[inline]
pub fn encode_peer(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr {
        SocketAddr::V4(a) => encode_peer_v4(a, out),
        SocketAddr::V6(a) => encode_peer_v6(a, out),
    }
}

/// Decodes one compact IPv4 peer of exactly 6 bytes.
///
/// # Errors
///
/// [`CompactError::InvalidLength`] for any other length.
pub fn decode_peer_v4(bytes: &[u8]) -> Result<SocketAddrV4, CompactError> {
    check_exact(bytes, COMPACT_PEER_V4_LEN)?;
    Ok(v4_from_chunk(bytes))
}

/// Decodes one compact IPv6 peer of exactly 18 bytes.
///
/// # Errors
///
/// [`CompactError::InvalidLength`] for any other length.
pub fn decode_peer_v6(bytes: &[u8]) -> Result<SocketAddrV6, CompactError> {
    check_exact(bytes, COMPACT_PEER_V6_LEN)?;
    Ok(v6_from_chunk(bytes))
}

/// Decodes one compact peer of either family, told apart by length (6 or 18 bytes).
///
/// # Errors
///
/// [`CompactError::UnknownFamily`] for any other length.
pub fn decode_peer(bytes: &[u8]) -> Result<SocketAddr, CompactError> {
    match bytes.len() {
        COMPACT_PEER_V4_LEN => Ok(SocketAddr::V4(v4_from_chunk(bytes))),
        COMPACT_PEER_V6_LEN => Ok(SocketAddr::V6(v6_from_chunk(bytes))),
        actual => Err(CompactError::UnknownFamily {
            v4: COMPACT_PEER_V4_LEN,
            v6: COMPACT_PEER_V6_LEN,
            actual,
        }),
    }
}

/// Appends the 26-byte compact form of an IPv4 node: id, address, port.
#[inline]
pub fn encode_node_v4(id: &NodeId, addr: &SocketAddrV4, out: &mut Vec<u8>) {
    out.extend_from_slice(id.as_bytes());
    encode_peer_v4(addr, out);
}

/// Appends the 38-byte compact form of an IPv6 node: id, address, port.
#[inline]
pub fn encode_node_v6(id: &NodeId, addr: &SocketAddrV6, out: &mut Vec<u8>) {
    out.extend_from_slice(id.as_bytes());
    encode_peer_v6(addr, out);
}

/// Appends the compact form of a node: 26 bytes for IPv4, 38 for IPv6.
#[inline]
pub fn encode_node(id: &NodeId, addr: &SocketAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(id.as_bytes());
    encode_peer(addr, out);
}

/// Decodes one compact IPv4 node of exactly 26 bytes.
///
/// # Errors
///
/// [`CompactError::InvalidLength`] for any other length.
pub fn decode_node_v4(bytes: &[u8]) -> Result<(NodeId, SocketAddrV4), CompactError> {
    check_exact(bytes, COMPACT_NODE_V4_LEN)?;
    Ok((id_from_chunk(bytes), v4_from_chunk(&bytes[SHA1_LEN..])))
}

/// Decodes one compact IPv6 node of exactly 38 bytes.
///
/// # Errors
///
/// [`CompactError::InvalidLength`] for any other length.
pub fn decode_node_v6(bytes: &[u8]) -> Result<(NodeId, SocketAddrV6), CompactError> {
    check_exact(bytes, COMPACT_NODE_V6_LEN)?;
    Ok((id_from_chunk(bytes), v6_from_chunk(&bytes[SHA1_LEN..])))
}

// ---- lists ------------------------------------------------------------------------------------

/// Appends IPv4 peers as a compact list (6 bytes each). Accepts values or references:
/// `encode_peers_v4(&vec, &mut out)`, `encode_peers_v4(vec.iter().copied(), &mut out)`.
pub fn encode_peers_v4<I>(peers: I, out: &mut Vec<u8>)
where
    I: IntoIterator,
    I::Item: Borrow<SocketAddrV4>,
{
    let peers = peers.into_iter();
    out.reserve(peers.size_hint().0 * COMPACT_PEER_V4_LEN);
    for p in peers {
        encode_peer_v4(p.borrow(), out);
    }
}

/// Appends IPv6 peers as a compact list (18 bytes each). Accepts values or references.
pub fn encode_peers_v6<I>(peers: I, out: &mut Vec<u8>)
where
    I: IntoIterator,
    I::Item: Borrow<SocketAddrV6>,
{
    let peers = peers.into_iter();
    out.reserve(peers.size_hint().0 * COMPACT_PEER_V6_LEN);
    for p in peers {
        encode_peer_v6(p.borrow(), out);
    }
}

/// Appends IPv4 nodes as a compact list (26 bytes each). Accepts `(NodeId, SocketAddrV4)` values
/// or references to them.
pub fn encode_nodes_v4<I>(nodes: I, out: &mut Vec<u8>)
where
    I: IntoIterator,
    I::Item: Borrow<(NodeId, SocketAddrV4)>,
{
    let nodes = nodes.into_iter();
    out.reserve(nodes.size_hint().0 * COMPACT_NODE_V4_LEN);
    for n in nodes {
        let (id, addr) = n.borrow();
        encode_node_v4(id, addr, out);
    }
}

/// Appends IPv6 nodes as a compact list (38 bytes each). Accepts `(NodeId, SocketAddrV6)` values
/// or references to them.
pub fn encode_nodes_v6<I>(nodes: I, out: &mut Vec<u8>)
where
    I: IntoIterator,
    I::Item: Borrow<(NodeId, SocketAddrV6)>,
{
    let nodes = nodes.into_iter();
    out.reserve(nodes.size_hint().0 * COMPACT_NODE_V6_LEN);
    for n in nodes {
        let (id, addr) = n.borrow();
        encode_node_v6(id, addr, out);
    }
}

/// Defines a zero-copy iterator over a compact list.
macro_rules! compact_iter {
    ($(#[$meta:meta])* $name:ident, $item:ty, $unit:expr, |$c:ident| $decode:expr) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name<'a> {
            chunks: ChunksExact<'a, u8>,
        }

        impl<'a> $name<'a> {
            /// Checks that `bytes` is a whole number of entries and iterates over them.
            ///
            /// # Errors
            ///
            /// [`CompactError::BadLength`] when the length is not a multiple of the entry size.
            pub fn new(bytes: &'a [u8]) -> Result<Self, CompactError> {
                check_multiple(bytes, $unit)?;
                Ok($name {
                    chunks: bytes.chunks_exact($unit),
                })
            }
        }

        impl Iterator for $name<'_> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                self.chunks.next().map(|$c| $decode)
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.chunks.size_hint()
            }

            #[inline]
            fn nth(&mut self, n: usize) -> Option<$item> {
                self.chunks.nth(n).map(|$c| $decode)
            }

            #[inline]
            fn count(self) -> usize {
                self.chunks.len()
            }
        }

        impl DoubleEndedIterator for $name<'_> {
            #[inline]
            fn next_back(&mut self) -> Option<$item> {
                self.chunks.next_back().map(|$c| $decode)
            }
        }

        impl ExactSizeIterator for $name<'_> {}

        impl FusedIterator for $name<'_> {}

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.clone()).finish()
            }
        }
    };
}

compact_iter!(
    /// Iterator over a compact IPv4 peer list (6 bytes each), from [`peers_v4`].
    CompactPeersV4,
    SocketAddrV4,
    COMPACT_PEER_V4_LEN,
    |c| v4_from_chunk(c)
);

compact_iter!(
    /// Iterator over a compact IPv6 peer list (18 bytes each), from [`peers_v6`].
    CompactPeersV6,
    SocketAddrV6,
    COMPACT_PEER_V6_LEN,
    |c| v6_from_chunk(c)
);

compact_iter!(
    /// Iterator over a compact IPv4 node list (26 bytes each), from [`nodes_v4`].
    CompactNodesV4,
    (NodeId, SocketAddrV4),
    COMPACT_NODE_V4_LEN,
    |c| (id_from_chunk(c), v4_from_chunk(&c[SHA1_LEN..]))
);

compact_iter!(
    /// Iterator over a compact IPv6 node list (38 bytes each), from [`nodes_v6`].
    CompactNodesV6,
    (NodeId, SocketAddrV6),
    COMPACT_NODE_V6_LEN,
    |c| (id_from_chunk(c), v6_from_chunk(&c[SHA1_LEN..]))
);

/// Iterates over a compact IPv4 peer list (BEP 23 `peers`, BEP 5 `values` entries joined).
///
/// # Errors
///
/// [`CompactError::BadLength`] unless the length is a multiple of 6.
pub fn peers_v4(bytes: &[u8]) -> Result<CompactPeersV4<'_>, CompactError> {
    CompactPeersV4::new(bytes)
}

/// Iterates over a compact IPv6 peer list (BEP 32 / BEP 7 `peers6`).
///
/// # Errors
///
/// [`CompactError::BadLength`] unless the length is a multiple of 18.
pub fn peers_v6(bytes: &[u8]) -> Result<CompactPeersV6<'_>, CompactError> {
    CompactPeersV6::new(bytes)
}

/// Iterates over a compact IPv4 node list (BEP 5 `nodes`).
///
/// # Errors
///
/// [`CompactError::BadLength`] unless the length is a multiple of 26.
pub fn nodes_v4(bytes: &[u8]) -> Result<CompactNodesV4<'_>, CompactError> {
    CompactNodesV4::new(bytes)
}

/// Iterates over a compact IPv6 node list (BEP 32 `nodes6`).
///
/// # Errors
///
/// [`CompactError::BadLength`] unless the length is a multiple of 38.
pub fn nodes_v6(bytes: &[u8]) -> Result<CompactNodesV6<'_>, CompactError> {
    CompactNodesV6::new(bytes)
}

// ---- CompactNode ------------------------------------------------------------------------------

/// A DHT contact of either address family: node id and address.
///
/// ```
/// use bip_util::{compact::CompactNode, NodeId};
///
/// let node = CompactNode::new(NodeId::new([1; 20]), "[::1]:6881".parse().unwrap());
/// let mut wire = Vec::new();
/// node.encode(&mut wire);
/// assert_eq!(wire.len(), node.encoded_len());
/// assert_eq!(CompactNode::decode(&wire), Ok(node));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactNode {
    /// The node's id.
    pub id: NodeId,
    /// The node's UDP address.
    pub addr: SocketAddr,
}

impl CompactNode {
    /// Pairs an id with an address.
    pub const fn new(id: NodeId, addr: SocketAddr) -> Self {
        CompactNode { id, addr }
    }

    /// Size of the compact form: 26 for IPv4, 38 for IPv6.
    pub const fn encoded_len(&self) -> usize {
        match self.addr {
            SocketAddr::V4(_) => COMPACT_NODE_V4_LEN,
            SocketAddr::V6(_) => COMPACT_NODE_V6_LEN,
        }
    }

    /// Appends the compact form (see [`encode_node`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_node(&self.id, &self.addr, out);
    }

    /// Decodes one compact node of either family, told apart by length (26 or 38 bytes).
    ///
    /// # Errors
    ///
    /// [`CompactError::UnknownFamily`] for any other length.
    pub fn decode(bytes: &[u8]) -> Result<Self, CompactError> {
        let addr = match bytes.len() {
            COMPACT_NODE_V4_LEN => SocketAddr::V4(v4_from_chunk(&bytes[SHA1_LEN..])),
            COMPACT_NODE_V6_LEN => SocketAddr::V6(v6_from_chunk(&bytes[SHA1_LEN..])),
            actual => {
                return Err(CompactError::UnknownFamily {
                    v4: COMPACT_NODE_V4_LEN,
                    v6: COMPACT_NODE_V6_LEN,
                    actual,
                })
            }
        };
        Ok(CompactNode {
            id: id_from_chunk(bytes),
            addr,
        })
    }
}

impl From<(NodeId, SocketAddr)> for CompactNode {
    fn from((id, addr): (NodeId, SocketAddr)) -> Self {
        CompactNode { id, addr }
    }
}

impl From<(NodeId, SocketAddrV4)> for CompactNode {
    fn from((id, addr): (NodeId, SocketAddrV4)) -> Self {
        CompactNode {
            id,
            addr: SocketAddr::V4(addr),
        }
    }
}

impl From<(NodeId, SocketAddrV6)> for CompactNode {
    fn from((id, addr): (NodeId, SocketAddrV6)) -> Self {
        CompactNode {
            id,
            addr: SocketAddr::V6(addr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    fn v6(s: &str) -> SocketAddrV6 {
        s.parse().unwrap()
    }

    #[test]
    fn peer_layouts() {
        let mut out = Vec::new();
        encode_peer(&"192.168.1.2:51413".parse().unwrap(), &mut out);
        assert_eq!(out, [192, 168, 1, 2, 0xc8, 0xd5]);
        assert_eq!(decode_peer_v4(&out), Ok(v4("192.168.1.2:51413")));
        assert_eq!(decode_peer(&out), Ok("192.168.1.2:51413".parse().unwrap()));

        out.clear();
        encode_peer(&"[2001:db8::1]:443".parse().unwrap(), &mut out);
        let mut expected = vec![0x20, 0x01, 0x0d, 0xb8];
        expected.extend_from_slice(&[0; 11]);
        expected.extend_from_slice(&[1, 0x01, 0xbb]);
        assert_eq!(out, expected);
        assert_eq!(decode_peer_v6(&out), Ok(v6("[2001:db8::1]:443")));
        assert_eq!(decode_peer(&out), Ok("[2001:db8::1]:443".parse().unwrap()));
    }

    #[test]
    fn flow_info_and_scope_are_dropped() {
        let a = SocketAddrV6::new("fe80::1".parse().unwrap(), 1, 7, 9);
        let mut out = Vec::new();
        encode_peer_v6(&a, &mut out);
        assert_eq!(decode_peer_v6(&out), Ok(v6("[fe80::1]:1")));
    }

    #[test]
    fn single_entry_lengths() {
        assert_eq!(
            decode_peer_v4(&[0; 7]),
            Err(CompactError::InvalidLength {
                expected: 6,
                actual: 7
            })
        );
        assert_eq!(
            decode_peer_v6(&[0; 6]),
            Err(CompactError::InvalidLength {
                expected: 18,
                actual: 6
            })
        );
        assert_eq!(
            decode_peer(&[0; 12]),
            Err(CompactError::UnknownFamily {
                v4: 6,
                v6: 18,
                actual: 12
            })
        );
        assert!(decode_node_v4(&[0; 25]).is_err());
        assert!(decode_node_v6(&[0; 26]).is_err());
        assert_eq!(
            CompactNode::decode(&[0; 6]),
            Err(CompactError::UnknownFamily {
                v4: 26,
                v6: 38,
                actual: 6
            })
        );
    }

    #[test]
    fn node_layouts() {
        let id = NodeId::new(*b"abcdefghij0123456789");
        let mut out = Vec::new();
        encode_node_v4(&id, &v4("1.2.3.4:5"), &mut out);
        assert_eq!(&out[..20], b"abcdefghij0123456789");
        assert_eq!(&out[20..], [1, 2, 3, 4, 0, 5]);
        assert_eq!(decode_node_v4(&out), Ok((id, v4("1.2.3.4:5"))));
        assert_eq!(
            CompactNode::decode(&out),
            Ok(CompactNode::from((id, v4("1.2.3.4:5"))))
        );

        out.clear();
        encode_node(&id, &"[::2]:6".parse().unwrap(), &mut out);
        assert_eq!(out.len(), COMPACT_NODE_V6_LEN);
        assert_eq!(decode_node_v6(&out), Ok((id, v6("[::2]:6"))));
    }

    #[test]
    fn lists() {
        let peers = [v4("1.1.1.1:1"), v4("2.2.2.2:2"), v4("3.3.3.3:3")];
        let mut out = Vec::new();
        encode_peers_v4(peers, &mut out);
        encode_peers_v4(peers.iter().copied(), &mut out);
        assert_eq!(out.len(), 36);
        let mut it = peers_v4(&out).unwrap();
        assert_eq!(it.len(), 6);
        assert_eq!(it.next(), Some(peers[0]));
        assert_eq!(it.len(), 5);
        assert_eq!(it.next_back(), Some(peers[2]));
        assert_eq!(it.clone().count(), 4);
        assert_eq!(it.nth(3), Some(peers[1]));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);

        assert_eq!(peers_v4(&[]).unwrap().len(), 0);
        assert_eq!(
            peers_v4(&out[..35]).unwrap_err(),
            CompactError::BadLength { len: 35, unit: 6 }
        );
        assert_eq!(
            format!("{:?}", peers_v4(&out[..12]).unwrap()),
            "[1.1.1.1:1, 2.2.2.2:2]"
        );

        let nodes = vec![
            (NodeId::new([1; 20]), v6("[::1]:1")),
            (NodeId::new([2; 20]), v6("[::2]:2")),
        ];
        out.clear();
        encode_nodes_v6(&nodes, &mut out);
        assert_eq!(nodes_v6(&out).unwrap().collect::<Vec<_>>(), nodes);
        assert!(nodes_v6(&out[1..]).is_err());
        assert!(nodes_v4(&out).is_err()); // 76 is not a multiple of 26
    }
}
