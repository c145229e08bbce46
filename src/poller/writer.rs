//! The one task that writes to the store: batches from every poller are
//! merged and written in one transaction at most every second (or every
//! 10,000 samples), rollups and retention run every five minutes, and the
//! last batch is flushed on shutdown. A store error is counted and logged;
//! the monitor keeps running in memory.
use crate::live::Live;
use crate::store::{Batch, Store, UnixMillis};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

const FLUSH_EVERY: Duration = Duration::from_secs(1);
const FLUSH_AT: usize = 10_000;
const MAINTAIN_EVERY: Duration = Duration::from_secs(300);

pub(super) async fn run(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Batch>,
    live: Arc<Live>,
    mut stop: watch::Receiver<bool>,
) {
    let store = Arc::new(std::sync::Mutex::new(store));
    let mut pending = Batch::default();
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let mut maintain = tokio::time::interval(MAINTAIN_EVERY);
    maintain.tick().await;
    loop {
        tokio::select! {
            b = rx.recv() => match b {
                Some(b) => {
                    pending.samples.extend(b.samples);
                    pending.gaps.extend(b.gaps);
                    if pending.samples.len() >= FLUSH_AT {
                        write(&store, std::mem::take(&mut pending), &live).await;
                    }
                }
                None => break,
            },
            _ = flush.tick() => write(&store, std::mem::take(&mut pending), &live).await,
            _ = maintain.tick() => {
                let st = store.clone();
                let r = tokio::task::spawn_blocking(move || {
                    let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                    let now = UnixMillis(crate::types::unix_now_ms());
                    s.rollup(now).and_then(|_| s.prune(now))
                }).await;
                if !matches!(r, Ok(Ok(_))) {
                    tracing::warn!("store rollup/prune failed");
                    live.update(|l| l.poller.store_errors += 1);
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
    write(&store, pending, &live).await;
}

async fn write(store: &Arc<std::sync::Mutex<Store>>, batch: Batch, live: &Live) {
    if batch.samples.is_empty() && batch.gaps.is_empty() {
        return;
    }
    let n = batch.samples.len() as u64;
    let st = store.clone();
    let r = tokio::task::spawn_blocking(move || {
        st.lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_batch(&batch)
    })
    .await;
    match r {
        Ok(Ok(_)) => live.update(|l| l.poller.samples_written += n),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "store write failed; samples kept in memory only");
            live.update(|l| l.poller.store_errors += 1);
        }
        Err(e) => {
            tracing::warn!(error = %e, "store writer task failed");
            live.update(|l| l.poller.store_errors += 1);
        }
    }
}
