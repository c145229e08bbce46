//! The routes the map page needs beside the topology: who am I
//! (`/api/whoami`), the live feed (`/api/events` without a query,
//! server-sent events; with one, the stored events of `events_api`) and
//! the saved node positions (`/api/map/positions`, writes need the admin
//! role). Mounted under `/api` behind the read-only token check.
use super::auth::{self, Role};
use super::feed::{Next, Subscriber};
use super::routes::{ApiError, json, require};
use super::{AppState, MAX_BODY_BYTES};
use crate::store::{MapPosition, Store, StoreConfig, StoreError};
use crate::types::UnixMillis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{self, HeaderMap, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// Positions one request may save, and the bounds of a coordinate.
const MAX_POSITIONS: usize = 10_000;
const MAX_COORD: f64 = 1.0e7;
const MAX_ID_BYTES: usize = 512;

/// A comment line on an idle event stream, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Positions {
    pub positions: BTreeMap<String, MapPosition>,
}

/// Checks a positions body; the error names the offending entry.
pub fn check_positions(p: &Positions) -> Result<(), String> {
    if p.positions.len() > MAX_POSITIONS {
        return Err(format!("at most {MAX_POSITIONS} positions per request"));
    }
    for (id, pos) in &p.positions {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(format!("device ids must be 1 to {MAX_ID_BYTES} bytes"));
        }
        for v in [pos.x, pos.y] {
            if !v.is_finite() || v.abs() > MAX_COORD {
                return Err(format!(
                    "coordinates must be finite and within ±{MAX_COORD:e}"
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let s = state.clone();
    let whoami = warp::path!("whoami")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .map(move |h: HeaderMap| {
            let value = h.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
            let role = match auth::role_of_request(s.auth.as_ref(), value) {
                Some(Role::Admin) => "admin",
                _ => "read_only",
            };
            json(
                StatusCode::OK,
                &serde_json::json!({ "role": role, "auth_required": s.auth.is_some() }),
            )
        });
    let s = state.clone();
    // With a query (`device`, `since`, `limit`): the stored events; bare:
    // the live feed.
    let events = warp::path!("events")
        .and(warp::get())
        .and(super::listener::client_addr())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and_then(move |addr: Option<std::net::SocketAddr>, query: String| {
            let s = s.clone();
            async move {
                if query.is_empty() {
                    events(s, addr).await
                } else {
                    super::events_api::list(s, query).await
                }
            }
        });
    let s = state.clone();
    let get_positions = warp::path!("map" / "positions")
        .and(warp::get())
        .and_then(move || {
            let s = s.clone();
            async move {
                let map = blocking(s, |store| store.positions()).await?;
                Ok::<_, Rejection>(json(
                    StatusCode::OK,
                    &Positions {
                        positions: map.unwrap_or_default(),
                    },
                ))
            }
        });
    let s = state.clone();
    let put_positions = warp::path!("map" / "positions")
        .and(warp::put())
        .and(require(state.clone(), Role::Admin))
        .and(warp::body::content_length_limit(MAX_BODY_BYTES))
        .and(warp::body::bytes())
        .and_then(move |body: bytes::Bytes| {
            let s = s.clone();
            async move {
                let p: Positions = serde_json::from_slice(&body).map_err(|e| {
                    warp::reject::custom(ApiError::BadRequest(format!(
                        "body is not a positions object: {e}"
                    )))
                })?;
                check_positions(&p).map_err(|m| warp::reject::custom(ApiError::BadRequest(m)))?;
                let n = p.positions.len();
                let now = UnixMillis::now();
                blocking(s, move |store| store.save_positions(&p.positions, now))
                    .await?
                    .ok_or_else(|| {
                        warp::reject::custom(ApiError::Unavailable("the store does not exist yet"))
                    })?;
                Ok::<_, Rejection>(json(StatusCode::OK, &serde_json::json!({ "saved": n })))
            }
        });
    let s = state.clone();
    let delete_positions = warp::path!("map" / "positions")
        .and(warp::delete())
        .and(require(state.clone(), Role::Admin))
        .and_then(move || {
            let s = s.clone();
            async move {
                let n = blocking(s, |store| store.clear_positions())
                    .await?
                    .unwrap_or(0);
                Ok::<_, Rejection>(json(StatusCode::OK, &serde_json::json!({ "cleared": n })))
            }
        });
    whoami
        .or(events)
        .unify()
        .or(get_positions)
        .unify()
        .or(put_positions)
        .unify()
        .or(delete_positions)
        .unify()
        .boxed()
}

/// Runs `f` on a store connection in `spawn_blocking`; `None` when the
/// server has no store file yet.
pub(super) async fn blocking<T: Send + 'static>(
    state: Arc<AppState>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<Option<T>, Rejection> {
    let Some(db) = state.db_path.clone() else {
        return Err(warp::reject::custom(ApiError::Unavailable(
            "this server has no store",
        )));
    };
    let done = tokio::task::spawn_blocking(move || {
        if !db.is_file() {
            return Ok(None);
        }
        let mut store = Store::open(&db, StoreConfig::default())?;
        f(&mut store).map(Some)
    })
    .await;
    match done {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "map positions store access failed");
            Err(warp::reject::custom(ApiError::Internal(
                "reading or writing the store failed",
            )))
        }
        Err(_) => Err(warp::reject::custom(ApiError::Internal(
            "reading or writing the store failed",
        ))),
    }
}

/// Holds one of a client's stream slots until the stream is dropped.
struct StreamSlot {
    state: Arc<AppState>,
    ip: Option<std::net::IpAddr>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            self.state.limiter.close_stream(ip);
        }
    }
}

async fn events(
    state: Arc<AppState>,
    addr: Option<std::net::SocketAddr>,
) -> Result<Response, Rejection> {
    // With nobody subscribed the feed stops ticking: bring it up to date
    // before the first snapshot.
    if let Some(feed) = &state.feed {
        // The snapshot text is built here too, off the reactor.
        super::feed::fresh(feed, &state.live, super::feed::TICK, |f| {
            f.current();
        })
        .await;
    }
    let sub = state
        .feed
        .clone()
        .and_then(Subscriber::new)
        .ok_or_else(|| {
            warp::reject::custom(ApiError::Unavailable("the live feed is not running"))
        })?;
    let ip = addr.map(|a| a.ip());
    if let Some(ip) = ip {
        state
            .limiter
            .open_stream(ip, UnixMillis::now())
            .map_err(|_| warp::reject::custom(ApiError::TooManyStreams))?;
    }
    let slot = StreamSlot {
        state: state.clone(),
        ip,
    };
    // Our own framing (not warp::sse): a snapshot of a large map is one
    // shared text, sent to every new subscriber without a copy each.
    use futures::StreamExt;
    let stream = futures::stream::unfold((sub, slot), |(mut sub, slot)| async move {
        let chunks = match tokio::time::timeout(KEEP_ALIVE, sub.next()).await {
            Ok(Next::Send(e)) => super::feed::sse_chunks(&e),
            Ok(Next::End) => return None,
            // A comment keeps proxies and the page's watchdog content.
            Err(_) => vec![bytes::Bytes::from_static(b":\n\n")],
        };
        let chunks = futures::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
        Some((chunks, (sub, slot)))
    })
    .flatten();
    let mut r = warp::reply::stream(stream).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(id: &str, x: f64, y: f64) -> Positions {
        Positions {
            positions: [(id.to_string(), MapPosition { x, y })]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn positions_are_checked() {
        assert!(check_positions(&one("r1", 1.0, -2.5)).is_ok());
        assert!(check_positions(&one("r1", f64::NAN, 0.0)).is_err());
        assert!(check_positions(&one("r1", 0.0, f64::INFINITY)).is_err());
        assert!(check_positions(&one("r1", 2e7, 0.0)).is_err());
        assert!(check_positions(&one("", 0.0, 0.0)).is_err());
        assert!(check_positions(&one(&"x".repeat(513), 0.0, 0.0)).is_err());
        let unknown = serde_json::from_str::<Positions>(r#"{"positions":{},"x":1}"#);
        assert!(unknown.is_err());
    }
}
