//! CDP cache rows turned into link sightings: our port from the row's
//! ifIndex, the far device by its device id (a unique sysName, FQDN or
//! not) or its address, else the unmanaged device an LLDP row of the same
//! device on the same port gave the same name (one box speaking both
//! protocols), else an unmanaged `cdp-` device; the far port by name. Pure; the lookups live in `resolve`, the merging in `merge`.
use super::devices::{add_addrs, unmanaged};
use super::{Known, Sighting};
use crate::discovery::report::CdpNeighbor;
use crate::discovery::resolve::interface_named;
use crate::topology::{Device, DeviceId, Endpoint, Evidence};
use std::collections::{BTreeMap, HashMap};

/// The link one CDP row of report `i` describes; None when the row names
/// the device itself.
pub(super) fn sighting(
    known: &Known,
    i: usize,
    c: &CdpNeighbor,
    lldp_named: &LldpNamed,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Option<Sighting> {
    let r = &known.reports[i];
    let id = &known.ids[i];
    let local = r.interface(c.if_index).map(|x| x.name.clone());
    let (rid, rport) = match known.ix.cdp_device(c, i) {
        Some(j) => (
            known.ids[j].clone(),
            c.port
                .as_deref()
                .and_then(|p| interface_named(&known.reports[j], p)),
        ),
        None if lldp_named.get(i, &local, &c.device_id).is_some() => {
            let (rid, lldp_port) = lldp_named.get(i, &local, &c.device_id)?;
            // The same port as LLDP named it, when CDP spells it out in full
            // (Eth1/1 and Ethernet1/1): one link, not two.
            let port = match (&c.port, lldp_port) {
                (Some(p), Some(l)) if same_port(p, l) => Some(l.clone()),
                _ => c.port.clone(),
            };
            (rid.clone(), port)
        }
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

/// The unmanaged neighbours LLDP rows named, by observer, our interface and
/// the neighbour's name (lowercase): a CDP row of the same observer on the
/// same interface with that name is the same box.
#[derive(Default)]
pub(super) struct LldpNamed(HashMap<(usize, String, String), (DeviceId, Option<String>)>);

impl LldpNamed {
    pub(super) fn add(&mut self, observer: usize, ours: &Endpoint, name: &str, far: &Endpoint) {
        if let Some(local) = &ours.if_name {
            self.0.insert(
                (observer, local.clone(), name.to_ascii_lowercase()),
                (far.device.clone(), far.if_name.clone()),
            );
        }
    }

    /// The device for a CDP device id (an NX-OS `name(SERIAL)` by its name).
    fn get(
        &self,
        observer: usize,
        local: &Option<String>,
        device_id: &str,
    ) -> Option<&(DeviceId, Option<String>)> {
        let local = local.as_ref()?;
        let id = device_id.to_ascii_lowercase();
        let base = match id.strip_suffix(')').and_then(|x| x.split_once('(')) {
            Some((base, _)) if !base.is_empty() => base.to_string(),
            _ => id,
        };
        self.0.get(&(observer, local.clone(), base))
    }
}

/// Whether two port names are one port spelled short and long: the same
/// numbers after letters of which one is the start of the other
/// (`Eth1/1` and `Ethernet1/1`, `Gi0/2` and `GigabitEthernet0/2`).
fn same_port(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        let i = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let (letters, rest) = s.split_at(i);
        (letters.to_ascii_lowercase(), rest.to_string())
    };
    let ((la, ra), (lb, rb)) = (split(a.trim()), split(b.trim()));
    !la.is_empty() && !ra.is_empty() && ra == rb && (la.starts_with(&lb) || lb.starts_with(&la))
}
