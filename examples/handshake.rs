//! `handshake`: the BitTorrent handshake (BEP 3) against a peer, either way.
//!
//! ```text
//! handshake connect ADDR INFOHASH [--timeout S] [--reserved HEX]
//! handshake listen ADDR INFOHASH [--seconds N] [--reserved HEX]
//! ```
//!
//! Both print one line per completed handshake:
//! `peer_id=<printable form> client=<name or unknown> reserved=<16 hex digits> extensions=<comma list>`
//! (the remote's reserved bits and the named extensions among them: `dht`, `fast`,
//! `extension_protocol`). `connect` exits 0 on success and 1 with the reason on failure;
//! `listen` accepts handshakes for INFOHASH (others are closed without an answer) until
//! `--seconds` have passed, or forever. `listen` also writes `ADDR: handshake complete` (the
//! remote address) to stderr for each completed handshake, before its line on stdout.
//!
//! INFOHASH is 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash, truncated to 20
//! bytes as BEP 52 does in the handshake) or a magnet link. Exit codes: 0 success; 1 the answer
//! is "no" (the handshake failed); 2 bad usage or unreadable input. `--version` prints the
//! version.
//!
//! The tool closes once the handshake is done, so it implements no extension and advertises
//! none (reserved bytes all zero) unless `--reserved HEX` (16 hex digits) says what to send.
//! The sans-IO [`HandshakeState`] is driven here with plain blocking std sockets (one thread
//! per connection): the same core the tokio `Handshaker` drives.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_examples::{fail, parse_info_hash};
use bip_handshake::{
    Extensions, HandshakeConfig, HandshakeError, HandshakeEvent, HandshakeState, Outcome,
    DEFAULT_MAX_CONCURRENT,
};
use bip_util::InfoHash;
use clap::{Parser, Subcommand};

/// The exit-code convention, at the end of every `--help`.
const EXIT_CODES: &str = "Exit codes: 0 success; 1 the answer is \"no\" (the handshake \
failed); 2 bad usage or unreadable input.";

#[derive(Parser)]
#[command(
    name = "handshake",
    version,
    about = "BitTorrent handshake (BEP 3): dial a peer, or accept peers",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Reserved bytes to advertise, 16 hex digits (default: all zero, as the tool implements
    /// no extension).
    #[arg(long, global = true, value_name = "HEX", value_parser = parse_reserved)]
    reserved: Option<Extensions>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Dial ADDR, handshake for INFOHASH, print the peer's line.
    #[command(after_help = EXIT_CODES)]
    Connect {
        /// host:port, e.g. 127.0.0.1:6881 or [::1]:6881.
        addr: String,
        /// Info hash: 40 hex digits, 32 base32 characters, 64 hex digits (a v2 hash) or a magnet link.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Seconds for the TCP connect and, again, for the handshake.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Listen on ADDR and print a line for every completed incoming handshake for INFOHASH
    /// (its remote address on stderr).
    #[command(after_help = EXIT_CODES)]
    Listen {
        /// Address to bind, e.g. 127.0.0.1:6881 or [::]:6881.
        addr: SocketAddr,
        /// Info hash we accept, in any form connect takes.
        #[arg(value_parser = parse_info_hash)]
        info_hash: InfoHash,
        /// Stop after this many seconds (default: run until killed).
        #[arg(long)]
        seconds: Option<f64>,
    },
}

/// `--reserved`: the 8 reserved bytes as 16 hex digits.
fn parse_reserved(s: &str) -> Result<Extensions, String> {
    let mut b = [0u8; 8];
    hex::decode_to_slice(s, &mut b)
        .map_err(|_| format!("expected 16 hex digits for the reserved bytes, got {s:?}"))?;
    Ok(Extensions::from_bytes(b))
}

fn main() {
    let cli = Cli::parse();
    let config = HandshakeConfig::new(bip_examples::our_peer_id())
        .with_extensions(cli.reserved.unwrap_or(Extensions::NONE));
    match cli.cmd {
        Cmd::Connect {
            addr,
            info_hash,
            timeout,
        } => {
            let timeout = secs(timeout);
            let config = config.with_timeout(timeout);
            match connect(&addr, info_hash, &config, timeout) {
                Ok(o) => println!("{}", line(&o)),
                Err(e) => fail(1, format!("handshake with {addr} failed: {e}")),
            }
        }
        Cmd::Listen {
            addr,
            info_hash,
            seconds,
        } => {
            if let Err(e) = listen(addr, info_hash, config, seconds.map(secs)) {
                fail(1, format!("listen on {addr}: {e}"));
            }
        }
    }
}

fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s.min(1e9))
    } else {
        fail(2, "a duration must be a positive number of seconds")
    }
}

/// The line printed for a completed handshake.
fn line(o: &Outcome) -> String {
    let client = o
        .peer_id
        .client()
        .map_or_else(|| "unknown".to_string(), |c| c.to_string());
    format!(
        "peer_id={} client={} reserved={} extensions={}",
        o.peer_id.printable(),
        client,
        o.remote_extensions,
        o.remote_extensions.names().join(",")
    )
}

fn connect(
    addr: &str,
    info_hash: InfoHash,
    config: &HandshakeConfig,
    timeout: Duration,
) -> Result<Outcome, HandshakeError> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(HandshakeError::Io)?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(socket) => {
                let hs = HandshakeState::new_initiator(config, Instant::now(), a, info_hash, None);
                return drive(socket, hs, |_, _| true);
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last = Some(HandshakeError::ConnectTimeout { addr: a })
            }
            Err(source) => last = Some(HandshakeError::Connect { addr: a, source }),
        }
    }
    Err(last.unwrap_or_else(|| {
        HandshakeError::Io(io::Error::new(
            io::ErrorKind::NotFound,
            "address resolved to nothing",
        ))
    }))
}

/// Runs one handshake on a blocking socket until it completes, fails or times out. `decide`
/// answers an incoming handshake's info hash.
fn drive(
    mut socket: TcpStream,
    mut hs: HandshakeState,
    decide: impl Fn(InfoHash, Extensions) -> bool,
) -> Result<Outcome, HandshakeError> {
    socket.set_nodelay(true)?;
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    loop {
        while let Some(t) = hs.poll_transmit(&mut out) {
            socket.write_all(&out[..t.len])?;
        }
        let mut decided = false;
        while let Some(ev) = hs.poll_event() {
            match ev {
                HandshakeEvent::Complete(o) => return Ok(o),
                HandshakeEvent::Failed(e) => return Err(e),
                HandshakeEvent::NeedDecision {
                    info_hash,
                    extensions,
                } => {
                    if decide(info_hash, extensions) {
                        hs.accept()?;
                    } else {
                        hs.reject();
                    }
                    decided = true;
                }
                _ => {}
            }
        }
        if decided {
            continue;
        }
        let deadline = hs.poll_timeout().unwrap_or_else(Instant::now);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            hs.handle_timeout(Instant::now());
            continue;
        }
        socket.set_read_timeout(Some(left))?;
        match socket.read(&mut buf) {
            Ok(0) => hs.handle_eof(),
            Ok(n) => hs.handle_bytes(Instant::now(), &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                hs.handle_timeout(deadline);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn listen(
    addr: SocketAddr,
    info_hash: InfoHash,
    config: HandshakeConfig,
    seconds: Option<Duration>,
) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    eprintln!(
        "listening on {} for {info_hash} as {}",
        listener.local_addr()?,
        config.peer_id().printable()
    );
    if let Some(d) = seconds {
        std::thread::spawn(move || {
            std::thread::sleep(d);
            let _ = io::stdout().flush();
            std::process::exit(0);
        });
    }
    let config = Arc::new(config);
    let active = Arc::new(AtomicUsize::new(0));
    for socket in listener.incoming() {
        let socket = match socket {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let peer = socket
            .peer_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        if active.fetch_add(1, Ordering::SeqCst) >= DEFAULT_MAX_CONCURRENT {
            active.fetch_sub(1, Ordering::SeqCst);
            eprintln!("{peer}: too many concurrent handshakes, closed");
            continue;
        }
        let (config, active) = (config.clone(), active.clone());
        std::thread::spawn(move || {
            let Ok(remote) = socket.peer_addr() else {
                active.fetch_sub(1, Ordering::SeqCst);
                return;
            };
            let hs = HandshakeState::new_responder(&config, Instant::now(), remote);
            match drive(socket, hs, |h, _| h == info_hash) {
                Ok(o) => {
                    eprintln!("{peer}: handshake complete");
                    let mut out = io::stdout().lock();
                    let _ = writeln!(out, "{}", line(&o));
                    let _ = out.flush();
                }
                Err(e) => eprintln!("{peer}: {e}"),
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}
