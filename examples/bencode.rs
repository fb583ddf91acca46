//! `bencode`: print any bencoded file readably.
//!
//! ```text
//! cargo run --release --example bencode -- FILE [--strict] [--json] [--spans]
//! ```
//!
//! FILE may be `-` (standard input). `--version` prints the version.
//!
//! The whole file is read into memory and decoded as one value (trailing data
//! is an error) with the default [`Limits`] (nesting depth 512, `i64`
//! integers). Decoding is lenient by default (libtorrent's tolerance): each
//! accepted deviation from canonical form is listed on stderr, one per line,
//! as `soft fault: unsorted dictionary key at offset 27`. `--strict` rejects
//! them instead.
//!
//! # Text output (default)
//! One value per line, containers indented by two spaces per level:
//! - integers as decimal numbers;
//! - byte strings that are UTF-8 as quoted, JSON-escaped text (`"abc"`);
//!   other byte strings as `<hex 0a1b2c>`, or, when longer than 64 bytes, as
//!   a length summary with their first 16 bytes: `<20000 bytes: 0a1b2c…>`;
//! - lists as `[` … `]`, dictionaries as `{` … `}` with one `key: value` per
//!   line (keys rendered like byte strings), in input order; empty ones as
//!   `[]` and `{}`.
//!
//! With `--spans`, every value (not the keys) is followed by its byte range
//! in the file, start inclusive, end exclusive: `5 @12..15`; for a list or
//! dictionary the range (from its `l`/`d` to its `e`) follows the opening
//! bracket: `{ @0..120`.
//!
//! # JSON output (`--json`)
//! One JSON value on stdout:
//! - integers as JSON numbers;
//! - byte strings as JSON strings when UTF-8, else as `{"hex": "0a1b…"}`
//!   (all bytes, never summarized);
//! - lists as arrays;
//! - dictionaries as objects. A key that is UTF-8 and does not start with
//!   `hex:` is used as is; any other key is written as `hex:` followed by the
//!   hex of all its bytes (so `hex:` keys are unambiguous). Object members
//!   come out sorted by the JSON key. In lenient mode a repeated key keeps its
//!   first value (as lookups do).
//!
//! With `--spans`, every value `V` (not the keys) becomes
//! `{"start": S, "end": E, "value": V}`, where `S..E` is its byte range in
//! the file (end exclusive) and `V` is rendered as above, its own children
//! wrapped the same way. Example for `d1:ai2ee`:
//! `{"start": 0, "end": 8, "value": {"a": {"start": 4, "end": 7, "value": 2}}}`.
//!
//! The JSON is pretty-printed (two-space indentation) and written as it is
//! produced: besides the input and its token tape, memory holds only 4 bytes
//! per entry of the unsorted dictionaries being written (to sort them), so it
//! stays a small constant times the input.
//!
//! # Errors
//! Exit codes: 0 success; 1 the input is not (strict) bencode: a one-line
//! message with the byte offset on stderr, such as
//! `error: unexpected end of input at offset 12`; 2 bad usage or unreadable input. This
//! holds for any size or nesting: the decoder is iterative and bounds the
//! depth at 512, the text printer keeps an explicit stack, and the JSON
//! builder recurses at most as deep as that limit. A file that cannot be read:
//! a one-line message and exit status 2.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::io::{self, BufWriter, Read, Write};
use std::ops::Range;
use std::path::PathBuf;

use bip_bencode::{Decoder, DictIter, EntryHandle, Kind, Limits, ListIter, Mode, Value};
use bip_examples::fail;
use clap::Parser;
use serde_json::Value as Json;

/// Print a bencoded file readably (text or JSON), lenient by default.
#[derive(Parser, Debug)]
#[command(
    name = "bencode",
    version,
    after_help = "Exit codes: 0 success; 1 the input is not (strict) bencode; 2 bad usage or \
                  unreadable input."
)]
struct Args {
    /// The bencoded file to print (`-`: standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Reject non-canonical input (unsorted or duplicate keys, leading zeros, `-0`).
    #[arg(long)]
    strict: bool,
    /// Print one JSON value instead of the indented text form.
    #[arg(long)]
    json: bool,
    /// Add each value's byte range in the file.
    #[arg(long)]
    spans: bool,
}

/// Byte strings longer than this are summarized in the text form.
const FULL_HEX_MAX: usize = 64;
/// How many leading bytes a summary shows.
const SUMMARY_BYTES: usize = 16;

fn main() {
    let args = Args::parse();
    let input = if args.file.as_os_str() == "-" {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map(|_| buf)
            .unwrap_or_else(|e| fail(2, format!("cannot read standard input: {e}")))
    } else {
        std::fs::read(&args.file)
            .unwrap_or_else(|e| fail(2, format!("cannot read {}: {e}", args.file.display())))
    };
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Lenient
    };
    let mut decoder = Decoder::new().mode(mode).limits(Limits::default());
    let doc = decoder.decode(&input).unwrap_or_else(|e| fail(1, e));
    {
        // Buffered: millions of faults (a dictionary of unsorted keys) print in well under a
        // second.
        let mut err = BufWriter::new(io::stderr().lock());
        for fault in doc.soft_faults() {
            let _ = writeln!(err, "soft fault: {fault}");
        }
        let _ = err.flush();
    }

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = if args.json {
        write_json(&mut out, doc.root(), args.spans, 0).and_then(|()| writeln!(out))
    } else {
        print_text(&mut out, doc.root(), args.spans)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            fail(2, format!("cannot write output: {e}"));
        }
    }
}

/// Render a byte string (or key) for the text form.
fn text_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => Json::from(s).to_string(),
        Err(_) if b.len() <= FULL_HEX_MAX => format!("<hex {}>", hex::encode(b)),
        Err(_) => format!("<{} bytes: {}…>", b.len(), hex::encode(&b[..SUMMARY_BYTES])),
    }
}

fn span_suffix(span: Range<usize>, spans: bool) -> String {
    if spans {
        format!(" @{}..{}", span.start, span.end)
    } else {
        String::new()
    }
}

/// An open container whose children are still being printed.
enum Frame<'a, 'd> {
    List(ListIter<'a, 'd>),
    Dict(DictIter<'a, 'd>),
}

/// Write one value's line (`indent`, optional `key: `, the value or its
/// opening bracket); returns the frame to push for a non-empty container.
fn open<'a, 'd>(
    out: &mut impl Write,
    v: Value<'a, 'd>,
    key: Option<&[u8]>,
    depth: usize,
    spans: bool,
) -> io::Result<Option<Frame<'a, 'd>>> {
    write!(out, "{:1$}", "", depth * 2)?;
    if let Some(k) = key {
        write!(out, "{}: ", text_bytes(k))?;
    }
    let suffix = span_suffix(v.span(), spans);
    let (text, frame) = match v.kind() {
        Kind::Int => match v.as_int() {
            // Lenient `i02e` prints as 2.
            Some(i) => (i.to_string(), None),
            // Unreachable with default limits (i64); keep the digits exactly.
            None => {
                let digits = v.int_digits().unwrap_or_default();
                (String::from_utf8_lossy(digits).into_owned(), None)
            }
        },
        Kind::Bytes => (text_bytes(v.as_bytes().unwrap_or_default()), None),
        Kind::List => {
            let list = v.as_list().expect("kind is list");
            if list.is_empty() {
                ("[]".to_owned(), None)
            } else {
                ("[".to_owned(), Some(Frame::List(list.iter())))
            }
        }
        Kind::Dict => {
            let dict = v.as_dict().expect("kind is dict");
            if dict.is_empty() {
                ("{}".to_owned(), None)
            } else {
                ("{".to_owned(), Some(Frame::Dict(dict.iter())))
            }
        }
    };
    writeln!(out, "{text}{suffix}")?;
    Ok(frame)
}

/// The indented text form, with an explicit stack (no recursion).
fn print_text(out: &mut impl Write, root: Value<'_, '_>, spans: bool) -> io::Result<()> {
    let mut stack: Vec<Frame<'_, '_>> = Vec::new();
    if let Some(frame) = open(out, root, None, 0, spans)? {
        stack.push(frame);
    }
    loop {
        let depth = stack.len();
        let Some(top) = stack.last_mut() else {
            break;
        };
        let next = match top {
            Frame::List(it) => it.next().map(|v| (None, v)),
            Frame::Dict(it) => it.next().map(|(k, v)| (Some(k), v)),
        };
        match next {
            Some((key, v)) => {
                if let Some(frame) = open(out, v, key, depth, spans)? {
                    stack.push(frame);
                }
            }
            None => {
                let close = match stack.pop() {
                    Some(Frame::List(_)) => ']',
                    _ => '}',
                };
                writeln!(out, "{:1$}{close}", "", (depth - 1) * 2)?;
            }
        }
    }
    Ok(())
}

/// A byte string (not a key) as JSON.
fn write_json_bytes(out: &mut impl Write, b: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(b) {
        Ok(s) => serde_json::to_writer(&mut *out, s).map_err(io::Error::from),
        Err(_) => {
            out.write_all(b"{\"hex\": \"")?;
            // Hex in chunks: no copy of the whole string.
            for chunk in b.chunks(4096) {
                out.write_all(hex::encode(chunk).as_bytes())?;
            }
            out.write_all(b"\"}")
        }
    }
}

/// A dictionary key as a JSON object key (see the module docs).
fn json_key(k: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(k) {
        Ok(s) if !s.starts_with("hex:") => Cow::Borrowed(s),
        _ => Cow::Owned(format!("hex:{}", hex::encode(k))),
    }
}

/// The order of two keys' [`json_key`] forms, without building them.
fn json_key_cmp(a: &[u8], b: &[u8]) -> Ordering {
    fn form(k: &[u8]) -> impl Iterator<Item = u8> + '_ {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let plain = is_plain_key(k);
        let (prefix, raw, hexed): (&[u8], &[u8], &[u8]) = if plain {
            (b"", k, b"")
        } else {
            (b"hex:", b"", k)
        };
        prefix.iter().chain(raw).copied().chain(
            hexed
                .iter()
                .flat_map(|&c| [HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]),
        )
    }
    form(a).cmp(form(b))
}

/// Whether [`json_key`] uses the key as it is.
fn is_plain_key(k: &[u8]) -> bool {
    !k.starts_with(b"hex:") && std::str::from_utf8(k).is_ok()
}

fn indent(out: &mut impl Write, level: usize) -> io::Result<()> {
    out.write_all(b"\n")?;
    for _ in 0..level {
        out.write_all(b"  ")?;
    }
    Ok(())
}

/// Write the JSON form of `v` (pretty-printed at `level`) as it goes. Recursion depth is bounded
/// by the decoder's depth limit (512 by default), well within the main thread's stack.
fn write_json(out: &mut impl Write, v: Value<'_, '_>, spans: bool, level: usize) -> io::Result<()> {
    let level = if spans {
        let span = v.span();
        write!(out, "{{")?;
        indent(out, level + 1)?;
        write!(out, "\"start\": {},", span.start)?;
        indent(out, level + 1)?;
        write!(out, "\"end\": {},", span.end)?;
        indent(out, level + 1)?;
        write!(out, "\"value\": ")?;
        level + 1
    } else {
        level
    };
    match v.kind() {
        Kind::Int => match v.as_int() {
            Some(i) => write!(out, "{i}")?,
            // Unreachable with default limits; keep the digits exactly.
            None => serde_json::to_writer(
                &mut *out,
                &Json::from(String::from_utf8_lossy(v.int_digits().unwrap_or_default())),
            )?,
        },
        Kind::Bytes => write_json_bytes(out, v.as_bytes().unwrap_or_default())?,
        Kind::List => {
            let list = v.as_list().expect("kind is list");
            if list.is_empty() {
                out.write_all(b"[]")?;
            } else {
                out.write_all(b"[")?;
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    indent(out, level + 1)?;
                    write_json(out, x, spans, level + 1)?;
                }
                indent(out, level)?;
                out.write_all(b"]")?;
            }
        }
        Kind::Dict => {
            let dict = v.as_dict().expect("kind is dict");
            // Members sorted by JSON key; a repeated key keeps its first value (stable sort).
            // Canonical dictionaries (keys sorted, UTF-8, no `hex:` prefix) are already in
            // that order and are written straight from the tape; others are sorted as 4-byte
            // entry handles, so memory stays a small constant times the input.
            let (mut prev, mut plain, mut ordered): (Option<&[u8]>, bool, bool) =
                (None, true, true);
            for (k, _) in dict.iter() {
                plain &= is_plain_key(k);
                ordered &= prev.is_none_or(|p| p < k);
                prev = Some(k);
            }
            let canonical = plain && ordered;
            let members: Box<dyn Iterator<Item = (Cow<'_, str>, Value<'_, '_>)>> = if canonical {
                Box::new(dict.iter().map(|(k, x)| (json_key(k), x)))
            } else {
                let key = |h: EntryHandle| dict.by_handle(h).expect("own handle").0;
                let mut m: Vec<EntryHandle> = dict.handles().collect();
                if plain {
                    m.sort_by(|&a, &b| key(a).cmp(key(b)));
                } else {
                    m.sort_by(|&a, &b| json_key_cmp(key(a), key(b)));
                }
                m.dedup_by(|later, first| key(*later) == key(*first));
                Box::new(m.into_iter().map(move |h| {
                    let (k, x) = dict.by_handle(h).expect("own handle");
                    (json_key(k), x)
                }))
            };
            let mut members = members.peekable();
            if members.peek().is_none() {
                out.write_all(b"{}")?;
            } else {
                out.write_all(b"{")?;
                for (i, (k, x)) in members.enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    indent(out, level + 1)?;
                    serde_json::to_writer(&mut *out, &*k)?;
                    out.write_all(b": ")?;
                    write_json(out, x, spans, level + 1)?;
                }
                indent(out, level)?;
                out.write_all(b"}")?;
            }
        }
    }
    if spans {
        indent(out, level - 1)?;
        out.write_all(b"}")?;
    }
    Ok(())
}
