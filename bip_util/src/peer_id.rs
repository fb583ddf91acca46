//! Peer id conventions (BEP 20): generating our own, and recognising other clients'.
//!
//! ```
//! use bip_util::{generate_peer_id, identify_client, PeerId};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let ours = generate_peer_id(&mut rng);
//! assert!(ours.printable().starts_with("-BP"));
//! assert_eq!(ours.client().unwrap().name, "bip");
//!
//! let theirs = PeerId::new(*b"-qB4450-9Rk3dLbGmMVJ");
//! assert_eq!(identify_client(&theirs).unwrap().to_string(), "qBittorrent 4.4.5");
//! ```

use std::fmt::{self, Write as _};

use rand::distr::Alphanumeric;
use rand::{Rng, RngCore};

use crate::error::LengthError;
use crate::id::PeerId;
use crate::sha::SHA1_LEN;

/// The BEP 20 version alphabet: `0`-`9` are 0-9, `A`-`Z` 10-35, `a`-`z` 36-61 (Shadow style adds
/// `.` = 62 and `-` = 63).
const VERSION_ALPHABET: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

/// Parses a decimal crate-version component at compile time and maps it to one version character.
const fn version_char(component: &str) -> u8 {
    let bytes = component.as_bytes();
    let mut value = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    if value < 62 {
        VERSION_ALPHABET[value]
    } else {
        b'z'
    }
}

/// The Azureus-style prefix of peer ids made by [`generate_peer_id`]: `-BP` followed by the crate's
/// major, minor and patch versions and `0`, then `-` (`-BP0100-` for version 0.1.0).
pub const PEER_ID_PREFIX: [u8; 8] = [
    b'-',
    b'B',
    b'P',
    version_char(env!("CARGO_PKG_VERSION_MAJOR")),
    version_char(env!("CARGO_PKG_VERSION_MINOR")),
    version_char(env!("CARGO_PKG_VERSION_PATCH")),
    b'0',
    b'-',
];

/// A fresh peer id for this client: [`PEER_ID_PREFIX`] (`-BP0100-` for bip 0.1.0) followed by 12
/// random ASCII letters and digits drawn from `rng`, so the id prints nicely.
pub fn generate_peer_id<R: RngCore + ?Sized>(rng: &mut R) -> PeerId {
    // The prefix is 8 bytes, well under 20: this cannot fail.
    let mut bytes = [0u8; SHA1_LEN];
    bytes[..PEER_ID_PREFIX.len()].copy_from_slice(&PEER_ID_PREFIX);
    fill_alphanumeric(&mut bytes[PEER_ID_PREFIX.len()..], rng);
    PeerId::new(bytes)
}

/// A peer id starting with `prefix` (any bytes, e.g. another client's Azureus-style tag),
/// completed with random ASCII letters and digits drawn from `rng`.
///
/// # Errors
///
/// [`LengthError`] (with `expected` = 20, the maximum) when `prefix` is longer than 20 bytes.
///
/// ```
/// use bip_util::peer_id_with_prefix;
///
/// let mut rng = rand::rngs::mock::StepRng::new(0, 1);
/// let id = peer_id_with_prefix(b"-XX1234-", &mut rng).unwrap();
/// assert!(id.as_bytes().starts_with(b"-XX1234-"));
/// assert!(peer_id_with_prefix(&[b'x'; 21], &mut rng).is_err());
/// ```
pub fn peer_id_with_prefix<R: RngCore + ?Sized>(
    prefix: &[u8],
    rng: &mut R,
) -> Result<PeerId, LengthError> {
    if prefix.len() > SHA1_LEN {
        return Err(LengthError::new(SHA1_LEN, prefix.len()));
    }
    let mut bytes = [0u8; SHA1_LEN];
    bytes[..prefix.len()].copy_from_slice(prefix);
    fill_alphanumeric(&mut bytes[prefix.len()..], rng);
    Ok(PeerId::new(bytes))
}

fn fill_alphanumeric<R: RngCore + ?Sized>(out: &mut [u8], rng: &mut R) {
    for b in out {
        *b = rng.sample(Alphanumeric);
    }
}

/// The client implementation and version read from a peer id (see [`identify_client`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClientInfo {
    /// Human-readable client name, e.g. `"qBittorrent"` or `"libtorrent (Rasterbar)"`.
    pub name: &'static str,
    /// Dotted version, e.g. `"4.4.5"`; empty when the id carries none.
    pub version: String,
}

impl fmt::Display for ClientInfo {
    /// `name version`, or just `name` when the version is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version.is_empty() {
            f.write_str(self.name)
        } else {
            write!(f, "{} {}", self.name, self.version)
        }
    }
}

/// Two-letter codes of Azureus-style ids (`-XX1234-`), from BEP 20 and clients seen since.
fn azureus_client(code: [u8; 2]) -> Option<&'static str> {
    Some(match &code {
        b"7T" => "aTorrent",
        b"AB" => "AnyEvent::BitTorrent",
        b"AG" | b"A~" => "Ares",
        b"AR" => "Arctic",
        b"AT" => "Artemis",
        b"AV" => "Avicora",
        b"AX" => "BitPump",
        b"AZ" => "Azureus (Vuze)",
        b"BB" => "BitBuddy",
        b"BC" => "BitComet",
        b"BE" => "BitTorrent SDK",
        b"BF" => "Bitflu",
        b"BG" => "BTG",
        b"BI" => "BiglyBT",
        b"BL" => "BitLord",
        b"BP" => "bip",
        b"BR" => "BitRocket",
        b"BS" => "BTSlave",
        b"BT" => "BitTorrent",
        b"BW" => "BitWombat",
        b"BX" => "Bittorrent X",
        b"CD" => "Enhanced CTorrent",
        b"CT" => "CTorrent",
        b"DE" => "Deluge",
        b"DP" => "Propagate Data Client",
        b"EB" => "EBit",
        b"ES" => "electric sheep",
        b"FC" => "FileCroc",
        b"FD" => "Free Download Manager",
        b"FT" => "FoxTorrent",
        b"FW" => "FrostWire",
        b"FX" => "Freebox BitTorrent",
        b"GS" => "GSTorrent",
        b"HL" => "Halite",
        b"HN" => "Hydranode",
        b"KG" => "KGet",
        b"KT" => "KTorrent",
        b"LC" => "LeechCraft",
        b"LH" => "LH-ABC",
        b"LP" => "Lphant",
        b"LR" => "LibreTorrent",
        b"LT" => "libtorrent (Rasterbar)",
        b"lt" => "libTorrent (Rakshasa)",
        b"LW" => "LimeWire",
        b"MG" => "MediaGet",
        b"MO" => "MonoTorrent",
        b"MP" => "MooPolice",
        b"MR" => "Miro",
        b"MT" => "MoonlightTorrent",
        b"NX" => "Net Transport",
        b"OS" => "OneSwarm",
        b"PD" => "Pando",
        b"PI" => "PicoTorrent",
        b"qB" => "qBittorrent",
        b"QD" => "QQDownload",
        b"QT" => "Qt 4 Torrent example",
        b"RT" => "Retriever",
        b"RZ" => "RezTorrent",
        b"SB" => "Swiftbit",
        b"SD" => "Thunder (Xunlei)",
        b"SM" => "SoMud",
        b"SS" => "SwarmScope",
        b"ST" => "SymTorrent",
        b"st" => "sharktorrent",
        b"S~" => "Shareaza alpha/beta",
        b"SZ" => "Shareaza",
        b"TL" => "Tribler",
        b"TN" => "TorrentDotNET",
        b"TR" => "Transmission",
        b"TS" => "Torrentstorm",
        b"TT" => "TuoTu",
        b"TX" => "Tixati",
        b"UL" => "uLeecher!",
        b"UM" => "µTorrent Mac",
        b"UT" => "µTorrent",
        b"UW" => "µTorrent Web",
        b"VG" => "Vagaa",
        b"WD" => "WebTorrent Desktop",
        b"WT" => "BitLet",
        b"WW" => "WebTorrent",
        b"WY" => "FireTorrent",
        b"XF" => "Xfplay",
        b"XL" => "Xunlei",
        b"XT" => "XanTorrent",
        b"XX" => "Xtorrent",
        b"ZT" => "ZipTorrent",
        _ => return None,
    })
}

/// One-letter codes of Shadow-style ids (`S58B-----`).
fn shadow_client(code: u8) -> Option<&'static str> {
    Some(match code {
        b'A' => "ABC",
        b'O' => "Osprey Permaseed",
        b'Q' => "BTQueue",
        b'R' => "Tribler",
        b'S' => "Shadow's client",
        b'T' => "BitTornado",
        b'U' => "UPnP NAT Bit Torrent",
        _ => return None,
    })
}

/// Value of one BEP 20 version character (`0`-`9`, `A`-`Z` = 10-35, `a`-`z` = 36-61).
fn version_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 36),
        _ => None,
    }
}

/// Joins version numbers with dots.
fn dotted(parts: &[u32]) -> String {
    let mut s = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        // Writing to a String cannot fail.
        let _ = write!(s, "{p}");
    }
    s
}

/// Azureus style: `-XXabcd-`. The version shows the four characters as numbers joined by dots,
/// dropping the fourth when it is zero (`-LT2080-` is 2.0.8, `-UT355W-` is 3.5.5.32), except for
/// clients known to write two decimal digits per part: BitComet (`-BC0196-` is 1.96) and WebTorrent
/// (`-WW0109-` is 1.9).
fn azureus(id: &[u8; SHA1_LEN]) -> Option<ClientInfo> {
    if id[0] != b'-' || id[7] != b'-' {
        return None;
    }
    let code = [id[1], id[2]];
    let name = azureus_client(code)?;
    let mut parts = [0u32; 4];
    for (part, &c) in parts.iter_mut().zip(&id[3..7]) {
        *part = version_value(c)?;
    }
    let two_digit = |hi: u32, lo: u32| (hi < 10 && lo < 10).then_some(hi * 10 + lo);
    let version = match &code {
        b"BC" => {
            let major = two_digit(parts[0], parts[1])?;
            two_digit(parts[2], parts[3])?;
            format!("{major}.{}{}", parts[2], parts[3])
        }
        b"WW" | b"WD" => {
            let major = two_digit(parts[0], parts[1])?;
            let minor = two_digit(parts[2], parts[3])?;
            format!("{major}.{minor}")
        }
        _ => {
            let shown = if parts[3] == 0 {
                &parts[..3]
            } else {
                &parts[..]
            };
            dotted(shown)
        }
    };
    Some(ClientInfo { name, version })
}

/// Parses `n-n-n-` (each `n` one to three decimal digits) at the start of `bytes`, returning the
/// three numbers and the number of bytes used.
fn dashed_triple(bytes: &[u8]) -> Option<([u32; 3], usize)> {
    let mut parts = [0u32; 3];
    let mut pos = 0;
    for part in &mut parts {
        let digits = bytes[pos..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 || bytes.get(pos + digits) != Some(&b'-') {
            return None;
        }
        for &c in &bytes[pos..pos + digits] {
            *part = *part * 10 + u32::from(c - b'0');
        }
        pos += digits + 1;
    }
    Some((parts, pos))
}

/// Mainline style: `M4-3-6--`, `M4-20-8-` (and Queen Bee's `Q1-0-0--`).
fn mainline(id: &[u8; SHA1_LEN]) -> Option<ClientInfo> {
    let name = match id[0] {
        b'M' => "BitTorrent (Mainline)",
        b'Q' => "Queen Bee",
        _ => return None,
    };
    let (parts, _) = dashed_triple(&id[1..])?;
    Some(ClientInfo {
        name,
        version: dotted(&parts),
    })
}

/// aria2: `A2-1-36-0-`.
fn aria2(id: &[u8; SHA1_LEN]) -> Option<ClientInfo> {
    if !id.starts_with(b"A2-") {
        return None;
    }
    let (parts, _) = dashed_triple(&id[3..])?;
    Some(ClientInfo {
        name: "aria2",
        version: dotted(&parts),
    })
}

/// Shadow style: a letter, up to five version characters padded with `-`, then `---`
/// (`S58B-----` is Shadow's client 5.8.11).
fn shadow(id: &[u8; SHA1_LEN]) -> Option<ClientInfo> {
    let name = shadow_client(id[0])?;
    if &id[6..9] != b"---" {
        return None;
    }
    let version_chars = &id[1..6];
    let len = version_chars
        .iter()
        .position(|&c| c == b'-')
        .unwrap_or(version_chars.len());
    if len == 0 || version_chars[len..].iter().any(|&c| c != b'-') {
        return None;
    }
    let mut parts = [0u32; 5];
    for (part, &c) in parts.iter_mut().zip(&version_chars[..len]) {
        *part = match c {
            b'.' => 62,
            c => version_value(c)?,
        };
    }
    Some(ClientInfo {
        name,
        version: dotted(&parts[..len]),
    })
}

/// XBT Client: `XBT054d-` is version 0.5.4 (`d` marks a debug build).
fn xbt(id: &[u8; SHA1_LEN]) -> Option<ClientInfo> {
    if !id.starts_with(b"XBT") || !matches!(id[6], b'd' | b'-') || id[7] != b'-' {
        return None;
    }
    let mut parts = [0u32; 3];
    for (part, &c) in parts.iter_mut().zip(&id[3..6]) {
        if !c.is_ascii_digit() {
            return None;
        }
        *part = u32::from(c - b'0');
    }
    Some(ClientInfo {
        name: "XBT Client",
        version: dotted(&parts),
    })
}

/// Recognises the client that made a peer id, following the conventions of BEP 20: Azureus style
/// (`-LT2080-`, with a table of over 80 two-letter codes), mainline (`M7-10-0-`), aria2
/// (`A2-1-36-0-`), Shadow style (`S58B-----`) and XBT (`XBT054-`).
///
/// Returns `None` for ids in none of these forms or with an unknown client code. The answer is a
/// hint only: any peer may send any id.
///
/// ```
/// use bip_util::{identify_client, PeerId};
///
/// let id = PeerId::new(*b"M7-10-0--abcdefghijk");
/// let client = identify_client(&id).unwrap();
/// assert_eq!(client.name, "BitTorrent (Mainline)");
/// assert_eq!(client.version, "7.10.0");
/// assert_eq!(identify_client(&PeerId::new([0; 20])), None);
/// ```
pub fn identify_client(id: &PeerId) -> Option<ClientInfo> {
    let bytes = id.as_bytes();
    azureus(bytes)
        .or_else(|| aria2(bytes))
        .or_else(|| mainline(bytes))
        .or_else(|| xbt(bytes))
        .or_else(|| shadow(bytes))
}

impl PeerId {
    /// The id as text: printable ASCII bytes as they are, every other byte (and the backslash, so
    /// the form is unambiguous) as `\xNN`. For logs: `-LT2080-onbl90WCE04m`.
    ///
    /// ```
    /// use bip_util::PeerId;
    ///
    /// let mut bytes = *b"-TR3000-xxxxxxxxxxxx";
    /// bytes[19] = 0xff;
    /// assert_eq!(PeerId::new(bytes).printable(), "-TR3000-xxxxxxxxxxx\\xff");
    /// ```
    pub fn printable(&self) -> String {
        let mut s = String::with_capacity(SHA1_LEN);
        for &b in self.as_bytes() {
            if (0x20..0x7f).contains(&b) && b != b'\\' {
                s.push(char::from(b));
            } else {
                // Writing to a String cannot fail.
                let _ = write!(s, "\\x{b:02x}");
            }
        }
        s
    }

    /// The client that made this id, if recognised: see [`identify_client`].
    pub fn client(&self) -> Option<ClientInfo> {
        identify_client(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ident(id: &[u8; 20]) -> Option<(String, String)> {
        identify_client(&PeerId::new(*id)).map(|c| (c.name.to_owned(), c.version))
    }

    fn is(id: &[u8; 20], name: &str, version: &str) {
        assert_eq!(
            ident(id),
            Some((name.to_owned(), version.to_owned())),
            "{}",
            String::from_utf8_lossy(id)
        );
    }

    #[test]
    fn real_ids() {
        is(b"-LT2080-onbl90WCE04m", "libtorrent (Rasterbar)", "2.0.8");
        is(
            b"-lt0D60-\x8a\x1b0c9d8e7f6a",
            "libTorrent (Rakshasa)",
            "0.13.6",
        );
        is(b"-TR3000-8rqhk7v9z4bm", "Transmission", "3.0.0");
        is(b"-TR400B-tj3yk0pkkd4l", "Transmission", "4.0.0.11");
        is(b"-qB4450-9Rk3dLbGmMVJ", "qBittorrent", "4.4.5");
        is(b"-UT355W-\x12\x34abcdefghij", "µTorrent", "3.5.5.32");
        is(b"-DE13F0-zbWqW1Ffh.(A", "Deluge", "1.3.15");
        is(b"-AZ5770-ZtXxkKJAoyBg", "Azureus (Vuze)", "5.7.7");
        is(
            b"M7-10-0--\x00\x01\x02abcdefgh",
            "BitTorrent (Mainline)",
            "7.10.0",
        );
        is(b"M4-3-6--xxxxxxxxxxxx", "BitTorrent (Mainline)", "4.3.6");
        is(b"M4-20-8-xxxxxxxxxxxx", "BitTorrent (Mainline)", "4.20.8");
        is(b"Q1-10-0-xxxxxxxxxxxx", "Queen Bee", "1.10.0");
        is(b"A2-1-36-0-7P1pCG5JdC", "aria2", "1.36.0");
        is(b"S58B-----xxxxxxxxxxx", "Shadow's client", "5.8.11");
        is(b"T03I-----XCDhnr9V0cQ", "BitTornado", "0.3.18");
        is(b"XBT054d-xxxxxxxxxxxx", "XBT Client", "0.5.4");
        is(b"-BP0100-abcdefghijkl", "bip", "0.1.0");
        is(b"-WW0109-abcdefghijkl", "WebTorrent", "1.9");
        is(b"-WD0012-abcdefghijkl", "WebTorrent Desktop", "0.12");
        is(b"-BC0196-abcdefghijkl", "BitComet", "1.96");
        is(b"-BC0201-abcdefghijkl", "BitComet", "2.01");
    }

    #[test]
    fn unknown_ids() {
        assert_eq!(ident(&[0; 20]), None);
        assert_eq!(ident(&[b'-'; 20]), None);
        assert_eq!(ident(b"-ZZ1234-abcdefghijkl"), None);
        assert_eq!(ident(b"-LT20 0-abcdefghijkl"), None);
        assert_eq!(ident(b"-LT2080xabcdefghijkl"), None);
        assert_eq!(ident(b"M7-10-0abcdefghijklm"), None);
        assert_eq!(ident(b"Mxxxxxxxxxxxxxxxxxxx"), None);
        assert_eq!(ident(b"A2-1-36xxxxxxxxxxxxx"), None);
        assert_eq!(ident(b"S58B--x--xxxxxxxxxxx"), None);
        assert_eq!(ident(b"S--------xxxxxxxxxxx"), None);
        assert_eq!(ident(b"XBT0x4d-xxxxxxxxxxxx"), None);
        assert_eq!(ident(b"-BC01A6-abcdefghijkl"), None);
    }

    #[test]
    fn client_display() {
        let c = identify_client(&PeerId::new(*b"-lt0D60-abcdefghijkl")).unwrap();
        assert_eq!(c.to_string(), "libTorrent (Rakshasa) 0.13.6");
        let empty = ClientInfo {
            name: "x",
            version: String::new(),
        };
        assert_eq!(empty.to_string(), "x");
    }

    #[test]
    fn generated_ids() {
        assert_eq!(&PEER_ID_PREFIX, b"-BP0100-");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let a = generate_peer_id(&mut rng);
        let b = generate_peer_id(&mut rng);
        assert_ne!(a, b);
        for id in [a, b] {
            assert!(id.as_bytes().starts_with(b"-BP0100-"));
            assert!(id.as_bytes()[8..].iter().all(u8::is_ascii_alphanumeric));
            assert_eq!(id.printable(), String::from_utf8_lossy(id.as_bytes()));
            assert_eq!(id.client().unwrap().to_string(), "bip 0.1.0");
        }
        assert_eq!(
            generate_peer_id(&mut ChaCha8Rng::seed_from_u64(9)),
            a,
            "reproducible with a seeded RNG"
        );
    }

    #[test]
    fn custom_prefixes() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for len in 0..=20 {
            let prefix = vec![b'\\'; len];
            let id = peer_id_with_prefix(&prefix, &mut rng).unwrap();
            assert_eq!(&id.as_bytes()[..len], &prefix[..]);
            assert!(id.as_bytes()[len..].iter().all(u8::is_ascii_alphanumeric));
        }
        assert_eq!(
            peer_id_with_prefix(&[0; 21], &mut rng),
            Err(LengthError::new(20, 21))
        );
    }

    #[test]
    fn printable_escapes() {
        let mut bytes = *b"-LT2080-onbl90WCE04m";
        assert_eq!(PeerId::new(bytes).printable(), "-LT2080-onbl90WCE04m");
        bytes[8] = 0;
        bytes[9] = b'\\';
        bytes[10] = 0x7f;
        bytes[11] = 0xe9;
        assert_eq!(
            PeerId::new(bytes).printable(),
            "-LT2080-\\x00\\x5c\\x7f\\xe990WCE04m"
        );
    }
}
