//! BEP 15 wire messages (sans-IO): one type per message with `decode`/`encode`.
//!
//! All integers are big-endian. Decoding borrows from the input and checks every length;
//! extra trailing bytes are ignored where BEP 15 says packets may grow. Announce
//! responses carry 6-byte (IPv4) or 18-byte (IPv6) peers, chosen by the address family
//! of the UDP packet ([`AddressFamily`]), as published BEP 15 specifies.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bip_util::{CompactPeersV4, CompactPeersV6, InfoHash, PeerId};
use thiserror::Error;

/// The magic constant a connect request starts with.
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;
/// Size of a connect request / response.
pub const CONNECT_LEN: usize = 16;
/// Size of an announce request without BEP 41 options.
pub const ANNOUNCE_REQUEST_LEN: usize = 98;
/// Minimum size of an announce response (no peers).
pub const ANNOUNCE_RESPONSE_MIN_LEN: usize = 20;
/// Size of a scrape request header (before the info hashes).
pub const SCRAPE_REQUEST_HEADER_LEN: usize = 16;
/// Minimum size of a scrape or error response (action and transaction id).
pub const RESPONSE_HEADER_LEN: usize = 8;
/// Most info hashes BEP 15 fits into one scrape request.
pub const MAX_SCRAPE_HASHES: usize = 74;
/// BEP 41 option type: end of options.
pub const OPTION_END: u8 = 0;
/// BEP 41 option type: no operation (no length byte).
pub const OPTION_NOP: u8 = 1;
/// BEP 41 option type: URL data (path and query of the tracker URL).
pub const OPTION_URL_DATA: u8 = 2;

/// A message type. A newtype so unknown values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action(pub u32);

impl Action {
    /// Connect (0).
    pub const CONNECT: Action = Action(0);
    /// Announce (1).
    pub const ANNOUNCE: Action = Action(1);
    /// Scrape (2).
    pub const SCRAPE: Action = Action(2);
    /// Error (3), responses only.
    pub const ERROR: Action = Action(3);
}

/// An announce event. A newtype so unknown values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Event(pub u32);

impl Event {
    /// A regular announce (0).
    pub const NONE: Event = Event(0);
    /// The download completed (1).
    pub const COMPLETED: Event = Event(1);
    /// The download started (2).
    pub const STARTED: Event = Event(2);
    /// The download stopped (3).
    pub const STOPPED: Event = Event(3);
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Event::NONE => f.write_str("none"),
            Event::COMPLETED => f.write_str("completed"),
            Event::STARTED => f.write_str("started"),
            Event::STOPPED => f.write_str("stopped"),
            Event(n) => write!(f, "event({n})"),
        }
    }
}

impl std::str::FromStr for Event {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" | "" => Ok(Event::NONE),
            "completed" => Ok(Event::COMPLETED),
            "started" => Ok(Event::STARTED),
            "stopped" => Ok(Event::STOPPED),
            other => Err(format!("unknown event {other:?}")),
        }
    }
}

/// Which compact peer form an announce response carries: the address family of the
/// UDP packet it travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// 6-byte peers.
    V4,
    /// 18-byte peers.
    V6,
}

impl AddressFamily {
    /// The family of a packet's address (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn of(addr: &SocketAddr) -> Self {
        match addr.ip().to_canonical() {
            std::net::IpAddr::V4(_) => AddressFamily::V4,
            std::net::IpAddr::V6(_) => AddressFamily::V6,
        }
    }
}

/// A packet that is not the message it was decoded as.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the message needs.
    #[error("{message}: {got} bytes, at least {needed} needed")]
    TooShort {
        /// The message being decoded.
        message: &'static str,
        /// Minimum length.
        needed: usize,
        /// Actual length.
        got: usize,
    },
    /// The action field names another message.
    #[error("{message}: unexpected action {}", action.0)]
    WrongAction {
        /// The message being decoded.
        message: &'static str,
        /// The action found.
        action: Action,
    },
    /// A connect request without the protocol id.
    #[error("connect request: protocol id {0:#x} is not 0x41727101980")]
    BadProtocolId(u64),
    /// BEP 41 options that run past the end of the packet.
    #[error("announce options: malformed option at byte {offset}")]
    MalformedOption {
        /// Offset of the bad option from the start of the options.
        offset: usize,
    },
}

fn need(message: &'static str, b: &[u8], needed: usize) -> Result<(), DecodeError> {
    if b.len() < needed {
        Err(DecodeError::TooShort {
            message,
            needed,
            got: b.len(),
        })
    } else {
        Ok(())
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_be_bytes(a)
}

fn check_action(
    message: &'static str,
    b: &[u8],
    at: usize,
    want: Action,
) -> Result<(), DecodeError> {
    let action = Action(u32_at(b, at));
    if action != want {
        return Err(DecodeError::WrongAction { message, action });
    }
    Ok(())
}

/// The fixed start of every request: connection id (the protocol id for a connect), action
/// and transaction id. A server reads it first to route the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader {
    /// The connection id, or [`PROTOCOL_ID`] in a connect request.
    pub connection_id: u64,
    /// The action.
    pub action: Action,
    /// Chosen by the client, echoed by the tracker.
    pub transaction_id: u32,
}

impl RequestHeader {
    /// Decodes the first 16 bytes of a request (the rest is ignored).
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        need("request", b, CONNECT_LEN)?;
        Ok(RequestHeader {
            connection_id: u64_at(b, 0),
            action: Action(u32_at(b, 8)),
            transaction_id: u32_at(b, 12),
        })
    }
}

/// Reads the action and transaction id of a tracker response (first 8 bytes), if present.
pub fn response_header(b: &[u8]) -> Option<(Action, u32)> {
    (b.len() >= RESPONSE_HEADER_LEN).then(|| (Action(u32_at(b, 0)), u32_at(b, 4)))
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// Connect request: protocol id, action 0, transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Chosen by the client, echoed by the tracker.
    pub transaction_id: u32,
}

impl ConnectRequest {
    /// Decodes a connect request (extra bytes ignored).
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        need("connect request", b, CONNECT_LEN)?;
        let pid = u64_at(b, 0);
        if pid != PROTOCOL_ID {
            return Err(DecodeError::BadProtocolId(pid));
        }
        check_action("connect request", b, 8, Action::CONNECT)?;
        Ok(ConnectRequest {
            transaction_id: u32_at(b, 12),
        })
    }

    /// Appends the 16-byte encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
        out.extend_from_slice(&Action::CONNECT.0.to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
    }
}

/// Announce request (98 bytes plus BEP 41 options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest<'a> {
    /// From the connect response.
    pub connection_id: u64,
    /// Chosen by the client, echoed by the tracker.
    pub transaction_id: u32,
    /// The torrent.
    pub info_hash: InfoHash,
    /// The announcing peer.
    pub peer_id: PeerId,
    /// Bytes downloaded this session.
    pub downloaded: u64,
    /// Bytes left to download.
    pub left: u64,
    /// Bytes uploaded this session.
    pub uploaded: u64,
    /// What happened.
    pub event: Event,
    /// The IP field (0 = use the packet's source).
    pub ip: Ipv4Addr,
    /// A random key so the tracker can recognise the client across address changes.
    pub key: u32,
    /// Peers wanted; -1 = tracker default.
    pub num_want: i32,
    /// The peer's TCP port.
    pub port: u16,
    /// BEP 41 URL data (path and query of the tracker URL), concatenated over options;
    /// `None` when absent or when the options are malformed.
    pub url_data: Option<Cow<'a, [u8]>>,
}

impl<'a> AnnounceRequest<'a> {
    /// Decodes an announce request and its BEP 41 options.
    pub fn decode(b: &'a [u8]) -> Result<Self, DecodeError> {
        need("announce request", b, ANNOUNCE_REQUEST_LEN)?;
        check_action("announce request", b, 8, Action::ANNOUNCE)?;
        let mut ih = [0u8; 20];
        ih.copy_from_slice(&b[16..36]);
        let mut pid = [0u8; 20];
        pid.copy_from_slice(&b[36..56]);
        Ok(AnnounceRequest {
            connection_id: u64_at(b, 0),
            transaction_id: u32_at(b, 12),
            info_hash: InfoHash::new(ih),
            peer_id: PeerId::new(pid),
            downloaded: u64_at(b, 56),
            left: u64_at(b, 64),
            uploaded: u64_at(b, 72),
            event: Event(u32_at(b, 80)),
            ip: Ipv4Addr::from(u32_at(b, 84)),
            key: u32_at(b, 88),
            num_want: u32_at(b, 92) as i32,
            port: u16_at(b, 96),
            url_data: parse_options(&b[ANNOUNCE_REQUEST_LEN..]).unwrap_or(None),
        })
    }

    /// Appends the encoding; URL data is split into 255-byte URLData options.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.connection_id.to_be_bytes());
        out.extend_from_slice(&Action::ANNOUNCE.0.to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(self.info_hash.as_bytes());
        out.extend_from_slice(self.peer_id.as_bytes());
        out.extend_from_slice(&self.downloaded.to_be_bytes());
        out.extend_from_slice(&self.left.to_be_bytes());
        out.extend_from_slice(&self.uploaded.to_be_bytes());
        out.extend_from_slice(&self.event.0.to_be_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.key.to_be_bytes());
        out.extend_from_slice(&self.num_want.to_be_bytes());
        out.extend_from_slice(&self.port.to_be_bytes());
        if let Some(url) = &self.url_data {
            encode_url_data(url, out);
        }
    }
}

/// Appends BEP 41 URLData options carrying `url` (255 bytes per option; an empty `url`
/// gives one empty option, which signals support).
pub fn encode_url_data(url: &[u8], out: &mut Vec<u8>) {
    if url.is_empty() {
        out.extend_from_slice(&[OPTION_URL_DATA, 0]);
        return;
    }
    for chunk in url.chunks(255) {
        out.push(OPTION_URL_DATA);
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// Parses BEP 41 options (the bytes after offset 98 of an announce request) and returns the
/// concatenated URL data, or `None` when no URLData option is present. Unknown option
/// types (>= 2) are skipped by their length byte; parsing stops at EndOfOptions.
pub fn parse_options(opts: &[u8]) -> Result<Option<Cow<'_, [u8]>>, DecodeError> {
    let mut url: Option<Cow<'_, [u8]>> = None;
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            OPTION_END => break,
            OPTION_NOP => i += 1,
            ty => {
                let Some(&len) = opts.get(i + 1) else {
                    return Err(DecodeError::MalformedOption { offset: i });
                };
                let start = i + 2;
                let end = start + len as usize;
                if end > opts.len() {
                    return Err(DecodeError::MalformedOption { offset: i });
                }
                if ty == OPTION_URL_DATA {
                    let piece = &opts[start..end];
                    url = Some(match url {
                        None => Cow::Borrowed(piece),
                        Some(prev) => {
                            let mut v = prev.into_owned();
                            v.extend_from_slice(piece);
                            Cow::Owned(v)
                        }
                    });
                }
                i = end;
            }
        }
    }
    Ok(url)
}

/// Scrape request: up to [`MAX_SCRAPE_HASHES`] info hashes (borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeRequest<'a> {
    /// From the connect response.
    pub connection_id: u64,
    /// Chosen by the client, echoed by the tracker.
    pub transaction_id: u32,
    /// 20 bytes per info hash (a trailing partial hash is ignored).
    pub info_hashes: &'a [u8],
}

impl<'a> ScrapeRequest<'a> {
    /// Decodes a scrape request (at least one info hash).
    pub fn decode(b: &'a [u8]) -> Result<Self, DecodeError> {
        need("scrape request", b, SCRAPE_REQUEST_HEADER_LEN + 20)?;
        check_action("scrape request", b, 8, Action::SCRAPE)?;
        let hashes = &b[SCRAPE_REQUEST_HEADER_LEN..];
        let n = hashes.len() / 20;
        Ok(ScrapeRequest {
            connection_id: u64_at(b, 0),
            transaction_id: u32_at(b, 12),
            info_hashes: &hashes[..n * 20],
        })
    }

    /// The info hashes in request order.
    pub fn hashes(&self) -> impl ExactSizeIterator<Item = InfoHash> + 'a {
        self.info_hashes.chunks_exact(20).map(|c| {
            let mut a = [0u8; 20];
            a.copy_from_slice(c);
            InfoHash::new(a)
        })
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_scrape_request(
            self.connection_id,
            self.transaction_id,
            self.info_hashes,
            out,
        );
    }
}

fn encode_scrape_request(cid: u64, tid: u32, hashes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&cid.to_be_bytes());
    out.extend_from_slice(&Action::SCRAPE.0.to_be_bytes());
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(hashes);
}

/// Any request a tracker receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// Connect.
    Connect(ConnectRequest),
    /// Announce.
    Announce(AnnounceRequest<'a>),
    /// Scrape.
    Scrape(ScrapeRequest<'a>),
}

impl<'a> Request<'a> {
    /// Decodes a request by its action field.
    pub fn decode(b: &'a [u8]) -> Result<Self, DecodeError> {
        need("request", b, CONNECT_LEN)?;
        match Action(u32_at(b, 8)) {
            Action::CONNECT => ConnectRequest::decode(b).map(Request::Connect),
            Action::ANNOUNCE => AnnounceRequest::decode(b).map(Request::Announce),
            Action::SCRAPE => ScrapeRequest::decode(b).map(Request::Scrape),
            action => Err(DecodeError::WrongAction {
                message: "request",
                action,
            }),
        }
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Request::Connect(r) => r.encode(out),
            Request::Announce(r) => r.encode(out),
            Request::Scrape(r) => r.encode(out),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

/// Connect response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// To put in following requests.
    pub connection_id: u64,
}

impl ConnectResponse {
    /// Decodes a connect response (extra bytes ignored).
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        need("connect response", b, CONNECT_LEN)?;
        check_action("connect response", b, 0, Action::CONNECT)?;
        Ok(ConnectResponse {
            transaction_id: u32_at(b, 4),
            connection_id: u64_at(b, 8),
        })
    }

    /// Appends the 16-byte encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::CONNECT.0.to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(&self.connection_id.to_be_bytes());
    }
}

/// Compact peers of an announce response, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peers<'a> {
    /// 6 bytes per peer.
    V4(&'a [u8]),
    /// 18 bytes per peer.
    V6(&'a [u8]),
}

impl<'a> Peers<'a> {
    /// Wraps compact bytes of `family`, dropping a trailing partial entry.
    pub fn new(family: AddressFamily, bytes: &'a [u8]) -> Self {
        match family {
            AddressFamily::V4 => Peers::V4(&bytes[..bytes.len() / 6 * 6]),
            AddressFamily::V6 => Peers::V6(&bytes[..bytes.len() / 18 * 18]),
        }
    }

    /// The raw compact bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Peers::V4(b) | Peers::V6(b) => b,
        }
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        match *self {
            Peers::V4(b) => b.len() / 6,
            Peers::V6(b) => b.len() / 18,
        }
    }

    /// No peers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The peers as socket addresses.
    pub fn iter(&self) -> PeersIter<'a> {
        match *self {
            // A caller-built `Peers` may end in a partial entry: it is ignored, as when decoding.
            Peers::V4(b) => {
                PeersIter::V4(CompactPeersV4::new(&b[..b.len() / 6 * 6]).expect("whole entries"))
            }
            Peers::V6(b) => {
                PeersIter::V6(CompactPeersV6::new(&b[..b.len() / 18 * 18]).expect("whole entries"))
            }
        }
    }
}

/// Iterator over [`Peers`].
#[derive(Debug, Clone)]
pub enum PeersIter<'a> {
    /// IPv4 peers.
    V4(CompactPeersV4<'a>),
    /// IPv6 peers.
    V6(CompactPeersV6<'a>),
}

impl Iterator for PeersIter<'_> {
    type Item = SocketAddr;
    fn next(&mut self) -> Option<SocketAddr> {
        match self {
            PeersIter::V4(i) => i.next().map(|a: SocketAddrV4| a.into()),
            PeersIter::V6(i) => i.next().map(|a: SocketAddrV6| a.into()),
        }
    }
}

/// Announce response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceResponse<'a> {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// Seconds to wait before re-announcing.
    pub interval: u32,
    /// Peers still downloading.
    pub leechers: u32,
    /// Peers with the whole torrent.
    pub seeders: u32,
    /// Peers for the requester.
    pub peers: Peers<'a>,
}

impl<'a> AnnounceResponse<'a> {
    /// Decodes an announce response; `family` is the packet's address family. A trailing
    /// partial peer entry is ignored (BEP 15 leaves this open).
    pub fn decode(b: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        need("announce response", b, ANNOUNCE_RESPONSE_MIN_LEN)?;
        check_action("announce response", b, 0, Action::ANNOUNCE)?;
        Ok(AnnounceResponse {
            transaction_id: u32_at(b, 4),
            interval: u32_at(b, 8),
            leechers: u32_at(b, 12),
            seeders: u32_at(b, 16),
            peers: Peers::new(family, &b[20..]),
        })
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_announce_header(
            self.transaction_id,
            self.interval,
            self.leechers,
            self.seeders,
            out,
        );
        out.extend_from_slice(self.peers.as_bytes());
    }
}

/// Appends the 20-byte announce response header (peers follow).
fn encode_announce_header(tid: u32, interval: u32, leechers: u32, seeders: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&Action::ANNOUNCE.0.to_be_bytes());
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(&interval.to_be_bytes());
    out.extend_from_slice(&leechers.to_be_bytes());
    out.extend_from_slice(&seeders.to_be_bytes());
}

/// One torrent's counts in a scrape response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScrapeStats {
    /// Peers with the whole torrent.
    pub seeders: u32,
    /// Downloads completed.
    pub completed: u32,
    /// Peers still downloading.
    pub leechers: u32,
}

impl ScrapeStats {
    /// Appends the 12-byte encoding (seeders, completed, leechers).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seeders.to_be_bytes());
        out.extend_from_slice(&self.completed.to_be_bytes());
        out.extend_from_slice(&self.leechers.to_be_bytes());
    }
}

/// Scrape response: 12 bytes per requested hash, in request order (borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeResponse<'a> {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// 12 bytes per torrent (a trailing partial entry is ignored).
    pub files: &'a [u8],
}

impl<'a> ScrapeResponse<'a> {
    /// Decodes a scrape response.
    pub fn decode(b: &'a [u8]) -> Result<Self, DecodeError> {
        need("scrape response", b, RESPONSE_HEADER_LEN)?;
        check_action("scrape response", b, 0, Action::SCRAPE)?;
        let files = &b[8..];
        Ok(ScrapeResponse {
            transaction_id: u32_at(b, 4),
            files: &files[..files.len() / 12 * 12],
        })
    }

    /// The per-torrent counts.
    pub fn stats(&self) -> impl ExactSizeIterator<Item = ScrapeStats> + 'a {
        self.files.chunks_exact(12).map(|c| ScrapeStats {
            seeders: u32_at(c, 0),
            completed: u32_at(c, 4),
            leechers: u32_at(c, 8),
        })
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::SCRAPE.0.to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(self.files);
    }
}

/// Error response: a message running to the end of the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse<'a> {
    /// Echo of the request's.
    pub transaction_id: u32,
    /// Human-readable text (not length-prefixed, not NUL-terminated).
    pub message: &'a [u8],
}

impl<'a> ErrorResponse<'a> {
    /// Decodes an error response.
    pub fn decode(b: &'a [u8]) -> Result<Self, DecodeError> {
        need("error response", b, RESPONSE_HEADER_LEN)?;
        check_action("error response", b, 0, Action::ERROR)?;
        Ok(ErrorResponse {
            transaction_id: u32_at(b, 4),
            message: &b[8..],
        })
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Action::ERROR.0.to_be_bytes());
        out.extend_from_slice(&self.transaction_id.to_be_bytes());
        out.extend_from_slice(self.message);
    }
}

/// Any response a client receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response<'a> {
    /// Connect.
    Connect(ConnectResponse),
    /// Announce.
    Announce(AnnounceResponse<'a>),
    /// Scrape.
    Scrape(ScrapeResponse<'a>),
    /// Error.
    Error(ErrorResponse<'a>),
}

impl<'a> Response<'a> {
    /// Decodes a response by its action; `family` is the packet's address family.
    pub fn decode(b: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        need("response", b, RESPONSE_HEADER_LEN)?;
        match Action(u32_at(b, 0)) {
            Action::CONNECT => ConnectResponse::decode(b).map(Response::Connect),
            Action::ANNOUNCE => AnnounceResponse::decode(b, family).map(Response::Announce),
            Action::SCRAPE => ScrapeResponse::decode(b).map(Response::Scrape),
            Action::ERROR => ErrorResponse::decode(b).map(Response::Error),
            action => Err(DecodeError::WrongAction {
                message: "response",
                action,
            }),
        }
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> u32 {
        match self {
            Response::Connect(r) => r.transaction_id,
            Response::Announce(r) => r.transaction_id,
            Response::Scrape(r) => r.transaction_id,
            Response::Error(r) => r.transaction_id,
        }
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Response::Connect(r) => r.encode(out),
            Response::Announce(r) => r.encode(out),
            Response::Scrape(r) => r.encode(out),
            Response::Error(r) => r.encode(out),
        }
    }
}
