//! The map of a real discovered 50-device campus in headless Chromium: lab
//! `m50` (10.180.0.0/16), 2 core, 6 distribution and 42 access switches,
//! each a namespace with snmpd + lldpd, linked by veth pairs (each
//! distribution switch on both cores, 7 access switches on each
//! distribution switch), the noc on core1 running `nocmap serve`.
//! Measured from the page's node positions and rendered bounding boxes:
//! every core above every distribution above every access device, no
//! label/label or label/node overlaps, no distribution-access links
//! crossing (the core-distribution ones at most the 15 two cores on six
//! switches must make), no link through a device or label that is not
//! one of its ends, and `/wall` draws every device where `/` does. A
//! 43rd access switch (on dist1) has its link down until the map is
//! open: a re-discovery (every 3 s) adds it, no device already drawn
//! moves more than 3 px, the new one goes near and below dist1 and its
//! link runs through no other device; the overlap measure itself is
//! checked by moving it onto dist1.
//! About 16-35 s on two shared cores (lab up 5 s).
//!
//! Screenshots go to `target/test-artifacts/web_campus50_lab/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::lab::LabToml;
use support::map_layout::{
    EDGE_GEOMETRY, OVERLAPS, assert_layered, assert_no_overlaps, moved, positions,
};
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
    // The switch a re-discovery adds: its only link down at first.
    links += ", dist1:a43 - acc43:u1";
    LabToml::new("m50", PREFIX).links(&links).build()
}

/// The managed devices' count in serve's topology (0 until it answers),
/// and whether any device is named acc43.
fn managed(lab: &nocmap_lab::Lab) -> (usize, bool) {
    let out = lab
        .command_in("noc", "curl")
        .unwrap()
        .args(["-s", "-f", "-m", "5"])
        .arg(format!("http://127.0.0.1:{PORT}/api/topology"))
        .output()
        .unwrap();
    let Ok(t) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return (0, false);
    };
    let d = t["devices"].as_array().cloned().unwrap_or_default();
    (
        d.iter().filter(|d| d["managed"] == true).count(),
        d.iter().any(|d| d["sys_name"] == "acc43"),
    )
}

/// The control socket of `node`'s lldpd, under the lab's state directory.
fn lldpd_socket(lab: &nocmap_lab::Lab, node: &str) -> std::path::PathBuf {
    let mut dirs = vec![lab.state_dir().to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.file_name().is_some_and(|f| f == "lldpd.sock")
                && p.parent()
                    .and_then(|q| q.file_name())
                    .is_some_and(|f| f == node)
            {
                return p;
            }
        }
    }
    panic!(
        "no lldpd socket for {node} under {}",
        lab.state_dir().display()
    );
}

/// How the links run: crossings counted from the rendered node centres,
/// and no link through a device (body or label) that is not one of its
/// ends. The campus is a tree below the distribution row (each access
/// switch on one distribution switch): with each row in the order of its
/// parents no distribution-access link needs to cross another, so none
/// may. The two cores are each linked to all six distribution switches
/// (K2,6): drawn on two rows, each pair of distribution switches makes
/// exactly one crossing whatever the order, C(6,2) = 15, the least there
/// is; any other pair of links crossing is a fault. Before the fans and
/// the order by parents the page drew 2 distribution-access crossings
/// and 23 links through 19 devices.
fn assert_links_clear(b: &mut Browser, what: &str) {
    let geo = b.eval(EDGE_GEOMETRY);
    eprintln!("{what}: links as drawn: {geo}");
    let crossings = geo["crossings"].as_object().unwrap();
    for (kind, n) in crossings {
        let n = n.as_u64().unwrap();
        let most = if kind == "core-distribution|core-distribution" {
            15
        } else {
            0
        };
        assert!(
            n <= most,
            "{what}: {n} crossings of {kind} (at most {most})"
        );
    }
    let through = geo["through"].as_array().unwrap();
    if !through.is_empty() {
        b.screenshot(&format!("failed-links-{}", what.replace(' ', "-")));
    }
    assert!(
        through.is_empty(),
        "{what}: links through a device that is not one of their ends: {through:?}"
    );
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
    lab.set_if_state("dist1", "a43", false).unwrap();
    lab.set_if_state("acc43", "u1", false).unwrap();
    // dist1's lldpd forgets acc43 (its hold time) before the discovery.
    let sock = lldpd_socket(&lab, "dist1");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = lab
            .command_in("dist1", "lldpcli")
            .unwrap()
            .arg("-u")
            .arg(&sock)
            .args(["show", "neighbors"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && !text.contains("acc43") {
            break;
        }
        assert!(Instant::now() < deadline, "dist1 still lists acc43: {text}");
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!(
        "acc43 gone from dist1's LLDP: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
    let serve = ServeCmd::bare(&lab)
        .args(["--seed", &seed, "--prefix", PREFIX, "-c", "public"])
        .args(["--rediscover-interval", "3"])
        .poll(10)
        .icmp(5)
        .listen(PORT)
        .db(&dir.path().join("m50.db"))
        .start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while managed(&lab).0 < 2 + DISTS + ACCESS {
        assert!(
            Instant::now() < deadline,
            "discovery found {:?} of 50 devices",
            managed(&lab)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("discovered: {:.1} s", t0.elapsed().as_secs_f64());
    assert_eq!(managed(&lab), (50, false), "acc43 not found yet");
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
    assert_links_clear(&mut b, "the 50-device lab");
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

    // acc43's link up: a re-discovery adds it on the open page; no device
    // already drawn moves, the new one goes near dist1, below it.
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/")}));
    b.wait(
        "window.__nocmap.ready",
        30,
        "the map drawn again",
        "window.__nocmap",
    );
    let before = positions(&mut b);
    lab.set_if_state("dist1", "a43", true).unwrap();
    lab.set_if_state("acc43", "u1", true).unwrap();
    let t1 = Instant::now();
    b.wait(
        "window.__nocmap_cy.nodes().some((n) => n.data('name') === 'acc43')",
        40,
        "acc43 drawn",
        "window.__nocmap_cy.nodes().length",
    );
    eprintln!(
        "acc43 drawn {:.1} s after its link came up",
        t1.elapsed().as_secs_f64()
    );
    let after = positions(&mut b);
    b.screenshot("3-acc43-added");
    let m = moved(&before, &after);
    assert!(m <= 3.0, "after the re-discovery a device moved {m} px");
    let mut id = |name: &str| -> String {
        b.eval(&format!(
            "window.__nocmap_cy.nodes().filter((n) => n.data('name') === {name:?})[0].id()"
        ))
        .as_str()
        .unwrap()
        .to_string()
    };
    let (acc43, dist1) = (id("acc43"), id("dist1"));
    let (new, d1) = (after[&acc43].clone(), after[&dist1].clone());
    assert!(
        (new.0 - d1.0).abs() < 400.0 && new.1 > d1.1,
        "acc43 near and below dist1: {new:?} vs {d1:?}"
    );
    assert_no_overlaps(&mut b, "acc43 added");
    assert_links_clear(&mut b, "acc43 added");
    // The measure sees an overlap: acc43 moved onto dist1 on purpose.
    b.eval(&format!(
        "window.__nocmap_cy.getElementById({:?}).position({{ x: {}, y: {} }})",
        acc43,
        d1.0 + 8.0,
        d1.1 + 4.0
    ));
    let o = b.wait(OVERLAPS, 20, "the labels placed", "window.__nocmap.labels");
    assert!(
        o["overlaps"].as_array().is_some_and(|v| !v.is_empty()),
        "a device moved onto another, no overlap measured: {o}"
    );
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    serve.stop();
    eprintln!("total: {:.1} s", t0.elapsed().as_secs_f64());
}
