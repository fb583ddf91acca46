//! `tracker`: a UDP tracker (BEP 15) server and client on the bip_utracker cores.
//!
//! ```text
//! tracker serve --bind ADDR [--seconds N] [--stats-every S] [--interval S] [--threads N] [--allow FILE | --deny FILE]
//! tracker announce URL INFOHASH [--port P] [--peer-id HEX] [--event started|completed|stopped|none] [--left N] [--timeout S]
//! tracker scrape URL INFOHASH... [--timeout S]
//! ```
//!
//! INFOHASH is 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash, truncated to 20
//! bytes as BEP 52 does for trackers) or a magnet link. `announce` identifies itself with
//! `--peer-id` (40 hex digits), by default `-BP0100-trackerPPPPP` (PPPPP: `--port`), stable for a
//! port so that a later `--event stopped` with the same `--port` removes the announce.
//! `serve --allow FILE` serves only the info hashes in FILE, `--deny FILE` all but those (one
//! per line in any INFOHASH form; blank lines and lines starting with `#` are skipped; `-` reads
//! standard input). Exit codes: 0 success; 1 the answer is "no" (no answer, or the tracker
//! refused); 2 bad usage or unreadable input. `--version` prints the version.
//!
//! `serve` prints a one-line stats summary every few seconds. `announce` prints
//! `interval=N leechers=N seeders=N`, then one peer per line (`IP:PORT`, `[IPv6]:PORT`).
//! `scrape` prints `INFOHASH seeders=N completed=N leechers=N` per hash.
//!
//! `serve` runs the library's `ThreadedServer` (the fastest driver: blocking threads with
//! batched recvmmsg/sendmmsg), one thread and `SO_REUSEPORT` socket per `--threads`. The
//! client side drives the sans-IO `ClientCore` with a plain blocking std socket.

use std::collections::HashSet;
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_examples::{fail, parse_info_hash};
use bip_util::{InfoHash, PeerId};
use bip_utracker::codec::{Event, ScrapeStats};
use bip_utracker::{
    seed_from_clock, AccessList, AnnounceParams, AnnounceReply, ClientConfig, ClientCore,
    ClientEvent, MemoryStore, MemoryStoreConfig, ServerConfig, ThreadedServer, TrackerUrl,
};
use clap::{Parser, Subcommand};

/// The exit-code convention, at the end of every `--help`.
const EXIT_CODES: &str = "Exit codes: 0 success; 1 the answer is \"no\" (no answer, or the \
tracker refused); 2 bad usage or unreadable input.";

#[derive(Parser)]
#[command(
    name = "tracker",
    version,
    about = "UDP tracker (BEP 15) server and client",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a tracker until Ctrl-C (or --seconds).
    #[command(after_help = EXIT_CODES)]
    Serve {
        /// Address to bind, e.g. 127.0.0.1:6969 or [::]:6969.
        #[arg(long)]
        bind: SocketAddr,
        /// Stop after this many seconds.
        #[arg(long, value_parser = parse_seconds, allow_hyphen_values = true)]
        seconds: Option<f64>,
        /// Seconds between stats lines.
        #[arg(long, default_value_t = 5.0, value_parser = parse_seconds, allow_hyphen_values = true)]
        stats_every: f64,
        /// Announce interval told to clients.
        #[arg(long, default_value_t = 1800)]
        interval: u32,
        /// Server threads, one SO_REUSEPORT socket each.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: u16,
        /// Serve only the info hashes in FILE (one per line; `-`: standard input).
        #[arg(long, value_name = "FILE", conflicts_with = "deny")]
        allow: Option<PathBuf>,
        /// Serve all but the info hashes in FILE (one per line; `-`: standard input).
        #[arg(long, value_name = "FILE")]
        deny: Option<PathBuf>,
    },
    /// Announce to a tracker and print the answer.
    #[command(after_help = EXIT_CODES)]
    Announce {
        /// udp://host:port[/path?query]
        url: String,
        /// Info hash: 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Our TCP port.
        #[arg(long, default_value_t = 6881)]
        port: u16,
        /// Our peer id, 40 hex digits (default: -BP0100-trackerPPPPP, PPPPP being --port, so
        /// that `--event stopped` with the same --port removes an earlier announce).
        #[arg(long, value_name = "HEX", value_parser = parse_peer_id)]
        peer_id: Option<PeerId>,
        /// started, completed, stopped or none.
        #[arg(long, default_value = "started")]
        event: Event,
        /// Bytes left to download.
        #[arg(long, default_value_t = 0)]
        left: u64,
        /// Overall timeout in seconds.
        #[arg(long, default_value_t = 10.0, value_parser = parse_seconds, allow_hyphen_values = true)]
        timeout: f64,
    },
    /// Scrape info hashes.
    #[command(after_help = EXIT_CODES)]
    Scrape {
        /// udp://host:port[/path?query]
        url: String,
        /// Info hashes, each as announce takes it.
        #[arg(required = true, value_parser = parse_info_hash)]
        info_hashes: Vec<InfoHash>,
        /// Overall timeout in seconds.
        #[arg(long, default_value_t = 10.0, value_parser = parse_seconds, allow_hyphen_values = true)]
        timeout: f64,
    },
}

/// Longest duration any option takes: about 31.7 years.
const MAX_SECONDS: f64 = 1e9;

/// A duration option: a finite number of seconds from 0 to [`MAX_SECONDS`].
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=MAX_SECONDS).contains(&x) => Ok(x),
        _ => Err(format!("not a number of seconds from 0 to {MAX_SECONDS:e}")),
    }
}

/// A peer id: 40 hex digits.
fn parse_peer_id(s: &str) -> Result<PeerId, String> {
    if s.len() != 40 {
        return Err(format!(
            "expected a peer id of 40 hex digits, got {}",
            s.len()
        ));
    }
    PeerId::from_hex(s).map_err(|e| format!("peer id: {e}"))
}

/// The default peer id of `announce`: [`bip_util::PEER_ID_PREFIX`] then `tracker` and the port
/// in five digits, the same for every run on that port.
fn default_peer_id(port: u16) -> PeerId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(&bip_util::PEER_ID_PREFIX);
    id[8..].copy_from_slice(format!("tracker{port:05}").as_bytes());
    PeerId::from(id)
}

/// The access list of `serve`: `--allow FILE`, `--deny FILE` or neither. An unreadable file or
/// a line that is not an info hash is a one-line error and exit code 2.
fn access_list(allow: Option<&Path>, deny: Option<&Path>) -> AccessList {
    let load = |path: &Path| -> HashSet<InfoHash> {
        let text = if path == Path::new("-") {
            let mut t = String::new();
            std::io::stdin()
                .read_to_string(&mut t)
                .unwrap_or_else(|e| fail(2, format!("standard input: {e}")));
            t
        } else {
            std::fs::read_to_string(path)
                .unwrap_or_else(|e| fail(2, format!("{}: {e}", path.display())))
        };
        let mut set = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let h = parse_info_hash(line)
                .unwrap_or_else(|e| fail(2, format!("{}:{}: {e}", path.display(), i + 1)));
            set.insert(h);
        }
        set
    };
    match (allow, deny) {
        (Some(a), _) => AccessList::Allow(load(a)),
        (None, Some(d)) => AccessList::Deny(load(d)),
        (None, None) => AccessList::Open,
    }
}

/// Parse the command line; a bad value is a one-line error and exit code 2.
fn parse_cli() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| match e.kind() {
        clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue => {
            let msg = e.to_string();
            let line = msg.lines().next().unwrap_or("invalid value");
            eprintln!("{line}");
            std::process::exit(2)
        }
        _ => e.exit(),
    })
}

fn main() {
    match parse_cli().cmd {
        Cmd::Serve {
            bind,
            seconds,
            stats_every,
            interval,
            threads,
            allow,
            deny,
        } => {
            let access = access_list(allow.as_deref(), deny.as_deref());
            serve(
                bind,
                seconds,
                stats_every,
                interval,
                usize::from(threads),
                access,
            )
        }
        Cmd::Announce {
            url,
            info_hash,
            port,
            peer_id,
            event,
            left,
            timeout,
        } => {
            let peer_id = peer_id.unwrap_or_else(|| default_peer_id(port));
            let mut p = AnnounceParams::new(info_hash, peer_id, port);
            p.event = event;
            p.left = left;
            match run_client(&url, timeout, |c, now, to, path| {
                c.announce(now, to, p.clone(), path)
            }) {
                Outcome::Announced(r) => print_announce(&r),
                Outcome::Scraped(_) => unreachable!("announce gives an announce reply"),
            }
        }
        Cmd::Scrape {
            url,
            info_hashes,
            timeout,
        } => {
            let mut all = Vec::new();
            for chunk in info_hashes.chunks(74) {
                match run_client(&url, timeout, |c, now, to, _| {
                    c.scrape(now, to, chunk.to_vec())
                }) {
                    Outcome::Scraped(s) => all.extend(s),
                    Outcome::Announced(_) => unreachable!("scrape gives a scrape reply"),
                }
            }
            for (h, s) in info_hashes.iter().zip(all) {
                println!(
                    "{h} seeders={} completed={} leechers={}",
                    s.seeders, s.completed, s.leechers
                );
            }
        }
    }
}

fn print_announce(r: &AnnounceReply) {
    println!(
        "interval={} leechers={} seeders={}",
        r.interval, r.leechers, r.seeders
    );
    for p in &r.peers {
        println!("{p}");
    }
}

enum Outcome {
    Announced(AnnounceReply),
    Scraped(Vec<ScrapeStats>),
}

fn run_client(
    url: &str,
    timeout: f64,
    start: impl FnOnce(&mut ClientCore, Instant, SocketAddr, Option<Vec<u8>>) -> bip_utracker::RequestId,
) -> Outcome {
    let u = TrackerUrl::parse(url).unwrap_or_else(|e| fail(2, e));
    let target = (u.host.as_str(), u.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| fail(1, format!("cannot resolve {}", u.host)));
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let sock = UdpSocket::bind(bind).unwrap_or_else(|e| fail(1, e));
    // Retransmission every 1 s, doubling (BEP 15's 15 s base is too slow for a CLI).
    let cfg = {
        let mut c = ClientConfig::default();
        c.base_timeout = Duration::from_secs(1);
        c
    };
    let mut core = ClientCore::new(cfg, bip_util::core::os_seed());
    let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.001));
    let path = (!u.path.is_empty()).then(|| u.path.clone().into_bytes());
    start(&mut core, Instant::now(), target, path);
    let mut buf = [0u8; 65536];
    let mut out = Vec::with_capacity(1500);
    loop {
        while let Some(t) = core.poll_transmit(&mut out) {
            if let Err(e) = sock.send_to(&out[..t.len], t.to) {
                fail(1, format!("send to {}: {e}", t.to));
            }
        }
        if let Some(ev) = core.poll_event() {
            return match ev {
                ClientEvent::Announced(_, r) => Outcome::Announced(r),
                ClientEvent::Scraped(_, s) => Outcome::Scraped(s),
                ClientEvent::Failed(_, e) => fail(1, e),
                // Events a later version may add: not this request's answer.
                _ => continue,
            };
        }
        let now = Instant::now();
        if now >= deadline {
            fail(1, format!("no answer from {target} within {timeout} s"));
        }
        let wake = core.poll_timeout().unwrap_or(deadline).min(deadline);
        sock.set_read_timeout(Some(
            wake.saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        ))
        .ok();
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => core.handle_datagram(Instant::now(), from, &buf[..n]),
            Err(_) => core.handle_timeout(Instant::now()),
        }
    }
}

fn serve(
    bind: SocketAddr,
    seconds: Option<f64>,
    stats_every: f64,
    interval: u32,
    threads: usize,
    access: AccessList,
) {
    let start = Instant::now();
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        start,
        seed_from_clock(),
    ));
    let config = {
        let mut c = ServerConfig::default();
        c.announce_interval = interval;
        c.access = access;
        c
    };
    let server = ThreadedServer::spawn(bind, threads, config, store.clone())
        .unwrap_or_else(|e| fail(1, format!("bind {bind}: {e}")));
    let end = seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    let every = Duration::from_secs_f64(stats_every.max(0.1));
    let mut next_stats = start + every;
    println!("listening on {}", server.local_addr());
    let print = || {
        let c = server.stats();
        let (t, p) = store.len();
        println!(
            "uptime={:.0}s connects={} announces={} scrapes={} responses={} errors={} dropped={} torrents={t} peers={p}",
            start.elapsed().as_secs_f64(),
            c.connects, c.announces, c.scrapes, c.responses, c.errors, c.dropped
        );
    };
    loop {
        let now = Instant::now();
        if end.is_some_and(|e| now >= e) {
            print();
            return;
        }
        if now >= next_stats {
            print();
            next_stats = now + every;
        }
        let wake = end.map_or(next_stats, |e| e.min(next_stats));
        std::thread::sleep(wake.saturating_duration_since(now));
    }
}
