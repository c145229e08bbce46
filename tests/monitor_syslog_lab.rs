//! Syslog into `nocmap serve` in a lab: util-linux `logger` in r1's
//! namespace sends RFC 3164 and RFC 5424 messages over UDP, TCP with
//! octet counting and TCP with LF framing, and `openssl s_client` one
//! octet-counted message over TLS (RFC 5425, a certificate made with the
//! openssl CLI); each is found by the API's search (`q`), on r1 (matched by
//! its source address), with its severity; one sent from the poller's own
//! host naming r1 as HOSTNAME is matched by the name. Then a storm of
//! 100,000 UDP messages in a few seconds: at least 99 % of them are
//! counted — received, dropped by serve (`queue_full`) or dropped by the
//! kernel (the noc namespace's UDP RcvbufErrors; the host-wide input
//! backlog drops, which may hold other traffic's, only towards the 99 %) —
//! and r1's 2 s SNMP polls go on during it (its last poll time moves, no
//! poll is skipped). Without the capability,
//! port 514 stops serve at start with an error naming CAP_NET_BIND_SERVICE.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, wait_api};
use support::{noc_get, noc_json};

const LAB: Routers = Routers::new("slg", "10.150.0.0/16", "noc:eth0 - r1:eth0");
const PORT: u16 = 18150;
const SYSLOG_PORT: u16 = 15514;
const TLS_PORT: u16 = 16514;
const STORM: u64 = 100_000;

fn run(lab: &Lab, node: &str, program: &str, args: &[&str]) -> (bool, String) {
    let out = lab
        .command_in(node, program)
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn events(lab: &Lab, query: &str) -> Vec<serde_json::Value> {
    noc_json(lab, PORT, &format!("/api/events?{query}"))["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits up to 5 s for exactly one event matching `q`.
fn one_event(lab: &Lab, q: &str) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let found = events(lab, &format!("kind=syslog&q={q}"));
        if found.len() == 1 {
            return found[0].clone();
        }
        assert!(
            found.len() < 2 && t0.elapsed() < Duration::from_secs(5),
            "search for {q}: {found:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in /metrics"))
}

/// The noc namespace's UDP receive-buffer drops (`/proc/net/snmp`).
fn kernel_udp_drops(lab: &Lab) -> u64 {
    let (_, snmp) = run(lab, "noc", "cat", &["/proc/net/snmp"]);
    let udp: Vec<&str> = snmp.lines().filter(|l| l.starts_with("Udp:")).collect();
    let names: Vec<&str> = udp[0].split_whitespace().collect();
    let values: Vec<&str> = udp[1].split_whitespace().collect();
    let at = names.iter().position(|n| *n == "RcvbufErrors").unwrap();
    values[at].parse().unwrap()
}

/// Packets every CPU's input backlog dropped (`/proc/net/softnet_stat`,
/// second column; host-wide, where a veth burst can overflow before any
/// socket sees it).
fn backlog_drops() -> u64 {
    std::fs::read_to_string("/proc/net/softnet_stat")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .sum()
}

fn r1_health(lab: &Lab, r1: &str) -> serde_json::Value {
    let devices = noc_json(lab, PORT, "/api/devices");
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == r1)
        .expect("r1 in /api/devices")["health"]
        .clone()
}

const STORM_PY: &str = r#"
import socket, sys, time
to = (sys.argv[1], int(sys.argv[2])); n = int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
msgs = [b"<14>Dec  6 10:00:00 r1 storm: message %d" % i for i in range(n)]
t0 = time.monotonic()
for m in msgs:
    s.sendto(m, to)
print(time.monotonic() - t0)
"#;

const BY_NAME_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"<11>1 - r1 namedapp - - - named-by-host", ("127.0.0.1", int(sys.argv[1])))
"#;

#[test]
fn logger_over_udp_tcp_and_tls_is_stored_on_its_device_and_a_storm_is_counted() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = support::tls::make_cert(dir.path(), "syslog");
    let db = dir.path().join("syslog.db");
    let config = dir.path().join("nocmap.toml");
    std::fs::write(
        &config,
        format!(
            "[syslog]\nlisten_udp = \"0.0.0.0:{SYSLOG_PORT}\"\nlisten_tcp = \"0.0.0.0:{SYSLOG_PORT}\"\n\
             listen_tls = \"0.0.0.0:{TLS_PORT}\"\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let cmd = ServeCmd::new(&lab, LAB.prefix)
        .poll(2)
        .args(["--no-icmp"])
        .listen(PORT)
        .config(&config)
        .db(&db);
    let mut serve = cmd.start_captured("syslog");
    wait_api(
        &lab,
        &mut serve.child,
        PORT,
        "/api/topology",
        None,
        Duration::from_secs(60),
    );
    let topo = noc_json(&lab, PORT, "/api/topology");
    let r1 = topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["sys_name"] == "r1")
        .expect("r1 in the topology")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let noc = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let port = SYSLOG_PORT.to_string();

    // logger from r1: each transport and format, one severity each.
    let sends: [(&[&str], &str, &str, &str); 4] = [
        (&["--udp", "--rfc3164"], "local0.err", "udp3164", "rfc3164"),
        (&["--udp", "--rfc5424"], "user.info", "udp5424", "rfc5424"),
        (
            &["--tcp", "--octet-count", "--rfc5424"],
            "daemon.warning",
            "tcpoctet5424",
            "rfc5424",
        ),
        (
            &["--tcp", "--rfc3164"],
            "auth.crit",
            "tcpline3164",
            "rfc3164",
        ),
    ];
    for (flags, prio, word, _) in &sends {
        let mut args: Vec<&str> = flags.to_vec();
        let text = format!("{word} <b>hello</b> from r1");
        args.extend(["-n", &noc, "-P", &port, "-p", prio, "-t", "labtest", &text]);
        let (ok, out) = run(&lab, "r1", "logger", &args);
        assert!(ok, "logger {args:?}: {out}");
    }
    for (_, prio, word, format) in &sends {
        let e = one_event(&lab, word);
        assert_eq!(e["device"], r1.as_str(), "{e}");
        assert_eq!(e["matched_by"], "source", "{e}");
        assert_eq!(e["version"], *format, "{e}");
        assert_eq!(e["app"], "labtest", "{e}");
        assert_eq!(e["severity"], prio.split('.').nth(1).unwrap(), "{e}");
        assert_eq!(e["facility"], prio.split('.').next().unwrap(), "{e}");
        // Device text is stored and served as text.
        assert_eq!(e["message"], format!("{word} <b>hello</b> from r1"), "{e}");
    }

    // TLS (RFC 5425): one octet-counted message through openssl s_client.
    let msg = "<13>1 - r1 tlsapp - - - tls5425 over tls";
    let script = format!(
        "printf '%s' '{} {msg}' | timeout 10 openssl s_client -connect {noc}:{TLS_PORT} -quiet -no_ign_eof",
        msg.len()
    );
    let (ok, out) = run(&lab, "r1", "sh", &["-c", &script]);
    assert!(ok, "openssl s_client: {out}");
    let e = one_event(&lab, "tls5425");
    assert_eq!(
        (e["device"].as_str(), e["app"].as_str()),
        (Some(r1.as_str()), Some("tlsapp"))
    );

    // From the poller's host (no device's address), HOSTNAME r1.
    let (ok, out) = run(&lab, "noc", "python3", &["-c", BY_NAME_PY, &port]);
    assert!(ok, "python3: {out}");
    let e = one_event(&lab, "named-by-host");
    assert_eq!(
        (e["device"].as_str(), e["matched_by"].as_str()),
        (Some(r1.as_str()), Some("hostname"))
    );

    // Severity filter: err or worse on r1 is the err, the crit and the
    // by-name err; info and warning are not.
    let severe = events(&lab, &format!("device={r1}&severity=err"));
    let words: Vec<String> = severe
        .iter()
        .map(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        words,
        ["named-by-host", "tcpline3164", "udp3164"],
        "{severe:?}"
    );
    assert!(events(&lab, "kind=trap").is_empty());

    // The storm.
    let m0 = noc_get(&lab, PORT, "/metrics").expect("/metrics");
    let skipped0 = metric(&m0, "nocmap_polls_skipped_total");
    let udp0 = metric(&m0, "nocmap_syslog_received_total{transport=\"udp\"}");
    let drops0 = kernel_udp_drops(&lab);
    let backlog0 = backlog_drops();
    // r1's first poll (2 s polls) before the storm.
    let t_poll = Instant::now();
    let last0 = loop {
        if let Some(t) = r1_health(&lab, &r1)["last_snmp_ms"].as_i64() {
            break t;
        }
        assert!(
            t_poll.elapsed() < Duration::from_secs(10),
            "r1 never polled"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let t0 = Instant::now();
    let (ok, out) = run(
        &lab,
        "r1",
        "python3",
        &["-c", STORM_PY, &noc, &port, &STORM.to_string()],
    );
    assert!(ok, "storm: {out}");
    let send_s: f64 = out.trim().parse().unwrap();
    // Polls go on: r1's last poll moves while the receiver drains.
    let mut polled_during = false;
    let mut settled = None;
    while t0.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(500));
        let h = r1_health(&lab, &r1);
        polled_during |= h["last_snmp_ms"].as_i64().unwrap_or(0) > last0 && h["snmp_ok"] == true;
        let m = noc_get(&lab, PORT, "/metrics").expect("/metrics");
        let seen = metric(&m, "nocmap_syslog_received_total{transport=\"udp\"}")
            + metric(&m, "nocmap_syslog_parse_errors_total{reason=\"empty\"}");
        if settled == Some(seen) && polled_during {
            break;
        }
        settled = Some(seen);
    }
    let m = noc_get(&lab, PORT, "/metrics").expect("/metrics");
    let received = metric(&m, "nocmap_syslog_received_total{transport=\"udp\"}") - udp0;
    let queue_full = metric(&m, "nocmap_syslog_dropped_total{reason=\"queue_full\"}");
    let rcvbuf = kernel_udp_drops(&lab) - drops0;
    let backlog = backlog_drops() - backlog0;
    let skipped = metric(&m, "nocmap_polls_skipped_total") - skipped0;
    let stored = events(&lab, "kind=syslog&q=storm&limit=1000").len();
    eprintln!(
        "storm: {STORM} sent in {send_s:.2} s; serve received {received} ({} stored, {queue_full} dropped queue_full), kernel dropped {rcvbuf} (rcvbuf) + {backlog} (backlog, host-wide); accounted {}; polls skipped {skipped}; r1 polled during: {polled_during}; {} s",
        received - queue_full,
        received as u64 + rcvbuf + backlog,
        t0.elapsed().as_secs()
    );
    assert!(received > 0.0 && stored > 0, "no storm message came in");
    // The namespace's own counts never exceed what was sent.
    let local = received as u64 + rcvbuf;
    assert!(local <= STORM, "{local} counted of {STORM} sent");
    let accounted = local + backlog;
    assert!(
        accounted * 100 >= STORM * 99,
        "{accounted} of {STORM} accounted for"
    );
    assert!(polled_during, "r1 was not polled during the storm");
    assert_eq!(skipped, 0.0, "polls skipped during the storm");
    assert!(m.contains("nocmap_syslog_parse_errors_total{reason=\"bad_pri\"} 0"));
    serve.stop();
}

#[test]
fn port_514_without_the_capability_is_an_error_that_says_what_is_needed() {
    require_root!();
    let (ok, err) = support::serve::unprivileged_with("[syslog]\nlisten_udp = \"127.0.0.1:514\"\n");
    assert!(!ok, "serve started: {err}");
    assert!(
        err.contains("cannot receive syslog on udp 127.0.0.1:514")
            && err.contains("CAP_NET_BIND_SERVICE"),
        "{err}"
    );
}
