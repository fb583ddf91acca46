//! Shared helpers for the bip example tools (`cargo run --release --example NAME`).
//!
//! The tools themselves live next to this file as `[[example]]` targets.

/// Print a one-line error to stderr and exit with `code`.
pub fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(code)
}

/// A fresh `-BP0100-…` peer id from an OS-seeded RNG (the tools' own identity).
pub fn our_peer_id() -> bip_util::PeerId {
    use rand::SeedableRng;
    bip_util::generate_peer_id(&mut rand::rngs::StdRng::from_os_rng())
}

/// The README's snippets, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// What the tools' info-hash arguments accept, for their `--help`.
pub const INFO_HASH_FORMS: &str =
    "40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link";

/// Parses an info hash as the tracker, handshake and dht tools take it: 40 hex digits or 32
/// base32 characters (a v1 hash), 64 hex digits (a v2 hash, truncated to its first 20 bytes as
/// BEP 52 does for the swarm id on trackers, the DHT and in the handshake), or a magnet link
/// (its `btih`, else its `btmh` truncated likewise).
///
/// ```
/// use bip_examples::parse_info_hash;
/// let v1 = "0123456789abcdef0123456789abcdef01234567";
/// let want = parse_info_hash(v1).unwrap();
/// assert_eq!(parse_info_hash("AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH"), Ok(want));
/// assert_eq!(parse_info_hash(&format!("{v1}89abcdef0123456789abcdef")), Ok(want));
/// assert_eq!(parse_info_hash(&format!("magnet:?xt=urn:btih:{v1}&dn=x")), Ok(want));
/// assert!(parse_info_hash("0123").is_err());
/// ```
///
/// # Errors
///
/// A one-line message naming the accepted forms, or what is wrong with the hash or link.
pub fn parse_info_hash(s: &str) -> Result<bip_util::InfoHash, String> {
    use bip_util::{InfoHash, InfoHashV2};
    let s = s.trim();
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("magnet:"))
    {
        let m = bip_metainfo::Magnet::parse(s).map_err(|e| format!("magnet link: {e}"))?;
        return m
            .info_hash_v1
            .or_else(|| m.info_hash_v2.map(|h| h.truncated()))
            .ok_or_else(|| "magnet link: no info hash".to_string());
    }
    let r = match s.len() {
        40 => InfoHash::from_hex(s),
        32 => InfoHash::from_base32(s),
        64 => InfoHashV2::from_hex(s).map(|h| h.truncated()),
        n => return Err(format!("expected {INFO_HASH_FORMS}, got {n} characters")),
    };
    r.map_err(|e| format!("info hash {s:?}: {e}"))
}
