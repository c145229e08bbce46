//! The one support tree of the integration tests (`mod support;` in each
//! test file). This file: the root check, the binaries under test, bringing
//! a lab up with the `nocmap-lab` binary for its wires and bridge agents,
//! running commands inside a lab namespace, reading fping summaries, serve's
//! API from the noc namespace, a webhook receiver. Below it, by subject:
//!
//! - `lab`: the TOML of the tests' router chains and stars;
//! - `serve`: `nocmap serve` in a lab's noc namespace, waiting for its API,
//!   SIGTERM and wait;
//! - `crash`: serve under a database that is killed or starved (ext4 images);
//! - `netns`: a throw-away namespace with `lo` and a real snmpd;
//! - `icmp`: namespaces and raw-socket accomplices of the ICMP tests;
//! - `agents`: hand-rolled hostile SNMP agents; `snmp_pdu`: their wire side
//!   (a request decoded, a response encoded);
//! - `recordings`: real-device recordings for the golden tests;
//! - `browser`, `web_ui`: headless Chromium and the map page's checks;
//! - `server`, `tls`: the in-process server, certificates;
//! - `nats`: a real nats-server from a config file, an audit subscriber;
//! - `monitor`, `flap`, `report`, `topology`: what one group of tests reads
//!   back or builds (series, the flapping lab, the report's store, small
//!   topologies); `netbox_fields`: NetBox 4.x's import fields.
//!
//! A test that needs root starts with `require_root!();`. Every lab a test
//! brings up needs its own name and prefix (tests run in parallel); the
//! `Lab` value is the guard: dropping it (also on panic) tears the lab down.
//! Each test binary uses part of this tree, hence `dead_code` allowed.
#![allow(dead_code, unused_macros)]
pub mod agents;
pub mod browser;
pub mod crash;
pub mod diamond6;
pub mod flap;
pub mod icmp;
pub mod lab;
pub mod map_layout;
pub mod monitor;
pub mod nats;
pub mod netbox_fields;
pub mod netns;
#[macro_use]
pub mod recordings;
pub mod report;
pub mod serve;
pub mod server;
pub mod site_boxes;
pub mod snmp_pdu;
pub mod tls;
pub mod topology;
pub mod trace;
pub mod web_ui;
use nocmap_lab::{Lab, LabOptions, LabSpec};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Returns from the test, loudly, when not running as root. (Textual
/// scope: `#[macro_use] mod support;`, so that several test files can share
/// one binary, `tests/waiting_labs.rs`, each with its own `support`.)
macro_rules! require_root {
    () => {
        if !support::is_root() {
            eprintln!("SKIPPED: needs root ({})", module_path!());
            return;
        }
    };
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The `nocmap` binary cargo built for these tests (the product under test).
pub fn nocmap_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nocmap"))
}

/// The `nocmap-lab` binary cargo built for these tests: the lab runs it for
/// wires and switches' bridge agents.
pub fn lab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nocmap-lab"))
}

pub fn lab_options() -> LabOptions {
    LabOptions {
        lab_bin: Some(lab_bin()),
        ..LabOptions::default()
    }
}

/// Brings up a lab from TOML text; panics with the full error on failure.
pub fn lab_up_toml(text: &str) -> Lab {
    let spec = LabSpec::from_toml(text).unwrap_or_else(|e| panic!("lab spec: {e}"));
    lab_up(spec)
}

pub fn lab_up(spec: LabSpec) -> Lab {
    let name = spec.name.clone();
    Lab::up_with(spec, lab_options()).unwrap_or_else(|e| panic!("lab {name} up: {e}"))
}

/// Loads `examples/labs/<file>` and renames it, so each test has its own lab.
pub fn example_spec(file: &str, name: &str, prefix: &str) -> LabSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/labs")
        .join(file);
    let mut spec = LabSpec::from_path(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    spec.name = name.into();
    spec.prefix = prefix.into();
    spec
}

/// Runs `program args...` inside `node`'s namespace and returns its output.
pub fn run_in(lab: &Lab, node: &str, program: &str, args: &[&str]) -> Output {
    lab.command_in(node, program)
        .expect("node exists")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program} in {node}: {e}"))
}

/// stdout of a command that must succeed.
pub fn ok_stdout(lab: &Lab, node: &str, program: &str, args: &[&str]) -> String {
    sh(lab
        .command_in(node, program)
        .expect("node exists")
        .args(args))
}

/// Runs `cmd` to the end; its stdout, trimmed. Panics with both outputs
/// when it fails.
pub fn sh(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A UDP iperf3 client in `node` sending to `addr`:`port` at `rate` in
/// 1400-byte datagrams for `secs` seconds, its report discarded.
pub fn iperf_udp_client(
    lab: &Lab,
    node: &str,
    addr: &str,
    port: &str,
    rate: &str,
    secs: &str,
) -> std::process::Child {
    lab.command_in(node, "iperf3")
        .unwrap()
        .args([
            "-c", addr, "-p", port, "-u", "-b", rate, "-l", "1400", "-t", secs,
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// What one fping target summary says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingStats {
    pub sent: u32,
    pub received: u32,
    pub avg_ms: Option<f64>,
}

impl PingStats {
    pub fn loss_pct(&self) -> f64 {
        100.0 * f64::from(self.sent - self.received) / f64::from(self.sent.max(1))
    }
}

/// `fping -q -c COUNT -p PERIOD_MS -t TIMEOUT_MS addr` from `node`.
pub fn fping(
    lab: &Lab,
    node: &str,
    addr: &str,
    count: u32,
    period_ms: u32,
    timeout_ms: u32,
) -> PingStats {
    let out = run_in(
        lab,
        node,
        "fping",
        &[
            "-q",
            "-c",
            &count.to_string(),
            "-p",
            &period_ms.to_string(),
            "-t",
            &timeout_ms.to_string(),
            addr,
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    parse_fping(&text).unwrap_or_else(|| panic!("no fping summary in {text:?}"))
}

/// Parses `ADDR : xmt/rcv/%loss = 20/19/5%, min/avg/max = 0.1/0.2/0.3`.
pub fn parse_fping(text: &str) -> Option<PingStats> {
    let line = text.lines().find(|l| l.contains("xmt/rcv/%loss"))?;
    let counts = line
        .split("= ")
        .nth(1)?
        .split(['/', ','])
        .collect::<Vec<_>>();
    let sent = counts.first()?.trim().parse().ok()?;
    let received = counts.get(1)?.trim().parse().ok()?;
    let avg_ms = line
        .split("min/avg/max = ")
        .nth(1)
        .and_then(|s| s.split('/').nth(1))
        .and_then(|s| s.trim().parse().ok());
    Some(PingStats {
        sent,
        received,
        avg_ms,
    })
}

/// Namespaces that currently exist.
pub fn namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Namespaces of lab `lab` that currently exist.
pub fn lab_namespaces(lab: &str) -> Vec<String> {
    let prefix = format!("{lab}-");
    namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// A v2c get of one OID, value only.
pub fn snmpget_v2c(lab: &Lab, from: &str, addr: &str, oid: &str) -> String {
    let c = &lab.spec().credentials;
    ok_stdout(
        lab,
        from,
        "snmpget",
        &["-v2c", "-c", &c.community, "-r1", "-t2", "-Oqv", addr, oid],
    )
}

/// A v3 authPriv (SHA-256 / AES-128) get of one OID, value only.
pub fn snmpget_v3(lab: &Lab, from: &str, addr: &str, oid: &str) -> String {
    let c = &lab.spec().credentials;
    ok_stdout(
        lab,
        from,
        "snmpget",
        &[
            "-v3",
            "-l",
            "authPriv",
            "-u",
            &c.v3_user,
            "-a",
            "SHA-256",
            "-A",
            &c.auth_pass,
            "-x",
            "AES",
            "-X",
            &c.priv_pass,
            "-r1",
            "-t2",
            "-Oqv",
            addr,
            oid,
        ],
    )
}

pub fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// One request a test's webhook receiver got: the notification id header
/// (as a number, -1 when it is none, and as sent: `<site>:<id>` at a box
/// of several), the authorization header, when it arrived (ms since the
/// epoch) and the JSON body.
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: i64,
    pub id_text: String,
    pub auth: String,
    pub at_ms: nocmap::types::UnixMillis,
    pub body: serde_json::Value,
}

pub type Hooks = std::sync::Arc<std::sync::Mutex<Vec<Hook>>>;

/// An HTTP receiver for nocmap's webhooks on 127.0.0.1:`port` inside `lab`'s
/// noc namespace (a thread of its own that joins it), answering every POST
/// with 200 and recording it in `got`. Returns once it listens.
pub fn start_webhook(lab: &Lab, port: u16, got: Hooks) {
    start_webhook_in(lab, "noc", port, got)
}

/// [`start_webhook`] inside `node`'s namespace.
pub fn start_webhook_in(lab: &Lab, node: &str, port: u16, got: Hooks) {
    start_webhook_on(lab, node, std::net::Ipv4Addr::LOCALHOST, port, got)
}

/// [`start_webhook_in`] bound to `ip` (0.0.0.0: reachable from the other
/// namespaces too).
pub fn start_webhook_on(lab: &Lab, node: &str, ip: std::net::Ipv4Addr, port: u16, got: Hooks) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::fd::AsRawFd;
    let ns_path = format!("/run/netns/{}", lab.ns(node).unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ns = std::fs::File::open(&ns_path).expect("noc namespace");
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns into the noc namespace");
        let listener = std::net::TcpListener::bind((ip, port)).expect("bind hook");
        tx.send(()).unwrap();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let Ok(clone) = conn.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let (mut len, mut id, mut auth) = (0usize, -1i64, String::new());
            let mut id_text = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    let v = v.trim();
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => len = v.parse().unwrap_or(0),
                        "x-nocmap-notification-id" => {
                            id = v.parse().unwrap_or(-1);
                            id_text = v.to_string();
                        }
                        "authorization" => auth = v.to_string(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; len.min(1 << 20)];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let at_ms = nocmap::types::UnixMillis::now();
            got.lock().unwrap_or_else(|p| p.into_inner()).push(Hook {
                id,
                id_text,
                auth,
                at_ms,
                body,
            });
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("receiver bound");
}

/// `GET path` from 127.0.0.1:`port` inside `lab`'s noc namespace (where the
/// tests run `nocmap serve`): the body, or None when serve did not answer
/// 2xx within 5 s.
pub fn noc_get(lab: &Lab, port: u16, path: &str) -> Option<String> {
    get_in(lab, "noc", port, path)
}

/// [`noc_get`] inside `node`'s namespace.
pub fn get_in(lab: &Lab, node: &str, port: u16, path: &str) -> Option<String> {
    let out = lab
        .command_in(node, "curl")
        .ok()?
        .args(["-sf", "-m", "5", &format!("http://127.0.0.1:{port}{path}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// [`noc_get`] parsed as JSON; panics when serve did not answer.
pub fn noc_json(lab: &Lab, port: u16, path: &str) -> serde_json::Value {
    let body = noc_get(lab, port, path).unwrap_or_else(|| panic!("GET {path} failed"));
    serde_json::from_str(&body).expect("JSON")
}

/// serve's alert history of the last hour, oldest first.
pub fn alert_history(lab: &Lab, port: u16) -> Vec<serde_json::Value> {
    noc_json(lab, port, "/api/alerts/history?since=1h")["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The alerts serve holds as firing or flapping now.
pub fn active_alerts(lab: &Lab, port: u16) -> Vec<serde_json::Value> {
    noc_json(lab, port, "/api/alerts")["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The value of an unlabelled sample `name` in Prometheus exposition text.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Polls `check` every second until it returns Some, or panics after `limit`.
pub fn wait_until<T>(
    what: &str,
    limit: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// A child process, killed and reaped when dropped (also on panic).
pub struct Kill(pub std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs an nftables script (`nft -f -`) in `node`'s namespace.
pub fn nft(lab: &Lab, node: &str, script: &str) {
    use std::io::Write;
    let mut child = lab
        .command_in(node, "nft")
        .unwrap()
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "nft in {node}: {script}");
}

/// SIGTERM to serve and wait for its orderly exit: exit 0 and no panic
/// in its log.
pub fn stop_serve(mut serve: Kill, log: &Path) {
    let st = serve::terminate(&mut serve.0);
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(st.success(), "serve exited with {st}: {text}");
    // A panic a test injected (SIGUSR1, see `ServeCmd::start_logged`) is
    // the only one allowed.
    let panics = text.matches("panicked").count();
    let injected = text.matches("fault injected by a test").count();
    assert!(panics <= injected, "no panic in serve: {text}");
}

/// Runs `f` on a fresh thread that joined `node`'s network namespace (the
/// sockets it opens live there) and returns its result; the caller's
/// thread stays where it is.
pub fn run_in_ns<T: Send + 'static>(
    lab: &Lab,
    node: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    use std::os::fd::AsRawFd;
    let path = format!("/run/netns/{}", lab.ns(node).unwrap());
    std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p))
}
