//! The monitor's two clocks in one place: a monotonic axis in milliseconds
//! since start (for deadlines and rate intervals) and the wall clock (for
//! stored timestamps and display).
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    pub fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn at_mono(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    pub fn wall_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
