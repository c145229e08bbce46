//! Delivery of the outbox to one receiver: strictly in order, one
//! notification at a time; a failed attempt is retried with exponential
//! backoff (1 s doubling to 60 s) for as long as it takes, so nothing is
//! lost while the receiver is down or the process restarts. A receiver that
//! refuses a notification for good (4xx other than 408/429) gets the next
//! one; the refusal is logged and kept in the outbox row.
//!
//! Delivery is at least once: a notification whose answer is lost (timeout,
//! crash between the POST and the outbox update) is sent again. Every
//! notification carries its id (`X-Nocmap-Notification-Id` header and
//! `notification_id` in the body) so receivers can drop repeats.
//!
//! The HTTP side is behind [`Notifier`] and time behind the clock handle
//! (the backoff, the idle look, the delivery stamps), so the loop runs
//! against fakes.
//! Receiver secrets are exposed only when the request headers are built.
use super::payload;
use crate::config::ReceiverFormat;
use crate::store::{AlertEvent, Delivery, Store};
use crate::types::Secret;
use crate::util::clock::Clock;
use crate::util::http::{Endpoint, post};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How often an idle outbox is looked at without a wake.
const IDLE_LOOK: Duration = Duration::from_secs(1);

/// A receiver's answer to one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    /// Refused for good, with the HTTP status.
    Rejected(u16),
    /// Try again later (connection error, timeout, 5xx, 408, 429).
    Retry(String),
}

/// Sends one rendered notification; the one I/O boundary of delivery.
pub trait Notifier: Send + Sync + 'static {
    fn send(&self, body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send;
}

/// The wait before the next attempt after `failures` failed ones.
pub fn backoff(failures: u32) -> Duration {
    const FIRST_MS: u64 = 1_000;
    const CAP_MS: u64 = 60_000;
    let shift = failures.saturating_sub(1).min(16);
    Duration::from_millis((FIRST_MS << shift).min(CAP_MS))
}

/// What an HTTP status means for delivery.
pub fn classify(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Accepted,
        408 | 429 | 500..=599 => Answer::Retry(format!("HTTP {status}")),
        _ => Answer::Rejected(status),
    }
}

/// A webhook receiver over HTTP/1.1.
pub struct Webhook {
    pub endpoint: Endpoint,
    pub bearer_token: Option<Secret>,
    /// Header names and secret values.
    pub headers: Vec<(String, Secret)>,
    pub timeout: Duration,
}

impl Notifier for Webhook {
    fn send(&self, body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send {
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("x-nocmap-notification-id".into(), id.to_string()),
        ];
        if let Some(t) = &self.bearer_token {
            headers.push(("authorization".into(), format!("Bearer {}", t.expose())));
        }
        for (name, value) in &self.headers {
            headers.push((name.clone(), value.expose().to_string()));
        }
        async move {
            match post(&self.endpoint, &headers, body, self.timeout).await {
                Ok(status) => classify(status.as_u16()),
                // PostError names the address and the I/O error, never a header.
                Err(e) => Answer::Retry(e.to_string()),
            }
        }
    }
}

/// A receiver as delivery sees it.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub format: ReceiverFormat,
}

/// What one receiver's delivery did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub delivered: u64,
    pub rejected: u64,
    pub failed_attempts: u64,
}

/// The body for one event.
pub fn render(format: ReceiverFormat, e: &AlertEvent, receiver: &str) -> Vec<u8> {
    let v = match format {
        ReceiverFormat::Alertmanager => payload::alertmanager(e, receiver),
        ReceiverFormat::Generic => payload::generic(e, receiver),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Runs a store operation off the async threads.
async fn with_store<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("store task failed: {e}")))
}

/// Delivers `target`'s outbox until `stop` turns true. `wake` is notified
/// when new rows are recorded; without it the outbox is looked at every
/// second of `clock` anyway.
pub async fn run<N: Notifier>(
    target: Target,
    notifier: N,
    store: Arc<Mutex<Store>>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) -> Stats {
    let mut stats = Stats::default();
    let mut failures: u32 = 0;
    let name = target.name.clone();
    loop {
        if *stop.borrow() {
            return stats;
        }
        let n = name.clone();
        let item = with_store(&store, move |s| s.next_outbox(&n)).await;
        let item = match item {
            Ok(Some(item)) => item,
            Ok(None) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = clock.sleep(IDLE_LOOK) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(receiver = %name, error = %e, "reading the alert outbox failed");
                tokio::select! {
                    _ = clock.sleep(IDLE_LOOK) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        let body = render(target.format, &item.event, &name);
        let answer = tokio::select! {
            a = notifier.send(body, item.event.id) => a,
            // The attempt in flight is abandoned; the row is sent again next start.
            _ = stop.changed() => return stats,
        };
        let now = clock.wall_ms();
        let id = item.id;
        match answer {
            Answer::Accepted => {
                failures = 0;
                stats.delivered += 1;
                if let Err(e) =
                    with_store(&store, move |s| s.outbox_done(id, Delivery::Delivered, now)).await
                {
                    tracing::warn!(receiver = %name, error = %e, "marking a notification delivered failed");
                }
                tracing::info!(receiver = %name, notification = item.event.id, key = %item.event.key, event = %item.event.event, "notification delivered");
            }
            Answer::Rejected(status) => {
                failures = 0;
                stats.rejected += 1;
                tracing::warn!(receiver = %name, notification = item.event.id, status, "receiver refused a notification; moving on");
                if let Err(e) =
                    with_store(&store, move |s| s.outbox_done(id, Delivery::Rejected, now)).await
                {
                    tracing::warn!(receiver = %name, error = %e, "marking a notification rejected failed");
                }
            }
            Answer::Retry(reason) => {
                failures = failures.saturating_add(1);
                stats.failed_attempts += 1;
                let wait = backoff(failures);
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(receiver = %name, notification = item.event.id, failures, error = %reason, retry_in_ms = wait.as_millis() as u64, "notification not delivered; retrying");
                }
                let r = reason.clone();
                let _ = with_store(&store, move |s| s.outbox_failed(id, &r)).await;
                tokio::select! {
                    _ = clock.sleep(wait) => {}
                    _ = stop.changed() => return stats,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use crate::types::UnixMillis;
    use std::collections::VecDeque;

    #[test]
    fn backoff_doubles_to_a_cap() {
        let s: Vec<u64> = (1..=9).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(s, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(0).as_secs(), 1);
        assert_eq!(backoff(u32::MAX).as_secs(), 60);
    }

    #[test]
    fn statuses() {
        assert_eq!(classify(200), Answer::Accepted);
        assert_eq!(classify(204), Answer::Accepted);
        assert!(matches!(classify(503), Answer::Retry(_)));
        assert!(matches!(classify(429), Answer::Retry(_)));
        assert_eq!(classify(400), Answer::Rejected(400));
        assert_eq!(classify(301), Answer::Rejected(301));
    }

    /// Answers from a script, recording the ids it was sent.
    struct Fake {
        script: Mutex<VecDeque<Answer>>,
        seen: Arc<Mutex<Vec<i64>>>,
    }

    impl Notifier for Fake {
        fn send(&self, _body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send {
            self.seen.lock().unwrap().push(id);
            let a = self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Answer::Accepted);
            async move { a }
        }
    }

    /// The deliverer of receiver "hook" running on `fake`, and its stop.
    fn spawn_hook(
        fake: Fake,
        store: &Arc<Mutex<Store>>,
        clock: Arc<dyn crate::util::clock::Clock>,
    ) -> (tokio::task::JoinHandle<Stats>, watch::Sender<bool>) {
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(run(
            Target {
                name: "hook".into(),
                format: ReceiverFormat::Generic,
            },
            fake,
            store.clone(),
            Arc::new(Notify::new()),
            clock,
            stop,
        ));
        (task, stop_tx)
    }

    fn event(key: &str) -> AlertEvent {
        AlertEvent {
            rule: "r".into(),
            kind: crate::types::RuleKind::Loss,
            severity: crate::types::Severity::Info,
            device: "d".into(),
            device_name: "d".into(),
            interface: None,
            threshold: None,
            summary: String::new(),
            ..AlertEvent::fired_for_test(key, UnixMillis(1))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_order_with_retries_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
        let events: Vec<(AlertEvent, Vec<String>)> = (0..4)
            .map(|i| (event(&format!("k{i}")), vec!["hook".to_string()]))
            .collect();
        let ids = store.record_alerts(&events, None, UnixMillis(0)).unwrap();
        let store = Arc::new(Mutex::new(store));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            script: Mutex::new(VecDeque::from([
                Answer::Retry("down".into()),
                Answer::Retry("down".into()),
                Answer::Accepted,
                Answer::Rejected(400),
                Answer::Accepted,
            ])),
            seen: seen.clone(),
        };
        let (task, stop_tx) = spawn_hook(
            fake,
            &store,
            Arc::new(crate::util::clock::SystemClock::new()),
        );
        // Two retries: 1 s + 2 s of real backoff.
        for _ in 0..300 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if store.lock().unwrap().next_outbox("hook").unwrap().is_none() {
                break;
            }
        }
        stop_tx.send(true).unwrap();
        let stats = task.await.unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]
        );
        assert_eq!(
            stats,
            Stats {
                delivered: 3,
                rejected: 1,
                failed_attempts: 2
            }
        );
    }

    /// The backoff waits on the clock handle: however far tokio's paused
    /// time runs, the retry comes only once the handle's clock has moved.
    #[tokio::test(start_paused = true)]
    async fn the_backoff_waits_on_the_clock_handle() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
        let ids = store
            .record_alerts(
                &[(event("k"), vec!["hook".to_string()])],
                None,
                UnixMillis(0),
            )
            .unwrap();
        let store = Arc::new(Mutex::new(store));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            script: Mutex::new(VecDeque::from([Answer::Retry("down".into())])),
            seen: seen.clone(),
        };
        let clock = Arc::new(crate::util::clock::ManualClock::new(UnixMillis(
            1_800_000_000_000,
        )));
        let (task, stop_tx) = spawn_hook(fake, &store, clock.clone());
        let attempts = || seen.lock().unwrap().len();
        // Tokio's time runs a minute ahead; the handle's clock stands still.
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(attempts(), 1, "retried without the clock moving");
        clock.advance(Duration::from_millis(999));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(attempts(), 1, "retried before the 1 s backoff");
        clock.advance(Duration::from_millis(1));
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if attempts() == 2 {
                break;
            }
        }
        assert_eq!(*seen.lock().unwrap(), vec![ids[0], ids[0]]);
        stop_tx.send(true).unwrap();
        let stats = task.await.unwrap();
        assert_eq!((stats.delivered, stats.failed_attempts), (1, 1));
    }

    #[test]
    fn bodies_name_the_receiver() {
        let mut e = event("k");
        e.id = 42;
        let v: serde_json::Value =
            serde_json::from_slice(&render(ReceiverFormat::Alertmanager, &e, "ops")).unwrap();
        assert_eq!(v["receiver"], "ops");
        assert_eq!(v["alerts"][0]["annotations"]["notification_id"], "42");
    }
}
