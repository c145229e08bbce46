//! A device's path from the poller as last traced (`[poll]
//! path_interval_s`): its hops mapped to topology devices by their
//! addresses (a hop no device owns is marked as outside the topology), and
//! the last change of route with the hops before and after. Pure; kept in
//! the live state only (the path loop stores each change as an event).
use crate::icmp::TraceReport;
use crate::topology::{DeviceId, Topology};
use crate::types::UnixMillis;
use serde::Serialize;
use std::net::IpAddr;

/// One hop of a device's path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathHop {
    pub ttl: u8,
    /// The router that answered at this TTL; None when none did.
    pub addr: Option<IpAddr>,
    /// The topology device that has this address, if any.
    pub device: Option<DeviceId>,
    /// False for a hop that answered from an address no device has.
    pub in_topology: bool,
    pub loss_pct: f64,
    pub rtt_avg_ms: Option<f64>,
}

/// A change of route: the hops before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathChange {
    pub at_ms: UnixMillis,
    pub before: Vec<PathHop>,
    pub after: Vec<PathHop>,
}

/// The path of one device as the live state keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DevicePath {
    pub traced_ms: Option<UnixMillis>,
    pub reached: bool,
    pub hops: Vec<PathHop>,
    /// Why the last trace failed (the previous hops stay).
    pub error: Option<String>,
    pub last_change: Option<PathChange>,
    /// Changes of route seen since start.
    pub changes: u64,
}

impl DevicePath {
    /// Takes a new trace's hops; returns the change when the route moved
    /// (a hop that did not answer this time or last time is no change).
    pub fn record(
        &mut self,
        hops: Vec<PathHop>,
        reached: bool,
        now: UnixMillis,
    ) -> Option<PathChange> {
        let change =
            (self.traced_ms.is_some() && !same_route(&self.hops, &hops)).then(|| PathChange {
                at_ms: now,
                before: self.hops.clone(),
                after: hops.clone(),
            });
        if let Some(c) = &change {
            self.last_change = Some(c.clone());
            self.changes += 1;
        }
        self.hops = hops;
        self.reached = reached;
        self.traced_ms = Some(now);
        self.error = None;
        change
    }
}

/// The hops of a trace (its most frequent responder per TTL), each mapped
/// to the topology device that has its address.
pub fn hops_of(report: &TraceReport, topology: &Topology) -> Vec<PathHop> {
    report
        .hops
        .iter()
        .map(|h| {
            let addr = h.responders.first().map(|r| r.addr);
            let device = addr.and_then(|a| owner(topology, a));
            PathHop {
                ttl: h.ttl,
                addr,
                in_topology: device.is_some(),
                device,
                loss_pct: h.loss_pct,
                rtt_avg_ms: h.rtt_avg_ms,
            }
        })
        .collect()
}

fn owner(topology: &Topology, addr: IpAddr) -> Option<DeviceId> {
    topology
        .devices
        .iter()
        .find(|d| d.mgmt_addr == Some(addr) || d.addresses.contains(&addr))
        .map(|d| d.id.clone())
}

/// Same length and, where both answered, the same address at every TTL.
pub fn same_route(a: &[PathHop], b: &[PathHop]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x.addr, y.addr) {
            (Some(p), Some(q)) => p == q,
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn hop(ttl: u8, last: Option<u8>) -> PathHop {
        PathHop {
            ttl,
            addr: last.map(|l| IpAddr::V4(Ipv4Addr::new(10, 145, 1, l))),
            device: None,
            in_topology: false,
            loss_pct: 0.0,
            rtt_avg_ms: Some(1.0),
        }
    }

    #[test]
    fn a_moved_hop_is_one_change_with_both_routes() {
        let mut p = DevicePath::default();
        let a = vec![hop(1, Some(2)), hop(2, Some(6)), hop(3, Some(22))];
        let b = vec![hop(1, Some(2)), hop(2, Some(10)), hop(3, Some(22))];
        assert_eq!(
            p.record(a.clone(), true, UnixMillis(1)),
            None,
            "first trace"
        );
        assert_eq!(p.record(a.clone(), true, UnixMillis(2)), None, "same route");
        let c = p.record(b.clone(), true, UnixMillis(3)).expect("a change");
        assert_eq!((c.before, c.after, c.at_ms), (a, b.clone(), UnixMillis(3)));
        assert_eq!(p.record(b, true, UnixMillis(4)), None);
        assert_eq!(p.changes, 1);
    }

    #[test]
    fn a_hop_that_did_not_answer_is_no_change_but_a_longer_path_is() {
        let mut p = DevicePath::default();
        let a = vec![hop(1, Some(2)), hop(2, Some(6))];
        p.record(a.clone(), true, UnixMillis(1));
        assert_eq!(
            p.record(vec![hop(1, Some(2)), hop(2, None)], true, UnixMillis(2)),
            None
        );
        let longer = vec![hop(1, Some(2)), hop(2, Some(6)), hop(3, Some(9))];
        assert!(p.record(longer, true, UnixMillis(3)).is_some());
    }
}
