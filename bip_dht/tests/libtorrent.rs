//! bip_dht against python3-libtorrent 2.0.8 DHT nodes on loopback (127.0.0.1 and ::1).
//!
//! The libtorrent side is `tests/lt_dht_node.py`, a line-by-line command driver. When
//! python3-libtorrent is missing the tests print `SKIP` and pass, unless `BIP_INTEROP=require`.
//! libtorrent 2.0.8's Python process occasionally dies by a signal; a scenario whose libtorrent
//! process died that way is run once more (both attempts are reported).
#![cfg(feature = "tokio")]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bip_dht::Dht;
use bip_interop::{have_libtorrent, KillOnDrop, TempDir, PYTHON};
use bip_util::InfoHash;
use tokio::runtime::Runtime;
use tokio_stream::StreamExt;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lt_dht_node.py");

/// Why a scenario stopped early.
#[derive(Debug)]
enum Stop {
    /// The libtorrent process died by a signal (worth one more attempt).
    Crashed(String),
}

/// `count` distinct ports free for both UDP and TCP on `host` (libtorrent listens on both).
fn free_ports(host: &str, count: usize) -> Vec<u16> {
    let mut held = Vec::new();
    let mut ports = Vec::new();
    while ports.len() < count {
        let u = UdpSocket::bind((host, 0)).expect("bind a UDP port");
        let p = u.local_addr().unwrap().port();
        if let Ok(t) = TcpListener::bind((host, p)) {
            ports.push(p);
            held.push((u, t));
        }
    }
    ports
}

fn endpoint(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A `lt_dht_node.py` process with its libtorrent sessions.
struct Lt {
    child: KillOnDrop,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    host: String,
    ports: Vec<u16>,
    _dir: TempDir,
}

impl Lt {
    fn start(tag: &str, host: &str, nodes: usize) -> Result<Lt, Stop> {
        let dir = TempDir::new(tag);
        let ports = free_ports(host, nodes);
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        let mut child = KillOnDrop(
            Command::new(PYTHON)
                .arg(SCRIPT)
                .args(["--host", host, "--ports", &list.join(",")])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn python"),
        );
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut lt = Lt {
            child,
            stdin,
            lines,
            host: host.to_owned(),
            ports,
            _dir: dir,
        };
        let hello = lt.reply(Duration::from_secs(15))?;
        assert_eq!(hello, format!("started {nodes}"));
        Ok(lt)
    }

    fn addrs(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| endpoint(&self.host, *p))
            .collect()
    }

    /// The next reply line (logs starting with `#` skipped), within `limit`.
    fn reply(&mut self, limit: Duration) -> Result<String, Stop> {
        let end = Instant::now() + limit;
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(l) if l.starts_with('#') => eprintln!("libtorrent {l}"),
                Ok(l) => {
                    assert!(!l.starts_with("error"), "libtorrent driver: {l}");
                    return Ok(l);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("libtorrent driver gave no answer within {limit:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().expect("wait python");
                    match status.signal() {
                        Some(sig) => {
                            return Err(Stop::Crashed(format!(
                                "libtorrent process died by signal {sig}"
                            )))
                        }
                        None => panic!("libtorrent driver exited: {status}"),
                    }
                }
            }
        }
    }

    /// Send one command and wait (at most `secs` plus a margin) for its reply.
    fn ask(&mut self, cmd: &str, secs: u64) -> Result<String, Stop> {
        writeln!(self.stdin, "{cmd}").expect("write to the libtorrent driver");
        self.stdin.flush().unwrap();
        self.reply(Duration::from_secs(secs + 10))
    }

    /// Connect the libtorrent nodes to each other; panics unless every table has the others.
    fn mesh(&mut self) -> Result<Vec<i64>, Stop> {
        let r = self.ask("mesh 15", 15)?;
        let sizes: Vec<i64> = r
            .strip_prefix("mesh ")
            .unwrap_or_else(|| panic!("{r}"))
            .split(' ')
            .map(|s| s.parse().unwrap())
            .collect();
        Ok(sizes)
    }

    /// A new libtorrent session with an empty table; its index.
    fn spawn(&mut self) -> Result<usize, Stop> {
        let port = free_ports(&self.host.clone(), 1)[0];
        let r = self.ask(&format!("spawn {port}"), 5)?;
        self.ports.push(port);
        Ok(r.strip_prefix("spawned ").unwrap().parse().unwrap())
    }

    /// The node id under which each libtorrent session has `addr` in its routing table.
    fn has(&mut self, addr: SocketAddr) -> Result<Vec<Option<String>>, Stop> {
        let r = self.ask(&format!("has {} {}", addr.ip(), addr.port()), 20)?;
        Ok(r.strip_prefix("has ")
            .unwrap_or_else(|| panic!("{r}"))
            .split(' ')
            .map(|s| (s != "-").then(|| s.to_owned()))
            .collect())
    }

    /// Session `i` looks `hash` up until it sees `want`; the peers it saw.
    fn lookup(
        &mut self,
        i: usize,
        hash: InfoHash,
        secs: u64,
        want: &str,
    ) -> Result<Vec<String>, Stop> {
        let r = self.ask(&format!("lookup {i} {hash} {secs} {want}"), secs)?;
        Ok(r.split(' ').skip(1).map(str::to_owned).collect())
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A bip node on `bind` that bootstraps from `boot` only.
fn bip_node(rt: &Runtime, bind: &str, boot: &[String]) -> Dht {
    rt.block_on(async {
        let mut b = Dht::builder()
            .bind(bind.parse().unwrap())
            .routers(Vec::<String>::new());
        for n in boot {
            b = b.bootstrap(n.clone());
        }
        b.build().await.expect("build the bip node")
    })
}

/// Wait for the bip node's bootstrap (at most 15 s); its table size.
fn bootstrapped(rt: &Runtime, dht: &Dht) -> usize {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(15), dht.bootstrapped()).await })
        .expect("bootstrap within 15 s")
}

/// Announce through bip (at most 15 s); how many nodes accepted.
fn bip_announce(rt: &Runtime, dht: &Dht, hash: InfoHash, port: u16) -> usize {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(15), dht.announce(hash, Some(port))).await
    })
    .expect("announce within 15 s")
    .expect("announce")
}

/// bip lookups for `hash`, repeated every half second until `want` is found (at most `secs`);
/// the peers of the successful lookup and how long it took overall.
fn bip_find(
    rt: &Runtime,
    dht: &Dht,
    hash: InfoHash,
    want: SocketAddr,
    secs: u64,
) -> (HashSet<SocketAddr>, Duration) {
    let started = Instant::now();
    rt.block_on(async {
        let work = async {
            loop {
                let mut peers = dht.get_peers(hash).await.expect("get_peers");
                let mut found = HashSet::new();
                while let Some(p) = peers.next().await {
                    found.insert(p);
                }
                if found.contains(&want) {
                    return found;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        match tokio::time::timeout(Duration::from_secs(secs), work).await {
            Ok(found) => (found, started.elapsed()),
            Err(_) => panic!("bip did not find {want} within {secs} s"),
        }
    })
}

/// Run `scenario`, once more if libtorrent died by a signal; panics on a second crash.
fn with_retry(name: &str, scenario: impl Fn(u32) -> Result<(), Stop>) {
    let started = Instant::now();
    for attempt in 1..=2 {
        match scenario(attempt) {
            Ok(()) => {
                eprintln!(
                    "{name}: passed on attempt {attempt} in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            Err(Stop::Crashed(why)) if attempt == 1 => {
                eprintln!("{name}: attempt 1: {why}; running it once more");
            }
            Err(Stop::Crashed(why)) => panic!("{name}: libtorrent crashed on both attempts: {why}"),
        }
    }
}

fn check_mesh(lt: &mut Lt) -> Result<(), Stop> {
    let sizes = lt.mesh()?;
    let want = (lt.ports.len() - 1) as i64;
    assert!(
        sizes.iter().all(|&s| s >= want),
        "libtorrent tables {sizes:?}, want >= {want}"
    );
    eprintln!("libtorrent tables after mesh: {sizes:?}");
    Ok(())
}

#[test]
fn bip_bootstraps_from_libtorrent_and_finds_its_peer() {
    if !have_libtorrent() {
        return;
    }
    with_retry("a: libtorrent announces, bip finds", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-a{attempt}"), "127.0.0.1", 4)?;
        check_mesh(&mut lt)?;
        let hash = InfoHash::from_sha1(format!("lt announces {attempt}").as_bytes());
        lt.ask(&format!("announce 0 {hash}"), 5)?;
        let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
        let n = bootstrapped(&rt, &bip);
        assert!(
            n >= 3,
            "bip's table after bootstrapping from 4 libtorrent nodes: {n}"
        );
        let want: SocketAddr = lt.addrs()[0].parse().unwrap();
        let (found, took) = bip_find(&rt, &bip, hash, want, 25);
        eprintln!(
            "bip table {n}; found {found:?} {:.2} s after libtorrent's add_torrent",
            took.as_secs_f64()
        );
        let s = bip.status().stats;
        eprintln!(
            "bip stats: queries_out={} replies_in={} timeouts={} dropped={}",
            s.queries_out, s.replies_in, s.timeouts, s.dropped
        );
        assert_eq!(s.dropped, 0, "every libtorrent datagram parsed");
        Ok(())
    });
}

#[test]
fn libtorrent_finds_a_peer_announced_through_bip() {
    if !have_libtorrent() {
        return;
    }
    with_retry(
        "b: bip announces, a fresh libtorrent node finds",
        |attempt| {
            let rt = runtime();
            let mut lt = Lt::start(&format!("lt-dht-b{attempt}"), "127.0.0.1", 3)?;
            check_mesh(&mut lt)?;
            let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
            assert!(bootstrapped(&rt, &bip) >= 2);
            let hash = InfoHash::from_sha1(format!("bip announces {attempt}").as_bytes());
            let accepted = bip_announce(&rt, &bip, hash, 45678);
            eprintln!("bip's announce accepted by {accepted} libtorrent nodes");
            assert!(accepted >= 2, "accepted by {accepted}");

            // A fresh libtorrent node that knows only the bip node.
            let fresh = lt.spawn()?;
            let me = bip.local_addrs()[0];
            lt.ask(&format!("add {fresh} {} {}", me.ip(), me.port()), 5)?;
            let t = lt.ask(&format!("table {fresh} 10 1"), 10)?;
            assert_ne!(t, "table 0", "the fresh libtorrent node never added bip");
            let started = Instant::now();
            let peers = lt.lookup(fresh, hash, 20, "127.0.0.1:45678")?;
            eprintln!(
                "fresh libtorrent node ({t}) dht_get_peers -> {peers:?} in {:.2} s",
                started.elapsed().as_secs_f64()
            );
            assert!(peers.iter().any(|p| p == "127.0.0.1:45678"), "{peers:?}");
            Ok(())
        },
    );
}

#[test]
fn libtorrent_keeps_bip_in_its_routing_tables() {
    if !have_libtorrent() {
        return;
    }
    with_retry("c: libtorrent keeps bip", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-c{attempt}"), "127.0.0.1", 4)?;
        check_mesh(&mut lt)?;
        let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
        assert!(bootstrapped(&rt, &bip) >= 3);
        let me = bip.local_addrs()[0];
        let id = bip.status().id.to_string();
        // libtorrent's own lookups go through bip (its answers must be usable), and time
        // passes for libtorrent to ping or drop nodes it doubts.
        for i in 0..lt.ports.len() {
            let h = InfoHash::from_sha1(format!("random {attempt} {i}").as_bytes());
            lt.lookup(i, h, 2, "none")?;
        }
        std::thread::sleep(Duration::from_secs(3));
        let has = lt.has(me)?;
        eprintln!("libtorrent tables hold bip {me} ({id}) as {has:?}");
        assert!(
            has.iter().all(|h| h.as_deref() == Some(id.as_str())),
            "every libtorrent node keeps bip under its id: {has:?}"
        );
        let s = bip.status().stats;
        eprintln!("bip answered {} libtorrent queries", s.queries_in);
        assert!(s.queries_in >= 4, "{s:?}");
        Ok(())
    });
}

#[test]
fn ipv6_libtorrent_and_bip_on_loopback() {
    if !have_libtorrent() {
        return;
    }
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("SKIP: no IPv6 loopback (binding [::1]:0 failed)");
        return;
    }
    with_retry("d: IPv6 on ::1", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-d{attempt}"), "::1", 3)?;
        let sizes = lt.mesh()?;
        if sizes.iter().any(|&s| s < 2) {
            eprintln!(
                "SKIP: libtorrent's DHT on ::1 did not form (tried 3 sessions with \
                 listen_interfaces=[::1]:PORT and add_dht_node(('::1', PORT)); tables {sizes:?})"
            );
            return Ok(());
        }
        eprintln!("libtorrent IPv6 tables after mesh: {sizes:?}");
        let hash = InfoHash::from_sha1(format!("ipv6 {attempt}").as_bytes());
        lt.ask(&format!("announce 0 {hash}"), 5)?;
        let bip = bip_node(&rt, "[::1]:0", &lt.addrs());
        let n = bootstrapped(&rt, &bip);
        assert!(n >= 2, "bip IPv6 table {n}");
        assert_eq!(bip.status().stats.nodes_v6, n);

        // libtorrent announced over IPv6: bip finds [::1]:port.
        let want: SocketAddr = lt.addrs()[0].parse().unwrap();
        let (found, took) = bip_find(&rt, &bip, hash, want, 20);
        eprintln!("bip (IPv6) found {found:?} in {:.2} s", took.as_secs_f64());

        // bip announces over IPv6; a fresh libtorrent node that knows only bip finds it.
        let hash2 = InfoHash::from_sha1(format!("ipv6 bip {attempt}").as_bytes());
        let accepted = bip_announce(&rt, &bip, hash2, 45679);
        eprintln!("bip's IPv6 announce accepted by {accepted}");
        assert!(accepted >= 2);
        let fresh = lt.spawn()?;
        let me = bip.local_addrs()[0];
        lt.ask(&format!("add {fresh} {} {}", me.ip(), me.port()), 5)?;
        let t = lt.ask(&format!("table {fresh} 10 1"), 10)?;
        assert_ne!(
            t, "table 0",
            "the fresh libtorrent node never added bip over IPv6"
        );
        let peers = lt.lookup(fresh, hash2, 20, "[::1]:45679")?;
        eprintln!("fresh libtorrent IPv6 node dht_get_peers -> {peers:?}");
        assert!(peers.iter().any(|p| p == "[::1]:45679"), "{peers:?}");

        // And they keep bip (BEP 32 tables).
        let id = bip.status().id.to_string();
        let has = lt.has(me)?;
        eprintln!("libtorrent IPv6 tables hold bip {me} as {has:?}");
        assert!(
            has.iter().all(|h| h.as_deref() == Some(id.as_str())),
            "{has:?}"
        );
        let s = bip.status().stats;
        assert_eq!(s.dropped, 0, "every libtorrent datagram parsed");
        Ok(())
    });
}
