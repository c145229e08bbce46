//! Remote write against a receiver this test runs on 127.0.0.1: the body is
//! decoded (snappy block format, then protobuf with this file's own message
//! definitions from prometheus/prompb) and compared with `/metrics`; 5xx is
//! retried with the same push, 4xx dropped, a full queue drops the oldest.
mod support;

use bytes::Bytes;
use nocmap::server::remote_write::{self, RemoteAuth, Settings, Stats};
use nocmap::server::{exposition, metrics};
use nocmap::types::Secret;
use nocmap::util::http::Destination;
use prost::Message;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::server::*;
use tokio::sync::{mpsc, oneshot};
use warp::Filter;
use warp::http::{HeaderMap, StatusCode};

#[derive(Clone, PartialEq, prost::Message)]
struct PbWriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<PbTimeSeries>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct PbTimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<PbLabel>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<PbSample>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct PbLabel {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}
#[derive(Clone, PartialEq, prost::Message)]
struct PbSample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

type Received = (HeaderMap, Bytes);

/// A receiver answering each POST with the next scripted status (204 when
/// the script is used up).
fn receiver(
    script: Vec<u16>,
) -> (
    SocketAddr,
    mpsc::UnboundedReceiver<Received>,
    oneshot::Sender<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let route = warp::post()
        .and(warp::path!("api" / "v1" / "write"))
        .and(warp::header::headers_cloned())
        .and(warp::body::bytes())
        .map(move |h: HeaderMap, b: Bytes| {
            let _ = tx.send((h, b));
            let status = script.lock().unwrap().pop_front().unwrap_or(204);
            warp::reply::with_status("", StatusCode::from_u16(status).unwrap())
        });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(route)
            .incoming(tokio::net::TcpListener::from_std(listener).unwrap())
            .graceful(async move {
                let _ = stopped.await;
            })
            .run(),
    );
    (addr, rx, stop)
}

fn settings(addr: SocketAddr, interval_ms: u64, queue_len: usize) -> Settings {
    Settings {
        endpoint: Destination::new(&format!("http://{addr}/api/v1/write"), &Default::default())
            .unwrap(),
        interval: Duration::from_millis(interval_ms),
        timeout: Duration::from_secs(2),
        queue_len,
        auth: Some(RemoteAuth::Bearer(Secret::new("rw-secret-token"))),
        labels: vec![("site".into(), "lab".into())],
    }
}

fn decode(body: &[u8]) -> PbWriteRequest {
    let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
    PbWriteRequest::decode(raw.as_slice()).unwrap()
}

fn spawn_run(s: Settings) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Stats>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let live = hostile_live();
    let task = tokio::spawn(remote_write::run(s, live, async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a push within 10 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_decode_to_the_series_of_metrics() {
    let (addr, mut rx, stop_rx) = receiver(vec![]);
    let before = now_ms();
    let (stop, task) = spawn_run(settings(addr, 200, 8));
    let (headers, body) = next(&mut rx).await;
    let after = now_ms();
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    assert_eq!(h("content-encoding"), Some("snappy"));
    assert_eq!(h("content-type"), Some("application/x-protobuf"));
    assert_eq!(h("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert_eq!(h("authorization"), Some("Bearer rw-secret-token"));

    let req = decode(&body);
    let mut pushed = BTreeSet::new();
    for ts in &req.timeseries {
        let names: Vec<&str> = ts.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "labels sorted");
        assert_eq!(names[0], "__name__");
        assert_eq!(ts.samples.len(), 1);
        let s = &ts.samples[0];
        assert!(s.value.is_finite());
        assert!(
            (before..=after).contains(&s.timestamp),
            "timestamp {}",
            s.timestamp
        );
        let labels: BTreeMap<String, String> = ts
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        assert_eq!(labels["site"], "lab");
        let mut rest = labels.clone();
        let name = rest.remove("__name__").unwrap();
        rest.remove("site");
        pushed.insert((name, rest, s.value.to_bits()));
    }
    // The same series and values as /metrics renders from the same state.
    let text = hostile_live()
        .read(|s| exposition::encode_text(&metrics::collect(s, nocmap::types::UnixMillis::now())));
    let (samples, _) = parse_prometheus(&text).unwrap();
    let exposed: BTreeSet<_> = samples
        .into_iter()
        .map(|s| (s.name, s.labels, s.value.to_bits()))
        .collect();
    assert_eq!(pushed, exposed);
    let evil = pushed
        .iter()
        .find(|(n, l, _)| {
            n == "nocmap_interface_in_bytes_per_second"
                && l.get("if_name").map(String::as_str) == Some(EVIL_IF_NAME)
        })
        .expect("hostile ifName pushed verbatim");
    assert_eq!(evil.1["sys_name"], EVIL_SYS_NAME);
    assert_eq!(f64::from_bits(evil.2), 42.0 / 8.0);

    stop.send(()).unwrap();
    let stats = task.await.unwrap();
    assert!(
        stats.sent >= 1 && stats.retries == 0 && stats.rejected == 0,
        "{stats:?}"
    );
    let _ = stop_rx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_the_same_push_and_client_errors_dropped() {
    let (addr, mut rx, stop_rx) = receiver(vec![500, 503, 204]);
    // A long interval: every request seen here is the first push or a retry.
    let (stop, task) = spawn_run(settings(addr, 60_000, 8));
    let first = next(&mut rx).await.1;
    let second = next(&mut rx).await.1;
    let third = next(&mut rx).await.1;
    assert_eq!(first, second);
    assert_eq!(first, third);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.try_recv().is_err(),
        "nothing after the push was accepted"
    );
    stop.send(()).unwrap();
    assert_eq!(
        task.await.unwrap(),
        Stats {
            sent: 1,
            rejected: 0,
            retries: 2,
            dropped: 0
        }
    );
    let _ = stop_rx.send(());

    let (addr, mut rx, stop_rx) = receiver(vec![400; 4]);
    let (stop, task) = spawn_run(settings(addr, 100, 8));
    let bodies = [
        next(&mut rx).await.1,
        next(&mut rx).await.1,
        next(&mut rx).await.1,
    ];
    // A fourth request means the third answer was handled.
    next(&mut rx).await;
    stop.send(()).unwrap();
    let stats = task.await.unwrap();
    assert_eq!((stats.retries, stats.dropped), (0, 0), "{stats:?}");
    assert!(stats.rejected >= 3, "{stats:?}");
    // Each request is a new push (timestamps differ), never a retry.
    let ts = |b: &Bytes| decode(b).timeseries[0].samples[0].timestamp;
    assert!(ts(&bodies[0]) < ts(&bodies[1]) && ts(&bodies[1]) < ts(&bodies[2]));
    let _ = stop_rx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_receiver_fills_a_bounded_queue() {
    // A port nothing listens on (bound, then released).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (stop, task) = spawn_run(settings(addr, 50, 2));
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.send(()).unwrap();
    let stats = task.await.unwrap();
    assert_eq!(stats.sent, 0);
    assert!(stats.retries >= 2, "{stats:?}");
    assert!(stats.dropped >= 5, "{stats:?}");
}
