//! Reading one agent: the walks discovery needs, run concurrently under the
//! engine's per-agent cap, collected into one flat varbind list plus the
//! reasons of any table read only in part. The only SNMP I/O of discovery.
use super::oids;
use super::report::DeviceReport;
use crate::snmp::{AgentSession, Oid, VarBind, WalkEnd, WalkStop};
use futures::future::join_all;

fn col(entry: &[u32], c: u32) -> Vec<u32> {
    let mut v = entry.to_vec();
    v.push(c);
    v
}

/// The subtrees walked on every agent, in a fixed order.
fn subtrees() -> Vec<(&'static str, Vec<u32>)> {
    let mut t: Vec<(&'static str, Vec<u32>)> = vec![("system", oids::SYSTEM.to_vec())];
    for c in [2, 3, 5, 6, 7, 8] {
        t.push(("ifTable", col(oids::IF_ENTRY, c)));
    }
    for c in [1, 15, 18] {
        t.push(("ifXTable", col(oids::IFX_ENTRY, c)));
    }
    t.push(("ifStackTable", oids::IF_STACK_STATUS.to_vec()));
    t.push(("ipAddressTable", col(oids::IP_ADDRESS_ENTRY, 3)));
    t.push(("ipAddressTable", col(oids::IP_ADDRESS_ENTRY, 5)));
    t.push(("lldpLocal", oids::LLDP_LOC.to_vec()));
    t.push(("lldpRemTable", oids::LLDP_REM_ENTRY.to_vec()));
    t.push((
        "lldpRemManAddrTable",
        oids::LLDP_REM_MAN_ADDR_ENTRY.to_vec(),
    ));
    t.push(("cdpCacheTable", oids::CDP_CACHE_ENTRY.to_vec()));
    for c in super::hardware::WALKED_COLUMNS {
        t.push((
            "entPhysicalTable",
            col(crate::vitals::ENT_PHYSICAL_ENTRY, c),
        ));
    }
    t.push((
        "ipNetToPhysicalTable",
        col(oids::IP_NET_TO_PHYSICAL_ENTRY, 4),
    ));
    t.push((
        "ipNetToPhysicalTable",
        col(oids::IP_NET_TO_PHYSICAL_ENTRY, 6),
    ));
    t.push((
        "dot1dBasePortTable",
        oids::DOT1D_BASE_PORT_IF_INDEX.to_vec(),
    ));
    for c in [2, 3] {
        t.push(("dot1dTpFdbTable", col(oids::DOT1D_TP_FDB_ENTRY, c)));
        t.push(("dot1qTpFdbTable", col(oids::DOT1Q_TP_FDB_ENTRY, c)));
    }
    for c in [4, 5] {
        t.push((
            "dot1qVlanCurrentTable",
            col(oids::DOT1Q_VLAN_CURRENT_ENTRY, c),
        ));
    }
    t
}

/// Fallback tables, walked only when the modern table came back empty.
fn fallbacks(vbs: &[VarBind]) -> Vec<(&'static str, Vec<u32>)> {
    let has = |prefix: &[u32]| vbs.iter().any(|v| v.oid.arcs().starts_with(prefix));
    let mut t = Vec::new();
    if !has(oids::IP_ADDRESS_ENTRY) {
        t.push(("ipAddrTable", oids::IP_ADDR_ENTRY.to_vec()));
    }
    if !has(oids::IP_NET_TO_PHYSICAL_ENTRY) {
        t.push(("ipNetToMediaTable", col(oids::IP_NET_TO_MEDIA_ENTRY, 2)));
        t.push(("ipNetToMediaTable", col(oids::IP_NET_TO_MEDIA_ENTRY, 4)));
    }
    // A bridge without the current VLAN table may have the static one.
    if !has(oids::DOT1Q_VLAN_CURRENT_ENTRY) && has(oids::DOT1D_BASE_PORT_IF_INDEX) {
        for c in [2, 4] {
            t.push((
                "dot1qVlanStaticTable",
                col(oids::DOT1Q_VLAN_STATIC_ENTRY, c),
            ));
        }
    }
    t
}

/// Walk `trees` concurrently (the engine's per-agent cap applies). Tables
/// that time out are walked once more after the others, one at a time, so a
/// briefly starved agent (or AgentX subagent) does not lose a whole table;
/// whatever still fails is recorded as partial with its reason.
async fn walk_all(
    session: &dyn AgentSession,
    trees: &[(&'static str, Vec<u32>)],
    vbs: &mut Vec<VarBind>,
    partial: &mut Vec<String>,
    holds: &mut Holds,
) {
    let results = join_all(
        trees
            .iter()
            .map(|(_, arcs)| async move { session.walk(&Oid::from_slice(arcs)).await }),
    )
    .await;
    let mut retry = Vec::new();
    let all_failed = results
        .iter()
        .all(|r| matches!(r, Err(e) if e.is_timeout()));
    for ((name, arcs), r) in trees.iter().zip(results) {
        let timed_out = match &r {
            Err(e) => e.is_timeout(),
            Ok(w) => matches!(w.end, WalkEnd::Partial(WalkStop::Timeout { .. })),
        };
        // An agent that answered nothing at all is not retried table by table.
        if timed_out && !all_failed {
            retry.push((*name, arcs, r));
        } else {
            keep(name, r, vbs, partial, holds);
        }
    }
    for (name, arcs, first) in retry {
        tracing::debug!(target = %session.target(), table = name, "walking again after a timeout");
        let again = session.walk(&Oid::from_slice(arcs)).await;
        // Keep the second try when it is complete or got further; else the first.
        let rows = |r: &Result<crate::snmp::WalkResult, crate::snmp::SnmpError>| {
            r.as_ref().map_or(0, |w| w.varbinds.len())
        };
        let better = matches!(&again, Ok(w) if w.is_complete()) || rows(&again) > rows(&first);
        keep(
            name,
            if better { again } else { first },
            vbs,
            partial,
            holds,
        );
    }
}

/// The walks' shares of the engine's varbind budget, held until the
/// device's varbinds are parsed.
type Holds = Vec<std::sync::Arc<crate::snmp::WalkHold>>;

fn keep(
    name: &str,
    r: Result<crate::snmp::WalkResult, crate::snmp::SnmpError>,
    vbs: &mut Vec<VarBind>,
    partial: &mut Vec<String>,
    holds: &mut Holds,
) {
    match r {
        Ok(w) => {
            if let WalkEnd::Partial(stop) = &w.end {
                partial.push(format!("{name}: {stop}"));
            }
            holds.extend(w.hold);
            vbs.extend(w.varbinds);
        }
        Err(e) => partial.push(format!("{name}: {e}")),
    }
}

/// Walk everything discovery reads from one agent and parse it.
pub async fn read_device(session: &dyn AgentSession) -> (DeviceReport, Vec<VarBind>) {
    let mut vbs = Vec::new();
    let mut partial = Vec::new();
    let mut holds = Holds::new();
    walk_all(session, &subtrees(), &mut vbs, &mut partial, &mut holds).await;
    let more = fallbacks(&vbs);
    walk_all(session, &more, &mut vbs, &mut partial, &mut holds).await;
    // snmpEngineID.0 (SNMP-FRAMEWORK-MIB); an SNMPv3 agent that does not
    // serve it is still known by the engine id its engine discovery gave.
    let engine = session.get(&[Oid::from_slice(oids::SNMP_ENGINE_ID)]).await;
    let discovered = session.discovered_engine_id();
    if let Ok(e) = engine {
        vbs.extend(e);
    }
    // The chassis row's model, serial and revisions, one GET.
    if let Some(index) = super::hardware::chassis_index(&vbs) {
        match session.get(&super::hardware::chassis_oids(index)).await {
            Ok(got) => vbs.extend(got),
            Err(e) => partial.push(format!("entPhysicalTable chassis row {index}: {e}")),
        }
    }
    let mut report = super::report_from_varbinds(Some(session.target().ip()), &vbs);
    if report.engine_id.is_none() {
        report.engine_id = discovered
            .filter(|id| async_snmp::v3::validate_engine_id(id).is_ok())
            .map(|id| crate::util::hex::encode(&id));
    }
    // The walks' reasons first, then the parsers' (a table cut to its cap).
    partial.dedup();
    partial.append(&mut report.partial);
    report.partial = partial;
    (report, vbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::{SnmpError, Value, WalkResult};
    use futures::future::BoxFuture;
    use std::net::SocketAddr;

    /// An SNMPv3 agent with no tables; `served` its snmpEngineID.0, if any.
    struct V3Agent {
        served: Option<&'static [u8]>,
    }

    impl AgentSession for V3Agent {
        fn target(&self) -> SocketAddr {
            "127.0.0.1:161".parse().unwrap()
        }
        fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Vec<VarBind>, SnmpError>> {
            let value = match self.served {
                Some(id) => Value::OctetString(id.to_vec().into()),
                None => Value::NoSuchObject,
            };
            let vbs = oids
                .iter()
                .map(|o| VarBind::new(o.clone(), value.clone()))
                .collect();
            Box::pin(async move { Ok(vbs) })
        }
        fn walk<'a>(&'a self, _root: &'a Oid) -> BoxFuture<'a, Result<WalkResult, SnmpError>> {
            Box::pin(async move {
                Ok(WalkResult {
                    varbinds: vec![],
                    end: WalkEnd::Complete,
                    hold: None,
                })
            })
        }
        fn discovered_engine_id(&self) -> Option<Vec<u8>> {
            Some(b"\x80\x00\x1f\x88\x04disc".to_vec())
        }
    }

    #[tokio::test]
    async fn the_served_engine_id_else_the_one_engine_discovery_gave() {
        let served = V3Agent {
            served: Some(b"\x80\x00\x1f\x88\x04served"),
        };
        let (r, _) = read_device(&served).await;
        assert_eq!(r.engine_id.as_deref(), Some("80001f8804736572766564"));
        let (r, _) = read_device(&V3Agent { served: None }).await;
        assert_eq!(r.engine_id.as_deref(), Some("80001f880464697363"));
    }
}
