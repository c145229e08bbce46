//! Trap storms: a token bucket per source address, in a bounded table.
//! Pure: the caller passes the monotonic time in milliseconds.
use std::collections::HashMap;
use std::net::IpAddr;

/// Sources tracked at once; when full, sources idle for
/// [`IDLE_FORGET_MS`] are forgotten (they start again with a full bucket),
/// and if none is, all are.
pub const MAX_SOURCES: usize = 10_000;
pub const IDLE_FORGET_MS: u64 = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// Per-source token buckets: `rate` notifications a second, `burst` at once.
#[derive(Debug)]
pub struct SourceBuckets {
    rate: f64,
    burst: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

impl SourceBuckets {
    pub fn new(rate_per_s: f64, burst: f64) -> SourceBuckets {
        SourceBuckets {
            rate: rate_per_s.max(0.0),
            burst: burst.max(1.0),
            buckets: HashMap::new(),
        }
    }

    /// Whether one more datagram from `source` at `now_ms` is let through.
    pub fn admit(&mut self, source: IpAddr, now_ms: u64) -> bool {
        if !self.buckets.contains_key(&source) && self.buckets.len() >= MAX_SOURCES {
            // Amortised: one sweep frees many places (a flood of spoofed
            // sources costs one sweep per table's worth of them).
            self.buckets
                .retain(|_, b| now_ms.saturating_sub(b.at_ms) < IDLE_FORGET_MS);
            if self.buckets.len() >= MAX_SOURCES {
                self.buckets.clear();
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        let b = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            at_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at_ms = b.at_ms.max(now_ms);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn sources(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_passes_its_burst_then_the_rate_and_others_are_not_hurt() {
        let mut b = SourceBuckets::new(10.0, 20.0);
        let storm: IpAddr = "127.0.0.2".parse().unwrap();
        let calm: IpAddr = "127.0.0.3".parse().unwrap();
        let passed = (0..1000).filter(|_| b.admit(storm, 0)).count();
        assert_eq!(passed, 20);
        assert!(b.admit(calm, 0));
        // One second later: ten more.
        let passed = (0..1000).filter(|_| b.admit(storm, 1000)).count();
        assert_eq!(passed, 10);
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut b = SourceBuckets::new(1.0, 1.0);
        for i in 0..(MAX_SOURCES as u32 + 500) {
            b.admit(IpAddr::from(i.to_be_bytes()), u64::from(i));
        }
        assert!(b.sources() <= MAX_SOURCES);
    }
}
