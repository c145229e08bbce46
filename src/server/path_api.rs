//! `GET /api/devices/:id/path`: the device's path from the poller as last
//! traced (`[poll] path_interval_s`), its hops mapped to topology devices
//! (a hop outside the topology has `in_topology: false`), and the last
//! change of route with the hops before and after. `traced_ms` is null
//! until the first trace (or when paths are not traced). Mounted under
//! `/api` behind the read-only token check.
use super::AppState;
use super::routes::{ApiError, json};
use crate::live::DevicePath;
use crate::topology::DeviceId;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path!("devices" / String / "path")
        .and(warp::get())
        .and_then(move |device: String| {
            let s = state.clone();
            async move {
                let device = super::series::percent_decode(&device).ok_or_else(|| {
                    warp::reject::custom(ApiError::BadRequest(
                        "device: bad percent-encoding".into(),
                    ))
                })?;
                let known = s
                    .live
                    .read_topology(|t| t.devices.iter().any(|d| d.id.0 == device));
                if !known {
                    return Err(warp::reject::custom(ApiError::NotFound(format!(
                        "no device `{device}`"
                    ))));
                }
                let id = DeviceId(device.clone());
                let path: DevicePath = s
                    .live
                    .read_devices(|m| m.get(&id).and_then(|h| h.path.clone()))
                    .unwrap_or_default();
                let body = serde_json::json!({ "device": device, "path": path });
                Ok::<_, Rejection>(json(StatusCode::OK, &body))
            }
        })
        .boxed()
}
