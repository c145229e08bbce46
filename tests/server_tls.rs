//! HTTPS: a real server on 127.0.0.1:0 with a certificate made by the
//! openssl command line, read by real curl. The API and the live feed
//! answer over TLS (1.3 and 1.2) with the token; plain HTTP, untrusting
//! clients and garbage are refused and counted, and the server goes on;
//! the per-client rate limit still sees each client over TLS; a silent
//! connection does not hold up the stop and is dropped after the
//! handshake time; renewed files are served without a restart, half-done
//! or mismatched ones are not; the certificate's expiry is in /metrics.
//! Bad files are refused by `check-config` and by serve at start, naming
//! the file and never the key's bytes.
mod support;

use nocmap::server::rate_limit::{Limits, RateLimiter};
use nocmap::server::tls::Https;
use nocmap::server::{AppState, AuthConfig};
use nocmap::types::Secret;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::server::{ADMIN, hostile_live};
use support::tls::make_cert;

fn state(limits: Limits) -> AppState {
    AppState {
        live: hostile_live(),
        db_path: None,
        reports: None,
        allowed_hosts: Vec::new(),
        conn_limits: Default::default(),
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        feed: Some(nocmap::server::feed::Feed::new()),
        limiter: Arc::new(RateLimiter::new(limits)),
        auth: Some(AuthConfig {
            admin_token: Secret::new(ADMIN),
            read_only_token: None,
        }),
    }
}

struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), nocmap::server::ServerError>>,
}

fn start(state: AppState, cert: &Path, key: &Path) -> Running {
    start_checking_every(state, cert, key, nocmap::server::tls::RELOAD_CHECK)
}

fn start_checking_every(state: AppState, cert: &Path, key: &Path, every: Duration) -> Running {
    let tls = match nocmap::server::tls::acceptor_checking_every(cert, key, every) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    start_https(state, tls.into())
}

fn start_https(state: AppState, tls: Https) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(nocmap::server::serve_tls(
        listener,
        Some(tls),
        state,
        async move {
            let _ = rx.await;
        },
    ));
    Running { addr, stop, task }
}

/// curl's exit code, HTTP status (0 when none) and body.
async fn curl(args: Vec<String>) -> (i32, u16, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-s", "-m", "10", "-w", "\n%{http_code}"])
            .args(&args)
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (
            out.status.code().unwrap_or(-1),
            code.trim().parse().unwrap_or(0),
            body.to_string(),
        )
    })
    .await
    .unwrap()
}

/// An unlabelled sample of `/metrics` text (parsed strictly).
fn metric(body: &str, name: &str) -> f64 {
    let (samples, _) = support::server::parse_prometheus(body).expect("valid exposition");
    samples
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.value)
        .unwrap_or_else(|| panic!("{name} is exposed"))
}

fn https(addr: SocketAddr, path: &str, cert: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "--cacert".into(),
        cert.display().to_string(),
        "-H".into(),
        format!("Authorization: Bearer {ADMIN}"),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a.push(format!("https://{addr}{path}"));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_over_tls_refuses_plain_http_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "server");
    let srv = start(state(Limits::default()), &cert, &key);
    let failures_before = nocmap::server::tls_handshake_failures();

    let (rc, code, body) = curl(https(srv.addr, "/api/devices", &cert, &[])).await;
    assert_eq!((rc, code), (0, 200), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{body}");
    let (rc, code, _) = curl(https(
        srv.addr,
        "/api/devices",
        &cert,
        &["--tlsv1.2", "--tls-max", "1.2"],
    ))
    .await;
    assert_eq!((rc, code), (0, 200), "TLS 1.2");
    // The live feed streams over TLS: curl holds the stream for 3 s.
    let (rc, _, body) = curl(https(srv.addr, "/api/events", &cert, &["-N", "-m", "3"])).await;
    assert_eq!(rc, 28, "the stream stays open until curl's time limit");
    assert!(body.starts_with("event:snapshot\n"), "{body:.200}");
    assert!(body.contains("dev-a"), "the snapshot carries the devices");
    // The token is still asked for over TLS.
    let (rc, code, _) = curl(vec![
        "--cacert".into(),
        cert.display().to_string(),
        format!("https://{}/api/devices", srv.addr),
    ])
    .await;
    assert_eq!((rc, code), (0, 401));

    // Refused: plain HTTP to the HTTPS port, and a client that does not
    // trust the certificate.
    let (rc, code, _) = curl(vec![format!("http://{}/healthz", srv.addr)]).await;
    assert!(
        rc != 0 && code == 0,
        "plain HTTP: curl exit {rc}, status {code}"
    );
    let (rc, code, _) = curl(vec![format!("https://{}/healthz", srv.addr)]).await;
    assert_eq!(
        (rc, code),
        (60, 0),
        "an untrusted certificate: curl exit 60"
    );
    // Raw garbage as a ClientHello.
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(srv.addr).unwrap();
        let _ = s.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2, 3, 4, 5]);
        let _ = s.write_all(&[0xAA; 4096]);
    }
    // Still serving, and the refusals are counted in /metrics.
    let counted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (rc, code, body) = curl(https(srv.addr, "/metrics", &cert, &[])).await;
            assert_eq!((rc, code), (0, 200), "{body}");
            let n = metric(&body, "nocmap_http_tls_handshake_failures_total");
            if n >= (failures_before + 3) as f64 {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("three refused handshakes counted");
    eprintln!("handshake failures counted: {counted}");
    // The certificate's end of validity (made for 2 days) is exposed.
    let (_, _, body) = curl(https(srv.addr, "/metrics", &cert, &[])).await;
    let not_after = metric(&body, "nocmap_http_tls_certificate_not_after_seconds");
    let now = support::server::now_ms() as f64 / 1000.0;
    let days = (not_after - now) / 86_400.0;
    eprintln!("certificate expires in {days:.3} days");
    assert!((1.9..=2.1).contains(&days), "{days} days");
    // serve's start-up warning for it, now and three days on.
    let now_t = nocmap::types::UnixMillis((now * 1000.0) as i64);
    let day = 86_400_000;
    let w = nocmap::server::tls::expiry_warning(now_t).expect("2 days is within 14");
    assert!(
        w.contains("expires in 2.0 days") || w.contains("expires in 1.9 days"),
        "{w}"
    );
    let w = nocmap::server::tls::expiry_warning(now_t + 3 * day).unwrap();
    assert!(
        w.contains("expired 1.0 days ago") || w.contains("expired 1.1 days ago"),
        "{w}"
    );
    assert_eq!(nocmap::server::tls::expiry_warning(now_t - 30 * day), None);

    // A client that connects and says nothing does not hold up the stop.
    let _silent = std::net::TcpStream::connect(srv.addr).unwrap();
    srv.stop.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(30), srv.task).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "serve returned after the stop: {stopped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_sees_each_client_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "server");
    let limits = Limits {
        per_second: 0.01,
        burst: 2.0,
        ..Limits::default()
    };
    let srv = start(state(limits), &cert, &key);
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(curl(https(srv.addr, "/api/devices", &cert, &[])).await.1);
    }
    assert_eq!(codes, [200, 200, 429, 429], "burst of 2, then refused");
    srv.stop.send(()).unwrap();
    srv.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_silent_in_the_handshake_is_dropped() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "server");
    let srv = start(state(Limits::default()), &cert, &key);
    let before = nocmap::server::tls_handshake_failures();
    let addr = srv.addr;
    let (read, waited) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(nocmap::server::HANDSHAKE_TIMEOUT * 2))
            .unwrap();
        let t = std::time::Instant::now();
        let mut buf = [0u8; 16];
        (s.read(&mut buf).map_err(|e| e.kind()), t.elapsed())
    })
    .await
    .unwrap();
    eprintln!("a silent client was dropped after {waited:?}: {read:?}");
    assert_eq!(read, Ok(0), "the server closed the connection");
    assert!(waited >= nocmap::server::HANDSHAKE_TIMEOUT - Duration::from_millis(500));
    assert!(nocmap::server::tls_handshake_failures() > before);
    srv.stop.send(()).unwrap();
    srv.task.await.unwrap().unwrap();
}

/// Puts `from`'s content at `to` the way a renewal tool does: a new file
/// renamed over the old one.
/// HSTS is announced on every answer over HTTPS (the API, the page, a
/// refusal) only when `[server] hsts_max_age_s` is set; check-config
/// refuses it without TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_announced_only_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "server");
    let acceptor = || nocmap::server::tls::acceptor(&cert, &key).unwrap();
    let headers = |addr: SocketAddr, path: &'static str, token: bool| {
        let mut a = vec!["--cacert".to_string(), cert.display().to_string()];
        if token {
            a.extend(["-H".into(), format!("Authorization: Bearer {ADMIN}")]);
        }
        a.extend(["-D", "-", "-o", "/dev/null"].map(String::from));
        a.push(format!("https://{addr}{path}"));
        curl(a)
    };
    let plain = start_https(state(Limits::default()), acceptor().into());
    let (rc, code, h) = headers(plain.addr, "/api/devices", true).await;
    assert_eq!((rc, code), (0, 200), "{h}");
    assert!(
        !h.to_ascii_lowercase().contains("strict-transport-security"),
        "{h}"
    );
    let _ = plain.stop.send(());
    plain.task.await.unwrap().unwrap();

    let hsts = start_https(
        state(Limits::default()),
        Https {
            acceptor: acceptor(),
            hsts_max_age_s: Some(600),
        },
    );
    for (path, token, want) in [
        ("/api/devices", true, 200),
        ("/", true, 200),
        ("/api/devices", false, 401),
    ] {
        let (rc, code, h) = headers(hsts.addr, path, token).await;
        assert_eq!((rc, code), (0, want), "{path}: {h}");
        assert!(
            h.to_ascii_lowercase()
                .contains("strict-transport-security: max-age=600\r\n"),
            "{path}: {h}"
        );
    }
    let _ = hsts.stop.send(());
    hsts.task.await.unwrap().unwrap();

    let config = dir.path().join("nocmap.toml");
    std::fs::write(&config, "[server]\nhsts_max_age_s = 600\n").unwrap();
    let (ok, out) = nocmap(&["check-config"], &config);
    assert!(
        !ok && out.contains("server.hsts_max_age_s") && out.contains("needs server.tls_cert"),
        "{out}"
    );
    std::fs::write(
        &config,
        format!(
            "[server]\nhsts_max_age_s = 600\ntls_cert = {:?}\ntls_key = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    )
    .unwrap();
    let (ok, out) = nocmap(&["check-config"], &config);
    assert!(ok, "{out}");
}

fn replace(from: &Path, to: &Path) {
    let tmp = to.with_extension("new");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "live");
    let (old_cert, _) = make_cert(dir.path(), "first");
    std::fs::copy(&cert, &old_cert).unwrap();
    let (new_cert, new_key) = make_cert(dir.path(), "renewed");
    let (_, stranger_key) = make_cert(dir.path(), "stranger");
    let every = Duration::from_millis(200);
    let srv = start_checking_every(state(Limits::default()), &cert, &key, every);
    let code = |trust: PathBuf| {
        let addr = srv.addr;
        async move { curl(https(addr, "/healthz", &trust, &[])).await.0 }
    };
    assert_eq!(code(old_cert.clone()).await, 0, "the first certificate");
    let reloads = nocmap::server::tls::reloads();

    // A half-done renewal (the new certificate, the old key): refused, the
    // old pair stays in use.
    replace(&new_cert, &cert);
    tokio::time::sleep(every * 2).await;
    assert_eq!(
        code(old_cert.clone()).await,
        0,
        "still the first certificate"
    );
    assert_eq!(nocmap::server::tls::reloads(), reloads);
    // The key arrives: the next handshake after a check gets the new pair.
    replace(&new_key, &key);
    tokio::time::sleep(every * 2).await;
    assert_eq!(code(new_cert.clone()).await, 0, "the renewed certificate");
    assert_eq!(code(old_cert.clone()).await, 60, "the first one is gone");
    assert_eq!(nocmap::server::tls::reloads(), reloads + 1);
    // A key of another certificate: refused, the renewed pair stays.
    replace(&stranger_key, &key);
    tokio::time::sleep(every * 2).await;
    assert_eq!(
        code(new_cert.clone()).await,
        0,
        "still the renewed certificate"
    );
    assert_eq!(nocmap::server::tls::reloads(), reloads + 1);
    assert!(nocmap::server::tls::reload_failures() >= 2);
    srv.stop.send(()).unwrap();
    srv.task.await.unwrap().unwrap();
}

fn nocmap(args: &[&str], config: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nocmap"))
        .args(args)
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn bad_tls_files_are_clear_errors_that_name_the_file_not_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert(dir.path(), "server");
    let (_, other_key) = make_cert(dir.path(), "other");
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_body: Vec<&str> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let config = dir.path().join("nocmap.toml");
    let write = |cert: &Path, key: &Path| {
        std::fs::write(
            &config,
            format!(
                "[server]\ntls_cert = {:?}\ntls_key = {:?}\n",
                cert.display().to_string(),
                key.display().to_string()
            ),
        )
        .unwrap();
    };

    write(&cert, &key);
    let (ok, out) = nocmap(&["check-config"], &config);
    assert!(ok, "{out}");
    assert!(out.contains("(https)"), "{out}");
    // Beyond loopback: plain HTTP is allowed with a token, with a warning.
    let wide = "[server]\nlisten = \"0.0.0.0:8443\"\ntoken = \"check-config-token-0123\"\n";
    std::fs::write(&config, wide).unwrap();
    let (ok, out) = nocmap(&["check-config"], &config);
    assert!(ok && out.contains("over plain HTTP"), "{out}");
    assert!(!out.contains("check-config-token-0123"), "{out}");
    let tls = format!(
        "tls_cert = {:?}\ntls_key = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    );
    std::fs::write(&config, format!("{wide}{tls}")).unwrap();
    let (ok, out) = nocmap(&["check-config"], &config);
    assert!(
        ok && out.contains("(https)") && !out.contains("plain HTTP"),
        "{out}"
    );

    let cases: [(&Path, &Path, &str); 4] = [
        (
            &cert,
            &other_key,
            "the private key does not belong to the first certificate",
        ),
        (&cert, &dir.path().join("missing.key"), "server.tls_key"),
        (&key, &key, "no PEM CERTIFICATE block"),
        (&cert, &cert, "no PEM private key block"),
    ];
    for (c, k, want) in cases {
        write(c, k);
        let (ok, out) = nocmap(&["check-config"], &config);
        eprintln!("check-config: {}", out.trim());
        assert!(!ok && out.contains(want), "{c:?} {k:?}: {out}");
        assert!(
            key_body.iter().all(|l| !out.contains(l)),
            "the key's bytes are in the message: {out}"
        );
    }

    // serve stops at start with the same message (before it listens or
    // discovers anything; the seed is loopback all the same).
    write(&cert, &other_key);
    let out = Command::new(env!("CARGO_BIN_EXE_nocmap"))
        .args([
            "serve",
            "-c",
            "public",
            "--seed",
            "127.0.0.1",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("the private key does not belong to the first certificate"),
        "{text}"
    );
    assert!(!dir.path().join("x.db").exists(), "nothing opened: {text}");
}
