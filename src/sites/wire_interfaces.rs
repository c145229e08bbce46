//! The state of a site's link interfaces as it travels to the central, pure:
//! each link end's oper status, speed and last interval's rates, and how
//! old that poll was when the site sent it (an age, not a time, so the two
//! boxes' clocks need not agree). The central draws the site's links from
//! it exactly as from its own polls: coloured by utilisation, red when an
//! end is down, stale when the poll is old or the site silent.
//!
//! Only interfaces that end a link of the site's topology travel: the map
//! needs no other, and the verdicts message they ride in stays bounded.
use crate::counters::{GapReason, InterfaceRates, Metric, Rate};
use crate::live::{InterfaceHealth, InterfaceMap};
use crate::topology::{DeviceId, Topology};
use crate::types::{OperStatus, UnixMillis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One link end's interface as its site's poller has it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireInterface {
    pub device: String,
    pub if_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oper_status: Option<OperStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_bps: Option<u64>,
    /// The last interval's rates in [`Metric::ALL`]'s order, null where
    /// the interval is a gap; absent before the first interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Vec<Option<f64>>>,
    /// Why the interval is a gap, where one metric is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<GapReason>,
    /// How long before the message the poll was, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<i64>,
}

impl WireInterface {
    /// `h` of `device`'s `if_name`, sent at `now`.
    pub fn of(device: &str, if_name: &str, h: &InterfaceHealth, now: UnixMillis) -> WireInterface {
        let rates = h.rates.as_ref().map(|r| {
            Metric::ALL
                .iter()
                .map(|m| match r.get(*m) {
                    Rate::Value(v) if v.is_finite() => Some(v),
                    _ => None,
                })
                .collect()
        });
        WireInterface {
            device: device.to_string(),
            if_name: if_name.to_string(),
            oper_status: h.oper_status,
            speed_bps: h.speed_bps,
            rates,
            gap: h.gap(),
            age_ms: h.updated_ms.map(|t| (now.0 - t.0).max(0)),
        }
    }

    /// The interface's health at the central, which received it at
    /// `received` (its poll `age_ms` before that).
    pub fn health(&self, received: UnixMillis) -> InterfaceHealth {
        let rates = self.rates.as_ref().map(|values| {
            let gap = Rate::Gap(self.gap.unwrap_or(GapReason::Missing));
            let mut r = InterfaceRates::all_gap(self.gap.unwrap_or(GapReason::Missing));
            for (i, m) in Metric::ALL.iter().enumerate() {
                let rate = match values.get(i).copied().flatten() {
                    Some(v) if v.is_finite() => Rate::Value(v),
                    _ => gap,
                };
                r.set(*m, rate);
            }
            r
        });
        InterfaceHealth {
            oper_status: self.oper_status,
            speed_bps: self.speed_bps,
            rates,
            updated_ms: self.age_ms.map(|a| UnixMillis(received.0 - a.max(0))),
            counters: None,
        }
    }
}

/// Every interface that ends a link of `topology`, as `interfaces` has it.
pub fn link_ends(
    topology: &Topology,
    interfaces: &InterfaceMap,
    now: UnixMillis,
) -> Vec<WireInterface> {
    let ends: BTreeSet<(DeviceId, String)> = topology
        .links
        .iter()
        .flat_map(|l| [&l.a, &l.b])
        .filter_map(|e| Some((e.device.clone(), e.if_name.clone()?)))
        .collect();
    ends.iter()
        .filter_map(|key| {
            let h = interfaces.get(key)?;
            Some(WireInterface::of(&key.0.0, &key.1, h, now))
        })
        .collect()
}

/// The newest poll among `interfaces` (what tells a new round of polls).
pub fn newest_poll(interfaces: &[WireInterface], now: UnixMillis) -> Option<i64> {
    interfaces
        .iter()
        .filter_map(|i| i.age_ms.map(|a| now.0 - a))
        .max()
}

/// Writes a site's interfaces, received at `received`, into the central's
/// `map` for the site's devices in `members` only, each unless the map
/// holds a newer poll of it (in a poller group, a member's old picture of
/// a device another member polls now never overwrites the fresh one).
pub fn apply(
    map: &mut InterfaceMap,
    members: &BTreeSet<DeviceId>,
    interfaces: &[WireInterface],
    received: UnixMillis,
) {
    for i in interfaces {
        let id = DeviceId(i.device.clone());
        if !members.contains(&id) {
            continue;
        }
        let h = i.health(received);
        let key = (id, i.if_name.clone());
        let older = match (map.get(&key).and_then(|o| o.updated_ms), h.updated_ms) {
            (Some(have), Some(new)) => new < have,
            (Some(_), None) => true,
            _ => false,
        };
        if !older {
            map.insert(key, h);
        }
    }
}

/// A silent site's interfaces: their polls end now, so its links read
/// stale (a down end stays down: the map shows down before stale).
pub fn silence(map: &mut InterfaceMap, members: &BTreeSet<DeviceId>) {
    for ((device, _), h) in map.iter_mut() {
        if members.contains(device) {
            h.updated_ms = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::{Endpoint, Link};
    use crate::topology::{Device, Topology};

    fn health(util: f64, updated: i64) -> InterfaceHealth {
        InterfaceHealth {
            oper_status: Some(OperStatus::Up),
            speed_bps: Some(100_000_000),
            rates: Some(
                InterfaceRates::zero()
                    .with(Metric::InUtilisationPct, util)
                    .with(Metric::InBitsPerSec, util * 1e6),
            ),
            updated_ms: Some(UnixMillis(updated)),
            counters: None,
        }
    }

    fn end(d: &str, i: Option<&str>) -> Endpoint {
        Endpoint {
            device: DeviceId(d.into()),
            if_name: i.map(String::from),
        }
    }

    fn link(id: &str, a: Endpoint, b: Endpoint) -> Link {
        Link {
            id: id.into(),
            a,
            b,
            evidence: vec![],
            confidence: 1.0,
            lag: None,
        }
    }

    fn topo() -> Topology {
        Topology {
            devices: ["r1", "sw1", "h1"]
                .iter()
                .map(|d| Device::for_test(d, false))
                .collect(),
            links: vec![
                link("l1", end("r1", Some("eth1")), end("sw1", Some("uplink"))),
                link("l2", end("sw1", Some("eth3")), end("h1", None)),
            ],
            ..Topology::default()
        }
    }

    #[test]
    fn only_link_ends_travel_and_come_back_with_their_age() {
        let mut map = InterfaceMap::new();
        map.insert((DeviceId("r1".into()), "eth1".into()), health(42.0, 9_000));
        map.insert((DeviceId("r1".into()), "eth9".into()), health(1.0, 9_000));
        map.insert((DeviceId("sw1".into()), "eth3".into()), health(7.5, 8_000));
        let sent = link_ends(&topo(), &map, UnixMillis(10_000));
        let names: Vec<(&str, &str)> = sent
            .iter()
            .map(|i| (i.device.as_str(), i.if_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [("r1", "eth1"), ("sw1", "eth3")],
            "eth9 ends no link"
        );
        assert_eq!(sent[0].age_ms, Some(1_000));
        assert_eq!(newest_poll(&sent, UnixMillis(10_000)), Some(9_000));

        // Through JSON, then received at the central's 50_000.
        let json = serde_json::to_string(&sent).unwrap();
        let back: Vec<WireInterface> = serde_json::from_str(&json).unwrap();
        let h = back[0].health(UnixMillis(50_000));
        assert_eq!(
            h.updated_ms,
            Some(UnixMillis(49_000)),
            "age kept, clock not"
        );
        assert_eq!(h.rate(Metric::InUtilisationPct), Some(42.0));
        assert_eq!(h.rate(Metric::InBitsPerSec), Some(42e6));
        assert_eq!(h.oper_status, Some(OperStatus::Up));
        assert_eq!(h.speed_bps, Some(100_000_000));
    }

    #[test]
    fn a_gap_travels_as_its_reason() {
        let mut h = health(0.0, 1_000);
        h.rates = Some(InterfaceRates::all_gap(GapReason::Reboot));
        let w = WireInterface::of("r1", "eth1", &h, UnixMillis(1_000));
        let back = w.health(UnixMillis(5_000));
        assert_eq!(back.rate(Metric::InBitsPerSec), None);
        assert_eq!(back.gap(), Some(GapReason::Reboot));
        // Never polled: no rates, no time, so stale at once.
        let never = InterfaceHealth::default();
        let w = WireInterface::of("r1", "eth1", &never, UnixMillis(1_000));
        let back = w.health(UnixMillis(5_000));
        assert!(back.rates.is_none() && back.updated_ms.is_none() && back.oper_status.is_none());
    }

    #[test]
    fn only_the_sites_devices_are_written_and_silence_ends_their_polls() {
        let members: BTreeSet<DeviceId> = [DeviceId("r1".into())].into();
        let mut map = InterfaceMap::new();
        let own = (DeviceId("core".into()), "eth0".to_string());
        map.insert(own.clone(), health(3.0, 1_000));
        let sent = vec![
            WireInterface::of("r1", "eth1", &health(42.0, 9_000), UnixMillis(10_000)),
            WireInterface::of("core", "eth0", &health(99.0, 9_000), UnixMillis(10_000)),
        ];
        apply(&mut map, &members, &sent, UnixMillis(20_000));
        assert_eq!(
            map[&own].rate(Metric::InUtilisationPct),
            Some(3.0),
            "a site never writes the central's own device"
        );
        let r1 = (DeviceId("r1".into()), "eth1".to_string());
        assert_eq!(map[&r1].updated_ms, Some(UnixMillis(19_000)));
        // An older poll of the same interface (another group member's old
        // picture) does not overwrite it.
        let old = WireInterface::of("r1", "eth1", &health(1.0, 3_000), UnixMillis(10_000));
        apply(&mut map, &members, &[old], UnixMillis(20_000));
        assert_eq!(map[&r1].updated_ms, Some(UnixMillis(19_000)));
        assert_eq!(map[&r1].rate(Metric::InUtilisationPct), Some(42.0));
        silence(&mut map, &members);
        assert_eq!(map[&r1].updated_ms, None);
        assert_eq!(map[&r1].oper_status, Some(OperStatus::Up), "state kept");
        assert_eq!(map[&own].updated_ms, Some(UnixMillis(1_000)));
    }
}
