//! Finding things named by a neighbour: which known device an LLDP/CDP row
//! points at, and which of its interfaces a port id names, whatever port-id
//! subtype or vendor spelling the neighbour used. Pure.
use super::report::{CdpNeighbor, DeviceReport, LldpId, LldpNeighbor};
use crate::topology::{Interface, UnresolvedReason};
use crate::types::IfIndex;
use std::collections::HashMap;
use std::net::IpAddr;

/// Lookup tables over the managed reports.
pub struct Index<'r> {
    pub reports: &'r [DeviceReport],
    by_chassis: HashMap<(u32, String), usize>,
    by_mac: HashMap<String, usize>,
    /// The reports holding each address that can identify a device (one
    /// holder identifies it; two or more, neither).
    by_addr: HashMap<IpAddr, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
}

impl<'r> Index<'r> {
    pub fn new(reports: &'r [DeviceReport]) -> Self {
        let mut ix = Index {
            reports,
            by_chassis: HashMap::new(),
            by_mac: HashMap::new(),
            by_addr: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (i, r) in reports.iter().enumerate() {
            if let Some(c) = super::identity::own_chassis(r) {
                ix.by_chassis
                    .insert((c.subtype, c.value.to_ascii_lowercase()), i);
            }
            for m in r.macs() {
                ix.by_mac.entry(m.to_string()).or_insert(i);
            }
            for a in r.addresses.iter().map(|a| a.addr).chain(r.addr) {
                if identifies(&a) {
                    let e = ix.by_addr.entry(a).or_default();
                    if !e.contains(&i) {
                        e.push(i);
                    }
                }
            }
            for n in [r.system.name.as_deref(), r.lldp_sys_name.as_deref()]
                .into_iter()
                .flatten()
            {
                let e = ix.by_name.entry(n.to_ascii_lowercase()).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
        ix
    }

    /// The one device holding this address (never a link-local, loopback
    /// or other address many devices hold alike).
    pub fn by_addr(&self, a: &IpAddr) -> Option<usize> {
        match self.by_addr.get(a).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }

    pub fn by_mac(&self, m: &str) -> Option<usize> {
        self.by_mac.get(m).copied()
    }

    /// A unique device with this name; a bare hostname also matches its FQDN
    /// (CDP device ids are often `host.domain`, sysName just `host`, or the reverse).
    /// An NX-OS CDP device id, `name(SERIAL)`, is looked up by its name.
    pub fn by_name(&self, name: &str) -> Option<usize> {
        match self.named(name) {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Every device the name could be, by the first spelling of
    /// [`Index::by_name`]'s that has one alone, else the first that has any.
    fn named(&self, name: &str) -> &[usize] {
        let n = name.to_ascii_lowercase();
        let n = match n.strip_suffix(')').and_then(|x| x.split_once('(')) {
            Some((base, _serial)) if !base.is_empty() && !self.by_name.contains_key(&n) => {
                base.to_string()
            }
            _ => n,
        };
        let short = n.split('.').next().unwrap_or(&n).to_string();
        let found = [n.as_str(), short.as_str()].map(|k| self.by_name.get(k).map(Vec::as_slice));
        found
            .iter()
            .flatten()
            .find(|v| v.len() == 1)
            .or_else(|| found.iter().flatten().find(|v| !v.is_empty()))
            .copied()
            .unwrap_or(&[])
    }

    /// The managed device an LLDP neighbour row of report `observer`
    /// describes: by its chassis id, else by a management address only that
    /// device holds, else by a unique name. A placeholder chassis id (all
    /// zero, ...) matches nothing, and with one only an address can tell the
    /// neighbour. An address or a name never names a device whose own
    /// chassis id differs from the row's, and a name never names the
    /// observer itself (devices share default names: "switch", "Router").
    pub fn lldp_device(&self, n: &LldpNeighbor, observer: usize) -> Option<usize> {
        self.lldp_found(n, observer).one()
    }

    /// [`Index::lldp_device`], saying when the row's address or name fits
    /// several devices.
    pub fn lldp_found(&self, n: &LldpNeighbor, observer: usize) -> Found {
        let placeholder = n.chassis.is_placeholder();
        if !placeholder {
            if let Some(&i) = self
                .by_chassis
                .get(&(n.chassis.subtype, n.chassis.value.to_ascii_lowercase()))
            {
                return Found::One(i);
            }
            if n.chassis.subtype == 4
                && let Some(i) = self.by_mac(&n.chassis.value)
            {
                return Found::One(i);
            }
        }
        // Not found by chassis: a device with a chassis id of its own is
        // not the row's neighbour (it would have been found above).
        let fits =
            |i: &usize| placeholder || super::identity::own_chassis(&self.reports[*i]).is_none();
        let mut several = self.shared_addr(&n.mgmt_addrs, observer, &fits);
        if let Some(i) = n
            .mgmt_addrs
            .iter()
            .find_map(|a| self.by_addr(a))
            .filter(fits)
        {
            return Found::One(i);
        }
        if placeholder {
            return Found::or_several(several);
        }
        if let Some(s) = n.sys_name.as_deref() {
            match self.by_name(s).filter(|i| *i != observer && fits(i)) {
                Some(i) => return Found::One(i),
                None => several.extend(self.shared_name(s, observer, &fits)),
            }
        }
        Found::or_several(several)
    }

    /// The managed device a CDP cache row of report `observer` names: by a
    /// unique name (never the observer: devices share default names), else
    /// by an address only that device holds.
    pub fn cdp_device(&self, c: &CdpNeighbor, observer: usize) -> Option<usize> {
        self.cdp_found(c, observer).one()
    }

    /// [`Index::cdp_device`], saying when the row's name or address fits
    /// several devices.
    pub fn cdp_found(&self, c: &CdpNeighbor, observer: usize) -> Found {
        let found = self
            .by_name(&c.device_id)
            .filter(|j| *j != observer)
            .or_else(|| c.addr.and_then(|a| self.by_addr(&a)));
        match found {
            Some(i) => Found::One(i),
            None => {
                let any = |_: &usize| true;
                let mut several = self.shared_name(&c.device_id, observer, &any);
                several.extend(self.shared_addr(c.addr.as_slice(), observer, &any));
                Found::or_several(several)
            }
        }
    }

    /// The devices other than `observer` that `fits` allows, when the name
    /// fits two or more of them.
    fn shared_name(
        &self,
        name: &str,
        observer: usize,
        fits: &dyn Fn(&usize) -> bool,
    ) -> Vec<usize> {
        let v: Vec<usize> = self
            .named(name)
            .iter()
            .copied()
            .filter(|i| *i != observer && fits(i))
            .collect();
        if v.len() > 1 { v } else { Vec::new() }
    }

    /// The devices other than `observer` that `fits` allows, for the first
    /// of `addrs` that two or more of them hold.
    fn shared_addr(
        &self,
        addrs: &[IpAddr],
        observer: usize,
        fits: &dyn Fn(&usize) -> bool,
    ) -> Vec<usize> {
        addrs
            .iter()
            .filter_map(|a| self.by_addr.get(a))
            .map(|h| {
                h.iter()
                    .copied()
                    .filter(|i| *i != observer && fits(i))
                    .collect::<Vec<_>>()
            })
            .find(|v| v.len() > 1)
            .unwrap_or_default()
    }
}

/// Which device a neighbour row names: one, several alike (ambiguous: the
/// candidates, by report), or none known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    One(usize),
    Several(Vec<usize>),
    None,
}

impl Found {
    pub fn one(&self) -> Option<usize> {
        match self {
            Found::One(i) => Some(*i),
            _ => None,
        }
    }

    fn or_several(mut v: Vec<usize>) -> Found {
        v.sort_unstable();
        v.dedup();
        if v.len() > 1 {
            Found::Several(v)
        } else {
            Found::None
        }
    }
}

/// Whether an address can identify one device: not link-local (fe80::/10,
/// 169.254/16), loopback, unspecified or multicast, which many devices hold
/// alike.
pub fn identifies(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            !(v.is_link_local() || v.is_loopback() || v.is_unspecified() || v.is_multicast())
        }
        IpAddr::V6(v) => {
            let link_local = (v.segments()[0] & 0xffc0) == 0xfe80;
            !(link_local || v.is_loopback() || v.is_unspecified() || v.is_multicast())
        }
    }
}

/// The interface of `r` that `text` names: ifName, ifDescr, ifAlias, the
/// last path segment of vendor names like `bridge1/ether2`, or an ifIndex.
pub fn interface_named(r: &DeviceReport, text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let ifs = &r.interfaces;
    let found = ifs
        .iter()
        .find(|i| i.name == t)
        .or_else(|| ifs.iter().find(|i| i.descr.as_deref() == Some(t)))
        .or_else(|| {
            ifs.iter().find(|i| {
                i.name.eq_ignore_ascii_case(t)
                    || i.descr
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case(t))
            })
        })
        .or_else(|| ifs.iter().find(|i| i.alias.as_deref() == Some(t)))
        .or_else(|| {
            let last = t.rsplit('/').next().filter(|l| *l != t)?;
            ifs.iter().find(|i| i.name == last)
        })
        .or_else(|| {
            let idx: u32 = t.parse().ok()?;
            r.interface(IfIndex(idx))
        });
    found.map(|i| i.name.clone())
}

/// The interface of `r` an LLDP port id (plus its description) names.
pub fn lldp_port(r: &DeviceReport, port: &LldpId, desc: Option<&str>) -> Option<String> {
    // Best: the device advertises this very port id in its own lldpLocPortTable.
    for (num, lp) in &r.lldp_ports {
        if lp.id.subtype == port.subtype && lp.id.value.eq_ignore_ascii_case(&port.value) {
            // An LLDP port number taken as the ifIndex, as on most agents.
            if let Some(i) = r.interface(IfIndex(*num)) {
                return Some(i.name.clone());
            }
            if let Some(name) = lp.desc.as_deref().and_then(|d| interface_named(r, d)) {
                return Some(name);
            }
        }
    }
    let by_id = match port.subtype {
        3 => r
            .interfaces
            .iter()
            .find(|i| i.mac.as_deref() == Some(port.value.as_str()))
            .map(|i| i.name.clone()),
        1 => r
            .interfaces
            .iter()
            .find(|i| i.alias.as_deref() == Some(port.value.as_str()))
            .map(|i| i.name.clone())
            .or_else(|| interface_named(r, &port.value)),
        _ => interface_named(r, &port.value),
    };
    by_id.or_else(|| desc.and_then(|d| interface_named(r, d)))
}

/// Our own interface for an LLDP lldpRemLocalPortNum, or None (see
/// [`local_lldp_port_why`] for the reason).
pub fn local_lldp_port(r: &DeviceReport, port_num: u32) -> Option<String> {
    local_lldp_port_why(r, port_num).ok()
}

/// Our own interface for an LLDP lldpRemLocalPortNum. The device's own
/// lldpLocPortTable says which port the number is: its port id, read in
/// its subtype (interfaceAlias against ifAlias, macAddress against
/// ifPhysAddress, interfaceName against ifName, the rest by name,
/// description or number), then its description against ifDescr and
/// ifName. When those name nothing, the number is an ifIndex or a bridge port
/// (dot1dBasePortIfIndex): when both name interfaces and they differ, the
/// port is ambiguous; when nothing names one, unknown.
pub fn local_lldp_port_why(r: &DeviceReport, port_num: u32) -> Result<String, UnresolvedReason> {
    let by_num = r.interface(IfIndex(port_num));
    let by_bridge = r.bridge_ports.get(&port_num).and_then(|i| r.interface(*i));
    let numbered: Vec<&Interface> = [by_num, by_bridge].into_iter().flatten().collect();
    if let Some(lp) = r.lldp_ports.get(&port_num) {
        for found in [
            own_port_id(r, &lp.id),
            lp.desc
                .as_deref()
                .map(|d| named_all(r, d))
                .unwrap_or_default(),
        ] {
            match found.as_slice() {
                [] => {}
                [one] => return Ok(one.name.clone()),
                several => {
                    // Several interfaces share the id (a MAC on every port):
                    // the number decides, if it names one of them.
                    let mut hit = several
                        .iter()
                        .filter(|i| numbered.iter().any(|n| n.if_index == i.if_index));
                    return match (hit.next(), hit.next()) {
                        (Some(i), None) => Ok(i.name.clone()),
                        _ => Err(UnresolvedReason::LocalPortAmbiguous),
                    };
                }
            }
        }
    }
    match (by_num, by_bridge) {
        (Some(a), Some(b)) if a.if_index != b.if_index => Err(UnresolvedReason::LocalPortAmbiguous),
        (Some(i), _) | (None, Some(i)) => Ok(i.name.clone()),
        (None, None) => Err(UnresolvedReason::LocalPortUnknown),
    }
}

/// The ifIndexes of our own port an LLDP lldpRemLocalPortNum stands for,
/// resolved as [`local_lldp_port_why`] does (the number is not always an
/// ifIndex): the one interface it names; when it is ambiguous, every
/// interface the number could be (the ifIndex and the bridge port's), so a
/// caller that must not treat a port facing a neighbour as an edge port
/// errs on the safe side; none when it names nothing.
pub fn local_lldp_if_indexes(r: &DeviceReport, port_num: u32) -> Vec<IfIndex> {
    match local_lldp_port_why(r, port_num) {
        Ok(name) => r
            .interfaces
            .iter()
            .filter(|i| i.name == name)
            .map(|i| i.if_index)
            .take(1)
            .collect(),
        Err(UnresolvedReason::LocalPortAmbiguous) => {
            let by_bridge = r.bridge_ports.get(&port_num).copied();
            let mut v: Vec<IfIndex> = [Some(IfIndex(port_num)), by_bridge]
                .into_iter()
                .flatten()
                .filter(|i| r.interface(*i).is_some())
                .collect();
            if let Some(lp) = r.lldp_ports.get(&port_num) {
                v.extend(own_port_id(r, &lp.id).iter().map(|i| i.if_index));
            }
            v.sort();
            v.dedup();
            v
        }
        Err(_) => Vec::new(),
    }
}

/// The interfaces our own lldpLocPortId names, read in its subtype.
fn own_port_id<'r>(r: &'r DeviceReport, id: &LldpId) -> Vec<&'r Interface> {
    let v = id.value.as_str();
    match id.subtype {
        1 => r
            .interfaces
            .iter()
            .filter(|i| i.alias.as_deref() == Some(v))
            .collect(),
        3 => r
            .interfaces
            .iter()
            .filter(|i| i.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(v)))
            .collect(),
        _ => named_all(r, v),
    }
}

/// Every interface `text` names, by the first rule of [`interface_named`]'s
/// order that names any.
fn named_all<'r>(r: &'r DeviceReport, text: &str) -> Vec<&'r Interface> {
    let t = text.trim();
    if t.is_empty() {
        return Vec::new();
    }
    let ifs = &r.interfaces;
    let rules: [&dyn Fn(&Interface) -> bool; 4] = [
        &|i| i.name == t,
        &|i| i.descr.as_deref() == Some(t),
        &|i| {
            i.name.eq_ignore_ascii_case(t)
                || i.descr
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(t))
        },
        &|i| i.alias.as_deref() == Some(t),
    ];
    for rule in rules {
        let found: Vec<&Interface> = ifs.iter().filter(|i| rule(i)).collect();
        if !found.is_empty() {
            return found;
        }
    }
    interface_named(r, t)
        .and_then(|n| ifs.iter().find(|i| i.name == n))
        .into_iter()
        .collect()
}

/// How an unmanaged neighbour's port is best named from what was advertised.
pub fn advertised_port_name(port: &LldpId, desc: Option<&str>) -> String {
    match port.subtype {
        // MAC / network address ids are not names: prefer the description.
        3 | 4 => desc
            .map(str::to_string)
            .unwrap_or_else(|| port.value.clone()),
        _ => port.value.clone(),
    }
}
