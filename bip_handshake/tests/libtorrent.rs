//! Interop with libtorrent 2.0 (python3-libtorrent) on loopback.
//!
//! Skipped with a visible message when `/usr/bin/python3 -c "import libtorrent"` fails, unless
//! `BIP_INTEROP=require` (CI), which turns a missing libtorrent into a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use bip_handshake::{
    AddPeer, DiscoveredPeer, Discovery, Extensions, HandshakeError, Handshaker, PeerSource,
};
use bip_util::{InfoHash, PeerId};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::timeout;

use bip_interop::PYTHON;
const LIMIT: Duration = Duration::from_secs(50);

fn libtorrent_available() -> bool {
    bip_interop::have_libtorrent()
}

/// A running lt_peer.py; killed on drop (even when the test panics).
struct LtPeer {
    child: Child,
    _stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    info_hash: InfoHash,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for LtPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl LtPeer {
    /// Starts the seeder and waits until it seeds; retries once if libtorrent's binding died by
    /// a signal (2.0.8 occasionally segfaults).
    async fn start(connect: Option<SocketAddr>) -> LtPeer {
        match Self::try_start(connect).await {
            Ok(p) => p,
            Err(msg) if msg.contains("signal") => {
                eprintln!("libtorrent died ({msg}); retrying once");
                Self::try_start(connect).await.expect("libtorrent seeder")
            }
            Err(msg) => panic!("{msg}"),
        }
    }

    async fn try_start(connect: Option<SocketAddr>) -> Result<LtPeer, String> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bip_hs_lt_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let dir = TempDir(dir);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/lt_peer.py");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(script)
            .arg("--dir")
            .arg(&dir.0)
            .args(["--seconds", "45"]);
        if let Some(a) = connect {
            cmd.args(["--connect", &a.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawn {PYTHON}: {e}"))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, mut lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("lt_peer: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = LtPeer {
            child,
            _stdin: stdin,
            lines: mpsc::unbounded_channel().1,
            info_hash: InfoHash::default(),
            addr: "127.0.0.1:0".parse().expect("addr"),
            _dir: dir,
        };
        let ready = timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.recv().await {
                if let Some(h) = line.strip_prefix("info_hash=") {
                    peer.info_hash = h.parse().expect("info hash hex");
                } else if let Some(p) = line.strip_prefix("port=") {
                    peer.addr.set_port(p.parse().expect("port"));
                } else if line == "seeding" {
                    return true;
                }
            }
            false
        })
        .await;
        if ready != Ok(true) {
            let status = peer.child.try_wait().ok().flatten();
            return Err(match status.and_then(|s| s.signal()) {
                Some(sig) => format!("lt_peer.py killed by signal {sig}"),
                None => format!("lt_peer.py did not start seeding ({status:?})"),
            });
        }
        peer.lines = lines;
        Ok(peer)
    }

    /// Waits for lt_peer.py to report a completed handshake with `pid`.
    async fn saw_peer(&mut self, pid: PeerId) -> bool {
        let want = format!("peer pid={}", pid.to_hex());
        while let Some(line) = self.lines.recv().await {
            if line.starts_with(&want) {
                return true;
            }
        }
        false
    }
}

fn our_id() -> PeerId {
    PeerId::new(*b"-BP0001-interop00001")
}

fn ours() -> Extensions {
    Extensions::DHT | Extensions::FAST | Extensions::EXTENSION_PROTOCOL
}

/// Reads the first peer wire message after the handshake (leftover first, then the socket).
async fn first_message(conn: &mut bip_handshake::Connection) -> (u32, u8) {
    let mut buf = conn.leftover.clone();
    while buf.len() < 5 {
        let mut more = [0u8; 512];
        let n = conn.socket.read(&mut more).await.expect("read");
        assert!(n > 0, "libtorrent closed after the handshake");
        buf.extend_from_slice(&more[..n]);
    }
    (u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]), buf[4])
}

#[tokio::test]
async fn bip_dials_libtorrent_seeder() {
    if !libtorrent_available() {
        return;
    }
    timeout(LIMIT, async {
        let mut lt = LtPeer::start(None).await;
        let (hs, mut conns) = Handshaker::builder(our_id())
            .listen_addr("127.0.0.1:0".parse().unwrap())
            .extensions(ours())
            .build()
            .await
            .unwrap();
        let peer = DiscoveredPeer::new(lt.info_hash, lt.addr, PeerSource::Manual);
        assert_eq!(hs.add_peer(peer), AddPeer::Accepted);
        let mut conn = conns.next().await.expect("connection");
        assert!(conn.peer_id.printable().starts_with("-LT"), "{conn:?}");
        let client = conn.peer_id.client().expect("identified client");
        assert!(client.name.starts_with("libtorrent"), "{client}");
        assert_eq!(conn.info_hash, lt.info_hash);
        let r = conn.remote_extensions;
        assert!(r.contains(Extensions::EXTENSION_PROTOCOL), "{r:?}");
        assert!(r.contains(Extensions::FAST), "{r:?}");
        assert!(r.contains(Extensions::DHT), "{r:?}");
        assert_eq!(conn.extensions, ours());
        // libtorrent goes on with the peer wire protocol: BEP 10 extended handshake first.
        let (len, id) = first_message(&mut conn).await;
        assert!(len > 1);
        assert_eq!(id, 20, "extended message");
        assert!(lt.saw_peer(our_id()).await);
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn libtorrent_dials_bip_listener() {
    if !libtorrent_available() {
        return;
    }
    timeout(LIMIT, async {
        let (hs, mut conns) = Handshaker::builder(our_id())
            .listen_addr("127.0.0.1:0".parse().unwrap())
            .extensions(ours())
            .build()
            .await
            .unwrap();
        let mut lt = LtPeer::start(Some(hs.local_addr())).await;
        // The hash is only known once the seeder made its torrent; libtorrent dials after
        // "seeding", so registering now is in time.
        hs.add_torrent(lt.info_hash);
        let mut conn = conns.next().await.expect("incoming connection");
        assert_eq!(conn.direction, bip_handshake::Direction::Incoming);
        assert!(conn.peer_id.printable().starts_with("-LT"), "{conn:?}");
        assert_eq!(conn.info_hash, lt.info_hash);
        assert!(conn
            .remote_extensions
            .contains(Extensions::EXTENSION_PROTOCOL));
        assert_eq!(hs.stats().completed_incoming, 1);
        // Both sides completed: libtorrent lists us as a peer and talks on.
        assert!(lt.saw_peer(our_id()).await);
        let (_, id) = first_message(&mut conn).await;
        assert_eq!(id, 20, "extended message");
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn wrong_info_hash_is_a_typed_error() {
    if !libtorrent_available() {
        return;
    }
    timeout(LIMIT, async {
        let lt = LtPeer::start(None).await;
        let (tx, mut fails) = mpsc::channel(1024);
        let (hs, _conns) = Handshaker::builder(our_id())
            .listen_addr("127.0.0.1:0".parse().unwrap())
            .handshake_timeout(Duration::from_secs(10))
            .failures(tx)
            .build()
            .await
            .unwrap();
        let wrong = InfoHash::new([0x5a; 20]);
        assert_ne!(wrong, lt.info_hash);
        hs.add_peer(DiscoveredPeer::new(wrong, lt.addr, PeerSource::Manual));
        let f = fails.recv().await.expect("failure report");
        assert_eq!(f.info_hash, Some(wrong));
        // libtorrent closes without answering.
        assert!(
            matches!(
                f.error,
                HandshakeError::Closed { received: 0 } | HandshakeError::Io(_)
            ),
            "{f:?}"
        );
        assert_eq!(hs.stats().completed_outgoing, 0);
        let _ = std::io::stderr().flush();
    })
    .await
    .expect("test timed out (a hang)");
}
