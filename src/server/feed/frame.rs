//! The state of the map at one tick (every item's JSON text by id) and the
//! move to the next tick, [`Frame::advance`]: the one diff between the
//! live state and the page. Pure: texts in, texts and events out; no lock,
//! no clock, no channel.
use super::json;
use crate::types::UnixMillis;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A rendered item (a device or link view) by its id.
pub(super) type Items = BTreeMap<String, Arc<str>>;

/// The state of the map at one tick: every item's JSON text.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub seq: u64,
    pub generated_ms: UnixMillis,
    devices: Items,
    links: Items,
    /// The texts built from this frame so far, shared by every answer.
    snapshot_text: Option<Arc<str>>,
    devices_text: Option<Arc<str>>,
}

/// One event of the feed. `data` is the JSON text of the SSE `data:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub seq: u64,
    pub kind: EventKind,
    pub data: Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Snapshot,
    Delta,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Snapshot => "snapshot",
            EventKind::Delta => "delta",
        }
    }
}

/// What changed between two sets of items.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Changes {
    pub changed: Vec<Arc<str>>,
    pub removed: Vec<String>,
}

fn diff(old: &Items, new: &Items) -> Changes {
    Changes {
        changed: new
            .iter()
            .filter(|(id, text)| old.get(*id) != Some(*text))
            .map(|(_, text)| text.clone())
            .collect(),
        removed: old
            .keys()
            .filter(|id| !new.contains_key(*id))
            .cloned()
            .collect(),
    }
}

impl Frame {
    /// Moves to the next tick with the given items; returns the delta event.
    pub(super) fn advance(
        &mut self,
        generated_ms: UnixMillis,
        devices: Items,
        links: Items,
    ) -> FeedEvent {
        let d = diff(&self.devices, &devices);
        let l = diff(&self.links, &links);
        self.seq += 1;
        self.generated_ms = generated_ms;
        self.devices = devices;
        self.links = links;
        self.snapshot_text = None;
        self.devices_text = None;
        FeedEvent {
            seq: self.seq,
            kind: EventKind::Delta,
            data: json::delta(self.seq, generated_ms, &d, &l).into(),
        }
    }

    /// Every item of this frame, as a `snapshot` event. Its text is the
    /// `/api/topology` answer too: `{"seq","generated_ms","devices","links"}`.
    pub fn snapshot(&mut self) -> FeedEvent {
        let (seq, generated_ms) = (self.seq, self.generated_ms);
        let (devices, links) = (&self.devices, &self.links);
        let data = self
            .snapshot_text
            .get_or_insert_with(|| json::snapshot(seq, generated_ms, devices, links).into())
            .clone();
        FeedEvent {
            seq,
            kind: EventKind::Snapshot,
            data,
        }
    }

    /// Every device of this frame as a JSON array (the `/api/devices` answer).
    pub fn devices_text(&mut self) -> Arc<str> {
        let devices = &self.devices;
        self.devices_text
            .get_or_insert_with(|| json::array(devices.values()).into())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(pairs: &[(&str, &str)]) -> Items {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Arc::from(*v)))
            .collect()
    }

    fn parse(e: &FeedEvent) -> serde_json::Value {
        serde_json::from_str(&e.data).unwrap()
    }

    #[test]
    fn deltas_carry_changed_and_removed_items_only() {
        let mut f = Frame::default();
        let e = f.advance(
            UnixMillis(10),
            items(&[("r1", r#"{"id":"r1","v":1}"#), ("r2", r#"{"id":"r2"}"#)]),
            items(&[("l1", r#"{"id":"l1"}"#)]),
        );
        let v = parse(&e);
        assert_eq!(v["seq"], 1);
        assert_eq!(v["devices"].as_array().unwrap().len(), 2);
        let e = f.advance(
            UnixMillis(20),
            items(&[("r1", r#"{"id":"r1","v":2}"#), ("<x\"", r#"{"id":"<x\""}"#)]),
            items(&[("l1", r#"{"id":"l1"}"#)]),
        );
        let v = parse(&e);
        assert_eq!(v["seq"], 2);
        assert_eq!(v["generated_ms"], 20);
        let ids: Vec<&str> = v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["<x\"", "r1"]);
        assert_eq!(v["links"].as_array().unwrap().len(), 0);
        assert_eq!(v["removed_devices"], serde_json::json!(["r2"]));
        assert_eq!(v["removed_links"], serde_json::json!([]));
        let s = parse(&f.snapshot());
        assert_eq!(f.snapshot().data, f.snapshot().data);
        let d: serde_json::Value = serde_json::from_str(&f.devices_text()).unwrap();
        assert_eq!(d.as_array().unwrap().len(), 2);
        assert_eq!(s["seq"], 2);
        assert_eq!(s["devices"].as_array().unwrap().len(), 2);
        assert_eq!(s["links"][0]["id"], "l1");
    }
}
