//! Inbound slot fairness at the sizes of issue 12 item 7, printing its figures:
//!
//! ```sh
//! cargo run --release -p bip_handshake --example fairness
//! ```
//!
//! One address (127.0.0.1) opens 10,000 idle connections and 256 connections that drip one
//! byte a second, reopening every connection the handshaker closes (after a pause, the first
//! argument in milliseconds, default 1000), while 100 handshakes from another address
//! (127.0.0.2), one every 50 ms, are timed (goal: at least 99 complete within one second).
//! It prints the attack's rates, the success ratio and latencies, the handshaker's memory per
//! held connection (RSS) and both processes' peaks (VmHWM).
//!
//! The attacker runs as a child process (this program with `attack` as its first argument),
//! so the handshaker's memory is measured alone. It needs about 10,500 file descriptors: it
//! raises its soft `RLIMIT_NOFILE` towards the hard limit (through `nix`, no `unsafe`) and
//! scales the idle count down, saying so, if the hard limit is lower.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_handshake::{Extensions, Handshake, Handshaker, BITTORRENT_PROTOCOL};
use bip_util::{InfoHash, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const H: InfoHash = InfoHash::new([0x42; 20]);
const IDLE: usize = 10_000;
const DRIP: usize = 256;
const TRIES: usize = 100;
const SETTLE: Duration = Duration::from_secs(3);

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn raise_fd_limit(want: u64) -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    if soft >= want {
        return soft;
    }
    let target = want.min(hard);
    match setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
        Ok(()) => target,
        Err(_) => soft,
    }
}

async fn connect_from(ip: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((ip, 0)))?;
    s.connect(to).await
}

async fn handshake_from(ip: [u8; 4], to: SocketAddr, n: u8) -> Option<Duration> {
    let start = Instant::now();
    let run = async {
        let mut s = connect_from(ip, to).await.ok()?;
        let mut hello = Vec::new();
        Handshake {
            protocol: BITTORRENT_PROTOCOL,
            reserved: Extensions::NONE,
            info_hash: H,
            peer_id: PeerId::new([n; 20]),
        }
        .encode(&mut hello);
        s.write_all(&hello).await.ok()?;
        let mut reply = [0u8; 68];
        s.read_exact(&mut reply).await.ok()?;
        Handshake::decode(&reply)
            .ok()
            .filter(|h| h.info_hash == H)?;
        Some(start.elapsed())
    };
    tokio::time::timeout(Duration::from_secs(1), run)
        .await
        .ok()
        .flatten()
}

#[derive(Default)]
struct Attack {
    connects: AtomicU64,
    closed_by_server: AtomicU64,
    drip_bytes: AtomicU64,
    open: AtomicU64,
}

/// One attacker connection, kept open for as long as the attack lasts: idle (reads until the
/// server closes it) or dripping the protocol string one byte a second; reopened at once
/// (after `pause`) whenever the handshaker closes it.
async fn hold(to: SocketAddr, drip: bool, attack: Arc<Attack>, pause: Duration) {
    loop {
        let Ok(mut s) = connect_from([127, 0, 0, 1], to).await else {
            tokio::time::sleep(pause).await;
            continue;
        };
        attack.connects.fetch_add(1, Ordering::Relaxed);
        attack.open.fetch_add(1, Ordering::Relaxed);
        if drip {
            let mut sent = 0usize;
            loop {
                let b = [b"\x13BitTorrent protocol"[sent % 20]];
                if s.write_all(&b).await.is_err() {
                    break;
                }
                attack.drip_bytes.fetch_add(1, Ordering::Relaxed);
                sent += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        } else {
            let mut b = [0u8; 64];
            while let Ok(n) = s.read(&mut b).await {
                if n == 0 {
                    break;
                }
            }
        }
        attack.open.fetch_sub(1, Ordering::Relaxed);
        attack.closed_by_server.fetch_add(1, Ordering::Relaxed);
        drop(s);
        tokio::time::sleep(pause).await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let limit = raise_fd_limit(32_768);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if args.get(1).map(String::as_str) == Some("attack") {
        let to: SocketAddr = args[2].parse().expect("address");
        let idle: usize = args[3].parse().expect("idle");
        let pause = Duration::from_millis(args[4].parse().expect("pause"));
        let secs: u64 = args[5].parse().expect("seconds");
        rt.block_on(attacker(to, idle, pause, Duration::from_secs(secs)));
        return;
    }
    let pause_ms: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    // One fd per attacker socket plus a margin for the runtime.
    let idle = IDLE.min((limit as usize).saturating_sub(DRIP + 200));
    println!("RLIMIT_NOFILE soft limit: {limit}; attacker reopens a closed connection after {pause_ms} ms");
    if idle < IDLE {
        println!("NOTE: the fd limit allows only {idle} idle connections (goal {IDLE})");
    }
    rt.block_on(run(idle, pause_ms));
}

/// The child process: holds the connections for `secs`, then prints its counters.
async fn attacker(to: SocketAddr, idle: usize, pause: Duration, secs: Duration) {
    let attack = Arc::new(Attack::default());
    let rss0 = status_kib("VmRSS:");
    for i in 0..idle + DRIP {
        // Open in batches so the listen backlog keeps up.
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::spawn(hold(to, i >= idle, attack.clone(), pause));
    }
    let mut max_open = 0;
    let mut rss_max_open = 0;
    let end = Instant::now() + secs;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let open = attack.open.load(Ordering::Relaxed);
        if open > max_open {
            max_open = open;
            rss_max_open = status_kib("VmRSS:");
        }
    }
    println!(
        "{} {} {} {} {}",
        attack.connects.load(Ordering::Relaxed),
        attack.drip_bytes.load(Ordering::Relaxed),
        max_open,
        rss_max_open.saturating_sub(rss0),
        status_kib("VmHWM:")
    );
}

async fn run(idle: usize, pause_ms: u64) {
    let (hs, mut conns) = Handshaker::builder(PeerId::new(*b"-BP0001-fairness0000"))
        .listen_addr("127.0.0.1:0".parse().expect("addr"))
        .torrent(H)
        .build()
        .await
        .expect("handshaker");
    tokio::spawn(async move { while conns.next().await.is_some() {} });
    let to = hs.local_addr();
    let rss0 = status_kib("VmRSS:");
    let window = Duration::from_millis(50) * TRIES as u32;
    let child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "attack".to_string(),
            to.to_string(),
            idle.to_string(),
            pause_ms.to_string(),
            (SETTLE + window + Duration::from_secs(1))
                .as_secs()
                .to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("attacker process");
    // Let the attack settle: connections open, slots taken, first-bytes deadlines hit.
    tokio::time::sleep(SETTLE).await;
    let rss1 = status_kib("VmRSS:");
    let s0 = hs.stats();
    let w0 = Instant::now();
    let mut lat = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for i in 0..TRIES {
        tick.tick().await;
        if let Some(d) = handshake_from([127, 0, 0, 2], to, i as u8).await {
            lat.push(d);
        }
    }
    let secs = w0.elapsed().as_secs_f64();
    let s1 = hs.stats();
    let rss2 = status_kib("VmRSS:");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("attacker output");
    let f: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let [connects, drips, max_open, attacker_rss, attacker_hwm] = f[..] else {
        println!("attacker failed: {out:?}");
        return;
    };
    lat.sort();
    let ok = lat.len();
    let pct = |p: usize| lat.get((ok * p / 100).min(ok.saturating_sub(1))).copied();
    let attack_secs = (SETTLE + window + Duration::from_secs(1)).as_secs_f64();
    println!(
        "attack from 127.0.0.1: {idle} idle + {DRIP} slow-drip connections, at most {max_open} \
         open at once from its side; {:.0} connects/s and {:.0} drip bytes/s over {attack_secs:.0} s",
        connects as f64 / attack_secs,
        drips as f64 / attack_secs,
    );
    println!(
        "handshaker while timing ({secs:.1} s): accepted {:.0}/s, refused busy {:.0}/s, \
         evicted {:.0}/s, first-bytes/handshake timeouts {:.0}/s",
        (s1.incoming_accepted - s0.incoming_accepted) as f64 / secs,
        (s1.incoming_busy - s0.incoming_busy) as f64 / secs,
        (s1.incoming_evicted - s0.incoming_evicted) as f64 / secs,
        (s1.failed_timeout - s0.failed_timeout) as f64 / secs,
    );
    println!(
        "handshakes from 127.0.0.2 within 1 s: {ok}/{TRIES} (goal >= 99); latency p50 {:?}, \
         p99 {:?}, max {:?}",
        pct(50).unwrap_or_default(),
        pct(99).unwrap_or_default(),
        lat.last().copied().unwrap_or_default()
    );
    let grown = rss1.max(rss2).saturating_sub(rss0);
    println!(
        "handshaker memory: RSS +{grown} KiB under attack with its 256 slots full = {:.0} B per \
         held connection; peak RSS (VmHWM) {:.1} MiB",
        grown as f64 * 1024.0 / 256.0,
        status_kib("VmHWM:") as f64 / 1024.0,
    );
    println!(
        "attacker memory: RSS +{attacker_rss} KiB for {max_open} open connections = {:.0} B each \
         (tokio task + socket); peak RSS {:.1} MiB",
        attacker_rss as f64 * 1024.0 / max_open.max(1) as f64,
        attacker_hwm as f64 / 1024.0
    );
    if ok < 99 {
        println!("GOAL MISSED");
    }
}
