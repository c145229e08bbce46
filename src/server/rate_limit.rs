//! Per-client request limits: token buckets per remote address (requests
//! per second sustained, a burst on top), one for the API, `/healthz`,
//! `/metrics` and unknown paths, one [`STATIC_FACTOR`] times larger for the
//! page and its embedded files, and a cap on the live-feed
//! streams one address may hold open. The table of addresses is bounded:
//! when full, buckets idle long enough to be full again are forgotten
//! first. Pure apart from the lock; the caller passes the time.
use crate::types::UnixMillis;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Sustained requests per second per address; 0 turns limiting off.
    pub per_second: f64,
    /// Requests an idle address may send at once.
    pub burst: f64,
    /// Live-feed streams one address may hold open.
    pub streams_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_second: 50.0,
            burst: 200.0,
            streams_per_client: 32,
        }
    }
}

/// The page's files (`/`, `/wall`, `/js/...`, `/vendor/...`) have their
/// own bucket, this many times the API's rate and burst: one page load
/// fetches about 16 of them.
pub const STATIC_FACTOR: f64 = 2.0;

/// Which budget a request is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The API, `/healthz`, `/metrics` and every path that is no file.
    Api,
    /// The page and its embedded files.
    Static,
}

/// Addresses tracked at most.
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    static_tokens: f64,
    at_ms: UnixMillis,
    streams: usize,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    clients: Mutex<HashMap<IpAddr, Bucket>>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refused {
    /// Too many requests: try again after this many seconds.
    Rate { retry_after_s: u64 },
    /// Too many open live-feed streams from this address.
    Streams,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, b: &mut Bucket, now_ms: UnixMillis) {
        let dt = (now_ms - b.at_ms).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + dt * self.limits.per_second).min(self.limits.burst);
        b.static_tokens = (b.static_tokens + dt * self.limits.per_second * STATIC_FACTOR)
            .min(self.limits.burst * STATIC_FACTOR);
        b.at_ms = now_ms;
    }

    fn fresh(&self, now_ms: UnixMillis) -> Bucket {
        Bucket {
            tokens: self.limits.burst,
            static_tokens: self.limits.burst * STATIC_FACTOR,
            at_ms: now_ms,
            streams: 0,
        }
    }

    /// Takes one API request's token for `ip` at `now_ms`.
    pub fn check(&self, ip: IpAddr, now_ms: UnixMillis) -> Result<(), Refused> {
        self.take(ip, now_ms, Budget::Api)
    }

    /// Takes one request's token from `budget` for `ip` at `now_ms`.
    pub fn take(&self, ip: IpAddr, now_ms: UnixMillis, budget: Budget) -> Result<(), Refused> {
        if self.limits.per_second <= 0.0 {
            return Ok(());
        }
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&ip) {
            self.forget_idle(&mut clients, now_ms);
        }
        let fresh = self.fresh(now_ms);
        let b = clients.entry(ip).or_insert(fresh);
        self.refill(b, now_ms);
        let (tokens, rate) = match budget {
            Budget::Api => (&mut b.tokens, self.limits.per_second),
            Budget::Static => (&mut b.static_tokens, self.limits.per_second * STATIC_FACTOR),
        };
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / rate;
            Err(Refused::Rate {
                retry_after_s: wait.ceil().max(1.0) as u64,
            })
        }
    }

    /// Counts a live-feed stream opened by `ip`; release it with
    /// [`RateLimiter::close_stream`].
    pub fn open_stream(&self, ip: IpAddr, now_ms: UnixMillis) -> Result<(), Refused> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = self.fresh(now_ms);
        let b = clients.entry(ip).or_insert(fresh);
        if b.streams >= self.limits.streams_per_client {
            return Err(Refused::Streams);
        }
        b.streams += 1;
        Ok(())
    }

    pub fn close_stream(&self, ip: IpAddr) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = clients.get_mut(&ip) {
            b.streams = b.streams.saturating_sub(1);
        }
    }

    /// Drops the entries whose buckets are full again and that hold no
    /// stream; if none are, the oldest half.
    fn forget_idle(&self, clients: &mut HashMap<IpAddr, Bucket>, now_ms: UnixMillis) {
        let full_after_ms = if self.limits.per_second > 0.0 {
            (self.limits.burst / self.limits.per_second * 1000.0) as i64
        } else {
            0
        };
        clients.retain(|_, b| b.streams > 0 || now_ms - b.at_ms < full_after_ms);
        if clients.len() >= MAX_CLIENTS {
            let mut ages: Vec<UnixMillis> = clients.values().map(|b| b.at_ms).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            clients.retain(|_, b| b.streams > 0 || b.at_ms > cut);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.clients.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let r = RateLimiter::new(Limits {
            per_second: 10.0,
            burst: 5.0,
            streams_per_client: 2,
        });
        for _ in 0..5 {
            assert_eq!(r.check(ip(1), UnixMillis(0)), Ok(()));
        }
        assert_eq!(
            r.check(ip(1), UnixMillis(0)),
            Err(Refused::Rate { retry_after_s: 1 })
        );
        // Another client is not affected.
        assert_eq!(r.check(ip(2), UnixMillis(0)), Ok(()));
        // 100 ms later one token is back, not two.
        assert_eq!(r.check(ip(1), UnixMillis(100)), Ok(()));
        assert!(r.check(ip(1), UnixMillis(100)).is_err());
        // Refilled to the burst, never beyond.
        for _ in 0..5 {
            assert_eq!(r.check(ip(1), UnixMillis(60_000)), Ok(()));
        }
        assert!(r.check(ip(1), UnixMillis(60_000)).is_err());
    }

    #[test]
    fn the_page_files_have_their_own_larger_budget() {
        let r = RateLimiter::new(Limits {
            per_second: 10.0,
            burst: 5.0,
            streams_per_client: 2,
        });
        for _ in 0..10 {
            assert_eq!(r.take(ip(1), UnixMillis(0), Budget::Static), Ok(()));
        }
        assert!(r.take(ip(1), UnixMillis(0), Budget::Static).is_err());
        // The API budget is untouched by the files, and the other way round.
        for _ in 0..5 {
            assert_eq!(r.check(ip(1), UnixMillis(0)), Ok(()));
        }
        assert!(r.check(ip(1), UnixMillis(0)).is_err());
        // 100 ms later two file tokens are back (20 a second).
        assert_eq!(r.take(ip(1), UnixMillis(100), Budget::Static), Ok(()));
        assert_eq!(r.take(ip(1), UnixMillis(100), Budget::Static), Ok(()));
        assert!(r.take(ip(1), UnixMillis(100), Budget::Static).is_err());
    }

    #[test]
    fn streams_per_client_are_capped_and_released() {
        let r = RateLimiter::new(Limits {
            streams_per_client: 2,
            ..Limits::default()
        });
        assert!(r.open_stream(ip(1), UnixMillis(0)).is_ok());
        assert!(r.open_stream(ip(1), UnixMillis(0)).is_ok());
        assert_eq!(r.open_stream(ip(1), UnixMillis(0)), Err(Refused::Streams));
        r.close_stream(ip(1));
        assert!(r.open_stream(ip(1), UnixMillis(0)).is_ok());
    }

    #[test]
    fn zero_turns_limiting_off() {
        let r = RateLimiter::new(Limits {
            per_second: 0.0,
            burst: 0.0,
            streams_per_client: 1,
        });
        for _ in 0..10_000 {
            assert!(r.check(ip(1), UnixMillis(0)).is_ok());
        }
    }

    #[test]
    fn the_table_of_clients_stays_bounded() {
        let r = RateLimiter::new(Limits::default());
        for n in 0..(MAX_CLIENTS as u32 + 1000) {
            let _ = r.check(ip(n), UnixMillis(i64::from(n)));
        }
        assert!(r.tracked() <= MAX_CLIENTS);
    }
}
