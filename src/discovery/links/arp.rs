//! ARP rows turned into link sightings, on point-to-point subnets only: the
//! one other address there is the far end, a managed device found by that
//! address or MAC, else an unmanaged `mac-` device. ARP rows elsewhere say
//! nothing about links (a LAN's ARP table is everyone). Pure.
use super::devices::{add_addrs, unmanaged};
use super::subnet::PointToPoint;
use super::{Known, Sighting};
use crate::discovery::report::ArpEntry;
use crate::topology::{Device, DeviceId, Endpoint, Evidence};
use std::collections::BTreeMap;

/// The ARP rows of each report, in table order.
#[derive(Default)]
pub(super) struct ArpRows<'r>(BTreeMap<usize, Vec<&'r ArpEntry>>);

impl<'r> ArpRows<'r> {
    pub fn add(&mut self, i: usize, e: &'r ArpEntry) {
        self.0.entry(i).or_default().push(e);
    }

    fn of(&self, i: usize) -> &[&'r ArpEntry] {
        self.0.get(&i).map_or(&[], Vec::as_slice)
    }
}

/// The far ends each member of a point-to-point subnet has in its ARP table
/// for that subnet, member by member.
pub(super) fn sightings(
    known: &Known,
    net: &PointToPoint,
    rows: &ArpRows,
    devices: &mut BTreeMap<DeviceId, Device>,
) -> Vec<Sighting> {
    let mut out = Vec::new();
    for m in net.members {
        let i = m.report;
        for e in rows
            .of(i)
            .iter()
            .filter(|e| net.subnet.contains(&e.ip) && e.ip != m.addr)
        {
            let far = known.ix.by_addr(&e.ip).or_else(|| known.ix.by_mac(&e.mac));
            let b = match far {
                Some(j) if j == i => continue,
                Some(j) => {
                    let r = &known.reports[j];
                    let name = r
                        .addresses
                        .iter()
                        .find(|a| a.addr == e.ip)
                        .and_then(|a| a.if_index)
                        .and_then(|x| r.interface(x))
                        .map(|x| x.name.clone());
                    known.end(j, name)
                }
                None => {
                    let id = DeviceId(format!("mac-{}", e.mac));
                    let d = devices.entry(id.clone()).or_insert_with(|| unmanaged(&id));
                    add_addrs(d, &[e.ip]);
                    Endpoint {
                        device: id,
                        if_name: None,
                    }
                }
            };
            out.push(Sighting {
                a: known.end(i, m.if_name.clone()),
                b,
                evidence: Evidence::Arp,
                observer: known.ids[i].clone(),
            });
        }
    }
    out
}
