//! The central's one map across sites, pure: its own topology with every
//! site's merged in (each site device marked with its site, which the map
//! groups by), and the site devices' health from their site's verdicts.
//! A site device's verdict stands while the central hears its site: it is
//! stamped with the heartbeat's arrival and lives one liveness window
//! ([`super::liveness`]), so a silent site's devices read stale/unknown,
//! never down. Times are wall milliseconds passed in by the caller.
use super::wire::SiteVerdicts;
use crate::discovery::links;
use crate::live::DeviceHealth;
use crate::topology::{DeviceId, Endpoint, Link, Topology};
use crate::types::UnixMillis;
use std::collections::{BTreeMap, BTreeSet};

/// Why a site device has no verdict of its own at the central.
pub const SITE_SILENT: &str = "site poller unreachable: the central does not hear its site";

/// `local` with every site's topology merged in: the central's own devices
/// first, then each site's (in site order) not already there, marked
/// `from_site` and never the poller (a device one map manages replaces
/// another's unmanaged one of the same id); every link whose two ends are
/// known, once by its id. Links between the maps come from
/// [`links::across::join`]: a neighbour a map left unmanaged that another
/// map manages (LLDP/CDP, by discovery's own rule) is drawn to that device
/// and no longer listed as a device of its own, and point-to-point subnets
/// whose two ends are in different maps give a subnet link. A neighbour
/// that fits several devices stays as it was, its row listed on the device
/// that saw it (`several_candidates`).
pub fn merge(local: &Topology, sites: &BTreeMap<String, Topology>) -> Topology {
    let maps: Vec<(Option<&String>, &Topology)> = std::iter::once((None, local))
        .chain(sites.iter().map(|(s, t)| (Some(s), t)))
        .collect();
    let joined = links::across::join(&maps.iter().map(|(_, t)| *t).collect::<Vec<_>>());
    let mut out = Topology::default();
    let mut at: BTreeMap<DeviceId, usize> = BTreeMap::new();
    for (m, (site, topo)) in maps.iter().enumerate() {
        // A neighbour resolved for every link of its map that reached it
        // is gone from that map.
        let kept = |d: &DeviceId| {
            !joined.resolved.contains(&(m, d.clone()))
                || topo.links.iter().enumerate().any(|(k, l)| {
                    !joined.replaced.contains(&(m, k)) && (&l.a.device == d || &l.b.device == d)
                })
        };
        for d in topo.devices.iter().filter(|d| kept(&d.id)) {
            let mut d = d.clone();
            if let Some(site) = site {
                d.from_site = Some((*site).clone());
                d.poller = false;
            }
            match at.get(&d.id) {
                None => {
                    at.insert(d.id.clone(), out.devices.len());
                    out.devices.push(d);
                }
                Some(&i) if !out.devices[i].managed && d.managed => out.devices[i] = d,
                Some(_) => {}
            }
        }
    }
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut ends: BTreeSet<(Endpoint, Endpoint)> = BTreeSet::new();
    let mut add = |out: &mut Topology, l: &Link| {
        let key = if l.a <= l.b {
            (l.a.clone(), l.b.clone())
        } else {
            (l.b.clone(), l.a.clone())
        };
        if at.contains_key(&l.a.device)
            && at.contains_key(&l.b.device)
            && ids.insert(l.id.clone())
            && ends.insert(key)
        {
            out.links.push(l.clone());
        }
    };
    for (m, (_, topo)) in maps.iter().enumerate() {
        for (k, l) in topo.links.iter().enumerate() {
            if !joined.replaced.contains(&(m, k)) {
                add(&mut out, l);
            }
        }
    }
    for l in &joined.links {
        add(&mut out, l);
    }
    for (id, u) in joined.unresolved {
        if let Some(&i) = at.get(&id) {
            let d = &mut out.devices[i];
            if !d.unresolved.contains(&u) {
                d.unresolved.push(u);
            }
        }
    }
    out
}

/// The site devices of `site` in `topology`.
pub fn site_devices(topology: &Topology, site: &str) -> BTreeSet<DeviceId> {
    topology
        .devices
        .iter()
        .filter(|d| d.from_site.as_deref() == Some(site))
        .map(|d| d.id.clone())
        .collect()
}

/// Writes `verdicts` into `health` for the devices of `members` (the
/// site's devices in the central's map; any other named device is left
/// alone): each verdict stands from `heard_ms`, when the central last
/// heard the site, for `window_ms`.
pub fn apply_verdicts(
    health: &mut BTreeMap<DeviceId, DeviceHealth>,
    members: &BTreeSet<DeviceId>,
    verdicts: &SiteVerdicts,
    heard_ms: i64,
    window_ms: i64,
) {
    for v in &verdicts.devices {
        let id = DeviceId(v.device.clone());
        if !members.contains(&id) {
            continue;
        }
        let h = health.entry(id).or_default();
        h.reachability = v.reachability;
        h.since_ms = v.since_ms.map(UnixMillis);
        h.rtt_avg_ms = v.rtt_avg_ms;
        h.loss_pct = v.loss_pct;
        h.snmp_ok = v.snmp_ok;
        h.last_snmp_ms = v.last_snmp_ms.map(UnixMillis);
        h.last_icmp_ms = Some(UnixMillis(heard_ms));
        h.icmp_stale_after_ms = Some(window_ms);
        h.icmp_error = None;
    }
}

/// A silent site's devices: their verdicts end now (stale/unknown, the
/// last one kept beside it), with the reason.
pub fn silence(health: &mut BTreeMap<DeviceId, DeviceHealth>, members: &BTreeSet<DeviceId>) {
    for id in members {
        if let Some(h) = health.get_mut(id) {
            h.icmp_stale_after_ms = Some(-1);
            h.icmp_error = Some(SITE_SILENT.to_string());
        }
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod wan_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Reachability, aged};
    use crate::sites::wire::WireVerdict;
    use crate::topology::{Device, Endpoint, Link};

    fn link(id: &str, a: &str, b: &str) -> Link {
        let end = |d: &str| Endpoint {
            device: DeviceId(d.into()),
            if_name: Some("eth0".into()),
        };
        Link {
            id: id.into(),
            a: end(a),
            b: end(b),
            evidence: vec![crate::topology::Evidence::Lldp],
            confidence: 1.0,
            lag: None,
        }
    }

    #[test]
    fn site_devices_join_the_map_marked_and_links_need_both_ends() {
        let local = Topology {
            devices: vec![
                Device::for_test("hq", true),
                Device::for_test("core", false),
            ],
            links: vec![link("l0", "hq", "core")],
        };
        let b1 = Topology {
            devices: vec![
                Device::for_test("b1-poller", true),
                Device::for_test("b1-sw", false),
                // Seen from the site too: the central's own stays.
                Device::for_test("core", false),
            ],
            links: vec![
                link("l1", "b1-poller", "b1-sw"),
                link("l2", "b1-sw", "core"),
                link("l3", "b1-sw", "nowhere"),
                link("l0", "hq", "core"),
            ],
        };
        let sites = BTreeMap::from([("b1".to_string(), b1)]);
        let m = merge(&local, &sites);
        let got: Vec<(&str, Option<&str>, bool)> = m
            .devices
            .iter()
            .map(|d| (d.id.0.as_str(), d.from_site.as_deref(), d.poller))
            .collect();
        assert_eq!(
            got,
            [
                ("hq", None, true),
                ("core", None, false),
                ("b1-poller", Some("b1"), false),
                ("b1-sw", Some("b1"), false),
            ]
        );
        let links: Vec<&str> = m.links.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(links, ["l0", "l1", "l2"]);
        assert_eq!(
            site_devices(&m, "b1")
                .into_iter()
                .map(|d| d.0)
                .collect::<Vec<_>>(),
            ["b1-poller", "b1-sw"]
        );
        assert_eq!(merge(&local, &BTreeMap::new()), local);
    }

    #[test]
    fn a_verdict_stands_while_the_site_is_heard_and_goes_stale_not_down() {
        let members: BTreeSet<DeviceId> = [DeviceId("sw".into())].into();
        let mut health = BTreeMap::new();
        health.insert(
            DeviceId("hq".into()),
            DeviceHealth {
                reachability: Reachability::Up,
                ..Default::default()
            },
        );
        let v = SiteVerdicts {
            site: "b1".into(),
            at: 0,
            interfaces: vec![],
            devices: vec![
                WireVerdict {
                    device: "sw".into(),
                    reachability: Reachability::Down,
                    since_ms: Some(500),
                    last_icmp_ms: Some(900),
                    rtt_avg_ms: None,
                    loss_pct: Some(100.0),
                    snmp_ok: Some(false),
                    last_snmp_ms: None,
                },
                // Not the site's: a site cannot speak for the central's devices.
                WireVerdict {
                    device: "hq".into(),
                    reachability: Reachability::Down,
                    since_ms: None,
                    last_icmp_ms: None,
                    rtt_avg_ms: None,
                    loss_pct: None,
                    snmp_ok: None,
                    last_snmp_ms: None,
                },
            ],
            poller: None,
        };
        apply_verdicts(&mut health, &members, &v, 1_000, 3_000);
        let sw = &health[&DeviceId("sw".into())];
        assert_eq!(aged(sw, UnixMillis(4_000)).reachability, Reachability::Down);
        assert_eq!(sw.loss_pct, Some(100.0));
        assert_eq!(
            health[&DeviceId("hq".into())].reachability,
            Reachability::Up
        );
        // Three heartbeats without a word: stale, read as unknown.
        let later = aged(sw, UnixMillis(4_001));
        assert_eq!(
            (later.reachability, later.stale),
            (Reachability::Unknown, true)
        );
        // Told silent at once, whatever the window left.
        apply_verdicts(&mut health, &members, &v, 10_000, 3_000);
        silence(&mut health, &members);
        let sw = &health[&DeviceId("sw".into())];
        let now = aged(sw, UnixMillis(10_000));
        assert_eq!((now.reachability, now.stale), (Reachability::Unknown, true));
        assert_eq!(sw.icmp_error.as_deref(), Some(SITE_SILENT));
        assert_eq!(sw.reachability, Reachability::Down, "the last verdict kept");
    }
}
