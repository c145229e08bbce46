//! The clock as a handle: a monotonic axis in milliseconds since the clock
//! was made (deadlines, rate intervals), the wall clock in Unix milliseconds
//! (stored timestamps, display), and sleeping until a monotonic deadline.
//! Loops that wait or stamp take an `Arc<dyn Clock>`, so a test drives them
//! with tokio's paused time instead of waiting. Imports only `types` (the
//! wall-time instant).
use crate::types::UnixMillis;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::Instant;

/// What the loops know of time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds on the monotonic axis (0 when the clock was made).
    fn mono_ms(&self) -> u64;
    /// The wall clock: Unix time in milliseconds.
    fn wall_ms(&self) -> UnixMillis;
    /// Resolves once the monotonic axis reaches `ms`.
    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    /// Resolves once `d` has passed on the monotonic axis.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.sleep_until_mono(self.mono_ms().saturating_add(ms))
    }
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

impl Clock for SystemClock {
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn wall_ms(&self) -> UnixMillis {
        UnixMillis::now()
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
    wall_start: UnixMillis,
}

impl TokioClock {
    pub fn new(wall_start: UnixMillis) -> TokioClock {
        TokioClock {
            start: Instant::now(),
            wall_start,
        }
    }
}

impl Clock for TokioClock {
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn wall_ms(&self) -> UnixMillis {
        self.wall_start + self.mono_ms() as i64
    }

    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep_until(
            self.start + Duration::from_millis(ms),
        ))
    }
}

/// A clock that moves only when the test says so ([`ManualClock::advance`]):
/// a loop waiting on it stays asleep however far tokio's paused time runs
/// ahead, so a loop that sleeps on tokio's time instead of its handle is
/// caught.
#[cfg(test)]
pub struct ManualClock {
    mono: tokio::sync::watch::Sender<u64>,
    wall_start: UnixMillis,
}

#[cfg(test)]
impl ManualClock {
    pub fn new(wall_start: UnixMillis) -> ManualClock {
        ManualClock {
            mono: tokio::sync::watch::Sender::new(0),
            wall_start,
        }
    }

    /// Moves both axes forward by `d`, waking what waits until then.
    pub fn advance(&self, d: Duration) {
        self.mono.send_modify(|ms| *ms += d.as_millis() as u64);
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn mono_ms(&self) -> u64 {
        *self.mono.borrow()
    }

    fn wall_ms(&self) -> UnixMillis {
        self.wall_start + self.mono_ms() as i64
    }

    fn sleep_until_mono(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let mut rx = self.mono.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|now| *now >= ms).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let c = TokioClock::new(UnixMillis(1_000_000));
        assert_eq!((c.mono_ms(), c.wall_ms()), (0, UnixMillis(1_000_000)));
        c.sleep_until_mono(2_500).await;
        assert_eq!((c.mono_ms(), c.wall_ms()), (2_500, UnixMillis(1_002_500)));
        // A deadline already past resolves at once.
        c.sleep_until_mono(1_000).await;
        assert_eq!(c.mono_ms(), 2_500);
    }

    #[tokio::test(start_paused = true)]
    async fn a_manual_clock_moves_only_when_told() {
        let c = Arc::new(ManualClock::new(UnixMillis(1_000_000)));
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.sleep(Duration::from_millis(1_500)).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!waiter.is_finished(), "tokio's time does not move it");
        c.advance(Duration::from_millis(1_000));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!waiter.is_finished());
        c.advance(Duration::from_millis(500));
        waiter.await.unwrap();
        assert_eq!((c.mono_ms(), c.wall_ms()), (1_500, UnixMillis(1_001_500)));
    }
}
