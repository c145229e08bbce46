//! Notification bodies: the Alertmanager webhook payload (version "4") and
//! nocmap's generic JSON, built from one recorded event. Pure. The
//! `notification_id` (the history row id) lets receivers drop the
//! duplicates at-least-once delivery can cause.
//!
//! A flapping notice (`flapping_started`, `flapping_stopped`) has the
//! status of the state it carries, so a receiver that keeps the last
//! status per fingerprint (Alertmanager-style) ends up with the alert's
//! real state; Alertmanager bodies name it in the `notice` annotation,
//! generic bodies in `event`.
use crate::util::time::rfc3339_ms as rfc3339;

/// Alertmanager's "not ended" time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One recorded event as the outbox hands it to a receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per event in one database; the same for every receiver.
    pub id: i64,
    pub key: String,
    pub fingerprint: String,
    pub rule: String,
    pub kind: String,
    pub severity: String,
    /// fired, resolved, flapping_started or flapping_stopped.
    pub event: String,
    /// The state told: firing or resolved.
    pub state: String,
    pub device: String,
    pub device_name: String,
    pub interface: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub started_ms: i64,
    pub at_ms: i64,
    /// Names of the devices suppressed behind this one, when it is a root cause.
    #[serde(default)]
    pub summary: String,
}

impl Notification {
    fn firing(&self) -> bool {
        self.state != "resolved"
    }

    fn is_notice(&self) -> bool {
        self.event.starts_with("flapping_")
    }

    fn labels(&self) -> BTreeMap<&'static str, String> {
        let mut l = BTreeMap::from([
            ("alertname", self.rule.clone()),
            ("severity", self.severity.clone()),
            ("device", self.device_name.clone()),
            ("device_id", self.device.clone()),
            ("kind", self.kind.clone()),
        ]);
        if let Some(i) = &self.interface {
            l.insert("interface", i.clone());
        }
        l
    }
}

/// The Alertmanager webhook body for one event to `receiver`.
pub fn alertmanager(n: &Notification, receiver: &str) -> Value {
    let status = if n.firing() { "firing" } else { "resolved" };
    let labels = n.labels();
    let mut annotations = BTreeMap::from([
        ("summary", n.summary.clone()),
        ("notification_id", n.id.to_string()),
    ]);
    if let Some(v) = n.value {
        annotations.insert("value", format!("{v}"));
    }
    if let Some(t) = n.threshold {
        annotations.insert("threshold", format!("{t}"));
    }
    if n.is_notice() {
        annotations.insert("notice", n.event.clone());
    }
    let group_key = format!("{{}}:{{alertname={:?}}}", n.rule);
    json!({
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": { "alertname": n.rule },
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339(n.started_ms),
            "endsAt": if n.firing() { ZERO_TIME.to_string() } else { rfc3339(n.at_ms) },
            "generatorURL": "",
            "fingerprint": n.fingerprint,
        }],
    })
}

/// nocmap's own flat body.
pub fn generic(n: &Notification, receiver: &str) -> Value {
    json!({
        "notification_id": n.id,
        "receiver": receiver,
        "status": if n.firing() { "firing" } else { "resolved" },
        "event": n.event,
        "key": n.key,
        "fingerprint": n.fingerprint,
        "rule": n.rule,
        "kind": n.kind,
        "severity": n.severity,
        "device": n.device_name,
        "device_id": n.device,
        "interface": n.interface,
        "value": n.value,
        "threshold": n.threshold,
        "starts_at": rfc3339(n.started_ms),
        "at": rfc3339(n.at_ms),
        "summary": n.summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(event: &str) -> Notification {
        Notification {
            id: 7,
            key: "hot/d1/eth0".into(),
            fingerprint: "00112233aabbccdd".into(),
            rule: "hot \"link\"".into(),
            kind: "utilization".into(),
            severity: "critical".into(),
            event: event.into(),
            state: if event == "resolved" {
                "resolved"
            } else {
                "firing"
            }
            .into(),
            device: "d1".into(),
            device_name: "<r1>".into(),
            interface: Some("eth0".into()),
            value: Some(91.5),
            threshold: Some(80.0),
            started_ms: 1000,
            at_ms: 61_000,
            summary: "s".into(),
        }
    }

    #[test]
    fn alertmanager_v4_shape() {
        let v = alertmanager(&n("fired"), "ops");
        assert_eq!(v["version"], "4");
        assert_eq!(v["status"], "firing");
        assert_eq!(v["receiver"], "ops");
        assert_eq!(v["groupKey"], "{}:{alertname=\"hot \\\"link\\\"\"}");
        let a = &v["alerts"][0];
        assert_eq!(a["labels"]["alertname"], "hot \"link\"");
        assert_eq!(a["labels"]["interface"], "eth0");
        assert_eq!(a["labels"]["device"], "<r1>");
        assert_eq!(a["startsAt"], "1970-01-01T00:00:01.000Z");
        assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
        assert_eq!(a["fingerprint"], "00112233aabbccdd");
        assert_eq!(a["annotations"]["notification_id"], "7");
        let r = alertmanager(&n("resolved"), "ops");
        assert_eq!(r["status"], "resolved");
        assert_eq!(r["alerts"][0]["endsAt"], "1970-01-01T00:01:01.000Z");
    }

    #[test]
    fn flapping_notices_have_the_status_of_their_state() {
        let mut started = n("flapping_started");
        started.state = "resolved".into();
        let v = alertmanager(&started, "ops");
        assert_eq!(v["status"], "resolved");
        assert_eq!(v["alerts"][0]["annotations"]["notice"], "flapping_started");
        assert_eq!(v["alerts"][0]["endsAt"], "1970-01-01T00:01:01.000Z");
        let g = generic(&started, "hook");
        assert_eq!(
            (g["status"].as_str(), g["event"].as_str()),
            (Some("resolved"), Some("flapping_started"))
        );
        let stopped = n("flapping_stopped");
        let v = alertmanager(&stopped, "ops");
        assert_eq!(v["status"], "firing");
        assert_eq!(v["alerts"][0]["annotations"]["notice"], "flapping_stopped");
        assert!(alertmanager(&n("fired"), "ops")["alerts"][0]["annotations"]["notice"].is_null());
    }

    #[test]
    fn generic_shape() {
        let v = generic(&n("resolved"), "hook");
        assert_eq!(v["notification_id"], 7);
        assert_eq!(v["status"], "resolved");
        assert_eq!(v["interface"], "eth0");
        assert_eq!(v["value"], 91.5);
    }
}
