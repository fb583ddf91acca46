//! .torrent files (v1, v2, hybrid): parse, create with parallel hashing, verify, magnet links
//!
//! Work in progress.
