//! Handshake throughput and memory (a plain `main`, not a timed test).
//!
//! ```text
//! cargo bench -p bip_handshake --bench handshakes
//! BENCH_N=20000 BENCH_CONCURRENCY=256 cargo bench -p bip_handshake --bench handshakes
//! ```
//!
//! 1. bip dialer -> bip listener: `BENCH_N` handshakes on loopback, up to `BENCH_CONCURRENCY`
//!    dials in flight (one `Handshaker` each side), completed handshakes per second.
//! 2. bip dialer -> libtorrent 2.0 listener (tests/interop/lt_peer.py), same count over
//!    `BENCH_LT_DIALERS` handshakers each dialling one at a time (a handshaker keeps one dial
//!    per address and hash in flight), and the ratio to 1 with the same dialling pattern.
//!    Skipped when python3-libtorrent is missing.
//! 3. libtorrent dialling: libtorrent (one session, `connection_speed` raised) dials
//!    `BENCH_LT_N` distinct addresses 127.1.x.y of one bip listener; the same addresses dialled
//!    by one bip handshaker, and bip's ratio.
//! 4. Memory per pending handshake: `size_of::<HandshakeState>()` plus its buffers, and the
//!    RSS growth of this process with `BENCH_PENDING` incoming connections that send nothing;
//!    the same for the libtorrent process (its connection limit and listen backlog raised).
//!
//! Rows 2 and 3 run `BENCH_ROUNDS` times (default 3), each against a fresh libtorrent, and
//! end with the median, minimum and maximum of bip's ratios.
//!
//! Every libtorrent figure comes from the same run as bip's, with libtorrent 2.0.8 through
//! python3-libtorrent (`tests/interop/lt_peer.py`, `allow_multiple_connections_per_ip`).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bip_handshake::{
    AddPeer, Connections, DiscoveredPeer, Discovery, HandshakeConfig, HandshakeState, Handshaker,
    PeerSource,
};
use bip_util::{InfoHash, PeerId};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn id(tag: &[u8]) -> PeerId {
    let mut b = *b"-BP0001-000000000000";
    b[20 - tag.len()..].copy_from_slice(tag);
    PeerId::new(b)
}

fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

/// Drains a stream in the background, dropping (closing) each connection.
fn drain(mut conns: Connections) {
    tokio::spawn(async move { while conns.next().await.is_some() {} });
}

/// bip -> bip with many concurrent dials. Distinct info hashes let dials to the one listener
/// run concurrently (the handshaker dedupes per address and hash).
async fn bip_to_bip(n: usize, concurrency: usize) -> f64 {
    let hashes: Vec<InfoHash> = (0..concurrency as u32)
        .map(|i| InfoHash::from_sha1(&i.to_be_bytes()))
        .collect();
    let mut lb = Handshaker::builder(id(b"L"))
        .listen_addr(lo())
        .max_incoming(concurrency * 2)
        .connection_buffer(1024);
    for h in &hashes {
        lb = lb.torrent(*h);
    }
    let (listener, lconns) = lb.build().await.expect("listener");
    drain(lconns);
    let (dialer, mut conns) = Handshaker::builder(id(b"D"))
        .listen_addr(lo())
        .max_outgoing(concurrency)
        .max_queued_dials(concurrency)
        .connection_buffer(1024)
        .build()
        .await
        .expect("dialer");
    let target = listener.local_addr();
    let t0 = Instant::now();
    let feeder = {
        let dialer = dialer.clone();
        let hashes = hashes.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            let mut i = 0;
            while sent < n {
                let peer =
                    DiscoveredPeer::new(hashes[i % hashes.len()], target, PeerSource::Manual);
                match dialer.add_peer(peer) {
                    AddPeer::Accepted => sent += 1,
                    AddPeer::Full | AddPeer::Duplicate => tokio::task::yield_now().await,
                    other => panic!("add_peer: {other:?}"),
                }
                i += 1;
            }
        })
    };
    let mut done = 0;
    while done < n {
        match tokio::time::timeout(Duration::from_secs(30), conns.next()).await {
            Ok(Some(_)) => done += 1,
            _ => panic!("stalled after {done} handshakes: {:?}", dialer.stats()),
        }
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    feeder.await.expect("feeder");
    let st = dialer.stats();
    println!(
        "bip->bip: {n} handshakes, {concurrency} concurrent: {rate:.0} handshakes/s \
         (failures: connect {} timeout {} io {})",
        st.failed_connect, st.failed_timeout, st.failed_io
    );
    rate
}

struct Lt(Child, std::sync::mpsc::Receiver<String>);

impl Lt {
    /// The libtorrent process's VmRSS in KiB (asked over its stdin).
    fn rss_kib(&mut self) -> Option<usize> {
        let stdin = self.0.stdin.as_mut()?;
        stdin.write_all(b"rss\n").ok()?;
        stdin.flush().ok()?;
        loop {
            let line = self.1.recv_timeout(Duration::from_secs(10)).ok()?;
            if let Some(k) = line.strip_prefix("rss_kib=") {
                return k.parse().ok();
            }
        }
    }
}

impl Drop for Lt {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_libtorrent(args: &[String]) -> Option<(Lt, InfoHash, SocketAddr)> {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import libtorrent"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        println!("bip->libtorrent: SKIP: python3-libtorrent not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("bip_hs_bench_{}", std::process::id()));
    let mut child = Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/lt_peer.py"
        ))
        .arg("--dir")
        .arg(&dir)
        .args(["--seconds", "300"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let lt = Lt(child, rx);
    let (mut hash, mut addr) = (None, lo());
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(h) = line.strip_prefix("info_hash=") {
            hash = h.parse().ok();
        } else if let Some(p) = line.strip_prefix("port=") {
            addr.set_port(p.parse().ok()?);
        } else if line == "seeding" {
            break;
        }
    }
    // Keep reading: a closed pipe would kill the script at its next line.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Some((lt, hash?, addr))
}

/// `dialers` handshakers each dialling `target` one at a time until `n` completed.
async fn sequential_dials(target: SocketAddr, hash: InfoHash, n: usize, dialers: usize) -> f64 {
    let mut tasks = Vec::new();
    let per = n.div_ceil(dialers);
    let t0 = Instant::now();
    for d in 0..dialers {
        tasks.push(tokio::spawn(async move {
            let (h, mut conns) = Handshaker::builder(id(format!("{d:04}").as_bytes()))
                .listen_addr(lo())
                .build()
                .await
                .expect("dialer");
            let mut done = 0;
            let mut failed = 0;
            while done < per {
                h.add_peer(DiscoveredPeer::new(hash, target, PeerSource::Manual));
                match tokio::time::timeout(Duration::from_secs(5), conns.next()).await {
                    Ok(Some(_)) => done += 1,
                    _ => {
                        failed += 1;
                        if failed > 50 {
                            panic!("dialer {d}: too many failures: {:?}", h.stats());
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("dialer task");
    }
    (per * dialers) as f64 / t0.elapsed().as_secs_f64()
}

/// The `i`th distinct dial target: 127.1.x.y (all on loopback) at `port`.
fn target(i: usize, port: u16) -> SocketAddr {
    SocketAddr::from(([127, 1, (i / 250) as u8, (1 + i % 250) as u8], port))
}

/// A bip listener on 0.0.0.0 (so every 127.1.x.y reaches it) that counts completed
/// handshakes; returns the handshaker, its port and a receiver of completion times.
async fn counting_listener(
    hash: Option<InfoHash>,
    n: usize,
) -> (
    Handshaker,
    u16,
    tokio::sync::mpsc::UnboundedReceiver<Instant>,
) {
    let mut b = Handshaker::builder(id(b"C"))
        .listen_addr("0.0.0.0:0".parse().expect("addr"))
        .max_incoming(n + 16)
        .connection_buffer(1024);
    if let Some(h) = hash {
        b = b.torrent(h);
    }
    let (bip, mut conns) = b.build().await.expect("bip listener");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while conns.next().await.is_some() {
            let _ = tx.send(Instant::now());
        }
    });
    let port = bip.local_addr().port();
    (bip, port, rx)
}

/// Waits for `n` completions (or 5 s without one); returns how many and when the last came.
async fn completions(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Instant>,
    n: usize,
) -> (usize, Option<Instant>) {
    let mut done = 0;
    let mut last = None;
    while done < n {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(t)) => {
                done += 1;
                last = Some(t);
            }
            _ => break,
        }
    }
    (done, last)
}

/// libtorrent dialling `n` distinct addresses of a bip listener, then one bip handshaker
/// dialling the same addresses of another; prints both rates and bip's ratio.
async fn dialling(n: usize) -> Option<f64> {
    // The listener first (libtorrent dials it when told), its torrent added once the
    // script has printed the hash.
    let (listener, port, mut rx) = counting_listener(None, n).await;
    let args: Vec<String> = vec![
        "--dial-port".into(),
        port.to_string(),
        "--dial-count".into(),
        n.to_string(),
    ];
    let (mut lt, hash, _) = start_libtorrent(&args)?;
    listener.add_torrent(hash);
    let t0 = Instant::now();
    if let Some(stdin) = lt.0.stdin.as_mut() {
        let _ = stdin.write_all(b"dial\n").and_then(|()| stdin.flush());
    }
    let (done, last) = completions(&mut rx, n).await;
    let lt_rate = done as f64 / last.map_or(f64::INFINITY, |l| (l - t0).as_secs_f64());
    drop(lt);
    drop(listener);

    // bip dialling the same pattern.
    let (listener, port, mut rx) = counting_listener(Some(hash), n).await;
    let (dialer, conns) = Handshaker::builder(id(b"E"))
        .listen_addr(lo())
        .build()
        .await
        .expect("dialer");
    drain(conns);
    let t0 = Instant::now();
    let feeder = tokio::spawn(async move {
        let mut i = 0;
        while i < n {
            match dialer.add_peer(DiscoveredPeer::new(
                hash,
                target(i, port),
                PeerSource::Manual,
            )) {
                AddPeer::Accepted => i += 1,
                AddPeer::Full | AddPeer::Duplicate => tokio::task::yield_now().await,
                other => panic!("add_peer: {other:?}"),
            }
        }
        dialer
    });
    let (bip_done, bip_last) = completions(&mut rx, n).await;
    let bip_rate = bip_done as f64 / bip_last.map_or(f64::INFINITY, |l| (l - t0).as_secs_f64());
    let _dialer = feeder.await.expect("feeder");
    drop(listener);
    println!(
        "libtorrent dialling: {done}/{n} handshakes into a bip listener: {lt_rate:.0}/s; \
         bip dialling the same addresses: {bip_done}/{n}: {bip_rate:.0}/s; \
         ratio bip dialer / libtorrent dialer = {:.2}",
        bip_rate / lt_rate
    );
    Some(bip_rate / lt_rate)
}

/// "median (min–max)" of a few ratios.
fn spread(v: &mut [f64]) -> String {
    if v.is_empty() {
        return "n/a".into();
    }
    v.sort_by(f64::total_cmp);
    format!(
        "median {:.2} (min {:.2}, max {:.2}, {} rounds)",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1],
        v.len()
    )
}

fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn memory(pending: usize) {
    let cfg = HandshakeConfig::new(id(b"M"));
    let st =
        HandshakeState::new_responder(&cfg, Instant::now(), SocketAddr::from(([127, 0, 0, 1], 1)));
    println!(
        "memory: size_of::<HandshakeState>() = {} bytes (+ up to {} bytes of buffers on the heap \
         once bytes arrive; the protocol string is shared)",
        std::mem::size_of_val(&st),
        2 * cfg.handshake_len()
    );
    let (listener, _conns) = Handshaker::builder(id(b"P"))
        .listen_addr(lo())
        .max_incoming(pending + 10)
        .handshake_timeout(Duration::from_secs(120))
        .first_bytes_timeout(Duration::from_secs(120))
        .torrent(InfoHash::new([1; 20]))
        .build()
        .await
        .expect("listener");
    let addr = listener.local_addr();
    // Warm up the runtime and allocator with a few connections first.
    let mut socks = Vec::with_capacity(pending);
    for _ in 0..64 {
        socks.push(std::net::TcpStream::connect(addr).expect("connect"));
    }
    while listener.stats().incoming_accepted < 64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before = rss_kib();
    for i in 64..pending {
        match std::net::TcpStream::connect(addr) {
            Ok(s) => socks.push(s),
            Err(e) => {
                println!("memory: stopped at {i} connections: {e}");
                break;
            }
        }
        if i % 512 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let n = socks.len() as u64;
    let t0 = Instant::now();
    while listener.stats().incoming_accepted < n && t0.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss_kib();
    let added = listener.stats().incoming_accepted.saturating_sub(64);
    println!(
        "memory: {added} pending incoming handshakes: RSS +{} KiB = {:.0} bytes per pending \
         handshake (task, state, socket registration; client sockets are plain fds)",
        after.saturating_sub(before),
        (after.saturating_sub(before) as f64 * 1024.0) / added.max(1) as f64
    );
    drop(socks);
}

/// RSS growth of the libtorrent process with `pending` incoming connections that send nothing.
fn lt_memory(pending: usize, args: &[String]) {
    let Some((mut lt, _, addr)) = start_libtorrent(args) else {
        return;
    };
    let mut socks = Vec::with_capacity(pending);
    for _ in 0..64 {
        socks.extend(std::net::TcpStream::connect(addr).ok());
    }
    std::thread::sleep(Duration::from_millis(300));
    let Some(before) = lt.rss_kib() else {
        println!("libtorrent memory: no answer");
        return;
    };
    for i in 64..pending {
        match std::net::TcpStream::connect(addr) {
            Ok(s) => socks.push(s),
            Err(e) => {
                println!("libtorrent memory: stopped at {i} connections: {e}");
                break;
            }
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = lt.rss_kib().unwrap_or(before);
    // Count the connections libtorrent still holds (a closed one reads as end of stream).
    let mut open = 0usize;
    let mut b = [0u8; 1];
    for s in &socks[64..] {
        let _ = s.set_nonblocking(true);
        if matches!(s.peek(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            open += 1;
        }
    }
    println!(
        "libtorrent memory: {open} of {} pending incoming handshakes still open after 1 s: RSS +{} \
         KiB = {:.0} bytes per pending handshake",
        socks.len() - 64,
        after.saturating_sub(before),
        (after.saturating_sub(before) as f64 * 1024.0) / open.max(1) as f64
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let n = env("BENCH_N", 10_000);
    let concurrency = env("BENCH_CONCURRENCY", 256);
    let lt_dialers = env("BENCH_LT_DIALERS", 16);
    let pending = env("BENCH_PENDING", 9_000);
    rt.block_on(async {
        // Memory first, while the allocator has no freed memory to reuse.
        memory(pending).await;
        bip_to_bip(n, concurrency).await;
        // libtorrent at its best for this: connection limit and listen backlog raised.
        let tuned: Vec<String> = ["--connections-limit", "20000", "--listen-queue", "4096"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        tokio::task::block_in_place(|| lt_memory(pending, &tuned));
        let (mut accept, mut dial) = (Vec::new(), Vec::new());
        for round in 0..env("BENCH_ROUNDS", 3) {
            println!("round {}:", round + 1);
            if let Some((_lt, hash, lt_addr)) = start_libtorrent(&tuned) {
                let m = n.min(env("BENCH_LT_N", 4_000));
                let lt_rate = sequential_dials(lt_addr, hash, m, lt_dialers).await;
                // The same pattern against a bip listener, for the ratio.
                let (bip, conns) = Handshaker::builder(id(b"B"))
                    .listen_addr(lo())
                    .torrent(hash)
                    .build()
                    .await
                    .expect("bip listener");
                drain(conns);
                let bip_rate = sequential_dials(bip.local_addr(), hash, m, lt_dialers).await;
                println!(
                    "bip->libtorrent: {m} handshakes, {lt_dialers} dialers one at a time: \
                 {lt_rate:.0} handshakes/s; bip->bip same pattern: {bip_rate:.0}/s; \
                 ratio bip listener / libtorrent listener = {:.2}",
                    bip_rate / lt_rate
                );
                accept.push(bip_rate / lt_rate);
            }
            dial.extend(dialling(env("BENCH_LT_N", 4_000).min(n)).await);
        }
        println!(
            "bip / libtorrent accepting (same dialers): {}; goal >= 2",
            spread(&mut accept)
        );
        println!(
            "bip / libtorrent dialling (same bip listener): {}; goal >= 2",
            spread(&mut dial)
        );
    });
}
