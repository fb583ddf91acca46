//! The example tools' command lines and output formats, which checks outside the repo rely on.
//!
//! `cargo test` builds the examples before it runs this file; the binaries are found next to
//! the test executable (`target/<profile>/examples/NAME`).

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use bip_interop::{KillOnDrop, TempDir};

fn tool(name: &str) -> Command {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built (run the whole `cargo test`, which builds examples)",
        path.display()
    );
    Command::new(path)
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run tool")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

#[test]
fn bencode_prints_faults_and_errors() {
    let d = TempDir::new("tool-bencode");
    d.write("ok", b"d1:ai1e1:b3:xyze");
    d.write("unsorted", b"d1:bi1e1:ai2ee");
    d.write("trunc", b"d1:ai1e1:b3:xy");
    d.write("deep", &vec![b'l'; 1 << 20]);
    let p = |n: &str| d.path().join(n);

    let o = run(tool("bencode").arg(p("ok")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"xyz\""), "{}", stdout(&o));

    let o = run(tool("bencode").arg(p("ok")).arg("--spans"));
    assert!(stdout(&o).contains("@0..16"), "{}", stdout(&o));

    let o = run(tool("bencode").arg(p("ok")).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    assert_eq!(v["a"], 1);
    assert_eq!(v["b"], "xyz");

    let o = run(tool("bencode").arg(p("unsorted")));
    assert!(o.status.success());
    assert!(stderr(&o).contains("soft fault: unsorted dictionary key at offset 7"));
    let o = run(tool("bencode").arg(p("unsorted")).arg("--strict"));
    assert_eq!(o.status.code(), Some(1));

    for (file, msg) in [("trunc", "offset"), ("deep", "nesting depth limit")] {
        let o = run(tool("bencode").arg(p(file)));
        assert_eq!(o.status.code(), Some(1), "{file}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        assert!(err.contains(msg), "{file}: {err}");
    }
}

#[test]
fn torrent_show_json_has_the_documented_shape() {
    let f = testdata("torrents/bep52/bittorrent-v2-hybrid-test.torrent");
    let o = run(tool("torrent").arg("show").arg(&f).arg("--json"));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(
        v["info_hash_v1"],
        "631a31dd0a46257d5078c0dee4e66e26f73e42ac"
    );
    assert_eq!(
        v["info_hash_v2"],
        "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb"
    );
    assert_eq!(v["name"], "bittorrent-v1-v2-hybrid-test");
    assert_eq!(v["piece_length"], 524288);
    assert_eq!(v["private"], false);
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), 9, "padding files left out");
    assert_eq!(files[6]["path"], "readme.txt");
    assert_eq!(files[6]["length"], 61);
    for key in [
        "total_size",
        "trackers",
        "web_seeds",
        "comment",
        "created_by",
        "creation_date",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert!(v["trackers"].is_array() && v["web_seeds"].is_array());
}

#[test]
fn torrent_create_show_verify_magnet() {
    let d = TempDir::new("tool-torrent");
    d.write("content/a.txt", &b"hello\n".repeat(5000));
    d.write("content/sub/b.bin", &bip_interop::test_bytes(7, 100_000));
    d.write("content/sub/empty", b"");
    let out = d.path().join("t.torrent");
    let o = run(tool("torrent")
        .arg("create")
        .arg(d.path().join("content"))
        .arg("-o")
        .arg(&out)
        .args(["--piece-length", "16384", "--no-date", "--private"])
        .args(["--announce", "udp://127.0.0.1:6969/announce"])
        .args(["--announce", "udp://127.0.0.1:6970/announce"])
        .args(["--comment", "hi", "--hybrid"]));
    assert!(o.status.success(), "{}", stderr(&o));

    let o = run(tool("torrent").arg("show").arg(&out).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["name"], "content");
    assert_eq!(v["private"], true);
    assert_eq!(v["comment"], "hi");
    assert_eq!(v["creation_date"], serde_json::Value::Null);
    assert_eq!(
        v["trackers"],
        serde_json::json!([
            ["udp://127.0.0.1:6969/announce"],
            ["udp://127.0.0.1:6970/announce"]
        ])
    );
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.txt", "sub/b.bin", "sub/empty"]);
    let v1 = v["info_hash_v1"]
        .as_str()
        .expect("hybrid has v1")
        .to_owned();
    assert!(v["info_hash_v2"].is_string());

    let o = run(tool("torrent").arg("magnet").arg(&out));
    assert!(stdout(&o).starts_with(&format!("magnet:?xt=urn:btih:{v1}")));

    let o = run(tool("torrent").arg("verify").arg(&out).arg(d.path()));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    d.write("content/sub/b.bin", &bip_interop::test_bytes(8, 100_000));
    let o = run(tool("torrent").arg("verify").arg(&out).arg(d.path()));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("b.bin"), "{}", stdout(&o));

    d.write(
        "bad.torrent",
        b"d4:infod6:lengthi-5e4:name1:x12:piece lengthi16384e6:pieces0:ee",
    );
    let o = run(tool("torrent")
        .arg("show")
        .arg(d.path().join("bad.torrent")));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tracker_serve_announce_scrape() {
    let port = free_udp_port();
    let bind = format!("127.0.0.1:{port}");
    let _server = KillOnDrop(
        tool("tracker")
            .args(["serve", "--bind", &bind, "--seconds", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("udp://{bind}/announce");
    let ih = "0123456789abcdef0123456789abcdef01234567";
    let announce = |p: &str, left: &str| {
        run(tool("tracker").args([
            "announce",
            &url,
            ih,
            "--port",
            p,
            "--left",
            left,
            "--event",
            "started",
            "--timeout",
            "5",
        ]))
    };
    // The server may need a moment to bind; the client retransmits within its timeout.
    let o = announce("5001", "0");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = announce("5002", "100");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    let head = lines.next().unwrap();
    assert!(
        head.starts_with("interval=") && head.contains(" leechers=1 seeders=1"),
        "{head}"
    );
    assert_eq!(lines.collect::<Vec<_>>(), ["127.0.0.1:5001"]);

    let o = run(tool("tracker").args(["scrape", &url, ih]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        format!("{ih} seeders=1 completed=0 leechers=1")
    );
}

#[test]
fn handshake_connect_and_listen() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let ih = "0123456789abcdef0123456789abcdef01234567";
    let mut listener = KillOnDrop(
        tool("handshake")
            .args(["listen", &addr, ih, "--seconds", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut connected = None;
    for _ in 0..50 {
        let o = run(tool("handshake").args(["connect", &addr, ih, "--timeout", "5"]));
        if o.status.success() {
            connected = Some(stdout(&o));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let line = connected.expect("connect to the listener");
    let re = |l: &str| {
        let parts: Vec<&str> = l.trim().split(' ').collect();
        assert!(parts[0].starts_with("peer_id=-BP"), "{l}");
        assert!(l.contains(" client="), "{l}");
        let reserved = l.split("reserved=").nth(1).unwrap();
        assert_eq!(reserved.split(' ').next().unwrap().len(), 16, "{l}");
        assert!(l.contains(" extensions="), "{l}");
    };
    re(&line);
    let mut out = BufReader::new(listener.stdout.take().unwrap());
    let mut heard = String::new();
    out.read_line(&mut heard).unwrap();
    re(&heard);

    let wrong = "ffffffffffffffffffffffffffffffffffffffff";
    let o = run(tool("handshake").args(["connect", &addr, wrong, "--timeout", "5"]));
    assert_eq!(o.status.code(), Some(1));
}

// ---- dht ------------------------------------------------------------------------------------

/// Run `cmd` to completion, killed (and the test failed) after `limit`.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tool");
    let mut child = KillOnDrop(child);
    let end = std::time::Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        assert!(
            std::time::Instant::now() < end,
            "{cmd:?} still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    Output {
        status: child.wait().unwrap(),
        stdout: out,
        stderr: err,
    }
}

const DHT_IH: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn dht_bad_arguments_exit_2_with_one_line() {
    let d = TempDir::new("tool-dht-args");
    d.write("garbage.state", b"this is not bencode");
    let garbage = d.path().join("garbage.state");
    let garbage = garbage.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &[],
        &["get-peers"],
        &["get-peers", "xyz"],
        &["get-peers", "0123456789abcdef0123456789abcdef0123456g"],
        &["get-peers", DHT_IH, "--timeout", "-1"],
        &["get-peers", DHT_IH, "--timeout", "soon"],
        &["announce", DHT_IH],
        &["announce", DHT_IH, "--port", "0"],
        &["announce", DHT_IH, "--port", "70000"],
        &["--bootstrap", "no-port", "get-peers", DHT_IH],
        &["--bootstrap", "127.0.0.1:0", "get-peers", DHT_IH],
        &["--bind", "localhost", "serve"],
        &["--bind", "127.0.0.1:0", "--bind", "127.0.0.2:0", "serve"],
        &[
            "--bind",
            "[::1]:0",
            "--bootstrap",
            "127.0.0.1:9",
            "get-peers",
            DHT_IH,
        ],
        &[
            "--state",
            garbage,
            "--bootstrap",
            "127.0.0.1:9",
            "get-peers",
            DHT_IH,
        ],
        &["serve", "--seconds", "x"],
        &["frobnicate"],
        &["--no-such-flag", "serve"],
    ];
    for args in cases {
        let o = run_bounded(tool("dht").args(*args), Duration::from_secs(10));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    let o = run_bounded(tool("dht").arg("--version"), Duration::from_secs(10));
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("dht "), "{}", stdout(&o));
}

#[test]
fn dht_unreachable_bootstrap_is_a_one_line_error() {
    // A port nobody listens on: the bootstrap wait is bounded by --timeout.
    let dead = free_udp_port();
    let started = std::time::Instant::now();
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &format!("127.0.0.1:{dead}"),
            "get-peers",
            DHT_IH,
            "--timeout",
            "3",
        ]),
        Duration::from_secs(15),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(8));
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &format!("127.0.0.1:{dead}"),
            "announce",
            DHT_IH,
            "--port",
            "4000",
            "--timeout",
            "3",
        ]),
        Duration::from_secs(15),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// A `dht serve` child whose stdout lines arrive on a channel.
fn dht_serve(args: &[&str]) -> (KillOnDrop, std::sync::mpsc::Receiver<String>) {
    let mut child = KillOnDrop(
        tool("dht")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The first line `pred` accepts within `limit`.
fn wait_line(
    rx: &std::sync::mpsc::Receiver<String>,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> String {
    let end = std::time::Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if pred(&l) => return l,
            Ok(_) => {}
            Err(e) => panic!("no matching line within {limit:?}: {e}"),
        }
    }
}

#[test]
fn dht_serve_announce_get_peers_end_to_end() {
    let d = TempDir::new("tool-dht-e2e");
    let (pa, pb) = (free_udp_port(), free_udp_port());
    let (a, b) = (format!("127.0.0.1:{pa}"), format!("127.0.0.1:{pb}"));
    // Two servers that bootstrap from each other (whichever starts second answers the first).
    let (_sa, ra) = dht_serve(&[
        "--bind",
        &a,
        "--bootstrap",
        &b,
        "serve",
        "--seconds",
        "45",
        "--stats-every",
        "0.5",
    ]);
    let (_sb, rb) = dht_serve(&[
        "--bind",
        &b,
        "--bootstrap",
        &a,
        "serve",
        "--seconds",
        "45",
        "--stats-every",
        "0.5",
    ]);
    assert_eq!(
        wait_line(&ra, Duration::from_secs(10), |l| l.starts_with("listening")),
        format!("listening {a}")
    );
    assert_eq!(
        wait_line(&rb, Duration::from_secs(10), |l| l.starts_with("listening")),
        format!("listening {b}")
    );
    let id_b = wait_line(&rb, Duration::from_secs(5), |l| l.starts_with("id="));
    // The summary line names every documented figure.
    let summary = wait_line(&ra, Duration::from_secs(10), |l| l.starts_with("uptime="));
    for key in [
        "nodes_v4=",
        "nodes_v6=",
        "queries_in/s=",
        "queries_out/s=",
        "stored_hashes=",
        "blocked=",
    ] {
        assert!(summary.contains(key), "{summary}");
    }

    // Announce through A from a short-lived third process; base32 form of the hash.
    let b32 = bip_util::InfoHash::from_hex(DHT_IH).unwrap().to_base32();
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &a,
            "announce",
            &b32,
            "--port",
            "4321",
            "--timeout",
            "10",
        ]),
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let line = stdout(&o);
    let accepted: usize = line
        .trim()
        .strip_prefix("accepted=")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(accepted >= 1, "{line}");

    // A fourth process, bootstrapped from B only, finds the port.
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &b,
            "get-peers",
            DHT_IH,
            "--timeout",
            "10",
        ]),
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"127.0.0.1:4321"), "{out}");
    assert_eq!(lines.len(), 2, "each peer once, then done: {out}");
    assert!(lines[1].starts_with("done peers=1 queried="), "{out}");
    assert!(lines[1].contains(" elapsed="), "{out}");

    // A hash nobody announced: no peers, exit 1, still a done line.
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &b,
            "get-peers",
            "ffffffffffffffffffffffffffffffffffffffff",
            "--timeout",
            "10",
        ]),
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("done peers=0"), "{}", stdout(&o));

    // One of the servers stored the announce.
    let stored = |l: &str| l.contains("stored_hashes=1");
    let (r1, r2) = (&ra, &rb);
    let found = (0..40).any(|_| {
        let x = r1
            .recv_timeout(Duration::from_millis(250))
            .is_ok_and(|l| stored(&l));
        let y = r2
            .recv_timeout(Duration::from_millis(250))
            .is_ok_and(|l| stored(&l));
        x || y
    });
    assert!(found, "no server reports the stored hash");

    // --state: a short serve saves id and table at the end of --seconds; a restart with the
    // file and only a dead bootstrap node rejoins through the saved table, with the same id.
    let state = d.path().join("c.state");
    let state = state.to_str().unwrap();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &b,
            "--state",
            state,
            "serve",
            "--seconds",
            "2",
            "--stats-every",
            "1",
        ]),
        Duration::from_secs(15),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let id_of = |o: &Output| {
        stdout(o)
            .lines()
            .find(|l| l.starts_with("id="))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{}", stdout(o)))
    };
    let id_c = id_of(&o);
    assert_ne!(id_c, id_b);
    let saved = bip_dht::state::SavedState::load(Path::new(state))
        .expect("state file readable")
        .expect("state file written");
    assert_eq!(format!("id={}", saved.id), id_c);
    assert!(
        saved.nodes.iter().any(|n| n.addr.to_string() == b),
        "{saved:?}"
    );
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &dead,
            "--state",
            state,
            "get-peers",
            DHT_IH,
            "--timeout",
            "10",
        ]),
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("127.0.0.1:4321\n"), "{}", stdout(&o));
    let o = run_bounded(
        tool("dht").args([
            "--bind",
            "127.0.0.1:0",
            "--bootstrap",
            &dead,
            "--state",
            state,
            "serve",
            "--seconds",
            "0.5",
        ]),
        Duration::from_secs(15),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(id_of(&o), id_c, "the id survives a restart");
}

#[test]
fn torrent_verify_reports_exactly_the_missing_file() {
    // Issue 11's reproduction: deleting b.txt costs only piece 19.
    let d = TempDir::new("tool-verify-exact");
    d.write("mydir/a.bin", &bip_interop::test_bytes(1, 5_000_000));
    d.write("mydir/b.txt", b"hello\n");
    d.write("mydir/c.bin", &bip_interop::test_bytes(2, 1_000_000));
    let (t, h) = (d.path().join("t.torrent"), d.path().join("h.torrent"));
    for (out, extra) in [(&t, None), (&h, Some("--hybrid"))] {
        let o = run(tool("torrent")
            .arg("create")
            .arg(d.path().join("mydir"))
            .arg("-o")
            .arg(out)
            .args(["--piece-length", "262144", "--no-date"])
            .args(extra));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    std::fs::remove_file(d.path().join("mydir/b.txt")).unwrap();
    let o = run(tool("torrent").arg("verify").arg(&t).arg(d.path()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "bad: mydir/a.bin (1 bad pieces)\nmissing: mydir/b.txt\nbad: mydir/c.bin (1 bad pieces)\n\
         pieces: 22 good, 1 bad, 23 total (V1); files: 0 good of 3\n"
    );
    // Hybrid: v2 by default (exact per file), v1 and both on request.
    let o = run(tool("torrent").arg("verify").arg(&h).arg(d.path()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "missing: mydir/b.txt\npieces: 24 good, 1 bad, 25 total (V2); files: 2 good of 3\n"
    );
    let o = run(tool("torrent")
        .arg("verify")
        .arg(&h)
        .arg(d.path())
        .args(["--check", "both"]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "missing: mydir/b.txt\npieces: 24 good, 1 bad, 25 total (V2); files: 2 good of 3\n\
         missing: mydir/b.txt\npieces: 24 good, 1 bad, 25 total (V1); files: 2 good of 3\n"
    );
    d.write("mydir/b.txt", b"hello\n");
    for check in ["v1", "v2", "both"] {
        let o = run(tool("torrent")
            .arg("verify")
            .arg(&h)
            .arg(d.path())
            .args(["--check", check]));
        assert_eq!(o.status.code(), Some(0), "{check}: {}", stdout(&o));
        assert!(stdout(&o).ends_with("all data is good\n"), "{}", stdout(&o));
    }
}

#[test]
fn torrent_create_refuses_bad_piece_lengths() {
    let d = TempDir::new("tool-create-pl");
    d.write("c/a", b"abc");
    for pl in [
        "0",
        "1000",
        "16383",
        "300000",
        "536870912",
        "1125899906842624",
        "-5",
        "x",
    ] {
        let o = run(tool("torrent")
            .arg("create")
            .arg(d.path().join("c"))
            .arg("-o")
            .arg(d.path().join("t.torrent"))
            .args(["--piece-length", pl, "--hybrid"]));
        assert_eq!(o.status.code(), Some(2), "{pl}");
        assert!(
            stderr(&o).contains("not a power of two from 16384 (16 KiB) to 268435456 (256 MiB)"),
            "{pl}: {}",
            stderr(&o)
        );
        assert!(!d.path().join("t.torrent").exists());
    }
}

#[test]
fn tracker_durations_are_validated() {
    let ih = "0123456789abcdef0123456789abcdef01234567";
    for v in ["1e300", "inf", "-inf", "nan", "-1", "abc"] {
        for args in [
            vec!["announce", "udp://127.0.0.1:9/announce", ih, "--timeout", v],
            vec!["scrape", "udp://127.0.0.1:9/announce", ih, "--timeout", v],
            vec!["serve", "--bind", "127.0.0.1:0", "--seconds", v],
            vec!["serve", "--bind", "127.0.0.1:0", "--stats-every", v],
        ] {
            let o = run(tool("tracker").args(&args));
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.contains("not a number of seconds"), "{args:?}: {err}");
        }
    }
}

/// Issue 11: `torrent create` refuses to overwrite, writes to stdout with `-o -`, leaves out
/// hidden files, outside symlinks and `--exclude` globs (listed with `--verbose`), validates
/// `--announce` and takes tiers and `--piece-length` units.
#[test]
fn torrent_create_is_safe_and_takes_units_tiers_and_filters() {
    let d = TempDir::new("tool-create-safe");
    d.write("c/a.bin", &[1; 40_000]);
    d.write("c/sub/b.txt", b"hello");
    d.write("c/.git/config", b"x");
    d.write("c/.DS_Store", b"x");
    d.write("c/skip.tmp", b"x");
    d.write("outside/secret", b"secret");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.path().join("outside"), d.path().join("c/out")).unwrap();
        std::os::unix::fs::symlink(d.path().join("c/a.bin"), d.path().join("c/in.bin")).unwrap();
    }
    let out = d.path().join("t.torrent");
    let create = |extra: &[&str]| {
        let mut c = tool("torrent");
        c.arg("create").arg(d.path().join("c")).arg("--no-date");
        c.args(extra);
        run(&mut c)
    };
    let o = create(&[
        "-o",
        out.to_str().unwrap(),
        "--piece-length",
        "16KiB",
        "--exclude",
        "*.tmp",
        "--verbose",
        "--announce",
        "udp://a.example:6969/announce,http://b.example/announce",
        "--announce",
        "https://c.example/announce",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for skipped in [".git (hidden)", ".DS_Store (hidden)", "skip.tmp (excluded)"] {
        assert!(err.contains(&format!("skipped: {skipped}")), "{err}");
    }
    #[cfg(unix)]
    assert!(
        err.contains("skipped: out (symlink pointing outside)"),
        "{err}"
    );
    let o = run(tool("torrent").arg("show").arg(&out).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    #[cfg(unix)]
    assert_eq!(paths, ["a.bin", "in.bin", "sub/b.txt"]);
    assert_eq!(v["piece_length"], 16384);
    assert_eq!(
        v["trackers"],
        serde_json::json!([
            ["udp://a.example:6969/announce", "http://b.example/announce"],
            ["https://c.example/announce"]
        ])
    );
    // No overwrite without --force; --force overwrites.
    let o = create(&["-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = create(&["-o", out.to_str().unwrap(), "--force", "--include-hidden"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(tool("torrent").arg("show").arg(&out).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["files"].to_string().contains(".git/config"), "{v}");
    // `-o -`: the torrent on stdout, readable back through `show -`.
    let o = create(&["-o", "-", "--piece-length", "1m", "--follow-symlinks"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.starts_with(b"d"), "{}", stdout(&o));
    assert!(stderr(&o).contains("info hash v1: "), "{}", stderr(&o));
    let mut show = tool("torrent")
        .args(["show", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut show.stdin.take().unwrap(), &o.stdout).unwrap();
    let shown = show.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(v["piece_length"], 1 << 20);
    #[cfg(unix)]
    assert!(v["files"].to_string().contains("out/secret"), "{v}");
    // Bad announce URLs and piece lengths: one-line errors, exit code 2.
    for bad in [
        ["--announce", "ftp://x.example/"],
        ["--announce", "not a url"],
        ["--announce", "udp://a.example:1,"],
        ["--piece-length", "3m"],
        ["--piece-length", "8KiB"],
        ["--piece-length", "1 parsec"],
    ] {
        let o = create(&[&["-o", "-"][..], &bad[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(o.stdout.is_empty(), "{bad:?}");
    }
}

/// Issue 11: `torrent show` (ISO dates, human sizes, payload, source, plural, magnet, unknown
/// keys), `verify` with the content itself as PATH, `--version` and the exit-code convention.
#[test]
fn torrent_show_verify_path_and_conventions() {
    let d = TempDir::new("tool-show-more");
    d.write("mydir/a.bin", &[7; 70_000]);
    d.write("mydir/b.txt", b"abcdef");
    let t = d.path().join("h.torrent");
    let o = run(tool("torrent")
        .arg("create")
        .arg(d.path().join("mydir"))
        .arg("-o")
        .arg(&t)
        .args(["--hybrid", "--source", "SRC", "--piece-length", "16k"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(tool("torrent").arg("show").arg(&t));
    let text = stdout(&o);
    for want in [
        "source:        SRC",
        "payload:       68.37 KiB (70006 bytes) without ",
        "magnet:        magnet:?xt=urn:btih:",
        "files (2):",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
    let date = text
        .lines()
        .find(|l| l.starts_with("creation date: "))
        .unwrap();
    assert!(
        date.len() > 30 && date.as_bytes()[25] == b'T' && date.contains("Z ("),
        "{date}"
    );
    let o = run(tool("torrent").arg("show").arg(&t).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["payload_size"], 70_006);
    assert_eq!(v["source"], "SRC");
    assert!(v["magnet"]
        .as_str()
        .unwrap()
        .starts_with("magnet:?xt=urn:btih:"));
    assert!(v["creation_date"].is_i64());
    // Unknown keys are listed by name.
    let mut bytes = std::fs::read(&t).unwrap();
    bytes.pop();
    bytes.extend_from_slice(b"4:zzzzi1ee");
    d.write("u.torrent", &bytes);
    let o = run(tool("torrent").arg("show").arg(d.path().join("u.torrent")));
    assert!(stdout(&o).contains("other keys:    zzzz"), "{}", stdout(&o));
    // One piece: singular.
    d.write("one.bin", b"x");
    let one = d.path().join("one.torrent");
    run(tool("torrent")
        .arg("create")
        .arg(d.path().join("one.bin"))
        .arg("-o")
        .arg(&one));
    let o = run(tool("torrent").arg("show").arg(&one));
    assert!(
        stdout(&o).contains("1 bytes in 1 piece of "),
        "{}",
        stdout(&o)
    );
    // verify: the folder holding the content, or the content itself under another name.
    let o = run(tool("torrent").arg("verify").arg(&t).arg(d.path()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the folder holding the content"),
        "{}",
        stderr(&o)
    );
    std::fs::rename(d.path().join("mydir"), d.path().join("renamed")).unwrap();
    let o = run(tool("torrent")
        .arg("verify")
        .arg(&t)
        .arg(d.path().join("renamed")));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("the torrent's content itself"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(d.path().join("renamed/b.txt")).unwrap();
    let o = run(tool("torrent")
        .arg("verify")
        .arg(&t)
        .arg(d.path().join("renamed")));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("missing: renamed/b.txt"),
        "{}",
        stdout(&o)
    );
    let looked = d.path().join("renamed/b.txt");
    assert!(
        stderr(&o).contains(&format!("looked for {}", looked.display())),
        "{}",
        stderr(&o)
    );
    let o = run(tool("torrent")
        .arg("verify")
        .arg(&one)
        .arg(d.path().join("one.bin")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // --version and the exit-code convention in every --help.
    for (name, args) in [
        ("torrent", &[][..]),
        ("torrent", &["create"][..]),
        ("torrent", &["show"][..]),
        ("torrent", &["verify"][..]),
        ("torrent", &["magnet"][..]),
        ("bencode", &[][..]),
    ] {
        let o = run(tool(name).args(args).arg("--help"));
        assert!(
            stdout(&o).contains("Exit codes: 0 success; 1 "),
            "{name} {args:?}"
        );
        if args.is_empty() {
            let o = run(tool(name).arg("--version"));
            assert_eq!(
                stdout(&o).trim(),
                format!("{name} {}", env!("CARGO_PKG_VERSION"))
            );
        }
    }
}

/// The README's synopsis of the bencode and torrent tools names only options their `--help`
/// lists (the README is read, not edited).
#[test]
fn readme_synopsis_matches_bencode_and_torrent_help() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let mut checked = 0;
    for (name, subs) in [
        ("bencode", &[""][..]),
        ("torrent", &["create", "show", "verify", "magnet"][..]),
    ] {
        for sub in subs {
            let head = if sub.is_empty() {
                format!("`{name} ")
            } else {
                format!("`{name} {sub} ")
            };
            let Some(start) = readme.find(&head) else {
                continue;
            };
            let synopsis = &readme[start + 1..];
            let synopsis = &synopsis[..synopsis.find('`').unwrap()];
            let mut c = tool(name);
            if !sub.is_empty() {
                c.arg(sub);
            }
            let help = stdout(&run(c.arg("--help")));
            for opt in synopsis
                .split(|c: char| c.is_whitespace() || "[]|.".contains(c))
                .filter(|w| w.starts_with("--"))
            {
                assert!(
                    help.contains(opt),
                    "{name} {sub}: {opt} in README, not in --help"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "{checked}");
}

/// BEP 44, 51 and 33 through the `dht` tool against two `dht serve` nodes: `put`/`get` of an
/// immutable string (the target of `<len>:VALUE`), `put-mutable` twice (seq 1 then 2 by
/// default, the seed file created), `get-mutable` printing the higher seq, `sample` and
/// `scrape` after an announce, and the "not found" exits.
#[test]
fn dht_items_sample_scrape_end_to_end() {
    let d = TempDir::new("tool-dht-items");
    let (pa, pb) = (free_udp_port(), free_udp_port());
    let (a, b) = (format!("127.0.0.1:{pa}"), format!("127.0.0.1:{pb}"));
    let serve = |me: &str, other: &str| {
        dht_serve(&[
            "--bind",
            me,
            "--bootstrap",
            other,
            "serve",
            "--seconds",
            "60",
            "--stats-every",
            "0.5",
        ])
    };
    let (_sa, ra) = serve(&a, &b);
    let (_sb, rb) = serve(&b, &a);
    wait_line(&ra, Duration::from_secs(10), |l| l.starts_with("listening"));
    wait_line(&rb, Duration::from_secs(10), |l| l.starts_with("listening"));
    let client = |boot: &str, args: &[&str]| {
        let mut all = vec!["--bind", "127.0.0.1:0", "--bootstrap", boot];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--timeout", "10"]);
        run_bounded(tool("dht").args(&all), Duration::from_secs(25))
    };

    // Immutable: the BEP's test 3 target.
    let o = client(&a, &["put", "Hello World!"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"target=e5f96f6f38320f0f33959cb4d3d656452117aadb"),
        "{out}"
    );
    assert!(lines[1].starts_with("stored=2 "), "{out}");
    let o = client(&b, &["get", "e5f96f6f38320f0f33959cb4d3d656452117aadb"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "\"Hello World!\"\n");
    let o = client(&b, &["get", "ffffffffffffffffffffffffffffffffffffffff"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));

    // Mutable: the seed file is created, seq counts up by default.
    let seed = d.path().join("seed");
    let seed = seed.to_str().unwrap();
    let mut key = String::new();
    for (value, seq) in [("first", 1), ("second", 2)] {
        let o = client(
            &a,
            &["put-mutable", "--seed-file", seed, "--salt", "topic", value],
        );
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        key = lines[0].strip_prefix("key=").expect("key line").to_owned();
        assert_eq!(key.len(), 64, "{out}");
        assert!(lines[1].starts_with("target="), "{out}");
        assert_eq!(lines[2], format!("seq={seq}"), "{out}");
        assert!(lines[3].starts_with("stored=2 "), "{out}");
    }
    assert_eq!(std::fs::read_to_string(seed).unwrap().trim().len(), 64);
    let o = client(&b, &["get-mutable", &key, "--salt", "topic"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "seq=2\n\"second\"\n");
    let o = client(&b, &["get-mutable", &key]);
    assert_eq!(o.status.code(), Some(1), "no item without the salt");

    // Scrape and sample after an announce through A.
    let o = client(&a, &["announce", DHT_IH, "--port", "4321"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = client(&b, &["scrape", DHT_IH]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "seeds=0 peers=1\n");
    let o = client(&b, &["sample", "--limit", "1"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), format!("{DHT_IH}\n"));
    assert!(stderr(&o).contains("done hashes=1 "), "{}", stderr(&o));

    // Usage errors: a bad key, an oversized salt.
    let o = client(&b, &["get-mutable", "abcd"]);
    assert_eq!(o.status.code(), Some(2));
    let salt = "s".repeat(65);
    let o = client(&b, &["get-mutable", &key, "--salt", &salt]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// Issue 12, items 4-5: `show`/`verify`/`magnet` load within libtorrent-like limits (a typed,
/// one-line error past them, raised with `--max-size`/`--max-tokens`); `bencode --json` of a
/// dictionary of unsorted keys is quick and sorted.
#[test]
fn torrent_load_limits_and_bencode_unsorted_json() {
    let d = TempDir::new("tool-limits");
    d.write("c/a.bin", &[3; 20_000]);
    let t = d.path().join("t.torrent");
    let o = run(tool("torrent")
        .arg("create")
        .arg(d.path().join("c"))
        .arg("-o")
        .arg(&t));
    assert!(o.status.success(), "{}", stderr(&o));
    for sub in ["show", "magnet"] {
        let o = run(tool("torrent").arg(sub).arg(&t).args(["--max-size", "100"]));
        assert_eq!(o.status.code(), Some(2), "{sub}");
        assert!(
            stderr(&o).contains("more than the load limit of 100"),
            "{}",
            stderr(&o)
        );
        let o = run(tool("torrent").arg(sub).arg(&t).args(["--max-tokens", "5"]));
        assert_eq!(o.status.code(), Some(2), "{sub}");
        let o = run(tool("torrent")
            .arg(sub)
            .arg(&t)
            .args(["--max-size", "1MiB"]));
        assert!(o.status.success(), "{sub}: {}", stderr(&o));
    }
    let o = run(tool("torrent")
        .arg("verify")
        .arg(&t)
        .arg(d.path())
        .args(["--max-size", "100"]));
    assert_eq!(o.status.code(), Some(2));
    // 200,000 unsorted keys: decoded, faults listed, JSON sorted.
    let n = 200_000usize;
    let mut b = b"d".to_vec();
    for i in 0..n {
        b.extend_from_slice(format!("8:{:08}i{i}e", (i * 7_919 + 13) % n).as_bytes());
    }
    b.push(b'e');
    d.write("u.b", &b);
    let start = std::time::Instant::now();
    let o = run(tool("bencode").arg(d.path().join("u.b")).arg("--json"));
    assert!(o.status.success());
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), n);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    assert!(stderr(&o).lines().count() > 1000);
}

/// Issue 12, item 5: `bencode --json` of 1,000,000 unsorted keys (18 MB) runs within a 100 MB
/// address-space limit (the input, its tape, 4-byte sort handles and the soft faults). Before,
/// it held a 64-byte `(key, value)` pair per member to sort them and needed 140-200 MB (10x the
/// input); it now peaks at 3.3x. Keys that are not plain UTF-8 (`hex:` form) sort by that form.
#[test]
fn bencode_json_sorts_unsorted_dictionaries_in_small_memory() {
    let d = TempDir::new("json-mem");
    let n = 1_000_000usize;
    let mut b = b"d".to_vec();
    for i in 0..n {
        b.extend_from_slice(format!("8:{:08}i{i}e", (i * 7_919 + 13) % n).as_bytes());
    }
    b.push(b'e');
    d.write("u.b", &b);
    let exe = tool("bencode").get_program().to_owned();
    let o = run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 100000 && exec \"$0\" \"$1\" --json")
        .arg(&exe)
        .arg(d.path().join("u.b")));
    assert!(o.status.success(), "{:?} {}", o.status, stderr(&o));
    let out = stdout(&o);
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
        .collect();
    assert_eq!(keys.len(), n);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    // Mixed keys: plain, non-UTF-8 and a UTF-8 key starting with `hex:`, unsorted, with a
    // repeat (the first value wins).
    d.write("m.b", b"d4:hex:i1e1:\xffi2e1:zi3e1:ai4e1:zi5ee");
    let o = run(tool("bencode").arg(d.path().join("m.b")).arg("--json"));
    assert!(o.status.success(), "{}", stderr(&o));
    // Members in output order (serde_json's map would sort them itself).
    let got: Vec<String> = stdout(&o)
        .lines()
        .filter(|l| l.contains(':'))
        .map(|l| l.trim().trim_end_matches(',').to_string())
        .collect();
    let want = [
        r#""a": 4"#,
        r#""hex:6865783a": 1"#,
        r#""hex:ff": 2"#,
        r#""z": 3"#,
    ];
    assert_eq!(got, want, "{}", stdout(&o));
}

// ---- issue 11: tracker, handshake and dht conventions ---------------------------------------

/// A `tracker serve` child on a free port with `extra` options; its `udp://` announce URL.
fn tracker_serve(extra: &[&str]) -> (KillOnDrop, String) {
    let bind = format!("127.0.0.1:{}", free_udp_port());
    let child = KillOnDrop(
        tool("tracker")
            .args(["serve", "--bind", &bind, "--seconds", "30"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    (child, format!("udp://{bind}/announce"))
}

fn tracker_announce(url: &str, ih: &str, extra: &[&str]) -> Output {
    run(tool("tracker")
        .args(["announce", url, ih, "--timeout", "5"])
        .args(extra))
}

/// `tracker announce` keeps one peer id per `--port` (or takes `--peer-id`), so
/// `--event stopped` removes the earlier announce; info hashes in every form.
#[test]
fn tracker_peer_id_and_stopped() {
    let (_server, url) = tracker_serve(&[]);
    let ih = "0123456789abcdef0123456789abcdef01234567";
    let b32 = bip_util::InfoHash::from_hex(ih).unwrap().to_base32();
    let v2 = format!("{ih}89abcdef0123456789abcdef");
    let magnet = format!("magnet:?xt=urn:btih:{b32}&dn=x");
    let peers = |o: &Output| -> Vec<String> {
        assert!(o.status.success(), "{}", stderr(o));
        stdout(o).lines().skip(1).map(str::to_owned).collect()
    };
    // Seeder on 5001 (v2 form), leecher on 5002 (magnet form): each sees the other.
    peers(&tracker_announce(&url, &v2, &["--port", "5001"]));
    let o = tracker_announce(&url, &magnet, &["--port", "5002", "--left", "9"]);
    assert_eq!(peers(&o), ["127.0.0.1:5001"]);
    // Stopped with the same --port (so the same default peer id): 5001 is gone.
    let o = tracker_announce(&url, &b32, &["--port", "5001", "--event", "stopped"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tracker_announce(&url, ih, &["--port", "5002", "--left", "9"]);
    assert!(stdout(&o).starts_with("interval="), "{}", stdout(&o));
    assert!(stdout(&o).contains(" seeders=0"), "{}", stdout(&o));
    assert!(peers(&o).is_empty(), "{}", stdout(&o));
    // An explicit --peer-id: stopping under another id leaves the announce in place.
    let id = "2d5858303030302d6162636465666768696a6b6c";
    peers(&tracker_announce(
        &url,
        ih,
        &["--port", "5003", "--peer-id", id],
    ));
    tracker_announce(&url, ih, &["--port", "5003", "--event", "stopped"]);
    let o = tracker_announce(&url, ih, &["--port", "5002", "--left", "9"]);
    assert_eq!(peers(&o), ["127.0.0.1:5003"]);
    let o = tracker_announce(
        &url,
        ih,
        &["--port", "5003", "--peer-id", id, "--event", "stopped"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tracker_announce(&url, ih, &["--port", "5002", "--left", "9"]);
    assert!(peers(&o).is_empty(), "{}", stdout(&o));
    // Scrape in base32 prints the hex form.
    let o = run(tool("tracker").args(["scrape", &url, &b32]));
    assert!(
        stdout(&o).starts_with(&format!("{ih} seeders=0 ")),
        "{}",
        stdout(&o)
    );
    // A bad peer id or info hash: exit 2, one line.
    for (h, extra) in [
        (ih, &["--peer-id", "abc"][..]),
        ("0123", &[][..]),
        ("magnet:?dn=x", &[][..]),
    ] {
        let o = tracker_announce("udp://127.0.0.1:9/announce", h, extra);
        assert_eq!(o.status.code(), Some(2), "{h} {extra:?}: {}", stderr(&o));
    }
}

/// `tracker serve --allow FILE` / `--deny FILE` (one info hash per line, any form).
#[test]
fn tracker_serve_access_lists() {
    let d = TempDir::new("tool-tracker-access");
    let (h1, h2) = (
        "0123456789abcdef0123456789abcdef01234567",
        "89abcdef0123456789abcdef0123456789abcdef",
    );
    let b32 = bip_util::InfoHash::from_hex(h1).unwrap().to_base32();
    d.write("allow.txt", format!("# allowed\n\n  {b32}  \n").as_bytes());
    d.write(
        "deny.txt",
        format!("magnet:?xt=urn:btih:{h1}&dn=x\n").as_bytes(),
    );
    d.write("bad.txt", format!("{h1}\nnot-a-hash\n").as_bytes());
    let path = |n: &str| d.path().join(n).to_string_lossy().into_owned();

    let (_allow, url) = tracker_serve(&["--allow", &path("allow.txt")]);
    let o = tracker_announce(&url, h1, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tracker_announce(&url, h2, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not allowed"), "{}", stderr(&o));

    let (_deny, url) = tracker_serve(&["--deny", &path("deny.txt")]);
    let o = tracker_announce(&url, h1, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = tracker_announce(&url, h2, &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    for args in [
        vec!["--allow", "/nonexistent/allow.txt"],
        vec!["--deny", &path("bad.txt")],
        vec!["--allow", &path("allow.txt"), "--deny", &path("deny.txt")],
    ] {
        let o = run(tool("tracker")
            .args(["serve", "--bind", "127.0.0.1:0", "--seconds", "0"])
            .args(&args));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let o = run(tool("tracker")
        .args(["serve", "--bind", "127.0.0.1:0", "--seconds", "0"])
        .args(["--deny", &path("bad.txt")]));
    assert!(stderr(&o).contains("bad.txt:2: "), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// `handshake listen` reports each remote address; the tool advertises no extension bits
/// unless `--reserved` is given; info hashes in every form.
#[test]
fn handshake_reserved_remote_address_and_hash_forms() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let ih = "0123456789abcdef0123456789abcdef01234567";
    let b32 = bip_util::InfoHash::from_hex(ih).unwrap().to_base32();
    let mut listener = KillOnDrop(
        tool("handshake")
            .args(["listen", &addr, &b32, "--seconds", "20"])
            .args(["--reserved", "0000000000100005"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let magnet = format!("magnet:?xt=urn:btih:{ih}");
    let mut connected = None;
    for _ in 0..50 {
        let o = run(tool("handshake").args(["connect", &addr, &magnet, "--timeout", "5"]));
        if o.status.success() {
            connected = Some(stdout(&o));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let line = connected.expect("connect to the listener");
    assert!(
        line.trim()
            .ends_with(" reserved=0000000000100005 extensions=dht,fast,extension_protocol"),
        "{line}"
    );
    let mut out = BufReader::new(listener.stdout.take().unwrap());
    let mut heard = String::new();
    out.read_line(&mut heard).unwrap();
    assert!(
        heard
            .trim()
            .ends_with(" reserved=0000000000000000 extensions="),
        "{heard}"
    );
    let mut err = BufReader::new(listener.stderr.take().unwrap());
    let mut done = String::new();
    while !done.contains("handshake complete") {
        done.clear();
        assert!(
            err.read_line(&mut done).unwrap() > 0,
            "listener stderr closed"
        );
    }
    assert!(
        done.starts_with("127.0.0.1:") && done.trim().ends_with(": handshake complete"),
        "{done}"
    );
    // The v2 form (64 hex digits) is truncated to the same 20 bytes.
    let v2 = format!("{ih}89abcdef0123456789abcdef");
    let o = run(tool("handshake").args(["connect", &addr, &v2, "--timeout", "5"]));
    assert!(o.status.success(), "{}", stderr(&o));
    for bad in [
        vec!["connect", &addr, ih, "--reserved", "00"],
        vec!["connect", &addr, "0123"],
    ] {
        let o = run(tool("handshake").args(&bad));
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
}

/// `dht` takes the same info-hash forms: a bad one is a usage error (2), the others reach the
/// lookup (1: nobody answers).
#[test]
fn dht_info_hash_forms() {
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let v2 = format!("{DHT_IH}89abcdef0123456789abcdef");
    let magnet = format!("magnet:?xt=urn:btih:{DHT_IH}");
    for (h, code) in [("0123", 2), (v2.as_str(), 1), (magnet.as_str(), 1)] {
        let o = run_bounded(
            tool("dht").args([
                "--bind",
                "127.0.0.1:0",
                "--bootstrap",
                &dead,
                "scrape",
                h,
                "--timeout",
                "1",
            ]),
            Duration::from_secs(15),
        );
        assert_eq!(o.status.code(), Some(code), "{h}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{h}: {}", stderr(&o));
    }
}

/// `--version` and the exit-code convention in every `--help` of tracker and handshake.
#[test]
fn tracker_and_handshake_version_and_exit_codes() {
    for (name, subs) in [
        ("tracker", &["", "serve", "announce", "scrape"][..]),
        ("handshake", &["", "connect", "listen"][..]),
    ] {
        for sub in subs {
            let mut c = tool(name);
            if !sub.is_empty() {
                c.arg(sub);
            }
            let o = run(c.arg("--help"));
            assert!(
                stdout(&o).contains("Exit codes: 0 success; 1 "),
                "{name} {sub}"
            );
        }
        let o = run(tool(name).arg("--version"));
        assert_eq!(
            stdout(&o).trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// The README's synopsis of the tracker, handshake and dht tools names only options their
/// `--help` lists: every `` `tool SUB ...` `` and `` `... SUB ...` `` span of the README's
/// "Examples and tools" bullets is checked against `tool SUB --help`.
#[test]
fn readme_synopsis_matches_tracker_handshake_dht_help() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split("## Examples and tools")
        .nth(1)
        .expect("README section")
        .split("\n## ")
        .next()
        .unwrap();
    let tools: [(&str, &[&str]); 3] = [
        ("tracker", &["serve", "announce", "scrape"]),
        ("handshake", &["connect", "listen"]),
        (
            "dht",
            &[
                "get-peers",
                "announce",
                "serve",
                "put",
                "get",
                "put-mutable",
                "get-mutable",
                "sample",
                "scrape",
            ],
        ),
    ];
    let mut spans = std::collections::HashMap::new();
    let mut checked = 0;
    for bullet in section.split("\n- ") {
        let mut current: Option<(&str, &[&str])> = None;
        for span in bullet.split('`').skip(1).step_by(2) {
            let words: Vec<&str> = span.split_whitespace().collect();
            // A span starting with a tool's name sets the tool of the `...` spans after it;
            // other spans (values, output) are not synopses.
            match words.first() {
                Some(&"...") => {}
                Some(w) => match tools.iter().copied().find(|(n, _)| n == w) {
                    Some(t) => current = Some(t),
                    None => continue,
                },
                None => continue,
            }
            let Some((name, subs)) = current else {
                continue;
            };
            let Some(sub) = words.iter().find(|w| subs.contains(w)) else {
                panic!("{name}: no subcommand in README span `{span}`");
            };
            let help = stdout(&run(tool(name).args([sub, "--help"])));
            for opt in span
                .split(|c: char| c.is_whitespace() || "[]|.".contains(c))
                .filter(|w| w.starts_with("--"))
            {
                assert!(
                    help.contains(opt),
                    "{name} {sub}: {opt} in README, not in --help"
                );
                checked += 1;
            }
            *spans.entry(name).or_insert(0) += 1;
        }
    }
    for (name, _) in tools {
        assert!(
            spans.get(name).copied().unwrap_or(0) >= 2,
            "{name}: {spans:?}"
        );
    }
    assert!(checked >= 15, "{checked}");
}
