//! Interop: bip-created torrents against libtorrent (load + full recheck), mktorrent (same v1
//! info hash), and torrents made by mktorrent, transmission-create and libtorrent parsed and
//! verified by bip. Skips with a visible message when a program is missing, unless
//! `BIP_INTEROP=require`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bip_metainfo::create::TorrentBuilder;
use bip_metainfo::verify::{verify, Check, VerifyOptions, VerifyPlan};
use bip_metainfo::Metainfo;
use bip_metainfo::Version;

const PY: &str = bip_interop::PYTHON;
const T1: &str = "udp://127.0.0.1:6969/announce";
const T2: &str = "udp://127.0.0.1:6970/announce";
const T3: &str = "http://127.0.0.1:6969/announce";
const WS: &str = "http://127.0.0.1:8000/single.bin";

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

use bip_interop::{available, KillOnDrop as Kill};

/// Run with a time limit; the child is killed on timeout or panic.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut guard = Kill(child);
    let deadline = Instant::now() + limit;
    // Read the pipes on threads so a chatty child cannot block.
    let mut out = guard.0.stdout.take().unwrap();
    let mut err = guard.0.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let status = loop {
        if let Some(s) = guard.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "{cmd:?} took more than {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Run a libtorrent python step; once more if it died by a signal (2.0.8 segfaults rarely).
fn run_lt(args: &[&std::ffi::OsStr]) -> String {
    for attempt in 1..=2 {
        let out = run(Command::new(PY).args(args), Duration::from_secs(55));
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        let signalled = out.status.code().is_none();
        eprintln!(
            "libtorrent attempt {attempt}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(signalled && attempt == 1, "libtorrent step failed");
    }
    unreachable!()
}

use bip_interop::{test_bytes as data, TempDir};

/// content/single.bin (5,000,003 B) and content/multi (nested, with an empty file).
fn content(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write("content/single.bin", &data(1, 5_000_003));
    d.write("content/multi/a.txt", &b"hello world\n".repeat(1000));
    d.write("content/multi/sub/b.bin", &data(2, 70_000));
    d.write("content/multi/sub/c.bin", &data(3, 33_000));
    d.write("content/multi/sub/deeper/empty", b"");
    d.write("content/multi/z.dat", &data(4, 5));
    std::fs::create_dir_all(d.path().join("torrents")).unwrap();
    d
}

fn lt_available() -> bool {
    available(
        "/usr/bin/python3 with libtorrent",
        Command::new(PY).args(["-c", "import libtorrent"]),
    )
}

/// lt_check.py output: path -> (have, total, v1, v2).
fn lt_check(pairs: &[(PathBuf, PathBuf)]) -> HashMap<String, (u64, u64, String, String)> {
    let mut args: Vec<std::ffi::OsString> = vec![script("lt_check.py").into()];
    for (t, save) in pairs {
        let mut a = t.clone().into_os_string();
        a.push("=");
        a.push(save);
        args.push(a);
    }
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run_lt(&refs);
    let mut m = HashMap::new();
    for line in out.lines() {
        let mut it = line.split(' ');
        let path = it.next().unwrap().to_owned();
        let kv: HashMap<&str, &str> = it.filter_map(|f| f.split_once('=')).collect();
        assert!(!kv.contains_key("error"), "libtorrent rejected {line}");
        m.insert(
            path,
            (
                kv["have"].parse().unwrap(),
                kv["total"].parse().unwrap(),
                kv["v1"].to_owned(),
                kv["v2"].to_owned(),
            ),
        );
    }
    m
}

fn hex1(c: &bip_metainfo::create::Created) -> String {
    c.info_hash_v1.map_or("-".into(), |h| h.to_hex())
}
fn hex2(c: &bip_metainfo::create::Created) -> String {
    c.info_hash_v2.map_or("-".into(), |h| h.to_hex())
}

#[test]
fn libtorrent_loads_and_rechecks_bip_torrents() {
    if !lt_available() {
        return;
    }
    let d = content("lt");
    let c = d.path().join("content");
    let b = || TorrentBuilder::new().announce(T1);
    let cases: Vec<(&str, &str, TorrentBuilder)> = vec![
        ("single", "single.bin", b().piece_length(262_144u64)),
        ("multi", "multi", b().piece_length(32_768u64)),
        ("private", "single.bin", b().private(true)),
        (
            "tiers",
            "single.bin",
            b().announce_tier(vec![T2.into(), T3.into()]).announce(T3),
        ),
        (
            "webseed",
            "single.bin",
            b().web_seed(WS).comment("interop comment"),
        ),
        (
            "v2-single",
            "single.bin",
            b().piece_length(32_768u64).version(Version::V2),
        ),
        (
            "v2-multi",
            "multi",
            b().piece_length(32_768u64).version(Version::V2),
        ),
        (
            "v2-multi-big",
            "multi",
            b().piece_length(16_384u64).version(Version::V2),
        ),
        (
            "hybrid-single",
            "single.bin",
            b().piece_length(32_768u64).version(Version::Hybrid),
        ),
        (
            "hybrid-multi",
            "multi",
            b().piece_length(16_384u64).version(Version::Hybrid),
        ),
        (
            "hybrid-multi-auto",
            "multi",
            b().version(Version::Hybrid).source("x"),
        ),
    ];
    let mut pairs = Vec::new();
    let mut want = HashMap::new();
    for (name, src, builder) in &cases {
        let t = builder.build_from_path(c.join(src)).unwrap();
        let path = d.path().join("torrents").join(format!("{name}.torrent"));
        std::fs::write(&path, &t.bytes).unwrap();
        want.insert(
            path.display().to_string(),
            (hex1(&t), hex2(&t), t.num_pieces),
        );
        pairs.push((path, c.clone()));
    }
    let got = lt_check(&pairs);
    assert_eq!(got.len(), cases.len());
    for (path, (have, total, v1, v2)) in &got {
        let (w1, w2, n) = &want[path];
        assert_eq!((v1, v2), (w1, w2), "{path}: info hashes");
        assert!(
            *total > 0 && have == total,
            "{path}: libtorrent has {have}/{total} pieces"
        );
        if w1 != "-" {
            assert_eq!(total, n, "{path}");
        }
        eprintln!("{path}: libtorrent recheck {have}/{total} pieces good, v1={v1} v2={v2}");
    }
}

#[test]
fn mktorrent_gives_the_same_v1_info_hash() {
    if !available("mktorrent", Command::new("mktorrent").arg("-h")) {
        return;
    }
    let d = content("mk");
    let c = d.path().join("content");
    let s = c.join("single.bin");
    let m = c.join("multi");
    let b = || TorrentBuilder::new().announce(T1);
    let cases: Vec<(&str, Vec<String>, &Path, TorrentBuilder)> = vec![
        (
            "single",
            vec!["-a".into(), T1.into(), "-l".into(), "18".into()],
            &s,
            b().piece_length(1u64 << 18),
        ),
        (
            "multi",
            vec!["-a".into(), T1.into(), "-l".into(), "15".into()],
            &m,
            b().piece_length(1u64 << 15),
        ),
        (
            "multi-20",
            vec!["-a".into(), T1.into(), "-l".into(), "20".into()],
            &m,
            b().piece_length(1u64 << 20),
        ),
        (
            "private",
            vec![
                "-a".into(),
                T1.into(),
                "-l".into(),
                "18".into(),
                "-p".into(),
            ],
            &s,
            b().piece_length(1u64 << 18).private(true),
        ),
        (
            "tiers",
            vec![
                "-a".into(),
                format!("{T1},{T2}"),
                "-a".into(),
                T3.into(),
                "-l".into(),
                "16".into(),
            ],
            &s,
            TorrentBuilder::new()
                .announce_tier(vec![T1.into(), T2.into()])
                .announce(T3)
                .piece_length(1u64 << 16),
        ),
        (
            "comment-webseed",
            vec![
                "-a".into(),
                T1.into(),
                "-l".into(),
                "17".into(),
                "-c".into(),
                "interop comment".into(),
                "-w".into(),
                WS.into(),
            ],
            &s,
            b().piece_length(1u64 << 17)
                .comment("interop comment")
                .web_seed(WS),
        ),
    ];
    for (name, args, path, builder) in cases {
        let out_path = d.path().join("torrents").join(format!("{name}.mk.torrent"));
        let out = run(
            Command::new("mktorrent")
                .args(&args)
                .arg("-o")
                .arg(&out_path)
                .arg(path),
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "mktorrent {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mk = std::fs::read(&out_path).unwrap();
        let doc = bip_bencode::decode(&mk).unwrap();
        let info = doc.root().dict().unwrap().require(b"info").unwrap();
        let mk_hash = bip_util::InfoHash::from_sha1(info.raw());
        let ours = builder.build_from_path(path).unwrap();
        assert_eq!(
            ours.info_hash_v1,
            Some(mk_hash),
            "{name}: info hash differs from mktorrent's"
        );
        // The whole files differ only in `created by` / `creation date`.
        let ours_m = Metainfo::from_bytes(&ours.bytes).unwrap();
        let mk_m = Metainfo::from_bytes(&mk).unwrap();
        assert_eq!(ours_m.trackers(), mk_m.trackers(), "{name}");
        assert_eq!(ours_m.web_seeds(), mk_m.web_seeds(), "{name}");
        assert_eq!(ours_m.comment, mk_m.comment, "{name}");
        eprintln!("{name}: bip = mktorrent = {mk_hash}");
    }
}

#[test]
fn foreign_torrents_parse_and_verify_in_bip() {
    if !lt_available()
        || !available("mktorrent", Command::new("mktorrent").arg("-h"))
        || !available(
            "transmission-create",
            Command::new("sh").args(["-c", "command -v transmission-create"]),
        )
    {
        return;
    }
    let d = content("foreign");
    let c = d.path().join("content");
    let t = d.path().join("torrents");
    let s = c.join("single.bin");
    let m = c.join("multi");
    let mut made: Vec<PathBuf> = Vec::new();
    for (name, src, l) in [("single", &s, "18"), ("multi", &m, "15")] {
        let o = t.join(format!("{name}.mktorrent.torrent"));
        let r = run(
            Command::new("mktorrent")
                .args(["-a", T1, "-l", l, "-o"])
                .arg(&o)
                .arg(src),
            Duration::from_secs(30),
        );
        assert!(r.status.success());
        made.push(o);
        let o = t.join(format!("{name}.transmission.torrent"));
        let kib = if l == "18" { "256" } else { "32" };
        let r = run(
            Command::new("transmission-create")
                .args(["-t", T1, "-s", kib, "-o"])
                .arg(&o)
                .arg(src),
            Duration::from_secs(30),
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        made.push(o);
        for flag in ["--v1", "--v2", "--hybrid"] {
            let o = t.join(format!("{name}.lt{flag}.torrent"));
            let mut a: Vec<std::ffi::OsString> =
                vec![script("lt_mktorrent.py").into(), o.clone().into()];
            a.push(src.clone().into());
            a.push("--piece".into());
            a.push("32768".into());
            a.push(flag.into());
            let refs: Vec<&std::ffi::OsStr> = a.iter().map(|x| x.as_os_str()).collect();
            run_lt(&refs);
            made.push(o);
        }
    }
    let pairs: Vec<(PathBuf, PathBuf)> = made.iter().map(|p| (p.clone(), c.clone())).collect();
    let lt = lt_check(&pairs);
    for p in &made {
        let key = p.display().to_string();
        let (have, total, v1, v2) = &lt[&key];
        let bytes = std::fs::read(p).unwrap();
        let meta = Metainfo::from_bytes(&bytes).unwrap_or_else(|e| panic!("{key}: {e}"));
        let b1 = meta.info_hash_v1().map_or("-".into(), |h| h.to_hex());
        let b2 = meta.info_hash_v2().map_or("-".into(), |h| h.to_hex());
        assert_eq!(
            (&b1, &b2),
            (v1, v2),
            "{key}: bip and libtorrent disagree on info hashes"
        );
        assert_eq!(have, total, "{key}: libtorrent recheck");
        let plan = VerifyPlan::from(&meta);
        let checks: &[Check] = if meta.info.version.has_v1() && meta.info.version.has_v2() {
            &[Check::V1, Check::V2]
        } else {
            &[Check::Auto]
        };
        for &check in checks {
            let opts = VerifyOptions {
                check,
                ..VerifyOptions::default()
            };
            let r = verify(&plan, &c, &opts).unwrap();
            assert!(r.all_good(), "{key} {check:?}: bip verify says {r:?}");
        }
        eprintln!("{key}: v1={b1} v2={b2}: bip parse + verify agree with libtorrent");
    }
    // bip's v2 and hybrid torrents equal libtorrent's (same order, pad files and piece length).
    for name in ["single", "multi"] {
        let src = if name == "single" { &s } else { &m };
        for (flag, v) in [("--v2", Version::V2), ("--hybrid", Version::Hybrid)] {
            let ours = TorrentBuilder::new()
                .piece_length(32_768u64)
                .version(v)
                .build_from_path(src)
                .unwrap();
            let (_, _, v1, v2) = &lt[&t
                .join(format!("{name}.lt{flag}.torrent"))
                .display()
                .to_string()];
            assert_eq!((&hex1(&ours), &hex2(&ours)), (v1, v2), "{name} {flag}");
        }
    }
}
