//! The closed set of neighbour evidence link building reads, gathered from
//! every report in one order (report by report: LLDP rows, CDP rows,
//! point-to-point addresses, ARP rows, forwarding-table rows). Pure; it
//! only borrows the reports' rows and decides nothing about links.
use super::subnet;
use crate::discovery::report::LldpNeighbor;
use crate::discovery::report::{AddressEntry, ArpEntry, CdpNeighbor, DeviceReport, FdbEntry};

/// One piece of evidence that a device has a neighbour, as one table row
/// of one agent said it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NeighborEvidence<'r> {
    /// An LLDP-MIB remote table row: the neighbour named itself.
    Lldp(&'r LldpNeighbor),
    /// A CISCO-CDP-MIB cache row.
    Cdp(&'r CdpNeighbor),
    /// An address on a point-to-point subnet (/30, /31, /127): whoever else
    /// holds an address there is on the other end.
    Subnet(&'r AddressEntry),
    /// An ARP row (IP-MIB): counts for the far end of a point-to-point subnet.
    Arp(&'r ArpEntry),
    /// A bridge forwarding-table row: a MAC learned on a port.
    Fdb(&'r FdbEntry),
}

/// Evidence with the report (by index) whose tables it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed<'r> {
    pub observer: usize,
    pub evidence: NeighborEvidence<'r>,
}

/// Every piece of neighbour evidence in the reports, report by report.
pub fn gather(reports: &[DeviceReport]) -> Vec<Observed<'_>> {
    let mut out = Vec::new();
    for (observer, r) in reports.iter().enumerate() {
        let mut push = |evidence| out.push(Observed { observer, evidence });
        r.lldp.iter().for_each(|n| push(NeighborEvidence::Lldp(n)));
        r.cdp.iter().for_each(|c| push(NeighborEvidence::Cdp(c)));
        r.addresses
            .iter()
            .filter(|a| subnet::point_to_point_len(a.addr, a.prefix_len).is_some())
            .for_each(|a| push(NeighborEvidence::Subnet(a)));
        r.arp.iter().for_each(|e| push(NeighborEvidence::Arp(e)));
        r.fdb.iter().for_each(|e| push(NeighborEvidence::Fdb(e)));
    }
    out
}
