//! An owned (or input-borrowing) value tree for building and encoding.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io;

use crate::decode::{Tag, Token};
use crate::encode;
use crate::error::Kind;
use crate::value::{int_of, Value};

/// A bencode value tree. Byte strings are `Cow`, so a tree converted from a
/// decoded [`Value`] borrows from the input, and [`Bencode::into_owned`]
/// detaches it. Dictionaries are `BTreeMap`s: keys are always encoded in
/// sorted order, so encoding is canonical.
///
/// Build one with the [`ben_map!`](crate::ben_map), [`ben_list!`](crate::ben_list),
/// [`ben_bytes!`](crate::ben_bytes) and [`ben_int!`](crate::ben_int) macros.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bencode<'a> {
    /// An integer.
    Int(i64),
    /// An integer outside `i64`, as its decimal digits with optional `-`: from documents
    /// decoded with `max_int_digits` above 19 (digits exactly as written, so a lenient
    /// document's leading zeros stay and [`Bencode::encode`] writes them back, while serde's
    /// `to_vec` writes the canonical form), or, with the `serde` feature, from another format's
    /// `u64`/`i128`/`u128` beyond `i64`.
    BigInt(Cow<'a, [u8]>),
    /// A byte string.
    Bytes(Cow<'a, [u8]>),
    /// A list.
    List(Vec<Bencode<'a>>),
    /// A dictionary.
    Dict(BTreeMap<Cow<'a, [u8]>, Bencode<'a>>),
}

pub(crate) fn from_value<'a>(v: Value<'a, '_>) -> Bencode<'a> {
    let (input, tokens, idx) = v.parts();
    from_tape(input, tokens, idx)
}

/// The tree of the value at token `i`, read straight off the tape: a
/// container's children are the tokens from `i + 1` up to its `End` token
/// (`next - 1`), each followed by its sibling at its own `next`; counting
/// them first sizes every list exactly.
fn from_tape<'a>(input: &'a [u8], tokens: &[Token], i: usize) -> Bencode<'a> {
    let t = tokens[i];
    match t.tag(i, input) {
        Tag::Bytes => {
            let end = tokens[i + 1].start as usize;
            Bencode::Bytes(Cow::Borrowed(&input[t.data_start(input)..end]))
        }
        Tag::Int => {
            let end = tokens[i + 1].start as usize;
            let digits = &input[t.start as usize + 1..end - 1];
            match int_of(digits) {
                Some(v) => Bencode::Int(v),
                None => Bencode::BigInt(Cow::Borrowed(digits)),
            }
        }
        Tag::List => {
            let last = t.next(i) - 1;
            let mut n = 0;
            let mut j = i + 1;
            while j < last {
                n += 1;
                j = tokens[j].next(j);
            }
            let mut l = Vec::with_capacity(n);
            let mut j = i + 1;
            while j < last {
                l.push(from_tape(input, tokens, j));
                j = tokens[j].next(j);
            }
            Bencode::List(l)
        }
        Tag::Dict => {
            let last = t.next(i) - 1;
            let mut m = BTreeMap::new();
            let mut j = i + 1;
            while j < last {
                let v = j + 1;
                let key = &input[tokens[j].data_start(input)..tokens[v].start as usize];
                // Lenient documents may repeat a key: the first one wins, as in lookups.
                if let Entry::Vacant(e) = m.entry(Cow::Borrowed(key)) {
                    e.insert(from_tape(input, tokens, v));
                }
                j = tokens[v].next(v);
            }
            Bencode::Dict(m)
        }
        Tag::End => Bencode::Dict(BTreeMap::new()),
    }
}

impl<'a> Bencode<'a> {
    /// The kind of value.
    pub fn kind(&self) -> Kind {
        match self {
            Bencode::Int(_) | Bencode::BigInt(_) => Kind::Int,
            Bencode::Bytes(_) => Kind::Bytes,
            Bencode::List(_) => Kind::List,
            Bencode::Dict(_) => Kind::Dict,
        }
    }

    /// Detach from any borrowed input.
    pub fn into_owned(self) -> Bencode<'static> {
        match self {
            Bencode::Int(i) => Bencode::Int(i),
            Bencode::BigInt(d) => Bencode::BigInt(Cow::Owned(d.into_owned())),
            Bencode::Bytes(b) => Bencode::Bytes(Cow::Owned(b.into_owned())),
            Bencode::List(l) => Bencode::List(l.into_iter().map(Bencode::into_owned).collect()),
            Bencode::Dict(d) => Bencode::Dict(
                d.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// The integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Bencode::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Bencode::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The byte string as UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The list.
    pub fn as_list(&self) -> Option<&[Bencode<'a>]> {
        match self {
            Bencode::List(l) => Some(l),
            _ => None,
        }
    }

    /// The dictionary.
    pub fn as_dict(&self) -> Option<&BTreeMap<Cow<'a, [u8]>, Bencode<'a>>> {
        match self {
            Bencode::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Mutable dictionary access.
    pub fn as_dict_mut(&mut self) -> Option<&mut BTreeMap<Cow<'a, [u8]>, Bencode<'a>>> {
        match self {
            Bencode::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Look a key up in a dictionary.
    pub fn get(&self, key: &[u8]) -> Option<&Bencode<'a>> {
        self.as_dict()?.get(key)
    }

    /// Number of bytes [`Bencode::encode`] produces.
    pub fn encoded_len(&self) -> usize {
        match self {
            Bencode::Int(i) => encode::int_len(*i),
            Bencode::BigInt(d) => d.len() + 2,
            Bencode::Bytes(b) => encode::bytes_len(b.len()),
            Bencode::List(l) => 2 + l.iter().map(Bencode::encoded_len).sum::<usize>(),
            Bencode::Dict(d) => {
                2 + d
                    .iter()
                    .map(|(k, v)| encode::bytes_len(k.len()) + v.encoded_len())
                    .sum::<usize>()
            }
        }
    }

    /// Encode canonically into a new vector.
    pub fn encode(&self) -> Vec<u8> {
        // One pass over the tree: the buffer starts at a guess from the top
        // two levels (exact for the large byte strings a torrent's `info`
        // holds) and grows by doubling past it, which costs less than a
        // second walk to measure the exact length.
        let mut out = Vec::with_capacity(self.len_guess(2));
        self.encode_into(&mut out);
        out
    }

    /// A cheap guess of [`Self::encoded_len`]: exact for integers and byte
    /// strings, containers `depth` levels down counted at 16 bytes a child.
    fn len_guess(&self, depth: u32) -> usize {
        match self {
            Bencode::List(l) if depth == 0 => 2 + 16 * l.len(),
            Bencode::Dict(d) if depth == 0 => 2 + 16 * d.len(),
            Bencode::List(l) => 2 + l.iter().map(|v| v.len_guess(depth - 1)).sum::<usize>(),
            Bencode::Dict(d) => {
                2 + d
                    .iter()
                    .map(|(k, v)| encode::bytes_len(k.len()) + v.len_guess(depth - 1))
                    .sum::<usize>()
            }
            v => v.encoded_len(),
        }
    }

    /// Append the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Bencode::Int(i) => encode::int(out, *i),
            Bencode::BigInt(d) => {
                out.push(b'i');
                out.extend_from_slice(d);
                out.push(b'e');
            }
            Bencode::Bytes(b) => encode::bytes(out, b),
            Bencode::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode_into(out);
                }
                out.push(b'e');
            }
            Bencode::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    encode::bytes(out, k);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Write the canonical encoding to any writer (buffer it for many small writes).
    pub fn write_to<W: io::Write>(&self, mut w: W) -> io::Result<()> {
        // Encoding in memory first keeps the writer's calls few and large.
        w.write_all(&self.encode())
    }
}

impl std::fmt::Debug for Bencode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bencode::Int(i) => write!(f, "{i}"),
            Bencode::BigInt(d) => write!(f, "{}", String::from_utf8_lossy(d)),
            Bencode::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => write!(f, "{s:?}"),
                Err(_) => write!(f, "<{}>", hex_short(b)),
            },
            Bencode::List(l) => f.debug_list().entries(l).finish(),
            Bencode::Dict(d) => f
                .debug_map()
                .entries(d.iter().map(|(k, v)| (String::from_utf8_lossy(k), v)))
                .finish(),
        }
    }
}

fn hex_short(b: &[u8]) -> String {
    let mut s = String::new();
    for x in b.iter().take(32) {
        s.push_str(&format!("{x:02x}"));
    }
    if b.len() > 32 {
        s.push_str(&format!("… {} bytes", b.len()));
    }
    s
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Bencode<'_> {
            fn from(v: $t) -> Self {
                Bencode::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32, bool);

impl TryFrom<u64> for Bencode<'_> {
    type Error = std::num::TryFromIntError;
    fn try_from(v: u64) -> Result<Self, Self::Error> {
        Ok(Bencode::Int(i64::try_from(v)?))
    }
}

impl TryFrom<usize> for Bencode<'_> {
    type Error = std::num::TryFromIntError;
    fn try_from(v: usize) -> Result<Self, Self::Error> {
        Ok(Bencode::Int(i64::try_from(v)?))
    }
}

impl<'a> From<&'a [u8]> for Bencode<'a> {
    fn from(v: &'a [u8]) -> Self {
        Bencode::Bytes(Cow::Borrowed(v))
    }
}
impl<'a, const N: usize> From<&'a [u8; N]> for Bencode<'a> {
    fn from(v: &'a [u8; N]) -> Self {
        Bencode::Bytes(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a str> for Bencode<'a> {
    fn from(v: &'a str) -> Self {
        Bencode::Bytes(Cow::Borrowed(v.as_bytes()))
    }
}
impl From<Vec<u8>> for Bencode<'_> {
    fn from(v: Vec<u8>) -> Self {
        Bencode::Bytes(Cow::Owned(v))
    }
}
impl From<String> for Bencode<'_> {
    fn from(v: String) -> Self {
        Bencode::Bytes(Cow::Owned(v.into_bytes()))
    }
}
impl<'a> From<Vec<Bencode<'a>>> for Bencode<'a> {
    fn from(v: Vec<Bencode<'a>>) -> Self {
        Bencode::List(v)
    }
}
impl<'a> From<BTreeMap<Cow<'a, [u8]>, Bencode<'a>>> for Bencode<'a> {
    fn from(v: BTreeMap<Cow<'a, [u8]>, Bencode<'a>>) -> Self {
        Bencode::Dict(v)
    }
}

/// Convert a key (string literal, byte string, `Vec<u8>`, `String`) into a dictionary key.
#[doc(hidden)]
pub fn key<'a, K: IntoKey<'a>>(k: K) -> Cow<'a, [u8]> {
    k.into_key()
}

/// Types usable as dictionary keys in [`ben_map!`](crate::ben_map).
pub trait IntoKey<'a> {
    /// Convert into a key.
    fn into_key(self) -> Cow<'a, [u8]>;
}
impl<'a> IntoKey<'a> for &'a str {
    fn into_key(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}
impl<'a> IntoKey<'a> for &'a [u8] {
    fn into_key(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self)
    }
}
impl<'a, const N: usize> IntoKey<'a> for &'a [u8; N] {
    fn into_key(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self)
    }
}
impl<'a> IntoKey<'a> for Vec<u8> {
    fn into_key(self) -> Cow<'a, [u8]> {
        Cow::Owned(self)
    }
}
impl<'a> IntoKey<'a> for String {
    fn into_key(self) -> Cow<'a, [u8]> {
        Cow::Owned(self.into_bytes())
    }
}

/// Build a dictionary: `ben_map! { "key" => value, ... }`; values are anything
/// that converts into [`Bencode`] (integers, `&str`, byte strings, other values).
///
/// ```
/// use bip_bencode::{ben_map, ben_list, ben_int};
/// let v = ben_map! { "z" => ben_int!(1), "a" => ben_list!["x", ben_int!(2)] };
/// assert_eq!(v.encode(), b"d1:al1:xi2ee1:zi1ee");
/// ```
#[macro_export]
macro_rules! ben_map {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = ::std::collections::BTreeMap::new();
        $( m.insert($crate::owned::key($k), $crate::Bencode::from($v)); )*
        $crate::Bencode::Dict(m)
    }};
}

/// Build a list: `ben_list![a, b, ...]`.
#[macro_export]
macro_rules! ben_list {
    ($($v:expr),* $(,)?) => {
        $crate::Bencode::List(vec![$($crate::Bencode::from($v)),*])
    };
}

/// Build a byte string from anything `AsRef<[u8]>` (copied).
#[macro_export]
macro_rules! ben_bytes {
    ($v:expr) => {
        $crate::Bencode::Bytes(::std::borrow::Cow::Owned(
            ::std::convert::AsRef::<[u8]>::as_ref(&$v).to_vec(),
        ))
    };
}

/// Build an integer.
#[macro_export]
macro_rules! ben_int {
    ($v:expr) => {
        $crate::Bencode::Int(($v) as i64)
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, Limits};

    #[test]
    fn to_bencode_from_the_tape() {
        // Lenient duplicates: the first value wins, as in lookups; nested
        // containers, empty ones and integers of every form survive.
        let doc = Decoder::lenient()
            .decode(b"d1:bli-3ei0eld0:lee1:xee1:ai1e1:ai2ee")
            .unwrap();
        let t = doc.root().to_bencode();
        assert_eq!(t.get(b"a").and_then(Bencode::as_int), Some(1));
        assert_eq!(t.encode(), b"d1:ai1e1:bli-3ei0eld0:lee1:xeee");
        assert_eq!(t.encode().len(), t.encoded_len());
        let big = Decoder::new()
            .limits(Limits {
                max_int_digits: 30,
                ..Limits::default()
            })
            .decode(b"li123456789012345678901234ee")
            .unwrap();
        let t = big.root().to_bencode();
        assert_eq!(
            t.as_list().unwrap()[0],
            Bencode::BigInt(Cow::Borrowed(b"123456789012345678901234"))
        );
        assert_eq!(t.encode(), b"li123456789012345678901234ee");
    }
}
