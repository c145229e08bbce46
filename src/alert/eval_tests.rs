//! Evaluator tests with fake observations: `for`, hysteresis,
//! maintenance, dependency suppression, restarts, p95, and a property test
//! of the notification model. Flapping is in `eval_flap_tests.rs`, the
//! poller cut off in `eval_isolation_tests.rs`, aged ICMP verdicts in
//! `eval_stale_tests.rs`.
use super::*;
use crate::alert::IfObs;
use crate::alert::maintenance::Window;
use crate::config::Config;
use crate::counters::{GapReason, InterfaceRates, Metric, Rate};
use crate::topology::{Device, Endpoint, Evidence, Link, Topology};
use proptest::prelude::*;

fn rules(toml: &str) -> (Vec<Rule>, Vec<Window>) {
    let c = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e:?}"));
    (
        c.alerts.iter().map(Rule::from_config).collect(),
        c.maintenance.iter().map(Window::from_config).collect(),
    )
}

fn evaluator(toml: &str) -> Evaluator {
    let (r, w) = rules(toml);
    Evaluator::new(r, w)
}

fn device(id: &str, poller: bool) -> Device {
    Device {
        mgmt_addr: Some(format!("10.95.0.{}", id.len()).parse().unwrap()),
        ..Device::for_test(id, poller)
    }
}

/// poller - r1 - r2 - r3
fn chain() -> Observations {
    let names = ["noc", "r1", "r2", "r3"];
    let topology = Topology {
        devices: names.iter().map(|n| device(n, *n == "noc")).collect(),
        links: names
            .windows(2)
            .enumerate()
            .map(|(i, w)| Link {
                id: format!("l{i}"),
                a: Endpoint {
                    device: DeviceId(w[0].into()),
                    if_name: Some("eth1".into()),
                },
                b: Endpoint {
                    device: DeviceId(w[1].into()),
                    if_name: Some("eth0".into()),
                },
                evidence: vec![Evidence::Lldp],
                confidence: 1.0,
                lag: None,
            })
            .collect(),
    };
    let mut devices = BTreeMap::new();
    for n in &names[1..] {
        devices.insert(
            DeviceId(n.to_string()),
            DeviceObs {
                id: DeviceId(n.to_string()),
                name: n.to_string(),
                mgmt_addr: Some("10.95.0.1".parse().unwrap()),
                tags: vec![],
                reachability: Reachability::Up,
                last_verdict: Reachability::Up,
                reach_ms: None,
                rtt_ms: Some(1.0),
                loss_pct: Some(0.0),
                vitals: Default::default(),
            },
        );
    }
    Observations {
        devices,
        interfaces: vec![IfObs {
            device: DeviceId("r1".into()),
            name: "eth1".into(),
            oper_status: Some(crate::types::OperStatus::Up),
            rates: Some(
                InterfaceRates::all_gap(GapReason::Missing)
                    .with(Metric::InUtilisationPct, 0.0)
                    .with(Metric::OutUtilisationPct, 0.0)
                    .with(Metric::InBitsPerSec, 0.0)
                    .with(Metric::OutBitsPerSec, 0.0),
            ),
            updated_ms: Some(UnixMillis(0)),
            ..Default::default()
        }],
        poller: Some(DeviceId("noc".into())),
        topology,
        poller_links: vec![],
    }
}

/// Sets one rate of the first interface (None: a gap).
fn set_rate(o: &mut Observations, metric: Metric, v: Option<f64>) {
    let rates = o.interfaces[0]
        .rates
        .get_or_insert(InterfaceRates::all_gap(GapReason::Missing));
    rates.set(metric, v.map_or(Rate::Gap(GapReason::Missing), Rate::Value));
}

fn set_util(o: &mut Observations, v: Option<f64>, at: UnixMillis) {
    set_rate(o, Metric::InUtilisationPct, v);
    o.interfaces[0].updated_ms = Some(at);
}

fn set_down(o: &mut Observations, names: &[&str], down: bool) {
    for n in names {
        o.devices
            .get_mut(&DeviceId(n.to_string()))
            .unwrap()
            .reachability = if down {
            Reachability::Down
        } else {
            Reachability::Up
        };
    }
}

/// The notified events with the state they tell.
fn told(t: &[Transition]) -> Vec<(AlertEventKind, bool)> {
    t.iter()
        .filter(|t| t.notify)
        .map(|t| (t.event, t.firing))
        .collect()
}

fn notified(t: &[Transition]) -> Vec<(String, AlertEventKind)> {
    t.iter()
        .filter(|t| t.notify)
        .map(|t| (t.key.0.clone(), t.event))
        .collect()
}

const HOT: &str = r#"
[[alert]]
name = "hot"
kind = "utilization"
direction = "in"
threshold = 80.0
clear = 60.0
for_s = 10
severity = "critical"
"#;

#[test]
fn fires_after_for_and_resolves_below_clear_only() {
    let mut e = evaluator(HOT);
    let mut o = chain();
    set_util(&mut o, Some(90.0), UnixMillis(0));
    assert!(e.step(&o, UnixMillis(0)).is_empty(), "pending, not firing");
    assert!(e.step(&o, UnixMillis(9_999)).is_empty());
    let t = e.step(&o, UnixMillis(10_000));
    assert_eq!(
        notified(&t),
        vec![("hot/r1/eth1".into(), AlertEventKind::Fired)]
    );
    assert_eq!(t[0].severity, crate::config::Severity::Critical);
    assert_eq!(t[0].started_ms, UnixMillis(10_000));
    // Between clear and threshold: still firing, nothing new.
    set_util(&mut o, Some(70.0), UnixMillis(11_000));
    assert!(e.step(&o, UnixMillis(11_000)).is_empty());
    assert_eq!(e.active().len(), 1);
    // Stale / unknown data neither fires nor resolves.
    set_util(&mut o, None, UnixMillis(12_000));
    assert!(e.step(&o, UnixMillis(12_000)).is_empty());
    set_util(&mut o, Some(59.0), UnixMillis(13_000));
    let t = e.step(&o, UnixMillis(13_000));
    assert_eq!(
        notified(&t),
        vec![("hot/r1/eth1".into(), AlertEventKind::Resolved)]
    );
    assert_eq!(t[0].started_ms, UnixMillis(10_000));
    assert!(e.active().is_empty());
}

#[test]
fn a_short_breach_never_fires() {
    let mut e = evaluator(HOT);
    let mut o = chain();
    set_util(&mut o, Some(90.0), UnixMillis(0));
    e.step(&o, UnixMillis(0));
    set_util(&mut o, Some(85.0), UnixMillis(5_000));
    e.step(&o, UnixMillis(5_000));
    // Below threshold during pending (even above clear): back to inactive.
    set_util(&mut o, Some(70.0), UnixMillis(9_000));
    assert!(e.step(&o, UnixMillis(9_000)).is_empty());
    set_util(&mut o, Some(90.0), UnixMillis(12_000));
    assert!(e.step(&o, UnixMillis(12_000)).is_empty());
    assert!(e.step(&o, UnixMillis(21_999)).is_empty());
    assert_eq!(e.step(&o, UnixMillis(22_000)).len(), 1);
}

#[test]
fn maintenance_records_without_notifying_then_catches_up() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "down"
kind = "device_unreachable"
[[maintenance]]
name = "upgrade"
start = "1970-01-01T00:00:10Z"
end = "1970-01-01T00:00:20Z"
devices = ["r3"]
"#,
    );
    let mut o = chain();
    set_down(&mut o, &["r3"], true);
    let t = e.step(&o, UnixMillis(10_000));
    assert_eq!(t.len(), 1);
    assert!(!t[0].notify && t[0].maintenance() && t[0].event == AlertEventKind::Fired);
    assert!(e.step(&o, UnixMillis(15_000)).is_empty());
    let t = e.step(&o, UnixMillis(20_000));
    assert_eq!(
        notified(&t),
        vec![("down/r3".into(), AlertEventKind::Fired)]
    );
    assert!(t[0].catch_up);
    // r2 is outside the window's scope: notified at once; r3 is now behind
    // r2, which is recorded (it was told already).
    set_down(&mut o, &["r2"], true);
    let t = e.step(&o, UnixMillis(21_000));
    assert_eq!(
        notified(&t),
        vec![("down/r2".into(), AlertEventKind::Fired)]
    );
    assert!(
        t.iter()
            .any(|t| t.event == AlertEventKind::Suppressed && t.key.0 == "down/r3")
    );
}

#[test]
fn one_root_cause_fires_and_the_devices_behind_it_are_suppressed() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 4
severity = "critical"
"#,
    );
    let mut o = chain();
    assert!(e.step(&o, UnixMillis(0)).is_empty());
    set_down(&mut o, &["r1", "r2", "r3"], true);
    assert!(e.step(&o, UnixMillis(1_000)).is_empty());
    let t = e.step(&o, UnixMillis(5_000));
    assert_eq!(
        notified(&t),
        vec![("unreachable/r1".into(), AlertEventKind::Fired)]
    );
    let suppressed: Vec<_> = t
        .iter()
        .filter(|t| t.event == AlertEventKind::Suppressed)
        .collect();
    assert_eq!(suppressed.len(), 2, "{t:?}");
    for s in &suppressed {
        assert!(!s.notify);
        assert_eq!(s.caused_by(), &[DeviceId("r1".into())]);
    }
    let active = e.active();
    assert_eq!(active.len(), 3);
    assert_eq!(active.iter().filter(|a| a.caused_by.is_empty()).count(), 1);
    // r1 comes back but r2 stays down: r2 becomes the root, told late once
    // it has been the root for the rule's `for`; r3 is now behind r2.
    set_down(&mut o, &["r1"], false);
    let t = e.step(&o, UnixMillis(6_000));
    assert_eq!(
        notified(&t),
        vec![("unreachable/r1".into(), AlertEventKind::Resolved)]
    );
    assert!(notified(&e.step(&o, UnixMillis(9_999))).is_empty());
    let t = e.step(&o, UnixMillis(10_000));
    assert_eq!(
        notified(&t),
        vec![("unreachable/r2".into(), AlertEventKind::Fired)]
    );
    assert!(t[0].catch_up);
    let r3 = e.active().into_iter().find(|a| a.device.0 == "r3").unwrap();
    assert_eq!(r3.caused_by, vec![DeviceId("r2".into())]);
    // Everything recovers: r3's resolution is recorded, not notified (never told).
    set_down(&mut o, &["r2", "r3"], false);
    let t = e.step(&o, UnixMillis(11_000));
    assert_eq!(
        notified(&t),
        vec![("unreachable/r2".into(), AlertEventKind::Resolved)]
    );
    assert_eq!(t.len(), 2);
}

#[test]
fn devices_behind_a_root_that_recover_a_round_later_are_never_told() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 6
"#,
    );
    let mut o = chain();
    set_down(&mut o, &["r1", "r2", "r3"], true);
    e.step(&o, UnixMillis(0));
    assert_eq!(notified(&e.step(&o, UnixMillis(6_000))).len(), 1);
    // The lab's order: r1 answers first, r2 and r3 on their next rounds.
    set_down(&mut o, &["r1"], false);
    let mut all = e.step(&o, UnixMillis(7_000));
    set_down(&mut o, &["r2"], false);
    all.extend(e.step(&o, UnixMillis(9_000)));
    set_down(&mut o, &["r3"], false);
    all.extend(e.step(&o, UnixMillis(11_000)));
    assert_eq!(
        notified(&all),
        vec![("unreachable/r1".into(), AlertEventKind::Resolved)]
    );
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(e.active().is_empty());
}

#[test]
fn restored_alerts_do_not_fire_again() {
    let mut e = evaluator(HOT);
    let dropped = e.restore(vec![
        Restored {
            rule: "hot".into(),
            device: DeviceId("r1".into()),
            device_name: "r1".into(),
            interface: Some("eth1".into()),
            since_ms: UnixMillis(500),
            firing: true,
            value: Some(95.0),
            notified: true,
            flapping: false,
            flap_told: false,
        },
        Restored {
            rule: "gone".into(),
            device: DeviceId("r1".into()),
            device_name: "r1".into(),
            interface: None,
            since_ms: UnixMillis(500),
            firing: true,
            value: None,
            notified: true,
            flapping: false,
            flap_told: false,
        },
    ]);
    assert_eq!(dropped.len(), 1);
    let mut o = chain();
    set_util(&mut o, Some(95.0), UnixMillis(1_000));
    assert!(e.step(&o, UnixMillis(1_000)).is_empty());
    set_util(&mut o, Some(5.0), UnixMillis(2_000));
    let t = e.step(&o, UnixMillis(2_000));
    assert_eq!(
        notified(&t),
        vec![("hot/r1/eth1".into(), AlertEventKind::Resolved)]
    );
    assert_eq!(t[0].started_ms, UnixMillis(500));
}

#[test]
fn p95_over_a_window() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "p95"
kind = "p95_utilization"
threshold = 50.0
window_s = 100
"#,
    );
    let mut o = chain();
    set_rate(&mut o, Metric::OutUtilisationPct, None);
    // 19 quiet samples and one spike: p95 (nearest rank) stays quiet.
    for k in 0..19 {
        set_util(&mut o, Some(10.0), UnixMillis(k * 1000));
        assert!(e.step(&o, UnixMillis(k * 1000)).is_empty());
    }
    set_util(&mut o, Some(99.0), UnixMillis(19_000));
    assert!(e.step(&o, UnixMillis(19_000)).is_empty());
    // A second spike: 2 of 21 above -> p95 is the spike.
    set_util(&mut o, Some(99.0), UnixMillis(20_000));
    assert_eq!(e.step(&o, UnixMillis(20_000)).len(), 1);
    // The same measurement read twice counts once; after the window passes,
    // the spikes are forgotten.
    let t = e.step(&o, UnixMillis(20_500));
    assert!(t.is_empty());
    set_util(&mut o, Some(10.0), UnixMillis(130_000));
    let t = e.step(&o, UnixMillis(130_000));
    assert_eq!(
        notified(&t),
        vec![("p95/r1/eth1".into(), AlertEventKind::Resolved)]
    );
}

#[test]
fn scopes_by_tag_and_interface() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "wan"
kind = "utilization"
threshold = 50.0
tags = ["wan"]
interfaces = ["eth1"]
"#,
    );
    let mut o = chain();
    set_util(&mut o, Some(90.0), UnixMillis(0));
    assert!(e.step(&o, UnixMillis(0)).is_empty(), "r1 has no tag");
    o.devices.get_mut(&DeviceId("r1".into())).unwrap().tags = vec!["wan".into()];
    assert_eq!(e.step(&o, UnixMillis(1)).len(), 1);
}

proptest! {
    /// Whatever the values, holds and timing: per alert, receivers are
    /// told fired / resolved alternately (starting with fired), nothing
    /// while held but resolutions and flapping notices; a flapping start
    /// is told at most once until its stop, nothing ordinary in between,
    /// and each notice tells the state it carries. After a quiet spell
    /// (no flapping, no maintenance), receivers believe the real state of
    /// every alert not suppressed, and a stop is owed only for a firing
    /// alert still suppressed.
    #[test]
    fn notifications_alternate(
        steps in proptest::collection::vec((0u8..4, proptest::option::of(0.0f64..100.0), any::<bool>(), 1i64..4_000), 1..80),
        for_s in 0u64..5,
        flap in 1u32..6,
        use_maintenance in any::<bool>(),
    ) {
        let toml = format!(r#"
[[alert]]
name = "hot"
kind = "utilization"
threshold = 70.0
clear = 50.0
for_s = {for_s}
flap_changes = {flap}
flap_window_s = 20
[[alert]]
name = "unreachable"
kind = "device_unreachable"
{}"#, if use_maintenance { "[[maintenance]]\nname = \"m\"\nweekly = [\"thu 00:00-00:01\"]\ndevices = [\"r2\"]\n" } else { "" });
        let mut e = evaluator(&toml);
        let mut o = chain();
        let mut now = 0;
        // Per alert: what receivers believe (firing?) and whether they
        // wait for a stop notice.
        let mut believed: BTreeMap<String, bool> = BTreeMap::new();
        let mut flap_told: BTreeMap<String, bool> = BTreeMap::new();
        let quiet = vec![(4u8, None, false, 120_000i64); 6];
        for (which, v, down, dt) in steps.into_iter().chain(quiet) {
            now += dt;
            match which {
                0 | 1 => set_util(&mut o, v, UnixMillis(now)),
                2 => set_down(&mut o, &["r1"], down),
                3 => set_down(&mut o, &["r2", "r3"], down),
                _ => {}
            }
            for t in e.step(&o, UnixMillis(now)) {
                let key = t.key.0.clone();
                let firing = believed.get(&key).copied().unwrap_or(false);
                let waiting = flap_told.get(&key).copied().unwrap_or(false);
                if t.notify {
                    match t.event {
                        AlertEventKind::Fired => {
                            prop_assert!(t.held.is_none() && !firing && !waiting, "{t:?}");
                            believed.insert(key, true);
                        }
                        AlertEventKind::Resolved => {
                            prop_assert!(firing && !waiting, "{t:?}");
                            believed.insert(key, false);
                        }
                        AlertEventKind::FlappingStarted => {
                            prop_assert!(t.held.is_none() && t.flapping && !waiting, "{t:?}");
                            flap_told.insert(key.clone(), true);
                            believed.insert(key, t.firing);
                        }
                        AlertEventKind::FlappingStopped => {
                            prop_assert!(!t.flapping && waiting, "{t:?}");
                            flap_told.insert(key.clone(), false);
                            believed.insert(key, t.firing);
                        }
                        AlertEventKind::Suppressed => prop_assert!(false, "suppressed is never notified"),
                    }
                } else {
                    // Held, an untold resolution or notice, a firing
                    // receivers still believe in (its resolution was
                    // held), or a change while the stop notice is owed.
                    prop_assert!(
                        t.held.is_some() || t.event == AlertEventKind::Resolved || t.event.is_notice() || firing || waiting,
                        "{t:?}"
                    );
                }
            }
            for a in e.active() {
                let k = &a.key.0;
                prop_assert_eq!(a.notified, believed.get(k).copied().unwrap_or(false));
                prop_assert_eq!(a.flap_told, flap_told.get(k).copied().unwrap_or(false));
                prop_assert!(a.firing || a.flapping || a.flap_told);
            }
        }
        // The quiet spell is over: no receiver is left with a stale state.
        let active = e.active();
        for (k, firing) in &believed {
            let a = active.iter().find(|a| &a.key.0 == k);
            // A stop owed with a firing state waits while the alert is
            // suppressed (a firing state is not told then).
            if flap_told.get(k).copied().unwrap_or(false) {
                prop_assert!(a.is_some_and(|a| a.firing && !a.caused_by.is_empty()), "{k}: stop owed: {a:?}");
            }
            if *firing {
                prop_assert!(a.is_some_and(|a| a.firing), "{k} is believed firing: {a:?}");
            }
        }
        for a in &active {
            prop_assert!(!a.flapping, "{a:?}");
            if a.caused_by.is_empty() {
                prop_assert_eq!(a.notified, a.firing, "{:?}", a);
            }
        }
    }
}

#[path = "eval_isolation_tests.rs"]
mod isolation;

#[path = "eval_stale_tests.rs"]
mod stale;

#[path = "eval_flap_tests.rs"]
mod flap;
