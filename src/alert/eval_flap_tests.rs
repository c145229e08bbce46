//! Flapping: the notices (one start, one stop with the state then), under
//! maintenance and `for`, and its history across a restart, saved in and
//! read back from a real SQLite store.
use super::*;

const FLAPPY: &str = r#"
[[alert]]
name = "hot"
kind = "utilization"
threshold = 50.0
flap_changes = 3
flap_window_s = 100
"#;

/// Alternates the utilisation above and below the threshold at 0, 1, …
/// s for `n` steps, starting high.
fn flap(e: &mut Evaluator, o: &mut Observations, n: i64) -> Vec<Transition> {
    flap_over(e, o, 0..n)
}

/// The same over the seconds `secs`: high at even seconds, low at odd.
fn flap_over(
    e: &mut Evaluator,
    o: &mut Observations,
    secs: std::ops::Range<i64>,
) -> Vec<Transition> {
    let mut all = Vec::new();
    for k in secs {
        let v = if k % 2 == 0 { 90.0 } else { 10.0 };
        set_util(o, Some(v), UnixMillis(k * 1000));
        all.extend(e.step(o, UnixMillis(k * 1000)));
    }
    all
}

#[test]
fn flapping_is_told_once_when_it_starts_and_once_when_it_stops() {
    let mut e = evaluator(FLAPPY);
    let mut o = chain();
    let all = flap(&mut e, &mut o, 6);
    // Changes at 0..5 s: fired, resolved, fired (3 changes: not flapping
    // yet), then the 4th change (resolved) marks it flapping: held, and
    // the start is told with the state then; the 5th and 6th are held.
    assert_eq!(
        told(&all),
        vec![
            (AlertEventKind::Fired, true),
            (AlertEventKind::Resolved, false),
            (AlertEventKind::Fired, true),
            (AlertEventKind::FlappingStarted, false),
        ],
        "{all:#?}"
    );
    assert_eq!(all.iter().filter(|t| t.event.is_notice()).count(), 1);
    assert!(
        all.iter()
            .any(|t| !t.notify && t.flapping && t.event == AlertEventKind::Fired)
    );
    // Listed while it flaps, though resolved now.
    let a = e.active();
    assert_eq!(a.len(), 1);
    assert!(a[0].flapping && !a[0].firing && a[0].flap_told && !a[0].notified);
    assert!(
        e.step(&o, UnixMillis(50_000)).is_empty(),
        "no repeat while it flaps"
    );
    // Once the window forgets, the stop is told with the final state
    // (resolved): no separate late resolution.
    let late = e.step(&o, UnixMillis(5_000 + 101_000));
    assert_eq!(
        told(&late),
        vec![(AlertEventKind::FlappingStopped, false)],
        "{late:?}"
    );
    assert_eq!(late.len(), 1);
    assert!(late[0].held.is_none());
    assert!(e.step(&o, UnixMillis(5_000 + 102_000)).is_empty());
    assert!(e.active().is_empty());
}

#[test]
fn a_stop_while_firing_tells_firing_and_the_resolution_follows_normally() {
    let mut e = evaluator(FLAPPY);
    let mut o = chain();
    let mut all = flap(&mut e, &mut o, 5);
    // Ends high: firing when the flapping stops.
    all.extend(e.step(&o, UnixMillis(4_000 + 101_000)));
    let n = told(&all);
    assert_eq!(
        &n[3..],
        [
            (AlertEventKind::FlappingStarted, false),
            (AlertEventKind::FlappingStopped, true)
        ],
        "{all:#?}"
    );
    let a = e.active();
    assert!(a[0].firing && a[0].notified && !a[0].flapping && !a[0].flap_told);
    set_util(&mut o, Some(10.0), UnixMillis(110_000));
    let t = e.step(&o, UnixMillis(110_000));
    assert_eq!(told(&t), vec![(AlertEventKind::Resolved, false)]);
}

#[test]
fn flapping_in_maintenance_is_recorded_and_told_late_if_it_outlasts_the_window() {
    let mut e = evaluator(&format!(
        "{FLAPPY}
[[maintenance]]
name = \"m\"
start = \"1970-01-01T00:00:00Z\"
end = \"1970-01-01T00:00:10Z\"
devices = [\"r1\"]
"
    ));
    let mut o = chain();
    let mut all = flap(&mut e, &mut o, 6);
    assert!(told(&all).is_empty(), "{all:#?}");
    let recorded: Vec<_> = all.iter().filter(|t| t.event.is_notice()).collect();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].event, AlertEventKind::FlappingStarted);
    assert!(recorded[0].maintenance());
    // Still flapping when the window ends: the start is told then, once.
    all = e.step(&o, UnixMillis(10_000));
    assert_eq!(told(&all), vec![(AlertEventKind::FlappingStarted, false)]);
    assert!(all[0].catch_up);
    assert!(e.step(&o, UnixMillis(11_000)).is_empty());
    let t = e.step(&o, UnixMillis(5_000 + 101_000));
    assert_eq!(told(&t), vec![(AlertEventKind::FlappingStopped, false)]);
}

#[test]
fn a_flapping_stop_while_firing_waits_for_the_rules_for() {
    let mut e2 = evaluator(&FLAPPY.replace("flap_changes", "for_s = 3\nflap_changes"));
    let mut o = chain();
    // With `for` 3 s: breaches of 1 s never fire; hold it high 3 s a time.
    let mut all = Vec::new();
    for k in 0..5 {
        let v = if k % 2 == 0 { 90.0 } else { 10.0 };
        for s in 0..4 {
            let at = k * 4_000 + s * 1_000;
            set_util(&mut o, Some(v), UnixMillis(at));
            all.extend(e2.step(&o, UnixMillis(at)));
        }
    }
    assert_eq!(
        told(&all)[3],
        (AlertEventKind::FlappingStarted, false),
        "{all:#?}"
    );
    // Changes at 3, 4, 11, 12 and 19 s; it ends high and firing. The first
    // step after the flapping stopped (fewer than 4 changes in 100 s):
    // the stop (firing) is told once nothing has held it for 3 s.
    let ended = 112_001;
    assert!(told(&e2.step(&o, UnixMillis(ended))).is_empty());
    assert!(told(&e2.step(&o, UnixMillis(ended + 2_999))).is_empty());
    let t = e2.step(&o, UnixMillis(ended + 3_000));
    assert_eq!(told(&t), vec![(AlertEventKind::FlappingStopped, true)]);
    assert!(t[0].catch_up);
}

#[test]
fn a_restored_flapping_alert_gets_its_stop_notice() {
    let mut e = evaluator(FLAPPY);
    e.restore(vec![Restored {
        rule: "hot".into(),
        device: DeviceId("r1".into()),
        device_name: "r1".into(),
        interface: Some("eth1".into()),
        since_ms: UnixMillis(500),
        firing: false,
        value: Some(5.0),
        notified: false,
        flapping: true,
        flap_told: true,
    }]);
    let mut o = chain();
    set_util(&mut o, Some(95.0), UnixMillis(1_000));
    let t = e.step(&o, UnixMillis(1_000));
    // It fires now: the fire is recorded, and the stop tells "firing".
    assert_eq!(
        told(&t),
        vec![(AlertEventKind::FlappingStopped, true)],
        "{t:#?}"
    );
    assert!(!t[0].notify && t[0].event == AlertEventKind::Fired);
    assert!(e.active()[0].notified);
}

/// Records `t` in `store` the way the alerting task does.
fn save(
    store: &mut crate::store::Store,
    e: &Evaluator,
    o: &Observations,
    t: &[Transition],
    now: UnixMillis,
) {
    use crate::alert::runner::{active_row, record};
    let active = e.active();
    let events: Vec<_> = t
        .iter()
        .map(|t| (record(t, &active, o), Vec::new()))
        .collect();
    let rows: Vec<_> = active.iter().map(active_row).collect();
    store.record_alerts(&events, Some(&rows), now).unwrap();
}

/// Six changes at 0..5 s (flapping from the 4th), each saved as serve
/// saves it; returns the evaluator that saw them.
fn flap_and_save(store: &mut crate::store::Store, o: &mut Observations) -> Evaluator {
    let mut e = evaluator(FLAPPY);
    for k in 0..6 {
        set_util(
            o,
            Some(if k % 2 == 0 { 90.0 } else { 10.0 }),
            UnixMillis(k * 1000),
        );
        let t = e.step(o, UnixMillis(k * 1000));
        save(store, &e, o, &t, UnixMillis(k * 1000));
    }
    e
}

#[test]
fn flapping_goes_on_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flap.db");
    let open = || crate::store::Store::open(&path, crate::store::StoreConfig::default()).unwrap();
    let mut o = chain();
    {
        let mut store = open();
        let e = flap_and_save(&mut store, &mut o);
        assert!(e.active()[0].flapping && e.active()[0].flap_told);
    }
    // The monitor is back 4 s later, the value still swinging.
    let restarted = |with_history: bool| {
        let store = open();
        let mut e = evaluator(FLAPPY);
        if with_history {
            assert!(
                crate::alert::runner::restore(
                    &mut e,
                    &mut Default::default(),
                    &store,
                    UnixMillis(10_000)
                )
                .unwrap()
                .is_empty()
            );
        } else {
            // Only the saved alerts, as before session 5.
            e.restore(crate::alert::runner::saved_alerts(&store).unwrap());
        }
        e
    };
    let mut e = restarted(true);
    let after = flap_over(&mut e, &mut o, 10..14);
    assert!(
        told(&after).is_empty(),
        "still flapping after the restart: nothing told, got {after:?}"
    );
    assert!(e.active()[0].flapping, "{:?}", e.active());
    assert!(
        after.iter().all(|t| t.flapping && !t.notify),
        "each change recorded as held by the flapping: {after:?}"
    );
    // Without the history it stopped flapping at the first step (a stop
    // notice), and the next changes were told again.
    let mut e = restarted(false);
    let before = flap_over(&mut e, &mut o, 10..14);
    let events: Vec<AlertEventKind> = before
        .iter()
        .filter(|t| t.notify)
        .map(|t| t.event)
        .collect();
    assert_eq!(
        events.first(),
        Some(&AlertEventKind::FlappingStopped),
        "{before:?}"
    );
}

#[test]
fn only_changes_are_read_back_as_flap_history() {
    // Catch-ups, notices and a firing alert going behind a root cause are
    // rows of the history, not changes.
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::Store::open(
        &dir.path().join("c.db"),
        crate::store::StoreConfig::default(),
    )
    .unwrap();
    let row =
        |event: AlertEventKind, at: i64, started: i64, catch_up: bool| crate::store::AlertEvent {
            event,
            started_ms: UnixMillis(started),
            catch_up,
            ..crate::store::AlertEvent::fired_for_test("hot/r1/eth1", UnixMillis(at))
        };
    let events = vec![
        (row(AlertEventKind::Fired, 1_000, 1_000, false), vec![]),
        (
            row(AlertEventKind::FlappingStarted, 1_500, 1_000, false),
            vec![],
        ),
        (row(AlertEventKind::Resolved, 2_000, 1_000, false), vec![]),
        (row(AlertEventKind::Suppressed, 3_000, 3_000, false), vec![]),
        (row(AlertEventKind::Suppressed, 3_500, 3_000, false), vec![]),
        (row(AlertEventKind::Fired, 4_000, 3_000, true), vec![]),
        (row(AlertEventKind::Resolved, 5_000, 3_000, true), vec![]),
        (row(AlertEventKind::Fired, 500, 500, false), vec![]),
    ];
    store
        .record_alerts(&events, None, UnixMillis(6_000))
        .unwrap();
    let got = store.alert_state_changes(UnixMillis(900), 100).unwrap();
    let at: Vec<i64> = got.iter().map(|(_, t)| t.0).collect();
    assert_eq!(at, vec![1_000, 2_000, 3_000]);
    assert!(got.iter().all(|(k, _)| k == "hot/r1/eth1"));
    // The newest are kept when there are more than the limit.
    let at: Vec<i64> = store
        .alert_state_changes(UnixMillis(0), 2)
        .unwrap()
        .into_iter()
        .map(|(_, t)| t.0)
        .collect();
    assert_eq!(at, vec![2_000, 3_000]);
}

#[test]
fn time_nobody_watched_does_not_stop_the_flapping() {
    // Flapping when serve stopped at 5 s; it watches again at 104 s. The
    // changes it missed meanwhile must not read as 99 s of stability.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.db");
    let open = || crate::store::Store::open(&path, crate::store::StoreConfig::default()).unwrap();
    let mut o = chain();
    {
        let mut store = open();
        let e = flap_and_save(&mut store, &mut o);
        assert!(e.active()[0].flapping);
        // What serve's start records: the last sample (5 s) to the start.
        store
            .write_batch(&crate::store::Batch {
                samples: vec![],
                gaps: vec![crate::store::GapRecord {
                    series: None,
                    from: crate::types::UnixMillis(5_000),
                    to: crate::types::UnixMillis(100_000),
                    reason: "restart".to_string(),
                }],
            })
            .unwrap();
    }
    let store = open();
    let mut e = evaluator(FLAPPY);
    crate::alert::runner::restore(&mut e, &mut Default::default(), &store, UnixMillis(104_000))
        .unwrap();
    let after = flap_over(&mut e, &mut o, 104..108);
    assert!(
        told(&after).is_empty(),
        "still flapping after 99 s nobody watched: {after:?}"
    );
    assert!(e.active()[0].flapping, "{:?}", e.active());
}
