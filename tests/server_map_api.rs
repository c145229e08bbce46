//! The routes behind the map page against a real server on 127.0.0.1:0 and
//! a real SQLite file: `/api/whoami`, the `/api/events` stream (snapshot,
//! deltas of what changed, end on shutdown), saved positions (admin only,
//! kept in the store) and a device's probe series.
mod support;

use nocmap::live::Reachability;
use nocmap::server::feed::Feed;
use nocmap::server::{AppState, AuthConfig};
use nocmap::store::{Batch, Sample, SeriesKey, Store, StoreConfig};
use nocmap::topology::DeviceId;
use nocmap::types::Secret;
use nocmap::types::UnixMillis;
use std::net::SocketAddr;
use std::time::Duration;
use support::server::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn state(db: std::path::PathBuf, auth: bool) -> AppState {
    AppState {
        live: hostile_live(),
        db_path: Some(db),
        auth: auth.then(|| AuthConfig {
            admin_token: Secret::new(ADMIN),
            read_only_token: Some(Secret::new(VIEWER)),
        }),
        reports: None,
        allowed_hosts: Vec::new(),
        conn_limits: Default::default(),
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        feed: Some(Feed::new()),
        limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
            Default::default(),
        )),
    }
}

/// A server-sent event stream read off a raw connection (chunked body).
struct EventStream {
    sock: tokio::net::TcpStream,
    raw: Vec<u8>,
    body: Vec<u8>,
}

impl EventStream {
    async fn open(addr: SocketAddr, token: &str) -> (u16, String, EventStream) {
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut s = EventStream {
            sock,
            raw: Vec::new(),
            body: Vec::new(),
        };
        while !s.raw.windows(4).any(|w| w == b"\r\n\r\n") {
            s.fill().await;
        }
        let end = s.raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(s.raw[..end].to_vec()).unwrap();
        s.raw.drain(..end + 4);
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head, s)
    }

    async fn fill(&mut self) {
        let mut buf = [0u8; 65536];
        let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut buf))
            .await
            .expect("no data on the event stream within 10 s")
            .unwrap();
        assert!(n > 0, "event stream closed");
        self.raw.extend_from_slice(&buf[..n]);
    }

    /// Moves complete chunks from `raw` to `body`; false at the last chunk.
    fn dechunk(&mut self) -> bool {
        loop {
            let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return true;
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&self.raw[..eol]).unwrap(), 16).unwrap();
            if size == 0 {
                return false;
            }
            if self.raw.len() < eol + 2 + size + 2 {
                return true;
            }
            self.body
                .extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 2 + size + 2);
        }
    }

    /// The next event (name, data), skipping keep-alive comments; `None`
    /// when the server ended the stream.
    async fn next(&mut self) -> Option<(String, serde_json::Value)> {
        loop {
            let open = self.dechunk();
            if let Some(end) = self.body.windows(2).position(|w| w == b"\n\n") {
                let block = String::from_utf8(self.body[..end].to_vec()).unwrap();
                self.body.drain(..end + 2);
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if name.is_empty() {
                    continue;
                }
                return Some((name, serde_json::from_str(&data).unwrap()));
            }
            if !open {
                return None;
            }
            self.fill().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_tells_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(state(dir.path().join("s.db"), true));
    let r = get(srv.addr, "/api/whoami", Some(ADMIN)).await;
    assert_eq!(
        r.json(),
        serde_json::json!({"role": "admin", "auth_required": true})
    );
    let r = get(srv.addr, "/api/whoami", Some(VIEWER)).await;
    assert_eq!(r.json()["role"], "read_only");
    assert_eq!(get(srv.addr, "/api/whoami", None).await.status, 401);
    srv.stop().await;
    let srv = start(state(dir.path().join("s.db"), false));
    let r = get(srv.addr, "/api/whoami", None).await;
    assert_eq!(
        r.json(),
        serde_json::json!({"role": "admin", "auth_required": false})
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_start_with_a_snapshot_then_carry_what_changed_and_end_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path().join("s.db"), true);
    let live = st.live.clone();
    let srv = start(st);
    let (status, _, _) = EventStream::open(srv.addr, "wrong").await;
    assert_eq!(status, 401);
    let (status, head, mut ev) = EventStream::open(srv.addr, VIEWER).await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    assert!(head.contains("default-src 'self'"), "CSP missing: {head}");

    let (name, snap) = ev.next().await.unwrap();
    assert_eq!(name, "snapshot");
    let ids: Vec<&str> = snap["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["dev-a", "dev-b"]);
    assert_eq!(snap["devices"][1]["sys_name"], SCRIPT_SYS_NAME);
    assert_eq!(snap["links"].as_array().unwrap().len(), 1);
    let mut seq = snap["seq"].as_u64().unwrap();

    // dev-b comes up: the next deltas name dev-b and not dev-a.
    live.update_devices(|devices| {
        let h = devices.entry(DeviceId("dev-b".into())).or_default();
        h.reachability = Reachability::Up;
        h.last_icmp_ms = Some(nocmap::types::UnixMillis::now());
        h.icmp_stale_after_ms = Some(30_000);
        h.rtt_avg_ms = Some(7.5);
    });
    let mut seen_b = false;
    for _ in 0..5 {
        let (name, d) = ev.next().await.unwrap();
        assert_eq!(name, "delta");
        let s = d["seq"].as_u64().unwrap();
        assert_eq!(s, seq + 1, "deltas are numbered one by one");
        seq = s;
        for dev in d["devices"].as_array().unwrap() {
            assert_ne!(dev["id"], "dev-a", "an unchanged device was sent: {d}");
            if dev["id"] == "dev-b" && dev["health"]["rtt_avg_ms"] == 7.5 {
                seen_b = true;
            }
        }
        if seen_b {
            break;
        }
    }
    assert!(seen_b, "dev-b's change never arrived");

    // A removed link is announced.
    live.update_topology(|t| t.links.clear());
    let mut removed = false;
    for _ in 0..5 {
        let (_, d) = ev.next().await.unwrap();
        if d["removed_links"].as_array().unwrap().len() == 1 {
            removed = true;
            break;
        }
    }
    assert!(removed);

    // Shutdown ends the stream instead of waiting for it.
    tokio::time::timeout(Duration::from_secs(10), srv.stop())
        .await
        .expect("shutdown waited for the open event stream");
    let mut ended = false;
    for _ in 0..10 {
        if ev.next().await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_need_the_admin_token_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    drop(Store::open(&db, StoreConfig::default()).unwrap());
    let srv = start(state(db.clone(), true));
    let put = |token: &'static str, body: &'static str| {
        let addr = srv.addr;
        async move {
            let auth = format!("Authorization: Bearer {token}");
            let len = format!("Content-Length: {}", body.len());
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let req = format!(
                "PUT /api/map/positions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n{len}\r\nContent-Type: application/json\r\n\r\n{body}"
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let body = r#"{"positions":{"dev-a":{"x":12.5,"y":-40},"<b>x</b>":{"x":1,"y":2}}}"#;
    let r = put(VIEWER, body).await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    let r = put(ADMIN, r#"{"positions":{"dev-a":{"x":1e99,"y":0}}}"#).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = put(ADMIN, r#"{"positions":{"dev-a":{"x":1,"y":0}},"z":1}"#).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = put(ADMIN, body).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains(r#"{"saved":2}"#), "{r}");
    srv.stop().await;

    let srv = start(state(db.clone(), true));
    let r = get(srv.addr, "/api/map/positions", Some(VIEWER)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["positions"]["dev-a"],
        serde_json::json!({"x": 12.5, "y": -40.0})
    );
    assert_eq!(v["positions"]["<b>x</b>"]["y"], 2.0);
    let del = request(
        srv.addr,
        "DELETE",
        "/api/map/positions",
        &[&format!("Authorization: Bearer {VIEWER}")],
    )
    .await;
    assert_eq!(del.status, 403);
    let del = request(
        srv.addr,
        "DELETE",
        "/api/map/positions",
        &[&format!("Authorization: Bearer {ADMIN}")],
    )
    .await;
    assert_eq!(del.json()["cleared"], 2);
    let v = get(srv.addr, "/api/map/positions", Some(VIEWER))
        .await
        .json();
    assert_eq!(v["positions"], serde_json::json!({}));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_probe_series_is_read_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let now = now_ms();
    let mut store = Store::open(&db, StoreConfig::default()).unwrap();
    let samples = (0..10)
        .map(|i| Sample {
            key: SeriesKey::probe("dev-a", "rtt_avg_ms"),
            at: UnixMillis(now - 600_000 + i * 60_000),
            value: 1.0 + i as f64,
        })
        .collect();
    store
        .write_batch(&Batch {
            samples,
            gaps: vec![],
        })
        .unwrap();
    drop(store);
    let srv = start(state(db, false));
    let r = get(
        srv.addr,
        "/api/devices/dev-a/series?metric=rtt_avg_ms&since=-1h&resolution=raw",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let pts = v["points"].as_array().unwrap();
    assert_eq!(pts.len(), 10);
    assert_eq!(pts[9]["avg"], 10.0);
    let r = get(srv.addr, "/api/devices/dev-a/series?metric=in_bps", None).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("loss_pct"), "{}", r.body);
    let r = get(srv.addr, "/api/devices/nope/series?metric=loss_pct", None).await;
    assert_eq!(r.status, 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_or_stream_limit_gets_429() {
    use nocmap::server::rate_limit::{Limits, RateLimiter};
    let dir = tempfile::tempdir().unwrap();
    let mut st = state(dir.path().join("s.db"), true);
    st.limiter = std::sync::Arc::new(RateLimiter::new(Limits {
        per_second: 0.5,
        burst: 5.0,
        streams_per_client: 1,
    }));
    let srv = start(st);
    // One stream is allowed and takes one request token.
    let (status, _, mut ev) = EventStream::open(srv.addr, VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(ev.next().await.unwrap().0, "snapshot");
    let (status, _, _) = EventStream::open(srv.addr, VIEWER).await;
    assert_eq!(status, 429, "a second stream from the same address");
    // Two of the five tokens are spent; three more requests pass, then 429.
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(get(srv.addr, "/api/topology", Some(VIEWER)).await.status);
    }
    assert_eq!(codes, [200, 200, 200, 429]);
    let r = get(srv.addr, "/healthz", None).await;
    assert_eq!(r.status, 429);
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().unwrap() >= 1)
    );
    assert!(r.body.contains("too many requests"), "{}", r.body);
    drop(ev);
    srv.stop().await;
}

/// `/api/topology` and `/api/devices` come from the feed's frame: with no
/// event stream open the feed stops ticking, and a request renders a fresh
/// frame when the one it holds is older than a tick; within a tick the same
/// frame (same `seq`) answers everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_map_answers_come_from_a_fresh_shared_frame() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path().join("m.db"), false);
    let live = st.live.clone();
    let srv = start(st);

    let first = get(srv.addr, "/api/topology", None).await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["devices"].as_array().unwrap().len(), 2);
    assert_eq!(first["links"].as_array().unwrap().len(), 1);
    let seq = first["seq"].as_u64().unwrap();
    let again = get(srv.addr, "/api/topology", None).await.json();
    // Within the tick the frame is shared (unless the tick ran out between
    // the two requests, in which case the next frame follows directly).
    assert!(again["seq"].as_u64().unwrap() <= seq + 1);

    let devices = get(srv.addr, "/api/devices", None).await;
    assert_eq!(devices.status, 200);
    let devices = devices.json();
    assert_eq!(devices.as_array().unwrap().len(), 2);
    assert_eq!(devices[1]["sys_name"], SCRIPT_SYS_NAME);

    // A change while nobody listens shows after at most a tick.
    live.update_devices(|devices| {
        let h = devices.entry(DeviceId("dev-a".into())).or_default();
        h.rtt_avg_ms = Some(42.25);
    });
    let t0 = std::time::Instant::now();
    let mut seen = None;
    while t0.elapsed() < Duration::from_secs(10) {
        let v = get(srv.addr, "/api/topology", None).await.json();
        if v["devices"][0]["health"]["rtt_avg_ms"] == 42.25 {
            seen = Some(v["seq"].as_u64().unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.expect("the change never reached /api/topology");
    assert!(seen > seq, "a new frame was rendered for it");
    let d = get(srv.addr, "/api/devices", None).await.json();
    assert_eq!(d[0]["health"]["rtt_avg_ms"], 42.25);
    srv.stop().await;
}

/// The web server runs on threads of its own at the configured niceness,
/// so API work cannot occupy the pollers' threads or outrun them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_isolated_server_runs_on_its_own_niced_threads() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = nocmap::server::serve_isolated(
        listener,
        None,
        state(dir.path().join("n.db"), false),
        async move {
            let _ = rx.await;
        },
        7,
    )
    .unwrap();
    let r = get(addr, "/api/topology", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["devices"].as_array().unwrap().len(), 2);
    // Every thread named nocmap-http: comm, and nice (field 19 of stat).
    let mut nices = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != "nocmap-http" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The fields after the parenthesised name, from field 3 on.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let nice: i32 = rest.split(' ').nth(19 - 3).unwrap().parse().unwrap();
        nices.push(nice);
    }
    assert!(nices.len() >= 2, "threads: {nices:?}");
    assert!(
        nices.iter().all(|&n| n == 7),
        "niceness per thread: {nices:?}"
    );
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .expect("the server did not stop")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baseline_needs_the_admin_token_and_changes_follow_the_live_topology() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    drop(Store::open(&db, StoreConfig::default()).unwrap());
    let st = state(db.clone(), true);
    let live = st.live.clone();
    let srv = start(st);
    let addr = srv.addr;
    let post = |token: &'static str| async move {
        let auth = format!("Authorization: Bearer {token}");
        request(addr, "POST", "/api/baseline", &[&auth, "Content-Length: 0"]).await
    };
    let r = get(srv.addr, "/api/changes", Some(VIEWER)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["baseline_ms"], serde_json::Value::Null);
    assert_eq!(post(VIEWER).await.status, 403);
    assert_eq!(
        request(srv.addr, "POST", "/api/baseline", &["Content-Length: 0"])
            .await
            .status,
        401
    );
    let r = post(ADMIN).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = get(srv.addr, "/api/changes", Some(VIEWER)).await.json();
    assert!(c["baseline_ms"].as_i64().unwrap() > 0, "{c}");
    for k in [
        "devices_added",
        "devices_removed",
        "links_added",
        "links_removed",
    ] {
        assert_eq!(c[k], serde_json::json!([]), "{k}: {c}");
    }
    // Re-discovery: a link gone, a device new.
    let gone = live.read_topology(|t| t.links[0].clone());
    live.update_topology(|t| {
        t.links.remove(0);
        t.devices.push(support::topology::device("new-dev"));
    });
    srv.stop().await;
    // The baseline is in the store: a restarted server still compares.
    let srv = start(AppState {
        live: live.clone(),
        ..state(db.clone(), true)
    });
    let c = get(srv.addr, "/api/changes", Some(VIEWER)).await.json();
    assert_eq!(c["devices_added"], serde_json::json!(["new-dev"]), "{c}");
    assert_eq!(c["links_removed"][0]["id"], gone.id, "{c}");
    assert_eq!(
        c["links_removed"][0]["text"],
        nocmap::topology::LinkKey::of(&gone).to_string()
    );
    assert_eq!(c["links_added"], serde_json::json!([]), "{c}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_carry_their_site() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path().join("none.db"), false);
    st.live.update_topology(|t| {
        t.devices[0].sys_location = Some("  Hall <b>A</b>\t".into());
        t.devices[1].sys_location = Some("   ".into());
    });
    let (first, second) = st
        .live
        .read_topology(|t| (t.devices[0].id.clone(), t.devices[1].id.clone()));
    let srv = start(st);
    let v = get(srv.addr, "/api/devices", None).await.json();
    let site = |id: &DeviceId| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.0.as_str())
            .unwrap()["site"]
            .clone()
    };
    assert_eq!(site(&first), "Hall <b>A</b>");
    assert_eq!(site(&second), serde_json::Value::Null);
    srv.stop().await;
}
