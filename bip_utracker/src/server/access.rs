//! Which info hashes a server serves.

use std::collections::HashSet;

use bip_util::InfoHash;

/// Which info hashes the server serves.
#[derive(Debug, Clone, Default)]
pub enum AccessList {
    /// Every hash.
    #[default]
    Open,
    /// Only these.
    Allow(HashSet<InfoHash>),
    /// All but these.
    Deny(HashSet<InfoHash>),
}

impl AccessList {
    /// Whether `h` is served.
    pub fn allows(&self, h: &InfoHash) -> bool {
        match self {
            AccessList::Open => true,
            AccessList::Allow(s) => s.contains(h),
            AccessList::Deny(s) => !s.contains(h),
        }
    }
}
