//! The map's layered layout and its labels in a real headless Chromium:
//! every core device drawn above every access device, no two boxes among
//! devices, their labels and the link labels overlapping (cytoscape's
//! rendered bounding boxes), `/` and `/wall` at the same positions, no
//! device moved when re-discovery adds one, and positions that do not
//! depend on the window's size (a map first drawn in a tiny window is the
//! same map, fitted again, once the window grows).
//!
//! Generated campuses of 50 and 500 devices and a chain are served by the
//! real HTTP server in-process on 127.0.0.1 (no lab); the demo lab
//! (`examples/labs/demo.toml`, renamed `wly`, 10.118.0.0/16, port 18118)
//! runs under root with `nocmap serve`. Screenshots go to
//! `target/test-artifacts/web_layout/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{
    all_up, assert_layered, assert_links_clear, assert_no_overlaps, campus, moved, positions,
};
use support::serve::ServeCmd;
use support::server::{runtime, serve_live};

use nocmap::live::Live;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ARTIFACTS: &str = "web_layout";

/// Waits until the page's roles are those the ids say (`c…` core, `d…`
/// distribution, `a…` access, `h…` host): the server worked them out
/// from the structure alone.
fn check_roles(pos: &std::collections::BTreeMap<String, (f64, f64, String)>) {
    for (id, p) in pos {
        let want = match &id[..1] {
            "c" => "core",
            "d" => "distribution",
            "a" => "access",
            _ => "host",
        };
        assert_eq!(p.2, want, "the role of {id}");
    }
}

/// Turns the link labels on as a user does (zooming in; a large map
/// starts zoomed out without labels) and waits for their placement.
fn labels_on(b: &mut Browser) {
    let runs = b.eval("window.__nocmap.labelRuns || 0");
    b.eval("window.__nocmap_cy.zoom({ level: 1, renderedPosition: { x: 0, y: 0 } }), true");
    b.wait(
        &format!("(window.__nocmap.labelRuns || 0) > {runs} && window.__nocmap.labels"),
        20,
        "link labels placed",
        "window.__nocmap.labels",
    );
}

#[test]
fn generated_campuses_are_layered_without_overlaps() {
    require_browser();
    clear_artifacts(ARTIFACTS);
    let rt = runtime();
    for (size, shape) in [(50, (2, 4, 10, 34)), (500, (4, 16, 80, 400))] {
        let mut topo = campus(shape.0, shape.1, shape.2, shape.3);
        if size == 50 {
            unresolved_rows(&mut topo);
        }
        let live = Arc::new(Live::new(topo, 180_000));
        all_up(&live);
        let srv = serve_live(&rt, live.clone());
        let url = format!("http://127.0.0.1:{}", srv.addr.port());
        let mut b = Browser::start_local(ARTIFACTS);
        let t0 = Instant::now();
        b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
        let wall_clock = t0.elapsed();
        // performance.now() counts from the navigation's start.
        let page = b.eval(
            "[Math.round(window.__nocmap.renderedMs), Math.round(window.__nocmap.renderedMs - window.__nocmap.startMs),              Math.round(window.__nocmap.last.layout)]",
        );
        eprintln!(
            "{size} devices: first render {} ms from navigation start ({} ms after the page's script started, layout {} ms); {} ms for the driver's goto",
            page[0],
            page[1],
            page[2],
            wall_clock.as_millis()
        );
        let pos = positions(&mut b);
        let stubs = if size == 50 { 2 } else { 0 };
        assert_eq!(pos.len(), size + stubs, "every device (and stub) drawn");
        check_roles(&pos);
        assert_layered(&pos, &format!("{size} devices"));
        b.screenshot(&format!("{size}-fitted"));
        if size > 150 {
            labels_on(&mut b);
        } else {
            b.wait(
                "window.__nocmap.labels",
                10,
                "link labels placed",
                "window.__nocmap",
            );
        }
        let o = assert_no_overlaps(&mut b, &format!("{size} devices"));
        eprintln!(
            "{size} devices: {} boxes, {} link labels shown, no overlap ({})",
            o["boxes"],
            o["labels"],
            b.eval("JSON.stringify(window.__nocmap.labels)")
        );
        assert!(
            o["labels"].as_u64().unwrap() > 0,
            "some link labels shown: {o}"
        );
        b.screenshot(&format!("{size}-labels"));
        links_clear(&mut b, size);
        if size == 50 {
            check_stubs(&mut b, &pos);
        }

        // The wall: the same positions.
        b.cmd(json!({"cmd": "goto", "url": format!("{url}/wall")}));
        let wall = positions(&mut b);
        assert!(
            moved(&pos, &wall) < 0.5 && wall.len() == pos.len(),
            "/wall draws the devices elsewhere (moved {})",
            moved(&pos, &wall)
        );
        b.screenshot(&format!("{size}-wall"));

        // Re-discovery adds a device: nothing already drawn moves, the new
        // one goes on its row without overlapping anything.
        if size == 50 {
            b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
            let before = positions(&mut b);
            live.update_topology(|t| {
                let mut d = support::topology::device("h999");
                d.sys_name = Some("host-new.campus.example".into());
                t.devices.push(d);
                t.links
                    .push(support::topology::link("l9999", "a003", "h999"));
            });
            all_up(&live);
            b.wait(
                "window.__nocmap_cy.getElementById('h999').nonempty() && window.__nocmap_cy.edges().length",
                20,
                "the new device on the map",
                "window.__nocmap.seq",
            );
            b.wait(
                "window.__nocmap.labels",
                10,
                "link labels placed",
                "window.__nocmap",
            );
            std::thread::sleep(Duration::from_millis(500));
            let after = positions(&mut b);
            let m = moved(&before, &after);
            assert!(m <= 2.0, "a device moved {m} px when one was added");
            let hosts: Vec<f64> = before
                .values()
                .filter(|p| p.2 == "host")
                .map(|p| p.1)
                .collect();
            let new = &after["h999"];
            let top_host = hosts.iter().cloned().fold(f64::MAX, f64::min);
            assert!(
                new.1 >= top_host - 0.5,
                "the new host is on or below the host rows (from {top_host}): {new:?}"
            );
            let a3 = &after["a003"];
            assert!(
                (new.0 - a3.0).abs() < 400.0,
                "the new host is near its switch: {new:?} vs {a3:?}"
            );
            assert_no_overlaps(&mut b, "after a device was added");
            b.screenshot("50-added");
        }
        // A closer look: one switch's family and its neighbours at zoom 1.
        b.eval(
            "(() => { const cy = window.__nocmap_cy; cy.zoom(1); cy.center(cy.getElementById('a003')); return true; })()",
        );
        std::thread::sleep(Duration::from_millis(300));
        b.screenshot(&format!("{size}-zoomed"));
        let events = b.cmd(json!({"cmd": "events"}));
        assert_eq!(events["errors"], json!([]), "page errors: {events}");
        drop(b);
        rt.block_on(srv.stop());
    }
}

/// How the links run with the labels drawn (EDGE_GEOMETRY: from the
/// rendered node centres): no link through a device's body or label that
/// is not one of its ends, but on the 500-device campus the two links of
/// its four-core ring that run along the core row past a core between
/// their ends (a ring of four on one row cannot do without); and no
/// crossings but those of links from two parents to their shared
/// children: each distribution switch on two cores (50: 6, 500: 88), each
/// access switch on a pair of distribution switches (a pair of access
/// switches under one pair crosses once: 50: 2 x C(5,2) = 20, 500:
/// 8 x C(10,2) = 360). With hosts in staggered rows under their
/// switches (before the families were fanned or combed) the 50-device
/// campus drew 28 links through 26 devices (65 hits), the 500-device one
/// 3,627 hits through 418 devices and 140 crossings of a distribution
/// switch's link with an access switch's link to a host.
fn links_clear(b: &mut Browser, size: usize) {
    let (ring, pairs) = if size == 500 {
        (2, (88, 360))
    } else {
        (0, (6, 20))
    };
    assert_links_clear(
        b,
        &format!("{size} devices"),
        &[("core-core through core body", ring)],
        &[
            ("core-distribution|core-distribution", pairs.0),
            ("distribution-access|distribution-access", pairs.1),
        ],
    );
}

/// Neighbour-table rows of a003 that gave no link: two stale ones (one
/// naming a hostile neighbour) and one whose local port is unknown.
fn unresolved_rows(t: &mut nocmap::topology::Topology) {
    use nocmap::topology::{Unresolved, UnresolvedReason};
    let row = |r: &str, n: &str, reason| Unresolved {
        table: "lldpRemTable".into(),
        row: r.into(),
        local_if: Some("to-h999".into()),
        neighbor: Some(n.into()),
        reason,
        macs: vec![],
    };
    let a3 = t.devices.iter_mut().find(|d| d.id.0 == "a003").unwrap();
    a3.unresolved = vec![
        row("0.7.1", XSS_NEIGHBOR, UnresolvedReason::Stale),
        row("0.8.1", "old-switch", UnresolvedReason::Stale),
        row("1.9", "sw-9", UnresolvedReason::LocalPortUnknown),
    ];
}

const XSS_NEIGHBOR: &str = "<img src=x onerror=window.__xss=9>";

/// a003's unresolved rows: one grey dashed stub per reason below it, with
/// the count; a click lists the rows and their reason, as text.
fn check_stubs(b: &mut Browser, pos: &std::collections::BTreeMap<String, (f64, f64, String)>) {
    let stubs = b.eval(
        "window.__nocmap_cy.nodes('[?stub]').map((n) => [n.id(), n.data('label'), n.style('border-style'), \
         n.position().y, n.connectedEdges().map((e) => e.style('line-style'))])",
    );
    let list = stubs.as_array().unwrap();
    assert_eq!(list.len(), 2, "one stub per reason: {stubs}");
    let a3 = pos["a003"].1;
    for s in list {
        assert_eq!(s[2], "dashed", "{s}");
        assert_eq!(s[4], json!(["dashed"]), "{s}");
        assert!(s[3].as_f64().unwrap() > a3, "a stub below its device: {s}");
    }
    let labels: Vec<&str> = list.iter().map(|s| s[1].as_str().unwrap()).collect();
    assert!(labels.contains(&"2 unresolved\nstale row"), "{labels:?}");
    assert!(
        labels.contains(&"1 unresolved\nour port unknown"),
        "{labels:?}"
    );
    let stale = list
        .iter()
        .find(|s| s[1].as_str().unwrap().starts_with('2'))
        .unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    b.cmd(json!({"cmd": "click_node", "id": stale}));
    let panel = b.wait(
        "document.getElementById('detail-title') && document.getElementById('detail-title').textContent.includes('unresolved') \
         && document.getElementById('detail').textContent",
        10,
        "the stub's panel",
        "document.getElementById('detail').textContent",
    );
    let panel = panel.as_str().unwrap();
    for want in [
        "stale row",
        "a003",
        "0.7.1",
        "0.8.1",
        XSS_NEIGHBOR,
        "old-switch",
        "lldpRemTable",
    ] {
        assert!(panel.contains(want), "{want} in the panel: {panel}");
    }
    assert!(!panel.contains("sw-9"), "only the stale rows: {panel}");
    assert_eq!(
        b.eval("[document.querySelectorAll('#detail img').length, typeof window.__xss]"),
        json!([0, "undefined"]),
        "the neighbour's name is text"
    );
    b.screenshot("50-stub-panel");
}

/// The chain noc ── r1 ── r2 with the poller at one end.
fn chain() -> nocmap::topology::Topology {
    use support::topology::{device, link};
    let mut noc = device("noc");
    noc.poller = true;
    noc.managed = false;
    nocmap::topology::Topology {
        devices: vec![noc, device("r1"), device("r2")],
        links: vec![link("l1", "noc", "r1"), link("l2", "r1", "r2")],
    }
}

/// The positions of noc, r1, r2 and whether r1 is between the others
/// (nearer to each than they are to each other).
fn chain_order(p: &std::collections::BTreeMap<String, (f64, f64, String)>) -> bool {
    let d = |a: &str, b: &str| ((p[a].0 - p[b].0).powi(2) + (p[a].1 - p[b].1).powi(2)).sqrt();
    d("noc", "r2") > d("noc", "r1").max(d("r1", "r2"))
}

/// A map first drawn while its container is tiny (a 560 px window leaves
/// the map 180 px beside the side panel, as CI saw behind the token
/// prompt) has the positions of one drawn in a large window, and is
/// fitted to the container once the window grows.
#[test]
fn a_map_first_drawn_tiny_is_the_same_map_once_the_window_grows() {
    require_browser();
    let rt = runtime();
    let live = Arc::new(Live::new(chain(), 180_000));
    all_up(&live);
    let srv = serve_live(&rt, live);
    let url = format!("http://127.0.0.1:{}/", srv.addr.port());
    let mut b = Browser::start_local(ARTIFACTS);
    b.cmd(json!({"cmd": "viewport", "width": 560, "height": 400}));
    b.cmd(json!({"cmd": "goto", "url": url}));
    let width = b.eval("window.__nocmap_cy.width()");
    assert!(width.as_f64().unwrap() < 200.0, "a tiny map: {width}");
    let tiny = positions(&mut b);
    b.screenshot("chain-tiny");
    b.cmd(json!({"cmd": "viewport", "width": 1400, "height": 900}));
    b.wait(
        "window.__nocmap_cy.width() > 900",
        10,
        "the map resized",
        "window.__nocmap_cy.width()",
    );
    std::thread::sleep(Duration::from_millis(300));
    let grown = positions(&mut b);
    b.screenshot("chain-grown");
    assert!(moved(&tiny, &grown) < 0.5, "{tiny:?} -> {grown:?}");
    assert!(
        chain_order(&grown),
        "r1 is not between the noc and r2: {grown:?}"
    );
    // Fitted again: the drawing spans the grown container.
    let spread: Value = b.eval(
        "(() => { const cy = window.__nocmap_cy; const xs = cy.nodes().map((n) => n.renderedPosition().x); \
         const ys = cy.nodes().map((n) => n.renderedPosition().y); \
         return { w: cy.width(), h: cy.height(), dx: Math.max(...xs) - Math.min(...xs), dy: Math.max(...ys) - Math.min(...ys), \
                  inside: cy.nodes().every((n) => { const p = n.renderedPosition(); return p.x > 0 && p.y > 0 && p.x < cy.width() && p.y < cy.height(); }) }; })()",
    );
    let frac = (spread["dx"].as_f64().unwrap() / spread["w"].as_f64().unwrap())
        .max(spread["dy"].as_f64().unwrap() / spread["h"].as_f64().unwrap());
    assert!(
        spread["inside"] == true && frac > 0.3,
        "the map is not fitted to the grown window: {spread}"
    );
    // A page opened in the large window: the same positions.
    b.cmd(json!({"cmd": "goto", "url": url}));
    let large = positions(&mut b);
    assert!(moved(&tiny, &large) < 0.5, "{tiny:?} vs {large:?}");
    drop(b);
    rt.block_on(srv.stop());
}

/// The 50-device campus with its core pair joined by a LAG of two members
/// (both links marked with one `lag` key, as discovery marks members of
/// an ifStackTable aggregate) and c000 ── d000 doubled by a second,
/// plain link on other ports.
fn campus_with_lag() -> nocmap::topology::Topology {
    use support::topology::{end, link};
    let mut t = campus(2, 4, 10, 34);
    t.links.retain(|l| l.id != "l0000"); // c000 ── c001
    for (k, port) in ["eth1", "eth2"].iter().enumerate() {
        let mut l = link(&format!("lag{k}"), "c000", "c001");
        l.a = end("c000", Some(port));
        l.b = end("c001", Some(port));
        l.lag = Some("c000:bond0--c001:bond0".into());
        t.links.push(l);
    }
    let mut second = link("l9998", "c000", "d000");
    second.a = end("c000", Some("eth9"));
    second.b = end("d000", Some("eth9"));
    t.links.push(second);
    t
}

/// For each pair of devices asked, the visible edges between them: id,
/// members, rendered width, the middle label shown (empty when hidden)
/// and its rendered box, and the rendered midpoint.
const EDGES_BETWEEN: &str = r#"((pairs) => { const cy = window.__nocmap_cy;
  const key = (a, b) => [a, b].sort().join(' ');
  return pairs.map(([a, b]) => cy.edges(':visible').filter((e) => key(e.data('source'), e.data('target')) === key(a, b))
    .map((e) => { const l = e.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true,
        includeMainLabels: true, includeSourceLabels: false, includeTargetLabels: false });
      return { id: e.id(), members: e.data('members'), width: parseFloat(e.renderedStyle('width')),
        label: e.style('label'), labelW: l.w, mid: e.renderedMidpoint() }; }));
})([['c000', 'c001'], ['c000', 'd000'], ['c001', 'd000']])"#;

/// A LAG is one thick edge labelled with its member count, which the
/// link panel lists; parallel links that are no LAG stay two edges,
/// fanned apart; no label overlaps.
#[test]
fn a_lag_is_one_bundle_and_parallel_links_fan_out() {
    require_browser();
    let rt = runtime();
    let live = Arc::new(Live::new(campus_with_lag(), 180_000));
    all_up(&live);
    let srv = serve_live(&rt, live);
    let mut b = Browser::start_local(ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{}/", srv.addr.port())}));
    b.wait(
        "window.__nocmap.labels",
        10,
        "link labels placed",
        "window.__nocmap",
    );
    assert_no_overlaps(&mut b, "a LAG and parallel links");
    b.screenshot("lag");
    let got = b.eval(EDGES_BETWEEN);
    let (lag, parallel, single) = (&got[0], &got[1], &got[2]);
    assert_eq!(
        lag.as_array().unwrap().len(),
        1,
        "the LAG as one edge: {got}"
    );
    assert_eq!(single.as_array().unwrap().len(), 1, "{got}");
    let lag = &lag[0];
    assert_eq!(lag["members"], 2, "{lag}");
    // (The served links have no counters: "stale" follows the count.)
    assert_eq!(lag["label"], "×2 stale", "the member count shown: {lag}");
    assert!(
        lag["labelW"].as_f64().unwrap() > 0.0,
        "the count drawn: {lag}"
    );
    let w = |e: &Value| e["width"].as_f64().unwrap();
    assert!(
        w(lag) > 1.5 * w(&single[0]),
        "the LAG thicker than a link: {got}"
    );
    let p = parallel.as_array().unwrap();
    assert_eq!(p.len(), 2, "two parallel links, two edges: {got}");
    let (m0, m1) = (&p[0]["mid"], &p[1]["mid"]);
    let apart = ((m0["x"].as_f64().unwrap() - m1["x"].as_f64().unwrap()).powi(2)
        + (m0["y"].as_f64().unwrap() - m1["y"].as_f64().unwrap()).powi(2))
    .sqrt();
    assert!(
        apart > 8.0,
        "parallel links fanned apart ({apart} px): {got}"
    );
    assert!(w(&p[0]) < w(lag), "{got}");
    // The link panel lists the members.
    b.cmd(json!({"cmd": "click_edge", "id": lag["id"]}));
    let panel = b.wait(
        "document.getElementById('lag-title') && [document.getElementById('lag-title').textContent, \
         [...document.querySelectorAll('#detail .lag-members li')].map((li) => li.textContent)]",
        10,
        "the LAG's panel",
        "document.getElementById('detail').textContent",
    );
    assert_eq!(panel[0], "LAG ×2", "{panel}");
    let members = panel[1].as_array().unwrap();
    assert_eq!(members.len(), 2, "{panel}");
    for (m, port) in members.iter().zip(["eth1", "eth2"]) {
        assert!(
            m.as_str().unwrap().starts_with(&format!("{port} ↔ {port}")),
            "{panel}"
        );
    }
    b.screenshot("lag-panel");
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    rt.block_on(srv.stop());
}

const PORT: u16 = 18118;

/// The demo network of `nocmap-lab demo` under its own name and prefix.
fn demo_toml() -> String {
    let text = include_str!("../examples/labs/demo.toml");
    let text = text
        .replace("name = \"demo\"", "name = \"wly\"")
        .replace("prefix = \"10.64.0.0/16\"", "prefix = \"10.118.0.0/16\"");
    assert!(text.contains("\"wly\"") && text.contains("10.118.0.0/16"));
    text
}

fn api(lab: &nocmap_lab::Lab, path: &str) -> Option<Value> {
    let out = lab
        .command_in("noc", "curl")
        .unwrap()
        .args([
            "-s",
            "-f",
            "-m",
            "5",
            &format!("http://127.0.0.1:{PORT}{path}"),
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

#[test]
fn the_demo_lab_is_layered_without_overlaps() {
    require_root!();
    require_browser();
    let lab = support::lab_up_toml(&demo_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve = ServeCmd::new(&lab, "10.118.0.0/16")
        .poll(4)
        .icmp(2)
        .listen(PORT)
        .db(&dir.path().join("wly.db"))
        .start();
    // The whole topology, the same twice in a row (late LLDP rows would
    // be placed beside the first layout rather than in it).
    let mut last = String::new();
    let topo = support::wait_until("the demo topology settled", Duration::from_secs(90), || {
        let t = api(&lab, "/api/topology")?;
        let mut names: Vec<String> = t["devices"]
            .as_array()?
            .iter()
            .map(|d| format!("{}={}", d["sys_name"].as_str().unwrap_or("?"), d["role"]))
            .collect();
        names.sort();
        let key = format!("{names:?} {}", t["links"].as_array()?.len());
        let ready = ["core1", "core2", "branch", "acc1"]
            .iter()
            .all(|n| names.iter().any(|s| s.starts_with(&format!("{n}="))));
        let same = key == last;
        last = key;
        std::thread::sleep(Duration::from_millis(1500));
        (ready && same).then_some(t)
    });
    let role = |name: &str| -> String {
        topo["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["sys_name"] == name)
            .map(|d| d["role"].as_str().unwrap().to_string())
            .unwrap()
    };
    eprintln!("demo roles: {last}");
    assert_eq!(
        [role("core1"), role("core2"), role("branch"), role("acc1")],
        ["core", "core", "distribution", "access"],
        "{topo}"
    );
    let mut b = Browser::start(&lab, ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/")}));
    b.wait(
        "window.__nocmap.labels",
        10,
        "link labels placed",
        "window.__nocmap",
    );
    let pos = positions(&mut b);
    assert_layered(&pos, "the demo lab");
    assert_no_overlaps(&mut b, "the demo lab");
    b.screenshot("demo");
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/wall")}));
    let wall = positions(&mut b);
    assert!(
        moved(&pos, &wall) < 0.5 && wall.len() == pos.len(),
        "/wall draws the demo elsewhere: {pos:?} vs {wall:?}"
    );
    b.wait(
        "window.__nocmap.labels",
        10,
        "link labels placed",
        "window.__nocmap",
    );
    assert_no_overlaps(&mut b, "the demo lab on the wall");
    b.screenshot("demo-wall");
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    serve.stop();
}
