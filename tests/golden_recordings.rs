//! Golden tests of neighbour extraction on real-device recordings
//! (PyPI snmpsim-data 1.0.1, fetched by tests/fetch-recordings.sh, never
//! committed). Each recording is parsed straight into varbinds and run
//! through `report_from_varbinds`; the result is compared with an expectation
//! file written by hand from the recording's raw lines
//! (tests/golden/recordings/NAME.expected). The served variant lets snmpsim
//! answer for the same recordings on loopback inside a namespace and checks
//! that `nocmap discover` builds the same topology as the direct parse.
mod netns;
mod recordings;

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
            ("local_port", n.local_port.to_string()),
            (
                "local_if",
                opt(resolve::local_lldp_port(r, n.local_port).as_deref()),
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
    let exp = recordings::load_expected(name);
    let rel = exp
        .device
        .get("recording")
        .unwrap_or_else(|| panic!("{name}.expected: no `recording = PATH`"));
    let rec = recordings::load(rel);
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
