//! Golden tests over small recordings written by us (never copied from a
//! device), one per shape of neighbour table that real gear was seen to
//! send and nocmap once got wrong (issue 23's failure classes). Each case is
//! a directory `tests/golden/ours/CASE/` with one `.snmprec` per device
//! (`OID|TYPE|VALUE` lines, the same reader as the third-party recordings),
//! and `tests/golden/ours/CASE.expected`: the neighbour rows, the rows
//! listed as unresolved with their reasons, and the links of the topology
//! built from all the case's devices, as text (see [`render`]). Expected
//! files are written by hand from the recordings and the MIB definitions.
#[macro_use]
mod support;

use nocmap::discovery::identity::merge_same_devices;
use nocmap::discovery::links::build_topology;
use nocmap::discovery::report::DeviceReport;
use nocmap::discovery::{report_from_varbinds, resolve};
use nocmap::topology::Topology;
use std::path::Path;

fn or_dash(s: Option<&str>) -> &str {
    s.unwrap_or("-")
}

/// The case as text: per device (in file order) its LLDP/CDP rows with our
/// local interface, then every device's unresolved rows, then the links.
fn render(reports: &[DeviceReport], t: &Topology) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!("device {}\n", or_dash(r.system.name.as_deref())));
        for n in &r.lldp {
            let mut mgmt: Vec<String> = n.mgmt_addrs.iter().map(|a| a.to_string()).collect();
            mgmt.sort();
            let local = n.local_port.and_then(|p| resolve::local_lldp_port(r, p));
            out.push_str(&format!(
                "  lldp port={} local_if={} chassis={} {} port_id={} {} sys_name={} mgmt={}\n",
                n.local_port.map_or("-".into(), |p| p.to_string()),
                or_dash(local.as_deref()),
                n.chassis.subtype,
                n.chassis.value,
                n.port.subtype,
                n.port.value,
                or_dash(n.sys_name.as_deref()),
                if mgmt.is_empty() {
                    "-".into()
                } else {
                    mgmt.join(",")
                },
            ));
        }
        for c in &r.cdp {
            out.push_str(&format!(
                "  cdp if_index={} local_if={} device_id={} port={}\n",
                c.if_index,
                or_dash(r.interface(c.if_index).map(|i| i.name.as_str())),
                c.device_id,
                or_dash(c.port.as_deref()),
            ));
        }
    }
    for d in &t.devices {
        for u in &d.unresolved {
            out.push_str(&format!("unresolved {}: {u}\n", d.id));
        }
    }
    let mut links: Vec<String> = t
        .links
        .iter()
        .map(|l| {
            let ev: Vec<&str> = l
                .evidence
                .iter()
                .map(|e| match e {
                    nocmap::topology::Evidence::Lldp => "lldp",
                    nocmap::topology::Evidence::Cdp => "cdp",
                    nocmap::topology::Evidence::Fdb => "fdb",
                    nocmap::topology::Evidence::Arp => "arp",
                    nocmap::topology::Evidence::Subnet => "subnet",
                })
                .collect();
            format!(
                "link {}[{}] -- {}[{}] {}\n",
                l.a.device,
                or_dash(l.a.if_name.as_deref()),
                l.b.device,
                or_dash(l.b.if_name.as_deref()),
                ev.join(",")
            )
        })
        .collect();
    links.sort();
    out.extend(links);
    out
}

/// Run one case and compare it with its expectation.
fn check(case: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ours");
    let mut files: Vec<_> = std::fs::read_dir(root.join(case))
        .unwrap_or_else(|e| panic!("{case}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "snmprec"))
        .collect();
    files.sort();
    let reports: Vec<DeviceReport> = files
        .iter()
        .map(|p| {
            let rec = support::recordings::parse_snmprec(&std::fs::read_to_string(p).unwrap());
            assert!(rec.skipped.is_empty(), "{}: {:?}", p.display(), rec.skipped);
            report_from_varbinds(None, &rec.varbinds)
        })
        .collect();
    let topology = build_topology(&merge_same_devices(reports.clone()));
    let got = render(&reports, &topology);
    let expected_path = root.join(format!("{case}.expected"));
    let want: String = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        got.trim_end(),
        want.trim_end(),
        "{case}: got (left) differs from {}",
        expected_path.display()
    );
}

macro_rules! shape {
    ($test:ident, $case:literal) => {
        #[test]
        fn $test() {
            check($case);
        }
    };
}

shape!(
    placeholder_chassis_ids_identify_nothing,
    "placeholder-chassis"
);
shape!(
    link_local_addresses_and_names_identify_nothing,
    "nonunique-identity"
);
shape!(stale_rows_and_addresses_by_full_index, "stale-rows");
shape!(other_index_forms_parsed_or_listed, "index-forms");
shape!(local_ports_resolved_through_every_table, "local-ports");
shape!(cdp_device_ids_in_ios_and_nxos_forms, "cdp-forms");
shape!(
    one_neighbour_over_lldp_and_cdp_is_one_device,
    "cdp-and-lldp"
);
shape!(
    forwarding_table_hosts_on_edge_ports_not_uplinks,
    "uplink-lag"
);
