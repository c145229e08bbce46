//! A link aggregate discovered end to end and drawn as one bundle: lab
//! `dlag` (10.115.0.0/16), the noc on r1, r1 and r2 joined by two cables
//! (eth1-eth1, eth2-eth2) that both routers aggregate (r1 as `bond0`, r2
//! as `po1`), a third router r3 on r2 by one plain cable. This kernel has
//! no bonding driver: the lab's aggregate is an empty interface of that
//! name, and the routers' real snmpd serve the ifStackTable rows that
//! stack the two members under it (`lag` in the lab description), as a
//! switch reports its LAG. LLDP runs on each member.
//!
//! `nocmap discover` must find both r1-r2 links with one shared `lag` key
//! naming both aggregates and the r2-r3 link with none; `serve`'s map in
//! headless Chromium must draw r1-r2 as one edge labelled with its member
//! count, thicker than r2-r3, whose panel lists both members. Fails when
//! the ifStackTable is not read or the bundle is drawn as two links.
//!
//! Screenshots go to `target/test-artifacts/web_lag_lab/`.
#[macro_use]
mod support;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::lab::LabToml;
use support::serve::ServeCmd;

use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ARTIFACTS: &str = "web_lag_lab";
const PREFIX: &str = "10.115.0.0/16";
const PORT: u16 = 18115;

fn lab_toml() -> String {
    LabToml::new("dlag", PREFIX)
        .node("r1", "router", "lag = { bond0 = [\"eth1\", \"eth2\"] }")
        .node("r2", "router", "lag = { po1 = [\"eth1\", \"eth2\"] }")
        .node("r3", "router", "")
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r2:eth2, r2:eth3 - r3:eth3")
        .build()
}

fn discover(lab: &Lab) -> Value {
    let seed = lab.mgmt_addr("r1").unwrap().to_string();
    let json = support::sh(
        lab.command_in("noc", support::nocmap_bin().to_str().unwrap())
            .unwrap()
            .args([
                "discover", "--seed", &seed, "--prefix", PREFIX, "-c", "public", "--json",
            ]),
    );
    serde_json::from_str(&json).expect("topology JSON")
}

/// Each link between two of the routers as (a's name, b's name, lag key),
/// names in order.
fn router_links(topo: &Value) -> Vec<(String, String, Option<String>)> {
    let name = |id: &Value| {
        topo["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == *id)
            .and_then(|d| d["sys_name"].as_str())
            .unwrap_or("?")
            .to_string()
    };
    let mut out: Vec<_> = topo["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let mut ends = [name(&l["a"]["device"]), name(&l["b"]["device"])];
            ends.sort();
            let [a, b] = ends;
            (a, b, l["lag"].as_str().map(str::to_string))
        })
        .filter(|(a, b, _)| a.starts_with('r') && b.starts_with('r'))
        .collect();
    out.sort();
    out
}

/// The map's edges between two devices named `a` and `b`: members, label,
/// width.
const EDGES: &str = r#"((pairs) => { const cy = window.__nocmap_cy;
  const name = (id) => cy.getElementById(id).data('name');
  const key = (a, b) => [a, b].sort().join(' ');
  return pairs.map(([a, b]) => cy.edges(':visible')
    .filter((e) => key(name(e.data('source')), name(e.data('target'))) === key(a, b))
    .map((e) => ({ id: e.id(), members: e.data('members'), label: e.style('label'),
      width: parseFloat(e.renderedStyle('width')) })));
})([['r1', 'r2'], ['r2', 'r3']])"#;

#[test]
fn a_discovered_lag_is_one_bundle_on_the_map() {
    require_root!();
    require_browser();
    clear_artifacts(ARTIFACTS);
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    eprintln!("lab dlag up in {:.1} s", t0.elapsed().as_secs_f64());

    let topo = discover(&lab);
    let links = router_links(&topo);
    let key = "r1:bond0--r2:po1";
    let ids: Vec<(&str, &str, Option<&str>)> = links
        .iter()
        .map(|(a, b, l)| (a.as_str(), b.as_str(), l.as_deref()))
        .collect();
    // The key names each end's device id; its aggregates in that order.
    let lag: Vec<&str> = ids.iter().filter_map(|l| l.2).collect();
    assert_eq!(
        ids.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
        [("r1", "r2"), ("r1", "r2"), ("r2", "r3")],
        "the routers' links: {links:?}"
    );
    assert_eq!(
        lag.len(),
        2,
        "both members of the LAG and no other: {links:?}"
    );
    assert_eq!(lag[0], lag[1], "one key for both members: {links:?}");
    for agg in ["bond0", "po1"] {
        assert!(
            lag[0].contains(agg),
            "{agg} in the key {:?} ({key})",
            lag[0]
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let seed = lab.mgmt_addr("r1").unwrap().to_string();
    let _serve = ServeCmd::bare(&lab)
        .args(["--seed", &seed, "--prefix", PREFIX, "-c", "public"])
        .poll(2)
        .icmp(1)
        .listen(PORT)
        .db(&dir.path().join("lag.db"))
        .start();
    let mut b = Browser::start(&lab, ARTIFACTS);
    b.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{PORT}/")}));
    b.wait(
        "window.__nocmap.ready && window.__nocmap_cy.nodes().length >= 3 && window.__nocmap.labels",
        40,
        "the map drawn",
        "window.__nocmap",
    );
    // Once the members' counters have two polls the bundle is live (no
    // longer "stale") and as wide as its capacity, with its count.
    let got = b.wait(
        &format!(
            "(() => {{ const g = {EDGES}; return g[0].length === 1 && g[1].length === 1 \
             && !g[0][0].label.includes('stale') && !g[1][0].label.includes('stale') && g; }})()"
        ),
        30,
        "r1-r2 live and r2-r3 drawn",
        EDGES,
    );
    b.screenshot("lag");
    let (lag, single) = (&got[0][0], &got[1][0]);
    assert_eq!(lag["members"], 2, "{got}");
    assert!(
        lag["label"].as_str().unwrap().starts_with("×2"),
        "the member count drawn: {got}"
    );
    let w = |e: &Value| e["width"].as_f64().unwrap();
    // Width follows capacity (two members' speed) plus the bundle's own.
    assert!(w(lag) > w(single), "the LAG thicker than a link: {got}");
    b.cmd(json!({"cmd": "click_edge", "id": lag["id"]}));
    let panel = b.wait(
        "document.getElementById('lag-title') && [document.getElementById('lag-title').textContent, \
         [...document.querySelectorAll('#detail .lag-members li')].map((li) => li.textContent)]",
        10,
        "the LAG's panel",
        "document.getElementById('detail').textContent",
    );
    assert_eq!(panel[0], "LAG ×2", "{panel}");
    assert_eq!(panel[1].as_array().unwrap().len(), 2, "{panel}");
    b.screenshot("lag-panel");
    eprintln!("test took {:.1} s", t0.elapsed().as_secs_f64());
}
