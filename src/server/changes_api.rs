//! What changed on the map since a baseline the user saved:
//! `POST /api/baseline` (admin role) stores the current topology as the
//! baseline (`Store::save_baseline`), `GET /api/changes` returns the
//! `topology::diff` of the baseline against the current topology, shaped
//! for drawing: new devices and links by their current ids, gone ones with
//! what the baseline knew of them (name, endpoints) so the page can draw
//! their ghosts. Mounted under `/api` behind the read-only token check.
use super::AppState;
use super::auth::Role;
use super::map_api::blocking;
use super::routes::{ApiError, json, require};
use crate::topology::{DeviceId, Endpoint, LinkKey, Topology, diff};
use crate::types::UnixMillis;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// A device the baseline had and the current topology has not.
#[derive(Debug, Serialize, PartialEq)]
pub struct GoneDevice {
    pub id: DeviceId,
    pub sys_name: Option<String>,
}

/// A link, new or gone: its id (in the current topology for a new one, in
/// the baseline for a gone one), its ends, and its key as text.
#[derive(Debug, Serialize, PartialEq)]
pub struct ChangedLink {
    pub id: String,
    pub a: Endpoint,
    pub b: Endpoint,
    pub text: String,
}

/// The answer of `GET /api/changes`. `baseline_ms` is null when no
/// baseline was saved (or the server has no store): every list is empty.
#[derive(Debug, Serialize, Default, PartialEq)]
pub struct Changes {
    pub baseline_ms: Option<UnixMillis>,
    pub devices_added: Vec<DeviceId>,
    pub devices_removed: Vec<GoneDevice>,
    pub links_added: Vec<ChangedLink>,
    pub links_removed: Vec<ChangedLink>,
    /// Links in both whose evidence or confidence moved.
    pub links_changed: usize,
}

/// The changes from `baseline` (taken at `at`) to `current`. Pure.
pub fn changes(at: UnixMillis, baseline: &Topology, current: &Topology) -> Changes {
    let d = diff(baseline, current);
    // A key may stand for several parallel links: take their ids in order.
    let ids = |t: &Topology, keys: &[LinkKey]| {
        let mut by_key: HashMap<LinkKey, Vec<&str>> = HashMap::new();
        for l in t.links.iter().rev() {
            by_key.entry(LinkKey::of(l)).or_default().push(&l.id);
        }
        keys.iter()
            .map(|k| ChangedLink {
                id: by_key
                    .get_mut(k)
                    .and_then(Vec::pop)
                    .unwrap_or_default()
                    .to_string(),
                a: k.a.clone(),
                b: k.b.clone(),
                text: k.to_string(),
            })
            .collect::<Vec<_>>()
    };
    Changes {
        baseline_ms: Some(at),
        links_added: ids(current, &d.links_added),
        links_removed: ids(baseline, &d.links_removed),
        devices_removed: d
            .devices_removed
            .iter()
            .map(|id| GoneDevice {
                id: id.clone(),
                sys_name: baseline.device(id).and_then(|d| d.sys_name.clone()),
            })
            .collect(),
        devices_added: d.devices_added,
        links_changed: d.links_changed.len(),
    }
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let s = state.clone();
    let save = warp::path!("baseline")
        .and(warp::post())
        .and(require(state.clone(), Role::Admin))
        .and_then(move || {
            let s = s.clone();
            async move {
                let topology = s.live.read_topology(Topology::clone);
                let (now, n) = (UnixMillis::now(), topology.devices.len());
                blocking(s, move |store| store.save_baseline(now, &topology))
                    .await?
                    .ok_or_else(|| {
                        warp::reject::custom(ApiError::Unavailable("the store does not exist yet"))
                    })?;
                Ok::<_, Rejection>(json(
                    StatusCode::OK,
                    &serde_json::json!({ "baseline_ms": now, "devices": n }),
                ))
            }
        });
    let s = state.clone();
    let get = warp::path!("changes").and(warp::get()).and_then(move || {
        let s = s.clone();
        async move {
            if s.db_path.is_none() {
                return Ok::<_, Rejection>(json(StatusCode::OK, &Changes::default()));
            }
            let base = blocking(s.clone(), |store| store.baseline())
                .await?
                .flatten();
            let answer = match base {
                Some((at, baseline)) => {
                    let live = s.live.clone();
                    tokio::task::spawn_blocking(move || {
                        live.read_topology(|t| changes(at, &baseline, t))
                    })
                    .await
                    .map_err(|_| {
                        warp::reject::custom(ApiError::Internal(
                            "comparing with the baseline failed",
                        ))
                    })?
                }
                None => Changes::default(),
            };
            Ok(json(StatusCode::OK, &answer))
        }
    });
    save.or(get).unify().boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Device, Link};

    fn link(id: &str, a: &str, b: &str) -> Link {
        let end = |d: &str| Endpoint {
            device: DeviceId(d.into()),
            if_name: None,
        };
        Link {
            id: id.into(),
            a: end(a),
            b: end(b),
            evidence: vec![],
            confidence: 1.0,
            lag: None,
        }
    }

    #[test]
    fn new_and_gone_devices_and_links_by_their_ids() {
        let mut old = Topology::default();
        for d in ["a", "b", "gone"] {
            old.devices.push(Device::for_test(d, false));
        }
        old.links = vec![link("l1", "a", "b"), link("l2", "b", "gone")];
        let mut new = Topology::default();
        for d in ["a", "b", "new"] {
            new.devices.push(Device::for_test(d, false));
        }
        new.links = vec![link("x1", "a", "b"), link("x2", "a", "new")];
        let c = changes(UnixMillis(5), &old, &new);
        assert_eq!(c.baseline_ms, Some(UnixMillis(5)));
        assert_eq!(c.devices_added, vec![DeviceId("new".into())]);
        assert_eq!(
            c.devices_removed,
            vec![GoneDevice {
                id: DeviceId("gone".into()),
                sys_name: Some("gone".into())
            }]
        );
        assert_eq!(
            c.links_added
                .iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>(),
            ["x2"]
        );
        assert_eq!(
            c.links_removed
                .iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>(),
            ["l2"]
        );
        assert_eq!(c.links_removed[0].text, "b -- gone");
        assert_eq!(c.links_changed, 0);
        assert_eq!(changes(UnixMillis(1), &new, &new).links_added, vec![]);
    }
}
