//! The poller cut off with its own links still up (its upstream dies, or
//! the host's firewall drops what comes back): nothing answers, and with
//! two first hops no single device explains it. `nocmap serve` runs in the
//! lab's noc namespace, which has two links (to r1 and to r4; r2 sits
//! behind r1), with real snmpd and real ICMP.
//!
//! 1. r1 stops answering (nftables drops everything it receives): r1 is
//!    the root cause and pages; r2 is suppressed behind it; r4 answers; the
//!    poller is not cut off. Then the noc's own firewall refuses its echo
//!    requests to r1: r1's last verdict (down) goes stale, and r2, still
//!    measured down, stays suppressed behind r1 instead of paging.
//! 2. The noc drops everything it receives (but loopback): every device
//!    reads down while both noc links keep their carrier. One notification,
//!    `poller_isolated` ("no device answers"); every unreachable alert is
//!    suppressed behind the poller and never told.
//! 3. Healed: the cut-off resolves, and nothing else is told.
//! 4. serve's ICMP receive loops panic (injected: SIGUSR1 with
//!    `NOCMAP_TEST_FAULTS`, only in the tests' build, feature `test-faults`):
//!    they are started again,
//!    every router reads up with fresh rounds, nothing pages.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use support::Kill;
use support::serve::{self, ServeCmd};

/// r4 is behind the noc's second link; declared before it is linked.
fn lab_toml() -> String {
    support::lab::LabToml::new("iso", "10.94.0.0/16")
        .routers(&["r1", "r2", "r4"])
        .links("noc:eth0 - r1:eth0, noc:eth1 - r4:eth1, r1:eth2 - r2:eth2")
        .build()
}

const API_PORT: u16 = 18_113;
const HOOK_PORT: u16 = 18_114;

const CONFIG: &str = r#"
[poll]
icmp_interval_s = 2
snmp_interval_s = 2

[[receiver]]
name = "hook"
url = "http://127.0.0.1:18114/hook"
format = "alertmanager"
timeout_ms = 2000

[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 4
severity = "critical"

[[alert]]
name = "poller-cut-off"
kind = "poller_isolated"
for_s = 4
severity = "critical"
"#;

fn api(lab: &Lab, path: &str) -> Value {
    support::noc_json(lab, API_PORT, path)
}

fn history(lab: &Lab) -> Vec<Value> {
    support::alert_history(lab, API_PORT)
}

fn active(lab: &Lab) -> Vec<Value> {
    support::active_alerts(lab, API_PORT)
}

/// Reachability of each router by sysName.
fn reach(lab: &Lab) -> BTreeMap<String, String> {
    api(lab, "/api/devices")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| {
            Some((
                d["sys_name"].as_str()?.to_string(),
                d["health"]["reachability"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The `/api/devices` entry of the device with this sysName.
fn device(lab: &Lab, name: &str) -> Option<Value> {
    api(lab, "/api/devices")
        .as_array()?
        .iter()
        .find(|d| d["sys_name"] == name)
        .cloned()
}

/// Every IPv4 address of `node` but loopback's.
fn addresses(lab: &Lab, node: &str) -> Vec<String> {
    let out = lab
        .command_in(node, "ip")
        .unwrap()
        .args(["-4", "-o", "addr", "show"])
        .output()
        .unwrap();
    let list: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(3)?
                .split('/')
                .next()
                .map(str::to_string)
        })
        .filter(|a| !a.starts_with("127."))
        .collect();
    assert!(!list.is_empty(), "{node} has addresses");
    list
}

/// (rule, status, device) of each notification the receiver got.
fn told(got: &support::Hooks) -> Vec<(String, String, String)> {
    let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
    got.lock()
        .unwrap()
        .iter()
        .map(|h| {
            let labels = &h.body["alerts"][0]["labels"];
            (
                s(&labels["alertname"]),
                s(&h.body["status"]),
                s(&labels["device"]),
            )
        })
        .collect()
}

#[test]
fn a_poller_nothing_answers_pages_once_and_one_dead_hop_does_not_isolate_it() {
    require_root!();
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (_dir, cfg, db, log) = serve::files("iso", CONFIG);
    let got = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, got.clone());
    // r4 is reached only through the noc's second link: seed it too.
    let r4_seed = lab.link_addrs("noc:eth1").unwrap().1.unwrap().to_string();
    let serve: Kill = ServeCmd::new(&lab, "10.94.0.0/16")
        .args(["--seed", &r4_seed])
        .poll(2)
        .config(&cfg)
        .db(&db)
        .start_logged(API_PORT, &log);
    let topo = api(&lab, "/api/topology");
    let poller_id = topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["poller"] == true)
        .and_then(|d| d["id"].as_str())
        .expect("the poller is in the topology")
        .to_string();
    let poller_links = topo["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            l["a"]["device"] == poller_id.as_str() || l["b"]["device"] == poller_id.as_str()
        })
        .count();
    assert_eq!(poller_links, 2, "the poller has two first hops: {topo}");
    support::wait_until("every router up", Duration::from_secs(30), || {
        let r = reach(&lab);
        (r.len() == 3 && r.values().all(|v| v == "up")).then_some(())
    });

    // 1. One first hop dies.
    let t_r1 = now_ms();
    lab.set_loss("r1", 100).unwrap();
    let fired = support::wait_until("r1's unreachable alert", Duration::from_secs(30), || {
        history(&lab).into_iter().find(|e| {
            e["rule"] == "unreachable" && e["device_name"] == "r1" && e["event"] == "fired"
        })
    });
    let r2 = support::wait_until("r2 suppressed behind r1", Duration::from_secs(20), || {
        active(&lab)
            .into_iter()
            .find(|a| a["rule"] == "unreachable" && a["device"]["name"] == "r2")
    });
    eprintln!(
        "(1) r1 fired {:.1} s after its cut; r2 suppressed, caused_by {}",
        (fired["at_ms"].as_i64().unwrap() - t_r1) as f64 / 1000.0,
        r2["caused_by"]
    );
    assert_eq!(r2["suppressed"], true, "{r2}");
    assert_eq!(r2["caused_by"][0]["name"], "r1", "{r2}");
    std::thread::sleep(Duration::from_secs(6)); // past the cut-off rule's `for`
    let a = active(&lab);
    assert!(
        a.iter().all(|x| x["rule"] != "poller-cut-off"),
        "one dead first hop does not cut the poller off: {a:#?}"
    );
    assert_eq!(reach(&lab)["r4"], "up");

    // 1b. r1's rounds stop too: the noc's own firewall refuses its echo
    // requests to r1, so r1's last verdict (down) ages to stale. r2, still
    // measured down, stays behind r1 and does not page as a new root cause.
    let block = format!(
        "table inet iso_block {{\n  chain out {{\n    type filter hook output priority 0; policy accept;\n    ip daddr {{ {} }} icmp type echo-request drop\n  }}\n}}\n",
        addresses(&lab, "r1").join(", ")
    );
    let t_block = now_ms();
    support::nft(&lab, "noc", &block);
    let stale = support::wait_until("r1's verdict stale", Duration::from_secs(30), || {
        let d = device(&lab, "r1")?;
        (d["health"]["reachability_stale"] == true).then(now_ms)
    });
    std::thread::sleep(Duration::from_secs(8)); // twice the rule's `for`
    let r2 = device(&lab, "r2").expect("r2 listed");
    assert_eq!(r2["health"]["reachability"], "down", "r2 measured: {r2}");
    assert_eq!(
        r2["health"]["reachability_stale"], false,
        "r2 measured: {r2}"
    );
    let a = active(&lab);
    let r2_alert = a
        .iter()
        .find(|x| x["rule"] == "unreachable" && x["device"]["name"] == "r2")
        .unwrap_or_else(|| panic!("r2's alert still active: {a:#?}"));
    eprintln!(
        "(1b) r1's verdict stale {:.1} s after its rounds stopped; 8 s on, r2 suppressed={} caused_by {}",
        (stale - t_block) as f64 / 1000.0,
        r2_alert["suppressed"],
        r2_alert["caused_by"]
    );
    assert_eq!(r2_alert["suppressed"], true, "{r2_alert}");
    assert_eq!(r2_alert["caused_by"][0]["name"], "r1", "{r2_alert}");
    support::nft(&lab, "noc", "delete table inet iso_block\n");
    lab.set_loss("r1", 0).unwrap();
    support::wait_until("r1 and r2 resolved", Duration::from_secs(30), || {
        active(&lab).is_empty().then_some(())
    });
    let h_before_cut = history(&lab).len();
    let n_before_cut = told(&got).len();

    // 2. Nothing comes back to the noc; its links keep their carrier.
    let t_cut = now_ms();
    lab.set_loss("noc", 100).unwrap();
    let isolated = support::wait_until("the poller-cut-off alert", Duration::from_secs(30), || {
        history(&lab)
            .into_iter()
            .find(|e| e["rule"] == "poller-cut-off" && e["event"] == "fired")
    });
    eprintln!(
        "(2) poller-cut-off fired {:.1} s after the cut (for 4 s)",
        (isolated["at_ms"].as_i64().unwrap() - t_cut) as f64 / 1000.0
    );
    let during = support::wait_until(
        "3 unreachable alerts behind the poller",
        Duration::from_secs(30),
        || {
            let a = active(&lab);
            let n = a
                .iter()
                .filter(|x| x["rule"] == "unreachable" && x["suppressed"] == true)
                .count();
            (n == 3).then_some(a)
        },
    );
    support::flap::assert_behind_the_poller(&during, &poller_id);
    let links_up = lab
        .command_in("noc", "ip")
        .unwrap()
        .args(["-br", "link", "show", "up"])
        .output()
        .unwrap();
    let links_up = String::from_utf8_lossy(&links_up.stdout);
    assert!(
        ["eth0", "eth1"].iter().all(|i| links_up
            .lines()
            .any(|l| l.starts_with(i) && !l.contains("NO-CARRIER"))),
        "the noc's links stay up during the cut: {links_up}"
    );
    std::thread::sleep(Duration::from_secs(4));

    // 3. Healed.
    let t_back = now_ms();
    lab.set_loss("noc", 0).unwrap();
    let clear = support::wait_until("everything resolved", Duration::from_secs(40), || {
        active(&lab).is_empty().then_some(now_ms())
    });
    std::thread::sleep(Duration::from_secs(6)); // a catch-up would come within `for`
    let h = history(&lab);
    let cut = &h[h_before_cut..];
    for e in cut {
        eprintln!(
            "(2)   {} {} {} notified={} held={} caused_by={}",
            e["rule"], e["device_name"], e["event"], e["notified"], e["held"], e["caused_by"]
        );
    }
    eprintln!(
        "(3) nothing firing {:.1} s after the noc heard again",
        (clear - t_back) as f64 / 1000.0
    );
    let all = told(&got);
    let first: Vec<(&str, &str, &str)> = all[..n_before_cut]
        .iter()
        .map(|(r, s, d)| (r.as_str(), s.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        first,
        [
            ("unreachable", "firing", "r1"),
            ("unreachable", "resolved", "r1")
        ],
        "only r1 paged for its own death: {all:?}"
    );
    let second: Vec<(&str, &str)> = all[n_before_cut..]
        .iter()
        .map(|(r, s, _)| (r.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        second,
        [("poller-cut-off", "firing"), ("poller-cut-off", "resolved")],
        "one page for the cut-off and its resolution: {all:?}"
    );
    support::flap::assert_unreachable_never_notified(cut);
    assert_eq!(
        cut.iter()
            .filter(|e| e["rule"] == "unreachable" && e["event"] == "resolved")
            .count(),
        3,
        "every router resolved: {cut:#?}"
    );

    // 4. serve's ICMP receive loops die (a panic injected at their next
    // datagram, as a bug a hostile packet reached would): they are started
    // again, every router reads up, and nothing pages.
    let restarts = |lab: &Lab| {
        support::noc_get(lab, API_PORT, "/metrics")
            .and_then(|m| support::metric(&m, "nocmap_icmp_receiver_restarts_total"))
    };
    assert_eq!(restarts(&lab), Some(0.0));
    let (h_before, n_before) = (history(&lab).len(), told(&got).len());
    let t_fault = now_ms();
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(serve.0.id() as i32, libc::SIGUSR1) };
    support::wait_until(
        "the receive loop restarted",
        Duration::from_secs(20),
        || restarts(&lab).filter(|n| *n >= 1.0),
    );
    let restarted = now_ms();
    std::thread::sleep(Duration::from_secs(10)); // 5 rounds, past the rule's `for`
    let fresh = api(&lab, "/api/devices");
    let routers: Vec<&Value> = fresh
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["health"].is_object())
        .collect();
    assert_eq!(routers.len(), 3, "{fresh}");
    for d in routers {
        let h = &d["health"];
        assert_eq!(h["reachability"], "up", "{}: {h}", d["sys_name"]);
        assert_eq!(h["reachability_stale"], false, "{}: {h}", d["sys_name"]);
        assert!(h["last_icmp_ms"].as_i64().unwrap_or(0) > restarted, "{h}");
    }
    eprintln!(
        "(4) receive loops restarted within {:.1} s of the fault; 10 s on every router up with fresh rounds, {} new alert events, {} new notifications",
        (restarted - t_fault) as f64 / 1000.0,
        history(&lab).len() - h_before,
        told(&got).len() - n_before
    );
    assert_eq!(
        history(&lab).len(),
        h_before,
        "{:#?}",
        &history(&lab)[h_before..]
    );
    assert_eq!(told(&got).len(), n_before);
    support::stop_serve(serve, &log);
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
