//! The whole .torrent file.

use std::collections::BTreeMap;

use bip_bencode::{encode, Bencode, Dict};
use bip_util::{InfoHash, InfoHashV2};

use crate::error::{InvalidKind as K, MetainfoError};
use crate::info::{parse_info, piece_layer_root, Info};
use crate::path::repair_utf8;

/// A parsed .torrent file (v1, v2 or hybrid).
///
/// Known top-level fields are parsed into fields; everything else (and
/// known keys of an unexpected type) is kept in [`Metainfo::unknown`], so
/// [`Metainfo::to_bytes`] writes it back. The info dictionary is kept as its
/// exact bytes, so re-encoding never changes the info hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    /// The info dictionary.
    pub info: Info,
    /// `announce`: the tracker URL (whitespace trimmed).
    pub announce: Option<String>,
    /// BEP 12 `announce-list`: tiers of tracker URLs (empty URLs and
    /// malformed tiers dropped).
    pub announce_list: Vec<Vec<String>>,
    /// BEP 19 `url-list` web seeds as written (a single string becomes one
    /// entry). See [`Metainfo::web_seeds`] for the normalized form.
    pub url_list: Vec<String>,
    /// BEP 17 `httpseeds`.
    pub httpseeds: Vec<String>,
    /// DHT bootstrap `nodes` as (host, port).
    pub nodes: Vec<(String, u16)>,
    /// `comment`.
    pub comment: Option<String>,
    /// `created by`.
    pub created_by: Option<String>,
    /// `creation date` (seconds since the Unix epoch).
    pub creation_date: Option<i64>,
    /// `encoding`.
    pub encoding: Option<String>,
    /// BEP 52 `piece layers`: for each file longer than a piece, keyed by
    /// its `pieces root`, the SHA-256 hashes of its pieces. Validated against
    /// the roots when parsing. May be empty (hashes fetched from peers later).
    pub piece_layers: BTreeMap<[u8; 32], Vec<[u8; 32]>>,
    /// Top-level keys not interpreted above, kept for re-encoding (as their bencoded bytes:
    /// memory stays that of the file).
    pub unknown: BTreeMap<Vec<u8>, RawBencode>,
}

fn str_of(v: bip_bencode::Value<'_, '_>) -> Option<String> {
    v.as_bytes().map(|b| repair_utf8(b).0)
}

fn str_list(v: bip_bencode::Value<'_, '_>) -> Option<Vec<String>> {
    let l = v.as_list()?;
    l.iter().map(str_of).collect()
}

impl Metainfo {
    /// Parse a .torrent file within the default [`LoadLimits`](crate::LoadLimits) (10 MB,
    /// 3,000,000 bencode values, depth 100).
    ///
    /// Decoding is lenient for v1 (libtorrent accepts unsorted keys and
    /// leading zeros, and ignores bytes after the top-level dictionary), but
    /// the info dictionary of a v2 or hybrid torrent must be canonical.
    ///
    /// ```
    /// use bip_metainfo::Metainfo;
    /// let m = Metainfo::from_bytes(
    ///     b"d8:announce9:udp://t:14:infod6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
    /// )?;
    /// assert_eq!(m.announce.as_deref(), Some("udp://t:1"));
    /// assert_eq!(m.trackers(), vec![vec!["udp://t:1".to_string()]]);
    /// # Ok::<(), bip_metainfo::MetainfoError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Metainfo, MetainfoError> {
        Self::from_bytes_with(bytes, &crate::LoadLimits::default())
    }

    /// [`Metainfo::from_bytes`] within other [`LoadLimits`](crate::LoadLimits) (the default
    /// caps the file at 10 MB and 3,000,000 bencode values).
    ///
    /// # Errors
    /// [`MetainfoError::TooLarge`] and [`MetainfoError::TooManyTokens`] past the limits, else
    /// as [`Metainfo::from_bytes`].
    pub fn from_bytes_with(
        bytes: &[u8],
        limits: &crate::LoadLimits,
    ) -> Result<Metainfo, MetainfoError> {
        let doc = limits.decode(bytes)?;
        let root = doc.root().as_dict().ok_or(MetainfoError::NotADictionary)?;
        let info_v = root.require(b"info")?;
        info_v.dict()?;
        let info_raw = info_v.raw();
        let info = parse_info(info_v, doc.soft_faults())?;
        let mut m = Metainfo {
            info,
            announce: None,
            announce_list: Vec::new(),
            url_list: Vec::new(),
            httpseeds: Vec::new(),
            nodes: Vec::new(),
            comment: None,
            created_by: None,
            creation_date: None,
            encoding: None,
            piece_layers: BTreeMap::new(),
            unknown: BTreeMap::new(),
        };
        for (k, v) in root.iter() {
            let ok = match k {
                b"info" => true,
                b"announce" => str_of(v)
                    .map(|s| m.announce = Some(s.trim().to_string()))
                    .is_some(),
                b"announce-list" => v
                    .as_list()
                    .map(|tiers| {
                        for t in tiers.iter() {
                            if let Some(urls) = t.as_list() {
                                let tier: Vec<String> = urls
                                    .iter()
                                    .filter_map(str_of)
                                    .map(|s| s.trim().to_string())
                                    .filter(|s| !s.is_empty())
                                    .collect();
                                if !tier.is_empty() {
                                    m.announce_list.push(tier);
                                }
                            }
                        }
                    })
                    .is_some(),
                b"url-list" => match str_of(v) {
                    Some(s) => {
                        if !s.is_empty() {
                            m.url_list.push(s);
                        }
                        true
                    }
                    None => str_list(v).map(|l| m.url_list = l).is_some(),
                },
                b"httpseeds" => str_list(v).map(|l| m.httpseeds = l).is_some(),
                b"nodes" => v
                    .as_list()
                    .map(|l| {
                        for n in l.iter() {
                            let pair = n.as_list().and_then(|p| {
                                let host = str_of(p.get(0)?)?;
                                let port = u16::try_from(p.get(1)?.as_int()?).ok()?;
                                Some((host, port))
                            });
                            m.nodes.extend(pair);
                        }
                    })
                    .is_some(),
                b"comment" => str_of(v).map(|s| m.comment = Some(s)).is_some(),
                b"created by" => str_of(v).map(|s| m.created_by = Some(s)).is_some(),
                b"creation date" => v.as_int().map(|d| m.creation_date = Some(d)).is_some(),
                b"encoding" => str_of(v).map(|s| m.encoding = Some(s)).is_some(),
                b"piece layers" if m.info.version.has_v2() => {
                    m.piece_layers = parse_piece_layers(&m.info, v.dict()?)?;
                    true
                }
                _ => false,
            };
            if !ok && !m.unknown.contains_key(k) {
                m.unknown
                    .insert(k.to_vec(), RawBencode::of(v, doc.soft_faults()));
            }
        }
        // The info bytes are copied once the decoded tape is freed, so that the two never add
        // up.
        drop(doc);
        m.info.set_raw(info_raw);
        Ok(m)
    }

    /// SHA-1 of the info dictionary, for torrents with v1 pieces.
    pub fn info_hash_v1(&self) -> Option<InfoHash> {
        self.info.info_hash_v1()
    }

    /// SHA-256 of the info dictionary, for torrents with a v2 file tree.
    pub fn info_hash_v2(&self) -> Option<InfoHashV2> {
        self.info.info_hash_v2()
    }

    /// The tracker tiers: `announce-list` if present, else one tier with
    /// `announce` (empty when there is neither).
    pub fn trackers(&self) -> Vec<Vec<String>> {
        if !self.announce_list.is_empty() {
            self.announce_list.clone()
        } else {
            self.announce
                .iter()
                .filter(|a| !a.is_empty())
                .map(|a| vec![a.clone()])
                .collect()
        }
    }

    /// Web seeds normalized as libtorrent does: spaces percent-escaped, a
    /// `/` appended for torrents of more than one file, duplicates and empty entries
    /// removed.
    pub fn web_seeds(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for u in &self.url_list {
            let mut s = u.trim().replace(' ', "%20");
            if s.is_empty() {
                continue;
            }
            if self.info.files().count() > 1 && !s.ends_with('/') {
                s.push('/');
            }
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The v2 piece hashes of a file, by its `pieces root`.
    pub fn piece_layer(&self, pieces_root: &[u8; 32]) -> Option<&[[u8; 32]]> {
        self.piece_layers.get(pieces_root).map(|v| v.as_slice())
    }

    /// BEP 38 `similar` info hashes (info dict and top level).
    pub fn similar_torrents(&self) -> Vec<[u8; 20]> {
        let mut out = self.info.similar.clone();
        if let Some(Bencode::List(l)) = self
            .unknown
            .get(b"similar".as_slice())
            .map(|r| r.to_bencode())
        {
            out.extend(
                l.iter()
                    .filter_map(|b| <[u8; 20]>::try_from(b.as_bytes()?).ok()),
            );
        }
        out
    }

    /// BEP 38 `collections` (info dict and top level).
    pub fn collections(&self) -> Vec<String> {
        let mut out = self.info.collections.clone();
        if let Some(Bencode::List(l)) = self
            .unknown
            .get(b"collections".as_slice())
            .map(|r| r.to_bencode())
        {
            out.extend(
                l.iter()
                    .filter_map(|b| b.as_bytes())
                    .map(|b| repair_utf8(b).0),
            );
        }
        out
    }

    /// Encode the torrent. The info dictionary is written byte for byte as
    /// parsed (same info hashes); the other fields are re-encoded in
    /// canonical form, unknown keys included.
    pub fn to_bytes(&self) -> Vec<u8> {
        TopLevel {
            announce: self.announce.as_deref(),
            announce_list: &self.announce_list,
            url_list: &self.url_list,
            url_list_as_string: false,
            httpseeds: &self.httpseeds,
            nodes: &self.nodes,
            comment: self.comment.as_deref(),
            created_by: self.created_by.as_deref(),
            creation_date: self.creation_date,
            encoding: self.encoding.as_deref(),
            piece_layers: &self.piece_layers,
            unknown: &self.unknown,
        }
        .encode(self.info.raw())
    }

    /// A magnet link for this torrent: its info hashes, name, trackers and
    /// web seeds.
    pub fn magnet(&self) -> crate::Magnet {
        crate::Magnet {
            info_hash_v1: self.info_hash_v1(),
            info_hash_v2: self.info_hash_v2(),
            display_name: Some(self.info.name.clone()),
            trackers: self.trackers().into_iter().flatten().collect(),
            web_seeds: self.web_seeds(),
            ..Default::default()
        }
    }
}

fn parse_piece_layers(
    info: &Info,
    d: Dict<'_, '_>,
) -> Result<BTreeMap<[u8; 32], Vec<[u8; 32]>>, MetainfoError> {
    let mut out = BTreeMap::new();
    // The files by root (the first file holding a root is the one checked).
    let mut by_root: Vec<(&[u8; 32], usize)> = Vec::new();
    if !d.is_empty() {
        by_root.extend(
            info.all_files()
                .iter()
                .filter_map(|f| Some((f.pieces_root()?, f.index()))),
        );
        by_root.sort_unstable();
    }
    for (k, v) in d.entries() {
        let key = k.as_bytes().unwrap_or_default();
        let field = v.path();
        let root: [u8; 32] = key.try_into().map_err(|_| {
            MetainfoError::invalid_detail(&field, K::PieceLayer, "key is not 32 bytes")
        })?;
        let first = by_root.partition_point(|(r, _)| **r < root);
        let file = by_root
            .get(first)
            .filter(|(r, _)| **r == root)
            .and_then(|(_, i)| info.file(*i))
            .ok_or_else(|| {
                MetainfoError::invalid_detail(&field, K::PieceLayer, "no file has this root")
            })?;
        let bytes = v.bytes()?;
        if bytes.len() % 32 != 0 {
            return Err(MetainfoError::invalid_detail(
                &field,
                K::PieceLayer,
                "length is not a multiple of 32",
            ));
        }
        let expected = file.num_pieces_v2(info.piece_length);
        if bytes.len() as u64 != expected * 32 {
            return Err(MetainfoError::invalid_detail(
                &field,
                K::PieceLayer,
                format!(
                    "{} hashes for a file of {} pieces",
                    bytes.len() / 32,
                    expected
                ),
            ));
        }
        let layer: Vec<[u8; 32]> = bytes
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect();
        if file.length() > info.piece_length && piece_layer_root(&layer, info.piece_length) != root
        {
            return Err(MetainfoError::invalid_detail(
                &field,
                K::PieceLayer,
                "hashes do not match the pieces root",
            ));
        }
        out.insert(root, layer);
    }
    Ok(out)
}

/// The top-level fields of a .torrent around its info dictionary: the one encoder of the
/// top-level dictionary, used by [`Metainfo::to_bytes`] and by [`create`](crate::create).
pub(crate) struct TopLevel<'a> {
    pub(crate) announce: Option<&'a str>,
    pub(crate) announce_list: &'a [Vec<String>],
    pub(crate) url_list: &'a [String],
    /// Write a single web seed as a string (as mktorrent does) rather than a list of one.
    pub(crate) url_list_as_string: bool,
    pub(crate) httpseeds: &'a [String],
    pub(crate) nodes: &'a [(String, u16)],
    pub(crate) comment: Option<&'a str>,
    pub(crate) created_by: Option<&'a str>,
    pub(crate) creation_date: Option<i64>,
    pub(crate) encoding: Option<&'a str>,
    pub(crate) piece_layers: &'a BTreeMap<[u8; 32], Vec<[u8; 32]>>,
    pub(crate) unknown: &'a BTreeMap<Vec<u8>, RawBencode>,
}

impl TopLevel<'_> {
    /// The whole torrent: these fields and `info_raw` (written as is), keys sorted.
    pub(crate) fn encode(&self, info_raw: &[u8]) -> Vec<u8> {
        let mut entries: BTreeMap<&[u8], Vec<u8>> = BTreeMap::new();
        for (k, v) in self.unknown {
            entries.insert(k, v.as_bytes().to_vec());
        }
        let mut put = |k: &'static str, v: Bencode<'_>| {
            entries.insert(k.as_bytes(), v.encode());
        };
        let s = |x: &str| Bencode::Bytes(x.as_bytes().to_vec().into());
        let sl = |l: &[String]| Bencode::List(l.iter().map(|x| s(x)).collect());
        if let Some(a) = self.announce {
            put("announce", s(a));
        }
        if !self.announce_list.is_empty() {
            put(
                "announce-list",
                Bencode::List(self.announce_list.iter().map(|t| sl(t)).collect()),
            );
        }
        match self.url_list {
            [] => {}
            [one] if self.url_list_as_string => put("url-list", s(one)),
            l => put("url-list", sl(l)),
        }
        if !self.httpseeds.is_empty() {
            put("httpseeds", sl(self.httpseeds));
        }
        if !self.nodes.is_empty() {
            let l = self
                .nodes
                .iter()
                .map(|(h, p)| Bencode::List(vec![s(h), Bencode::Int(i64::from(*p))]))
                .collect();
            put("nodes", Bencode::List(l));
        }
        if let Some(c) = self.comment {
            put("comment", s(c));
        }
        if let Some(c) = self.created_by {
            put("created by", s(c));
        }
        if let Some(d) = self.creation_date {
            put("creation date", Bencode::Int(d));
        }
        if let Some(e) = self.encoding {
            put("encoding", s(e));
        }
        if !self.piece_layers.is_empty() {
            let mut layers = Vec::new();
            encode::dict_start(&mut layers);
            for (root, layer) in self.piece_layers {
                encode::bytes(&mut layers, root);
                let n = layer.len() * 32;
                layers.extend_from_slice(n.to_string().as_bytes());
                layers.push(b':');
                for h in layer {
                    layers.extend_from_slice(h);
                }
            }
            encode::end(&mut layers);
            entries.insert(b"piece layers", layers);
        }
        let total: usize = entries.iter().map(|(k, v)| k.len() + v.len() + 8).sum();
        let mut out = Vec::with_capacity(total + info_raw.len() + 8);
        encode::dict_start(&mut out);
        let mut info_written = false;
        for (k, v) in &entries {
            if !info_written && *k > &b"info"[..] {
                encode::bytes(&mut out, b"info");
                out.extend_from_slice(info_raw);
                info_written = true;
            }
            if *k == &b"info"[..] {
                continue;
            }
            encode::bytes(&mut out, k);
            out.extend_from_slice(v);
        }
        if !info_written {
            encode::bytes(&mut out, b"info");
            out.extend_from_slice(info_raw);
        }
        encode::end(&mut out);
        out
    }
}

/// One bencoded value kept as its bytes (an unknown key's value): canonical bencode, the input's
/// own bytes when they were canonical. Costs its size in memory, not a tree of allocations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawBencode(Vec<u8>);

impl RawBencode {
    /// The value of `v`; re-encoded canonically when a soft fault lies inside it.
    pub(crate) fn of(v: bip_bencode::Value<'_, '_>, faults: &[bip_bencode::SoftFault]) -> Self {
        let span = v.span();
        if faults.iter().any(|f| span.contains(&f.offset)) {
            RawBencode(v.to_bencode().encode())
        } else {
            RawBencode(v.raw().to_vec())
        }
    }

    /// The canonical bencoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as a tree (borrowing these bytes).
    pub fn to_bencode(&self) -> Bencode<'_> {
        bip_bencode::Decoder::lenient()
            .decode(&self.0)
            .map(|d| d.root().to_bencode())
            .unwrap_or(Bencode::Bytes(std::borrow::Cow::Borrowed(&[])))
    }
}
