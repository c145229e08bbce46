//! Discovery against the lab's ground truth: from a single seed, on a routed
//! chain, a switched star with hosts that answer no SNMP, and a redundant
//! mesh with an out-of-band management network, the discovered devices and
//! links equal what the lab was built with (precision and recall 1.0), with
//! interface names on both ends. The poller itself counts as the lab's `noc`.
//! (Hosts that speak neither SNMP nor LLDP are placed from the switch's
//! forwarding table; nothing on the network names their interface.)
//! (Hosts that speak neither SNMP nor LLDP are placed from the switch's
//! forwarding table; nothing on the network names their interface.)
#[macro_use]
mod support;
use nocmap::topology::Topology;
use nocmap_lab::Lab;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

type End = (String, String);

fn discover(lab: &Lab, seed: &str, prefix: &str) -> Topology {
    discover_with(lab, seed, prefix, &[])
}

fn discover_with(lab: &Lab, seed: &str, prefix: &str, extra: &[&str]) -> Topology {
    let json = support::sh(
        lab.command_in("noc", support::nocmap_bin().to_str().unwrap())
            .unwrap()
            .args([
                "discover", "--seed", seed, "--prefix", prefix, "-c", "public", "--json",
            ])
            .args(extra),
    );
    serde_json::from_str(&json).expect("topology JSON")
}

/// Map every discovered device to a lab node name, or fail naming the stray.
fn node_names(lab: &Lab, topo: &Topology) -> BTreeMap<String, String> {
    let truth = lab.truth();
    let mut map = BTreeMap::new();
    for d in &topo.devices {
        let node = truth.nodes.iter().find(|n| {
            if n.is_noc {
                return d.poller;
            }
            d.sys_name.as_deref() == Some(n.sys_name.as_str())
                || n.mgmt_addr.is_some_and(|a| {
                    d.addresses.contains(&a.into()) || d.mgmt_addr == Some(a.into())
                })
        });
        let node =
            node.unwrap_or_else(|| panic!("discovered a device the lab does not have: {d:?}"));
        map.insert(d.id.0.clone(), node.name.clone());
    }
    map
}

fn pair(a: End, b: End) -> (End, End) {
    if a <= b { (a, b) } else { (b, a) }
}

fn check(lab: &Lab, topo: &Topology) {
    let names = node_names(lab, topo);
    let truth = lab.truth();
    let want_nodes: BTreeSet<String> = truth.nodes.iter().map(|n| n.name.clone()).collect();
    let got_nodes: BTreeSet<String> = names.values().cloned().collect();
    assert_eq!(got_nodes, want_nodes, "devices differ from the lab");
    assert_eq!(
        names.len(),
        topo.devices.len(),
        "one lab node was discovered as two devices"
    );
    // A host that runs neither snmpd nor lldpd tells nobody its interface
    // names, and no table on the network holds them: there the only honest
    // answer is "unknown" ("?"). Every other end must carry its real name.
    let silent = |node: &str| {
        truth
            .node(node)
            .is_some_and(|n| !n.managed && !n.lldp && !n.is_noc)
    };
    let end = |e: &nocmap_lab::Endpoint| {
        let name = if silent(&e.node) {
            "?".to_string()
        } else {
            e.ifname.clone()
        };
        (e.node.clone(), name)
    };
    let want: BTreeSet<(End, End)> = truth
        .links
        .iter()
        .map(|l| pair(end(&l.a), end(&l.b)))
        .collect();
    let got: BTreeSet<(End, End)> = topo
        .links
        .iter()
        .map(|l| {
            let end = |e: &nocmap::topology::Endpoint| {
                (
                    names[&e.device.0].clone(),
                    e.if_name.clone().unwrap_or_else(|| "?".into()),
                )
            };
            pair(end(&l.a), end(&l.b))
        })
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "links differ from the lab\n missing: {missing:?}\n extra: {extra:?}"
    );
    assert_eq!(got.len(), topo.links.len(), "a link was reported twice");
    for l in &topo.links {
        assert!(
            !l.evidence.is_empty() && l.confidence > 0.0 && l.confidence <= 1.0,
            "{l:?}"
        );
    }
}

fn settle(lab: &Lab) {
    lab.wait_lldp_settled(Duration::from_secs(30))
        .expect("LLDP settles");
}

#[test]
fn routed_chain_from_one_seed() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "chain.toml",
        "dchain",
        "10.65.0.0/16",
    ));
    settle(&lab);
    let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
    let topo = discover(&lab, &seed, "10.65.0.0/16");
    check(&lab, &topo);
}

#[test]
fn switched_star_with_hosts_that_answer_no_snmp() {
    require_root!();
    let lab = support::lab_up(support::example_spec("star.toml", "dstar", "10.66.0.0/16"));
    settle(&lab);
    let seed = lab.mgmt_addr("sw1").unwrap().to_string();
    let topo = discover(&lab, &seed, "10.66.0.0/16");
    check(&lab, &topo);
    // With a ping sweep of the prefix first, the silent hosts found alive are
    // the same devices the forwarding table placed: nothing is drawn twice.
    let topo = discover_with(&lab, &seed, "10.66.0.0/16", &["--sweep"]);
    check(&lab, &topo);
}

#[test]
fn redundant_mesh_with_out_of_band_management() {
    require_root!();
    let lab = support::lab_up(support::example_spec("mesh.toml", "dmesh", "10.67.0.0/16"));
    settle(&lab);
    let seed = lab.mgmt_addr("r1").unwrap().to_string();
    let topo = discover(&lab, &seed, "10.67.0.0/16");
    check(&lab, &topo);
}

/// A static inventory (NetBox's device CSV) with discovery off: exactly the
/// listed devices are read and polled, a listed address nothing answers is
/// drawn under its listed name and reported, and the unlisted router in the
/// middle of the chain is never read. With discovery on, the same list is
/// completed by discovery.
#[test]
fn static_inventory_polled_with_discovery_off() {
    require_root!();
    let prefix = "10.97.0.0/16";
    let lab = support::lab_up(support::example_spec("chain.toml", "dinv", prefix));
    settle(&lab);
    let (r1, r2, r3) = (
        lab.mgmt_addr("r1").unwrap(),
        lab.mgmt_addr("r2").unwrap(),
        lab.mgmt_addr("r3").unwrap(),
    );
    let ghost = "10.97.250.250";
    let csv = format!(
        "ID,Name,Status,Site,Role,Primary IP,Tags\n\
         1,edge-a,Active,hq,core,{r1}/32,\n\
         2,edge-b,Active,hq,access,{r3}/32,\n\
         3,ghost,Active,hq,access,{ghost}/32,\n\
         4,pdu,Active,hq,power,,\n"
    );
    let config = |discover: bool| {
        format!(
            "[[credentials]]\nname = \"lab\"\nversion = \"2c\"\ncommunity = \"public\"\n\n\
             [discovery]\nprefixes = [\"{prefix}\"]\n\n\
             [inventory]\nfile = \"CSV\"\ndiscover = {discover}\n"
        )
    };
    let (dir, cfg, db, _log) = support::serve::files("inv", &config(false));
    let csv_path = dir.path().join("devices.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let with_csv = |text: String| text.replace("CSV", csv_path.to_str().unwrap());
    std::fs::write(&cfg, with_csv(config(false))).unwrap();

    let out = lab
        .command_in("noc", support::nocmap_bin().to_str().unwrap())
        .unwrap()
        .args(["discover", "--config", cfg.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let topo: Topology = serde_json::from_slice(&out.stdout).unwrap();
    let managed = |topo: &Topology| -> BTreeSet<std::net::IpAddr> {
        let devices = topo.devices.iter().filter(|d| d.managed);
        devices.flat_map(|d| d.addresses.clone()).collect()
    };
    let read = managed(&topo);
    assert!(
        read.contains(&r1.into()) && read.contains(&r3.into()),
        "{read:?}"
    );
    assert!(
        !read.contains(&r2.into()),
        "r2 is not listed, so not read: {read:?}"
    );
    let ghost_node = topo
        .devices
        .iter()
        .find(|d| d.addresses.contains(&ghost.parse().unwrap()))
        .expect("the silent listed device is drawn");
    assert_eq!(ghost_node.sys_name.as_deref(), Some("ghost"));
    assert!(!ghost_node.managed);
    assert!(
        stderr.contains(&format!("listed device `ghost` ({ghost}):")),
        "{stderr}"
    );
    assert!(
        stderr.contains("inventory line 5: `pdu`: no primary IP"),
        "{stderr}"
    );

    // serve polls the list: SNMP up for the listed routers, the silent one
    // down under its listed name, and its problem named in /api/discovery.
    let port = 18470;
    let serve = support::serve::ServeCmd::new(&lab, prefix)
        .config(&cfg)
        .db(&db)
        .poll(2)
        .icmp(2)
        .listen(port)
        .start_captured("inv");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let m = support::noc_get(&lab, port, "/metrics").unwrap_or_default();
        let up = |name: &str, v: &str| {
            m.lines().any(|l| {
                l.starts_with("nocmap_device_snmp_up{")
                    && l.contains(&format!("sys_name=\"{name}\""))
                    && l.ends_with(v)
            })
        };
        let down = m.lines().any(|l| {
            l.starts_with("nocmap_device_up{")
                && l.contains("sys_name=\"ghost\"")
                && l.ends_with(" 0")
        });
        if up("r1", " 1") && up("r3", " 1") && down {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "listed devices polled: {m}\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("nocmap_device_snmp_up{") && l.contains("sys_name=\"r2\"")),
        "r2 is never polled"
    );
    let discovery = support::noc_json(&lab, port, "/api/discovery");
    let problems = discovery["last"]["unreachable"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["name"] == "ghost" && p["addr"] == ghost),
        "{discovery}"
    );
    serve.stop();

    // Discovery on: the list joins the seeds and discovery adds r2.
    std::fs::write(&cfg, with_csv(config(true))).unwrap();
    let json = support::sh(
        lab.command_in("noc", support::nocmap_bin().to_str().unwrap())
            .unwrap()
            .args(["discover", "--config", cfg.to_str().unwrap(), "--json"]),
    );
    let topo: Topology = serde_json::from_str(&json).unwrap();
    assert!(managed(&topo).contains(&r2.into()), "discovery adds r2");
}
