//! Datagrams the shared transport received but could not use, counted per
//! sending address, so a device that "does not answer" can be told apart
//! from one that answers with a wrong request id, answers too late, or
//! sends something that is not SNMP at all.
//!
//! async-snmp drops such datagrams in its receive task, before any code of
//! ours sees them, and says so only in its debug log (target
//! `async_snmp::transport`, with the source address). [`RejectLayer`] is a
//! tracing layer with a filter of its own that turns exactly those events
//! into counts; the rest of the logging is unchanged. Answers dropped for
//! coming from another address than the one asked, and the library's
//! per-request timeouts, also feed [`super::strays`], which puts such
//! answers back on the address asked. The texts matched are
//! those of async-snmp `=0.18.1` (pinned); `tests` sends real datagrams
//! through a real transport to keep the match honest.
//!
//! The table is bounded: at most [`MAX_ADDRESSES`] addresses are tracked,
//! datagrams from further addresses (a spoofed flood) only count in
//! [`untracked`].
use super::strays::Strays;
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Addresses tracked at most.
pub const MAX_ADDRESSES: usize = 4_096;

/// What became of the unusable datagrams from one address, since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RejectCounts {
    /// Matched no waiting request: late (after the timeout), duplicate, or
    /// carrying a request id nobody sent. Includes the two below.
    pub unmatched: u64,
    /// Carried the request id of a request sent to another address.
    pub wrong_source: u64,
    /// Carried a request id but another community than the request's.
    pub wrong_community: u64,
    /// No readable request id: not SNMP, truncated or garbled.
    pub malformed: u64,
}

impl RejectCounts {
    pub fn total(&self) -> u64 {
        self.unmatched + self.malformed
    }

    /// What grew from `earlier` to `self`, as a short reason for a
    /// device's error text; None when nothing did.
    pub fn describe_growth(&self, earlier: &RejectCounts) -> Option<String> {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        let unmatched = d(self.unmatched, earlier.unmatched);
        let wrong_source = d(self.wrong_source, earlier.wrong_source);
        let wrong_community = d(self.wrong_community, earlier.wrong_community);
        let malformed = d(self.malformed, earlier.malformed);
        let mut parts = Vec::new();
        let plain = unmatched.saturating_sub(wrong_source + wrong_community);
        if plain > 0 {
            parts.push(format!(
                "{plain} matched no request (late, duplicate or a wrong request id)"
            ));
        }
        if wrong_community > 0 {
            parts.push(format!("{wrong_community} carried another community"));
        }
        if malformed > 0 {
            parts.push(format!(
                "{malformed} were not readable SNMP (garbled or truncated)"
            ));
        }
        if wrong_source > 0 {
            parts.push(format!(
                "{wrong_source} answered requests sent to another address"
            ));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unmatched,
    WrongSource,
    WrongCommunity,
    Malformed,
    /// A request timed out (the answers held for it by
    /// [`strays`](super::strays) are counted on its target).
    Timeout,
}

static TABLE: Mutex<Option<HashMap<IpAddr, RejectCounts>>> = Mutex::new(None);
static UNTRACKED: AtomicU64 = AtomicU64::new(0);
static STRAYS: Mutex<Option<Strays>> = Mutex::new(None);

fn strays<T>(f: impl FnOnce(&mut Strays) -> T) -> T {
    let mut guard = STRAYS.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(Strays::default))
}

/// Answers to requests sent to `target` that came from another address,
/// by sender, since start (see [`super::strays`]).
pub fn from_elsewhere(target: IpAddr) -> Vec<(IpAddr, u64)> {
    strays(|s| s.from_elsewhere(target))
}

fn record(ip: IpAddr, kind: Kind) {
    let mut guard = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    let table = guard.get_or_insert_with(HashMap::new);
    if !table.contains_key(&ip) && table.len() >= MAX_ADDRESSES {
        UNTRACKED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let c = table.entry(ip).or_default();
    match kind {
        Kind::Unmatched => c.unmatched += 1,
        Kind::WrongSource => c.wrong_source += 1,
        Kind::WrongCommunity => c.wrong_community += 1,
        Kind::Malformed => c.malformed += 1,
        Kind::Timeout => {}
    }
}

/// The counts for `ip` since start (all zero when nothing came from it).
pub fn counts(ip: IpAddr) -> RejectCounts {
    let guard = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .and_then(|t| t.get(&ip).copied())
        .unwrap_or_default()
}

/// Datagrams from addresses beyond [`MAX_ADDRESSES`], and answers from
/// elsewhere beyond the bounds of [`super::strays`], not attributed.
pub fn untracked() -> u64 {
    UNTRACKED.load(Ordering::Relaxed) + strays(|s| s.untracked())
}

/// Which of the library's debug messages means what.
fn classify(message: &str) -> Option<Kind> {
    Some(match message {
        "response for unknown request" => Kind::Unmatched,
        "response rejected by strict source correlation" => Kind::WrongSource,
        "response rejected by community correlation" => Kind::WrongCommunity,
        "malformed response (no request_id)" => Kind::Malformed,
        "transport timeout" | "transport timeout (slot missing)" => Kind::Timeout,
        _ => return None,
    })
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    source: Option<IpAddr>,
    target: Option<IpAddr>,
    request_id: Option<i32>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, text: String) {
        match field.name() {
            "message" => self.message = Some(text),
            "source" | "snmp.source" => self.source = address(&text),
            "target" | "snmp.target" => self.target = address(&text),
            "request_id" | "snmp.request_id" => self.request_id = text.parse().ok(),
            _ => {}
        }
    }
}

fn address(text: &str) -> Option<IpAddr> {
    text.parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// The tracing layer that counts. Install it with [`layer`], which adds the
/// filter that lets only the transport's debug events through to it.
pub struct RejectLayer;

impl<S: Subscriber> Layer<S> for RejectLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !event
            .metadata()
            .target()
            .starts_with("async_snmp::transport")
        {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let Some(kind) = f.message.as_deref().and_then(classify) else {
            return;
        };
        match (kind, f.request_id) {
            (Kind::Timeout, Some(id)) => {
                if let Some(target) = f.target {
                    strays(|s| s.timed_out(id, target));
                }
                return;
            }
            (Kind::WrongSource, Some(id)) => {
                if let Some(source) = f.source {
                    strays(|s| s.rejected(id, source, Instant::now()));
                }
            }
            _ => {}
        }
        if let Some(ip) = f.source {
            record(ip, kind);
        }
    }
}

/// [`RejectLayer`] behind a filter of its own: the transport's events at
/// debug level and nothing else, whatever the log level of the rest.
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::filter::Targets;
    RejectLayer
        .with_filter(Targets::new().with_target("async_snmp::transport", tracing::Level::DEBUG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_described_by_kind() {
        let then = RejectCounts::default();
        let now = RejectCounts {
            unmatched: 5,
            wrong_source: 1,
            wrong_community: 1,
            malformed: 2,
        };
        assert_eq!(
            now.describe_growth(&then).unwrap(),
            "3 matched no request (late, duplicate or a wrong request id), 1 carried another community, \
             2 were not readable SNMP (garbled or truncated), 1 answered requests sent to another address"
        );
        assert_eq!(now.describe_growth(&now), None);
        assert_eq!(now.total(), 7);
    }

    #[test]
    fn only_the_transport_messages_count() {
        assert_eq!(
            classify("response for unknown request"),
            Some(Kind::Unmatched)
        );
        assert_eq!(
            classify("malformed response (no request_id)"),
            Some(Kind::Malformed)
        );
        assert_eq!(classify("UDP transport shutdown"), None);
    }
}

/// Test support for the engine's and discovery's tests.
#[cfg(test)]
/// Runs `f` on a current-thread runtime with [`rejects::layer`] as this
/// thread's subscriber (spawned tasks run on the same thread, so they are
/// seen too).
pub fn with_reject_layer(f: impl std::future::Future<Output = ()>) {
    use tracing_subscriber::prelude::*;
    let subscriber = tracing_subscriber::registry().with(layer());
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    });
}
