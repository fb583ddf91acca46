//! Interop with real programs on 127.0.0.1 (skipped with a message when a program is
//! missing, unless `BIP_INTEROP=require`):
//! * bip's client against Debian's `opentracker` (whitelist, chroot, 8-byte reply), finding
//!   the peer libtorrent announced there;
//! * libtorrent and aria2 announcing to bip's server, finding each other and completing a
//!   download.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::Event;
use bip_utracker::*;

use bip_interop::{available, have_libtorrent, KillOnDrop as Guard, PYTHON};

/// A port free for both TCP and UDP on 127.0.0.1 (best effort).
fn free_port() -> u16 {
    loop {
        let t = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = t.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bip-ut-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/lt_seed.py")
}

/// Creates the torrent (retrying once if libtorrent's binding dies by a signal).
fn create_torrent(dir: &Path, tracker: &str) -> (InfoHash, PathBuf) {
    for _ in 0..2 {
        let out = Command::new(PYTHON)
            .arg(script())
            .args([
                dir.to_str().unwrap(),
                "0",
                "0",
                "--tracker",
                tracker,
                "--create-only",
            ])
            .output()
            .unwrap();
        if !out.status.success() {
            use std::os::unix::process::ExitStatusExt;
            assert!(
                out.status.signal().is_some(),
                "lt_seed.py failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let text = String::from_utf8(out.stdout).unwrap();
        let ih = text
            .lines()
            .find_map(|l| l.strip_prefix("info_hash="))
            .unwrap()
            .parse()
            .unwrap();
        let t = text
            .lines()
            .find_map(|l| l.strip_prefix("torrent="))
            .unwrap()
            .into();
        return (ih, t);
    }
    panic!("libtorrent died twice");
}

/// Starts the seeder; returns the guard and a channel of its output lines.
fn start_seeder(dir: &Path, port: u16, tracker: &str) -> (Guard, mpsc::Receiver<String>) {
    let mut child = Command::new(PYTHON)
        .arg(script())
        .args([
            dir.to_str().unwrap(),
            &port.to_string(),
            "55",
            "--tracker",
            tracker,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            eprintln!("lt_seed: {l}");
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (Guard(child), rx)
}

fn wait_line(rx: &mpsc::Receiver<String>, pat: &str, deadline: Instant) -> bool {
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(pat) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn client_against_opentracker() {
    if !have_libtorrent()
        || !available(
            "opentracker",
            Command::new("sh").args(["-c", "command -v opentracker"]),
        )
    {
        return;
    }
    let start = Instant::now();
    let dir = scratch("ot");
    let ot_dir = dir.join("chroot");
    std::fs::create_dir_all(&ot_dir).unwrap();
    let port = free_port();
    let lt_port = free_port();
    let url = format!("udp://127.0.0.1:{port}/announce");
    let (ih, _torrent) = create_torrent(&dir.join("seed"), &url);
    // Debian's build tracks only whitelisted hashes; as root it chroots into -d and drops to
    // nobody, so the whitelist path is relative to that directory.
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(ot_dir.join("whitelist.txt"), format!("{ih}\n")).unwrap();
    std::fs::set_permissions(&ot_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        ot_dir.join("whitelist.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let _ot = Guard(
        Command::new("timeout")
            .args([
                "55",
                "opentracker",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-P",
                &port.to_string(),
            ])
            .arg("-d")
            .arg(&ot_dir)
            .args(["-w", "/whitelist.txt", "-A", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rt = runtime();
    rt.block_on(async {
        let cfg = {
            let mut c = ClientConfig::default();
            c.base_timeout = Duration::from_millis(300);
            c.max_tries = 4;
            c
        };
        let client = Client::new(cfg, 7).await.unwrap();
        // A hash that is not whitelisted: opentracker's 8-byte reply ends the request.
        let mut p = AnnounceParams::new(
            InfoHash::new([0x42; 20]),
            PeerId::new(*b"-BP0100-abcdefghijkl"),
            5999,
        );
        p.event = Event::STARTED;
        p.left = 1;
        let mut short = None;
        for _ in 0..20 {
            match client.announce(&url, p.clone()).await {
                Err(ClientError::Request(RequestError::ShortAnnounce(n))) => {
                    short = Some(n);
                    break;
                }
                Err(ClientError::Request(RequestError::Timeout(_))) => continue, // still starting
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(short, Some(8), "opentracker never answered");

        let (_seed, rx) = start_seeder(&dir.join("seed"), lt_port, &url);
        assert!(
            wait_line(
                &rx,
                "tracker_reply_alert",
                Instant::now() + Duration::from_secs(20)
            ),
            "libtorrent never announced"
        );
        let mut p = AnnounceParams::new(ih, PeerId::new(*b"-BP0100-mnopqrstuvwx"), 5998);
        p.event = Event::STARTED;
        p.left = 1000;
        let want: SocketAddr = format!("127.0.0.1:{lt_port}").parse().unwrap();
        let r = client.announce(&url, p).await.unwrap();
        assert!(r.peers.contains(&want), "{r:?}");
        assert_eq!((r.seeders, r.leechers), (1, 1), "{r:?}");
        let s = client
            .scrape(&url, &[ih, InfoHash::new([0x43; 20])])
            .await
            .unwrap();
        assert_eq!((s[0].seeders, s[0].leechers), (1, 1));
        assert_eq!(s[1].seeders + s[1].leechers, 0);
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn libtorrent_and_aria2_through_bip_server() {
    if !have_libtorrent() || !available("aria2c", Command::new("aria2c").arg("--version")) {
        return;
    }
    let start = Instant::now();
    let dir = scratch("la");
    let rt = runtime();
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        Instant::now(),
        3,
    ));
    let config = {
        let mut c = ServerConfig::default();
        c.announce_interval = 3;
        c
    };
    let server = rt
        .block_on(Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            config,
            store.clone(),
        ))
        .unwrap();
    let url = format!("udp://127.0.0.1:{}/announce", server.local_addr().port());
    let lt_port = free_port();
    let aria_port = free_port();
    let (ih, torrent) = create_torrent(&dir.join("seed"), &url);
    let (_seed, rx) = start_seeder(&dir.join("seed"), lt_port, &url);
    assert!(
        wait_line(
            &rx,
            "tracker_reply_alert",
            Instant::now() + Duration::from_secs(20)
        ),
        "libtorrent never announced"
    );
    // aria2 speaks UDP trackers only with its DHT on: an empty table, no entry points.
    let fetch = dir.join("fetch");
    let dht = dir.join("dht.dat");
    let mut aria = Guard(
        Command::new("timeout")
            .args(["50", "aria2c"])
            .arg(format!("--dir={}", fetch.display()))
            .arg(format!("--listen-port={aria_port}"))
            .arg(format!("--dht-listen-port={aria_port}"))
            .arg(format!("--dht-file-path={}", dht.display()))
            .args([
                "--enable-dht=true",
                "--enable-dht6=false",
                "--disable-ipv6=true",
                "--bt-enable-lpd=false",
                "--enable-peer-exchange=false",
                "--stop=45",
                "--summary-interval=0",
                "--console-log-level=warn",
                "--file-allocation=none",
                "--seed-time=0",
                "--check-integrity=true",
            ])
            .arg(&torrent)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let status = loop {
        if let Some(s) = aria.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(55),
            "aria2 did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "aria2 failed: {status}");
    let got = std::fs::read(fetch.join("payload.bin")).unwrap();
    let want = std::fs::read(dir.join("seed/payload.bin")).unwrap();
    assert!(got == want, "downloaded file differs");
    // Both announced to bip's server.
    let c = server.stats();
    assert!(c.announces >= 2, "{c:?}");
    let s = store.scrape(Instant::now(), &ih);
    assert!(s.seeders >= 1, "{s:?}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
