//! Tests of the alert history, the active alerts and the outbox on a real
//! SQLite file.
use super::*;
use crate::store::StoreConfig;

fn ev(key: &str, event: AlertEventKind, at: UnixMillis) -> AlertEvent {
    AlertEvent {
        event,
        state: AlertState::from_firing(event != AlertEventKind::Resolved),
        value: Some(f64::NAN),
        caused_by: vec!["r0".into()],
        ..AlertEvent::fired_for_test(key, at)
    }
}

#[test]
fn events_outbox_and_active_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    {
        let mut s = Store::open(&path, StoreConfig::default()).unwrap();
        let active = [ActiveAlertRow {
            key: "hot/d1/eth0".into(),
            rule: "hot".into(),
            severity: Severity::Warning,
            device: "d1".into(),
            device_name: "r1".into(),
            interface: Some("eth0".into()),
            status: AlertStatus::Firing,
            since_ms: UnixMillis(10),
            value: None,
            caused_by: vec![],
            maintenance: None,
            flapping: false,
            notified: true,
            flap_told: false,
        }];
        let ids = s
            .record_alerts(
                &[
                    (
                        ev("hot/d1/eth0", AlertEventKind::Fired, UnixMillis(10)),
                        vec!["a".into(), "b".into()],
                    ),
                    (
                        ev("x/d2", AlertEventKind::Suppressed, UnixMillis(11)),
                        vec![],
                    ),
                ],
                Some(&active),
                UnixMillis(10),
            )
            .unwrap();
        assert_eq!(ids.len(), 2);
        s.record_alerts(
            &[(
                ev("hot/d1/eth0", AlertEventKind::Resolved, UnixMillis(20)),
                vec!["a".into()],
            )],
            None,
            UnixMillis(20),
        )
        .unwrap();
    }
    let mut s = Store::open(&path, StoreConfig::default()).unwrap();
    assert_eq!(s.active_alerts().unwrap().len(), 1);
    let h = s.alert_history(UnixMillis(0), 100).unwrap();
    assert_eq!(
        h.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
        ["fired", "suppressed", "resolved"]
    );
    assert_eq!(h[0].caused_by, vec!["r0".to_string()]);
    assert_eq!(h[0].value, None);
    assert_eq!(s.alert_history(UnixMillis(15), 100).unwrap().len(), 1);
    assert_eq!(
        s.outbox_pending().unwrap(),
        vec![("a".to_string(), 2), ("b".to_string(), 1)]
    );
    // Receiver a gets its two in order; a failure keeps the row first.
    let first = s.next_outbox("a").unwrap().unwrap();
    assert_eq!(first.event.event, AlertEventKind::Fired);
    s.outbox_failed(first.id, "connection refused").unwrap();
    let again = s.next_outbox("a").unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 1));
    s.outbox_done(first.id, Delivery::Delivered, UnixMillis(30))
        .unwrap();
    let second = s.next_outbox("a").unwrap().unwrap();
    assert_eq!(second.event.event, AlertEventKind::Resolved);
    s.outbox_done(second.id, Delivery::Rejected, UnixMillis(31))
        .unwrap();
    assert!(s.next_outbox("a").unwrap().is_none());
    assert!(s.next_outbox("b").unwrap().is_some());
    // Done rows go; the row b still waits for keeps its history row.
    assert_eq!(
        s.prune_alerts(UnixMillis(1_000), UnixMillis(1_000))
            .unwrap(),
        (2, 2)
    );
    assert_eq!(s.alert_history(UnixMillis(0), 100).unwrap().len(), 1);
    assert_eq!(
        s.next_outbox("b").unwrap().unwrap().event.event,
        AlertEventKind::Fired
    );
}

/// Every variant of every closed set goes in as its text and comes back
/// as itself; the columns hold exactly the texts older versions wrote.
#[test]
fn an_event_and_an_active_alert_round_trip_with_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("r.db"), StoreConfig::default()).unwrap();
    let events: Vec<AlertEvent> = (0..RuleKind::ALL.len())
        .map(|i| {
            let event = AlertEventKind::ALL[i % AlertEventKind::ALL.len()];
            AlertEvent {
                kind: RuleKind::ALL[i],
                severity: Severity::ALL[i % Severity::ALL.len()],
                event,
                state: AlertState::ALL[i % AlertState::ALL.len()],
                held: event.is_notice().then(|| "flapping".to_string()),
                value: Some(i as f64 / 4.0),
                ..AlertEvent::fired_for_test(&format!("k{i}"), UnixMillis(i as i64))
            }
        })
        .collect();
    let active: Vec<ActiveAlertRow> = AlertStatus::ALL
        .iter()
        .zip(Severity::ALL)
        .map(|(&status, &severity)| ActiveAlertRow {
            key: format!("a/{status}"),
            rule: "a".into(),
            severity,
            device: "d1".into(),
            device_name: "r1".into(),
            interface: None,
            status,
            since_ms: UnixMillis(5),
            value: Some(1.5),
            caused_by: vec!["r0".into()],
            maintenance: Some("w".into()),
            flapping: status == AlertStatus::Resolved,
            notified: true,
            flap_told: false,
        })
        .collect();
    let to_record: Vec<(AlertEvent, Vec<String>)> = events
        .iter()
        .map(|e| (e.clone(), vec!["hook".into()]))
        .collect();
    let ids = s
        .record_alerts(&to_record, Some(&active), UnixMillis(0))
        .unwrap();
    let want: Vec<AlertEvent> = events
        .into_iter()
        .zip(&ids)
        .map(|(e, &id)| AlertEvent { id, ..e })
        .collect();
    assert_eq!(s.alert_history(UnixMillis(0), 100).unwrap(), want);
    assert_eq!(s.next_outbox("hook").unwrap().unwrap().event, want[0]);
    let mut sorted = active.clone();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(s.active_alerts().unwrap(), sorted);
    let texts: Vec<(String, String, String, String)> = s
        .conn
        .prepare("SELECT kind, severity, event, state FROM alert_history ORDER BY id LIMIT 3")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let texts: Vec<[&str; 4]> = texts
        .iter()
        .map(|(a, b, c, d)| [a.as_str(), b, c, d])
        .collect();
    assert_eq!(
        texts,
        [
            ["utilization", "info", "fired", "firing"],
            ["bps", "warning", "suppressed", "resolved"],
            ["error_rate", "critical", "resolved", "firing"],
        ]
    );
    let statuses: Vec<String> = s
        .conn
        .prepare("SELECT status FROM alert_active ORDER BY key")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(statuses, ["firing", "resolved", "suppressed"]);
}

/// A text no variant has (another version's, or a hand edit) makes the
/// read fail with the set and the text named; nothing is dropped.
#[test]
fn an_unknown_text_in_the_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("u.db"), StoreConfig::default()).unwrap();
    let row = ActiveAlertRow {
        key: "k".into(),
        rule: "r".into(),
        severity: Severity::Info,
        device: "d".into(),
        device_name: "d".into(),
        interface: None,
        status: AlertStatus::Firing,
        since_ms: UnixMillis(1),
        value: None,
        caused_by: vec![],
        maintenance: None,
        flapping: false,
        notified: false,
        flap_told: false,
    };
    let e = AlertEvent::fired_for_test("k", UnixMillis(1));
    s.record_alerts(&[(e, vec!["hook".into()])], Some(&[row]), UnixMillis(1))
        .unwrap();
    s.conn
        .execute_batch(
            "UPDATE alert_history SET event = 'exploded';
             UPDATE alert_active SET status = 'Firing';",
        )
        .unwrap();
    let err = s.alert_history(UnixMillis(0), 10).unwrap_err().to_string();
    assert!(err.contains("unknown alert event \"exploded\""), "{err}");
    let err = s.next_outbox("hook").unwrap_err().to_string();
    assert!(err.contains("unknown alert event \"exploded\""), "{err}");
    let err = s.active_alerts().unwrap_err().to_string();
    assert!(err.contains("unknown alert status \"Firing\""), "{err}");
}

/// What a receiver was last told of the alerts that still fire: the newest
/// delivered firing row per alert, and nothing once it was told resolved,
/// its last row was refused, or the alert is no longer saved; pruning keeps
/// that row however old it is.
#[test]
fn told_firing_is_the_last_delivered_firing_row_of_a_saved_alert() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("t.db"), StoreConfig::default()).unwrap();
    let saved = |key: &str| ActiveAlertRow {
        key: key.into(),
        rule: "hot".into(),
        severity: Severity::Warning,
        device: "d1".into(),
        device_name: "r1".into(),
        interface: Some("eth0".into()),
        status: AlertStatus::Firing,
        since_ms: UnixMillis(10),
        value: None,
        caused_by: vec![],
        maintenance: None,
        flapping: false,
        notified: true,
        flap_told: false,
    };
    let am = || vec!["am".to_string()];
    let events = [
        (ev("a", AlertEventKind::Fired, UnixMillis(10)), am()),
        (ev("b", AlertEventKind::Fired, UnixMillis(11)), am()),
        (ev("c", AlertEventKind::Fired, UnixMillis(12)), am()),
        (ev("d", AlertEventKind::Fired, UnixMillis(13)), am()),
    ];
    let active = [saved("a"), saved("b"), saved("c")];
    s.record_alerts(&events, Some(&active), UnixMillis(13))
        .unwrap();
    // Delivered: a, b, d; c refused.
    for how in [
        Delivery::Delivered,
        Delivery::Delivered,
        Delivery::Rejected,
        Delivery::Delivered,
    ] {
        let row = s.next_outbox("am").unwrap().unwrap();
        s.outbox_done(row.id, how, UnixMillis(20)).unwrap();
    }
    let keys = |s: &Store| -> Vec<String> {
        s.told_firing("am")
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect()
    };
    // d is not saved as firing, c was refused.
    assert_eq!(keys(&s), ["a", "b"]);
    assert!(s.told_firing("other").unwrap().is_empty());
    // b resolves (the saved alerts no longer hold it): still told firing
    // until the resolve is delivered, then not.
    s.record_alerts(
        &[(ev("b", AlertEventKind::Resolved, UnixMillis(30)), am())],
        Some(&[saved("a"), saved("c")]),
        UnixMillis(30),
    )
    .unwrap();
    assert_eq!(keys(&s), ["a"]);
    let row = s.next_outbox("am").unwrap().unwrap();
    s.outbox_done(row.id, Delivery::Delivered, UnixMillis(31))
        .unwrap();
    assert_eq!(keys(&s), ["a"]);
    // A week later every finished row is old; a's firing row stays.
    let (pruned, _) = s
        .prune_alerts(UnixMillis(1_000_000), UnixMillis(0))
        .unwrap();
    assert_eq!(pruned, 4);
    assert_eq!(keys(&s), ["a"]);
}
