//! Devices the user listed (`[[devices]]`, the inventory file) in a crawl's
//! result: a listed device that discovery knows by no name of its own takes
//! its listed name, and one that answers no SNMP is reported under that
//! name, so what the list has and nothing answers is said, not lost. Pure.
use super::crawl::CrawlResult;
use std::net::IpAddr;

/// A listed device: the name the user gave it and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub addr: IpAddr,
}

/// Names nameless nodes after the list and marks the listed agents that
/// could not be read with their listed name.
pub fn apply(result: &mut CrawlResult, listed: &[Listed]) {
    for l in listed {
        let node = result
            .topology
            .devices
            .iter_mut()
            .find(|d| d.mgmt_addr == Some(l.addr) || d.addresses.contains(&l.addr));
        if let Some(d) = node
            && d.sys_name.as_deref().is_none_or(str::is_empty)
        {
            d.sys_name = Some(l.name.clone());
        }
        for u in result.unreachable.iter_mut().filter(|u| u.addr == l.addr) {
            u.name = Some(l.name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::crawl::Unreachable;
    use crate::topology::{Device, DeviceId};

    fn node(id: &str, name: Option<&str>, addr: &str) -> Device {
        let json = serde_json::json!({
            "id": id, "sys_name": name, "sys_descr": null, "mgmt_addr": null,
            "chassis_id": null, "vendor": null, "interfaces": [],
            "addresses": [addr],
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn listed_names_fill_gaps_and_mark_the_silent() {
        let mut result = CrawlResult::default();
        result.topology.devices = vec![
            node("ip-127.0.2.1", None, "127.0.2.1"),
            node("chassis-1", Some("own-name"), "127.0.2.2"),
        ];
        result.unreachable = vec![Unreachable {
            addr: "127.0.2.1".parse().unwrap(),
            reason: "no SNMP answer".into(),
            name: None,
        }];
        let listed = [
            Listed {
                name: "pdu-1".into(),
                addr: "127.0.2.1".parse().unwrap(),
            },
            Listed {
                name: "listed-sw".into(),
                addr: "127.0.2.2".parse().unwrap(),
            },
        ];
        apply(&mut result, &listed);
        let names: Vec<_> = result
            .topology
            .devices
            .iter()
            .map(|d| d.sys_name.clone())
            .collect();
        assert_eq!(names, [Some("pdu-1".into()), Some("own-name".into())]);
        assert_eq!(result.unreachable[0].name.as_deref(), Some("pdu-1"));
        assert_eq!(
            result.topology.devices[0].id,
            DeviceId("ip-127.0.2.1".into())
        );
    }
}
