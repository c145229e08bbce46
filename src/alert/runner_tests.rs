//! Scenario test of the real alerting task (`runner::start`: evaluation
//! and delivery) with a scripted notifier, a store in a temporary
//! directory and tokio's paused clock: a device down past `for_s` fires
//! once, a receiver's failure is retried, and its recovery resolves.
use super::start;
use crate::alert::deliver::{Answer, Notifier, Target};
use crate::config::{Config, ReceiverFormat};
use crate::live::{Live, Reachability};
use crate::store::{Store, StoreConfig};
use crate::topology::{Device, DeviceId, Topology};
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

fn set_verdict(live: &Live, id: &DeviceId, r: Reachability, at: i64) {
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
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(1_800_000_000_000));
    set_verdict(&live, &id, Reachability::Down, clock.wall_ms());
    let notifier = ScriptedNotifier {
        answers: Arc::new(Mutex::new(VecDeque::from([Answer::Retry("503".into())]))),
        sent: Arc::new(Mutex::new(Vec::new())),
        clock: clock.clone(),
    };
    let target = Target {
        name: "hook".into(),
        format: ReceiverFormat::Generic,
    };
    let (stop_tx, stop) = watch::channel(false);
    let task = start(
        &config,
        live.clone(),
        store,
        vec![(target, notifier.clone())],
        clock.clone(),
        stop,
    )
    .expect("start");
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
