//! A decoded notification → the event stored on its device. Pure: the
//! topology, the MIBs and the time are handed in. The device is the one
//! whose addresses hold the sender's address, else the v1 agent-addr field
//! (a trap relayed or sent from another interface). Names come from the
//! MIBs (`linkDown`, vendor notifications where a MIB is loaded), values
//! are rendered as text and bounded: device strings are data.
use super::decode::Notification;
use crate::mib::{Mibs, format_numeric};
use crate::store::{EventRow, EventVarbind};
use crate::topology::{DeviceId, Topology};
use crate::types::UnixMillis;
use std::net::IpAddr;

/// Bytes of one varbind's value text kept (cut at a character boundary).
pub const MAX_VALUE_BYTES: usize = 1_024;

/// IF-MIB's ifEntry: a varbind under it names its interface by the last arc.
const IF_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 2, 2, 1];
/// snmpTraps: linkDown is .3, linkUp .4.
const LINK_DOWN: [u32; 10] = [1, 3, 6, 1, 6, 3, 1, 1, 5, 3];
const LINK_UP: [u32; 10] = [1, 3, 6, 1, 6, 3, 1, 1, 5, 4];

/// How an event was tied to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Source,
    AgentAddr,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Source => "source",
            MatchedBy::AgentAddr => "agent_addr",
        }
    }
}

/// The device that owns `addr`, if exactly one does.
fn owner(topology: &Topology, addr: IpAddr) -> Option<DeviceId> {
    let mut found = topology
        .devices
        .iter()
        .filter(|d| d.mgmt_addr == Some(addr) || d.addresses.contains(&addr));
    let first = found.next()?;
    found.next().is_none().then(|| first.id.clone())
}

/// Which device sent it, and how we know.
pub fn match_device(
    topology: &Topology,
    source: IpAddr,
    n: &Notification,
) -> Option<(DeviceId, MatchedBy)> {
    if let Some(d) = owner(topology, source) {
        return Some((d, MatchedBy::Source));
    }
    let agent = n.agent_addr.filter(|a| !a.is_unspecified())?;
    owner(topology, IpAddr::V4(agent)).map(|d| (d, MatchedBy::AgentAddr))
}

/// Whether it says a link changed state (linkDown, linkUp).
pub fn is_link_change(n: &Notification) -> bool {
    n.trap_oid == LINK_DOWN || n.trap_oid == LINK_UP
}

/// The interface named by an ifEntry varbind (ifIndex.N, ifOperStatus.N).
pub fn if_index(n: &Notification) -> Option<u32> {
    n.varbinds.iter().find_map(|vb| match vb.oid.arcs() {
        [prefix @ .., _column, index] if prefix == IF_ENTRY => Some(*index),
        _ => None,
    })
}

/// The notification's name: the MIB object's own name when the OID is
/// exactly a named node (`linkDown`), else `MODULE::name.suffix` or numeric.
pub fn name(mibs: &Mibs, oid: &[u32]) -> String {
    match mibs.node_of(oid) {
        Some((node, [])) => node.name.clone(),
        _ => mibs.display(oid),
    }
}

fn bounded(mut s: String) -> String {
    if s.len() > MAX_VALUE_BYTES {
        let mut cut = MAX_VALUE_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The row to store.
pub fn event_row(
    n: &Notification,
    source: IpAddr,
    matched: Option<(DeviceId, MatchedBy)>,
    mibs: &Mibs,
    at: UnixMillis,
) -> EventRow {
    let (device, matched_by) = match matched {
        Some((d, m)) => (Some(d.0), Some(m.as_str().to_string())),
        None => (None, None),
    };
    EventRow {
        id: 0,
        at,
        device,
        matched_by,
        source: source.to_string(),
        kind: n.kind.as_str().to_string(),
        version: n.version.as_str().to_string(),
        name: name(mibs, &n.trap_oid),
        trap_oid: format_numeric(&n.trap_oid),
        if_index: if_index(n),
        varbinds: n
            .varbinds
            .iter()
            .map(|vb| EventVarbind {
                oid: format_numeric(vb.oid.arcs()),
                name: mibs.display(vb.oid.arcs()),
                value: bounded(crate::snmp::format_value(&vb.value)),
            })
            .collect(),
        syslog: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traps::decode::{TrapKind, TrapVersion};
    use async_snmp::{Oid, Value, VarBind};

    fn link_down(agent: Option<&str>) -> Notification {
        Notification {
            version: TrapVersion::V2c,
            kind: TrapKind::Trap,
            community: b"public".to_vec(),
            request_id: 1,
            trap_oid: LINK_DOWN.to_vec(),
            agent_addr: agent.map(|a| a.parse().unwrap()),
            uptime: 1,
            varbinds: vec![
                VarBind::new(
                    Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 3]),
                    Value::Integer(3),
                ),
                VarBind::new(
                    Oid::from_slice(&[1, 3, 6, 1, 4, 1, 9, 9]),
                    Value::OctetString(vec![b'x'; 5000].into()),
                ),
            ],
            more: 0,
        }
    }

    fn topo() -> Topology {
        serde_json::from_value(serde_json::json!({
            "devices": [
                {"id": "r1", "mgmt_addr": "127.0.0.11", "addresses": ["127.0.0.11", "127.0.0.12"], "interfaces": []},
                {"id": "r2", "mgmt_addr": "127.0.0.21", "interfaces": []}
            ],
            "links": []
        }))
        .unwrap()
    }

    #[test]
    fn matched_by_source_then_agent_addr_and_named_from_the_mibs() {
        let t = topo();
        let n = link_down(Some("127.0.0.21"));
        let src: IpAddr = "127.0.0.12".parse().unwrap();
        assert_eq!(
            match_device(&t, src, &n),
            Some((DeviceId("r1".into()), MatchedBy::Source))
        );
        let relay: IpAddr = "127.0.0.99".parse().unwrap();
        assert_eq!(
            match_device(&t, relay, &n),
            Some((DeviceId("r2".into()), MatchedBy::AgentAddr))
        );
        assert_eq!(match_device(&t, relay, &link_down(None)), None);
        let mibs = Mibs::bundled();
        let row = event_row(&n, src, match_device(&t, src, &n), &mibs, UnixMillis(5));
        assert_eq!(row.name, "linkDown");
        assert_eq!(row.if_index, Some(3));
        assert_eq!(row.varbinds[0].name, "IF-MIB::ifIndex.3");
        assert!(row.varbinds[1].value.len() <= MAX_VALUE_BYTES + 3);
        assert!(is_link_change(&n));
        assert_eq!(name(&mibs, &[1, 3, 6, 1, 6, 3, 1, 1, 5, 1]), "coldStart");
    }
}
