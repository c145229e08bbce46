//! A decoded notification → the event stored on its device. Pure: the
//! MIBs and the time are handed in; the device and how it was found come
//! from `attribute.rs` (an unattributed event keeps the reason, when there
//! is one, in `matched_by`). Names come from the
//! MIBs (`linkDown`, vendor notifications where a MIB is loaded), values
//! are rendered as text and bounded: device strings are data.
use super::attribute::Attribution;
use super::decode::Notification;
use crate::mib::{Mibs, format_numeric};
use crate::store::{EventRow, EventVarbind};
use crate::types::UnixMillis;
use std::net::IpAddr;

/// Bytes of one varbind's value text kept (cut at a character boundary).
pub const MAX_VALUE_BYTES: usize = 1_024;

/// IF-MIB's ifEntry: a varbind under it names its interface by the last arc.
const IF_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 2, 2, 1];
/// snmpTraps: linkDown is .3, linkUp .4.
const LINK_DOWN: [u32; 10] = [1, 3, 6, 1, 6, 3, 1, 1, 5, 3];
const LINK_UP: [u32; 10] = [1, 3, 6, 1, 6, 3, 1, 1, 5, 4];

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
    matched: Attribution,
    mibs: &Mibs,
    at: UnixMillis,
) -> EventRow {
    let (device, matched_by) = match matched {
        Attribution::Device(d, m) => (Some(d.0), Some(m.as_str().to_string())),
        Attribution::Unattributed(why) => (None, why.map(|w| format!("unattributed: {w}"))),
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
            context_engine_id: None,
            sender_engine_id: None,
        }
    }

    #[test]
    fn the_row_says_how_it_was_matched_or_why_not_and_is_named_from_the_mibs() {
        use crate::topology::DeviceId;
        use crate::traps::attribute::MatchedBy;
        let n = link_down(Some("127.0.0.21"));
        let src: IpAddr = "127.0.0.12".parse().unwrap();
        let mibs = Mibs::bundled();
        let by = Attribution::Device(DeviceId("r1".into()), MatchedBy::Source);
        let row = event_row(&n, src, by, &mibs, UnixMillis(5));
        assert_eq!(row.device.as_deref(), Some("r1"));
        assert_eq!(row.matched_by.as_deref(), Some("source"));
        assert_eq!(row.name, "linkDown");
        assert_eq!(row.if_index, Some(3));
        assert_eq!(row.varbinds[0].name, "IF-MIB::ifIndex.3");
        assert!(row.varbinds[1].value.len() <= MAX_VALUE_BYTES + 3);
        assert!(is_link_change(&n));
        assert_eq!(name(&mibs, &[1, 3, 6, 1, 6, 3, 1, 1, 5, 1]), "coldStart");
        let why = Attribution::Unattributed(Some("engine id 80 is shared".into()));
        let row = event_row(&n, src, why, &mibs, UnixMillis(5));
        assert_eq!(row.device, None);
        assert_eq!(
            row.matched_by.as_deref(),
            Some("unattributed: engine id 80 is shared")
        );
        let row = event_row(
            &n,
            src,
            Attribution::Unattributed(None),
            &mibs,
            UnixMillis(5),
        );
        assert_eq!((row.device, row.matched_by), (None, None));
    }
}
