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
//! `notification_id` in the body) so receivers can drop repeats; a box of
//! several (`[nats]`) prefixes it with its name
//! ([`payload::NotificationId`]), so the ids of a central and its sites
//! never collide.
//!
//! An Alertmanager receiver (`format = "alertmanager_api"`) gets each
//! event as a one-alert list for `POST /api/v2/alerts`; and, whenever its
//! outbox is empty and the resend interval has passed, every alert it was
//! last told is firing (the store's `told_firing`) again, with a fresh
//! `endsAt`, as Prometheus does. Alertmanager keeps alerts in memory only:
//! the resend brings them back after it restarts. Resends go through the
//! same loop as the outbox, so one never overtakes a resolve.
//!
//! The HTTP side is behind [`Notifier`] and time behind the clock handle
//! (the backoff, the idle look, the delivery stamps), so the loop runs
//! against fakes.
//! Receiver secrets are exposed only when the request headers are built.
use super::duty::{self, Duty, Outbox};
use super::payload;
use crate::config::ReceiverFormat;
use crate::store::{AlertEvent, Delivery, Store};
use crate::types::Secret;
use crate::types::UnixMillis;
use crate::util::clock::Clock;
use crate::util::http::{Destination, post};
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
    pub endpoint: Destination,
    pub bearer_token: Option<Secret>,
    /// Header names and secret values.
    pub headers: Vec<(String, Secret)>,
    pub timeout: Duration,
    /// This box's name among several (`[nats] site`), for the id header.
    pub origin: Option<String>,
}

impl Notifier for Webhook {
    fn send(&self, body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send {
        // 0: a resend of the firing alerts, which is no one history row.
        let id = match id {
            0 => "0".to_string(),
            row => payload::NotificationId {
                origin: self.origin.as_deref(),
                row,
            }
            .text(),
        };
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("x-nocmap-notification-id".into(), id),
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
    /// Set for `alertmanager_api` receivers.
    pub api: Option<AlertmanagerApi>,
    /// This box's name among several (`[nats] site`): the notification
    /// ids' prefix.
    pub origin: Option<String>,
    /// Whether it tells now (a central of a pair: only while active).
    pub duty: Duty,
}

/// A device's tags from its id (for the `tags` label).
pub type DeviceTags = dyn Fn(&str) -> Vec<String> + Send + Sync;

/// What an Alertmanager API receiver needs beyond the event.
#[derive(Clone)]
pub struct AlertmanagerApi {
    /// Firing alerts are sent again this often; each is valid 4 × this.
    pub resend: Duration,
    pub map_url: Option<String>,
    pub tags: Arc<DeviceTags>,
    /// This box's name among several, as in [`Target::origin`].
    pub origin: Option<String>,
}

impl std::fmt::Debug for AlertmanagerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerApi")
            .field("resend", &self.resend)
            .field("map_url", &self.map_url)
            .finish_non_exhaustive()
    }
}

impl AlertmanagerApi {
    /// The `POST /api/v2/alerts` body for `events` at `now`.
    pub fn render(&self, events: &[AlertEvent], now: UnixMillis) -> Vec<u8> {
        let valid_until = now + 4 * self.resend.as_millis() as i64;
        let alerts: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                payload::alertmanager_api(
                    e,
                    &(self.tags)(&e.device),
                    valid_until,
                    self.map_url.as_deref(),
                    self.origin.as_deref(),
                )
            })
            .collect();
        serde_json::to_vec(&alerts).unwrap_or_default()
    }
}

/// What one receiver's delivery did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub delivered: u64,
    pub rejected: u64,
    pub failed_attempts: u64,
}

/// The body for one event, sent by the box named `origin` (None: a box on
/// its own).
pub fn render(
    format: ReceiverFormat,
    e: &AlertEvent,
    receiver: &str,
    origin: Option<&str>,
) -> Vec<u8> {
    let v = match format {
        ReceiverFormat::Alertmanager => payload::alertmanager(e, receiver, origin),
        // Without its settings (tests): the API alert with a 4-minute validity.
        ReceiverFormat::AlertmanagerApi => {
            serde_json::Value::Array(vec![payload::alertmanager_api(
                e,
                &[],
                e.at_ms + 240_000,
                None,
                origin,
            )])
        }
        ReceiverFormat::Generic => payload::generic(e, receiver, origin),
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
    // The first resend one interval after start: the outbox goes first.
    let mut resend_due = target
        .api
        .as_ref()
        .map(|a| clock.mono_ms() + a.resend.as_millis() as u64);
    let mut resend_failing = false;
    loop {
        if *stop.borrow() {
            return stats;
        }
        let n = name.clone();
        let item = with_store(&store, move |s| s.next_outbox(&n)).await;
        let item = match item {
            Ok(Some(item)) => item,
            Ok(None) => {
                if let (Some(api), Some(due)) = (&target.api, resend_due)
                    && clock.mono_ms() >= due
                {
                    resend_due = Some(clock.mono_ms() + api.resend.as_millis() as u64);
                    let n = name.clone();
                    match with_store(&store, move |s| s.told_firing(&n)).await {
                        Ok(firing) if !firing.is_empty() => {
                            let body = api.render(&firing, clock.wall_ms());
                            let answer = tokio::select! {
                                a = notifier.send(body, 0) => a,
                                _ = stop.changed() => return stats,
                            };
                            let ok = answer == Answer::Accepted;
                            if !ok && !std::mem::replace(&mut resend_failing, true) {
                                tracing::warn!(receiver = %name, answer = ?answer, alerts = firing.len(), "resending the firing alerts failed; trying again next interval");
                            } else if ok && std::mem::take(&mut resend_failing) {
                                tracing::info!(receiver = %name, alerts = firing.len(), "firing alerts resent again");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(receiver = %name, error = %e, "reading the firing alerts to resend failed")
                        }
                    }
                    continue;
                }
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
        if let Duty::Pair { active, hold_ms } = &target.duty {
            let mut active = active.clone();
            let is_active = *active.borrow_and_update();
            let at = item.event.at_ms.0;
            match duty::decide(is_active, at, clock.wall_ms().0, *hold_ms) {
                Outbox::Send => {}
                Outbox::Skip => {
                    let (id, now) = (item.id, clock.wall_ms());
                    if let Err(e) =
                        with_store(&store, move |s| s.outbox_done(id, Delivery::Standby, now)).await
                    {
                        tracing::warn!(receiver = %name, error = %e, "marking a notification told by the active central failed");
                    }
                    continue;
                }
                Outbox::Hold => {
                    let changed = async {
                        if active.changed().await.is_err() {
                            std::future::pending::<()>().await
                        }
                    };
                    tokio::select! {
                        _ = changed => {}
                        _ = clock.sleep(IDLE_LOOK) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            }
        }
        let body = match &target.api {
            Some(api) => api.render(std::slice::from_ref(&item.event), clock.wall_ms()),
            None => render(target.format, &item.event, &name, target.origin.as_deref()),
        };
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
#[path = "deliver_tests.rs"]
mod tests;
