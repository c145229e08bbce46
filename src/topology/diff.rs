//! What changed between two topologies: devices by id, links by the
//! unordered pair of their endpoints (device + interface name), never by the
//! link id string, which a discovery run may renumber. Pure; knows nothing of
//! the graph.
use super::model::{Device, DeviceId, Endpoint, Evidence, Link, Topology};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Confidence changes smaller than this are noise, not a change.
pub const CONFIDENCE_EPSILON: f64 = 1e-9;

/// The identity of a link: its two endpoints, smaller first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LinkKey {
    pub a: Endpoint,
    pub b: Endpoint,
}

impl LinkKey {
    pub fn of(link: &Link) -> LinkKey {
        if link.a <= link.b {
            LinkKey {
                a: link.a.clone(),
                b: link.b.clone(),
            }
        } else {
            LinkKey {
                a: link.b.clone(),
                b: link.a.clone(),
            }
        }
    }
}

impl std::fmt::Display for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |e: &Endpoint| match &e.if_name {
            Some(name) => format!("{}[{}]", e.device, name),
            None => e.device.to_string(),
        };
        write!(f, "{} -- {}", end(&self.a), end(&self.b))
    }
}

/// A link present in both topologies whose evidence or confidence moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkChange {
    pub key: LinkKey,
    pub old_id: String,
    pub new_id: String,
    pub old_evidence: Vec<Evidence>,
    pub new_evidence: Vec<Evidence>,
    pub old_confidence: f64,
    pub new_confidence: f64,
}

/// The difference between an old and a new topology, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TopologyDiff {
    pub devices_added: Vec<DeviceId>,
    pub devices_removed: Vec<DeviceId>,
    pub links_added: Vec<LinkKey>,
    pub links_removed: Vec<LinkKey>,
    pub links_changed: Vec<LinkChange>,
}

impl TopologyDiff {
    pub fn is_empty(&self) -> bool {
        self.devices_added.is_empty()
            && self.devices_removed.is_empty()
            && self.links_added.is_empty()
            && self.links_removed.is_empty()
            && self.links_changed.is_empty()
    }
}

/// Compares two topologies. Two links with the same endpoints in one
/// topology are paired with the other side's in topology order; the extras
/// count as added or removed.
pub fn diff(old: &Topology, new: &Topology) -> TopologyDiff {
    let old_ids = device_ids(&old.devices);
    let new_ids = device_ids(&new.devices);
    let mut result = TopologyDiff {
        devices_added: new_ids.difference(&old_ids).cloned().collect(),
        devices_removed: old_ids.difference(&new_ids).cloned().collect(),
        ..TopologyDiff::default()
    };
    let old_links = links_by_key(&old.links);
    let new_links = links_by_key(&new.links);
    let keys: BTreeSet<&LinkKey> = old_links.keys().chain(new_links.keys()).collect();
    for key in keys {
        let before = old_links.get(key).map(Vec::as_slice).unwrap_or_default();
        let after = new_links.get(key).map(Vec::as_slice).unwrap_or_default();
        for (o, n) in before.iter().zip(after) {
            if let Some(change) = compare(key, o, n) {
                result.links_changed.push(change);
            }
        }
        for _ in after.len()..before.len() {
            result.links_removed.push(key.clone());
        }
        for _ in before.len()..after.len() {
            result.links_added.push(key.clone());
        }
    }
    result
}

fn device_ids(devices: &[Device]) -> BTreeSet<DeviceId> {
    devices.iter().map(|d| d.id.clone()).collect()
}

fn links_by_key(links: &[Link]) -> BTreeMap<LinkKey, Vec<&Link>> {
    let mut map: BTreeMap<LinkKey, Vec<&Link>> = BTreeMap::new();
    for link in links {
        map.entry(LinkKey::of(link)).or_default().push(link);
    }
    map
}

fn compare(key: &LinkKey, old: &Link, new: &Link) -> Option<LinkChange> {
    let old_evidence = evidence_set(&old.evidence);
    let new_evidence = evidence_set(&new.evidence);
    let confidence_moved = (old.confidence - new.confidence).abs() > CONFIDENCE_EPSILON;
    if old_evidence == new_evidence && !confidence_moved {
        return None;
    }
    Some(LinkChange {
        key: key.clone(),
        old_id: old.id.clone(),
        new_id: new.id.clone(),
        old_evidence,
        new_evidence,
        old_confidence: old.confidence,
        new_confidence: new.confidence,
    })
}

/// Evidence compared as a set: order and repeats carry no meaning.
fn evidence_set(evidence: &[Evidence]) -> Vec<Evidence> {
    let mut set = evidence.to_vec();
    set.sort();
    set.dedup();
    set
}
