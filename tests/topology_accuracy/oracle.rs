//! The oracle: what a recording's own tables say about its neighbours, read
//! straight against the MIB definitions and written without the production
//! parser (nothing of `nocmap::discovery` is imported). Input is the
//! recording's varbinds (tests/support/recordings.rs); output is one
//! [`Row`] per LLDP or CDP neighbour, each with the local interface the
//! device itself names or the reason it cannot be decided.
//!
//! MIB facts used (LLDP-MIB 1.0.8802.1.1.2, IEEE 802.1AB-2005; CISCO-CDP-MIB
//! 1.3.6.1.4.1.9.9.23; BRIDGE-MIB 1.3.6.1.2.1.17; IF-MIB):
//! - lldpRemEntry (…2.1.4.1.1) is indexed by lldpRemTimeMark (a TimeFilter:
//!   the same row may be listed under several time marks), lldpRemLocalPortNum
//!   and lldpRemIndex; the neighbour is (local port, remIndex), its newest
//!   time mark holds its current values.
//! - LldpPortNumber: on an 802.1D/Q bridge equal to dot1dBasePort, otherwise
//!   equal to the ifIndex. lldpLocPortTable (…2.1.3.7.1) names each local
//!   port: lldpLocPortIdSubtype/lldpLocPortId (interfaceAlias(1) = ifAlias,
//!   macAddress(3) = ifPhysAddress, interfaceName(5) = ifName, local(7) a
//!   locally assigned string) and lldpLocPortDesc (= ifDescr).
//! - cdpCacheEntry (…9.9.23.1.2.1.1) is indexed by cdpCacheIfIndex (the local
//!   ifIndex) and cdpCacheDeviceIndex.
#![allow(dead_code)]
use async_snmp::{Value, VarBind};
use std::collections::{BTreeMap, BTreeSet};

pub const LLDP_LOC_PORT: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1];
pub const LLDP_REM: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
pub const CDP_CACHE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1];
pub const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
pub const IFX_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
/// dot1dBasePortEntry; column 2 is dot1dBasePortIfIndex.
pub const BASE_PORT_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1];
pub const SYS: &[u32] = &[1, 3, 6, 1, 2, 1, 1];

/// The lines of a recording's text the oracle reads (system, interfaces,
/// LLDP, CDP, bridge tables), parsed; the rest is skipped unparsed, which
/// keeps reading a large recording well under a second.
pub fn relevant_varbinds(text: &str) -> Vec<VarBind> {
    const READ: [&str; 6] = [
        "1.3.6.1.2.1.1.",
        "1.3.6.1.2.1.2.2.1.",
        "1.3.6.1.2.1.31.1.1.1.",
        "1.0.8802.1.1.2.1.",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.",
        "1.3.6.1.2.1.17.",
    ];
    let kept: String = text
        .lines()
        .filter(|l| READ.iter().any(|p| l.starts_with(p)))
        .flat_map(|l| [l, "\n"])
        .collect();
    crate::support::recordings::parse_snmprec(&kept).varbinds
}

/// A recording as a map OID -> value. A recording may list one OID twice
/// (no agent can answer so): the first line is kept, as snmpsim serves it,
/// and OIDs listed with different values are remembered as conflicts.
pub struct Walk(BTreeMap<Vec<u32>, Value>, BTreeSet<Vec<u32>>);

impl Walk {
    pub fn new(vbs: &[VarBind]) -> Walk {
        let mut map = BTreeMap::new();
        let mut conflicts = BTreeSet::new();
        for v in vbs {
            let oid = v.oid.arcs().to_vec();
            match map.get(&oid) {
                Some(old) if *old != v.value => {
                    conflicts.insert(oid);
                }
                Some(_) => {}
                None => {
                    map.insert(oid, v.value.clone());
                }
            }
        }
        Walk(map, conflicts)
    }

    pub fn get(&self, oid: &[u32]) -> Option<&Value> {
        self.0.get(oid)
    }

    /// Listed twice with different values.
    pub fn conflicting(&self, oid: &[u32]) -> bool {
        self.1.contains(oid)
    }

    /// Column `col` of the table entry `entry`: (index arcs, value).
    pub fn column<'a>(
        &'a self,
        entry: &[u32],
        col: u32,
    ) -> impl Iterator<Item = (&'a [u32], &'a Value)> + 'a {
        let mut p = entry.to_vec();
        p.push(col);
        let n = p.len();
        self.0
            .range(p.clone()..)
            .take_while(move |(k, _)| k.starts_with(&p))
            .map(move |(k, v)| (&k[n..], v))
    }

    pub fn has_prefix(&self, prefix: &[u32]) -> bool {
        self.0
            .range(prefix.to_vec()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(prefix))
    }

    pub fn text(&self, oid: &[u32]) -> Option<String> {
        self.get(oid).and_then(text)
    }
}

/// An OCTET STRING as text when it is printable, else None.
pub fn text(v: &Value) -> Option<String> {
    let Value::OctetString(b) = v else {
        return None;
    };
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_end_matches('\0').trim();
    (!s.is_empty() && !s.chars().any(|c| c.is_control())).then(|| s.to_string())
}

pub fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::OctetString(b) => Some(b),
        _ => None,
    }
}

pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i as i64),
        Value::Gauge32(i) | Value::Counter32(i) | Value::TimeTicks(i) => Some(*i as i64),
        _ => None,
    }
}

/// Six bytes as `aa:bb:cc:dd:ee:ff`.
pub fn mac(b: &[u8]) -> Option<String> {
    (b.len() == 6).then(|| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    })
}

/// One ifTable/ifXTable row.
#[derive(Debug, Default, Clone)]
pub struct If {
    pub name: Option<String>,
    pub descr: Option<String>,
    pub alias: Option<String>,
    pub phys: Option<String>,
    pub if_type: Option<i64>,
}

impl If {
    /// The names another tool may show for it (ifName, ifDescr, ifAlias).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [&self.name, &self.descr, &self.alias]
            .into_iter()
            .flatten()
            .map(|s| s.as_str())
    }
}

pub fn interfaces(w: &Walk) -> BTreeMap<u32, If> {
    let mut out: BTreeMap<u32, If> = BTreeMap::new();
    let at = |idx: &[u32]| -> Option<u32> { (idx.len() == 1).then(|| idx[0]) };
    for (idx, _) in w.column(IF_ENTRY, 1) {
        if let Some(i) = at(idx) {
            out.entry(i).or_default();
        }
    }
    for (col, entry) in [(2, IF_ENTRY), (1, IFX_ENTRY), (18, IFX_ENTRY)] {
        for (idx, v) in w.column(entry, col) {
            let (Some(i), Some(t)) = (at(idx), text(v)) else {
                continue;
            };
            let e = out.entry(i).or_default();
            match (entry == IF_ENTRY, col) {
                (true, _) => e.descr = Some(t),
                (false, 1) => e.name = Some(t),
                _ => e.alias = Some(t),
            }
        }
    }
    for (idx, v) in w.column(IF_ENTRY, 6) {
        if let (Some(i), Some(m)) = (at(idx), bytes(v).and_then(mac)) {
            out.entry(i).or_default().phys = Some(m);
        }
    }
    for (idx, v) in w.column(IF_ENTRY, 3) {
        if let (Some(i), Some(t)) = (at(idx), int(v)) {
            out.entry(i).or_default().if_type = Some(t);
        }
    }
    out
}

/// dot1dBasePort -> ifIndex.
pub fn bridge_ports(w: &Walk) -> BTreeMap<u32, u32> {
    w.column(BASE_PORT_ENTRY, 2)
        .filter(|(idx, _)| idx.len() == 1)
        .filter_map(|(idx, v)| Some((idx[0], u32::try_from(int(v)?).ok()?)))
        .collect()
}

/// Where the oracle puts a row's local end.
#[derive(Debug, Clone, PartialEq)]
pub enum Local {
    /// The ifIndex, and how the device named it.
    If(u32, &'static str),
    /// The device gives too little to decide; why.
    Undecidable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Lldp,
    Cdp,
}

/// One neighbour row as the oracle reads it.
#[derive(Debug, Clone)]
pub struct Row {
    pub proto: Proto,
    /// lldpRemLocalPortNum, or cdpCacheIfIndex.
    pub local_key: u32,
    pub local: Local,
    /// sysName (LLDP) or device id (CDP), when given.
    pub name: Option<String>,
    /// The chassis id as text (MAC as aa:bb:…, else printable text or hex).
    pub chassis: Option<String>,
    /// Remote port id (as text) and description.
    pub port_id: Option<String>,
    pub port_desc: Option<String>,
    /// Older time marks that listed the same row (LLDP TimeFilter copies).
    pub copies: usize,
}

impl Row {
    pub fn label(&self) -> String {
        format!(
            "{:?} port {} -> {} {}",
            self.proto,
            self.local_key,
            self.name
                .as_deref()
                .or(self.chassis.as_deref())
                .unwrap_or("?"),
            self.port_id.as_deref().unwrap_or("?")
        )
    }
}

/// Text for an id in the given LLDP subtype family: MACs as aa:bb:…,
/// network addresses as an IP, printable strings as themselves, else hex.
fn id_text(subtype: Option<i64>, mac_subtype: i64, net_subtype: i64, b: &[u8]) -> String {
    if subtype == Some(mac_subtype)
        && let Some(m) = mac(b)
    {
        return m;
    }
    if subtype == Some(net_subtype) && b.len() == 5 && b[0] == 1 {
        return format!("{}.{}.{}.{}", b[1], b[2], b[3], b[4]);
    }
    let b = match b.iter().rposition(|x| *x != 0) {
        Some(end) => &b[..=end],
        None => b,
    };
    match std::str::from_utf8(b) {
        Ok(s) if !s.trim().is_empty() && !s.chars().any(|c| c.is_control()) => s.trim().to_string(),
        _ => b.iter().map(|x| format!("{x:02x}")).collect(),
    }
}

/// A CDP string: printable text, else six bytes as a MAC, else hex.
fn any_text(v: &Value) -> Option<String> {
    let b = bytes(v).filter(|b| !b.is_empty())?;
    let sub = (b.len() == 6 && text(v).is_none()).then_some(3);
    Some(id_text(sub, 3, 0, b))
}

/// The ifIndexes whose `field` equals `want` (case-sensitive, trimmed).
fn by_field(ifs: &BTreeMap<u32, If>, want: &str, field: fn(&If) -> Option<&str>) -> Vec<u32> {
    ifs.iter()
        .filter(|(_, i)| field(i) == Some(want.trim()))
        .map(|(k, _)| *k)
        .collect()
}

/// The local interface of LLDP port `num`, from what the device itself says.
pub fn lldp_local(
    w: &Walk,
    ifs: &BTreeMap<u32, If>,
    bridge: &BTreeMap<u32, u32>,
    num: u32,
) -> Local {
    let col = |c: u32| w.get(&[LLDP_LOC_PORT, &[c, num]].concat());
    let subtype = col(2).and_then(int);
    let port_id = col(3).and_then(bytes);
    let desc = col(4).and_then(text);
    // By name: the port id in its subtype, then the port description.
    let mut named: Vec<(Vec<u32>, &'static str)> = Vec::new();
    if let Some(b) = port_id {
        let s = std::str::from_utf8(b).ok().map(str::trim).unwrap_or("");
        match subtype {
            Some(1) if !s.is_empty() => named.push((
                by_field(ifs, s, |i| i.alias.as_deref()),
                "lldpLocPortId=ifAlias",
            )),
            Some(3) => {
                // Six bytes, or (a common fault) the MAC spelled as text.
                let spelled = || {
                    let h: String = s.chars().filter(char::is_ascii_hexdigit).collect();
                    let b: Option<Vec<u8>> = (h.len() == 12)
                        .then(|| {
                            (0..6)
                                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
                                .collect()
                        })
                        .flatten();
                    b.and_then(|b| mac(&b))
                };
                if let Some(m) = mac(b).or_else(spelled) {
                    named.push((
                        by_field(ifs, &m, |i| i.phys.as_deref()),
                        "lldpLocPortId=ifPhysAddress",
                    ));
                }
            }
            Some(5) if !s.is_empty() => named.push((
                by_field(ifs, s, |i| i.name.as_deref()),
                "lldpLocPortId=ifName",
            )),
            Some(7) if !s.is_empty() => {
                named.push((
                    by_field(ifs, s, |i| i.name.as_deref()),
                    "lldpLocPortId(local)=ifName",
                ));
                named.push((
                    by_field(ifs, s, |i| i.descr.as_deref()),
                    "lldpLocPortId(local)=ifDescr",
                ));
            }
            _ => {}
        }
    }
    if let Some(d) = &desc {
        named.push((
            by_field(ifs, d, |i| i.descr.as_deref()),
            "lldpLocPortDesc=ifDescr",
        ));
        named.push((
            by_field(ifs, d, |i| i.name.as_deref()),
            "lldpLocPortDesc=ifName",
        ));
        named.push((
            by_field(ifs, d, |i| i.alias.as_deref()),
            "lldpLocPortDesc=ifAlias",
        ));
    }
    // By number, as LldpPortNumber defines it.
    let is_bridge = !bridge.is_empty();
    let by_bridge = bridge.get(&num).copied().filter(|i| ifs.contains_key(i));
    let by_ifindex = ifs.contains_key(&num).then_some(num);
    let numbered: Vec<u32> = [by_bridge, by_ifindex].into_iter().flatten().collect();

    for (cands, how) in &named {
        match cands.as_slice() {
            [one] => return Local::If(*one, how),
            [] => {}
            many => {
                // Several interfaces carry the name: the port number decides.
                let pick: Vec<u32> = many
                    .iter()
                    .copied()
                    .filter(|c| numbered.contains(c))
                    .collect();
                if let [one] = pick.as_slice() {
                    return Local::If(*one, how);
                }
            }
        }
    }
    let ambiguous_name = named.iter().any(|(c, _)| c.len() > 1);
    match (by_bridge, by_ifindex) {
        (Some(b), Some(i)) if b != i => Local::Undecidable(format!(
            "port {num} is named nowhere{}; it is bridge port {num} (ifIndex {b}) and also ifIndex {num}",
            if ambiguous_name { " uniquely" } else { "" }
        )),
        (Some(b), _) if is_bridge => Local::If(b, "LldpPortNumber=dot1dBasePort"),
        (_, Some(i)) if !is_bridge => Local::If(i, "LldpPortNumber=ifIndex"),
        (Some(b), _) => Local::If(b, "LldpPortNumber=dot1dBasePort"),
        // Not a bridge port: only the ifIndex reading is left.
        (None, Some(i)) => Local::If(i, "LldpPortNumber=ifIndex (no such bridge port)"),
        (None, None) => Local::Undecidable(format!(
            "port {num} is named nowhere and is neither a bridge port nor an ifIndex"
        )),
    }
}

/// Every LLDP neighbour: one row per (lldpRemLocalPortNum, lldpRemIndex),
/// its values from the newest time mark.
pub fn lldp_rows(w: &Walk, ifs: &BTreeMap<u32, If>, bridge: &BTreeMap<u32, u32>) -> Vec<Row> {
    // (port, remIndex) -> time marks seen, newest last.
    let mut rows: BTreeMap<(u32, u32), BTreeSet<u32>> = BTreeMap::new();
    for col in 4..=9 {
        for (idx, _) in w.column(LLDP_REM, col) {
            if let [tm, port, rem] = idx {
                rows.entry((*port, *rem)).or_default().insert(*tm);
            }
        }
    }
    let mut out = Vec::new();
    for ((port, rem), marks) in rows {
        let tm = *marks.iter().next_back().unwrap();
        let get = |c: u32| w.get(&[LLDP_REM, &[c, tm, port, rem]].concat());
        let ch_sub = get(4).and_then(int);
        let chassis = get(5)
            .and_then(bytes)
            .filter(|b| !b.is_empty())
            .map(|b| id_text(ch_sub, 4, 5, b));
        let port_id = get(7)
            .and_then(bytes)
            .filter(|b| !b.is_empty())
            .map(|b| id_text(get(6).and_then(int), 3, 4, b));
        out.push(Row {
            proto: Proto::Lldp,
            local_key: port,
            local: lldp_local(w, ifs, bridge, port),
            name: get(9).and_then(text),
            chassis,
            port_id,
            port_desc: get(8).and_then(text),
            copies: marks.len() - 1,
        });
    }
    out
}

/// Every CDP cache row: the local ifIndex is the table's first index.
pub fn cdp_rows(w: &Walk, ifs: &BTreeMap<u32, If>) -> Vec<Row> {
    let mut keys: BTreeSet<(u32, u32)> = BTreeSet::new();
    for col in 3..=8 {
        for (idx, _) in w.column(CDP_CACHE, col) {
            if let [ifi, dev] = idx {
                keys.insert((*ifi, *dev));
            }
        }
    }
    keys.into_iter()
        .map(|(ifi, dev)| {
            let get = |c: u32| w.get(&[CDP_CACHE, &[c, ifi, dev]].concat());
            let local = if ifs.contains_key(&ifi) {
                Local::If(ifi, "cdpCacheIfIndex")
            } else {
                Local::Undecidable(format!("cdpCacheIfIndex {ifi} is not in ifTable"))
            };
            Row {
                proto: Proto::Cdp,
                local_key: ifi,
                local,
                name: get(6).and_then(any_text),
                chassis: None,
                port_id: get(7).and_then(any_text),
                port_desc: None,
                copies: 0,
            }
        })
        .collect()
}

/// What the oracle knows of one recording.
pub struct Oracle {
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub ifs: BTreeMap<u32, If>,
    pub bridge: BTreeMap<u32, u32>,
    pub rows: Vec<Row>,
    pub fdb: super::fdb::Fdb,
}

impl Oracle {
    pub fn read(vbs: &[VarBind]) -> Oracle {
        let w = Walk::new(vbs);
        let ifs = interfaces(&w);
        let bridge = bridge_ports(&w);
        let mut rows = lldp_rows(&w, &ifs, &bridge);
        rows.extend(cdp_rows(&w, &ifs));
        let fdb = super::fdb::Fdb::read(&w, &ifs, &bridge, &rows);
        let sys_object_id = match w.get(&[SYS, &[2, 0]].concat()) {
            Some(Value::ObjectIdentifier(o)) => Some(o.to_string()),
            _ => None,
        };
        Oracle {
            sys_name: w.text(&[SYS, &[5, 0]].concat()),
            sys_descr: w.text(&[SYS, &[1, 0]].concat()),
            sys_object_id,
            ifs,
            bridge,
            rows,
            fdb,
        }
    }

    /// The names nocmap may show for ifIndex `i`.
    pub fn if_names(&self, i: u32) -> Vec<&str> {
        self.ifs
            .get(&i)
            .map(|f| f.names().collect())
            .unwrap_or_default()
    }
}
