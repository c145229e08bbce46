//! The one writer of a receiver's events (traps, syslog): its own
//! connection, one transaction per batch of what is queued, until every
//! sender is gone and the queue is drained. Blocking: run it on a blocking
//! thread. A store that cannot be opened drains the queue (the receiver
//! never waits on it) and says so once; a batch that fails is logged with
//! its size and the connection reopened.
use super::{EventRow, Store, StoreConfig};
use std::path::PathBuf;
use tokio::sync::mpsc;

/// `who` names the receiver and `what` its events in the log lines
/// (`"trap receiver"`, `"events"`).
pub fn write_queued_events(
    db: PathBuf,
    config: StoreConfig,
    mut rx: mpsc::Receiver<EventRow>,
    batch_max: usize,
    who: &str,
    what: &str,
) {
    let mut store = match Store::open(&db, config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{who}: {what} are not stored: {e}");
            while rx.blocking_recv().is_some() {}
            return;
        }
    };
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < batch_max.max(1) {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        if let Err(e) = store.insert_events(&batch) {
            tracing::warn!("{who}: {} {what} not stored: {e}", batch.len());
            let _ = store.reopen();
        }
    }
}
