//! The decoder: one pass over the input builds a flat token tape; values are
//! cursors into it (see [`crate::Value`]).

use crate::error::{DecodeError, DecodeErrorKind as E, SoftFault, SoftFaultKind};
use crate::value::Value;

/// Hard limits on what an input may make the decoder do.
///
/// Memory is always bounded by the input: at most one 8-byte token per
/// input byte, whatever the limits say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest allowed nesting of lists and dictionaries (the top level
    /// container is depth 1). Default 512.
    pub max_depth: usize,
    /// Most values (integers, strings, lists, dictionaries, keys included) in
    /// one input. Default: unlimited (bounded by the input's length).
    pub max_items: usize,
    /// Most decimal digits in an integer (leading zeros not counted).
    /// Up to 19, integers must also fit in `i64`; above 19, integers outside
    /// `i64` are accepted and readable through [`Value::int_digits`]
    /// (their [`Value::as_int`] is `None`). Default 19.
    pub max_int_digits: usize,
}

impl Limits {
    /// The default maximum nesting depth.
    pub const DEFAULT_MAX_DEPTH: usize = 512;
    /// The default integer width in digits (`i64`).
    pub const DEFAULT_MAX_INT_DIGITS: usize = 19;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_items: usize::MAX,
            max_int_digits: Self::DEFAULT_MAX_INT_DIGITS,
        }
    }
}

/// How strictly the decoder treats non-canonical input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Canonical bencode only: sorted unique keys, no leading zeros, no `-0`.
    #[default]
    Strict,
    /// Accept what libtorrent accepts (unsorted and duplicate keys, leading
    /// zeros, `-0`), recording each deviation as a [`SoftFault`].
    Lenient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    Int = 0,
    Bytes = 1,
    List = 2,
    Dict = 3,
    End = 4,
}

/// One entry of the tape, 8 bytes: the value's offset in the input and one
/// more word, `aux`, chosen so that walking the tape never reads the input:
///
/// - list or dictionary: the index of the token after its subtree (after its
///   `End` token), which is more than its own index + 1;
/// - integer: 1;
/// - byte string: the length of its `N:` header (at least 2) if that is at
///   most its index + 1 (any string but the first few tokens' and those
///   with absurdly long lenient headers), else 1 (the header is then read
///   again from the input);
/// - `End`, and the final sentinel (whose `start` is the end of the value):
///   0.
///
/// So `aux` tells an `End` (0), a single-token value (1 up to index + 1, the
/// next token following it) and a container (more); the input byte at
/// `start` (`i` or a digit, `l` or `d`) tells the rest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) start: u32,
    aux: u32,
}

impl Token {
    /// A byte string at token `idx` with a header of `hdr` bytes.
    #[inline]
    fn bytes(start: usize, idx: u32, hdr: usize) -> Self {
        let hdr = hdr as u32;
        Token {
            start: start as u32,
            aux: if hdr <= idx + 1 { hdr } else { 1 },
        }
    }

    /// An integer, an `End` (`aux` 0) or a container not yet closed (`aux` 0
    /// until its `End` sets it).
    #[inline]
    fn new(start: usize, aux: u32) -> Self {
        Token {
            start: start as u32,
            aux,
        }
    }

    /// Whether this is an `End` token (or the sentinel).
    #[inline]
    pub(crate) fn is_end(self) -> bool {
        self.aux == 0
    }

    /// The index of the token after this value's subtree (for an `End`, the
    /// index after it); `idx` is this token's index.
    #[inline]
    pub(crate) fn next(self, idx: usize) -> usize {
        (self.aux as usize).max(idx + 1)
    }

    /// Whether the value at token `idx` is a single token (integer or byte
    /// string: `aux` from 1 to `idx + 1`).
    #[inline]
    fn is_scalar(self, idx: usize) -> bool {
        (self.aux.wrapping_sub(1) as usize) < idx + 1
    }

    /// The input byte at `start` (the sentinel's may lie past the input).
    #[inline]
    fn first(self, input: &[u8]) -> u8 {
        input.get(self.start as usize).copied().unwrap_or_default()
    }

    /// The kind of the value at token `idx`.
    #[inline]
    pub(crate) fn tag(self, idx: usize, input: &[u8]) -> Tag {
        if self.aux == 0 {
            Tag::End
        } else if self.is_scalar(idx) {
            if self.first(input) == b'i' {
                Tag::Int
            } else {
                Tag::Bytes
            }
        } else if self.first(input) == b'd' {
            Tag::Dict
        } else {
            Tag::List
        }
    }

    /// Whether the value at token `idx` is a byte string.
    #[inline]
    pub(crate) fn is_bytes(self, idx: usize, input: &[u8]) -> bool {
        self.is_scalar(idx) && self.first(input) != b'i'
    }

    /// Whether the value at token `idx` is an integer.
    #[inline]
    pub(crate) fn is_int(self, idx: usize, input: &[u8]) -> bool {
        self.is_scalar(idx) && self.first(input) == b'i'
    }

    /// Whether the value at token `idx` is a container that starts with
    /// `c` (`l` or `d`).
    #[inline]
    pub(crate) fn is_container(self, idx: usize, input: &[u8], c: u8) -> bool {
        self.aux as usize > idx + 1 && self.first(input) == c
    }

    /// Where a byte string's data starts (after its `N:` header). Only for
    /// byte strings.
    #[inline]
    pub(crate) fn data_start(self, input: &[u8]) -> usize {
        let start = self.start as usize;
        if self.aux >= 2 {
            start + self.aux as usize
        } else {
            header_end(input, start)
        }
    }
}

/// The offset after the `:` of the (validated) string header at `start`.
#[cold]
fn header_end(input: &[u8], start: usize) -> usize {
    start
        + 1
        + input[start..]
            .iter()
            .position(|&b| b == b':')
            .unwrap_or_default()
}

/// An open container, saved when a child container opens: its token, and its
/// parsing state and previous key to restore when the child ends.
#[derive(Debug, Clone, Copy)]
struct Frame {
    tok: u32,
    /// LIST, DICT_KEY, DICT_VALUE or TOP (the parent of the top-level value)
    state: u8,
    /// previous key of this dictionary (data start, data end); start == u32::MAX = none
    prev_key: (u32, u32),
}

const LIST: u8 = 0;
const DICT_KEY: u8 = 1;
const DICT_VALUE: u8 = 2;
const TOP: u8 = 3;
const NO_KEY: (u32, u32) = (u32::MAX, 0);

/// A configured decoder. Cheap to create; reuse one (with
/// [`Decoder::recycle`]) to decode many messages without allocating.
///
/// ```
/// use bip_bencode::{Decoder, Mode};
/// let mut dec = Decoder::new().mode(Mode::Lenient).allow_trailing(true);
/// let doc = dec.decode(b"d1:bi1e1:ai2ee<payload>").unwrap();
/// assert_eq!(doc.root().dict().unwrap().get_int(b"a").unwrap(), 2);
/// assert_eq!(doc.soft_faults().len(), 1);
/// assert_eq!(doc.trailing(), b"<payload>");
/// dec.recycle(doc);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    mode: Mode,
    limits: Limits,
    allow_trailing: bool,
    stack: Vec<Frame>,
    spare: Vec<(Vec<Token>, Vec<SoftFault>)>,
}

impl Decoder {
    /// A strict decoder with default limits that rejects trailing data.
    pub fn new() -> Self {
        Self::default()
    }

    /// A lenient decoder (libtorrent's tolerance) with default limits.
    pub fn lenient() -> Self {
        Self::new().mode(Mode::Lenient)
    }

    /// Set the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Set all limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Set the maximum nesting depth.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.limits.max_depth = depth;
        self
    }

    /// Set the maximum number of values.
    pub fn max_items(mut self, items: usize) -> Self {
        self.limits.max_items = items;
        self
    }

    /// Set the maximum number of integer digits (see [`Limits::max_int_digits`]).
    pub fn max_int_digits(mut self, digits: usize) -> Self {
        self.limits.max_int_digits = digits;
        self
    }

    /// Allow bytes after the first complete value (BEP 9 metadata messages
    /// carry a payload after the dictionary). They are available as
    /// [`Document::trailing`].
    pub fn allow_trailing(mut self, allow: bool) -> Self {
        self.allow_trailing = allow;
        self
    }

    /// The configured mode.
    pub fn get_mode(&self) -> Mode {
        self.mode
    }

    /// The configured limits.
    pub fn get_limits(&self) -> &Limits {
        &self.limits
    }

    /// Give a document's buffers back for reuse by the next [`Decoder::decode`].
    pub fn recycle(&mut self, doc: Document<'_>) {
        if self.spare.len() < 4 {
            let (mut t, mut f) = (doc.tokens, doc.faults);
            t.clear();
            f.clear();
            self.spare.push((t, f));
        }
    }

    /// Decode one value from `input`.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Document<'a>, DecodeError> {
        let (mut tokens, mut faults) = self.spare.pop().unwrap_or_default();
        let res = self.run(input, &mut tokens, &mut faults);
        match res {
            Ok(end) => Ok(Document {
                input,
                tokens,
                faults,
                end,
            }),
            Err(e) => {
                tokens.clear();
                faults.clear();
                self.spare.push((tokens, faults));
                Err(e)
            }
        }
    }

    fn run(
        &mut self,
        input: &[u8],
        tokens: &mut Vec<Token>,
        faults: &mut Vec<SoftFault>,
    ) -> Result<usize, DecodeError> {
        if input.len() >= u32::MAX as usize {
            return Err(DecodeError::new(E::InputTooLarge, 0));
        }
        if input.is_empty() {
            return Err(DecodeError::new(E::EmptyInput, 0));
        }
        let lenient = self.mode == Mode::Lenient;
        let limits = self.limits;
        let stack = &mut self.stack;
        stack.clear();
        tokens.clear();
        // Rough guess: one token per 8 input bytes; grows as needed. A
        // recycled tape usually has the capacity already.
        tokens.reserve((input.len() / 8).min(1 << 20) + 2);
        let len = input.len();
        let mut pos = 0usize;
        let mut items = 0usize;
        // The innermost open container's state and previous key live in
        // registers; the stack keeps the enclosing containers' copies.
        let mut state = TOP;
        let mut prev_key: (u32, u32) = NO_KEY;
        // Integers this short take the fast path (they fit in i64).
        let fast_digits = limits.max_int_digits.min(18);

        macro_rules! err {
            ($k:expr, $o:expr) => {
                return Err(DecodeError::new($k, $o))
            };
        }

        loop {
            // Positioned where a value (or, inside a container, its end) starts.
            let Some(&c) = input.get(pos) else {
                err!(E::Unterminated, pos)
            };
            if c == b'e' {
                if state == DICT_VALUE {
                    err!(E::MissingValue, pos)
                }
                let Some(frame) = stack.pop() else {
                    err!(E::UnexpectedChar(c), pos)
                };
                let end_idx = tokens.len() as u32;
                tokens.push(Token::new(pos, 0));
                tokens[frame.tok as usize].aux = end_idx + 1;
                state = frame.state;
                prev_key = frame.prev_key;
                pos += 1;
            } else {
                items += 1;
                if items > limits.max_items {
                    err!(E::ItemLimit, pos)
                }
                let idx = tokens.len() as u32;
                if c.is_ascii_digit() {
                    // String: length digits, ':' and data. Fast paths for
                    // 1- and 2-digit lengths (keys, path components, ids).
                    let start = pos;
                    let (n, hdr) = match input[pos..] {
                        [_, b':', ..] => (usize::from(c - b'0'), 2),
                        [_, d1 @ b'0'..=b'9', b':', ..] if c != b'0' => {
                            (usize::from(c - b'0') * 10 + usize::from(d1 - b'0'), 3)
                        }
                        _ => string_header(input, start, lenient, faults)?,
                    };
                    let data = start + hdr;
                    if n > len - data {
                        err!(E::LengthPastEnd, start)
                    }
                    let end = data + n;
                    if state == DICT_KEY {
                        if prev_key.0 != u32::MAX {
                            let prev = &input[prev_key.0 as usize..prev_key.1 as usize];
                            let key = &input[data..end];
                            // Most keys differ from the previous one in
                            // their first byte: decide without memcmp.
                            let ordered = match (key.first(), prev.first()) {
                                (Some(a), Some(b)) if a != b => a > b,
                                _ => key > prev,
                            };
                            if !ordered {
                                let kind = if key == prev {
                                    SoftFaultKind::DuplicateKey
                                } else {
                                    SoftFaultKind::UnsortedKey
                                };
                                if lenient {
                                    faults.push(SoftFault {
                                        kind,
                                        offset: start,
                                    });
                                } else {
                                    err!(kind.as_error_kind(), start)
                                }
                            }
                        }
                        prev_key = (data as u32, end as u32);
                        state = DICT_VALUE;
                    } else if state == DICT_VALUE {
                        state = DICT_KEY;
                    }
                    tokens.push(Token::bytes(start, idx, hdr));
                    pos = end;
                } else if state == DICT_KEY {
                    err!(E::NonStringKey, pos)
                } else if c == b'i' {
                    let start = pos;
                    pos = int_fast(input, pos, fast_digits)
                        .map_or_else(|| self::int(input, start, lenient, &limits, faults), Ok)?;
                    if state == DICT_VALUE {
                        state = DICT_KEY;
                    }
                    tokens.push(Token::new(start, 1));
                } else if c == b'l' || c == b'd' {
                    if stack.len() >= limits.max_depth {
                        err!(E::DepthLimit, pos)
                    }
                    if state == DICT_VALUE {
                        state = DICT_KEY;
                    }
                    let dict = c == b'd';
                    // `aux` is set when the container ends (until then its
                    // 0 is never read: the decoder does not look back).
                    tokens.push(Token::new(pos, 0));
                    stack.push(Frame {
                        tok: idx,
                        state,
                        prev_key,
                    });
                    state = if dict { DICT_KEY } else { LIST };
                    prev_key = NO_KEY;
                    pos += 1;
                } else {
                    err!(E::UnexpectedChar(c), pos)
                }
            }
            if state == TOP {
                break;
            }
        }
        if pos != len && !self.allow_trailing {
            err!(E::TrailingData, pos)
        }
        // Sentinel: its start is the end of the value.
        tokens.push(Token::new(pos, 0));
        Ok(pos)
    }
}

/// Parse a string header `N:` at `start` (a digit) in the general case;
/// returns (length, header length).
#[cold]
fn string_header(
    input: &[u8],
    start: usize,
    lenient: bool,
    faults: &mut Vec<SoftFault>,
) -> Result<(usize, usize), DecodeError> {
    let len = input.len();
    let mut p = start;
    let mut n: u64 = 0;
    while p < len && input[p].is_ascii_digit() {
        n = n * 10 + u64::from(input[p] - b'0');
        if n > u32::MAX as u64 {
            return Err(DecodeError::new(E::LengthOverflow, start));
        }
        p += 1;
    }
    if p >= len {
        return Err(DecodeError::new(E::Unterminated, p));
    }
    if input[p] != b':' {
        return Err(DecodeError::new(E::InvalidLength, p));
    }
    if input[start] == b'0' && p - start > 1 {
        if lenient {
            faults.push(SoftFault {
                kind: SoftFaultKind::LeadingZeroLength,
                offset: start,
            });
        } else {
            return Err(DecodeError::new(E::LeadingZeroLength, start));
        }
    }
    let hdr = p + 1 - start;
    if hdr > u16::MAX as usize {
        return Err(DecodeError::new(E::LengthOverflow, start));
    }
    Ok((n as usize, hdr))
}

/// The common integer: non-negative, canonical, at most `max` (<= 18) digits
/// (so it fits in `i64`). Returns the offset after its `e`, or
/// `None` for anything else (the general path then validates it).
#[inline]
fn int_fast(input: &[u8], start: usize, max: usize) -> Option<usize> {
    let rest = input.get(start + 1..)?;
    match rest {
        [b'0', b'e', ..] => Some(start + 3),
        [b'1'..=b'9', tail @ ..] => {
            let digits = 1 + tail
                .iter()
                .take(18)
                .take_while(|d| d.is_ascii_digit())
                .count();
            (digits <= max && rest.get(digits) == Some(&b'e')).then_some(start + 2 + digits)
        }
        _ => None,
    }
}

/// Validate an integer starting at `start` (the `i`); returns the offset
/// after its `e`.
#[inline]
fn int(
    input: &[u8],
    start: usize,
    lenient: bool,
    limits: &Limits,
    faults: &mut Vec<SoftFault>,
) -> Result<usize, DecodeError> {
    let len = input.len();
    let mut p = start + 1;
    let neg = p < len && input[p] == b'-';
    if neg {
        p += 1;
    }
    let digits_start = p;
    while p < len && input[p].is_ascii_digit() {
        p += 1;
    }
    if p >= len {
        return Err(DecodeError::new(E::Unterminated, p));
    }
    if input[p] != b'e' {
        return Err(DecodeError::new(E::InvalidInt, p));
    }
    let digits = &input[digits_start..p];
    if digits.is_empty() {
        return Err(DecodeError::new(E::InvalidInt, p));
    }
    if digits[0] == b'0' {
        let fault = if digits.len() > 1 {
            Some(SoftFaultKind::LeadingZero)
        } else if neg {
            Some(SoftFaultKind::NegativeZero)
        } else {
            None
        };
        if let Some(kind) = fault {
            if lenient {
                faults.push(SoftFault {
                    kind,
                    offset: start,
                });
            } else {
                return Err(DecodeError::new(kind.as_error_kind(), start));
            }
        }
    }
    // Significant digits.
    let sig = match digits.iter().position(|&d| d != b'0') {
        Some(i) => &digits[i..],
        None => &digits[digits.len()..],
    };
    if sig.len() > limits.max_int_digits {
        return Err(DecodeError::new(E::IntOverflow, start));
    }
    if limits.max_int_digits <= 19 && sig.len() == 19 {
        let max: &[u8] = if neg {
            b"9223372036854775808"
        } else {
            b"9223372036854775807"
        };
        if sig > max {
            return Err(DecodeError::new(E::IntOverflow, start));
        }
    }
    Ok(p + 1)
}

/// A decoded input: the tape of tokens plus the input it borrows from.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    input: &'a [u8],
    pub(crate) tokens: Vec<Token>,
    faults: Vec<SoftFault>,
    end: usize,
}

impl<'a> Document<'a> {
    /// The top-level value.
    pub fn root(&self) -> Value<'a, '_> {
        Value::new(self.input, &self.tokens, 0)
    }

    /// The soft faults lenient mode accepted, in input order (empty in strict mode).
    pub fn soft_faults(&self) -> &[SoftFault] {
        &self.faults
    }

    /// Whether any soft fault was seen (libtorrent's `has_soft_error`).
    pub fn has_soft_fault(&self) -> bool {
        !self.faults.is_empty()
    }

    /// The whole input.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// Bytes after the top-level value (empty unless trailing data was allowed).
    pub fn trailing(&self) -> &'a [u8] {
        &self.input[self.end..]
    }

    /// Number of values in the document (keys included).
    pub fn item_count(&self) -> usize {
        self.tokens.iter().filter(|t| !t.is_end()).count()
    }
}

/// Decode one canonical value that spans the whole input (strict mode,
/// default limits).
pub fn decode(input: &[u8]) -> Result<Document<'_>, DecodeError> {
    Decoder::new().decode(input)
}

/// Decode leniently (libtorrent's tolerance), default limits, no trailing data.
pub fn decode_lenient(input: &[u8]) -> Result<Document<'_>, DecodeError> {
    Decoder::lenient().decode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The fast paths (1- and 2-digit string headers, short canonical
    // integers) must agree with the general ones at their edges.
    #[test]
    fn fast_path_edges() {
        let d = decode(b"l0:1:a10:0123456789100:").unwrap_err();
        assert_eq!(d.kind, E::LengthPastEnd);
        let doc = decode(b"l0:1:a10:0123456789e").unwrap();
        let l: Vec<_> = doc.root().as_list().unwrap().iter().collect();
        assert_eq!(l[0].as_bytes(), Some(&b""[..]));
        assert_eq!(l[1].as_bytes(), Some(&b"a"[..]));
        assert_eq!(l[2].as_bytes(), Some(&b"0123456789"[..]));
        assert_eq!(decode(b"01:a").unwrap_err().kind, E::LeadingZeroLength);
        assert_eq!(decode(b"00:").unwrap_err().kind, E::LeadingZeroLength);
        assert_eq!(decode(b"1:").unwrap_err().kind, E::LengthPastEnd);
        assert_eq!(decode(b"12").unwrap_err().kind, E::Unterminated);
        for (input, want) in [
            (&b"i0e"[..], Some(0i64)),
            (b"i7e", Some(7)),
            (b"i999999999999999999e", Some(999_999_999_999_999_999)),
            (b"i-999999999999999999e", Some(-999_999_999_999_999_999)),
            (b"i9223372036854775807e", Some(i64::MAX)),
            (b"i-9223372036854775808e", Some(i64::MIN)),
        ] {
            let doc = decode(input).unwrap();
            assert_eq!(doc.root().as_int(), want, "{input:?}");
        }
        assert_eq!(
            decode(b"i9223372036854775808e").unwrap_err().kind,
            E::IntOverflow
        );
        assert_eq!(decode(b"i01e").unwrap_err().kind, E::LeadingZero);
        assert_eq!(decode(b"i12").unwrap_err().kind, E::Unterminated);
        assert_eq!(decode(b"i12x").unwrap_err().kind, E::InvalidInt);
        // The fast path respects a narrow max_int_digits.
        let mut dec = Decoder::new().max_int_digits(2);
        assert!(dec.decode(b"i99e").is_ok());
        assert_eq!(dec.decode(b"i100e").unwrap_err().kind, E::IntOverflow);
        // Keys: first-byte shortcut and full comparison.
        assert!(decode(b"d2:abi1e2:aci2e1:bi3ee").is_ok());
        assert_eq!(
            decode(b"d2:aci1e2:abi2ee").unwrap_err().kind,
            E::UnsortedKeys
        );
        assert_eq!(decode(b"d1:bi1e1:ai2ee").unwrap_err().kind, E::UnsortedKeys);
        assert_eq!(decode(b"d1:ai1e1:ai2ee").unwrap_err().kind, E::DuplicateKey);
        assert_eq!(decode(b"d1:ai1e0:i2ee").unwrap_err().kind, E::UnsortedKeys);
        // Nested containers restore the parent's state and previous key.
        assert!(decode(b"d1:ad1:zi1ee1:bli1eee").is_ok());
        assert_eq!(
            decode(b"d1:bd1:zi1ee1:ali1eee").unwrap_err().kind,
            E::UnsortedKeys
        );
        assert_eq!(
            decode(b"d1:ad1:zi1eee1:b").unwrap_err().kind,
            E::TrailingData
        );
        assert_eq!(decode(b"e").unwrap_err().kind, E::UnexpectedChar(b'e'));
        assert_eq!(decode(b"d1:ae").unwrap_err().kind, E::MissingValue);
    }

    // A token is 8 bytes; strings whose header is longer than their index + 1
    // (the first few tokens, long lenient headers) store no header length
    // and read it again from the input.
    #[test]
    fn token_layout() {
        assert_eq!(std::mem::size_of::<Token>(), 8);
        let doc = decode(b"3:abc").unwrap();
        assert_eq!(doc.root().as_bytes(), Some(&b"abc"[..]));
        assert_eq!(
            doc.root().to_bencode(),
            crate::Bencode::Bytes(b"abc"[..].into())
        );
        assert_eq!(doc.item_count(), 1);
        let doc = decode(b"i-12e").unwrap();
        assert_eq!(
            (doc.root().as_int(), doc.root().as_bytes()),
            (Some(-12), None)
        );
        let doc = decode(b"d13:announce-listl10:0123456789e1:xi1ee").unwrap();
        let d = doc.root().dict().unwrap();
        let l = d.get_list(b"announce-list").unwrap();
        assert_eq!(l.get(0).unwrap().as_bytes(), Some(&b"0123456789"[..]));
        assert_eq!(l.get(0).unwrap().path(), "announce-list[0]");
        assert_eq!(d.get_int(b"x").unwrap(), 1);
        let keys: Vec<_> = d.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"announce-list"[..], b"x"]);
        assert_eq!(doc.item_count(), 6);
        let h: Vec<_> = d.handles().collect();
        assert_eq!(d.by_handle(h[0]).unwrap().0, b"announce-list");
        assert_eq!(d.by_handle(h[1]).unwrap().0, b"x");
        let doc = Decoder::lenient()
            .decode(b"d00001:al0000002:bce0003:xyzi1ee")
            .unwrap();
        assert_eq!(doc.soft_faults().len(), 3);
        let d = doc.root().dict().unwrap();
        assert_eq!(
            d.get_list(b"a").unwrap().get(0).unwrap().as_bytes(),
            Some(&b"bc"[..])
        );
        assert_eq!(d.get_int(b"xyz").unwrap(), 1);
        assert_eq!(d.value().kind(), crate::Kind::Dict);
        let b = doc.root().to_bencode();
        assert_eq!(b.get(b"xyz").and_then(|v| v.as_int()), Some(1));
        // A trailing payload starting with a digit is not a value.
        let doc = Decoder::new()
            .allow_trailing(true)
            .decode(b"le12:")
            .unwrap();
        assert_eq!(doc.item_count(), 1);
        assert!(doc.root().as_list().unwrap().is_empty());
    }

    #[test]
    fn encoded_len_matches_encoding() {
        for v in [
            0i64,
            9,
            10,
            99,
            100,
            999,
            1000,
            -1,
            -10,
            -1000,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            crate::encode::int(&mut out, v);
            assert_eq!(crate::encode::int_len(v), out.len(), "{v}");
        }
        for n in [0usize, 9, 10, 99, 100, 999, 1000, 12345] {
            let mut out = Vec::new();
            crate::encode::bytes(&mut out, &vec![b'x'; n]);
            assert_eq!(crate::encode::bytes_len(n), out.len(), "{n}");
            assert_eq!(out[..out.len() - n], *format!("{n}:").as_bytes());
        }
    }
}
