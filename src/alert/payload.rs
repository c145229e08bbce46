//! Notification bodies: the Alertmanager webhook payload (version "4") and
//! nocmap's generic JSON, built from one recorded event (the store's
//! history row, the one type an event has). Pure. The
//! `notification_id` (the history row id) lets receivers drop the
//! duplicates at-least-once delivery can cause.
//!
//! A flapping notice (`flapping_started`, `flapping_stopped`) has the
//! status of the state it carries, so a receiver that keeps the last
//! status per fingerprint (Alertmanager-style) ends up with the alert's
//! real state; Alertmanager bodies name it in the `notice` annotation,
//! generic bodies in `event`.
use crate::store::AlertEvent;
use crate::util::time::rfc3339_ms as rfc3339;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Alertmanager's "not ended" time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Firing unless the state told is resolved.
fn firing(n: &AlertEvent) -> bool {
    n.state != "resolved"
}

/// A flapping notice rather than a change of state.
fn is_notice(n: &AlertEvent) -> bool {
    n.event.starts_with("flapping_")
}

fn labels(n: &AlertEvent) -> BTreeMap<&'static str, String> {
    let mut l = BTreeMap::from([
        ("alertname", n.rule.clone()),
        ("severity", n.severity.clone()),
        ("device", n.device_name.clone()),
        ("device_id", n.device.clone()),
        ("kind", n.kind.clone()),
    ]);
    if let Some(i) = &n.interface {
        l.insert("interface", i.clone());
    }
    l
}

/// The Alertmanager webhook body for one event to `receiver`.
pub fn alertmanager(n: &AlertEvent, receiver: &str) -> Value {
    let status = if firing(n) { "firing" } else { "resolved" };
    let labels = labels(n);
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
    if is_notice(n) {
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
            "endsAt": if firing(n) { ZERO_TIME.to_string() } else { rfc3339(n.at_ms) },
            "generatorURL": "",
            "fingerprint": n.fingerprint,
        }],
    })
}

/// nocmap's own flat body.
pub fn generic(n: &AlertEvent, receiver: &str) -> Value {
    json!({
        "notification_id": n.id,
        "receiver": receiver,
        "status": if firing(n) { "firing" } else { "resolved" },
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

    fn n(event: &str) -> AlertEvent {
        AlertEvent {
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
            ..AlertEvent::default()
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
