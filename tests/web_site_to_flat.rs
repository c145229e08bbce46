//! From the by-site view to the flat view, in a real headless Chromium:
//! a map first drawn by site (`?sites=1`) saves where the layout put each
//! device; the flat map (`?sites=0`) opened next keeps those positions, so
//! they must not stack the sites' devices on top of each other (each site
//! is laid out in its own frame). The flat map has no two devices on one
//! spot, no overlapping labels, and every core above every distribution
//! above every access device; drawn by site again, a site's devices sit
//! where they sat.
//!
//! Two generated campuses of 38 devices in two sites, served by the real
//! HTTP server in-process on 127.0.0.1 with a store (no lab). Screenshots
//! go to `target/test-artifacts/web_site_to_flat/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{all_up, assert_layered, assert_no_overlaps, campus, moved, positions};

use nocmap::live::Live;
use nocmap::server::AppState;
use nocmap::server::feed::Feed;
use nocmap::topology::{DeviceId, Topology};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const ARTIFACTS: &str = "web_site_to_flat";

type Positions = BTreeMap<String, (f64, f64, String)>;

/// Two campuses (1 core, 2 distribution, 6 access, 29 hosts each), ids
/// `sN-<campus id>`, in the sites "North" and "South".
fn two_sites() -> Topology {
    let mut t = Topology::default();
    for (s, site) in ["North", "South"].iter().enumerate() {
        let c = campus(1, 2, 6, 29);
        for mut d in c.devices {
            d.id = DeviceId(format!("s{s}-{}", d.id.0));
            d.sys_name = Some(format!("s{s}-{}", d.sys_name.unwrap_or_default()));
            d.sys_location = Some((*site).into());
            t.devices.push(d);
        }
        for mut l in c.links {
            l.id = format!("s{s}-{}", l.id);
            l.a.device = DeviceId(format!("s{s}-{}", l.a.device.0));
            l.b.device = DeviceId(format!("s{s}-{}", l.b.device.0));
            t.links.push(l);
        }
    }
    t.links
        .push(support::topology::link("wan", "s0-c000", "s1-c000"));
    t
}

/// The devices' positions only (no site boxes or summaries).
fn devices(p: &Positions) -> Positions {
    p.iter()
        .filter(|(k, _)| k.starts_with('s') && k.as_bytes().get(2) == Some(&b'-'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The closest two devices: (distance, a, b).
fn closest(p: &Positions) -> (f64, String, String) {
    let v: Vec<_> = p.iter().collect();
    let mut best = (f64::MAX, String::new(), String::new());
    for i in 0..v.len() {
        for j in i + 1..v.len() {
            let d = ((v[i].1.0 - v[j].1.0).powi(2) + (v[i].1.1 - v[j].1.1).powi(2)).sqrt();
            if d < best.0 {
                best = (d, v[i].0.clone(), v[j].0.clone());
            }
        }
    }
    best
}

/// Each device relative to `origin`.
fn relative(p: &Positions, origin: &str) -> Positions {
    let o = &p[origin];
    p.iter()
        .map(|(k, q)| (k.clone(), (q.0 - o.0, q.1 - o.1, q.2.clone())))
        .collect()
}

#[test]
fn the_flat_view_after_the_by_site_view_stacks_nothing() {
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
    let topo = two_sites();
    let n = topo.devices.len();
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

    // By site first: every site laid out and saved.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=1")}));
    b.wait(
        &format!("window.__nocmap.layoutSaved >= {n}"),
        10,
        "the by-site positions saved",
        "window.__nocmap.layoutSaved",
    );
    let by_site = devices(&positions(&mut b));
    assert_eq!(by_site.len(), n);
    b.screenshot("1-by-site");

    // Flat: the saved positions kept, no two devices on one spot.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=0")}));
    let flat = devices(&positions(&mut b));
    b.screenshot("2-flat");
    assert_eq!(flat.len(), n);
    let (d, a1, a2) = closest(&flat);
    assert!(
        d >= 30.0,
        "flat after by site: {a1} and {a2} only {d:.1} px apart (stacked)"
    );
    assert_layered(&flat, "flat after by site");
    assert_no_overlaps(&mut b, "flat after by site");

    // By site again: each site's devices where they sat in their box.
    b.cmd(json!({"cmd": "goto", "url": format!("{url}/?sites=1")}));
    let again = devices(&positions(&mut b));
    for s in ["s0", "s1"] {
        let ids = |p: &Positions| -> Positions {
            p.iter()
                .filter(|(k, _)| k.starts_with(s))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let origin = format!("{s}-c000");
        let m = moved(
            &relative(&ids(&by_site), &origin),
            &relative(&ids(&again), &origin),
        );
        assert!(m <= 2.0, "by site again, a device of {s} moved {m} px");
    }
    let events = b.cmd(json!({"cmd": "events"}));
    assert_eq!(events["errors"], json!([]), "page errors: {events}");
    drop(b);
    rt.block_on(srv.stop());
}
