//! The one task that writes to the store: batches from every poller are
//! merged and written in one transaction at most every second (or every
//! 10,000 samples), rollups and retention run every five minutes, and the
//! last batch is flushed on shutdown. When a write fails (disk full,
//! read-only file system) the samples wait in a bounded [`Backlog`] and the
//! write is retried with backoff on a reopened connection; the monitor keeps
//! running in memory meanwhile and reports the state in its health. The
//! store is reached through [`SampleStore`] and time through the clock
//! handle, so a test can fail the store at will.
use super::backlog::{Backlog, DEFAULT_CAP, lost_commits};
use crate::live::Live;
use crate::store::{Batch, Store, StoreError};
use crate::types::UnixMillis;
use crate::util::clock::Clock;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What the writer needs of the store ([`Store`] in `nocmap serve`).
pub trait SampleStore: Send + 'static {
    /// Writes the batch in one transaction.
    fn write_batch(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// Opens the connection again after a failed write.
    fn reopen(&mut self) -> Result<(), StoreError>;
    /// The newest sample time the store holds.
    fn last_sample_time(&self) -> Result<Option<UnixMillis>, StoreError>;
    /// Rollups, then retention, as of `now`.
    fn maintain(&mut self, now: UnixMillis) -> Result<(), StoreError>;
}

impl SampleStore for Store {
    fn write_batch(&mut self, batch: &Batch) -> Result<(), StoreError> {
        Store::write_batch(self, batch)
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        Store::reopen(self)
    }

    fn last_sample_time(&self) -> Result<Option<UnixMillis>, StoreError> {
        Store::last_sample_time(self)
    }

    fn maintain(&mut self, now: UnixMillis) -> Result<(), StoreError> {
        self.rollup(now).and_then(|_| self.prune(now)).map(|_| ())
    }
}

const FLUSH_EVERY: Duration = Duration::from_secs(1);
const FLUSH_AT: usize = 10_000;
const MAINTAIN_EVERY: Duration = Duration::from_secs(300);

struct Writer<S> {
    store: Arc<std::sync::Mutex<S>>,
    backlog: Backlog,
    /// The last write failed: reopen the connection before the next one.
    broken: bool,
    /// First and last time of the samples committed so far.
    written: Option<(UnixMillis, UnixMillis)>,
    live: Arc<Live>,
    clock: Arc<dyn Clock>,
}

/// Writes what arrives on `rx` until `stop`, holding at most
/// [`DEFAULT_CAP`] samples while the store fails.
pub(super) async fn run<S: SampleStore>(
    store: S,
    rx: mpsc::UnboundedReceiver<Batch>,
    live: Arc<Live>,
    clock: Arc<dyn Clock>,
    stop: watch::Receiver<bool>,
) {
    run_capped(store, rx, live, clock, stop, DEFAULT_CAP).await
}

/// [`run`] with a backlog of at most `cap` samples.
pub(super) async fn run_capped<S: SampleStore>(
    store: S,
    mut rx: mpsc::UnboundedReceiver<Batch>,
    live: Arc<Live>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
    cap: usize,
) {
    let mut w = Writer {
        store: Arc::new(std::sync::Mutex::new(store)),
        backlog: Backlog::new(cap),
        broken: false,
        written: None,
        live: live.clone(),
        clock: clock.clone(),
    };
    let mut pending = Batch::default();
    // Deadlines on the clock's monotonic axis: a flush at once, then every
    // second; rollup and retention five minutes from now, then every five.
    let mut flush_due = clock.mono_ms();
    let mut maintain_due = flush_due + ms(MAINTAIN_EVERY);
    loop {
        tokio::select! {
            b = rx.recv() => match b {
                Some(b) => {
                    pending.samples.extend(b.samples);
                    pending.gaps.extend(b.gaps);
                    if pending.samples.len() >= FLUSH_AT {
                        w.write(std::mem::take(&mut pending), false).await;
                    }
                }
                None => break,
            },
            _ = clock.sleep_until_mono(flush_due) => {
                flush_due = next_due(flush_due, clock.mono_ms(), FLUSH_EVERY);
                w.write(std::mem::take(&mut pending), false).await;
            }
            _ = clock.sleep_until_mono(maintain_due), if !w.broken => {
                maintain_due = next_due(maintain_due, clock.mono_ms(), MAINTAIN_EVERY);
                let st = w.store.clone();
                let now = clock.wall_ms();
                let r = tokio::task::spawn_blocking(move || {
                    let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                    let r = s.maintain(now);
                    // The rollup's big transaction leaves freed heap behind.
                    crate::memory::release_freed();
                    r
                }).await;
                let failed = match &r {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(e) => Some(format!("the maintenance task failed: {e}")),
                };
                if let Some(error) = failed {
                    tracing::warn!(%error, "store rollup/prune failed");
                    live.update_poller(|p| p.store_errors += 1);
                }
            }
            _ = stop.changed() => {
                // Take what the pollers already sent, then finish.
                while let Ok(b) = rx.try_recv() {
                    pending.samples.extend(b.samples);
                    pending.gaps.extend(b.gaps);
                }
                break;
            }
        }
    }
    w.write(pending, true).await;
    if w.backlog.samples() > 0 {
        tracing::error!(
            samples = w.backlog.samples(),
            "the store could not take the last samples before shutdown; they are lost"
        );
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The deadline after `due`, reached at `now`: one period on, or one period
/// after `now` when that is already past (no burst of catch-up ticks).
fn next_due(due: u64, now: u64, every: Duration) -> u64 {
    let next = due + ms(every);
    if next <= now { now + ms(every) } else { next }
}

impl<S: SampleStore> Writer<S> {
    /// Writes `batch` after whatever waits in the backlog; `now` ignores
    /// the retry backoff (shutdown).
    async fn write(&mut self, batch: Batch, now: bool) {
        if !batch.samples.is_empty() || !batch.gaps.is_empty() {
            self.backlog.push(batch);
        }
        let at = self.clock.wall_ms();
        if self.backlog.is_empty() || !(now || self.backlog.due(at)) {
            self.report(None);
            return;
        }
        let mut batch = self.backlog.take();
        let n = batch.samples.len() as u64;
        let span = batch.samples.iter().map(|s| s.at).fold(
            None,
            |acc: Option<(UnixMillis, UnixMillis)>, t| {
                Some(acc.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
            },
        );
        let (st, reopen, written) = (self.store.clone(), self.broken, self.written);
        let r = tokio::task::spawn_blocking(move || {
            let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
            // A reopened file may lack commits the file system lost.
            let lost = if reopen {
                s.reopen()
                    .and_then(|()| s.last_sample_time())
                    .map(|stored| lost_commits(stored, written))
            } else {
                Ok(None)
            };
            let r = lost.and_then(|lost| {
                batch.gaps.extend(lost.clone());
                let r = s.write_batch(&batch);
                if r.is_err() && lost.is_some() {
                    batch.gaps.pop();
                }
                r.map(|()| lost)
            });
            (batch, r)
        })
        .await;
        match r {
            Ok((_, Ok(lost))) => {
                if let Some(g) = lost {
                    tracing::warn!(
                        from = g.from.0,
                        to = g.to.0,
                        "the reopened store lacks samples written before the fault (lost with the file system); recorded as a gap"
                    );
                }
                if self.broken {
                    tracing::info!(samples = n, "the store takes writes again; backlog written");
                }
                if let Some((a, b)) = span {
                    self.written = Some(self.written.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
                }
                self.broken = false;
                self.backlog.succeeded();
                self.live.update_poller(|p| p.samples_written += n);
                self.report(None);
            }
            Ok((batch, Err(e))) => {
                let first = !self.broken;
                self.broken = true;
                self.backlog.failed(batch, at);
                if first {
                    tracing::warn!(error = %e, "store write failed; samples held in memory and retried");
                } else {
                    tracing::debug!(error = %e, "store write failed again");
                }
                self.report(Some(e.to_string()));
            }
            Err(e) => {
                // The batch is gone with the task (a panic in the store):
                // say so, keep going.
                tracing::error!(error = %e, samples = n, "store writer task failed; batch lost");
                self.broken = true;
                self.report(Some("store writer task failed".into()));
            }
        }
    }

    fn report(&self, error: Option<String>) {
        let (held, dropped, broken) = (
            self.backlog.samples() as u64,
            self.backlog.dropped_samples,
            self.broken,
        );
        self.live.update_poller(|p| {
            if error.is_some() {
                p.store_errors += 1;
            }
            p.store_ok = !broken;
            p.store_backlog_samples = held;
            p.store_dropped_samples = dropped;
            if let Some(e) = error {
                p.store_last_error = Some(e);
            }
        });
    }
}
