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
    let now = crate::types::unix_now_ms();
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
    let built = tokio::task::spawn_blocking(move || source::run(&db, kind, &params, now)).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;
    use crate::store::{Batch, Sample, SeriesKey, Store, StoreConfig, UnixMillis};

    fn state(db: std::path::PathBuf) -> Arc<AppState> {
        let live = Arc::new(Live::new(Default::default(), 60_000));
        Arc::new(AppState {
            live,
            db_path: Some(db),
            auth: None,
        })
    }

    #[tokio::test]
    async fn downloads_with_type_and_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let now = crate::types::unix_now_ms();
        let mut store = Store::open(&db, StoreConfig::default()).unwrap();
        let samples = (0..30)
            .map(|i| Sample {
                key: SeriesKey::probe("<b>r1", "loss_pct"),
                at: UnixMillis(now - 600_000 + i * 10_000),
                value: if i < 10 { 100.0 } else { 0.0 },
            })
            .collect();
        store
            .write_batch(&Batch {
                samples,
                gaps: vec![],
            })
            .unwrap();
        drop(store);
        let f = routes(state(db.clone()));
        let r = warp::test::request()
            .path("/reports/reachability?since=-1h&format=html")
            .reply(&f)
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert!(
            cd.starts_with("attachment; filename=\"nocmap-reachability-"),
            "{cd}"
        );
        assert!(cd.ends_with(".html\""), "{cd}");
        let body = String::from_utf8(r.body().to_vec()).unwrap();
        assert!(body.contains("&lt;b&gt;r1") && !body.contains("<b>r1"));
        let r = warp::test::request()
            .path("/reports/bandwidth?since=-1h&format=csv&top=3")
            .reply(&f)
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        for bad in [
            "/reports/reachability?format=csv",
            "/reports/reachability?since=-1h&top=3",
            "/reports/bandwidth?since=-1h&top=0",
            "/reports/bandwidth?since=soon",
        ] {
            let r = warp::test::request().path(bad).reply(&f).await;
            assert_eq!(r.status(), 400, "{bad}");
        }
        let missing = routes(state(dir.path().join("none.db")));
        let r = warp::test::request()
            .path("/reports/bandwidth?since=-1h")
            .reply(&missing)
            .await;
        assert_eq!(r.status(), 503);
        assert!(!dir.path().join("none.db").exists());
    }
}
