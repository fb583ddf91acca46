//! The one path policy of the crate, used by parsing, creating, showing and verifying.
//!
//! - Parsing sanitizes every name and path element as libtorrent does
//!   ([`sanitize_path_element`], [`repair_utf8`]), makes symlink targets point inside the
//!   torrent, bounds duplicate paths, and makes paths unique the way libtorrent does before it
//!   writes files ([`Info::unique_paths`](crate::Info::unique_paths)).
//! - Showing and verifying use the same paths: [`Info::disk_paths`](crate::Info::disk_paths)
//!   (relative to the download folder) is built from the unique paths, and verification refuses
//!   any path that is not made of plain components before it touches the disk.
//! - Creating refuses what parsing would have to change ([`check_create_component`],
//!   [`check_create_paths`]): a name that sanitization would rename, drop or cut, a padding-like
//!   name, a path deeper than [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH), or two paths that
//!   differ only by case. So a created torrent parses back to exactly its source's paths.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bip_bencode::Value;

use crate::error::{InvalidKind, MetainfoError};
use crate::info::FileEntry;

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

/// Why [`check_create_component`] or [`check_create_paths`] refused a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRefusal {
    /// The offending path (components joined with `/`).
    pub path: String,
    /// Why: what parsing would do with it.
    pub reason: String,
}

impl std::fmt::Display for PathRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.path, self.reason)
    }
}

/// The marker of BitComet-style padding files: parsing takes any path holding it for padding.
pub(crate) const PAD_MARKER: &str = "_____padding_file_";

/// Whether a created torrent may use `c` as a name or path element: `Ok` exactly when parsing
/// gives it back unchanged (libtorrent's sanitizer keeps it as is) and does not take it for a
/// padding file.
///
/// ```
/// use bip_metainfo::check_create_component;
/// assert!(check_create_component("report.pdf").is_ok());
/// for bad in ["", ".", "..", "a/b", "a\\b", "nul\0", "tab\t", "rtl\u{202e}txt.exe",
///             "_____padding_file_0", &"x".repeat(300)] {
///     assert!(check_create_component(bad).is_err(), "{bad:?}");
/// }
/// ```
pub fn check_create_component(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Err("empty name".into());
    }
    if c.contains(PAD_MARKER) {
        return Err(format!(
            "names holding {PAD_MARKER:?} are taken for padding files"
        ));
    }
    match sanitize_path_element(c.as_bytes(), false) {
        Some(s) if s == c => Ok(()),
        None => Err("`.`, `..` and names of only separators are dropped by parsers".into()),
        Some(s) if c.len() > s.len() && s.len() >= TRUNCATE_ELEMENT_AT => Err(format!(
            "longer than {TRUNCATE_ELEMENT_AT} bytes: parsers cut it to {} bytes",
            s.len()
        )),
        Some(s) => Err(format!(
            "separators, control characters or invisible marks: parsers rename it to {s:?}"
        )),
    }
}

/// Check a created torrent's file paths (relative to its root folder): every component passes
/// [`check_create_component`], no path is deeper than [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH),
/// no two paths are equal ignoring case (parsers would rename the second), no file is also a
/// directory, and with `padded` (hybrid torrents) no path starts with `.pad`, the folder of the
/// padding files.
pub fn check_create_paths<'a>(
    paths: impl IntoIterator<Item = &'a [String]>,
    padded: bool,
) -> Result<(), PathRefusal> {
    let refuse = |p: &[String], reason: String| PathRefusal {
        path: p.join("/"),
        reason,
    };
    let mut seen: HashMap<String, bool> = HashMap::new();
    for p in paths {
        if p.len() > crate::MAX_PATH_DEPTH {
            return Err(refuse(
                p,
                format!("deeper than {} components", crate::MAX_PATH_DEPTH),
            ));
        }
        for c in p {
            check_create_component(c).map_err(|r| refuse(p, format!("{c:?}: {r}")))?;
        }
        if padded && p.first().map(String::as_str) == Some(".pad") {
            return Err(refuse(
                p,
                "`.pad` is the folder of a hybrid torrent's padding files".into(),
            ));
        }
        let mut key = String::new();
        for (i, c) in p.iter().enumerate() {
            if i > 0 {
                key.push('/');
            }
            key.push_str(&c.to_lowercase());
            let is_file = i + 1 == p.len();
            match seen.get(&key) {
                Some(&was_file) if was_file || is_file => {
                    return Err(refuse(
                        p,
                        "another file or folder has this path ignoring case; parsers would \
                         rename one"
                            .into(),
                    ))
                }
                Some(_) => {}
                None => {
                    seen.insert(key.clone(), is_file);
                }
            }
        }
    }
    Ok(())
}

/// Whether `rel` is made only of plain components (no root, drive prefix, `.` or `..`), so that
/// joining it onto a folder stays inside that folder.
pub(crate) fn is_contained(rel: &Path) -> bool {
    rel.components().next().is_some()
        && rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(s) if !s.is_empty()))
}

/// A parsed path element list as a relative path, each element checked again (defence in depth:
/// sanitized elements always pass).
pub(crate) fn rel_path<'a>(comps: impl IntoIterator<Item = &'a str>) -> PathBuf {
    let mut out = PathBuf::new();
    for c in comps {
        debug_assert!(sanitize_path_element(c.as_bytes(), true).as_deref() == Some(c) || c == "_");
        out.push(c);
    }
    out
}

/// Sanitize a path list of a torrent (`path`, `symlink path`): every element in force mode, at
/// most [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH) elements of at most
/// [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes.
pub(crate) fn sanitize_list(
    list_val: Value<'_, '_>,
    kind: InvalidKind,
) -> Result<Vec<String>, MetainfoError> {
    let list = list_val.list()?;
    let mut out = Vec::new();
    for (n, e) in list.iter().enumerate() {
        if n >= crate::MAX_PATH_DEPTH {
            return Err(MetainfoError::invalid(
                list_val.path(),
                InvalidKind::PathTooDeep,
            ));
        }
        let b = e
            .as_bytes()
            .ok_or_else(|| MetainfoError::invalid(e.path(), kind))?;
        if b.len() > crate::MAX_NAME_LEN {
            return Err(MetainfoError::invalid(e.path(), InvalidKind::NameTooLong));
        }
        if let Some(s) = sanitize_path_element(b, true) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Case-insensitive keys of paths: 128 bits from two randomly keyed hashers, so that the
/// tables of [`renames`] and [`check_duplicates`] hold 16 bytes a path rather than a lowercased
/// copy of it (collisions: about n² / 2^129, and not steerable by a torrent's author).
struct PathKeys(
    std::collections::hash_map::RandomState,
    std::collections::hash_map::RandomState,
);

impl PathKeys {
    fn new() -> Self {
        PathKeys(Default::default(), Default::default())
    }

    fn key(&self, comps: &[String]) -> u128 {
        use std::hash::{BuildHasher, Hasher};
        let (mut a, mut b) = (self.0.build_hasher(), self.1.build_hasher());
        for (i, c) in comps.iter().enumerate() {
            if i > 0 {
                a.write_u8(b'/');
                b.write_u8(b'/');
            }
            for ch in c.chars().flat_map(char::to_lowercase) {
                a.write_u32(ch as u32);
                b.write_u32(ch as u32);
            }
        }
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }
}

/// The files libtorrent renames before it writes them (see
/// [`Info::unique_paths`](crate::Info::unique_paths)): `(index, new path)`, usually none.
pub(crate) fn renames(files: &[FileEntry]) -> Vec<(usize, Vec<String>)> {
    let keys = PathKeys::new();
    // Value: the length of the padding file holding the path, or None.
    let mut taken: HashMap<u128, Option<u64>> = HashMap::with_capacity(files.len());
    for f in files {
        for i in 1..f.path.len() {
            taken.insert(keys.key(&f.path[..i]), None);
        }
    }
    let mut out = Vec::new();
    for (n, f) in files.iter().enumerate() {
        let pad = f.attrs.pad.then_some(f.length);
        let mut key = keys.key(&f.path);
        let free = match taken.get(&key) {
            None => true,
            Some(len) => pad.is_some() && *len == pad,
        };
        if !free {
            let mut path = f.path.clone();
            let last = path.last().cloned().unwrap_or_default();
            let (base, ext) = match last.rfind('.') {
                Some(p) if p > 0 => (last[..p].to_string(), last[p..].to_string()),
                _ => (last.clone(), String::new()),
            };
            let mut counter = 0u64;
            loop {
                counter += 1;
                if let Some(l) = path.last_mut() {
                    *l = format!("{base}.{counter}{ext}");
                }
                key = keys.key(&path);
                if !taken.contains_key(&key) {
                    break;
                }
            }
            out.push((n, path));
        }
        taken.insert(key, pad);
    }
    out
}

/// libtorrent renames the n-th copy of a path to `name.n`, trying each suffix in turn; it gives
/// up after `max_duplicate_filenames` attempts ([`MAX_DUPLICATE_PATHS`](crate::MAX_DUPLICATE_PATHS)).
pub(crate) fn check_duplicates(files: &[FileEntry], field: String) -> Result<(), MetainfoError> {
    let keys = PathKeys::new();
    let mut seen: HashMap<u128, usize> = HashMap::with_capacity(files.len());
    let mut attempts = 0usize;
    for f in files {
        let n = seen.entry(keys.key(&f.path)).or_default();
        attempts += *n;
        *n += 1;
        if attempts > crate::MAX_DUPLICATE_PATHS {
            return Err(MetainfoError::invalid_detail(
                field,
                InvalidKind::TooManyDuplicatePaths,
                f.path_string(),
            ));
        }
    }
    Ok(())
}

/// Make symlink targets point inside the torrent, as libtorrent's
/// `sanitize_symlinks` does: a target that names no file or directory of
/// the torrent is tried relative to the link's own directory, and otherwise
/// made to point at the link itself.
pub(crate) fn sanitize_symlinks(files: &mut [FileEntry]) {
    if !files.iter().any(|f| f.symlink_target.is_some()) {
        return;
    }
    // Hashes of every file path and directory prefix (hashes rather than
    // strings, so that memory stays linear in the number of files).
    let mut known: HashSet<u64> = HashSet::new();
    for f in files.iter() {
        known.extend(prefix_hashes(&f.path));
    }
    let links: HashSet<u64> = files
        .iter()
        .filter(|f| f.symlink_target.is_some())
        .map(|f| path_hash(&f.path))
        .collect();
    // A target is fine if it, or a path through another link, is in the torrent.
    let exists = |t: &[String]| {
        let prefixes = prefix_hashes(t);
        let whole = prefixes.last().copied();
        whole.is_some_and(|w| known.contains(&w))
            || prefixes[..prefixes.len().saturating_sub(1)]
                .iter()
                .any(|p| links.contains(p))
    };
    for f in files.iter_mut() {
        let Some(target) = &f.symlink_target else {
            continue;
        };
        if target.is_empty() || !exists(target) {
            let mut rel = f.path[..f.path.len().saturating_sub(1)].to_vec();
            rel.extend(target.iter().cloned());
            f.symlink_target = Some(if !target.is_empty() && exists(&rel) {
                rel
            } else {
                f.path.clone()
            });
        }
    }
}

fn prefix_hashes(path: &[String]) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.iter()
        .map(|e| {
            e.hash(&mut h);
            h.finish()
        })
        .collect()
}

fn path_hash(path: &[String]) -> u64 {
    prefix_hashes(path).last().copied().unwrap_or(0)
}
