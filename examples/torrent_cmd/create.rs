//! `torrent create`: make a .torrent (v1, v2 or hybrid) of a file or directory.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use bip_metainfo::create::{CreateError, FsSource, TorrentBuilder, WalkOptions, MIN_PIECE_LENGTH};
use bip_metainfo::{Version, MAX_PIECE_LENGTH};

use super::common::parse_size;

/// `torrent create PATH -o OUT.torrent [options]`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// File or directory to make a torrent of.
    pub path: PathBuf,
    /// Where to write the .torrent (`-`: standard output). An existing file is kept unless
    /// `--force`.
    #[arg(short = 'o', long = "output", value_name = "OUT.torrent")]
    pub output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Piece length: bytes, or with a unit (16KiB, 1MiB, 4m); a power of two from 16384
    /// (16 KiB) to 268435456 (256 MiB); default: automatic (1,000-2,000 pieces).
    #[arg(long, value_name = "BYTES", value_parser = parse_piece_length, allow_hyphen_values = true)]
    pub piece_length: Option<u64>,
    /// Tracker URL (udp://, http:// or https://); each --announce forms its own tier, and
    /// 'URL1,URL2' puts several trackers in one tier (repeatable).
    #[arg(long, value_name = "URL[,URL...]", value_parser = parse_tier)]
    pub announce: Vec<Vec<String>>,
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
    /// Include hidden files and folders (names starting with `.`, such as .git/ or .DS_Store).
    #[arg(long)]
    pub include_hidden: bool,
    /// Follow symbolic links that point outside PATH (links inside are always followed).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Leave out files and folders matching GLOB (relative to PATH, or a bare name such as
    /// '*.tmp' matched anywhere; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// List what was left out (hidden, excluded, symlinks pointing outside) on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--announce`: one tier of udp://, http:// or https:// URLs separated by commas.
fn parse_tier(s: &str) -> Result<Vec<String>, String> {
    s.split(',')
        .map(|u| {
            let u = u.trim();
            let parsed = url::Url::parse(u).map_err(|e| format!("{u:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "udp" | "http" | "https") {
                return Err(format!(
                    "{u:?}: tracker URLs are udp://, http:// or https://"
                ));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(format!("{u:?}: no host"));
            }
            Ok(u.to_string())
        })
        .collect()
}

/// `--piece-length`: a power of two from [`MIN_PIECE_LENGTH`] to [`MAX_PIECE_LENGTH`].
fn parse_piece_length(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "not a power of two from {MIN_PIECE_LENGTH} (16 KiB) to {MAX_PIECE_LENGTH} (256 MiB)"
        )
    };
    let n = parse_size(s).map_err(|e| format!("{e}; {}", bad()))?;
    if n.is_power_of_two() && (MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Run `torrent create`; returns the exit code (0 ok, 1 I/O failure, 2 bad input).
pub fn run(args: CreateArgs) -> i32 {
    let to_stdout = args.output.as_os_str() == "-";
    if !to_stdout && !args.force && args.output.exists() {
        eprintln!(
            "error: {} exists; use --force to overwrite it",
            args.output.display()
        );
        return 2;
    }
    let mut exclude = globset::GlobSetBuilder::new();
    for g in &args.exclude {
        match globset::GlobBuilder::new(g).literal_separator(true).build() {
            Ok(glob) => {
                exclude.add(glob);
            }
            Err(e) => {
                eprintln!("error: --exclude {g:?}: {e}");
                return 2;
            }
        }
    }
    let exclude = match exclude.build() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --exclude: {e}");
            return 2;
        }
    };
    let walk = WalkOptions {
        include_hidden: args.include_hidden,
        follow_symlinks: args.follow_symlinks,
        exclude: (!args.exclude.is_empty()).then(|| {
            Box::new(move |p: &[String]| {
                exclude.is_match(p.join("/")) || p.last().is_some_and(|n| exclude.is_match(n))
            }) as Box<dyn Fn(&[String]) -> bool + Sync>
        }),
    };
    let src = match FsSource::walk_with(&args.path, &walk) {
        Ok((src, skipped)) => {
            if args.verbose {
                for s in &skipped {
                    eprintln!("skipped: {} ({})", s.path.join("/"), s.reason);
                }
            }
            src
        }
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                CreateError::Io { .. } => 1,
                _ => 2,
            };
        }
    };
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
    for tier in &args.announce {
        b = b.announce_tier(tier.clone());
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
    let result = b.build_from_fs(&args.path, &src);
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
    if to_stdout {
        // The torrent goes to stdout; the info hashes to stderr.
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(&created.bytes).and_then(|()| out.flush()) {
            eprintln!("error: standard output: {e}");
            return 1;
        }
    } else if let Err(e) = std::fs::write(&args.output, &created.bytes) {
        eprintln!("error: {}: {e}", args.output.display());
        return 1;
    }
    let mut lines = Vec::new();
    if let Some(h) = created.info_hash_v1 {
        lines.push(format!("info hash v1: {}", h.to_hex()));
    }
    if let Some(h) = created.info_hash_v2 {
        lines.push(format!("info hash v2: {}", h.to_hex()));
    }
    for l in lines {
        if to_stdout {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    0
}
