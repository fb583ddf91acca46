//! usage: bip_dht_server PORT NODES_BASE NODES SECONDS [tokio|core|mmsg]
//!
//! A bip DHT node on 127.0.0.1:PORT for the throughput benchmark (bench/dht/run.sh).
//! * `tokio` (default): `bip_dht::Dht` on a current-thread runtime (the shipped driver).
//! * `core`: `bip_dht::Node` around a blocking std `UdpSocket` (read timeout 5 ms; timers run
//!   when due), to see what the tokio driver costs.
//! * `mmsg`: `bip_dht::Node` around one blocking socket with batched system calls (`recvmmsg`
//!   of up to 64 datagrams, answers sent with one `sendmmsg`), as bip_utracker's threaded
//!   server does: what a batched driver would give (IPv4 only; a benchmark probe, not a driver).
//!
//! No bootstrap nodes, no routers. For the first 12 s it asks the node to add
//! 127.0.0.1:NODES_BASE..NODES_BASE+NODES (`add_node`: a ping, kept if answered), every 2 s,
//! exactly as the libtorrent server (lt_server.py) calls `add_dht_node`; the load generator
//! answers from those ports. Every 2 s it prints one status line. Exits after SECONDS.
//! The per-IP rate limit stays at its default, which exempts loopback
//! (`RateLimitConfig::exempt_local`).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use bip_dht::{Config, Dht, Node, Stats};

struct Args {
    port: u16,
    base: u16,
    nodes: u16,
    seconds: u64,
    mode: String,
}

fn args() -> Args {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 4 {
        eprintln!("usage: bip_dht_server PORT NODES_BASE NODES SECONDS [tokio|core|mmsg]");
        std::process::exit(2);
    }
    let num = |s: &str| -> u64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("not a number: {s}");
            std::process::exit(2)
        })
    };
    Args {
        port: num(&a[0]) as u16,
        base: num(&a[1]) as u16,
        nodes: num(&a[2]) as u16,
        seconds: num(&a[3]),
        mode: a.get(4).cloned().unwrap_or_else(|| "tokio".into()),
    }
}

fn node_addrs(a: &Args) -> Vec<SocketAddr> {
    (0..a.nodes)
        .map(|i| SocketAddr::from(([127, 0, 0, 1], a.base + i)))
        .collect()
}

fn print_status(t0: Instant, s: &Stats) {
    println!(
        "t={:.0}s nodes={} queries_in={} rate_limited={} dropped={} stored_hashes={} stored_peers={}",
        t0.elapsed().as_secs_f64(),
        s.nodes_v4,
        s.queries_in,
        s.rate_limited,
        s.dropped,
        s.stored_hashes,
        s.stored_peers
    );
}

fn main() {
    let a = args();
    let seed: [u8; 32] = *b"bench-dht-throughput-seed-000001";
    if a.mode == "core" {
        run_core(&a, seed);
    } else if a.mode == "mmsg" {
        run_mmsg(&a, seed);
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_tokio(&a, seed));
    }
}

async fn run_tokio(a: &Args, seed: [u8; 32]) {
    let dht = Dht::builder()
        .bind(SocketAddr::from(([127, 0, 0, 1], a.port)))
        .routers(Vec::<String>::new())
        .seed(seed)
        .build()
        .await
        .expect("bind");
    println!("bip tokio driver on {:?}", dht.local_addrs());
    let t0 = Instant::now();
    let addrs = node_addrs(a);
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    while t0.elapsed() < Duration::from_secs(a.seconds) {
        tick.tick().await;
        if t0.elapsed() < Duration::from_secs(12) {
            for &n in &addrs {
                let _ = dht.add_node(n).await;
            }
        }
        print_status(t0, &dht.status().stats);
    }
}

fn run_core(a: &Args, seed: [u8; 32]) {
    let sock = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], a.port))).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    println!("bip core + std socket on {}", sock.local_addr().unwrap());
    let mut node = Node::new(Config::default(), seed);
    let t0 = Instant::now();
    let addrs = node_addrs(a);
    let mut buf = vec![0u8; 65_536];
    let mut out = Vec::with_capacity(bip_dht::MAX_DATAGRAM);
    node.handle_timeout(t0);
    let mut next_status = t0;
    loop {
        let now = Instant::now();
        if now >= next_status {
            if now.duration_since(t0) >= Duration::from_secs(a.seconds) {
                break;
            }
            if now.duration_since(t0) < Duration::from_secs(12) {
                for &n in &addrs {
                    node.add_node(now, n);
                }
            }
            print_status(t0, &node.stats());
            next_status += Duration::from_secs(2);
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            node.handle_datagram(Instant::now(), from, &buf[..n]);
        }
        let now = Instant::now();
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        while let Some(t) = node.poll_transmit(&mut out) {
            let _ = sock.send_to(&out[..t.len], t.to);
        }
        while node.poll_event().is_some() {}
    }
}

const BATCH: usize = 64;

fn to_sockaddr(a: SocketAddr) -> libc::sockaddr_in {
    let SocketAddr::V4(v4) = a else {
        panic!("mmsg mode is IPv4 only")
    };
    // SAFETY: an all-zero sockaddr_in is valid.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = v4.port().to_be();
    s.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
    s
}

fn from_sockaddr(s: &libc::sockaddr_in) -> SocketAddr {
    SocketAddr::from((s.sin_addr.s_addr.to_ne_bytes(), u16::from_be(s.sin_port)))
}

fn run_mmsg(a: &Args, seed: [u8; 32]) {
    use std::os::fd::AsRawFd;
    let sock = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], a.port))).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let fd = sock.as_raw_fd();
    println!("bip core + recvmmsg/sendmmsg on {}", sock.local_addr().unwrap());
    let mut node = Node::new(Config::default(), seed);
    let t0 = Instant::now();
    let addrs = node_addrs(a);
    let mut rx: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; 2048]).collect();
    let mut tx: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(1500)).collect();
    // SAFETY: all-zero sockaddr_in values are valid.
    let mut names: Vec<libc::sockaddr_in> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut tx_names: Vec<libc::sockaddr_in> = vec![unsafe { std::mem::zeroed() }; BATCH];
    node.handle_timeout(t0);
    let mut next_status = t0;
    loop {
        let now = Instant::now();
        if now >= next_status {
            if now.duration_since(t0) >= Duration::from_secs(a.seconds) {
                break;
            }
            if now.duration_since(t0) < Duration::from_secs(12) {
                for &n in &addrs {
                    node.add_node(now, n);
                }
            }
            print_status(t0, &node.stats());
            next_status += Duration::from_secs(2);
        }
        let mut iov: Vec<libc::iovec> = rx
            .iter_mut()
            .map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .zip(names.iter_mut())
            .map(|(v, n)| {
                // SAFETY: zeroed mmsghdr is valid; name and iov point to live buffers.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (n as *mut libc::sockaddr_in).cast();
                h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                h.msg_hdr.msg_iov = v;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // SAFETY: hdrs describes BATCH valid buffers; blocks until one datagram (or timeout).
        let got = unsafe {
            libc::recvmmsg(fd, hdrs.as_mut_ptr(), BATCH as u32, libc::MSG_WAITFORONE, std::ptr::null_mut())
        };
        let now = Instant::now();
        for (k, h) in hdrs.iter().enumerate().take(got.max(0) as usize) {
            let from = from_sockaddr(&names[k]);
            node.handle_datagram(now, from, &rx[k][..h.msg_len as usize]);
        }
        drop(hdrs);
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        loop {
            let mut n = 0;
            while n < BATCH {
                match node.poll_transmit(&mut tx[n]) {
                    Some(t) => {
                        tx[n].truncate(t.len);
                        tx_names[n] = to_sockaddr(t.to);
                        n += 1;
                    }
                    None => break,
                }
            }
            if n == 0 {
                break;
            }
            let mut iov: Vec<libc::iovec> = tx[..n]
                .iter_mut()
                .map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() })
                .collect();
            let mut hdrs: Vec<libc::mmsghdr> = iov
                .iter_mut()
                .zip(tx_names.iter_mut())
                .map(|(v, nm)| {
                    // SAFETY: as above.
                    let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    h.msg_hdr.msg_name = (nm as *mut libc::sockaddr_in).cast();
                    h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                    h.msg_hdr.msg_iov = v;
                    h.msg_hdr.msg_iovlen = 1;
                    h
                })
                .collect();
            let mut off = 0;
            while off < n {
                // SAFETY: hdrs[off..n] are valid.
                let r = unsafe { libc::sendmmsg(fd, hdrs[off..].as_mut_ptr(), (n - off) as u32, 0) };
                // An error (e.g. ECONNREFUSED left by an earlier datagram) drops one datagram.
                off += if r <= 0 { 1 } else { r as usize };
            }
            if n < BATCH {
                break;
            }
        }
        while node.poll_event().is_some() {}
    }
}
