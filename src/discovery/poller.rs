//! Recognising the poller in a discovered topology: the device whose address
//! or MAC is one of our own interfaces' is marked as the poller, named after
//! this host, and its unnamed link ends get our interface names. Pure.
use super::local::LocalInterface;
use crate::topology::Topology;

pub fn mark_poller(topology: &mut Topology, locals: &[LocalInterface], hostname: &str) {
    let owner = |addrs: &[std::net::IpAddr], id: &str| -> Option<&LocalInterface> {
        locals.iter().filter(|l| l.name != "lo").find(|l| {
            l.addrs.iter().any(|a| addrs.contains(a))
                || l.mac.as_deref().is_some_and(|m| id == format!("mac-{m}"))
        })
    };
    let mut found = None;
    for d in topology.devices.iter_mut().filter(|d| !d.managed) {
        if let Some(l) = owner(&d.addresses, &d.id.0) {
            d.poller = true;
            if d.sys_name.is_none() {
                d.sys_name = Some(hostname.to_string());
            }
            d.vendor.get_or_insert_with(|| "nocmap poller".to_string());
            found = Some((d.id.clone(), l.name.clone()));
            break;
        }
    }
    let Some((id, ifname)) = found else { return };
    for link in &mut topology.links {
        for end in [&mut link.a, &mut link.b] {
            if end.device == id && end.if_name.is_none() {
                end.if_name = Some(ifname.clone());
            }
        }
    }
}
