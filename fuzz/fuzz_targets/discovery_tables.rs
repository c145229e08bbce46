//! Fuzz target: discovery from walked varbinds to a topology. The input is
//! decoded (by the small decoder below, not by BER) into up to four agents'
//! varbind lists whose OIDs sit under the real table prefixes of
//! `discovery::oids` (system, snmpEngineID, IF-MIB ifTable/ifXTable/
//! ifStackTable, IP-MIB address and ARP tables, LLDP-MIB local, port,
//! remote and remote management address tables, CISCO-CDP-MIB cache,
//! BRIDGE/Q-BRIDGE FDB), with hostile indexes (any length, arcs above 255,
//! huge length prefixes) and values (every SNMP type, invalid UTF-8, NULs,
//! binary MACs, odd subtypes). Each list goes through `parse_device` and
//! `parse_neighbors` (`report_from_varbinds`), the reports through the
//! identity merge (`merge_same_devices`), link resolution and FDB placement
//! (`build_topology`) and `add_ping_only`. Nothing may panic, and the
//! topology must hang together: device ids unique, every link endpoint a
//! known device, link ids unique, evidence non-empty, confidence in 0..=1.
#![no_main]
use async_snmp::{Oid, Value, VarBind};
use libfuzzer_sys::fuzz_target;
use nocmap::discovery::identity::merge_same_devices;
use nocmap::discovery::links::{add_ping_only, build_topology};
use nocmap::discovery::{oids, report_from_varbinds};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

const PREFIXES: &[&[u32]] = &[
    oids::SYSTEM,
    oids::SNMP_ENGINE_ID,
    oids::IF_ENTRY,
    oids::IFX_ENTRY,
    oids::IF_STACK_STATUS,
    oids::IP_ADDRESS_ENTRY,
    oids::IP_ADDR_ENTRY,
    oids::IP_NET_TO_PHYSICAL_ENTRY,
    oids::IP_NET_TO_MEDIA_ENTRY,
    oids::LLDP_LOC,
    oids::LLDP_LOC_PORT_ENTRY,
    oids::LLDP_REM_ENTRY,
    oids::LLDP_REM_MAN_ADDR_ENTRY,
    oids::CDP_CACHE_ENTRY,
    oids::DOT1D_BASE_PORT_IF_INDEX,
    oids::DOT1D_TP_FDB_ENTRY,
    oids::DOT1Q_TP_FDB_ENTRY,
];

/// A cursor over the input; every read past the end gives zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        b.to_vec()
    }
    /// Small arcs are one byte (octets, columns, ifIndexes); 0xf0..=0xff
    /// announce a full 32-bit arc.
    fn arc(&mut self) -> u32 {
        match self.byte() {
            b @ 0..=0xef => u32::from(b),
            _ => self.u32(),
        }
    }
    fn arcs(&mut self) -> Vec<u32> {
        let n = self.byte() % 24;
        (0..n).map(|_| self.arc()).collect()
    }
    fn value(&mut self) -> Value {
        match self.byte() % 14 {
            0 => Value::Integer(i32::from(self.byte() as i8)),
            1 => Value::Integer(self.u32() as i32),
            2 | 3 => {
                let n = usize::from(self.byte());
                Value::OctetString(self.bytes(n).into())
            }
            4 => Value::ObjectIdentifier(Oid::from_slice(&self.arcs())),
            5 => Value::IpAddress([self.byte(), self.byte(), self.byte(), self.byte()]),
            6 => Value::Counter32(self.u32()),
            7 => Value::Gauge32(self.u32()),
            8 => Value::TimeTicks(self.u32()),
            9 => Value::Counter64(u64::from(self.u32()) << 32 | u64::from(self.u32())),
            10 => Value::Null,
            11 => Value::NoSuchInstance,
            12 => Value::EndOfMibView,
            _ => {
                let n = usize::from(self.byte());
                Value::Opaque(self.bytes(n).into())
            }
        }
    }
}

fn agents(data: &[u8]) -> Vec<(Option<IpAddr>, Vec<VarBind>)> {
    let mut input = Input(data);
    let mut out: Vec<(Option<IpAddr>, Vec<VarBind>)> = Vec::new();
    let mut vbs = Vec::new();
    let mut addr = None;
    while !input.0.is_empty() {
        let op = input.byte();
        if usize::from(op) >= PREFIXES.len() * 8 {
            // The next agent; its address (or none) from one byte.
            out.push((addr, std::mem::take(&mut vbs)));
            if out.len() == 4 {
                return out;
            }
            let a = input.byte();
            addr = (a != 0).then(|| IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)));
            continue;
        }
        let prefix = PREFIXES[usize::from(op) % PREFIXES.len()];
        let mut oid = prefix.to_vec();
        // Mostly a column then an index; sometimes a bare index.
        if op < PREFIXES.len() as u8 * 7 {
            oid.push(u32::from(input.byte() % 24));
        }
        oid.extend(input.arcs());
        vbs.push(VarBind::new(Oid::from_slice(&oid), input.value()));
    }
    out.push((addr, vbs));
    out
}

fuzz_target!(|data: &[u8]| {
    let reports: Vec<_> = agents(data)
        .into_iter()
        .map(|(addr, vbs)| report_from_varbinds(addr, &vbs))
        .collect();
    let n = reports.len();
    let merged = merge_same_devices(reports.clone());
    assert!(!merged.is_empty() && merged.len() <= n);
    let mut topo = build_topology(&merged);
    let alive: Vec<IpAddr> = (1..=3)
        .map(|a| IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)))
        .collect();
    add_ping_only(&mut topo, &merged, &alive);

    let ids: BTreeSet<_> = topo.devices.iter().map(|d| &d.id).collect();
    assert_eq!(ids.len(), topo.devices.len(), "duplicate device ids");
    let mut link_ids = BTreeSet::new();
    for l in &topo.links {
        assert!(
            ids.contains(&l.a.device),
            "link {} names unknown {}",
            l.id,
            l.a.device
        );
        assert!(
            ids.contains(&l.b.device),
            "link {} names unknown {}",
            l.id,
            l.b.device
        );
        assert!(link_ids.insert(&l.id), "duplicate link id {}", l.id);
        assert!(!l.evidence.is_empty(), "link {} without evidence", l.id);
        assert!(
            (0.0..=1.0).contains(&l.confidence),
            "confidence {}",
            l.confidence
        );
    }
});
