//! `torrent verify FILE DIR [--check v1|v2|both]`: check downloaded data against a torrent.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use bip_metainfo::verify::{verify, Check, FileStatus, VerifyOptions, VerifyPlan, VerifyReport};

/// Which hashes `--check` selects.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckArg {
    /// v1 piece hashes (SHA-1; pieces may span files).
    V1,
    /// v2 merkle trees (SHA-256; exact per-file answers).
    V2,
    /// v2, then v1 (hybrid torrents).
    Both,
}

/// `torrent verify FILE DIR`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The .torrent file.
    pub file: PathBuf,
    /// The download folder: it holds the torrent's name (file or directory).
    pub dir: PathBuf,
    /// Hashing threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Which hashes to check; default: v2 when the torrent has it (v2 and hybrid), else v1.
    #[arg(long, value_enum, value_name = "v1|v2|both")]
    pub check: Option<CheckArg>,
}

/// Run `torrent verify`; returns the exit code (0 all good, 1 bad or missing data, 2 bad input).
pub fn run(args: VerifyArgs) -> i32 {
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return 2;
        }
    };
    let plan = match bip_metainfo::Metainfo::from_bytes(&bytes) {
        Ok(m) => VerifyPlan::from(&m),
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return 2;
        }
    };
    let checks: &[Check] = match args.check {
        None => &[Check::Auto],
        Some(CheckArg::V1) => &[Check::V1],
        Some(CheckArg::V2) => &[Check::V2],
        Some(CheckArg::Both) => &[Check::V2, Check::V1],
    };
    let mut code = 0;
    for &check in checks {
        let mut opts = VerifyOptions {
            check,
            ..VerifyOptions::default()
        };
        if let Some(n) = args.threads {
            opts.threads = n.max(1);
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
            opts.progress = Some(Arc::new(move |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            }));
        }
        let result = verify(&plan, &args.dir, &opts);
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(r) => {
                print_report(&r);
                if !r.all_good() {
                    code = 1;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    if code == 0 {
        println!("all data is good");
    }
    code
}

fn print_report(report: &VerifyReport) {
    for f in &report.files {
        let p = f.rel_path.display();
        match f.status {
            FileStatus::Good => {}
            FileStatus::Bad { bad_pieces } => println!("bad: {p} ({bad_pieces} bad pieces)"),
            FileStatus::Missing => println!("missing: {p}"),
            FileStatus::WrongSize { actual } => {
                println!("wrong size: {p} ({actual} bytes, expected {})", f.length)
            }
            FileStatus::NotAFile => println!("not a regular file: {p}"),
            FileStatus::Unreadable => println!("unreadable: {p}"),
            other => println!("bad: {p} ({other:?})"),
        }
    }
    let total = report.pieces_good + report.pieces_bad;
    println!(
        "pieces: {} good, {} bad, {total} total ({:?}); files: {} good of {}",
        report.pieces_good,
        report.pieces_bad,
        report.checked,
        report
            .files
            .iter()
            .filter(|f| f.status == FileStatus::Good)
            .count(),
        report.files.len()
    );
}
