//! The `chat` example as a user runs it: three processes on 127.0.0.1 with piped stdin and
//! stdout find each other through the DHT, see each other join, exchange lines, survive a peer
//! that sends garbage, and see one leave.
//!
//! `cargo test` builds the examples before it runs this file; with `--test chat` alone, build
//! it first: `cargo build -p bip_examples --example chat`. The binary is found next to the test
//! executable (`target/<profile>/examples/chat`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bip_interop::KillOnDrop;
use bip_util::InfoHash;

/// The whole test stays under this.
const BUDGET: Duration = Duration::from_secs(55);
/// The bound: instances on loopback find and connect to each other within this.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

fn chat_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("examples").join("chat");
    assert!(
        path.exists(),
        "{} not built (run `cargo build -p bip_examples --example chat`, or the whole `cargo test`)",
        path.display()
    );
    path
}

struct Chat {
    nick: &'static str,
    child: KillOnDrop,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    started: Instant,
}

impl Chat {
    fn start(room: &str, nick: &'static str, bootstrap: Option<&str>) -> Chat {
        let mut cmd = Command::new(chat_binary());
        cmd.args(["--room", room, "--nick", nick, "--bind", "127.0.0.1:0"]);
        if let Some(b) = bootstrap {
            cmd.args(["--bootstrap", b]);
        }
        let started = Instant::now();
        let mut child = KillOnDrop(
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start chat"),
        );
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Chat {
            nick,
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
            started,
        }
    }

    /// The first line so far satisfying `want`, waiting for it until `deadline` (then panic
    /// with the transcript).
    fn wait(&mut self, what: &str, deadline: Instant, want: impl Fn(&str) -> bool) -> String {
        if let Some(l) = self.seen.iter().find(|l| want(l)) {
            return l.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if want(&l) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "{}: no {what:?} after {:.1?}\nstdout:\n{}\nstderr:\n{}",
                    self.nick,
                    self.started.elapsed(),
                    self.seen.join("\n"),
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    fn expect(&mut self, line: &str, deadline: Instant) {
        self.wait(line, deadline, |l| l == line);
    }

    fn type_line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{text}").expect("write to chat");
        stdin.flush().expect("flush");
    }

    /// Take whatever else arrived by now.
    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    fn count(&self, line: &str) -> usize {
        self.seen.iter().filter(|l| *l == line).count()
    }

    /// Close stdin and wait for the exit status.
    fn leave(&mut self, deadline: Instant) -> std::process::ExitStatus {
        drop(self.stdin.take());
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit after its stdin closed",
                self.nick
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = (1 + payload.len() as u32).to_be_bytes().to_vec();
    f.push(kind);
    f.extend_from_slice(payload);
    f
}

/// Handshake with a chat instance by hand (`bip chat 1`, the room key), as a misbehaving peer.
fn raw_peer(addr: SocketAddr, room: InfoHash, id: u8) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut hs = vec![10u8];
    hs.extend_from_slice(b"bip chat 1");
    hs.extend_from_slice(&[0; 8]);
    hs.extend_from_slice(room.as_bytes());
    let mut peer_id = *b"-XX0000-mallory-0000";
    peer_id[19] = id;
    hs.extend_from_slice(&peer_id);
    s.write_all(&hs).unwrap();
    let mut reply = [0u8; 59];
    s.read_exact(&mut reply).expect("handshake reply");
    assert_eq!(&reply[1..11], b"bip chat 1");
    s
}

/// The peer closes `s` (after its own frames, which are skipped).
fn closed_by_peer(mut s: TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

#[test]
fn three_instances_chat_on_loopback() {
    let t0 = Instant::now();
    let end = t0 + BUDGET;
    let room = format!("bip chat test {}", std::process::id());
    let key = InfoHash::from_sha1(room.as_bytes());
    let mut timings = Vec::new();

    let mut alice = Chat::start(&room, "alice", None);
    let first = alice.wait("listening line", t0 + Duration::from_secs(10), |l| {
        l.starts_with("* listening on ")
    });
    assert!(first.ends_with(&format!("(room {key})")), "{first}");
    let boot = first["* listening on ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let boot_addr: SocketAddr = boot.parse().expect("printed address");
    timings.push(("alice listening", t0.elapsed()));

    let mut bob = Chat::start(&room, "bob", Some(&boot));
    let mut carol = Chat::start(&room, "carol", Some(&boot));
    let joined_by = (Instant::now() + CONNECT_WITHIN).min(end);
    for c in [&mut alice, &mut bob, &mut carol] {
        for other in ["alice", "bob", "carol"] {
            if other != c.nick {
                c.expect(&format!("* {other} joined"), joined_by);
            }
        }
    }
    timings.push(("all three joined", t0.elapsed()));

    // A line typed into each reaches both others.
    let deadline = (Instant::now() + Duration::from_secs(5)).min(end);
    for i in 0..3 {
        let (speaker, a, b) = match i {
            0 => (&mut alice, &mut bob, &mut carol),
            1 => (&mut bob, &mut carol, &mut alice),
            _ => (&mut carol, &mut alice, &mut bob),
        };
        let text = format!("hello from {}, with\ttabs and ünïcode", speaker.nick);
        speaker.type_line(&text);
        let want = format!("<{}> {text}", speaker.nick);
        a.expect(&want, deadline);
        b.expect(&want, deadline);
    }
    timings.push(("lines delivered", t0.elapsed()));

    // A peer that sends garbage, or a line over the limit, is dropped; alice keeps going.
    let s = raw_peer(boot_addr, key, 1);
    (&s).write_all(b"GARBAGE GARBAGE").unwrap();
    assert!(
        closed_by_peer(s),
        "garbage did not get the peer disconnected"
    );
    let s = raw_peer(boot_addr, key, 2);
    let mut hello = 1u16.to_be_bytes().to_vec();
    hello.extend_from_slice(&7u64.to_be_bytes());
    hello.extend_from_slice(b"mallory");
    (&s).write_all(&frame(1, &hello)).unwrap();
    let deadline = (Instant::now() + Duration::from_secs(5)).min(end);
    alice.expect("* mallory joined", deadline);
    (&s).write_all(&frame(2, &vec![b'x'; 5000])).unwrap();
    alice.wait("mallory left", deadline, |l| {
        l.starts_with("* mallory left")
    });
    assert!(
        closed_by_peer(s),
        "an over-long line did not get the peer disconnected"
    );
    alice.type_line("still here");
    bob.expect("<alice> still here", deadline);
    carol.expect("<alice> still here", deadline);
    timings.push(("garbage peers dropped", t0.elapsed()));

    // Bob leaves: end of stdin, exit 0, the others see it.
    let deadline = (Instant::now() + Duration::from_secs(5)).min(end);
    let status = bob.leave(deadline);
    assert!(status.success(), "bob exited with {status}");
    alice.expect("* bob left", deadline);
    carol.expect("* bob left", deadline);
    timings.push(("bob left", t0.elapsed()));

    // Every join was shown once: a connection dialled both ways is kept once, silently.
    std::thread::sleep(Duration::from_millis(300));
    for c in [&mut alice, &mut carol] {
        c.drain();
        for other in ["alice", "bob", "carol"] {
            if other != c.nick {
                let line = format!("* {other} joined");
                assert_eq!(c.count(&line), 1, "{}: {:#?}", c.nick, c.seen);
            }
        }
        assert_eq!(c.count("* bob left"), 1, "{}: {:#?}", c.nick, c.seen);
    }

    let deadline = (Instant::now() + Duration::from_secs(5)).min(end);
    for c in [&mut alice, &mut carol] {
        let status = c.leave(deadline);
        assert!(status.success(), "{} exited with {status}", c.nick);
    }
    timings.push(("all exited", t0.elapsed()));
    for (what, at) in &timings {
        println!("{what:>22}: {:>6.2} s", at.as_secs_f64());
    }
    println!("\ntranscripts:");
    for c in [&alice, &bob, &carol] {
        println!("--- {}\n{}", c.nick, c.seen.join("\n"));
    }
    assert!(t0.elapsed() < BUDGET);
}
