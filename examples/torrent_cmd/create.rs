//! `torrent create`: make a .torrent (v1, v2 or hybrid) of a file or directory.

use std::io::IsTerminal;
use std::path::PathBuf;

use bip_metainfo::create::{
    CreateError, TorrentBuilder, Version, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH,
};

/// `torrent create PATH -o OUT.torrent [options]`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// File or directory to make a torrent of.
    pub path: PathBuf,
    /// Where to write the .torrent.
    #[arg(short = 'o', long = "output", value_name = "OUT.torrent")]
    pub output: PathBuf,
    /// Piece length in bytes: a power of two from 16384 (16 KiB) to 268435456 (256 MiB);
    /// default: automatic (1,000-2,000 pieces).
    #[arg(long, value_name = "BYTES", value_parser = parse_piece_length, allow_hyphen_values = true)]
    pub piece_length: Option<u64>,
    /// Tracker URL; each one forms its own tier (repeatable).
    #[arg(long, value_name = "URL")]
    pub announce: Vec<String>,
    /// Web seed URL (BEP 19, repeatable).
    #[arg(long, value_name = "URL")]
    pub web_seed: Vec<String>,
    /// Comment.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Set the private flag (BEP 27).
    #[arg(long)]
    pub private: bool,
    /// Info dictionary `source` (for private trackers).
    #[arg(long, value_name = "TEXT")]
    pub source: Option<String>,
    /// Create a v2-only torrent (BEP 52).
    #[arg(long, conflicts_with = "hybrid")]
    pub v2: bool,
    /// Create a hybrid v1+v2 torrent (BEP 52, files padded with BEP 47 pad files).
    #[arg(long)]
    pub hybrid: bool,
    /// Hashing threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Leave out `creation date` (reproducible output).
    #[arg(long)]
    pub no_date: bool,
}

/// `--piece-length`: a power of two from [`MIN_PIECE_LENGTH`] to [`MAX_PIECE_LENGTH`].
fn parse_piece_length(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "not a power of two from {MIN_PIECE_LENGTH} (16 KiB) to {MAX_PIECE_LENGTH} (256 MiB)"
        )
    };
    let n: u64 = s.trim().parse().map_err(|_| bad())?;
    if n.is_power_of_two() && (MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Run `torrent create`; returns the exit code (0 ok, 1 I/O failure, 2 bad input).
pub fn run(args: CreateArgs) -> i32 {
    let mut b = TorrentBuilder::new()
        .piece_length(args.piece_length)
        .private(args.private)
        .version(if args.v2 {
            Version::V2
        } else if args.hybrid {
            Version::Hybrid
        } else {
            Version::V1
        });
    for url in &args.announce {
        b = b.announce(url.clone());
    }
    for url in &args.web_seed {
        b = b.web_seed(url.clone());
    }
    if let Some(c) = &args.comment {
        b = b.comment(c.clone());
    }
    if let Some(s) = &args.source {
        b = b.source(s.clone());
    }
    if let Some(n) = args.threads {
        b = b.threads(n);
    }
    if args.no_date {
        b = b.creation_date(None);
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    if let Some(bar) = bar.clone() {
        b = b.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let result = b.build_from_path(&args.path);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let created = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                CreateError::Io { .. } => 1,
                _ => 2,
            };
        }
    };
    if let Err(e) = std::fs::write(&args.output, &created.bytes) {
        eprintln!("error: {}: {e}", args.output.display());
        return 1;
    }
    if let Some(h) = created.info_hash_v1 {
        println!("info hash v1: {}", h.to_hex());
    }
    if let Some(h) = created.info_hash_v2 {
        println!("info hash v2: {}", h.to_hex());
    }
    0
}
