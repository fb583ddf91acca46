//! Fallback runner of bip's `torrent create`/`verify` subcommands (the same source files as the
//! `torrent` example), for when the example's entry point is not available.

#[path = "../../../../examples/torrent_cmd/create.rs"]
mod create;
#[path = "../../../../examples/torrent_cmd/verify.rs"]
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Create(create::CreateArgs),
    Verify(verify::VerifyArgs),
}

fn main() {
    let code = match Cli::parse().cmd {
        Cmd::Create(a) => create::run(a),
        Cmd::Verify(a) => verify::run(a),
    };
    std::process::exit(code);
}
