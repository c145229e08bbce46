//! Which reports are the same box, and what each box is called. Reports that
//! share an LLDP chassis id, an SNMP engine id or an interface MAC are one
//! device (reached through several addresses); sysName joins reports only
//! when neither has a chassis or engine id. Device ids come from the
//! strongest identity available, so they are stable across runs. Pure.
use super::report::{DeviceReport, LldpId};
use crate::topology::DeviceId;
use std::collections::HashMap;

/// Id of a device that answered SNMP.
pub fn managed_id(r: &DeviceReport) -> DeviceId {
    if let Some(c) = &r.lldp_chassis {
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
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, r) in reports.iter().enumerate() {
        let mut keys: Vec<String> = Vec::new();
        if let Some(c) = &r.lldp_chassis {
            keys.push(format!("c{}:{}", c.subtype, c.value));
        }
        if let Some(e) = &r.engine_id {
            keys.push(format!("e{e}"));
        }
        keys.extend(r.macs().filter(|m| useful_mac(m)).map(|m| format!("m{m}")));
        if r.lldp_chassis.is_none()
            && r.engine_id.is_none()
            && let Some(name) = &r.system.name
        {
            keys.push(format!("n{name}"));
        }
        for k in keys {
            match owner.get(&k) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
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
            if_index: 2,
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
}
