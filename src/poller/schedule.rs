//! Deadline-based scheduling, free of clocks: each target polls on a fixed
//! grid `phase + k * interval` (the phase a stable hash of the target, so
//! targets spread over the interval instead of firing together), and a poll
//! that overruns skips the deadlines it missed, counting them, rather than
//! letting polls pile up. Times are milliseconds on a monotonic axis.

/// A stable phase in `[0, interval)` for `key` (FNV-1a), the same every run.
pub fn phase_ms(key: &str, interval_ms: u64) -> u64 {
    if interval_ms == 0 {
        return 0;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % interval_ms
}

/// The deadlines of one periodic job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticker {
    interval_ms: u64,
    next_ms: u64,
    /// After a first deadline off the grid ([`Ticker::now_then_grid`]), the
    /// grid's first deadline after it.
    realign: Option<u64>,
}

impl Ticker {
    /// The first deadline at or after `start_ms` on `key`'s grid.
    pub fn new(start_ms: u64, key: &str, interval_ms: u64) -> Ticker {
        let interval_ms = interval_ms.max(1);
        let phase = phase_ms(key, interval_ms);
        let base = start_ms - start_ms % interval_ms + phase;
        let next_ms = if base < start_ms {
            base + interval_ms
        } else {
            base
        };
        Ticker {
            interval_ms,
            next_ms,
            realign: None,
        }
    }

    /// A first deadline at `start_ms` itself, then `key`'s grid from its
    /// first deadline after `start_ms`: a device taken over or found while
    /// monitoring is polled at once, then with the others' spread.
    pub fn now_then_grid(start_ms: u64, key: &str, interval_ms: u64) -> Ticker {
        let grid = Ticker::new(start_ms, key, interval_ms);
        let after = if grid.next_ms <= start_ms {
            grid.next_ms + grid.interval_ms
        } else {
            grid.next_ms
        };
        Ticker {
            interval_ms: grid.interval_ms,
            next_ms: start_ms,
            realign: Some(after),
        }
    }

    /// When the next poll is due.
    pub fn due_ms(&self) -> u64 {
        self.next_ms
    }

    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// A poll due at `due_ms()` finished at `now_ms`: move to the next
    /// deadline still ahead and return how many deadlines were skipped.
    pub fn finish(&mut self, now_ms: u64) -> u64 {
        self.next_ms = match self.realign.take() {
            Some(grid) => grid,
            None => self.next_ms + self.interval_ms,
        };
        if self.next_ms > now_ms {
            return 0;
        }
        let behind = (now_ms - self.next_ms) / self.interval_ms + 1;
        self.next_ms += behind * self.interval_ms;
        behind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_spread_and_stay_put() {
        let phases: Vec<u64> = (0..1000)
            .map(|i| phase_ms(&format!("10.0.{}.{}", i / 250, i % 250), 60_000))
            .collect();
        assert!(phases.iter().all(|&p| p < 60_000));
        // Spread: every 6-second slice of the minute gets some targets.
        for slice in 0..10 {
            let n = phases.iter().filter(|&&p| p / 6_000 == slice).count();
            assert!((50..=150).contains(&n), "slice {slice}: {n}");
        }
        assert_eq!(phase_ms("10.0.0.1", 60_000), phase_ms("10.0.0.1", 60_000));
    }

    #[test]
    fn deadlines_and_skips() {
        let mut t = Ticker::new(1_000_000, "x", 10_000);
        let first = t.due_ms();
        assert!((1_000_000..1_010_000).contains(&first));
        assert_eq!(first % 10_000, phase_ms("x", 10_000));
        // On time: no skips, next deadline one interval later.
        assert_eq!(t.finish(first + 300), 0);
        assert_eq!(t.due_ms(), first + 10_000);
        // A poll that took 25 s skips the two deadlines it ran over.
        let due = t.due_ms();
        assert_eq!(t.finish(due + 25_000), 2);
        assert_eq!(t.due_ms(), due + 30_000);
        // Finishing exactly on the next deadline skips it (it has passed).
        let due = t.due_ms();
        assert_eq!(t.finish(due + 10_000), 1);
        assert_eq!(t.due_ms(), due + 20_000);
    }

    #[test]
    fn now_then_grid_polls_at_once_then_joins_the_grid() {
        let grid = Ticker::new(1_000_000, "x", 10_000);
        let mut t = Ticker::now_then_grid(1_000_000, "x", 10_000);
        assert_eq!(t.due_ms(), 1_000_000);
        assert_eq!(t.finish(1_000_050), 0, "nothing skipped");
        let next = if grid.due_ms() > 1_000_000 {
            grid.due_ms()
        } else {
            grid.due_ms() + 10_000
        };
        assert_eq!(t.due_ms(), next, "the grid's next deadline");
        assert_eq!(t.due_ms() % 10_000, phase_ms("x", 10_000));
        t.finish(next + 5);
        assert_eq!(t.due_ms(), next + 10_000);
    }
}
