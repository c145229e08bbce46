//! ICMP rounds that stop producing results, with real snmpd agents and a
//! real `nocmap serve` in the noc namespace (no default route). Lab `ia`
//! (prefix 10.89.0.0/16):
//!
//! ```text
//!  noc ── r1 ── r2
//!          │
//!          r3      (pinged every 12 s, slower than the SNMP stale threshold)
//! ```
//!
//! What stops the rounds is real: an nftables rule in the noc's own output
//! chain dropping its echo requests (a host firewall on the poller). The
//! kernel then refuses every probe (`sendmsg` → EPERM): no packet leaves,
//! so the rounds measure nothing. That is not the devices being down.
//!
//! 1. r3 (ICMP every 12 s, SNMP every 2 s: SNMP data is stale after 6 s)
//!    is never shown unknown between its rounds (sampled every 250 ms).
//! 2. r2 loses every packet: its verdict is down and `unreachable` (for
//!    0 s) pages once.
//! 3. The noc's firewall refuses all echo requests: every device's verdict
//!    turns unknown/stale — no earlier than 3 of its own rounds after its
//!    last result (6 s for r1 and r2, 36 s for r3) — in `/api/devices`,
//!    `/api/topology`, the live feed and `/metrics`, with the last verdict
//!    kept as `icmp_verdict`. Nothing is told: r1 does not page, r2's
//!    alert is not resolved.
//! 4. The firewall goes, r2 still down: r1 up again, r2 down again, no
//!    second page for r2.
//! 5. r2 answers again: one resolution. In all, the receiver got exactly
//!    r2 firing and r2 resolved.
//!
//! The map page in headless Chromium (inside the noc namespace) shows r1
//! green, then grey with a dashed border and no RTT label, its panel
//! saying it is stale, then green again.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::Kill;
use support::browser::{Browser, clear_artifacts, require_browser};
use support::lab::Routers;
use support::serve::{self, ServeCmd};

const LAB: Routers = Routers::new(
    "ia",
    "10.89.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth2",
);

const API_PORT: u16 = 18_100;
const HOOK_PORT: u16 = 18_101;

/// Rounds of 3 probes 200 ms apart with a 1 s timeout (1.4 s) every 2 s:
/// a verdict stands 3 × 2 s = 6 s; r3's (every 12 s) 36 s.
const CONFIG: &str = r#"
[poll]
icmp_interval_s = 2
snmp_interval_s = 2

[icmp]
count = 3
interval_ms = 200
timeout_ms = 1000

[[groups]]
name = "slow-icmp"
pattern = "r3"
icmp_interval_s = 12

[[receiver]]
name = "hook"
url = "http://127.0.0.1:18101/hook"
format = "alertmanager"
timeout_ms = 2000

[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 0
severity = "critical"
"#;

const LIFETIME_MS: i64 = 6_000;
const SLOW_LIFETIME_MS: i64 = 36_000;

/// The poller's host firewall: its own echo requests dropped on output.
const BLOCK: &str = "table inet ia_block {\n  chain out {\n    type filter hook output priority 0; policy accept;\n    icmp type echo-request drop\n  }\n}\n";
const UNBLOCK: &str = "delete table inet ia_block\n";

fn get(lab: &Lab, path: &str) -> Option<Value> {
    serde_json::from_str(&support::noc_get(lab, API_PORT, path)?).ok()
}

/// The devices of a device list (`/api/devices`, or `/api/topology`'s
/// `devices`) by sysName.
fn by_name(list: Option<&Value>) -> BTreeMap<String, Value> {
    list.and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| Some((d["sys_name"].as_str()?.to_string(), d)))
        .collect()
}

fn devices(lab: &Lab) -> BTreeMap<String, Value> {
    by_name(get(lab, "/api/devices").as_ref())
}

fn history(lab: &Lab) -> Vec<Value> {
    get(lab, "/api/alerts/history?since=1h")
        .and_then(|v| v["events"].as_array().cloned())
        .unwrap_or_default()
}

/// (device, status) of every notification the receiver got.
fn notes(got: &support::Hooks) -> Vec<(String, String)> {
    got.lock()
        .unwrap()
        .iter()
        .map(|h| {
            let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
            (
                s(&h.body["alerts"][0]["labels"]["device"]),
                s(&h.body["status"]),
            )
        })
        .collect()
}

/// The device label of each sample line of `name` whose value is `value`.
fn labelled(metrics: &str, name: &str, value: &str) -> Vec<String> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.ends_with(&format!(" {value}")))
        .filter_map(|l| {
            let at = l.find("sys_name=\"")? + "sys_name=\"".len();
            Some(l[at..].split('"').next()?.to_string())
        })
        .collect()
}

const UP_GREEN: &str = "#2e9d4a";
const UNKNOWN_GREY: &str = "#8a8f98";

/// The map node of device `id` as the page draws it.
fn node_expr(id: &str) -> String {
    format!(
        "(() => {{ const n = window.__nocmap_cy.getElementById({}); return !n.empty() && {{ reach: n.data('reach'), colour: n.data('colour'), label: n.data('label'), border: n.style('border-style') }}; }})()",
        json!(id)
    )
}

/// Waits until device `id`'s node has `colour` (and is dashed or not).
fn wait_node(b: &mut Browser, id: &str, colour: &str, dashed: bool, what: &str) -> Value {
    b.wait(
        &format!(
            "(() => {{ const v = {}; return v && v.colour === {} && (v.border === 'dashed') === {dashed} && v; }})()",
            node_expr(id),
            json!(colour)
        ),
        20,
        what,
        &node_expr(id),
    )
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn start_serve(lab: &Lab, cfg: &Path, db: &Path, log: &Path) -> Kill {
    ServeCmd::new(lab, "10.89.0.0/16")
        .config(cfg)
        .db(db)
        .start_logged(API_PORT, log)
}

#[test]
fn rounds_that_stop_age_the_verdict_to_unknown_without_paging() {
    require_root!();
    let t_start = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (_dir, cfg, db, log) = serve::files("ia", CONFIG);
    let got = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, got.clone());
    let serve = start_serve(&lab, &cfg, &db, &log);
    support::wait_until("every router up", Duration::from_secs(60), || {
        let d = devices(&lab);
        ["r1", "r2", "r3"]
            .iter()
            .all(|n| {
                d.get(*n)
                    .is_some_and(|v| v["health"]["reachability"] == "up")
            })
            .then_some(())
    });
    for n in ["r1", "r2", "r3"] {
        let h = &devices(&lab)[n]["health"];
        let want = if n == "r3" {
            SLOW_LIFETIME_MS
        } else {
            LIFETIME_MS
        };
        assert_eq!(h["icmp_stale_after_ms"], want, "{n}: {h}");
        assert_eq!(h["reachability_stale"], false, "{n}: {h}");
    }
    eprintln!(
        "lab and serve ready after {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
    require_browser();
    clear_artifacts("icmp_stale_lab");
    let r1_id = devices(&lab)["r1"]["id"].as_str().unwrap().to_string();
    let mut browser = Browser::start(&lab, "icmp_stale_lab");
    browser.cmd(json!({"cmd": "goto", "url": format!("http://127.0.0.1:{API_PORT}/")}));
    let green = wait_node(&mut browser, &r1_id, UP_GREEN, false, "r1 green on the map");
    eprintln!("map: r1 {green}");

    // 1. r3 between its rounds, for 30 s: never unknown, though its last
    // result gets older than the SNMP stale threshold (6 s).
    let (mut samples, mut oldest, mut rounds) = (0, 0i64, std::collections::BTreeSet::new());
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        let now = now_ms();
        if let Some(h) = devices(&lab).get("r3").map(|d| d["health"].clone()) {
            samples += 1;
            assert_eq!(h["reachability"], "up", "r3 between rounds: {h}");
            assert_eq!(h["reachability_stale"], false, "{h}");
            let last = h["last_icmp_ms"].as_i64().unwrap();
            rounds.insert(last);
            oldest = oldest.max(now - last);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!(
        "(1) r3 (ICMP every 12 s): {samples} samples over 30 s, {} rounds, always up; its last result up to {:.1} s old (SNMP stale after 6 s)",
        rounds.len(),
        secs(oldest)
    );
    assert!(rounds.len() >= 2, "r3 had rounds meanwhile: {rounds:?}");
    assert!(oldest > 6_000, "r3's result outlived the SNMP threshold");

    // 2. r2 down: one page.
    let t_down = now_ms();
    lab.set_loss("r2", 100).unwrap();
    support::wait_until("r2 paged", Duration::from_secs(30), || {
        notes(&got)
            .contains(&("r2".into(), "firing".into()))
            .then_some(())
    });
    eprintln!("(2) r2 down: paged after {:.1} s", secs(now_ms() - t_down));
    assert_eq!(devices(&lab)["r2"]["health"]["reachability"], "down");

    // 3. The poller's firewall refuses its own echo requests. The live
    // feed is read meanwhile.
    let mut feed = lab
        .command_in("noc", "curl")
        .unwrap()
        .args([
            "-sN",
            "-m",
            "20",
            &format!("http://127.0.0.1:{API_PORT}/api/events"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut feed_out = feed.stdout.take().unwrap();
    let feed_text = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut feed_out, &mut text);
        text
    });
    std::thread::sleep(Duration::from_secs(1));
    let before = devices(&lab);
    let t_block = now_ms();
    support::nft(&lab, "noc", BLOCK);
    // When each device is first seen unknown/stale, and its last result.
    let mut flipped: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while flipped.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "not every verdict went stale: {flipped:?} {:?}",
            devices(&lab)
        );
        let now = now_ms();
        for (n, d) in devices(&lab) {
            let h = &d["health"];
            if flipped.contains_key(&n) || !["r1", "r2", "r3"].contains(&n.as_str()) {
                continue;
            }
            let last = h["last_icmp_ms"].as_i64().unwrap();
            if h["reachability"] == "unknown" {
                assert_eq!(h["reachability_stale"], true, "{n}: {h}");
                let life = h["icmp_stale_after_ms"].as_i64().unwrap();
                assert!(
                    now - last > life,
                    "{n} unknown before its lifetime: {} s after its last result: {h}",
                    secs(now - last)
                );
                flipped.insert(n.clone(), (now, last));
            } else {
                // Until then it keeps its verdict (r2 down, the others up).
                let want = if n == "r2" { "down" } else { "up" };
                assert_eq!(h["reachability"], want, "{n} before stale: {h}");
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let d = devices(&lab);
    for (n, (at, last)) in &flipped {
        let h = &d[n]["health"];
        let life = h["icmp_stale_after_ms"].as_i64().unwrap();
        eprintln!(
            "(3) {n}: unknown {:.1} s after the block, {:.2} s after its last result (lifetime {:.0} s); last verdict {}; icmp_error {}",
            secs(at - t_block),
            secs(at - last),
            secs(life),
            h["icmp_verdict"],
            h["icmp_error"]
        );
        // Seen within 2.5 s of the lifetime's end (the poll is 250 ms and
        // each GET to a debug build is slow on this machine).
        assert!(at - last <= life + 2_500, "{n}: {h}");
        let want = if n == "r2" { "down" } else { "up" };
        assert_eq!(h["icmp_verdict"], want, "{n}: {h}");
        // The last round's loss counts only probes that left the noc (a
        // round the firewall cut in two once read 66.7 % here).
        let loss = if n == "r2" { 100.0 } else { 0.0 };
        assert_eq!(h["loss_pct"].as_f64(), Some(loss), "{n}: {h}");
        assert!(
            h["icmp_error"]
                .as_str()
                .is_some_and(|e| e.contains("refused")),
            "{n}: {h}"
        );
        // No result since the block: the last one is from before it.
        assert!(*last < t_block + 1_500, "{n}: {h}");
        assert!(before[n]["health"]["last_icmp_ms"].as_i64().unwrap() <= *last);
    }
    // The map: r1 grey, dashed, no RTT; its panel says stale.
    let grey = wait_node(
        &mut browser,
        &r1_id,
        UNKNOWN_GREY,
        true,
        "r1 grey on the map",
    );
    eprintln!("(3) map: r1 {grey}");
    assert_eq!(grey["reach"], "unknown", "{grey}");
    assert!(!grey["label"].as_str().unwrap().contains(" ms"), "{grey}");
    browser.cmd(json!({"cmd": "click_node", "id": r1_id}));
    let field = "document.querySelector('td[data-field=\"reachability\"]')";
    let panel = browser.wait(
        &format!("(() => {{ const td = {field}; return td && td.textContent.includes('stale') && td.textContent; }})()"),
        10,
        "the panel says stale",
        &format!("{field} && {field}.textContent"),
    );
    eprintln!("(3) panel: reachability {panel}");
    assert!(panel.as_str().unwrap().contains("was up"), "{panel}");
    let loss_cell = browser.eval("document.querySelector('td[data-field=\"loss\"]').textContent");
    assert!(
        loss_cell.as_str().unwrap().ends_with("(stale)"),
        "{loss_cell}"
    );
    browser.screenshot("r1-stale");
    let seen = browser.cmd(json!({"cmd": "events"}));
    assert!(
        seen["errors"].as_array().is_none_or(|e| e.is_empty()),
        "page errors: {seen}"
    );
    // /api/topology and /metrics say the same.
    let topo = by_name(get(&lab, "/api/topology").as_ref().map(|t| &t["devices"]));
    for n in ["r1", "r2", "r3"] {
        let h = &topo[n]["health"];
        assert_eq!(
            (&h["reachability"], &h["reachability_stale"]),
            (&Value::from("unknown"), &Value::from(true)),
            "{n}: {h}"
        );
    }
    let metrics = support::noc_get(&lab, API_PORT, "/metrics").unwrap();
    let mut stale = labelled(&metrics, "nocmap_device_reachability_stale", "1");
    stale.sort();
    assert_eq!(stale, ["r1", "r2", "r3"], "{metrics}");
    assert!(
        !metrics.contains("nocmap_device_up{"),
        "no up/down sample while stale: {metrics}"
    );
    assert!(!metrics.contains("nocmap_packet_loss_ratio{"), "{metrics}");
    let without = support::metric(&metrics, "nocmap_icmp_rounds_without_verdict_total").unwrap();
    assert!(without > 0.0, "{metrics}");
    // The live feed carried the change: a delta with r1 unknown and stale.
    let _ = feed.wait();
    let text = feed_text.join().unwrap();
    let r1_stale_in_feed = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .flat_map(|e| e["devices"].as_array().cloned().unwrap_or_default())
        .any(|d| {
            d["sys_name"] == "r1"
                && d["health"]["reachability"] == "unknown"
                && d["health"]["reachability_stale"] == true
        });
    assert!(
        r1_stale_in_feed,
        "the feed told r1 went stale: {} bytes",
        text.len()
    );
    // Nothing was told meanwhile: r2 still firing, r1 never.
    assert_eq!(
        notes(&got),
        [("r2".to_string(), "firing".to_string())],
        "a stale verdict neither pages nor resolves"
    );
    let h = history(&lab);
    assert!(
        h.iter()
            .all(|e| e["device_name"] == "r2" && e["event"] == "fired"),
        "{h:#?}"
    );
    eprintln!(
        "(3) {} rounds without a verdict; notifications still only r2 firing",
        without
    );

    // 4. The firewall goes; r2 is still down.
    let t_unblock = now_ms();
    support::nft(&lab, "noc", UNBLOCK);
    let back = support::wait_until("fresh verdicts", Duration::from_secs(30), || {
        let d = devices(&lab);
        (d["r1"]["health"]["reachability"] == "up" && d["r2"]["health"]["reachability"] == "down")
            .then(now_ms)
    });
    eprintln!(
        "(4) firewall removed: r1 up and r2 down again after {:.1} s",
        secs(back - t_unblock)
    );
    wait_node(&mut browser, &r1_id, UP_GREEN, false, "r1 green again");
    drop(browser);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(notes(&got).len(), 1, "no second page: {:?}", notes(&got));

    // 5. r2 answers: one resolution.
    lab.set_loss("r2", 0).unwrap();
    support::wait_until("r2 resolved", Duration::from_secs(30), || {
        (notes(&got).len() >= 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        notes(&got),
        [
            ("r2".to_string(), "firing".to_string()),
            ("r2".to_string(), "resolved".to_string())
        ]
    );

    let mut serve = serve;
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(serve.0.id() as i32, libc::SIGTERM) };
    let st = serve.0.wait().unwrap();
    assert!(st.success(), "serve exited with {st}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "no panic in serve: {text}");
    eprintln!("total {:.1} s", t_start.elapsed().as_secs_f64());
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
