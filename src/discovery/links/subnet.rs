//! Layer-3 adjacency from point-to-point subnets (/30 and /31 for IPv4,
//! /127 for IPv6): two devices holding the two addresses of one such subnet
//! are linked. Pure; ARP on these subnets is `arp`'s part.
use super::{Known, Sighting};
use crate::discovery::report::AddressEntry;
use crate::topology::Evidence;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The prefix length of an address on a point-to-point subnet, else None.
pub(super) fn point_to_point_len(addr: IpAddr, prefix_len: Option<u8>) -> Option<u8> {
    prefix_len.filter(|&l| (addr.is_ipv4() && (l == 30 || l == 31)) || (addr.is_ipv6() && l == 127))
}

/// One holder of an address on a subnet: report index, our interface's
/// name, the address.
pub(super) struct Member {
    pub report: usize,
    pub if_name: Option<String>,
    pub addr: IpAddr,
}

/// The point-to-point subnets seen, each with its members in report order.
#[derive(Default)]
pub(super) struct Subnets(BTreeMap<(IpAddr, u8), Vec<Member>>);

/// One point-to-point subnet and who holds addresses on it.
pub(super) struct PointToPoint<'s> {
    pub subnet: ipnet::IpNet,
    pub members: &'s [Member],
}

impl Subnets {
    /// Note an address of report `i`; addresses off point-to-point subnets
    /// are ignored.
    pub fn add(&mut self, known: &Known, i: usize, a: &AddressEntry) {
        let if_name = a
            .if_index
            .and_then(|x| known.reports[i].interface(x))
            .map(|x| x.name.clone());
        self.add_member(i, if_name, a.addr, a.prefix_len);
    }

    /// Note address `addr`/`prefix_len` of device `i` on interface
    /// `if_name`; addresses off point-to-point subnets are ignored.
    pub fn add_member(
        &mut self,
        i: usize,
        if_name: Option<String>,
        addr: IpAddr,
        prefix_len: Option<u8>,
    ) {
        let Some(len) = point_to_point_len(addr, prefix_len) else {
            return;
        };
        let Ok(net) = ipnet::IpNet::new(addr, len) else {
            return;
        };
        self.0
            .entry((net.network(), len))
            .or_default()
            .push(Member {
                report: i,
                if_name,
                addr,
            });
    }

    /// The subnets in address order.
    pub fn nets(&self) -> impl Iterator<Item = PointToPoint<'_>> {
        self.0.iter().filter_map(|((net, len), members)| {
            Some(PointToPoint {
                subnet: ipnet::IpNet::new(*net, *len).ok()?,
                members,
            })
        })
    }
}

/// The link a subnet shows when exactly two devices hold its addresses.
pub(super) fn sighting(known: &Known, net: &PointToPoint) -> Option<Sighting> {
    let (x, y) = net.ends()?;
    Some(Sighting {
        a: known.end(x.report, x.if_name.clone()),
        b: known.end(y.report, y.if_name.clone()),
        evidence: Evidence::Subnet,
        observer: known.ids[x.report].clone(),
    })
}

impl PointToPoint<'_> {
    /// The subnet's two ends, when exactly two devices hold its addresses.
    pub fn ends(&self) -> Option<(&Member, &Member)> {
        let [x, y] = self.members else {
            return None;
        };
        (x.report != y.report).then_some((x, y))
    }
}
