//! Which peers and torrents the handshaker accepts: filters that block, allow or defer.

use std::net::SocketAddr;

use bip_util::{InfoHash, PeerId};

use crate::extensions::Extensions;
use crate::state::Direction;

/// What a filter says about a peer, given what is known so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterDecision {
    /// Accept: this filter is not asked again for this connection.
    Allow,
    /// Refuse: the handshake stops (an incoming one without our handshake being sent, when the
    /// refusal comes before the peer id).
    Block,
    /// Not decidable yet: ask again when the next field (info hash and extensions, then peer
    /// id) is known. A filter still deferring after the peer id arrived counts as allowing.
    Defer,
}

/// What is known about a connection when a filter is asked. `None` fields are not known yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterInput {
    /// Who dialled.
    pub direction: Direction,
    /// The remote address (always known).
    pub addr: SocketAddr,
    /// The torrent: known before dialling, and for incoming connections once the peer sent it.
    pub info_hash: Option<InfoHash>,
    /// The remote's reserved bits, once received.
    pub extensions: Option<Extensions>,
    /// The remote's peer id: once received (or, before dialling, the id the discovery source
    /// reported).
    pub peer_id: Option<PeerId>,
}

impl FilterInput {
    /// Nothing but the address known.
    pub fn new(direction: Direction, addr: SocketAddr) -> Self {
        FilterInput {
            direction,
            addr,
            info_hash: None,
            extensions: None,
            peer_id: None,
        }
    }
}

/// A filter the handshaker consults at each stage of every handshake (see [`FilterDecision`]).
///
/// Closures `Fn(&FilterInput) -> FilterDecision` are filters.
pub trait HandshakeFilter: Send + Sync + 'static {
    /// Decide on what is known so far.
    fn check(&self, input: &FilterInput) -> FilterDecision;
}

impl<F> HandshakeFilter for F
where
    F: Fn(&FilterInput) -> FilterDecision + Send + Sync + 'static,
{
    fn check(&self, input: &FilterInput) -> FilterDecision {
        self(input)
    }
}

/// Runs a set of filters over the stages of one connection, remembering which already allowed.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) struct FilterRun {
    /// Bit i set: filter i already allowed (filters beyond 64 are always re-asked).
    allowed: u64,
}

#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
impl FilterRun {
    /// `true` if no filter blocks at this stage. `last`: deferring counts as allowing.
    pub(crate) fn pass(
        &mut self,
        filters: &[std::sync::Arc<dyn HandshakeFilter>],
        input: &FilterInput,
    ) -> bool {
        for (i, f) in filters.iter().enumerate() {
            if i < 64 && self.allowed & (1 << i) != 0 {
                continue;
            }
            match f.check(input) {
                FilterDecision::Allow if i < 64 => self.allowed |= 1 << i,
                FilterDecision::Allow | FilterDecision::Defer => {}
                FilterDecision::Block => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn allow_is_sticky_defer_is_reasked_block_stops() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let allow_once = move |_: &FilterInput| {
            c.fetch_add(1, Ordering::SeqCst);
            FilterDecision::Allow
        };
        let block_bad_id = |i: &FilterInput| match i.peer_id {
            None => FilterDecision::Defer,
            Some(id) if id.as_bytes()[0] == 0xff => FilterDecision::Block,
            Some(_) => FilterDecision::Allow,
        };
        let filters: Vec<Arc<dyn HandshakeFilter>> =
            vec![Arc::new(allow_once), Arc::new(block_bad_id)];
        let mut run = FilterRun::default();
        let mut input = FilterInput::new(Direction::Incoming, "127.0.0.1:1".parse().unwrap());
        assert!(run.pass(&filters, &input));
        input.info_hash = Some(InfoHash::new([1; 20]));
        assert!(run.pass(&filters, &input));
        input.peer_id = Some(PeerId::new([0xff; 20]));
        assert!(!run.pass(&filters, &input));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let mut run = FilterRun::default();
        input.peer_id = Some(PeerId::new([1; 20]));
        assert!(run.pass(&filters, &input));
    }
}
