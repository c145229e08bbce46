//! The clock as a handle: a monotonic axis in milliseconds since the clock
//! was made (deadlines, rate intervals), the wall clock in Unix milliseconds
//! (stored timestamps, display), and sleeping until a monotonic deadline.
//! Loops that wait or stamp take an `Arc<dyn Clock>`, so a test drives them
//! with tokio's paused time instead of waiting. Imports nothing of the crate.
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// What the loops know of time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds on the monotonic axis (0 when the clock was made).
    fn mono_ms(&self) -> u64;
    /// Unix time in milliseconds.
    fn wall_ms(&self) -> i64;
    /// Resolves once the monotonic axis reaches `ms`.
    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The host's clocks: tokio's monotonic `Instant` and the system wall clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

fn system_wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Clock for SystemClock {
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn wall_ms(&self) -> i64 {
        system_wall_ms()
    }

    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep_until(
            self.start + Duration::from_millis(ms),
        ))
    }
}

/// A clock whose wall time is a fixed start plus tokio's monotonic time:
/// under `tokio::time::pause` both move only as tokio's time advances, so
/// a test sees the wall clock follow the schedule exactly.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: Instant,
    wall_start_ms: i64,
}

impl TokioClock {
    pub fn new(wall_start_ms: i64) -> TokioClock {
        TokioClock {
            start: Instant::now(),
            wall_start_ms,
        }
    }
}

impl Clock for TokioClock {
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn wall_ms(&self) -> i64 {
        self.wall_start_ms + self.mono_ms() as i64
    }

    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep_until(
            self.start + Duration::from_millis(ms),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let c = TokioClock::new(1_000_000);
        assert_eq!((c.mono_ms(), c.wall_ms()), (0, 1_000_000));
        c.sleep_until_mono(2_500).await;
        assert_eq!((c.mono_ms(), c.wall_ms()), (2_500, 1_002_500));
        // A deadline already past resolves at once.
        c.sleep_until_mono(1_000).await;
        assert_eq!(c.mono_ms(), 2_500);
    }
}
