//! The monitor's two clocks in one place: a monotonic axis in milliseconds
//! since start (for deadlines and rate intervals) and the wall clock (for
//! stored timestamps and display).
use std::time::Duration;
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
        crate::types::unix_now_ms()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
