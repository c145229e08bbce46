//! alerts_flap_lab's lab, configuration and readers of serve's API and the
//! webhook receiver (a module of its own so the test reads as its phases);
//! [`assert_behind_the_poller`] and [`assert_unreachable_never_notified`]
//! also serve alerts_isolation_lab.
use super::Kill;
use super::lab::Routers;
use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub const LAB: Routers = Routers::new(
    "fp",
    "10.88.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth2, r2:eth3 - r3:eth3, r1:eth4 - r4:eth4",
);

pub const API_PORT: u16 = 18_083;
pub const HOOK_PORT: u16 = 18_084;

pub const CONFIG: &str = r#"
[poll]
icmp_interval_s = 2
snmp_interval_s = 2

# r4 is pinged only every 15 s: slower than the unreachable rule's `for`.
[[groups]]
name = "slow-icmp"
pattern = "r4"
icmp_interval_s = 15

[[receiver]]
name = "hook"
url = "http://127.0.0.1:18084/hook"
format = "alertmanager"
timeout_ms = 2000

# A link down for 15 s pages.
[[alert]]
name = "if-down"
kind = "interface_down"
for_s = 15
severity = "critical"

# Every change of the core links is told, until it flaps: more than 5
# changes within 30 s hold the notifications until it is stable.
[[alert]]
name = "if-flap"
kind = "interface_down"
for_s = 0
severity = "info"
devices = ["r2", "r3"]
flap_changes = 5
flap_window_s = 30

[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 8
severity = "critical"

# Any real load on these veths stays far below; a counter reset read as a
# wrap would not.
[[alert]]
name = "hot"
kind = "utilization"
threshold = 50
for_s = 0
severity = "warning"

[[alert]]
name = "poller-cut-off"
kind = "poller_isolated"
for_s = 4
severity = "critical"
"#;

pub fn get(lab: &Lab, path: &str) -> Option<Value> {
    serde_json::from_str(&super::noc_get(lab, API_PORT, path)?).ok()
}

pub fn api(lab: &Lab, path: &str) -> Value {
    get(lab, path).unwrap_or_else(|| panic!("GET {path} failed"))
}

pub fn history(lab: &Lab) -> Vec<Value> {
    super::alert_history(lab, API_PORT)
}

pub fn active(lab: &Lab) -> Vec<Value> {
    super::active_alerts(lab, API_PORT)
}

/// One notification as the receiver got it.
#[derive(Debug, Clone)]
pub struct Got {
    pub id: i64,
    pub at_ms: i64,
    pub rule: String,
    pub status: String,
    pub device: String,
    pub interface: Option<String>,
    /// flapping_started or flapping_stopped for a flapping notice.
    pub notice: Option<String>,
    pub summary: String,
}

/// The notifications the receiver got so far.
pub fn notes(got: &super::Hooks) -> Vec<Got> {
    let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
    got.lock()
        .unwrap()
        .iter()
        .map(|h| {
            let labels = &h.body["alerts"][0]["labels"];
            let annotations = &h.body["alerts"][0]["annotations"];
            Got {
                notice: annotations["notice"].as_str().map(str::to_string),
                summary: s(&annotations["summary"]),
                id: h.id,
                at_ms: h.at_ms.0,
                rule: s(&labels["alertname"]),
                status: s(&h.body["status"]),
                device: s(&labels["device"]),
                interface: labels["interface"].as_str().map(str::to_string),
            }
        })
        .collect()
}

pub fn start_serve(lab: &Lab, cfg: &Path, db: &Path, log: &Path) -> Kill {
    super::serve::ServeCmd::new(lab, "10.88.0.0/16")
        .poll(2)
        .config(cfg)
        .db(db)
        .start_logged(API_PORT, log)
}

/// The device views of `/api/devices` by sysName.
pub fn devices(lab: &Lab) -> BTreeMap<String, Value> {
    get(lab, "/api/devices")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| Some((d["sys_name"].as_str()?.to_string(), d)))
        .collect()
}

pub fn events<'a>(h: &'a [Value], rule: &str, event: Option<&str>) -> Vec<&'a Value> {
    h.iter()
        .filter(|e| e["rule"] == rule && event.is_none_or(|ev| e["event"] == ev))
        .collect()
}

pub fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// While the poller is cut off, every active alert (`/api/alerts`) is the
/// poller's own `poller-cut-off`, not suppressed, or an `unreachable`
/// suppressed behind the poller alone.
pub fn assert_behind_the_poller(active: &[Value], poller_id: &str) {
    for a in active {
        if a["rule"] == "poller-cut-off" {
            assert_eq!(a["suppressed"], false, "{a}");
            assert_eq!(a["device"]["id"], poller_id, "{a}");
        } else {
            assert_eq!(a["rule"], "unreachable", "only these fire: {a}");
            assert_eq!(a["caused_by"][0]["id"], poller_id, "{a}");
            assert_eq!(a["caused_by"].as_array().unwrap().len(), 1, "{a}");
        }
    }
}

/// No `unreachable` event of the cut's history was notified (they were
/// all suppressed behind the poller).
pub fn assert_unreachable_never_notified(cut: &[Value]) {
    assert!(
        cut.iter()
            .filter(|e| e["rule"] == "unreachable")
            .all(|e| e["notified"] == false),
        "{cut:#?}"
    );
}
