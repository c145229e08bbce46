//! The multi-site demo end to end: `nocmap-lab demo --sites --no-wait` on
//! the bundled sites lab (renamed `dsites`, 10.108.0.0/16) brings up
//! nats-server and the central in the noc and a site poller in each site,
//! and returns once the central's map holds every site's managed devices up.
//! Every managed device must be listed under its own site, up; a central
//! that merged nothing, a site missing from the map or a device under the
//! wrong site fails here. (Each poller is also given only its own site's
//! prefixes, but the noc runs no SNMP agent, so a crawl over the whole lab
//! would not cross it either: this test does not tell the two apart.)
//! Afterwards no namespace of the lab is left.
#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::process::Command;

/// The bundled sites lab under its own name and prefix.
fn sites_toml() -> String {
    include_str!("../examples/labs/demo-sites.toml")
        .replace("name = \"demosites\"", "name = \"dsites\"")
        .replace("10.107.0.0/16", "10.108.0.0/16")
}

/// `site NAME: N devices: a (up), b (up)` lines -> site -> [(device, state)].
fn parse_map(stdout: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut sites = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.trim().strip_prefix("site ") else {
            continue;
        };
        let Some((site, rest)) = rest.split_once(": ") else {
            continue;
        };
        let Some((_, devices)) = rest.split_once("devices: ") else {
            continue;
        };
        let devs = devices
            .split(", ")
            .filter_map(|d| {
                let (name, state) = d.split_once(" (")?;
                Some((name.to_string(), state.trim_end_matches(')').to_string()))
            })
            .collect();
        sites.insert(site.to_string(), devs);
    }
    sites
}

#[test]
fn the_sites_demo_maps_each_sites_devices_under_its_own_site() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("sites.toml");
    std::fs::write(&spec, sites_toml()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nocmap-lab"))
        .arg("--state-root")
        .arg(dir.path().join("state"))
        .args(["demo", "--sites", "--no-wait", "--no-traffic", "--lab"])
        .arg(&spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}\n{stdout}");
    assert!(out.status.success(), "the sites demo failed: {stderr}");
    let map = parse_map(&stdout);
    let names = |site: &str| -> Vec<String> {
        let mut v: Vec<String> = map
            .get(site)
            .into_iter()
            .flatten()
            .map(|d| d.0.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("east"),
        ["acc-east", "core-east", "eastweb"],
        "{map:?}"
    );
    assert_eq!(
        names("west"),
        ["acc-west", "core-west", "dist-west", "westdb"],
        "{map:?}"
    );
    assert_eq!(map.len(), 2, "only the two sites: {map:?}");
    assert!(
        map.values().flatten().all(|(_, state)| state == "up"),
        "every site device up at the central: {map:?}"
    );
    assert!(
        support::lab_namespaces("dsites").is_empty(),
        "the demo left namespaces behind"
    );
}
