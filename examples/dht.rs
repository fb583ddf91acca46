//! `dht`: a Mainline DHT node (BEP 5, 32, 33, 43, 44, 51) on the bip_dht tokio driver.
//!
//! ```text
//! dht [--bind ADDR]... [--bootstrap HOST:PORT]... [--state FILE] [--read-only] get-peers INFOHASH [--timeout S]
//! dht [...] announce INFOHASH --port P [--timeout S]
//! dht [...] serve [--seconds N] [--stats-every S]
//! dht [...] put VALUE [--timeout S]
//! dht [...] get TARGET [--timeout S]
//! dht [...] put-mutable --seed-file FILE [--salt S] [--seq N] VALUE [--timeout S]
//! dht [...] get-mutable PUBKEY [--salt S] [--timeout S]
//! dht [...] sample [--limit N] [--nodes N] [--timeout S]
//! dht [...] scrape INFOHASH [--timeout S]
//! ```
//!
//! BEP 44: `put` stores VALUE as a bencoded byte string (`<len>:VALUE`, as libtorrent's
//! `dht_put_immutable_item` stores a string) and prints `target=HEX`, then
//! `stored=N queried=N answered=N elapsed=Xs`, N being the nodes that stored it. `get` prints
//! the value as the `bencode` tool's text form does (a string as `"text"`), or exits 1 when no
//! node has it. `put-mutable` signs with the ed25519 seed in FILE (64 hex digits; a new random
//! one is written when FILE does not exist), with `seq` one more than the highest found when
//! `--seq` is not given, and prints `key=HEX`, `target=HEX`, `seq=N`, then the `stored=` line.
//! `get-mutable` prints `seq=N` and the value, or exits 1.
//!
//! BEP 51: `sample` crawls the DHT (at most `--nodes` nodes, default 2,000) and prints each
//! distinct info hash once as 40 hex digits, as soon as it is met, stopping after `--limit`
//! hashes; a `done hashes=N queried=N answered=N elapsed=Xs` line goes to stderr. BEP 33:
//! `scrape` prints `seeds=N peers=N` (the BEP's estimates from the Bloom filters of the nodes
//! closest to the hash).
//!
//! `get-peers` prints each distinct peer once (`IP:PORT`, `[IPv6]:PORT`) as soon as it is found,
//! then `done peers=N queried=N answered=N elapsed=Xs`. `announce` prints
//! `accepted=N queried=N answered=N elapsed=Xs`, N being the nodes that stored our announce.
//! `serve` prints `listening ADDR` and `id=HEX`, then a one-line summary every few seconds
//! (table sizes, query rates, stored hashes, peers and BEP 44 items, blocked addresses).
//!
//! Info hashes are 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash, truncated to
//! 20 bytes as BEP 52 does on the DHT) or a magnet link. Without `--bind` the node binds
//! `0.0.0.0:0`, plus `[::]:0` when a bootstrap node (or a node of the state file) is IPv6.
//! Without `--bootstrap` it bootstraps from the public routers (`bip_dht::DEFAULT_ROUTERS`).
//! `--state FILE` loads the node id and routing table at start when the file exists and saves
//! them every minute and on exit (Ctrl-C, or the end of `--seconds`).
//!
//! Exit codes: 0 success; 1 when the answer is no (no node answered in time, no peer found,
//! nobody accepted the announce); 2 for bad usage or unreadable input.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bip_bencode::{DictIter, Kind, ListIter, Value};
use bip_dht::item::{Item, MutableItem};
use bip_dht::state::SavedState;
use bip_dht::{Dht, Status};
use bip_examples::{fail, parse_info_hash};
use bip_util::{InfoHash, NodeId};
use clap::{Parser, Subcommand};
use tokio::time::Instant;
use tokio_stream::StreamExt;

#[derive(Parser)]
#[command(
    name = "dht",
    version,
    about = "Mainline DHT node: find peers, announce, or serve",
    after_help = "Exit codes: 0 success; 1 the answer is \"no\" (no node answered, no peers or item found, nobody accepted); 2 bad usage or unreadable input."
)]
struct Cli {
    /// Address to bind (one IPv4 and/or one IPv6), e.g. 0.0.0.0:6881 or [::]:6881.
    #[arg(long, global = true, value_name = "ADDR")]
    bind: Vec<SocketAddr>,
    /// A node to bootstrap from; replaces the public routers.
    #[arg(long, global = true, value_name = "HOST:PORT", value_parser = parse_host_port)]
    bootstrap: Vec<String>,
    /// Load the node id and routing table from FILE if it exists; save them there.
    #[arg(long, global = true, value_name = "FILE")]
    state: Option<PathBuf>,
    /// BEP 43 read-only node: ask, never answer.
    #[arg(long, global = true)]
    read_only: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Look up the peers of an info hash; print each once as it is found.
    GetPeers {
        /// Info hash: 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// Announce that we have an info hash on a TCP port; print how many nodes accepted.
    Announce {
        /// Info hash: 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Our TCP port.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 44: store VALUE as an immutable item (a bencoded byte string); print its target.
    Put {
        /// The text to store.
        value: String,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 44: look up an immutable item by its target; print its value.
    Get {
        /// The target: 40 hex digits.
        #[arg(value_parser = parse_target)]
        target: NodeId,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 44: sign VALUE with the key in FILE and store it as a mutable item.
    PutMutable {
        /// A 32-byte ed25519 seed as 64 hex digits; created (random) if missing.
        #[arg(long, value_name = "FILE")]
        seed_file: PathBuf,
        /// The salt (at most 64 bytes).
        #[arg(long, default_value = "")]
        salt: String,
        /// The sequence number (default: one more than the highest found).
        #[arg(long)]
        seq: Option<i64>,
        /// The text to store.
        value: String,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 44: look up the mutable item of a public key (and salt); print seq and value.
    GetMutable {
        /// The ed25519 public key: 64 hex digits.
        #[arg(value_parser = parse_key)]
        pubkey: [u8; 32],
        /// The salt.
        #[arg(long, default_value = "")]
        salt: String,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 51: crawl the DHT's samples; print distinct info hashes, one per line.
    Sample {
        /// Stop after this many info hashes.
        #[arg(long)]
        limit: Option<usize>,
        /// Query at most this many nodes.
        #[arg(long, default_value_t = 2000)]
        nodes: usize,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// BEP 33: estimate the seeds and peers of an info hash.
    Scrape {
        /// Info hash: 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// Run a node until Ctrl-C (or --seconds), printing a periodic summary.
    Serve {
        /// Stop after this many seconds.
        #[arg(long, value_parser = parse_seconds)]
        seconds: Option<f64>,
        /// Seconds between summary lines.
        #[arg(long, default_value_t = 5.0, value_parser = parse_seconds)]
        stats_every: f64,
    },
}

/// Longest duration any option takes: about 31.7 years.
const MAX_SECONDS: f64 = 1e9;

/// How often `--state` is saved while running.
const SAVE_EVERY: Duration = Duration::from_secs(60);

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=MAX_SECONDS).contains(&x) => Ok(x),
        _ => Err(format!("not a number of seconds from 0 to {MAX_SECONDS:e}")),
    }
}

fn parse_target(s: &str) -> Result<NodeId, String> {
    if s.len() != 40 {
        return Err(format!("expected 40 hex digits, got {}", s.len()));
    }
    NodeId::from_hex(s).map_err(|e| e.to_string())
}

fn parse_key(s: &str) -> Result<[u8; 32], String> {
    let mut k = [0u8; 32];
    hex::decode_to_slice(s, &mut k).map_err(|_| "expected 64 hex digits".to_string())?;
    Ok(k)
}

fn parse_host_port(s: &str) -> Result<String, String> {
    let bad = || format!("expected HOST:PORT (e.g. 127.0.0.1:6881, [::1]:6881), got {s:?}");
    if let Ok(a) = s.parse::<SocketAddr>() {
        return if a.port() == 0 {
            Err(bad())
        } else {
            Ok(s.to_owned())
        };
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(':') || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad());
    }
    Ok(s.to_owned())
}

/// Parse the command line; any usage error is one line on stderr and exit code 2.
fn parse_cli() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            e.exit() // --help, --version
        }
        let line = match e.kind() {
            clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                "error: a command is required: get-peers, announce, serve, put, get, put-mutable, get-mutable, sample or scrape (see --help)".into()
            }
            // The first paragraph of clap's message, as one line.
            _ => e
                .to_string()
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        };
        eprintln!("{line}");
        std::process::exit(2)
    })
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn main() -> ExitCode {
    let cli = parse_cli();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(1, format!("tokio runtime: {e}")));
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let start = Instant::now();
    // The overall deadline of a client command also bounds name resolution and bootstrap.
    let deadline = match &cli.cmd {
        Cmd::GetPeers { timeout, .. }
        | Cmd::Announce { timeout, .. }
        | Cmd::Put { timeout, .. }
        | Cmd::Get { timeout, .. }
        | Cmd::PutMutable { timeout, .. }
        | Cmd::GetMutable { timeout, .. }
        | Cmd::Sample { timeout, .. }
        | Cmd::Scrape { timeout, .. } => Some(start + Duration::from_secs_f64(*timeout)),
        Cmd::Serve { .. } => None,
    };
    // Check what can be checked before any network work.
    let prepared = match &cli.cmd {
        Cmd::PutMutable {
            seed_file, salt, ..
        } => {
            check_salt(salt);
            Some(load_seed(seed_file))
        }
        Cmd::GetMutable { salt, .. } => {
            check_salt(salt);
            None
        }
        Cmd::Put { value, .. } => {
            check_value(&bencoded(value));
            None
        }
        _ => None,
    };
    let dht = start_node(&cli, deadline).await;
    let client_deadline = deadline.unwrap_or(start);
    let code = match cli.cmd {
        Cmd::Put { value, .. } => put(&dht, &value, start, client_deadline).await,
        Cmd::Get { target, .. } => get(&dht, target, client_deadline).await,
        Cmd::PutMutable {
            salt, seq, value, ..
        } => {
            let seed = prepared.unwrap_or([0; 32]);
            put_mutable(&dht, seed, &salt, seq, &value, start, client_deadline).await
        }
        Cmd::GetMutable { pubkey, salt, .. } => {
            get_mutable(&dht, pubkey, &salt, client_deadline).await
        }
        Cmd::Sample { limit, nodes, .. } => {
            sample(&dht, limit, nodes, start, client_deadline).await
        }
        Cmd::Scrape { info_hash, .. } => scrape(&dht, info_hash, client_deadline).await,
        Cmd::GetPeers { info_hash, .. } => {
            get_peers(&dht, info_hash, start, deadline.expect("client deadline")).await
        }
        Cmd::Announce {
            info_hash, port, ..
        } => {
            announce(
                &dht,
                info_hash,
                port,
                start,
                deadline.expect("client deadline"),
            )
            .await
        }
        Cmd::Serve {
            seconds,
            stats_every,
        } => serve(&dht, seconds, stats_every).await,
    };
    if cli.state.is_some() {
        if let Err(e) = dht.save_state().await {
            eprintln!("error: saving the state file: {e}");
            return ExitCode::from(1);
        }
    }
    code
}

/// Resolve the bootstrap nodes, pick the bind addresses, build the node.
async fn start_node(cli: &Cli, deadline: Option<Instant>) -> Dht {
    let saved = match &cli.state {
        Some(path) => SavedState::load(path)
            .unwrap_or_else(|e| fail(2, format!("state file {}: {e}", path.display()))),
        None => None,
    };
    let mut boot: Vec<SocketAddr> = Vec::new();
    for name in &cli.bootstrap {
        let lookup = tokio::net::lookup_host(name.as_str());
        let r = match deadline {
            Some(d) => tokio::time::timeout_at(d, lookup)
                .await
                .unwrap_or_else(|_| fail(1, format!("resolving {name}: timed out"))),
            None => lookup.await,
        };
        let addrs: Vec<SocketAddr> = r
            .unwrap_or_else(|e| fail(1, format!("cannot resolve {name}: {e}")))
            .collect();
        if addrs.is_empty() {
            fail(1, format!("{name} resolves to no address"));
        }
        boot.extend(addrs);
    }
    let binds: Vec<SocketAddr> = if cli.bind.is_empty() {
        let known = saved.iter().flat_map(|s| s.nodes.iter().map(|n| n.addr));
        let mut v6 = false;
        for a in boot.iter().copied().chain(known) {
            v6 |= a.is_ipv6() && a.ip().to_canonical().is_ipv6();
        }
        let v4 = boot.is_empty() || boot.iter().any(|a| a.ip().to_canonical().is_ipv4());
        let mut b = Vec::new();
        if v4 {
            b.push(SocketAddr::from(([0, 0, 0, 0], 0)));
        }
        if v6 {
            b.push("[::]:0".parse().expect("literal"));
        }
        b
    } else {
        cli.bind.clone()
    };
    if binds.iter().filter(|a| a.is_ipv4()).count() > 1
        || binds.iter().filter(|a| a.is_ipv6()).count() > 1
    {
        fail(2, "at most one --bind address per family (IPv4, IPv6)");
    }
    if !boot.is_empty() {
        let fams = |a: &SocketAddr| a.ip().to_canonical().is_ipv4();
        let usable = boot
            .iter()
            .any(|b| binds.iter().any(|l| l.is_ipv4() == fams(b)));
        if !usable {
            fail(
                2,
                "no --bootstrap node is in a bound address family (add --bind for it)",
            );
        }
    }
    let mut b = Dht::builder().read_only(cli.read_only);
    for a in &binds {
        b = b.bind(*a);
    }
    for a in &boot {
        b = b.bootstrap(a.to_string());
    }
    if let Some(path) = &cli.state {
        b = b.state_file(path).save_interval(SAVE_EVERY);
    }
    b.build()
        .await
        .unwrap_or_else(|e| fail(1, format!("starting the node (bind {binds:?}): {e}")))
}

/// Wait for the first bootstrap, bounded by `deadline`; `Err` with a message when nobody
/// answered.
async fn bootstrap(dht: &Dht, deadline: Instant) -> Result<usize, String> {
    let wait = tokio::time::timeout_at(deadline, dht.bootstrapped());
    let r = tokio::select! {
        r = wait => r,
        _ = tokio::signal::ctrl_c() => return Err("interrupted".into()),
    };
    match r {
        Ok(0) => Err("no DHT node answered the bootstrap".into()),
        Ok(n) => Ok(n),
        Err(_) => {
            let n = table_size(&dht.status());
            if n > 0 {
                Ok(n)
            } else {
                Err("no DHT node answered before the timeout".into())
            }
        }
    }
}

fn table_size(s: &Status) -> usize {
    s.stats.nodes_v4 + s.stats.nodes_v6
}

async fn get_peers(dht: &Dht, hash: InfoHash, start: Instant, deadline: Instant) -> ExitCode {
    if let Err(e) = bootstrap(dht, deadline).await {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let before = dht.status().stats;
    let mut peers = match dht.get_peers(hash).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: get_peers: {e}");
            return ExitCode::from(1);
        }
    };
    let mut seen = HashSet::new();
    let mut timed_out = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            p = peers.next() => match p {
                Some(addr) => {
                    if seen.insert(addr) {
                        println!("{addr}");
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep_until(deadline) => {
                timed_out = true;
                break;
            }
            _ = &mut ctrl_c => {
                timed_out = true;
                break;
            }
        }
    }
    let (queried, answered) = match peers.summary() {
        Some(s) => (s.queries as u64, s.replies as u64),
        None => {
            let now = dht.status().stats;
            (
                now.queries_out - before.queries_out,
                now.replies_in - before.replies_in,
            )
        }
    };
    println!(
        "done peers={} queried={queried} answered={answered} elapsed={}{}",
        seen.len(),
        secs(start.elapsed()),
        if timed_out { " (stopped early)" } else { "" }
    );
    if seen.is_empty() {
        eprintln!("error: no peers found");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn announce(
    dht: &Dht,
    hash: InfoHash,
    port: u16,
    start: Instant,
    deadline: Instant,
) -> ExitCode {
    if let Err(e) = bootstrap(dht, deadline).await {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let work = tokio::time::timeout_at(deadline, dht.announce_with(hash, Some(port), false));
    let r = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("error: interrupted");
            return ExitCode::from(130);
        }
    };
    match r {
        Err(_) => {
            eprintln!("error: the announce did not finish before the timeout");
            ExitCode::from(1)
        }
        Ok(Err(e)) => {
            eprintln!("error: announce: {e}");
            ExitCode::from(1)
        }
        Ok(Ok(s)) => count_line("accepted", "no node accepted the announce", &s, start),
    }
}

async fn serve(dht: &Dht, seconds: Option<f64>, stats_every: f64) -> ExitCode {
    for a in dht.local_addrs() {
        println!("listening {a}");
    }
    println!("id={}", dht.status().id);
    let start = Instant::now();
    let end = seconds.map(|s| start + Duration::from_secs_f64(s));
    let every = Duration::from_secs_f64(stats_every.max(0.1));
    let mut ticker = tokio::time::interval_at(start + every, every);
    let mut last = (start, dht.status().stats);
    let mut boot_reported = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let summary = |last: &mut (Instant, bip_dht::Stats)| {
        let now = Instant::now();
        let s = dht.status().stats;
        let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
        println!(
            "uptime={:.0}s nodes_v4={} nodes_v6={} queries_in/s={:.1} queries_out/s={:.1} stored_hashes={} stored_peers={} stored_items={} blocked={}",
            now.duration_since(start).as_secs_f64(),
            s.nodes_v4,
            s.nodes_v6,
            (s.queries_in - last.1.queries_in) as f64 / dt,
            (s.queries_out - last.1.queries_out) as f64 / dt,
            s.stored_hashes,
            s.stored_peers,
            s.stored_items,
            s.blocked,
        );
        *last = (now, s);
    };
    loop {
        let stop = async {
            match end {
                Some(e) => tokio::time::sleep_until(e).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ticker.tick() => {
                summary(&mut last);
            }
            n = dht.bootstrapped(), if !boot_reported => {
                boot_reported = true;
                if n == 0 {
                    eprintln!("warning: no bootstrap node answered yet; serving anyway (retrying every 30 s)");
                } else {
                    println!("bootstrapped nodes={n}");
                }
            }
            _ = stop => break,
            _ = &mut ctrl_c => break,
        }
    }
    // A last summary, unless one was printed a moment ago.
    if last.0.elapsed() >= Duration::from_millis(200) {
        summary(&mut last);
    }
    ExitCode::SUCCESS
}

// ---- BEP 44, 51, 33 ----------------------------------------------------------------------------

/// VALUE as a bencoded byte string, `<len>:VALUE`.
fn bencoded(value: &str) -> Vec<u8> {
    let mut v = format!("{}:", value.len()).into_bytes();
    v.extend_from_slice(value.as_bytes());
    v
}

fn check_value(v: &[u8]) {
    if v.len() > bip_dht::item::MAX_VALUE_LEN {
        fail(
            2,
            format!(
                "the bencoded value is {} bytes; BEP 44 allows at most {}",
                v.len(),
                bip_dht::item::MAX_VALUE_LEN
            ),
        );
    }
}

fn check_salt(salt: &str) {
    if salt.len() > bip_dht::item::MAX_SALT_LEN {
        fail(
            2,
            format!(
                "the salt is {} bytes; BEP 44 allows at most {}",
                salt.len(),
                bip_dht::item::MAX_SALT_LEN
            ),
        );
    }
}

/// The ed25519 seed in `path` (64 hex digits), or a new random one written there.
fn load_seed(path: &std::path::Path) -> [u8; 32] {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut seed = [0u8; 32];
            if hex::decode_to_slice(text.trim(), &mut seed).is_err() {
                fail(
                    2,
                    format!("seed file {}: expected 64 hex digits", path.display()),
                );
            }
            seed
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let seed = bip_util::core::os_seed();
            if let Err(e) = std::fs::write(path, format!("{}\n", hex::encode(seed))) {
                fail(2, format!("seed file {}: {e}", path.display()));
            }
            seed
        }
        Err(e) => fail(2, format!("seed file {}: {e}", path.display())),
    }
}

/// Run `work` after the bootstrap, bounded by `deadline` and Ctrl-C; `Err(code)` on failure
/// (the message already printed).
async fn bounded<T>(
    dht: &Dht,
    deadline: Instant,
    what: &str,
    work: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, ExitCode> {
    if let Err(e) = bootstrap(dht, deadline).await {
        eprintln!("error: {e}");
        return Err(ExitCode::from(1));
    }
    let r = tokio::select! {
        r = tokio::time::timeout_at(deadline, work) => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("error: interrupted");
            return Err(ExitCode::from(130));
        }
    };
    match r {
        Err(_) => {
            eprintln!("error: the {what} did not finish before the timeout");
            Err(ExitCode::from(1))
        }
        Ok(Err(e)) => {
            eprintln!("error: {what}: {e}");
            Err(ExitCode::from(1))
        }
        Ok(Ok(v)) => Ok(v),
    }
}

fn stored_line(s: &bip_dht::LookupSummary, start: Instant) -> ExitCode {
    count_line("stored", "no node stored the item", s, start)
}

/// `KEY=N queried=N answered=N elapsed=…` for an announce or put; exit 1 when N is 0.
fn count_line(key: &str, none: &str, s: &bip_dht::LookupSummary, start: Instant) -> ExitCode {
    let n = s.announced.unwrap_or(0);
    println!(
        "{key}={n} queried={} answered={} elapsed={}",
        s.queries,
        s.replies,
        secs(start.elapsed())
    );
    if n == 0 {
        eprintln!("error: {none}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn put(dht: &Dht, value: &str, start: Instant, deadline: Instant) -> ExitCode {
    let item = Item::Immutable(bencoded(value));
    println!("target={}", item.target());
    match bounded(dht, deadline, "put", dht.put(item, None)).await {
        Ok(s) => stored_line(&s, start),
        Err(code) => code,
    }
}

async fn get(dht: &Dht, target: NodeId, deadline: Instant) -> ExitCode {
    match bounded(dht, deadline, "get", dht.get_immutable(target)).await {
        Ok(Some(v)) => print_value(&v),
        Ok(None) => {
            eprintln!("error: no node has the item");
            ExitCode::from(1)
        }
        Err(code) => code,
    }
}

async fn put_mutable(
    dht: &Dht,
    seed: [u8; 32],
    salt: &str,
    seq: Option<i64>,
    value: &str,
    start: Instant,
    deadline: Instant,
) -> ExitCode {
    let key = bip_dht::item::signing_key(&seed);
    let pk = key.verifying_key().to_bytes();
    let seq = match seq {
        Some(s) => s,
        None => match bounded(dht, deadline, "get", dht.get_mutable(pk, salt.as_bytes())).await {
            Ok(Some(m)) => m.seq.saturating_add(1),
            Ok(None) => 1,
            Err(code) => return code,
        },
    };
    let item = match MutableItem::sign(&key, salt.as_bytes(), seq, &bencoded(value)) {
        Ok(i) => i,
        Err(e) => fail(2, format!("cannot sign: {e}")),
    };
    println!("key={}", hex::encode(pk));
    println!("target={}", item.target());
    println!("seq={seq}");
    match bounded(dht, deadline, "put", dht.put(Item::Mutable(item), None)).await {
        Ok(s) => stored_line(&s, start),
        Err(code) => code,
    }
}

async fn get_mutable(dht: &Dht, key: [u8; 32], salt: &str, deadline: Instant) -> ExitCode {
    match bounded(dht, deadline, "get", dht.get_mutable(key, salt.as_bytes())).await {
        Ok(Some(m)) => {
            println!("seq={}", m.seq);
            print_value(&m.value)
        }
        Ok(None) => {
            eprintln!("error: no node has the item");
            ExitCode::from(1)
        }
        Err(code) => code,
    }
}

async fn sample(
    dht: &Dht,
    limit: Option<usize>,
    nodes: usize,
    start: Instant,
    deadline: Instant,
) -> ExitCode {
    if let Err(e) = bootstrap(dht, deadline).await {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let before = dht.status().stats;
    let mut samples = match dht.sample_infohashes(nodes).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: sample: {e}");
            return ExitCode::from(1);
        }
    };
    let limit = limit.unwrap_or(usize::MAX);
    let mut seen = HashSet::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    while seen.len() < limit {
        tokio::select! {
            s = samples.next() => match s {
                Some((hash, _from)) => {
                    if seen.insert(hash) {
                        println!("{hash}");
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep_until(deadline) => break,
            _ = &mut ctrl_c => break,
        }
    }
    let now = dht.status().stats;
    eprintln!(
        "done hashes={} queried={} answered={} elapsed={}",
        seen.len(),
        now.queries_out - before.queries_out,
        now.replies_in - before.replies_in,
        secs(start.elapsed())
    );
    if seen.is_empty() {
        eprintln!("error: no info hashes found");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn scrape(dht: &Dht, hash: InfoHash, deadline: Instant) -> ExitCode {
    match bounded(dht, deadline, "scrape", dht.scrape(hash)).await {
        Ok(est) => {
            println!("seeds={} peers={}", est.seeds, est.peers);
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

// ---- the value, printed as the `bencode` tool's text form --------------------------------------

/// Print a bencoded value (one value per line, containers indented by two spaces).
fn print_value(v: &[u8]) -> ExitCode {
    let doc = match bip_bencode::decode_lenient(v) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: the value is not bencode: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = String::new();
    render(&mut out, doc.root());
    print!("{out}");
    ExitCode::SUCCESS
}

/// Longest non-UTF-8 byte string shown in full as hex.
const FULL_HEX_MAX: usize = 64;
/// Bytes shown of a longer non-UTF-8 byte string.
const SUMMARY_BYTES: usize = 16;

fn text_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => serde_json::Value::from(s).to_string(),
        Err(_) if b.len() <= FULL_HEX_MAX => format!("<hex {}>", hex::encode(b)),
        Err(_) => format!(
            "<{} bytes: {}…>",
            b.len(),
            hex::encode(&b[..SUMMARY_BYTES.min(b.len())])
        ),
    }
}

enum Frame<'a, 'd> {
    List(ListIter<'a, 'd>),
    Dict(DictIter<'a, 'd>),
}

fn open<'a, 'd>(
    out: &mut String,
    v: Value<'a, 'd>,
    key: Option<&[u8]>,
    depth: usize,
) -> Option<Frame<'a, 'd>> {
    use std::fmt::Write;
    let _ = write!(out, "{:1$}", "", depth * 2);
    if let Some(k) = key {
        let _ = write!(out, "{}: ", text_bytes(k));
    }
    let (text, frame) = match (v.kind(), v.as_list(), v.as_dict()) {
        (Kind::Int, _, _) => match v.as_int() {
            Some(i) => (i.to_string(), None),
            None => (
                String::from_utf8_lossy(v.int_digits().unwrap_or_default()).into_owned(),
                None,
            ),
        },
        (Kind::List, Some(list), _) if !list.is_empty() => {
            ("[".to_owned(), Some(Frame::List(list.iter())))
        }
        (Kind::List, _, _) => ("[]".to_owned(), None),
        (Kind::Dict, _, Some(dict)) if !dict.is_empty() => {
            ("{".to_owned(), Some(Frame::Dict(dict.iter())))
        }
        (Kind::Dict, _, _) => ("{}".to_owned(), None),
        _ => (text_bytes(v.as_bytes().unwrap_or_default()), None),
    };
    let _ = writeln!(out, "{text}");
    frame
}

fn render(out: &mut String, root: Value<'_, '_>) {
    use std::fmt::Write;
    let mut stack: Vec<Frame<'_, '_>> = Vec::new();
    if let Some(frame) = open(out, root, None, 0) {
        stack.push(frame);
    }
    loop {
        let depth = stack.len();
        let Some(top) = stack.last_mut() else {
            break;
        };
        let next = match top {
            Frame::List(it) => it.next().map(|v| (None, v)),
            Frame::Dict(it) => it.next().map(|(k, v)| (Some(k), v)),
        };
        match next {
            Some((key, v)) => {
                if let Some(frame) = open(out, v, key, depth) {
                    stack.push(frame);
                }
            }
            None => {
                let close = match stack.pop() {
                    Some(Frame::List(_)) => ']',
                    _ => '}',
                };
                let _ = writeln!(out, "{:1$}{close}", "", (depth - 1) * 2);
            }
        }
    }
}
