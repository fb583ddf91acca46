//! The saved node state (node id and routing table), so a restart rejoins from known nodes
//! without any router. A small bencoded dictionary:
//! `d2:id20:<id>5:nodes<compact IPv4 nodes>6:nodes6<compact IPv6 nodes>e`.
//!
//! ```
//! use bip_dht::state::SavedState;
//! use bip_util::{CompactNode, NodeId};
//!
//! let s = SavedState {
//!     id: NodeId::new([1; 20]),
//!     nodes: vec![CompactNode::new(NodeId::new([2; 20]), "1.2.3.4:6881".parse()?)],
//! };
//! assert_eq!(SavedState::decode(&s.encode())?, s);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use bip_util::{CompactNode, NodeId};

/// Most nodes read back from a state file.
pub const MAX_SAVED_NODES: usize = 10_000;

/// A node id and the nodes of the routing tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// Our node id.
    pub id: NodeId,
    /// Known nodes (both families).
    pub nodes: Vec<CompactNode>,
}

/// Why a state file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not bencode.
    #[error("not bencode: {0}")]
    Bencode(String),
    /// A field is missing or malformed.
    #[error("invalid state field `{0}`")]
    Invalid(&'static str),
}

impl SavedState {
    /// The bencoded form.
    pub fn encode(&self) -> Vec<u8> {
        use bip_bencode::encode as e;
        let (mut n4, mut n6) = (Vec::new(), Vec::new());
        for n in &self.nodes {
            match n.addr {
                SocketAddr::V4(_) => n.encode(&mut n4),
                SocketAddr::V6(_) => n.encode(&mut n6),
            }
        }
        let mut out = Vec::with_capacity(64 + n4.len() + n6.len());
        e::dict_start(&mut out);
        e::bytes(&mut out, b"id");
        e::bytes(&mut out, self.id.as_bytes());
        e::bytes(&mut out, b"nodes");
        e::bytes(&mut out, &n4);
        e::bytes(&mut out, b"nodes6");
        e::bytes(&mut out, &n6);
        e::end(&mut out);
        out
    }

    /// Parse the bencoded form.
    pub fn decode(bytes: &[u8]) -> Result<SavedState, StateError> {
        let doc = bip_bencode::decode(bytes).map_err(|e| StateError::Bencode(e.to_string()))?;
        let d = doc.root().dict().map_err(|_| StateError::Invalid("root"))?;
        let id = d
            .get_bytes(b"id")
            .ok()
            .and_then(|b| NodeId::from_slice(b).ok())
            .ok_or(StateError::Invalid("id"))?;
        let mut nodes = Vec::new();
        let n4 = d
            .opt_bytes(b"nodes")
            .map_err(|_| StateError::Invalid("nodes"))?;
        if let Some(b) = n4 {
            let it = bip_util::nodes_v4(b).map_err(|_| StateError::Invalid("nodes"))?;
            nodes.extend(it.map(|(id, a)| CompactNode::new(id, SocketAddr::V4(a))));
        }
        let n6 = d
            .opt_bytes(b"nodes6")
            .map_err(|_| StateError::Invalid("nodes6"))?;
        if let Some(b) = n6 {
            let it = bip_util::nodes_v6(b).map_err(|_| StateError::Invalid("nodes6"))?;
            nodes.extend(it.map(|(id, a)| CompactNode::new(id, SocketAddr::V6(a))));
        }
        nodes.truncate(MAX_SAVED_NODES);
        Ok(SavedState { id, nodes })
    }

    /// Read `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> io::Result<Option<SavedState>> {
        match std::fs::read(path) {
            Ok(b) => SavedState::decode(&b)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write to `path` atomically: a temporary file beside it, then a rename.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, self.encode())?;
        std::fs::rename(&tmp, path)
    }
}
