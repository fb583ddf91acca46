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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bip_bencode::Value;

use crate::error::{InvalidKind, MetainfoError};
use crate::files::FileTable;

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
    let mut out = String::new();
    sanitize_path_element_into(element, force, &mut out).then_some(out)
}

/// [`sanitize_path_element`] appending to `out`; `false` (and nothing appended) when the
/// element is dropped.
pub(crate) fn sanitize_path_element_into(element: &[u8], force: bool, out: &mut String) -> bool {
    let dropped = |out: &mut String| {
        if force {
            out.push('_');
        }
        force
    };
    if element == b"." {
        return dropped(out);
    }
    if element.is_empty() {
        out.push('_');
        return true;
    }
    // Fast path: printable ASCII without separators, short enough not to be cut.
    if element.len() < TRUNCATE_ELEMENT_AT
        && element
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'/' && b != b'\\')
    {
        if element.len() <= 2 && element.iter().all(|&b| b == b'.') {
            return dropped(out);
        }
        // Printable ASCII is valid UTF-8.
        out.push_str(std::str::from_utf8(element).unwrap_or_default());
        return true;
    }
    let start = out.len();
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
        if out.len() - start >= TRUNCATE_ELEMENT_AT && !found_extension && i < element.len() {
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
    if out.len() - start == num_dots && num_dots <= 2 {
        out.truncate(start);
        return dropped(out);
    }
    true
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

/// Sanitize a path list of a torrent (`path`, `symlink path`) onto `out`, its elements joined
/// with `/`: every element in force mode, at most [`MAX_PATH_DEPTH`](crate::MAX_PATH_DEPTH)
/// elements of at most [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes.
pub(crate) fn sanitize_list_into(
    list_val: Value<'_, '_>,
    kind: InvalidKind,
    out: &mut String,
) -> Result<(), MetainfoError> {
    let list = list_val.list()?;
    let start = out.len();
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
        let mark = out.len();
        if mark > start {
            out.push('/');
        }
        if !sanitize_path_element_into(b, true, out) {
            out.truncate(mark);
        }
    }
    Ok(())
}

/// Hashes of paths (components joined with `/`), randomly keyed so that a torrent's author
/// cannot make paths collide: the tables of [`renames`], [`check_duplicates`] and
/// [`sanitize_symlinks`] hold 8 bytes a path, and compare the paths themselves only when hashes
/// are equal.
struct PathHasher {
    state: std::collections::hash_map::RandomState,
    buf: String,
}

impl PathHasher {
    fn new() -> Self {
        PathHasher {
            state: Default::default(),
            buf: String::new(),
        }
    }

    fn exact(&self, path: &str) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = self.state.build_hasher();
        h.write(path.as_bytes());
        h.finish()
    }

    /// The hash of `path` lowercased (equal for paths equal ignoring case).
    fn lower(&mut self, path: &str) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        self.buf.clear();
        if path.is_ascii() {
            self.buf.push_str(path);
            self.buf.make_ascii_lowercase();
        } else {
            self.buf.extend(path.chars().flat_map(char::to_lowercase));
        }
        let mut h = self.state.build_hasher();
        h.write(self.buf.as_bytes());
        h.finish()
    }
}

/// Whether two paths are equal ignoring case (as libtorrent compares them).
fn lower_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// The byte lengths of a path's folders (`a/b/c`: the lengths of `a` and `a/b`).
fn folder_lens(path: &str) -> impl Iterator<Item = usize> + '_ {
    path.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'/')
        .map(|(i, _)| i)
}

/// The files libtorrent renames before it writes them (see
/// [`Info::unique_paths`](crate::Info::unique_paths)): `(index, new path)` in index order,
/// usually none.
///
/// libtorrent keeps a set of every folder and every (final) file path, lowercased: a file whose
/// path is taken (by a folder, or by an earlier file unless both are padding files of the same
/// length) is renamed `base.N.ext` with the first free N. Here the set is two sorted tables of
/// hashes (files, folders); when no hash repeats nothing is renamed, which is the common case.
/// Otherwise the same walk runs, comparing paths exactly where hashes are equal.
pub(crate) fn renames(files: &FileTable) -> Vec<(usize, String)> {
    let n = files.len();
    let mut hasher = PathHasher::new();
    let mut by_hash: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut folders: Vec<(u64, u32, u32)> = Vec::new();
    let mut prev = "";
    for i in 0..n {
        let p = files.path(i);
        by_hash.push((hasher.lower(p), i as u32));
        for len in folder_lens(p) {
            // Files of one folder usually follow each other: list a folder once for them.
            if prev.len() > len && prev.as_bytes()[len] == b'/' && prev[..len] == p[..len] {
                continue;
            }
            folders.push((hasher.lower(&p[..len]), i as u32, len as u32));
        }
        prev = p;
    }
    by_hash.sort_unstable();
    folders.sort_unstable();
    let repeated = by_hash.windows(2).any(|w| w[0].0 == w[1].0)
        || by_hash
            .iter()
            .any(|(h, _)| folders.binary_search_by_key(h, |f| f.0).is_ok());
    if !repeated {
        return Vec::new();
    }

    let pad_of = |i: usize| files.is_pad(i).then(|| files.entry(i).length());
    // Renamed files' new paths, lowercased, with their padding length.
    let mut renamed_keys: std::collections::HashMap<String, Option<u64>> = Default::default();
    let mut out: Vec<(usize, String)> = Vec::new();
    // Whether `path` is taken when file `n` comes: Some(the padding length of the file holding
    // it, or None for a folder).
    // The last file so far (not renamed) holding each path hash: one lookup instead of a scan
    // of every earlier file with that hash (thousands of padding files share `.pad/N`).
    let mut holder: std::collections::HashMap<u64, u32> = Default::default();
    let taken = |path: &str,
                 hash: u64,
                 n: usize,
                 out: &[(usize, String)],
                 renamed_keys: &std::collections::HashMap<String, Option<u64>>,
                 holder: &std::collections::HashMap<u64, u32>|
     -> Option<Option<u64>> {
        let start = folders.partition_point(|f| f.0 < hash);
        for &(h, i, len) in &folders[start..] {
            if h != hash {
                break;
            }
            if lower_eq(&files.path(i as usize)[..len as usize], path) {
                return Some(None);
            }
        }
        let mut found = None;
        match holder.get(&hash) {
            Some(&j) if lower_eq(files.path(j as usize), path) => found = Some(pad_of(j as usize)),
            None => {}
            // Another path with the same hash: scan the files with that hash.
            Some(_) => {
                let start = by_hash.partition_point(|f| f.0 < hash);
                for &(h, i) in &by_hash[start..] {
                    let i = i as usize;
                    if h != hash || i >= n {
                        break;
                    }
                    let was_renamed = out.binary_search_by_key(&i, |r| r.0).is_ok();
                    if !was_renamed && lower_eq(files.path(i), path) {
                        found = Some(pad_of(i));
                    }
                }
            }
        }
        if found.is_some() {
            return found;
        }
        if renamed_keys.is_empty() {
            return None;
        }
        let lower: String = path.chars().flat_map(char::to_lowercase).collect();
        renamed_keys.get(&lower).copied()
    };
    for i in 0..n {
        let path = files.path(i);
        let pad = pad_of(i);
        let hash = hasher.lower(path);
        let free = match taken(path, hash, i, &out, &renamed_keys, &holder) {
            None => true,
            Some(len) => pad.is_some() && len == pad,
        };
        if free {
            holder.insert(hash, i as u32);
            continue;
        }
        let (dir, last) = match path.rfind('/') {
            Some(s) => (&path[..=s], &path[s + 1..]),
            None => ("", path),
        };
        let (base, ext) = match last.rfind('.') {
            Some(p) if p > 0 => (&last[..p], &last[p..]),
            _ => (last, ""),
        };
        let mut counter = 0u64;
        let new = loop {
            counter += 1;
            let candidate = format!("{dir}{base}.{counter}{ext}");
            let h = hasher.lower(&candidate);
            if taken(&candidate, h, i, &out, &renamed_keys, &holder).is_none() {
                break candidate;
            }
        };
        renamed_keys.insert(new.chars().flat_map(char::to_lowercase).collect(), pad);
        out.push((i, new));
    }
    out
}

/// libtorrent renames the n-th copy of a path to `name.n`, trying each suffix in turn; it gives
/// up after `max_duplicate_filenames` attempts ([`MAX_DUPLICATE_PATHS`](crate::MAX_DUPLICATE_PATHS)).
///
/// A sorted table of path hashes bounds the attempts from above (paths with equal hashes counted
/// as copies); only past the limit are the paths with repeated hashes compared exactly, in
/// order, to find the file that passes it.
///
/// Padding files are not counted: they are never written, every padding file of one length has
/// the same path (`.pad/N`), and [`renames`] lets them share it; counting them made a v2 or hybrid
/// torrent with 33 files of equal length modulo the piece length unreadable.
pub(crate) fn check_duplicates(files: &FileTable, field: String) -> Result<(), MetainfoError> {
    let mut hasher = PathHasher::new();
    let mut hashes: Vec<u64> = (0..files.len())
        .filter(|&i| !files.is_pad(i))
        .map(|i| hasher.lower(files.path(i)))
        .collect();
    hashes.sort_unstable();
    let mut bound = 0usize;
    let mut repeated: Vec<u64> = Vec::new();
    for run in hashes.chunk_by(|a, b| a == b) {
        if run.len() > 1 {
            bound = bound.saturating_add(run.len() * (run.len() - 1) / 2);
            repeated.push(run[0]);
        }
    }
    drop(hashes);
    if bound <= crate::MAX_DUPLICATE_PATHS {
        return Ok(());
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut attempts = 0usize;
    for i in 0..files.len() {
        let p = files.path(i);
        if files.is_pad(i) || repeated.binary_search(&hasher.lower(p)).is_err() {
            continue;
        }
        let n = seen
            .entry(p.chars().flat_map(char::to_lowercase).collect())
            .or_default();
        attempts += *n;
        *n += 1;
        if attempts > crate::MAX_DUPLICATE_PATHS {
            return Err(MetainfoError::invalid_detail(
                field,
                InvalidKind::TooManyDuplicatePaths,
                p.to_string(),
            ));
        }
    }
    Ok(())
}

/// Make symlink targets point inside the torrent, as libtorrent's
/// `sanitize_symlinks` does: a target that names no file or directory of
/// the torrent is tried relative to the link's own directory, and otherwise
/// made to point at the link itself.
pub(crate) fn sanitize_symlinks(files: &mut FileTable) {
    if files.targets().is_empty() {
        return;
    }
    // Hashes of every file path and directory prefix (sorted, so that memory stays 8 bytes a
    // path).
    let hasher = PathHasher::new();
    let mut known: Vec<u64> = Vec::new();
    for i in 0..files.len() {
        let p = files.path(i);
        known.extend(folder_lens(p).map(|l| hasher.exact(&p[..l])));
        known.push(hasher.exact(p));
    }
    known.sort_unstable();
    known.dedup();
    let mut links: Vec<u64> = files
        .targets()
        .iter()
        .map(|(i, _)| hasher.exact(files.path(*i as usize)))
        .collect();
    links.sort_unstable();
    // A target is fine if it, or a path through another link, is in the torrent.
    let exists = |t: &str| {
        known.binary_search(&hasher.exact(t)).is_ok()
            || folder_lens(t).any(|l| links.binary_search(&hasher.exact(&t[..l])).is_ok())
    };
    let mut changes = Vec::new();
    for (i, target) in files.targets() {
        let i = *i as usize;
        if target.is_empty() || !exists(target) {
            let link = files.path(i);
            let rel = match link.rfind('/') {
                Some(s) if !target.is_empty() => format!("{}/{target}", &link[..s]),
                _ => target.to_string(),
            };
            let new = if !target.is_empty() && exists(&rel) {
                rel
            } else {
                link.to_string()
            };
            changes.push((i, new));
        }
    }
    for (i, new) in changes {
        files.replace_target(i, new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::FileAttrs;

    /// libtorrent's walk as the crate did it before the hash tables: lowercased path strings.
    fn renames_reference(files: &FileTable) -> Vec<(usize, String)> {
        let lower = |s: &str| -> String { s.chars().flat_map(char::to_lowercase).collect() };
        let mut taken: HashMap<String, Option<u64>> = HashMap::new();
        for i in 0..files.len() {
            let p = files.path(i);
            for l in folder_lens(p) {
                taken.insert(lower(&p[..l]), None);
            }
        }
        let mut out = Vec::new();
        for i in 0..files.len() {
            let p = files.path(i);
            let pad = files.is_pad(i).then(|| files.entry(i).length());
            let mut key = lower(p);
            let free = match taken.get(&key) {
                None => true,
                Some(len) => pad.is_some() && *len == pad,
            };
            if !free {
                let (dir, last) = match p.rfind('/') {
                    Some(s) => (&p[..=s], &p[s + 1..]),
                    None => ("", p),
                };
                let (base, ext) = match last.rfind('.') {
                    Some(d) if d > 0 => (&last[..d], &last[d..]),
                    _ => (last, ""),
                };
                let mut counter = 0;
                let new = loop {
                    counter += 1;
                    let c = format!("{dir}{base}.{counter}{ext}");
                    key = lower(&c);
                    if !taken.contains_key(&key) {
                        break c;
                    }
                };
                out.push((i, new));
            }
            taken.insert(key, pad);
        }
        out
    }

    fn table(files: &[(String, bool, u64)]) -> FileTable {
        let mut t = FileTable::default();
        for (p, pad, len) in files {
            t.paths.push_str(p);
            let attrs = FileAttrs {
                pad: *pad,
                ..FileAttrs::default()
            };
            t.push(*len, attrs).unwrap();
        }
        t
    }

    #[test]
    fn renames_and_duplicates_agree_with_the_plain_walk() {
        // Names that collide ignoring case (the Kelvin sign lowercases to `k`), with counters,
        // and as folders.
        let names = [
            "a", "A", "a.txt", "A.TXT", "a.1.txt", "a.1", "k", "\u{212a}", "b", ".pad", "1",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..400 {
            let count = 1 + next(if round % 10 == 0 { 60 } else { 12 });
            let files: Vec<(String, bool, u64)> = (0..count)
                .map(|_| {
                    let depth = 1 + next(3);
                    let p: Vec<&str> = (0..depth).map(|_| names[next(names.len())]).collect();
                    (p.join("/"), next(4) == 0, 1 + next(2) as u64)
                })
                .collect();
            let t = table(&files);
            assert_eq!(renames(&t), renames_reference(&t), "{files:?}");
            // check_duplicates: the file past the limit, as the plain count finds it.
            let lower = |s: &str| -> String { s.chars().flat_map(char::to_lowercase).collect() };
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut attempts = 0;
            let mut want = Ok(());
            for (p, _, _) in &files {
                let n = seen.entry(lower(p)).or_default();
                attempts += *n;
                *n += 1;
                if attempts > crate::MAX_DUPLICATE_PATHS {
                    want = Err(p.clone());
                    break;
                }
            }
            let want = want.map_err(|p| {
                MetainfoError::invalid_detail("files", InvalidKind::TooManyDuplicatePaths, p)
                    .to_string()
            });
            let got = check_duplicates(&t, "files".into()).map_err(|e| e.to_string());
            assert_eq!(got, want, "{files:?}");
        }
        // Past the limit: 33 copies cost 528 attempts; the 33rd is named.
        let mut files: Vec<(String, bool, u64)> =
            (0..40).map(|i| (format!("u{i}"), false, 1)).collect();
        for i in 0..33 {
            let p = if i % 2 == 0 { "x/Y" } else { "X/y" };
            files.insert(i * 2, (p.into(), false, 1));
        }
        let e = check_duplicates(&table(&files), "files".into()).unwrap_err();
        let want =
            MetainfoError::invalid_detail("files", InvalidKind::TooManyDuplicatePaths, "x/Y");
        assert_eq!(e.to_string(), want.to_string());
    }
}
