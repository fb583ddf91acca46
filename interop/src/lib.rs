//! Test support for the interop tests that run real BitTorrent software (libtorrent,
//! opentracker, aria2, mktorrent, transmission) on loopback.
//!
//! One policy for every crate: when a program is missing, a test prints `SKIP: …` and passes,
//! unless the environment variable `BIP_INTEROP=require` is set (as `.ci/run` does): then it
//! fails.
//!
//! ```
//! use std::process::Command;
//! if bip_interop::available("true(1)", &mut Command::new("true")) {
//!     // drive the program; wrap children in `KillOnDrop` so a panic cannot leak them
//! }
//! ```

use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Stdio};

/// Debian's Python, the one `python3-libtorrent` installs into.
pub const PYTHON: &str = "/usr/bin/python3";

/// Whether interop tests must run (`BIP_INTEROP=require`).
pub fn required() -> bool {
    std::env::var("BIP_INTEROP").as_deref() == Ok("require")
}

/// Run `probe`; `true` when it exits successfully. Otherwise print `SKIP: {what} not
/// available` and return `false`, or panic when [`required`].
pub fn available(what: &str, probe: &mut Command) -> bool {
    let ok = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if required() {
            panic!("BIP_INTEROP=require but {what} is not available");
        }
        eprintln!("SKIP: {what} not available");
    }
    ok
}

/// Whether `python3-libtorrent` can be imported by [`PYTHON`] (see [`available`]).
pub fn have_libtorrent() -> bool {
    available(
        "python3-libtorrent",
        Command::new(PYTHON).args(["-c", "import libtorrent"]),
    )
}

/// A child process that is killed and reaped when dropped, also when a test panics.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Create `bip-{tag}-{pid}` (emptied first if it exists).
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("bip-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// Write `bytes` to `rel` below the directory, creating parent folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("create parent");
        std::fs::write(p, bytes).expect("write file");
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift64) for test content.
pub fn test_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
