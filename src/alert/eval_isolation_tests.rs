//! The evaluator with a `poller_isolated` rule: the poller cut off pages
//! once, everything else waits behind it, and verdicts measured while it
//! was cut off do not page after it is back.
use super::*;

const CUT_OFF: &str = r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 2
severity = "critical"
[[alert]]
name = "cut-off"
kind = "poller_isolated"
for_s = 4
severity = "critical"
"#;

fn poller_link(o: &mut Observations, up: bool) {
    o.poller_links = vec![crate::alert::isolation::PollerLink {
        name: "eth1".into(),
        up: Some(up),
    }];
}

#[test]
fn a_cut_off_poller_pages_once_and_everything_else_is_behind_it() {
    let mut e = evaluator(CUT_OFF);
    let mut o = chain();
    poller_link(&mut o, true);
    assert!(e.step(&o, UnixMillis(0)).is_empty());
    // The poller's own link goes down; a second later nothing answers.
    poller_link(&mut o, false);
    assert!(notified(&e.step(&o, UnixMillis(1_000))).is_empty());
    set_down(&mut o, &["r1", "r2", "r3"], true);
    let mut all = Vec::new();
    for t in (2_000..=20_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    // The devices' rule has the shorter `for`, yet only the poller pages.
    assert_eq!(
        notified(&all),
        vec![("cut-off/noc".into(), AlertEventKind::Fired)]
    );
    let suppressed: Vec<_> = all.iter().filter(|t| t.rule == "unreachable").collect();
    assert_eq!(suppressed.len(), 3, "{all:?}");
    for s in &suppressed {
        assert_eq!(s.event, AlertEventKind::Suppressed);
        assert_eq!(s.caused_by(), &[DeviceId("noc".into())]);
    }
    // The link comes back; the devices answer again a round later.
    poller_link(&mut o, true);
    let mut all = e.step(&o, UnixMillis(21_000));
    set_down(&mut o, &["r1", "r2", "r3"], false);
    for t in (22_000..=40_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    assert_eq!(
        notified(&all),
        vec![("cut-off/noc".into(), AlertEventKind::Resolved)]
    );
    assert_eq!(
        all.iter()
            .filter(|t| t.event == AlertEventKind::Resolved)
            .count(),
        4,
        "{all:?}"
    );
    assert!(e.active().is_empty());
    assert!(e.step(&o, UnixMillis(41_000)).is_empty());
}

fn measured(o: &mut Observations, at: UnixMillis) {
    for d in o.devices.values_mut() {
        d.reach_ms = Some(at);
    }
}

#[test]
fn a_device_still_down_after_the_poller_is_back_is_told_late() {
    let mut e = evaluator(CUT_OFF);
    let mut o = chain();
    poller_link(&mut o, false);
    set_down(&mut o, &["r1", "r2", "r3"], true);
    for t in (0..=10_000).step_by(1_000) {
        measured(&mut o, UnixMillis(t));
        e.step(&o, UnixMillis(t));
    }
    // Back, but r1 really died meanwhile: once measured again it becomes
    // the root cause and is told when it has been unheld for its `for`.
    poller_link(&mut o, true);
    let mut all = Vec::new();
    for t in (11_000..=15_000).step_by(1_000) {
        measured(&mut o, UnixMillis(t));
        all.extend(e.step(&o, UnixMillis(t)));
    }
    let told = notified(&all);
    assert_eq!(
        told,
        vec![
            ("cut-off/noc".into(), AlertEventKind::Resolved),
            ("unreachable/r1".into(), AlertEventKind::Fired),
        ]
    );
    assert!(all.iter().any(|t| t.catch_up && t.rule == "unreachable"));
    let active = e.active();
    assert_eq!(active.len(), 3);
    for a in active.iter().filter(|a| a.device.0 != "r1") {
        assert_eq!(a.caused_by, vec![DeviceId("r1".into())]);
    }
}

#[test]
fn without_a_cut_off_rule_the_first_hop_is_the_root_cause() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 2
"#,
    );
    let mut o = chain();
    poller_link(&mut o, false);
    set_down(&mut o, &["r1", "r2", "r3"], true);
    let mut all = Vec::new();
    for t in (0..=5_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    assert_eq!(
        notified(&all),
        vec![("unreachable/r1".into(), AlertEventKind::Fired)]
    );
}

#[test]
fn a_poller_not_in_the_topology_is_still_a_subject() {
    let mut e = evaluator(CUT_OFF);
    let mut o = chain();
    o.poller = None;
    set_down(&mut o, &["r1", "r2", "r3"], true);
    let mut all = Vec::new();
    for t in (0..=6_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    assert_eq!(
        notified(&all),
        vec![("cut-off/poller".into(), AlertEventKind::Fired)]
    );
    assert!(
        all.iter()
            .filter(|t| t.rule == "unreachable")
            .all(|t| t.caused_by() == [DeviceId("poller".into())])
    );
}

#[test]
fn verdicts_from_while_cut_off_wait_for_the_next_round() {
    // ICMP rounds every 30 s, the devices' rule waits 2 s: after the link
    // is back, the "down" measured while cut off must not page as r1's.
    let mut e = evaluator(CUT_OFF);
    let mut o = chain();
    measured(&mut o, UnixMillis(0));
    e.step(&o, UnixMillis(0));
    poller_link(&mut o, false);
    set_down(&mut o, &["r1", "r2", "r3"], true);
    measured(&mut o, UnixMillis(5_000));
    for t in (1_000..=20_000).step_by(1_000) {
        e.step(&o, UnixMillis(t));
    }
    poller_link(&mut o, true);
    let mut all = Vec::new();
    for t in (21_000..=34_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    assert_eq!(
        notified(&all),
        vec![("cut-off/noc".into(), AlertEventKind::Resolved)]
    );
    for a in e.active() {
        assert_eq!(a.caused_by, vec![DeviceId("noc".into())], "{a:?}");
    }
    // The next round: r1 still down (a real failure now), r2 and r3 behind
    // it; r1 is told after its `for`.
    measured(&mut o, UnixMillis(35_000));
    let mut all = Vec::new();
    for t in (35_000..=38_000).step_by(1_000) {
        all.extend(e.step(&o, UnixMillis(t)));
    }
    assert_eq!(
        notified(&all),
        vec![("unreachable/r1".into(), AlertEventKind::Fired)]
    );
    let r3 = e.active().into_iter().find(|a| a.device.0 == "r3").unwrap();
    assert_eq!(r3.caused_by, vec![DeviceId("r1".into())]);
    // A round where everything answers: all resolve, only r1 is told.
    set_down(&mut o, &["r1", "r2", "r3"], false);
    measured(&mut o, UnixMillis(65_000));
    let t = e.step(&o, UnixMillis(65_000));
    assert_eq!(
        notified(&t),
        vec![("unreachable/r1".into(), AlertEventKind::Resolved)]
    );
    assert!(e.active().is_empty());
}
