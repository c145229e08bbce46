//! Sightings to links: both directions of a link become one, a sighting
//! missing an interface name joins the one link it fits, and each link gets
//! its confidence from the kinds of evidence and who saw it. Pure; it knows
//! no table or report, only sightings.
use super::Sighting;
use crate::topology::{DeviceId, Endpoint, Evidence, Link};
use std::collections::{BTreeMap, BTreeSet};

/// Merge sightings: both directions of a link become one; a sighting that
/// lacks an interface name joins the one link between the same devices that
/// agrees on every name it does have.
pub(super) fn merge(seen: Vec<Sighting>) -> Vec<Link> {
    let mut full: BTreeMap<(Endpoint, Endpoint), Sightings> = BTreeMap::new();
    let mut partial: Vec<Sighting> = Vec::new();
    for s in seen {
        if s.a.if_name.is_some() && s.b.if_name.is_some() {
            let acc = full.entry(key(&s.a, &s.b)).or_default();
            acc.evidence.insert(s.evidence);
            acc.observers.insert(s.observer);
        } else {
            partial.push(s);
        }
    }
    // Sightings with a missing name, most-informed first.
    partial.sort_by_key(|s| (s.a.if_name.is_none() as u8) + (s.b.if_name.is_none() as u8));
    for s in partial {
        let fits = |k: &(Endpoint, Endpoint)| {
            let ok = |x: &Endpoint, y: &Endpoint| {
                x.device == y.device && (x.if_name.is_none() || x.if_name == y.if_name)
            };
            (ok(&s.a, &k.0) && ok(&s.b, &k.1)) || (ok(&s.a, &k.1) && ok(&s.b, &k.0))
        };
        let matches: Vec<(Endpoint, Endpoint)> = full.keys().filter(|k| fits(k)).cloned().collect();
        let k = match matches.as_slice() {
            [only] => only.clone(),
            _ => key(&s.a, &s.b),
        };
        let acc = full.entry(k).or_default();
        acc.evidence.insert(s.evidence);
        acc.observers.insert(s.observer);
    }
    full.into_iter()
        .map(|((a, b), acc)| {
            let confidence = acc.confidence(&a, &b);
            let name =
                |e: &Endpoint| format!("{}:{}", e.device, e.if_name.as_deref().unwrap_or("?"));
            Link {
                id: format!("{}--{}", name(&a), name(&b)),
                a,
                b,
                evidence: acc.evidence.into_iter().collect(),
                confidence,
                lag: None,
            }
        })
        .collect()
}

/// A link's two ends in a fixed order, whichever side saw it.
fn key(a: &Endpoint, b: &Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

/// What the sightings of one link add up to.
#[derive(Default)]
struct Sightings {
    evidence: BTreeSet<Evidence>,
    observers: BTreeSet<DeviceId>,
}

impl Sightings {
    /// 1.0 for a neighbour protocol seen from both ends, less for one side,
    /// unnamed ports or weaker kinds; one step more for a second kind.
    fn confidence(&self, a: &Endpoint, b: &Endpoint) -> f64 {
        let both_sides = self.observers.contains(&a.device) && self.observers.contains(&b.device);
        let neighbour_protocol =
            self.evidence.contains(&Evidence::Lldp) || self.evidence.contains(&Evidence::Cdp);
        let named = a.if_name.is_some() && b.if_name.is_some();
        let mut confidence: f64 = match (neighbour_protocol, both_sides, named) {
            (true, true, _) => 1.0,
            (true, false, true) => 0.8,
            (true, false, false) => 0.6,
            (false, _, _) if self.evidence.contains(&Evidence::Fdb) => 0.6,
            (false, _, _) if self.evidence.contains(&Evidence::Subnet) => 0.5,
            // ARP on a point-to-point subnet: the far end is the only other address.
            (false, _, _) if self.evidence.contains(&Evidence::Arp) => 0.5,
            _ => 0.4,
        };
        if self.evidence.len() > 1 {
            confidence = (confidence + 0.1).min(1.0);
        }
        confidence
    }
}
