//! Bencode benchmark: bip_bencode side by side with librqbit-bencode,
//! bt_bencode, serde_bencode and libtorrent's C++ `bdecode` (through a small
//! C shim, see shim/lt_bdecode.cpp), on three deterministic workloads:
//! (a) a ~1 MB .torrent with thousands of files, (b) a stream of DHT KRPC
//! messages decoded one at a time, (c) deep nesting.
//!
//! Each measurement runs `ROUNDS` rounds of at least `ROUND_MS` milliseconds
//! (env `BENCH_ROUNDS`, `BENCH_ROUND_MS`; default 7 x 300 ms ≈ 2.1 s) and
//! reports the median round. Before timing, every library's navigation result is
//! checked against bip's (same checksum).
//!
//! `unsafe` appears only in the three FFI calls to the libtorrent shim.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bip_bencode::{Bencode, Decoder, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_bytes::{ByteBuf as SBuf, Bytes};

mod lt {
    extern "C" {
        pub fn lt_torrent_walk(buf: *const u8, len: i32) -> i64;
        pub fn lt_krpc_walk(buf: *const u8, len: i32) -> i64;
        pub fn lt_deep_walk(buf: *const u8, len: i32) -> i64;
        pub fn lt_decode_only(buf: *const u8, len: i32) -> i64;
        pub fn lt_entry_prepare(buf: *const u8, len: i32) -> i64;
        pub fn lt_entry_encode(buf: *const u8, len: i32) -> i64;
    }
}

/// Calls into the libtorrent shim. Safety: the shim only reads `len` bytes
/// from `buf` (a live slice) and keeps no pointer into it after returning.
fn lt_call(f: unsafe extern "C" fn(*const u8, i32) -> i64, buf: &[u8]) -> i64 {
    // SAFETY: see above; `buf` outlives the call and its length fits in i32.
    unsafe { f(buf.as_ptr(), buf.len() as i32) }
}

// ---------------------------------------------------------------- data

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "Season", "Disc", "Album", "Track",
];

fn word(rng: &mut StdRng) -> String {
    let mut s = String::new();
    for i in 0..rng.gen_range(1..4) {
        if i > 0 {
            s.push(if rng.gen_bool(0.5) { ' ' } else { '_' });
        }
        s.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    s
}

const SEED_TORRENT: u64 = 0x5eed_0001;
const SEED_KRPC: u64 = 0x5eed_0002;

fn gen_torrent(rng: &mut StdRng, files: usize) -> Vec<u8> {
    let mut list = Vec::new();
    for i in 0..files {
        let comps = rng.gen_range(2..=4);
        let mut path: Vec<Bencode<'static>> = Vec::new();
        for c in 0..comps {
            let mut w = word(rng);
            if c == comps - 1 {
                w = format!(
                    "{i:05} {w}.{}",
                    ["mkv", "flac", "txt", "jpg"][rng.gen_range(0..4)]
                );
            }
            path.push(Bencode::from(w));
        }
        let len: i64 = if rng.gen_bool(0.3) {
            rng.gen_range(0..100_000)
        } else {
            rng.gen_range(100_000..5_000_000_000)
        };
        list.push(bip_bencode::ben_map! { "length" => len, "path" => Bencode::List(path) });
    }
    let mut pieces = vec![0u8; 20 * 26_500];
    rng.fill(&mut pieces[..]);
    let info = bip_bencode::ben_map! {
        "files" => Bencode::List(list),
        "name" => "Bench Collection",
        "piece length" => 262_144,
        "pieces" => pieces,
    };
    let t = bip_bencode::ben_map! {
        "announce" => "http://tracker.example.org:6969/announce",
        "announce-list" => bip_bencode::ben_list![
            bip_bencode::ben_list!["http://tracker.example.org:6969/announce"],
            bip_bencode::ben_list!["udp://tracker.example.net:1337/announce", "udp://open.example.com:80/announce"],
        ],
        "comment" => "generated deterministically for the bip bencode benchmark",
        "created by" => "bip bench 0.0",
        "creation date" => 1_700_000_000,
        "info" => info,
    };
    t.encode()
}

fn rbytes(rng: &mut StdRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill(&mut v[..]);
    v
}

fn gen_krpc(rng: &mut StdRng) -> Vec<u8> {
    use bip_bencode::ben_map;
    let t = rbytes(rng, 2);
    let id = rbytes(rng, 20);
    let kind = rng.gen_range(0..6);
    let m = match kind {
        0 => {
            ben_map! { "a" => ben_map!{ "id" => id }, "q" => "ping", "t" => t, "v" => "LT\x01\x02", "y" => "q" }
        }
        1 => {
            ben_map! { "a" => ben_map!{ "id" => id, "target" => rbytes(rng, 20) }, "q" => "find_node", "t" => t, "v" => "LT\x01\x02", "y" => "q" }
        }
        2 => {
            ben_map! { "a" => ben_map!{ "id" => id, "info_hash" => rbytes(rng, 20), "want" => bip_bencode::ben_list!["n4"] }, "q" => "get_peers", "t" => t, "v" => "UT\x03\x05", "y" => "q" }
        }
        3 => {
            ben_map! { "ip" => rbytes(rng, 6), "r" => ben_map!{ "id" => id, "nodes" => rbytes(rng, 26 * 8) }, "t" => t, "y" => "r" }
        }
        4 => {
            let n = rng.gen_range(1..60);
            let tl = rng.gen_range(4..21);
            let tok = rbytes(rng, tl);
            let values: Vec<Bencode> = (0..n).map(|_| Bencode::from(rbytes(rng, 6))).collect();
            ben_map! { "ip" => rbytes(rng, 6), "r" => ben_map!{ "id" => id, "token" => tok, "values" => Bencode::List(values) }, "t" => t, "y" => "r" }
        }
        _ => {
            ben_map! { "ip" => rbytes(rng, 6), "r" => ben_map!{ "id" => id, "nodes" => rbytes(rng, 26 * 8), "token" => rbytes(rng, 8) }, "t" => t, "y" => "r" }
        }
    };
    m.encode()
}

fn gen_deep(items: usize, depth: usize) -> Vec<u8> {
    let mut v = vec![b'l'];
    for i in 0..items {
        if i % 2 == 0 {
            v.extend(std::iter::repeat_n(b'l', depth));
            v.extend_from_slice(format!("i{i}e3:abc").as_bytes());
            v.extend(std::iter::repeat_n(b'e', depth));
        } else {
            for _ in 0..depth / 2 {
                v.extend_from_slice(b"d1:a");
            }
            v.extend_from_slice(format!("i{i}e").as_bytes());
            v.extend(std::iter::repeat_n(b'e', depth / 2));
        }
    }
    v.push(b'e');
    v
}

// ---------------------------------------------------------------- typed structs

#[derive(Deserialize, Serialize)]
struct Torrent<'a> {
    #[serde(borrow)]
    announce: &'a str,
    #[serde(rename = "announce-list", borrow)]
    announce_list: Vec<Vec<&'a str>>,
    comment: &'a str,
    #[serde(rename = "created by")]
    created_by: &'a str,
    #[serde(rename = "creation date")]
    creation_date: i64,
    #[serde(borrow)]
    info: Info<'a>,
}
#[derive(Deserialize, Serialize)]
struct Info<'a> {
    #[serde(borrow)]
    files: Vec<FileEntry<'a>>,
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: i64,
    #[serde(borrow)]
    pieces: &'a Bytes,
}
#[derive(Deserialize, Serialize)]
struct FileEntry<'a> {
    length: i64,
    #[serde(borrow)]
    path: Vec<&'a str>,
}

#[derive(Deserialize, Serialize)]
struct TorrentOwned {
    announce: String,
    #[serde(rename = "announce-list")]
    announce_list: Vec<Vec<String>>,
    comment: String,
    #[serde(rename = "created by")]
    created_by: String,
    #[serde(rename = "creation date")]
    creation_date: i64,
    info: InfoOwned,
}
#[derive(Deserialize, Serialize)]
struct InfoOwned {
    files: Vec<FileOwned>,
    name: String,
    #[serde(rename = "piece length")]
    piece_length: i64,
    pieces: SBuf,
}
#[derive(Deserialize, Serialize)]
struct FileOwned {
    length: i64,
    path: Vec<String>,
}

fn torrent_sum<'s>(files: impl Iterator<Item = (i64, &'s [String])>) -> i64 {
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for (len, path) in files {
        total += len;
        comps += path.len() as i64;
        bytes += path.iter().map(|p| p.len() as i64).sum::<i64>();
    }
    total + comps * 1000003 + bytes * 7
}

fn torrent_sum_typed(t: &Torrent) -> i64 {
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in &t.info.files {
        total += f.length;
        comps += f.path.len() as i64;
        bytes += f.path.iter().map(|p| p.len() as i64).sum::<i64>();
    }
    total + comps * 1000003 + bytes * 7
}

#[derive(Deserialize)]
struct Krpc<'a> {
    #[serde(borrow, default)]
    a: Option<KArgs<'a>>,
    #[serde(borrow, default)]
    r: Option<KResp<'a>>,
    #[serde(borrow)]
    t: &'a Bytes,
    #[serde(borrow)]
    y: &'a Bytes,
}
#[derive(Deserialize)]
struct KArgs<'a> {
    #[serde(borrow)]
    id: &'a Bytes,
}
#[derive(Deserialize)]
struct KResp<'a> {
    #[serde(borrow)]
    id: &'a Bytes,
    #[serde(borrow, default)]
    nodes: Option<&'a Bytes>,
    #[serde(borrow, default)]
    values: Option<Vec<&'a Bytes>>,
}
#[derive(Deserialize)]
struct KrpcOwned {
    #[serde(default)]
    a: Option<KArgsOwned>,
    #[serde(default)]
    r: Option<KRespOwned>,
    t: SBuf,
    y: SBuf,
}
#[derive(Deserialize)]
struct KArgsOwned {
    id: SBuf,
}
#[derive(Deserialize)]
struct KRespOwned {
    id: SBuf,
    #[serde(default)]
    nodes: Option<SBuf>,
    #[serde(default)]
    values: Option<Vec<SBuf>>,
}

fn krpc_sum_parts(
    y: &[u8],
    t: &[u8],
    id: &[u8],
    nodes: Option<usize>,
    values: Option<&mut dyn Iterator<Item = usize>>,
) -> i64 {
    let mut sum = y[0] as i64 + t.len() as i64 + id[0] as i64;
    if y[0] == b'r' {
        sum += nodes.unwrap_or(0) as i64;
        if let Some(vs) = values {
            for v in vs {
                sum += 1000 + v as i64;
            }
        }
    }
    sum
}

fn krpc_sum_typed(m: &Krpc) -> i64 {
    let id = match (&m.a, &m.r) {
        (Some(a), _) if m.y[0] == b'q' => a.id,
        (_, Some(r)) => r.id,
        _ => return -1,
    };
    let (nodes, values) = match &m.r {
        Some(r) => (r.nodes.map(|n| n.len()), r.values.as_ref()),
        None => (None, None),
    };
    let mut it = values.map(|v| v.iter().map(|x| x.len()));
    krpc_sum_parts(
        m.y,
        m.t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}

fn krpc_sum_owned(m: &KrpcOwned) -> i64 {
    let id = match (&m.a, &m.r) {
        (Some(a), _) if m.y[0] == b'q' => &a.id,
        (_, Some(r)) => &r.id,
        _ => return -1,
    };
    let (nodes, values) = match &m.r {
        Some(r) => (r.nodes.as_ref().map(|n| n.len()), r.values.as_ref()),
        None => (None, None),
    };
    let mut it = values.map(|v| v.iter().map(|x| x.len()));
    krpc_sum_parts(
        &m.y,
        &m.t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}

// ---------------------------------------------------------------- navigation: bip

fn bip_torrent(v: Value) -> i64 {
    let files = v
        .get(b"info")
        .and_then(|i| i.get(b"files"))
        .and_then(|f| f.as_list())
        .unwrap();
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in files {
        let d = f.as_dict().unwrap();
        total += d.get(b"length").and_then(|l| l.as_int()).unwrap();
        for c in d.get(b"path").and_then(|p| p.as_list()).unwrap() {
            comps += 1;
            bytes += c.as_bytes().unwrap().len() as i64;
        }
    }
    total + comps * 1000003 + bytes * 7
}

// The same navigation over bip's owned tree (`Bencode`, BTreeMap dictionaries).
fn own_torrent(v: &Bencode) -> i64 {
    let files = v
        .get(b"info")
        .and_then(|i| i.get(b"files"))
        .and_then(|f| f.as_list())
        .unwrap();
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in files {
        total += f.get(b"length").and_then(|l| l.as_int()).unwrap();
        for c in f.get(b"path").and_then(|p| p.as_list()).unwrap() {
            comps += 1;
            bytes += c.as_bytes().unwrap().len() as i64;
        }
    }
    total + comps * 1000003 + bytes * 7
}

fn own_krpc(v: &Bencode) -> i64 {
    let y = v.get(b"y").and_then(|y| y.as_bytes()).unwrap();
    let t = v.get(b"t").and_then(|t| t.as_bytes()).unwrap();
    let body = v.get(if y[0] == b'q' { b"a" } else { b"r" }).unwrap();
    let id = body.get(b"id").and_then(|i| i.as_bytes()).unwrap();
    let nodes = body.get(b"nodes").and_then(|n| n.as_bytes()).map(|n| n.len());
    let values = body.get(b"values").and_then(|v| v.as_list());
    let mut it = values.map(|l| l.iter().map(|x| x.as_bytes().unwrap().len()));
    krpc_sum_parts(
        y,
        t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}

fn bip_krpc(v: Value) -> i64 {
    let d = v.as_dict().unwrap();
    let y = d.get(b"y").and_then(|y| y.as_bytes()).unwrap();
    let t = d.get(b"t").and_then(|t| t.as_bytes()).unwrap();
    let body = d
        .get(if y[0] == b'q' { b"a" } else { b"r" })
        .and_then(|b| b.as_dict())
        .unwrap();
    let id = body.get(b"id").and_then(|i| i.as_bytes()).unwrap();
    let nodes = body
        .get(b"nodes")
        .and_then(|n| n.as_bytes())
        .map(|n| n.len());
    let values = body.get(b"values").and_then(|v| v.as_list());
    let mut it = values.map(|l| l.iter().map(|x| x.as_bytes().unwrap().len()));
    krpc_sum_parts(
        y,
        t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}

fn bip_deep(v: Value) -> i64 {
    if let Some(i) = v.as_int() {
        return i;
    }
    if let Some(b) = v.as_bytes() {
        return b.len() as i64;
    }
    if let Some(l) = v.as_list() {
        return 1 + l.iter().map(bip_deep).sum::<i64>();
    }
    let d = v.as_dict().unwrap();
    1 + d
        .iter()
        .map(|(k, v)| k.len() as i64 + bip_deep(v))
        .sum::<i64>()
}

// ---------------------------------------------------------------- navigation: librqbit

type RqV<'a> = librqbit_bencode::BencodeValueBorrowed<'a>;
use librqbit_bencode::{BencodeValue as RB, ByteBuf as RqBuf};

fn rq_get<'v, 'a>(v: &'v RqV<'a>, k: &'static [u8]) -> Option<&'v RqV<'a>> {
    match v {
        RB::Dict(d) => d.get(&RqBuf(k)),
        _ => None,
    }
}
fn rq_bytes<'v>(v: &'v RqV) -> Option<&'v [u8]> {
    match v {
        RB::Bytes(b) => Some(b.0),
        _ => None,
    }
}
fn rq_list<'v, 'a>(v: &'v RqV<'a>) -> Option<&'v [RqV<'a>]> {
    match v {
        RB::List(l) => Some(l),
        _ => None,
    }
}

fn rq_torrent(v: &RqV) -> i64 {
    let files = rq_list(rq_get(rq_get(v, b"info").unwrap(), b"files").unwrap()).unwrap();
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in files {
        total += match rq_get(f, b"length") {
            Some(RB::Integer(i)) => *i,
            _ => panic!(),
        };
        for c in rq_list(rq_get(f, b"path").unwrap()).unwrap() {
            comps += 1;
            bytes += rq_bytes(c).unwrap().len() as i64;
        }
    }
    total + comps * 1000003 + bytes * 7
}

fn rq_krpc(v: &RqV) -> i64 {
    let y = rq_bytes(rq_get(v, b"y").unwrap()).unwrap();
    let t = rq_bytes(rq_get(v, b"t").unwrap()).unwrap();
    let body = rq_get(v, if y[0] == b'q' { b"a" } else { b"r" }).unwrap();
    let id = rq_bytes(rq_get(body, b"id").unwrap()).unwrap();
    let nodes = rq_get(body, b"nodes").and_then(rq_bytes).map(|n| n.len());
    let values = rq_get(body, b"values").and_then(rq_list);
    let mut it = values.map(|l| l.iter().map(|x| rq_bytes(x).unwrap().len()));
    krpc_sum_parts(
        y,
        t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}

fn rq_deep(v: &RqV) -> i64 {
    match v {
        RB::Integer(i) => *i,
        RB::Bytes(b) => b.0.len() as i64,
        RB::List(l) => 1 + l.iter().map(rq_deep).sum::<i64>(),
        RB::Dict(d) => {
            1 + d
                .iter()
                .map(|(k, v)| k.0.len() as i64 + rq_deep(v))
                .sum::<i64>()
        }
    }
}

fn rq_decode_value(buf: &[u8]) -> RqV<'_> {
    let mut de = librqbit_bencode::BencodeDeserializer::new_from_buf(buf).with_max_depth(1000);
    RqV::deserialize(&mut de).unwrap()
}

// ---------------------------------------------------------------- navigation: bt_bencode

use bt_bencode::Value as BtV;
fn bt_int(v: &BtV) -> i64 {
    match v.as_number().unwrap() {
        bt_bencode::value::Number::Signed(i) => *i,
        bt_bencode::value::Number::Unsigned(u) => *u as i64,
    }
}
fn bt_torrent(v: &BtV) -> i64 {
    let files = v
        .get("info")
        .unwrap()
        .get("files")
        .unwrap()
        .as_list()
        .unwrap();
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in files {
        total += bt_int(f.get("length").unwrap());
        for c in f.get("path").unwrap().as_list().unwrap() {
            comps += 1;
            bytes += c.as_byte_str().unwrap().len() as i64;
        }
    }
    total + comps * 1000003 + bytes * 7
}
fn bt_krpc(v: &BtV) -> i64 {
    let y: &[u8] = v.get("y").unwrap().as_byte_str().unwrap();
    let t: &[u8] = v.get("t").unwrap().as_byte_str().unwrap();
    let body = v.get(if y[0] == b'q' { "a" } else { "r" }).unwrap();
    let id: &[u8] = body.get("id").unwrap().as_byte_str().unwrap();
    let nodes = body
        .get("nodes")
        .and_then(|n| n.as_byte_str())
        .map(|n| n.len());
    let values = body.get("values").and_then(|v| v.as_list());
    let mut it = values.map(|l| l.iter().map(|x| x.as_byte_str().unwrap().len()));
    krpc_sum_parts(
        y,
        t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}
fn bt_deep(v: &BtV) -> i64 {
    match v {
        BtV::Int(_) => bt_int(v),
        BtV::ByteStr(b) => b.len() as i64,
        BtV::List(l) => 1 + l.iter().map(bt_deep).sum::<i64>(),
        BtV::Dict(d) => {
            1 + d
                .iter()
                .map(|(k, v)| k.len() as i64 + bt_deep(v))
                .sum::<i64>()
        }
    }
}

// ---------------------------------------------------------------- navigation: serde_bencode

use serde_bencode::value::Value as SbV;
fn sb_get<'v>(v: &'v SbV, k: &[u8]) -> Option<&'v SbV> {
    match v {
        SbV::Dict(d) => d.get(k),
        _ => None,
    }
}
fn sb_bytes(v: &SbV) -> Option<&[u8]> {
    match v {
        SbV::Bytes(b) => Some(b),
        _ => None,
    }
}
fn sb_list(v: &SbV) -> Option<&[SbV]> {
    match v {
        SbV::List(l) => Some(l),
        _ => None,
    }
}
fn sb_torrent(v: &SbV) -> i64 {
    let files = sb_list(sb_get(sb_get(v, b"info").unwrap(), b"files").unwrap()).unwrap();
    let (mut total, mut comps, mut bytes) = (0i64, 0i64, 0i64);
    for f in files {
        total += match sb_get(f, b"length") {
            Some(SbV::Int(i)) => *i,
            _ => panic!(),
        };
        for c in sb_list(sb_get(f, b"path").unwrap()).unwrap() {
            comps += 1;
            bytes += sb_bytes(c).unwrap().len() as i64;
        }
    }
    total + comps * 1000003 + bytes * 7
}
fn sb_krpc(v: &SbV) -> i64 {
    let y = sb_bytes(sb_get(v, b"y").unwrap()).unwrap();
    let t = sb_bytes(sb_get(v, b"t").unwrap()).unwrap();
    let body = sb_get(v, if y[0] == b'q' { b"a" } else { b"r" }).unwrap();
    let id = sb_bytes(sb_get(body, b"id").unwrap()).unwrap();
    let nodes = sb_get(body, b"nodes").and_then(sb_bytes).map(|n| n.len());
    let values = sb_get(body, b"values").and_then(sb_list);
    let mut it = values.map(|l| l.iter().map(|x| sb_bytes(x).unwrap().len()));
    krpc_sum_parts(
        y,
        t,
        id,
        nodes,
        it.as_mut().map(|i| i as &mut dyn Iterator<Item = usize>),
    )
}
fn sb_deep(v: &SbV) -> i64 {
    match v {
        SbV::Int(i) => *i,
        SbV::Bytes(b) => b.len() as i64,
        SbV::List(l) => 1 + l.iter().map(sb_deep).sum::<i64>(),
        SbV::Dict(d) => {
            1 + d
                .iter()
                .map(|(k, v)| k.len() as i64 + sb_deep(v))
                .sum::<i64>()
        }
    }
}

// ---------------------------------------------------------------- timing

struct Cfg {
    rounds: usize,
    round: Duration,
}

type Pending<'f> = Vec<(&'static str, &'static str, Box<dyn FnMut() -> i64 + 'f>)>;

/// Time all pending measurements, group by group, interleaving the rounds of
/// the libraries of a group (round 1 of each, then round 2 of each, ...), so
/// that changing load from other processes affects all of them alike; keeps
/// every round (rows carry the median).
fn run_pending(cfg: &Cfg, mut pend: Pending, rows: &mut Vec<Row>) {
    // `BENCH_GROUP=typed` (a prefix) keeps only the matching table groups.
    if let Ok(g) = std::env::var("BENCH_GROUP") {
        pend.retain(|(group, _, _)| group.starts_with(g.as_str()));
    }
    let mut groups: Vec<&'static str> = Vec::new();
    for (g, _, _) in &pend {
        if !groups.contains(g) {
            groups.push(g);
        }
    }
    for g in groups {
        let idx: Vec<usize> = (0..pend.len()).filter(|&i| pend[i].0 == g).collect();
        let mut iters = Vec::new();
        for &i in &idx {
            let f = &mut pend[i].2;
            black_box(f());
            let t0 = Instant::now();
            black_box(f());
            let one = t0.elapsed().as_secs_f64().max(1e-7);
            iters.push(((cfg.round.as_secs_f64() / one) as u64).max(1));
        }
        let mut times = vec![Vec::with_capacity(cfg.rounds); idx.len()];
        for _ in 0..cfg.rounds {
            for (k, &i) in idx.iter().enumerate() {
                let f = &mut pend[i].2;
                let t = Instant::now();
                let mut n = 0u64;
                while n < iters[k] || t.elapsed() < cfg.round {
                    black_box(f());
                    n += 1;
                }
                times[k].push(t.elapsed().as_secs_f64() / n as f64);
            }
        }
        for (k, &i) in idx.iter().enumerate() {
            let mut sorted = times[k].clone();
            sorted.sort_by(f64::total_cmp);
            rows.push(Row {
                group: g,
                lib: pend[i].1,
                secs: Some(median(&sorted)),
                rounds: std::mem::take(&mut times[k]),
                note: String::new(),
            });
        }
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

struct Row {
    group: &'static str,
    lib: &'static str,
    /// Median seconds per iteration over the rounds.
    secs: Option<f64>,
    /// Seconds per iteration of each round (rounds interleaved across the group's libraries).
    rounds: Vec<f64>,
    note: String,
}

fn print_table(title: &str, bytes: usize, msgs: Option<usize>, rows: &[Row]) {
    println!(
        "\n=== {title} ({} bytes{}) ===",
        bytes,
        msgs.map(|m| format!(", {m} messages")).unwrap_or_default()
    );
    match msgs {
        Some(_) => println!(
            "{:<22} {:<20} {:>10} {:>14}",
            "form", "library", "MB/s", "msgs/s"
        ),
        None => println!("{:<22} {:<20} {:>10}", "form", "library", "MB/s"),
    }
    let mut groups: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&r.group) {
            groups.push(r.group);
        }
    }
    for g in groups {
        // Every bip row (a group may measure more than one bip API).
        let mut bips: Vec<(f64, &str, &[f64])> = Vec::new();
        let mut best: Option<(f64, &str, &[f64])> = None;
        for r in rows.iter().filter(|r| r.group == g) {
            match r.secs {
                Some(s) => {
                    let mbs = bytes as f64 / s / 1e6;
                    match msgs {
                        Some(m) => println!(
                            "{:<22} {:<20} {:>10.0} {:>14.0}",
                            g,
                            r.lib,
                            mbs,
                            m as f64 / s
                        ),
                        None => println!("{:<22} {:<20} {:>10.0}", g, r.lib, mbs),
                    }
                    if r.lib.starts_with("bip") {
                        bips.push((s, r.lib, &r.rounds[..]));
                    } else if best.is_none_or(|(b, _, _)| s < b) {
                        best = Some((s, r.lib, &r.rounds[..]));
                    }
                }
                None => println!("{:<22} {:<20} {:>10}   {}", g, r.lib, "n/a", r.note),
            }
        }
        let Some((p, name, pr)) = best else { continue };
        for &(b, lib, br) in &bips {
            // Round k of bip against round k of the peer (run back to back).
            let mut per: Vec<f64> = br.iter().zip(pr).map(|(b, p)| p / b).collect();
            per.sort_by(f64::total_cmp);
            let spread = match (per.first(), per.last()) {
                (Some(lo), Some(hi)) => format!(", per round {lo:.2}..{hi:.2}"),
                _ => String::new(),
            };
            // Name the bip row when the group has several.
            let which = if bips.len() > 1 {
                format!("{lib}: ")
            } else {
                String::new()
            };
            println!(
                "{:<22} {which}bip/best-peer = {:.2}x (vs {}; medians of {} rounds{spread})",
                "",
                p / b,
                name,
                br.len()
            );
        }
    }
}

fn profile(what: &str, rng: &mut StdRng) {
    let _ = rng;
    let torrent = gen_torrent(&mut StdRng::seed_from_u64(SEED_TORRENT), 6000);
    let mut krng = StdRng::seed_from_u64(SEED_KRPC);
    let msgs: Vec<Vec<u8>> = (0..20_000).map(|_| gen_krpc(&mut krng)).collect();
    let deep = gen_deep(100, 400);
    let mut dec = Decoder::new();
    let mut s = 0i64;
    let n: usize = std::env::var("BENCH_PROF_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    match what {
        "a" => {
            for _ in 0..n {
                let doc = dec.decode(&torrent).unwrap();
                s += bip_torrent(doc.root());
                dec.recycle(doc);
            }
        }
        "b" => {
            for _ in 0..n / 5 {
                for m in &msgs {
                    let doc = dec.decode(m).unwrap();
                    s += bip_krpc(doc.root());
                    dec.recycle(doc);
                }
            }
        }
        "c" => {
            for _ in 0..n * 5 {
                let doc = dec.decode(&deep).unwrap();
                s += bip_deep(doc.root());
                dec.recycle(doc);
            }
        }
        "t" => {
            for _ in 0..n {
                s += torrent_sum_typed(&bip_bencode::from_bytes::<Torrent>(&torrent).unwrap());
            }
        }
        // The owned tree through serde (`from_bytes::<Bencode>`): torrent, KRPC.
        "oa" => {
            for _ in 0..n {
                s += own_torrent(&bip_bencode::from_bytes::<Bencode>(&torrent).unwrap());
            }
        }
        "ob" => {
            for _ in 0..n / 5 {
                for m in &msgs {
                    s += own_krpc(&bip_bencode::from_bytes::<Bencode>(m).unwrap());
                }
            }
        }
        "r" => {
            for _ in 0..n {
                s += torrent_sum_typed(&librqbit_bencode::from_bytes::<Torrent>(&torrent).unwrap());
            }
        }
        "q" => {
            for _ in 0..n / 5 {
                for m in &msgs {
                    s += krpc_sum_typed(&librqbit_bencode::from_bytes(m).unwrap());
                }
            }
        }
        "k" => {
            for _ in 0..n / 5 {
                for m in &msgs {
                    s += krpc_sum_typed(&bip_bencode::from_bytes(m).unwrap());
                }
            }
        }
        "s" => {
            let typed: Torrent = bip_bencode::from_bytes(&torrent).unwrap();
            for _ in 0..n {
                s += bip_bencode::to_vec(&typed).unwrap().len() as i64;
            }
        }
        "o" => {
            for _ in 0..n {
                let doc = dec.decode(&torrent).unwrap();
                s += own_torrent(&doc.root().to_bencode());
                dec.recycle(doc);
            }
        }
        "d" => {
            let tree = bip_bencode::decode(&deep).unwrap().root().to_bencode();
            for _ in 0..n * 10 {
                s += tree.encode().len() as i64;
            }
        }
        "e" => {
            let tree = bip_bencode::decode(&torrent).unwrap().root().to_bencode();
            for _ in 0..n {
                s += tree.encode().len() as i64;
            }
        }
        _ => panic!("BENCH_PROF=a|b|c|d|e|o|oa|ob|t|k|s|r|q"),
    }
    println!("{s}");
}

fn main() {
    let cfg = Cfg {
        rounds: std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
        round: Duration::from_millis(
            std::env::var("BENCH_ROUND_MS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(300),
        ),
    };
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(0x05ee_db17);
    if let Ok(p) = std::env::var("BENCH_PROF") {
        // Profiling aid: run one bip workload a fixed number of times (for
        // `perf stat -e instructions`, which is not disturbed by other load).
        profile(&p, &mut rng);
        return;
    }

    // ---- (a) torrent
    if only.is_empty() || only.contains('a') {
        let torrent = gen_torrent(&mut StdRng::seed_from_u64(SEED_TORRENT), 6000);
        let tb = &torrent[..];
        let mut dec = Decoder::new();
        let expect = {
            let doc = dec.decode(tb).unwrap();
            bip_torrent(doc.root())
        };
        let checks: [(&str, i64); 10] = [
            ("libtorrent", lt_call(lt::lt_torrent_walk, tb)),
            ("librqbit value", rq_torrent(&rq_decode_value(tb))),
            (
                "bt_bencode value",
                bt_torrent(&bt_bencode::from_slice(tb).unwrap()),
            ),
            (
                "serde_bencode value",
                sb_torrent(&serde_bencode::from_bytes(tb).unwrap()),
            ),
            (
                "bip typed",
                torrent_sum_typed(&bip_bencode::from_bytes::<Torrent>(tb).unwrap()),
            ),
            (
                "librqbit typed",
                torrent_sum_typed(&librqbit_bencode::from_bytes::<Torrent>(tb).unwrap()),
            ),
            (
                "bt_bencode typed",
                torrent_sum_typed(&bt_bencode::from_slice::<Torrent>(tb).unwrap()),
            ),
            ("serde_bencode typed", {
                let t: TorrentOwned = serde_bencode::from_bytes(tb).unwrap();
                torrent_sum(t.info.files.iter().map(|f| (f.length, &f.path[..])))
            }),
            (
                "bip Bencode (tape)",
                own_torrent(&bip_bencode::decode(tb).unwrap().root().to_bencode()),
            ),
            (
                "bip Bencode (serde)",
                own_torrent(&bip_bencode::from_bytes::<Bencode>(tb).unwrap()),
            ),
        ];
        for (name, c) in checks {
            assert_eq!(c, expect, "torrent checksum mismatch: {name}");
        }
        let nfiles = bip_bencode::decode(tb)
            .unwrap()
            .root()
            .get(b"info")
            .unwrap()
            .get(b"files")
            .unwrap()
            .as_list()
            .unwrap()
            .len();
        println!(
            "torrent: {} bytes, {} files, checksums agree ({expect})",
            tb.len(),
            nfiles
        );

        // Encode from each library's value representation.
        let bip_tree = bip_bencode::decode(tb).unwrap().root().to_bencode();
        let rq_tree = rq_decode_value(tb);
        let bt_tree: BtV = bt_bencode::from_slice(tb).unwrap();
        let sb_tree: SbV = serde_bencode::from_bytes(tb).unwrap();
        assert_eq!(bip_tree.encode(), tb);
        assert_eq!(bt_bencode::to_vec(&bt_tree).unwrap(), tb);
        assert_eq!(serde_bencode::to_bytes(&sb_tree).unwrap(), tb);
        let mut rq_out = Vec::new();
        librqbit_bencode::bencode_serialize_to_writer(&rq_tree, &mut rq_out).unwrap();
        let rq_canon = rq_out == tb;
        // Encode from a serde struct.
        let typed: Torrent = librqbit_bencode::from_bytes(tb).unwrap();
        let typed_owned: TorrentOwned = serde_bencode::from_bytes(tb).unwrap();
        assert_eq!(bt_bencode::to_vec(&typed).unwrap(), tb);
        assert_eq!(serde_bencode::to_bytes(&typed_owned).unwrap(), tb);
        assert_eq!(bip_bencode::to_vec(&typed).unwrap(), tb);
        let mut rows: Vec<Row> = Vec::new();
        let mut pend: Pending = Vec::new();
        pend.push((
            "value+navigate",
            "bip",
            Box::new(|| {
                let doc = dec.decode(tb).unwrap();
                let s = bip_torrent(doc.root());
                dec.recycle(doc);
                s
            }),
        ));
        pend.push((
            "value+navigate",
            "libtorrent",
            Box::new(|| lt_call(lt::lt_torrent_walk, tb)),
        ));
        pend.push((
            "value+navigate",
            "librqbit-bencode",
            Box::new(|| rq_torrent(&rq_decode_value(tb))),
        ));
        pend.push((
            "value+navigate",
            "bt_bencode",
            Box::new(|| bt_torrent(&bt_bencode::from_slice(tb).unwrap())),
        ));
        pend.push((
            "value+navigate",
            "serde_bencode",
            Box::new(|| sb_torrent(&serde_bencode::from_bytes(tb).unwrap())),
        ));
        // The owned tree: bip's `Bencode` (tape decode + `to_bencode`, or
        // one serde pass with `from_bytes::<Bencode>`) vs librqbit's `Value`
        // (the tree every peer builds), then the same navigation.
        let mut dec3 = Decoder::new();
        pend.push((
            "owned tree+navigate",
            "bip Bencode (tape)",
            Box::new(move || {
                let doc = dec3.decode(tb).unwrap();
                let s = own_torrent(&doc.root().to_bencode());
                dec3.recycle(doc);
                s
            }),
        ));
        pend.push((
            "owned tree+navigate",
            "bip Bencode (serde)",
            Box::new(|| own_torrent(&bip_bencode::from_bytes::<Bencode>(tb).unwrap())),
        ));
        pend.push((
            "owned tree+navigate",
            "librqbit-bencode",
            Box::new(|| rq_torrent(&rq_decode_value(tb))),
        ));

        let mut dec2 = Decoder::new();
        pend.push((
            "decode only (tape)",
            "bip",
            Box::new(move || {
                let doc = dec2.decode(tb).unwrap();
                let s = doc.root().as_dict().map_or(0, |d| d.len() as i64);
                dec2.recycle(doc);
                s
            }),
        ));
        pend.push((
            "decode only (tape)",
            "libtorrent",
            Box::new(|| lt_call(lt::lt_decode_only, tb)),
        ));
        pend.push((
            "typed (serde)",
            "bip",
            Box::new(|| torrent_sum_typed(&bip_bencode::from_bytes::<Torrent>(tb).unwrap())),
        ));
        pend.push((
            "typed (serde)",
            "librqbit-bencode",
            Box::new(|| torrent_sum_typed(&librqbit_bencode::from_bytes::<Torrent>(tb).unwrap())),
        ));
        pend.push((
            "typed (serde)",
            "bt_bencode",
            Box::new(|| torrent_sum_typed(&bt_bencode::from_slice::<Torrent>(tb).unwrap())),
        ));
        pend.push((
            "typed (serde)",
            "serde_bencode",
            Box::new(|| {
                let t: TorrentOwned = serde_bencode::from_bytes(tb).unwrap();
                torrent_sum(t.info.files.iter().map(|f| (f.length, &f.path[..])))
            }),
        ));

        pend.push((
            "encode value",
            "bip",
            Box::new(|| bip_tree.encode().len() as i64),
        ));
        pend.push((
            "encode value",
            "librqbit-bencode",
            Box::new(|| {
                let mut out = Vec::new();
                librqbit_bencode::bencode_serialize_to_writer(&rq_tree, &mut out).unwrap();
                out.len() as i64
            }),
        ));
        pend.push((
            "encode value",
            "bt_bencode",
            Box::new(|| bt_bencode::to_vec(&bt_tree).unwrap().len() as i64),
        ));
        pend.push((
            "encode value",
            "serde_bencode",
            Box::new(|| serde_bencode::to_bytes(&sb_tree).unwrap().len() as i64),
        ));

        pend.push((
            "encode struct",
            "bip",
            Box::new(|| bip_bencode::to_vec(&typed).unwrap().len() as i64),
        ));
        pend.push((
            "encode struct",
            "librqbit-bencode",
            Box::new(|| {
                let mut out = Vec::new();
                librqbit_bencode::bencode_serialize_to_writer(&typed, &mut out).unwrap();
                out.len() as i64
            }),
        ));
        pend.push((
            "encode struct",
            "bt_bencode",
            Box::new(|| bt_bencode::to_vec(&typed).unwrap().len() as i64),
        ));
        pend.push((
            "encode struct",
            "serde_bencode",
            Box::new(|| serde_bencode::to_bytes(&typed).unwrap().len() as i64),
        ));
        run_pending(&cfg, pend, &mut rows);
        print_table("(a) torrent", tb.len(), None, &rows);
        if !rq_canon {
            println!("note: librqbit-bencode's value encoding is not canonical (HashMap order), same length");
        }
    }

    // ---- (b) KRPC stream
    if only.is_empty() || only.contains('b') {
        let mut msgs: Vec<Vec<u8>> = {
            let mut rng = StdRng::seed_from_u64(SEED_KRPC);
            (0..20_000).map(|_| gen_krpc(&mut rng)).collect()
        };
        msgs.shrink_to_fit();
        let total: usize = msgs.iter().map(|m| m.len()).sum();
        let (mn, mx) = (
            msgs.iter().map(|m| m.len()).min().unwrap(),
            msgs.iter().map(|m| m.len()).max().unwrap(),
        );
        let mut dec = Decoder::new();
        let mut expect = 0i64;
        for m in &msgs {
            let doc = dec.decode(m).unwrap();
            let e = bip_krpc(doc.root());
            dec.recycle(doc);
            assert_eq!(lt_call(lt::lt_krpc_walk, m), e, "libtorrent");
            assert_eq!(rq_krpc(&rq_decode_value(m)), e, "librqbit");
            assert_eq!(
                bt_krpc(&bt_bencode::from_slice(m).unwrap()),
                e,
                "bt_bencode"
            );
            assert_eq!(
                sb_krpc(&serde_bencode::from_bytes(m).unwrap()),
                e,
                "serde_bencode"
            );
            assert_eq!(
                krpc_sum_typed(&bip_bencode::from_bytes(m).unwrap()),
                e,
                "bip typed"
            );
            assert_eq!(
                krpc_sum_typed(&librqbit_bencode::from_bytes(m).unwrap()),
                e,
                "librqbit typed"
            );
            assert_eq!(
                krpc_sum_typed(&bt_bencode::from_slice(m).unwrap()),
                e,
                "bt typed"
            );
            assert_eq!(
                krpc_sum_owned(&serde_bencode::from_bytes(m).unwrap()),
                e,
                "serde_bencode typed"
            );
            assert_eq!(
                own_krpc(&bip_bencode::decode(m).unwrap().root().to_bencode()),
                e,
                "bip Bencode (tape)"
            );
            assert_eq!(
                own_krpc(&bip_bencode::from_bytes::<Bencode>(m).unwrap()),
                e,
                "bip Bencode (serde)"
            );
            expect += e;
        }
        println!(
            "\nkrpc: {} messages, {} bytes (sizes {mn}..{mx}, mean {}), checksums agree ({expect})",
            msgs.len(),
            total,
            total / msgs.len()
        );
        let mut rows: Vec<Row> = Vec::new();
        let mut pend: Pending = Vec::new();
        let ms = &msgs;
        pend.push((
            "value+navigate",
            "bip",
            Box::new(|| {
                let mut s = 0;
                for m in ms {
                    let doc = dec.decode(m).unwrap();
                    s += bip_krpc(doc.root());
                    dec.recycle(doc);
                }
                s
            }),
        ));
        pend.push((
            "value+navigate",
            "libtorrent",
            Box::new(|| ms.iter().map(|m| lt_call(lt::lt_krpc_walk, m)).sum()),
        ));
        pend.push((
            "value+navigate",
            "librqbit-bencode",
            Box::new(|| ms.iter().map(|m| rq_krpc(&rq_decode_value(m))).sum()),
        ));
        pend.push((
            "value+navigate",
            "bt_bencode",
            Box::new(|| {
                ms.iter()
                    .map(|m| bt_krpc(&bt_bencode::from_slice(m).unwrap()))
                    .sum()
            }),
        ));
        pend.push((
            "value+navigate",
            "serde_bencode",
            Box::new(|| {
                ms.iter()
                    .map(|m| sb_krpc(&serde_bencode::from_bytes(m).unwrap()))
                    .sum()
            }),
        ));
        let mut dec3 = Decoder::new();
        pend.push((
            "owned tree+navigate",
            "bip Bencode (tape)",
            Box::new(move || {
                let mut s = 0;
                for m in ms {
                    let doc = dec3.decode(m).unwrap();
                    s += own_krpc(&doc.root().to_bencode());
                    dec3.recycle(doc);
                }
                s
            }),
        ));
        pend.push((
            "owned tree+navigate",
            "bip Bencode (serde)",
            Box::new(|| {
                ms.iter()
                    .map(|m| own_krpc(&bip_bencode::from_bytes::<Bencode>(m).unwrap()))
                    .sum()
            }),
        ));
        pend.push((
            "owned tree+navigate",
            "librqbit-bencode",
            Box::new(|| ms.iter().map(|m| rq_krpc(&rq_decode_value(m))).sum()),
        ));
        let mut dec2 = Decoder::new();
        pend.push((
            "decode only (tape)",
            "bip",
            Box::new(move || {
                let mut s = 0;
                for m in ms {
                    let doc = dec2.decode(m).unwrap();
                    s += doc.root().as_dict().map_or(0, |d| d.len() as i64);
                    dec2.recycle(doc);
                }
                s
            }),
        ));
        pend.push((
            "decode only (tape)",
            "libtorrent",
            Box::new(|| ms.iter().map(|m| lt_call(lt::lt_decode_only, m)).sum()),
        ));
        pend.push((
            "typed (serde)",
            "bip",
            Box::new(|| {
                ms.iter()
                    .map(|m| krpc_sum_typed(&bip_bencode::from_bytes(m).unwrap()))
                    .sum()
            }),
        ));
        pend.push((
            "typed (serde)",
            "librqbit-bencode",
            Box::new(|| {
                ms.iter()
                    .map(|m| krpc_sum_typed(&librqbit_bencode::from_bytes(m).unwrap()))
                    .sum()
            }),
        ));
        pend.push((
            "typed (serde)",
            "bt_bencode",
            Box::new(|| {
                ms.iter()
                    .map(|m| krpc_sum_typed(&bt_bencode::from_slice(m).unwrap()))
                    .sum()
            }),
        ));
        pend.push((
            "typed (serde)",
            "serde_bencode",
            Box::new(|| {
                ms.iter()
                    .map(|m| krpc_sum_owned(&serde_bencode::from_bytes(m).unwrap()))
                    .sum()
            }),
        ));
        run_pending(&cfg, pend, &mut rows);
        print_table("(b) DHT KRPC stream", total, Some(msgs.len()), &rows);
    }

    // ---- (c) deep nesting
    if only.is_empty() || only.contains('c') {
        let deep = gen_deep(100, 400);
        let db = &deep[..];
        let mut dec = Decoder::new();
        let expect = {
            let doc = dec.decode(db).unwrap();
            bip_deep(doc.root())
        };
        assert_eq!(lt_call(lt::lt_deep_walk, db), expect, "libtorrent");
        assert_eq!(rq_deep(&rq_decode_value(db)), expect, "librqbit");
        let bt_ok = bt_bencode::from_slice::<BtV>(db).map(|v| bt_deep(&v));
        let sb_ok = serde_bencode::from_bytes::<SbV>(db).map(|v| sb_deep(&v));
        println!("\ndeep: {} bytes, 100 items of nesting 400 (lists) / 200 (dicts), checksums agree ({expect})", db.len());
        let mut rows: Vec<Row> = Vec::new();
        let mut pend: Pending = Vec::new();
        let mut row = |group, lib, secs: Option<f64>, note: &str| {
            rows.push(Row {
                group,
                lib,
                secs,
                rounds: Vec::new(),
                note: note.into(),
            })
        };
        pend.push((
            "value+navigate",
            "bip",
            Box::new(|| {
                let doc = dec.decode(db).unwrap();
                let s = bip_deep(doc.root());
                dec.recycle(doc);
                s
            }),
        ));
        pend.push((
            "value+navigate",
            "libtorrent",
            Box::new(|| lt_call(lt::lt_deep_walk, db)),
        ));
        pend.push((
            "value+navigate",
            "librqbit-bencode",
            Box::new(|| rq_deep(&rq_decode_value(db))),
        ));
        match bt_ok {
            Ok(c) => {
                assert_eq!(c, expect, "bt_bencode");
                pend.push((
                    "value+navigate",
                    "bt_bencode",
                    Box::new(|| bt_deep(&bt_bencode::from_slice(db).unwrap())),
                ));
            }
            Err(e) => row(
                "value+navigate",
                "bt_bencode",
                None,
                &format!("decode error: {e}"),
            ),
        }
        match sb_ok {
            Ok(c) => {
                assert_eq!(c, expect, "serde_bencode");
                pend.push((
                    "value+navigate",
                    "serde_bencode",
                    Box::new(|| sb_deep(&serde_bencode::from_bytes(db).unwrap())),
                ));
            }
            Err(e) => row(
                "value+navigate",
                "serde_bencode",
                None,
                &format!("decode error: {e}"),
            ),
        }
        // Encoding from each library's value tree (built once from the input).
        let bip_tree = bip_bencode::decode(db).unwrap().root().to_bencode();
        assert_eq!(bip_tree.encode(), db);
        assert_eq!(lt_call(lt::lt_entry_prepare, db), 0, "libtorrent entry");
        assert_eq!(lt_call(lt::lt_entry_encode, db), db.len() as i64);
        let rq_tree = rq_decode_value(db);
        pend.push((
            "encode value",
            "bip",
            Box::new(move || bip_tree.encode().len() as i64),
        ));
        pend.push((
            "encode value",
            "libtorrent",
            Box::new(|| lt_call(lt::lt_entry_encode, db)),
        ));
        pend.push((
            "encode value",
            "librqbit-bencode",
            Box::new(move || {
                let mut out = Vec::new();
                librqbit_bencode::bencode_serialize_to_writer(&rq_tree, &mut out).unwrap();
                out.len() as i64
            }),
        ));
        run_pending(&cfg, pend, &mut rows);
        print_table("(c) deep nesting", db.len(), None, &rows);
    }
}
