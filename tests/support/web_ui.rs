//! The lab, config and page helpers of `web_ui`: the `wu` lab (noc ── r1
//! ── r2 ── r3, r1 ── x1 with hostile strings), serve with an admin and a
//! viewer token, API reads in the noc namespace, and the page-side checks
//! (visible devices, filters, the token prompt, network log, console).
use super::browser::Browser;
use super::lab::LabToml;
use super::serve::{Serve, ServeCmd};
use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

pub const PORT: u16 = 18112;
pub const ADMIN: &str = "wu-admin-token-7f3a9c21d4e8";
pub const VIEWER: &str = "wu-viewer-token-0b8e62c1aa5f";
pub const X1_NAME: &str = "<script>window.__xss=1</script> R&D";
pub const X1_SITE: &str = "<img src=x onerror=window.__xss=2> & lab";

pub fn lab_toml() -> String {
    LabToml::new("wu", "10.92.0.0/16")
        .node("r1", "router", r#"sys_location = "dc-east""#)
        .node("r2", "router", r#"sys_location = "dc-east""#)
        .node("r3", "router", r#"sys_location = "dc-west""#)
        .node(
            "x1",
            "router",
            r#"agent_sys_name = "<script>window.__xss=1</script> R&D"
sys_location = "<img src=x onerror=window.__xss=2> & lab""#,
        )
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r2:eth3 - r3:eth3, r1:eth2 - x1:eth2")
        .build()
}

/// Two rules: r1's RTT is above 0 ms from its first ICMP round (fires at
/// once); r2:eth3 going down is an alert that flaps (more than 3 changes
/// within 5 minutes) while the test toggles it.
pub fn config() -> String {
    format!(
        r#"
[poll]
icmp_interval_s = 2
snmp_interval_s = 2

[server]
listen = "127.0.0.1:{PORT}"
token = "{ADMIN}"
read_only_token = "{VIEWER}"

[[alert]]
name = "r1-rtt"
kind = "rtt"
threshold = 0.0
for_s = 0
severity = "warning"
devices = ["r1"]

[[alert]]
name = "r2-eth3-down"
kind = "interface_down"
for_s = 0
severity = "info"
devices = ["r2"]
interfaces = ["eth3"]
flap_changes = 3
flap_window_s = 300
"#
    )
}

pub fn start_serve(lab: &Lab, cfg: &Path, db: &Path) -> Serve {
    ServeCmd::new(lab, "10.92.0.0/16")
        .config(cfg)
        .db(db)
        .start()
}

/// GET `path` with the admin token inside the noc namespace; the status and
/// the body as JSON (Null when it is not JSON); None when nothing answered.
pub fn api_status(lab: &Lab, path: &str, token: Option<&str>) -> Option<(u16, Value)> {
    let mut c = lab.command_in("noc", "curl").unwrap();
    c.args(["-s", "-m", "5", "-w", "\n%{http_code}"]);
    if let Some(t) = token {
        c.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = c
        .arg(format!("http://127.0.0.1:{PORT}{path}"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    let code: u16 = code.trim().parse().ok()?;
    (code != 0).then(|| (code, serde_json::from_str(body).unwrap_or(Value::Null)))
}

pub fn api(lab: &Lab, path: &str) -> Option<Value> {
    match api_status(lab, path, Some(ADMIN)) {
        Some((200, v)) => Some(v),
        _ => None,
    }
}

/// What the page calls a device (`deviceName` in elements.js).
pub fn name_of(d: &Value) -> String {
    d["sys_name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .or(d["id"].as_str())
        .unwrap()
        .to_string()
}

pub fn set<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The topology once discovery found the four routers and their links.
pub fn wait_topology(lab: &Lab) -> Value {
    super::wait_until(
        "discovery of r1, r2, r3 and x1",
        Duration::from_secs(90),
        || {
            let t = api(lab, "/api/topology")?;
            let managed: BTreeSet<String> = t["devices"]
                .as_array()?
                .iter()
                .filter(|d| d["managed"] == true)
                .map(name_of)
                .collect();
            let links = t["links"].as_array().map_or(0, Vec::len);
            (managed == set(["r1", "r2", "r3", X1_NAME]) && links >= 4).then_some(t)
        },
    )
}

/// The names of the nodes cytoscape shows (not hidden by a filter).
const VISIBLE: &str = "JSON.stringify(window.__nocmap_cy.nodes('[!stub]').filter((n) => n.visible()).map((n) => n.data('name')).sort())";

/// Waits until the map shows exactly `want` (names).
pub fn expect_visible(b: &mut Browser, want: &BTreeSet<String>, what: &str) {
    let want_json = serde_json::to_string(&want.iter().collect::<Vec<_>>()).unwrap();
    b.wait(
        &format!("{VISIBLE} === {}", json!(want_json)),
        5,
        what,
        &format!("[{VISIBLE}, document.getElementById('prefix').value, document.getElementById('site').value, document.getElementById('focus').value, document.getElementById('depth').value]"),
    );
}

/// The nodes outlined as search matches, and the faded ones.
pub fn search_marks(b: &mut Browser) -> (BTreeSet<String>, BTreeSet<String>) {
    let v = b.eval(
        "({ match: window.__nocmap_cy.nodes('.match').map((n) => n.data('name')), faded: window.__nocmap_cy.nodes('.faded').map((n) => n.data('name')) })",
    );
    let s = |k: &str| -> BTreeSet<String> { serde_json::from_value(v[k].clone()).unwrap() };
    (s("match"), s("faded"))
}

/// Types `text` into the prefix field and presses Enter.
pub fn prefix_filter(b: &mut Browser, text: &str) {
    b.cmd(json!({"cmd": "fill", "selector": "#prefix", "text": text}));
    b.cmd(json!({"cmd": "press", "selector": "#prefix", "key": "Enter"}));
}

/// Opens the page with an empty token store, sees the prompt, types
/// `token` and submits it; waits for the page that loads after.
pub fn log_in(b: &mut Browser, token: &str) {
    b.wait(
        "!document.getElementById('token-form').hidden && document.activeElement.id === 'token-input'",
        20,
        "the token prompt",
        "document.body.innerText",
    );
    assert_eq!(
        b.eval("window.__nocmap_cy.nodes().length + window.__nocmap.model.devices.size"),
        0,
        "nothing is drawn without a token"
    );
    b.eval("window.__before_submit = true");
    b.cmd(json!({"cmd": "fill", "selector": "#token-input", "text": token}));
    b.cmd(json!({"cmd": "press", "selector": "#token-input", "key": "Enter"}));
    // The form reloads the page.
    b.wait(
        "document.readyState === 'complete' && window.__before_submit === undefined && window.__nocmap !== undefined",
        20,
        "the page reloaded after the token",
        "document.body.innerText",
    );
}

/// One device's ids by name.
pub fn ids(topo: &Value) -> BTreeMap<String, String> {
    topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (name_of(d), d["id"].as_str().unwrap().to_string()))
        .collect()
}

/// Every device's addresses (management and interfaces), by name.
pub fn addresses(topo: &Value) -> BTreeMap<String, Vec<Ipv4Addr>> {
    topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut a: Vec<Ipv4Addr> = d["addresses"]
                .as_array()
                .map(|v| v.iter().filter_map(|x| x.as_str()?.parse().ok()).collect())
                .unwrap_or_default();
            if let Some(m) = d["mgmt_addr"].as_str().and_then(|s| s.parse().ok()) {
                a.push(m);
            }
            (name_of(d), a)
        })
        .collect()
}

/// The requests the page sent since the last reset (method, URL path and
/// query), and its answers >= 400.
pub fn network(b: &mut Browser) -> (Vec<(String, String)>, Vec<Value>, Vec<Value>) {
    let n = b.cmd(json!({"cmd": "network", "reset": true}));
    let reqs = n["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let url = r["url"].as_str().unwrap();
            let path = url
                .strip_prefix(&format!("http://127.0.0.1:{PORT}"))
                .unwrap_or(url);
            (r["method"].as_str().unwrap().to_string(), path.to_string())
        })
        .collect();
    let bad = n["bad"].as_array().unwrap().clone();
    // A request cut off by a reload (the event stream) is no failure.
    let failed = n["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["failure"] != "net::ERR_ABORTED")
        .cloned()
        .collect();
    (reqs, bad, failed)
}

/// The one console warning every page load gives: cytoscape's own advice
/// on the page's `wheelSensitivity` (a deliberate choice, see app.js).
const WHEEL_WARNING: &str = "warning: You have set a custom wheel sensitivity.";

/// Asserts there were no console errors or warnings, page errors or
/// dialogs since the last check, except `allowed` (the browser's own line
/// for each deliberate 401/403) and [`WHEEL_WARNING`].
pub fn no_page_errors(b: &mut Browser, allowed: &[&str], phase: &str) {
    let ev = b.cmd(json!({"cmd": "events", "reset": true}));
    assert_eq!(ev["errors"], json!([]), "{phase}: page errors: {ev}");
    assert_eq!(ev["dialogs"], json!([]), "{phase}: dialogs: {ev}");
    let unexpected: Vec<&Value> = ev["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            let m = m.as_str().unwrap_or("");
            !m.starts_with(WHEEL_WARNING) && !allowed.iter().any(|a| m.contains(a))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{phase}: console errors/warnings: {unexpected:?}"
    );
}

/// The text of every `<text>` element of an SVG document; panics when the
/// document is not well-formed XML.
pub fn svg_texts(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(svg);
    let mut texts = Vec::new();
    let mut in_text = false;
    let mut depth = 0i32;
    let mut root = None;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = e.name().as_ref().to_string();
                root.get_or_insert(name.clone());
                if name == "text" {
                    in_text = true;
                    texts.push(String::new());
                }
            }
            Ok(Event::End(e)) => {
                depth -= 1;
                if e.name().as_ref() == "text" {
                    in_text = false;
                }
            }
            Ok(Event::Empty(e)) => {
                root.get_or_insert(e.name().as_ref().to_string());
            }
            Ok(Event::Text(t)) if in_text => {
                let s = t.into_inner();
                let s = quick_xml::escape::unescape(&s).expect("well-formed entities");
                texts.last_mut().unwrap().push_str(&s);
            }
            Ok(Event::GeneralRef(g)) if in_text => {
                let c = match g.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => c.to_string(),
                    None => {
                        let name = g.into_inner();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity &{name};"))
                            .to_string()
                    }
                };
                texts.last_mut().unwrap().push_str(&c);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the SVG is not well-formed at {}: {e}", r.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements in the SVG");
    assert_eq!(root.as_deref(), Some("svg"), "the root element");
    texts
}

/// Clicks the button `selector` and saves the download it starts to `path`;
/// when none starts, fails with the page's errors.
pub fn download(b: &mut Browser, selector: &str, path: &Path) -> Value {
    match b.try_cmd(json!({"cmd": "download", "selector": selector, "path": path})) {
        Ok(v) => v,
        Err(e) => {
            let ev = b.cmd(json!({"cmd": "events"}));
            b.screenshot("failed-download");
            panic!(
                "{selector}: no download ({e}); page errors {}",
                ev["errors"]
            );
        }
    }
}

/// Toggles r2:eth3 down 3 s / up 3 s, `times` times (polls every 2 s see
/// each change).
pub fn flap(lab: &Lab, times: usize) {
    for _ in 0..times {
        lab.set_if_state("r2", "eth3", false).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        lab.set_if_state("r2", "eth3", true).unwrap();
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// The id of the edge cytoscape draws between devices `a` and `z`.
pub fn edge_between(b: &mut Browser, a: &str, z: &str) -> String {
    b.eval(&format!(
        "(() => {{ const a = {}, z = {}; return window.__nocmap_cy.edges().filter((e) => \
         (e.source().id() === a && e.target().id() === z) || (e.source().id() === z && e.target().id() === a)).map((e) => e.id())[0]; }})()",
        json!(a),
        json!(z)
    ))
    .as_str()
    .unwrap_or_else(|| panic!("no edge between {a} and {z}"))
    .to_string()
}

/// With a detail panel just opened (the network log reset before): its
/// charts were asked for `first` (the range last chosen stays chosen), then
/// for each of `ranges` chosen in the picker. Each time the series requests
/// carry that `since` and `resolution=auto`, are answered 200 for the whole
/// range, and new charts replace the old.
pub fn chart_ranges(
    b: &mut Browser,
    lab: &Lab,
    prefix: &str,
    metrics: &[&str],
    what: &str,
    first: &str,
    ranges: &[&str],
) {
    let charts = "document.querySelectorAll('#detail .charts svg.chart').length";
    b.wait(
        &format!("{charts} === 2"),
        15,
        &format!("{what}: the charts"),
        "document.getElementById('detail').innerText",
    );
    assert_eq!(
        b.eval("document.getElementById('range').value"),
        first,
        "{what}"
    );
    check_series_requests(b, lab, prefix, metrics, what, first);
    for range in ranges {
        b.eval(
            "document.querySelectorAll('#detail svg.chart').forEach((s) => s.dataset.old = '1')",
        );
        b.cmd(json!({"cmd": "select", "selector": "#range", "value": range}));
        b.wait(
            &format!("{charts} === 2 && !document.querySelector('#detail svg.chart[data-old]')"),
            15,
            &format!("{what}: the charts for {range}"),
            "document.getElementById('detail').innerText",
        );
        assert_eq!(b.eval("document.getElementById('range').value"), *range);
        check_series_requests(b, lab, prefix, metrics, what, range);
    }
    // Something was drawn: a line for a series with points, or the
    // chart's "no data" note.
    let drawn = b.eval(
        "[...document.querySelectorAll('#detail svg.chart')].map((s) => s.querySelectorAll('path').length + s.querySelectorAll('.chart-empty').length)",
    );
    assert!(
        drawn
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n.as_u64() > Some(0)),
        "{what}: charts drawn {drawn}"
    );
}

/// The series requests since the last network reset: one per metric, for
/// `range`, answered 200; the server's answer to the same URL spans it.
pub fn check_series_requests(
    b: &mut Browser,
    lab: &Lab,
    prefix: &str,
    metrics: &[&str],
    what: &str,
    range: &str,
) {
    let (reqs, bad, failed) = network(b);
    assert!(
        bad.is_empty() && failed.is_empty(),
        "{what} {range}: {bad:?} {failed:?}"
    );
    let series: Vec<&String> = reqs
        .iter()
        .filter(|(m, p)| m == "GET" && p.contains("/series?"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(series.len(), metrics.len(), "{what} {range}: {series:?}");
    for m in metrics {
        let u = series
            .iter()
            .find(|p| p.contains(&format!("metric={m}&")))
            .unwrap_or_else(|| panic!("{what} {range}: no request for {m}: {series:?}"));
        assert!(u.starts_with(prefix), "{u}");
        assert!(
            u.ends_with(&format!("&since={range}&resolution=auto")),
            "{what}: {u}"
        );
    }
    let (status, v) = api_status(lab, series[0], Some(VIEWER)).unwrap();
    assert_eq!(status, 200, "{}: {v}", series[0]);
    let span_h = (v["until_ms"].as_i64().unwrap() - v["since_ms"].as_i64().unwrap()) / 3_600_000;
    let want_h = match range {
        "1h" => 1,
        "6h" => 6,
        "24h" => 24,
        "7d" => 168,
        "30d" => 720,
        _ => unreachable!(),
    };
    assert_eq!(span_h, want_h, "{}: {v}", series[0]);
    // Every range reaches up to now, also before any rollup exists: the
    // part not rolled up yet comes at a finer resolution.
    let points = v["points"].as_array().map_or(0, Vec::len);
    assert!(points > 0, "{what} {range}: no points in {v}");
}
