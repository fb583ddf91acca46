//! Magnet links (BEP 9, BEP 53): parse and build.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;

use bip_util::{InfoHash, InfoHashV2};
use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Largest file index accepted in a BEP 53 `so` item (libtorrent's bound).
pub const MAX_SO_INDEX: u32 = 100_000_000 - 1;

/// Why a magnet link was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MagnetError {
    /// The text does not start with `magnet:`.
    #[error("not a magnet link")]
    NotAMagnet,
    /// No `xt=urn:btih:` or `xt=urn:btmh:` parameter.
    #[error("missing info hash (xt=urn:btih:... or xt=urn:btmh:...)")]
    MissingInfoHash,
    /// A `btih`/`btmh` value that is not a valid hash.
    #[error("`xt`: invalid info hash `{0}`")]
    InvalidInfoHash(String),
    /// A `%` not followed by two hex digits in parameter `{0}`.
    #[error("`{0}`: invalid percent escape")]
    InvalidEscape(String),
}

/// A magnet link. Build one with struct syntax and `..Default::default()`
/// and print it with `to_string()`, or parse one with [`Magnet::parse`].
///
/// ```
/// use bip_metainfo::Magnet;
/// let m = Magnet::parse("magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&dn=temp&tr=udp%3A%2F%2Ft%3A80&so=0,2-3")?;
/// assert_eq!(m.display_name.as_deref(), Some("temp"));
/// assert_eq!(m.trackers, ["udp://t:80"]);
/// assert_eq!(m.selected_indices(100), vec![0, 2, 3]);
/// assert_eq!(Magnet::parse(&m.to_string())?, m);
/// # Ok::<(), bip_metainfo::MagnetError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Magnet {
    /// `xt=urn:btih:` (40 hex or 32 base32 characters).
    pub info_hash_v1: Option<InfoHash>,
    /// `xt=urn:btmh:1220...` (SHA-256 multihash).
    pub info_hash_v2: Option<InfoHashV2>,
    /// `dn`: display name.
    pub display_name: Option<String>,
    /// `tr` (and libtorrent's `tr.N`): trackers in order of appearance.
    pub trackers: Vec<String>,
    /// `ws`: web seeds.
    pub web_seeds: Vec<String>,
    /// `x.pe`: peer addresses as written (`host:port`, `[v6]:port`).
    pub peers: Vec<String>,
    /// BEP 53 `so`: selected file index ranges (invalid items skipped, as
    /// libtorrent does).
    pub select_only: Vec<RangeInclusive<u32>>,
    /// `xl`: exact length in bytes.
    pub exact_length: Option<u64>,
    /// libtorrent's `dht=host:port` bootstrap nodes.
    pub dht_nodes: Vec<(String, u16)>,
    /// Other parameters (decoded), kept in order.
    pub extra: Vec<(String, String)>,
}

fn decode_value(key: &str, raw: &[u8]) -> Result<String, MagnetError> {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let ok = raw.len() >= i + 3
                && raw[i + 1].is_ascii_hexdigit()
                && raw[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(MagnetError::InvalidEscape(key.to_string()));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let plus: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    Ok(percent_decode(&plus).decode_utf8_lossy().into_owned())
}

fn parse_so(value: &str, out: &mut Vec<RangeInclusive<u32>>) {
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 {
            return None;
        }
        s.parse().ok().filter(|&n| n <= MAX_SO_INDEX)
    };
    for item in value.split(',') {
        let range = match item.split_once('-') {
            Some((a, b)) => match (num(a), num(b)) {
                (Some(a), Some(b)) if a <= b => Some(a..=b),
                _ => None,
            },
            None => num(item).map(|n| n..=n),
        };
        out.extend(range);
    }
}

fn host_port(s: &str) -> Option<(String, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let port = p.parse().ok()?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    (!h.is_empty()).then(|| (h.to_string(), port))
}

impl Magnet {
    /// Parse a magnet link (see [`Magnet::parse_bytes`]).
    pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
        Magnet::parse_bytes(uri.as_bytes())
    }

    /// Parse a magnet link given as bytes. Parameter names are
    /// case-insensitive, values are percent-decoded (`+` is a space), and at
    /// least one `btih` or `btmh` exact topic is required. Unknown
    /// parameters and non-BitTorrent `xt` values are kept in
    /// [`Magnet::extra`].
    pub fn parse_bytes(uri: &[u8]) -> Result<Magnet, MagnetError> {
        if uri.len() < 7 || !uri[..7].eq_ignore_ascii_case(b"magnet:") {
            return Err(MagnetError::NotAMagnet);
        }
        let mut rest = &uri[7..];
        if let Some(r) = rest.strip_prefix(b"?") {
            rest = r;
        }
        let mut m = Magnet::default();
        for param in rest.split(|&b| b == b'&') {
            if param.is_empty() {
                continue;
            }
            let (k, v) = match param.iter().position(|&b| b == b'=') {
                Some(p) => (&param[..p], &param[p + 1..]),
                None => (param, &b""[..]),
            };
            let key = String::from_utf8_lossy(k).to_ascii_lowercase();
            let value = decode_value(&key, v)?;
            match key.as_str() {
                "xt" => {
                    let lower = value.to_ascii_lowercase();
                    if lower.starts_with("urn:btih:") {
                        let h = &value[9..];
                        let parsed = match h.len() {
                            40 => InfoHash::from_hex(h).ok(),
                            32 => InfoHash::from_base32(h).ok(),
                            _ => None,
                        };
                        m.info_hash_v1 = Some(
                            parsed.ok_or_else(|| MagnetError::InvalidInfoHash(h.to_string()))?,
                        );
                    } else if lower.starts_with("urn:btmh:") {
                        let h = &value[9..];
                        m.info_hash_v2 = Some(
                            InfoHashV2::from_multihash_hex(h)
                                .map_err(|_| MagnetError::InvalidInfoHash(h.to_string()))?,
                        );
                    } else {
                        m.extra.push((key, value));
                    }
                }
                "dn" => m.display_name = Some(value),
                "tr" => {
                    if !value.is_empty() {
                        m.trackers.push(value)
                    }
                }
                k if k.starts_with("tr.")
                    && k[3..].bytes().all(|b| b.is_ascii_digit())
                    && k.len() > 3 =>
                {
                    if !value.is_empty() {
                        m.trackers.push(value)
                    }
                }
                "ws" => {
                    if !value.is_empty() {
                        m.web_seeds.push(value)
                    }
                }
                "x.pe" => {
                    if !value.is_empty() {
                        m.peers.push(value)
                    }
                }
                "so" => parse_so(&value, &mut m.select_only),
                "xl" => m.exact_length = value.parse().ok(),
                "dht" => m.dht_nodes.extend(host_port(&value)),
                _ => m.extra.push((key, value)),
            }
        }
        if m.info_hash_v1.is_none() && m.info_hash_v2.is_none() {
            return Err(MagnetError::MissingInfoHash);
        }
        Ok(m)
    }

    /// The `x.pe` peers that are IP literals with a port (host names and
    /// malformed entries skipped).
    pub fn peer_addrs(&self) -> Vec<SocketAddr> {
        self.peers.iter().filter_map(|p| p.parse().ok()).collect()
    }

    /// The selected file indices below `num_files`, ascending and unique.
    pub fn selected_indices(&self, num_files: usize) -> Vec<usize> {
        let mut sel = vec![false; num_files];
        for r in &self.select_only {
            let (a, b) = (*r.start() as usize, *r.end() as usize);
            if a >= num_files {
                continue;
            }
            for s in &mut sel[a..=b.min(num_files - 1)] {
                *s = true;
            }
        }
        (0..num_files).filter(|&i| sel[i]).collect()
    }

    /// The 20-byte hash used on the wire: v1, or the truncated v2 hash.
    pub fn wire_info_hash(&self) -> Option<InfoHash> {
        self.info_hash_v1
            .or_else(|| self.info_hash_v2.map(|h| h.truncated()))
    }
}

/// Everything but RFC 3986 unreserved characters is escaped.
const ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("magnet:")?;
        let mut sep = '?';
        let mut put = |f: &mut fmt::Formatter<'_>, k: &str, v: &str, escape: bool| {
            let r = if escape {
                write!(f, "{sep}{k}={}", utf8_percent_encode(v, ESCAPE))
            } else {
                write!(f, "{sep}{k}={v}")
            };
            sep = '&';
            r
        };
        if let Some(h) = self.info_hash_v1 {
            put(f, "xt", &format!("urn:btih:{}", h.to_hex()), false)?;
        }
        if let Some(h) = self.info_hash_v2 {
            put(
                f,
                "xt",
                &format!("urn:btmh:{}", h.to_multihash_hex()),
                false,
            )?;
        }
        if let Some(dn) = &self.display_name {
            put(f, "dn", dn, true)?;
        }
        if let Some(xl) = self.exact_length {
            put(f, "xl", &xl.to_string(), false)?;
        }
        for t in &self.trackers {
            put(f, "tr", t, true)?;
        }
        for w in &self.web_seeds {
            put(f, "ws", w, true)?;
        }
        for p in &self.peers {
            put(f, "x.pe", p, true)?;
        }
        for (h, p) in &self.dht_nodes {
            put(f, "dht", &format!("{h}:{p}"), true)?;
        }
        if !self.select_only.is_empty() {
            let items: Vec<String> = self
                .select_only
                .iter()
                .map(|r| {
                    if r.start() == r.end() {
                        r.start().to_string()
                    } else {
                        format!("{}-{}", r.start(), r.end())
                    }
                })
                .collect();
            put(f, "so", &items.join(","), false)?;
        }
        for (k, v) in &self.extra {
            put(f, k, v, true)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Magnet {
    type Err = MagnetError;
    fn from_str(s: &str) -> Result<Self, MagnetError> {
        Magnet::parse(s)
    }
}
