//! Sites over NATS with TLS, per-site credentials and permissions, against
//! a real nats-server (Debian's 2.9.10) running
//! `examples/nats-server-sites.conf` itself — its certificate paths and
//! store directory replaced, its client-certificate lines uncommented, and
//! an `audit` user added that may subscribe to everything. The CA and the
//! server's and clients' certificates are made at test time with openssl;
//! site `east` logs in with a password, site `west` with an nkey made
//! here, the central `hq` with a password from a file.
//!
//! ```text
//!   east (snmpd; poller east; a client without the CA)
//!     │
//!   noc (nats-server with TLS + JetStream, central hq, audit subscriber)
//!     │
//!   west (snmpd; poller west by nkey; the impostor: site west, east's
//!         password; a client without a client certificate)
//! ```
//!
//! Shown: (a) east's and west's samples reach the central over TLS, value
//! by value, and the central holds nothing else; (b) a poller configured as
//! site west with east's credentials is refused by the server's
//! permissions: none of its heartbeats (its period, 1 s, tells them from
//! the real west's 2 s) passes the server, it logs the refusal and counts
//! it on `/metrics`, and its journal keeps every sample it stored; (c) a
//! client without the CA fails with a TLS error naming the unknown issuer,
//! one without a client certificate with the server's alert, both within
//! seconds; (d) neither password nor the seed appears in any process's
//! stdout or stderr, in `/api/*` or `/metrics`, in any message the audit
//! subscriber saw, in the JetStream store or in nats-server's log. With
//! the config's allow lists opened to `>`, (a) and (b) fail: the
//! impostor's samples and heartbeats pass.
#[macro_use]
mod support;
use nocmap::sites::wire;
use nocmap_lab::Lab;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::Kill;
use support::crash::read_only;
use support::lab::Routers;
use support::serve::ServeCmd;

const LAB: Routers = Routers::new(
    "natsec",
    "10.171.0.0/16",
    "noc:eth0 - east:eth0, noc:eth1 - west:eth1",
);
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_711;
const CENTRAL_API: u16 = 18_712;
const EAST_API: u16 = 18_713;
const WEST_API: u16 = 18_714;
const IMPOSTOR_API: u16 = 18_715;
const NO_CA_API: u16 = 18_716;
const NO_CERT_API: u16 = 18_717;

/// One stored sample: (device, subject, metric, time) → value bits.
type Rows = BTreeMap<(String, String, String, i64), u64>;

fn rows(db: &Path, to: i64) -> Rows {
    if !db.exists() {
        return Rows::new();
    }
    let c = read_only(db);
    let mut st = c
        .prepare(
            "SELECT s.device, s.subject, s.metric, x.t_ms, x.value
             FROM samples x JOIN series s ON s.id = x.series_id WHERE x.t_ms <= ?1",
        )
        .unwrap();
    st.query_map([to], |r| {
        Ok((
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
            r.get::<_, f64>(4)?.to_bits(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn count(db: &Path, table: &str) -> i64 {
    read_only(db)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(-1)
}

fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}

/// `examples/nats-server-sites.conf` with this test's files, plus the
/// audit user.
fn server_config(dir: &Path) -> String {
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nats-server-sites.conf"),
    )
    .unwrap();
    let audit = "  users: [\n    { user: audit, password: $NOCMAP_AUDIT_PASSWORD, \
                 permissions: { subscribe: \">\" } }\n";
    let text = sample
        .replace("/etc/nats/server.", &format!("{}/server.", dir.display()))
        .replace("/var/lib/nats", &dir.join("js").display().to_string())
        .replace("  users: [\n", audit)
        // Client certificates required, signed by the test's CA.
        .replace(
            "  # ca_file: \"/etc/nats/clients-ca.crt\"\n  # verify: true",
            &format!("  ca_file: \"{}/ca.crt\"\n  verify: true", dir.display()),
        );
    assert!(text.contains("audit") && text.contains("\n  verify: true"));
    text
}

struct Secrets {
    east_pw: String,
    hq_pw: String,
    audit_pw: String,
    west_seed: String,
    west_public: String,
}

/// One `nocmap serve` with its own config, database and API, its stdout
/// and stderr in files.
struct Node {
    name: &'static str,
    node: &'static str,
    port: u16,
    db: PathBuf,
    out: PathBuf,
    err: PathBuf,
    _proc: Kill,
}

impl Node {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn get(&self, lab: &Lab, path: &str) -> String {
        let out = lab
            .command_in(self.node, "curl")
            .unwrap()
            .args([
                "-sf",
                "-m",
                "5",
                &format!("http://127.0.0.1:{}{path}", self.port),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{} GET {path}", self.name);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn start(
    lab: &Lab,
    dir: &Path,
    name: &'static str,
    node: &'static str,
    port: u16,
    toml: &str,
    east_pw: &str,
) -> Node {
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, toml).unwrap();
    let db = dir.join(format!("{name}.db"));
    let (out, err) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let mut cmd = ServeCmd::bare(lab).in_node(node).verbose();
    if node != "noc" {
        // The site's own router only (its address on the link to the noc).
        let end = if node == "east" {
            "east:eth0"
        } else {
            "west:eth1"
        };
        let addr = lab.link_addrs(end).unwrap().0.unwrap().to_string();
        cmd = cmd
            .args(["--seed", &addr, "--prefix", &format!("{addr}/32")])
            .args(["-c", "public", "--rediscover-interval", "0"])
            .poll(1)
            .icmp(1);
    } else {
        cmd = cmd.args(["--rediscover-interval", "0", "--no-icmp"]);
    }
    let cmd = cmd
        .config(&cfg)
        .db(&db)
        .listen(port)
        .env("NOCMAP_NATS_PASSWORD", east_pw);
    let child = cmd
        .command()
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("serve starts");
    Node {
        name,
        node,
        port,
        db,
        out,
        err,
        _proc: Kill(child),
    }
}

/// `tls`: the `ca_file`, `client_cert` and `client_key` lines.
fn nats_section(url: &str, site: &str, role: &str, auth: &str, tls: &str) -> String {
    let beat = if site == "west" && auth.contains("nkey") {
        2
    } else {
        1
    };
    format!(
        "[nats]\nurl = \"{url}\"\nsite = \"{site}\"\nrole = \"{role}\"\n{auth}\n{tls}heartbeat_s = {beat}\n"
    )
}

#[test]
fn sites_over_tls_each_in_its_own_subjects_and_no_secret_travels() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (noc_east, _) = lab.link_addrs("noc:eth0").unwrap();
    let (noc_west, _) = lab.link_addrs("noc:eth1").unwrap();
    let (noc_east, noc_west) = (noc_east.unwrap(), noc_west.unwrap());
    let ca = support::tls::make_ca(d);
    let addrs = format!("IP:127.0.0.1,IP:{noc_east},IP:{noc_west}");
    support::tls::make_signed(d, "server", &addrs, "serverAuth");
    let (cert, cert_key) = support::tls::make_signed(d, "client", "DNS:nocmap", "clientAuth");
    let key = nkeys::KeyPair::new_user();
    let pid = std::process::id();
    let s = Secrets {
        east_pw: format!("east-Pw-{pid}-q7Zr"),
        hq_pw: format!("hq-Pw-{pid}-w3Xk"),
        audit_pw: format!("audit-Pw-{pid}"),
        west_seed: key.seed().unwrap(),
        west_public: key.public_key(),
    };
    std::fs::write(d.join("hq.pw"), format!("{}\n", s.hq_pw)).unwrap();
    std::fs::write(d.join("west.nk"), format!("{}\n", s.west_seed)).unwrap();
    let conf = d.join("nats.conf");
    std::fs::write(&conf, server_config(d)).unwrap();
    let nats_env = [
        ("NOCMAP_HQ_PASSWORD", s.hq_pw.as_str()),
        ("NOCMAP_EAST_PASSWORD", &s.east_pw),
        ("NOCMAP_WEST_NKEY", &s.west_public),
        ("NOCMAP_AUDIT_PASSWORD", &s.audit_pw),
    ];
    let nats =
        support::nats::start_server(&lab, &conf, NATS_MONITOR, &nats_env, &d.join("nats.log"));
    let stop_audit = Arc::new(AtomicBool::new(false));
    let auditor = support::nats::audit(
        &lab,
        format!("tls://127.0.0.1:{NATS_PORT}"),
        async_nats::ConnectOptions::new()
            .user_and_password("audit".into(), s.audit_pw.clone())
            .add_root_certificates(ca.clone())
            .add_client_certificate(cert.clone(), cert_key.clone()),
        stop_audit.clone(),
    );

    let east_url = format!("tls://{noc_east}:{NATS_PORT}");
    let west_url = format!("tls://{noc_west}:{NATS_PORT}");
    let east_auth = "user = \"east\"\npassword = \"env:NOCMAP_NATS_PASSWORD\"";
    let hq_auth = format!(
        "user = \"hq\"\npassword = \"file:{}\"",
        d.join("hq.pw").display()
    );
    let west_auth = format!("nkey_seed = \"file:{}\"", d.join("west.nk").display());
    let ca_line = format!("ca_file = \"{}\"\n", ca.display());
    let cert_lines = format!(
        "client_cert = \"{}\"\nclient_key = \"{}\"\n",
        cert.display(),
        cert_key.display()
    );
    let tls = format!("{ca_line}{cert_lines}");
    let central_toml = nats_section(
        &format!("tls://127.0.0.1:{NATS_PORT}"),
        "hq",
        "central",
        &hq_auth,
        &tls,
    );
    // check-config's line names the transport, the CA and the client
    // certificate, not the secret.
    std::fs::write(d.join("cc.toml"), &central_toml).unwrap();
    let cc = Command::new(support::nocmap_bin())
        .arg("check-config")
        .arg(d.join("cc.toml"))
        .output()
        .unwrap();
    let cc_text = String::from_utf8_lossy(&cc.stdout).into_owned();
    assert!(cc.status.success(), "{cc_text}");
    assert!(
        cc_text.contains("nats: site hq as central via tls://127.0.0.1")
            && cc_text.contains("(user hq; TLS, CA ")
            && cc_text.contains(", client certificate "),
        "{cc_text}"
    );
    let started = now_ms();
    let e = &s.east_pw;
    let poller =
        |url: &str, site: &str, auth: &str, tls: &str| nats_section(url, site, "poller", auth, tls);
    let run = |name, node, port, toml: String| start(&lab, d, name, node, port, &toml, e);
    let nodes = [
        run("central", "noc", CENTRAL_API, central_toml.clone()),
        // East polls as a (one-member) poller group: its lease bucket
        // works within the example's permissions, or it polls nothing.
        run(
            "east",
            "east",
            EAST_API,
            poller(
                &east_url,
                "east",
                east_auth,
                &format!("{tls}group = true\n"),
            ),
        ),
        run(
            "west",
            "west",
            WEST_API,
            poller(&west_url, "west", &west_auth, &tls),
        ),
        // Site west's name, east's credentials.
        run(
            "impostor",
            "west",
            IMPOSTOR_API,
            poller(&west_url, "west", east_auth, &tls),
        ),
        // Right credentials, no CA: the system's roots do not know ours.
        run(
            "no-ca",
            "east",
            NO_CA_API,
            poller(&east_url, "east", east_auth, &cert_lines),
        ),
        // Right credentials and CA, no client certificate.
        run(
            "no-cert",
            "west",
            NO_CERT_API,
            poller(&west_url, "west", &west_auth, &ca_line),
        ),
    ];
    let [central, east, west, impostor, no_ca, no_cert] = &nodes;

    // (c) The clients without the CA, or without a certificate, say why.
    let tls_failure = |n: &Node| {
        support::wait_until(
            &format!("{}'s TLS error", n.name),
            Duration::from_secs(20),
            || {
                n.log()
                    .lines()
                    .find(|l| l.contains("cannot connect") && l.contains("TLS handshake failed"))
                    .map(str::to_string)
            },
        )
    };
    let tls_error = tls_failure(no_ca);
    let cert_error = tls_failure(no_cert);
    assert!(
        tls_error.contains("UnknownIssuer") && tls_error.contains("nats.ca_file"),
        "{tls_error}"
    );
    assert!(cert_error.contains("client certificate"), "{cert_error}");
    let tls_after = (now_ms() - started) as f64 / 1_000.0;
    assert!(
        tls_error.contains("UnknownIssuer") && tls_error.contains("nats.ca_file"),
        "{tls_error}"
    );

    // (a) Both sites' samples at the central, over TLS.
    support::wait_until(
        "east's and west's samples at the central",
        Duration::from_secs(40),
        || {
            let c = rows(&central.db, i64::MAX);
            let has = |db: &Path| {
                rows(db, i64::MAX)
                    .keys()
                    .next()
                    .is_some_and(|k| c.keys().any(|c| c.0 == k.0))
            };
            (has(&east.db) && has(&west.db)).then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(4));
    support::wait_until("both journals drained", Duration::from_secs(20), || {
        (count(&east.db, "site_journal") == 0 && count(&west.db, "site_journal") == 0).then_some(())
    });
    let to = now_ms() - 3_000;
    let mut expected = rows(&east.db, to);
    let from_east = expected.len();
    expected.extend(rows(&west.db, to));
    let from_west = expected.len() - from_east;
    let mut got = Rows::new();
    for _ in 0..20 {
        got = rows(&central.db, to);
        if got == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let missing = expected.keys().filter(|k| !got.contains_key(*k)).count();
    let extra = got.keys().filter(|k| !expected.contains_key(*k)).count();
    let differ = expected
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .count();
    assert!(
        from_east > 20 && from_west > 20 && missing == 0 && extra == 0 && differ == 0,
        "{from_east} east and {from_west} west samples: {missing} missing at the central, \
         {extra} extra, {differ} with another value"
    );

    let east_metrics = east.get(&lab, "/metrics");
    assert!(
        east_metrics.contains("nocmap_poller_leases_held{site=\"east\"}")
            && !east_metrics.contains("nocmap_poller_leases_held{site=\"east\"} 0"),
        "east, a poller group of one, holds its devices' leases:\n{east_metrics}"
    );

    // (b) The impostor: refused, logged, counted, nothing forgotten.
    let impostor_log = impostor.log();
    let refused: Vec<&str> = impostor_log
        .lines()
        .filter(|l| {
            l.contains("refused by the server's permissions")
                && l.contains("Permissions Violation for Publish to")
                && l.contains("nocmap.site.west.heartbeat")
        })
        .collect();
    let refusals = refused.len();
    assert!(refusals >= 1, "the impostor's log:\n{impostor_log}");
    eprintln!(
        "the no-CA client: {tls_error}\nthe no-certificate client: {cert_error}\nthe impostor: {}",
        refused[0]
    );
    let metrics = impostor.get(&lab, "/metrics");
    let violations = support::metric(&metrics, "nocmap_nats_permission_violations_total");
    assert!(violations.is_some_and(|v| v >= 2.0), "{metrics}");
    let (owed, stored) = (
        count(&impostor.db, "site_journal"),
        count(&impostor.db, "samples"),
    );
    assert!(
        stored > 20 && owed >= stored,
        "the impostor stored {stored} samples and owes {owed}"
    );
    let server_log = std::fs::read_to_string(d.join("nats.log")).unwrap();
    assert!(
        server_log.contains("Publish Violation - User \"east\", Subject \"nocmap.site.west."),
        "{server_log}"
    );
    // (c) still not connected, and counted.
    let m = no_ca.get(&lab, "/metrics");
    assert_eq!(
        support::metric(&m, "nocmap_nats_connected"),
        Some(0.0),
        "{m}"
    );
    assert!(support::metric(&m, "nocmap_nats_connect_failures_total").is_some_and(|v| v >= 1.0));

    // (d) No secret anywhere.
    let secrets = [&s.east_pw, &s.hq_pw, &s.west_seed];
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for n in &nodes {
        places.push((format!("{} stdout", n.name), std::fs::read(&n.out).unwrap()));
        places.push((format!("{} stderr", n.name), n.log().into_bytes()));
        for path in [
            "/metrics",
            "/api/devices",
            "/api/topology",
            "/api/discovery",
            "/api/alerts",
            "/api/whoami",
        ] {
            places.push((format!("{} {path}", n.name), n.get(&lab, path).into_bytes()));
        }
    }
    places.push(("check-config".into(), cc.stdout.clone()));
    places.push(("nats-server's log".into(), server_log.into_bytes()));
    for f in support::nats::files_under(&d.join("js")) {
        places.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    stop_audit.store(true, Ordering::Relaxed);
    let seen = auditor.join().unwrap();
    drop(nats);
    let west_beats: Vec<i64> = seen
        .iter()
        .filter(|(subject, _)| subject == &wire::heartbeat_subject("west"))
        .map(|(_, p)| {
            serde_json::from_slice::<wire::Heartbeat>(p)
                .unwrap()
                .every_ms
        })
        .collect();
    let east_batches = seen
        .iter()
        .filter(|(subject, _)| subject == &wire::samples_subject("east"))
        .count();
    assert!(
        east_batches > 0 && west_beats.iter().filter(|&&e| e == 2_000).count() >= 2,
        "the audit saw {east_batches} east batches, west heartbeats {west_beats:?}"
    );
    // The impostor beats every second; the real west every two.
    assert!(
        west_beats.iter().all(|&e| e == 2_000),
        "an impostor's heartbeat passed the server: {west_beats:?}"
    );
    for (subject, payload) in &seen {
        places.push((format!("the message on {subject}"), payload.clone()));
        places.push((
            format!("the subject {subject}"),
            subject.clone().into_bytes(),
        ));
    }
    let mut leaks = Vec::new();
    for (place, bytes) in &places {
        for secret in secrets {
            if support::nats::contains(bytes, secret.as_bytes()) {
                leaks.push(place.clone());
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "a secret in {leaks:?} (of {} places)",
        places.len()
    );
    eprintln!(
        "TLS error after {tls_after:.1} s; {from_east} east and {from_west} west samples at the \
         central value by value; the impostor: {refusals} refusals logged, {} counted, {owed} \
         journalled of {stored}; {} messages audited, {} places free of secrets; {:.0} s",
        violations.unwrap_or(0.0),
        seen.len(),
        places.len(),
        t0.elapsed().as_secs_f64()
    );
}
