//! The map page's controls in a real headless Chromium against a real
//! `nocmap serve` (with `[server] token` and `read_only_token`) on a lab,
//! used the way a network engineer uses them:
//!
//! 1. the token prompt: no token shows the form, a wrong token shows it
//!    again, the viewer token loads the map;
//! 2. the viewer role: `canSave` false, the read-only note, a dragged node
//!    and "auto layout" send no PUT/DELETE (and a PUT sent by hand is
//!    refused with 403); the admin token (after "logging out") may save;
//! 3. the search box, the prefix (CIDR) filter, the site filter and the
//!    neighbourhood ("around", depth) show exactly the lab's expected
//!    devices; bad prefixes are marked and break nothing;
//! 4. the PNG and SVG exports download a real PNG and a well-formed SVG
//!    carrying every device name as text, hostile names escaped;
//! 5. the time-range picker of the device and link panels asks for the
//!    chosen range (`since`, `resolution=auto`) and redraws the chart;
//! 6. the alerts panel lists a firing alert and a flapping one as text.
//!
//! Console errors, page errors, dialogs and answers >= 400 (other than the
//! deliberate 401s of the token prompt and the one deliberate 403) are
//! collected over the whole session and must be none.
//!
//! Lab `wu` (10.92.0.0/16): noc ── r1 ── r2 ── r3, r1 ── x1 (x1's sysName
//! and sysLocation are hostile). r2:eth3 flaps during the test. Server and
//! Chromium both run in the noc namespace (no route out of the lab);
//! screenshots and the exported files go to `target/test-artifacts/web_ui/`.
#[macro_use]
mod support;

use ipnet::Ipv4Net;
use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};
use support::browser::{Browser, fresh_artifacts, require_browser};
use support::web_ui::*;

#[test]
fn map_controls_in_chromium() {
    require_root!();
    require_browser();
    let t0 = Instant::now();
    let art = fresh_artifacts("web_ui");
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("nocmap.toml");
    std::fs::write(&cfg, config()).unwrap();
    let _serve = start_serve(&lab, &cfg, &dir.path().join("wu.db"));
    let topo = wait_topology(&lab);
    eprintln!(
        "lab up and discovered in {:.1} s: {}",
        t0.elapsed().as_secs_f64(),
        topo["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!(
                "{} (managed {}, poller {})",
                name_of(d),
                d["managed"],
                d["poller"]
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let id = ids(&topo);
    let all_names: BTreeSet<String> = id.keys().cloned().collect();
    let poller = topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["poller"] == true)
        .map(name_of)
        .expect("the poller is on the map");
    assert_eq!(
        all_names,
        set(["r1", "r2", "r3", X1_NAME, &poller]),
        "the lab's devices and the poller, nothing else"
    );
    // Without a token the API refuses, with the viewer's it answers.
    assert_eq!(api_status(&lab, "/api/topology", None).unwrap().0, 401);
    assert_eq!(
        api_status(&lab, "/api/topology", Some(VIEWER)).unwrap().0,
        200
    );

    let mut b = Browser::start(&lab, "web_ui");
    let page = format!("http://127.0.0.1:{PORT}/");

    // 1. The token prompt: no token, then a wrong one, then the viewer's.
    b.cmd(json!({"cmd": "open", "url": page}));
    b.wait(
        "!document.getElementById('token-form').hidden && document.getElementById('token-refused').hidden",
        20,
        "the prompt, with no refusal yet",
        "document.body.innerText",
    );
    b.screenshot("1-token-prompt");
    log_in(&mut b, "not-the-token-at-all");
    b.wait(
        "!document.getElementById('token-form').hidden && !document.getElementById('token-refused').hidden",
        20,
        "the prompt again after a wrong token, saying it was refused",
        "document.body.innerText",
    );
    assert_eq!(b.eval("window.__nocmap.ready"), false);
    log_in(&mut b, VIEWER);
    b.wait(
        "window.__nocmap.ready && document.getElementById('token-form').hidden",
        30,
        "the map after the viewer token",
        "[window.__nocmap, document.body.innerText]",
    );
    expect_visible(&mut b, &all_names, "every device drawn for the viewer");
    b.screenshot("1-viewer-map");
    // Only the prompt's own requests were refused: /api calls without a
    // token or with the wrong one, each a 401.
    let (reqs, bad, failed) = network(&mut b);
    assert!(
        !bad.is_empty() && bad.iter().all(|r| r["status"] == 401),
        "answers >= 400 while logging in: {bad:?}"
    );
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    assert!(
        reqs.iter()
            .any(|(m, p)| m == "GET" && p.starts_with("/api/events")),
        "the live feed is read: {reqs:?}"
    );
    no_page_errors(&mut b, &["status of 401 (Unauthorized)"], "logging in");

    // The interface flaps in the background while the viewer works (6.).
    let flapping_started = Instant::now();
    std::thread::scope(|s| {
        let flapper = s.spawn(|| flap(&lab, 4));
        viewer_session(&mut b, &lab, &topo, &id, &all_names, &poller, &art);
        flapper.join().unwrap();
    });
    eprintln!(
        "viewer session (with the flapping) took {:.1} s",
        flapping_started.elapsed().as_secs_f64()
    );

    // 6. The alerts panel lists the firing and the flapping alert as text.
    let alerts = b.wait(
        "(() => { const t = document.getElementById('alert-list').innerText; \
         return !document.getElementById('alerts').hidden && /r1-rtt/.test(t) && /r2-eth3-down[^\\n]*flapping/.test(t) && t; })()",
        45,
        "the firing and the flapping alert in the alerts panel",
        "[document.getElementById('alerts').hidden, document.getElementById('alert-list').innerText]",
    );
    let alerts = alerts.as_str().unwrap();
    eprintln!("alerts panel:\n{alerts}");
    let rtt_line = alerts.lines().find(|l| l.contains("r1-rtt")).unwrap();
    for part in ["warning", "firing", "r1"] {
        assert!(
            rtt_line.split(" · ").any(|p| p == part),
            "{part} in {rtt_line:?}"
        );
    }
    let flap_line = alerts.lines().find(|l| l.contains("r2-eth3-down")).unwrap();
    for part in ["info", "r2", "eth3", "flapping"] {
        assert!(
            flap_line.split(" · ").any(|p| p == part),
            "{part} in {flap_line:?}"
        );
    }
    let listed = api(&lab, "/api/alerts").unwrap();
    assert!(
        listed["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["rule"] == "r2-eth3-down" && a["flapping"] == true),
        "{listed}"
    );
    b.screenshot("6-alerts");
    no_page_errors(&mut b, &[], "the alerts panel");

    // 2. (admin) Log out (a fresh session store) and in with the admin token.
    b.eval("sessionStorage.clear()");
    b.cmd(json!({"cmd": "open", "url": page}));
    log_in(&mut b, ADMIN);
    b.wait(
        "window.__nocmap.ready",
        30,
        "the map after the admin token",
        "window.__nocmap",
    );
    let role = b.eval(
        "({ role: window.__nocmap.role, canSave: window.__nocmap.canSave, note: document.getElementById('role-note').textContent, relayout: document.getElementById('relayout').title })",
    );
    assert_eq!(
        role,
        json!({"role": "admin", "canSave": true, "note": "",
               "relayout": "forget saved positions and lay the map out again"}),
        "the admin's page"
    );
    b.screenshot("2-admin");
    let (_, bad, failed) = network(&mut b);
    assert!(
        bad.iter().all(|r| r["status"] == 401),
        "answers >= 400 around the admin login: {bad:?}"
    );
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    no_page_errors(&mut b, &["status of 401 (Unauthorized)"], "the admin login");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(b.eval("typeof window.__xss"), "undefined", "a payload ran");
    eprintln!("web_ui done in {:.1} s", t0.elapsed().as_secs_f64());
}

/// 2. (viewer), 3., 4. and 5., all with the viewer token.
fn viewer_session(
    b: &mut Browser,
    lab: &Lab,
    topo: &Value,
    id: &BTreeMap<String, String>,
    all_names: &BTreeSet<String>,
    poller: &str,
    art: &Path,
) {
    // 2. Read-only: nothing offered or sent that needs the admin role.
    let role = b.eval(
        "({ role: window.__nocmap.role, canSave: window.__nocmap.canSave, note: document.getElementById('role-note').textContent, relayout: document.getElementById('relayout').title })",
    );
    assert_eq!(
        role,
        json!({"role": "read_only", "canSave": false,
               "note": "read-only: moved nodes are not saved",
               "relayout": "lay the map out again (not saved)"}),
        "the viewer's page"
    );
    let r2 = &id["r2"];
    let pos = |b: &mut Browser| {
        let p = b.eval(&format!(
            "window.__nocmap_cy.getElementById({}).position()",
            json!(r2)
        ));
        (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap())
    };
    // A real mouse drag, tried again if the page saw none (a press that
    // cytoscape took for the end of an earlier click).
    let before = pos(b);
    let mut after = before;
    for _ in 0..3 {
        b.cmd(json!({"cmd": "drag", "id": r2, "dx": 80, "dy": 60}));
        after = pos(b);
        if (after.0 - before.0).abs() + (after.1 - before.1).abs() > 10.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    assert!(
        (after.0 - before.0).abs() + (after.1 - before.1).abs() > 10.0,
        "the viewer may still move a node on the screen: {before:?} -> {after:?}"
    );
    b.cmd(json!({"cmd": "click", "selector": "#relayout"}));
    std::thread::sleep(Duration::from_millis(800)); // past the page's 250 ms save delay
    let (reqs, bad, _) = network(b);
    let writes: Vec<_> = reqs.iter().filter(|(m, _)| m != "GET").collect();
    assert!(writes.is_empty(), "the viewer's page sent {writes:?}");
    assert!(bad.is_empty(), "answers >= 400: {bad:?}");
    assert_eq!(b.eval("window.__nocmap.saved"), 0);
    // Sent by hand with the viewer's token, the server refuses it.
    let status = b.eval(&format!(
        "fetch('/api/map/positions', {{ method: 'PUT', headers: {{ 'Authorization': 'Bearer ' + sessionStorage.getItem('nocmap_token'), 'Content-Type': 'application/json' }}, body: JSON.stringify({{ positions: {{ {}: {{ x: 1, y: 2 }} }} }}) }}).then((r) => r.status)",
        json!(r2)
    ));
    assert_eq!(status, 403, "PUT /api/map/positions with the viewer token");
    let saved = api(lab, "/api/map/positions").unwrap();
    assert_eq!(saved["positions"], json!({}), "nothing saved: {saved}");
    let (_, bad, _) = network(b);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (&bad[0]["status"], &bad[0]["method"]),
        (&json!(403), &json!("PUT"))
    );
    no_page_errors(b, &["status of 403 (Forbidden)"], "the read-only role");
    b.screenshot("2-viewer-dragged");

    // 3. Filters. The search outlines the matches and fades the rest.
    b.cmd(json!({"cmd": "fill", "selector": "#search", "text": "r3"}));
    assert_eq!(
        search_marks(b),
        (set(["r3"]), &all_names.clone() - &set(["r3"])),
        "search r3"
    );
    let addrs = addresses(topo);
    let r3_lo = lab.mgmt_addr("r3").unwrap();
    assert!(addrs["r3"].contains(&r3_lo), "{addrs:?}");
    b.cmd(json!({"cmd": "fill", "selector": "#search", "text": r3_lo.to_string()}));
    assert_eq!(search_marks(b).0, set(["r3"]), "search {r3_lo}");
    b.cmd(json!({"cmd": "fill", "selector": "#search", "text": "R&D"}));
    assert_eq!(search_marks(b).0, set([X1_NAME]), "search R&D");
    b.screenshot("3-search");
    b.cmd(json!({"cmd": "fill", "selector": "#search", "text": ""}));
    assert_eq!(search_marks(b), (set([]), set([])), "search cleared");
    expect_visible(b, all_names, "the search hides nothing");

    // The prefix: the r2-r3 /30, r3's loopback, the lab's /16.
    let (r2_eth3, _) = lab.link_addrs("r2:eth3").unwrap();
    let p2p = Ipv4Net::new(r2_eth3.unwrap(), 30).unwrap().trunc();
    prefix_filter(b, &p2p.to_string());
    expect_visible(b, &set(["r2", "r3"]), "prefix of the r2-r3 link");
    b.screenshot("3-prefix");
    prefix_filter(b, &format!("{r3_lo}/32"));
    expect_visible(b, &set(["r3"]), "r3's loopback /32");
    prefix_filter(b, "10.92.0.0/16");
    let in_lab: BTreeSet<String> = addrs
        .iter()
        .filter(|(_, a)| {
            a.iter()
                .any(|a| "10.92.0.0/16".parse::<Ipv4Net>().unwrap().contains(a))
        })
        .map(|(n, _)| n.clone())
        .collect();
    assert!(in_lab.is_superset(&set(["r1", "r2", "r3", X1_NAME])));
    expect_visible(b, &in_lab, "the lab's /16");
    prefix_filter(b, "10.92.0.0/8");
    expect_visible(b, &in_lab, "10.92.0.0/8 (host bits set: the /8)");
    // Bad prefixes are marked and filter nothing.
    for bad in [
        "10.92.0.0/33",
        "10.92.300.0/24",
        "r3",
        "10.92.0.0/",
        "::1/129",
    ] {
        prefix_filter(b, bad);
        expect_visible(b, all_names, &format!("bad prefix {bad}"));
        assert_eq!(
            b.eval("document.getElementById('prefix').classList.contains('invalid')"),
            true,
            "{bad} marked invalid"
        );
    }
    b.screenshot("3-bad-prefix");
    prefix_filter(b, "");
    assert_eq!(
        b.eval("document.getElementById('prefix').classList.contains('invalid')"),
        false
    );
    expect_visible(b, all_names, "prefix cleared");

    // Sites: every sysLocation offered (the hostile one as text).
    let sites = b.eval("[...document.getElementById('site').options].map((o) => o.textContent)");
    let mut want_sites = vec!["all sites", "dc-east", "dc-west", X1_SITE];
    want_sites[1..].sort();
    assert_eq!(sites, json!(want_sites), "the site choices");
    for (site, want) in [
        ("dc-west", set(["r3"])),
        ("dc-east", set(["r1", "r2"])),
        (X1_SITE, set([X1_NAME])),
    ] {
        b.cmd(json!({"cmd": "select", "selector": "#site", "value": site}));
        expect_visible(b, &want, &format!("site {site}"));
    }
    b.screenshot("3-site");
    // A site and a prefix together: both must match.
    b.cmd(json!({"cmd": "select", "selector": "#site", "value": "dc-east"}));
    prefix_filter(b, &p2p.to_string());
    expect_visible(b, &set(["r2"]), "site dc-east and the r2-r3 /30");
    prefix_filter(b, "");
    b.cmd(json!({"cmd": "select", "selector": "#site", "value": ""}));
    expect_visible(b, all_names, "all sites");

    // Around r3: 1, 2 and 3 hops along the chain poller - r1 - r2 - r3.
    let focus_names =
        b.eval("[...document.getElementById('focus').options].map((o) => o.textContent)");
    let offered: BTreeSet<String> = serde_json::from_value(focus_names.clone()).unwrap();
    assert_eq!(
        (&focus_names[0], offered),
        (&json!("whole map"), all_names | &set(["whole map"])),
        "the neighbourhood choices: {focus_names}"
    );
    b.cmd(json!({"cmd": "select", "selector": "#focus", "value": id["r3"]}));
    expect_visible(
        b,
        &set(["r1", "r2", "r3"]),
        "2 hops around r3 (the default)",
    );
    b.cmd(json!({"cmd": "select", "selector": "#depth", "value": "1"}));
    expect_visible(b, &set(["r2", "r3"]), "1 hop around r3");
    b.screenshot("3-around-r3-1");
    b.cmd(json!({"cmd": "select", "selector": "#depth", "value": "3"}));
    expect_visible(
        b,
        &set(["r1", "r2", "r3", X1_NAME, poller]),
        "3 hops around r3",
    );
    b.cmd(json!({"cmd": "select", "selector": "#focus", "value": id[X1_NAME]}));
    b.cmd(json!({"cmd": "select", "selector": "#depth", "value": "1"}));
    expect_visible(b, &set(["r1", X1_NAME]), "1 hop around x1");
    // The neighbourhood and a site: the focus stays, its neighbours must match.
    b.cmd(json!({"cmd": "select", "selector": "#depth", "value": "2"}));
    b.cmd(json!({"cmd": "select", "selector": "#site", "value": "dc-east"}));
    expect_visible(
        b,
        &set(["r1", "r2", X1_NAME]),
        "2 hops around x1 in dc-east",
    );
    b.cmd(json!({"cmd": "select", "selector": "#site", "value": ""}));
    b.cmd(json!({"cmd": "select", "selector": "#focus", "value": ""}));
    expect_visible(b, all_names, "the whole map again");
    no_page_errors(b, &[], "the filters");

    // 4. Exports of the whole map.
    let png_path = art.join("export.png");
    let d = download(b, "#export-png", &png_path);
    assert_eq!(d["name"], "nocmap-map.png", "{d}");
    let png = std::fs::read(&png_path).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "a PNG ({} bytes, starts {:?})",
        png.len(),
        &png[..png.len().min(16)]
    );
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert!(w >= 100 && h >= 100, "PNG size {w}x{h}");
    let svg_path = art.join("export.svg");
    let d = download(b, "#export-svg", &svg_path);
    assert_eq!(d["name"], "nocmap-map.svg", "{d}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let texts = svg_texts(&svg);
    for n in all_names {
        assert!(
            texts.iter().any(|t| t == n),
            "{n:?} as a text element of the SVG: {texts:?}"
        );
    }
    assert!(
        !svg.contains("<script") && !svg.contains("<img") && svg.contains("&lt;script&gt;"),
        "the hostile name escaped in the SVG"
    );
    assert!(svg.contains("R&amp;D"), "& escaped in the SVG");
    eprintln!(
        "exports: PNG {w}x{h} ({} bytes), SVG {} bytes, {} text elements",
        png.len(),
        svg.len(),
        texts.len()
    );
    let (_, bad, failed) = network(b);
    assert!(bad.is_empty() && failed.is_empty(), "{bad:?} {failed:?}");
    no_page_errors(b, &[], "the exports");

    // 5. The device panel's history: 1 h by default, then 6 h and 7 d.
    let r1 = &id["r1"];
    network(b);
    b.cmd(json!({"cmd": "click_node", "id": r1}));
    chart_ranges(
        b,
        lab,
        "/api/devices/",
        &["rtt_avg_ms", "rtt_max_ms", "loss_pct"],
        "r1",
        "1h",
        &["6h", "7d"],
    );
    b.screenshot("5-device-history");
    // The link panel's: bits/s and errors/s at one end.
    let edge = edge_between(b, r1, &id["r2"]);
    network(b);
    b.cmd(json!({"cmd": "click_edge", "id": edge}));
    let title = b.wait(
        "document.getElementById('detail-title') && document.getElementById('detail-title').textContent.includes('↔') && document.getElementById('detail-title').textContent",
        10,
        "the link panel",
        "document.getElementById('detail').innerText",
    );
    let title = title.as_str().unwrap();
    assert!(title.contains("r1") && title.contains("r2"), "{title}");
    chart_ranges(
        b,
        lab,
        "/api/interfaces/",
        &["in_bps", "out_bps", "in_errors_ps", "out_errors_ps"],
        "r1-r2",
        "7d",
        &["24h", "30d"],
    );
    b.screenshot("5-link-history");
    // The link to the poller: its charts load too (whichever end they use).
    let edge = edge_between(b, r1, &id[poller]);
    network(b);
    b.cmd(json!({"cmd": "click_edge", "id": edge}));
    b.wait(
        &format!(
            "document.getElementById('detail-title') && document.getElementById('detail-title').textContent.includes({})",
            json!(poller)
        ),
        10,
        "the poller link's panel",
        "document.getElementById('detail').innerText",
    );
    chart_ranges(
        b,
        lab,
        "/api/interfaces/",
        &["in_bps", "out_bps", "in_errors_ps", "out_errors_ps"],
        "r1-poller",
        "30d",
        &["1h"],
    );
    no_page_errors(b, &[], "the history charts");
}
