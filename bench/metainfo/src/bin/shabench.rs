//! SHA-1 and SHA-256 throughput of the RustCrypto crates bip uses, on one core and on every
//! core at once (one thread per core, each hashing its own in-memory buffer in 1 MiB pieces).
//! The all-cores figure is the real limit of parallel torrent hashing: on SMT siblings or a
//! shared host it is less than the single-core figure times the core count.
//! Usage: shabench [MIB] -> prints `sha1 <GB/s>`, `sha256 <GB/s>`, `sha1_all <GB/s>` and
//! `sha256_all <GB/s>` lines (MIB per thread).

use sha1::Digest;
use std::time::Instant;

fn rate<D: Digest>(buf: &[u8], rounds: usize) -> f64 {
    let t = Instant::now();
    let mut acc = 0u8;
    for _ in 0..rounds {
        for piece in buf.chunks(1 << 20) {
            acc ^= D::digest(piece)[0];
        }
    }
    std::hint::black_box(acc);
    (buf.len() * rounds) as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(512);
    let buf: Vec<u8> = (0..8usize << 20).map(|i| (i * 31 % 251) as u8).collect();
    let rounds = (mib / 8).max(1);
    rate::<sha1::Sha1>(&buf, 1);
    println!("sha1 {:.3}", rate::<sha1::Sha1>(&buf, rounds));
    println!("sha256 {:.3}", rate::<sha2::Sha256>(&buf, rounds));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("sha1_all {:.3}", all::<sha1::Sha1>(&buf, rounds, cores));
    println!("sha256_all {:.3}", all::<sha2::Sha256>(&buf, rounds, cores));
}

/// Aggregate rate of `cores` threads hashing at the same time (each its own copy of `buf`).
fn all<D: Digest>(buf: &[u8], rounds: usize, cores: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            let own = buf.to_vec();
            s.spawn(move || rate::<D>(&own, rounds));
        }
    });
    (buf.len() * rounds * cores) as f64 / t.elapsed().as_secs_f64() / 1e9
}
