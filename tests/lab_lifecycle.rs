//! Lab lifecycle: parallel labs, teardown on drop and on panic, idempotent
//! `up` over leftovers, the star and mesh example labs, and the CLI.
#[macro_use]
mod support;

use nocmap_lab::Lab;
use std::process::Command;
use std::time::Duration;

#[test]
fn two_labs_run_at_once_and_drop_removes_every_namespace() {
    require_root!();
    let a = std::thread::spawn(|| {
        support::lab_up(support::example_spec(
            "star.toml",
            "tlstara",
            "10.231.0.0/16",
        ))
    });
    let b = std::thread::spawn(|| {
        support::lab_up(support::example_spec(
            "star.toml",
            "tlstarb",
            "10.232.0.0/16",
        ))
    });
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let expected_a = a.plan().namespaces();
    assert_eq!(support::lab_namespaces("tlstara").len(), expected_a.len());
    assert_eq!(
        support::lab_namespaces("tlstarb").len(),
        b.plan().namespaces().len()
    );
    for lab in [&a, &b] {
        for n in ["sw1", "h1", "h2", "h3", "h4"] {
            assert!(lab.noc_can_ping(n, 2).unwrap(), "{}: ping {n}", lab.name());
        }
    }
    drop(a);
    assert!(
        support::lab_namespaces("tlstara").is_empty(),
        "a's namespaces gone"
    );
    assert!(
        !std::path::Path::new("/run/nocmap-lab/tlstara").exists(),
        "a's state gone"
    );
    assert!(b.noc_can_ping("h1", 2).unwrap(), "b unaffected");
    drop(b);
    assert!(
        support::lab_namespaces("tlstarb").is_empty(),
        "b's namespaces gone"
    );
}

#[test]
fn a_panicking_test_still_tears_its_lab_down() {
    require_root!();
    let r = std::thread::spawn(|| {
        let _lab = support::lab_up(support::example_spec(
            "chain.toml",
            "tlpanic",
            "10.233.0.0/16",
        ));
        assert!(!support::lab_namespaces("tlpanic").is_empty());
        panic!("deliberate");
    })
    .join();
    assert!(r.is_err(), "the thread panicked");
    assert!(
        support::lab_namespaces("tlpanic").is_empty(),
        "{:?}",
        support::lab_namespaces("tlpanic")
    );
    let leftovers = Command::new("pgrep")
        .args(["-f", "nocmap-lab/tlpanic/"])
        .output()
        .unwrap();
    let ps = Command::new("sh")
        .args([
            "-c",
            &format!(
                "ps -o pid,stat,etimes,args -p {} || true",
                String::from_utf8_lossy(&leftovers.stdout)
                    .trim()
                    .replace('\n', ",")
            ),
        ])
        .output()
        .unwrap();
    assert!(
        leftovers.stdout.is_empty(),
        "no daemons left: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}

#[test]
fn up_replaces_leftovers_of_the_same_lab() {
    require_root!();
    let spec = support::example_spec("chain.toml", "tlagain", "10.234.0.0/16");
    support::lab_up(spec.clone()).detach(); // as if a previous run crashed
    let n = support::lab_namespaces("tlagain").len();
    assert!(n > 0);
    let lab = support::lab_up(spec);
    assert_eq!(support::lab_namespaces("tlagain").len(), n, "no duplicates");
    assert!(lab.processes().iter().all(|p| p.2), "{:?}", lab.processes());
    let snmpds = Command::new("pgrep")
        .args(["-fc", "nocmap-lab/tlagain/nodes/r1/snmpd.conf"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&snmpds.stdout).trim(),
        "1",
        "one snmpd for r1"
    );
    assert!(lab.noc_can_ping("r3", 2).unwrap());
}

#[test]
fn star_lab_managed_and_unmanaged_hosts() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "star.toml",
        "tlstar",
        "10.235.0.0/16",
    ));
    let truth = lab.truth();
    for n in truth.nodes.iter().filter(|n| !n.is_noc) {
        let addr = n.mgmt_addr.unwrap().to_string();
        assert!(lab.noc_can_ping(&n.name, 2).unwrap(), "ping {}", n.name);
        let out = support::run_in(
            &lab,
            "noc",
            "snmpget",
            &[
                "-v2c",
                "-c",
                "public",
                "-r0",
                "-t1",
                "-Oqv",
                &addr,
                "1.3.6.1.2.1.1.5.0",
            ],
        );
        assert_eq!(
            out.status.success(),
            n.managed,
            "{} managed={}",
            n.name,
            n.managed
        );
    }
    lab.wait_lldp_settled(Duration::from_secs(20)).unwrap();
    assert_eq!(lab.lldp_neighbours("sw1").unwrap(), vec!["h1", "h2"]);
    assert_eq!(lab.lldp_neighbours("h1").unwrap(), vec!["sw1"]);
}

#[test]
fn mesh_lab_routes_data_over_the_mesh_and_management_out_of_band() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "mesh.toml",
        "tlmesh",
        "10.236.0.0/16",
    ));
    let truth = lab.truth();
    for n in truth.nodes.iter().filter(|n| !n.is_noc) {
        assert!(lab.noc_can_ping(&n.name, 2).unwrap(), "ping {}", n.name);
    }
    // r1 -> r3's loopback goes over the direct mesh link, not the mgmt LAN.
    let r3_lo = lab.plan().node("r3").unwrap().loopback.unwrap().to_string();
    let route = support::ok_stdout(&lab, "r1", "ip", &["route", "get", &r3_lo]);
    assert!(route.contains("dev eth5"), "{route}");
    // The noc reaches r3's loopback through r3's own mgmt port.
    let route = support::ok_stdout(&lab, "noc", "ip", &["route", "get", &r3_lo]);
    let r3_mgmt = lab.mgmt_addr("r3").unwrap().to_string();
    assert!(route.contains(&format!("via {r3_mgmt}")), "{route}");
    // No default route anywhere near the noc.
    let routes = support::ok_stdout(&lab, "noc", "ip", &["route"]);
    assert!(!routes.contains("default"), "{routes}");
    lab.wait_lldp_settled(Duration::from_secs(25)).unwrap();
    assert_eq!(
        lab.lldp_neighbours("r1").unwrap(),
        vec!["msw", "r2", "r3", "r4"]
    );
}

#[test]
fn cli_up_status_exec_down() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = support::example_spec("chain.toml", "tlcli", "10.237.0.0/16");
    spec.links.clear();
    spec.nodes.truncate(1);
    spec.links.push(nocmap_lab::LinkSpec {
        a: "noc:eth0".into(),
        b: "r1:eth0".into(),
        delay_ms: 3.0,
        jitter_ms: 0.0,
        wire: None,
        rate_mbit: None,
    });
    let file = dir.path().join("cli.toml");
    std::fs::write(&file, toml::to_string(&spec).unwrap()).unwrap();
    let bin = support::lab_bin();
    let run = |args: &[&str]| Command::new(&bin).args(args).output().unwrap();
    let up = run(&["up", file.to_str().unwrap()]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    // The lab outlives the CLI process that built it.
    let status = run(&["status", "tlcli"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(
        text.contains("snmpd@r1") && text.contains("wire noc:eth0<->r1:eth0"),
        "{text}"
    );
    let exec = run(&["exec", "tlcli", "r1", "--", "hostname"]);
    assert!(exec.status.success());
    let attached = Lab::attach("tlcli", std::path::Path::new("/run/nocmap-lab")).unwrap();
    assert!(attached.noc_can_ping("r1", 2).unwrap());
    drop(attached); // an attached handle leaves the lab running
    assert!(!support::lab_namespaces("tlcli").is_empty());
    let down = run(&["down", file.to_str().unwrap()]);
    assert!(down.status.success());
    assert!(support::lab_namespaces("tlcli").is_empty());
}
