//! The map of a real discovered 50-device campus in headless Chromium: lab
//! `m50` (10.180.0.0/16), 2 core, 6 distribution and 42 access switches,
//! each a namespace with snmpd + lldpd, linked by veth pairs (each
//! distribution switch on both cores, 7 access switches on each
//! distribution switch), the noc on core1 running `nocmap serve`.
//! Measured from the page's node positions and rendered bounding boxes:
//! every core above every distribution above every access device, no
//! label/label or label/node overlaps, and `/wall` draws every device
//! where `/` does.
//!
//! Screenshots go to `target/test-artifacts/web_campus50_lab/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::lab::LabToml;
use support::map_layout::{assert_layered, assert_no_overlaps, moved, positions};
use support::serve::ServeCmd;

use serde_json::json;
use std::time::{Duration, Instant};

const ARTIFACTS: &str = "web_campus50_lab";
const PREFIX: &str = "10.180.0.0/16";
const PORT: u16 = 18050;
const DISTS: usize = 6;
const ACCESS: usize = 42;

fn lab_toml() -> String {
    let mut links = String::from("noc:eth0 - core1:noc, core1:e0 - core2:e0");
    for d in 1..=DISTS {
        links += &format!(", core1:d{d} - dist{d}:u1, core2:d{d} - dist{d}:u2");
    }
    for a in 1..=ACCESS {
        let d = (a - 1) / (ACCESS / DISTS) + 1;
        links += &format!(", dist{d}:a{a} - acc{a:02}:u1");
    }
    LabToml::new("m50", PREFIX).links(&links).build()
}

/// The managed devices' count in serve's topology (0 until it answers).
fn managed(lab: &nocmap_lab::Lab) -> usize {
    let out = lab
        .command_in("noc", "curl")
        .unwrap()
        .args(["-s", "-f", "-m", "5"])
        .arg(format!("http://127.0.0.1:{PORT}/api/topology"))
        .output()
        .unwrap();
    let Ok(t) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return 0;
    };
    t["devices"]
        .as_array()
        .map_or(0, |d| d.iter().filter(|d| d["managed"] == true).count())
}

#[test]
fn a_discovered_fifty_device_campus_reads_at_a_glance() {
    require_root!();
    require_browser();
    clear_artifacts(ARTIFACTS);
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(40)).unwrap();
    eprintln!(
        "lab up and LLDP settled: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let serve = ServeCmd::new(&lab, PREFIX)
        .poll(10)
        .icmp(5)
        .listen(PORT)
        .db(&dir.path().join("m50.db"))
        .start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while managed(&lab) < 2 + DISTS + ACCESS {
        assert!(
            Instant::now() < deadline,
            "discovery found {} of 50 devices",
            managed(&lab)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("discovered: {:.1} s", t0.elapsed().as_secs_f64());
    let mut b = Browser::start(&lab, ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/")}));
    b.wait(
        "window.__nocmap.ready && window.__nocmap_cy.nodes().length >= 50",
        30,
        "the map drawn",
        "window.__nocmap",
    );
    let pos = positions(&mut b);
    let count = |role: &str| pos.values().filter(|p| p.2 == role).count();
    assert_eq!(
        (count("core"), count("distribution"), count("access")),
        (2, DISTS, ACCESS),
        "roles as discovered: {pos:?}"
    );
    assert_layered(&pos, "the 50-device lab");
    b.screenshot("1-map");
    assert_no_overlaps(&mut b, "the 50-device lab");
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/wall")}));
    b.wait(
        "window.__nocmap.ready",
        30,
        "the wall drawn",
        "window.__nocmap",
    );
    let wall = positions(&mut b);
    b.screenshot("2-wall");
    let m = moved(&pos, &wall);
    assert!(
        m < 0.5 && wall.len() == pos.len(),
        "/wall draws devices elsewhere (moved {m} px)"
    );
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    serve.stop();
    eprintln!("total: {:.1} s", t0.elapsed().as_secs_f64());
}
