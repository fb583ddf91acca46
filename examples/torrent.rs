//! `torrent`: create, show, verify .torrent files and print magnet links.
//!
//! ```text
//! cargo run --release --example torrent -- show FILE [--json]
//! cargo run --release --example torrent -- magnet FILE
//! cargo run --release --example torrent -- create ...   (see `create --help`)
//! cargo run --release --example torrent -- verify FILE DIR [--check v1|v2|both]   (see `verify --help`)
//! ```
//!
//! # `show`
//! A human summary, or with `--json` one JSON object:
//! `info_hash_v1`, `info_hash_v2` (lowercase hex or null), `name`,
//! `piece_length`, `total_size` (the piece space, padding included, as
//! libtorrent's `total_size`), `num_pieces`, `private` (bool), `version`
//! (`"v1"`, `"v2"`, `"hybrid"`), `files` (`{"path": "dir/file", "length": N}`
//! in torrent order, padding files left out; `path` is relative to the
//! torrent's root folder, and is the name itself for a single-file torrent),
//! `trackers` (tiers of URLs; without `announce-list`, one tier holding
//! `announce`), `web_seeds`, `comment`, `created_by`, `creation_date`
//! (null when absent).
//!
//! # `magnet`
//! Prints the magnet link: `xt` for each info hash, `dn`, `tr`, `ws`.
//!
//! Malformed input: a one-line error naming the field on stderr, exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use bip_metainfo::Metainfo;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[path = "torrent_cmd/create.rs"]
mod create;
#[path = "torrent_cmd/verify.rs"]
mod verify;

/// Create, show and verify .torrent files; print magnet links.
#[derive(Parser, Debug)]
#[command(name = "torrent")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Create a .torrent from a file or folder.
    Create(create::CreateArgs),
    /// Print a summary of a .torrent.
    Show {
        /// The .torrent file.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check downloaded data against a .torrent.
    Verify(verify::VerifyArgs),
    /// Print the magnet link of a .torrent.
    Magnet {
        /// The .torrent file.
        file: PathBuf,
    },
}

fn load(file: &PathBuf) -> Result<Metainfo, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Metainfo::from_bytes(&bytes).map_err(|e| format!("{}: {e}", file.display()))
}

/// The `show --json` object.
fn summary_json(m: &Metainfo) -> Value {
    let info = &m.info;
    let files: Vec<Value> = info
        .files()
        .map(|f| json!({ "path": f.path_string(), "length": f.length }))
        .collect();
    json!({
        "info_hash_v1": m.info_hash_v1().map(|h| h.to_hex()),
        "info_hash_v2": m.info_hash_v2().map(|h| h.to_hex()),
        "name": info.name,
        "piece_length": info.piece_length,
        "total_size": info.total_size(),
        "num_pieces": info.num_pieces(),
        "private": info.private,
        "version": match info.version {
            bip_metainfo::Version::V1 => "v1",
            bip_metainfo::Version::V2 => "v2",
            bip_metainfo::Version::Hybrid => "hybrid",
        },
        "files": files,
        "trackers": m.trackers(),
        "web_seeds": m.web_seeds(),
        "comment": m.comment,
        "created_by": m.created_by,
        "creation_date": m.creation_date,
    })
}

fn print_summary(m: &Metainfo) {
    let info = &m.info;
    println!("name:          {}", info.name);
    if let Some(h) = m.info_hash_v1() {
        println!("info hash v1:  {h}");
    }
    if let Some(h) = m.info_hash_v2() {
        println!("info hash v2:  {h}");
    }
    println!("version:       {:?}", info.version);
    println!(
        "size:          {} bytes in {} pieces of {} bytes",
        info.total_size(),
        info.num_pieces(),
        info.piece_length
    );
    println!("private:       {}", info.private);
    if let Some(c) = &m.comment {
        println!("comment:       {c}");
    }
    if let Some(c) = &m.created_by {
        println!("created by:    {c}");
    }
    if let Some(d) = m.creation_date {
        println!("creation date: {d}");
    }
    for (i, tier) in m.trackers().iter().enumerate() {
        println!("tracker tier {i}: {}", tier.join(" "));
    }
    for w in m.web_seeds() {
        println!("web seed:      {w}");
    }
    let files: Vec<_> = info.files().collect();
    println!("files ({}):", files.len());
    for f in files {
        let mut flags = String::new();
        if f.attrs.executable {
            flags.push_str(" [x]");
        }
        if f.attrs.hidden {
            flags.push_str(" [h]");
        }
        if let Some(t) = &f.symlink_target {
            flags.push_str(&format!(" -> {}", t.join("/")));
        }
        println!("  {:>14}  {}{flags}", f.length, f.path_string());
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Create(args) => create::run(args),
        Cmd::Verify(args) => verify::run(args),
        Cmd::Show { file, json } => match load(&file) {
            Ok(m) => {
                if json {
                    println!("{}", summary_json(&m));
                } else {
                    print_summary(&m);
                }
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Cmd::Magnet { file } => match load(&file) {
            Ok(m) => {
                println!("{}", m.magnet());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
