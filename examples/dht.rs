//! `dht`: a Mainline DHT node (BEP 5, 32, 43) on the bip_dht tokio driver.
//!
//! ```text
//! dht [--bind ADDR]... [--bootstrap HOST:PORT]... [--state FILE] [--read-only] get-peers INFOHASH [--timeout S]
//! dht [...] announce INFOHASH --port P [--timeout S]
//! dht [...] serve [--seconds N] [--stats-every S]
//! ```
//!
//! `get-peers` prints each distinct peer once (`IP:PORT`, `[IPv6]:PORT`) as soon as it is found,
//! then `done peers=N queried=N answered=N elapsed=Xs`. `announce` prints
//! `accepted=N queried=N answered=N elapsed=Xs`, N being the nodes that stored our announce.
//! `serve` prints `listening ADDR` and `id=HEX`, then a one-line summary every few seconds.
//!
//! Info hashes are 40 hex digits or 32 base32 characters. Without `--bind` the node binds
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

use bip_dht::state::SavedState;
use bip_dht::{Dht, Status};
use bip_examples::fail;
use bip_util::InfoHash;
use clap::{Parser, Subcommand};
use tokio::time::Instant;
use tokio_stream::StreamExt;

#[derive(Parser)]
#[command(
    name = "dht",
    version,
    about = "Mainline DHT node: find peers, announce, or serve"
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
        /// Info hash: 40 hex digits or 32 base32 characters.
        #[arg(value_parser = parse_hash)]
        info_hash: InfoHash,
        /// Overall time limit in seconds (bootstrap included).
        #[arg(long, default_value_t = 30.0, value_parser = parse_seconds)]
        timeout: f64,
    },
    /// Announce that we have an info hash on a TCP port; print how many nodes accepted.
    Announce {
        /// Info hash: 40 hex digits or 32 base32 characters.
        #[arg(value_parser = parse_hash)]
        info_hash: InfoHash,
        /// Our TCP port.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
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

fn parse_hash(s: &str) -> Result<InfoHash, String> {
    let r = match s.len() {
        40 => InfoHash::from_hex(s),
        32 => InfoHash::from_base32(s),
        n => {
            return Err(format!(
                "expected 40 hex digits or 32 base32 characters, got {n}"
            ))
        }
    };
    r.map_err(|e| e.to_string())
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
                "error: a command is required: get-peers, announce or serve (see --help)".into()
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
        Cmd::GetPeers { timeout, .. } | Cmd::Announce { timeout, .. } => {
            Some(start + Duration::from_secs_f64(*timeout))
        }
        Cmd::Serve { .. } => None,
    };
    let dht = start_node(&cli, deadline).await;
    let code = match cli.cmd {
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
        Ok(Ok(s)) => {
            let accepted = s.announced.unwrap_or(0);
            println!(
                "accepted={accepted} queried={} answered={} elapsed={}",
                s.queries,
                s.replies,
                secs(start.elapsed())
            );
            if accepted == 0 {
                eprintln!("error: no node accepted the announce");
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
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
            "uptime={:.0}s nodes_v4={} nodes_v6={} queries_in/s={:.1} queries_out/s={:.1} stored_hashes={} stored_peers={} blocked={}",
            now.duration_since(start).as_secs_f64(),
            s.nodes_v4,
            s.nodes_v6,
            (s.queries_in - last.1.queries_in) as f64 / dt,
            (s.queries_out - last.1.queries_out) as f64 / dt,
            s.stored_hashes,
            s.stored_peers,
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
