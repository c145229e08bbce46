//! The receive side of the ICMP engine: one task per open family reads every
//! datagram and hands it to the probe table.
//!
//! The task is supervised. If its loop ends (the socket reports an error) or
//! panics (a bug some datagram reaches), the task logs why, counts a restart
//! and runs the loop again after a backoff (100 ms doubling to 5 s, back to
//! 100 ms once a loop has run for a minute). While no loop reads a family,
//! replies to its probes are not seen, so a round that overlapped such a
//! time measured nothing: rounds take a [`Mark`] before their first send and
//! check it after their last wait, and get [`IcmpError::ReceiverDown`]
//! instead of 100 % loss. The sends themselves still work, which is what
//! made a dead receiver read every device as down before.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;

use super::engine::EngineState;
use super::error::IcmpError;
use super::probes::WallNanos;
use super::sys;
use super::wire::Family;

/// Liveness of one family's receive loop.
#[derive(Default)]
pub(crate) struct ReceiverState {
    up: AtomicBool,
    /// Bumped each time a loop stops: a round that saw another epoch at its
    /// end than at its start overlapped a stop.
    epoch: AtomicU64,
    restarts: AtomicU64,
    /// Test hook: the next datagram makes the loop panic.
    #[cfg(feature = "test-faults")]
    fault: AtomicBool,
}

/// What a round noted about the receivers before its first send.
#[derive(Debug, Clone)]
pub(crate) struct Mark(Vec<(Family, u64)>);

impl ReceiverState {
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Marks the loop running before its task is first polled, so a round
    /// started right after the engine does not find it down.
    pub(crate) fn starting(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    #[cfg(feature = "test-faults")]
    pub(crate) fn inject_panic(&self) {
        self.fault.store(true, Ordering::SeqCst);
    }

    fn down(&self, family: Family) -> IcmpError {
        IcmpError::ReceiverDown {
            family,
            restarts: self.restarts(),
        }
    }
}

impl EngineState {
    /// Notes the receivers of `families`; fails at once if one is not
    /// running (nothing would hear the replies).
    pub(crate) fn mark_receivers(&self, families: &[Family]) -> Result<Mark, IcmpError> {
        let mut marks = Vec::with_capacity(families.len());
        for &family in families {
            if self.socket(family).is_err() {
                // No socket: the send says so, as before.
                continue;
            }
            let r = self.receiver(family);
            if !r.up.load(Ordering::SeqCst) {
                return Err(r.down(family));
            }
            marks.push((family, r.epoch.load(Ordering::SeqCst)));
        }
        Ok(Mark(marks))
    }

    /// Fails if a receiver noted in `mark` stopped since (even if it runs
    /// again): replies may have arrived while nothing read them.
    pub(crate) fn check_receivers(&self, mark: &Mark) -> Result<(), IcmpError> {
        for &(family, epoch) in &mark.0 {
            let r = self.receiver(family);
            if !r.up.load(Ordering::SeqCst) || r.epoch.load(Ordering::SeqCst) != epoch {
                return Err(r.down(family));
            }
        }
        Ok(())
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs the receive loop of `family` for as long as the engine lives (the
/// engine aborts this task when dropped), restarting it whenever it stops.
pub(crate) async fn supervise(shared: Arc<EngineState>, family: Family) {
    if shared.socket(family).is_err() {
        return;
    }
    let mut backoff = BACKOFF_MIN;
    loop {
        let state = shared.receiver(family);
        state.starting();
        let started = Instant::now();
        let ended = std::panic::AssertUnwindSafe(receive_loop(&shared, family))
            .catch_unwind()
            .await;
        state.up.store(false, Ordering::SeqCst);
        state.epoch.fetch_add(1, Ordering::SeqCst);
        let restarts = state.restarts.fetch_add(1, Ordering::SeqCst) + 1;
        let why = match ended {
            Ok(reason) => reason,
            Err(panic) => format!("it panicked: {}", panic_text(panic.as_ref())),
        };
        if started.elapsed() >= HEALTHY_RUN {
            backoff = BACKOFF_MIN;
        }
        tracing::error!(
            "ICMP {family:?} receive loop stopped ({why}); restarting it in {} ms (restart {restarts}); \
             rounds meanwhile measure nothing",
            backoff.as_millis()
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

/// Reads every datagram of one socket; returns why it stopped.
async fn receive_loop(shared: &EngineState, family: Family) -> String {
    const BURST: usize = 256;
    let Ok(socket) = shared.socket(family) else {
        return "no socket".to_string();
    };
    #[cfg(feature = "test-faults")]
    let state = shared.receiver(family);
    let mut buf = vec![0u8; 65_536];
    let mut last_purge = WallNanos::now();
    loop {
        let mut guard = match socket.fd.readable().await {
            Ok(g) => g,
            Err(e) => return format!("waiting for the socket failed: {e}"),
        };
        let mut handled = 0;
        while handled < BURST {
            match sys::recv(socket.fd.get_ref(), &mut buf) {
                Ok(r) => {
                    #[cfg(feature = "test-faults")]
                    if state.fault.swap(false, Ordering::SeqCst) {
                        panic!("fault injected by a test");
                    }
                    let rx = r.kernel_time.unwrap_or_else(WallNanos::now);
                    let bytes = buf.get(..r.len).unwrap_or(&[]);
                    shared.handle(family, socket.framing, bytes, r.src, rx);
                    handled += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if e.kind() != std::io::ErrorKind::WouldBlock {
                        shared.count_recv_error();
                    }
                    guard.clear_ready();
                    break;
                }
            }
        }
        drop(guard);
        let now = WallNanos::now();
        if now.0.saturating_sub(last_purge.0) > 1_000_000_000 {
            shared.lock_table().purge(now);
            last_purge = now;
        }
        if handled >= BURST {
            tokio::task::yield_now().await;
        }
    }
}
