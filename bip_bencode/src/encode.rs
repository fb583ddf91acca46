//! Low-level encoding primitives, usable without building a value tree.
//!
//! ```
//! use bip_bencode::encode;
//! let mut out = Vec::new();
//! encode::dict_start(&mut out);
//! encode::bytes(&mut out, b"a");
//! encode::int(&mut out, -3);
//! encode::end(&mut out);
//! assert_eq!(out, b"d1:ai-3ee");
//! ```
//! The caller is responsible for writing dictionary keys in sorted order when
//! using these primitives; [`Bencode`](crate::Bencode) always sorts.

/// Append an integer `i…e`.
#[inline]
pub fn int(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v).as_bytes();
    out.reserve(s.len() + 2);
    out.push(b'i');
    out.extend_from_slice(s);
    out.push(b'e');
}

/// Append a byte string `N:…`.
#[inline]
pub fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    // Keys, path components, ids and tokens have 1- or 2-digit lengths:
    // write those headers directly; itoa for the rest.
    if n < 10 {
        out.reserve(2 + n);
        out.extend_from_slice(&[b'0' + n as u8, b':']);
    } else if n < 100 {
        out.reserve(3 + n);
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8, b':']);
    } else {
        let mut buf = itoa::Buffer::new();
        let s = buf.format(n).as_bytes();
        out.reserve(s.len() + 1 + n);
        out.extend_from_slice(s);
        out.push(b':');
    }
    out.extend_from_slice(b);
}

/// Append `l`.
#[inline]
pub fn list_start(out: &mut Vec<u8>) {
    out.push(b'l');
}

/// Append `d`.
#[inline]
pub fn dict_start(out: &mut Vec<u8>) {
    out.push(b'd');
}

/// Append `e` (end of a list or dictionary).
#[inline]
pub fn end(out: &mut Vec<u8>) {
    out.push(b'e');
}

/// Number of decimal digits of `n`.
#[inline]
fn digits(n: u64) -> usize {
    // Short values (lengths of keys and names) by comparison; ilog10 costs more.
    if n < 10 {
        1
    } else if n < 100 {
        2
    } else if n < 1000 {
        3
    } else {
        n.ilog10() as usize + 1
    }
}

/// Number of bytes `int(v)` writes.
#[inline]
pub fn int_len(v: i64) -> usize {
    usize::from(v < 0) + digits(v.unsigned_abs()) + 2
}

/// Number of bytes `bytes(b)` writes for a string of `len` bytes.
#[inline]
pub fn bytes_len(len: usize) -> usize {
    digits(len as u64) + 1 + len
}
