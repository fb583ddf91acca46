//! The single-pass serde `Deserializer`: recursive descent straight over the
//! input bytes, no tape.

use ::serde::de::{self, DeserializeSeed, Unexpected, Visitor};
use ::serde::forward_to_deserialize_any;

use super::bencode::{BigIntAccess, BENCODE_TOKEN};
use super::error::{Error, Unsupported};
use super::raw::RAW_VALUE_TOKEN;
use crate::{DecodeErrorKind as E, Decoder, Limits, Mode};

type Result<T> = std::result::Result<T, Error>;

/// A serde deserializer that reads bencode directly from a byte slice in one
/// pass, borrowing byte strings and strings from the input.
///
/// It applies the same rules as [`Decoder`] (strict mode rejects
/// non-canonical input: unsorted or duplicate keys, leading zeros, `-0`) and
/// the same [`Limits`] (nesting depth, item count, integer width), with the
/// same [`DecodeErrorKind`](crate::DecodeErrorKind)s and offsets. Lenient mode
/// accepts what the lenient tape decoder accepts but does not list the soft
/// faults. Nesting is handled by recursion, bounded by
/// [`Limits::max_depth`].
///
/// ```
/// use bip_bencode::serde::Deserializer;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Msg<'a> { t: &'a str, y: &'a str }
///
/// let input = b"d1:t2:aa1:y1:qe<payload>";
/// let mut de = Deserializer::new(input);
/// let msg = Msg::deserialize(&mut de)?;
/// assert_eq!((msg.t, msg.y), ("aa", "q"));
/// assert_eq!(de.remaining(), b"<payload>");
/// # Ok::<(), bip_bencode::serde::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Deserializer<'de> {
    input: &'de [u8],
    pos: usize,
    lenient: bool,
    limits: Limits,
    depth: usize,
    items: usize,
    /// `limits.max_items == usize::MAX`: skip counting.
    items_unlimited: bool,
    /// A stretch of the input already known to be UTF-8, starting at byte
    /// `utf8_start` (see [`Self::str_at`]).
    utf8: &'de str,
    utf8_start: usize,
}

/// How far past a string [`Deserializer::str_at`] validates UTF-8 ahead, so
/// that the following strings are slices of an already validated stretch.
const UTF8_AHEAD: usize = 16 * 1024;

enum Int {
    I(i64),
    U(u64),
}

impl<'de> Deserializer<'de> {
    /// A strict deserializer with default limits, positioned at the start of
    /// `input`.
    pub fn new(input: &'de [u8]) -> Self {
        Deserializer {
            input,
            pos: 0,
            lenient: false,
            limits: Limits::default(),
            depth: 0,
            items: 0,
            items_unlimited: true,
            utf8: "",
            utf8_start: 0,
        }
    }

    /// A deserializer with the mode and limits of `decoder`.
    pub fn from_decoder(decoder: &Decoder, input: &'de [u8]) -> Self {
        Self::new(input)
            .mode(decoder.get_mode())
            .limits(*decoder.get_limits())
    }

    /// Set the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.lenient = mode == Mode::Lenient;
        self
    }

    /// Set the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.items_unlimited = limits.max_items == usize::MAX;
        self
    }

    /// The current byte offset in the input.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The input not consumed yet.
    pub fn remaining(&self) -> &'de [u8] {
        &self.input[self.pos..]
    }

    /// Check that the whole input was consumed
    /// ([`DecodeErrorKind::TrailingData`](crate::DecodeErrorKind::TrailingData) otherwise).
    pub fn end(&self) -> Result<()> {
        if self.pos != self.input.len() {
            return Err(derr(E::TrailingData, self.pos));
        }
        Ok(())
    }

    /// Checks done once before the first value.
    pub(crate) fn check_input(&self) -> Result<()> {
        if self.input.len() >= u32::MAX as usize {
            return Err(derr(E::InputTooLarge, 0));
        }
        if self.input.is_empty() {
            return Err(derr(E::EmptyInput, 0));
        }
        Ok(())
    }

    #[inline(always)]
    fn peek(&self) -> Result<u8> {
        match self.input.get(self.pos) {
            Some(&c) => Ok(c),
            None => Err(self.eof()),
        }
    }

    /// The error for input that ends where a value or `e` was expected.
    #[cold]
    #[inline(never)]
    fn eof(&self) -> Error {
        if self.input.is_empty() {
            derr(E::EmptyInput, 0)
        } else {
            derr(E::Unterminated, self.pos)
        }
    }

    #[inline(always)]
    fn count_item(&mut self) -> Result<()> {
        if self.items_unlimited {
            return Ok(());
        }
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(derr(E::ItemLimit, self.pos));
        }
        Ok(())
    }

    /// Open a list or dictionary (the `l`/`d` at `pos`).
    #[inline]
    fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(derr(E::DepthLimit, self.pos));
        }
        self.count_item()?;
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    /// Close a list or dictionary: expects its `e` at `pos`.
    #[inline]
    fn leave(&mut self) -> Result<()> {
        match self.peek()? {
            b'e' => {
                self.pos += 1;
                self.depth -= 1;
                Ok(())
            }
            c => Err(derr(E::UnexpectedChar(c), self.pos)),
        }
    }

    /// A byte string; `pos` is at its first length digit.
    #[inline(always)]
    fn parse_bytes(&mut self) -> Result<&'de [u8]> {
        match short_header(self.input, self.pos) {
            Some((n, data)) => {
                self.count_item()?;
                self.take(data, n)
            }
            None => {
                self.count_item()?;
                self.parse_bytes_general()
            }
        }
    }

    /// The `n` data bytes at `data` of the string whose header is at `pos`.
    #[inline(always)]
    fn take(&mut self, data: usize, n: usize) -> Result<&'de [u8]> {
        match self.input.get(data..data + n) {
            Some(b) => {
                self.pos = data + n;
                Ok(b)
            }
            None => Err(derr(E::LengthPastEnd, self.pos)),
        }
    }

    /// [`Self::parse_bytes`] for lengths that are not 1-2 canonical digits
    /// (the item is already counted).
    #[inline(never)]
    fn parse_bytes_general(&mut self) -> Result<&'de [u8]> {
        let input = self.input;
        let start = self.pos;
        let mut p = start;
        let mut n: u64 = 0;
        // At most 10 digits here, so `n` cannot overflow; longer lengths
        // (leading zeros or overflow) take the slow path.
        while let Some(&c) = input.get(p) {
            let d = c.wrapping_sub(b'0');
            if d > 9 || p - start >= 10 {
                break;
            }
            n = n * 10 + u64::from(d);
            p += 1;
        }
        match input.get(p) {
            Some(b':') => {}
            Some(c) if c.is_ascii_digit() => return self.parse_bytes_slow(),
            Some(_) => return Err(derr(E::InvalidLength, p)),
            None => return Err(derr(E::Unterminated, p)),
        }
        if n > u64::from(u32::MAX) {
            return Err(derr(E::LengthOverflow, start));
        }
        if input[start] == b'0' && p - start > 1 && !self.lenient {
            return Err(derr(E::LeadingZeroLength, start));
        }
        let data = p + 1;
        let n = n as usize;
        if n > input.len() - data {
            return Err(derr(E::LengthPastEnd, start));
        }
        self.pos = data + n;
        Ok(&input[data..data + n])
    }

    /// [`Self::parse_bytes`] for length prefixes of more than 10 digits
    /// (the item is already counted).
    #[cold]
    #[inline(never)]
    fn parse_bytes_slow(&mut self) -> Result<&'de [u8]> {
        let input = self.input;
        let len = input.len();
        let start = self.pos;
        let mut p = start;
        let mut n: u64 = 0;
        while p < len && input[p].is_ascii_digit() {
            n = n * 10 + u64::from(input[p] - b'0');
            if n > u64::from(u32::MAX) {
                return Err(derr(E::LengthOverflow, start));
            }
            p += 1;
        }
        if p >= len {
            return Err(derr(E::Unterminated, p));
        }
        if input[p] != b':' {
            return Err(derr(E::InvalidLength, p));
        }
        if input[start] == b'0' && p - start > 1 && !self.lenient {
            return Err(derr(E::LeadingZeroLength, start));
        }
        if p + 1 - start > u16::MAX as usize {
            return Err(derr(E::LengthOverflow, start));
        }
        let data = p + 1;
        let n = n as usize;
        if n > len - data {
            return Err(derr(E::LengthPastEnd, start));
        }
        self.pos = data + n;
        Ok(&input[data..data + n])
    }

    /// An integer; `pos` is at its `i`.
    #[inline(always)]
    fn parse_int(&mut self) -> Result<Int> {
        self.count_item()?;
        match self.int_fast() {
            Some(v) => Ok(Int::I(v)),
            None => self.parse_int_general(),
        }
    }

    /// The fast path of integer parsing (the item is already counted): a
    /// canonical non-negative integer of at most min(max_int_digits, 18)
    /// digits (fits in i64); `None` (and `pos` unchanged) for anything else.
    #[inline(always)]
    fn int_fast(&mut self) -> Option<i64> {
        let start = self.pos;
        let fast = self.limits.max_int_digits.min(18);
        match self.input.get(start + 1..) {
            Some([b'0', b'e', ..]) => {
                self.pos = start + 3;
                return Some(0);
            }
            Some(rest @ [b'1'..=b'9', ..]) => {
                let mut v: u64 = 0;
                let mut i = 0;
                while let Some(&c) = rest.get(i) {
                    let d = c.wrapping_sub(b'0');
                    if d > 9 || i >= fast {
                        break;
                    }
                    v = v * 10 + u64::from(d);
                    i += 1;
                }
                if rest.get(i) == Some(&b'e') {
                    self.pos = start + 2 + i;
                    return Some(v as i64);
                }
            }
            _ => {}
        }
        None
    }

    /// [`Self::parse_int`] for everything its fast path does not take (the
    /// item is already counted).
    #[inline]
    fn parse_int_general(&mut self) -> Result<Int> {
        let start = self.pos;
        match self.parse_int_wide()? {
            Some(v) => Ok(v),
            None => {
                self.pos = start;
                Err(derr(E::IntOverflow, start))
            }
        }
    }

    /// [`Self::parse_int_general`], except that an integer outside both
    /// `i64` and `u64` that the limits accept (`max_int_digits` above 19) is
    /// `Ok(None)`, with `pos` past it (its digits end at `pos - 1`).
    #[inline(never)]
    fn parse_int_wide(&mut self) -> Result<Option<Int>> {
        let input = self.input;
        let len = input.len();
        let start = self.pos;
        let mut p = start + 1;
        let neg = p < len && input[p] == b'-';
        if neg {
            p += 1;
        }
        let ds = p;
        let mut mag: u64 = 0;
        let mut overflow = false;
        while p < len && input[p].is_ascii_digit() {
            match mag
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(input[p] - b'0')))
            {
                Some(m) => mag = m,
                None => overflow = true,
            }
            p += 1;
        }
        if p >= len {
            return Err(derr(E::Unterminated, p));
        }
        if input[p] != b'e' || p == ds {
            return Err(derr(E::InvalidInt, p));
        }
        if input[ds] == b'0' && !self.lenient {
            if p - ds > 1 {
                return Err(derr(E::LeadingZero, start));
            }
            if neg {
                return Err(derr(E::NegativeZero, start));
            }
        }
        let max_digits = self.limits.max_int_digits;
        if p - ds > max_digits {
            let lead = input[ds..p].iter().take_while(|&&d| d == b'0').count();
            if p - ds - lead > max_digits {
                return Err(derr(E::IntOverflow, start));
            }
        }
        // Past the digit limit check, an integer outside `u64` or below
        // `i64::MIN` has more than 19 significant digits or is a 19-digit
        // one beyond `i64`: acceptable only with wide integers.
        let wide = max_digits > 19;
        let v = if overflow || (neg && mag > 1 << 63) {
            if !wide {
                return Err(derr(E::IntOverflow, start));
            }
            None
        } else if neg {
            Some(Int::I((mag as i64).wrapping_neg()))
        } else if mag <= i64::MAX as u64 {
            Some(Int::I(mag as i64))
        } else if wide {
            Some(Int::U(mag))
        } else {
            return Err(derr(E::IntOverflow, start));
        };
        self.pos = p + 1;
        Ok(v)
    }

    /// Read a dictionary key (or the dictionary's end, leaving `pos` at the
    /// `e`), checking the order against `prev` in strict mode.
    #[inline(always)]
    fn parse_key(&mut self, prev: &mut Option<&'de [u8]>) -> Result<Option<&'de [u8]>> {
        match self.peek()? {
            b'e' => Ok(None),
            b'0'..=b'9' => {
                let start = self.pos;
                let key = self.parse_bytes()?;
                self.check_key(key, start, prev)?;
                Ok(Some(key))
            }
            _ => Err(derr(E::NonStringKey, self.pos)),
        }
    }

    /// Order and missing-value checks of a key that started at `start`.
    #[inline(always)]
    fn check_key(&self, key: &'de [u8], start: usize, prev: &mut Option<&'de [u8]>) -> Result<()> {
        if let (Some(p), false) = (*prev, self.lenient) {
            if !key_after(key, p) {
                let kind = if key == p {
                    E::DuplicateKey
                } else {
                    E::UnsortedKeys
                };
                return Err(derr(kind, start));
            }
        }
        *prev = Some(key);
        if self.input.get(self.pos) == Some(&b'e') {
            return Err(derr(E::MissingValue, self.pos));
        }
        Ok(())
    }

    /// Skip one value, validating it. Byte strings and integers (most
    /// ignored fields) are skipped inline.
    #[inline(always)]
    fn skip_value(&mut self) -> Result<()> {
        match self.peek()? {
            b'0'..=b'9' => self.parse_bytes().map(drop),
            b'i' => self.parse_int().map(drop),
            _ => self.skip_any(),
        }
    }

    /// Skip any one value (recursively), validating it.
    #[inline(never)]
    fn skip_any(&mut self) -> Result<()> {
        match self.peek()? {
            b'i' => {
                self.count_item()?;
                self.parse_int_general().map(drop)
            }
            b'0'..=b'9' => {
                self.count_item()?;
                self.parse_bytes_general().map(drop)
            }
            b'l' => {
                self.enter()?;
                while self.peek()? != b'e' {
                    self.skip_any()?;
                }
                self.leave()
            }
            b'd' => {
                self.enter()?;
                let mut prev = None;
                while self.parse_key(&mut prev)?.is_some() {
                    self.skip_any()?;
                }
                self.leave()
            }
            c => Err(derr(E::UnexpectedChar(c), self.pos)),
        }
    }

    /// Any value for the [`Bencode`](crate::Bencode) visitor (asked for
    /// through [`BENCODE_TOKEN`]): byte strings as borrowed bytes, without
    /// the UTF-8 check of `deserialize_any`; integers outside `i64` as their
    /// digits (see [`BigIntAccess`]).
    #[inline]
    fn deserialize_bencode<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let r = match self.peek()? {
            b'0'..=b'9' => {
                let b = self.parse_bytes()?;
                visitor.visit_borrowed_bytes(b)
            }
            b'i' => {
                self.count_item()?;
                match self.int_fast() {
                    Some(i) => visitor.visit_i64(i),
                    None => match self.parse_int_wide()? {
                        Some(Int::I(i)) => visitor.visit_i64(i),
                        // Outside `i64`: the digits as written, like the tape.
                        Some(Int::U(_)) | None => {
                            let digits = &self.input[start + 1..self.pos - 1];
                            visitor.visit_enum(BigIntAccess::new(digits))
                        }
                    },
                }
            }
            b'l' => return de::Deserializer::deserialize_seq(self, visitor),
            b'd' => return de::Deserializer::deserialize_map(self, visitor),
            c => return Err(derr(E::UnexpectedChar(c), start)),
        };
        r.map_err(|e: Error| at(e, start))
    }

    /// The value at `pos` was of the wrong type for `exp`.
    #[cold]
    fn invalid_type(&self, exp: &dyn de::Expected) -> Error {
        let unexp = match self.peek() {
            Ok(b'i') => Unexpected::Other("integer"),
            Ok(b'0'..=b'9') => Unexpected::Other("byte string"),
            Ok(b'l') => Unexpected::Seq,
            Ok(b'd') => Unexpected::Map,
            Ok(c) => return derr(E::UnexpectedChar(c), self.pos),
            Err(e) => return e,
        };
        <Error as de::Error>::invalid_type(unexp, exp).at(self.pos)
    }

    #[inline(always)]
    fn int_for(&mut self, exp: &dyn de::Expected) -> Result<Int> {
        match self.peek()? {
            b'i' => self.parse_int(),
            _ => Err(self.invalid_type(exp)),
        }
    }

    #[inline(always)]
    fn bytes_for(&mut self, exp: &dyn de::Expected) -> Result<&'de [u8]> {
        match short_header(self.input, self.pos) {
            Some((n, data)) => {
                self.count_item()?;
                self.take(data, n)
            }
            None => self.bytes_for_slow(exp),
        }
    }

    /// [`Self::bytes_for`] when the input does not start with a short string
    /// header.
    #[inline(never)]
    fn bytes_for_slow(&mut self, exp: &dyn de::Expected) -> Result<&'de [u8]> {
        match self.peek()? {
            b'0'..=b'9' => {
                self.count_item()?;
                self.parse_bytes_general()
            }
            _ => Err(self.invalid_type(exp)),
        }
    }

    #[inline(always)]
    fn str_for(&mut self, exp: &dyn de::Expected) -> Result<&'de str> {
        let start = self.pos;
        let b = self.bytes_for(exp)?;
        let data = self.pos - b.len();
        match self.str_at(data, self.pos) {
            Some(s) => Ok(s),
            None => Err(not_utf8(b, exp, start)),
        }
    }

    /// `input[from..to]` as a `str`, `None` if it is not UTF-8.
    ///
    /// A substring of valid UTF-8 is valid exactly when both its ends are
    /// character boundaries, so strings inside the stretch validated last
    /// are sliced from it (two boundary checks) instead of validated one by
    /// one; decoding only moves forward, so one stretch serves all the
    /// strings that follow until the first non-UTF-8 byte.
    #[inline(always)]
    fn str_at(&mut self, from: usize, to: usize) -> Option<&'de str> {
        match (
            from.checked_sub(self.utf8_start),
            to.checked_sub(self.utf8_start),
        ) {
            (Some(a), Some(b)) if b <= self.utf8.len() => self.utf8.get(a..b),
            _ => self.str_at_slow(from, to),
        }
    }

    /// [`Self::str_at`] outside the validated stretch: validate from `from`
    /// up to [`UTF8_AHEAD`] bytes past `to` (or to the first byte that is
    /// not UTF-8) and keep that stretch. A new stretch starts at a string
    /// that does not fit in the previous one, so stretches overlap by at most
    /// that string and each input byte is validated a bounded number of
    /// times (at most three, counting the second pass after an error).
    #[inline(never)]
    fn str_at_slow(&mut self, from: usize, to: usize) -> Option<&'de str> {
        let input = self.input;
        let end = input.len().min(to.saturating_add(UTF8_AHEAD));
        let ahead = &input[from..end];
        let valid = match std::str::from_utf8(ahead) {
            Ok(s) => s,
            Err(e) => {
                if e.valid_up_to() < to - from {
                    return None;
                }
                std::str::from_utf8(&ahead[..e.valid_up_to()]).ok()?
            }
        };
        self.utf8 = valid;
        self.utf8_start = from;
        valid.get(..to - from)
    }
}

/// The length and data offset of a string with a canonical 1- or 2-digit
/// length whose header starts at `start`; `None` for anything else.
#[inline(always)]
fn short_header(input: &[u8], start: usize) -> Option<(usize, usize)> {
    match input.get(start..) {
        Some([c @ b'0'..=b'9', b':', ..]) => Some((usize::from(c - b'0'), start + 2)),
        Some([c @ b'1'..=b'9', d @ b'0'..=b'9', b':', ..]) => Some((
            usize::from(c - b'0') * 10 + usize::from(d - b'0'),
            start + 3,
        )),
        _ => None,
    }
}

/// A byte string that should have been UTF-8.
#[cold]
#[inline(never)]
fn not_utf8(b: &[u8], exp: &dyn de::Expected, start: usize) -> Error {
    <Error as de::Error>::invalid_value(Unexpected::Bytes(b), exp).at(start)
}

/// A decode error, built off the hot path.
#[cold]
#[inline(never)]
fn derr(kind: E, offset: usize) -> Error {
    Error::decode(kind, offset)
}

/// Attach `offset` to an error (see [`Error::at`]), off the hot path.
#[cold]
#[inline(never)]
fn at(e: Error, offset: usize) -> Error {
    e.at(offset)
}

/// `key > prev` in byte order; decides on the first byte when it can (most
/// neighbouring keys differ there) to avoid a `memcmp` call.
#[inline(always)]
fn key_after(key: &[u8], prev: &[u8]) -> bool {
    match (key.first(), prev.first()) {
        (Some(a), Some(b)) if a != b => a > b,
        _ => key > prev,
    }
}

/// Visit an integer with the right `visit_*` for its sign and size.
fn visit_int<'de, V: Visitor<'de>>(v: Int, visitor: V) -> Result<V::Value> {
    match v {
        Int::I(i) => visitor.visit_i64(i),
        Int::U(u) => visitor.visit_u64(u),
    }
}

macro_rules! deserialize_int {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let start = self.pos;
            let exp = &visitor;
            let r = match self.int_for(exp)? {
                Int::I(i) => match <$ty>::try_from(i) {
                    Ok(v) => visitor.$visit(v),
                    Err(_) => Err(<Error as de::Error>::invalid_value(
                        Unexpected::Signed(i),
                        &visitor,
                    )),
                },
                Int::U(u) => match <$ty>::try_from(u) {
                    Ok(v) => visitor.$visit(v),
                    Err(_) => Err(<Error as de::Error>::invalid_value(
                        Unexpected::Unsigned(u),
                        &visitor,
                    )),
                },
            };
            r.map_err(|e: Error| at(e, start))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let r = match self.peek()? {
            b'i' => visit_int(self.parse_int()?, visitor),
            b'0'..=b'9' => {
                let b = self.parse_bytes()?;
                match std::str::from_utf8(b) {
                    Ok(s) => visitor.visit_borrowed_str(s),
                    Err(_) => visitor.visit_borrowed_bytes(b),
                }
            }
            b'l' => return self.deserialize_seq(visitor),
            b'd' => return self.deserialize_map(visitor),
            c => return Err(derr(E::UnexpectedChar(c), start)),
        };
        r.map_err(|e: Error| at(e, start))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let r = match self.int_for(&visitor)? {
            Int::I(0) => visitor.visit_bool(false),
            Int::I(1) => visitor.visit_bool(true),
            Int::I(i) => Err(<Error as de::Error>::invalid_value(
                Unexpected::Signed(i),
                &"0 or 1",
            )),
            Int::U(u) => Err(<Error as de::Error>::invalid_value(
                Unexpected::Unsigned(u),
                &"0 or 1",
            )),
        };
        r.map_err(|e: Error| at(e, start))
    }

    deserialize_int! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error::Unsupported(Unsupported::Float))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Error::Unsupported(Unsupported::Float))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let s = self.str_for(&visitor)?;
        let mut chars = s.chars();
        let r = match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(<Error as de::Error>::invalid_value(
                Unexpected::Str(s),
                &"a single character",
            )),
        };
        r.map_err(|e: Error| at(e, start))
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let s = self.str_for(&visitor)?;
        visitor
            .visit_borrowed_str(s)
            .map_err(|e: Error| at(e, start))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    #[inline]
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        let b = self.bytes_for(&visitor)?;
        visitor
            .visit_borrowed_bytes(b)
            .map_err(|e: Error| at(e, start))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // A present key is `Some`; absent keys become `None` through serde's
        // missing-field handling.
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Bencode has no unit value: `()` is written as an empty list and any
        // value is accepted for it.
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == BENCODE_TOKEN {
            return self.deserialize_bencode(visitor);
        }
        if name == RAW_VALUE_TOKEN {
            let start = self.pos;
            self.skip_value()?;
            return visitor
                .visit_borrowed_bytes(&self.input[start..self.pos])
                .map_err(|e: Error| at(e, start));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        match self.peek()? {
            b'l' => {
                self.enter()?;
                let r = visitor
                    .visit_seq(SeqAccess { de: &mut *self })
                    .map_err(|e: Error| at(e, start))?;
                self.leave()?;
                Ok(r)
            }
            b'0'..=b'9' => {
                // A byte string read as a sequence of `u8` (`Vec<u8>`, `[u8; 20]`).
                let b = self.parse_bytes()?;
                let mut seq = de::value::SeqDeserializer::new(b.iter().copied());
                let r = visitor
                    .visit_seq(&mut seq)
                    .map_err(|e: Error| at(e, start))?;
                seq.end().map_err(|e: Error| at(e, start))?;
                Ok(r)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let start = self.pos;
        if self.peek()? != b'd' {
            return Err(self.invalid_type(&visitor));
        }
        self.enter()?;
        let r = visitor
            .visit_map(MapAccess {
                de: &mut *self,
                prev: None,
            })
            .map_err(|e: Error| at(e, start))?;
        self.leave()?;
        Ok(r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let start = self.pos;
        match self.peek()? {
            b'0'..=b'9' => {
                let name = self.parse_bytes()?;
                visitor
                    .visit_enum(UnitVariant { name })
                    .map_err(|e: Error| at(e, start))
            }
            b'd' => {
                self.enter()?;
                let mut prev = None;
                let Some(name) = self.parse_key(&mut prev)? else {
                    return Err(<Error as de::Error>::invalid_length(
                        0,
                        &"a dictionary with one key naming the variant",
                    )
                    .at(start));
                };
                let r = visitor
                    .visit_enum(VariantDict {
                        de: &mut *self,
                        name,
                    })
                    .map_err(|e: Error| at(e, start))?;
                self.leave()?;
                Ok(r)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    #[inline]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

struct SeqAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.de.peek()? == b'e' {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

struct MapAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    prev: Option<&'de [u8]>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let start = self.de.pos;
        match self.de.parse_key(&mut self.prev)? {
            None => Ok(None),
            Some(key) => seed
                .deserialize(KeyDeserializer { key })
                .map(Some)
                .map_err(|e: Error| at(e, start)),
        }
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// Deserializes a dictionary key (a byte string) into identifiers, strings,
/// bytes, integers written in decimal, or unit enum variants.
struct KeyDeserializer<'de> {
    key: &'de [u8],
}

impl KeyDeserializer<'_> {
    fn str(&self, exp: &dyn de::Expected) -> Result<&str> {
        std::str::from_utf8(self.key)
            .map_err(|_| <Error as de::Error>::invalid_value(Unexpected::Bytes(self.key), exp))
    }
}

macro_rules! key_int {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let s = self.str(&visitor)?;
            match s.parse::<$ty>() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(<Error as de::Error>::invalid_value(Unexpected::Str(s), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match std::str::from_utf8(self.key) {
            Ok(s) => visitor.visit_borrowed_str(s),
            Err(_) => visitor.visit_borrowed_bytes(self.key),
        }
    }

    #[inline]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.key)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match std::str::from_utf8(self.key) {
            Ok(s) => visitor.visit_borrowed_str(s),
            Err(_) => Err(<Error as de::Error>::invalid_value(
                Unexpected::Bytes(self.key),
                &visitor,
            )),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    key_int! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(UnitVariant { name: self.key })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    forward_to_deserialize_any! {
        bool f32 f64 char unit unit_struct seq tuple tuple_struct map struct
    }
}

/// An enum variant written as a bare byte string (a unit variant).
struct UnitVariant<'de> {
    name: &'de [u8],
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let v = seed.deserialize(KeyDeserializer { key: self.name })?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(<Error as de::Error>::invalid_type(
            Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(<Error as de::Error>::invalid_type(
            Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(<Error as de::Error>::invalid_type(
            Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}

/// An enum variant written as `d<name><value>e`.
struct VariantDict<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    name: &'de [u8],
}

impl<'a, 'de> de::EnumAccess<'de> for VariantDict<'a, 'de> {
    type Error = Error;
    type Variant = &'a mut Deserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        let v = seed.deserialize(KeyDeserializer { key: self.name })?;
        Ok((v, self.de))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        // `d<name>…e` for a unit variant: accept (and skip) any value.
        self.skip_value()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::UTF8_AHEAD;
    use crate::serde::from_bytes;

    fn list(items: &[&[u8]]) -> Vec<u8> {
        let mut out = b"l".to_vec();
        for it in items {
            out.extend_from_slice(format!("{}:", it.len()).as_bytes());
            out.extend_from_slice(it);
        }
        out.push(b'e');
        out
    }

    /// The offset of item `i`'s header in `list(items)`.
    fn header_offset(items: &[&[u8]], i: usize) -> usize {
        1 + items[..i]
            .iter()
            .map(|it| it.len().to_string().len() + 1 + it.len())
            .sum::<usize>()
    }

    /// `Vec<&str>` decodes exactly when every string is UTF-8 on its own,
    /// and fails at the header of the first one that is not, whatever the
    /// bytes around it (the validated-stretch shortcut must not change that).
    fn check(items: &[&[u8]]) {
        let input = list(items);
        let got = from_bytes::<Vec<&str>>(&input);
        match items.iter().position(|it| std::str::from_utf8(it).is_err()) {
            None => {
                let want: Vec<&str> = items
                    .iter()
                    .map(|it| std::str::from_utf8(it).unwrap())
                    .collect();
                assert_eq!(got.unwrap(), want, "{input:?}");
            }
            Some(bad) => {
                let err = got.unwrap_err();
                assert_eq!(err.offset(), Some(header_offset(items, bad)), "{input:?}");
            }
        }
    }

    #[test]
    fn strings_split_anywhere_keep_utf8_checks() {
        // Fragments that make valid and invalid UTF-8 depending on where
        // the string boundaries fall.
        let frags: [&[u8]; 9] = [
            b"a",
            b"path.mkv",
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1d11e}".as_bytes(),
            b"\xc3",
            b"\xa9",
            b"\xe2\x82",
            b"\xff",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..4000 {
            let count = 1 + next(5);
            let owned: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    (0..next(4))
                        .flat_map(|_| frags[next(frags.len())].to_vec())
                        .collect()
                })
                .collect();
            let items: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
            check(&items);
        }
    }

    #[test]
    fn stretches_end_inside_characters() {
        // Strings long enough that validation windows end at every offset
        // inside multi-byte characters.
        let long = "\u{20ac}x\u{1d11e}".repeat(UTF8_AHEAD / 7);
        for cut in 0..8 {
            let head = "h".repeat(cut);
            let items: Vec<&[u8]> = vec![
                head.as_bytes(),
                long.as_bytes(),
                "\u{e9}t\u{e9}".as_bytes(),
                long.as_bytes(),
                b"tail",
            ];
            check(&items);
            let mut bad = long.clone().into_bytes();
            bad[UTF8_AHEAD / 2 + cut] = 0xff;
            check(&[head.as_bytes(), &bad, b"ok"]);
            check(&[head.as_bytes(), b"ok", &bad]);
        }
    }

    #[test]
    fn strings_after_binary_bytes() {
        let input = b"l3:abc4:\xff\xfe\x00\x013:d\xc3\xa9e";
        let got: (Vec<&str>, &[u8], &str) =
            from_bytes(b"ll3:abce4:\xff\xfe\x00\x014:d\xc3\xa9xe").unwrap();
        assert_eq!(got, (vec!["abc"], &b"\xff\xfe\x00\x01"[..], "d\u{e9}x"));
        assert!(from_bytes::<Vec<&str>>(input).is_err());
    }
}
