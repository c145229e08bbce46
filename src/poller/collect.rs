//! One counter poll of a device, assembled from walked columns into
//! per-interface counter samples (HC counters where the agent has them, the
//! 32-bit ones otherwise) and oper status. Pure: the walking is in `snmp_loop`.
use crate::counters::{
    Counter, CounterSample, Counters, InexactReason, InterfaceIdentity, MonoMillis, Taken, Ticks,
};
use crate::snmp::table::{int, rows};
use crate::snmp::{Value, VarBind};
use crate::types::{IfIndex, OperStatus};
use std::collections::BTreeMap;

pub const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
const IF: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
const IFX: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];

/// ifTable and ifXTable columns read for every interface on every poll:
/// ifDescr (identity), ifOperStatus, octets, packets, errors, discards,
/// HC counters and ifCounterDiscontinuityTime.
const IF_COLUMNS: [u32; 10] = [2, 8, 10, 11, 13, 14, 16, 17, 19, 20];
const IFX_COLUMNS: [u32; 9] = [6, 7, 8, 9, 10, 11, 12, 13, 19];

/// Interfaces per GET: 19 objects each plus sysUpTime keeps a response
/// well inside 1472 bytes.
pub const CHUNK: usize = 2;

/// sysUpTime.0, then every polled column of each interface in `chunk`.
/// Everything is read with GETs sent together (no walks), so all values of
/// a poll come from one load of the agent's counter cache (net-snmp caches
/// them for a few seconds) and each chunk carries its own timestamp.
pub fn poll_oids(chunk: &[IfIndex]) -> Vec<Vec<u32>> {
    let mut v = vec![SYS_UPTIME.to_vec()];
    for IfIndex(i) in chunk {
        v.extend(IF_COLUMNS.iter().map(|c| [IF, &[*c, *i]].concat()));
        v.extend(IFX_COLUMNS.iter().map(|c| [IFX, &[*c, *i]].concat()));
    }
    v
}

/// Octet counters of one interface, read together with sysUpTime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OctetReading {
    pub at: MonoMillis,
    /// When the agent took the values (set by the poll loop after its
    /// watch; unknown until then).
    pub taken: Result<Taken, InexactReason>,
    pub uptime: u32,
    pub in_octets: Option<Counter>,
    pub out_octets: Option<Counter>,
}

/// Parse the octets and sysUpTime of the answer to `poll_oids(chunk)`,
/// taken at `at` (HC counters preferred).
pub fn octet_readings(
    chunk: &[IfIndex],
    vbs: &[VarBind],
    at: MonoMillis,
) -> BTreeMap<IfIndex, OctetReading> {
    let mut out = BTreeMap::new();
    let Some(Value::TimeTicks(uptime)) = vbs
        .first()
        .filter(|v| v.oid.arcs() == SYS_UPTIME)
        .map(|v| &v.value)
    else {
        return out;
    };
    let find = |arcs: Vec<u32>| {
        vbs.iter()
            .find(|v| v.oid.arcs() == arcs.as_slice())
            .and_then(|v| counter(Some(&v.value)))
    };
    for &index in chunk {
        let i = &index.0;
        out.insert(
            index,
            OctetReading {
                at,
                taken: Err(InexactReason::RefreshUnknown),
                uptime: *uptime,
                in_octets: find([IFX, &[6, *i]].concat())
                    .or_else(|| find([IF, &[10, *i]].concat())),
                out_octets: find([IFX, &[10, *i]].concat())
                    .or_else(|| find([IF, &[16, *i]].concat())),
            },
        );
    }
    out
}

/// IANAifType softwareLoopback.
const IF_TYPE_SOFTWARE_LOOPBACK: u32 = 24;

/// The speed that bounds an interface's rates and gives its utilisation:
/// none for a software loopback, whose ifSpeed is a placeholder (net-snmp
/// reports 10 Mbit/s for `lo`, which carries far more), so its real rate
/// is not thrown away as "above speed".
pub fn usable_speed(if_type: Option<u32>, speed_bps: Option<u64>) -> Option<u64> {
    match if_type {
        Some(IF_TYPE_SOFTWARE_LOOPBACK) => None,
        _ => speed_bps,
    }
}

/// What discovery learned of an interface and the poll does not re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfStatic {
    pub name: String,
    pub phys_address: Vec<u8>,
    pub speed_bps: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolledInterface {
    pub name: String,
    pub sample: CounterSample,
    pub oper_status: Option<OperStatus>,
}

fn counter(v: Option<&Value>) -> Option<Counter> {
    match v? {
        Value::Counter32(n) => Some(Counter::C32(*n)),
        Value::Counter64(n) => Some(Counter::C64(*n)),
        _ => None,
    }
}

/// Build the samples of every interface discovery knows (others are ignored:
/// they appear in the map after the next discovery).
pub fn assemble(
    vbs: &[VarBind],
    octets: &BTreeMap<IfIndex, OctetReading>,
    statics: &BTreeMap<IfIndex, IfStatic>,
) -> Vec<PolledInterface> {
    let ift = rows(IF, vbs);
    let ifx = rows(IFX, vbs);
    let mut out = Vec::new();
    for (idx, st) in statics {
        let key = vec![idx.0];
        let (Some(i), x, Some(o)) = (ift.get(&key), ifx.get(&key), octets.get(idx)) else {
            continue;
        };
        let hc = |c: u32| x.and_then(|x| counter(x.get(&c)));
        let c32 = |c: u32| counter(i.get(&c));
        let counters = Counters {
            in_octets: o.in_octets,
            out_octets: o.out_octets,
            in_ucast_pkts: hc(7).or_else(|| c32(11)),
            out_ucast_pkts: hc(11).or_else(|| c32(17)),
            in_mcast_pkts: hc(8),
            out_mcast_pkts: hc(12),
            in_bcast_pkts: hc(9),
            out_bcast_pkts: hc(13),
            in_errors: c32(14),
            out_errors: c32(20),
            in_discards: c32(13),
            out_discards: c32(19),
        };
        let descr = crate::snmp::table::text(i.get(&2)).unwrap_or_default();
        let discontinuity = x.and_then(|x| match x.get(&19) {
            Some(Value::TimeTicks(t)) => Some(Ticks(*t)),
            _ => None,
        });
        out.push(PolledInterface {
            name: st.name.clone(),
            oper_status: int(i.get(&8)).map(OperStatus::from_mib),
            sample: CounterSample {
                at: o.at,
                sys_uptime: Ticks(o.uptime),
                discontinuity_time: discontinuity,
                if_index: *idx,
                identity: InterfaceIdentity {
                    name: descr,
                    phys_address: st.phys_address.clone(),
                },
                speed_bps: st.speed_bps,
                counters,
                taken: o.taken,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_has_no_speed_bound() {
        assert_eq!(usable_speed(Some(24), Some(10_000_000)), None);
        assert_eq!(usable_speed(Some(6), Some(10_000_000)), Some(10_000_000));
        assert_eq!(usable_speed(None, Some(1_000)), Some(1_000));
    }
    use crate::snmp::Oid;

    fn vb(base: &[u32], col: u32, idx: u32, v: Value) -> VarBind {
        VarBind::new(Oid::from_slice(&[base, &[col, idx]].concat()), v)
    }

    #[test]
    fn hc_counters_win_and_32_bit_fill_in() {
        let vbs = vec![
            vb(IF, 2, 2, Value::OctetString("eth0".into())),
            vb(IF, 8, 2, Value::Integer(1)),
            vb(IF, 14, 2, Value::Counter32(1)),
            vb(IF, 2, 3, Value::OctetString("eth1".into())),
            vb(IF, 8, 3, Value::Integer(2)),
        ];
        let mut st = BTreeMap::new();
        st.insert(
            IfIndex(2),
            IfStatic {
                name: "eth0".into(),
                phys_address: vec![2, 0, 0, 0, 0, 1],
                speed_bps: Some(1_000_000_000),
            },
        );
        st.insert(
            IfIndex(3),
            IfStatic {
                name: "eth1".into(),
                phys_address: vec![],
                speed_bps: None,
            },
        );
        st.insert(
            IfIndex(9),
            IfStatic {
                name: "gone".into(),
                phys_address: vec![],
                speed_bps: None,
            },
        );
        let octet_vbs = vec![
            VarBind::new(Oid::from_slice(SYS_UPTIME), Value::TimeTicks(4242)),
            vb(IFX, 6, 2, Value::Counter64(5_000_000_000)),
            vb(IF, 10, 2, Value::Counter32(5)),
            vb(IF, 16, 2, Value::Counter32(6)),
            vb(IFX, 6, 3, Value::NoSuchInstance),
            vb(IF, 10, 3, Value::Counter32(77)),
        ];
        let mut octets = octet_readings(&[IfIndex(2), IfIndex(3)], &octet_vbs, MonoMillis(10));
        assert_eq!(poll_oids(&[IfIndex(2), IfIndex(3)]).len(), 1 + 2 * 19);
        octets.extend(octet_readings(&[IfIndex(9)], &octet_vbs, MonoMillis(10)));
        let p = assemble(&vbs, &octets, &st);
        assert_eq!(
            p.len(),
            2,
            "an interface the agent no longer has is left out"
        );
        assert_eq!(
            p[0].sample.counters.in_octets,
            Some(Counter::C64(5_000_000_000))
        );
        assert_eq!(p[0].sample.counters.out_octets, Some(Counter::C32(6)));
        assert_eq!(p[0].sample.counters.in_errors, Some(Counter::C32(1)));
        assert_eq!(p[0].oper_status, Some(OperStatus::Up));
        assert_eq!(p[0].sample.identity.name, "eth0");
        assert_eq!(p[1].sample.counters.in_octets, Some(Counter::C32(77)));
        assert_eq!(p[1].oper_status, Some(OperStatus::Down));
        assert_eq!(p[1].sample.sys_uptime, Ticks(4242));
    }
}
