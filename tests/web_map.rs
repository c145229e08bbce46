//! The live map page in a real headless Chromium against `nocmap serve` on
//! a lab: the map shows exactly the lab's devices and links, a link changes
//! colour under iperf3 load and turns red and dashed when its interface goes
//! down, a dragged node keeps its place across a reload, and hostile device
//! strings (sysName, sysDescr, sysLocation, ifAlias, LLDP names) reach the
//! page only as text.
//!
//! Both the server and Chromium run inside the lab's noc namespace (no route
//! out of the lab); Chromium is Debian's /usr/bin/chromium driven through
//! playwright-core by `tests/browser/driver.mjs` (JSON commands on stdin).
//! Screenshots go to `target/test-artifacts/web_map/`.
#[macro_use]
mod support;
use support::lab::LabToml;
use support::serve::{Serve, ServeCmd};

use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::browser::{Browser, clear_artifacts, require_browser};

const PORT: u16 = 18090;

const XSS_NAME: &str = "<script>window.__xss=2</script>";
const XSS_DESCR: &str = "<img src=x onerror=window.__xss=1>";
const XSS_LOCATION: &str = "<img src=x onerror=window.__xss=3>";
const XSS_ALIAS: &str = "<svg onload=window.__xss=5>";
const XSS_LLDP_NAME: &str = "<img src=x onerror=window.__xss=6>";
const XSS_LLDP_DESCR: &str = "<script>window.__xss=7</script>";

// x1 carries hostile strings in every field the lab can set; x2 answers no
// SNMP and is known only from what its lldpd announces.
fn lab_toml() -> String {
    LabToml::new("wmap", "10.90.0.0/16")
        .node("r1", "router", "if_speed_mbit = 1000")
        .node("r2", "router", "if_speed_mbit = 1000")
        .node(
            "x1",
            "router",
            r#"agent_sys_name = "<script>window.__xss=2</script>"
sys_descr = "<img src=x onerror=window.__xss=1>"
sys_location = "<img src=x onerror=window.__xss=3>"
sys_contact = "<b onmouseover=window.__xss=4>noc</b>"
if_alias = { eth2 = "<svg onload=window.__xss=5>" }"#,
        )
        .node(
            "x2",
            "host",
            r#"snmp = false
lldp = true
lldp_sys_name = "<img src=x onerror=window.__xss=6>"
lldp_sys_descr = "<script>window.__xss=7</script>""#,
        )
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - x1:eth2, x1:eth3 - x2:eth0")
        .build()
}

/// A seed inside the lab's prefix that no host answers on.
const DEAD_SEED: &str = "10.90.250.1";

fn start_serve(lab: &Lab, db: &Path) -> Serve {
    ServeCmd::new(lab, "10.90.0.0/16")
        // Nothing answers here: the discovery panel must say so.
        .args(["--seed", DEAD_SEED])
        .poll(6)
        .icmp(2)
        .listen(PORT)
        .db(db)
        .start()
}

/// GET over HTTP inside the noc namespace; None until the server answers.
fn api(lab: &Lab, path: &str) -> Option<Value> {
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
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn names(topo: &Value) -> Vec<String> {
    topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["managed"] == true)
        .map(|d| d["sys_name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The topology once discovery found the three managed routers and their links.
fn wait_topology(lab: &Lab) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) = api(lab, "/api/topology") {
            let mut n = names(&t);
            n.sort();
            let links = t["links"].as_array().map_or(0, Vec::len);
            if n.iter().any(|s| s == "r1")
                && n.iter().any(|s| s == "r2")
                && n.iter().any(|s| s == XSS_NAME)
                && links >= 3
            {
                return t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "discovery did not find r1, r2 and x1 in 60 s: {:?}",
            api(lab, "/api/topology")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The r1-r2 edge as the page draws it.
const R1R2: &str = r#"(() => {
  const cy = window.__nocmap_cy;
  const name = (n) => n.data('name');
  const e = cy.edges().filter((e) => {
    const a = name(e.source()), b = name(e.target());
    return (a === 'r1' && b === 'r2') || (a === 'r2' && b === 'r1');
  })[0];
  if (!e) return null;
  return { src: name(e.source()), ab: e.data('abBucket'), ba: e.data('baBucket'),
    state: e.data('state'), lineStyle: e.style('line-style'),
    lineColour: e.style('line-color'), grad: e.data('grad'), seq: window.__nocmap.seq };
})()"#;

/// The id of the device the page knows by `sys_name`.
fn page_id(b: &mut Browser, sys_name: &str) -> Option<String> {
    b.eval(&format!(
        "([...window.__nocmap.model.devices.values()].find((d) => d.sys_name === {}) || {{}}).id || null",
        json!(sys_name)
    ))
    .as_str()
    .map(str::to_string)
}

#[test]
fn live_map_in_chromium() {
    require_root!();
    require_browser();
    clear_artifacts("web_map");
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(&lab, &dir.path().join("wmap.db"));
    let topo = wait_topology(&lab);
    let mut browser = Browser::start(&lab, "web_map");
    browser.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/")}));

    // 1. Exactly the devices and links of the API (and so of the lab).
    let drawn = browser.wait(
        "(() => { const cy = window.__nocmap_cy; return cy.nodes().length > 0 && { nodes: cy.nodes('[!stub]').map((n) => n.id()).sort(), links: cy.edges('[!stub]').flatMap((e) => e.data('links')).sort() }; })()",
        30,
        "the map drawn",
        "window.__nocmap",
    );
    let topo_now = api(&lab, "/api/topology").unwrap_or(topo);
    let mut want_nodes: Vec<String> = topo_now["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    want_nodes.sort();
    let mut want_links: Vec<String> = topo_now["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    want_links.sort();
    let got_nodes: Vec<String> = serde_json::from_value(drawn["nodes"].clone()).unwrap();
    let got_links: Vec<String> = serde_json::from_value(drawn["links"].clone()).unwrap();
    assert_eq!(got_nodes, want_nodes, "devices on the map");
    assert_eq!(got_links, want_links, "links on the map");
    let mut managed = names(&topo_now);
    managed.sort();
    assert_eq!(
        managed,
        vec![XSS_NAME.to_string(), "r1".into(), "r2".into()],
        "the lab's managed devices"
    );
    browser.screenshot("1-map");

    // The seed nothing answered on is named in the discovery panel, with why.
    let not_reached = browser.wait(
        &format!(
            "(() => {{ const li = document.querySelector('#discovery-list li[data-addr=\"{DEAD_SEED}\"]'); \
             return li && !document.getElementById('discovery').hidden ? li.textContent : null; }})()"
        ),
        40,
        "the discovery panel",
        "document.getElementById('discovery').textContent",
    );
    let not_reached = not_reached.as_str().unwrap();
    assert!(
        not_reached.starts_with(&format!(
            "not reached: {DEAD_SEED} — {DEAD_SEED}:161: cannot reach the agent"
        )),
        "{not_reached}"
    );

    // 5. Hostile strings: shown as text in the detail panel, never run.
    eprintln!(
        "page model {}\ncy nodes {}",
        browser.eval("JSON.stringify([...window.__nocmap.model.devices.values()].map((d) => [d.id, d.sys_name, d.managed]))"),
        browser.eval("JSON.stringify(window.__nocmap_cy.nodes().map((n) => [n.id(), n.data('name'), n.data('kind'), n.renderedPosition()]))")
    );
    let x1 = page_id(&mut browser, XSS_NAME).expect("x1 on the page");
    browser.cmd(json!({"cmd": "click_node", "id": x1}));
    let title = browser.wait(
        "document.getElementById('detail-title') && document.getElementById('detail-title').textContent",
        10,
        "the device panel",
        "document.getElementById('detail').textContent",
    );
    assert_eq!(title, XSS_NAME);
    let panel = browser
        .eval("document.getElementById('detail').textContent")
        .as_str()
        .unwrap()
        .to_string();
    for s in [XSS_NAME, XSS_DESCR, XSS_LOCATION] {
        assert!(panel.contains(s), "{s} as text in the panel: {panel}");
    }
    // The device's last events (none stored here), read from the store.
    let events = browser.wait(
        "document.querySelector('#detail .device-events') && document.querySelector('#detail .device-events').textContent",
        10,
        "the device's last events in the panel",
        "document.getElementById('detail').textContent",
    );
    assert_eq!(events, "last eventsno events stored");
    let alias_in_api = topo_now.to_string().contains(XSS_ALIAS);
    if alias_in_api {
        assert!(panel.contains(XSS_ALIAS), "ifAlias as text: {panel}");
    }
    // No element was made from the payloads.
    let injected = browser.eval(
        "document.querySelectorAll('#detail img, #detail script, #detail svg:not(.chart), #detail b').length",
    );
    assert_eq!(injected, 0, "markup from device strings in the DOM");
    browser.screenshot("5-xss-x1");
    // x2 is known only from LLDP: its announced name is what the map shows.
    let x2 = page_id(&mut browser, XSS_LLDP_NAME);
    eprintln!(
        "hostile strings in /api/topology: ifAlias {alias_in_api}, LLDP name {}, LLDP descr {}",
        x2.is_some(),
        topo_now.to_string().contains(XSS_LLDP_DESCR)
    );
    if let Some(x2) = &x2 {
        browser.cmd(json!({"cmd": "click_node", "id": x2}));
        let t = browser.wait(
            &format!(
                "document.getElementById('detail-title') && document.getElementById('detail-title').textContent === {}",
                json!(XSS_LLDP_NAME)
            ),
            10,
            "the LLDP-only device's panel",
            &format!("[window.__nocmap.lastTap, {}, document.getElementById('detail-title').textContent, window.__nocmap_cy.getElementById({}).renderedPosition()]", json!(x2), json!(x2)),
        );
        assert_eq!(t, true);
        browser.screenshot("5-xss-x2");
    }
    std::thread::sleep(Duration::from_millis(500)); // let any onerror fire before looking
    assert_eq!(
        browser.eval("typeof window.__xss"),
        "undefined",
        "a payload ran"
    );
    let events = browser.cmd(json!({"cmd": "events"}));
    assert_eq!(events["dialogs"], json!([]), "a dialog fired: {events}");
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    let csp: Vec<&Value> = events["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.as_str().unwrap_or("").contains("Content Security Policy"))
        .collect();
    assert!(csp.is_empty(), "CSP violations: {csp:?}");

    // 4. A dragged node keeps its place after a reload.
    let r2 = page_id(&mut browser, "r2").expect("r2 on the page");
    let pos = |b: &mut Browser| {
        let p = b.eval(&format!(
            "window.__nocmap_cy.getElementById({}).position()",
            json!(r2)
        ));
        (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap())
    };
    assert_eq!(
        browser.eval("window.__nocmap.canSave"),
        true,
        "admin may save"
    );
    assert_eq!(
        browser.eval(&format!(
            "[document.getElementById('focus').value, window.__nocmap_cy.getElementById({}).visible()]",
            json!(r2)
        )),
        json!(["", true]),
        "the whole map is shown (no neighbourhood view)"
    );
    let before = pos(&mut browser);
    // A real mouse drag; tried again if the page saw no drag (a press that
    // cytoscape took for the end of the previous click, say).
    let mut saved_ok = false;
    for _ in 0..3 {
        browser.cmd(json!({"cmd": "drag", "id": r2, "dx": 90, "dy": -70}));
        let w = json!({"cmd": "wait", "expr": "window.__nocmap.saved >= 1", "timeout_ms": 4000});
        if browser.try_cmd(w).is_ok() {
            saved_ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    if !saved_ok {
        browser.screenshot("failed-drag");
        panic!(
            "no drag saved: {}",
            browser.eval("JSON.stringify({saved: window.__nocmap.saved, nodes: window.__nocmap_cy.nodes().map((n) => [n.data('name'), n.renderedPosition(), n.visible()])})")
        );
    }
    let dragged = pos(&mut browser);
    let moved = ((dragged.0 - before.0).powi(2) + (dragged.1 - before.1).powi(2)).sqrt();
    assert!(
        moved > 10.0,
        "the drag moved the node: {before:?} -> {dragged:?}"
    );
    browser.cmd(json!({"cmd": "reload"}));
    let after = pos(&mut browser);
    assert!(
        (after.0 - dragged.0).abs() < 0.5 && (after.1 - dragged.1).abs() < 0.5,
        "position after reload {after:?}, dragged to {dragged:?}"
    );
    let saved = api(&lab, "/api/map/positions").expect("positions");
    assert!(saved["positions"][&r2].is_object(), "{saved}");
    browser.screenshot("4-after-reload");

    // 2. Load on r1 -> r2 moves the link out of the idle bucket.
    let idle = browser.wait(
        &format!("(() => {{ const e = {R1R2}; return e && e.ab === 0 && e.ba === 0 && e; }})()"),
        60,
        "the r1-r2 link idle with rates",
        R1R2,
    );
    let (_, r2_addr) = lab.link_addrs("r1:eth1").unwrap();
    let r2_addr = r2_addr.unwrap().to_string();
    let mut server = lab
        .command_in("r2", "iperf3")
        .unwrap()
        .args(["-s", "-1", "-B", &r2_addr, "-p", "5390"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut client = support::iperf_udp_client(&lab, "r1", &r2_addr, "5390", "300M", "40");
    // r1 sends: the half at r1 (a→b when r1 is the source) shows the load.
    let dir = if idle["src"] == "r1" { "ab" } else { "ba" };
    let loaded = browser.wait(
        &format!("(() => {{ const e = {R1R2}; return e && e.{dir} >= 1 && e; }})()"),
        40,
        "the r1-r2 link coloured by the iperf3 load",
        R1R2,
    );
    eprintln!("r1-r2 idle {idle}, loaded {loaded}");
    assert_ne!(loaded["grad"], idle["grad"], "the colour changed");
    browser.screenshot("2-loaded");
    let _ = client.kill();
    let _ = client.wait();
    let _ = server.kill();
    let _ = server.wait();

    // 3. The interface goes down: the link turns red and dashed.
    lab.set_if_state("r1", "eth1", false).unwrap();
    let down = browser.wait(
        &format!(
            "(() => {{ const e = {R1R2}; return e && e.state === 'down' && e.lineStyle === 'dashed' && e; }})()"
        ),
        40,
        "the r1-r2 link drawn down",
        R1R2,
    );
    assert_eq!(down["lineColour"], "rgb(224,0,0)", "{down}");
    browser.screenshot("3-down");
    lab.set_if_state("r1", "eth1", true).unwrap();

    // The feed goes silent (server stopped): the banner shows; it goes away
    // once the page has reconnected by itself.
    let pid = serve.child.id() as i32;
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    browser.wait(
        "!document.getElementById('feed-banner').hidden",
        20,
        "the feed-lost banner",
        "window.__nocmap.feed",
    );
    browser.screenshot("6-feed-lost");
    unsafe { libc::kill(pid, libc::SIGCONT) };
    browser.wait(
        "document.getElementById('feed-banner').hidden && window.__nocmap.feed === 'live'",
        60,
        "the feed back",
        "window.__nocmap.feed",
    );

    // The NOC wall: dark, no controls, the alarm summary shown.
    browser.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/wall")}));
    let wall = browser.eval(
        "({ wall: document.body.classList.contains('wall'), controls: getComputedStyle(document.getElementById('controls')).display, alarms: !document.getElementById('alarms').hidden })",
    );
    assert_eq!(
        wall,
        json!({"wall": true, "controls": "none", "alarms": true}),
        "wall mode"
    );
    browser.screenshot("7-wall");
    let events = browser.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
}

/// Without root: the page and its files are served from the binary with the
/// CSP, without a token even when the API needs one; nothing else is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_and_assets_are_served_with_the_csp() {
    use nocmap::server::{AppState, AuthConfig, CONTENT_SECURITY_POLICY};
    let state = AppState {
        auth: Some(AuthConfig {
            admin_token: nocmap::types::Secret::new(support::server::ADMIN),
            read_only_token: None,
        }),
        ..AppState::new(support::server::hostile_live())
    };
    let srv = support::server::start(state);
    for (path, ct) in [
        ("/", "text/html"),
        ("/wall", "text/html"),
        ("/js/app.js", "text/javascript"),
        ("/css/map.css", "text/css"),
        ("/vendor/cytoscape.min.js", "text/javascript"),
    ] {
        let r = support::server::get(srv.addr, path, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with(ct), "{path}");
        assert_eq!(
            r.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
    }
    for path in [
        "/nope.js",
        "/js/",
        "/js/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/vendor/refresh.sh",
    ] {
        let r = support::server::get(srv.addr, path, None).await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = support::server::get(srv.addr, "/api/topology", None).await;
    assert_eq!(r.status, 401);
    srv.stop().await;
}
