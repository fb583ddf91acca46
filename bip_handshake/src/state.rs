//! The sans-IO handshake state machine: bytes and `now` in, bytes to send, a deadline and a
//! result out. No socket, no clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_util::{InfoHash, PeerId};

use crate::error::{ConfigError, HandshakeError};
use crate::extensions::Extensions;
use crate::message::{Handshake, BITTORRENT_PROTOCOL, FIXED_LEN};

/// Default handshake timeout (10 s): the whole exchange must complete within it.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What both sides of every handshake share: protocol string, our reserved bits, our peer id
/// and the timeout. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    protocol: Arc<[u8]>,
    extensions: Extensions,
    peer_id: PeerId,
    timeout: Duration,
}

impl HandshakeConfig {
    /// `BitTorrent protocol`, no reserved bits, [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(peer_id: PeerId) -> Self {
        HandshakeConfig {
            protocol: Arc::from(BITTORRENT_PROTOCOL),
            extensions: Extensions::NONE,
            peer_id,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A custom protocol string (e.g. for an application's own swarm protocol).
    ///
    /// # Errors
    ///
    /// [`ConfigError::ProtocolLength`] unless it is 1 to 255 bytes.
    pub fn with_protocol(mut self, protocol: &[u8]) -> Result<Self, ConfigError> {
        if protocol.is_empty() || protocol.len() > 255 {
            return Err(ConfigError::ProtocolLength {
                len: protocol.len(),
            });
        }
        self.protocol = Arc::from(protocol);
        Ok(self)
    }

    /// The reserved bits we send.
    pub fn with_extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// The handshake timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The protocol string.
    pub fn protocol(&self) -> &[u8] {
        &self.protocol
    }

    /// The reserved bits we send.
    pub fn extensions(&self) -> Extensions {
        self.extensions
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The handshake timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Length of a whole handshake with this protocol string (68 for the standard one).
    pub fn handshake_len(&self) -> usize {
        Handshake::encoded_len_for(self.protocol.len())
    }
}

/// Which side of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We dialled.
    Outgoing,
    /// The peer dialled us.
    Incoming,
}

/// Where a handshake stands, after each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// More bytes are needed (at least `wanted` more).
    NeedBytes {
        /// How many more bytes complete the handshake at least.
        wanted: usize,
    },
    /// Responder only: the peer's info hash and reserved bits arrived. Call
    /// [`HandshakeState::accept`] to send our handshake, or [`HandshakeState::reject`] to close
    /// without answering.
    NeedDecision {
        /// The torrent the peer asks for.
        info_hash: InfoHash,
        /// The peer's reserved bits.
        extensions: Extensions,
    },
    /// The peer's info hash and reserved bits arrived (initiator, or responder after
    /// `accept`); its peer id has not.
    HeaderReceived {
        /// How many more bytes complete the handshake.
        wanted: usize,
    },
    /// Done: take the result with [`HandshakeState::take_outcome`]. Check
    /// [`poll_transmit`](HandshakeState::poll_transmit) first, as our own bytes may still be
    /// unsent.
    Complete,
    /// Failed earlier; the error was returned then.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Decision,
    PeerId,
    Complete,
    Failed,
}

/// A completed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Who dialled.
    pub direction: Direction,
    /// The torrent.
    pub info_hash: InfoHash,
    /// The remote's peer id.
    pub peer_id: PeerId,
    /// The remote's reserved bits as sent.
    pub remote_extensions: Extensions,
    /// Bits both sides set.
    pub extensions: Extensions,
    /// Bytes received after the handshake: the start of the peer wire stream.
    pub leftover: Vec<u8>,
}

/// One connection's handshake, either side, driven by bytes and time from outside.
///
/// Initiator: our handshake is queued at once; the peer's must name the same info hash (and
/// the expected peer id, if one was given). Responder: reads the peer's protocol string,
/// reserved bits and info hash, then stops with [`Status::NeedDecision`] so the caller can
/// consult its registry and filters before anything is sent: a refused hash gets the
/// connection closed without our handshake.
///
/// ```
/// use std::time::Instant;
/// use bip_handshake::{HandshakeConfig, HandshakeState, Status};
/// use bip_util::{InfoHash, PeerId};
///
/// let now = Instant::now();
/// let hash = InfoHash::new([7; 20]);
/// let mut a = HandshakeState::new_initiator(&HandshakeConfig::new(PeerId::new([1; 20])), now, hash, None);
/// let mut b = HandshakeState::new_responder(&HandshakeConfig::new(PeerId::new([2; 20])), now);
///
/// let hello = a.poll_transmit().unwrap().to_vec();
/// a.advance_transmit(hello.len());
/// assert!(matches!(b.handle_bytes(now, &hello)?, Status::NeedDecision { info_hash, .. } if info_hash == hash));
/// b.accept()?;
/// let reply = b.poll_transmit().unwrap().to_vec();
/// b.advance_transmit(reply.len());
/// assert_eq!(b.status(), Status::Complete);
/// assert_eq!(a.handle_bytes(now, &reply)?, Status::Complete);
/// assert_eq!(a.take_outcome().unwrap().peer_id, PeerId::new([2; 20]));
/// # Ok::<(), bip_handshake::HandshakeError>(())
/// ```
#[derive(Debug)]
pub struct HandshakeState {
    direction: Direction,
    protocol: Arc<[u8]>,
    ours: Extensions,
    our_id: PeerId,
    info_hash: Option<InfoHash>,
    expected_peer_id: Option<PeerId>,
    deadline: Instant,
    phase: Phase,
    /// Handshake bytes received so far (never more than one handshake).
    buf: Vec<u8>,
    /// Bytes to send, and how many of them went out.
    out: Vec<u8>,
    sent: usize,
    remote_ext: Extensions,
    remote_hash: Option<InfoHash>,
    remote_id: Option<PeerId>,
    /// Bytes past the handshake, or bytes held while waiting for a decision.
    leftover: Vec<u8>,
}

impl HandshakeState {
    fn new(config: &HandshakeConfig, now: Instant, direction: Direction) -> Self {
        HandshakeState {
            direction,
            protocol: config.protocol.clone(),
            ours: config.extensions,
            our_id: config.peer_id,
            info_hash: None,
            expected_peer_id: None,
            deadline: now + config.timeout,
            phase: Phase::Header,
            buf: Vec::new(),
            out: Vec::new(),
            sent: 0,
            remote_ext: Extensions::NONE,
            remote_hash: None,
            remote_id: None,
            leftover: Vec::new(),
        }
    }

    /// We dialled: our handshake for `info_hash` is queued at once. With `expected_peer_id`, a
    /// peer answering with another id fails the handshake.
    pub fn new_initiator(
        config: &HandshakeConfig,
        now: Instant,
        info_hash: InfoHash,
        expected_peer_id: Option<PeerId>,
    ) -> Self {
        let mut s = Self::new(config, now, Direction::Outgoing);
        s.info_hash = Some(info_hash);
        s.expected_peer_id = expected_peer_id;
        s.queue_ours(info_hash);
        s
    }

    /// The peer dialled: nothing is sent until [`accept`](Self::accept).
    pub fn new_responder(config: &HandshakeConfig, now: Instant) -> Self {
        Self::new(config, now, Direction::Incoming)
    }

    fn queue_ours(&mut self, info_hash: InfoHash) {
        Handshake {
            protocol: &self.protocol,
            reserved: self.ours,
            info_hash,
            peer_id: self.our_id,
        }
        .encode(&mut self.out);
    }

    fn header_len(&self) -> usize {
        1 + self.protocol.len() + 8 + 20
    }

    fn total_len(&self) -> usize {
        1 + self.protocol.len() + FIXED_LEN
    }

    /// Which side we are.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// How many handshake bytes have arrived.
    pub fn bytes_received(&self) -> usize {
        self.buf.len()
    }

    /// The peer's info hash, once received.
    pub fn remote_info_hash(&self) -> Option<InfoHash> {
        self.remote_hash
    }

    /// The peer's reserved bits, once received.
    pub fn remote_extensions(&self) -> Option<Extensions> {
        self.remote_hash.map(|_| self.remote_ext)
    }

    /// The peer's id, once received.
    pub fn remote_peer_id(&self) -> Option<PeerId> {
        self.remote_id
    }

    /// Where the handshake stands.
    pub fn status(&self) -> Status {
        match self.phase {
            Phase::Header => Status::NeedBytes {
                wanted: self.total_len() - self.buf.len(),
            },
            Phase::Decision => Status::NeedDecision {
                info_hash: self.remote_hash.unwrap_or_default(),
                extensions: self.remote_ext,
            },
            Phase::PeerId => Status::HeaderReceived {
                wanted: self.total_len() - self.buf.len(),
            },
            Phase::Complete => Status::Complete,
            Phase::Failed => Status::Failed,
        }
    }

    fn mark_failed(&mut self) {
        self.phase = Phase::Failed;
        self.out = Vec::new();
        self.sent = 0;
    }

    fn fail(&mut self, e: HandshakeError) -> Result<Status, HandshakeError> {
        self.mark_failed();
        Err(e)
    }

    /// Feed bytes read from the peer. Bytes past the handshake are kept as
    /// [`Outcome::leftover`]; bytes that arrive while a decision is pending are held.
    ///
    /// # Errors
    ///
    /// Any protocol violation, or [`HandshakeError::Timeout`] when `now` is past the deadline;
    /// the state is then [`Status::Failed`] and nothing more is sent.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<Status, HandshakeError> {
        match self.phase {
            Phase::Failed => return Err(HandshakeError::InvalidState("handshake failed")),
            Phase::Complete | Phase::Decision => {
                self.leftover.extend_from_slice(data);
                return Ok(self.status());
            }
            Phase::Header | Phase::PeerId => {}
        }
        if now >= self.deadline {
            return self.fail(HandshakeError::Timeout {
                received: self.buf.len(),
            });
        }
        self.consume(data)
    }

    fn consume(&mut self, mut data: &[u8]) -> Result<Status, HandshakeError> {
        let plen = self.protocol.len();
        while !data.is_empty() {
            let have = self.buf.len();
            let limit = match self.phase {
                Phase::Header => self.header_len(),
                Phase::PeerId => self.total_len(),
                Phase::Decision | Phase::Complete => {
                    self.leftover.extend_from_slice(data);
                    break;
                }
                Phase::Failed => return Err(HandshakeError::InvalidState("handshake failed")),
            };
            let take = (limit - have).min(data.len());
            let (now_bytes, rest) = data.split_at(take);
            self.buf.extend_from_slice(now_bytes);
            data = rest;
            // Check the protocol string as soon as each byte arrives.
            if have == 0 && self.buf[0] as usize != plen {
                let received = self.buf[0];
                return self.fail(HandshakeError::ProtocolLength {
                    expected: plen,
                    received,
                });
            }
            let p_have = self.buf.len().min(1 + plen);
            if p_have > 1 {
                let start = have.max(1);
                if let Some(i) = (start..p_have).find(|&i| self.buf[i] != self.protocol[i - 1]) {
                    return self.fail(HandshakeError::Protocol { offset: i - 1 });
                }
            }
            if self.buf.len() == limit {
                match self.phase {
                    Phase::Header => {
                        let mut r = [0u8; 8];
                        r.copy_from_slice(&self.buf[1 + plen..9 + plen]);
                        self.remote_ext = Extensions::from_bytes(r);
                        let mut h = [0u8; 20];
                        h.copy_from_slice(&self.buf[9 + plen..29 + plen]);
                        let received = InfoHash::new(h);
                        self.remote_hash = Some(received);
                        match self.info_hash {
                            Some(expected) if expected != received => {
                                return self
                                    .fail(HandshakeError::InfoHashMismatch { expected, received });
                            }
                            Some(_) => self.phase = Phase::PeerId,
                            None => {
                                self.phase = Phase::Decision;
                                self.leftover.extend_from_slice(data);
                                return Ok(self.status());
                            }
                        }
                    }
                    Phase::PeerId => {
                        let received = PeerId::new(
                            <[u8; 20]>::try_from(&self.buf[29 + plen..49 + plen])
                                .unwrap_or_default(),
                        );
                        self.remote_id = Some(received);
                        if let Some(expected) = self.expected_peer_id {
                            if expected != received {
                                return self
                                    .fail(HandshakeError::PeerIdMismatch { expected, received });
                            }
                        }
                        if received == self.our_id {
                            return self.fail(HandshakeError::OwnConnection);
                        }
                        self.phase = Phase::Complete;
                    }
                    _ => {}
                }
            }
        }
        Ok(self.status())
    }

    /// Responder: answer the pending handshake (queues ours for the peer's info hash) and go
    /// on with any bytes held meanwhile.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::InvalidState`] unless the status is [`Status::NeedDecision`]; protocol
    /// errors in the held bytes.
    pub fn accept(&mut self) -> Result<Status, HandshakeError> {
        if self.phase != Phase::Decision {
            return Err(HandshakeError::InvalidState(
                "accept without a pending decision",
            ));
        }
        let hash = self.remote_hash.unwrap_or_default();
        self.info_hash = Some(hash);
        self.queue_ours(hash);
        self.phase = Phase::PeerId;
        let held = std::mem::take(&mut self.leftover);
        self.consume(&held)
    }

    /// Responder: refuse the pending handshake. Nothing is sent; the caller closes the
    /// connection. Returns the error to report ([`HandshakeError::UnknownInfoHash`]).
    pub fn reject(&mut self) -> HandshakeError {
        let received = self.remote_hash.unwrap_or_default();
        self.mark_failed();
        HandshakeError::UnknownInfoHash { received }
    }

    /// Abort (e.g. a filter refused the peer id); nothing more is sent.
    pub fn abort(&mut self) {
        self.mark_failed();
    }

    /// The peer closed its side; fails the handshake unless it already completed.
    pub fn handle_eof(&mut self) -> HandshakeError {
        let received = self.buf.len();
        if self.phase != Phase::Complete {
            self.mark_failed();
        }
        HandshakeError::Closed { received }
    }

    /// Bytes to send now, if any. Call [`advance_transmit`](Self::advance_transmit) with how
    /// many went out.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        let rest = &self.out[self.sent..];
        (!rest.is_empty()).then_some(rest)
    }

    /// `n` bytes of [`poll_transmit`](Self::poll_transmit) were written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
        if self.sent == self.out.len() {
            self.out = Vec::new();
            self.sent = 0;
        }
    }

    /// The deadline: the handshake fails if it is not complete by then. `None` once it is
    /// complete or failed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Complete | Phase::Failed => None,
            _ => Some(self.deadline),
        }
    }

    /// Time passed. A call before the deadline is harmless.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::Timeout`] once `now` reaches the deadline of an unfinished handshake.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
        match self.phase {
            Phase::Complete | Phase::Failed => Ok(()),
            _ if now >= self.deadline => self
                .fail(HandshakeError::Timeout {
                    received: self.buf.len(),
                })
                .map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Takes the result, once [`Status::Complete`] and every byte of ours was sent; `None`
    /// (and the state unchanged) otherwise. The state is spent afterwards (status
    /// [`Status::Failed`]).
    pub fn take_outcome(&mut self) -> Option<Outcome> {
        if self.phase != Phase::Complete || self.poll_transmit().is_some() {
            return None;
        }
        let (info_hash, peer_id) = (self.info_hash?, self.remote_id?);
        let leftover = std::mem::take(&mut self.leftover);
        self.mark_failed();
        Some(Outcome {
            direction: self.direction,
            info_hash,
            peer_id,
            remote_extensions: self.remote_ext,
            extensions: self.ours.negotiate(self.remote_ext),
            leftover,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: PeerId = PeerId::new(*b"-BP0001-aaaaaaaaaaaa");
    const B: PeerId = PeerId::new(*b"-LT2080-bbbbbbbbbbbb");
    const H: InfoHash = InfoHash::new([0x11; 20]);

    fn cfg(id: PeerId) -> HandshakeConfig {
        HandshakeConfig::new(id).with_extensions(Extensions::DHT | Extensions::FAST)
    }

    fn wire(proto: &[u8], ext: Extensions, hash: InfoHash, id: PeerId) -> Vec<u8> {
        let mut v = Vec::new();
        Handshake {
            protocol: proto,
            reserved: ext,
            info_hash: hash,
            peer_id: id,
        }
        .encode(&mut v);
        v
    }

    fn drain(s: &mut HandshakeState) -> Vec<u8> {
        let mut v = Vec::new();
        while let Some(b) = s.poll_transmit() {
            // Send one byte at a time to exercise partial writes.
            v.push(b[0]);
            s.advance_transmit(1);
        }
        v
    }

    #[test]
    fn initiator_sends_at_once_and_completes_on_any_split() {
        let t = Instant::now();
        let theirs = wire(
            BITTORRENT_PROTOCOL,
            Extensions::EXTENSION_PROTOCOL | Extensions::DHT,
            H,
            B,
        );
        let mut with_extra = theirs.clone();
        with_extra.extend_from_slice(&[0, 0, 0, 1, 2, 0xff]);
        for split in 0..=with_extra.len() {
            let mut s = HandshakeState::new_initiator(&cfg(A), t, H, Some(B));
            assert_eq!(
                drain(&mut s),
                wire(
                    BITTORRENT_PROTOCOL,
                    Extensions::DHT | Extensions::FAST,
                    H,
                    A
                )
            );
            let (x, y) = with_extra.split_at(split);
            let st = s.handle_bytes(t, x).unwrap();
            if split < 48 {
                assert_eq!(st, Status::NeedBytes { wanted: 68 - split });
            } else if split < 68 {
                assert_eq!(st, Status::HeaderReceived { wanted: 68 - split });
            }
            assert_eq!(s.handle_bytes(t, y).unwrap(), Status::Complete);
            assert_eq!(s.poll_timeout(), None);
            let o = s.take_outcome().unwrap();
            assert_eq!(o.peer_id, B);
            assert_eq!(o.info_hash, H);
            assert_eq!(o.extensions, Extensions::DHT);
            assert_eq!(
                o.remote_extensions,
                Extensions::EXTENSION_PROTOCOL | Extensions::DHT
            );
            assert_eq!(o.leftover, [0, 0, 0, 1, 2, 0xff]);
            assert_eq!(o.direction, Direction::Outgoing);
        }
    }

    #[test]
    fn one_byte_drip_both_sides() {
        let t = Instant::now();
        let mut a = HandshakeState::new_initiator(&cfg(A), t, H, None);
        let mut b = HandshakeState::new_responder(&cfg(B), t);
        assert_eq!(b.poll_transmit(), None, "responder says nothing first");
        let hello = drain(&mut a);
        for (i, byte) in hello.iter().enumerate() {
            let st = b.handle_bytes(t, &[*byte]).unwrap();
            if i < 47 {
                assert_eq!(st, Status::NeedBytes { wanted: 67 - i });
                assert_eq!(b.poll_transmit(), None);
            } else if i == 47 {
                assert_eq!(
                    st,
                    Status::NeedDecision {
                        info_hash: H,
                        extensions: Extensions::DHT | Extensions::FAST
                    }
                );
            } else {
                // Held while the decision is pending.
                assert!(matches!(st, Status::NeedDecision { .. }));
            }
        }
        assert_eq!(b.accept().unwrap(), Status::Complete);
        let reply = drain(&mut b);
        assert_eq!(reply.len(), 68);
        for byte in &reply {
            a.handle_bytes(t, &[*byte]).unwrap();
        }
        assert_eq!(a.status(), Status::Complete);
        let (oa, ob) = (a.take_outcome().unwrap(), b.take_outcome().unwrap());
        assert_eq!((oa.peer_id, ob.peer_id), (B, A));
        assert_eq!(ob.direction, Direction::Incoming);
        assert!(oa.leftover.is_empty() && ob.leftover.is_empty());
        assert_eq!(oa.extensions, Extensions::DHT | Extensions::FAST);
    }

    #[test]
    fn responder_reject_sends_nothing() {
        let t = Instant::now();
        let mut b = HandshakeState::new_responder(&cfg(B), t);
        let st = b
            .handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A))
            .unwrap();
        assert!(matches!(st, Status::NeedDecision { info_hash, .. } if info_hash == H));
        let e = b.reject();
        assert!(matches!(e, HandshakeError::UnknownInfoHash { received } if received == H));
        assert_eq!(b.poll_transmit(), None);
        assert_eq!(b.status(), Status::Failed);
        assert!(b.accept().is_err());
        assert!(b.handle_bytes(t, b"x").is_err());
    }

    #[test]
    fn wrong_protocol_length_fails_on_first_byte() {
        let t = Instant::now();
        for first in [0u8, 18, 20, 255] {
            let mut s = HandshakeState::new_responder(&cfg(B), t);
            let e = s.handle_bytes(t, &[first]).unwrap_err();
            assert!(
                matches!(e, HandshakeError::ProtocolLength { expected: 19, received } if received == first)
            );
            assert!(e.is_protocol_violation());
            assert_eq!(s.status(), Status::Failed);
        }
    }

    #[test]
    fn wrong_protocol_detected_at_the_differing_byte() {
        let t = Instant::now();
        let mut bad = wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A);
        bad[6] = b'X'; // "BitTo" + X
        let mut s = HandshakeState::new_initiator(&cfg(B), t, H, None);
        for (i, byte) in bad.iter().enumerate() {
            match s.handle_bytes(t, &[*byte]) {
                Ok(_) => assert!(i < 6),
                Err(e) => {
                    assert_eq!(i, 6);
                    assert!(matches!(e, HandshakeError::Protocol { offset: 5 }));
                    break;
                }
            }
        }
        assert_eq!(s.poll_transmit(), None, "nothing more sent after failing");
    }

    #[test]
    fn wrong_hash_and_wrong_peer_id() {
        let t = Instant::now();
        let other = InfoHash::new([0x22; 20]);
        let mut s = HandshakeState::new_initiator(&cfg(A), t, H, None);
        let e = s
            .handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, other, B))
            .unwrap_err();
        assert!(
            matches!(e, HandshakeError::InfoHashMismatch { expected, received } if expected == H && received == other)
        );
        let mut s = HandshakeState::new_initiator(&cfg(A), t, H, Some(B));
        let e = s
            .handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A))
            .unwrap_err();
        assert!(
            matches!(e, HandshakeError::PeerIdMismatch { expected, received } if expected == B && received == A)
        );
        let mut s = HandshakeState::new_initiator(&cfg(A), t, H, None);
        let e = s
            .handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A))
            .unwrap_err();
        assert!(matches!(e, HandshakeError::OwnConnection));
    }

    #[test]
    fn custom_protocol_string() {
        let t = Instant::now();
        let c = |id| cfg(id).with_protocol(b"bip chat 1").unwrap();
        let mut a = HandshakeState::new_initiator(&c(A), t, H, None);
        let mut b = HandshakeState::new_responder(&c(B), t);
        let hello = drain(&mut a);
        assert_eq!(hello.len(), 1 + 10 + 48);
        assert!(matches!(
            b.handle_bytes(t, &hello).unwrap(),
            Status::NeedDecision { .. }
        ));
        b.accept().unwrap();
        assert_eq!(a.handle_bytes(t, &drain(&mut b)).unwrap(), Status::Complete);
        // A standard peer does not get in.
        let mut b = HandshakeState::new_responder(&c(B), t);
        assert!(matches!(
            b.handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A)),
            Err(HandshakeError::ProtocolLength {
                expected: 10,
                received: 19
            })
        ));
        assert!(HandshakeConfig::new(A).with_protocol(b"").is_err());
        assert!(HandshakeConfig::new(A).with_protocol(&[b'x'; 256]).is_err());
    }

    #[test]
    fn timeout_and_eof() {
        let t = Instant::now();
        let c = cfg(A).with_timeout(Duration::from_secs(10));
        let mut s = HandshakeState::new_responder(&c, t);
        assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(10)));
        // A byte a second does not extend the deadline.
        let hello = wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, B);
        for (i, byte) in hello.iter().take(10).enumerate() {
            s.handle_bytes(t + Duration::from_secs(i as u64), &[*byte])
                .unwrap();
        }
        assert!(matches!(
            s.handle_bytes(t + Duration::from_secs(10), &hello[10..11]),
            Err(HandshakeError::Timeout { received: 10 })
        ));
        let mut s = HandshakeState::new_responder(&c, t);
        s.handle_timeout(t + Duration::from_secs(9)).unwrap();
        assert!(matches!(
            s.handle_timeout(t + Duration::from_secs(10)),
            Err(HandshakeError::Timeout { received: 0 })
        ));
        assert_eq!(s.poll_timeout(), None);
        let mut s = HandshakeState::new_initiator(&c, t, H, None);
        s.handle_bytes(t, &hello[..30]).unwrap();
        assert!(matches!(
            s.handle_eof(),
            HandshakeError::Closed { received: 30 }
        ));
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(s.poll_transmit(), None);
    }

    #[test]
    fn outcome_waits_for_our_bytes() {
        let t = Instant::now();
        let mut b = HandshakeState::new_responder(&cfg(B), t);
        b.handle_bytes(t, &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A))
            .unwrap();
        assert_eq!(b.accept().unwrap(), Status::Complete);
        assert_eq!(b.take_outcome(), None);
        assert_eq!(b.poll_transmit().map(<[u8]>::len), Some(68));
        b.advance_transmit(68);
        assert_eq!(b.take_outcome().unwrap().peer_id, A);
        assert_eq!(b.status(), Status::Failed);
    }
}
