//! SHA-1 and SHA-256 helpers.
//!
//! One-shot functions for the common case ([`sha1()`], [`sha256()`]) and re-exports of the
//! RustCrypto incremental hashers ([`Sha1`], [`Sha256`] and the [`Digest`] trait), so that
//! downstream crates hash pieces and info dictionaries without depending on `sha1`/`sha2`
//! themselves.
//!
//! # Back end
//!
//! The work is done by RustCrypto's `sha1` and `sha2` 0.10 crates with their default (non-`asm`)
//! configuration:
//!
//! * on `x86`/`x86_64` both crates check at run time (through `cpufeatures`, once, then cached)
//!   whether the CPU has the SHA extensions (SHA-NI: `sha`, `sse2`, `ssse3`, `sse4.1`) and use
//!   them when present, falling back to portable Rust otherwise; no C toolchain is involved;
//! * on `aarch64`, SHA-256 would use the ARMv8 SHA2 instructions only with `sha2`'s `asm`
//!   feature, which this crate does not enable, and SHA-1 has no ARM back end in 0.10: both run
//!   the portable Rust implementation there, as on every other architecture.
//!
//! ```
//! use bip_util::sha::{sha1, Digest, Sha1};
//!
//! let mut hasher = Sha1::new();
//! hasher.update(b"a");
//! hasher.update(b"bc");
//! let incremental: [u8; 20] = hasher.finalize().into();
//! assert_eq!(incremental, sha1(b"abc"));
//! ```

pub use ::sha1::Digest;
pub use ::sha1::Sha1;
pub use ::sha2::Sha256;

/// Length in bytes of a SHA-1 digest (v1 info hashes, piece hashes, peer and node ids).
pub const SHA1_LEN: usize = 20;

/// Length in bytes of a SHA-256 digest (BEP 52 v2 info hashes and merkle nodes).
pub const SHA256_LEN: usize = 32;

/// SHA-1 digest of `data`.
///
/// ```
/// let digest = bip_util::sha1(b"abc");
/// assert_eq!(hex::encode(digest), "a9993e364706816aba3e25717850c26c9cd0d89d");
/// ```
pub fn sha1(data: &[u8]) -> [u8; SHA1_LEN] {
    Sha1::digest(data).into()
}

/// SHA-256 digest of `data`.
///
/// ```
/// let digest = bip_util::sha256(b"abc");
/// assert_eq!(
///     hex::encode(digest),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256(data: &[u8]) -> [u8; SHA256_LEN] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors() {
        assert_eq!(
            hex::encode(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(sha1(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex::encode(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn incremental_matches_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut h1 = Sha1::new();
        let mut h2 = Sha256::new();
        for chunk in data.chunks(97) {
            h1.update(chunk);
            h2.update(chunk);
        }
        let d1: [u8; 20] = h1.finalize().into();
        let d2: [u8; 32] = h2.finalize().into();
        assert_eq!(d1, sha1(&data));
        assert_eq!(d2, sha256(&data));
    }
}
