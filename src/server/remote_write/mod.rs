//! Prometheus remote write: every interval, the series of `/metrics` (the
//! same [`collect`](crate::server::metrics::collect)) as one snappy-compressed
//! `WriteRequest`, POSTed to the receiver. 5xx, 429, connection errors and
//! timeouts are retried with exponential backoff; other statuses drop the
//! push (logged once). Pushes wait in a bounded queue; the oldest is dropped
//! when it is full. Secrets go only into the `Authorization` header.
mod outbox;
pub mod proto;

pub use outbox::{Outbox, Outcome};

use crate::live::Live;
use crate::server::metrics;
use crate::types::Secret;
use crate::types::UnixMillis;
use crate::util::http::{Destination, post};
use base64::Engine;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// How the receiver authenticates us.
#[derive(Debug, Clone)]
pub enum RemoteAuth {
    Bearer(Secret),
    Basic { user: String, password: Secret },
}

/// Everything remote write needs (built from `[remote_write]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub endpoint: Destination,
    pub interval: Duration,
    /// Per attempt: connect, send and answer.
    pub timeout: Duration,
    pub queue_len: usize,
    pub auth: Option<RemoteAuth>,
    /// Added to every series.
    pub labels: Vec<(String, String)>,
}

/// What [`run`] did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pushes the receiver accepted (2xx).
    pub sent: u64,
    /// Pushes dropped on a non-retryable status.
    pub rejected: u64,
    /// Failed attempts that were retried later.
    pub retries: u64,
    /// Pushes dropped because the queue was full.
    pub dropped: u64,
}

/// Pushes until `shutdown` completes; a push in flight then is finished
/// (bounded by the request timeout) and counted, not abandoned.
pub async fn run(settings: Settings, live: Arc<Live>, shutdown: impl Future<Output = ()>) -> Stats {
    run_while(settings, live, None, shutdown).await
}

/// [`run`], collecting only while `active` is true when given (a central
/// of a pair: only the one holding the lease writes, so the receiver
/// never gets the same series from two writers).
pub async fn run_while(
    settings: Settings,
    live: Arc<Live>,
    active: Option<tokio::sync::watch::Receiver<bool>>,
    shutdown: impl Future<Output = ()>,
) -> Stats {
    let headers = headers(&settings);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut outbox = Outbox::new(settings.queue_len);
    let mut stats = Stats::default();
    let mut next_attempt: Option<Instant> = None;
    let mut logged_rejection = false;
    let mut failing = false;
    loop {
        let due = next_attempt;
        let attempt_due = async move {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            _ = ticker.tick() => {
                if active.as_ref().is_some_and(|a| !*a.borrow()) {
                    continue;
                }
                let now = UnixMillis::now();
                let families = live.read(|s| metrics::collect(s, now));
                let req = proto::write_request(&families, &settings.labels, now);
                if outbox.push(proto::body(&req)) {
                    tracing::warn!(queued = outbox.len(), "remote write queue full: dropped the oldest push");
                }
                next_attempt.get_or_insert_with(Instant::now);
            }
            _ = attempt_due => {
                let Some(body) = outbox.front().map(<[u8]>::to_vec) else {
                    next_attempt = None;
                    continue;
                };
                let result = post(&settings.endpoint, &headers, body, settings.timeout).await;
                let outcome = match &result {
                    Ok(status) => Outcome::from_status(status.as_u16()),
                    Err(_) => Outcome::Retry,
                };
                match (outcome, &result) {
                    (Outcome::Sent, _) => {
                        stats.sent += 1;
                        if std::mem::take(&mut failing) {
                            tracing::info!("remote write: receiver accepts pushes again");
                        }
                    }
                    (Outcome::Rejected(status), _) => {
                        stats.rejected += 1;
                        if !std::mem::replace(&mut logged_rejection, true) {
                            tracing::warn!(status, "remote write: receiver refused a push; dropping refused pushes (logged once)");
                        }
                    }
                    (Outcome::Retry, r) => {
                        stats.retries += 1;
                        let why = match r {
                            Ok(status) => format!("status {status}"),
                            Err(e) => e.to_string(),
                        };
                        if !std::mem::replace(&mut failing, true) {
                            tracing::warn!(error = %why, "remote write failed; retrying with backoff");
                        } else {
                            tracing::debug!(error = %why, "remote write failed again");
                        }
                    }
                }
                let wait = outbox.settle(outcome);
                next_attempt = (!outbox.is_empty()).then(|| Instant::now() + wait);
            }
        }
    }
    stats.dropped = outbox.dropped;
    stats
}

/// The fixed request headers, `Authorization` included.
fn headers(s: &Settings) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("content-encoding", "snappy".to_string()),
        ("content-type", "application/x-protobuf".to_string()),
        ("x-prometheus-remote-write-version", "0.1.0".to_string()),
        (
            "user-agent",
            concat!("nocmap/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    match &s.auth {
        Some(RemoteAuth::Bearer(t)) => h.push(("authorization", format!("Bearer {}", t.expose()))),
        Some(RemoteAuth::Basic { user, password }) => {
            let pair = format!("{user}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            h.push(("authorization", format!("Basic {encoded}")));
        }
        None => {}
    }
    h
}
