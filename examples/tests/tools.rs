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
