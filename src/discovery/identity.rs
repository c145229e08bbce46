//! Which reports are the same box, and what each box is called. Reports that
//! share an LLDP chassis id (never a placeholder: empty, all zero or all FF
//! ids identify nothing), an SNMP engine id or an interface MAC are one
//! device (reached through several addresses); sysName joins reports only
//! when neither has a chassis or engine id. Different LLDP chassis ids keep
//! reports apart whatever else they share, and so do different sysNames
//! under one engine id (agents cloned or started in the same second share
//! engine ids). Device ids come from the
//! strongest identity available, so they are stable across runs. Pure.
use super::report::{DeviceReport, LldpId};
use crate::topology::DeviceId;
use std::collections::{BTreeSet, HashMap};

/// Id of a device that answered SNMP.
pub fn managed_id(r: &DeviceReport) -> DeviceId {
    if let Some(c) = own_chassis(r) {
        return chassis_id(c);
    }
    if let Some(e) = &r.engine_id {
        return DeviceId(format!("engine-{e}"));
    }
    if let Some(n) = r.system.name.as_deref().filter(|n| !n.is_empty()) {
        return DeviceId(format!("name-{}", clean(n)));
    }
    DeviceId(format!(
        "ip-{}",
        r.addr.map(|a| a.to_string()).unwrap_or_default()
    ))
}

/// The report's own LLDP chassis id, unless it is a placeholder
/// ([`LldpId::is_placeholder`]) that identifies nothing.
pub fn own_chassis(r: &DeviceReport) -> Option<&LldpId> {
    r.lldp_chassis.as_ref().filter(|c| !c.is_placeholder())
}

/// Id of a device known by its LLDP chassis id.
pub fn chassis_id(c: &LldpId) -> DeviceId {
    DeviceId(format!("chassis-{}", clean(&c.value)))
}

/// Keep ids printable and free of separators used in link ids.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect()
}

fn useful_mac(m: &str) -> bool {
    m != "00:00:00:00:00:00" && m != "ff:ff:ff:ff:ff:ff"
}

/// Merge reports of the same device. The first report of a group keeps its
/// place; the others add their addresses, interfaces and neighbours.
pub fn merge_same_devices(reports: Vec<DeviceReport>) -> Vec<DeviceReport> {
    let n = reports.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    // What each group is known as: two groups with different LLDP chassis
    // ids are never one device, and a shared engine id does not join boxes
    // with different sysNames (cloned agents share engine ids: net-snmp
    // started in the same second, copied VM images).
    let mut chassis: Vec<BTreeSet<String>> = reports
        .iter()
        .map(|r| {
            own_chassis(r)
                .into_iter()
                .map(|c| format!("{}:{}", c.subtype, c.value))
                .collect()
        })
        .collect();
    let mut names: Vec<BTreeSet<String>> = reports
        .iter()
        .map(|r| {
            r.system
                .name
                .iter()
                .filter(|n| !n.is_empty())
                .cloned()
                .collect()
        })
        .collect();
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, r) in reports.iter().enumerate() {
        let mut keys: Vec<String> = Vec::new();
        if let Some(c) = own_chassis(r) {
            keys.push(format!("c{}:{}", c.subtype, c.value));
        }
        if let Some(e) = &r.engine_id {
            keys.push(format!("e{e}"));
        }
        keys.extend(r.macs().filter(|m| useful_mac(m)).map(|m| format!("m{m}")));
        if own_chassis(r).is_none()
            && r.engine_id.is_none()
            && let Some(name) = &r.system.name
        {
            keys.push(format!("n{name}"));
        }
        for k in keys {
            match owner.get(&k) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a == b {
                        continue;
                    }
                    let differ = |s: &[BTreeSet<String>]| {
                        !s[a].is_empty() && !s[b].is_empty() && s[a].is_disjoint(&s[b])
                    };
                    if differ(&chassis) || (k.starts_with('e') && differ(&names)) {
                        continue;
                    }
                    let (keep, gone) = (a.min(b), a.max(b));
                    parent[gone] = keep;
                    let c = std::mem::take(&mut chassis[gone]);
                    chassis[keep].extend(c);
                    let n = std::mem::take(&mut names[gone]);
                    names[keep].extend(n);
                }
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    let mut groups: Vec<Option<DeviceReport>> = reports.into_iter().map(Some).collect();
    for i in (0..n).rev() {
        let root = find(&mut parent, i);
        if root != i {
            let extra = groups[i].take();
            if let (Some(extra), Some(base)) = (extra, groups[root].as_mut()) {
                absorb(base, extra);
            }
        }
    }
    groups.into_iter().flatten().collect()
}

fn absorb(base: &mut DeviceReport, extra: DeviceReport) {
    base.addresses.extend(extra.addresses);
    base.addresses.sort();
    base.addresses.dedup();
    for i in extra.interfaces {
        if base.interface(i.if_index).is_none() {
            base.interfaces.push(i);
        }
    }
    base.partial.extend(extra.partial);
    // The same box read twice lists the same rows twice: once is enough.
    for u in extra.unresolved {
        if !base.unresolved.contains(&u) {
            base.unresolved.push(u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Interface;

    fn rep(name: &str, chassis: Option<&str>, mac: &str) -> DeviceReport {
        let mut r = DeviceReport::default();
        r.system.name = Some(name.into());
        r.lldp_chassis = chassis.map(|c| LldpId {
            subtype: 4,
            value: c.into(),
        });
        r.interfaces.push(Interface {
            if_index: crate::types::IfIndex(2),
            name: "eth0".into(),
            descr: None,
            alias: None,
            speed_bps: None,
            mac: Some(mac.into()),
            oper_status: None,
            admin_status: None,
            if_type: None,
        });
        r
    }

    #[test]
    fn same_chassis_or_mac_is_one_device() {
        let out = merge_same_devices(vec![
            rep("a", Some("aa:aa:aa:aa:aa:01"), "02:00:00:00:00:01"),
            rep("b", Some("aa:aa:aa:aa:aa:02"), "02:00:00:00:00:02"),
            rep("a-again", Some("aa:aa:aa:aa:aa:01"), "02:00:00:00:00:09"),
            rep("a-by-mac", None, "02:00:00:00:00:09"),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].system.name.as_deref(), Some("a"));
        assert_eq!(managed_id(&out[0]).0, "chassis-aa:aa:aa:aa:aa:01");
    }

    #[test]
    fn sysname_joins_only_without_stronger_ids() {
        let out = merge_same_devices(vec![
            rep("x", Some("aa:aa:aa:aa:aa:01"), "02:00:00:00:00:01"),
            rep("x", Some("aa:aa:aa:aa:aa:02"), "02:00:00:00:00:02"),
        ]);
        assert_eq!(out.len(), 2, "two boxes that share a name stay two");
    }

    #[test]
    fn a_cloned_engine_id_does_not_join_different_boxes() {
        // Seen in the lab: two snmpd started in the same second drew the
        // same engine id. Different chassis ids or names keep them apart.
        let mut a = rep("branch", Some("aa:aa:aa:aa:aa:01"), "02:00:00:00:00:01");
        let mut b = rep("acc1", Some("aa:aa:aa:aa:aa:02"), "02:00:00:00:00:02");
        a.engine_id = Some("80001f8880437cac3d".into());
        b.engine_id = a.engine_id.clone();
        assert_eq!(merge_same_devices(vec![a.clone(), b.clone()]).len(), 2);
        a.lldp_chassis = None;
        b.lldp_chassis = None;
        assert_eq!(merge_same_devices(vec![a.clone(), b.clone()]).len(), 2);
        // The same box reached twice (same name and engine id) is one.
        b.system.name = Some("branch".into());
        assert_eq!(merge_same_devices(vec![a, b]).len(), 1);
    }

    #[test]
    fn a_shared_mac_does_not_join_boxes_with_different_chassis_ids() {
        let a = rep("r1", Some("aa:aa:aa:aa:aa:01"), "00:00:5e:00:01:01");
        let b = rep("r2", Some("aa:aa:aa:aa:aa:02"), "00:00:5e:00:01:01");
        assert_eq!(
            merge_same_devices(vec![a, b]).len(),
            2,
            "a VRRP MAC on both"
        );
    }
}
