//! Single-core SHA-1 and SHA-256 throughput of the RustCrypto crates bip uses: the limit of
//! parallel torrent hashing is this number times the core count.
//! Usage: shabench [MIB] -> prints `sha1 <GB/s>` and `sha256 <GB/s>` lines.

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
}
