//! The BRIDGE-MIB / Q-BRIDGE-MIB view of one Linux bridge: turns a snapshot
//! of the bridge (its address, ports and `bridge -j fdb show` rows) into an
//! ordered table of OIDs and values, and answers `get` / `getnext` on it.
//!
//! Pure: values in, values out. It runs no command and reads no file or
//! clock; `bridge_agent` gathers the snapshot and speaks to snmpd.
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

/// The subtree the agent serves: BRIDGE-MIB (`dot1dBridge`, Q-BRIDGE inside).
pub const DOT1D_BRIDGE: &[u32] = &[1, 3, 6, 1, 2, 1, 17];

const BASE_BRIDGE_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 1, 0];
const BASE_NUM_PORTS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 2, 0];
const BASE_TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 3, 0];
/// dot1dBasePortEntry; columns 1 (port) and 2 (ifIndex).
const BASE_PORT_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1];
/// dot1dTpFdbEntry; columns 1 (address), 2 (port), 3 (status).
const TP_FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
/// dot1qTpFdbEntry; columns 2 (port) and 3 (status).
const Q_TP_FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1];
/// dot1qVlanCurrentEntry; index (time mark, VLAN), columns 4 (egress
/// ports) and 5 (untagged ports), PortLists.
const Q_VLAN_CURRENT_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1];
/// dot1dBaseType transparent-only(2).
const TRANSPARENT_ONLY: i64 = 2;

/// An object identifier; `Ord` on the arcs is SNMP's lexicographic order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    /// Parses `.1.3.6` or `1.3.6`; None for anything else (empty arcs,
    /// letters, numbers above u32).
    pub fn parse(s: &str) -> Option<Oid> {
        let s = s.trim();
        let s = s.strip_prefix('.').unwrap_or(s);
        if s.is_empty() {
            return None;
        }
        s.split('.')
            .map(|a| {
                if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    a.parse().ok()
                }
            })
            .collect::<Option<Vec<u32>>>()
            .map(Oid)
    }

    fn from_parts(prefix: &[u32], rest: &[u32]) -> Oid {
        Oid(prefix.iter().chain(rest).copied().collect())
    }
}

impl fmt::Display for Oid {
    /// With a leading dot, as pass_persist wants it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.0 {
            write!(f, ".{a}")?;
        }
        Ok(())
    }
}

/// A value in pass_persist terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i64),
    Octet(Vec<u8>),
}

impl Value {
    /// The TYPE and VALUE lines of a pass_persist answer.
    pub fn type_and_text(&self) -> (&'static str, String) {
        match self {
            Value::Integer(i) => ("integer", i.to_string()),
            Value::Octet(b) => (
                "octet",
                b.iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

pub type Mac = [u8; 6];

/// A bridge port number (dot1dBasePort), distinct from an ifIndex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortNo(pub u16);

/// One port of the bridge, from sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgePort {
    pub ifname: String,
    pub port: PortNo,
    /// The kernel ifindex (equals net-snmp's ifIndex).
    pub if_index: u32,
}

/// dot1dTpFdbStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdbStatus {
    Learned = 3,
    /// One of the bridge's own addresses.
    OwnAddress = 4,
    /// Configured by management (a static entry).
    Mgmt = 5,
}

/// One unicast forwarding entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbEntry {
    pub mac: Mac,
    /// 0 for an address of the bridge device itself.
    pub port: PortNo,
    pub status: FdbStatus,
    pub vlan: Option<u16>,
}

/// The ports of one VLAN: all that send it (egress), and of those the
/// ones that send it untagged; the others send it tagged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VlanPorts {
    pub egress: std::collections::BTreeSet<PortNo>,
    pub untagged: std::collections::BTreeSet<PortNo>,
}

/// What the agent knows about the bridge at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BridgeSnapshot {
    pub address: Option<Mac>,
    pub ports: Vec<BridgePort>,
    pub fdb: Vec<FdbEntry>,
    /// VLAN membership by VLAN id; empty for a bridge without VLANs (then
    /// no dot1qVlanCurrentTable is served).
    pub vlans: BTreeMap<u16, VlanPorts>,
}

/// Q-BRIDGE-MIB's PortList of `ports`: port 1 is the first octet's most
/// significant bit; as many octets as the highest port needs.
pub fn port_list(ports: &std::collections::BTreeSet<PortNo>) -> Vec<u8> {
    let len = ports
        .iter()
        .map(|p| usize::from(p.0).div_ceil(8))
        .max()
        .unwrap_or(0);
    let mut out = vec![0u8; len];
    for p in ports.iter().filter(|p| p.0 > 0) {
        let i = usize::from(p.0 - 1);
        out[i / 8] |= 0x80 >> (i % 8);
    }
    out
}

/// The whole served subtree, in OID order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MibView {
    rows: BTreeMap<Oid, Value>,
}

impl MibView {
    pub fn build(s: &BridgeSnapshot) -> MibView {
        let mut rows = BTreeMap::new();
        if let Some(mac) = s.address {
            rows.insert(
                Oid(BASE_BRIDGE_ADDRESS.to_vec()),
                Value::Octet(mac.to_vec()),
            );
        }
        rows.insert(
            Oid(BASE_NUM_PORTS.to_vec()),
            Value::Integer(s.ports.len() as i64),
        );
        rows.insert(Oid(BASE_TYPE.to_vec()), Value::Integer(TRANSPARENT_ONLY));
        for p in s.ports.iter().filter(|p| p.port.0 > 0) {
            let idx = [u32::from(p.port.0)];
            rows.insert(
                Oid::from_parts(BASE_PORT_ENTRY, &[&[1], &idx[..]].concat()),
                Value::Integer(i64::from(p.port.0)),
            );
            rows.insert(
                Oid::from_parts(BASE_PORT_ENTRY, &[&[2], &idx[..]].concat()),
                Value::Integer(i64::from(p.if_index)),
            );
        }
        for e in &s.fdb {
            let mac: Vec<u32> = e.mac.iter().map(|&b| u32::from(b)).collect();
            let col = |c: u32| Oid::from_parts(TP_FDB_ENTRY, &[&[c], &mac[..]].concat());
            // One row per MAC in the VLAN-unaware table: the first entry wins
            // (the caller sorts by VLAN).
            if !rows.contains_key(&col(1)) {
                rows.insert(col(1), Value::Octet(e.mac.to_vec()));
                rows.insert(col(2), Value::Integer(i64::from(e.port.0)));
                rows.insert(col(3), Value::Integer(e.status as i64));
            }
            let fdb_id = u32::from(e.vlan.unwrap_or(1));
            let qcol = |c: u32| Oid::from_parts(Q_TP_FDB_ENTRY, &[&[c, fdb_id], &mac[..]].concat());
            if !rows.contains_key(&qcol(2)) {
                rows.insert(qcol(2), Value::Integer(i64::from(e.port.0)));
                rows.insert(qcol(3), Value::Integer(e.status as i64));
            }
        }
        for (&vid, v) in &s.vlans {
            let col = |c: u32| Oid::from_parts(Q_VLAN_CURRENT_ENTRY, &[c, 0, u32::from(vid)]);
            rows.insert(col(4), Value::Octet(port_list(&v.egress)));
            rows.insert(col(5), Value::Octet(port_list(&v.untagged)));
        }
        MibView { rows }
    }

    pub fn get(&self, oid: &Oid) -> Option<(&Oid, &Value)> {
        self.rows.get_key_value(oid)
    }

    /// The first object strictly after `oid` (anywhere before or inside the
    /// subtree); None past the end.
    pub fn get_next(&self, oid: &Oid) -> Option<(&Oid, &Value)> {
        self.rows
            .range((Bound::Excluded(oid), Bound::Unbounded))
            .next()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// One row of `bridge -j fdb show`; every field optional so odd rows are
/// skipped, not fatal.
#[derive(Debug, Deserialize)]
struct RawFdb {
    mac: Option<String>,
    ifname: Option<String>,
    master: Option<String>,
    vlan: Option<u16>,
    state: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

/// The unicast forwarding entries of bridge `bridge` from the JSON of
/// `bridge -j fdb show br BRIDGE`, sorted by (VLAN, MAC, port).
///
/// Kept: rows that belong to the bridge (`master` = the bridge) on one of
/// its `ports` (learned, static = mgmt, permanent = the port's own address)
/// or on the bridge device itself (its own address, port 0). Dropped:
/// hardware (`self`) entries of a device, group addresses, rows on unknown
/// interfaces, and anything malformed. Bad JSON gives no entries.
pub fn parse_fdb_json(json: &str, bridge: &str, ports: &[BridgePort]) -> Vec<FdbEntry> {
    let Ok(raw) = serde_json::from_str::<Vec<serde_json::Value>>(json) else {
        return Vec::new();
    };
    let mut out: Vec<FdbEntry> = raw
        .into_iter()
        .filter_map(|v| serde_json::from_value::<RawFdb>(v).ok())
        .filter_map(|r| fdb_entry(&r, bridge, ports))
        .collect();
    out.sort_by_key(|e| (e.vlan.unwrap_or(0), e.mac, e.port));
    out.dedup_by(|a, b| a.vlan == b.vlan && a.mac == b.mac);
    out
}

fn fdb_entry(r: &RawFdb, bridge: &str, ports: &[BridgePort]) -> Option<FdbEntry> {
    if r.master.as_deref() != Some(bridge) && r.ifname.as_deref() != Some(bridge) {
        return None;
    }
    if r.flags.iter().any(|f| f == "self") && r.master.is_none() {
        return None;
    }
    let mac = parse_mac(r.mac.as_deref()?)?;
    if mac[0] & 1 == 1 || mac == [0; 6] {
        return None;
    }
    let ifname = r.ifname.as_deref()?;
    let state = r.state.as_deref().unwrap_or("");
    let (port, status) = if ifname == bridge {
        if state != "permanent" {
            return None;
        }
        (PortNo(0), FdbStatus::OwnAddress)
    } else {
        let port = ports.iter().find(|p| p.ifname == ifname)?.port;
        let status = match state {
            "permanent" => FdbStatus::OwnAddress,
            "static" => FdbStatus::Mgmt,
            "" | "stale" => FdbStatus::Learned,
            _ => return None,
        };
        (port, status)
    };
    Some(FdbEntry {
        mac,
        port,
        status,
        vlan: r.vlan.filter(|v| (1..=4094).contains(v)),
    })
}

/// Parses sysfs `port_no` (`0x1`).
pub fn parse_port_no(s: &str) -> Option<PortNo> {
    let s = s.trim();
    let hex = s.strip_prefix("0x").unwrap_or(s);
    u16::from_str_radix(hex, 16).ok().map(PortNo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        Oid::parse(s).unwrap()
    }

    fn port(ifname: &str, port: u16, if_index: u32) -> BridgePort {
        BridgePort {
            ifname: ifname.into(),
            port: PortNo(port),
            if_index,
        }
    }

    fn fake() -> MibView {
        let mac = |last: u8| [0x02, 0, 0, 0, 0, last];
        MibView::build(&BridgeSnapshot {
            vlans: BTreeMap::new(),
            address: Some(mac(1)),
            ports: vec![port("p2", 2, 12), port("p1", 1, 11)],
            fdb: vec![
                FdbEntry {
                    mac: mac(0xaa),
                    port: PortNo(2),
                    status: FdbStatus::Learned,
                    vlan: None,
                },
                FdbEntry {
                    mac: mac(1),
                    port: PortNo(1),
                    status: FdbStatus::OwnAddress,
                    vlan: None,
                },
            ],
        })
    }

    /// Walks the view with get_next from the subtree root, like snmpwalk.
    fn walk(v: &MibView) -> Vec<String> {
        let mut cur = Oid(DOT1D_BRIDGE.to_vec());
        let mut out = Vec::new();
        while let Some((o, val)) = v.get_next(&cur) {
            out.push(format!("{o} {}", val.type_and_text().1));
            cur = o.clone();
        }
        out
    }

    #[test]
    fn getnext_walks_columns_then_tables_in_oid_order() {
        let got = walk(&fake());
        let want = [
            ".1.3.6.1.2.1.17.1.1.0 02 00 00 00 00 01",
            ".1.3.6.1.2.1.17.1.2.0 2",
            ".1.3.6.1.2.1.17.1.3.0 2",
            // Port table: column 1 for every row, then column 2.
            ".1.3.6.1.2.1.17.1.4.1.1.1 1",
            ".1.3.6.1.2.1.17.1.4.1.1.2 2",
            ".1.3.6.1.2.1.17.1.4.1.2.1 11",
            ".1.3.6.1.2.1.17.1.4.1.2.2 12",
            // FDB: MAC 02:..:01 sorts before 02:..:aa (1 < 170).
            ".1.3.6.1.2.1.17.4.3.1.1.2.0.0.0.0.1 02 00 00 00 00 01",
            ".1.3.6.1.2.1.17.4.3.1.1.2.0.0.0.0.170 02 00 00 00 00 aa",
            ".1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.1 1",
            ".1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.170 2",
            ".1.3.6.1.2.1.17.4.3.1.3.2.0.0.0.0.1 4",
            ".1.3.6.1.2.1.17.4.3.1.3.2.0.0.0.0.170 3",
            ".1.3.6.1.2.1.17.7.1.2.2.1.2.1.2.0.0.0.0.1 1",
            ".1.3.6.1.2.1.17.7.1.2.2.1.2.1.2.0.0.0.0.170 2",
            ".1.3.6.1.2.1.17.7.1.2.2.1.3.1.2.0.0.0.0.1 4",
            ".1.3.6.1.2.1.17.7.1.2.2.1.3.1.2.0.0.0.0.170 3",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn getnext_from_partial_and_odd_oids() {
        let v = fake();
        let next = |s: &str| v.get_next(&oid(s)).map(|(o, _)| o.to_string());
        // A column prefix lands on its first row; a row between rows on the next.
        assert_eq!(
            next(".1.3.6.1.2.1.17.4.3.1.2").as_deref(),
            Some(".1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.1")
        );
        assert_eq!(
            next(".1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.1.5").as_deref(),
            Some(".1.3.6.1.2.1.17.4.3.1.2.2.0.0.0.0.170")
        );
        // A longer OID than any row in a gap; a partial index.
        assert_eq!(
            next(".1.3.6.1.2.1.17.2").as_deref(),
            Some(".1.3.6.1.2.1.17.4.3.1.1.2.0.0.0.0.1")
        );
        // Before the subtree: its first object; at or past the last: nothing.
        assert_eq!(
            next(".1.3.6.1.2.1.2").as_deref(),
            Some(".1.3.6.1.2.1.17.1.1.0")
        );
        assert_eq!(next(".1.3.6.1.2.1.17.7.1.2.2.1.3.1.2.0.0.0.0.170"), None);
        assert_eq!(next(".1.3.6.1.2.1.18"), None);
        assert_eq!(next(".1.3.6.1.2.1.17.7.1.2.2.1.3.1.2.0.0.0.0.255"), None);
        // get is exact.
        assert!(v.get(&oid(".1.3.6.1.2.1.17.1.2.0")).is_some());
        assert!(v.get(&oid(".1.3.6.1.2.1.17.1.2")).is_none());
    }

    #[test]
    fn oid_parsing_refuses_junk() {
        assert_eq!(oid(".1.3.6").0, vec![1, 3, 6]);
        assert_eq!(oid("1.3.6").0, vec![1, 3, 6]);
        for bad in ["", ".", "1..3", "1.3.", "a.b", "1.-3", "1.99999999999", " "] {
            assert_eq!(Oid::parse(bad), None, "{bad:?}");
        }
    }

    /// Shape of real `bridge -j fdb show br br0` output (iproute2 6.1).
    const REAL: &str = r#"[{"mac":"33:33:00:00:00:01","ifname":"br0","flags":["self"],"state":"permanent"},{"mac":"01:00:5e:00:00:6a","ifname":"br0","flags":["self"],"state":"permanent"},{"mac":"ca:b6:a6:9c:86:99","ifname":"p1","flags":[],"master":"br0","state":""},{"mac":"fe:ce:cd:e6:7e:5e","ifname":"p1","flags":[],"master":"br0","state":"permanent"},{"mac":"33:33:00:00:00:01","ifname":"p1","flags":["self"],"state":"permanent"},{"mac":"02:00:00:00:00:09","ifname":"p2","flags":[],"master":"br0","vlan":20,"state":"static"},{"mac":"02:00:00:00:00:07","ifname":"gone","flags":[],"master":"br0","state":""},{"mac":"52:54:00:00:00:01","ifname":"br0","flags":[],"master":"br0","state":"permanent"}]"#;

    #[test]
    fn fdb_json_keeps_bridge_rows_and_classifies_them() {
        let ports = [port("p1", 1, 3), port("p2", 2, 4)];
        let got = parse_fdb_json(REAL, "br0", &ports);
        let show: Vec<String> = got
            .iter()
            .map(|e| format!("{:?} {:?} {:?} {:?}", e.mac, e.port.0, e.status, e.vlan))
            .collect();
        assert_eq!(
            show,
            [
                "[82, 84, 0, 0, 0, 1] 0 OwnAddress None",
                "[202, 182, 166, 156, 134, 153] 1 Learned None",
                "[254, 206, 205, 230, 126, 94] 1 OwnAddress None",
                "[2, 0, 0, 0, 0, 9] 2 Mgmt Some(20)",
            ]
        );
        // The VLAN entry is indexed by its VLAN in the Q-BRIDGE table.
        let v = MibView::build(&BridgeSnapshot {
            address: None,
            ports: ports.to_vec(),
            fdb: got,
            vlans: BTreeMap::new(),
        });
        assert_eq!(
            v.get(&oid(".1.3.6.1.2.1.17.7.1.2.2.1.2.20.2.0.0.0.0.9"))
                .map(|x| x.1),
            Some(&Value::Integer(2))
        );
    }

    #[test]
    fn hostile_fdb_json_gives_no_rows_and_no_panic() {
        let ports = [port("p1", 1, 3)];
        for bad in [
            "",
            "{",
            "null",
            "{}",
            "[1, \"x\", null]",
            r#"[{"mac":"zz:00:00:00:00:01","ifname":"p1","master":"br0","state":""}]"#,
            r#"[{"mac":"02:00:00:00:00:01:02","ifname":"p1","master":"br0","state":""}]"#,
            r#"[{"mac":"02:00:00:00:00:01","ifname":"p1","master":"br0","state":"weird"}]"#,
            r#"[{"mac":"02:00:00:00:00:01","master":"br0","state":""}]"#,
            r#"[{"mac":"02:00:00:00:00:01","ifname":"p1","master":"br0","vlan":-4}]"#,
        ] {
            assert!(parse_fdb_json(bad, "br0", &ports).is_empty(), "{bad:?}");
        }
        assert_eq!(parse_port_no("0x1a\n"), Some(PortNo(26)));
        assert_eq!(parse_port_no("zz"), None);
        assert_eq!(parse_mac("2:0:0:0:0:1"), Some([2, 0, 0, 0, 0, 1]));
    }
}
