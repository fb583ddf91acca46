//! File-name sanitization, following libtorrent's `sanitize_append_path_element`
//! and `verify_encoding` so that every path this crate hands out is safe to
//! join onto a download directory.

/// Bytes after which a path element is cut (its extension is kept), as in
/// libtorrent: elements end up at most about 255 bytes long.
pub const TRUNCATE_ELEMENT_AT: usize = 240;

/// libtorrent's `parse_utf8_codepoint`: the code point at the start of `s`
/// (`None` when invalid) and how many bytes it spans. An invalid sequence
/// spans the length its lead byte announces (or the rest of the input).
fn parse_codepoint(s: &[u8]) -> (Option<char>, usize) {
    let lead = s[0];
    let len = match lead {
        0x00..=0xbf => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        0xf8..=0xfb => 5,
        _ => 6,
    };
    if len > s.len() {
        return (None, s.len());
    }
    if len > 4 {
        return (None, len);
    }
    match std::str::from_utf8(&s[..len]) {
        Ok(t) => (t.chars().next(), len),
        Err(_) => (None, len),
    }
}

/// Characters dropped from path elements: separators and invisible
/// direction or formatting marks that can disguise a file's real name.
fn filtered(c: char) -> bool {
    matches!(
        c,
        '/' | '\\'
            | '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
    )
}

/// Characters replaced by `_`: C0 and C1 controls and DEL.
fn replaced(c: char) -> bool {
    (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c)
}

/// Sanitize one path element (a file or directory name) the way libtorrent
/// does on POSIX:
///
/// - `/`, `\` and invisible direction/format marks (U+200B–U+200F,
///   U+202A–U+202E, U+2060–U+206F, U+061C, U+FEFF) are removed;
/// - control characters and invalid UTF-8 sequences become `_`;
/// - an empty element becomes `_`;
/// - `.`, `..` and elements that are empty after filtering are dropped
///   (`None`), or become `_` when `force` is set (used for file paths, so
///   that a file keeps its depth);
/// - elements longer than [`TRUNCATE_ELEMENT_AT`] bytes are cut, keeping
///   their extension.
///
/// The result never contains a separator, is never `.` or `..`, and is
/// valid UTF-8.
///
/// ```
/// use bip_metainfo::sanitize_path_element;
/// assert_eq!(sanitize_path_element(b"..", false), None);
/// assert_eq!(sanitize_path_element(b"..", true).as_deref(), Some("_"));
/// assert_eq!(sanitize_path_element(b"/a/", false).as_deref(), Some("a"));
/// assert_eq!(sanitize_path_element(b"bad\x80name", false).as_deref(), Some("bad_name"));
/// ```
pub fn sanitize_path_element(element: &[u8], force: bool) -> Option<String> {
    let dropped = || force.then(|| "_".to_string());
    if element == b"." {
        return dropped();
    }
    if element.is_empty() {
        return Some("_".to_string());
    }
    let mut out = String::with_capacity(element.len().min(256));
    let mut num_dots = 0usize;
    let mut found_extension = false;
    let mut i = 0usize;
    while i < element.len() {
        let (cp, len) = parse_codepoint(&element[i..]);
        match cp {
            Some(c) if filtered(c) => {}
            Some(c) if !replaced(c) => {
                out.push(c);
                if c == '.' {
                    num_dots += 1;
                }
            }
            _ => out.push('_'),
        }
        i += len;
        if out.len() >= TRUNCATE_ELEMENT_AT && !found_extension && i < element.len() {
            // Keep the extension (from the last dot) and drop the middle.
            match element[i..].iter().rposition(|&b| b == b'.') {
                Some(dot) => {
                    found_extension = true;
                    i += dot;
                }
                None => break,
            }
        }
    }
    if out.len() == num_dots && num_dots <= 2 {
        return dropped();
    }
    Some(out)
}

/// Repair a string's UTF-8 the way libtorrent's `verify_encoding` does: every
/// invalid sequence becomes one `_`. Returns the repaired string and whether
/// the input was valid.
///
/// ```
/// use bip_metainfo::repair_utf8;
/// assert_eq!(repair_utf8(b"file\xc2"), ("file_".to_string(), false));
/// assert_eq!(repair_utf8("fil\u{e9}".as_bytes()), ("fil\u{e9}".to_string(), true));
/// ```
pub fn repair_utf8(input: &[u8]) -> (String, bool) {
    if let Ok(s) = std::str::from_utf8(input) {
        return (s.to_string(), true);
    }
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let (cp, len) = parse_codepoint(&input[i..]);
        out.push(cp.unwrap_or('_'));
        i += len;
    }
    (out, false)
}
