//! `torrent`: create, show, verify .torrent files and print magnet links.
//!
//! ```text
//! cargo run --release --example torrent -- show FILE [--json]
//! cargo run --release --example torrent -- magnet FILE
//! cargo run --release --example torrent -- create ...   (see `create --help`)
//! cargo run --release --example torrent -- verify FILE PATH [--check v1|v2|both]   (see `verify --help`)
//! ```
//!
//! FILE may be `-` (standard input). Exit codes: 0 success, 1 the answer is "no" (verify found
//! bad or missing data), 2 bad usage or unreadable input. `--version` prints the version.
//!
//! ```text
//! ```
//!
//! # `show`
//! A human summary, or with `--json` one JSON object:
//! `info_hash_v1`, `info_hash_v2` (lowercase hex or null), `name`,
//! `piece_length`, `total_size` (the piece space, padding included, as
//! libtorrent's `total_size`), `payload_size` (without padding), `num_pieces`,
//! `private` (bool), `source` (or null), `version`
//! (`"v1"`, `"v2"`, `"hybrid"`), `files` (`{"path": "dir/file", "length": N}`
//! in torrent order, padding files left out; `path` is relative to the
//! torrent's root folder, and is the name itself for a single-file torrent),
//! `trackers` (tiers of URLs; without `announce-list`, one tier holding
//! `announce`), `web_seeds`, `comment`, `created_by`, `creation_date`
//! (Unix seconds; null when absent), `magnet` (the magnet link), `unknown_keys`
//! (names of keys not shown as fields; `info.` for those of the info
//! dictionary). File paths are those `verify` reads (libtorrent's renaming of
//! duplicates applied). The object is written as it is produced. The text form
//! shows dates as ISO 8601 UTC and sizes in binary units beside the exact bytes.
//!
//! # `magnet`
//! Prints the magnet link: `xt` for each info hash, `dn`, `tr`, `ws`.
//!
//! Malformed input: a one-line error naming the field on stderr, exit code 2.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bip_metainfo::Metainfo;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[path = "torrent_cmd/common.rs"]
mod common;
#[path = "torrent_cmd/create.rs"]
mod create;
#[path = "torrent_cmd/verify.rs"]
mod verify;

use common::{human_size, iso8601, plural, read_input, EXIT_CODES};

/// Create, show and verify .torrent files; print magnet links.
#[derive(Parser, Debug)]
#[command(name = "torrent", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Create a .torrent from a file or folder.
    #[command(after_help = EXIT_CODES)]
    Create(create::CreateArgs),
    /// Print a summary of a .torrent.
    #[command(after_help = EXIT_CODES)]
    Show {
        /// The .torrent file (`-`: standard input).
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: common::LimitArgs,
    },
    /// Check downloaded data against a .torrent.
    #[command(after_help = EXIT_CODES)]
    Verify(verify::VerifyArgs),
    /// Print the magnet link of a .torrent.
    #[command(after_help = EXIT_CODES)]
    Magnet {
        /// The .torrent file (`-`: standard input).
        file: PathBuf,
        #[command(flatten)]
        limits: common::LimitArgs,
    },
}

fn load(file: &std::path::Path, limits: &common::LimitArgs) -> Result<Metainfo, String> {
    let bytes = read_input(file)?;
    Metainfo::from_bytes_with(&bytes, &limits.limits())
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// The files to list (padding left out) with the paths `verify` reads, relative to the root
/// folder (the name itself for a single file).
fn listed_files(
    m: &Metainfo,
) -> impl Iterator<Item = (bip_metainfo::FileEntry<'_>, Cow<'_, str>)> + '_ {
    // In index order: merged with the files as they go by.
    let mut renamed = m.info.renamed_paths().into_iter().peekable();
    m.info.all_files().into_iter().filter_map(move |f| {
        let new = renamed.next_if(|(i, _)| *i == f.index()).map(|r| r.1);
        (!f.is_padding()).then(|| (f, new.map_or(Cow::Borrowed(f.path()), Cow::Owned)))
    })
}

/// Keys the file holds that this tool does not show as fields, by name (`info.` inside the
/// info dictionary).
fn unknown_keys(m: &Metainfo) -> Vec<String> {
    let name = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
    let mut out: Vec<String> = m.unknown.keys().map(|k| name(k)).collect();
    out.extend(m.info.unknown.keys().map(|k| format!("info.{}", name(k))));
    out
}

fn version_name(v: bip_metainfo::Version) -> &'static str {
    match v {
        bip_metainfo::Version::V1 => "v1",
        bip_metainfo::Version::V2 => "v2",
        bip_metainfo::Version::Hybrid => "hybrid",
    }
}

/// The `show --json` object, written as it is produced (files one by one): memory stays that of
/// the parsed torrent.
fn write_json(out: &mut impl Write, m: &Metainfo) -> io::Result<()> {
    let info = &m.info;
    let field = |out: &mut dyn Write, first: bool, k: &str, v: Value| -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, k)?;
        out.write_all(b":")?;
        serde_json::to_writer(out, &v).map_err(io::Error::from)
    };
    out.write_all(b"{")?;
    field(
        out,
        true,
        "info_hash_v1",
        json!(m.info_hash_v1().map(|h| h.to_hex())),
    )?;
    field(
        out,
        false,
        "info_hash_v2",
        json!(m.info_hash_v2().map(|h| h.to_hex())),
    )?;
    field(out, false, "name", json!(info.name))?;
    field(out, false, "piece_length", json!(info.piece_length))?;
    field(out, false, "total_size", json!(info.total_size()))?;
    field(out, false, "payload_size", json!(info.payload_size()))?;
    field(out, false, "num_pieces", json!(info.num_pieces()))?;
    field(out, false, "private", json!(info.private))?;
    field(out, false, "source", json!(info.source))?;
    field(out, false, "version", json!(version_name(info.version)))?;
    out.write_all(b",\"files\":[")?;
    for (i, (f, path)) in listed_files(m).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"path\":")?;
        serde_json::to_writer(&mut *out, &path)?;
        write!(out, ",\"length\":{}}}", f.length())?;
    }
    out.write_all(b"]")?;
    field(out, false, "trackers", json!(m.trackers()))?;
    field(out, false, "web_seeds", json!(m.web_seeds()))?;
    field(out, false, "comment", json!(m.comment))?;
    field(out, false, "created_by", json!(m.created_by))?;
    field(out, false, "creation_date", json!(m.creation_date))?;
    field(out, false, "magnet", json!(m.magnet().to_string()))?;
    field(out, false, "unknown_keys", json!(unknown_keys(m)))?;
    out.write_all(b"}\n")
}

fn print_summary(out: &mut impl Write, m: &Metainfo) -> io::Result<()> {
    let info = &m.info;
    writeln!(out, "name:          {}", info.name)?;
    if let Some(h) = m.info_hash_v1() {
        writeln!(out, "info hash v1:  {h}")?;
    }
    if let Some(h) = m.info_hash_v2() {
        writeln!(out, "info hash v2:  {h}")?;
    }
    writeln!(out, "version:       {:?}", info.version)?;
    writeln!(
        out,
        "size:          {} bytes in {} of {} bytes",
        info.total_size(),
        plural(info.num_pieces(), "piece", "pieces"),
        info.piece_length
    )?;
    writeln!(
        out,
        "               {} in pieces of {}",
        human_size(info.total_size()),
        human_size(info.piece_length)
    )?;
    if info.payload_size() != info.total_size() {
        writeln!(
            out,
            "payload:       {} ({} bytes) without {} of padding",
            human_size(info.payload_size()),
            info.payload_size(),
            human_size(info.total_size() - info.payload_size())
        )?;
    }
    writeln!(out, "private:       {}", info.private)?;
    if let Some(s) = &info.source {
        writeln!(out, "source:        {s}")?;
    }
    if let Some(c) = &m.comment {
        writeln!(out, "comment:       {c}")?;
    }
    if let Some(c) = &m.created_by {
        writeln!(out, "created by:    {c}")?;
    }
    if let Some(d) = m.creation_date {
        writeln!(out, "creation date: {} ({d})", iso8601(d))?;
    }
    if let Some(e) = &m.encoding {
        writeln!(out, "encoding:      {e}")?;
    }
    for (i, tier) in m.trackers().iter().enumerate() {
        writeln!(out, "tracker tier {i}: {}", tier.join(" "))?;
    }
    for w in m.web_seeds() {
        writeln!(out, "web seed:      {w}")?;
    }
    for h in &m.httpseeds {
        writeln!(out, "http seed:     {h}")?;
    }
    for (h, p) in &m.nodes {
        writeln!(out, "dht node:      {h}:{p}")?;
    }
    for s in m.similar_torrents() {
        writeln!(out, "similar:       {}", hex::encode(s))?;
    }
    for c in m.collections() {
        writeln!(out, "collection:    {c}")?;
    }
    let unknown = unknown_keys(m);
    if !unknown.is_empty() {
        writeln!(out, "other keys:    {}", unknown.join(", "))?;
    }
    writeln!(out, "magnet:        {}", m.magnet())?;
    let count = info.files().count() as u64;
    writeln!(out, "files ({count}):")?;
    for (f, path) in listed_files(m) {
        let mut flags = String::new();
        let attrs = f.attrs();
        if attrs.executable {
            flags.push_str(" [x]");
        }
        if attrs.hidden {
            flags.push_str(" [h]");
        }
        if let Some(t) = f.symlink_target() {
            flags.push_str(&format!(" -> {t}"));
        }
        writeln!(out, "  {:>14}  {path}{flags}", f.length())?;
    }
    Ok(())
}

/// Write to stdout through a buffer; a closed pipe is not an error.
fn emit(f: impl FnOnce(&mut BufWriter<io::StdoutLock<'_>>) -> io::Result<()>) -> u8 {
    let mut out = BufWriter::new(io::stdout().lock());
    match f(&mut out).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write output: {e}");
            2
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Create(args) => create::run(args),
        Cmd::Verify(args) => verify::run(args),
        Cmd::Show { file, json, limits } => match load(&file, &limits) {
            Ok(m) => i32::from(emit(|out| {
                if json {
                    write_json(out, &m)
                } else {
                    print_summary(out, &m)
                }
            })),
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Cmd::Magnet { file, limits } => match load(&file, &limits) {
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
