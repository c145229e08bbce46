//! Alerting through `nocmap serve` in the lab (noc → r1 → r2 → r3), three
//! scenarios in one run to save time:
//!
//! (a) iperf3 loads r1 → r2 above a utilisation rule's threshold: exactly
//!     one alert fires after its `for`; a load between the clear threshold
//!     and the threshold keeps it firing; it resolves only when the load
//!     stops (below clear).
//! (b) r1 stops forwarding and answering (nftables drops everything it
//!     receives): r1's "unreachable" alert fires alone; r2's and r3's are
//!     recorded as suppressed with `caused_by` r1; all resolve when r1 heals.
//! (c) the webhook receiver (an HTTP server in this test, bound inside the
//!     noc namespace) is down from the start until 2 minutes after the
//!     first notification was due; afterwards it receives every notification
//!     in order. Delivery is at least once: repeats of an id are allowed and
//!     counted, anything else (a missing, extra or reordered id) fails.
//!     `nocmap serve` is restarted during the outage: the notifications
//!     wait in the database's outbox.
//!
//! Polls every 6 s (net-snmp refreshes counters every 3 s), ICMP every 2 s.
//! Deadlines are generous; nothing asserts on timing.
#[macro_use]
mod support;
use nocmap::store::{Store, StoreConfig};
use nocmap::types::UnixMillis;
use nocmap_lab::Lab;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use support::Kill;
use support::lab::Routers;
use support::serve::{self, ServeCmd};

const LAB: Routers = Routers::new(
    "alchain",
    "10.95.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r2:eth2 - r3:eth2",
);

const API_PORT: u16 = 18_095;
const HOOK_PORT: u16 = 18_096;
const TOKEN: &str = "alerts-lab-hook-token-5c1f";

fn config() -> String {
    format!(
        r#"
[[receiver]]
name = "hook"
url = "http://127.0.0.1:{HOOK_PORT}/hook"
format = "alertmanager"
bearer_token = "env:ALERTS_LAB_HOOK_TOKEN"
timeout_ms = 2000

# r2's end of the r1-r2 link (a veth: ifHighSpeed 10000, 10 Gbit/s):
# fires above 1.5 % (150 Mbit/s), clears below 0.5 % (50 Mbit/s).
[[alert]]
name = "r2-uplink-hot"
kind = "utilization"
threshold = 1.5
clear = 0.5
for_s = 12
severity = "warning"
devices = ["r2"]
interfaces = ["eth1"]

[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 6
severity = "critical"
"#
    )
}

fn api(lab: &Lab, path: &str) -> Value {
    support::noc_json(lab, API_PORT, path)
}

fn history(lab: &Lab) -> Vec<Value> {
    support::alert_history(lab, API_PORT)
}

fn events<'a>(h: &'a [Value], rule: &str, device: Option<&str>, event: &str) -> Vec<&'a Value> {
    h.iter()
        .filter(|e| {
            e["rule"] == rule && e["event"] == event && device.is_none_or(|d| e["device_name"] == d)
        })
        .collect()
}

/// A UDP iperf3 client r1 → r2 at `rate`, until killed.
fn load(lab: &Lab, to: &str, port: &str, rate: &str) -> (Kill, Kill) {
    let server = lab
        .command_in("r2", "iperf3")
        .unwrap()
        .args(["-s", "-1", "-B", to, "-p", port])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let client = lab
        .command_in("r1", "iperf3")
        .unwrap()
        .args([
            "-c", to, "-p", port, "-u", "-b", rate, "-l", "1400", "-t", "120",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Kill(client), Kill(server))
}

/// `nocmap serve` in the noc namespace with the alert config, logging at
/// info to `log`; returns once the API answers.
fn start_serve(lab: &Lab, cfg: &Path, db: &Path, log: &Path) -> Kill {
    ServeCmd::new(lab, "10.95.0.0/16")
        .poll(6)
        .icmp(2)
        .config(cfg)
        .db(db)
        .env("ALERTS_LAB_HOOK_TOKEN", TOKEN)
        .start_logged(API_PORT, log)
}

#[test]
fn alerts_fire_once_suppress_behind_a_root_cause_and_survive_a_receiver_outage() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (dir, cfg, db, log) = serve::files("alerts", &config());
    let serve = start_serve(&lab, &cfg, &db, &log);
    let topo = api(&lab, "/api/topology");
    assert!(
        topo["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["poller"] == true),
        "the poller is in the topology: {topo}"
    );
    std::thread::sleep(Duration::from_secs(7)); // the first counter poll

    // (a) 250 Mbit/s = 2.5 % of r2's 10 Gbit/s eth1: above the 1.5 % threshold.
    let (_, r2_addr) = lab.link_addrs("r1:eth1").unwrap();
    let r2_addr = r2_addr.unwrap().to_string();
    let t_load = now_ms();
    let high = load(&lab, &r2_addr, "5311", "250M");
    let mut polls = 0;
    let fired = support::wait_until("the utilisation alert", Duration::from_secs(90), || {
        polls += 1;
        if polls % 20 == 0 {
            let t = api(&lab, "/api/topology");
            for l in t["links"].as_array().unwrap() {
                eprintln!(
                    "  link {} {}: util {} in {} out {} speed {}",
                    l["a"]["device"],
                    l["b"]["device"],
                    l["utilization_pct"],
                    l["in_bps"],
                    l["out_bps"],
                    l["speed_bps"]
                );
            }
        }
        let h = history(&lab);
        events(&h, "r2-uplink-hot", None, "fired")
            .first()
            .map(|e| (*e).clone())
    });
    let t_fired = fired["at_ms"].as_i64().unwrap();
    eprintln!(
        "(a) fired {:.1} s after the load started (for = 12 s, polls every 6 s), value {}",
        (t_fired - t_load) as f64 / 1000.0,
        fired["value"]
    );
    drop(high);
    // 100 Mbit/s = 1 %: between clear (0.5 %) and threshold (1.5 %).
    let mid = load(&lab, &r2_addr, "5312", "100M");
    std::thread::sleep(Duration::from_secs(30));
    let active = api(&lab, "/api/alerts");
    let hot: Vec<&Value> = active["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "r2-uplink-hot")
        .collect();
    assert_eq!(hot.len(), 1, "exactly one utilisation alert: {active}");
    let mid_value = hot[0]["value"].as_f64().unwrap_or(-1.0);
    eprintln!("(a) at 100 Mbit/s the alert still fires, value {mid_value:.3} %");
    assert!(
        (0.5..1.5).contains(&mid_value),
        "the middle load is between clear and threshold: {mid_value}"
    );
    let h = history(&lab);
    assert_eq!(events(&h, "r2-uplink-hot", None, "fired").len(), 1, "{h:?}");
    assert!(events(&h, "r2-uplink-hot", None, "resolved").is_empty());
    drop(mid);
    let t_stop = now_ms();
    let resolved = support::wait_until("the resolution", Duration::from_secs(60), || {
        let h = history(&lab);
        events(&h, "r2-uplink-hot", None, "resolved")
            .first()
            .map(|e| (*e).clone())
    });
    eprintln!(
        "(a) resolved {:.1} s after the load stopped",
        (resolved["at_ms"].as_i64().unwrap() - t_stop) as f64 / 1000.0
    );

    // (b) r1 drops everything it receives: r1, r2 and r3 stop answering.
    let t_cut = now_ms();
    lab.set_loss("r1", 100).unwrap();
    let r1_fired = support::wait_until("r1's unreachable alert", Duration::from_secs(60), || {
        let h = history(&lab);
        events(&h, "unreachable", Some("r1"), "fired")
            .first()
            .map(|e| (*e).clone())
    });
    eprintln!(
        "(b) r1 unreachable fired {:.1} s after the cut",
        (r1_fired["at_ms"].as_i64().unwrap() - t_cut) as f64 / 1000.0
    );
    let behind = support::wait_until("r2 and r3 suppressed", Duration::from_secs(30), || {
        let a = api(&lab, "/api/alerts");
        let list: Vec<Value> = a["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["rule"] == "unreachable")
            .cloned()
            .collect();
        (list.len() == 3).then_some(list)
    });
    for a in &behind {
        let name = a["device"]["name"].as_str().unwrap();
        if name == "r1" {
            assert_eq!(a["suppressed"], false, "{a}");
        } else {
            assert_eq!(a["suppressed"], true, "{a}");
            assert_eq!(a["caused_by"][0]["name"], "r1", "{a}");
            assert_eq!(a["caused_by"].as_array().unwrap().len(), 1, "{a}");
        }
    }
    let h = history(&lab);
    assert_eq!(events(&h, "unreachable", None, "fired").len(), 1, "{h:?}");
    assert_eq!(events(&h, "unreachable", None, "suppressed").len(), 2);
    lab.set_loss("r1", 0).unwrap();
    support::wait_until("everything resolved", Duration::from_secs(60), || {
        let h = history(&lab);
        (events(&h, "unreachable", None, "resolved").len() == 3).then_some(())
    });
    eprintln!("(b) r1, r2, r3 resolved after the heal");

    // The process restarts while the receiver is still down: the outbox
    // rows wait in the database.
    support::stop_serve(serve, &log);
    let log2 = dir.path().join("serve2.log");
    let serve = start_serve(&lab, &cfg, &db, &log2);
    eprintln!("(c) serve restarted during the outage");

    // (c) The receiver has been down since the start; it comes up 2 minutes
    // after the first notification was due.
    let up_at = t_fired + 120_000;
    let wait = (up_at - now_ms()).max(0) as u64;
    eprintln!(
        "(c) receiver down for another {:.0} s",
        wait as f64 / 1000.0
    );
    std::thread::sleep(Duration::from_millis(wait));
    let got = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, got.clone());
    let t_up = now_ms();
    let h = history(&lab);
    let told: Vec<i64> = h
        .iter()
        .filter(|e| e["notified"] == true)
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        told.len(),
        4,
        "hot fired/resolved and r1 fired/resolved are the only notifications: {h:?}"
    );
    support::wait_until("every notification", Duration::from_secs(100), || {
        let g = got.lock().unwrap();
        let ids: std::collections::BTreeSet<i64> = g.iter().map(|x| x.id).collect();
        told.iter().all(|t| ids.contains(t)).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3)); // anything extra would show now
    let g = got.lock().unwrap().clone();
    let mut firsts: Vec<i64> = Vec::new();
    for support::Hook { id, .. } in &g {
        if !firsts.contains(id) {
            firsts.push(*id);
        }
    }
    eprintln!(
        "(c) receiver got {} requests ({} distinct notifications) within {:.1} s of coming up",
        g.len(),
        firsts.len(),
        (now_ms() - t_up) as f64 / 1000.0
    );
    assert_eq!(firsts, told, "every notification, in order, nothing else");
    for support::Hook { id, auth, body, .. } in &g {
        assert_eq!(auth, &format!("Bearer {TOKEN}"));
        assert_eq!(body["version"], "4");
        assert_eq!(body["receiver"], "hook");
        let alert = &body["alerts"][0];
        assert_eq!(alert["annotations"]["notification_id"], id.to_string());
        assert_eq!(alert["status"], body["status"]);
    }
    let statuses: Vec<(String, String)> = firsts
        .iter()
        .map(|id| {
            let b = &g.iter().find(|x| x.id == *id).unwrap().body;
            (
                b["alerts"][0]["labels"]["alertname"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                b["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("r2-uplink-hot".to_string(), "firing".to_string()),
            ("r2-uplink-hot".to_string(), "resolved".to_string()),
            ("unreachable".to_string(), "firing".to_string()),
            ("unreachable".to_string(), "resolved".to_string()),
        ]
    );

    // Stop serve and look at the outbox and the logs.
    support::stop_serve(serve, &log2);
    let store = Store::open(&db, StoreConfig::default()).unwrap();
    let history_from = |s: &Store| s.alert_history(UnixMillis(0), 1000).unwrap().len();
    assert!(
        store.outbox_pending().unwrap().is_empty(),
        "the outbox is empty"
    );
    let text = std::fs::read_to_string(&log).unwrap() + &std::fs::read_to_string(&log2).unwrap();
    assert!(!text.contains(TOKEN), "the token is in a log");
    assert!(text.contains("retrying"), "the outage was seen");
    // Nothing fired again after the restart.
    let h = history_from(&store);
    assert_eq!(
        h, 8,
        "history: hot fired + resolved, r1 fired, r2 r3 suppressed, r1 r2 r3 resolved"
    );
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
