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
        // The table may still grow after `bootstrapped` returned (later answers).
        assert!(bip.status().stats.nodes_v6 >= n);

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

// ---- BEP 44 and BEP 51 against libtorrent ------------------------------------------------------

/// A 32-byte ed25519 seed's public key and libtorrent's 64-byte secret key (the expanded key:
/// SHA-512 of the seed, clamped, as libtorrent's `ed25519_create_keypair` makes it).
fn lt_keypair(seed: &[u8; 32]) -> ([u8; 32], [u8; 64]) {
    use sha2::Digest;
    let pk = bip_dht::item::signing_key(seed).verifying_key().to_bytes();
    let mut sk: [u8; 64] = sha2::Sha512::digest(seed).into();
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
    (pk, sk)
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bencoded(text: &str) -> Vec<u8> {
    format!("{}:{text}", text.len()).into_bytes()
}

/// Run `f` on the runtime within `secs`.
fn within<T>(rt: &Runtime, secs: u64, f: impl std::future::Future<Output = T>) -> T {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(secs), f).await })
        .unwrap_or_else(|_| panic!("not done within {secs} s"))
}

/// BEP 44 immutable items both ways: bip puts, libtorrent (a fresh node that knows only bip)
/// gets; libtorrent puts, bip gets (and bip accepted libtorrent's put).
#[test]
fn immutable_items_both_ways_with_libtorrent() {
    if !have_libtorrent() {
        return;
    }
    with_retry("e: immutable items", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-e{attempt}"), "127.0.0.1", 3)?;
        check_mesh(&mut lt)?;
        let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
        assert!(bootstrapped(&rt, &bip) >= 2);

        // bip -> libtorrent.
        let text = format!("from bip {attempt}");
        let item = bip_dht::item::Item::Immutable(bencoded(&text));
        let target = item.target();
        let s = within(&rt, 15, bip.put(item, None)).expect("put");
        let stored = s.announced.unwrap_or(0);
        eprintln!("bip's immutable put stored by {stored} libtorrent nodes");
        assert!(stored >= 2, "{s:?}");
        let fresh = lt.spawn()?;
        let me = bip.local_addrs()[0];
        lt.ask(&format!("add {fresh} {} {}", me.ip(), me.port()), 5)?;
        lt.ask(&format!("table {fresh} 10 1"), 10)?;
        let r = lt.ask(&format!("getimm {fresh} {target} 15"), 15)?;
        eprintln!("fresh libtorrent node dht_get_immutable_item({target}) -> {r}");
        assert_eq!(r, format!("item {}", hex_of(text.as_bytes())));

        // libtorrent -> bip.
        let text = format!("from libtorrent {attempt}");
        let r = lt.ask(&format!("putimm 0 {} 15", text.replace(' ', "_")), 15)?;
        let text = text.replace(' ', "_");
        eprintln!("libtorrent dht_put_immutable_item -> {r}");
        let mut parts = r.split(' ').skip(1);
        let lt_target: bip_util::NodeId = parts.next().unwrap().parse().unwrap();
        assert_eq!(lt_target, bip_dht::item::immutable_target(&bencoded(&text)));
        let stored_at_bip = bip.status().stats.stored_items;
        let got = within(&rt, 15, bip.get_immutable(lt_target)).expect("get");
        eprintln!(
            "bip get_immutable -> {:?}; bip stores {stored_at_bip} item(s) (libtorrent's put reached it: {})",
            got.as_deref().map(String::from_utf8_lossy),
            stored_at_bip >= 2
        );
        assert_eq!(got, Some(bencoded(&text)));
        assert_eq!(
            bip.status().stats.dropped,
            0,
            "every libtorrent datagram parsed"
        );
        Ok(())
    });
}

/// BEP 44 mutable items both ways: bip puts seq 1 then 2 (salted), libtorrent gets seq 2;
/// libtorrent puts (its own seq), bip gets it with a verified signature.
#[test]
fn mutable_items_both_ways_with_libtorrent() {
    if !have_libtorrent() {
        return;
    }
    with_retry("f: mutable items", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-f{attempt}"), "127.0.0.1", 3)?;
        check_mesh(&mut lt)?;
        let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
        assert!(bootstrapped(&rt, &bip) >= 2);

        // bip -> libtorrent.
        let key = bip_dht::item::signing_key(&[attempt as u8; 32]);
        let pk = key.verifying_key().to_bytes();
        for (seq, text) in [(1, "bip one"), (2, "bip two")] {
            let item =
                bip_dht::item::MutableItem::sign(&key, b"room", seq, &bencoded(text)).unwrap();
            let s =
                within(&rt, 15, bip.put(bip_dht::item::Item::Mutable(item), None)).expect("put");
            eprintln!(
                "bip's mutable put seq {seq} stored by {:?} libtorrent nodes",
                s.announced
            );
            assert!(s.announced.unwrap_or(0) >= 2, "{s:?}");
        }
        let r = lt.ask(&format!("getmut 2 {} room 15", hex_of(&pk)), 15)?;
        eprintln!("libtorrent dht_get_mutable_item -> {r}");
        assert_eq!(r, format!("mut 2 {}", hex_of(b"bip two")));

        // libtorrent -> bip.
        let (lpk, lsk) = lt_keypair(&[100 + attempt as u8; 32]);
        let r = lt.ask(
            &format!(
                "putmut 0 {} {} topic from_libtorrent 15",
                hex_of(&lsk),
                hex_of(&lpk)
            ),
            15,
        )?;
        eprintln!("libtorrent dht_put_mutable_item -> {r}");
        assert!(r.starts_with("put 1 "), "{r}");
        let got = within(&rt, 15, bip.get_mutable(lpk, b"topic"))
            .expect("get")
            .expect("bip finds libtorrent's item");
        eprintln!(
            "bip get_mutable -> seq {} value {}",
            got.seq,
            String::from_utf8_lossy(&got.value)
        );
        assert_eq!((got.seq, got.value), (1, bencoded("from_libtorrent")));
        assert_eq!(
            bip.status().stats.dropped,
            0,
            "every libtorrent datagram parsed"
        );
        Ok(())
    });
}

/// BEP 51 both ways: a hash libtorrent announced is met by bip's crawl over the libtorrent
/// nodes; libtorrent's sample_infohashes to bip returns the hash bip stored. And a BEP 33
/// scrape by bip reads libtorrent's Bloom filters.
#[test]
fn sampling_both_ways_with_libtorrent() {
    if !have_libtorrent() {
        return;
    }
    with_retry("g: sample_infohashes", |attempt| {
        let rt = runtime();
        let mut lt = Lt::start(&format!("lt-dht-g{attempt}"), "127.0.0.1", 3)?;
        check_mesh(&mut lt)?;
        let bip = bip_node(&rt, "127.0.0.1:0", &lt.addrs());
        assert!(bootstrapped(&rt, &bip) >= 2);
        // libtorrent uses bip in its lookups once it has confirmed it (as in test c).
        let me = bip.local_addrs()[0];
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            for i in 0..lt.ports.len() {
                let h = InfoHash::from_sha1(format!("warm {attempt} {i}").as_bytes());
                lt.lookup(i, h, 1, "none")?;
            }
            let has = lt.has(me)?;
            if has.iter().all(Option::is_some) || Instant::now() > end {
                eprintln!("libtorrent tables hold bip: {has:?}");
                break;
            }
        }
        let hash = InfoHash::from_sha1(format!("sampled {attempt}").as_bytes());
        lt.ask(&format!("announce 0 {hash}"), 5)?;
        // libtorrent's announce reaches the other libtorrent nodes and bip.
        let want = lt.addrs()[0].clone();
        let peers = lt.lookup(1, hash, 30, &want)?;
        eprintln!("libtorrent node 1 sees {peers:?} for the announced hash");
        let end = Instant::now() + Duration::from_secs(30);
        while bip.status().stats.stored_hashes == 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            bip.status().stats.stored_hashes >= 1,
            "libtorrent's announce never reached bip"
        );

        // bip crawls the libtorrent nodes.
        let (found, from) = within(&rt, 30, async {
            loop {
                let mut samples = bip.sample_infohashes(50).await.expect("sample");
                while let Some((h, from)) = samples.next().await {
                    if h == hash {
                        return (h, from);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        eprintln!("bip's crawl met {found} in the sample of libtorrent node {from}");
        assert!(lt.addrs().contains(&from.to_string()), "{from}");

        // BEP 33 against libtorrent's Bloom filters: libtorrent node 0 (downloading, not a
        // seed) is one peer.
        let est = within(&rt, 15, bip.scrape(hash)).expect("scrape");
        eprintln!("bip scrape of the libtorrent swarm: {est:?}");
        assert_eq!((est.seeds, est.peers), (0, 1), "{est:?}");

        // libtorrent samples bip.
        // (Asked up to three times: libtorrent's DHT upload rate limit, 8 kB/s by default,
        // can hold its query back after the lookups above.)
        let mut r = String::new();
        for _ in 0..3 {
            r = lt.ask(&format!("sample 1 {} {} 5", me.ip(), me.port()), 5)?;
            if r != "samples -" {
                break;
            }
        }
        eprintln!("libtorrent dht_sample_infohashes(bip) -> {r}");
        let parts: Vec<&str> = r.split(' ').collect();
        assert_eq!(parts[0], "samples", "{r}");
        assert_ne!(parts[1], "-", "bip answered: {r}");
        assert!(parts[1].parse::<u64>().unwrap() >= 1, "num: {r}");
        assert_eq!(parts[2], "21600", "interval: {r}");
        assert!(parts[3..].contains(&hash.to_string().as_str()), "{r}");
        Ok(())
    });
}
