//! CDP cache rows turned into link sightings: our port from the row's
//! ifIndex, the far device by its device id (a unique sysName, FQDN or
//! not) or its address, else an unmanaged `cdp-` device; the far port by
//! name. Pure; the lookups live in `resolve`, the merging in `merge`.
use super::devices::{add_addrs, unmanaged};
use super::{Known, Sighting};
use crate::discovery::report::CdpNeighbor;
use crate::discovery::resolve::interface_named;
use crate::topology::{Device, DeviceId, Endpoint, Evidence};
use std::collections::BTreeMap;

/// The link one CDP row of report `i` describes; None when the row names
/// the device itself.
pub(super) fn sighting(
    known: &Known,
    i: usize,
    c: &CdpNeighbor,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Option<Sighting> {
    let r = &known.reports[i];
    let id = &known.ids[i];
    let local = r.interface(c.if_index).map(|x| x.name.clone());
    let found = known
        .ix
        .by_name(&c.device_id)
        // Devices share default names: ours is not the neighbour's.
        .filter(|j| *j != i)
        .or_else(|| c.addr.and_then(|a| known.ix.by_addr(&a)));
    let (rid, rport) = match found {
        Some(j) => (
            known.ids[j].clone(),
            c.port
                .as_deref()
                .and_then(|p| interface_named(&known.reports[j], p)),
        ),
        None => {
            let rid = DeviceId(format!(
                "cdp-{}",
                c.device_id
                    .chars()
                    .filter(|ch| !ch.is_whitespace() && !ch.is_control())
                    .take(96)
                    .collect::<String>()
            ));
            let d = devices
                .entry(rid.clone())
                .or_insert_with(|| unmanaged(&rid));
            d.sys_name = d.sys_name.take().or_else(|| Some(c.device_id.clone()));
            d.sys_descr = d.sys_descr.take().or_else(|| c.platform.clone());
            add_addrs(d, c.addr.as_slice());
            (rid, c.port.clone())
        }
    };
    (rid != *id).then(|| Sighting {
        a: known.end(i, local),
        b: Endpoint {
            device: rid,
            if_name: rport,
        },
        evidence: Evidence::Cdp,
        observer: id.clone(),
    })
}
