//! usage: dht_load NAME SERVER_PORT SERVER_PID NODES_BASE [key=value]...
//!   keys (defaults): nodes=200 flood=64 window=4 warmup=10 seconds=10 hashes=1000
//!                    stored=500 peers=8 mix=1:1:1 server_cpu=1 (the CPU the server is pinned to)
//!
//! KRPC load generator for the DHT throughput benchmark (bench/dht/run.sh). It does the same to
//! any server on 127.0.0.1:SERVER_PORT, knowing nothing of its implementation:
//!
//! 1. pings it from a probe socket (BEP 43 `ro`) to learn its node id;
//! 2. binds NODES sockets on 127.0.0.1:NODES_BASE.. (connected to the server), each a fake node
//!    whose id shares exactly `i / 8` leading bits with the server's, so 8 nodes sit in each of
//!    NODES/8 bucket levels (a full, realistic routing table: 200 nodes = 25 levels). Every
//!    query the server sends them is answered with a valid response (id, empty `nodes`,
//!    token), all through the run;
//! 3. announces PEERS peers (ports 40000..) for each of the first STORED of HASHES info hashes,
//!    with the token of a prior get_peers (from the probe socket, `ro`), so get_peers answers
//!    carry `values` for that share of the hashes;
//! 4. warm-up: for WARMUP seconds every node pings the server every 2 s (not `ro`: the server
//!    hears of them), while the server (told to add the same addresses) pings them;
//! 5. flood: for SECONDS the first FLOOD node sockets keep WINDOW queries each in flight
//!    (ping : find_node : get_peers per MIX; random targets, hashes drawn from all HASHES),
//!    through epoll + recvmmsg/sendmmsg. A socket that got nothing for 100 ms has its window
//!    refilled (the lost queries are counted).
//!
//! The server's CPU time is utime+stime of /proc/SERVER_PID/stat read when the flood starts and
//! ends. Prints one `RESULT` line: answers, server CPU seconds, answers per server CPU-second,
//! answers per wall second, losses, error replies, mean reply sizes per query kind and the
//! share of get_peers answers carrying values.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const BATCH: usize = 64;
const PING: usize = 0;
const FIND: usize = 1;
const GET: usize = 2;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn id(&mut self) -> [u8; 20] {
        let mut b = [0u8; 20];
        for c in b.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        b
    }
}

fn bstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s);
}

/// A query: `d1:ad2:id20:ID<args>e1:q<method>[2:roi1e]1:t<tid>1:y1:qe`; `args` is already
/// encoded (sorted keys after `id`).
fn query(id: &[u8; 20], method: &[u8], args: &[u8], ro: bool, tid: &[u8]) -> Vec<u8> {
    let mut m = b"d1:ad2:id20:".to_vec();
    m.extend_from_slice(id);
    m.extend_from_slice(args);
    m.extend_from_slice(b"e1:q");
    bstr(&mut m, method);
    if ro {
        m.extend_from_slice(b"2:roi1e");
    }
    m.extend_from_slice(b"1:t");
    bstr(&mut m, tid);
    m.extend_from_slice(b"1:y1:qe");
    m
}

/// Skips one bencoded value at `i`; the index after it.
fn skip(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'i' => Some(i + 1 + b[i..].iter().position(|&c| c == b'e')?),
        b'l' | b'd' => {
            let mut j = i + 1;
            while *b.get(j)? != b'e' {
                j = skip(b, j)?;
            }
            Some(j + 1)
        }
        b'0'..=b'9' => {
            let colon = i + b[i..].iter().position(|&c| c == b':')?;
            let n: usize = std::str::from_utf8(&b[i..colon]).ok()?.parse().ok()?;
            (colon + 1 + n <= b.len()).then_some(colon + 1 + n)
        }
        _ => None,
    }
}

/// The string at `i`: (bytes, index after).
fn string(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let end = skip(b, i)?;
    let colon = i + b[i..].iter().position(|&c| c == b':')?;
    (b[i].is_ascii_digit()).then(|| (&b[colon + 1..end], end))
}

/// The top-level `t` and `y` of a message, and the span of its `r` dict.
fn top(b: &[u8]) -> Option<(&[u8], u8, Option<(usize, usize)>)> {
    if b.first() != Some(&b'd') {
        return None;
    }
    let (mut t, mut y, mut r) = (None, 0u8, None);
    let mut i = 1;
    while *b.get(i)? != b'e' {
        let (k, j) = string(b, i)?;
        let end = skip(b, j)?;
        match k {
            b"t" => t = Some(string(b, j)?.0),
            b"y" => y = *string(b, j)?.0.first()?,
            b"r" => r = Some((j, end)),
            _ => {}
        }
        i = end;
    }
    Some((t?, y, r))
}

/// The value of `key` (a string) inside the dict spanning `span`.
fn dict_str<'a>(b: &'a [u8], span: (usize, usize), key: &[u8]) -> Option<&'a [u8]> {
    let mut i = span.0 + 1;
    while i < span.1 && b[i] != b'e' {
        let (k, j) = string(b, i)?;
        if k == key {
            return string(b, j).map(|s| s.0);
        }
        i = skip(b, j)?;
    }
    None
}

fn has_key(b: &[u8], span: (usize, usize), key: &[u8]) -> bool {
    let mut i = span.0 + 1;
    while i < span.1 && b[i] != b'e' {
        let Some((k, j)) = string(b, i) else {
            return false;
        };
        if k == key {
            return true;
        }
        match skip(b, j) {
            Some(n) => i = n,
            None => return false,
        }
    }
    false
}

/// The softirq ticks of CPU `cpu` (/proc/stat): on loopback the receive path of a datagram
/// runs as a softirq on the sending CPU and is not charged to the sending process
/// (IRQ time accounting), so this is reported beside the server's utime+stime.
fn softirq_ticks(cpu: usize) -> u64 {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let name = format!("cpu{cpu}");
    s.lines()
        .find(|l| l.split_whitespace().next() == Some(name.as_str()))
        .and_then(|l| l.split_whitespace().nth(7)?.parse().ok())
        .unwrap_or(0)
}

/// (utime, stime) of the process, in clock ticks.
fn cpu_ticks(pid: u32) -> io::Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = &s[s.rfind(')').ok_or_else(|| io::Error::other("bad stat"))? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the state field (3).
    let u: u64 = f[11].parse().map_err(io::Error::other)?;
    let st: u64 = f[12].parse().map_err(io::Error::other)?;
    Ok((u, st))
}

struct Node {
    sock: UdpSocket,
    id: [u8; 20],
    inflight: usize,
    last_rx: Instant,
}

#[derive(Default)]
struct Counts {
    answered: [u64; 3],
    bytes: [u64; 3],
    with_values: u64,
    errors: u64,
    lost: u64,
    sent: u64,
    served: u64,
}

struct Gen {
    nodes: Vec<Node>,
    epfd: i32,
    rx: Vec<Vec<u8>>,
    counts: Counts,
    flooding: bool,
}

impl Gen {
    /// Answers a query of the server's from node `n` (any method: id, empty nodes, a token).
    fn answer(&mut self, n: usize, tid: &[u8]) {
        let mut m = b"d1:rd2:id20:".to_vec();
        m.extend_from_slice(&self.nodes[n].id);
        m.extend_from_slice(b"5:nodes0:5:token4:tokne1:t");
        bstr(&mut m, tid);
        m.extend_from_slice(b"1:y1:re");
        let _ = self.nodes[n].sock.send(&m);
        self.counts.served += 1;
    }

    /// Drains node `n`'s socket: answers the server's queries, counts flood answers.
    fn drain(&mut self, n: usize) {
        let fd = self.nodes[n].sock.as_raw_fd();
        loop {
            let mut iov: Vec<libc::iovec> = self
                .rx
                .iter_mut()
                .map(|b| libc::iovec {
                    iov_base: b.as_mut_ptr().cast(),
                    iov_len: b.len(),
                })
                .collect();
            let mut hdrs: Vec<libc::mmsghdr> = iov
                .iter_mut()
                .map(|v| {
                    // SAFETY: zeroed msghdr is valid (no name, no control).
                    let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    h.msg_hdr.msg_iov = v;
                    h.msg_hdr.msg_iovlen = 1;
                    h
                })
                .collect();
            // SAFETY: hdrs points to BATCH valid iovecs into self.rx buffers.
            let got = unsafe {
                libc::recvmmsg(
                    fd,
                    hdrs.as_mut_ptr(),
                    BATCH as u32,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if got <= 0 {
                return;
            }
            let lens: Vec<usize> = hdrs[..got as usize].iter().map(|h| h.msg_len as usize).collect();
            if got > 0 {
                self.nodes[n].last_rx = Instant::now();
            }
            for (k, len) in lens.into_iter().enumerate() {
                let buf = std::mem::take(&mut self.rx[k]);
                self.handle(n, &buf[..len]);
                self.rx[k] = buf;
            }
            if (got as usize) < BATCH {
                return;
            }
        }
    }

    fn handle(&mut self, n: usize, b: &[u8]) {
        let Some((t, y, r)) = top(b) else { return };
        match y {
            b'q' => {
                let t = t.to_vec();
                self.answer(n, &t);
            }
            b'r' if t.len() == 3 && t[0] == b'F' => {
                let kind = t[1] as usize % 3;
                let node = &mut self.nodes[n];
                node.inflight = node.inflight.saturating_sub(1);
                if self.flooding {
                    self.counts.answered[kind] += 1;
                    self.counts.bytes[kind] += b.len() as u64;
                    if kind == GET && r.is_some_and(|r| has_key(b, r, b"values")) {
                        self.counts.with_values += 1;
                    }
                }
            }
            b'e' if t.first() == Some(&b'F') => {
                let node = &mut self.nodes[n];
                node.inflight = node.inflight.saturating_sub(1);
                if self.flooding {
                    self.counts.errors += 1;
                }
            }
            _ => {}
        }
    }

    /// Waits up to `ms` for readable sockets and drains them.
    fn service(&mut self, ms: i32) {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 256];
        // SAFETY: evs is a valid buffer of 256 events.
        let k = unsafe { libc::epoll_wait(self.epfd, evs.as_mut_ptr(), 256, ms) };
        for e in &evs[..k.max(0) as usize] {
            let n = e.u64 as usize;
            self.drain(n);
        }
    }
}

/// Sends `msgs` on `fd` (connected) with sendmmsg; returns how many went.
fn send_batch(fd: i32, msgs: &mut [Vec<u8>]) -> usize {
    let mut iov: Vec<libc::iovec> = msgs
        .iter_mut()
        .map(|m| libc::iovec {
            iov_base: m.as_mut_ptr().cast(),
            iov_len: m.len(),
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iov
        .iter_mut()
        .map(|v| {
            // SAFETY: zeroed msghdr is valid (no name, no control).
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    // SAFETY: hdrs are valid for msgs.len() entries.
    let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), hdrs.len() as u32, libc::MSG_DONTWAIT) };
    r.max(0) as usize
}

/// One request/reply on the probe socket (retries every 300 ms, up to 10 times).
fn rpc(sock: &UdpSocket, msg: &[u8], tid: &[u8], buf: &mut [u8]) -> Option<usize> {
    for _ in 0..10 {
        sock.send(msg).ok()?;
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until {
            if let Ok(n) = sock.recv(buf) {
                if top(&buf[..n]).is_some_and(|(t, _, _)| t == tid) {
                    return Some(n);
                }
            }
        }
    }
    None
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.len() < 4 {
        eprintln!("usage: dht_load NAME SERVER_PORT SERVER_PID NODES_BASE [key=value]...");
        std::process::exit(2);
    }
    let name = argv[0].clone();
    let port: u16 = argv[1].parse().expect("SERVER_PORT");
    let pid: u32 = argv[2].parse().expect("SERVER_PID");
    let base: u16 = argv[3].parse().expect("NODES_BASE");
    let mut opt = std::collections::HashMap::new();
    for kv in &argv[4..] {
        let (k, v) = kv.split_once('=').expect("key=value");
        opt.insert(k.to_string(), v.to_string());
    }
    let get = |k: &str, d: usize| -> usize { opt.get(k).map_or(d, |v| v.parse().expect(k)) };
    let n_nodes = get("nodes", 200);
    let n_flood = get("flood", 64).min(n_nodes);
    let window = get("window", 4);
    let warmup = get("warmup", 10) as u64;
    let seconds = get("seconds", 10) as u64;
    let n_hashes = get("hashes", 1000);
    let stored = get("stored", 500).min(n_hashes);
    let peers = get("peers", 8);
    let mix: Vec<usize> = opt
        .get("mix")
        .map_or("1:1:1", String::as_str)
        .split(':')
        .map(|s| s.parse().expect("mix"))
        .collect();
    let mut schedule = Vec::new();
    for (kind, &w) in mix.iter().enumerate().take(3) {
        schedule.extend(std::iter::repeat(kind).take(w));
    }
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let hashes: Vec<[u8; 20]> = (0..n_hashes).map(|_| rng.id()).collect();
    let targets: Vec<[u8; 20]> = (0..4096).map(|_| rng.id()).collect();
    let t0 = Instant::now();

    // 1. The server's id.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.connect(server).unwrap();
    probe.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let probe_id = rng.id();
    let mut buf = vec![0u8; 65_536];
    let mut server_id = None;
    for _ in 0..10 {
        let m = query(&probe_id, b"ping", b"", true, b"pr");
        if let Some(n) = rpc(&probe, &m, b"pr", &mut buf) {
            if let Some((_, b'r', Some(r))) = top(&buf[..n]) {
                server_id = dict_str(&buf[..n], r, b"id").and_then(|i| <[u8; 20]>::try_from(i).ok());
                break;
            }
        }
    }
    let Some(server_id) = server_id else {
        eprintln!("{name}: server on {server} does not answer ping");
        std::process::exit(1);
    };

    // 2. Fake nodes, 8 per bucket level.
    // SAFETY: plain epoll_create1.
    let epfd = unsafe { libc::epoll_create1(0) };
    assert!(epfd >= 0, "epoll_create1");
    let mut nodes = Vec::new();
    for i in 0..n_nodes {
        let sock = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], base + i as u16)))
            .unwrap_or_else(|e| panic!("bind node port {}: {e}", base + i as u16));
        sock.connect(server).unwrap();
        sock.set_nonblocking(true).unwrap();
        let level = (i / 8).min(159);
        let mut id = rng.id();
        for bit in 0..=level {
            let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
            let want = if bit < level {
                server_id[byte] & mask
            } else {
                !server_id[byte] & mask
            };
            id[byte] = (id[byte] & !mask) | want;
        }
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: i as u64,
        };
        // SAFETY: registering a valid fd.
        let rc = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, sock.as_raw_fd(), &mut ev) };
        assert_eq!(rc, 0, "epoll_ctl");
        nodes.push(Node {
            sock,
            id,
            inflight: 0,
            last_rx: Instant::now(),
        });
    }
    let mut g = Gen {
        nodes,
        epfd,
        rx: (0..BATCH).map(|_| vec![0u8; 2048]).collect(),
        counts: Counts::default(),
        flooding: false,
    };
    let ping_all = |g: &mut Gen| {
        for n in &g.nodes {
            let _ = n.sock.send(&query(&n.id, b"ping", b"", false, b"wp"));
        }
    };
    ping_all(&mut g);

    // 3. Stored peers.
    let mut accepted = 0;
    for (h, hash) in hashes.iter().enumerate().take(stored) {
        let mut args = b"9:info_hash20:".to_vec();
        args.extend_from_slice(hash);
        let tid = [b'A', (h >> 8) as u8, h as u8];
        let Some(n) = rpc(&probe, &query(&probe_id, b"get_peers", &args, true, &tid), &tid, &mut buf)
        else {
            continue;
        };
        let token = match top(&buf[..n]) {
            Some((_, b'r', Some(r))) => dict_str(&buf[..n], r, b"token").map(<[u8]>::to_vec),
            _ => None,
        };
        let Some(token) = token else { continue };
        for k in 0..peers {
            let mut args = b"9:info_hash20:".to_vec();
            args.extend_from_slice(hash);
            args.extend_from_slice(format!("4:porti{}e5:token", 40000 + k).as_bytes());
            bstr(&mut args, &token);
            let tid = [b'B', (h >> 8) as u8, h as u8, k as u8];
            if let Some(n) = rpc(
                &probe,
                &query(&probe_id, b"announce_peer", &args, true, &tid),
                &tid,
                &mut buf,
            ) {
                if matches!(top(&buf[..n]), Some((_, b'r', _))) {
                    accepted += 1;
                }
            }
        }
        g.service(0);
    }

    // 4. Warm-up: nodes ping every 2 s and answer the server.
    let warm_end = Instant::now() + Duration::from_secs(warmup);
    let mut next_ping = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm_end {
        g.service(20);
        if Instant::now() >= next_ping {
            ping_all(&mut g);
            next_ping += Duration::from_secs(2);
        }
    }
    let served_warm = g.counts.served;

    // 5. Flood.
    // Per flood socket, one query per kind; the tid's kind and sequence bytes, the target and
    // the info hash are patched in place.
    let templates: Vec<[Vec<u8>; 3]> = g.nodes[..n_flood]
        .iter()
        .map(|node| {
            let tid = [b'F', 0, 0];
            let z = [0u8; 20];
            let mut find = b"6:target20:".to_vec();
            find.extend_from_slice(&z);
            let mut get = b"9:info_hash20:".to_vec();
            get.extend_from_slice(&z);
            [
                query(&node.id, b"ping", b"", false, &tid),
                query(&node.id, b"find_node", &find, false, &tid),
                query(&node.id, b"get_peers", &get, false, &tid),
            ]
        })
        .collect();
    for t in &templates {
        assert_eq!(&t[FIND][32..43], b"6:target20:");
        assert_eq!(&t[GET][32..46], b"9:info_hash20:");
        assert!(t.iter().all(|q| q.ends_with(b"1:t3:F\0\01:y1:qe")));
    }
    let mut out: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(128)).collect();
    let mut seq = 0usize;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    g.flooding = true;
    let c0 = cpu_ticks(pid).expect("server /proc stat");
    let me = std::process::id();
    let g0 = cpu_ticks(me).expect("own /proc stat");
    let server_cpu = get("server_cpu", 1);
    let si0 = softirq_ticks(server_cpu);
    let f0 = Instant::now();
    let f_end = f0 + Duration::from_secs(seconds);
    for n in &mut g.nodes {
        n.last_rx = f0;
    }
    let mut now = f0;
    while now < f_end {
        for n in 0..n_flood {
            let node = &mut g.nodes[n];
            if node.inflight > 0 && now.duration_since(node.last_rx) > Duration::from_millis(100) {
                g.counts.lost += node.inflight as u64;
                node.inflight = 0;
                node.last_rx = now;
            }
            let want = window.saturating_sub(node.inflight).min(BATCH);
            if want == 0 {
                continue;
            }
            for buf in &mut out[..want] {
                seq += 1;
                let kind = schedule[seq % schedule.len()];
                let t = &templates[n][kind];
                buf.clear();
                buf.extend_from_slice(t);
                let r = rng.next() as usize;
                match kind {
                    FIND => buf[43..63].copy_from_slice(&targets[r % targets.len()]),
                    GET => buf[46..66].copy_from_slice(&hashes[r % hashes.len()]),
                    _ => {}
                }
                let l = buf.len();
                buf[l - 9] = kind as u8;
                buf[l - 8] = seq as u8;
            }
            let sent = send_batch(node.sock.as_raw_fd(), &mut out[..want]);
            node.inflight += sent;
            g.counts.sent += sent as u64;
        }
        g.service(1);
        now = Instant::now();
    }
    let c1 = cpu_ticks(pid).expect("server /proc stat");
    let g1 = cpu_ticks(me).expect("own /proc stat");
    let load_cpu = (g1.0 + g1.1 - g0.0 - g0.1) as f64 / hz;
    let softirq = (softirq_ticks(server_cpu) - si0) as f64 / hz;
    let wall = f0.elapsed().as_secs_f64();
    g.flooding = false;
    let c = &g.counts;
    let answered: u64 = c.answered.iter().sum();
    let user = (c1.0 - c0.0) as f64 / hz;
    let sys = (c1.1 - c0.1) as f64 / hz;
    let cpu = user + sys;
    let mean = |k: usize| c.bytes[k] as f64 / c.answered[k].max(1) as f64;
    println!(
        "RESULT name={name} answered={answered} server_cpu_s={cpu:.2} user_s={user:.2} sys_s={sys:.2} per_cpu_s={:.0} per_s={:.0} \
         wall_s={wall:.2} sent={} lost={} errors={} ping={} find_node={} get_peers={} \
         bytes_ping={:.0} bytes_find_node={:.0} bytes_get_peers={:.0} get_peers_with_values={:.2} \
         announces_accepted={accepted} served_warmup={served_warm} served_total={} setup_s={:.1} load_cpu_s={load_cpu:.2} softirq_server_cpu_s={softirq:.2}",
        answered as f64 / cpu.max(0.01),
        answered as f64 / wall,
        c.sent,
        c.lost,
        c.errors,
        c.answered[PING],
        c.answered[FIND],
        c.answered[GET],
        mean(PING),
        mean(FIND),
        mean(GET),
        c.with_values as f64 / c.answered[GET].max(1) as f64,
        c.served,
        (f0 - t0).as_secs_f64(),
    );
}
