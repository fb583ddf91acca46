//! Errors: one enum for a failed handshake, one for the wire codec.

use std::io;
use std::net::SocketAddr;

use bip_util::{InfoHash, PeerId};

/// Which check stopped a handshake that a filter or the registry refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterStage {
    /// Before any byte was exchanged: the remote address (and, for dials, the info hash).
    Address,
    /// After the remote's info hash and reserved bits arrived.
    InfoHash,
    /// After the remote's peer id arrived.
    PeerId,
}

/// Why a handshake failed.
///
/// Variants up to [`Filtered`](Self::Filtered) mean the peer sent something we do not accept;
/// the rest are transport failures, limits and local decisions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The first byte (protocol string length) differs from ours.
    #[error("protocol string length {received}, expected {expected}")]
    ProtocolLength {
        /// Our protocol string's length.
        expected: usize,
        /// The length byte the peer sent.
        received: u8,
    },
    /// The protocol string differs from ours (at byte `offset` of the string).
    #[error("protocol string differs from ours at byte {offset}")]
    Protocol {
        /// Offset into the protocol string of the first differing byte.
        offset: usize,
    },
    /// We dialled for one info hash and the peer answered with another.
    #[error("info hash mismatch: expected {expected}, received {received}")]
    InfoHashMismatch {
        /// The hash we dialled for.
        expected: InfoHash,
        /// The hash the peer sent.
        received: InfoHash,
    },
    /// An incoming handshake named a torrent we do not serve; the connection was closed without
    /// sending our handshake, so the peer learns nothing about which hashes we serve.
    #[error("unknown info hash {received}")]
    UnknownInfoHash {
        /// The hash the peer asked for.
        received: InfoHash,
    },
    /// The peer id differs from the one the discovery source reported.
    #[error("peer id mismatch: expected {}, received {}", expected.printable(), received.printable())]
    PeerIdMismatch {
        /// The id we were told to expect.
        expected: PeerId,
        /// The id the peer sent.
        received: PeerId,
    },
    /// The remote sent our own peer id: we connected to ourselves.
    #[error("connected to ourselves (remote sent our peer id)")]
    OwnConnection,
    /// A filter (or the own-address rule) refused the peer at `stage`.
    #[error("refused by a filter at stage {stage:?}")]
    Filtered {
        /// When the filter refused.
        stage: FilterStage,
    },
    /// The peer closed the connection before the handshake completed.
    #[error("peer closed the connection after {received} handshake bytes")]
    Closed {
        /// How many handshake bytes had arrived.
        received: usize,
    },
    /// The handshake did not complete within the handshake timeout.
    #[error("handshake timed out after {received} bytes")]
    Timeout {
        /// How many handshake bytes had arrived.
        received: usize,
    },
    /// The TCP connection was not established within the connect timeout.
    #[error("connect to {addr} timed out")]
    ConnectTimeout {
        /// Whom we dialled.
        addr: SocketAddr,
    },
    /// The TCP connect failed.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// Whom we dialled.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// Refused: the maximum number of concurrent handshakes in this direction was reached.
    #[error("too many concurrent handshakes")]
    Busy,
    /// Caller error: a method was called on a handshake that already failed or completed, or
    /// in a state where it does not apply.
    #[error("handshake state machine misused: {0}")]
    InvalidState(&'static str),
}

impl HandshakeError {
    /// Whether the error means the peer broke the protocol (as opposed to timeouts, I/O, limits
    /// and our own policy).
    pub fn is_protocol_violation(&self) -> bool {
        matches!(
            self,
            HandshakeError::ProtocolLength { .. }
                | HandshakeError::Protocol { .. }
                | HandshakeError::InfoHashMismatch { .. }
                | HandshakeError::PeerIdMismatch { .. }
        )
    }
}

/// Why a byte string is not a handshake ([`Handshake::decode`](crate::Handshake::decode)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends before the handshake does.
    #[error("truncated handshake: need {needed} bytes, have {available}")]
    Truncated {
        /// Total length the handshake needs (known once the length byte is read; 1 before).
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// Bytes follow the handshake where none are allowed.
    #[error("{extra} bytes after the handshake")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

/// The configuration is unusable (caller error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The protocol string must be 1 to 255 bytes (its length is sent in one byte).
    #[error("protocol string of {len} bytes; must be 1..=255")]
    ProtocolLength {
        /// The length given.
        len: usize,
    },
}
