//! Peak memory and time of loading large torrents (issue 12, item 4), one case per child
//! process so that each peak is its own.
//!
//! ```text
//! cargo run --release -p bip_metainfo --example load_memory            # every case, stated sizes
//! cargo run --release -p bip_metainfo --example load_memory -- CASE N  # one case: prints one line
//! ```
//!
//! Cases: `announce-list N` (a torrent of about N bytes, nearly all of it an `announce-list`),
//! `files N` (a torrent of N one-byte files), `unknown N` (about N bytes under an unknown key),
//! `default-limit N` (the first case under the default [`LoadLimits`], which refuses it),
//! `unsorted-keys N` (lenient decoding of a dictionary of N unsorted keys, time only).
//! Each line gives the input size, the peak resident memory above the process' baseline with
//! the input already in memory, their ratio, and the time. Linux only (reads `/proc/self/status`).

use std::time::Instant;

use bip_metainfo::{LoadLimits, Metainfo};

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn info(len: u64) -> Vec<u8> {
    let mut v = format!("d6:lengthi{len}e4:name1:x12:piece lengthi16384e6:pieces").into_bytes();
    let n = len.div_ceil(16384) as usize;
    v.extend_from_slice(format!("{}:", n * 20).as_bytes());
    v.extend(std::iter::repeat_n(b'a', n * 20));
    v.push(b'e');
    v
}

fn announce_list(size: usize) -> Vec<u8> {
    let mut v = b"d13:announce-listl".to_vec();
    let mut i = 0u64;
    while v.len() < size {
        let u = format!("udp://t{i}.example:80");
        v.extend_from_slice(format!("l{}:{u}e", u.len()).as_bytes());
        i += 1;
    }
    v.extend_from_slice(b"e4:info");
    v.extend(info(5));
    v.push(b'e');
    v
}

fn files(n: usize) -> Vec<u8> {
    let mut v = b"d4:infod5:filesl".to_vec();
    for i in 0..n {
        let p = format!("f{i:07}");
        v.extend_from_slice(format!("d6:lengthi1e4:pathl{}:{p}ee", p.len()).as_bytes());
    }
    let pieces = n.div_ceil(16384);
    v.extend_from_slice(
        format!(
            "e4:name4:root12:piece lengthi16384e6:pieces{}:",
            pieces * 20
        )
        .as_bytes(),
    );
    v.extend(std::iter::repeat_n(b'a', pieces * 20));
    v.extend_from_slice(b"ee");
    v
}

fn unknown(size: usize) -> Vec<u8> {
    let mut v = b"d4:info".to_vec();
    v.extend(info(5));
    v.extend_from_slice(b"4:zzzzl");
    while v.len() < size {
        v.extend_from_slice(b"l1:ai1ee");
    }
    v.extend_from_slice(b"ee");
    v
}

fn unsorted(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 13 + 2);
    v.push(b'd');
    for i in 0..n {
        let k = (i * 7_919 + 13) % n;
        v.extend_from_slice(format!("8:{k:08}i1e").as_bytes());
    }
    v.push(b'e');
    v
}

/// Run one case in this process; print `case n input_bytes peak_bytes ratio seconds outcome`.
fn one(case: &str, n: usize) {
    let input = match case {
        "announce-list" | "default-limit" => announce_list(n),
        "files" => files(n),
        "unknown" => unknown(n),
        "unsorted-keys" => unsorted(n),
        _ => panic!("unknown case {case}"),
    };
    let base = peak_kib();
    let unlimited = LoadLimits::default()
        .max_size(usize::MAX)
        .max_tokens(usize::MAX);
    let t = Instant::now();
    let outcome = match case {
        "unsorted-keys" => {
            let doc = bip_bencode::Decoder::lenient().decode(&input).unwrap();
            format!("{} keys", doc.root().dict().unwrap().len())
        }
        "default-limit" => match Metainfo::from_bytes(&input) {
            Ok(_) => "loaded".into(),
            Err(e) => format!("refused: {e}"),
        },
        _ => match Metainfo::from_bytes_with(&input, &unlimited) {
            Ok(m) => {
                // What `torrent show` and `verify` compute on top of parsing.
                let paths = m.info.disk_paths().len();
                format!("loaded, {paths} paths")
            }
            Err(e) => format!("error: {e}"),
        },
    };
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_kib().saturating_sub(base) * 1024;
    println!(
        "{case} {n} {} {peak} {:.2} {secs:.2} {outcome}",
        input.len(),
        peak as f64 / input.len() as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [case, n] = args.as_slice() {
        one(case, n.parse().expect("N"));
        return;
    }
    let me = std::env::current_exe().expect("own path");
    println!("case N input_bytes peak_bytes_above_baseline peak/input seconds outcome");
    for (case, n) in [
        ("announce-list", 25_000_000),
        ("announce-list", 100_000_000),
        ("files", 1_000_000),
        ("unknown", 25_000_000),
        ("default-limit", 25_000_000),
        ("unsorted-keys", 5_000_000),
    ] {
        let out = std::process::Command::new(&me)
            .args([case.to_string(), n.to_string()])
            .output()
            .expect("run case");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
