//! Scenario tests of the real alerting task (`runner::start`: evaluation
//! and delivery) with a scripted notifier, scripted host interfaces, a
//! store in a temporary directory and tokio's paused clock: a device down
//! past `for_s` fires once, a receiver's failure is retried, and its
//! recovery resolves; the poller's own link going down on the host fires
//! the isolation alert; events through the tap fire and resolve an event
//! rule, across a restart too.
use super::start;
use crate::alert::deliver::{Answer, Notifier, Target};
use crate::config::{Config, ReceiverFormat};
use crate::discovery::local::{HostInterfaces, LocalInterface};
use crate::io::Io;
use crate::live::{Live, Reachability};
use crate::store::{Store, StoreConfig};
use crate::topology::{Device, DeviceId, Endpoint, Evidence, Link, Topology};
use crate::types::UnixMillis;
use crate::util::clock::{Clock, TokioClock};
use std::collections::VecDeque;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const CONFIG: &str = r#"
[[receiver]]
name = "hook"
url = "http://127.0.0.1:9/hook"
format = "generic"

[[alert]]
name = "unreachable"
kind = "device_unreachable"
for_s = 3
severity = "critical"
"#;

/// Answers from a script (then accepts), keeping what it was sent and when.
#[derive(Clone)]
struct ScriptedNotifier {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    sent: Arc<Mutex<Vec<(u64, serde_json::Value)>>>,
    clock: Arc<dyn Clock>,
}

impl Notifier for ScriptedNotifier {
    fn send(&self, body: Vec<u8>, _id: i64) -> impl Future<Output = Answer> + Send {
        let v = serde_json::from_slice(&body).unwrap_or_default();
        self.sent.lock().unwrap().push((self.clock.mono_ms(), v));
        let a = self.answers.lock().unwrap().pop_front();
        async move { a.unwrap_or(Answer::Accepted) }
    }
}

/// The host's interfaces as the test sets them.
#[derive(Default)]
struct ScriptedHost(Mutex<Vec<LocalInterface>>);

impl ScriptedHost {
    fn set(&self, name: &str, up: bool) {
        *self.0.lock().unwrap() = vec![LocalInterface {
            name: name.into(),
            up,
            ..Default::default()
        }];
    }
}

impl HostInterfaces for ScriptedHost {
    fn interfaces(&self) -> Vec<LocalInterface> {
        self.0.lock().unwrap().clone()
    }
}

/// Handles on `clock` and `host`, with an SNMP transport nobody uses.
fn io(clock: Arc<dyn Clock>, host: Arc<dyn HostInterfaces>) -> Io {
    Io {
        snmp: crate::snmp::scripted::Scripted::new(),
        pinger: None,
        tracer: None,
        host,
        clock,
    }
}

fn notifier(clock: &Arc<dyn Clock>, answers: Vec<Answer>) -> (ScriptedNotifier, Target) {
    let n = ScriptedNotifier {
        answers: Arc::new(Mutex::new(VecDeque::from(answers))),
        sent: Arc::new(Mutex::new(Vec::new())),
        clock: clock.clone(),
    };
    let target = Target {
        name: "hook".into(),
        format: ReceiverFormat::Generic,
        api: None,
        origin: None,
        duty: crate::alert::duty::Duty::Always,
    };
    (n, target)
}

/// The runner started with one receiver.
fn start_one(
    config: &Config,
    live: &Arc<Live>,
    store: Store,
    receiver: (Target, ScriptedNotifier),
    io: &Io,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    start(
        config,
        live.clone(),
        store,
        vec![receiver],
        io,
        Default::default(),
        stop,
    )
    .expect("start")
}

fn set_verdict(live: &Live, id: &DeviceId, r: Reachability, at: UnixMillis) {
    live.update_devices(|devices| {
        let h = devices.entry(id.clone()).or_default();
        h.reachability = r;
        h.last_icmp_ms = Some(at);
        h.icmp_stale_after_ms = Some(3_600_000);
    });
}

#[tokio::test(start_paused = true)]
async fn a_device_down_fires_once_is_retried_and_resolves() {
    let config = Config::from_toml(CONFIG).expect("config");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("a.db"), StoreConfig::default()).unwrap();
    let mut d = Device::for_test("r1", false);
    d.mgmt_addr = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10)));
    let id = d.id.clone();
    let live = Arc::new(Live::new(
        Topology {
            devices: vec![d],
            links: vec![],
        },
        180_000,
    ));
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(UnixMillis(1_800_000_000_000)));
    set_verdict(&live, &id, Reachability::Down, clock.wall_ms());
    let (notifier, target) = notifier(&clock, vec![Answer::Retry("503".into())]);
    let (stop_tx, stop) = watch::channel(false);
    let io = io(clock.clone(), Arc::new(ScriptedHost::default()));
    let task = start_one(&config, &live, store, (target, notifier.clone()), &io, stop);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    set_verdict(&live, &id, Reachability::Up, clock.wall_ms());
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();

    let sent = notifier.sent.lock().unwrap().clone();
    let what: Vec<(&str, &str)> = sent
        .iter()
        .map(|(_, v)| {
            (
                v["event"].as_str().unwrap_or(""),
                v["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        what,
        vec![
            ("fired", "firing"),
            ("fired", "firing"),
            ("resolved", "resolved")
        ],
        "{sent:?}"
    );
    // Fired once down for 3 s; sent again after the 1 s backoff, same id.
    let (first, retry, resolved) = (sent[0].0, sent[1].0, sent[2].0);
    assert!((3_000..4_000).contains(&first), "{first}");
    assert!((1_000..1_100).contains(&(retry - first)), "{first} {retry}");
    assert_eq!(sent[0].1["notification_id"], sent[1].1["notification_id"]);
    assert!((10_500..12_000).contains(&resolved), "{resolved}");
    assert_eq!(sent[2].1["device"], "r1");
}

const CUT_OFF: &str = r#"
[[receiver]]
name = "hook"
url = "http://127.0.0.1:9/hook"
format = "generic"

[[alert]]
name = "cut-off"
kind = "poller_isolated"
for_s = 2
severity = "critical"
"#;

/// The poller's link to r1 leaves on a host interface whose name no real
/// host has, so only the scripted interfaces can say it is down.
const LINK: &str = "nocmap-test0";

#[tokio::test(start_paused = true)]
async fn the_pollers_own_link_down_on_the_host_fires_the_isolation_alert() {
    let config = Config::from_toml(CUT_OFF).expect("config");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("a.db"), StoreConfig::default()).unwrap();
    let noc = Device::for_test("noc", true);
    let mut r1 = Device::for_test("r1", false);
    r1.mgmt_addr = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10)));
    let end = |d: &Device, i: &str| Endpoint {
        device: d.id.clone(),
        if_name: Some(i.into()),
    };
    let link = Link {
        id: "l1".into(),
        a: end(&noc, LINK),
        b: end(&r1, "eth0"),
        evidence: vec![Evidence::Lldp],
        confidence: 1.0,
        lag: None,
    };
    let id = r1.id.clone();
    let live = Arc::new(Live::new(
        Topology {
            devices: vec![noc, r1],
            links: vec![link],
        },
        180_000,
    ));
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(UnixMillis(1_800_000_000_000)));
    set_verdict(&live, &id, Reachability::Up, clock.wall_ms());
    let host = Arc::new(ScriptedHost::default());
    host.set(LINK, true);
    let (notifier, target) = notifier(&clock, vec![]);
    let (stop_tx, stop) = watch::channel(false);
    let io = io(clock.clone(), host.clone());
    let task = start_one(&config, &live, store, (target, notifier.clone()), &io, stop);
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    assert!(notifier.sent.lock().unwrap().is_empty(), "the link is up");
    // The carrier goes; two seconds later (`for_s`) the poller is cut off.
    host.set(LINK, false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();

    let sent = notifier.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (at, v) = &sent[0];
    assert_eq!(
        (v["rule"].as_str(), v["event"].as_str()),
        (Some("cut-off"), Some("fired"))
    );
    assert!((7_500..9_000).contains(at), "{at}");
    let summary = v["summary"].as_str().unwrap_or("");
    assert!(summary.contains("its own links are down"), "{summary}");
}

const ON_EVENTS: &str = r#"
[[receiver]]
name = "hook"
url = "http://127.0.0.1:9/hook"
format = "generic"

[[alert]]
name = "errors"
kind = "syslog"
min_severity = "err"
pattern = "LINK-3"
clear_after_s = 20
"#;

/// A syslog message on `device` received at `at`.
fn message(device: &str, at: UnixMillis, severity: u8, text: &str) -> crate::store::EventRow {
    use crate::store::SyslogFields;
    use crate::types::syslog::{Facility, SyslogSeverity};
    crate::store::EventRow {
        id: 0,
        at,
        device: Some(device.into()),
        matched_by: Some("source".into()),
        source: "127.0.0.10".into(),
        kind: "syslog".into(),
        version: "rfc5424".into(),
        name: "ifmgr".into(),
        trap_oid: String::new(),
        if_index: None,
        varbinds: vec![],
        syslog: Some(SyslogFields {
            severity: SyslogSeverity::from_code(severity).unwrap(),
            facility: Facility::new(23).unwrap(),
            host: None,
            app: Some("ifmgr".into()),
            procid: None,
            msgid: None,
            sent_at: None,
            message: text.into(),
        }),
    }
}

/// Events through the tap reach the running evaluator: a matching error
/// fires once (repeats counted, not sent), quiet resolves it; a restart
/// while it fires neither fires it again nor leaves it firing for ever.
#[tokio::test(start_paused = true)]
async fn events_through_the_tap_fire_and_resolve_across_a_restart() {
    let config = Config::from_toml(ON_EVENTS).expect("config");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let r1 = Device::for_test("r1", false);
    let live = Arc::new(Live::new(
        Topology {
            devices: vec![r1],
            links: vec![],
        },
        180_000,
    ));
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(UnixMillis(1_800_000_000_000)));
    let (notifier, target) = notifier(&clock, vec![]);
    let io = io(clock.clone(), Arc::new(ScriptedHost::default()));
    let run = |tap_rx, stop| {
        let store = Store::open(&db, StoreConfig::default()).unwrap();
        let receiver = vec![(target.clone(), notifier.clone())];
        start(
            &config,
            live.clone(),
            store,
            receiver,
            &io,
            super::Inputs {
                events: Some(tap_rx),
                external: None,
            },
            stop,
        )
        .expect("start")
    };
    let (tap, rx) = crate::store::EventTap::channel(16);
    let (stop_tx, stop) = watch::channel(false);
    let task = run(rx, stop);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(tap.offer(&message("r1", clock.wall_ms(), 4, "LINK-3 warn only")));
    assert!(tap.offer(&message("r1", clock.wall_ms(), 3, "fan ok")));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(notifier.sent.lock().unwrap().is_empty());
    for _ in 0..3 {
        assert!(tap.offer(&message("r1", clock.wall_ms(), 3, "%LINK-3-UPDOWN: <x>")));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    let sent = notifier.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1["event"], "fired");
    assert_eq!(
        sent[0].1["summary"],
        "r1 syslog err ifmgr: %LINK-3-UPDOWN: <x>"
    );
    assert_eq!(sent[0].1["value"], 3.0);

    // Restarted while firing: no second firing; resolved after a fresh
    // quiet period of 20 s.
    let (_tap, rx) = crate::store::EventTap::channel(16);
    let (stop_tx, stop) = watch::channel(false);
    let restarted = clock.mono_ms();
    let task = run(rx, stop);
    tokio::time::sleep(Duration::from_secs(25)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    let sent = notifier.sent.lock().unwrap().clone();
    let events: Vec<&str> = sent
        .iter()
        .map(|(_, v)| v["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["fired", "resolved"], "{sent:?}");
    let quiet = sent[1].0 - restarted;
    assert!((20_000..22_000).contains(&quiet), "{quiet}");
}

/// A central's site alert with no `[[alert]]` rule: the runner records it
/// once (a second fired event for the same silence is dropped), tells the
/// receiver, lists it among the saved firing alerts (`/api/alerts`) while
/// it fires, keeps it there across a restart, and the resolve removes it.
#[tokio::test(start_paused = true)]
async fn an_external_alert_without_rules_is_told_listed_and_restored() {
    use crate::alert::external::SITE_POLLER_RULE;
    use crate::store::AlertEvent;
    use crate::types::{AlertEventKind, AlertState};
    let config = Config::from_toml(
        "[[receiver]]\nname = \"hook\"\nurl = \"http://127.0.0.1:9/hook\"\nformat = \"generic\"\n",
    )
    .expect("config");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let live = Arc::new(Live::default());
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(UnixMillis(1_800_000_000_000)));
    let (notifier, target) = notifier(&clock, vec![]);
    let io = io(clock.clone(), Arc::new(ScriptedHost::default()));
    let site = |firing: bool| AlertEvent {
        rule: SITE_POLLER_RULE.into(),
        event: if firing {
            AlertEventKind::Fired
        } else {
            AlertEventKind::Resolved
        },
        state: AlertState::from_firing(firing),
        device: "site:b1".into(),
        interface: None,
        ..AlertEvent::fired_for_test("site_poller_unreachable/site:b1", clock.wall_ms())
    };
    let run = |stop| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let inputs = super::Inputs {
            events: None,
            external: Some(rx),
        };
        let store = Store::open(&db, StoreConfig::default()).unwrap();
        let receivers = vec![(target.clone(), notifier.clone())];
        let task = start(&config, live.clone(), store, receivers, &io, inputs, stop);
        (tx, task.expect("start"))
    };
    let active = || {
        let s = Store::open(&db, StoreConfig::default()).unwrap();
        s.active_alerts()
            .unwrap()
            .into_iter()
            .map(|a| (a.key, a.status.is_firing()))
            .collect::<Vec<_>>()
    };
    let (stop_tx, stop) = watch::channel(false);
    let (tx, task) = run(stop);
    tx.send(site(true)).unwrap();
    tx.send(site(true)).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(active(), [("site_poller_unreachable/site:b1".into(), true)]);
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    // Restarted during the silence: still listed; the silence raised again
    // tells nobody; the resolve does, and the list empties.
    let (stop_tx, stop) = watch::channel(false);
    let (tx, task) = run(stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(active().len(), 1, "restored");
    tx.send(site(true)).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    tx.send(site(false)).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    assert!(active().is_empty(), "{:?}", active());
    let sent = notifier.sent.lock().unwrap().clone();
    let told: Vec<&str> = sent
        .iter()
        .map(|(_, v)| v["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(told, ["fired", "resolved"], "{sent:?}");
    let s = Store::open(&db, StoreConfig::default()).unwrap();
    let history = s.alert_history(UnixMillis::EPOCH, 100).unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
}
