//! Parsers for the device's own tables: system group, snmpEngineID,
//! ifTable + ifXTable, ipAddressTable (ipAddrTable as fallback). Pure.
use super::oids;
use super::report::{AddressEntry, DeviceReport, SystemInfo};
use crate::snmp::table::{int, ipv4_index, mac, rows, scalars, take_inet_address, text};
use crate::topology::Interface;
use crate::types::{IfIndex, OperStatus};
use async_snmp::{Value, VarBind};
use std::net::IpAddr;

pub fn system(vbs: &[VarBind]) -> SystemInfo {
    let s = scalars(oids::SYSTEM, vbs);
    SystemInfo {
        descr: text(s.get(&1)),
        object_id: s.get(&2).and_then(|v| v.as_oid()).map(|o| o.to_string()),
        uptime_ticks: match s.get(&3) {
            Some(Value::TimeTicks(t)) => Some(*t),
            _ => None,
        },
        contact: text(s.get(&4)),
        name: text(s.get(&5)),
        location: text(s.get(&6)),
    }
}

pub fn engine_id(vbs: &[VarBind]) -> Option<String> {
    let vb = vbs.iter().find(|v| v.oid.arcs() == oids::SNMP_ENGINE_ID)?;
    let b = vb.value.as_bytes()?;
    if b.is_empty() {
        return None;
    }
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

pub fn interfaces(vbs: &[VarBind]) -> Vec<Interface> {
    let if_rows = rows(oids::IF_ENTRY, vbs);
    let ifx_rows = rows(oids::IFX_ENTRY, vbs);
    let mut out = Vec::new();
    for (index, cols) in &if_rows {
        let [if_index] = index.as_slice() else {
            continue;
        };
        let ifx = ifx_rows.get(index);
        let descr = text(cols.get(&2));
        let name = ifx
            .and_then(|x| text(x.get(&1)))
            .filter(|s| !s.is_empty())
            .or_else(|| descr.clone())
            .unwrap_or_else(|| format!("ifIndex{if_index}"));
        // ifHighSpeed (Mb/s) when ifSpeed saturates or is absent. Both are
        // Gauge32: a value of any other range (a Counter64, a negative
        // Integer) is garbage and ignored rather than wrapped.
        let high = ifx
            .and_then(|x| int(x.get(&15)))
            .and_then(|h| u32::try_from(h).ok())
            .filter(|&h| h > 0)
            .map(|h| u64::from(h) * 1_000_000);
        let low = int(cols.get(&5))
            .and_then(|s| u32::try_from(s).ok())
            .map(u64::from);
        let speed = match (low, high) {
            (Some(l), Some(h)) if l >= 4_294_967_295 => Some(h),
            (Some(l), _) if l > 0 => Some(l),
            (_, h) => h,
        };
        out.push(Interface {
            if_index: IfIndex(*if_index),
            name,
            descr,
            alias: ifx.and_then(|x| text(x.get(&18))).filter(|s| !s.is_empty()),
            speed_bps: speed,
            mac: cols.get(&6).and_then(|v| v.as_bytes()).and_then(mac),
            oper_status: int(cols.get(&8)).map(OperStatus::from_mib),
            admin_status: int(cols.get(&7)).map(OperStatus::from_mib),
            if_type: int(cols.get(&3)).and_then(|t| u32::try_from(t).ok()),
        });
    }
    out
}

/// Addresses from ipAddressTable; ipAddrTable when the former is empty.
pub fn addresses(vbs: &[VarBind]) -> Vec<AddressEntry> {
    let mut out = Vec::new();
    for (index, cols) in rows(oids::IP_ADDRESS_ENTRY, vbs) {
        let Some((addr, rest)) = take_inet_address(&index) else {
            continue;
        };
        if !rest.is_empty() {
            continue;
        }
        // ipAddressPrefix is a RowPointer whose last arc is the prefix length.
        let prefix_len = cols
            .get(&5)
            .and_then(|v| v.as_oid())
            .and_then(|o| o.arcs().last().copied())
            .and_then(|p| u8::try_from(p).ok())
            .filter(|&p| p > 0);
        let if_index = int(cols.get(&3))
            .and_then(|i| u32::try_from(i).ok())
            .map(IfIndex);
        out.push(AddressEntry {
            addr,
            if_index,
            prefix_len,
        });
    }
    if out.is_empty() {
        for (index, cols) in rows(oids::IP_ADDR_ENTRY, vbs) {
            let Some(a) = ipv4_index(&index) else {
                continue;
            };
            let mask = cols
                .get(&3)
                .and_then(|v| v.as_ip())
                .map(|m| u32::from(m).count_ones() as u8);
            let if_index = int(cols.get(&2))
                .and_then(|i| u32::try_from(i).ok())
                .map(IfIndex);
            out.push(AddressEntry {
                addr: IpAddr::V4(a),
                if_index,
                prefix_len: mask,
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// ifStackTable rows (active or not), without the 0 "nothing above/below" rows.
pub fn stack(vbs: &[VarBind]) -> Vec<(IfIndex, IfIndex)> {
    let mut out: Vec<(IfIndex, IfIndex)> = vbs
        .iter()
        .filter_map(|v| match v.oid.arcs().strip_prefix(oids::IF_STACK_STATUS) {
            Some([h, l]) if *h != 0 && *l != 0 => Some((IfIndex(*h), IfIndex(*l))),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Fill a report's own-device fields from the walked varbinds.
/// Interfaces kept per device (the lowest ifIndexes). Every interface kept
/// is in the topology, the API answers and the map, and is polled every
/// interval (one GET per two interfaces, ~11 stored samples each); a
/// 100,000-row ifTable (hostile, or a BNG listing each subscriber) would
/// cost hundreds of MiB and a poll that never ends within its interval.
pub const MAX_INTERFACES: usize = 10_000;

pub fn fill(report: &mut DeviceReport, vbs: &[VarBind]) {
    report.stack = stack(vbs);
    report.system = system(vbs);
    report.engine_id = engine_id(vbs);
    report.interfaces = interfaces(vbs);
    if report.interfaces.len() > MAX_INTERFACES {
        report.partial.push(format!(
            "ifTable: {} interfaces, only the first {MAX_INTERFACES} (lowest ifIndex) kept",
            report.interfaces.len()
        ));
        report.interfaces.truncate(MAX_INTERFACES);
        report.interfaces.shrink_to_fit();
    }
    report.addresses = addresses(vbs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::Oid;

    fn vb(entry: &[u32], col: u32, v: Value) -> VarBind {
        VarBind::new(Oid::from_slice(&[entry, &[col, 1]].concat()), v)
    }

    #[test]
    fn interfaces_are_capped_with_a_reason() {
        let n = MAX_INTERFACES as u32 + 5;
        // ifDescr of ifIndex 1..=n, sent in descending order: the lowest are kept.
        let vbs: Vec<VarBind> = (1..=n)
            .rev()
            .map(|i| {
                VarBind::new(
                    Oid::from_slice(&[oids::IF_ENTRY, &[2, i]].concat()),
                    Value::OctetString(format!("p{i}").into()),
                )
            })
            .collect();
        let mut r = DeviceReport::default();
        fill(&mut r, &vbs);
        assert_eq!(r.interfaces.len(), MAX_INTERFACES);
        assert_eq!(r.interfaces[0].if_index, IfIndex(1));
        assert_eq!(
            r.interfaces.last().unwrap().if_index,
            IfIndex(MAX_INTERFACES as u32)
        );
        assert_eq!(
            r.partial,
            vec![format!(
                "ifTable: {n} interfaces, only the first {MAX_INTERFACES} (lowest ifIndex) kept"
            )]
        );
        let mut small = DeviceReport::default();
        fill(&mut small, &vbs[..3]);
        assert_eq!((small.interfaces.len(), small.partial.len()), (3, 0));
    }

    /// Found by the `discovery_tables` fuzz target: ifHighSpeed sent as a
    /// huge Counter64 overflowed `* 1_000_000` (a panic with overflow checks,
    /// a wrapped speed without), and a negative ifSpeed became ~1.8e19 b/s.
    #[test]
    fn interface_speed_ignores_out_of_range_values() {
        let huge = vec![
            vb(oids::IF_ENTRY, 2, Value::OctetString("eth0".into())),
            vb(oids::IFX_ENTRY, 15, Value::Counter64(1 << 62)),
        ];
        assert_eq!(interfaces(&huge)[0].speed_bps, None);
        let negative = vec![
            vb(oids::IF_ENTRY, 5, Value::Integer(-1)),
            vb(oids::IFX_ENTRY, 15, Value::Gauge32(10_000)),
        ];
        assert_eq!(interfaces(&negative)[0].speed_bps, Some(10_000_000_000));
        let saturated = vec![
            vb(oids::IF_ENTRY, 5, Value::Gauge32(u32::MAX)),
            vb(oids::IFX_ENTRY, 15, Value::Gauge32(u32::MAX)),
        ];
        assert_eq!(
            interfaces(&saturated)[0].speed_bps,
            Some(u64::from(u32::MAX) * 1_000_000)
        );
    }
}
