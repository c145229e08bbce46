//! The live state rendered to one JSON text per device and per link (the
//! [`super::super::api`] views through serde, once per item per tick),
//! taking the live state's read lock for one chunk of items at a time.
//! Reads no clock: the caller passes the time.
use super::frame::Items;
use crate::live::Live;
use crate::server::api;
use crate::types::UnixMillis;
use std::sync::Arc;

/// Items rendered per hold of the live state's read lock.
const CHUNK: usize = 64;

fn to_text(v: Result<String, serde_json::Error>) -> Arc<str> {
    Arc::from(v.unwrap_or_else(|_| "null".to_string()))
}

/// Renders every device and link of the live state to JSON texts, taking
/// the read lock once per [`CHUNK`] items. Should the topology be replaced
/// between two chunks, this frame mixes the two for one tick; every item
/// is consistent in itself and the next tick is whole.
pub(super) fn render(
    live: &Live,
    tagging: Option<&crate::config::Tagging>,
    now_ms: UnixMillis,
) -> (Items, Items) {
    let mut devices = Items::new();
    let mut links = Items::new();
    // Roles and sites are the whole topology's (linear in its size, once a
    // tick).
    let groups = live.read_topology(|t| api::MapGroups::of(t, tagging));
    let mut at = 0;
    while live.read(|s| {
        let all = &s.topology.devices;
        for d in all.iter().skip(at).take(CHUNK) {
            devices.insert(
                d.id.0.clone(),
                to_text(serde_json::to_string(&api::device_view(
                    s, d, &groups, now_ms,
                ))),
            );
        }
        at += CHUNK;
        at < all.len()
    }) {}
    at = 0;
    while live.read(|s| {
        let all = &s.topology.links;
        for l in all.iter().skip(at).take(CHUNK) {
            links.insert(
                l.id.clone(),
                to_text(serde_json::to_string(&api::link_view(s, l, now_ms))),
            );
        }
        at += CHUNK;
        at < all.len()
    }) {}
    (devices, links)
}
