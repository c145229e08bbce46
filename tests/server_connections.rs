//! The accept loop's connection caps against a real server on 127.0.0.1,
//! without root: clients bind distinct loopback source addresses
//! (127.0.0.2 is the flooding client, 127.0.0.3 another one), so the
//! per-client cap holds one of them while the other is served.
mod support;

use nocmap::server::AppState;
use nocmap::server::conn_limit::ConnLimits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::server::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const PER_CLIENT: usize = 16;

/// A connection from `source`; an error when the server reset it already.
async fn connect_from(source: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{source}:0").parse().unwrap()).unwrap();
    s.connect(to).await
}

/// `GET /healthz` from `source` on a fresh connection: the status code,
/// or None when the server closed the connection without an answer.
async fn healthz_from(source: &str, to: SocketAddr) -> Option<u16> {
    let Ok(mut s) = connect_from(source, to).await else {
        return None;
    };
    let req = format!("GET /healthz HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n\r\n");
    // A refused connection may be reset before or after the write.
    if s.write_all(req.as_bytes()).await.is_err() {
        return None;
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    text.split(' ').nth(1).and_then(|c| c.parse().ok())
}

fn metric(body: &str, line_start: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{line_start}` in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_connection_cap_is_refused_while_another_is_served() {
    let state = AppState {
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        conn_limits: ConnLimits {
            per_client: PER_CLIENT,
            total: 1024,
        },
        ..AppState::new(hostile_live())
    };
    let srv = start(state);
    let refused_before = {
        let m = get(srv.addr, "/metrics", None).await;
        assert_eq!(m.status, 200);
        metric(
            &m.body,
            "nocmap_http_connections_refused_total{reason=\"per_client\"}",
        )
    };
    // The flooding client opens more idle connections than its cap.
    // The ones over the cap are closed by the server at once: the connect
    // or a read of them ends (EOF or reset), without a byte.
    let mut idle = Vec::new();
    let mut closed = 0;
    for _ in 0..PER_CLIENT + 8 {
        match connect_from("127.0.0.2", srv.addr).await {
            Ok(s) => idle.push(s),
            Err(_) => closed += 1,
        }
    }
    let reads = idle.iter_mut().map(|s| async move {
        let mut b = [0u8; 1];
        tokio::time::timeout(Duration::from_millis(300), s.read(&mut b)).await
    });
    for read in futures::future::join_all(reads).await {
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            Ok(Ok(_)) => panic!("the server sent bytes unasked"),
            Err(_) => {} // still open and idle
        }
    }
    assert_eq!(closed, 8, "exactly the connections over the cap are closed");
    // A further connection from the flooding client gets no answer...
    assert_eq!(healthz_from("127.0.0.2", srv.addr).await, None);
    // ...while another client is served within a second.
    let t = Instant::now();
    assert_eq!(healthz_from("127.0.0.3", srv.addr).await, Some(200));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    let m = get(srv.addr, "/metrics", None).await;
    let refused = metric(
        &m.body,
        "nocmap_http_connections_refused_total{reason=\"per_client\"}",
    );
    assert!(
        refused >= refused_before + 9.0,
        "{refused_before} -> {refused}"
    );
    assert!(metric(&m.body, "nocmap_http_connections_open ") >= PER_CLIENT as f64);
    assert!(metric(&m.body, "nocmap_http_accept_errors_total ") >= 0.0);
    assert!(
        metric(&m.body, "nocmap_process_open_files_limit ") >= 1024.0,
        "the soft limit is known (and raised to the hard one)"
    );

    // Closing the idle connections gives their places back.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if healthz_from("127.0.0.2", srv.addr).await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "places were not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_cap_refuses_every_client_until_a_place_is_free() {
    let state = AppState {
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        conn_limits: ConnLimits {
            per_client: 4,
            total: 6,
        },
        ..AppState::new(hostile_live())
    };
    let srv = start(state);
    let mut idle = Vec::new();
    for source in ["127.0.0.4", "127.0.0.4", "127.0.0.4", "127.0.0.5"] {
        idle.push(connect_from(source, srv.addr).await.unwrap());
    }
    idle.push(connect_from("127.0.0.5", srv.addr).await.unwrap());
    idle.push(connect_from("127.0.0.5", srv.addr).await.unwrap());
    // Six held: a seventh client is refused though under its own cap.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(healthz_from("127.0.0.6", srv.addr).await, None);
    idle.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if healthz_from("127.0.0.6", srv.addr).await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "the place was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(idle);
    srv.stop().await;
}
