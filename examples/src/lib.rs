//! Shared helpers for the bip example tools (`cargo run --release --example NAME`).
//!
//! The tools themselves live next to this file as `[[example]]` targets.

/// Print a one-line error to stderr and exit with `code`.
pub fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(code)
}

/// A fresh `-BP0100-…` peer id from an OS-seeded RNG (the tools' own identity).
pub fn our_peer_id() -> bip_util::PeerId {
    use rand::SeedableRng;
    bip_util::generate_peer_id(&mut rand::rngs::StdRng::from_os_rng())
}

/// The README's snippets, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
