//! The one writer of a receiver's events (traps, syslog): its own
//! connection, one transaction per batch of what is queued, until every
//! sender is gone and the queue is drained. Blocking: run it on a blocking
//! thread. A store that cannot be opened drains the queue (the receiver
//! never waits on it) and says so once; a batch that fails is logged with
//! its size and the connection reopened. With an [`EventTap`], each
//! event on a device is then handed on (to the alert rules on events)
//! without waiting: a full tap drops it and counts the drop.
use super::{EventRow, Store, StoreConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Where the writers hand the events they took that name a device; one
/// bounded channel every receiver's writer shares.
#[derive(Debug, Clone)]
pub struct EventTap {
    tx: mpsc::Sender<EventRow>,
    dropped: Arc<AtomicU64>,
}

impl EventTap {
    /// A tap holding up to `len` events, and its receiving end.
    pub fn channel(len: usize) -> (EventTap, mpsc::Receiver<EventRow>) {
        let (tx, rx) = mpsc::channel(len.max(1));
        let tap = EventTap {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        (tap, rx)
    }

    /// Hands `e` on when it names a device; never waits. False when the
    /// tap was full (or its reader gone): dropped, counted.
    pub fn offer(&self, e: &EventRow) -> bool {
        if e.device.is_none() {
            return true;
        }
        let sent = self.tx.try_send(e.clone()).is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Events dropped because the tap was full, since it was made.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A reader of the drop count (for `/metrics`) that holds no sender.
    pub fn drop_counter(&self) -> TapDrops {
        TapDrops(self.dropped.clone())
    }
}

/// How many events a tap dropped, read from elsewhere.
#[derive(Debug, Clone)]
pub struct TapDrops(Arc<AtomicU64>);

impl TapDrops {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// `who` names the receiver and `what` its events in the log lines
/// (`"trap receiver"`, `"events"`).
pub fn write_queued_events(
    db: PathBuf,
    config: StoreConfig,
    mut rx: mpsc::Receiver<EventRow>,
    batch_max: usize,
    who: &str,
    what: &str,
    tap: Option<EventTap>,
) {
    let mut store = match Store::open(&db, config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{who}: {what} are not stored: {e}");
            while let Some(e) = rx.blocking_recv() {
                if let Some(t) = &tap {
                    t.offer(&e);
                }
            }
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
        // The alert rules see every event, stored or not.
        if let Some(t) = &tap {
            let lost = batch.iter().filter(|e| !t.offer(e)).count();
            if lost > 0 {
                tracing::warn!(
                    "{who}: {lost} {what} not handed to the alert rules (their queue is full; {} in all)",
                    t.dropped()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(device: Option<&str>) -> EventRow {
        EventRow {
            id: 0,
            at: crate::types::UnixMillis(1),
            device: device.map(str::to_string),
            matched_by: None,
            source: "127.0.0.1".into(),
            kind: "trap".into(),
            version: "2c".into(),
            name: "linkDown".into(),
            trap_oid: "1.3.6.1.6.3.1.1.5.3".into(),
            if_index: None,
            varbinds: Vec::new(),
            syslog: None,
        }
    }

    /// Events on devices are stored and handed on; a full tap drops and
    /// counts, never blocks the writer; events on no device are stored only.
    #[test]
    fn the_writer_hands_events_on_devices_to_the_tap_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tap.db");
        let (tap, mut out) = EventTap::channel(2);
        let (tx, rx) = mpsc::channel(16);
        for d in [Some("a"), None, Some("b"), Some("c"), Some("d")] {
            tx.try_send(row(d)).unwrap();
        }
        drop(tx);
        let counter = tap.clone();
        write_queued_events(
            db.clone(),
            StoreConfig::default(),
            rx,
            100,
            "test",
            "events",
            Some(tap),
        );
        let got: Vec<Option<String>> = std::iter::from_fn(|| out.try_recv().ok())
            .map(|e| e.device)
            .collect();
        assert_eq!(got, [Some("a".to_string()), Some("b".to_string())]);
        assert_eq!(counter.dropped(), 2);
        let store = Store::open(&db, StoreConfig::default()).unwrap();
        let stored = store
            .events(None, crate::types::UnixMillis(0), 100)
            .unwrap();
        assert_eq!(stored.len(), 5);
    }
}
