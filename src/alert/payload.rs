//! Notification bodies: the Alertmanager webhook payload (version "4"),
//! an alert as Alertmanager's API v2 takes it, and nocmap's generic JSON,
//! built from one recorded event (the store's
//! history row, the one type an event has). Pure. The
//! `notification_id` (the history row id) lets receivers drop the
//! duplicates at-least-once delivery can cause. A box that is one of
//! several (`[nats]`: a central and its site pollers, each with its own
//! history) prefixes it with its name, `<name>:<row id>` ([`NotificationId`]),
//! so ids from different boxes never collide; a box without `[nats]`
//! sends the bare row id as before.
//!
//! A flapping notice (`flapping_started`, `flapping_stopped`) has the
//! status of the state it carries, so a receiver that keeps the last
//! status per fingerprint (Alertmanager-style) ends up with the alert's
//! real state; Alertmanager bodies name it in the `notice` annotation,
//! generic bodies in `event`.
use crate::store::AlertEvent;
use crate::types::{AlertState, UnixMillis};
use crate::util::time::rfc3339_ms as rfc3339;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The id one notification carries: the history row id of the box that
/// sends it, with that box's name when it has one (`[nats] site`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationId<'a> {
    pub origin: Option<&'a str>,
    pub row: i64,
}

impl NotificationId<'_> {
    /// The text: `<origin>:<row>`, or the bare row id without an origin
    /// (the `X-Nocmap-Notification-Id` header, Alertmanager annotations).
    pub fn text(&self) -> String {
        match self.origin {
            Some(o) => format!("{o}:{}", self.row),
            None => self.row.to_string(),
        }
    }

    /// The generic body's value: the text with an origin, else the number
    /// (the one-box shape, unchanged).
    pub fn json(&self) -> Value {
        match self.origin {
            Some(_) => Value::String(self.text()),
            None => Value::from(self.row),
        }
    }
}

/// This box's name among several (`[nats] site`, and `.central_id` at a
/// central of a pair, whose two stores number their notifications each),
/// which prefixes its notification ids; None for a box on its own.
pub fn origin(config: &crate::config::Config) -> Option<String> {
    config.nats.as_ref().map(|n| match &n.central_id {
        Some(id) if n.role == crate::config::NatsRole::Central => format!("{}.{id}", n.site),
        _ => n.site.clone(),
    })
}

/// Alertmanager's "not ended" time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn labels(n: &AlertEvent) -> BTreeMap<&'static str, String> {
    let mut l = BTreeMap::from([
        ("alertname", n.rule.clone()),
        ("severity", n.severity.as_str().to_string()),
        ("device", n.device_name.clone()),
        ("device_id", n.device.clone()),
        ("kind", n.kind.as_str().to_string()),
    ]);
    if let Some(i) = &n.interface {
        l.insert("interface", i.clone());
    }
    l
}

/// The Alertmanager webhook body for one event to `receiver`, sent by
/// the box named `origin` (None: a box on its own).
pub fn alertmanager(n: &AlertEvent, receiver: &str, origin: Option<&str>) -> Value {
    let status = n.state.as_str();
    let labels = labels(n);
    let mut annotations = BTreeMap::from([
        ("summary", n.summary.clone()),
        ("notification_id", id(n, origin).text()),
    ]);
    if let Some(v) = n.value {
        annotations.insert("value", format!("{v}"));
    }
    if let Some(t) = n.threshold {
        annotations.insert("threshold", format!("{t}"));
    }
    if n.event.is_notice() {
        annotations.insert("notice", n.event.as_str().to_string());
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
            "endsAt": match n.state {
                AlertState::Firing => ZERO_TIME.to_string(),
                AlertState::Resolved => rfc3339(n.at_ms),
            },
            "generatorURL": "",
            "fingerprint": n.fingerprint,
        }],
    })
}

/// One alert as Alertmanager's API v2 takes it (`POST /api/v2/alerts`
/// takes a list), the way Prometheus sends it: the labels of the webhook
/// body plus the device's `tags` (comma-separated, sorted; absent without
/// tags); a firing alert ends at `valid_until` (now + 4 × the resend
/// interval, so Alertmanager lets it expire when nocmap stops telling), a
/// resolved one at its resolution; `map_url` as an annotation and the
/// `generatorURL`.
pub fn alertmanager_api(
    n: &AlertEvent,
    tags: &[String],
    valid_until: UnixMillis,
    map_url: Option<&str>,
    origin: Option<&str>,
) -> Value {
    let mut labels = labels(n);
    if !tags.is_empty() {
        let mut tags = tags.to_vec();
        tags.sort();
        tags.dedup();
        labels.insert("tags", tags.join(","));
    }
    let mut annotations = BTreeMap::from([
        ("summary", n.summary.clone()),
        ("notification_id", id(n, origin).text()),
    ]);
    if let Some(v) = n.value {
        annotations.insert("value", format!("{v}"));
    }
    if let Some(t) = n.threshold {
        annotations.insert("threshold", format!("{t}"));
    }
    if n.event.is_notice() {
        annotations.insert("notice", n.event.as_str().to_string());
    }
    if let Some(m) = map_url {
        annotations.insert("map_url", m.to_string());
    }
    json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(n.started_ms),
        "endsAt": match n.state {
            AlertState::Firing => rfc3339(valid_until),
            AlertState::Resolved => rfc3339(n.at_ms),
        },
        "generatorURL": map_url.unwrap_or(""),
    })
}

fn id<'a>(n: &AlertEvent, origin: Option<&'a str>) -> NotificationId<'a> {
    NotificationId { origin, row: n.id }
}

/// nocmap's own flat body (`notification_id` a string `<origin>:<id>`
/// with an origin, else the number).
pub fn generic(n: &AlertEvent, receiver: &str, origin: Option<&str>) -> Value {
    json!({
        "notification_id": id(n, origin).json(),
        "receiver": receiver,
        "status": n.state.as_str(),
        "event": n.event.as_str(),
        "key": n.key,
        "fingerprint": n.fingerprint,
        "rule": n.rule,
        "kind": n.kind.as_str(),
        "severity": n.severity.as_str(),
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
    use crate::types::UnixMillis;
    use crate::types::{AlertEventKind, RuleKind, Severity};

    fn n(event: AlertEventKind) -> AlertEvent {
        AlertEvent {
            id: 7,
            key: "hot/d1/eth0".into(),
            fingerprint: "00112233aabbccdd".into(),
            rule: "hot \"link\"".into(),
            kind: RuleKind::Utilization,
            severity: Severity::Critical,
            event,
            state: AlertState::from_firing(event != AlertEventKind::Resolved),
            device_name: "<r1>".into(),
            value: Some(91.5),
            threshold: Some(80.0),
            started_ms: UnixMillis(1000),
            ..AlertEvent::fired_for_test("hot/d1/eth0", UnixMillis(61_000))
        }
    }

    #[test]
    fn alertmanager_v4_shape() {
        let v = alertmanager(&n(AlertEventKind::Fired), "ops", None);
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
        let r = alertmanager(&n(AlertEventKind::Resolved), "ops", None);
        assert_eq!(r["status"], "resolved");
        assert_eq!(r["alerts"][0]["endsAt"], "1970-01-01T00:01:01.000Z");
    }

    #[test]
    fn flapping_notices_have_the_status_of_their_state() {
        let mut started = n(AlertEventKind::FlappingStarted);
        started.state = AlertState::Resolved;
        let v = alertmanager(&started, "ops", None);
        assert_eq!(v["status"], "resolved");
        assert_eq!(v["alerts"][0]["annotations"]["notice"], "flapping_started");
        assert_eq!(v["alerts"][0]["endsAt"], "1970-01-01T00:01:01.000Z");
        let g = generic(&started, "hook", None);
        assert_eq!(
            (g["status"].as_str(), g["event"].as_str()),
            (Some("resolved"), Some("flapping_started"))
        );
        let stopped = n(AlertEventKind::FlappingStopped);
        let v = alertmanager(&stopped, "ops", None);
        assert_eq!(v["status"], "firing");
        assert_eq!(v["alerts"][0]["annotations"]["notice"], "flapping_stopped");
        let fired = alertmanager(&n(AlertEventKind::Fired), "ops", None);
        assert!(fired["alerts"][0]["annotations"]["notice"].is_null());
    }

    #[test]
    fn alertmanager_api_shape() {
        let tags = ["core".to_string(), "a&b".to_string()];
        let v = alertmanager_api(
            &n(AlertEventKind::Fired),
            &tags,
            UnixMillis(300_000),
            Some("https://noc.example/"),
            None,
        );
        assert_eq!(v["labels"]["alertname"], "hot \"link\"");
        assert_eq!(v["labels"]["device"], "<r1>");
        assert_eq!(v["labels"]["interface"], "eth0");
        assert_eq!(v["labels"]["severity"], "critical");
        assert_eq!(v["labels"]["tags"], "a&b,core");
        assert_eq!(v["annotations"]["summary"], "s");
        assert_eq!(v["annotations"]["map_url"], "https://noc.example/");
        assert_eq!(v["generatorURL"], "https://noc.example/");
        assert_eq!(v["startsAt"], "1970-01-01T00:00:01.000Z");
        assert_eq!(v["endsAt"], "1970-01-01T00:05:00.000Z");
        let r = alertmanager_api(
            &n(AlertEventKind::Resolved),
            &[],
            UnixMillis(300_000),
            None,
            None,
        );
        assert_eq!(r["endsAt"], "1970-01-01T00:01:01.000Z");
        assert!(r["labels"]["tags"].is_null());
        assert_eq!(r["generatorURL"], "");
    }

    #[test]
    fn generic_shape() {
        let v = generic(&n(AlertEventKind::Resolved), "hook", None);
        assert_eq!(v["notification_id"], 7);
        assert_eq!(v["status"], "resolved");
        assert_eq!(v["interface"], "eth0");
        assert_eq!(v["value"], 91.5);
    }

    /// The whole generic body, byte for byte (as the string-typed events
    /// gave it).
    #[test]
    fn generic_body_text() {
        let text =
            serde_json::to_string(&generic(&n(AlertEventKind::Resolved), "hook", None)).unwrap();
        assert_eq!(
            text,
            r#"{"at":"1970-01-01T00:01:01.000Z","device":"<r1>","device_id":"d1","event":"resolved","fingerprint":"00112233aabbccdd","interface":"eth0","key":"hot/d1/eth0","kind":"utilization","notification_id":7,"receiver":"hook","rule":"hot \"link\"","severity":"critical","starts_at":"1970-01-01T00:00:01.000Z","status":"resolved","summary":"s","threshold":80.0,"value":91.5}"#
        );
    }

    /// The whole Alertmanager body of a flapping notice, byte for byte (as
    /// the string-typed events gave it).
    #[test]
    fn alertmanager_body_text() {
        let mut started = n(AlertEventKind::FlappingStarted);
        started.state = AlertState::Resolved;
        let text = serde_json::to_string(&alertmanager(&started, "ops", None)).unwrap();
        let want = r#"{"alerts":[{"annotations":{"notice":"flapping_started","notification_id":"7","summary":"s","threshold":"80","value":"91.5"},"endsAt":"1970-01-01T00:01:01.000Z","fingerprint":"00112233aabbccdd","generatorURL":"","labels":{"alertname":"hot \"link\"","device":"<r1>","device_id":"d1","interface":"eth0","kind":"utilization","severity":"critical"},"startsAt":"1970-01-01T00:00:01.000Z","status":"resolved"}],"commonAnnotations":{"notice":"flapping_started","notification_id":"7","summary":"s","threshold":"80","value":"91.5"},"commonLabels":{"alertname":"hot \"link\"","device":"<r1>","device_id":"d1","interface":"eth0","kind":"utilization","severity":"critical"},"externalURL":"","groupKey":"{}:{alertname=\"hot \\\"link\\\"\"}","groupLabels":{"alertname":"hot \"link\""},"receiver":"ops","status":"resolved","truncatedAlerts":0,"version":"4"}"#;
        assert_eq!(text, want);
    }

    /// With an origin (a box of several) every body carries
    /// `<origin>:<id>`, so a central's and a site's row 7 differ; the rest
    /// of each body is the one-box shape.
    #[test]
    fn an_origin_prefixes_the_id_everywhere() {
        let e = n(AlertEventKind::Fired);
        let g = generic(&e, "hook", Some("b-1"));
        assert_eq!(g["notification_id"], "b-1:7");
        let a = alertmanager(&e, "ops", Some("hq"));
        assert_eq!(a["alerts"][0]["annotations"]["notification_id"], "hq:7");
        assert_eq!(a["commonAnnotations"]["notification_id"], "hq:7");
        let api = alertmanager_api(&e, &[], UnixMillis(0), None, Some("hq"));
        assert_eq!(api["annotations"]["notification_id"], "hq:7");
        assert_ne!(
            generic(&e, "hook", Some("hq"))["notification_id"],
            g["notification_id"]
        );
        let mut plain = generic(&e, "hook", None);
        let mut prefixed = g.clone();
        plain["notification_id"] = Value::Null;
        prefixed["notification_id"] = Value::Null;
        assert_eq!(plain, prefixed);
        assert_eq!(
            NotificationId {
                origin: None,
                row: 7
            }
            .text(),
            "7",
            "a box on its own: unchanged"
        );
    }
}
