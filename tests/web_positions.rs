//! Where the map puts devices, across reloads, in a real headless
//! Chromium: the positions the layout gave are saved on the server (as a
//! dragged device's are), so after a re-discovery that adds a device and
//! a reload no device already drawn moves, on `/`, on `/wall` and drawn by
//! site (`?sites=1`, where a site's devices keep their places relative to
//! each other); a site left without devices loses its box.
//!
//! A generated campus of 85 devices (one of them in its own site) is
//! served by the real HTTP server in-process on 127.0.0.1 with a store
//! (no lab). Screenshots go to `target/test-artifacts/web_positions/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{all_up, assert_no_overlaps, box_holds, campus, moved, positions};

use nocmap::live::Live;
use nocmap::server::AppState;
use nocmap::server::feed::Feed;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const ARTIFACTS: &str = "web_positions";

type Positions = BTreeMap<String, (f64, f64, String)>;

/// The positions of one site's devices relative to `origin` (a device of
/// that site): where the box sits does not matter, only where its devices
/// sit in it.
fn relative(p: &Positions, origin: &str, ids: &[String]) -> Positions {
    let o = &p[origin];
    ids.iter()
        .filter_map(|id| {
            p.get(id)
                .map(|q| (id.clone(), (q.0 - o.0, q.1 - o.1, q.2.clone())))
        })
        .collect()
}

#[test]
fn positions_survive_a_rediscovery_and_a_reload() {
    require_browser();
    clear_artifacts(ARTIFACTS);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("positions.db");
    drop(nocmap::store::Store::open(&db, Default::default()).unwrap());
    let mut topo = campus(2, 4, 10, 69);
    for d in &mut topo.devices {
        d.sys_location = Some(if d.id.0 == "h000" { "Annex" } else { "Campus" }.into());
    }
    let n = topo.devices.len();
    let campus_ids: Vec<String> = topo
        .devices
        .iter()
        .filter(|d| d.id.0 != "h000")
        .map(|d| d.id.0.clone())
        .collect();
    let live = Arc::new(Live::new(topo, 180_000));
    all_up(&live);
    let mut state = AppState::new(live.clone());
    state.feed = Some(Feed::new());
    state.db_path = Some(db);
    let srv = {
        let _in = rt.enter();
        support::server::start(state)
    };
    let url = format!("http://127.0.0.1:{}", srv.addr.port());
    let mut b = Browser::start_local(ARTIFACTS);

    // The first page lays the map out and saves where it put every device.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
    b.wait(
        &format!("window.__nocmap.layoutSaved >= {n}"),
        10,
        "the laid-out positions saved",
        "window.__nocmap.layoutSaved",
    );
    let before = positions(&mut b);
    assert_eq!(before.len(), n);
    b.screenshot("1-first");
    // Drawn by site, a site's devices sit as they sat on the whole map.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=1")}));
    let by_site = positions(&mut b);
    let rel_flat = relative(&before, "c000", &campus_ids);
    let rel_site = relative(&by_site, "c000", &campus_ids);
    assert_eq!(rel_site.len(), n - 1);
    let m = moved(&rel_flat, &rel_site);
    assert!(
        m <= 2.0,
        "by site, a device sits {m} px from its saved place"
    );
    b.screenshot("2-by-site");

    // Re-discovery adds a host while no page is open.
    b.cmd(json!({"cmd": "open", "url": "about:blank"}));
    live.update_topology(|t| {
        let mut d = support::topology::device("h999");
        d.sys_name = Some("host-new.campus.example".into());
        d.sys_location = Some("Campus".into());
        t.devices.push(d);
        t.links
            .push(support::topology::link("l9999", "a003", "h999"));
    });
    all_up(&live);
    // Past the feed's tick: the page's first snapshot has the new host
    // (a frame rendered just before the change would bring it as a delta,
    // placed beside the others on the open page, which is not the reload
    // this is about).
    std::thread::sleep(std::time::Duration::from_millis(1200));
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/")}));
    assert_eq!(
        b.eval("window.__nocmap.firstSnapshotDevices"),
        json!(n + 1),
        "the first snapshot has the new host"
    );
    let after = positions(&mut b);
    assert_eq!(after.len(), n + 1);
    let m = moved(&before, &after);
    assert!(m <= 2.0, "a device moved {m} px across the reload");
    let (new, a3) = (&after["h999"], &after["a003"]);
    assert!(
        (new.0 - a3.0).abs() < 400.0 && new.1 > a3.1,
        "the new host below its switch: {new:?} vs {a3:?}"
    );
    b.wait(
        "window.__nocmap.labels",
        10,
        "link labels placed",
        "window.__nocmap",
    );
    assert_no_overlaps(&mut b, "after the reload");
    b.wait(
        "window.__nocmap.layoutSaved >= 1",
        10,
        "the new host's position saved",
        "window.__nocmap.layoutSaved",
    );
    b.screenshot("3-reloaded");
    // The wall: the same positions.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/wall")}));
    let wall = positions(&mut b);
    assert!(
        moved(&after, &wall) < 0.5 && wall.len() == after.len(),
        "/wall draws the devices elsewhere (moved {})",
        moved(&after, &wall)
    );
    // By site: nothing moved in its box either.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=1")}));
    let by_site_after = positions(&mut b);
    let m = moved(&rel_site, &relative(&by_site_after, "c000", &campus_ids));
    assert!(m <= 2.0, "by site, a device moved {m} px across the reload");
    b.screenshot("4-by-site-reloaded");

    // The Annex's one device moves to the campus: the Annex box goes.
    live.update_topology(|t| {
        let d = t.devices.iter_mut().find(|d| d.id.0 == "h000").unwrap();
        d.sys_location = Some("Campus".into());
    });
    b.wait(
        "window.__nocmap_cy.getElementById('h000').data('site') === 'Campus'",
        20,
        "h000 in the campus box",
        "window.__nocmap_cy.getElementById('h000').data()",
    );
    // Every device, the new one too, in the campus box.
    assert_eq!(b.eval(&box_holds("Campus")), json!([n + 1, n + 1, true]));
    assert_eq!(
        b.eval(
            "[window.__nocmap_cy.getElementById('site\\u0000Annex').length, \
             window.__nocmap_cy.nodes('[kind^=\"site\"]').filter((s) => s.data('site') === 'Annex').length]"
        ),
        json!([0, 0]),
        "the emptied Annex box and its summary are gone"
    );
    b.screenshot("5-annex-gone");
    // "auto layout" by site: the saved positions forgotten, every site laid
    // out again and saved.
    b.cmd(json!({"cmd": "click", "selector": "#relayout"}));
    b.wait(
        &format!("window.__nocmap.layoutSaved >= {}", n + 1),
        10,
        "the new layout saved",
        "window.__nocmap.layoutSaved",
    );
    b.screenshot("6-by-site-auto-layout");
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    rt.block_on(srv.stop());
}
