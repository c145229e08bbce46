//! `GET /api/reports/reachability` and `GET /api/reports/bandwidth`: a
//! report over the store as a download (`format=csv|json|html`, default
//! json; `since` required, `until`, `top` for bandwidth, one `exclude=START/END`).
//! Mounted under `/api`, so the read-only role is required in front of it.
//! The store is read in `spawn_blocking` on its own connection; errors are
//! `{"error": ...}` with their status.
use super::AppState;
use crate::report::ReportError;
use crate::report::params;
use crate::report::source::{self, Kind};
use crate::types::UnixMillis;
use std::collections::HashMap;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{self, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// The filter for `/reports/{kind}` (below `/api`).
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path!("reports" / String)
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and_then(move |kind: String, q: HashMap<String, String>| handler(state.clone(), kind, q))
        .boxed()
}

async fn handler(
    state: Arc<AppState>,
    kind: String,
    q: HashMap<String, String>,
) -> Result<Response, Rejection> {
    let kind = match kind.as_str() {
        "reachability" => Kind::Reachability,
        "bandwidth" => Kind::Bandwidth,
        _ => return Err(warp::reject::not_found()),
    };
    let now = UnixMillis::now();
    let p = match params::from_query(&q, now, kind == Kind::Bandwidth) {
        Ok(p) => p,
        Err(e) => return Ok(error(StatusCode::BAD_REQUEST, &e.to_string())),
    };
    let Some(db) = state.db_path.clone() else {
        return Ok(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no store",
        ));
    };
    let params = p.clone();
    let cfg = state.reports.clone();
    let built =
        tokio::task::spawn_blocking(move || source::run(&db, kind, &params, cfg.as_deref(), now))
            .await;
    let body = match built {
        Ok(Ok(body)) => body,
        Ok(Err(ReportError::NoDatabase(_))) => {
            return Ok(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store does not exist yet",
            ));
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "report failed");
            return Ok(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the store failed",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "report task failed");
            return Ok(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the store failed",
            ));
        }
    };
    let mut r = Response::new(body.into());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(p.format.content_type()),
    );
    // The file name holds only ASCII letters, digits, '-' and '.'.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        source::file_name(kind, &p)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

fn error(status: StatusCode, message: &str) -> Response {
    warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "error": message })),
        status,
    )
    .into_response()
}
