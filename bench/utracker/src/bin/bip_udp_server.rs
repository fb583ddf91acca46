//! bip's tracker for the load test: `bip_udp_server ADDR SECONDS [threaded|tokio|blocking]`.
//! One socket, one thread (the script pins it to one core). Prints the counters at the end.
//! `threaded`: the library's `ThreadedServer` (blocking recvmmsg/sendmmsg batches);
//! `tokio`: the tokio `Server` on a current-thread runtime; `blocking`: a plain
//! recv_from/send_to loop around `ServerCore`.
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bip_utracker::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr: SocketAddr = args.get(1).map_or("127.0.0.1:3000", |s| s).parse().unwrap();
    let secs: u64 = args.get(2).map_or(60, |s| s.parse().unwrap());
    let mode = args.get(3).map_or("tokio", |s| s.as_str());
    let now = Instant::now();
    let store = Arc::new(MemoryStore::new(
        MemoryStoreConfig::default(),
        now,
        seed_from_clock(),
    ));
    let config = ServerConfig::default();
    if mode == "threaded" {
        let server = ThreadedServer::spawn(addr, 1, config, store.clone()).unwrap();
        std::thread::sleep(Duration::from_secs(secs));
        println!("bip counters: {:?}", server.stats());
    } else if mode == "blocking" {
        let sock = UdpSocket::bind(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let ids = ConnectionIds::new(seed_from_clock(), now, config.connection_id_window);
        let mut core = ServerCore::new(config, store.clone(), ids);
        let mut buf = [0u8; 2048];
        let end = now + Duration::from_secs(secs);
        while Instant::now() < end {
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Some(r) = core.handle_datagram(Instant::now(), from, &buf[..n]) {
                        let _ = sock.send_to(r, from);
                    }
                }
                Err(_) => core.handle_timeout(Instant::now()),
            }
        }
        println!("bip counters: {:?}", core.stats());
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = Server::bind(addr, config, store.clone()).await.unwrap();
            tokio::time::sleep(Duration::from_secs(secs)).await;
            println!("bip counters: {:?}", server.stats());
        });
    }
    println!("bip store (torrents, peers): {:?}", store.len());
}
