//! The alert routes under `/api` (read-only role, mounted by `routes`):
//! `GET /api/alerts` (the firing alerts, suppressed ones marked with the
//! devices that cause them, and the flapping ones, `flapping` true, even
//! while resolved) and `GET /api/alerts/history?since=6h&limit=N`
//! (recorded events, oldest first; at a box of several, `[nats]`, each
//! also carries the `notification_id` its notifications had,
//! `<site>:<id>`). Both read the store in
//! `spawn_blocking`; errors are JSON `{"error": ...}` with their status.
//! Device strings reach the client only through serde.
use super::AppState;
use crate::store::{ActiveAlertRow, AlertEvent, Store, StoreConfig, StoreError};
use crate::types::{AlertStatus, Severity, UnixMillis};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

/// History rows returned at most per request (and by default).
pub const MAX_HISTORY: u32 = 5_000;

#[derive(Debug, Serialize)]
struct DeviceRef {
    id: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct ActiveView {
    key: String,
    rule: String,
    severity: Severity,
    /// Resolved ones are listed only while they flap.
    status: AlertStatus,
    firing: bool,
    suppressed: bool,
    device: DeviceRef,
    interface: Option<String>,
    since: String,
    since_ms: UnixMillis,
    value: Option<f64>,
    caused_by: Vec<DeviceRef>,
    maintenance: Option<String>,
    flapping: bool,
    notified: bool,
}

#[derive(Debug, Serialize)]
struct HistoryView {
    since_ms: UnixMillis,
    events: Vec<HistoryEvent>,
}

/// A recorded event, with its notification id at a box of several (the
/// one-box shape unchanged).
#[derive(Debug, Serialize)]
struct HistoryEvent {
    #[serde(flatten)]
    event: AlertEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_id: Option<String>,
}

/// The filter `routes` adds to the `/api` routes.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let s = state.clone();
    let active = warp::path!("alerts")
        .and(warp::get())
        .and_then(move || active(s.clone()));
    let history = warp::path!("alerts" / "history")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and_then(move |q| history(state.clone(), q));
    active.or(history).unify().boxed()
}

fn error(status: StatusCode, message: &str) -> Response {
    warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "error": message })),
        status,
    )
    .into_response()
}

async fn read<T: Send + 'static>(
    db: Option<PathBuf>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    let Some(db) = db else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no store",
        ));
    };
    let r = tokio::task::spawn_blocking(move || {
        if !db.is_file() {
            return Ok(None);
        }
        Store::open(&db, StoreConfig::default()).and_then(|s| f(&s).map(Some))
    })
    .await;
    match r {
        Ok(Ok(Some(v))) => Ok(v),
        Ok(Ok(None)) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store does not exist yet",
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "alert read failed");
            Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the store failed",
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "alert read task failed");
            Err(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the store failed",
            ))
        }
    }
}

async fn active(state: Arc<AppState>) -> Result<Response, std::convert::Infallible> {
    let rows = match read(state.db_path.clone(), |s| s.active_alerts()).await {
        Ok(rows) => rows,
        Err(r) => return Ok(r),
    };
    let names: HashMap<String, String> = state.live.read_topology(|t| {
        t.devices
            .iter()
            .map(|d| {
                (
                    d.id.0.clone(),
                    d.sys_name.clone().unwrap_or_else(|| d.id.0.clone()),
                )
            })
            .collect()
    });
    let view: Vec<ActiveView> = rows.into_iter().map(|r| active_view(r, &names)).collect();
    Ok(warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "alerts": view })),
        StatusCode::OK,
    )
    .into_response())
}

fn active_view(r: ActiveAlertRow, names: &HashMap<String, String>) -> ActiveView {
    let dref = |id: String| DeviceRef {
        name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
        id,
    };
    ActiveView {
        key: r.key,
        rule: r.rule,
        severity: r.severity,
        suppressed: !r.caused_by.is_empty(),
        firing: r.status.is_firing(),
        status: r.status,
        device: DeviceRef {
            id: r.device,
            name: r.device_name,
        },
        interface: r.interface,
        since: crate::util::time::rfc3339_ms(r.since_ms),
        since_ms: r.since_ms,
        value: r.value,
        caused_by: r.caused_by.into_iter().map(dref).collect(),
        maintenance: r.maintenance,
        flapping: r.flapping,
        notified: r.notified,
    }
}

async fn history(
    state: Arc<AppState>,
    q: HashMap<String, String>,
) -> Result<Response, std::convert::Infallible> {
    let now = UnixMillis::now();
    let since = match q.get("since") {
        None => now - 86_400_000,
        Some(t) => match crate::util::time::parse_time(t, now) {
            Ok(ms) => ms,
            Err(e) => return Ok(error(StatusCode::BAD_REQUEST, &format!("since: {e}"))),
        },
    };
    let limit = match q.get("limit").map(|l| l.parse::<u32>()) {
        None => MAX_HISTORY,
        Some(Ok(n)) if (1..=MAX_HISTORY).contains(&n) => n,
        Some(_) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                &format!("limit: a number from 1 to {MAX_HISTORY}"),
            ));
        }
    };
    if let Some(bad) = q.keys().find(|k| !matches!(k.as_str(), "since" | "limit")) {
        let shown: String = bad.chars().take(32).collect();
        return Ok(error(
            StatusCode::BAD_REQUEST,
            &format!("unknown parameter `{shown}` (since, limit)"),
        ));
    }
    match read(state.db_path.clone(), move |s| {
        s.alert_history(since, limit)
    })
    .await
    {
        Ok(events) => Ok(warp::reply::with_status(
            warp::reply::json(&HistoryView {
                since_ms: since,
                events: events
                    .into_iter()
                    .map(|event| HistoryEvent {
                        notification_id: state.origin.as_deref().map(|o| {
                            crate::alert::payload::NotificationId {
                                origin: Some(o),
                                row: event.id,
                            }
                            .text()
                        }),
                        event,
                    })
                    .collect(),
            }),
            StatusCode::OK,
        )
        .into_response()),
        Err(r) => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;

    fn state(db: Option<PathBuf>) -> Arc<AppState> {
        let mut s = AppState::new(Arc::new(Live::default()));
        s.db_path = db;
        Arc::new(s)
    }

    async fn body(r: Response) -> String {
        use http_body_util::BodyExt;
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn q(text: &str) -> HashMap<String, String> {
        text.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn empty_store_and_bad_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        drop(Store::open(&db, StoreConfig::default()).unwrap());
        let st = state(Some(db));
        let r = active(st.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(body(r).await, r#"{"alerts":[]}"#);
        let r = history(st.clone(), q("since=6h")).await.unwrap();
        assert_eq!(r.status(), 200);
        for bad in ["since=yesterday", "limit=0", "limit=x", "what=1"] {
            let r = history(st.clone(), q(bad)).await.unwrap();
            assert_eq!(r.status(), 400, "{bad}");
        }
        let r = active(state(None)).await.unwrap();
        assert_eq!(r.status(), 503);
    }

    /// The answers' texts, byte for byte, for a saved alert and an event.
    #[tokio::test]
    async fn answers_keep_their_texts() {
        use crate::types::{AlertEventKind, AlertState, RuleKind};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let mut store = Store::open(&db, StoreConfig::default()).unwrap();
        let row = ActiveAlertRow {
            key: "down/d1".into(),
            rule: "down".into(),
            severity: Severity::Critical,
            device: "d1".into(),
            device_name: "r1".into(),
            interface: None,
            status: AlertStatus::Suppressed,
            since_ms: UnixMillis(1_000),
            value: None,
            caused_by: vec!["d0".into()],
            maintenance: None,
            flapping: false,
            notified: false,
            flap_told: false,
        };
        let event = AlertEvent {
            key: "down/d1".into(),
            rule: "down".into(),
            kind: RuleKind::DeviceUnreachable,
            severity: Severity::Critical,
            event: AlertEventKind::FlappingStarted,
            state: AlertState::Resolved,
            interface: None,
            threshold: None,
            held: Some("flapping".into()),
            ..AlertEvent::fired_for_test("down/d1", UnixMillis(2_000))
        };
        store
            .record_alerts(&[(event, vec![])], Some(&[row]), UnixMillis(2_000))
            .unwrap();
        drop(store);
        let st = state(Some(db));
        let text = body(active(st.clone()).await.unwrap()).await;
        assert_eq!(
            text,
            r#"{"alerts":[{"caused_by":[{"id":"d0","name":"d0"}],"device":{"id":"d1","name":"r1"},"firing":true,"flapping":false,"interface":null,"key":"down/d1","maintenance":null,"notified":false,"rule":"down","severity":"critical","since":"1970-01-01T00:00:01.000Z","since_ms":1000,"status":"suppressed","suppressed":true,"value":null}]}"#
        );
        let text = body(history(st, q("since=1970-01-01T00:00:00Z")).await.unwrap()).await;
        assert_eq!(
            text,
            r#"{"since_ms":0,"events":[{"id":1,"key":"down/d1","fingerprint":"f","rule":"down","kind":"device_unreachable","severity":"critical","event":"flapping_started","state":"resolved","device":"d1","device_name":"r1","interface":null,"value":null,"threshold":null,"at_ms":2000,"started_ms":2000,"notified":true,"catch_up":false,"held":"flapping","caused_by":[],"maintenance":null,"flapping":false,"summary":"s"}]}"#
        );
    }

    /// At a box of several each history event also carries its
    /// notification id, `<site>:<id>`, the one its notifications had.
    #[tokio::test]
    async fn history_names_the_notification_id_of_a_box_of_several() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let mut store = Store::open(&db, StoreConfig::default()).unwrap();
        let event = AlertEvent::fired_for_test("hot/d1/eth0", UnixMillis(2_000));
        store
            .record_alerts(&[(event, vec![])], None, UnixMillis(2_000))
            .unwrap();
        drop(store);
        let mut st = AppState::new(Arc::new(Live::default()));
        st.db_path = Some(db);
        st.origin = Some("b-1".into());
        let text = body(
            history(Arc::new(st), q("since=1970-01-01T00:00:00Z"))
                .await
                .unwrap(),
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["events"][0]["id"], 1);
        assert_eq!(v["events"][0]["notification_id"], "b-1:1");
    }
}
