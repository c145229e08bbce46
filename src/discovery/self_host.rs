//! Recognising the host nocmap runs on (shown as the poller) in a discovered
//! topology: every device whose address or MAC is one of our own interfaces'
//! is this host. A poller
//! with links into several networks is seen by each neighbour under the
//! address of the interface facing it (ARP, LLDP), which reads as one
//! device per interface: they are folded into one device, marked as the
//! poller, named after this host, with each link end named after our
//! interface on it. Pure: this host's interfaces are read by `local` and
//! handed in; nothing here reads the system or walks an agent.
use super::local::LocalInterface;
use crate::topology::{DeviceId, Topology};

pub fn mark_poller(topology: &mut Topology, locals: &[LocalInterface], hostname: &str) {
    let owner = |addrs: &[std::net::IpAddr], id: &str| -> Option<&LocalInterface> {
        locals.iter().filter(|l| l.name != "lo").find(|l| {
            l.addrs.iter().any(|a| addrs.contains(a))
                || l.mac.as_deref().is_some_and(|m| id == format!("mac-{m}"))
        })
    };
    // Every unmanaged device that is one of our interfaces, with its name.
    let mine: Vec<(DeviceId, String)> = topology
        .devices
        .iter()
        .filter(|d| !d.managed)
        .filter_map(|d| owner(&d.addresses, &d.id.0).map(|l| (d.id.clone(), l.name.clone())))
        .collect();
    let Some((poller, _)) = mine.first().cloned() else {
        return;
    };
    for link in &mut topology.links {
        for end in [&mut link.a, &mut link.b] {
            if let Some((_, ifname)) = mine.iter().find(|(id, _)| *id == end.device) {
                if end.if_name.is_none() {
                    end.if_name = Some(ifname.clone());
                }
                end.device = poller.clone();
            }
        }
    }
    // A link between two of our own interfaces is not a link of the map.
    topology.links.retain(|l| l.a.device != l.b.device);
    let mut folded = Vec::new();
    topology.devices.retain(|d| {
        let other = d.id != poller && mine.iter().any(|(id, _)| *id == d.id);
        if other {
            folded.extend(d.addresses.iter().copied());
        }
        !other
    });
    let Some(d) = topology.devices.iter_mut().find(|d| d.id == poller) else {
        return;
    };
    for a in folded {
        if !d.addresses.contains(&a) {
            d.addresses.push(a);
        }
    }
    d.poller = true;
    if d.sys_name.is_none() {
        d.sys_name = Some(hostname.to_string());
    }
    d.vendor.get_or_insert_with(|| "nocmap poller".to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Device, Endpoint, Evidence, Link};

    fn unmanaged(id: &str, addr: &str) -> Device {
        Device {
            managed: false,
            sys_name: None,
            addresses: vec![addr.parse().unwrap()],
            ..Device::for_test(id, false)
        }
    }

    fn link(a: &str, ai: Option<&str>, b: &str, bi: Option<&str>) -> Link {
        let end = |d: &str, i: Option<&str>| Endpoint {
            device: DeviceId(d.into()),
            if_name: i.map(str::to_string),
        };
        Link {
            id: format!("{a}--{b}"),
            a: end(a, ai),
            b: end(b, bi),
            evidence: vec![Evidence::Arp],
            confidence: 0.5,
            lag: None,
        }
    }

    fn local(name: &str, addr: &str, mac: &str) -> LocalInterface {
        LocalInterface {
            name: name.into(),
            addrs: vec![addr.parse().unwrap()],
            mac: Some(mac.into()),
            up: true,
        }
    }

    #[test]
    fn a_poller_seen_on_two_networks_is_one_device() {
        let mut t = Topology {
            devices: vec![
                Device::for_test("r1", false),
                Device::for_test("r4", false),
                unmanaged("mac-aa:aa:aa:aa:aa:01", "10.94.1.1"),
                unmanaged("mac-aa:aa:aa:aa:aa:05", "10.94.1.5"),
                unmanaged("mac-cc:cc:cc:cc:cc:09", "10.94.9.9"),
            ],
            links: vec![
                link("r1", Some("eth0"), "mac-aa:aa:aa:aa:aa:01", None),
                link("r4", Some("eth1"), "mac-aa:aa:aa:aa:aa:05", None),
                link("r4", Some("eth2"), "mac-cc:cc:cc:cc:cc:09", None),
                // Both of our interfaces on one segment.
                link("mac-aa:aa:aa:aa:aa:01", None, "mac-aa:aa:aa:aa:aa:05", None),
            ],
        };
        let locals = [
            local("lo", "127.0.0.1", "00:00:00:00:00:00"),
            local("eth0", "10.94.1.1", "aa:aa:aa:aa:aa:01"),
            local("eth1", "10.94.1.5", "aa:aa:aa:aa:aa:05"),
        ];
        mark_poller(&mut t, &locals, "noc-host");
        let pollers: Vec<&Device> = t.devices.iter().filter(|d| d.poller).collect();
        assert_eq!(pollers.len(), 1, "{:?}", t.devices);
        let p = pollers[0];
        assert_eq!(p.id.0, "mac-aa:aa:aa:aa:aa:01");
        assert_eq!(p.sys_name.as_deref(), Some("noc-host"));
        assert_eq!(
            p.addresses,
            vec![
                "10.94.1.1".parse::<std::net::IpAddr>().unwrap(),
                "10.94.1.5".parse().unwrap()
            ]
        );
        assert_eq!(t.devices.len(), 4, "the second interface is folded in");
        let ends: Vec<(String, Option<String>, String)> = t
            .links
            .iter()
            .map(|l| {
                (
                    l.a.device.0.clone(),
                    l.b.if_name.clone(),
                    l.b.device.0.clone(),
                )
            })
            .collect();
        assert_eq!(
            ends,
            vec![
                ("r1".into(), Some("eth0".into()), p.id.0.clone()),
                ("r4".into(), Some("eth1".into()), p.id.0.clone()),
                ("r4".into(), None, "mac-cc:cc:cc:cc:cc:09".into()),
            ],
            "each poller end named after our interface, no self link"
        );
    }

    #[test]
    fn a_managed_device_is_never_taken_for_the_poller() {
        let mut r1 = Device::for_test("r1", false);
        r1.addresses = vec!["10.94.1.1".parse().unwrap()];
        let mut t = Topology {
            devices: vec![r1],
            links: vec![],
        };
        mark_poller(
            &mut t,
            &[local("eth0", "10.94.1.1", "aa:aa:aa:aa:aa:01")],
            "h",
        );
        assert!(!t.devices[0].poller);
    }
}
