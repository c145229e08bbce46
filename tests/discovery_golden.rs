//! Golden tests of neighbour extraction on real-device recordings
//! (PyPI snmpsim-data 1.0.1, fetched by tests/fetch-recordings.sh, never
//! committed). Each recording is parsed straight into varbinds and run
//! through `report_from_varbinds`; the result is compared with an expectation
//! file written by hand from the recording's raw lines
//! (tests/golden/recordings/NAME.expected). The served variant, snmpsim
//! answering for the same recordings and `nocmap discover` reading them, is
//! tests/discovery_served.rs.
#[macro_use]
mod support;

use nocmap::discovery::report::DeviceReport;
use nocmap::discovery::{report_from_varbinds, resolve};
use std::collections::BTreeMap;

type Record = BTreeMap<String, String>;

fn opt(s: Option<&str>) -> String {
    s.map(str::to_string).unwrap_or_else(|| "-".into())
}

/// The fields of every LLDP/CDP neighbour as text, in the form the
/// expectation files use.
fn neighbor_records(r: &DeviceReport) -> Vec<(String, Record)> {
    let mut out = Vec::new();
    for n in &r.lldp {
        let mut mgmt: Vec<String> = n.mgmt_addrs.iter().map(|a| a.to_string()).collect();
        mgmt.sort();
        let rec: Record = [
            (
                "local_port",
                n.local_port.map_or("-".into(), |p| p.to_string()),
            ),
            (
                "local_if",
                opt(n
                    .local_port
                    .and_then(|p| resolve::local_lldp_port(r, p))
                    .as_deref()),
            ),
            (
                "chassis",
                format!("{} {}", n.chassis.subtype, n.chassis.value),
            ),
            ("port", format!("{} {}", n.port.subtype, n.port.value)),
            ("port_desc", opt(n.port_desc.as_deref())),
            ("sys_name", opt(n.sys_name.as_deref())),
            (
                "mgmt",
                if mgmt.is_empty() {
                    "-".into()
                } else {
                    mgmt.join(",")
                },
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.push(("lldp".to_string(), rec));
    }
    for c in &r.cdp {
        let rec: Record = [
            ("if_index", c.if_index.to_string()),
            (
                "local_if",
                opt(r.interface(c.if_index).map(|i| i.name.as_str())),
            ),
            ("device_id", c.device_id.clone()),
            ("port", opt(c.port.as_deref())),
            ("addr", opt(c.addr.map(|a| a.to_string()).as_deref())),
            ("platform", opt(c.platform.as_deref())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.push(("cdp".to_string(), rec));
    }
    out
}

/// Compare one recording with its expectation file; returns the report.
fn check_recording(name: &str) -> DeviceReport {
    let exp = support::recordings::load_expected(name);
    let rel = exp
        .device
        .get("recording")
        .unwrap_or_else(|| panic!("{name}.expected: no `recording = PATH`"));
    let rec = support::recordings::load(rel);
    let r = report_from_varbinds(None, &rec.varbinds);
    let mut problems = Vec::new();
    let mut check = |what: &str, got: String| match exp.device.get(what) {
        Some(want) if *want != got => {
            problems.push(format!("{what}: expected {want:?}, got {got:?}"))
        }
        Some(_) => {}
        None => problems.push(format!("{name}.expected has no `{what}`")),
    };
    check("sys_name", opt(r.system.name.as_deref()));
    check("interfaces", r.interfaces.len().to_string());
    check("lldp_count", r.lldp.len().to_string());
    check("cdp_count", r.cdp.len().to_string());
    check("skipped_lines", rec.skipped.len().to_string());
    if let Some(want) = exp.device.get("lldp_chassis") {
        let got = r
            .lldp_chassis
            .as_ref()
            .map(|c| format!("{} {}", c.subtype, c.value));
        if got.as_deref() != Some(want.as_str()) {
            problems.push(format!("lldp_chassis: expected {want:?}, got {got:?}"));
        }
    }

    let mut actual = neighbor_records(&r);
    if exp.neighbors.is_empty() {
        problems.push(format!("{name}.expected lists no neighbour"));
    }
    for (kind, want) in &exp.neighbors {
        match actual.iter().position(|(k, got)| k == kind && got == want) {
            Some(i) => {
                actual.remove(i);
            }
            None => {
                // Show the rows on the same local port: usually one field differs.
                let key = if kind == "lldp" {
                    "local_port"
                } else {
                    "if_index"
                };
                let near: Vec<&Record> = actual
                    .iter()
                    .filter(|(k, got)| k == kind && got.get(key) == want.get(key))
                    .map(|(_, g)| g)
                    .collect();
                problems.push(format!(
                    "expected {kind} neighbour not extracted:\n    {want:?}\n  rows on that port:\n    {near:#?}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{name}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    eprintln!(
        "{name}: {} interfaces, {} LLDP + {} CDP neighbours, {} checked by hand",
        r.interfaces.len(),
        r.lldp.len(),
        r.cdp.len(),
        exp.neighbors.len()
    );
    r
}

macro_rules! golden {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            require_recordings!();
            check_recording($name);
        }
    };
}

golden!(cisco_c3750_cdp, "cisco-c3750");
golden!(cisco_c3560_cdp, "cisco-c3560");
golden!(juniper_mx960_lldp, "juniper-mx960-13-3r9-13");
golden!(arista_7150s_lldp, "arista-dcs-7150s-52-cl");
golden!(hpe_procurve_cdp_and_lldp, "hpe-procurve-516733-b21");
golden!(ruijie_n18010_lldp, "ruijie-n18010");
golden!(h3c_e528_lldp, "h3c-e528-1");

// ---- Truncated and garbled recordings: a report, never a panic. ----

/// A small hand-written recording with one LLDP and one CDP neighbour, so the
/// garbling tests also run where the real recordings were not fetched.
const MINI: &str = "\
1.3.6.1.2.1.1.5.0|4|sw-edge-1
1.3.6.1.2.1.2.2.1.2.3|4|GigabitEthernet0/3
1.3.6.1.2.1.2.2.1.2.4|4|GigabitEthernet0/4
1.3.6.1.2.1.31.1.1.1.1.3|4|Gi0/3
1.3.6.1.2.1.31.1.1.1.1.4|4|Gi0/4
1.0.8802.1.1.2.1.3.1.0|2|4
1.0.8802.1.1.2.1.3.2.0|4x|020000000001
1.0.8802.1.1.2.1.4.1.1.4.0.3.1|2|4
1.0.8802.1.1.2.1.4.1.1.5.0.3.1|4x|020000000002
1.0.8802.1.1.2.1.4.1.1.6.0.3.1|2|5
1.0.8802.1.1.2.1.4.1.1.7.0.3.1|4|Gi0/9
1.0.8802.1.1.2.1.4.1.1.9.0.3.1|4|sw-core-2
1.0.8802.1.1.2.1.4.2.1.3.0.3.1.1.4.10.0.0.2|2|2
1.3.6.1.4.1.9.9.23.1.2.1.1.3.4.1|2|1
1.3.6.1.4.1.9.9.23.1.2.1.1.4.4.1|4x|0a000003
1.3.6.1.4.1.9.9.23.1.2.1.1.6.4.1|4|sw-core-3
1.3.6.1.4.1.9.9.23.1.2.1.1.7.4.1|4|GigabitEthernet1/1
";

/// xorshift64: deterministic, so a failing seed can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn odd_value(rng: &mut Rng) -> async_snmp::Value {
    use async_snmp::Value;
    let n = rng.below(1 << 20) as u32;
    match rng.below(9) {
        0 => Value::Integer(-(n as i32)),
        1 => Value::Integer(i32::MAX),
        2 => Value::OctetString((0..rng.below(40)).map(|_| rng.next() as u8).collect()),
        3 => Value::OctetString(vec![0xff, 0xfe, 0x00, 0x1b, b'[', 0x07].into()),
        4 => Value::Null,
        5 => Value::ObjectIdentifier(async_snmp::Oid::from_slice(&[1, 3, n])),
        6 => Value::IpAddress([n as u8; 4]),
        7 => Value::Counter64(u64::MAX),
        _ => Value::TimeTicks(u32::MAX),
    }
}

/// Drop, retype, truncate or extend varbinds at random, then shuffle them.
fn garble(vbs: &[async_snmp::VarBind], seed: u64) -> Vec<async_snmp::VarBind> {
    use async_snmp::{Oid, VarBind};
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut out = Vec::new();
    for vb in vbs {
        let mut arcs = vb.oid.arcs().to_vec();
        let mut value = vb.value.clone();
        match rng.below(10) {
            0 => continue,
            1 => value = odd_value(&mut rng),
            2 => {
                let cut = rng.below(4) as usize;
                arcs.truncate(arcs.len().saturating_sub(cut));
            }
            3 => arcs.extend([u32::MAX, 0, rng.below(300) as u32]),
            4 => {
                let i = rng.below(arcs.len() as u64) as usize;
                arcs[i] = rng.next() as u32;
            }
            _ => {}
        }
        out.push(VarBind::new(Oid::from_slice(&arcs), value));
    }
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i as u64 + 1) as usize);
    }
    out
}

fn sorted_records(r: &DeviceReport) -> Vec<(String, Record)> {
    let mut v = neighbor_records(r);
    v.sort();
    v
}

/// What must hold for any walk, however mangled: parsing and topology
/// building return, and neighbour-derived names resolve without panicking.
fn survives(vbs: &[async_snmp::VarBind]) -> DeviceReport {
    let r = report_from_varbinds(None, vbs);
    let _ = neighbor_records(&r);
    let _ = nocmap::discovery::links::build_topology(std::slice::from_ref(&r));
    r
}

/// The structured damage: a reversed walk, half of lldpRemTable, and
/// columns holding the wrong type.
fn check_structured_damage(name: &str, vbs: &[async_snmp::VarBind]) {
    let whole = report_from_varbinds(None, vbs);
    assert!(
        !whole.lldp.is_empty() || !whole.cdp.is_empty(),
        "{name}: no neighbours to damage"
    );

    // Out of order: the same neighbours.
    let reversed: Vec<_> = vbs.iter().rev().cloned().collect();
    assert_eq!(
        sorted_records(&survives(&reversed)),
        sorted_records(&whole),
        "{name}: reversed walk"
    );

    // Only the first half of the lldpRemTable lines (the walk stopped there):
    // never more neighbours than the whole table gave.
    let rem = [1u32, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
    let rem_lines: Vec<usize> = (0..vbs.len())
        .filter(|&i| vbs[i].oid.arcs().starts_with(&rem))
        .collect();
    let cut = rem_lines.get(rem_lines.len() / 2).copied();
    let half: Vec<_> = vbs
        .iter()
        .enumerate()
        .filter(|(i, _)| cut.is_none_or(|c| *i < c || !rem_lines.contains(i)))
        .map(|(_, v)| v.clone())
        .collect();
    let r = survives(&half);
    assert!(r.lldp.len() <= whole.lldp.len(), "{name}: half table");
    assert_eq!(r.cdp, whole.cdp, "{name}: CDP untouched by LLDP damage");

    // Wrong types: chassis-id subtype and CDP device id as other types.
    let chassis_subtype = [1u32, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 4];
    let cdp_device_id = [1u32, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 6];
    let retyped: Vec<_> = vbs
        .iter()
        .map(|v| {
            let mut v = v.clone();
            if v.oid.arcs().starts_with(&chassis_subtype) {
                v.value = async_snmp::Value::OctetString(b"4".to_vec().into());
            } else if v.oid.arcs().starts_with(&cdp_device_id) {
                v.value = async_snmp::Value::Integer(7);
            }
            v
        })
        .collect();
    let r = survives(&retyped);
    assert!(
        r.lldp.is_empty(),
        "{name}: a chassis id without an integer subtype cannot be rendered"
    );
    assert!(r.cdp.is_empty(), "{name}: a CDP row without a device id");
    assert_eq!(
        r.interfaces, whole.interfaces,
        "{name}: interfaces untouched"
    );

    // Random damage, many times over.
    for seed in 0..200 {
        survives(&garble(vbs, seed));
    }
}

#[test]
fn garbled_mini_recording_yields_a_report() {
    let rec = support::recordings::parse_snmprec(MINI);
    assert!(rec.skipped.is_empty(), "{:?}", rec.skipped);
    let r = report_from_varbinds(None, &rec.varbinds);
    assert_eq!((r.lldp.len(), r.cdp.len()), (1, 1));
    assert_eq!(
        r.lldp[0].mgmt_addrs,
        ["10.0.0.2".parse::<std::net::IpAddr>().unwrap()]
    );
    check_structured_damage("mini", &rec.varbinds);
}

#[test]
fn garbled_real_recordings_yield_reports() {
    require_recordings!();
    for rel in [
        "network/switch/hpe-procurve-516733-b21",
        "cloud/arista-dcs-7150s-52-cl",
        "network/switch/h3c-e528-1",
    ] {
        let rec = support::recordings::load(rel);
        // Only the tables discovery reads, so 200 rounds stay quick.
        let keep = [
            &[1u32, 3, 6, 1, 2, 1, 1][..],
            &[1, 3, 6, 1, 2, 1, 2, 2, 1],
            &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1],
            &[1, 0, 8802, 1, 1, 2, 1],
            &[1, 3, 6, 1, 4, 1, 9, 9, 23],
        ];
        let vbs: Vec<_> = rec
            .varbinds
            .into_iter()
            .filter(|v| keep.iter().any(|k| v.oid.arcs().starts_with(k)))
            .collect();
        check_structured_damage(rel, &vbs);
    }
}

#[test]
fn garbled_snmprec_text_never_panics() {
    // Line-level damage to the text itself, before it is a varbind.
    let mut rng = Rng(0x5eed);
    for _ in 0..500 {
        let mut text: Vec<u8> = MINI.as_bytes().to_vec();
        for _ in 0..rng.below(12) {
            let i = rng.below(text.len() as u64) as usize;
            match rng.below(3) {
                0 => text[i] = b"|.x0\n9-"[rng.below(7) as usize],
                1 => {
                    text.remove(i);
                }
                _ => text.insert(i, rng.next() as u8),
            }
        }
        let rec = support::recordings::parse_snmprec(&String::from_utf8_lossy(&text));
        survives(&rec.varbinds);
    }
}

/// The recordings reader itself (`support::recordings`).
mod recordings_reader {
    use super::support::recordings::*;
    use async_snmp::Value;
    use bytes::Bytes;

    #[test]
    fn parses_every_recorded_type() {
        let r = parse_snmprec(
            "1.3.6.1.2.1.1.5.0|4|sw-1\n\
             1.3.6.1.2.1.1.1.0|4x|41420a00\n\
             1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.516\n\
             1.3.6.1.2.1.1.3.0|67|3896978921\n\
             1.3.6.1.2.1.2.2.1.1.1|2|-5\n\
             1.3.6.1.2.1.4.20.1.1.10.3.41.254|64x|0a0329fe\n\
             1.3.6.1.2.1.4.20.1.3.10.3.41.254|64|255.255.255.0\n\
             1.3.6.1.2.1.2.2.1.10.1|65|4294967295\n\
             1.3.6.1.2.1.2.2.1.5.1|66|1000\n\
             1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n\
             1.3.6.1.4.1.2021.10.1.6.1|68x|0906\n\
             1.3.6.1.2.1.1.9.0|5|\n",
        );
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        let v: Vec<&Value> = r.varbinds.iter().map(|v| &v.value).collect();
        assert_eq!(v[0], &Value::OctetString(Bytes::from_static(b"sw-1")));
        assert_eq!(v[1], &Value::OctetString(Bytes::from_static(b"AB\n\0")));
        assert_eq!(v[3], &Value::TimeTicks(3896978921));
        assert_eq!(v[4], &Value::Integer(-5));
        assert_eq!(v[5], &Value::IpAddress([10, 3, 41, 254]));
        assert_eq!(v[6], &Value::IpAddress([255, 255, 255, 0]));
        assert_eq!(v[9], &Value::Counter64(u64::MAX));
        assert_eq!(v[10], &Value::Opaque(Bytes::from_static(&[9, 6])));
        assert_eq!(v[11], &Value::Null);
    }

    #[test]
    fn skips_malformed_lines() {
        let r = parse_snmprec(
            "# header\n\
             1.3.6.1.2.1.1.3.0|67:numeric|rate=100\n\
             1.3.6.1.2.1.1.5.0|4x|abc\n\
             1.3.6.1.2.1.1.5.0|4x|zz\n\
             1.3.6.1.2.1.1.3.0|67|-1\n\
             1.3.6.1.2.1.2.2.1.1.1|2|99999999999\n\
             not-an-oid|4|x\n\
             1.3.6.1.2.1.1.5.0|4\n\
             1.3.6.1.2.1.4.20.1.1.1.2.3.4|64|1.2.3\n\
             1.3.6.1.2.1.1.5.0|99|x\n\
             1.3.6.1.2.1.1.5.0|4|ok|with bar\n",
        );
        assert_eq!(r.skipped.len(), 9, "{:?}", r.skipped);
        assert_eq!(r.varbinds.len(), 1);
        assert_eq!(
            r.varbinds[0].value,
            Value::OctetString(Bytes::from_static(b"ok|with bar"))
        );
    }

    #[test]
    fn expected_files_keep_quoted_spaces_and_reject_junk() {
        let e = parse_expected("# c\nsys_name = sw\n\nlldp\n  port_desc = \"Gi \"\n  x = \"a\n")
            .unwrap();
        assert_eq!(e.device["sys_name"], "sw");
        assert_eq!(e.neighbors[0].1["port_desc"], "Gi ");
        assert_eq!(e.neighbors[0].1["x"], "\"a");
        assert!(parse_expected("sys_name sw\n").is_err());
        assert!(parse_expected("a = 1\na = 2\n").is_err());
    }
}
