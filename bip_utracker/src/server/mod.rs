//! The tracker side: a request → answer core ([`ServerCore`]), the [`Store`] trait that
//! decides announces and scrapes, the built-in [`MemoryStore`], stateless
//! [`ConnectionIds`] and the [`AccessList`]; one file per concept.

mod access;
mod core;
mod ids;
mod memory;
mod store;

pub use self::access::AccessList;
pub use self::core::{Counters, ServerConfig, ServerCore, ServerStats};
pub use self::ids::ConnectionIds;
pub use self::memory::{MemoryStore, MemoryStoreConfig};
pub use self::store::{Announce, Refusal, Store, SwarmCounts};
