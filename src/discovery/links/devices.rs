//! The devices of the map: managed ones from their own reports, and the
//! unmanaged ones the evidence modules add (named by a neighbour, learned
//! in a forwarding table, answering pings). Pure; no evidence is read here.
use crate::discovery::report::DeviceReport;
use crate::discovery::vendor;
use crate::topology::{Device, DeviceId, SubnetAddress};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Every managed device by id (report order; a later report with the same
/// id replaces an earlier one).
pub(super) fn managed(reports: &[DeviceReport], ids: &[DeviceId]) -> BTreeMap<DeviceId, Device> {
    reports
        .iter()
        .zip(ids)
        .map(|(r, id)| (id.clone(), managed_device(r, id)))
        .collect()
}

fn managed_device(r: &DeviceReport, id: &DeviceId) -> Device {
    let mut addresses: Vec<IpAddr> = r
        .addresses
        .iter()
        .map(|a| a.addr)
        .filter(|a| !a.is_loopback())
        .collect();
    addresses.sort();
    addresses.dedup();
    Device {
        id: id.clone(),
        sys_name: r.system.name.clone().or_else(|| r.lldp_sys_name.clone()),
        sys_descr: r.system.descr.clone(),
        mgmt_addr: r.addr,
        chassis_id: r.lldp_chassis.as_ref().map(|c| c.value.clone()),
        vendor: r
            .system
            .object_id
            .as_deref()
            .and_then(vendor::from_sys_object_id)
            .map(str::to_string),
        model: r
            .system
            .object_id
            .as_deref()
            .and_then(vendor::model_from_sys_object_id)
            .map(str::to_string),
        managed: true,
        poller: false,
        sys_object_id: r.system.object_id.clone(),
        sys_location: r.system.location.clone(),
        sys_contact: r.system.contact.clone(),
        engine_id: r.engine_id.clone(),
        addresses,
        interfaces: r.interfaces.clone(),
        partial: r.partial.clone(),
        unresolved: r.unresolved.clone(),
        placement: Vec::new(),
        hardware: r.hardware.clone(),
        point_to_point: point_to_point(r),
        from_site: None,
    }
}

/// The report's addresses on point-to-point subnets, with their interface
/// (the rule of [`super::subnet`]), in address order.
fn point_to_point(r: &DeviceReport) -> Vec<SubnetAddress> {
    let mut v: Vec<SubnetAddress> = r
        .addresses
        .iter()
        .filter_map(|a| {
            Some(SubnetAddress {
                addr: a.addr,
                prefix_len: super::subnet::point_to_point_len(a.addr, a.prefix_len)?,
                if_name: a
                    .if_index
                    .and_then(|x| r.interface(x))
                    .map(|x| x.name.clone()),
            })
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A device known only from what others said about it.
pub(super) fn unmanaged(id: &DeviceId) -> Device {
    Device {
        id: id.clone(),
        sys_name: None,
        sys_descr: None,
        mgmt_addr: None,
        chassis_id: None,
        vendor: None,
        model: None,
        managed: false,
        poller: false,
        sys_object_id: None,
        sys_location: None,
        sys_contact: None,
        engine_id: None,
        addresses: Vec::new(),
        interfaces: Vec::new(),
        partial: Vec::new(),
        unresolved: Vec::new(),
        placement: Vec::new(),
        hardware: None,
        point_to_point: Vec::new(),
        from_site: None,
    }
}

/// Add addresses a device was seen with; the first one known becomes its
/// management address when it has none.
pub(super) fn add_addrs(d: &mut Device, addrs: &[IpAddr]) {
    for a in addrs {
        if !d.addresses.contains(a) {
            d.addresses.push(*a);
        }
    }
    if d.mgmt_addr.is_none() {
        d.mgmt_addr = addrs.first().copied();
    }
}
