//! Alerts through Debian's real Alertmanager (0.25, `prometheus-alertmanager`)
//! with nocmap's `alertmanager_api` receiver, in the lab (noc → r1, and r1
//! linked to r2 and r3, whose ends of those links the test takes down).
//! Alertmanager runs in the noc namespace and delivers to this test's
//! webhook there.
//!
//! - fire: r1's eth1 goes down, `am-link` arrives at the webhook behind
//!   Alertmanager with nocmap's labels (device, interface, rule, severity,
//!   kind, tags) and annotations (summary, map link);
//! - silence: `amtool silence add alertname=am-silenced` before r1's eth2
//!   goes down: Alertmanager holds the alert as suppressed by that silence and
//!   the webhook never gets it; the firing alerts stay active in
//!   Alertmanager past their first `endsAt` (nocmap resends them);
//! - restart: Alertmanager stops (SIGTERM) and `am-link` resolves while it
//!   is down; started again on the same `--storage.path`, it gets the
//!   resolve from nocmap's outbox and delivers it to the webhook, and the
//!   still firing `am-silenced` comes back with nocmap's next resend, still
//!   silenced (the silence survived on disk). Nothing is lost.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::Kill;
use support::lab::Routers;
use support::serve::{self, ServeCmd};

const LAB: Routers = Routers::new(
    "amlab",
    "10.176.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth2",
);

const API_PORT: u16 = 18_176;
const HOOK_PORT: u16 = 18_177;
const AM_PORT: u16 = 18_178;
const MAP_URL: &str = "http://127.0.0.1:18176/";

fn config() -> String {
    format!(
        r#"
[[groups]]
name = "core"
pattern = "r1"
tags = ["lab-core"]

[[receiver]]
name = "am"
url = "http://127.0.0.1:{AM_PORT}"
format = "alertmanager_api"
resend_s = 2
map_url = "{MAP_URL}"
timeout_ms = 2000

[[alert]]
name = "am-link"
kind = "interface_down"
severity = "critical"
devices = ["r1"]
interfaces = ["eth1"]

[[alert]]
name = "am-silenced"
kind = "interface_down"
severity = "warning"
devices = ["r1"]
interfaces = ["eth2"]
"#
    )
}

const AM_CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname, device, interface]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:18177/hook
        send_resolved: true
"#;

/// Alertmanager in the noc namespace on `dir` (config and storage), its
/// log in `dir/am.log`; returns once it is ready.
fn start_am(lab: &Lab, dir: &Path) -> Kill {
    let conf = dir.join("alertmanager.yml");
    std::fs::write(&conf, AM_CONFIG).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("am.log"))
        .unwrap();
    let child = lab
        .command_in("noc", "prometheus-alertmanager")
        .unwrap()
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{AM_PORT}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start Alertmanager");
    let am = Kill(child);
    support::wait_until("Alertmanager ready", Duration::from_secs(30), || {
        support::noc_get(lab, AM_PORT, "/-/ready")
    });
    am
}

/// Stops Alertmanager as its service manager would (SIGTERM: it writes its
/// silences and notification log to `--storage.path`).
fn stop_am(mut am: Kill) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(am.0.id() as i32, libc::SIGTERM) };
    let _ = am.0.wait();
}

fn amtool(lab: &Lab, args: &[&str]) -> String {
    let out = lab
        .command_in("noc", "amtool")
        .unwrap()
        .arg(format!("--alertmanager.url=http://127.0.0.1:{AM_PORT}"))
        .args(args)
        .output()
        .expect("amtool runs");
    assert!(
        out.status.success(),
        "amtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The alerts Alertmanager holds, silenced ones included.
fn am_alerts(lab: &Lab) -> Vec<Value> {
    support::noc_get(lab, AM_PORT, "/api/v2/alerts")
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn am_alert(lab: &Lab, name: &str) -> Option<Value> {
    am_alerts(lab)
        .into_iter()
        .find(|a| a["labels"]["alertname"] == name)
}

/// The webhook's alerts of rule `name` with `status`, as Alertmanager
/// delivered them.
fn delivered(hooks: &support::Hooks, name: &str, status: &str) -> Vec<Value> {
    hooks
        .lock()
        .unwrap()
        .iter()
        .flat_map(|h| h.body["alerts"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["labels"]["alertname"] == name && a["status"] == status)
        .collect()
}

fn ip(lab: &Lab, node: &str, args: &str) {
    let status = lab
        .command_in(node, "ip")
        .unwrap()
        .args(args.split_whitespace())
        .status()
        .unwrap();
    assert!(status.success(), "ip {args} in {node}");
}

fn need(program: &str, package: &str) {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{program} is needed (Debian package `{package}`; .ci/run installs it)"
    );
}

#[test]
fn alerts_fire_are_silenced_and_resolve_through_alertmanager_across_its_restart() {
    require_root!();
    need("prometheus-alertmanager", "prometheus-alertmanager");
    need("amtool", "prometheus-alertmanager");
    let lab = support::lab_up_toml(&LAB.toml());
    let (dir, cfg, db, log) = serve::files("am", &config());
    let hooks = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, hooks.clone());
    let am = start_am(&lab, dir.path());
    let silence = amtool(
        &lab,
        &[
            "silence",
            "add",
            "alertname=am-silenced",
            "--comment=nocmap lab test",
            "--author=nocmap-test",
            "--duration=1h",
        ],
    );
    eprintln!("silence {silence}");
    let _serve = ServeCmd::new(&lab, LAB.prefix)
        .poll(2)
        .icmp(2)
        .config(&cfg)
        .db(&db)
        .start_logged(API_PORT, &log);
    support::wait_until(
        "r1's eth1 and eth2 polled up",
        Duration::from_secs(60),
        || {
            let m = support::noc_get(&lab, API_PORT, "/metrics")?;
            let up = |name: &str| {
                m.lines().any(|l| {
                    l.starts_with("nocmap_interface_oper_up{")
                        && l.contains("sys_name=\"r1\"")
                        && l.contains(&format!("if_name=\"{name}\""))
                        && l.ends_with(" 1")
                })
            };
            (up("eth1") && up("eth2")).then_some(())
        },
    );

    // Fire.
    ip(&lab, "r2", "link set eth1 down");
    ip(&lab, "r3", "link set eth2 down");
    let fired = support::wait_until("am-link at the webhook", Duration::from_secs(60), || {
        delivered(&hooks, "am-link", "firing").into_iter().next()
    });
    eprintln!("fired: {fired}");
    let l = &fired["labels"];
    assert_eq!(
        (&l["device"], &l["interface"], &l["severity"]),
        (
            &Value::from("r1"),
            &Value::from("eth1"),
            &Value::from("critical")
        )
    );
    assert_eq!(l["kind"], "interface_down");
    assert_eq!(l["tags"], "lab-core");
    assert!(
        fired["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{fired}"
    );
    assert_eq!(fired["annotations"]["map_url"], MAP_URL);
    assert_eq!(fired["generatorURL"], MAP_URL);

    // Silence: Alertmanager has am-silenced, suppressed by the silence.
    let held = support::wait_until(
        "am-silenced held by the silence",
        Duration::from_secs(30),
        || {
            am_alert(&lab, "am-silenced").filter(|a| {
                a["status"]["state"] == "suppressed"
                    && a["status"]["silencedBy"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|id| id == silence.as_str()))
            })
        },
    );
    eprintln!("held: {}", held["status"]);
    // Past the first endsAt (4 × resend_s = 8 s) and several group
    // intervals: the resends keep both alerts; the silenced one never
    // reaches the webhook.
    let first_ends = am_alert(&lab, "am-link").expect("am-link in Alertmanager")["endsAt"]
        .as_str()
        .unwrap_or("")
        .to_string();
    std::thread::sleep(Duration::from_secs(12));
    let link = am_alert(&lab, "am-link").expect("am-link still in Alertmanager");
    assert_eq!(link["status"]["state"], "active", "{link}");
    assert!(
        link["endsAt"].as_str().unwrap_or("") > first_ends.as_str(),
        "resends move endsAt on: {link} vs {first_ends}"
    );
    assert!(am_alert(&lab, "am-silenced").is_some());
    assert!(delivered(&hooks, "am-silenced", "firing").is_empty());

    // Alertmanager restarts; am-link resolves while it is down.
    stop_am(am);
    ip(&lab, "r2", "link set eth1 up");
    support::wait_until(
        "am-link resolved in nocmap",
        Duration::from_secs(60),
        || {
            let h = support::alert_history(&lab, API_PORT);
            h.iter()
                .any(|e| e["rule"] == "am-link" && e["event"] == "resolved")
                .then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(support::noc_get(&lab, AM_PORT, "/-/ready").is_none());
    let _am = start_am(&lab, dir.path());
    let resolved = support::wait_until(
        "am-link resolved at the webhook after the restart",
        Duration::from_secs(60),
        || delivered(&hooks, "am-link", "resolved").into_iter().next(),
    );
    eprintln!("resolved: {resolved}");
    assert_eq!(resolved["labels"]["interface"], "eth1");
    let back = support::wait_until(
        "am-silenced back in Alertmanager, still silenced",
        Duration::from_secs(30),
        || am_alert(&lab, "am-silenced").filter(|a| a["status"]["state"] == "suppressed"),
    );
    eprintln!("back after the restart: {}", back["status"]);
    assert!(amtool(&lab, &["silence", "query", "-q"]).contains(&silence));
    std::thread::sleep(Duration::from_secs(5));
    assert!(delivered(&hooks, "am-silenced", "firing").is_empty());
    assert!(delivered(&hooks, "am-silenced", "resolved").is_empty());
}
