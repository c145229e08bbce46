//! LLDP remote table rows turned into link sightings: our port from the
//! local port table, the far device from its chassis id (a managed one, or
//! an unmanaged device made from what the row says), the far port from the
//! port id in whatever subtype the neighbour used. Pure; the lookups live
//! in `resolve`, the merging of both directions in `merge`.
use super::devices::{add_addrs, unmanaged};
use super::{Known, Sighting};
use crate::discovery::identity::chassis_id;
use crate::discovery::parse_neighbors::MAX_UNRESOLVED_ROWS;
use crate::discovery::report::LldpNeighbor;
use crate::discovery::resolve::{advertised_port_name, lldp_port, local_lldp_port_why};
use crate::topology::{Device, DeviceId, Endpoint, Evidence, UnresolvedReason};
use std::collections::BTreeMap;

/// The link one LLDP row of report `i` describes; None when the row names
/// the device itself.
pub(super) fn sighting(
    known: &Known,
    i: usize,
    n: &LldpNeighbor,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Option<Sighting> {
    let r = &known.reports[i];
    let id = &known.ids[i];
    let local = match n.local_port.map(|p| local_lldp_port_why(r, p)) {
        Some(Ok(name)) => Some(name),
        Some(Err(reason)) => {
            // The link is still drawn, with our end unknown; the row says why.
            list(devices, id, n.unresolved(None, reason));
            None
        }
        None => None,
    };
    let (rid, rport) = match known.ix.lldp_device(n, i) {
        Some(j) => (
            known.ids[j].clone(),
            lldp_port(&known.reports[j], &n.port, n.port_desc.as_deref()),
        ),
        None if n.chassis.is_placeholder() => {
            // No identity: listed on our device, never a device of its own
            // (every such row would be one and the same).
            let u = n.unresolved(local, UnresolvedReason::PlaceholderChassisId);
            list(devices, id, u);
            return None;
        }
        None => {
            let rid = chassis_id(&n.chassis);
            let d = devices
                .entry(rid.clone())
                .or_insert_with(|| unmanaged(&rid));
            d.sys_name = d.sys_name.take().or_else(|| n.sys_name.clone());
            d.sys_descr = d.sys_descr.take().or_else(|| n.sys_desc.clone());
            d.chassis_id = d
                .chassis_id
                .take()
                .or_else(|| Some(n.chassis.value.clone()));
            add_addrs(d, &n.mgmt_addrs);
            (
                rid,
                Some(advertised_port_name(&n.port, n.port_desc.as_deref())),
            )
        }
    };
    (rid != *id).then(|| Sighting {
        a: known.end(i, local),
        b: Endpoint {
            device: rid,
            if_name: rport,
        },
        evidence: Evidence::Lldp,
        observer: id.clone(),
    })
}

/// List a row on device `id`, up to the cap a report's own list has.
fn list(devices: &mut BTreeMap<DeviceId, Device>, id: &DeviceId, u: crate::topology::Unresolved) {
    if let Some(d) = devices.get_mut(id)
        && d.unresolved.len() < MAX_UNRESOLVED_ROWS
    {
        d.unresolved.push(u);
    }
}
