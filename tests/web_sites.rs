//! Sites and the change view of the map in a real headless Chromium, served
//! by the real HTTP server in-process on 127.0.0.1 (no lab):
//!
//! - 2,000 devices in 40 sites (`site:` tags from a `[[groups]]` rule for
//!   one site, the sysLocation for the others, one of them hostile) open
//!   with every site collapsed into one summary node coloured by the worst
//!   state inside;
//!   clicking a summary expands the site's box with its devices laid out in
//!   layers; first render and expand/collapse times are printed (see
//!   BENCHMARKS.md), not asserted.
//! - A baseline saved with the page's button, then a link added and one
//!   removed (and a device added and one removed) in the served topology:
//!   the map marks the new ones green and draws the gone ones as dashed
//!   red ghosts, and the changes panel lists them.
//!
//! Screenshots go to `target/test-artifacts/web_sites/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{EDGE_GEOMETRY, all_up, box_holds, campus};
use support::server::runtime;
use support::site_boxes::drag_box_and_device;
use support::topology::{device, link};

use nocmap::live::{Live, Reachability};
use nocmap::server::AppState;
use nocmap::server::feed::Feed;
use nocmap::topology::{DeviceId, Topology};
use serde_json::{Value, json};
use std::sync::Arc;

const ARTIFACTS: &str = "web_sites";
const SITES: usize = 40;

fn site_name(s: usize) -> String {
    if s == 0 {
        "HQ (configured)".into()
    } else if s == SITES - 1 {
        // Hostile: text in the page, canvas text on the map.
        format!("<b>Site {s:02}</b>")
    } else {
        format!("Site {s:02}")
    }
}

/// 40 campuses of 50 devices (1 core, 2 distribution, 7 access, 40
/// hosts), ids `sNN-<campus id>`, each with the sysLocation "Site NN" (
/// padded with blanks, which the server trims); site 0's location says
/// "Basement" but a `site:` tag names it; the cores in a ring.
fn sites_topology() -> Topology {
    let mut t = Topology::default();
    for s in 0..SITES {
        let c = campus(1, 2, 7, 40);
        for mut d in c.devices {
            d.id = DeviceId(format!("s{s:02}-{}", d.id.0));
            d.sys_name = Some(format!("s{s:02}-{}", d.sys_name.unwrap_or_default()));
            d.sys_location = Some(if s == 0 {
                "Basement".into()
            } else {
                format!("  {}  ", site_name(s))
            });
            t.devices.push(d);
        }
        for mut l in c.links {
            l.id = format!("s{s:02}-{}", l.id);
            l.a.device = DeviceId(format!("s{s:02}-{}", l.a.device.0));
            l.b.device = DeviceId(format!("s{s:02}-{}", l.b.device.0));
            t.links.push(l);
        }
        let next = (s + 1) % SITES;
        t.links.push(link(
            &format!("wan{s:02}"),
            &format!("s{s:02}-c000"),
            &format!("s{next:02}-c000"),
        ));
    }
    t
}

fn serve(rt: &tokio::runtime::Runtime, state: AppState) -> (support::server::Running, String) {
    let _in = rt.enter();
    let srv = support::server::start(state);
    let url = format!("http://127.0.0.1:{}", srv.addr.port());
    (srv, url)
}

/// Every site's name, sorted as JavaScript sorts them (all ASCII).
fn sorted_names() -> String {
    let mut names: Vec<_> = (0..SITES).map(site_name).collect();
    names.sort();
    names.join("|")
}

/// Visible nodes by kind: `{kind: count}`.
const VISIBLE: &str = "(() => { const c = {}; window.__nocmap_cy.nodes(':visible').forEach((n) => \
    { const k = n.data('kind'); c[k] = (c[k] || 0) + 1; }); return c; })()";

#[test]
fn two_thousand_devices_open_as_forty_collapsed_sites() {
    require_browser();
    clear_artifacts(ARTIFACTS);
    let rt = runtime();
    let live = Arc::new(Live::new(sites_topology(), 180_000));
    all_up(&live);
    // One device down in site 07, one unknown in site 12.
    live.update_devices(|m| {
        m.get_mut(&DeviceId("s07-h005".into()))
            .unwrap()
            .reachability = Reachability::Down;
        m.get_mut(&DeviceId("s12-a003".into()))
            .unwrap()
            .reachability = Reachability::Unknown;
    });
    let config = nocmap::config::Config::from_toml(
        "[[groups]]\nname = \"hq\"\npattern = \"s00-*\"\ntags = [\"role:x\", \"site:HQ (configured)\"]\n",
    )
    .unwrap();
    // What the server's first snapshot costs in this (debug) build: one
    // render of the whole map and the snapshot's text.
    let probe = Feed::with_tagging(config.tagging());
    let t0 = std::time::Instant::now();
    probe.tick(&live, nocmap::types::UnixMillis::now());
    let render = t0.elapsed();
    let t1 = std::time::Instant::now();
    let bytes = probe.current().data.len();
    eprintln!(
        "server: render {} ms, snapshot text {} ms, {} kB",
        render.as_millis(),
        t1.elapsed().as_millis(),
        bytes / 1000
    );
    let mut state = AppState::new(live.clone());
    state.feed = Some(Feed::with_tagging(config.tagging()));
    let (srv, url) = serve(&rt, state);
    let mut b = Browser::start_local(ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
    let page = b.eval(
        "[Math.round(window.__nocmap.renderedMs), Math.round(window.__nocmap.renderedMs - window.__nocmap.startMs), \
         Math.round(window.__nocmap.last.layout)]",
    );
    eprintln!(
        "2,000 devices in 40 sites: first render {} ms from navigation start ({} ms after the script started, layout {} ms)",
        page[0], page[1], page[2]
    );
    eprintln!(
        "first draw: {} (snapshot at {} ms)",
        b.eval("JSON.stringify(window.__nocmap.first)"),
        b.eval("window.__nocmap.firstSnapshotMs")
    );
    // Where the time before the snapshot went: the page's files, its API
    // calls and the event stream (request sent, answer's headers, its end
    // as the resource timing has them), from navigation start.
    eprintln!(
        "timeline (ms): {}",
        b.eval(
            "JSON.stringify({ dcl: Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),              script: Math.round(window.__nocmap.startMs), feed: Object.fromEntries(Object.entries(window.__nocmap.feedTimes).map(([k, v]) => [k, Math.round(v)])),              res: performance.getEntriesByType('resource').map((r) => [new URL(r.name).pathname,                Math.round(r.startTime), Math.round(r.responseStart), Math.round(r.responseEnd)]) })"
        )
    );
    b.screenshot("collapsed");
    let seen = b.eval(VISIBLE);
    assert_eq!(
        seen["site-summary"],
        json!(SITES),
        "every site collapsed: {seen}"
    );
    assert_eq!(
        seen.as_object().unwrap().len(),
        1,
        "nothing but the site summaries shown: {seen}"
    );
    assert_eq!(
        b.eval("window.__nocmap_cy.nodes('[kind=\"site-summary\"]').map((n) => n.data('site')).sort().join('|')"),
        json!(sorted_names()),
        "the configured site for site 0, the trimmed sysLocation for the others"
    );
    // The site filter lists every site, as text.
    assert_eq!(
        b.eval("[document.querySelectorAll('#site option').length, document.querySelectorAll('#site b').length]"),
        json!([SITES + 1, 0])
    );
    // The worst state inside, as drawn.
    let colour = |b: &mut Browser, site: &str| -> Value {
        b.eval(&format!(
            "(() => {{ const n = window.__nocmap_cy.nodes('[kind=\"site-summary\"]').filter((n) => n.data('site') === {site:?}); \
             return [n.data('worst'), n.style('background-color')]; }})()"
        ))
    };
    assert_eq!(colour(&mut b, "Site 07"), json!(["down", "rgb(214,40,40)"]));
    assert_eq!(
        colour(&mut b, "Site 12"),
        json!(["unknown", "rgb(138,143,152)"])
    );
    assert_eq!(colour(&mut b, "Site 03"), json!(["up", "rgb(46,157,74)"]));
    // Summary links between neighbouring sites (the WAN ring).
    assert_eq!(
        b.eval("window.__nocmap_cy.edges('[?meta]:visible').length"),
        json!(SITES)
    );

    // A click on a summary expands its site: its 50 devices in their box,
    // laid out in layers.
    let sum = b.eval(
        "window.__nocmap_cy.nodes('[kind=\"site-summary\"]').filter((n) => n.data('site') === 'Site 03').id()",
    );
    b.cmd(json!({"cmd": "click_node", "id": sum}));
    b.wait(
        "window.__nocmap_cy.nodes(':visible').filter((n) => n.data('site') === 'Site 03' && n.data('kind') !== 'site-box').length === 50",
        10,
        "site 03 expanded",
        "JSON.stringify(window.__nocmap.sites.stats)",
    );
    let seen = b.eval(VISIBLE);
    assert_eq!(seen["site-summary"], json!(SITES - 1), "{seen}");
    assert_eq!(seen["site-box"], json!(1), "{seen}");
    let ys = b.eval(
        "(() => { const y = {}; window.__nocmap_cy.nodes(':visible[kind != \"site-box\"]').forEach((n) => { if (n.data('site') !== 'Site 03') return; \
         const r = n.data('role'); y[r] = y[r] || []; y[r].push(n.position('y')); }); return y; })()",
    );
    let max = |r: &str| {
        ys[r]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .fold(f64::MIN, f64::max)
    };
    let min = |r: &str| {
        ys[r]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .fold(f64::MAX, f64::min)
    };
    assert!(
        max("core") < min("distribution") && max("distribution") < min("access"),
        "layers inside the site: {ys}"
    );
    assert_eq!(
        b.eval(&box_holds("Site 03")),
        json!([50, 50, true]),
        "the box holds its devices"
    );
    b.eval("window.__nocmap_cy.fit(window.__nocmap_cy.nodes(':visible'), 20), true");
    b.screenshot("site-03-expanded");
    // No link of the site runs through a device of the site (body, and
    // label where drawn): hosts hang in a fan under their switch.
    let through = b.eval(&format!(
        "(() => {{ const g = {EDGE_GEOMETRY}; const cy = window.__nocmap_cy; \
         const inSite = (id) => cy.getElementById(id).data('site') === 'Site 03'; \
         return g.through.filter(([l, d]) => {{ const e = cy.getElementById(l); \
           return inSite(e.source().id()) && inSite(e.target().id()) && inSite(d); }}); }})()"
    ));
    assert_eq!(
        through,
        json!([]),
        "{} links of site 03 through its devices",
        through.as_array().map_or(0, Vec::len)
    );

    // The collapsed sites are laid out in idle time after the first
    // render (sites.js, layAhead): by the time a user clicks, an expand
    // only draws its site. The layout laid out ahead is the one the site
    // gets when laid out at its expand.
    b.wait(
        "window.__nocmap.sites.stats.aheadDone !== undefined",
        20,
        "every collapsed site laid out ahead",
        "JSON.stringify(window.__nocmap.sites.stats)",
    );
    eprintln!(
        "laid out ahead: {}",
        b.eval(
            "(() => { const st = window.__nocmap.sites.stats; return JSON.stringify({ sites: st.ahead, \
             doneAfterRenderMs: Math.round(st.aheadDone - window.__nocmap.renderedMs), \
             layoutMs: st.aheadMs.map(Math.round) }); })()"
        )
    );
    assert_eq!(
        b.eval(
            "(() => { const s = window.__nocmap.sites; const a = s.ahead.get('Site 20'); if (!a) return 'not laid out ahead'; \
             s.ahead.delete('Site 20'); const now = s.laySite('Site 20'); s.ahead.set('Site 20', a); if (now.ahead) return 'the ahead layout used'; \
             const bad = [...now.pos].filter(([id, p]) => !a.pos.has(id) || a.pos.get(id).x !== p.x || a.pos.get(id).y !== p.y); \
             return [now.pos.size, a.pos.size, bad.length]; })()"
        ),
        json!([50, 50, 0]),
        "the layout laid out ahead is the one laid out at the expand"
    );
    // Expand and collapse times, to the next painted frame: Site 03
    // collapsed, then eight sites expanded and collapsed again. With
    // NOCMAP_CPU_PROFILE=PREFIX, the page's CPU profile of these toggles
    // goes to PREFIX.toggles.cpuprofile.
    let profile = std::env::var("NOCMAP_CPU_PROFILE").ok();
    if profile.is_some() {
        b.cmd(json!({"cmd": "profile_start"}));
    }
    let times = b.eval(
        "(async () => { const s = window.__nocmap.sites; const out = ['Site 03']; \
         for (const name of ['Site 20', 'Site 31', 'Site 07', 'Site 11', 'Site 25', 'Site 38', 'Site 15', 'Site 33']) out.push(name, name); \
         for (const name of out.splice(0)) { \
           const t0 = performance.now(); let drawn = null; \
           window.__nocmap_cy.one('render', () => { drawn = performance.now() - t0; }); s.toggle(name); \
           await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); \
           out.push([Math.round(drawn), Math.round(performance.now() - t0)]); } return out; })()",
    );
    if let Some(p) = &profile {
        b.cmd(json!({"cmd": "profile_stop", "path": format!("{p}.toggles.cpuprofile")}));
    }
    eprintln!(
        "collapse, then expand/collapse pairs: [to the frame drawn, to two frames later] (ms): {times}; toggle calls alone: {}",
        b.eval("JSON.stringify(window.__nocmap.sites.stats.toggles.map(Math.round))")
    );
    // The expands alone (odd entries), to the frame drawn, for BENCHMARKS.md.
    let expands: Vec<i64> = times
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .step_by(2)
        .map(|t| t[0].as_i64().unwrap_or(-1))
        .collect();
    eprintln!(
        "expands to the frame drawn (ms): {expands:?}; over 100 ms: {}",
        expands.iter().filter(|&&t| t > 100).count()
    );
    let phases = b.eval(
        "window.__nocmap.sites.stats.phases.map((p) => [Math.round(p.layout), Math.round(p.draw), Math.round(p.apply), p.ahead])",
    );
    eprintln!("toggles' layout / draw / apply (ms), laid out ahead: {phases}");
    // The eight sites expanded with the layout laid out ahead (toggle 0
    // is the click on Site 03, 1 its collapse).
    for k in (2..=16).step_by(2) {
        assert_eq!(phases[k][3], json!(true), "toggle {k}: {phases}");
    }
    assert_eq!(
        b.eval(VISIBLE)["site-summary"],
        json!(SITES),
        "all collapsed again"
    );
    // Frame times under one-second updates: for 6 s a tenth of the
    // devices get a new RTT every second (each tick's delta names them);
    // the gaps between animation frames and the page's work per update
    // are printed, not asserted.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let updater = {
        let (live, stop) = (live.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut round = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                round += 1;
                live.update_devices(|m| {
                    for (k, h) in m.values_mut().enumerate() {
                        if (k as u32 + round) % 10 == 0 {
                            h.rtt_avg_ms = Some(0.3 + f64::from(round % 7) / 10.0);
                        }
                    }
                });
                std::thread::sleep(std::time::Duration::from_millis(1000));
            }
        })
    };
    let frames = b.eval(
        "(async () => { const st = window.__nocmap; const d0 = st.deltas; const a0 = st.applyMs.length; \
         const r0 = (st.renderMs || []).length; const gaps = []; let last = performance.now(); \
         const end = last + 6000; await new Promise((done) => { const f = (t) => { gaps.push(t - last); last = t; \
         if (t < end) requestAnimationFrame(f); else done(); }; requestAnimationFrame(f); }); \
         gaps.sort((x, y) => x - y); const q = (p) => Math.round(gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))]); \
         return { deltas: st.deltas - d0, frames: gaps.length, p50: q(0.5), p95: q(0.95), max: Math.round(gaps[gaps.length - 1]), \
           applyMaxMs: Math.round(Math.max(0, ...st.applyMs.slice(a0))), redrawsMs: (st.renderMs || []).slice(r0).map(Math.round) }; })()",
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    updater.join().unwrap();
    eprintln!("6 s of one-second updates, collapsed: {frames}");
    // The site filter on an expanded site: its devices in their box, the
    // other sites' summaries hidden.
    b.eval("window.__nocmap.sites.toggle('Site 03'), true");
    b.cmd(json!({"cmd": "select", "selector": "#site", "value": "Site 03"}));
    b.wait(
        "window.__nocmap_cy.nodes('[kind=\"site-summary\"]:visible').length === 0",
        10,
        "the other sites hidden",
        "document.getElementById('site').value",
    );
    let seen = b.eval(VISIBLE);
    assert_eq!(seen["site-box"], json!(1), "Site 03 alone: {seen}");
    assert_eq!(seen.get("site-summary"), None, "Site 03 alone: {seen}");
    assert_eq!(b.eval(&box_holds("Site 03")), json!([50, 50, true]));
    b.screenshot("site-03-filtered");
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    rt.block_on(srv.stop());
}

#[test]
fn changes_since_the_baseline_are_marked_and_listed() {
    require_browser();
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("changes.db");
    drop(nocmap::store::Store::open(&db, Default::default()).unwrap());
    let mut topo = campus(1, 2, 3, 4);
    topo.devices.push(device("gone<b>"));
    topo.links.push(link("l-gone-dev", "a002", "gone<b>"));
    let live = Arc::new(Live::new(topo, 180_000));
    all_up(&live);
    let mut state = AppState::new(live.clone());
    state.feed = Some(Feed::new());
    state.db_path = Some(db);
    let (srv, url) = serve(&rt, state);
    let mut b = Browser::start_local(ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
    b.wait(
        "window.__nocmap.changes && window.__nocmap.changes.state.loads > 0 && !document.getElementById('changes').hidden",
        10,
        "the changes panel",
        "document.getElementById('changes-when').textContent",
    );
    assert_eq!(
        b.eval("document.getElementById('changes-when').textContent"),
        json!("no baseline saved")
    );
    b.cmd(json!({"cmd": "click", "selector": "#save-baseline"}));
    b.wait(
        "window.__nocmap.changes.changes && window.__nocmap.changes.changes.baseline_ms",
        10,
        "the baseline saved",
        "JSON.stringify(window.__nocmap.changes.changes)",
    );
    // Re-discovery: a link added (a000 to a002), one removed (l0001), a
    // device added with its link, and the device `gone<b>` removed.
    let removed = live.read_topology(|t| t.links[1].clone());
    live.update_topology(|t| {
        t.links
            .retain(|l| l.id != removed.id && l.id != "l-gone-dev");
        t.devices.retain(|d| d.id.0 != "gone<b>");
        t.links.push(link("l-new", "a000", "a002"));
        t.devices.push(device("h-new"));
        t.links.push(link("l-new-dev", "a001", "h-new"));
    });
    all_up(&live);
    b.wait(
        "window.__nocmap_cy.getElementById('h-new').nonempty() && window.__nocmap_cy.getElementById('gone<b>').empty()",
        20,
        "the new topology on the map",
        "window.__nocmap.seq",
    );
    b.eval("window.__nocmap.changes.load().then(() => true)");
    let marks = b.eval(
        "(() => { const cy = window.__nocmap_cy; const e = cy.getElementById('l:l-new'); \
         const g = cy.edges('[?ghost]').map((g) => [g.source().id(), g.target().id(), g.style('line-style'), g.style('line-color')]).sort(); \
         const gn = cy.nodes('[kind=\"ghost\"]').map((n) => [n.data('label'), n.style('border-style')]); \
         return { newLink: [e.hasClass('chg-new'), e.style('line-color')], newDevice: cy.getElementById('h-new').hasClass('chg-new'), \
           others: cy.elements('.chg-new').length, ghosts: g, ghostNodes: gn }; })()",
    );
    eprintln!("marks: {marks}");
    assert_eq!(marks["newLink"], json!([true, "rgb(31,157,58)"]), "{marks}");
    assert_eq!(marks["newDevice"], json!(true), "{marks}");
    // l-new, h-new and its link l-new-dev.
    assert_eq!(marks["others"], json!(3), "{marks}");
    let mut want_ghosts = vec![
        json!([
            removed.a.device.0,
            removed.b.device.0,
            "dashed",
            "rgb(224,0,0)"
        ]),
        json!(["a002", "ghost\u{0}gone<b>", "dashed", "rgb(224,0,0)"]),
    ];
    want_ghosts.sort_by_key(|v| v.to_string());
    assert_eq!(marks["ghosts"], json!(want_ghosts), "{marks}");
    assert_eq!(
        marks["ghostNodes"],
        json!([["gone<b>\n(gone)", "dashed"]]),
        "{marks}"
    );
    let listed = b.eval(
        "[...document.querySelectorAll('#changes-list li')].map((li) => li.className + ': ' + li.textContent)",
    );
    let key = |l: &nocmap::topology::Link| nocmap::topology::LinkKey::of(l).to_string();
    assert_eq!(
        listed,
        json!([
            "chg-new: new device: h-new",
            "chg-gone: gone device: gone<b>",
            format!("chg-new: new link: {}", key(&link("l-new", "a000", "a002"))),
            format!(
                "chg-new: new link: {}",
                key(&link("l-new-dev", "a001", "h-new"))
            ),
            // Gone links in key order.
            format!(
                "chg-gone: gone link: {}",
                key(&link("l-gone-dev", "a002", "gone<b>"))
            ),
            format!("chg-gone: gone link: {}", key(&removed)),
        ]),
    );
    // The hostile name stayed text.
    assert_eq!(
        b.eval("document.querySelectorAll('#changes-list b').length"),
        json!(0)
    );
    b.screenshot("changes");

    // A small map by site on demand (`?sites=1`): its sites start expanded,
    // the devices without a site in one "(no site)" box, no summary shown.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=1")}));
    let n = live.read_topology(|t| t.devices.len());
    let seen = b.eval(VISIBLE);
    assert_eq!(seen["site-box"], json!(1), "{seen}");
    assert_eq!(seen.get("site-summary"), None, "{seen}");
    assert_eq!(b.eval(&box_holds("")), json!([n, n, true]), "{seen}");
    b.screenshot("small-by-site");
    drag_box_and_device(&mut b, n);
    // A device whose location changes moves to that site's box, with its
    // link.
    live.update_topology(|t| {
        let d = t.devices.iter_mut().find(|d| d.id.0 == "a001").unwrap();
        d.sys_location = Some("Annex".into());
    });
    b.wait(
        "window.__nocmap_cy.getElementById('a001').data('site') === 'Annex' \
         && window.__nocmap_cy.getElementById('site\\u0000Annex').visible() \
         && window.__nocmap_cy.getElementById('l:l-new-dev').nonempty()",
        20,
        "a001 in the Annex box",
        "window.__nocmap_cy.getElementById('a001').data()",
    );
    assert_eq!(b.eval(&box_holds("Annex")), json!([1, 1, true]));
    assert_eq!(b.eval(&box_holds("")), json!([n - 1, n - 1, true]));
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    rt.block_on(srv.stop());
}
