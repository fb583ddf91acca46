//! The sans-IO handshake state machine: bytes and `now` in, bytes to send, a deadline and a
//! result out. No socket, no clock.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_util::{InfoHash, PeerId, Transmit};

use crate::error::{ConfigError, HandshakeError};
use crate::extensions::Extensions;
use crate::message::{Handshake, PrefixError, BITTORRENT_PROTOCOL};

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
    /// Done: the result comes as [`Event::Complete`] once
    /// [`poll_transmit`](HandshakeState::poll_transmit) has handed out our own bytes.
    Complete,
    /// Failed earlier (reported as [`Event::Failed`]), or spent after [`Event::Complete`].
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
#[non_exhaustive]
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

/// What a [`HandshakeState`] reports, drained with [`HandshakeState::poll_event`] after every
/// input.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Responder only: the peer's info hash and reserved bits arrived. Call
    /// [`HandshakeState::accept`] to send our handshake, or [`HandshakeState::reject`] to close
    /// without answering.
    NeedDecision {
        /// The torrent the peer asks for.
        info_hash: InfoHash,
        /// The peer's reserved bits.
        extensions: Extensions,
    },
    /// Done, and every byte of ours was handed out by `poll_transmit`. The state is spent
    /// afterwards (status [`Status::Failed`]).
    Complete(Outcome),
    /// Failed; nothing more is sent and the caller closes the connection.
    Failed(HandshakeError),
}

/// Byte counts of one handshake, a plain snapshot ([`HandshakeState::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeStats {
    /// Handshake bytes received so far (never more than one handshake).
    pub bytes_received: usize,
    /// Bytes handed out by `poll_transmit`.
    pub bytes_sent: usize,
}

/// One connection's handshake, either side, driven by bytes and time from outside: the
/// workspace's core contract for a stream core (`handle_bytes`, `handle_timeout`,
/// `poll_transmit`, `poll_event`, `poll_timeout`, `stats`).
///
/// It draws no randomness, so it is built by [`new_initiator`](Self::new_initiator) or
/// [`new_responder`](Self::new_responder) without a seed. The `to` of each [`Transmit`] is the
/// peer's address given at construction; the driver writes all `len` bytes to the stream.
///
/// Initiator: our handshake is queued at once; the peer's must name the same info hash (and
/// the expected peer id, if one was given). Responder: reads the peer's protocol string,
/// reserved bits and info hash, then reports [`Event::NeedDecision`] so the caller can
/// consult its registry and filters before anything is sent: a refused hash gets the
/// connection closed without our handshake.
///
/// ```
/// use std::time::Instant;
/// use bip_handshake::{HandshakeConfig, HandshakeEvent, HandshakeState};
/// use bip_util::{InfoHash, PeerId};
///
/// let now = Instant::now();
/// let hash = InfoHash::new([7; 20]);
/// let (addr_a, addr_b) = ("10.0.0.1:6881".parse().unwrap(), "10.0.0.2:6881".parse().unwrap());
/// let mut a = HandshakeState::new_initiator(&HandshakeConfig::new(PeerId::new([1; 20])), now, addr_b, hash, None);
/// let mut b = HandshakeState::new_responder(&HandshakeConfig::new(PeerId::new([2; 20])), now, addr_a);
///
/// let mut buf = Vec::new();
/// let t = a.poll_transmit(&mut buf).unwrap();
/// b.handle_bytes(now, &buf[..t.len]);
/// assert!(matches!(b.poll_event(), Some(HandshakeEvent::NeedDecision { info_hash, .. }) if info_hash == hash));
/// b.accept()?;
/// let t = b.poll_transmit(&mut buf).unwrap();
/// assert_eq!(t.to, addr_a);
/// a.handle_bytes(now, &buf[..t.len]);
/// assert!(matches!(b.poll_event(), Some(HandshakeEvent::Complete(_))));
/// match a.poll_event() {
///     Some(HandshakeEvent::Complete(o)) => assert_eq!(o.peer_id, PeerId::new([2; 20])),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), bip_handshake::HandshakeError>(())
/// ```
#[derive(Debug)]
pub struct HandshakeState {
    direction: Direction,
    peer: SocketAddr,
    protocol: Arc<[u8]>,
    ours: Extensions,
    our_id: PeerId,
    info_hash: Option<InfoHash>,
    expected_peer_id: Option<PeerId>,
    deadline: Instant,
    phase: Phase,
    /// Handshake bytes received so far (never more than one handshake).
    buf: Vec<u8>,
    /// Bytes to send.
    out: Vec<u8>,
    sent: usize,
    remote_ext: Extensions,
    remote_hash: Option<InfoHash>,
    remote_id: Option<PeerId>,
    /// Bytes past the handshake, or bytes held while waiting for a decision.
    leftover: Vec<u8>,
    events: VecDeque<Event>,
}

impl HandshakeState {
    fn new(config: &HandshakeConfig, now: Instant, peer: SocketAddr, direction: Direction) -> Self {
        HandshakeState {
            direction,
            peer,
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
            events: VecDeque::new(),
        }
    }

    /// We dialled `peer`: our handshake for `info_hash` is queued at once. With
    /// `expected_peer_id`, a peer answering with another id fails the handshake.
    pub fn new_initiator(
        config: &HandshakeConfig,
        now: Instant,
        peer: SocketAddr,
        info_hash: InfoHash,
        expected_peer_id: Option<PeerId>,
    ) -> Self {
        let mut s = Self::new(config, now, peer, Direction::Outgoing);
        s.info_hash = Some(info_hash);
        s.expected_peer_id = expected_peer_id;
        s.queue_ours(info_hash);
        s
    }

    /// `peer` dialled us: nothing is sent until [`accept`](Self::accept).
    pub fn new_responder(config: &HandshakeConfig, now: Instant, peer: SocketAddr) -> Self {
        Self::new(config, now, peer, Direction::Incoming)
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
        Handshake::header_len_for(self.protocol.len())
    }

    fn total_len(&self) -> usize {
        Handshake::encoded_len_for(self.protocol.len())
    }

    /// Which side we are.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Byte counts so far.
    pub fn stats(&self) -> HandshakeStats {
        HandshakeStats {
            bytes_received: self.buf.len(),
            bytes_sent: self.sent,
        }
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
    }

    fn fail(&mut self, e: HandshakeError) {
        self.mark_failed();
        self.events.push_back(Event::Failed(e));
    }

    /// Feed bytes read from the peer. Bytes past the handshake are kept as
    /// [`Outcome::leftover`]; bytes that arrive while a decision is pending are held. A
    /// protocol violation, or `now` past the deadline, is reported as [`Event::Failed`];
    /// bytes after a failure are ignored.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        match self.phase {
            Phase::Failed => return,
            Phase::Complete | Phase::Decision => {
                self.leftover.extend_from_slice(data);
                return;
            }
            Phase::Header | Phase::PeerId => {}
        }
        if now >= self.deadline {
            return self.fail(HandshakeError::Timeout {
                received: self.buf.len(),
            });
        }
        self.consume(data);
    }

    fn consume(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let have = self.buf.len();
            let limit = match self.phase {
                Phase::Header => self.header_len(),
                Phase::PeerId => self.total_len(),
                Phase::Decision | Phase::Complete => {
                    self.leftover.extend_from_slice(data);
                    break;
                }
                Phase::Failed => return,
            };
            let take = (limit - have).min(data.len());
            let (now_bytes, rest) = data.split_at(take);
            self.buf.extend_from_slice(now_bytes);
            data = rest;
            // Check the protocol string as soon as each byte arrives.
            match Handshake::check_prefix(&self.protocol, &self.buf) {
                Ok(()) => {}
                Err(PrefixError::Length { received }) => {
                    let expected = self.protocol.len();
                    return self.fail(HandshakeError::ProtocolLength { expected, received });
                }
                Err(PrefixError::Protocol { offset }) => {
                    return self.fail(HandshakeError::Protocol { offset })
                }
            }
            if self.buf.len() < limit {
                continue;
            }
            match self.phase {
                Phase::Header => {
                    let Ok((_, ext, received)) = Handshake::decode_header(&self.buf) else {
                        return self.fail(HandshakeError::InvalidState("short header"));
                    };
                    self.remote_ext = ext;
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
                            self.events.push_back(Event::NeedDecision {
                                info_hash: received,
                                extensions: ext,
                            });
                            return;
                        }
                    }
                }
                Phase::PeerId => {
                    let Ok(hs) = Handshake::decode(&self.buf) else {
                        return self.fail(HandshakeError::InvalidState("short handshake"));
                    };
                    let received = hs.peer_id;
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

    /// Responder: answer the pending handshake (queues ours for the peer's info hash) and go
    /// on with any bytes held meanwhile.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::InvalidState`] (a misuse) unless the status is
    /// [`Status::NeedDecision`]. Protocol errors in the held bytes come as [`Event::Failed`].
    pub fn accept(&mut self) -> Result<(), HandshakeError> {
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
        self.consume(&held);
        Ok(())
    }

    /// Responder: refuse the pending handshake. Nothing is sent; the caller closes the
    /// connection. Reports [`Event::Failed`] with [`HandshakeError::UnknownInfoHash`].
    pub fn reject(&mut self) {
        let received = self.remote_hash.unwrap_or_default();
        self.fail(HandshakeError::UnknownInfoHash { received });
    }

    /// Abort (e.g. a filter refused the peer id); nothing more is sent, nothing is reported.
    pub fn abort(&mut self) {
        self.mark_failed();
    }

    /// The peer closed its side; fails the handshake ([`HandshakeError::Closed`]) unless it
    /// already completed.
    pub fn handle_eof(&mut self) {
        if !matches!(self.phase, Phase::Complete | Phase::Failed) {
            let received = self.buf.len();
            self.fail(HandshakeError::Closed { received });
        }
    }

    /// Our bytes to send now, if any: all of them are written into `buf` (cleared first) and
    /// count as sent; the driver writes `len` bytes to the stream.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        if self.out.is_empty() {
            return None;
        }
        buf.clear();
        buf.extend_from_slice(&self.out);
        self.sent += self.out.len();
        self.out.clear();
        Some(Transmit {
            to: self.peer,
            len: buf.len(),
        })
    }

    /// The next event: failures and decisions in order, then [`Event::Complete`] once the
    /// handshake is done and our bytes were all polled.
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        if self.phase != Phase::Complete || !self.out.is_empty() {
            return None;
        }
        let (info_hash, peer_id) = (self.info_hash?, self.remote_id?);
        let leftover = std::mem::take(&mut self.leftover);
        self.mark_failed();
        Some(Event::Complete(Outcome {
            direction: self.direction,
            info_hash,
            peer_id,
            remote_extensions: self.remote_ext,
            extensions: self.ours.negotiate(self.remote_ext),
            leftover,
        }))
    }

    /// The deadline: the handshake fails if it is not complete by then. `None` once it is
    /// complete or failed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Complete | Phase::Failed => None,
            _ => Some(self.deadline),
        }
    }

    /// Time passed. A call before the deadline is harmless; at or past it an unfinished
    /// handshake fails with [`HandshakeError::Timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Complete | Phase::Failed => {}
            _ if now >= self.deadline => self.fail(HandshakeError::Timeout {
                received: self.buf.len(),
            }),
            _ => {}
        }
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
        let mut buf = Vec::new();
        while let Some(t) = s.poll_transmit(&mut buf) {
            assert_eq!(t.to, s.peer());
            v.extend_from_slice(&buf[..t.len]);
        }
        v
    }

    const PA: &str = "10.0.0.1:6881";
    const PB: &str = "10.0.0.2:6881";

    fn initiator(
        c: &HandshakeConfig,
        t: Instant,
        h: InfoHash,
        id: Option<PeerId>,
    ) -> HandshakeState {
        HandshakeState::new_initiator(c, t, PB.parse().unwrap(), h, id)
    }

    fn responder(c: &HandshakeConfig, t: Instant) -> HandshakeState {
        HandshakeState::new_responder(c, t, PA.parse().unwrap())
    }

    /// The first failure queued by the last input, if any (decisions are read from `status`).
    fn failure(s: &mut HandshakeState) -> Option<HandshakeError> {
        while let Some(e) = s.events.pop_front() {
            if let Event::Failed(e) = e {
                return Some(e);
            }
        }
        None
    }

    fn feed(s: &mut HandshakeState, t: Instant, b: &[u8]) -> Result<Status, HandshakeError> {
        if s.status() == Status::Failed {
            return Err(HandshakeError::InvalidState("handshake failed"));
        }
        s.handle_bytes(t, b);
        failure(s).map_or(Ok(s.status()), Err)
    }

    fn timeout(s: &mut HandshakeState, t: Instant) -> Result<(), HandshakeError> {
        s.handle_timeout(t);
        failure(s).map_or(Ok(()), Err)
    }

    fn accept(s: &mut HandshakeState) -> Result<Status, HandshakeError> {
        s.accept()?;
        failure(s).map_or(Ok(s.status()), Err)
    }

    fn outcome(s: &mut HandshakeState) -> Option<Outcome> {
        loop {
            match s.poll_event()? {
                Event::Complete(o) => return Some(o),
                Event::Failed(_) => return None,
                Event::NeedDecision { .. } => {}
            }
        }
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
            let mut s = initiator(&cfg(A), t, H, Some(B));
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
            let st = feed(&mut s, t, x).unwrap();
            if split < 48 {
                assert_eq!(st, Status::NeedBytes { wanted: 68 - split });
            } else if split < 68 {
                assert_eq!(st, Status::HeaderReceived { wanted: 68 - split });
            }
            assert_eq!(feed(&mut s, t, y).unwrap(), Status::Complete);
            assert_eq!(s.poll_timeout(), None);
            let o = outcome(&mut s).unwrap();
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
        let mut a = initiator(&cfg(A), t, H, None);
        let mut b = responder(&cfg(B), t);
        assert_eq!(
            b.poll_transmit(&mut Vec::new()),
            None,
            "responder says nothing first"
        );
        let hello = drain(&mut a);
        for (i, byte) in hello.iter().enumerate() {
            let st = feed(&mut b, t, &[*byte]).unwrap();
            if i < 47 {
                assert_eq!(st, Status::NeedBytes { wanted: 67 - i });
                assert_eq!(b.poll_transmit(&mut Vec::new()), None);
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
        assert_eq!(accept(&mut b).unwrap(), Status::Complete);
        let reply = drain(&mut b);
        assert_eq!(reply.len(), 68);
        for byte in &reply {
            feed(&mut a, t, &[*byte]).unwrap();
        }
        assert_eq!(a.status(), Status::Complete);
        let (oa, ob) = (outcome(&mut a).unwrap(), outcome(&mut b).unwrap());
        assert_eq!((oa.peer_id, ob.peer_id), (B, A));
        assert_eq!(ob.direction, Direction::Incoming);
        assert!(oa.leftover.is_empty() && ob.leftover.is_empty());
        assert_eq!(oa.extensions, Extensions::DHT | Extensions::FAST);
    }

    #[test]
    fn responder_reject_sends_nothing() {
        let t = Instant::now();
        let mut b = responder(&cfg(B), t);
        let st = feed(
            &mut b,
            t,
            &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A),
        )
        .unwrap();
        assert!(matches!(st, Status::NeedDecision { info_hash, .. } if info_hash == H));
        b.reject();
        let e = failure(&mut b).unwrap();
        assert!(matches!(e, HandshakeError::UnknownInfoHash { received } if received == H));
        assert_eq!(b.poll_transmit(&mut Vec::new()), None);
        assert_eq!(b.status(), Status::Failed);
        assert!(b.accept().is_err());
        assert!(feed(&mut b, t, b"x").is_err());
    }

    #[test]
    fn wrong_protocol_length_fails_on_first_byte() {
        let t = Instant::now();
        for first in [0u8, 18, 20, 255] {
            let mut s = responder(&cfg(B), t);
            let e = feed(&mut s, t, &[first]).unwrap_err();
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
        let mut s = initiator(&cfg(B), t, H, None);
        for (i, byte) in bad.iter().enumerate() {
            match feed(&mut s, t, &[*byte]) {
                Ok(_) => assert!(i < 6),
                Err(e) => {
                    assert_eq!(i, 6);
                    assert!(matches!(e, HandshakeError::Protocol { offset: 5 }));
                    break;
                }
            }
        }
        assert_eq!(
            s.poll_transmit(&mut Vec::new()),
            None,
            "nothing more sent after failing"
        );
    }

    #[test]
    fn wrong_hash_and_wrong_peer_id() {
        let t = Instant::now();
        let other = InfoHash::new([0x22; 20]);
        let mut s = initiator(&cfg(A), t, H, None);
        let e = feed(
            &mut s,
            t,
            &wire(BITTORRENT_PROTOCOL, Extensions::NONE, other, B),
        )
        .unwrap_err();
        assert!(
            matches!(e, HandshakeError::InfoHashMismatch { expected, received } if expected == H && received == other)
        );
        let mut s = initiator(&cfg(A), t, H, Some(B));
        let e = feed(
            &mut s,
            t,
            &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A),
        )
        .unwrap_err();
        assert!(
            matches!(e, HandshakeError::PeerIdMismatch { expected, received } if expected == B && received == A)
        );
        let mut s = initiator(&cfg(A), t, H, None);
        let e = feed(
            &mut s,
            t,
            &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A),
        )
        .unwrap_err();
        assert!(matches!(e, HandshakeError::OwnConnection));
    }

    #[test]
    fn custom_protocol_string() {
        let t = Instant::now();
        let c = |id| cfg(id).with_protocol(b"bip chat 1").unwrap();
        let mut a = initiator(&c(A), t, H, None);
        let mut b = responder(&c(B), t);
        let hello = drain(&mut a);
        assert_eq!(hello.len(), 1 + 10 + 48);
        assert!(matches!(
            feed(&mut b, t, &hello).unwrap(),
            Status::NeedDecision { .. }
        ));
        accept(&mut b).unwrap();
        assert_eq!(feed(&mut a, t, &drain(&mut b)).unwrap(), Status::Complete);
        // A standard peer does not get in.
        let mut b = responder(&c(B), t);
        assert!(matches!(
            feed(
                &mut b,
                t,
                &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A)
            ),
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
        let mut s = responder(&c, t);
        assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(10)));
        // A byte a second does not extend the deadline.
        let hello = wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, B);
        for (i, byte) in hello.iter().take(10).enumerate() {
            feed(&mut s, t + Duration::from_secs(i as u64), &[*byte]).unwrap();
        }
        assert!(matches!(
            feed(&mut s, t + Duration::from_secs(10), &hello[10..11]),
            Err(HandshakeError::Timeout { received: 10 })
        ));
        let mut s = responder(&c, t);
        timeout(&mut s, t + Duration::from_secs(9)).unwrap();
        assert!(matches!(
            timeout(&mut s, t + Duration::from_secs(10)),
            Err(HandshakeError::Timeout { received: 0 })
        ));
        assert_eq!(s.poll_timeout(), None);
        let mut s = initiator(&c, t, H, None);
        feed(&mut s, t, &hello[..30]).unwrap();
        assert!(matches!(
            {
                s.handle_eof();
                failure(&mut s).unwrap()
            },
            HandshakeError::Closed { received: 30 }
        ));
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(s.poll_transmit(&mut Vec::new()), None);
    }

    #[test]
    fn outcome_waits_for_our_bytes() {
        let t = Instant::now();
        let mut b = responder(&cfg(B), t);
        feed(
            &mut b,
            t,
            &wire(BITTORRENT_PROTOCOL, Extensions::NONE, H, A),
        )
        .unwrap();
        assert_eq!(accept(&mut b).unwrap(), Status::Complete);
        assert_eq!(outcome(&mut b), None);
        assert_eq!(b.poll_transmit(&mut Vec::new()).map(|t| t.len), Some(68));
        assert_eq!(outcome(&mut b).unwrap().peer_id, A);
        assert_eq!(b.status(), Status::Failed);
    }
}
