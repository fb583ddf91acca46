//! Navigable views of a decoded [`Document`](crate::Document).

use std::fmt;
use std::ops::Range;

use crate::decode::{Tag, Token};
use crate::error::{AccessError, Expected, Kind};

/// A value inside a decoded document: a cheap `Copy` cursor.
///
/// `'a` is the input's lifetime (byte strings and raw spans borrow from the
/// input, so they outlive the document); `'d` is the document's.
#[derive(Clone, Copy)]
pub struct Value<'a, 'd> {
    input: &'a [u8],
    tokens: &'d [Token],
    idx: usize,
}

impl<'a, 'd> Value<'a, 'd> {
    pub(crate) fn new(input: &'a [u8], tokens: &'d [Token], idx: usize) -> Self {
        Value { input, tokens, idx }
    }

    /// The input, the tape and this value's token index.
    pub(crate) fn parts(&self) -> (&'a [u8], &'d [Token], usize) {
        (self.input, self.tokens, self.idx)
    }

    #[inline]
    fn tok(&self) -> &'d Token {
        &self.tokens[self.idx]
    }

    #[inline]
    fn end_offset(&self) -> usize {
        self.tokens[self.tok().next(self.idx)].start as usize
    }

    /// The value's kind.
    #[inline]
    pub fn kind(&self) -> Kind {
        match self.tok().tag(self.idx, self.input) {
            Tag::Int => Kind::Int,
            Tag::Bytes => Kind::Bytes,
            Tag::List => Kind::List,
            Tag::Dict | Tag::End => Kind::Dict,
        }
    }

    /// The exact bytes of this value in the input (for a dictionary, from its
    /// `d` to its `e`): what the info hash is computed over.
    pub fn raw(&self) -> &'a [u8] {
        &self.input[self.span()]
    }

    /// The byte range of this value in the input.
    pub fn span(&self) -> Range<usize> {
        self.tok().start as usize..self.end_offset()
    }

    /// Byte offset of this value in the input.
    pub fn offset(&self) -> usize {
        self.tok().start as usize
    }

    /// The bytes of a byte string.
    #[inline]
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        let t = self.tok();
        if !t.is_bytes(self.idx, self.input) {
            return None;
        }
        // A string is one token: the next one starts where it ends.
        Some(&self.input[t.data_start(self.input)..self.tokens[self.idx + 1].start as usize])
    }

    /// A byte string that is valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The digits of an integer (with its sign), as written; available even
    /// for integers beyond `i64` when big integers are allowed.
    #[inline]
    pub fn int_digits(&self) -> Option<&'a [u8]> {
        let t = self.tok();
        if !t.is_int(self.idx, self.input) {
            return None;
        }
        // An integer is one token: the next one starts where it ends.
        Some(&self.input[t.start as usize + 1..self.tokens[self.idx + 1].start as usize - 1])
    }

    /// An integer that fits in `i64`.
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        int_of(self.int_digits()?)
    }

    /// A list.
    #[inline]
    pub fn as_list(&self) -> Option<List<'a, 'd>> {
        self.tok()
            .is_container(self.idx, self.input, b'l')
            .then_some(List { v: *self })
    }

    /// A dictionary.
    #[inline]
    pub fn as_dict(&self) -> Option<Dict<'a, 'd>> {
        self.tok()
            .is_container(self.idx, self.input, b'd')
            .then_some(Dict { v: *self })
    }

    /// Look a key up if this is a dictionary.
    pub fn get(&self, key: &[u8]) -> Option<Value<'a, 'd>> {
        self.as_dict()?.get(key)
    }

    fn type_error(&self, expected: Expected) -> AccessError {
        AccessError::Type {
            path: self.path(),
            expected,
            found: self.kind(),
            offset: self.offset(),
        }
    }

    /// The integer, or an error naming the path and offset.
    pub fn int(&self) -> Result<i64, AccessError> {
        match self.as_int() {
            Some(v) => Ok(v),
            None if self.kind() == Kind::Int => Err(self.type_error(Expected::IntInRange)),
            None => Err(self.type_error(Expected::Kind(Kind::Int))),
        }
    }

    /// An integer converted to another integer type (e.g. `u64`, `u32`),
    /// with a range error naming the path.
    pub fn int_as<T: TryFrom<i64>>(&self) -> Result<T, AccessError> {
        let v = self.int()?;
        T::try_from(v).map_err(|_| self.type_error(Expected::IntInRange))
    }

    /// The byte string, or an error naming the path and offset.
    pub fn bytes(&self) -> Result<&'a [u8], AccessError> {
        self.as_bytes()
            .ok_or_else(|| self.type_error(Expected::Kind(Kind::Bytes)))
    }

    /// The UTF-8 string, or an error naming the path and offset.
    pub fn str(&self) -> Result<&'a str, AccessError> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.type_error(Expected::Utf8))
    }

    /// The list, or an error naming the path and offset.
    pub fn list(&self) -> Result<List<'a, 'd>, AccessError> {
        self.as_list()
            .ok_or_else(|| self.type_error(Expected::Kind(Kind::List)))
    }

    /// The dictionary, or an error naming the path and offset.
    pub fn dict(&self) -> Result<Dict<'a, 'd>, AccessError> {
        self.as_dict()
            .ok_or_else(|| self.type_error(Expected::Kind(Kind::Dict)))
    }

    /// Convert to an owned (or input-borrowing) [`Bencode`](crate::Bencode) tree.
    pub fn to_bencode(&self) -> crate::Bencode<'a> {
        crate::owned::from_value(*self)
    }

    /// The path of this value from the document root, like
    /// `info.files[3].path[0]` (empty for the root). Computed on demand by
    /// walking the tape, so it costs nothing until an error needs it.
    pub fn path(&self) -> String {
        path_to(self.input, self.tokens, self.idx)
    }
}

fn push_key(out: &mut String, key: &[u8]) {
    if !out.is_empty() {
        out.push('.');
    }
    match std::str::from_utf8(key) {
        Ok(s) if s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') => out.push_str(s),
        _ => {
            out.push('<');
            for b in key {
                out.push_str(&format!("{b:02x}"));
            }
            out.push('>');
        }
    }
}

fn path_to(input: &[u8], tokens: &[Token], target: usize) -> String {
    let mut out = String::new();
    let mut cur = 0usize;
    while cur != target {
        let t = tokens[cur];
        let mut child = cur + 1;
        let mut n = 0usize;
        let mut found = false;
        let dict = t.tag(cur, input) == Tag::Dict;
        while !tokens[child].is_end() {
            if dict {
                let key = Value::new(input, tokens, child);
                let val = child + 1;
                if target >= val && target < tokens[val].next(val) {
                    push_key(&mut out, key.as_bytes().unwrap_or_default());
                    cur = val;
                    found = true;
                    break;
                }
                if target == child {
                    // The key itself.
                    push_key(&mut out, key.as_bytes().unwrap_or_default());
                    return out;
                }
                child = tokens[val].next(val);
            } else {
                let next = tokens[child].next(child);
                if target >= child && target < next {
                    out.push_str(&format!("[{n}]"));
                    cur = child;
                    found = true;
                    break;
                }
                child = next;
                n += 1;
            }
        }
        if !found {
            break;
        }
    }
    out
}

impl fmt::Debug for Value<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            Kind::Int => match self.as_int() {
                Some(i) => write!(f, "{i}"),
                None => write!(
                    f,
                    "{}",
                    String::from_utf8_lossy(self.int_digits().unwrap_or_default())
                ),
            },
            Kind::Bytes => {
                let b = self.as_bytes().unwrap_or_default();
                match std::str::from_utf8(b) {
                    Ok(s) => write!(f, "{s:?}"),
                    Err(_) => write!(f, "<{} bytes>", b.len()),
                }
            }
            Kind::List => f
                .debug_list()
                .entries(self.as_list().into_iter().flatten())
                .finish(),
            Kind::Dict => {
                let mut m = f.debug_map();
                for (k, v) in self.as_dict().into_iter().flatten() {
                    m.entry(&String::from_utf8_lossy(k), &v);
                }
                m.finish()
            }
        }
    }
}

impl PartialEq for Value<'_, '_> {
    /// Structural equality (same raw bytes).
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

/// A list view.
#[derive(Clone, Copy, Debug)]
pub struct List<'a, 'd> {
    v: Value<'a, 'd>,
}

impl<'a, 'd> List<'a, 'd> {
    /// The list as a value.
    pub fn value(&self) -> Value<'a, 'd> {
        self.v
    }

    /// Iterate over the elements.
    pub fn iter(&self) -> ListIter<'a, 'd> {
        ListIter {
            input: self.v.input,
            tokens: self.v.tokens,
            idx: self.v.idx + 1,
        }
    }

    /// Number of elements (walks the list).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.v.tokens[self.v.idx + 1].is_end()
    }

    /// The element at `index` (walks the list).
    pub fn get(&self, index: usize) -> Option<Value<'a, 'd>> {
        self.iter().nth(index)
    }
}

impl<'a, 'd> IntoIterator for List<'a, 'd> {
    type Item = Value<'a, 'd>;
    type IntoIter = ListIter<'a, 'd>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a list's elements.
#[derive(Clone, Debug)]
pub struct ListIter<'a, 'd> {
    input: &'a [u8],
    tokens: &'d [Token],
    idx: usize,
}

impl<'a, 'd> Iterator for ListIter<'a, 'd> {
    type Item = Value<'a, 'd>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tokens[self.idx];
        if t.is_end() {
            return None;
        }
        let v = Value::new(self.input, self.tokens, self.idx);
        self.idx = t.next(self.idx);
        Some(v)
    }
}

/// A dictionary view. Lookups scan the entries in input order and return the
/// first match (lenient documents may hold duplicate keys).
#[derive(Clone, Copy, Debug)]
pub struct Dict<'a, 'd> {
    v: Value<'a, 'd>,
}

impl<'a, 'd> Dict<'a, 'd> {
    /// The dictionary as a value.
    pub fn value(&self) -> Value<'a, 'd> {
        self.v
    }

    /// Iterate over `(key, value)` entries in input order.
    pub fn iter(&self) -> DictIter<'a, 'd> {
        DictIter {
            input: self.v.input,
            tokens: self.v.tokens,
            idx: self.v.idx + 1,
        }
    }

    /// Iterate over entries with keys as values (for their offsets and spans).
    pub fn entries(&self) -> impl Iterator<Item = (Value<'a, 'd>, Value<'a, 'd>)> + 'd
    where
        'a: 'd,
    {
        let (input, tokens) = (self.v.input, self.v.tokens);
        let mut idx = self.v.idx + 1;
        std::iter::from_fn(move || {
            if tokens[idx].is_end() {
                return None;
            }
            let k = Value::new(input, tokens, idx);
            let vi = idx + 1;
            idx = tokens[vi].next(vi);
            Some((k, Value::new(input, tokens, vi)))
        })
    }

    /// A compact handle for each entry, in input order: 4 bytes each instead of a
    /// `(key, Value)` pair, for sorting or indexing very large dictionaries (the `bencode`
    /// tool sorts the members of unsorted dictionaries this way). [`Dict::by_handle`] turns a
    /// handle back into its entry.
    ///
    /// ```
    /// let doc = bip_bencode::Decoder::lenient().decode(b"d1:bi2e1:ai1ee")?;
    /// let dict = doc.root().dict()?;
    /// let mut handles: Vec<_> = dict.handles().collect();
    /// handles.sort_by_key(|&h| dict.by_handle(h).map(|(k, _)| k));
    /// let (key, value) = dict.by_handle(handles[0]).unwrap();
    /// assert_eq!((key, value.as_int()), (&b"a"[..], Some(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handles(&self) -> impl Iterator<Item = EntryHandle> + 'd {
        let tokens = self.v.tokens;
        let mut idx = self.v.idx + 1;
        std::iter::from_fn(move || {
            if tokens[idx].is_end() {
                return None;
            }
            let h = EntryHandle(idx as u32);
            let vi = idx + 1;
            idx = tokens[vi].next(vi);
            Some(h)
        })
    }

    /// The `(key, value)` entry behind a handle from [`Dict::handles`]. A handle taken from
    /// another dictionary or another document gives `None` or an unrelated entry (silently);
    /// it never panics.
    pub fn by_handle(&self, handle: EntryHandle) -> Option<(&'a [u8], Value<'a, 'd>)> {
        let (input, tokens) = (self.v.input, self.v.tokens);
        let end = tokens[self.v.idx].next(self.v.idx);
        let ki = handle.0 as usize;
        if ki <= self.v.idx || ki >= end {
            return None;
        }
        let kt = tokens[ki];
        let vi = ki + 1;
        if !kt.is_bytes(ki, input) || vi >= end || tokens[vi].is_end() {
            return None;
        }
        let ks = kt.data_start(input);
        let ke = tokens[vi].start as usize;
        Some((input.get(ks..ke)?, Value::new(input, tokens, vi)))
    }

    /// Number of entries (walks the dictionary).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the dictionary is empty.
    pub fn is_empty(&self) -> bool {
        self.v.tokens[self.v.idx + 1].is_end()
    }

    /// The value under `key`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<Value<'a, 'd>> {
        let tokens = self.v.tokens;
        let input = self.v.input;
        let mut idx = self.v.idx + 1;
        loop {
            let kt = tokens[idx];
            if kt.is_end() {
                return None;
            }
            // Keys are byte strings, single tokens: the value follows.
            let vi = idx + 1;
            let ks = kt.data_start(input);
            let ke = tokens[vi].start as usize;
            if &input[ks..ke] == key {
                return Some(Value::new(input, tokens, vi));
            }
            idx = tokens[vi].next(vi);
        }
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// The value under `key`, or [`AccessError::Missing`] naming the path.
    pub fn require(&self, key: &[u8]) -> Result<Value<'a, 'd>, AccessError> {
        self.get(key).ok_or_else(|| {
            let mut path = self.v.path();
            push_key(&mut path, key);
            AccessError::Missing {
                path,
                offset: self.v.offset(),
            }
        })
    }

    /// Required integer.
    pub fn get_int(&self, key: &[u8]) -> Result<i64, AccessError> {
        self.require(key)?.int()
    }
    /// Required byte string.
    pub fn get_bytes(&self, key: &[u8]) -> Result<&'a [u8], AccessError> {
        self.require(key)?.bytes()
    }
    /// Required UTF-8 string.
    pub fn get_str(&self, key: &[u8]) -> Result<&'a str, AccessError> {
        self.require(key)?.str()
    }
    /// Required list.
    pub fn get_list(&self, key: &[u8]) -> Result<List<'a, 'd>, AccessError> {
        self.require(key)?.list()
    }
    /// Required dictionary.
    pub fn get_dict(&self, key: &[u8]) -> Result<Dict<'a, 'd>, AccessError> {
        self.require(key)?.dict()
    }

    /// Optional integer: `Ok(None)` when absent, an error when of another type.
    pub fn opt_int(&self, key: &[u8]) -> Result<Option<i64>, AccessError> {
        self.get(key).map(|v| v.int()).transpose()
    }
    /// Optional byte string.
    pub fn opt_bytes(&self, key: &[u8]) -> Result<Option<&'a [u8]>, AccessError> {
        self.get(key).map(|v| v.bytes()).transpose()
    }
    /// Optional UTF-8 string.
    pub fn opt_str(&self, key: &[u8]) -> Result<Option<&'a str>, AccessError> {
        self.get(key).map(|v| v.str()).transpose()
    }
    /// Optional list.
    pub fn opt_list(&self, key: &[u8]) -> Result<Option<List<'a, 'd>>, AccessError> {
        self.get(key).map(|v| v.list()).transpose()
    }
    /// Optional dictionary.
    pub fn opt_dict(&self, key: &[u8]) -> Result<Option<Dict<'a, 'd>>, AccessError> {
        self.get(key).map(|v| v.dict()).transpose()
    }
}

impl<'a, 'd> IntoIterator for Dict<'a, 'd> {
    type Item = (&'a [u8], Value<'a, 'd>);
    type IntoIter = DictIter<'a, 'd>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A 4-byte handle to one entry of a [`Dict`] (see [`Dict::handles`] and [`Dict::by_handle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryHandle(u32);

/// Iterator over a dictionary's `(key, value)` entries in input order.
#[derive(Clone, Debug)]
pub struct DictIter<'a, 'd> {
    input: &'a [u8],
    tokens: &'d [Token],
    idx: usize,
}

impl<'a, 'd> Iterator for DictIter<'a, 'd> {
    type Item = (&'a [u8], Value<'a, 'd>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let kt = self.tokens[self.idx];
        if kt.is_end() {
            return None;
        }
        let vi = self.idx + 1;
        let ks = kt.data_start(self.input);
        let ke = self.tokens[vi].start as usize;
        self.idx = self.tokens[vi].next(vi);
        Some((&self.input[ks..ke], Value::new(self.input, self.tokens, vi)))
    }
}

/// The value of an integer's validated digits (with optional `-`); `None`
/// outside `i64`.
#[inline]
pub(crate) fn int_of(d: &[u8]) -> Option<i64> {
    let (neg, digits) = match d.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, d),
    };
    // Digits were validated by the decoder. Up to 18 digits cannot
    // overflow: no checks.
    if digits.len() <= 18 {
        let v = digits
            .iter()
            .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
        return Some(if neg { -v } else { v });
    }
    // Longer: accumulate negatively so that i64::MIN parses.
    let mut v: i64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}
