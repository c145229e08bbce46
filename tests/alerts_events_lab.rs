//! Alert rules on received events through `nocmap serve` in a lab
//! (noc – r1), with real senders in r1's namespace and a real webhook
//! receiver in the noc namespace:
//!
//! (a) net-snmp's `snmptrap` sends a v2c linkDown about r1's eth0: the
//!     `trap` rule fires on r1's eth0 and its notification (generic JSON)
//!     reaches the webhook, the trap's varbinds in its summary; a second
//!     linkDown is counted on the alert (`/api/alerts` value 2) without a
//!     second notification; a linkUp resolves it (`resolve_trap_oid`).
//! (b) util-linux `logger` sends a matching message at warning (below the
//!     rule's `min_severity = "err"`) and a non-matching one at err:
//!     nothing fires; a matching one at err fires the `syslog` rule, its
//!     message carried as text (markup and all) in the notification, and
//!     the alert resolves after its `clear_after_s` of quiet.
//! (c) A rule counting `min_matches = 3` within 60 s: two matching
//!     messages fire nothing, the third fires it with the value 3.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, wait_api};

const LAB: Routers = Routers::new("evr", "10.170.0.0/16", "noc:eth0 - r1:eth0");
const PORT: u16 = 18_170;
const HOOK_PORT: u16 = 18_171;
const TRAP_PORT: u16 = 11_170;
const SYSLOG_PORT: u16 = 15_170;
const CLEAR_S: u64 = 5;

const LINK_DOWN: &str = ".1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = ".1.3.6.1.6.3.1.1.5.4";
const IF_INDEX: &str = ".1.3.6.1.2.1.2.2.1.1";
const IF_OPER: &str = ".1.3.6.1.2.1.2.2.1.8";

fn config() -> String {
    format!(
        r#"
[traps]
listen = "0.0.0.0:{TRAP_PORT}"

[syslog]
listen_udp = "0.0.0.0:{SYSLOG_PORT}"

[[receiver]]
name = "hook"
url = "http://127.0.0.1:{HOOK_PORT}/hook"
timeout_ms = 2000

[[alert]]
name = "link-down"
kind = "trap"
trap_oid = "IF-MIB::linkDown"
resolve_trap_oid = "linkUp"
varbinds = [{{ oid = "ifOperStatus", equals = "2" }}]
severity = "critical"
devices = ["r1"]

[[alert]]
name = "auth-failure"
kind = "syslog"
min_severity = "err"
pattern = 'authentication failure for \S+'
clear_after_s = {CLEAR_S}

[[alert]]
name = "ssh-burst"
kind = "syslog"
pattern = 'Invalid user'
min_matches = 3
within_s = 60
"#
    )
}

fn run(lab: &Lab, node: &str, program: &str, args: &[&str]) -> (bool, String) {
    let out = lab
        .command_in(node, program)
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A v2c trap from r1 about `if_index` with its ifOperStatus.
fn trap(lab: &Lab, to: &str, oid: &str, if_index: u32, oper: u32) {
    let (i, o) = (
        format!("{IF_INDEX}.{if_index}"),
        format!("{IF_OPER}.{if_index}"),
    );
    let (ix, op) = (if_index.to_string(), oper.to_string());
    let args = [
        "-v", "2c", "-c", "public", to, "", oid, &i, "i", &ix, &o, "i", &op,
    ];
    let (ok, out) = run(lab, "r1", "snmptrap", &args);
    assert!(ok, "snmptrap: {out}");
}

/// A syslog message from r1 over UDP (RFC 5424) at `prio`.
fn log(lab: &Lab, noc: &str, prio: &str, text: &str) {
    let port = SYSLOG_PORT.to_string();
    let args = [
        "--udp",
        "--rfc5424",
        "-n",
        noc,
        "-P",
        &port,
        "-p",
        prio,
        "-t",
        "sshd",
        text,
    ];
    let (ok, out) = run(lab, "r1", "logger", &args);
    assert!(ok, "logger: {out}");
}

/// The webhook bodies of `rule` so far, in arrival order.
fn hooks_of(got: &support::Hooks, rule: &str) -> Vec<Value> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|h| h.body["rule"] == rule)
        .map(|h| h.body.clone())
        .collect()
}

fn alert_of(lab: &Lab, rule: &str) -> Option<Value> {
    support::active_alerts(lab, PORT)
        .into_iter()
        .find(|a| a["rule"] == rule)
}

#[test]
fn trap_and_syslog_rules_fire_notify_count_and_resolve() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    let dir = tempfile::tempdir().unwrap();
    let (db, cfg) = (dir.path().join("ev.db"), dir.path().join("nocmap.toml"));
    std::fs::write(&cfg, config()).unwrap();
    let got = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, got.clone());
    let cmd = ServeCmd::new(&lab, LAB.prefix)
        .poll(60)
        .args(["--no-icmp"])
        .listen(PORT)
        .config(&cfg)
        .db(&db);
    let mut serve = cmd.start_captured("events");
    wait_api(
        &lab,
        &mut serve.child,
        PORT,
        "/api/topology",
        None,
        Duration::from_secs(90),
    );
    let noc = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let to = format!("{noc}:{TRAP_PORT}");
    let (_, idx) = run(&lab, "r1", "cat", &["/sys/class/net/eth0/ifindex"]);
    let eth0: u32 = idx.trim().parse().unwrap();

    // (a) A linkDown whose varbind says up (1) does not match the rule's
    // condition; the real one (2) fires on r1's eth0 and is notified.
    trap(&lab, &to, LINK_DOWN, eth0, 1);
    trap(&lab, &to, LINK_DOWN, eth0, 2);
    let fired = support::wait_until("the linkDown notification", Duration::from_secs(10), || {
        hooks_of(&got, "link-down").into_iter().next()
    });
    assert_eq!(fired["status"], "firing", "{fired}");
    assert_eq!(fired["kind"], "trap", "{fired}");
    assert_eq!(fired["severity"], "critical", "{fired}");
    assert_eq!(fired["device"], "r1", "{fired}");
    assert_eq!(fired["interface"], "eth0", "{fired}");
    let summary = fired["summary"].as_str().unwrap();
    assert!(
        summary.contains("trap linkDown (") && summary.contains("ifOperStatus"),
        "{summary}"
    );
    assert_eq!(fired["value"], 1.0, "{fired}");
    // Once more: counted, not notified again.
    trap(&lab, &to, LINK_DOWN, eth0, 2);
    support::wait_until("the second match counted", Duration::from_secs(10), || {
        alert_of(&lab, "link-down").filter(|a| a["value"] == 2.0)
    });
    let a = alert_of(&lab, "link-down").unwrap();
    assert_eq!(
        (a["status"].as_str(), a["interface"].as_str()),
        (Some("firing"), Some("eth0"))
    );
    // linkUp resolves it at once.
    trap(&lab, &to, LINK_UP, eth0, 1);
    support::wait_until("the linkUp resolution", Duration::from_secs(10), || {
        let h = hooks_of(&got, "link-down");
        (h.len() >= 2).then_some(h)
    });
    let h = hooks_of(&got, "link-down");
    let statuses: Vec<&str> = h.iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["firing", "resolved"], "{h:?}");
    assert!(alert_of(&lab, "link-down").is_none());

    // (b) Too mild, then not matching: nothing fires.
    log(
        &lab,
        &noc,
        "auth.warning",
        "authentication failure for root",
    );
    log(&lab, &noc, "auth.err", "session opened for root");
    std::thread::sleep(Duration::from_secs(3));
    assert!(alert_of(&lab, "auth-failure").is_none());
    assert!(hooks_of(&got, "auth-failure").is_empty());
    // Matching at err: fires, the message carried as text.
    log(
        &lab,
        &noc,
        "auth.err",
        "authentication failure for <b>admin</b>",
    );
    let fired = support::wait_until("the syslog notification", Duration::from_secs(10), || {
        hooks_of(&got, "auth-failure").into_iter().next()
    });
    let at = Instant::now();
    assert_eq!(fired["status"], "firing", "{fired}");
    assert_eq!(fired["kind"], "syslog", "{fired}");
    assert_eq!(fired["device"], "r1", "{fired}");
    assert!(fired["interface"].is_null(), "{fired}");
    assert_eq!(
        fired["summary"], "r1 syslog err sshd: authentication failure for <b>admin</b>",
        "{fired}"
    );
    assert!(alert_of(&lab, "auth-failure").is_some());
    // Quiet for clear_after_s: resolved, and not before.
    let resolved = support::wait_until("the quiet resolution", Duration::from_secs(15), || {
        hooks_of(&got, "auth-failure")
            .into_iter()
            .find(|b| b["status"] == "resolved")
    });
    let after = at.elapsed();
    assert!(
        after >= Duration::from_secs(CLEAR_S - 2),
        "resolved {after:?} after firing"
    );
    assert_eq!(resolved["event"], "resolved");
    assert!(alert_of(&lab, "auth-failure").is_none());
    let h = hooks_of(&got, "auth-failure");
    assert_eq!(h.len(), 2, "{h:?}");

    // (c) Three matches within the window fire, two do not.
    for _ in 0..2 {
        log(
            &lab,
            &noc,
            "auth.info",
            "Invalid user guest from 10.170.0.9",
        );
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(alert_of(&lab, "ssh-burst").is_none(), "fired at 2 of 3");
    assert!(hooks_of(&got, "ssh-burst").is_empty());
    log(
        &lab,
        &noc,
        "auth.info",
        "Invalid user oracle from 10.170.0.9",
    );
    let fired = support::wait_until("the burst notification", Duration::from_secs(10), || {
        hooks_of(&got, "ssh-burst").into_iter().next()
    });
    assert_eq!(fired["status"], "firing", "{fired}");
    assert_eq!(fired["value"], 3.0, "{fired}");
    // Every event reached the rules: the queue dropped none.
    let metrics = support::noc_get(&lab, PORT, "/metrics").unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "nocmap_alert_events_dropped_total 0"),
        "no event-rule queue drops in /metrics"
    );
    serve.stop();
}
