//! A device's vitals on the map, in a real headless Chromium: the server
//! decides each device's vitals state (`health.vitals_state`: a failed
//! sensor, CPU, disk or temperature at its limit, or fine) and the page
//! draws it as a ring around the node (cytoscape's underlay), red or
//! amber; a device without standing vitals has none. A generated campus
//! served in-process on 127.0.0.1 (no lab). Screenshot in
//! `target/test-artifacts/web_vitals/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{all_up, campus, positions};

use nocmap::live::Live;
use nocmap::server::AppState;
use nocmap::server::feed::Feed;
use nocmap::topology::DeviceId;
use nocmap::types::UnixMillis;
use nocmap::vitals::{Sensor, SensorKind, SensorStatus, Vitals};
use serde_json::json;
use std::sync::Arc;

const ARTIFACTS: &str = "web_vitals";

fn vitals(cpu: f64, failed: bool) -> Vitals {
    Vitals {
        cpu_load_pct: Some(cpu),
        sensors: vec![Sensor {
            index: 1,
            name: "fan <b>1</b>".into(),
            kind: SensorKind::Rpm,
            value: 4200.0,
            status: if failed {
                SensorStatus::Nonoperational
            } else {
                SensorStatus::Ok
            },
            units: None,
        }],
        ..Default::default()
    }
}

#[test]
fn vitals_ring_the_devices_the_server_says() {
    require_browser();
    clear_artifacts(ARTIFACTS);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let live = Arc::new(Live::new(campus(2, 2, 4, 0), 180_000));
    all_up(&live);
    let now = UnixMillis::now();
    // c000: a failed fan; d000: CPU at 95 %; a000: fine; a001: a read
    // too old to stand; the rest: never read.
    for (id, v, at) in [
        ("c000", vitals(10.0, true), now),
        ("d000", vitals(95.0, false), now),
        ("a000", vitals(10.0, false), now),
        ("a001", vitals(99.0, true), now - 3_600_000),
    ] {
        live.update_devices(|m| {
            let h = m.get_mut(&DeviceId(id.into())).unwrap();
            h.vitals = Some(v);
            h.last_vitals_ms = Some(at);
            h.vitals_stale_after_ms = Some(900_000);
        });
    }
    let mut state = AppState::new(live);
    state.feed = Some(Feed::new());
    let srv = {
        let _in = rt.enter();
        support::server::start(state)
    };
    let mut b = Browser::start_local(ARTIFACTS);
    b.cmd(json!({"cmd": "viewport", "width": 1200, "height": 800}));
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{}/", srv.addr.port())}));
    b.wait(
        "window.__nocmap_cy && window.__nocmap_cy.getElementById('c000').length === 1 && window.__nocmap_cy.getElementById('c000').data('vitals') !== undefined",
        20,
        "the map drawn",
        "window.__nocmap_cy && window.__nocmap_cy.nodes().length",
    );
    assert_eq!(positions(&mut b).len(), 8);
    let ring = |b: &mut Browser, id: &str| {
        b.eval(&format!(
            "(() => {{ const n = window.__nocmap_cy.getElementById('{id}'); \
             return [n.data('vitals'), n.style('underlay-color'), Number(n.style('underlay-opacity'))]; }})()"
        ))
    };
    let red = ring(&mut b, "c000");
    assert_eq!(red[0], "failed", "{red}");
    assert_eq!(red[1], "rgb(214,40,40)", "{red}");
    assert!(red[2].as_f64().unwrap() > 0.3, "{red}");
    let amber = ring(&mut b, "d000");
    assert_eq!(amber[0], "warn", "{amber}");
    assert_eq!(amber[1], "rgb(240,160,0)", "{amber}");
    for id in ["a000", "a001", "a002"] {
        let none = ring(&mut b, id);
        assert!(none[0] == "ok" || none[0] == "none", "{id}: {none}");
        assert_eq!(none[2].as_f64().unwrap(), 0.0, "{id} has a ring: {none}");
    }
    assert_eq!(ring(&mut b, "a000")[0], "ok");
    // A stale read is no verdict.
    assert_eq!(ring(&mut b, "a001")[0], "none");
    b.screenshot("rings");
    drop(b);
    rt.block_on(srv.stop());
}
