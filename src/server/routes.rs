//! The warp filters: which path goes to which handler, the bearer-token
//! check in front of `/api` and `/metrics`, the request size limit, the
//! security headers on every response and the JSON error for every
//! rejection. Handlers read the live state (and, for series, the store in
//! `spawn_blocking`); the shapes they return live in `api` and `series`.
use super::auth::{self, Denied, Role};
use super::host_check::{self, ServerAddr};
use super::series::SeriesOf;
use super::{AppState, api, assets, exposition, feed, map_api, metrics, series};
use crate::types::UnixMillis;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{self, HeaderMap, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// Requests announcing a larger body are refused with 413.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// Sent on every response: only same-origin resources, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Why a request was refused, turned into a JSON error by [`recover`].
#[derive(Debug)]
pub(super) enum ApiError {
    Unauthenticated,
    Forbidden,
    BadRequest(String),
    NotFound(String),
    TooLarge,
    TooManyRequests(u64),
    TooManyStreams,
    MisdirectedHost,
    Unavailable(&'static str),
    Internal(&'static str),
}

impl warp::reject::Reject for ApiError {}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| json(StatusCode::OK, &serde_json::json!({ "status": "ok" })));
    let api = warp::path("api")
        .and(require(state.clone(), Role::ReadOnly))
        .and(api_routes(state.clone()));
    let s = state.clone();
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(require(state.clone(), Role::ReadOnly))
        .and_then(move || {
            let s = s.clone();
            async move {
                // Seconds of CPU at 100k interfaces (BENCHMARKS.md): off the
                // async workers, and the live state's locks held only while
                // the families are collected, not while they are written.
                let text = tokio::task::spawn_blocking(move || {
                    let now = UnixMillis::now();
                    let mut families = s.live.read(|s| metrics::collect(s, now));
                    if let Some(t) = &s.traps {
                        families.extend(super::metrics_traps::families(&t.snapshot()));
                    }
                    if let Some(t) = &s.syslog {
                        families.extend(super::metrics_syslog::families(&t.snapshot()));
                    }
                    if let Some(t) = &s.sites {
                        families.extend(super::metrics_sites::families(&t.snapshot()));
                        families.push(super::metrics_sites::delay_family(&t.delays()));
                    }
                    if let Some(t) = &s.event_tap {
                        families.push(super::metrics_syslog::event_tap_family(t.get()));
                    }
                    exposition::encode_text(&families)
                })
                .await;
                let Ok(text) = text else {
                    let failed = serde_json::json!({ "error": "rendering /metrics failed" });
                    return Ok::<_, warp::Rejection>(json(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &failed,
                    ));
                };
                let mut r = Response::new(text.into());
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(exposition::CONTENT_TYPE),
                );
                Ok::<_, warp::Rejection>(r)
            }
        });
    // The page asks for the live feed as soon as its scripts run: its
    // snapshot (a render of the whole map, at most one a tick whoever
    // asks) starts when the page is sent, not when the stream is asked for.
    let s = state.clone();
    let warm_feed: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        if let Some(feed) = s.feed.clone() {
            let live = s.live.clone();
            tokio::spawn(async move {
                feed::fresh(&feed, &live, feed::TICK, |f| {
                    f.current();
                })
                .await;
            });
        }
    });
    // Every request passes the rate limit first, whatever it asks for:
    // the page's files from their own budget, everything else from the
    // API's.
    rate_limit(state.clone())
        .and(host_check(state.clone()))
        .and(body_limit())
        .and(
            healthz
                .or(api)
                .unify()
                .or(metrics)
                .unify()
                .or(assets::routes(warm_feed))
                .unify(),
        )
        .recover(recover)
        .unify()
        .map(with_security_headers)
        .boxed()
}

fn api_routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let alerts = super::alerts_api::routes(state.clone());
    let s = state.clone();
    let devices = warp::path!("devices")
        .and(warp::get())
        .then(move || whole_map(s.clone(), MapPart::Devices));
    let s = state.clone();
    let topology = warp::path!("topology")
        .and(warp::get())
        .then(move || whole_map(s.clone(), MapPart::Topology));
    let s = state.clone();
    let series = warp::path!("interfaces" / String / String / "series")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and_then(move |d: String, i: String, q: HashMap<String, String>| {
            series_handler(s.clone(), d, Some(i), q)
        });
    let s = state.clone();
    let probe_series = warp::path!("devices" / String / "series")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and_then(move |d: String, q: HashMap<String, String>| {
            series_handler(s.clone(), d, None, q)
        });
    let s = state.clone();
    let discovery = warp::path!("discovery")
        .and(warp::get())
        .map(move || s.live.read_discovery(|d| json(StatusCode::OK, d)));
    devices
        .or(topology)
        .unify()
        .or(discovery)
        .unify()
        .or(series)
        .unify()
        .or(probe_series)
        .unify()
        .or(super::reports_api::routes(state.clone()))
        .unify()
        .or(super::changes_api::routes(state.clone()))
        .unify()
        .or(super::path_api::routes(state.clone()))
        .unify()
        .or(map_api::routes(state))
        .unify()
        .or(alerts)
        .unify()
        .boxed()
}

#[derive(Clone, Copy)]
enum MapPart {
    Devices,
    Topology,
}

/// `/api/devices` and `/api/topology`: the live feed's current frame (at
/// most one tick old), rendered once and shared by every answer. Without a
/// feed (tests), rendered per request; either way off the reactor.
async fn whole_map(state: Arc<AppState>, part: MapPart) -> Response {
    let text = match &state.feed {
        Some(feed) => {
            let pick: fn(&feed::Feed) -> Arc<str> = match part {
                MapPart::Devices => feed::Feed::devices_text,
                MapPart::Topology => |f| f.current().data,
            };
            feed::fresh(feed, &state.live, feed::TICK, pick).await
        }
        None => {
            let live = state.live.clone();
            let tagging = state.reports.clone();
            tokio::task::spawn_blocking(move || {
                let now = UnixMillis::now();
                let tagging = tagging.as_ref().map(|r| &r.tagging);
                let text = live.read(|snap| {
                    let groups = api::MapGroups::of(snap.topology, tagging);
                    match part {
                        MapPart::Devices => {
                            serde_json::to_string(&api::devices(snap, &groups, now))
                        }
                        MapPart::Topology => {
                            serde_json::to_string(&api::topology(snap, &groups, now))
                        }
                    }
                });
                text.ok().map(Arc::<str>::from)
            })
            .await
            .ok()
            .flatten()
        }
    };
    match text {
        Some(text) => shared_json(text),
        None => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"error": "the map could not be rendered"}),
        ),
    }
}

/// A JSON answer whose body shares `text` instead of copying it.
fn shared_json(text: Arc<str>) -> Response {
    let mut r = Response::new(feed::shared_bytes(text).into());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Passes requests whose token grants at least `role` (all of them when the
/// server has no tokens configured).
pub(super) fn require(
    state: Arc<AppState>,
    role: Role,
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::headers_cloned()
        .and_then(move |headers: HeaderMap| {
            let state = state.clone();
            async move {
                let value = headers
                    .get(header::AUTHORIZATION)
                    .map(HeaderValue::as_bytes);
                match auth::authorize(state.auth.as_ref(), value, role) {
                    Ok(()) => Ok(()),
                    Err(Denied::Unauthenticated) => {
                        Err(warp::reject::custom(ApiError::Unauthenticated))
                    }
                    Err(Denied::Forbidden) => Err(warp::reject::custom(ApiError::Forbidden)),
                }
            }
        })
        .untuple_one()
}

/// Refuses a client over its request rate with 429 and `Retry-After`.
/// Paths of the page's files take from the static budget, all others
/// (unknown paths included) from the API's.
fn rate_limit(state: Arc<AppState>) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    super::listener::client_addr()
        .and(warp::path::full())
        .and_then(
            move |addr: Option<std::net::SocketAddr>, full: warp::path::FullPath| {
                let state = state.clone();
                async move {
                    let Some(addr) = addr else { return Ok(()) };
                    let budget = match assets::lookup(full.as_str()) {
                        Some(_) => super::rate_limit::Budget::Static,
                        None => super::rate_limit::Budget::Api,
                    };
                    state
                        .limiter
                        .take(addr.ip(), UnixMillis::now(), budget)
                        .map_err(|r| match r {
                            super::rate_limit::Refused::Rate { retry_after_s } => {
                                warp::reject::custom(ApiError::TooManyRequests(retry_after_s))
                            }
                            super::rate_limit::Refused::Streams => {
                                warp::reject::custom(ApiError::TooManyStreams)
                            }
                        })
                }
            },
        )
        .untuple_one()
}

/// Refuses with 421 a request whose `Host` does not name this server
/// (beyond loopback; see `host_check`). Requests that did not come
/// through the listener (no [`ServerAddr`]) pass.
fn host_check(state: Arc<AppState>) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::ext::optional::<ServerAddr>()
        .and(warp::header::headers_cloned())
        .and_then(move |at: Option<ServerAddr>, headers: HeaderMap| {
            let state = state.clone();
            async move {
                let Some(at) = at else { return Ok(()) };
                let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
                if host_check::allowed(host, at, &state.allowed_hosts) {
                    Ok(())
                } else {
                    Err(warp::reject::custom(ApiError::MisdirectedHost))
                }
            }
        })
        .untuple_one()
}

/// Refuses a declared body over [`MAX_BODY_BYTES`]. No route reads a body
/// of unknown length.
fn body_limit() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and_then(|len: Option<u64>| async move {
            match len {
                Some(n) if n > MAX_BODY_BYTES => Err(warp::reject::custom(ApiError::TooLarge)),
                _ => Ok(()),
            }
        })
        .untuple_one()
}

/// An interface's series (`if_name` given) or a device's probe series.
async fn series_handler(
    state: Arc<AppState>,
    device: String,
    if_name: Option<String>,
    params: HashMap<String, String>,
) -> Result<Response, Rejection> {
    let bad = |m: String| warp::reject::custom(ApiError::BadRequest(m));
    let device = series::percent_decode(&device)
        .ok_or_else(|| bad("device: bad percent-encoding".into()))?;
    let of = if if_name.is_some() {
        SeriesOf::Interface
    } else {
        SeriesOf::Probe
    };
    let if_name = match if_name {
        Some(i) => {
            series::percent_decode(&i).ok_or_else(|| bad("if_name: bad percent-encoding".into()))?
        }
        None => String::new(),
    };
    let q = series::parse_query(&params, UnixMillis::now(), of).map_err(bad)?;
    let (known_device, known_interface) = state.live.read(|s| {
        let dev = s.topology.devices.iter().find(|d| d.id.0 == device);
        let on_device = dev.is_some_and(|d| d.interfaces.iter().any(|i| i.name == if_name));
        let polled = s
            .interfaces
            .keys()
            .any(|(d, i)| d.0 == device && *i == if_name);
        (dev.is_some(), of == SeriesOf::Probe || on_device || polled)
    });
    if !known_device {
        return Err(warp::reject::custom(ApiError::NotFound(format!(
            "no device `{device}`"
        ))));
    }
    if !known_interface {
        return Err(warp::reject::custom(ApiError::NotFound(format!(
            "device `{device}` has no interface `{if_name}`"
        ))));
    }
    let Some(db) = state.db_path.clone() else {
        return Err(warp::reject::custom(ApiError::Unavailable(
            "this server has no store",
        )));
    };
    let (d, i) = (device.clone(), if_name.clone());
    let read = tokio::task::spawn_blocking(move || {
        if !db.is_file() {
            return Ok(None);
        }
        series::read(&db, &d, &i, &q).map(Some)
    })
    .await;
    match read {
        Ok(Ok(Some(data))) => Ok(json(
            StatusCode::OK,
            &series::view(&device, &if_name, &q, data),
        )),
        Ok(Ok(None)) => Err(warp::reject::custom(ApiError::Unavailable(
            "the store does not exist yet",
        ))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "series read failed");
            Err(warp::reject::custom(ApiError::Internal(
                "reading the store failed",
            )))
        }
        Err(e) => {
            tracing::error!(error = %e, "series read task failed");
            Err(warp::reject::custom(ApiError::Internal(
                "reading the store failed",
            )))
        }
    }
}

/// Every rejection as `{"error": "..."}` with its status. Messages name
/// the parameter or resource, never a header value.
async fn recover(err: Rejection) -> Result<Response, Infallible> {
    let (status, message) = if let Some(e) = err.find::<ApiError>() {
        match e {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "missing or invalid bearer token".to_string(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "this token may not use this route".to_string(),
            ),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {MAX_BODY_BYTES} bytes"),
            ),
            ApiError::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this address; slow down".to_string(),
            ),
            ApiError::TooManyStreams => (
                StatusCode::TOO_MANY_REQUESTS,
                "too many open event streams from this address".to_string(),
            ),
            ApiError::MisdirectedHost => (
                StatusCode::MISDIRECTED_REQUEST,
                "this server does not answer to that host name".to_string(),
            ),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.to_string()),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m.to_string()),
        }
    } else if err.is_not_found() {
        (StatusCode::NOT_FOUND, "no such route".to_string())
    } else if err.find::<warp::reject::LengthRequired>().is_some() {
        // Before "method not allowed": the routes the method did not match
        // add that rejection too, but this one came from the route that
        // did (a chunked body, no Content-Length).
        (
            StatusCode::LENGTH_REQUIRED,
            "a Content-Length is required (no chunked bodies)".to_string(),
        )
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed".to_string(),
        )
    } else if err.find::<warp::reject::InvalidQuery>().is_some() {
        (
            StatusCode::BAD_REQUEST,
            "malformed query string".to_string(),
        )
    } else if err.find::<warp::reject::InvalidHeader>().is_some() {
        (StatusCode::BAD_REQUEST, "malformed header".to_string())
    } else {
        tracing::debug!(?err, "unhandled rejection");
        (StatusCode::BAD_REQUEST, "bad request".to_string())
    };
    let mut r = json(status, &serde_json::json!({ "error": message }));
    if let Some(ApiError::TooManyRequests(s)) = err.find::<ApiError>()
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    Ok(r)
}

pub(super) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    warp::reply::with_status(warp::reply::json(value), status).into_response()
}

fn with_security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;
    use crate::topology::Topology;

    fn state(names: &[&str]) -> Arc<AppState> {
        let mut s = AppState::new(Arc::new(Live::new(Topology::default(), 180_000)));
        s.allowed_hosts = names.iter().map(|n| n.to_string()).collect();
        Arc::new(s)
    }

    async fn status(state: &Arc<AppState>, listen: &str, host: &str, path: &str) -> u16 {
        let listen: std::net::SocketAddr = listen.parse().unwrap();
        warp::test::request()
            .path(path)
            .header("host", host)
            .extension(ServerAddr {
                listen,
                local: listen,
            })
            .reply(&routes(state.clone()))
            .await
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn beyond_loopback_a_foreign_host_gets_421() {
        let s = state(&["noc.example.net"]);
        let at = "10.98.200.10:8080";
        for path in ["/healthz", "/", "/vendor/cytoscape.min.js", "/api/devices"] {
            assert_eq!(status(&s, at, "rebound.example", path).await, 421, "{path}");
            assert_eq!(status(&s, at, "rebound.example:8080", path).await, 421);
        }
        assert_eq!(
            status(&s, at, "noc.example.net:8080", "/healthz").await,
            200
        );
        assert_eq!(status(&s, at, "10.98.200.10:8080", "/healthz").await, 200);
        assert_eq!(status(&s, at, "noc.example.net", "/").await, 200);
        // Without configured names only the address itself is taken.
        let bare = state(&[]);
        assert_eq!(status(&bare, at, "noc.example.net", "/healthz").await, 421);
        assert_eq!(status(&bare, at, "10.98.200.10", "/healthz").await, 200);
    }

    /// Sending the page starts the render of the feed's frame its event
    /// stream will need (a script does not).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sending_the_page_renders_the_feeds_frame() {
        let mut s = AppState::new(Arc::new(Live::new(Topology::default(), 180_000)));
        let feed = feed::Feed::new();
        s.feed = Some(feed.clone());
        let s = Arc::new(s);
        let at = "127.0.0.1:8080";
        assert_eq!(status(&s, at, "localhost", "/js/app.js").await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(feed.current().seq, 0, "a script renders nothing");
        assert_eq!(status(&s, at, "localhost", "/wall").await, 200);
        for _ in 0..100 {
            if feed.current().seq > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(feed.current().seq, 1, "the page renders the frame once");
    }

    #[tokio::test]
    async fn on_loopback_any_host_is_taken_without_configuration() {
        let s = state(&[]);
        for at in ["127.0.0.1:8080", "[::1]:8080"] {
            assert_eq!(status(&s, at, "rebound.example", "/healthz").await, 200);
            assert_eq!(status(&s, at, "localhost:8080", "/").await, 200);
        }
    }
}
