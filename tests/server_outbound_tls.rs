//! HTTPS for what nocmap sends, against real TLS servers with certificates
//! this test makes with the openssl command line (a CA, a server and a
//! client certificate it signs, one naming another address, one
//! self-signed):
//!
//! - an alert webhook to a Python `ssl` HTTPS server that requires a client
//!   certificate: delivered, with the client certificate and the bearer
//!   token;
//! - the same webhook to a self-signed server, to one whose certificate
//!   names another address, and (without `ca_file`, so the system's CA
//!   bundle) to the test CA's server: each refused with an error that says
//!   why, never naming the token; those servers get no request;
//! - remote write into Debian's Prometheus 2.42 serving HTTPS with
//!   `client_auth_type: RequireAndVerifyClientCert`: the pushed series is
//!   queried back from Prometheus.
mod support;

use nocmap::alert::deliver::{Answer, Notifier, Webhook};
use nocmap::server::remote_write::{self, Settings};
use nocmap::types::Secret;
use nocmap::util::http::Destination;
use nocmap::util::http_tls::TlsFiles;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::Kill;
use support::tls::{make_ca, make_cert, make_signed};

const TOKEN: &str = "outbound-tls-token-7d2e9a";

const RECEIVER_PY: &str = r#"
import http.server, json, ssl, sys
cert, key = sys.argv[1], sys.argv[2]
ca = sys.argv[3] if len(sys.argv) > 3 else None
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('content-length', 0))
        body = self.rfile.read(n)
        cn = ''
        for rdn in (self.connection.getpeercert() or {}).get('subject', ()):
            for k, v in rdn:
                if k == 'commonName':
                    cn = v
        print(json.dumps({'path': self.path, 'auth': self.headers.get('authorization', ''),
                          'client': cn, 'body': body.decode('utf-8', 'replace')}), flush=True)
        self.send_response(200)
        self.send_header('content-length', '0')
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if ca:
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('PORT', srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// A Python HTTPS server recording each POST as a JSON line.
struct PyReceiver {
    port: u16,
    lines: mpsc::Receiver<serde_json::Value>,
    _child: Kill,
}

impl PyReceiver {
    fn start(dir: &Path, cert: &Path, key: &Path, client_ca: Option<&Path>) -> PyReceiver {
        let script = dir.join("receiver.py");
        std::fs::write(&script, RECEIVER_PY).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(cert).arg(key);
        if let Some(ca) = client_ca {
            cmd.arg(ca);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the test's HTTPS receiver");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let port: u16 = first
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("receiver did not start: {first:?}"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        PyReceiver {
            port,
            lines,
            _child: Kill(child),
        }
    }
}

fn hook(port: u16, files: &TlsFiles) -> Webhook {
    Webhook {
        endpoint: Destination::new(&format!("https://127.0.0.1:{port}/hook"), files).unwrap(),
        bearer_token: Some(Secret::new(TOKEN)),
        headers: vec![],
        timeout: Duration::from_secs(5),
        origin: None,
    }
}

struct Certs {
    ca: PathBuf,
    server: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
    other_name: (PathBuf, PathBuf),
    self_signed: (PathBuf, PathBuf),
}

fn certs(dir: &Path) -> Certs {
    Certs {
        ca: make_ca(dir),
        server: make_signed(dir, "server", "IP:127.0.0.1", "serverAuth"),
        client: make_signed(dir, "nocmap-client", "DNS:nocmap-client", "clientAuth"),
        other_name: make_signed(dir, "other", "IP:127.0.0.2", "serverAuth"),
        self_signed: make_cert(dir, "self"),
    }
}

fn trusted_with_client(c: &Certs) -> TlsFiles {
    TlsFiles {
        ca_file: Some(c.ca.clone()),
        client_cert: Some(c.client.0.clone()),
        client_key: Some(c.client.1.clone()),
    }
}

/// The refusal reason of one delivery attempt.
async fn refused(h: &Webhook) -> String {
    match h.send(br#"{"x":1}"#.to_vec(), 8).await {
        Answer::Retry(why) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_go_over_https_and_untrusted_certificates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path());
    let files = trusted_with_client(&c);

    // Delivered over TLS with the client certificate the server requires.
    let good = PyReceiver::start(dir.path(), &c.server.0, &c.server.1, Some(&c.ca));
    let body = br#"{"notification_id":7}"#.to_vec();
    assert_eq!(
        hook(good.port, &files).send(body, 7).await,
        Answer::Accepted
    );
    let got = good.lines.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got["path"], "/hook");
    assert_eq!(got["auth"], format!("Bearer {TOKEN}"));
    assert_eq!(got["client"], "nocmap-client");
    assert_eq!(got["body"], r#"{"notification_id":7}"#);

    // A self-signed certificate (openssl's default: a CA certificate): not
    // issued by the CA of ca_file.
    let untrusted = PyReceiver::start(dir.path(), &c.self_signed.0, &c.self_signed.1, None);
    let why = refused(&hook(untrusted.port, &files)).await;
    eprintln!("self-signed: {why}");
    assert!(why.contains("TLS handshake with 127.0.0.1:"), "{why}");
    assert!(
        why.contains("certificate was refused") && why.contains("ca_file"),
        "{why}"
    );
    assert!(!why.contains(TOKEN), "{why}");
    // A server certificate from another CA of the same name (not in
    // ca_file): its signature does not verify against ours.
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = make_signed(foreign_dir.path(), "foreign", "IP:127.0.0.1", "serverAuth");
    let stranger = PyReceiver::start(dir.path(), &foreign.0, &foreign.1, None);
    let why = refused(&hook(stranger.port, &files)).await;
    eprintln!("other CA: {why}");
    assert!(
        why.contains("not signed by a trusted CA") && why.contains("ca_file"),
        "{why}"
    );

    // Signed by the CA, but for another address.
    let misnamed = PyReceiver::start(dir.path(), &c.other_name.0, &c.other_name.1, None);
    let why = refused(&hook(misnamed.port, &files)).await;
    eprintln!("other name: {why}");
    assert!(why.contains("NotValidForName"), "{why}");
    assert!(why.contains("does not name the URL's host"), "{why}");

    // Without ca_file the system's CA bundle is the trust: the test CA is
    // not in it.
    let plain = PyReceiver::start(dir.path(), &c.server.0, &c.server.1, None);
    let why = refused(&hook(plain.port, &TlsFiles::default())).await;
    eprintln!("system bundle: {why}");
    assert!(why.contains("UnknownIssuer"), "{why}");

    // None of the refused servers got a request.
    for r in [&untrusted, &stranger, &misnamed, &plain] {
        assert!(r.lines.recv_timeout(Duration::from_millis(300)).is_err());
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` from the HTTPS Prometheus with the client certificate.
fn prom_get(c: &Certs, port: u16, path: &str, query: Option<&str>) -> Option<String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sf", "-m", "5", "--cacert"])
        .arg(&c.ca)
        .arg("--cert")
        .arg(&c.client.0)
        .arg("--key")
        .arg(&c.client.1);
    if let Some(q) = query {
        cmd.args(["-G", "--data-urlencode", &format!("query={q}")]);
    }
    let out = cmd
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_reaches_prometheus_over_https_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path());
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
            c.server.0.display(),
            c.server.1.display(),
            c.ca.display()
        ),
    )
    .unwrap();
    let conf = dir.path().join("prometheus.yml");
    std::fs::write(&conf, "global:\n  scrape_interval: 15s\n").unwrap();
    let port = free_port();
    let prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", web.display()))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is needed (Debian package `prometheus`; .ci/run installs it)");
    let _prometheus = Kill(prometheus);
    let start = Instant::now();
    while prom_get(&c, port, "/-/ready", None).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Prometheus not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let settings = Settings {
        endpoint: Destination::new(
            &format!("https://127.0.0.1:{port}/api/v1/write"),
            &trusted_with_client(&c),
        )
        .unwrap(),
        interval: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
        queue_len: 16,
        auth: None,
        labels: vec![("site".into(), "tls-test".into())],
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(remote_write::run(
        settings,
        support::server::hostile_live(),
        async move {
            let _ = stopped.await;
        },
    ));
    let q = r#"nocmap_interface_in_bytes_total{site="tls-test",if_name="Gi0/1"}"#;
    let mut found = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(text) = prom_get(&c, port, "/api/v1/query", Some(q)) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if let Some(r) = v["data"]["result"].as_array().and_then(|r| r.first()) {
                found = Some(r["value"][1].as_str().unwrap_or("").to_string());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.send(()).unwrap();
    let stats = task.await.unwrap();
    eprintln!("remote write over TLS: {stats:?}");
    assert_eq!(
        found.as_deref(),
        Some("9000000000"),
        "series not in Prometheus"
    );
    assert!(stats.sent >= 1, "{stats:?}");
    assert_eq!((stats.rejected, stats.retries), (0, 0), "{stats:?}");
}
