//! Per-client-IP fixed-window rate limiting for challenge, login and refresh.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Most clients tracked at once; beyond it, the oldest windows are dropped.
const MAX_CLIENTS: usize = 100_000;

/// (client, bucket) -> (window, count).
type Windows = HashMap<(IpAddr, &'static str), (i64, u32)>;

/// A per-IP limiter: `limit` requests per 60-second window.
pub struct RateLimiter {
    limit: u32,
    windows: Mutex<Windows>,
}

impl RateLimiter {
    /// A limiter; `limit == 0` disables it.
    pub fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `Err(retry_after_seconds)` when over the limit.
    pub fn check(&self, ip: IpAddr, bucket: &'static str, now: i64) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let window = now.div_euclid(60);
        let mut map = match self.windows.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= MAX_CLIENTS {
            map.retain(|_, (w, _)| *w == window);
            if map.len() >= MAX_CLIENTS {
                map.clear();
            }
        }
        let entry = map.entry((ip, bucket)).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.limit {
            return Err((60 - now.rem_euclid(60)).max(1) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_bucket_and_resets() {
        let l = RateLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check(a, "login", 0).is_ok());
        assert!(l.check(a, "login", 1).is_ok());
        assert_eq!(l.check(a, "login", 2), Err(58));
        assert!(l.check(a, "refresh", 2).is_ok());
        assert!(l.check(b, "login", 2).is_ok());
        assert!(l.check(a, "login", 60).is_ok());
        assert!(RateLimiter::new(0).check(a, "login", 0).is_ok());
    }
}
