//! A selected device's path from the poller on the map, in a real headless
//! Chromium: the devices its hops map to and the links between consecutive
//! ones are marked (`on-path`), a hop no device owns is listed as outside
//! the topology, the last route change is shown, and selecting a link
//! clears the marks. A generated campus served in-process on 127.0.0.1 (no
//! lab; the hop addresses are loopback ones, nothing is sent). Screenshot
//! in `target/test-artifacts/web_path/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::map_layout::{all_up, campus};

use nocmap::live::{DevicePath, Live, PathChange, PathHop};
use nocmap::server::AppState;
use nocmap::server::feed::Feed;
use nocmap::topology::DeviceId;
use nocmap::types::UnixMillis;
use serde_json::json;
use std::sync::Arc;

const ARTIFACTS: &str = "web_path";

fn hop(ttl: u8, last: u8, device: Option<&str>) -> PathHop {
    PathHop {
        ttl,
        addr: Some(format!("127.0.0.{last}").parse().unwrap()),
        device: device.map(|d| DeviceId(d.into())),
        in_topology: device.is_some(),
        loss_pct: 0.0,
        rtt_avg_ms: Some(0.4 * f64::from(ttl)),
    }
}

#[test]
fn the_selected_devices_path_is_marked_and_listed() {
    require_browser();
    clear_artifacts(ARTIFACTS);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The poller (noc) hangs off c000; a000's path is c000, a router no
    // device owns, d000, then a000 itself.
    let mut topology = campus(2, 2, 4, 0);
    let mut noc = support::topology::device("noc");
    noc.poller = true;
    noc.managed = false;
    topology.devices.push(noc);
    topology
        .links
        .push(support::topology::link("lnoc", "noc", "c000"));
    let live = Arc::new(Live::new(topology, 180_000));
    all_up(&live);
    let now = UnixMillis::now();
    let hops = vec![
        hop(1, 11, Some("c000")),
        hop(2, 99, None),
        hop(3, 12, Some("d000")),
        hop(4, 13, Some("a000")),
    ];
    let before = vec![
        hop(1, 11, Some("c000")),
        hop(2, 14, Some("d001")),
        hop(3, 13, Some("a000")),
    ];
    live.update_devices(|m| {
        let h = m.get_mut(&DeviceId("a000".into())).unwrap();
        h.path = Some(DevicePath {
            traced_ms: Some(now),
            reached: true,
            hops: hops.clone(),
            error: None,
            last_change: Some(PathChange {
                at_ms: now,
                before,
                after: hops,
            }),
            changes: 1,
        });
    });
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
        "window.__nocmap_cy && window.__nocmap_cy.getElementById('a000').length === 1",
        20,
        "the map drawn",
        "window.__nocmap_cy && window.__nocmap_cy.nodes().length",
    );
    b.cmd(json!({"cmd": "click_node", "id": "a000"}));
    b.wait(
        "document.querySelector('.device-path table')",
        20,
        "the path block",
        "document.getElementById('detail').innerText",
    );
    let marked = b.eval(
        "(() => { const cy = window.__nocmap_cy; \
           return { nodes: cy.nodes('.on-path').map((n) => n.id()).sort(), \
                    edges: cy.edges('.on-path').map((e) => [e.source().id(), e.target().id()].sort().join('-')).sort(), \
                    underlay: cy.edges('.on-path').map((e) => Number(e.style('underlay-opacity'))) }; })()",
    );
    assert_eq!(
        marked["nodes"],
        json!(["a000", "c000", "d000", "noc"]),
        "{marked}"
    );
    assert_eq!(
        marked["edges"],
        json!(["a000-d000", "c000-d000", "c000-noc"]),
        "{marked}"
    );
    assert!(
        marked["underlay"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.as_f64().unwrap() > 0.3),
        "{marked}"
    );
    let text = b.eval("document.querySelector('.device-path').innerText");
    let text = text.as_str().unwrap();
    assert!(text.contains("127.0.0.99"), "{text}");
    assert!(text.contains("outside the topology"), "{text}");
    assert!(
        text.contains("4 hops") && text.contains("1 route changes"),
        "{text}"
    );
    let change = b.eval("document.querySelector('.device-path .path-change').innerText");
    let change = change.as_str().unwrap();
    assert!(
        change.contains("127.0.0.14") && change.contains("127.0.0.99"),
        "{change}"
    );
    b.screenshot("path");
    // Selecting a link clears the path.
    let edge = b.eval(
        "window.__nocmap_cy.edges().filter((e) => !e.hasClass('on-path') && !e.data('stub'))[0].id()",
    );
    b.cmd(json!({"cmd": "click_edge", "id": edge}));
    b.wait(
        "window.__nocmap_cy.elements('.on-path').length === 0",
        10,
        "the path cleared",
        "window.__nocmap_cy.elements('.on-path').map((e) => e.id())",
    );
    drop(b);
    rt.block_on(srv.stop());
}
