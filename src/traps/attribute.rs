//! Which device a notification is about, and how we know. Pure: the
//! topology is handed in. In order, the first that names exactly one
//! device decides:
//!
//! 1. the sender's address (the datagram's source);
//! 2. the agent's address it carries: the v1 agent-addr field, then the
//!    `snmpTrapAddress.0` varbind (SNMP-COMMUNITY-MIB, RFC 3584 §3.1) that
//!    proxies, trap forwarders and v1→v2 translators add — both name the
//!    agent behind a relay or a NAT;
//! 3. the engine id (SNMPv3): the scoped PDU's contextEngineID (a proxy
//!    keeps the originator's), then a trap's msgAuthoritativeEngineID (the
//!    sending engine's own id; an inform's is ours, so never used),
//!    against the snmpEngineID discovery read from each device.
//!
//! An engine id several devices share (cloned VM images, agents started in
//! the same second, recordings served by one simulator) identifies none of
//! them: the first engine id any device holds decides, and a shared one
//! leaves the event unattributed with that reason, never on a guess.
use super::decode::Notification;
use crate::topology::{DeviceId, Topology};
use crate::util::hex;
use async_snmp::Value;
use std::net::IpAddr;

/// SNMP-COMMUNITY-MIB snmpTrapAddress.0.
pub const SNMP_TRAP_ADDRESS_0: [u32; 10] = [1, 3, 6, 1, 6, 3, 18, 1, 3, 0];
/// Devices named at most in an unattributed reason (the rest counted).
const NAMED: usize = 4;

/// How an event was tied to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Source,
    AgentAddr,
    TrapAddress,
    EngineId,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Source => "source",
            MatchedBy::AgentAddr => "agent_addr",
            MatchedBy::TrapAddress => "snmp_trap_address",
            MatchedBy::EngineId => "engine_id",
        }
    }
}

/// The outcome: a device and how, or none and, when something named
/// several devices, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    Device(DeviceId, MatchedBy),
    Unattributed(Option<String>),
}

impl Attribution {
    pub fn device(&self) -> Option<&DeviceId> {
        match self {
            Attribution::Device(d, _) => Some(d),
            Attribution::Unattributed(_) => None,
        }
    }
}

/// The devices that own `addr`.
fn owners(topology: &Topology, addr: IpAddr) -> Vec<&DeviceId> {
    topology
        .devices
        .iter()
        .filter(|d| d.mgmt_addr == Some(addr) || d.addresses.contains(&addr))
        .map(|d| &d.id)
        .collect()
}

fn one(found: Vec<&DeviceId>) -> Option<DeviceId> {
    match found.as_slice() {
        [d] => Some((*d).clone()),
        _ => None,
    }
}

/// The snmpTrapAddress.0 varbind's address, when it is an IpAddress.
pub fn trap_address(n: &Notification) -> Option<IpAddr> {
    n.varbinds
        .iter()
        .find(|vb| vb.oid.arcs() == SNMP_TRAP_ADDRESS_0)
        .and_then(|vb| match &vb.value {
            Value::IpAddress(a) => Some(IpAddr::from(*a)),
            _ => None,
        })
}

/// The engine ids the notification names, in the order they are tried.
fn engine_ids(n: &Notification) -> Vec<String> {
    let mut ids: Vec<String> = [&n.context_engine_id, &n.sender_engine_id]
        .into_iter()
        .flatten()
        .filter(|id| !id.is_empty())
        .map(|id| hex::encode(id))
        .collect();
    ids.dedup();
    ids
}

/// Which device sent it, and how we know.
pub fn attribute(topology: &Topology, source: IpAddr, n: &Notification) -> Attribution {
    if let Some(d) = one(owners(topology, source)) {
        return Attribution::Device(d, MatchedBy::Source);
    }
    let agent = n
        .agent_addr
        .filter(|a| !a.is_unspecified())
        .map(|a| (IpAddr::V4(a), MatchedBy::AgentAddr));
    let relayed = trap_address(n)
        .filter(|a| !a.is_unspecified())
        .map(|a| (a, MatchedBy::TrapAddress));
    for (addr, how) in agent.into_iter().chain(relayed) {
        if let Some(d) = one(owners(topology, addr)) {
            return Attribution::Device(d, how);
        }
    }
    for id in engine_ids(n) {
        let holders: Vec<&DeviceId> = topology
            .devices
            .iter()
            .filter(|d| d.engine_id.as_deref() == Some(id.as_str()))
            .map(|d| &d.id)
            .collect();
        match holders.as_slice() {
            [] => continue,
            [d] => return Attribution::Device((*d).clone(), MatchedBy::EngineId),
            many => return Attribution::Unattributed(Some(shared(&id, many))),
        }
    }
    Attribution::Unattributed(None)
}

fn shared(id: &str, holders: &[&DeviceId]) -> String {
    let mut named: Vec<&str> = holders.iter().take(NAMED).map(|d| d.0.as_str()).collect();
    let more = holders.len().saturating_sub(NAMED);
    let more_text = format!("{more} more");
    if more > 0 {
        named.push(&more_text);
    }
    format!(
        "engine id {id} is shared by {} devices ({}): not used to attribute",
        holders.len(),
        named.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traps::decode::{TrapKind, TrapVersion};
    use async_snmp::{Oid, VarBind};

    fn trap(agent: Option<&str>, trap_addr: Option<&str>, engine: Option<&str>) -> Notification {
        let mut varbinds = vec![VarBind::new(
            Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 3]),
            Value::Integer(3),
        )];
        if let Some(a) = trap_addr {
            let a: std::net::Ipv4Addr = a.parse().unwrap();
            varbinds.push(VarBind::new(
                Oid::from_slice(&SNMP_TRAP_ADDRESS_0),
                Value::IpAddress(a.octets()),
            ));
        }
        let engine = engine.map(|e| hex::parse(e).unwrap());
        Notification {
            version: if engine.is_some() {
                TrapVersion::V3
            } else {
                TrapVersion::V2c
            },
            kind: TrapKind::Trap,
            community: b"public".to_vec(),
            request_id: 1,
            trap_oid: vec![1, 3, 6, 1, 6, 3, 1, 1, 5, 3],
            agent_addr: agent.map(|a| a.parse().unwrap()),
            uptime: 1,
            varbinds,
            more: 0,
            context_engine_id: engine.clone(),
            sender_engine_id: engine,
        }
    }

    fn topo() -> Topology {
        serde_json::from_value(serde_json::json!({
            "devices": [
                {"id": "r1", "mgmt_addr": "127.0.0.11", "addresses": ["127.0.0.11", "127.0.0.12"],
                 "engine_id": "80001f8880aa000001", "interfaces": []},
                {"id": "r2", "mgmt_addr": "127.0.0.21", "engine_id": "80001f8880bb000002", "interfaces": []},
                {"id": "c1", "mgmt_addr": "127.0.0.31", "engine_id": "80001f8880cc00c10e", "interfaces": []},
                {"id": "c2", "mgmt_addr": "127.0.0.32", "engine_id": "80001f8880cc00c10e", "interfaces": []},
                {"id": "c3", "mgmt_addr": "127.0.0.33", "engine_id": "80001f8880cc00c10e", "interfaces": []}
            ],
            "links": []
        }))
        .unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn dev(id: &str, how: MatchedBy) -> Attribution {
        Attribution::Device(DeviceId(id.into()), how)
    }

    #[test]
    fn source_first_then_agent_addr_then_snmp_trap_address() {
        let t = topo();
        // The source wins over everything the datagram says.
        let n = trap(
            Some("127.0.0.21"),
            Some("127.0.0.21"),
            Some("80001f8880bb000002"),
        );
        assert_eq!(
            attribute(&t, ip("127.0.0.12"), &n),
            dev("r1", MatchedBy::Source)
        );
        // From a relay: the v1 agent-addr, then snmpTrapAddress.0.
        let relay = ip("127.0.0.99");
        let n = trap(Some("127.0.0.21"), Some("127.0.0.11"), None);
        assert_eq!(attribute(&t, relay, &n), dev("r2", MatchedBy::AgentAddr));
        let n = trap(Some("0.0.0.0"), Some("127.0.0.11"), None);
        assert_eq!(attribute(&t, relay, &n), dev("r1", MatchedBy::TrapAddress));
        let n = trap(None, Some("127.0.0.11"), None);
        assert_eq!(attribute(&t, relay, &n), dev("r1", MatchedBy::TrapAddress));
        assert_eq!(
            attribute(&t, relay, &trap(None, None, None)),
            Attribution::Unattributed(None)
        );
    }

    #[test]
    fn a_unique_engine_id_attributes_after_the_addresses() {
        let t = topo();
        let relay = ip("127.0.0.99");
        let n = trap(None, None, Some("80001f8880bb000002"));
        assert_eq!(attribute(&t, relay, &n), dev("r2", MatchedBy::EngineId));
        // An address that names a device comes before the engine id.
        let n = trap(None, Some("127.0.0.11"), Some("80001f8880bb000002"));
        assert_eq!(attribute(&t, relay, &n), dev("r1", MatchedBy::TrapAddress));
        // The contextEngineID (the originator behind a proxy) before the
        // sending engine's own id.
        let mut n = trap(None, None, Some("80001f8880bb000002"));
        n.context_engine_id = hex::parse("80001f8880aa000001");
        assert_eq!(attribute(&t, relay, &n), dev("r1", MatchedBy::EngineId));
        // An engine id no device holds: the next one is tried.
        n.context_engine_id = hex::parse("8000000001020304");
        assert_eq!(attribute(&t, relay, &n), dev("r2", MatchedBy::EngineId));
        // Unknown everywhere: unattributed, nothing to tell.
        n.sender_engine_id = hex::parse("8000000001020304");
        assert_eq!(attribute(&t, relay, &n), Attribution::Unattributed(None));
    }

    #[test]
    fn a_shared_engine_id_never_attributes_and_says_why() {
        let t = topo();
        let n = trap(None, None, Some("80001f8880cc00c10e"));
        let Attribution::Unattributed(Some(why)) = attribute(&t, ip("127.0.0.99"), &n) else {
            panic!("a shared engine id attributed the trap");
        };
        assert_eq!(
            why,
            "engine id 80001f8880cc00c10e is shared by 3 devices (c1, c2, c3): not used to attribute"
        );
        // Even when the next engine id is unique: the first held decides.
        let mut n = n;
        n.sender_engine_id = hex::parse("80001f8880bb000002");
        assert!(matches!(
            attribute(&t, ip("127.0.0.99"), &n),
            Attribution::Unattributed(Some(_))
        ));
        // The sender's own address still attributes it.
        assert_eq!(
            attribute(&t, ip("127.0.0.32"), &n),
            dev("c2", MatchedBy::Source)
        );
        let many: Vec<DeviceId> = (0..6).map(|i| DeviceId(format!("d{i}"))).collect();
        let refs: Vec<&DeviceId> = many.iter().collect();
        assert!(shared("80", &refs).contains("6 devices (d0, d1, d2, d3, 2 more)"));
    }
}
