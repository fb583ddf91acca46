//! Per-address limits on inbound queries with a block list, after libtorrent's `dos_blocker`:
//! a token bucket per IP address (5 queries a second averaged over 10 s by default); an address
//! that empties its bucket is blocked for 5 minutes.
//!
//! A pure data structure: no I/O, no clock (time comes in as `now` arguments). Memory is
//! bounded by [`RateLimitConfig::max_tracked`] addresses.
//!
//! ```
//! use bip_dht::ratelimit::{RateLimitConfig, RateLimiter, Verdict};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut limiter = RateLimiter::new(RateLimitConfig::default());
//! let ip = "203.0.113.7".parse().unwrap();
//! assert_eq!(limiter.check(now, ip), Verdict::Allow);
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::table::is_local;

/// Settings of a [`RateLimiter`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Sustained queries a second allowed per address. Default 5. Zero disables limiting.
    pub queries_per_sec: u32,
    /// The window the rate is averaged over: the burst allowed is `queries_per_sec * window`.
    /// Default 10 s.
    pub window: Duration,
    /// How long an address that exceeded the limit stays blocked. Default 5 minutes.
    pub block_for: Duration,
    /// Addresses tracked at most. Default 4,096.
    pub max_tracked: usize,
    /// Loopback and local-network addresses are never limited. Default `true`.
    pub exempt_local: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            queries_per_sec: 5,
            window: Duration::from_secs(10),
            block_for: Duration::from_secs(5 * 60),
            max_tracked: 4096,
            exempt_local: true,
        }
    }
}

/// What to do with one inbound query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// The address just crossed the limit and is now blocked: drop the query.
    Block,
    /// The address was already blocked: drop the query.
    Blocked,
}

/// One token, in the micro-tokens buckets count in.
const TOKEN: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Micro-tokens left at `last`.
    tokens: u64,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// `e`'s micro-tokens at `now`, refilled at `rate` tokens a second up to `capacity`.
fn refill(e: &Entry, now: Instant, rate: u32, capacity: u64) -> u64 {
    let us = now.saturating_duration_since(e.last).as_micros();
    let add = u64::try_from(us.saturating_mul(u128::from(rate))).unwrap_or(u64::MAX);
    e.tokens.saturating_add(add).min(capacity)
}

/// The per-address token buckets and block list.
///
/// When `max_tracked` addresses are tracked and a new one arrives, one pass over the table
/// frees at least an eighth of it: first entries that carry no information (unblocked and
/// refilled, i.e. equal to a fresh entry), then unblocked entries with the most tokens left
/// (the least suspicious), and only then the blocked entries whose block ends soonest. So the
/// cost is amortised O(1) per new address, and blocked addresses are kept preferentially.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    config: RateLimitConfig,
    entries: HashMap<IpAddr, Entry>,
}

impl RateLimiter {
    /// A limiter tracking no address yet.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            entries: HashMap::new(),
        }
    }

    /// The limiter's settings.
    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// The number of addresses tracked.
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    /// A full bucket, in micro-tokens: at least one token.
    fn capacity(&self) -> u64 {
        let c = u128::from(self.config.queries_per_sec) * self.config.window.as_micros();
        u64::try_from(c).unwrap_or(u64::MAX).max(TOKEN)
    }

    /// The entry's tokens at `now` (refilled at `queries_per_sec`).
    fn refilled(&self, e: &Entry, now: Instant) -> u64 {
        refill(e, now, self.config.queries_per_sec, self.capacity())
    }

    fn is_blocked(e: &Entry, now: Instant) -> bool {
        e.blocked_until.is_some_and(|t| t > now)
    }

    /// One inbound query from `ip` at `now`.
    pub fn check(&mut self, now: Instant, ip: IpAddr) -> Verdict {
        if self.config.queries_per_sec == 0 || (self.config.exempt_local && is_local(ip)) {
            return Verdict::Allow;
        }
        let ip = ip.to_canonical();
        let capacity = self.capacity();
        let e = match self.entries.get(&ip) {
            Some(e) => *e,
            None => {
                if self.entries.len() >= self.config.max_tracked {
                    self.evict(now);
                }
                if self.entries.len() >= self.config.max_tracked {
                    // Only with max_tracked == 0: limit nothing rather than everything.
                    return Verdict::Allow;
                }
                Entry {
                    tokens: capacity,
                    last: now,
                    blocked_until: None,
                }
            }
        };
        if Self::is_blocked(&e, now) {
            self.entries.insert(ip, e);
            return Verdict::Blocked;
        }
        let mut e = if e.blocked_until.is_some() {
            // The block is over: start afresh.
            Entry {
                tokens: capacity,
                last: now,
                blocked_until: None,
            }
        } else {
            Entry {
                tokens: self.refilled(&e, now),
                last: now.max(e.last),
                blocked_until: None,
            }
        };
        let verdict = if e.tokens >= TOKEN {
            e.tokens -= TOKEN;
            Verdict::Allow
        } else {
            e.blocked_until = Some(now + self.config.block_for);
            Verdict::Block
        };
        self.entries.insert(ip, e);
        verdict
    }

    /// The number of addresses blocked at `now`.
    pub fn blocked(&self, now: Instant) -> usize {
        self.entries
            .values()
            .filter(|e| Self::is_blocked(e, now))
            .count()
    }

    /// Forgets the entries that carry no information at `now`: unblocked and refilled.
    /// O(tracked), at most `max_tracked`: call it periodically.
    pub fn expire(&mut self, now: Instant) {
        let capacity = self.capacity();
        let rate = self.config.queries_per_sec;
        self.entries
            .retain(|_, e| Self::is_blocked(e, now) || refill(e, now, rate, capacity) < capacity);
    }

    /// Frees at least an eighth of `max_tracked` (at least one entry), in one pass.
    fn evict(&mut self, now: Instant) {
        self.expire(now);
        let target = self.config.max_tracked - self.config.max_tracked / 8;
        let target = target.min(self.config.max_tracked.saturating_sub(1));
        if self.entries.len() <= target {
            return;
        }
        let excess = self.entries.len() - target;
        // Rank: unblocked before blocked; unblocked by most tokens, blocked by soonest end.
        let mut ranked: Vec<(bool, u64, IpAddr)> = self
            .entries
            .iter()
            .map(|(ip, e)| {
                if Self::is_blocked(e, now) {
                    let left = e
                        .blocked_until
                        .map_or(0, |t| t.saturating_duration_since(now).as_micros());
                    (true, u64::try_from(left).unwrap_or(u64::MAX), *ip)
                } else {
                    (false, u64::MAX - self.refilled(e, now), *ip)
                }
            })
            .collect();
        if excess < ranked.len() {
            ranked.select_nth_unstable(excess);
        }
        for (_, _, ip) in ranked.iter().take(excess) {
            self.entries.remove(ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from((0x0800_0000u32 + n).to_be_bytes())
    }

    #[test]
    fn capacity_is_rate_times_window() {
        let l = RateLimiter::new(RateLimitConfig::default());
        assert_eq!(l.capacity(), 50 * TOKEN);
    }

    #[test]
    fn burst_within_budget_passes() {
        let t = Instant::now();
        let mut l = RateLimiter::new(RateLimitConfig::default());
        for _ in 0..50 {
            assert_eq!(l.check(t, ip(1)), Verdict::Allow);
        }
        // Sustained at the rate: never blocked.
        for i in 1..=1000u64 {
            let now = t + Duration::from_millis(200 * i);
            assert_eq!(l.check(now, ip(1)), Verdict::Allow, "query {i}");
        }
        assert_eq!(l.blocked(t + Duration::from_secs(200)), 0);
    }

    #[test]
    fn sustained_flood_is_blocked_and_stays_blocked() {
        let t0 = Instant::now();
        let cfg = RateLimitConfig::default();
        let mut l = RateLimiter::new(cfg);
        let mut blocked_at = None;
        for i in 0..500u64 {
            // 50 queries a second.
            let now = t0 + Duration::from_millis(20 * i);
            match l.check(now, ip(1)) {
                Verdict::Allow => assert!(blocked_at.is_none()),
                Verdict::Block => {
                    assert!(blocked_at.is_none());
                    blocked_at = Some(now);
                }
                Verdict::Blocked => assert!(blocked_at.is_some()),
            }
        }
        let at = blocked_at.expect("blocked");
        assert!(
            at - t0 <= Duration::from_secs(10),
            "blocked after {:?}",
            at - t0
        );
        // Keeps flooding: stays blocked until block_for has passed (no extension needed).
        let mut now = t0 + Duration::from_secs(10);
        while now < at + cfg.block_for {
            assert_eq!(l.check(now, ip(1)), Verdict::Blocked);
            assert_eq!(l.blocked(now), 1);
            now += Duration::from_millis(20);
        }
        assert_eq!(l.check(at + cfg.block_for, ip(1)), Verdict::Allow);
        // Other addresses were never affected.
        assert_eq!(l.check(at, ip(2)), Verdict::Allow);
    }

    #[test]
    fn block_ends() {
        let t = Instant::now();
        let mut l = RateLimiter::new(RateLimitConfig::default());
        for _ in 0..50 {
            assert_eq!(l.check(t, ip(1)), Verdict::Allow);
        }
        assert_eq!(l.check(t, ip(1)), Verdict::Block);
        assert_eq!(l.check(t, ip(1)), Verdict::Blocked);
        assert_eq!(l.blocked(t), 1);
        let after = t + Duration::from_secs(300);
        assert_eq!(l.blocked(after), 0);
        assert_eq!(l.check(after, ip(1)), Verdict::Allow);
    }

    #[test]
    fn local_addresses_are_exempt_by_default() {
        let t = Instant::now();
        let mut l = RateLimiter::new(RateLimitConfig::default());
        for local in [
            "127.0.0.1",
            "::1",
            "192.168.0.2",
            "10.9.8.7",
            "::ffff:127.0.0.1",
        ] {
            let a: IpAddr = local.parse().unwrap();
            for _ in 0..10_000 {
                assert_eq!(l.check(t, a), Verdict::Allow);
            }
        }
        assert_eq!(l.tracked(), 0);
        let cfg = RateLimitConfig {
            exempt_local: false,
            ..Default::default()
        };
        let mut l = RateLimiter::new(cfg);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let verdicts: Vec<Verdict> = (0..60).map(|_| l.check(t, lo)).collect();
        assert!(verdicts.contains(&Verdict::Block));
    }

    #[test]
    fn mapped_ipv4_shares_the_bucket_of_ipv4() {
        let t = Instant::now();
        let mut l = RateLimiter::new(RateLimitConfig::default());
        let v4: IpAddr = "8.8.8.8".parse().unwrap();
        let mapped: IpAddr = "::ffff:8.8.8.8".parse().unwrap();
        for i in 0..50 {
            let a = if i % 2 == 0 { v4 } else { mapped };
            assert_eq!(l.check(t, a), Verdict::Allow);
        }
        assert_eq!(l.check(t, mapped), Verdict::Block);
    }

    #[test]
    fn zero_rate_disables_limiting() {
        let t = Instant::now();
        let cfg = RateLimitConfig {
            queries_per_sec: 0,
            ..Default::default()
        };
        let mut l = RateLimiter::new(cfg);
        for _ in 0..1000 {
            assert_eq!(l.check(t, ip(1)), Verdict::Allow);
        }
    }

    #[test]
    fn memory_bound_under_a_million_addresses() {
        let t0 = Instant::now();
        let cfg = RateLimitConfig::default();
        let mut l = RateLimiter::new(cfg);
        // A blocked address that must survive the flood.
        for _ in 0..51 {
            l.check(t0, ip(0));
        }
        assert_eq!(l.blocked(t0), 1);
        for n in 1..=1_000_000u32 {
            let now = t0 + Duration::from_micros(u64::from(n) * 100);
            assert_eq!(l.check(now, ip(n)), Verdict::Allow);
            assert!(l.tracked() <= cfg.max_tracked);
        }
        let now = t0 + Duration::from_secs(100);
        assert_eq!(
            l.check(now, ip(0)),
            Verdict::Blocked,
            "blocked entries are kept"
        );
        l.expire(now + cfg.window);
        assert_eq!(l.tracked(), 1);
    }

    proptest! {
        #[test]
        fn tracked_stays_bounded(
            max in 0usize..20,
            ops in prop::collection::vec((0u32..40, 0u64..3000, 0u8..4), 0..400),
        ) {
            let cfg = RateLimitConfig {
                max_tracked: max,
                queries_per_sec: 2,
                window: Duration::from_secs(2),
                ..Default::default()
            };
            let mut l = RateLimiter::new(cfg);
            let mut now = Instant::now();
            for (n, dt, burst) in ops {
                now += Duration::from_millis(dt);
                for _ in 0..burst {
                    let v = l.check(now, ip(n));
                    if v == Verdict::Block {
                        prop_assert_eq!(l.check(now, ip(n)), Verdict::Blocked);
                    }
                }
                prop_assert!(l.tracked() <= max);
                prop_assert!(l.blocked(now) <= l.tracked());
            }
        }
    }
}
