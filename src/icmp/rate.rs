//! A token bucket that paces probe sends. Pure: time is handed in as
//! nanoseconds on any monotonic clock; no sleeping here.
use std::time::Duration;

/// Probes per second allowed, with a burst of about 10 ms worth of tokens.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// 0 means unlimited.
    rate_pps: u32,
    burst: f64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    pub fn new(rate_pps: u32) -> TokenBucket {
        let burst = (f64::from(rate_pps) / 100.0).max(1.0);
        TokenBucket {
            rate_pps,
            burst,
            tokens: burst,
            last_ns: None,
        }
    }

    pub fn is_unlimited(&self) -> bool {
        self.rate_pps == 0
    }

    fn refill(&mut self, now_ns: u64) {
        if let Some(last) = self.last_ns {
            let elapsed = now_ns.saturating_sub(last) as f64 / 1e9;
            self.tokens = (self.tokens + elapsed * f64::from(self.rate_pps)).min(self.burst);
        }
        self.last_ns = Some(now_ns);
    }

    /// Takes up to `wanted` tokens at `now_ns`; returns how many were granted.
    pub fn take(&mut self, wanted: usize, now_ns: u64) -> usize {
        if self.is_unlimited() {
            return wanted;
        }
        self.refill(now_ns);
        let granted = (self.tokens.floor().max(0.0) as usize).min(wanted);
        self.tokens -= granted as f64;
        granted
    }

    /// How long until one token is available (zero if one is now).
    pub fn wait_for_one(&mut self, now_ns: u64) -> Duration {
        if self.is_unlimited() {
            return Duration::ZERO;
        }
        self.refill(now_ns);
        let missing = 1.0 - self.tokens;
        if missing <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(missing / f64::from(self.rate_pps))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_grants_everything() {
        let mut b = TokenBucket::new(0);
        assert_eq!(b.take(10_000, 0), 10_000);
        assert_eq!(b.wait_for_one(0), Duration::ZERO);
    }

    #[test]
    fn rate_is_respected_over_one_second() {
        let mut b = TokenBucket::new(1000);
        let mut total = 0;
        // Ask every millisecond for far more than allowed.
        for ms in 0..=1000u64 {
            total += b.take(100, ms * 1_000_000);
        }
        // Burst (10) plus 1000 per second.
        assert!((1000..=1011).contains(&total), "granted {total}");
    }

    #[test]
    fn wait_reports_time_to_next_token() {
        let mut b = TokenBucket::new(10);
        assert_eq!(b.take(5, 0), 1);
        let wait = b.wait_for_one(0);
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100));
    }
}
