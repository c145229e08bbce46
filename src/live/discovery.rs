//! What the last discovery run found and, above all, what it could not
//! reach: the agents among the seeds and the neighbours' management
//! addresses that gave no usable answer, each with its reason, and the
//! addresses left out because they lie outside the allowed prefixes. An
//! engineer who mistyped a community sees the device named here, not only
//! on serve's stderr. Reasons are the engine's error texts (addresses,
//! timeouts, statuses and credential-set names, never a secret).
use crate::types::UnixMillis;
use serde::Serialize;
use std::net::IpAddr;

/// At most this many out-of-scope addresses are listed (all are counted).
pub const MAX_LISTED_OUT_OF_SCOPE: usize = 256;
/// At most this many unresolved neighbour rows are listed (all are counted;
/// every one is on its device in the topology).
pub const MAX_LISTED_UNRESOLVED: usize = 256;

/// A neighbour-table row a device holds that discovery could not use in
/// full, with the device's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceUnresolved {
    pub device: crate::topology::DeviceId,
    #[serde(flatten)]
    pub row: crate::topology::Unresolved,
}

/// A host placed on a switch port from forwarding tables, with its
/// device's id: where, and why that port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedHost {
    pub device: crate::topology::DeviceId,
    #[serde(flatten)]
    pub placement: crate::topology::HostPlacement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentProblem {
    pub addr: IpAddr,
    pub reason: String,
    /// The name the user listed this address under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One finished discovery run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiscoveryRun {
    pub started_ms: UnixMillis,
    pub finished_ms: UnixMillis,
    pub devices: usize,
    /// Devices that answered SNMP (the rest are known from neighbours'
    /// tables or the ping sweep only).
    pub managed_devices: usize,
    pub links: usize,
    /// Devices whose tables were read only in part (their `partial`).
    pub partial_devices: usize,
    /// Sorted by address.
    pub unreachable: Vec<AgentProblem>,
    pub out_of_scope_count: usize,
    /// The first [`MAX_LISTED_OUT_OF_SCOPE`] of them, sorted.
    pub out_of_scope: Vec<IpAddr>,
    /// Neighbour-table rows not used in full (each device's `unresolved`).
    pub unresolved_count: usize,
    /// The first [`MAX_LISTED_UNRESOLVED`] of them, by device.
    pub unresolved: Vec<DeviceUnresolved>,
    /// All of them counted by reason (`UnresolvedReason::as_str`).
    pub unresolved_by_reason: std::collections::BTreeMap<&'static str, usize>,
    /// Addresses inside the prefixes that neighbours named and that a depth
    /// limit left unread (never asked, so not `unreachable`); absent when
    /// the crawl was not cut.
    #[serde(skip_serializing_if = "is_zero")]
    pub depth_cut_count: usize,
    /// The first [`MAX_LISTED_OUT_OF_SCOPE`] of them, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depth_cut: Vec<IpAddr>,
    /// Hosts placed from forwarding tables (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub placed_hosts_count: usize,
    /// The first [`MAX_LISTED_UNRESOLVED`] of them, each with its reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub placed_hosts: Vec<PlacedHost>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DiscoveryRun {
    /// Summarise a run from its parts (pure; sorts and caps the lists).
    pub fn summarise(
        started_ms: UnixMillis,
        finished_ms: UnixMillis,
        topology: &crate::topology::Topology,
        mut unreachable: Vec<AgentProblem>,
        mut out_of_scope: Vec<IpAddr>,
    ) -> DiscoveryRun {
        for p in &mut unreachable {
            cap_reason(&mut p.reason);
        }
        unreachable.sort_by_key(|p| p.addr);
        unreachable.dedup_by(|a, b| a.addr == b.addr);
        out_of_scope.sort();
        out_of_scope.dedup();
        let out_of_scope_count = out_of_scope.len();
        out_of_scope.truncate(MAX_LISTED_OUT_OF_SCOPE);
        let mut unresolved: Vec<DeviceUnresolved> = topology
            .devices
            .iter()
            .flat_map(|d| {
                d.unresolved.iter().map(|u| DeviceUnresolved {
                    device: d.id.clone(),
                    row: u.clone(),
                })
            })
            .collect();
        let unresolved_count = unresolved.len();
        let mut unresolved_by_reason = std::collections::BTreeMap::new();
        for u in &unresolved {
            *unresolved_by_reason
                .entry(u.row.reason.as_str())
                .or_insert(0) += 1;
        }
        unresolved.truncate(MAX_LISTED_UNRESOLVED);
        let mut placed_hosts: Vec<PlacedHost> = topology
            .devices
            .iter()
            .flat_map(|d| {
                d.placement.iter().map(|p| PlacedHost {
                    device: d.id.clone(),
                    placement: p.clone(),
                })
            })
            .collect();
        let placed_hosts_count = placed_hosts.len();
        placed_hosts.truncate(MAX_LISTED_UNRESOLVED);
        DiscoveryRun {
            started_ms,
            finished_ms,
            devices: topology.devices.len(),
            managed_devices: topology.devices.iter().filter(|d| d.managed).count(),
            links: topology.links.len(),
            partial_devices: topology
                .devices
                .iter()
                .filter(|d| !d.partial.is_empty())
                .count(),
            unreachable,
            out_of_scope_count,
            out_of_scope,
            unresolved_count,
            unresolved,
            unresolved_by_reason,
            depth_cut_count: 0,
            depth_cut: Vec::new(),
            placed_hosts_count,
            placed_hosts,
        }
    }

    /// The addresses a depth limit left unread (sorted, listed up to the cap).
    pub fn with_depth_cut(mut self, mut cut: Vec<IpAddr>) -> DiscoveryRun {
        cut.sort();
        cut.dedup();
        self.depth_cut_count = cut.len();
        cut.truncate(MAX_LISTED_OUT_OF_SCOPE);
        self.depth_cut = cut;
        self
    }
}

/// A reason longer than this is cut (on a character boundary) and marked.
pub const MAX_REASON_BYTES: usize = 512;

/// Library error texts can quote what an agent sent: keep them short.
fn cap_reason(reason: &mut String) {
    if reason.len() <= MAX_REASON_BYTES {
        return;
    }
    let mut end = MAX_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.truncate(end);
    reason.push_str(" …");
}

/// The last run, and how many runs were made.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiscoveryStatus {
    pub runs: u64,
    pub last: Option<DiscoveryRun>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Device, Topology};

    fn addr(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sorted_deduplicated_and_capped() {
        let mut t = Topology::default();
        let mut b = Device::for_test("b", false);
        b.partial = vec!["ifTable: walk cut short".into()];
        b.unresolved = vec![crate::topology::Unresolved {
            table: "lldpRemTable".into(),
            row: "100.1.1".into(),
            local_if: Some("ge1".into()),
            neighbor: None,
            reason: crate::topology::UnresolvedReason::PlaceholderChassisId,
            macs: vec![],
        }];
        let mut c = Device::for_test("c", false);
        c.managed = false;
        t.devices = vec![Device::for_test("a", false), b, c];
        let problems = vec![
            AgentProblem {
                addr: addr("10.0.0.9"),
                reason: "no answer".into(),
                name: None,
            },
            AgentProblem {
                addr: addr("10.0.0.2"),
                reason: "é".repeat(400),
                name: None,
            },
            AgentProblem {
                addr: addr("10.0.0.9"),
                reason: "no answer".into(),
                name: None,
            },
        ];
        let scope: Vec<IpAddr> = (0..300u32)
            .rev()
            .map(|i| IpAddr::V4(std::net::Ipv4Addr::from(0xc000_0200 + i)))
            .chain([addr("192.0.2.5")])
            .collect();
        let run = DiscoveryRun::summarise(UnixMillis(10), UnixMillis(20), &t, problems, scope);
        assert_eq!(run.devices, 3);
        assert_eq!(run.managed_devices, 2);
        assert_eq!(run.partial_devices, 1);
        assert_eq!(run.unresolved_count, 1);
        assert_eq!(
            run.unresolved_by_reason.get("placeholder_chassis_id"),
            Some(&1)
        );
        let json = serde_json::to_value(&run.unresolved).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"device": "b", "table": "lldpRemTable", "row": "100.1.1",
                "local_if": "ge1", "reason": "placeholder_chassis_id"}])
        );
        assert_eq!(
            run.unreachable
                .iter()
                .map(|p| p.addr.to_string())
                .collect::<Vec<_>>(),
            ["10.0.0.2", "10.0.0.9"]
        );
        let long = &run.unreachable[0].reason;
        assert!(
            long.len() <= MAX_REASON_BYTES + " …".len(),
            "{}",
            long.len()
        );
        assert!(long.ends_with(" …") && long.starts_with("éé"));
        assert_eq!(run.unreachable[1].reason, "no answer");
        assert_eq!(run.out_of_scope_count, 300);
        assert_eq!(run.out_of_scope.len(), MAX_LISTED_OUT_OF_SCOPE);
        assert!(run.out_of_scope.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(run.out_of_scope[0], addr("192.0.2.0"));
    }

    #[test]
    fn a_depth_cut_is_listed_apart_from_the_agents_that_did_not_answer() {
        let t = Topology::default();
        let none = DiscoveryRun::summarise(UnixMillis(10), UnixMillis(20), &t, vec![], vec![]);
        let json = serde_json::to_value(&none).unwrap();
        assert!(json.get("depth_cut_count").is_none(), "{json}");
        assert!(json.get("depth_cut").is_none(), "{json}");
        let cut = vec![addr("127.0.1.24"), addr("127.0.1.18"), addr("127.0.1.24")];
        let run = DiscoveryRun::summarise(UnixMillis(10), UnixMillis(20), &t, vec![], vec![])
            .with_depth_cut(cut);
        assert!(run.unreachable.is_empty());
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["depth_cut_count"], 2);
        assert_eq!(
            json["depth_cut"],
            serde_json::json!(["127.0.1.18", "127.0.1.24"])
        );
    }

    #[test]
    fn placed_hosts_are_listed_with_their_reason_and_absent_when_none() {
        let mut t = Topology::default();
        let none = DiscoveryRun::summarise(UnixMillis(10), UnixMillis(20), &t, vec![], vec![]);
        let json = serde_json::to_value(&none).unwrap();
        assert!(json.get("placed_hosts_count").is_none(), "{json}");
        assert!(json.get("placed_hosts").is_none(), "{json}");
        let mut h = Device::for_test("mac-02:00:00:00:00:0a", false);
        h.managed = false;
        h.placement = vec![crate::topology::HostPlacement {
            switch: crate::topology::DeviceId("sw".into()),
            if_name: "p1".into(),
            vlans: vec![10],
            reason: "learned on this port in VLAN 10".into(),
        }];
        t.devices = vec![Device::for_test("sw", false), h];
        let run = DiscoveryRun::summarise(UnixMillis(10), UnixMillis(20), &t, vec![], vec![]);
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["placed_hosts_count"], 1);
        assert_eq!(
            json["placed_hosts"],
            serde_json::json!([{"device": "mac-02:00:00:00:00:0a", "switch": "sw",
                "if_name": "p1", "vlans": [10], "reason": "learned on this port in VLAN 10"}])
        );
    }
}
