//! A decentralized chat: instances that join the same room find each other through the Mainline
//! DHT (the key is the SHA-1 of the room name) and talk over TCP connections opened with the
//! BitTorrent handshake under a protocol string of our own, so a chat connection is never taken
//! for a BitTorrent one.
//!
//! `cargo run --release --example chat -- --room NAME [--nick NICK] [--bind ADDR] [--bootstrap HOST:PORT]...`
//!
//! Every line typed on stdin goes to everyone in the room; at the end of stdin (or on Ctrl-C) the
//! program leaves the room and exits 0. Everything it shows goes to **stdout**: chat lines as
//! `<nick> text` and status lines starting with `* `, the first of which is
//! `* listening on ADDR (room HEX)`: ADDR is what others pass as `--bootstrap` (with the default
//! `--bind 0.0.0.0:0` it is printed as `127.0.0.1:PORT`; from other machines use one of this
//! machine's addresses with the same port). Then `* bob joined`, `* bob left`. Errors and
//! diagnostics go to stderr.
//!
//! How it works:
//! - `--bind` serves both the DHT (UDP) and the chat listener (TCP) on one port, so the first
//!   instance can be the others' bootstrap node. Without `--bootstrap` the public DHT routers
//!   are used, so two people on the internet can meet by room name alone.
//! - The program announces itself under the room key (with its TCP port) and looks the key up
//!   repeatedly: every second at first, backing off to every 30 s while peers are connected
//!   (to every 5 s while alone for a while). Every peer a lookup finds goes, through a small
//!   [`Discovery`] stage that skips peers already connected or tried a moment ago, into the
//!   [`Handshaker`] (protocol string [`PROTOCOL`], info hash = the room key).
//! - After the handshake both sides speak in frames: a 4-byte big-endian length, then that many
//!   bytes: a type byte and its payload. `HELLO` (sent once, first: listen port, connection
//!   token, nick), `LINE` (UTF-8 text without control characters, at most [`MAX_LINE`] bytes),
//!   `DUPLICATE` (I keep another connection to you: close this one). A frame over the limit, an
//!   unknown type, a bad nick or text, or no `HELLO` within [`HELLO_TIMEOUT`] closes the
//!   connection; nobody crashes.
//! - Two instances may dial each other at the same time. Both then keep the same connection:
//!   the one opened by the lower peer id (then the lower token), and close the other with
//!   `DUPLICATE`; the switch is silent (no second join, no leave).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bip_dht::Dht;
use bip_handshake::{
    AddPeer, Connection, Connections, Direction, DiscoveredPeer, Discovery, Failure,
    HandshakeError, Handshaker,
};
use bip_util::{InfoHash, PeerId};
use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_stream::StreamExt;

/// Our handshake protocol string: BitTorrent peers (`BitTorrent protocol`) never match it.
pub const PROTOCOL: &[u8] = b"bip chat 1";
/// The longest line, in bytes of UTF-8, sent or accepted.
pub const MAX_LINE: usize = 4096;
/// The longest nick, in bytes of UTF-8.
pub const MAX_NICK: usize = 32;
/// How long a peer has after the handshake to send its `HELLO`.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Frame types.
const HELLO: u8 = 1;
const LINE: u8 = 2;
const DUPLICATE: u8 = 3;
/// The largest frame body (type byte + payload).
const MAX_FRAME: usize = 1 + MAX_LINE;

/// Frames queued toward one peer; a peer that lets more pile up is dropped.
const SEND_QUEUE: usize = 1024;
/// A write that does not finish in this long drops the peer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After a peer closed our connection as a duplicate, how long we wait for the connection it
/// kept before we say it left.
const SWITCH_GRACE: Duration = Duration::from_secs(5);
/// An address is dialled again at most this often.
const REDIAL_AFTER: Duration = Duration::from_secs(10);
/// Lookup cadence: first, alone for a while, and with peers connected.
const LOOKUP_FIRST: Duration = Duration::from_secs(1);
const LOOKUP_ALONE_MAX: Duration = Duration::from_secs(5);
const LOOKUP_MAX: Duration = Duration::from_secs(30);
/// A lookup or announce round is abandoned after this long.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Rounds running at once at most (on a slow network a round outlasts the cadence); a round
/// due while these run is skipped.
const LOOKUP_ROUNDS: usize = 2;
/// Open chat connections at most; more are closed at once.
const MAX_CONNECTIONS: usize = 512;
/// How long leaving waits for queued lines to be written.
const LEAVE_FLUSH: Duration = Duration::from_secs(3);

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "chat",
    version,
    about = "Decentralized chat: peers meet through the DHT by hashing a room name",
    after_help = "Lines typed on stdin go to everyone in the room. Output (stdout): `<nick> text` \
                  and status lines `* ...`, first `* listening on ADDR (room HEX)`; ADDR is what \
                  others pass as --bootstrap. Exit status: 0 after leaving (end of stdin or \
                  Ctrl-C), 2 bad usage or a socket error."
)]
struct Args {
    /// The room: everyone who joins the same name meets (its SHA-1 is the DHT key).
    #[arg(long)]
    room: String,
    /// Your name (1 to 32 bytes, no spaces or control characters); default `anon-XXXX`.
    #[arg(long, value_parser = parse_nick)]
    nick: Option<String>,
    /// The address of both the DHT (UDP) and the chat listener (TCP), on the same port.
    #[arg(long, default_value = "0.0.0.0:0")]
    bind: SocketAddr,
    /// A DHT node to start from, e.g. another instance's `listening on` address; repeatable.
    /// Default: the public DHT routers.
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap: Vec<String>,
}

fn valid_nick(s: &str) -> bool {
    (1..=MAX_NICK).contains(&s.len()) && !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn parse_nick(s: &str) -> Result<String, String> {
    if valid_nick(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "1 to {MAX_NICK} bytes without spaces or control characters"
        ))
    }
}

/// Text we accept in a line: no control characters but tab (no line breaks, no escapes).
fn valid_text(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() && c != '\t')
}

/// Print to stdout; a closed stdout is not worth a panic.
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

macro_rules! say {
    ($($t:tt)*) => { say(format_args!($($t)*)) };
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("chat: {msg}");
    std::process::exit(2)
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(5 + payload.len());
    f.extend_from_slice(&(1 + payload.len() as u32).to_be_bytes());
    f.push(kind);
    f.extend_from_slice(payload);
    f
}

fn hello_frame(port: u16, token: u64, nick: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(10 + nick.len());
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&token.to_be_bytes());
    p.extend_from_slice(nick.as_bytes());
    frame(HELLO, &p)
}

/// A decoded frame.
enum Frame {
    Hello { port: u16, token: u64, nick: String },
    Line(String),
    Duplicate,
}

/// Why a connection ended.
enum End {
    /// The peer closed it.
    Closed,
    /// The peer keeps another connection to us.
    Duplicate,
    /// A protocol violation or an I/O error.
    Error(String),
}

/// The next frame; `Ok(None)` at a clean end of stream (between frames).
async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Frame>, String> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]).await {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err("connection closed inside a frame".into()),
            Ok(n) => got += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 {
        return Err("empty frame".into());
    }
    if len > MAX_FRAME {
        return Err(format!(
            "frame of {len} bytes, over the {MAX_LINE}-byte line limit"
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)
        .await
        .map_err(|_| "connection closed inside a frame".to_string())?;
    let payload = &body[1..];
    match body[0] {
        HELLO => {
            if payload.len() < 10 {
                return Err("short hello".into());
            }
            let port = u16::from_be_bytes([payload[0], payload[1]]);
            let token = u64::from_be_bytes(payload[2..10].try_into().expect("8 bytes"));
            match std::str::from_utf8(&payload[10..]) {
                Ok(nick) if valid_nick(nick) => Ok(Some(Frame::Hello {
                    port,
                    token,
                    nick: nick.to_string(),
                })),
                _ => Err("invalid nick".into()),
            }
        }
        LINE => match std::str::from_utf8(payload) {
            Ok(text) if valid_text(text) => Ok(Some(Frame::Line(text.to_string()))),
            Ok(_) => Err("control characters in a line".into()),
            Err(_) => Err("a line that is not UTF-8".into()),
        },
        DUPLICATE if payload.is_empty() => Ok(Some(Frame::Duplicate)),
        t => Err(format!("unknown frame type {t}")),
    }
}

/// What connection tasks tell the main loop.
enum Event {
    /// Handshake and `HELLO`s done.
    Ready(Box<Ready>),
    /// A line from a ready connection.
    Line { conn: u64, text: String },
    /// The connection ended (before or after `HELLO`).
    Ended {
        conn: u64,
        addr: SocketAddr,
        end: End,
    },
}

/// A connection that finished its `HELLO`s.
struct Ready {
    conn: u64,
    peer: PeerId,
    nick: String,
    /// Where the peer listens (its IP, the port from its `HELLO`).
    listen: SocketAddr,
    /// The peer id of the side that dialled, and that side's token: both ends order duplicate
    /// connections by this the same way.
    rank: (bool, u64),
    tx: mpsc::Sender<Vec<u8>>,
    writer: JoinHandle<()>,
}

/// One connection: the `HELLO` exchange, then frames to the main loop until it ends. The
/// writer runs in a task of its own, fed by the queue handed over in [`Ready`].
async fn connection(
    id: u64,
    c: Connection,
    me: PeerId,
    nick: Arc<str>,
    port: u16,
    events: mpsc::Sender<Event>,
) {
    let addr = c.remote_addr;
    let (rd, wr) = c.socket.into_split();
    let (tx, rx) = mpsc::channel(SEND_QUEUE);
    let token: u64 = rand::random();
    let _ = tx.try_send(hello_frame(port, token, &nick));
    let writer = tokio::spawn(write_loop(wr, rx));
    let mut rd = AsyncReadExt::chain(std::io::Cursor::new(c.leftover), rd);
    let ended = |end| Event::Ended {
        conn: id,
        addr,
        end,
    };
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, read_frame(&mut rd)).await {
        Err(_) => Err("no hello in time".to_string()),
        Ok(Ok(Some(Frame::Hello { port, token, nick }))) => Ok((port, token, nick)),
        Ok(Ok(Some(_))) => Err("a frame before the hello".to_string()),
        Ok(Ok(None)) => Err("closed before the hello".to_string()),
        Ok(Err(e)) => Err(e),
    };
    let (their_port, their_token, their_nick) = match hello {
        Ok(h) => h,
        Err(e) => {
            let _ = events.send(ended(End::Error(e))).await;
            return;
        }
    };
    let dialler_token = match c.direction {
        Direction::Outgoing => token,
        Direction::Incoming => their_token,
    };
    let dialler = match c.direction {
        Direction::Outgoing => me,
        Direction::Incoming => c.peer_id,
    };
    let ready = Ready {
        conn: id,
        peer: c.peer_id,
        nick: their_nick,
        listen: SocketAddr::new(addr.ip(), their_port),
        rank: (dialler != me.min(c.peer_id), dialler_token),
        tx,
        writer,
    };
    if events.send(Event::Ready(Box::new(ready))).await.is_err() {
        return;
    }
    let end = loop {
        match read_frame(&mut rd).await {
            Ok(Some(Frame::Line(text))) => {
                if events.send(Event::Line { conn: id, text }).await.is_err() {
                    return;
                }
            }
            Ok(Some(Frame::Duplicate)) => break End::Duplicate,
            Ok(Some(Frame::Hello { .. })) => break End::Error("a second hello".into()),
            Ok(None) => break End::Closed,
            Err(e) => break End::Error(e),
        }
    };
    let _ = events.send(ended(end)).await;
}

async fn write_loop(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(f) = rx.recv().await {
        match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&f)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
    let _ = wr.shutdown().await;
}

/// The discovery stage between the DHT and the handshaker: skips peers we are connected to,
/// addresses that turned out to be ourselves, and addresses tried a moment ago (lookups repeat
/// every second and report the same peers).
struct Dialer {
    next: Handshaker,
    state: Mutex<DialState>,
}

#[derive(Default)]
struct DialState {
    connected: HashSet<SocketAddr>,
    own: HashSet<SocketAddr>,
    tried: HashMap<SocketAddr, Instant>,
}

impl Discovery for Dialer {
    fn add_peer(&self, peer: DiscoveredPeer) -> AddPeer {
        let now = Instant::now();
        {
            let mut s = self.state.lock().expect("dial state");
            if s.connected.contains(&peer.addr) || s.own.contains(&peer.addr) {
                return AddPeer::Duplicate;
            }
            if s.tried
                .get(&peer.addr)
                .is_some_and(|t| now.duration_since(*t) < REDIAL_AFTER)
            {
                return AddPeer::Duplicate;
            }
            if s.tried.len() >= 4096 {
                s.tried.retain(|_, t| now.duration_since(*t) < REDIAL_AFTER);
            }
            s.tried.insert(peer.addr, now);
        }
        self.next.add_peer(peer)
    }
    fn peer_id(&self) -> PeerId {
        self.next.peer_id()
    }
    fn port(&self) -> u16 {
        self.next.port()
    }
}

/// Bind the chat listener (TCP) and the DHT (UDP) on one port; with port 0, retry until a port
/// is free for both.
async fn bind(
    args: &Args,
    me: PeerId,
    room: InfoHash,
    failures: mpsc::Sender<Failure>,
) -> std::io::Result<(Arc<Dialer>, Connections, Dht)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (handshaker, conns) = Handshaker::builder(me)
            .protocol(PROTOCOL)
            .listen_addr(args.bind)
            .torrent(room)
            .failures(failures.clone())
            .build()
            .await?;
        let port = handshaker.local_addr().port();
        let dialer = Arc::new(Dialer {
            next: handshaker,
            state: Mutex::default(),
        });
        let mut dht = Dht::builder()
            .bind(SocketAddr::new(args.bind.ip(), port))
            .discovery(dialer.clone());
        for b in &args.bootstrap {
            dht = dht.bootstrap(b.clone());
        }
        match dht.build().await {
            Ok(dht) => return Ok((dialer, conns, dht)),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && args.bind.port() == 0
                    && attempt < 50 => {}
            Err(e) => return Err(e),
        }
    }
}

/// Announce and look up the room forever: every second at first, slower while alone for a
/// while, much slower while peers are connected. Found peers reach the handshaker through the
/// DHT's discovery hook.
async fn lookups(dht: Dht, room: InfoHash, port: u16, peers: Arc<AtomicUsize>) {
    let mut delay = LOOKUP_FIRST;
    let mut had_peers = false;
    let rounds = Arc::new(tokio::sync::Semaphore::new(LOOKUP_ROUNDS));
    loop {
        let d = dht.clone();
        let permit = rounds.clone().try_acquire_owned();
        tokio::spawn(async move {
            let Ok(_permit) = permit else { return };
            let round = async {
                let announce = d.announce(room, Some(port));
                let lookup = async {
                    if let Ok(mut found) = d.get_peers(room).await {
                        while found.next().await.is_some() {}
                    }
                };
                let _ = tokio::join!(announce, lookup);
            };
            let _ = tokio::time::timeout(LOOKUP_TIMEOUT, round).await;
        });
        tokio::time::sleep(delay).await;
        let now_peers = peers.load(Ordering::Relaxed) > 0;
        delay = match (had_peers, now_peers) {
            (_, true) => (delay * 2).min(LOOKUP_MAX),
            (true, false) => LOOKUP_FIRST,
            (false, false) => delay.mul_f32(1.1).min(LOOKUP_ALONE_MAX),
        };
        had_peers = now_peers;
    }
}

/// Read stdin on a thread of its own (a blocked read must not hold up the exit); `None` for a
/// line over [`MAX_LINE`]. The channel closes at the end of stdin.
fn read_stdin(tx: mpsc::Sender<Option<String>>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let cap = MAX_LINE as u64 + 2; // the line, "\r\n"
            match (&mut input).take(cap).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let mut too_long = false;
            if !buf.ends_with(b"\n") && buf.len() as u64 == cap {
                // Skip the rest of the line.
                too_long = true;
                let mut rest = Vec::new();
                loop {
                    rest.clear();
                    match (&mut input).take(1 << 16).read_until(b'\n', &mut rest) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if rest.ends_with(b"\n") => break,
                        Ok(_) => {}
                    }
                }
            }
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            let line = (!too_long && buf.len() <= MAX_LINE).then(|| {
                String::from_utf8_lossy(&buf)
                    .chars()
                    .map(|c| {
                        if c.is_control() && c != '\t' {
                            char::REPLACEMENT_CHARACTER
                        } else {
                            c
                        }
                    })
                    .collect::<String>()
            });
            // Replacing bytes can grow the text past the limit.
            let line = line.filter(|l| l.len() <= MAX_LINE);
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
}

/// A peer in the room, through its one kept connection.
struct Peer {
    conn: u64,
    nick: String,
    listen: SocketAddr,
    rank: (bool, u64),
    tx: mpsc::Sender<Vec<u8>>,
    writer: JoinHandle<()>,
}

/// The room as this instance sees it.
struct Room {
    dialer: Arc<Dialer>,
    /// Peers by peer id.
    peers: HashMap<PeerId, Peer>,
    /// Peers whose connection the other side closed as a duplicate, waiting for the connection
    /// it kept: nick, listen address, deadline.
    switching: HashMap<PeerId, (String, SocketAddr, Instant)>,
    /// Every connection past its `HELLO` that has not ended: its peer and nick (lines from a
    /// connection being closed as a duplicate are still shown).
    ready: HashMap<u64, (PeerId, String)>,
    /// Connection tasks, to stop the ones we close.
    tasks: HashMap<u64, AbortHandle>,
    count: Arc<AtomicUsize>,
}

impl Room {
    fn update_count(&self) {
        self.count.store(self.peers.len(), Ordering::Relaxed);
    }

    fn set_connected(&self, addr: SocketAddr, yes: bool) {
        let mut s = self.dialer.state.lock().expect("dial state");
        if yes {
            s.connected.insert(addr);
        } else {
            s.connected.remove(&addr);
            s.tried.remove(&addr);
        }
    }

    /// Close a connection we keep no longer: tell the peer (`DUPLICATE`) if it is one, stop
    /// reading unless the peer is to close it itself.
    fn close(&mut self, conn: u64, tx: mpsc::Sender<Vec<u8>>, duplicate: bool) {
        if duplicate {
            // The peer closes it on `DUPLICATE`; until then its lines are still shown.
            let _ = tx.try_send(frame(DUPLICATE, &[]));
        } else {
            self.ready.remove(&conn);
            if let Some(t) = self.tasks.remove(&conn) {
                t.abort();
            }
        }
    }

    fn ready(&mut self, r: Ready) {
        self.ready.insert(r.conn, (r.peer, r.nick.clone()));
        let new = Peer {
            conn: r.conn,
            nick: r.nick,
            listen: r.listen,
            rank: r.rank,
            tx: r.tx,
            writer: r.writer,
        };
        match self.peers.remove(&r.peer) {
            None => {
                if self.switching.remove(&r.peer).is_none() {
                    say!("* {} joined", new.nick);
                }
                self.set_connected(new.listen, true);
                self.peers.insert(r.peer, new);
            }
            Some(cur) => {
                // Both ends keep the lower rank.
                let (keep, drop) = if new.rank < cur.rank {
                    (new, cur)
                } else {
                    (cur, new)
                };
                self.set_connected(keep.listen, true);
                self.close(drop.conn, drop.tx, true);
                self.peers.insert(r.peer, keep);
            }
        }
        self.update_count();
    }

    fn line(&mut self, conn: u64, text: &str) {
        if let Some((_, nick)) = self.ready.get(&conn) {
            say!("<{nick}> {text}");
        }
    }

    fn ended(&mut self, conn: u64, addr: SocketAddr, end: End) {
        self.tasks.remove(&conn);
        let Some((peer, _)) = self.ready.remove(&conn) else {
            if let End::Error(e) = end {
                eprintln!("chat: {addr}: {e}");
            }
            return;
        };
        if self.peers.get(&peer).is_none_or(|p| p.conn != conn) {
            return; // a duplicate we closed
        }
        let p = self.peers.remove(&peer).expect("peer");
        self.update_count();
        match end {
            End::Duplicate => {
                let deadline = Instant::now() + SWITCH_GRACE;
                self.switching.insert(peer, (p.nick, p.listen, deadline));
            }
            End::Closed => {
                self.set_connected(p.listen, false);
                say!("* {} left", p.nick);
            }
            End::Error(e) => {
                self.set_connected(p.listen, false);
                say!("* {} left ({e})", p.nick);
            }
        }
    }

    /// Peers that closed a duplicate and never showed the connection they kept have left.
    fn expire(&mut self) {
        let now = Instant::now();
        let gone: Vec<PeerId> = self
            .switching
            .iter()
            .filter(|(_, (_, _, d))| *d <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in gone {
            if let Some((nick, listen, _)) = self.switching.remove(&p) {
                self.set_connected(listen, false);
                say!("* {nick} left");
            }
        }
    }

    /// Send a line to everyone; a peer too slow to take it is dropped.
    fn send(&mut self, text: &str) {
        if self.peers.is_empty() {
            say!("* nobody else is here yet");
            return;
        }
        let f = frame(LINE, text.as_bytes());
        let slow: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.tx.try_send(f.clone()).is_err())
            .map(|(id, _)| *id)
            .collect();
        for id in slow {
            if let Some(p) = self.peers.remove(&id) {
                self.set_connected(p.listen, false);
                say!("* {} left (too slow to take our lines)", p.nick);
                self.close(p.conn, p.tx, false);
            }
        }
        self.update_count();
    }

    /// Leave: close every connection after its queued lines are written.
    async fn leave(&mut self) {
        let writers: Vec<JoinHandle<()>> = self
            .peers
            .drain()
            .map(|(_, p)| {
                drop(p.tx);
                p.writer
            })
            .collect();
        let _ = tokio::time::timeout(LEAVE_FLUSH, async {
            for w in writers {
                let _ = w.await;
            }
        })
        .await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let room_key = InfoHash::from_sha1(args.room.as_bytes());
    let nick: Arc<str> = args
        .nick
        .clone()
        .unwrap_or_else(|| format!("anon-{:04x}", rand::random::<u16>()))
        .into();
    let me = bip_util::generate_peer_id(&mut rand::rng());

    let (failures_tx, mut failures) = mpsc::channel(256);
    let (dialer, mut conns, dht) = bind(&args, me, room_key, failures_tx)
        .await
        .unwrap_or_else(|e| fail(format!("cannot bind {}: {e}", args.bind)));
    let local = dialer.next.local_addr();
    let shown = match local.ip() {
        IpAddr::V4(a) if a.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port())
        }
        IpAddr::V6(a) if a.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), local.port())
        }
        _ => local,
    };
    say!("* listening on {shown} (room {room_key})");

    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(lookups(dht.clone(), room_key, local.port(), count.clone()));
    // Addresses that turn out to be our own (say, our LAN address) are never dialled again.
    let own = dialer.clone();
    tokio::spawn(async move {
        while let Some(f) = failures.recv().await {
            if matches!(f.error, HandshakeError::OwnConnection)
                && f.direction == Direction::Outgoing
            {
                own.state.lock().expect("dial state").own.insert(f.addr);
            }
        }
    });

    let (line_tx, mut lines) = mpsc::channel(64);
    read_stdin(line_tx);
    let (event_tx, mut events) = mpsc::channel(256);
    let mut room = Room {
        dialer,
        peers: HashMap::new(),
        switching: HashMap::new(),
        ready: HashMap::new(),
        tasks: HashMap::new(),
        count,
    };
    let mut next_conn = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(Some(text)) if text.is_empty() => {}
                Some(Some(text)) => room.send(&text),
                Some(None) => eprintln!("chat: line over {MAX_LINE} bytes, not sent"),
                None => break,
            },
            Some(c) = conns.next() => {
                if room.tasks.len() >= MAX_CONNECTIONS {
                    eprintln!("chat: {}: too many connections, closed", c.remote_addr);
                    continue;
                }
                next_conn += 1;
                let task = tokio::spawn(connection(
                    next_conn,
                    c,
                    me,
                    nick.clone(),
                    local.port(),
                    event_tx.clone(),
                ));
                room.tasks.insert(next_conn, task.abort_handle());
            }
            Some(ev) = events.recv() => match ev {
                Event::Ready(r) => room.ready(*r),
                Event::Line { conn, text } => room.line(conn, &text),
                Event::Ended { conn, addr, end } => room.ended(conn, addr, end),
            },
            _ = tick.tick() => room.expire(),
            _ = &mut ctrl_c => break,
        }
    }
    room.leave().await;
    drop(dht);
    std::process::exit(0);
}
