//! The BEP 44 item store behind `put` and `get`: bounded in items and time, least recently
//! used evicted first, mutable items replaced only by a higher `seq` (with `cas` honoured).
//!
//! A pure data structure: time comes in as `now`; items are verified by the caller (the node
//! verifies every signature before it stores).
//!
//! ```
//! use bip_dht::item::Item;
//! use bip_dht::items::{ItemStore, ItemStoreConfig};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut store = ItemStore::new(ItemStoreConfig::default());
//! let item = Item::Immutable(b"5:hello".to_vec());
//! store.put(now, item.clone(), None).unwrap();
//! assert_eq!(store.get(now, &item.target()), Some(&item));
//! ```

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use bip_util::NodeId;

use crate::item::Item;

/// Settings of an [`ItemStore`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ItemStoreConfig {
    /// Items stored at most; the least recently used goes first. Default 4,096.
    pub max_items: usize,
    /// How long an item is kept without being put again (BEP 44: 2 hours). Default 2 hours.
    pub item_ttl: Duration,
}

impl Default for ItemStoreConfig {
    fn default() -> Self {
        ItemStoreConfig {
            max_items: 4096,
            item_ttl: Duration::from_secs(2 * 60 * 60),
        }
    }
}

/// Why a put was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PutError {
    /// `cas` did not match the stored `seq` (BEP 44 error 301).
    #[error("the CAS hash mismatched")]
    CasMismatch,
    /// `seq` is lower than the stored one (BEP 44 error 302).
    #[error("sequence number less than current")]
    SeqTooLow,
    /// The store holds no room (`max_items` is 0).
    #[error("no room")]
    Full,
}

#[derive(Debug, Clone)]
struct Entry {
    item: Item,
    stored: Instant,
    used: Instant,
}

/// The stored items, with an index ordered by last use for eviction.
#[derive(Debug, Clone)]
pub struct ItemStore {
    config: ItemStoreConfig,
    items: HashMap<NodeId, Entry>,
    by_use: BTreeSet<(Instant, NodeId)>,
}

impl ItemStore {
    /// An empty store.
    pub fn new(config: ItemStoreConfig) -> Self {
        ItemStore {
            config,
            items: HashMap::new(),
            by_use: BTreeSet::new(),
        }
    }

    /// The store's settings.
    pub fn config(&self) -> &ItemStoreConfig {
        &self.config
    }

    /// Items stored.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn expired(&self, now: Instant, e: &Entry) -> bool {
        now.saturating_duration_since(e.stored) >= self.config.item_ttl
    }

    /// The item stored under `target`, if any and not expired.
    pub fn get(&self, now: Instant, target: &NodeId) -> Option<&Item> {
        self.items
            .get(target)
            .filter(|e| !self.expired(now, e))
            .map(|e| &e.item)
    }

    /// Marks `target` as used (a `get` hit), for LRU eviction.
    pub fn touch(&mut self, now: Instant, target: &NodeId) {
        if let Some(e) = self.items.get_mut(target) {
            self.by_use.remove(&(e.used, *target));
            e.used = now;
            self.by_use.insert((now, *target));
        }
    }

    /// Stores `item` (already verified). A mutable item replaces a stored one only with a
    /// higher `seq`; an equal `seq` refreshes it; `cas`, if given, must equal the stored `seq`.
    pub fn put(&mut self, now: Instant, item: Item, cas: Option<i64>) -> Result<(), PutError> {
        if self.config.max_items == 0 {
            return Err(PutError::Full);
        }
        let target = item.target();
        if let Some(e) = self.items.get(&target).filter(|e| !self.expired(now, e)) {
            if let (Item::Mutable(old), Item::Mutable(new)) = (&e.item, &item) {
                if cas.is_some_and(|c| c != old.seq) {
                    return Err(PutError::CasMismatch);
                }
                if new.seq < old.seq {
                    return Err(PutError::SeqTooLow);
                }
                if new.seq == old.seq {
                    // Same version: keep the stored bytes, refresh its lifetime.
                    let item = e.item.clone();
                    return self.insert(now, target, item);
                }
            }
        }
        self.insert(now, target, item)
    }

    fn insert(&mut self, now: Instant, target: NodeId, item: Item) -> Result<(), PutError> {
        if let Some(old) = self.items.remove(&target) {
            self.by_use.remove(&(old.used, target));
        }
        while self.items.len() >= self.config.max_items {
            let Some((used, victim)) = self.by_use.pop_first() else {
                break;
            };
            let _ = used;
            self.items.remove(&victim);
        }
        self.items.insert(
            target,
            Entry {
                item,
                stored: now,
                used: now,
            },
        );
        self.by_use.insert((now, target));
        Ok(())
    }

    /// Drops expired items. O(items); the node calls it once a minute or so.
    pub fn expire(&mut self, now: Instant) {
        let ttl = self.config.item_ttl;
        let dead: Vec<(Instant, NodeId)> = self
            .items
            .iter()
            .filter(|(_, e)| now.saturating_duration_since(e.stored) >= ttl)
            .map(|(t, e)| (e.used, *t))
            .collect();
        for (used, t) in dead {
            self.items.remove(&t);
            self.by_use.remove(&(used, t));
        }
    }
}
