//! The evaluator fed from the live state through `Observations::from_live`:
//! a device's ICMP verdict ages with its own rounds, and a stale verdict
//! neither pages nor resolves.
use super::*;
use crate::live::{LiveSnapshot, verdict_lifetime_ms};
use std::time::Duration;

const UNREACHABLE: &str = r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 0
severity = "critical"
[[alert]]
name = "lossy"
kind = "loss"
threshold = 50.0
for_s = 0
severity = "warning"
"#;

/// The chain's topology with SNMP data stale after 6 s (polled every 2 s).
fn live() -> LiveSnapshot {
    LiveSnapshot {
        topology: chain().topology,
        stale_after_ms: 6_000,
        ..Default::default()
    }
}

/// One ICMP round of `dev` ending at `at`, pinged every `every_s`.
fn round(s: &mut LiveSnapshot, dev: &str, up: bool, at: UnixMillis, every_s: u64) {
    let h = s.devices.entry(DeviceId(dev.into())).or_default();
    h.reachability = if up {
        Reachability::Up
    } else {
        Reachability::Down
    };
    h.loss_pct = Some(if up { 0.0 } else { 100.0 });
    h.last_icmp_ms = Some(at);
    h.icmp_stale_after_ms = Some(verdict_lifetime_ms(
        Duration::from_secs(every_s),
        5,
        Duration::from_millis(200),
        Duration::from_secs(1),
    ));
}

fn step(e: &mut Evaluator, s: &LiveSnapshot, now: UnixMillis) -> Vec<(String, AlertEventKind)> {
    let obs = Observations::from_live(&s.view(), now, &|_, _| Vec::new());
    notified(&e.step(&obs, now))
}

fn everyone_up(s: &mut LiveSnapshot, at: UnixMillis) {
    for d in ["r1", "r2", "r3"] {
        round(s, d, true, at, 2);
    }
}

#[test]
fn a_stale_down_neither_resolves_nor_fires_again() {
    let mut e = evaluator(UNREACHABLE);
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    assert!(step(&mut e, &s, UnixMillis(0)).is_empty());
    // r1 (first hop) stops answering: it pages, loss too.
    round(&mut s, "r1", false, UnixMillis(2_000), 2);
    let got = step(&mut e, &s, UnixMillis(2_000));
    assert!(
        got.contains(&("unreachable/r1".into(), AlertEventKind::Fired)),
        "{got:?}"
    );
    // Then the rounds stop producing results (every 2 s: lifetime 6 s).
    // Everything goes stale; nothing is told, the alerts stay firing.
    for now in (3_000..60_000).step_by(1_000) {
        assert!(step(&mut e, &s, UnixMillis(now)).is_empty(), "at {now}");
    }
    let obs = Observations::from_live(&s.view(), UnixMillis(60_000), &|_, _| Vec::new());
    assert!(
        obs.devices
            .values()
            .all(|d| d.reachability == Reachability::Unknown
                && d.loss_pct.is_none()
                && d.rtt_ms.is_none()),
        "{:?}",
        obs.devices
    );
    assert_eq!(e.active().len(), 2, "still firing: {:?}", e.active());
    // Rounds again, r1 still down: no second firing.
    everyone_up(&mut s, UnixMillis(61_000));
    round(&mut s, "r1", false, UnixMillis(61_000), 2);
    assert!(step(&mut e, &s, UnixMillis(61_000)).is_empty());
    // r1 answers: one resolution of each.
    round(&mut s, "r1", true, UnixMillis(63_000), 2);
    let got = step(&mut e, &s, UnixMillis(63_000));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter().all(|(_, ev)| *ev == AlertEventKind::Resolved),
        "{got:?}"
    );
}

#[test]
fn a_verdict_already_stale_does_not_page() {
    let mut e = evaluator(UNREACHABLE);
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    round(&mut s, "r2", false, UnixMillis(0), 2);
    // First looked at 6.001 s after its round: stale, no page.
    assert!(step(&mut e, &s, UnixMillis(6_001)).is_empty());
    assert!(e.active().is_empty());
}

/// r3 pinged every 30 s while SNMP data is stale after 6 s: its verdict
/// stands between rounds, so its alert fires and stays quiet, and no
/// false resolution comes before its next round says it is back.
#[test]
fn a_device_pinged_less_often_than_snmp_keeps_its_verdict_between_rounds() {
    let mut e = evaluator(UNREACHABLE);
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    round(&mut s, "r3", false, UnixMillis(0), 30);
    let mut told = Vec::new();
    for now in (0..=60_000).step_by(1_000) {
        if now % 2_000 == 0 {
            round(&mut s, "r1", true, UnixMillis(now), 2);
            round(&mut s, "r2", true, UnixMillis(now), 2);
        }
        if now == 30_000 {
            round(&mut s, "r3", false, UnixMillis(now), 30);
        }
        for (key, ev) in step(&mut e, &s, UnixMillis(now)) {
            told.push((now, key, ev));
        }
        let obs = Observations::from_live(&s.view(), UnixMillis(now), &|_, _| Vec::new());
        let r3 = &obs.devices[&DeviceId("r3".into())];
        assert_eq!(r3.reachability, Reachability::Down, "at {now}");
        assert_eq!(r3.loss_pct, Some(100.0), "at {now}");
    }
    assert_eq!(
        told,
        [
            (0, "unreachable/r3".into(), AlertEventKind::Fired),
            (0, "lossy/r3".into(), AlertEventKind::Fired)
        ]
    );
    round(&mut s, "r3", true, UnixMillis(60_500), 30);
    assert_eq!(step(&mut e, &s, UnixMillis(61_000)).len(), 2);
}

/// An alert waiting on its `for` when the verdict goes stale: it does not
/// fire on the stale verdict, even past its `for`; it stays pending, so the
/// next fresh "down" fires it at once and a fresh "up" clears it.
#[test]
fn a_pending_alert_waits_through_a_stale_verdict() {
    let mut e = evaluator(
        r#"
[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 10
severity = "critical"
"#,
    );
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    round(&mut s, "r1", false, UnixMillis(0), 2);
    for now in (0..=20_000).step_by(1_000) {
        assert!(step(&mut e, &s, UnixMillis(now)).is_empty(), "at {now}");
    }
    assert!(e.active().is_empty());
    let mut fresh = e.clone();
    everyone_up(&mut s, UnixMillis(21_000));
    round(&mut s, "r1", false, UnixMillis(21_000), 2);
    assert_eq!(
        step(&mut fresh, &s, UnixMillis(21_000)),
        [("unreachable/r1".to_string(), AlertEventKind::Fired)]
    );
    round(&mut s, "r1", true, UnixMillis(21_000), 2);
    assert!(step(&mut e, &s, UnixMillis(21_000)).is_empty());
    round(&mut s, "r1", false, UnixMillis(22_000), 2);
    assert!(
        step(&mut e, &s, UnixMillis(22_000)).is_empty(),
        "the `for` starts again"
    );
}

#[test]
fn a_root_cause_gone_stale_still_holds_back_what_is_behind_it() {
    // r2's rounds go on every 2 s; r1's stop (its verdict ages after 6 s).
    let mut e = evaluator(UNREACHABLE);
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    assert!(step(&mut e, &s, UnixMillis(0)).is_empty());
    round(&mut s, "r1", false, UnixMillis(2_000), 2);
    round(&mut s, "r2", false, UnixMillis(2_000), 2);
    round(&mut s, "r3", false, UnixMillis(2_000), 2);
    let got = step(&mut e, &s, UnixMillis(2_000));
    assert!(
        got.contains(&("unreachable/r1".into(), AlertEventKind::Fired)),
        "{got:?}"
    );
    assert!(
        got.iter().all(|(k, _)| k.ends_with("/r1")),
        "only r1 is told: {got:?}"
    );
    for now in (3_000..40_000).step_by(1_000) {
        // r1 measured nothing since 2 s; r2 and r3 still answer nothing.
        if now % 2_000 == 0 {
            round(&mut s, "r2", false, UnixMillis(now), 2);
            round(&mut s, "r3", false, UnixMillis(now), 2);
        }
        let got = step(&mut e, &s, UnixMillis(now));
        assert!(
            got.is_empty(),
            "at {now}: r1 stale (last seen down) must not make r2 a root cause: {got:?}"
        );
    }
    let obs = Observations::from_live(&s.view(), UnixMillis(39_000), &|_, _| Vec::new());
    assert_eq!(
        obs.devices[&DeviceId("r1".into())].reachability,
        Reachability::Unknown
    );
    let r2 = e
        .active()
        .into_iter()
        .find(|a| a.device.0 == "r2" && a.rule == "unreachable")
        .expect("r2's alert stands");
    assert_eq!(r2.caused_by, vec![DeviceId("r1".into())]);

    // A device last seen up whose rounds stop is passed through: what is
    // down behind it is a root cause.
    let mut e = evaluator(UNREACHABLE);
    let mut s = live();
    everyone_up(&mut s, UnixMillis(0));
    assert!(step(&mut e, &s, UnixMillis(0)).is_empty());
    // r1's last round (up) was at 0: stale from 6 s on.
    round(&mut s, "r2", true, UnixMillis(10_000), 2);
    round(&mut s, "r3", false, UnixMillis(10_000), 2);
    let obs = Observations::from_live(&s.view(), UnixMillis(10_000), &|_, _| Vec::new());
    assert_eq!(
        obs.devices[&DeviceId("r1".into())].reachability,
        Reachability::Unknown
    );
    let got = step(&mut e, &s, UnixMillis(10_000));
    assert_eq!(
        got,
        vec![
            ("unreachable/r3".into(), AlertEventKind::Fired),
            ("lossy/r3".into(), AlertEventKind::Fired)
        ]
    );
}

/// A central's site device (`from_site`) is its site's to alert on: down,
/// lossy, slow and with a hot interface in the central's live state, it
/// fires none of the central's rules, while the central's own device, slow
/// and hot, fires those (so the site's notification is the only one).
#[test]
fn a_site_device_fires_no_rule_at_the_central() {
    use crate::counters::{GapReason, InterfaceRates, Metric, Rate};
    use crate::live::InterfaceHealth;
    let rules = format!(
        "{UNREACHABLE}
[[alert]]
name = \"slow\"
kind = \"rtt\"
threshold = 100.0
for_s = 0
[[alert]]
name = \"hot\"
kind = \"utilization\"
threshold = 80.0
for_s = 0
"
    );
    let mut e = evaluator(&rules);
    let mut s = live();
    // r3, at the chain's end, is a site's device at this central.
    let r3 = s
        .topology
        .devices
        .iter_mut()
        .find(|d| d.id.0 == "r3")
        .unwrap();
    r3.from_site = Some("b1".into());
    let now = UnixMillis(10_000);
    for d in ["r2", "r3"] {
        round(&mut s, d, d == "r2", now, 2);
        s.devices.get_mut(&DeviceId(d.into())).unwrap().rtt_avg_ms = Some(500.0);
        let mut rates = InterfaceRates::all_gap(GapReason::Missing);
        rates.set(Metric::InUtilisationPct, Rate::Value(95.0));
        s.interfaces.insert(
            (DeviceId(d.into()), "eth0".into()),
            InterfaceHealth {
                rates: Some(rates),
                updated_ms: Some(now),
                ..Default::default()
            },
        );
    }
    let got = step(&mut e, &s, now);
    let on = |dev: &str| {
        got.iter()
            .filter(|(k, _)| k.split('/').nth(1) == Some(dev))
            .map(|(k, _)| k.split('/').next().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(on("r3").is_empty(), "the site device alerted: {got:?}");
    assert_eq!(
        on("r2").into_iter().collect::<Vec<_>>(),
        ["hot", "slow"],
        "{got:?}"
    );
    let obs = Observations::from_live(&s.view(), now, &|_, _| Vec::new());
    assert!(!obs.devices.contains_key(&DeviceId("r3".into())));
    assert!(obs.interfaces.iter().all(|i| i.device.0 != "r3"));
}
