//! Per-client rate limiting of challenge, login, refresh and revoke, with
//! `governor` (GCRA, one state per key): each client may burst `limit`
//! requests and then gets one more every `60 / limit` seconds.
//!
//! Keys are (client, route). A client is its IPv4 address, or the /64 of
//! its IPv6 address (one host commonly holds a whole /64, so per-address
//! keys would let it mint buckets). Memory is bounded: keys whose state is
//! back to "fresh" are dropped every [`CLEANUP_EVERY`], and at most
//! [`MAX_CLIENTS`] keys are held; when that many are busy at once, new
//! requests are refused (429) until some settle, rather than anyone's
//! count being forgotten.

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::Quota;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Most keys held at once.
pub const MAX_CLIENTS: usize = 100_000;
/// How often settled keys are dropped.
pub const CLEANUP_EVERY: Duration = Duration::from_secs(10);

type Key = (IpAddr, &'static str);

type Keyed<C> =
    governor::RateLimiter<Key, DashMapStateStore<Key>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// A per-client limiter: `limit` requests per minute per route.
pub struct RateLimiter(Limiter<DefaultClock>);

/// The limiter on clock `C` (the system's; the tests move a fake one).
struct Limiter<C: Clock> {
    inner: Option<Keyed<C>>,
    clock: C,
    max_clients: usize,
    started: C::Instant,
    /// Milliseconds after `started` of the last cleanup.
    last_cleanup: AtomicU64,
}

/// The bucket key of an address: IPv4 as is, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl RateLimiter {
    /// A limiter; `limit == 0` disables it.
    pub fn new(limit: u32) -> Self {
        Self::with_max_clients(limit, MAX_CLIENTS)
    }

    pub(crate) fn with_max_clients(limit: u32, max_clients: usize) -> Self {
        RateLimiter(Limiter::with_clock(
            limit,
            max_clients,
            DefaultClock::default(),
        ))
    }

    /// Counts one request of `ip` on `route`; `Err(retry_after_seconds)`
    /// when over the limit.
    pub fn check(&self, ip: IpAddr, route: &'static str) -> Result<(), u64> {
        self.0.check(ip, route)
    }

    /// Keys held now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<C: Clock + Clone> Limiter<C> {
    fn with_clock(limit: u32, max_clients: usize, clock: C) -> Self {
        Limiter {
            inner: NonZeroU32::new(limit).map(|n| {
                governor::RateLimiter::dashmap_with_clock(Quota::per_minute(n), clock.clone())
            }),
            started: clock.now(),
            clock,
            max_clients,
            last_cleanup: AtomicU64::new(0),
        }
    }

    fn check(&self, ip: IpAddr, route: &'static str) -> Result<(), u64> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        self.maybe_cleanup(limiter);
        if limiter.len() >= self.max_clients {
            limiter.retain_recent();
            if limiter.len() >= self.max_clients {
                tracing::warn!(
                    keys = limiter.len(),
                    "rate limiter full: refusing until clients settle"
                );
                return Err(1);
            }
        }
        limiter
            .check_key(&(client_key(ip), route))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
    }

    /// Drops settled keys at most once per [`CLEANUP_EVERY`] (the first
    /// caller past the deadline does it).
    fn maybe_cleanup(&self, limiter: &Keyed<C>) {
        let elapsed = Duration::from(self.clock.now().duration_since(self.started));
        let now = elapsed.as_millis() as u64;
        let last = self.last_cleanup.load(Ordering::Relaxed);
        if now.saturating_sub(last) < CLEANUP_EVERY.as_millis() as u64 {
            return;
        }
        if self
            .last_cleanup
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn limits_per_client_and_route() {
        let l = RateLimiter::new(2);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        assert!(l.check(a, "login").is_ok());
        assert!(l.check(a, "login").is_ok());
        let retry = l.check(a, "login").unwrap_err();
        // One request comes back every 30 s.
        assert!((1..=30).contains(&retry), "{retry}");
        assert!(l.check(a, "refresh").is_ok());
        assert!(l.check(b, "login").is_ok());
        assert!(RateLimiter::new(0).check(a, "login").is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let l = RateLimiter::new(1);
        assert!(l.check(ip("2001:db8:1:2::1"), "login").is_ok());
        assert!(l.check(ip("2001:db8:1:2:ffff::9"), "login").is_err());
        assert!(l.check(ip("2001:db8:1:3::1"), "login").is_ok());
        assert!(l.check(ip("::ffff:10.0.0.9"), "login").is_ok());
        assert!(l.check(ip("10.0.0.9"), "login").is_err());
    }

    /// The old limiter cleared every window when its map was full, which
    /// reset the count of a client being limited. Now a full map refuses
    /// newcomers and forgets nobody's count.
    #[test]
    fn a_full_map_forgets_nobody() {
        let l = RateLimiter::with_max_clients(1, 50);
        let victim = ip("192.0.2.1");
        assert!(l.check(victim, "login").is_ok());
        assert!(l.check(victim, "login").is_err());
        for i in 0..100u32 {
            let _ = l.check(IpAddr::from(i.to_be_bytes()), "login");
        }
        assert!(l.len() <= 50, "{}", l.len());
        assert!(
            l.check(victim, "login").is_err(),
            "the limited client stays limited"
        );
    }

    /// Memory follows the clients of the last minute, not all clients
    /// ever: a flood from many addresses is forgotten once each address's
    /// state is back to fresh (at the next cleanup), so the map shrinks
    /// back instead of growing with every address seen.
    #[test]
    fn many_clients_are_forgotten_once_settled() {
        let clock = FakeRelativeClock::default();
        let l = Limiter::with_clock(60, MAX_CLIENTS, clock.clone());
        for i in 0..20_000u32 {
            assert!(l
                .check(IpAddr::from((0x0a00_0000 + i).to_be_bytes()), "login")
                .is_ok());
        }
        assert_eq!(l.len(), 20_000);
        // Within a cleanup period nothing is dropped.
        clock.advance(CLEANUP_EVERY / 2);
        assert!(l.check(ip("192.0.2.1"), "login").is_ok());
        assert_eq!(l.len(), 20_001);
        // One request at 60/min is forgotten within 2 s (governor drops a
        // key one emission interval after its state is fresh again); the
        // next request past the cleanup period drops them all.
        clock.advance(CLEANUP_EVERY);
        assert!(l.check(ip("192.0.2.2"), "challenge").is_ok());
        assert_eq!(l.len(), 1);
    }

    /// A full map refuses newcomers (429, `Retry-After: 1`) only while its
    /// clients are busy: once they settle, newcomers are counted again and
    /// the map stays at its bound.
    #[test]
    fn a_full_map_admits_newcomers_once_clients_settle() {
        let clock = FakeRelativeClock::default();
        let l = Limiter::with_clock(1, 50, clock.clone());
        for i in 0..50u32 {
            assert!(l.check(IpAddr::from(i.to_be_bytes()), "login").is_ok());
        }
        assert_eq!(l.check(ip("192.0.2.1"), "login"), Err(1));
        assert_eq!(l.len(), 50);
        // One request a minute: governor drops a key one emission interval
        // (here 60 s) after its state is fresh again, so after 2 minutes.
        clock.advance(Duration::from_secs(60));
        assert_eq!(l.check(ip("192.0.2.1"), "login"), Err(1));
        clock.advance(Duration::from_secs(61));
        assert!(l.check(ip("192.0.2.1"), "login").is_ok());
        assert!(l.len() <= 50, "{}", l.len());
        // The limit itself still holds: the newcomer's second request waits
        // the whole minute.
        assert_eq!(l.check(ip("192.0.2.1"), "login"), Err(60));
    }
}
