//! Stateless connection ids (BEP 15's connect step).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bip_util::WindowedMac;

/// Stateless connection ids: a keyed MAC of the client address (IP and port) under a secret
/// that rotates every window ([`bip_util::WindowedMac`], the same mechanism as DHT tokens), so
/// no per-client state is kept. An id is accepted in its own window and the two that follow, so
/// it stays valid for at least two windows (BEP 15: the tracker accepts an id for two minutes;
/// default window one minute) and at most three. A forged id passes one check with probability
/// 2⁻⁶⁴ (three keys are tried, so about 2⁻⁶² per packet). Clones share the secret, so several
/// cores (one per socket) accept each other's ids.
#[derive(Clone, Debug)]
pub struct ConnectionIds {
    mac: WindowedMac,
}

/// Windows before the current one in which an id is still accepted.
const ACCEPTED_PAST_WINDOWS: u64 = 2;

fn addr_bytes(addr: &SocketAddr, buf: &mut [u8; 18]) -> usize {
    let mut ip = [0u8; 16];
    let n = bip_util::core::ip_key_bytes(addr.ip(), &mut ip).len();
    buf[..n].copy_from_slice(&ip[..n]);
    buf[n..n + 2].copy_from_slice(&addr.port().to_be_bytes());
    n + 2
}

impl ConnectionIds {
    /// A new secret from `seed` (expanded through the reproducible
    /// [`CoreRng`](bip_util::CoreRng); drivers pass [`seed_from_clock`](crate::seed_from_clock)
    /// or OS entropy); `epoch` is the time origin of the windows.
    pub fn new(seed: u64, epoch: Instant, window: Duration) -> Self {
        let mut rng = bip_util::core_rng(crate::expand_seed(seed));
        ConnectionIds {
            mac: WindowedMac::new(&mut rng, epoch, window, ACCEPTED_PAST_WINDOWS),
        }
    }

    /// The connection id for `addr` at `now`.
    pub fn issue(&mut self, now: Instant, addr: &SocketAddr) -> u64 {
        let mut b = [0u8; 18];
        let n = addr_bytes(addr, &mut b);
        self.mac.issue(now, &b[..n])
    }

    /// Whether `id` was issued to `addr` in this window or one of the two before.
    pub fn check(&mut self, now: Instant, addr: &SocketAddr, id: u64) -> bool {
        let mut b = [0u8; 18];
        let n = addr_bytes(addr, &mut b);
        self.mac.check(now, &b[..n], id)
    }

    /// Pre-computes the current window's key (call from `handle_timeout`).
    pub fn rotate(&mut self, now: Instant) {
        self.mac.rotate(now);
    }

    /// When the next window starts.
    pub fn next_rotation(&self, now: Instant) -> Instant {
        self.mac.next_rotation(now)
    }
}
