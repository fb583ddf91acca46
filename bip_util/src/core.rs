//! Pieces of the one core contract every stateful sans-IO core in bip follows (see the
//! workspace's design notes): the [`Transmit`] a core hands its driver, the reproducible seeded
//! [`CoreRng`], and [`WindowedMac`], keyed tags under a rotating secret (UDP tracker connection
//! ids, DHT tokens).
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//! use bip_util::core::{core_rng, WindowedMac};
//!
//! let mut rng = core_rng([7; 32]); // the same seed gives the same stream on every version
//! let start = Instant::now();
//! let mut tokens = WindowedMac::new(&mut rng, start, Duration::from_secs(300), 1);
//! let tag = tokens.issue(start, b"\x7f\x00\x00\x01");
//! assert!(tokens.check(start + Duration::from_secs(500), b"\x7f\x00\x00\x01", tag));
//! assert!(!tokens.check(start + Duration::from_secs(700), b"\x7f\x00\x00\x01", tag));
//! assert!(!tokens.check(start, b"\x7f\x00\x00\x02", tag));
//! ```

use std::hash::Hasher;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
use rand::SeedableRng;
use siphasher::sip::SipHasher13;

/// The RNG every core draws from: ChaCha12 from a 32-byte seed. Unlike `rand`'s `StdRng`, its
/// output for a given seed is documented as stable across versions, so a seeded test keeps its
/// meaning. Tests give fixed seeds; drivers give OS entropy.
pub type CoreRng = rand_chacha::ChaCha12Rng;

/// A [`CoreRng`] from a 32-byte seed.
pub fn core_rng(seed: [u8; 32]) -> CoreRng {
    CoreRng::from_seed(seed)
}

/// A 32-byte seed from the operating system's entropy, for drivers.
pub fn os_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    // The thread RNG is seeded from the OS and reseeds itself; drivers only need a fresh seed.
    rand::rng().fill_bytes(&mut seed);
    seed
}

/// One datagram a core wants sent: `len` bytes at the start of the buffer the caller passed to
/// `poll_transmit`, to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transmit {
    /// Destination.
    pub to: SocketAddr,
    /// Number of bytes written into the caller's buffer.
    pub len: usize,
}

/// Keyed 64-bit tags (SipHash-1-3) under a secret that rotates every `window`: a tag issued in
/// window `w` is accepted in `w` and the `accepted_past` windows after it. No per-client state.
///
/// The key for window `w` is derived from a 128-bit master secret, so rotation needs no
/// randomness at run time and clones (one per socket or thread) accept each other's tags. A
/// forged tag passes one check with probability 2⁻⁶⁴ per key tried.
#[derive(Clone)]
pub struct WindowedMac {
    master: (u64, u64),
    epoch: Instant,
    window: Duration,
    accepted_past: u64,
    cache: [(u64, (u64, u64)); 3],
}

impl std::fmt::Debug for WindowedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowedMac")
            .field("window", &self.window)
            .field("accepted_past", &self.accepted_past)
            .finish_non_exhaustive()
    }
}

impl WindowedMac {
    /// A new master secret drawn from `rng`; `epoch` is the time origin of the windows (a zero
    /// window is taken as one millisecond); `accepted_past` is capped at 2.
    pub fn new<R: RngCore + ?Sized>(
        rng: &mut R,
        epoch: Instant,
        window: Duration,
        accepted_past: u64,
    ) -> Self {
        let master = (rng.next_u64(), rng.next_u64());
        let mut mac = WindowedMac {
            master,
            epoch,
            window: window.max(Duration::from_millis(1)),
            accepted_past: accepted_past.min(2),
            cache: [(u64::MAX, (0, 0)); 3],
        };
        for w in 0..3u64 {
            mac.cache[w as usize] = (w, mac.derive(w));
        }
        mac
    }

    fn derive(&self, w: u64) -> (u64, u64) {
        let mut h = SipHasher13::new_with_keys(self.master.0, self.master.1);
        h.write_u64(w);
        let a = h.finish();
        h.write_u8(1);
        (a, h.finish())
    }

    fn window_of(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_nanos() / self.window.as_nanos()) as u64
    }

    fn key(&mut self, w: u64) -> (u64, u64) {
        if let Some(&(_, k)) = self.cache.iter().find(|(cw, _)| *cw == w) {
            return k;
        }
        let k = self.derive(w);
        let oldest = (0..3).min_by_key(|&i| self.cache[i].0).unwrap_or(0);
        if w > self.cache[oldest].0 || self.cache[oldest].0 == u64::MAX {
            self.cache[oldest] = (w, k);
        }
        k
    }

    fn tag(key: (u64, u64), data: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(key.0, key.1);
        h.write(data);
        h.finish()
    }

    /// The tag of `data` at `now`.
    pub fn issue(&mut self, now: Instant, data: &[u8]) -> u64 {
        let k = self.key(self.window_of(now));
        Self::tag(k, data)
    }

    /// Whether `tag` was issued for `data` in this window or one of the `accepted_past` before.
    pub fn check(&mut self, now: Instant, data: &[u8], tag: u64) -> bool {
        let w = self.window_of(now);
        (0..=self.accepted_past.min(w)).any(|back| {
            let k = self.key(w - back);
            Self::tag(k, data) == tag
        })
    }

    /// Pre-computes the current window's key (call from `handle_timeout`).
    pub fn rotate(&mut self, now: Instant) {
        let w = self.window_of(now);
        let _ = self.key(w);
    }

    /// When the next window starts.
    pub fn next_rotation(&self, now: Instant) -> Instant {
        let w = self.window_of(now);
        self.epoch + self.window * (w as u32).saturating_add(1)
    }
}

/// The bytes of an IP address as it is keyed (IPv4-mapped IPv6 taken as IPv4), into `buf`;
/// returns the used prefix. For MACs over addresses.
pub fn ip_key_bytes(ip: std::net::IpAddr, buf: &mut [u8; 16]) -> &[u8] {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => {
            buf[..4].copy_from_slice(&v4.octets());
            &buf[..4]
        }
        std::net::IpAddr::V6(v6) => {
            buf.copy_from_slice(&v6.octets());
            &buf[..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_accept_exactly_the_past_ones() {
        let mut rng = core_rng([1; 32]);
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        let mut m = WindowedMac::new(&mut rng, t0, w, 2);
        let tag = m.issue(t0 + Duration::from_secs(5), b"abc");
        for s in [5, 9, 10, 25, 29] {
            assert!(m.check(t0 + Duration::from_secs(s), b"abc", tag), "at {s}");
        }
        assert!(!m.check(t0 + Duration::from_secs(30), b"abc", tag));
        assert!(!m.check(t0 + Duration::from_secs(5), b"abd", tag));
        assert_eq!(m.next_rotation(t0 + Duration::from_secs(5)), t0 + w);
    }

    #[test]
    fn same_seed_same_tags() {
        let t0 = Instant::now();
        let mut a = WindowedMac::new(&mut core_rng([3; 32]), t0, Duration::from_secs(1), 1);
        let mut b = WindowedMac::new(&mut core_rng([3; 32]), t0, Duration::from_secs(1), 1);
        assert_eq!(a.issue(t0, b"x"), b.issue(t0, b"x"));
    }
}
