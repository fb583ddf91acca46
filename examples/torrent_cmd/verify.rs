//! `torrent verify FILE PATH [--check v1|v2|both]`: check downloaded data against a torrent.
//!
//! PATH is the folder that holds the torrent's content (`PATH/NAME`), or the content itself
//! (the single file, or the top folder, under any name); stderr says which was used, and for each
//! missing file the path looked for.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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
    /// The .torrent file (`-`: standard input).
    pub file: PathBuf,
    /// The folder that holds the torrent's content (its name inside), or the content itself
    /// (the single file, or the top folder).
    #[arg(value_name = "PATH")]
    pub dir: PathBuf,
    /// Hashing threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Which hashes to check; default: v2 when the torrent has it (v2 and hybrid), else v1.
    #[arg(long, value_enum, value_name = "v1|v2|both")]
    pub check: Option<CheckArg>,
    #[command(flatten)]
    pub limits: super::common::LimitArgs,
}

/// Run `torrent verify`; returns the exit code (0 all good, 1 bad or missing data, 2 bad input).
pub fn run(args: VerifyArgs) -> i32 {
    let bytes = match super::common::read_input(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let m = match bip_metainfo::Metainfo::from_bytes_with(&bytes, &args.limits.limits()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return 2;
        }
    };
    let mut plan = VerifyPlan::from(&m);
    let root = match locate(&args.dir, &m.info.name, m.info.multi_file, &mut plan) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
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
        let result = verify(&plan, &root, &opts);
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(r) => {
                print_report(&r);
                for f in &r.files {
                    if f.status == FileStatus::Missing {
                        eprintln!(
                            "missing: {}: looked for {}",
                            f.rel_path.display(),
                            root.join(&f.rel_path).display()
                        );
                    }
                }
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

/// Where the content is: `PATH/NAME` when it exists (PATH is the folder holding the content),
/// else PATH itself when it is of the right kind (the content under any name: the plan's first
/// component is renamed to PATH's). Says which on stderr; returns the folder to verify in.
fn locate(path: &Path, name: &str, multi: bool, plan: &mut VerifyPlan) -> Result<PathBuf, String> {
    let inside = path.join(name);
    if inside.exists() || !path.exists() {
        eprintln!(
            "content: {} (PATH is the folder holding the content)",
            inside.display()
        );
        return Ok(path.to_path_buf());
    }
    let strip = |p: &Path| {
        let mut c = p.components();
        c.next();
        c.as_path().to_path_buf()
    };
    let holds_content = if path.is_dir() {
        multi
            && plan
                .files
                .iter()
                .any(|f| !f.pad && path.join(strip(&f.rel_path)).exists())
    } else if multi {
        return Err(format!(
            "{}: a file, but the torrent is a folder named {name:?}",
            path.display()
        ));
    } else {
        true
    };
    if !holds_content {
        eprintln!(
            "content: {} (PATH is the folder holding the content)",
            inside.display()
        );
        return Ok(path.to_path_buf());
    }
    let own = path
        .file_name()
        .ok_or_else(|| format!("{}: no file name", path.display()))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for f in &mut plan.files {
        let rest = strip(&f.rel_path);
        f.rel_path = if rest.as_os_str().is_empty() {
            PathBuf::from(own)
        } else {
            Path::new(own).join(rest)
        };
    }
    eprintln!(
        "content: {} (PATH is the torrent's content itself)",
        path.display()
    );
    Ok(parent)
}
