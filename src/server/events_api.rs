//! `GET /api/events?device=&severity=&q=&since=&kind=&limit=`: stored
//! events (SNMP traps and informs, syslog), newest first. Any query
//! parameter asks for this list; the bare `/api/events` stays the live
//! feed (server-sent events) the map reads. The cost is bounded: one
//! indexed read of at most [`crate::store::SEARCH_WINDOW`] rows, filtered by kind,
//! severity (that one or worse) and a substring `q`, a page of at most
//! [`MAX_EVENTS_PAGE`], on a blocking thread with its own connection;
//! `window_full: true` says older events were not searched.
use super::AppState;
use super::routes::{ApiError, json};
use crate::store::{
    EventFilter, EventKind, EventRow, MAX_EVENTS_PAGE, MAX_SEARCH_BYTES, Store, StoreConfig,
};
use crate::types::UnixMillis;
use crate::types::syslog::SyslogSeverity;
use crate::util::time::parse_time;
use std::sync::Arc;
use warp::Rejection;
use warp::http::StatusCode;
use warp::reply::Response;

/// The parameters the list takes.
pub const PARAMS: [&str; 6] = ["device", "since", "limit", "kind", "severity", "q"];
/// Rows returned when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;

/// A checked query.
pub type EventsQuery = EventFilter;

/// Checks the raw query string; the error text is shown to the client.
pub fn parse_events_query(raw: &str, now: UnixMillis) -> Result<EventsQuery, String> {
    let mut q = EventFilter {
        device: None,
        since: UnixMillis(0),
        kind: None,
        max_severity: None,
        text: None,
        limit: DEFAULT_LIMIT,
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = super::series::percent_decode(value)
            .ok_or_else(|| format!("parameter `{}` is not valid percent-encoding", short(key)))?;
        match key {
            "device" if !value.is_empty() => q.device = Some(value),
            "device" => {}
            "since" => q.since = parse_time(&value, now).map_err(|e| format!("since: {e}"))?,
            "limit" => {
                q.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_EVENTS_PAGE).contains(n))
                    .ok_or_else(|| format!("limit must be 1 to {MAX_EVENTS_PAGE}"))?
            }
            "kind" if value.is_empty() => {}
            "kind" => {
                q.kind = Some(
                    EventKind::parse(&value)
                        .ok_or_else(|| "kind must be trap, syslog, topology or path".to_string())?,
                )
            }
            "severity" if value.is_empty() => {}
            "severity" => {
                q.max_severity = Some(
                    value
                        .parse::<SyslogSeverity>()
                        .map_err(|e| format!("severity: {e}"))?,
                )
            }
            "q" if value.is_empty() => {}
            "q" if value.len() > MAX_SEARCH_BYTES => {
                return Err(format!("q is longer than {MAX_SEARCH_BYTES} bytes"));
            }
            "q" => q.text = Some(value),
            other => {
                return Err(format!(
                    "unknown parameter `{}`; expected: {}",
                    short(other),
                    PARAMS.join(", ")
                ));
            }
        }
    }
    Ok(q)
}

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}

#[derive(serde::Serialize)]
struct EventsPage {
    events: Vec<EventRow>,
    /// Only when true: the newest events searched were all the window
    /// holds, so older matches may exist (narrow with `device`/`since`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    window_full: bool,
}

/// The handler (the query string is not empty).
pub(super) async fn list(state: Arc<AppState>, raw: String) -> Result<Response, Rejection> {
    let q = parse_events_query(&raw, UnixMillis::now())
        .map_err(|m| warp::reject::custom(ApiError::BadRequest(m)))?;
    let Some(db) = state.db_path.clone() else {
        return Err(warp::reject::custom(ApiError::Unavailable(
            "this server has no store",
        )));
    };
    let read = tokio::task::spawn_blocking(move || {
        if !db.is_file() {
            return Ok(crate::store::EventPage {
                events: Vec::new(),
                window_full: false,
            });
        }
        let store = Store::open(&db, StoreConfig::default())?;
        store.search_events(&q)
    })
    .await;
    match read {
        Ok(Ok(page)) => Ok(json(
            StatusCode::OK,
            &EventsPage {
                events: page.events,
                window_full: page.window_full,
            },
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "events read failed");
            Err(warp::reject::custom(ApiError::Internal(
                "reading the store failed",
            )))
        }
        Err(_) => Err(warp::reject::custom(ApiError::Internal(
            "reading the store failed",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_checked() {
        let now = UnixMillis(10_000_000);
        let q = parse_events_query("device=r%201&since=1h&limit=5", now).unwrap();
        assert_eq!(q.device.as_deref(), Some("r 1"));
        assert_eq!(q.since, UnixMillis(10_000_000 - 3_600_000));
        assert_eq!(q.limit, 5);
        assert_eq!(
            parse_events_query("limit=100", now).unwrap().since,
            UnixMillis(0)
        );
        assert!(parse_events_query("limit=0", now).is_err());
        assert!(parse_events_query("limit=1001", now).is_err());
        assert!(parse_events_query("since=yesterday", now).is_err());
        assert!(
            parse_events_query("text=x", now)
                .unwrap_err()
                .contains("unknown")
        );
        let q = parse_events_query("kind=syslog&severity=warning&q=link%20down", now).unwrap();
        assert_eq!(q.kind, Some(EventKind::Syslog));
        assert_eq!(q.max_severity, Some(SyslogSeverity::Warning));
        assert_eq!(q.text.as_deref(), Some("link down"));
        assert_eq!(
            parse_events_query("severity=3", now).unwrap().max_severity,
            Some(SyslogSeverity::Error)
        );
        assert!(parse_events_query("kind=log", now).is_err());
        assert!(parse_events_query("severity=9", now).is_err());
        assert!(parse_events_query(&format!("q={}", "x".repeat(300)), now).is_err());
    }
}
