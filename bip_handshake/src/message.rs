//! The handshake wire format (BEP 3): `<pstrlen><pstr><reserved:8><info_hash:20><peer_id:20>`.

use bip_util::{InfoHash, PeerId};

use crate::error::DecodeError;
use crate::extensions::Extensions;

/// The standard protocol string.
pub const BITTORRENT_PROTOCOL: &[u8] = b"BitTorrent protocol";

/// Length of the fixed part after the protocol string: reserved + info hash + peer id.
pub const FIXED_LEN: usize = 8 + 20 + 20;

/// How the start of an arriving handshake differs from the protocol string we expect
/// ([`Handshake::check_prefix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixError {
    /// The length byte differs.
    Length {
        /// The length byte received.
        received: u8,
    },
    /// The protocol string differs at `offset` (into the string).
    Protocol {
        /// Offset of the first differing byte.
        offset: usize,
    },
}

/// One handshake message, borrowing its protocol string from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake<'a> {
    /// The protocol string (`BitTorrent protocol` normally), 0 to 255 bytes.
    pub protocol: &'a [u8],
    /// The reserved bits.
    pub reserved: Extensions,
    /// The torrent.
    pub info_hash: InfoHash,
    /// The sender's peer id.
    pub peer_id: PeerId,
}

impl<'a> Handshake<'a> {
    /// Encoded length for a protocol string of `protocol_len` bytes (68 for the standard one).
    pub const fn encoded_len_for(protocol_len: usize) -> usize {
        1 + protocol_len + FIXED_LEN
    }

    /// This message's encoded length.
    pub fn encoded_len(&self) -> usize {
        Self::encoded_len_for(self.protocol.len())
    }

    /// Decodes exactly one handshake; bytes after it are an error.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] when the input is short, [`DecodeError::TrailingBytes`] when it
    /// is long.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (hs, rest) = Self::decode_prefix(bytes)?;
        if rest.is_empty() {
            Ok(hs)
        } else {
            Err(DecodeError::TrailingBytes { extra: rest.len() })
        }
    }

    /// Decodes a handshake at the start of `bytes` and returns what follows it (the first peer
    /// wire messages, on a stream).
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] when the input is short.
    pub fn decode_prefix(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), DecodeError> {
        let Some(&plen) = bytes.first() else {
            return Err(DecodeError::Truncated {
                needed: 1,
                available: 0,
            });
        };
        let total = Self::encoded_len_for(usize::from(plen));
        if bytes.len() < total {
            return Err(DecodeError::Truncated {
                needed: total,
                available: bytes.len(),
            });
        }
        let p_end = 1 + usize::from(plen);
        let protocol = &bytes[1..p_end];
        let mut reserved = [0u8; 8];
        reserved.copy_from_slice(&bytes[p_end..p_end + 8]);
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&bytes[p_end + 8..p_end + 28]);
        let mut id = [0u8; 20];
        id.copy_from_slice(&bytes[p_end + 28..total]);
        Ok((
            Handshake {
                protocol,
                reserved: Extensions::from_bytes(reserved),
                info_hash: InfoHash::new(hash),
                peer_id: PeerId::new(id),
            },
            &bytes[total..],
        ))
    }

    /// Length of the part a responder decides on (length byte, protocol string, reserved
    /// bits, info hash): 48 for the standard protocol string.
    pub const fn header_len_for(protocol_len: usize) -> usize {
        1 + protocol_len + 8 + 20
    }

    /// Checks the first bytes of a handshake that is still arriving against the protocol
    /// string we expect, so a wrong peer is refused at the first differing byte.
    ///
    /// # Errors
    ///
    /// [`PrefixError::Length`] when the length byte differs, [`PrefixError::Protocol`] with
    /// the offset into the protocol string of the first differing byte.
    pub fn check_prefix(expected: &[u8], bytes: &[u8]) -> Result<(), PrefixError> {
        let Some(&len) = bytes.first() else {
            return Ok(());
        };
        if usize::from(len) != expected.len() {
            return Err(PrefixError::Length { received: len });
        }
        let got = &bytes[1..bytes.len().min(1 + expected.len())];
        match got.iter().zip(expected).position(|(a, b)| a != b) {
            Some(offset) => Err(PrefixError::Protocol { offset }),
            None => Ok(()),
        }
    }

    /// Decodes the header (protocol string, reserved bits, info hash) at the start of
    /// `bytes`, before the peer id has arrived.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] when the header is incomplete.
    pub fn decode_header(bytes: &'a [u8]) -> Result<(&'a [u8], Extensions, InfoHash), DecodeError> {
        let Some(&plen) = bytes.first() else {
            return Err(DecodeError::Truncated {
                needed: 1,
                available: 0,
            });
        };
        let total = Self::header_len_for(usize::from(plen));
        if bytes.len() < total {
            return Err(DecodeError::Truncated {
                needed: total,
                available: bytes.len(),
            });
        }
        let p_end = 1 + usize::from(plen);
        let mut reserved = [0u8; 8];
        reserved.copy_from_slice(&bytes[p_end..p_end + 8]);
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&bytes[p_end + 8..total]);
        Ok((
            &bytes[1..p_end],
            Extensions::from_bytes(reserved),
            InfoHash::new(hash),
        ))
    }

    /// Appends the encoded handshake to `out`.
    ///
    /// A protocol string longer than 255 bytes cannot be encoded; it is cut to 255 bytes (use
    /// [`HandshakeConfig`](crate::HandshakeConfig), which rejects such strings up front).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let protocol = &self.protocol[..self.protocol.len().min(255)];
        out.reserve(Self::encoded_len_for(protocol.len()));
        // Cannot truncate: the length was clamped to 255 just above.
        out.push(protocol.len() as u8);
        out.extend_from_slice(protocol);
        out.extend_from_slice(&self.reserved.bytes());
        out.extend_from_slice(self.info_hash.as_bytes());
        out.extend_from_slice(self.peer_id.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handshake raw_handshake.py sent to libtorrent (reserved 0x10 in byte 5).
    fn sample() -> Vec<u8> {
        let mut v = vec![19];
        v.extend_from_slice(b"BitTorrent protocol");
        v.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0x05]);
        v.extend_from_slice(&[0xaa; 20]);
        v.extend_from_slice(b"-LT2080-onbl90WCE04m");
        v
    }

    #[test]
    fn fixed_vector() {
        let bytes = sample();
        assert_eq!(bytes.len(), 68);
        let hs = Handshake::decode(&bytes).unwrap();
        assert_eq!(hs.protocol, BITTORRENT_PROTOCOL);
        assert_eq!(hs.reserved.to_string(), "0000000000100005");
        assert_eq!(hs.info_hash, InfoHash::new([0xaa; 20]));
        assert_eq!(hs.peer_id.printable(), "-LT2080-onbl90WCE04m");
        let mut out = Vec::new();
        hs.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(hs.encoded_len(), 68);
    }

    #[test]
    fn truncation_sweep() {
        let bytes = sample();
        for n in 0..bytes.len() {
            let err = Handshake::decode(&bytes[..n]).unwrap_err();
            let needed = if n == 0 { 1 } else { 68 };
            assert_eq!(
                err,
                DecodeError::Truncated {
                    needed,
                    available: n
                }
            );
        }
    }

    #[test]
    fn trailing_and_prefix() {
        let mut bytes = sample();
        bytes.extend_from_slice(&[0, 0, 0, 1, 2]);
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::TrailingBytes { extra: 5 })
        );
        let (hs, rest) = Handshake::decode_prefix(&bytes).unwrap();
        assert_eq!(rest, [0, 0, 0, 1, 2]);
        assert_eq!(hs.protocol.len(), 19);
    }

    #[test]
    fn custom_and_empty_protocol_round_trip() {
        for proto in [&b""[..], b"bip chat", &[0xffu8; 255][..]] {
            let hs = Handshake {
                protocol: proto,
                reserved: Extensions::from_u64(0x0123_4567_89ab_cdef),
                info_hash: InfoHash::new([1; 20]),
                peer_id: PeerId::new([2; 20]),
            };
            let mut out = Vec::new();
            hs.encode(&mut out);
            assert_eq!(out.len(), 49 + proto.len());
            assert_eq!(Handshake::decode(&out).unwrap(), hs);
        }
    }
}
