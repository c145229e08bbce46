//! Tests of alert delivery: backoff, answers, payloads, the outbox loop.
use super::*;
use crate::store::StoreConfig;
use crate::types::UnixMillis;
use std::collections::VecDeque;

#[test]
fn backoff_doubles_to_a_cap() {
    let s: Vec<u64> = (1..=9).map(|f| backoff(f).as_secs()).collect();
    assert_eq!(s, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(backoff(0).as_secs(), 1);
    assert_eq!(backoff(u32::MAX).as_secs(), 60);
}

#[test]
fn statuses() {
    assert_eq!(classify(200), Answer::Accepted);
    assert_eq!(classify(204), Answer::Accepted);
    assert!(matches!(classify(503), Answer::Retry(_)));
    assert!(matches!(classify(429), Answer::Retry(_)));
    assert_eq!(classify(400), Answer::Rejected(400));
    assert_eq!(classify(301), Answer::Rejected(301));
}

/// Answers from a script, recording the ids it was sent.
struct Fake {
    script: Mutex<VecDeque<Answer>>,
    seen: Arc<Mutex<Vec<i64>>>,
}

impl Notifier for Fake {
    fn send(&self, _body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send {
        self.seen.lock().unwrap().push(id);
        let a = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Answer::Accepted);
        async move { a }
    }
}

/// The deliverer of receiver "hook" running on `fake`, and its stop.
fn spawn_hook(
    fake: Fake,
    store: &Arc<Mutex<Store>>,
    clock: Arc<dyn crate::util::clock::Clock>,
) -> (tokio::task::JoinHandle<Stats>, watch::Sender<bool>) {
    spawn_hook_with(fake, store, clock, crate::alert::duty::Duty::Always)
}

fn spawn_hook_with(
    fake: Fake,
    store: &Arc<Mutex<Store>>,
    clock: Arc<dyn crate::util::clock::Clock>,
    duty: crate::alert::duty::Duty,
) -> (tokio::task::JoinHandle<Stats>, watch::Sender<bool>) {
    let (stop_tx, stop) = watch::channel(false);
    let task = tokio::spawn(run(
        Target {
            name: "hook".into(),
            format: ReceiverFormat::Generic,
            api: None,
            origin: None,
            duty,
        },
        fake,
        store.clone(),
        Arc::new(Notify::new()),
        clock,
        stop,
    ));
    (task, stop_tx)
}

fn event(key: &str) -> AlertEvent {
    AlertEvent {
        rule: "r".into(),
        kind: crate::types::RuleKind::Loss,
        severity: crate::types::Severity::Info,
        device: "d".into(),
        device_name: "d".into(),
        interface: None,
        threshold: None,
        summary: String::new(),
        ..AlertEvent::fired_for_test(key, UnixMillis(1))
    }
}

/// A standby central of a pair sends nothing: a notification older than
/// the takeover window is marked told by the active one, the newer ones
/// wait; once it is active they go, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_central_holds_then_sends_what_the_takeover_window_covers() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
    let now = UnixMillis::now().0;
    let at = |ago: i64, key: &str| AlertEvent {
        at_ms: UnixMillis(now - ago),
        ..event(key)
    };
    let events: Vec<(AlertEvent, Vec<String>)> = [at(60_000, "old"), at(500, "k1"), at(400, "k2")]
        .into_iter()
        .map(|e| (e, vec!["hook".to_string()]))
        .collect();
    let ids = store.record_alerts(&events, None, UnixMillis(now)).unwrap();
    let store = Arc::new(Mutex::new(store));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        script: Mutex::new(VecDeque::new()),
        seen: seen.clone(),
    };
    let (active_tx, active) = watch::channel(false);
    let duty = crate::alert::duty::Duty::Pair {
        active,
        hold_ms: 30_000,
    };
    let clock = Arc::new(crate::util::clock::SystemClock::new());
    let (task, stop_tx) = spawn_hook_with(fake, &store, clock, duty);
    let pending = |s: &Arc<Mutex<Store>>| s.lock().unwrap().next_outbox("hook").unwrap();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if pending(&store).is_some_and(|i| i.event.id == ids[1]) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(seen.lock().unwrap().is_empty(), "a standby sends nothing");
    assert_eq!(pending(&store).map(|i| i.event.id), Some(ids[1]), "held");
    active_tx.send(true).unwrap();
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if pending(&store).is_none() {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![ids[1], ids[2]]);
    let outcome: String = rusqlite::Connection::open(dir.path().join("d.db"))
        .unwrap()
        .query_row(
            "SELECT o.outcome FROM alert_outbox o WHERE o.history_id = ?1",
            [ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outcome, "standby");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_order_with_retries_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
    let events: Vec<(AlertEvent, Vec<String>)> = (0..4)
        .map(|i| (event(&format!("k{i}")), vec!["hook".to_string()]))
        .collect();
    let ids = store.record_alerts(&events, None, UnixMillis(0)).unwrap();
    let store = Arc::new(Mutex::new(store));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        script: Mutex::new(VecDeque::from([
            Answer::Retry("down".into()),
            Answer::Retry("down".into()),
            Answer::Accepted,
            Answer::Rejected(400),
            Answer::Accepted,
        ])),
        seen: seen.clone(),
    };
    let (task, stop_tx) = spawn_hook(
        fake,
        &store,
        Arc::new(crate::util::clock::SystemClock::new()),
    );
    // Two retries: 1 s + 2 s of real backoff.
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if store.lock().unwrap().next_outbox("hook").unwrap().is_none() {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]
    );
    assert_eq!(
        stats,
        Stats {
            delivered: 3,
            rejected: 1,
            failed_attempts: 2
        }
    );
}

/// The backoff waits on the clock handle: however far tokio's paused
/// time runs, the retry comes only once the handle's clock has moved.
#[tokio::test(start_paused = true)]
async fn the_backoff_waits_on_the_clock_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
    let ids = store
        .record_alerts(
            &[(event("k"), vec!["hook".to_string()])],
            None,
            UnixMillis(0),
        )
        .unwrap();
    let store = Arc::new(Mutex::new(store));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        script: Mutex::new(VecDeque::from([Answer::Retry("down".into())])),
        seen: seen.clone(),
    };
    let clock = Arc::new(crate::util::clock::ManualClock::new(UnixMillis(
        1_800_000_000_000,
    )));
    let (task, stop_tx) = spawn_hook(fake, &store, clock.clone());
    let attempts = || seen.lock().unwrap().len();
    // Tokio's time runs a minute ahead; the handle's clock stands still.
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attempts(), 1, "retried without the clock moving");
    clock.advance(Duration::from_millis(999));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(attempts(), 1, "retried before the 1 s backoff");
    clock.advance(Duration::from_millis(1));
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if attempts() == 2 {
            break;
        }
    }
    assert_eq!(*seen.lock().unwrap(), vec![ids[0], ids[0]]);
    stop_tx.send(true).unwrap();
    let stats = task.await.unwrap();
    assert_eq!((stats.delivered, stats.failed_attempts), (1, 1));
}

/// Records every body it is sent (id 0: a resend).
struct Bodies(Arc<Mutex<Vec<(i64, serde_json::Value)>>>);

impl Notifier for Bodies {
    fn send(&self, body: Vec<u8>, id: i64) -> impl Future<Output = Answer> + Send {
        let v = serde_json::from_slice(&body).unwrap();
        self.0.lock().unwrap().push((id, v));
        async { Answer::Accepted }
    }
}

/// An Alertmanager API receiver gets the fired alert, then the same
/// alert again every resend interval with its validity moved on, then
/// the resolve, and no resend after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_api_receivers_get_firing_alerts_again_until_resolved() {
    use crate::store::ActiveAlertRow;
    use crate::types::{AlertEventKind, AlertState, AlertStatus};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("d.db"), StoreConfig::default()).unwrap();
    let saved = ActiveAlertRow {
        key: "k".into(),
        rule: "r".into(),
        severity: crate::types::Severity::Info,
        device: "d".into(),
        device_name: "d".into(),
        interface: None,
        status: AlertStatus::Firing,
        since_ms: UnixMillis(1),
        value: None,
        caused_by: vec![],
        maintenance: None,
        flapping: false,
        notified: true,
        flap_told: false,
    };
    let fired = store
        .record_alerts(
            &[(event("k"), vec!["am".to_string()])],
            Some(&[saved]),
            UnixMillis(1),
        )
        .unwrap()[0];
    let store = Arc::new(Mutex::new(store));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (stop_tx, stop) = watch::channel(false);
    let api = AlertmanagerApi {
        resend: Duration::from_millis(300),
        map_url: Some("http://127.0.0.1:8080/".into()),
        tags: Arc::new(|id: &str| vec![format!("tag-of-{id}")]),
        origin: None,
    };
    let task = tokio::spawn(run(
        Target {
            name: "am".into(),
            format: ReceiverFormat::AlertmanagerApi,
            api: Some(api),
            origin: None,
            duty: crate::alert::duty::Duty::Always,
        },
        Bodies(seen.clone()),
        store.clone(),
        Arc::new(Notify::new()),
        Arc::new(crate::util::clock::SystemClock::new()),
        stop,
    ));
    let count = |id: i64| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| *i == id)
            .count()
    };
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if count(0) >= 2 {
            break;
        }
    }
    assert_eq!(count(fired), 1);
    assert!(count(0) >= 2, "resends: {:?}", seen.lock().unwrap());
    {
        let seen = seen.lock().unwrap();
        let first = &seen[0].1[0];
        assert_eq!(first["labels"]["tags"], "tag-of-d");
        assert_eq!(first["annotations"]["map_url"], "http://127.0.0.1:8080/");
        let resend = &seen.iter().find(|(i, _)| *i == 0).unwrap().1;
        assert_eq!(resend.as_array().unwrap().len(), 1);
        assert_eq!(resend[0]["labels"], first["labels"]);
        assert!(resend[0]["endsAt"].as_str() > first["endsAt"].as_str());
    }
    let resolved = AlertEvent {
        event: AlertEventKind::Resolved,
        state: AlertState::Resolved,
        ..event("k")
    };
    let gone = store
        .lock()
        .unwrap()
        .record_alerts(
            &[(resolved, vec!["am".to_string()])],
            Some(&[]),
            UnixMillis(2),
        )
        .unwrap()[0];
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if count(gone) == 1 {
            break;
        }
    }
    let resends = count(0);
    tokio::time::sleep(Duration::from_millis(900)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(count(gone), 1);
    assert_eq!(count(0), resends, "resent after the resolve");
    let seen = seen.lock().unwrap();
    let last = &seen.iter().find(|(i, _)| *i == gone).unwrap().1[0];
    assert_eq!(last["endsAt"], "1970-01-01T00:00:00.001Z");
}

#[test]
fn bodies_name_the_receiver() {
    let mut e = event("k");
    e.id = 42;
    let v: serde_json::Value =
        serde_json::from_slice(&render(ReceiverFormat::Alertmanager, &e, "ops", None)).unwrap();
    assert_eq!(v["receiver"], "ops");
    assert_eq!(v["alerts"][0]["annotations"]["notification_id"], "42");
}
