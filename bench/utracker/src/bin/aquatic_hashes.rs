//! Prints the info hashes aquatic_udp_load_test 0.9 announces (hex, one per line), so that
//! opentracker (Debian: whitelist build) can whitelist them: `aquatic_hashes [N]`.
//! Mirrors `InfoHashDist::new` of aquatic_udp_load_test 0.9 (SmallRng, fixed seed, u8 draws).
use std::io::Write;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let mut rng = SmallRng::seed_from_u64(0xc3aa_8be6_17b3_acce);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for _ in 0..n {
        let mut bytes = [0u8; 20];
        for b in bytes.iter_mut() {
            *b = rng.gen();
        }
        for b in bytes {
            write!(out, "{b:02x}").unwrap();
        }
        writeln!(out).unwrap();
    }
}
