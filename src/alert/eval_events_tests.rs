//! Event rules through the evaluator: a trap fires an alert on its
//! interface at once, repeats are counted without a new notification, the
//! quiet period resolves it, a resolving trap resolves only its own
//! interface, scope and maintenance apply, and a firing event alert
//! restored after a restart gets a fresh quiet period.
use crate::alert::eval::Evaluator;
use crate::alert::maintenance::Window;
use crate::alert::observe::{DeviceObs, Observations};
use crate::alert::rule::Rule;
use crate::config::Config;
use crate::config::event_rules::RuleMibs;
use crate::store::{EventRow, EventVarbind, SyslogFields};
use crate::topology::{Device, DeviceId, Interface, Topology};
use crate::types::syslog::{Facility, SyslogSeverity};
use crate::types::{AlertEventKind, IfIndex, UnixMillis};

const RULES: &str = r#"
[[alert]]
name = "link-down"
kind = "trap"
trap_oid = "linkDown"
resolve_trap_oid = "linkUp"
clear_after_s = 60
devices = ["r1"]
[[alert]]
name = "errors"
kind = "syslog"
min_severity = "err"
pattern = "LINEPROTO"
clear_after_s = 30
[[maintenance]]
name = "r2-work"
start = "1970-01-01T00:00:00Z"
end = "1970-01-02T00:00:00Z"
devices = ["r2"]
"#;

/// An evaluator with the rules and maintenance windows of `toml`.
fn evaluator_of(toml: &str) -> Evaluator {
    let c = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e:?}"));
    let mut mibs = RuleMibs::new(&c);
    let rules = c
        .alerts
        .iter()
        .map(|r| Rule::compile(r, &mut mibs).unwrap())
        .collect();
    Evaluator::new(
        rules,
        c.maintenance.iter().map(Window::from_config).collect(),
    )
}

fn evaluator() -> Evaluator {
    evaluator_of(RULES)
}

fn obs() -> Observations {
    let mut r1 = Device::for_test("r1", false);
    r1.interfaces = vec![Interface {
        if_index: IfIndex(3),
        name: "eth1".into(),
        descr: None,
        alias: None,
        speed_bps: None,
        mac: None,
        oper_status: None,
        admin_status: None,
        if_type: None,
    }];
    let topology = Topology {
        devices: vec![r1, Device::for_test("r2", false)],
        links: vec![],
    };
    let devices = ["r1", "r2"]
        .iter()
        .map(|n| {
            let id = DeviceId(n.to_string());
            (id.clone(), DeviceObs::unmeasured(id, n.to_string(), None))
        })
        .collect();
    Observations {
        devices,
        topology,
        ..Default::default()
    }
}

fn trap(device: &str, oid: &str, if_index: u32, at: i64) -> EventRow {
    EventRow {
        id: 0,
        at: UnixMillis(at),
        device: Some(device.into()),
        matched_by: Some("source".into()),
        source: "127.0.0.1".into(),
        kind: "trap".into(),
        version: "2c".into(),
        name: if oid.ends_with(".3") {
            "linkDown"
        } else {
            "linkUp"
        }
        .into(),
        trap_oid: oid.into(),
        if_index: Some(if_index),
        varbinds: vec![EventVarbind {
            oid: format!("1.3.6.1.2.1.2.2.1.1.{if_index}"),
            name: format!("IF-MIB::ifIndex.{if_index}"),
            value: format!("INTEGER: {if_index}"),
        }],
        syslog: None,
    }
}

fn syslog(device: &str, severity: SyslogSeverity, msg: &str, at: i64) -> EventRow {
    EventRow {
        kind: "syslog".into(),
        trap_oid: String::new(),
        if_index: None,
        varbinds: vec![],
        syslog: Some(SyslogFields {
            severity,
            facility: Facility::new(23).unwrap(),
            host: None,
            app: Some("ifmgr".into()),
            procid: None,
            msgid: None,
            sent_at: None,
            message: msg.into(),
        }),
        ..trap(device, "", 0, at)
    }
}

const DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
const UP: &str = "1.3.6.1.6.3.1.1.5.4";

/// (event, notify, key, detail) of a step's transitions.
fn step(
    e: &mut Evaluator,
    o: &Observations,
    events: &[EventRow],
    now: i64,
) -> Vec<(AlertEventKind, bool, String, String)> {
    e.take_events(events, o);
    e.step(o, UnixMillis(now))
        .into_iter()
        .map(|t| (t.event, t.notify, t.key.0, t.detail.unwrap_or_default()))
        .collect()
}

#[test]
fn a_trap_fires_on_its_interface_counts_repeats_and_resolves_when_quiet() {
    let (mut e, o) = (evaluator(), obs());
    assert!(step(&mut e, &o, &[], 1_000).is_empty());
    let t = step(&mut e, &o, &[trap("r1", DOWN, 3, 1_500)], 2_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].0, AlertEventKind::Fired);
    assert!(t[0].1, "notified");
    assert_eq!(t[0].2, "link-down/r1/eth1");
    assert!(
        t[0].3.starts_with("linkDown (IF-MIB::ifIndex.3"),
        "{}",
        t[0].3
    );
    // Repeats: counted on the alert, no new notification.
    let more = [trap("r1", DOWN, 3, 2_500), trap("r1", DOWN, 3, 2_600)];
    assert!(step(&mut e, &o, &more, 3_000).is_empty());
    let active = e.active();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].value, Some(3.0));
    assert_eq!(active[0].interface.as_deref(), Some("eth1"));
    // Quiet for 60 s after the last match (2.6 s): resolved at 62.6 s.
    assert!(step(&mut e, &o, &[], 62_000).is_empty());
    let t = step(&mut e, &o, &[], 62_600);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!((t[0].0, t[0].1), (AlertEventKind::Resolved, true));
    assert!(e.active().is_empty());
    // A new match fires again, its count starting over.
    let t = step(&mut e, &o, &[trap("r1", DOWN, 3, 70_000)], 70_000);
    assert_eq!(t[0].0, AlertEventKind::Fired);
    assert_eq!(e.active()[0].value, Some(1.0));
}

#[test]
fn link_up_resolves_its_own_interface_only_and_scope_holds() {
    let (mut e, o) = (evaluator(), obs());
    let downs = [
        trap("r1", DOWN, 3, 1_000),
        trap("r1", DOWN, 4, 1_000),
        // r2 is out of the rule's scope.
        trap("r2", DOWN, 3, 1_000),
    ];
    let t = step(&mut e, &o, &downs, 1_000);
    let keys: Vec<&str> = t.iter().map(|t| t.2.as_str()).collect();
    assert_eq!(keys, ["link-down/r1/eth1", "link-down/r1/ifIndex 4"]);
    let t = step(&mut e, &o, &[trap("r1", UP, 4, 5_000)], 5_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(
        (t[0].0, t[0].2.as_str()),
        (AlertEventKind::Resolved, "link-down/r1/ifIndex 4")
    );
    let active: Vec<String> = e.active().into_iter().map(|a| a.key.0).collect();
    assert_eq!(active, ["link-down/r1/eth1"]);
    // A linkUp before a linkDown (out of order) resolves nothing.
    let stale_up = trap("r1", UP, 3, 500);
    assert!(step(&mut e, &o, &[stale_up], 6_000).is_empty());
}

#[test]
fn syslog_rules_take_severity_and_pattern_and_maintenance_holds_notifications() {
    let (mut e, o) = (evaluator(), obs());
    let quiet = [
        syslog("r1", SyslogSeverity::Warning, "LINEPROTO down", 1_000),
        syslog("r1", SyslogSeverity::Error, "fan ok", 1_000),
        // No device: matches nothing.
        EventRow {
            device: None,
            ..syslog("r1", SyslogSeverity::Error, "LINEPROTO down", 1_000)
        },
    ];
    assert!(step(&mut e, &o, &quiet, 1_000).is_empty());
    let t = step(
        &mut e,
        &o,
        &[syslog("r1", SyslogSeverity::Error, "LINEPROTO down", 2_000)],
        2_000,
    );
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].0, t[0].1), (AlertEventKind::Fired, true));
    assert_eq!(t[0].2, "errors/r1");
    assert_eq!(t[0].3, "err ifmgr: LINEPROTO down");
    // r2 is in a maintenance window: recorded, not notified.
    let t = step(
        &mut e,
        &o,
        &[syslog("r2", SyslogSeverity::Critical, "LINEPROTO x", 3_000)],
        3_000,
    );
    assert_eq!((t[0].0, t[0].1), (AlertEventKind::Fired, false));
    let t = step(&mut e, &o, &[], 32_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!((t[0].2.as_str(), t[0].1), ("errors/r1", true));
}

#[test]
fn a_restored_firing_event_alert_gets_a_fresh_quiet_period() {
    let (mut e, o) = (evaluator(), obs());
    step(&mut e, &o, &[trap("r1", DOWN, 3, 1_000)], 1_000);
    let saved = e.active();
    let mut again = evaluator();
    let restored = saved
        .iter()
        .map(|a| crate::alert::Restored {
            rule: a.rule.clone(),
            device: a.device.clone(),
            device_name: a.device_name.clone(),
            interface: a.interface.clone(),
            since_ms: a.since_ms,
            firing: a.firing,
            value: a.value,
            notified: a.notified,
            flapping: a.flapping,
            flap_told: a.flap_told,
        })
        .collect();
    assert!(again.restore(restored).is_empty());
    again.restore_event_hits(UnixMillis(500_000));
    assert!(step(&mut again, &o, &[], 500_000).is_empty());
    assert_eq!(again.active().len(), 1);
    let t = step(&mut again, &o, &[], 560_000);
    assert_eq!(t[0].0, AlertEventKind::Resolved);
    assert!(t[0].1);
}

#[test]
fn a_rule_counting_matches_in_a_window_fires_at_the_nth_and_holds_until_quiet() {
    let (mut e, o) = (
        evaluator_of(
            r#"
[[alert]]
name = "auth-burst"
kind = "syslog"
pattern = "authentication failure"
min_matches = 3
within_s = 60
clear_after_s = 120
"#,
        ),
        obs(),
    );
    let fail = |at: i64| syslog("r1", SyslogSeverity::Notice, "authentication failure", at);
    // Two within the minute, then a third 70 s after the first: never 3
    // in 60 s, so nothing fires.
    assert!(step(&mut e, &o, &[fail(0), fail(30_000)], 30_000).is_empty());
    assert!(step(&mut e, &o, &[fail(70_000)], 70_000).is_empty());
    // A fourth at 80 s: 30, 70 and 80 s lie within 60 s: fires.
    let t = step(&mut e, &o, &[fail(80_000)], 80_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!((t[0].0, t[0].1), (AlertEventKind::Fired, true));
    assert_eq!(e.active()[0].value, Some(3.0), "matches in the window");
    // The window empties at 140 s, but the alert holds until 120 s quiet
    // after the last match (200 s), then resolves.
    assert!(step(&mut e, &o, &[], 150_000).is_empty());
    assert_eq!(e.active().len(), 1);
    let t = step(&mut e, &o, &[], 200_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].0, AlertEventKind::Resolved);
}

#[test]
fn a_trap_rule_with_interface_globs_takes_only_traps_on_those_interfaces() {
    let (mut e, o) = (
        evaluator_of(
            r#"
[[alert]]
name = "uplink-down"
kind = "trap"
trap_oid = "linkDown"
interfaces = ["eth1"]
"#,
        ),
        obs(),
    );
    // ifIndex 4 has no name (not eth1); a trap naming no interface is not
    // about eth1 either.
    let mut no_if = trap("r1", DOWN, 3, 1_000);
    no_if.if_index = None;
    assert!(step(&mut e, &o, &[trap("r1", DOWN, 4, 1_000), no_if], 1_000).is_empty());
    // ifIndex 3 is r1's eth1.
    let t = step(&mut e, &o, &[trap("r1", DOWN, 3, 2_000)], 2_000);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].2, "uplink-down/r1/eth1");
}
