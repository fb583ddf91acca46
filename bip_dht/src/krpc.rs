//! The KRPC wire codec (BEP 5, with BEP 32 `want`/`nodes6`, BEP 42 `ip`, BEP 43 `ro`).
//!
//! One [`Message`] type covers every datagram: decoding borrows from the input
//! ([`Message::decode`]), encoding appends canonical bencode ([`Message::encode`]). Unknown keys
//! are ignored on decode; unknown query methods that carry `target` or `info_hash` decode as
//! [`Method::Unknown`] so a node can answer them like `find_node`.

use std::net::SocketAddr;

use bip_bencode::encode as be;
use bip_bencode::{Decoder, Value};
use bip_util::{InfoHash, NodeId};

/// Longest transaction id accepted (ours are 2 bytes; libtorrent's 2, some clients' 4 to 8).
pub const MAX_TRANSACTION_ID_LEN: usize = 32;
/// Longest token accepted in `announce_peer` or a `get_peers` answer.
pub const MAX_TOKEN_LEN: usize = 64;
/// Longest client version string (`v`) accepted.
pub const MAX_VERSION_LEN: usize = 32;
/// Most `values` entries accepted in one answer (a datagram of 1,500 bytes holds ~180).
pub const MAX_VALUES: usize = 256;
/// Deepest bencode nesting accepted in a KRPC datagram.
pub const MAX_DEPTH: usize = 16;
/// Longest BEP 44 salt accepted.
pub const MAX_SALT_LEN: usize = 64;
/// Longest BEP 44 value (`v`, bencoded) accepted on the wire (stores refuse more than 1,000).
pub const MAX_VALUE_WIRE_LEN: usize = 1500;

/// A KRPC error code (BEP 5, BEP 44); unknown codes survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i64);

impl ErrorCode {
    /// 201 Generic Error.
    pub const GENERIC: ErrorCode = ErrorCode(201);
    /// 202 Server Error.
    pub const SERVER: ErrorCode = ErrorCode(202);
    /// 203 Protocol Error (malformed packet, invalid arguments, bad token).
    pub const PROTOCOL: ErrorCode = ErrorCode(203);
    /// 204 Method Unknown.
    pub const METHOD_UNKNOWN: ErrorCode = ErrorCode(204);
    /// 205 Message (`v` field) too big (BEP 44).
    pub const MESSAGE_TOO_BIG: ErrorCode = ErrorCode(205);
    /// 206 Invalid signature (BEP 44).
    pub const INVALID_SIGNATURE: ErrorCode = ErrorCode(206);
    /// 207 Salt (`salt` field) too big (BEP 44).
    pub const SALT_TOO_BIG: ErrorCode = ErrorCode(207);
    /// 301 The CAS hash mismatched, re-read the value and try again (BEP 44).
    pub const CAS_MISMATCH: ErrorCode = ErrorCode(301);
    /// 302 Sequence number less than current (BEP 44).
    pub const SEQUENCE_TOO_LOW: ErrorCode = ErrorCode(302);

    /// What a known code means (BEP 5 and BEP 44 wording); `None` for other codes.
    pub fn meaning(self) -> Option<&'static str> {
        Some(match self.0 {
            201 => "Generic Error",
            202 => "Server Error",
            203 => "Protocol Error, such as a malformed packet, invalid arguments, or bad token",
            204 => "Method Unknown",
            205 => "message (v field) too big",
            206 => "invalid signature",
            207 => "salt (salt field) too big",
            301 => "the CAS hash mismatched, re-read value and try again",
            302 => "sequence number less than current",
            _ => return None,
        })
    }
}

/// Which address families a requester wants nodes for (BEP 32 `want`); both false when the
/// query had no `want` key (then the answer carries the family the query came over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Want {
    /// `n4`: IPv4 nodes.
    pub v4: bool,
    /// `n6`: IPv6 nodes.
    pub v6: bool,
}

/// One KRPC datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// `t`: the transaction id, echoed in the answer.
    pub transaction_id: &'a [u8],
    /// `v`: the sender's client version, if given.
    pub version: Option<&'a [u8]>,
    /// `ip` (BEP 42): in an answer, the requester's address as the responder saw it.
    pub ip: Option<SocketAddr>,
    /// `ro` (BEP 43): the sender is read-only and must not be added to routing tables.
    pub read_only: bool,
    /// The query, answer or error.
    pub body: Body<'a>,
}

/// What a datagram carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// `y = q`.
    Query(Query<'a>),
    /// `y = r`.
    Response(Response<'a>),
    /// `y = e`.
    Error(ErrorMessage<'a>),
}

/// A query: the sender's id and the method with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    /// `a.id`: the querying node.
    pub id: NodeId,
    /// `q` and the rest of `a`.
    pub method: Method<'a>,
}

/// A query method with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method<'a> {
    /// `ping`.
    Ping,
    /// `find_node`.
    FindNode {
        /// `target`.
        target: NodeId,
        /// `want` (BEP 32).
        want: Want,
    },
    /// `get_peers`.
    GetPeers {
        /// `info_hash`.
        info_hash: InfoHash,
        /// `want` (BEP 32).
        want: Want,
        /// `noseed = 1` (BEP 33): only non-seeds wanted.
        noseed: bool,
        /// `scrape = 1` (BEP 33): Bloom filters wanted.
        scrape: bool,
    },
    /// `announce_peer`.
    AnnouncePeer {
        /// `info_hash`.
        info_hash: InfoHash,
        /// `port` (0 when absent and `implied_port` is set).
        port: u16,
        /// `implied_port = 1`: use the datagram's source port.
        implied_port: bool,
        /// `token` from an earlier `get_peers` answer.
        token: &'a [u8],
        /// `seed = 1` (BEP 33).
        seed: bool,
    },
    /// `get` (BEP 44): an item's value and, as with get_peers, a token and close nodes.
    Get {
        /// `target`: the item's target.
        target: NodeId,
        /// `seq`: only return a mutable item's value if its `seq` is greater.
        seq: Option<i64>,
        /// `want` (BEP 32).
        want: Want,
    },
    /// `put` (BEP 44): store an immutable item (only `v`) or a mutable one (`k`, `sig`, `seq`).
    Put {
        /// `token` from an earlier `get` answer.
        token: &'a [u8],
        /// `v`: the raw bencoded value (as received; not checked to be canonical here).
        value: &'a [u8],
        /// `k`: the public key (mutable items).
        key: Option<&'a [u8; 32]>,
        /// `sig`: the signature (mutable items).
        signature: Option<&'a [u8; 64]>,
        /// `seq` (mutable items).
        seq: Option<i64>,
        /// `salt` (mutable items; at most [`MAX_SALT_LEN`] bytes).
        salt: Option<&'a [u8]>,
        /// `cas`: store only if the stored `seq` equals this.
        cas: Option<i64>,
    },
    /// `sample_infohashes` (BEP 51): a sample of the stored info hashes and close nodes.
    SampleInfohashes {
        /// `target`: for the nodes in the answer.
        target: NodeId,
        /// `want` (BEP 32).
        want: Want,
    },
    /// Any other method. `target` is its `target` or `info_hash` argument, if it had one (such
    /// queries are answered like `find_node`; the rest with error 204).
    Unknown {
        /// `q`.
        name: &'a [u8],
        /// `a.target` or `a.info_hash`.
        target: Option<NodeId>,
        /// `want` (BEP 32).
        want: Want,
    },
}

impl Method<'_> {
    /// The method name as sent in `q`.
    pub fn name(&self) -> &[u8] {
        match self {
            Method::Ping => b"ping",
            Method::FindNode { .. } => b"find_node",
            Method::GetPeers { .. } => b"get_peers",
            Method::AnnouncePeer { .. } => b"announce_peer",
            Method::Get { .. } => b"get",
            Method::Put { .. } => b"put",
            Method::SampleInfohashes { .. } => b"sample_infohashes",
            Method::Unknown { name, .. } => name,
        }
    }
}

/// Compact peers in a `values` list: as received (the raw bencoded list, validated on decode)
/// or as given for encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values<'a> {
    /// The exact bytes of a decoded `values` list (`l6:......6:......e`); every element was
    /// checked to be a 6- or 18-byte compact address.
    Wire(&'a [u8]),
    /// Addresses to encode.
    Addrs(&'a [SocketAddr]),
}

impl<'a> Values<'a> {
    /// The addresses, in order.
    pub fn iter(&self) -> ValuesIter<'a> {
        match *self {
            Values::Wire(raw) => ValuesIter::Wire(raw.get(1..).unwrap_or(&[])),
            Values::Addrs(a) => ValuesIter::Addrs(a.iter()),
        }
    }
}

/// Iterator over [`Values`].
#[derive(Debug, Clone)]
pub enum ValuesIter<'a> {
    /// Remaining raw list bytes (after the `l`).
    Wire(&'a [u8]),
    /// Remaining addresses.
    Addrs(std::slice::Iter<'a, SocketAddr>),
}

impl Iterator for ValuesIter<'_> {
    type Item = SocketAddr;
    fn next(&mut self) -> Option<SocketAddr> {
        match self {
            ValuesIter::Addrs(it) => it.next().copied(),
            ValuesIter::Wire(rest) => {
                // Elements were validated on decode: `6:` + 6 bytes or `18:` + 18 bytes.
                let (len, skip) = match rest.first()? {
                    b'6' => (6, 2),
                    b'1' => (18, 3),
                    _ => return None,
                };
                let item = rest.get(skip..skip + len)?;
                *rest = &rest[skip + len..];
                bip_util::decode_peer(item).ok()
            }
        }
    }
}

/// An answer. KRPC answers do not name the query they answer; the fields present tell.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response<'a> {
    /// `r.id`: the responding node.
    pub id: NodeId,
    /// `nodes`: compact IPv4 node info, a multiple of 26 bytes (checked on decode).
    pub nodes: Option<&'a [u8]>,
    /// `nodes6` (BEP 32): compact IPv6 node info, a multiple of 38 bytes (checked on decode).
    pub nodes6: Option<&'a [u8]>,
    /// `token` (get_peers answers).
    pub token: Option<&'a [u8]>,
    /// `values` (get_peers answers).
    pub values: Option<Values<'a>>,
    /// `v` (BEP 44 `get` answers): the raw bencoded value.
    pub value: Option<&'a [u8]>,
    /// `k` (BEP 44 mutable items): the public key.
    pub key: Option<&'a [u8; 32]>,
    /// `sig` (BEP 44 mutable items): the signature.
    pub signature: Option<&'a [u8; 64]>,
    /// `seq` (BEP 44 mutable items).
    pub seq: Option<i64>,
    /// `samples` (BEP 51): concatenated 20-byte info hashes (a multiple of 20, checked).
    pub samples: Option<&'a [u8]>,
    /// `num` (BEP 51): info hashes the responder stores.
    pub num: Option<i64>,
    /// `interval` (BEP 51): seconds until the sample changes.
    pub interval: Option<i64>,
    /// `BFsd` (BEP 33): Bloom filter of the seeds (256 bytes, checked).
    pub bf_seeds: Option<&'a [u8; 256]>,
    /// `BFpe` (BEP 33): Bloom filter of the other peers (256 bytes, checked).
    pub bf_peers: Option<&'a [u8; 256]>,
}

impl<'a> Response<'a> {
    /// An answer with only the responder's id (ping, announce_peer).
    pub fn new(id: NodeId) -> Self {
        Response {
            id,
            nodes: None,
            nodes6: None,
            token: None,
            values: None,
            value: None,
            key: None,
            signature: None,
            seq: None,
            samples: None,
            num: None,
            interval: None,
            bf_seeds: None,
            bf_peers: None,
        }
    }
}

/// An error answer: `e = [code, message]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMessage<'a> {
    /// The code.
    pub code: ErrorCode,
    /// The message text (bytes; usually ASCII).
    pub message: &'a [u8],
}

/// Why a datagram is not a KRPC message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not bencode, or not canonical enough (with the byte offset).
    #[error("bad bencode at offset {offset}")]
    Bencode {
        /// Where the bencode decoder stopped.
        offset: usize,
    },
    /// The top level is not a dictionary.
    #[error("not a dictionary")]
    NotADict,
    /// A required key is missing.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// A key has the wrong type, length or value.
    #[error("invalid `{0}`")]
    Invalid(&'static str),
    /// `y` is not `q`, `r` or `e`.
    #[error("unknown message type")]
    UnknownType,
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Length of a node id, info hash or target on the wire.
const ID_LEN: usize = 20;

/// A compact IPv4 node (`nodes`): 20-byte id, 4-byte address, 2-byte port.
pub const NODE_V4_LEN: usize = bip_util::COMPACT_NODE_V4_LEN;
/// A compact IPv6 node (`nodes6`): 20-byte id, 16-byte address, 2-byte port.
pub const NODE_V6_LEN: usize = bip_util::COMPACT_NODE_V6_LEN;

type Val<'a, 'd> = Value<'a, 'd>;

/// A byte string of exactly 20 bytes, or `Invalid(field)`.
fn id_of(v: Val<'_, '_>, field: &'static str) -> Result<[u8; ID_LEN], DecodeError> {
    v.as_bytes()
        .and_then(|b| <[u8; ID_LEN]>::try_from(b).ok())
        .ok_or(DecodeError::Invalid(field))
}

/// A byte string of at most `max` bytes, or `Invalid(field)`.
fn bytes_of<'a>(v: Val<'a, '_>, max: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
    match v.as_bytes() {
        Some(b) if b.len() <= max => Ok(b),
        _ => Err(DecodeError::Invalid(field)),
    }
}

/// An integer flag: nonzero is true.
fn flag_of(v: Option<Val<'_, '_>>, field: &'static str) -> Result<bool, DecodeError> {
    match v {
        None => Ok(false),
        Some(v) => v
            .as_int()
            .map(|i| i != 0)
            .ok_or(DecodeError::Invalid(field)),
    }
}

/// `want`: a list of byte strings; `n4` and `n6` are understood, other entries ignored.
fn want_of(v: Option<Val<'_, '_>>) -> Result<Want, DecodeError> {
    let mut want = Want::default();
    let Some(v) = v else { return Ok(want) };
    let list = v.as_list().ok_or(DecodeError::Invalid("a.want"))?;
    for item in list.iter() {
        match item.as_bytes() {
            Some(b"n4") => want.v4 = true,
            Some(b"n6") => want.v6 = true,
            _ => {}
        }
    }
    Ok(want)
}

/// An optional integer.
fn int_of(v: Option<Val<'_, '_>>, field: &'static str) -> Result<Option<i64>, DecodeError> {
    v.map(|v| v.as_int().ok_or(DecodeError::Invalid(field)))
        .transpose()
}

/// A compact address of 6 or 18 bytes.
fn addr_of(v: Val<'_, '_>, field: &'static str) -> Result<SocketAddr, DecodeError> {
    v.as_bytes()
        .and_then(|b| bip_util::decode_peer(b).ok())
        .ok_or(DecodeError::Invalid(field))
}

/// Sets `slot` to `v` unless already set: with duplicate keys (lenient input) the first wins,
/// as with `bip_bencode::Dict::get`.
#[inline]
fn first<'a, 'd>(slot: &mut Option<Val<'a, 'd>>, v: Val<'a, 'd>) {
    if slot.is_none() {
        *slot = Some(v);
    }
}

/// The arguments of a query (`a`), gathered in one pass.
#[derive(Default)]
struct Args<'a, 'd> {
    id: Option<Val<'a, 'd>>,
    target: Option<Val<'a, 'd>>,
    info_hash: Option<Val<'a, 'd>>,
    want: Option<Val<'a, 'd>>,
    noseed: Option<Val<'a, 'd>>,
    scrape: Option<Val<'a, 'd>>,
    port: Option<Val<'a, 'd>>,
    implied_port: Option<Val<'a, 'd>>,
    token: Option<Val<'a, 'd>>,
    seed: Option<Val<'a, 'd>>,
    v: Option<Val<'a, 'd>>,
    k: Option<Val<'a, 'd>>,
    sig: Option<Val<'a, 'd>>,
    seq: Option<Val<'a, 'd>>,
    salt: Option<Val<'a, 'd>>,
    cas: Option<Val<'a, 'd>>,
}

fn decode_query<'a>(name: &'a [u8], a: Val<'a, '_>) -> Result<Query<'a>, DecodeError> {
    let dict = a.as_dict().ok_or(DecodeError::Invalid("a"))?;
    let mut args = Args::default();
    for (k, v) in dict.iter() {
        let slot = match k {
            b"id" => &mut args.id,
            b"target" => &mut args.target,
            b"info_hash" => &mut args.info_hash,
            b"want" => &mut args.want,
            b"noseed" => &mut args.noseed,
            b"scrape" => &mut args.scrape,
            b"port" => &mut args.port,
            b"implied_port" => &mut args.implied_port,
            b"token" => &mut args.token,
            b"seed" => &mut args.seed,
            b"v" => &mut args.v,
            b"k" => &mut args.k,
            b"sig" => &mut args.sig,
            b"seq" => &mut args.seq,
            b"salt" => &mut args.salt,
            b"cas" => &mut args.cas,
            _ => continue,
        };
        first(slot, v);
    }
    let id = NodeId::new(id_of(args.id.ok_or(DecodeError::Missing("a.id"))?, "a.id")?);
    let method = match name {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: NodeId::new(id_of(
                args.target.ok_or(DecodeError::Missing("a.target"))?,
                "a.target",
            )?),
            want: want_of(args.want)?,
        },
        b"get_peers" => Method::GetPeers {
            info_hash: InfoHash::new(id_of(
                args.info_hash.ok_or(DecodeError::Missing("a.info_hash"))?,
                "a.info_hash",
            )?),
            want: want_of(args.want)?,
            noseed: flag_of(args.noseed, "a.noseed")?,
            scrape: flag_of(args.scrape, "a.scrape")?,
        },
        b"announce_peer" => {
            let info_hash = InfoHash::new(id_of(
                args.info_hash.ok_or(DecodeError::Missing("a.info_hash"))?,
                "a.info_hash",
            )?);
            let token = bytes_of(
                args.token.ok_or(DecodeError::Missing("a.token"))?,
                MAX_TOKEN_LEN,
                "a.token",
            )?;
            let implied_port = flag_of(args.implied_port, "a.implied_port")?;
            let port = match args.port {
                Some(v) => v
                    .as_int()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or(DecodeError::Invalid("a.port"))?,
                None if implied_port => 0,
                None => return Err(DecodeError::Missing("a.port")),
            };
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
                seed: flag_of(args.seed, "a.seed")?,
            }
        }
        b"get" => Method::Get {
            target: NodeId::new(id_of(
                args.target.ok_or(DecodeError::Missing("a.target"))?,
                "a.target",
            )?),
            seq: int_of(args.seq, "a.seq")?,
            want: want_of(args.want)?,
        },
        b"sample_infohashes" => Method::SampleInfohashes {
            target: NodeId::new(id_of(
                args.target.ok_or(DecodeError::Missing("a.target"))?,
                "a.target",
            )?),
            want: want_of(args.want)?,
        },
        b"put" => {
            let token = bytes_of(
                args.token.ok_or(DecodeError::Missing("a.token"))?,
                MAX_TOKEN_LEN,
                "a.token",
            )?;
            let value = args.v.ok_or(DecodeError::Missing("a.v"))?.raw();
            // A non-canonical value in a put still decodes, so the node can answer it with
            // error 203 (as BEP 44 and libtorrent do); `encode` writes it back as received.
            if value.len() > MAX_VALUE_WIRE_LEN {
                return Err(DecodeError::Invalid("a.v"));
            }
            let key = args
                .k
                .map(|v| {
                    v.as_bytes()
                        .and_then(|b| b.try_into().ok())
                        .ok_or(DecodeError::Invalid("a.k"))
                })
                .transpose()?;
            let signature = args
                .sig
                .map(|v| {
                    v.as_bytes()
                        .and_then(|b| b.try_into().ok())
                        .ok_or(DecodeError::Invalid("a.sig"))
                })
                .transpose()?;
            let salt = args
                .salt
                .map(|v| v.as_bytes().ok_or(DecodeError::Invalid("a.salt")))
                .transpose()?;
            Method::Put {
                token,
                value,
                key,
                signature,
                seq: int_of(args.seq, "a.seq")?,
                salt,
                cas: int_of(args.cas, "a.cas")?,
            }
        }
        _ => {
            // Answered like find_node when it names a target (BEP 5 leaves room for
            // extensions such as BEP 44 `get`, BEP 51 `sample_infohashes`).
            let target = args
                .target
                .or(args.info_hash)
                .and_then(|v| v.as_bytes())
                .and_then(|b| <[u8; ID_LEN]>::try_from(b).ok())
                .map(NodeId::new);
            Method::Unknown {
                name,
                target,
                want: want_of(args.want)?,
            }
        }
    };
    Ok(Query { id, method })
}

/// Checks a `values` list: byte strings of 6 or 18 bytes with canonical length headers (so
/// [`ValuesIter`] can walk the raw bytes), at most [`MAX_VALUES`] of them.
fn values_of<'a>(v: Val<'a, '_>) -> Result<Values<'a>, DecodeError> {
    const FIELD: &str = "r.values";
    let list = v.as_list().ok_or(DecodeError::Invalid(FIELD))?;
    let mut n = 0usize;
    for item in list.iter() {
        n += 1;
        if n > MAX_VALUES {
            return Err(DecodeError::Invalid(FIELD));
        }
        match (item.as_bytes().map(<[u8]>::len), item.raw().len()) {
            // `6:` + 6 bytes, `18:` + 18 bytes (a lenient `06:` header is refused).
            (Some(6), 8) | (Some(18), 21) => {}
            _ => return Err(DecodeError::Invalid(FIELD)),
        }
    }
    Ok(Values::Wire(v.raw()))
}

fn decode_response<'a>(r: Val<'a, '_>) -> Result<Response<'a>, DecodeError> {
    let dict = r.as_dict().ok_or(DecodeError::Invalid("r"))?;
    let (mut id, mut nodes, mut nodes6, mut token, mut values) = (None, None, None, None, None);
    let (mut value, mut key, mut sig, mut seq, mut samples) = (None, None, None, None, None);
    let (mut num, mut interval, mut bfsd, mut bfpe) = (None, None, None, None);
    for (k, v) in dict.iter() {
        let slot = match k {
            b"id" => &mut id,
            b"nodes" => &mut nodes,
            b"nodes6" => &mut nodes6,
            b"token" => &mut token,
            b"values" => &mut values,
            b"v" => &mut value,
            b"k" => &mut key,
            b"sig" => &mut sig,
            b"seq" => &mut seq,
            b"samples" => &mut samples,
            b"num" => &mut num,
            b"interval" => &mut interval,
            b"BFsd" => &mut bfsd,
            b"BFpe" => &mut bfpe,
            _ => continue,
        };
        first(slot, v);
    }
    let id = NodeId::new(id_of(id.ok_or(DecodeError::Missing("r.id"))?, "r.id")?);
    let nodes = nodes
        .map(|v| match v.as_bytes() {
            Some(b) if b.len() % NODE_V4_LEN == 0 => Ok(b),
            _ => Err(DecodeError::Invalid("r.nodes")),
        })
        .transpose()?;
    let nodes6 = nodes6
        .map(|v| match v.as_bytes() {
            Some(b) if b.len() % NODE_V6_LEN == 0 => Ok(b),
            _ => Err(DecodeError::Invalid("r.nodes6")),
        })
        .transpose()?;
    let token = token
        .map(|v| bytes_of(v, MAX_TOKEN_LEN, "r.token"))
        .transpose()?;
    let values = values.map(values_of).transpose()?;
    let value = value
        .map(|v| {
            let raw = v.raw();
            if raw.len() > MAX_VALUE_WIRE_LEN || !is_canonical(raw) {
                Err(DecodeError::Invalid("r.v"))
            } else {
                Ok(raw)
            }
        })
        .transpose()?;
    let key = key
        .map(|v| {
            v.as_bytes()
                .and_then(|b| b.try_into().ok())
                .ok_or(DecodeError::Invalid("r.k"))
        })
        .transpose()?;
    let signature = sig
        .map(|v| {
            v.as_bytes()
                .and_then(|b| b.try_into().ok())
                .ok_or(DecodeError::Invalid("r.sig"))
        })
        .transpose()?;
    let samples = samples
        .map(|v| match v.as_bytes() {
            Some(b) if b.len() % ID_LEN == 0 => Ok(b),
            _ => Err(DecodeError::Invalid("r.samples")),
        })
        .transpose()?;
    let bf = |v: Option<Val<'a, '_>>, field| {
        v.map(|v| {
            v.as_bytes()
                .and_then(|b| b.try_into().ok())
                .ok_or(DecodeError::Invalid(field))
        })
        .transpose()
    };
    Ok(Response {
        id,
        nodes,
        nodes6,
        token,
        values,
        value,
        key,
        signature,
        seq: int_of(seq, "r.seq")?,
        samples,
        num: int_of(num, "r.num")?,
        interval: int_of(interval, "r.interval")?,
        bf_seeds: bf(bfsd, "r.BFsd")?,
        bf_peers: bf(bfpe, "r.BFpe")?,
    })
}

fn decode_error<'a>(e: Val<'a, '_>) -> Result<ErrorMessage<'a>, DecodeError> {
    let list = e.as_list().ok_or(DecodeError::Invalid("e"))?;
    let mut items = list.iter();
    let code = items
        .next()
        .and_then(|v| v.as_int())
        .ok_or(DecodeError::Invalid("e"))?;
    let message = items
        .next()
        .and_then(|v| v.as_bytes())
        .ok_or(DecodeError::Invalid("e"))?;
    Ok(ErrorMessage {
        code: ErrorCode(code),
        message,
    })
}

impl<'a> Message<'a> {
    /// Decodes one datagram.
    ///
    /// The bencode is read leniently (unsorted or duplicate keys, where the first occurrence
    /// wins; leading zeros), nested at most [`MAX_DEPTH`] deep, with nothing after the top-level
    /// dictionary. Unknown keys are ignored. Errors name the offending field as a path (`t`,
    /// `a.id`, `r.values`, `e`, ...).
    pub fn decode(bytes: &'a [u8]) -> Result<Message<'a>, DecodeError> {
        Self::decode_with(&mut Self::decoder(), bytes)
    }

    /// A bencode decoder configured as [`Message::decode`] needs it, to keep and pass to
    /// [`Message::decode_with`].
    pub fn decoder() -> Decoder {
        Decoder::lenient().max_depth(MAX_DEPTH)
    }

    /// [`Message::decode`] with a decoder made by [`Message::decoder`] and kept between
    /// datagrams: its token buffers are reused, so a steady stream of datagrams decodes without
    /// allocating.
    pub fn decode_with(decoder: &mut Decoder, bytes: &'a [u8]) -> Result<Message<'a>, DecodeError> {
        let doc = decoder
            .decode(bytes)
            .map_err(|e| DecodeError::Bencode { offset: e.offset })?;
        let msg = Self::from_document(&doc);
        decoder.recycle(doc);
        msg
    }

    fn from_document(doc: &bip_bencode::Document<'a>) -> Result<Message<'a>, DecodeError> {
        let root = doc.root().as_dict().ok_or(DecodeError::NotADict)?;

        let (mut t, mut y, mut q, mut a, mut r, mut e) = (None, None, None, None, None, None);
        let (mut v, mut ip, mut ro) = (None, None, None);
        for (k, val) in root.iter() {
            let slot = match k {
                b"t" => &mut t,
                b"y" => &mut y,
                b"q" => &mut q,
                b"a" => &mut a,
                b"r" => &mut r,
                b"e" => &mut e,
                b"v" => &mut v,
                b"ip" => &mut ip,
                b"ro" => &mut ro,
                _ => continue,
            };
            first(slot, val);
        }

        let transaction_id = bytes_of(
            t.ok_or(DecodeError::Missing("t"))?,
            MAX_TRANSACTION_ID_LEN,
            "t",
        )?;
        let kind = y
            .ok_or(DecodeError::Missing("y"))?
            .as_bytes()
            .ok_or(DecodeError::Invalid("y"))?;
        let body = match kind {
            b"q" => {
                let name = q
                    .ok_or(DecodeError::Missing("q"))?
                    .as_bytes()
                    .ok_or(DecodeError::Invalid("q"))?;
                Body::Query(decode_query(name, a.ok_or(DecodeError::Missing("a"))?)?)
            }
            b"r" => Body::Response(decode_response(r.ok_or(DecodeError::Missing("r"))?)?),
            b"e" => Body::Error(decode_error(e.ok_or(DecodeError::Missing("e"))?)?),
            _ => return Err(DecodeError::UnknownType),
        };
        let version = v.map(|v| bytes_of(v, MAX_VERSION_LEN, "v")).transpose()?;
        let ip = ip.map(|v| addr_of(v, "ip")).transpose()?;
        let read_only = flag_of(ro, "ro")?;
        Ok(Message {
            transaction_id,
            version,
            ip,
            read_only,
            body,
        })
    }

    /// Appends the message as canonical bencode (keys sorted at every level) to `out`.
    ///
    /// Flags are written as `i1e` only when set; `want` only when it asks for a family;
    /// `announce_peer`'s `port` always. A decoded message that was canonical re-encodes to the
    /// same bytes, except for a query of an unknown method whose target came from `info_hash`
    /// (it is written as `target`) and an error list with more than two elements. A BEP 44 `put`
    /// query's `v` is written exactly as given (it is hashed and signed as is), so a
    /// non-canonical value there stays non-canonical; answers with one are refused at decode.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len_hint());
        be::dict_start(out);
        if let Body::Query(query) = &self.body {
            be::bytes(out, b"a");
            encode_args(query, out);
        }
        if let Body::Error(err) = &self.body {
            be::bytes(out, b"e");
            be::list_start(out);
            be::int(out, err.code.0);
            be::bytes(out, err.message);
            be::end(out);
        }
        if let Some(ip) = &self.ip {
            be::bytes(out, b"ip");
            encode_addr(ip, out);
        }
        if let Body::Query(query) = &self.body {
            be::bytes(out, b"q");
            be::bytes(out, query.method.name());
        }
        if let Body::Response(resp) = &self.body {
            be::bytes(out, b"r");
            encode_response(resp, out);
        }
        if self.read_only {
            be::bytes(out, b"ro");
            be::int(out, 1);
        }
        be::bytes(out, b"t");
        be::bytes(out, self.transaction_id);
        if let Some(v) = self.version {
            be::bytes(out, b"v");
            be::bytes(out, v);
        }
        be::bytes(out, b"y");
        be::bytes(
            out,
            match self.body {
                Body::Query(_) => b"q",
                Body::Response(_) => b"r",
                Body::Error(_) => b"e",
            },
        );
        be::end(out);
    }

    /// A cheap upper-bound guess of the encoded size, to reserve once.
    fn encoded_len_hint(&self) -> usize {
        let body = match &self.body {
            Body::Query(Query {
                method: Method::Put { value, salt, .. },
                ..
            }) => 300 + value.len() + salt.map_or(0, <[u8]>::len),
            Body::Query(_) => 160,
            Body::Response(r) => {
                let values = match r.values {
                    Some(Values::Wire(w)) => w.len(),
                    Some(Values::Addrs(a)) => a.len() * 21 + 2,
                    None => 0,
                };
                64 + r.nodes.map_or(0, |n| n.len() + 12)
                    + r.nodes6.map_or(0, |n| n.len() + 13)
                    + r.token.map_or(0, |t| t.len() + 12)
                    + r.value.map_or(0, |v| v.len() + 4)
                    + r.samples.map_or(0, |s| s.len() + 16)
                    + r.bf_seeds.map_or(0, |_| 270)
                    + r.bf_peers.map_or(0, |_| 270)
                    + 200
                    + values
            }
            Body::Error(e) => 24 + e.message.len(),
        };
        body + 40 + self.transaction_id.len() + self.version.map_or(0, <[u8]>::len)
    }
}

/// A compact address as a byte string (`6:` or `18:` header, then the address and port).
fn encode_addr(addr: &SocketAddr, out: &mut Vec<u8>) {
    out.extend_from_slice(match addr {
        SocketAddr::V4(_) => b"6:".as_slice(),
        SocketAddr::V6(_) => b"18:".as_slice(),
    });
    bip_util::encode_peer(addr, out);
}

fn encode_want(want: Want, out: &mut Vec<u8>) {
    if want.v4 || want.v6 {
        be::bytes(out, b"want");
        be::list_start(out);
        if want.v4 {
            be::bytes(out, b"n4");
        }
        if want.v6 {
            be::bytes(out, b"n6");
        }
        be::end(out);
    }
}

fn encode_flag(key: &[u8], set: bool, out: &mut Vec<u8>) {
    if set {
        be::bytes(out, key);
        be::int(out, 1);
    }
}

/// `a`: keys in byte order (id, implied_port, info_hash, noseed, port, scrape, seed, target,
/// token, want).
fn encode_args(query: &Query<'_>, out: &mut Vec<u8>) {
    be::dict_start(out);
    if let Method::Put { cas: Some(cas), .. } = &query.method {
        be::bytes(out, b"cas");
        be::int(out, *cas);
    }
    be::bytes(out, b"id");
    be::bytes(out, query.id.as_bytes());
    match &query.method {
        Method::Get { target, seq, want } => {
            if let Some(seq) = seq {
                be::bytes(out, b"seq");
                be::int(out, *seq);
            }
            be::bytes(out, b"target");
            be::bytes(out, target.as_bytes());
            encode_want(*want, out);
        }
        Method::SampleInfohashes { target, want } => {
            be::bytes(out, b"target");
            be::bytes(out, target.as_bytes());
            encode_want(*want, out);
        }
        Method::Put {
            token,
            value,
            key,
            signature,
            seq,
            salt,
            ..
        } => {
            if let Some(k) = key {
                be::bytes(out, b"k");
                be::bytes(out, &k[..]);
            }
            if let Some(salt) = salt {
                be::bytes(out, b"salt");
                be::bytes(out, salt);
            }
            if let Some(seq) = seq {
                be::bytes(out, b"seq");
                be::int(out, *seq);
            }
            if let Some(sig) = signature {
                be::bytes(out, b"sig");
                be::bytes(out, &sig[..]);
            }
            be::bytes(out, b"token");
            be::bytes(out, token);
            be::bytes(out, b"v");
            out.extend_from_slice(value);
        }
        Method::Ping => {}
        Method::FindNode { target, want } => {
            be::bytes(out, b"target");
            be::bytes(out, target.as_bytes());
            encode_want(*want, out);
        }
        Method::GetPeers {
            info_hash,
            want,
            noseed,
            scrape,
        } => {
            be::bytes(out, b"info_hash");
            be::bytes(out, info_hash.as_bytes());
            encode_flag(b"noseed", *noseed, out);
            encode_flag(b"scrape", *scrape, out);
            encode_want(*want, out);
        }
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
            seed,
        } => {
            encode_flag(b"implied_port", *implied_port, out);
            be::bytes(out, b"info_hash");
            be::bytes(out, info_hash.as_bytes());
            be::bytes(out, b"port");
            be::int(out, i64::from(*port));
            encode_flag(b"seed", *seed, out);
            be::bytes(out, b"token");
            be::bytes(out, token);
        }
        Method::Unknown { target, want, .. } => {
            if let Some(target) = target {
                be::bytes(out, b"target");
                be::bytes(out, target.as_bytes());
            }
            encode_want(*want, out);
        }
    }
    be::end(out);
}

/// `r`: keys in byte order (BFpe, BFsd, id, interval, k, nodes, nodes6, num, samples, seq,
/// sig, token, v, values).
fn encode_response(resp: &Response<'_>, out: &mut Vec<u8>) {
    be::dict_start(out);
    if let Some(bf) = resp.bf_peers {
        be::bytes(out, b"BFpe");
        be::bytes(out, &bf[..]);
    }
    if let Some(bf) = resp.bf_seeds {
        be::bytes(out, b"BFsd");
        be::bytes(out, &bf[..]);
    }
    be::bytes(out, b"id");
    be::bytes(out, resp.id.as_bytes());
    if let Some(i) = resp.interval {
        be::bytes(out, b"interval");
        be::int(out, i);
    }
    if let Some(k) = resp.key {
        be::bytes(out, b"k");
        be::bytes(out, &k[..]);
    }
    if let Some(nodes) = resp.nodes {
        be::bytes(out, b"nodes");
        be::bytes(out, nodes);
    }
    if let Some(nodes6) = resp.nodes6 {
        be::bytes(out, b"nodes6");
        be::bytes(out, nodes6);
    }
    if let Some(n) = resp.num {
        be::bytes(out, b"num");
        be::int(out, n);
    }
    if let Some(s) = resp.samples {
        be::bytes(out, b"samples");
        be::bytes(out, s);
    }
    if let Some(seq) = resp.seq {
        be::bytes(out, b"seq");
        be::int(out, seq);
    }
    if let Some(sig) = resp.signature {
        be::bytes(out, b"sig");
        be::bytes(out, &sig[..]);
    }
    if let Some(token) = resp.token {
        be::bytes(out, b"token");
        be::bytes(out, token);
    }
    if let Some(v) = resp.value {
        be::bytes(out, b"v");
        out.extend_from_slice(v);
    }
    match resp.values {
        None => {}
        Some(Values::Wire(raw)) => {
            be::bytes(out, b"values");
            out.extend_from_slice(raw);
        }
        Some(Values::Addrs(addrs)) => {
            be::bytes(out, b"values");
            be::list_start(out);
            for addr in addrs {
                encode_addr(addr, out);
            }
            be::end(out);
        }
    }
    be::end(out);
}

/// Whether a BEP 44 value is canonical bencode. Items are hashed and signed over their exact
/// bytes, so a non-canonical `v` (`i01e`, unsorted keys) in an answer is refused at decode: it
/// could never be re-encoded canonically, and two spellings of one value would name two targets.
fn is_canonical(raw: &[u8]) -> bool {
    bip_bencode::decode(raw).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &[u8; 20] = b"abcdefghij0123456789";
    const T: &[u8; 20] = b"mnopqrstuvwxyz123456";

    fn enc(m: &Message<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode(&mut out);
        out
    }

    fn query(method: Method<'_>) -> Message<'_> {
        Message {
            transaction_id: b"aa",
            version: None,
            ip: None,
            read_only: false,
            body: Body::Query(Query {
                id: NodeId::new(*ID),
                method,
            }),
        }
    }

    #[test]
    fn unsorted_and_duplicate_keys_decode_first_wins() {
        let m = Message::decode(
            b"d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:abcdefghij0123456789e1:t2:bb1:y1:re",
        )
        .unwrap();
        assert_eq!(m.transaction_id, b"aa");
        assert_eq!(m.body, query(Method::Ping).body);
        // Re-encoding is canonical.
        assert_eq!(
            enc(&m),
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
        );
    }

    #[test]
    fn trailing_bytes_and_non_dicts_are_rejected() {
        let ok = b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
        assert!(Message::decode(ok).is_ok());
        let mut trailing = ok.to_vec();
        trailing.push(b'x');
        assert!(matches!(
            Message::decode(&trailing),
            Err(DecodeError::Bencode { offset: 47 })
        ));
        assert_eq!(Message::decode(b"le"), Err(DecodeError::NotADict));
        assert_eq!(Message::decode(b"4:spam"), Err(DecodeError::NotADict));
        assert!(matches!(
            Message::decode(b""),
            Err(DecodeError::Bencode { .. })
        ));
    }

    #[test]
    fn depth_is_limited() {
        let ok = |depth: usize| {
            // An unknown key holding nested lists: depth 1 is the top-level dict.
            let m = format!(
                "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:x{}{}1:y1:re",
                "l".repeat(depth - 1),
                "e".repeat(depth - 1)
            );
            Message::decode(m.as_bytes()).is_ok()
        };
        assert!(ok(MAX_DEPTH));
        assert!(!ok(MAX_DEPTH + 1));
    }

    #[test]
    fn required_top_level_fields() {
        assert_eq!(
            Message::decode(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:y1:re"),
            Err(DecodeError::Missing("t"))
        );
        assert_eq!(
            Message::decode(b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aae"),
            Err(DecodeError::Missing("y"))
        );
        assert_eq!(
            Message::decode(b"d1:t2:aa1:y1:xe"),
            Err(DecodeError::UnknownType)
        );
        assert_eq!(
            Message::decode(b"d1:t2:aa1:yi1ee"),
            Err(DecodeError::Invalid("y"))
        );
        assert_eq!(
            Message::decode(b"d1:ti1e1:y1:qe"),
            Err(DecodeError::Invalid("t"))
        );
        let long_t = format!("d1:t33:{}1:y1:re", "x".repeat(33));
        assert_eq!(
            Message::decode(long_t.as_bytes()),
            Err(DecodeError::Invalid("t"))
        );
        assert_eq!(
            Message::decode(b"d1:t2:aa1:y1:re"),
            Err(DecodeError::Missing("r"))
        );
        assert_eq!(
            Message::decode(b"d1:t2:aa1:y1:qe"),
            Err(DecodeError::Missing("q"))
        );
        assert_eq!(
            Message::decode(b"d1:q4:ping1:t2:aa1:y1:qe"),
            Err(DecodeError::Missing("a"))
        );
        assert_eq!(
            Message::decode(b"d1:ade1:q4:ping1:t2:aa1:y1:qe"),
            Err(DecodeError::Missing("a.id"))
        );
        assert_eq!(
            Message::decode(b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"),
            Err(DecodeError::Invalid("a.id"))
        );
        assert_eq!(
            Message::decode(b"d1:t2:aa1:y1:ee"),
            Err(DecodeError::Missing("e"))
        );
        assert_eq!(
            Message::decode(b"d1:eli201ee1:t2:aa1:y1:ee"),
            Err(DecodeError::Invalid("e"))
        );
        assert_eq!(
            Message::decode(b"d1:el3:abci201ee1:t2:aa1:y1:ee"),
            Err(DecodeError::Invalid("e"))
        );
    }

    #[test]
    fn error_extra_elements_are_ignored_and_codes_survive() {
        let m = Message::decode(b"d1:eli999e3:abci7ee1:t2:aa1:y1:ee").unwrap();
        let Body::Error(e) = m.body else {
            panic!("not an error")
        };
        assert_eq!(e.code, ErrorCode(999));
        assert_eq!(e.code.meaning(), None);
        assert_eq!(e.message, b"abc");
        assert_eq!(enc(&m), b"d1:eli999e3:abce1:t2:aa1:y1:ee");
        assert_eq!(ErrorCode::METHOD_UNKNOWN.meaning(), Some("Method Unknown"));
    }

    #[test]
    fn announce_peer_ports() {
        let base = |args: &str| {
            format!(
                "d1:ad2:id20:abcdefghij0123456789{args}9:info_hash20:mnopqrstuvwxyz1234565:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe"
            )
        };
        // implied_port without port.
        let m = base("12:implied_porti1e");
        let m = Message::decode(m.as_bytes()).unwrap();
        let Body::Query(Query {
            method: Method::AnnouncePeer {
                port, implied_port, ..
            },
            ..
        }) = m.body
        else {
            panic!("not announce_peer")
        };
        assert_eq!((port, implied_port), (0, true));
        // Port is always written.
        assert!(enc(&m).windows(9).any(|w| w == b"4:porti0e"));
        assert_eq!(
            Message::decode(base("").as_bytes()),
            Err(DecodeError::Missing("a.port"))
        );
        assert_eq!(
            Message::decode(base("12:implied_porti0e").as_bytes()),
            Err(DecodeError::Missing("a.port"))
        );
        // Keys after info_hash would be unsorted here: lenient decoding accepts them.
        for bad in ["i65536e", "i-1e", "4:6881"] {
            let m = format!(
                "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:port{bad}5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe"
            );
            assert_eq!(
                Message::decode(m.as_bytes()),
                Err(DecodeError::Invalid("a.port")),
                "{bad}"
            );
        }
        let m = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti65535e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe";
        assert!(Message::decode(m.as_bytes()).is_ok());
        let m = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe";
        assert_eq!(
            Message::decode(m.as_bytes()),
            Err(DecodeError::Missing("a.token"))
        );
    }

    #[test]
    fn want_entries() {
        let m = b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n62:n9i4eee1:q9:find_node1:t2:aa1:y1:qe";
        let m = Message::decode(m).unwrap();
        assert_eq!(
            m.body,
            query(Method::FindNode {
                target: NodeId::new(*T),
                want: Want {
                    v4: false,
                    v6: true
                }
            })
            .body
        );
        let m = b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:want2:n4e1:q9:find_node1:t2:aa1:y1:qe";
        assert_eq!(Message::decode(m), Err(DecodeError::Invalid("a.want")));
        // Encoding: only when set, n4 before n6.
        let both = enc(&query(Method::FindNode {
            target: NodeId::new(*T),
            want: Want { v4: true, v6: true },
        }));
        let pat = b"4:wantl2:n42:n6ee";
        assert!(both.windows(pat.len()).any(|w| w == pat));
        assert!(!enc(&query(Method::FindNode {
            target: NodeId::new(*T),
            want: Want::default(),
        }))
        .windows(4)
        .any(|w| w == b"want"));
    }

    #[test]
    fn unknown_methods() {
        let m = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q4:vote1:t2:aa1:y1:qe";
        let m = Message::decode(m).unwrap();
        assert_eq!(
            m.body,
            query(Method::Unknown {
                name: b"vote",
                target: Some(NodeId::new(*T)),
                want: Want::default()
            })
            .body
        );
        // target wins over info_hash; a wrong-length target is no target, not an error.
        let m = b"d1:ad2:id20:abcdefghij01234567896:target3:abce1:q10:frobnicate1:t2:aa1:y1:qe";
        let Body::Query(q) = Message::decode(m).unwrap().body else {
            panic!()
        };
        assert_eq!(
            q.method,
            Method::Unknown {
                name: b"frobnicate",
                target: None,
                want: Want::default()
            }
        );
        assert_eq!(q.method.name(), b"frobnicate");
    }

    #[test]
    fn flags() {
        let m = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234566:noseedi0e6:scrapei2ee1:q9:get_peers1:t2:aa1:y1:qe";
        let Body::Query(q) = Message::decode(m).unwrap().body else {
            panic!()
        };
        assert_eq!(
            q.method,
            Method::GetPeers {
                info_hash: InfoHash::new(*T),
                want: Want::default(),
                noseed: false,
                scrape: true
            }
        );
        let m = b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234566:noseed1:1e1:q9:get_peers1:t2:aa1:y1:qe";
        assert_eq!(Message::decode(m), Err(DecodeError::Invalid("a.noseed")));
        let m = b"d1:rd2:id20:mnopqrstuvwxyz123456e2:roi1e1:t2:aa1:y1:re";
        let m = Message::decode(m).unwrap();
        assert!(m.read_only);
        assert_eq!(
            enc(&m),
            b"d1:rd2:id20:mnopqrstuvwxyz123456e2:roi1e1:t2:aa1:y1:re"
        );
        let m = b"d1:rd2:id20:mnopqrstuvwxyz123456e2:ro1:11:t2:aa1:y1:re";
        assert_eq!(Message::decode(m), Err(DecodeError::Invalid("ro")));
    }

    #[test]
    fn ip_and_version() {
        let v6: SocketAddr = "[2001:db8::1]:6881".parse().unwrap();
        let v4: SocketAddr = "124.31.75.21:6881".parse().unwrap();
        for ip in [v4, v6] {
            let m = Message {
                transaction_id: b"\x00\x01",
                version: Some(b"LT\x01\x02"),
                ip: Some(ip),
                read_only: true,
                body: Body::Response(Response::new(NodeId::new(*ID))),
            };
            let bytes = enc(&m);
            // Canonical: strict bencode accepts it.
            assert!(bip_bencode::decode(&bytes).is_ok());
            assert_eq!(Message::decode(&bytes).unwrap(), m);
        }
        let m = b"d2:ip5:abcde1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
        assert_eq!(Message::decode(m), Err(DecodeError::Invalid("ip")));
        let long_v = format!(
            "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:v33:{}1:y1:re",
            "x".repeat(33)
        );
        assert_eq!(
            Message::decode(long_v.as_bytes()),
            Err(DecodeError::Invalid("v"))
        );
    }

    fn values_msg(items: &[&[u8]]) -> Vec<u8> {
        let mut m = b"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl".to_vec();
        for i in items {
            m.extend_from_slice(i);
        }
        m.extend_from_slice(b"ee1:t2:aa1:y1:re");
        m
    }

    #[test]
    fn values_are_checked_and_iterated() {
        let m = values_msg(&[b"6:axje.u", b"18:0123456789abcdefgh", b"6:idhtnm"]);
        let d = Message::decode(&m).unwrap();
        let Body::Response(r) = &d.body else { panic!() };
        let got: Vec<SocketAddr> = r.values.unwrap().iter().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], "97.120.106.101:11893".parse().unwrap());
        assert!(got[1].is_ipv6());
        assert_eq!(enc(&d), m);
        // Built from addresses, the same bytes.
        let built = Message {
            body: Body::Response(Response {
                values: Some(Values::Addrs(&got)),
                ..r.clone()
            }),
            ..d.clone()
        };
        assert_eq!(enc(&built), m);

        for bad in [
            &[b"5:axje." as &[u8]][..],
            &[b"06:axje.u"],
            &[b"i1e"],
            &[b"le"],
            &[b"7:axje.uu"],
        ] {
            assert_eq!(
                Message::decode(&values_msg(bad)),
                Err(DecodeError::Invalid("r.values")),
                "{bad:?}"
            );
        }
        let max = vec![b"6:axje.u" as &[u8]; MAX_VALUES];
        assert!(Message::decode(&values_msg(&max)).is_ok());
        let over = vec![b"6:axje.u" as &[u8]; MAX_VALUES + 1];
        assert_eq!(
            Message::decode(&values_msg(&over)),
            Err(DecodeError::Invalid("r.values"))
        );
        // Empty list.
        let d = values_msg(&[]);
        let m = Message::decode(&d).unwrap();
        let Body::Response(r) = &m.body else { panic!() };
        assert_eq!(r.values.unwrap().iter().count(), 0);
        assert_eq!(enc(&m), d);
    }

    #[test]
    fn nodes_lengths() {
        let n = |key: &str, len: usize| {
            format!(
                "d1:rd2:id20:mnopqrstuvwxyz123456{}:{key}{len}:{}e1:t2:aa1:y1:re",
                key.len(),
                "x".repeat(len)
            )
        };
        assert!(Message::decode(n("nodes", 0).as_bytes()).is_ok());
        assert!(Message::decode(n("nodes", 52).as_bytes()).is_ok());
        assert_eq!(
            Message::decode(n("nodes", 9).as_bytes()),
            Err(DecodeError::Invalid("r.nodes"))
        );
        assert!(Message::decode(n("nodes6", 76).as_bytes()).is_ok());
        assert_eq!(
            Message::decode(n("nodes6", 26).as_bytes()),
            Err(DecodeError::Invalid("r.nodes6"))
        );
        assert_eq!(
            Message::decode(n("token", MAX_TOKEN_LEN + 1).as_bytes()),
            Err(DecodeError::Invalid("r.token"))
        );
        assert!(Message::decode(n("token", MAX_TOKEN_LEN).as_bytes()).is_ok());
    }

    #[test]
    fn top_level_key_order_with_every_key() {
        let m = Message {
            transaction_id: b"xy",
            version: Some(b"BP01"),
            ip: Some("1.2.3.4:5".parse().unwrap()),
            read_only: true,
            body: Body::Query(Query {
                id: NodeId::new(*ID),
                method: Method::AnnouncePeer {
                    info_hash: InfoHash::new(*T),
                    port: 6881,
                    implied_port: true,
                    token: b"tok",
                    seed: true,
                },
            }),
        };
        let bytes = enc(&m);
        // Strict mode rejects unsorted keys at any level.
        bip_bencode::decode(&bytes).unwrap();
        assert_eq!(Message::decode(&bytes).unwrap(), m);
        let e = Message {
            body: Body::Error(ErrorMessage {
                code: ErrorCode::PROTOCOL,
                message: b"bad token",
            }),
            ..m.clone()
        };
        let bytes = enc(&e);
        bip_bencode::decode(&bytes).unwrap();
        assert_eq!(Message::decode(&bytes).unwrap(), e);
    }
}
