//! The JSON shapes of `/api/devices` and `/api/topology`: topology devices
//! and links (the `nocmap discover --json` shape) with their live health
//! added beside the topology fields. Pure: serde only, the caller passes
//! the snapshot and the time.
use crate::config::Tagging;
use crate::live::{
    DeviceHealth, InterfaceHealth, LinkHealth, LiveView, Reachability, aged, link_health,
};
use crate::topology::{Device, DeviceId, Link, Role, Topology};
use crate::types::UnixMillis;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A topology device with its health, the health of its interfaces (by
/// ifName) and its `role` in the hierarchy (`topology::role`: core,
/// distribution, access, host), which the map lays its layers out by, and
/// its `site` (`topology::site`: a configured `site:` tag, else the
/// sysLocation; null when neither), which the map groups devices by.
#[derive(Debug, Serialize)]
pub struct DeviceView<'a> {
    #[serde(flatten)]
    pub device: &'a Device,
    pub role: Role,
    pub site: Option<&'a str>,
    pub health: Option<HealthView<'a>>,
    pub interface_health: BTreeMap<&'a str, &'a InterfaceHealth>,
}

/// A device's health at the view's time: `reachability` is the last ICMP
/// verdict while it stands and `unknown` once it is stale
/// (`reachability_stale`); the measured fields (`icmp_verdict`, RTT, loss,
/// `last_icmp_ms`, `icmp_stale_after_ms`, ...) are those of its last round.
#[derive(Debug, Serialize)]
pub struct HealthView<'a> {
    pub reachability: Reachability,
    pub reachability_stale: bool,
    /// The map's ring from the vitals (`vitals::summary::HealthState`)
    /// while the last read stands; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vitals_state: Option<crate::vitals::summary::HealthState>,
    #[serde(flatten)]
    pub measured: &'a DeviceHealth,
}

impl<'a> HealthView<'a> {
    pub fn at(h: &'a DeviceHealth, now_ms: UnixMillis) -> HealthView<'a> {
        let v = aged(h, now_ms);
        let standing = match (h.last_vitals_ms, h.vitals_stale_after_ms) {
            (Some(at), Some(life)) => (now_ms - at) <= life,
            (Some(_), None) => true,
            _ => false,
        };
        HealthView {
            reachability: v.reachability,
            reachability_stale: v.stale,
            vitals_state: h
                .vitals
                .as_ref()
                .filter(|_| standing)
                .map(|v| v.summary().state()),
            measured: h,
        }
    }
}

/// A topology link with `utilization_pct`, `in_bps`, `out_bps`,
/// `errors_per_s`, `status`, `stale`, and how the map draws it, decided
/// here and only painted by the page: `state` (ok, down, degraded,
/// stale) and each direction's utilisation band (`a_to_b_band`,
/// `b_to_a_band`: "0-1" … "85-100", or null).
#[derive(Debug, Serialize)]
pub struct LinkView<'a> {
    #[serde(flatten)]
    pub link: &'a Link,
    #[serde(flatten)]
    pub health: LinkHealth,
}

#[derive(Debug, Serialize)]
pub struct TopologyView<'a> {
    pub devices: Vec<DeviceView<'a>>,
    pub links: Vec<LinkView<'a>>,
    /// When this view was computed (ms since the Unix epoch).
    pub generated_ms: UnixMillis,
}

/// What the map groups and layers devices by, worked out once for the
/// whole topology: every device's role and site.
#[derive(Debug, Default)]
pub struct MapGroups {
    pub roles: HashMap<DeviceId, Role>,
    pub sites: HashMap<DeviceId, String>,
}

impl MapGroups {
    /// The roles and sites of `topology`; configured `site:` tags from
    /// `tagging` (none without a configuration).
    pub fn of(topology: &Topology, tagging: Option<&Tagging>) -> MapGroups {
        MapGroups {
            roles: crate::topology::roles(topology),
            sites: crate::topology::sites(topology, |d| match (&d.from_site, tagging) {
                // A central's site device: the site that reported it.
                (Some(site), _) => vec![format!("{}{site}", crate::topology::SITE_TAG)],
                (None, Some(t)) => {
                    let mut addrs = d.addresses.clone();
                    addrs.extend(d.mgmt_addr);
                    t.tags_for(d.sys_name.as_deref(), &addrs)
                }
                (None, None) => Vec::new(),
            }),
        }
    }
}

/// One device of the snapshot with its health at `now_ms`; its role and
/// site from `groups` (of the snapshot's topology).
pub fn device_view<'a>(
    s: &LiveView<'a>,
    d: &'a Device,
    groups: &'a MapGroups,
    now_ms: UnixMillis,
) -> DeviceView<'a> {
    DeviceView {
        device: d,
        role: groups.roles.get(&d.id).copied().unwrap_or(Role::Host),
        site: groups.sites.get(&d.id).map(String::as_str),
        health: s.devices.get(&d.id).map(|h| HealthView::at(h, now_ms)),
        interface_health: s
            .interfaces
            .range((d.id.clone(), String::new())..)
            .take_while(|((id, _), _)| id == &d.id)
            .map(|((_, name), h)| (name.as_str(), h))
            .collect(),
    }
}

/// One link of the snapshot with its health at `now_ms`.
pub fn link_view<'a>(s: &LiveView<'a>, l: &'a Link, now_ms: UnixMillis) -> LinkView<'a> {
    LinkView {
        link: l,
        health: link_health(s, l, now_ms),
    }
}

pub fn devices<'a>(
    s: &LiveView<'a>,
    groups: &'a MapGroups,
    now_ms: UnixMillis,
) -> Vec<DeviceView<'a>> {
    s.topology
        .devices
        .iter()
        .map(|d| device_view(s, d, groups, now_ms))
        .collect()
}

pub fn topology<'a>(
    s: &LiveView<'a>,
    groups: &'a MapGroups,
    now_ms: UnixMillis,
) -> TopologyView<'a> {
    TopologyView {
        devices: devices(s, groups, now_ms),
        links: s
            .topology
            .links
            .iter()
            .map(|l| link_view(s, l, now_ms))
            .collect(),
        generated_ms: now_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveSnapshot;
    use crate::topology::DeviceId;

    /// The JSON a device's health has at a time: `reachability` aged,
    /// `reachability_stale`, and the measured verdict as `icmp_verdict`.
    #[test]
    fn a_stale_verdict_is_shown_as_unknown_with_the_last_one_beside_it() {
        let d = Device::for_test("r1", false);
        let mut s = LiveSnapshot::default();
        s.devices.insert(
            DeviceId("r1".into()),
            DeviceHealth {
                reachability: Reachability::Up,
                last_icmp_ms: Some(UnixMillis(10_000)),
                icmp_stale_after_ms: Some(6_000),
                rtt_avg_ms: Some(1.5),
                ..Default::default()
            },
        );
        let roles = MapGroups::default();
        let at = |now| {
            serde_json::to_value(device_view(&s.view(), &d, &roles, now)).unwrap()["health"].clone()
        };
        let fresh = at(UnixMillis(16_000));
        assert_eq!(
            (
                &fresh["reachability"],
                &fresh["reachability_stale"],
                &fresh["icmp_verdict"]
            ),
            (&"up".into(), &false.into(), &"up".into())
        );
        let stale = at(UnixMillis(16_001));
        assert_eq!(
            (
                &stale["reachability"],
                &stale["reachability_stale"],
                &stale["icmp_verdict"],
                &stale["last_icmp_ms"],
                &stale["icmp_stale_after_ms"],
                &stale["rtt_avg_ms"]
            ),
            (
                &"unknown".into(),
                &true.into(),
                &"up".into(),
                &10_000.into(),
                &6_000.into(),
                &1.5.into()
            )
        );
        // One key each: no duplicate `reachability` from the flattening.
        let text =
            serde_json::to_string(&device_view(&s.view(), &d, &roles, UnixMillis(16_001))).unwrap();
        assert_eq!(text.matches("\"reachability\"").count(), 1, "{text}");
    }
}
