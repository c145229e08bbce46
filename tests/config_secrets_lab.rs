//! Secrets never leave: a lab whose agents take a unique community and v3
//! pass phrases, a config that holds them literally, through `env:` and
//! through `file:`, plus admin and read-only API tokens. Every command a
//! user runs (check-config, discover, export, serve with its API, events,
//! metrics and reports, report), at debug log level, and the database file
//! afterwards are searched for every secret. The test also checks that the
//! secrets were really used (the v3 credential discovered the lab).
#[macro_use]
mod support;
use std::process::Output;
use std::time::Duration;
use support::lab::LabToml;

const COMMUNITY: &str = "scComm7Q2x9";
const WRONG_COMMUNITY: &str = "scWrong4Hh1";
const AUTH_PASS: &str = "sc-auth-Pw-81kz";
const PRIV_PASS: &str = "sc-priv-Pw-55mq";
const ADMIN: &str = "sc-admin-token-Zx81Lq0p";
const VIEWER: &str = "sc-view-token-Ab37Kd9w";
const HOOK_TOKEN: &str = "sc-hook-token-Qm29Vr4t";
const SECRETS: [&str; 7] = [
    COMMUNITY,
    WRONG_COMMUNITY,
    AUTH_PASS,
    PRIV_PASS,
    ADMIN,
    VIEWER,
    HOOK_TOKEN,
];

fn lab_toml() -> String {
    let credentials = format!(
        r#"[credentials]
community = "{COMMUNITY}"
v3_user = "scuser"
auth_pass = "{AUTH_PASS}"
priv_pass = "{PRIV_PASS}"
"#
    );
    LabToml::new("sc", "10.86.0.0/16")
        .raw(&credentials)
        .routers(&["r1", "r2"])
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1")
        .build()
}

/// Everything the commands printed, with what produced it.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, what: &str, out: &Output) {
        self.0.push((
            format!("{what} (stdout)"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        self.0.push((
            format!("{what} (stderr)"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }

    fn add_bytes(&mut self, what: &str, bytes: &[u8]) {
        // Binary files: look at the bytes as Latin-1 so any ASCII secret shows.
        self.0
            .push((what.to_string(), bytes.iter().map(|&b| b as char).collect()));
    }
}

#[test]
fn no_output_file_or_api_answer_carries_a_secret() {
    require_root!();
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let priv_file = dir.path().join("priv");
    std::fs::write(&priv_file, format!("{PRIV_PASS}\n")).unwrap();
    let cfg = dir.path().join("nocmap.toml");
    let config = format!(
        r#"[snmp]
timeout_ms = 300
retries = 0

[[credentials]]
name = "wrong"
version = "2c"
community = "{WRONG_COMMUNITY}"

[[credentials]]
name = "v3"
version = "3"
user = "scuser"
security_level = "authPriv"
auth_protocol = "SHA-256"
auth_password = "env:SC_TEST_AUTH"
priv_protocol = "AES"
priv_password = "file:{}"

[[credentials]]
name = "v2"
version = "2c"
community = "{COMMUNITY}"

[discovery]
prefixes = ["10.86.0.0/16"]
# The second seed has no host: discovery must name it, and why.
seeds = ["{seed}", "10.86.250.1"]

[server]
listen = "127.0.0.1:18086"
token = "{ADMIN}"
read_only_token = "{VIEWER}"

# An alert that fires at once, to a receiver that is not there: the
# delivery errors are logged, the token must not be.
[[alert]]
name = "any-traffic"
kind = "bps"
direction = "either"
threshold = 0.0
for_s = 0
severity = "info"

[[receiver]]
name = "hook"
url = "http://127.0.0.1:9/hook"
format = "alertmanager"
bearer_token = "{HOOK_TOKEN}"
"#,
        priv_file.display()
    );
    std::fs::write(&cfg, &config).unwrap();
    let bin = support::nocmap_bin();
    let run = |args: &[&str]| -> Output {
        lab.command_in("noc", bin.to_str().unwrap())
            .unwrap()
            .env("RUST_LOG", "debug")
            .env("SC_TEST_AUTH", AUTH_PASS)
            .args(args)
            .output()
            .unwrap()
    };
    let mut seen = Seen::default();
    let cfg_s = cfg.to_str().unwrap();

    let out = run(&["check-config", cfg_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.add("check-config", &out);
    // A broken copy: errors next to the secrets must not quote them.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config
            .replace("retries = 0", "retries = \"none\"")
            .replace("env:SC_TEST_AUTH", "env:SC_TEST_UNSET")
            .replace(&format!("token = \"{ADMIN}\""), &format!("token = {ADMIN}")),
    )
    .unwrap();
    let out = run(&["check-config", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    seen.add("check-config (broken)", &out);

    let topo = dir.path().join("topo.json");
    let out = run(&[
        "discover",
        "--config",
        cfg_s,
        "--out",
        topo.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.add("discover", &out);
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&topo).unwrap()).unwrap();
    let managed = t["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["managed"] == true)
        .count();
    assert_eq!(
        managed, 2,
        "the secrets did not get the lab discovered: {t}"
    );
    seen.add_bytes("topology.json", &std::fs::read(&topo).unwrap());
    for fmt in ["json", "graphml", "dot", "netbox"] {
        let out = run(&["export", "--in", topo.to_str().unwrap(), "--format", fmt]);
        seen.add(&format!("export {fmt}"), &out);
    }

    let db = dir.path().join("nocmap.db");
    let serve = lab
        .command_in("noc", bin.to_str().unwrap())
        .unwrap()
        .env("RUST_LOG", "debug")
        .env("SC_TEST_AUTH", AUTH_PASS)
        .args([
            "serve",
            "--config",
            cfg_s,
            "--poll-interval",
            "3",
            "--icmp-interval",
            "2",
        ])
        .args(["--rediscover-interval", "0", "--db"])
        .arg(&db)
        // Files, not pipes: nobody reads a pipe until the end, and a full
        // pipe would stall the logging monitor.
        .stdout(std::fs::File::create(dir.path().join("serve.out")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("serve.err")).unwrap())
        .spawn()
        .unwrap();
    let mut serve = serve;
    let curl = |path: &str, token: Option<&str>| -> Output {
        let mut c = lab.command_in("noc", "curl").unwrap();
        c.args(["-s", "-m", "2", "-i"]);
        if let Some(t) = token {
            c.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        c.arg(format!("http://127.0.0.1:18086{path}"))
            .output()
            .unwrap()
    };
    // Wait for the first counter polls.
    let mut ready = false;
    for _ in 0..40 {
        let out = curl("/metrics", Some(VIEWER));
        if String::from_utf8_lossy(&out.stdout).contains("nocmap_interface_in_bytes_per_second") {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    if !ready {
        let _ = lab.command_in("noc", "true");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(serve.id() as i32, libc::SIGKILL) };
        let _ = serve.wait();
        let tail: String = std::fs::read_to_string(dir.path().join("serve.err"))
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n");
        panic!("serve never polled counters; its last log lines (newest first):\n{tail}");
    }
    // The alert fires on the first rate, which takes two polls and, with
    // the counter-refresh watch, up to one agent refresh more each.
    for _ in 0..60 {
        let out = curl("/api/alerts", Some(VIEWER));
        if String::from_utf8_lossy(&out.stdout).contains("any-traffic") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    for (path, token) in [
        ("/api/whoami", Some(ADMIN)),
        ("/api/devices", Some(ADMIN)),
        ("/api/topology", Some(VIEWER)),
        ("/metrics", Some(VIEWER)),
        ("/api/events", Some(VIEWER)),
        ("/api/map/positions", Some(VIEWER)),
        ("/api/alerts", Some(VIEWER)),
        ("/api/discovery", Some(VIEWER)),
        ("/api/alerts/history?since=1h", Some(VIEWER)),
        (
            "/api/reports/reachability?since=1h&format=html",
            Some(VIEWER),
        ),
        (
            "/api/reports/reachability?since=1h&format=csv",
            Some(VIEWER),
        ),
        ("/api/reports/bandwidth?since=1h&format=json", Some(VIEWER)),
        ("/api/devices", None),
        ("/api/devices", Some("not-the-token-0000")),
        ("/", None),
    ] {
        let out = curl(path, token);
        seen.add(&format!("GET {path}"), &out);
    }
    // The dead seed is listed with the credential sets tried (by name).
    let out = String::from_utf8_lossy(&curl("/api/discovery", Some(VIEWER)).stdout).into_owned();
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let status: serde_json::Value = serde_json::from_str(body).expect("discovery JSON");
    eprintln!("/api/discovery: {status}");
    let last = &status["last"];
    assert_eq!(status["runs"], 1, "{status}");
    assert!(last["managed_devices"].as_u64().unwrap() >= 2, "{status}");
    let unreachable = last["unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 1, "{status}");
    assert_eq!(unreachable[0]["addr"], "10.86.250.1");
    let reason = unreachable[0]["reason"].as_str().unwrap();
    assert_eq!(
        reason,
        "10.86.250.1:161: cannot reach the agent: Network is unreachable (os error 101)"
    );
    let metrics = String::from_utf8_lossy(&curl("/metrics", Some(VIEWER)).stdout).into_owned();
    assert!(
        metrics.contains("\nnocmap_discovery_unreachable_agents 1\n"),
        "{metrics}"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    assert!(serve.wait().unwrap().success());
    let err = std::fs::read_to_string(dir.path().join("serve.err")).unwrap();
    let out_text = std::fs::read_to_string(dir.path().join("serve.out")).unwrap();
    assert!(err.contains("DEBUG"), "serve did not log at debug level");
    assert!(
        seen.0
            .iter()
            .any(|(w, t)| w.starts_with("GET /api/alerts ") && t.contains("any-traffic")),
        "the alert never fired, so its delivery was not exercised"
    );
    seen.0.push(("serve (stderr)".into(), err));
    seen.0.push(("serve (stdout)".into(), out_text));

    for (kind, fmt) in [
        ("reachability", "html"),
        ("reachability", "csv"),
        ("bandwidth", "json"),
    ] {
        let out = run(&[
            "report",
            kind,
            "--db",
            db.to_str().unwrap(),
            "--since",
            "1h",
            "--format",
            fmt,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen.add(&format!("report {kind} {fmt}"), &out);
    }
    for f in ["nocmap.db", "nocmap.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            seen.add_bytes(f, &bytes);
        }
    }

    let mut leaks = Vec::new();
    for (what, text) in &seen.0 {
        for s in SECRETS {
            if text.contains(s) {
                leaks.push(format!("{s} in {what}"));
            }
        }
    }
    let bytes: usize = seen.0.iter().map(|(_, t)| t.len()).sum();
    eprintln!(
        "searched {} outputs, {bytes} bytes, for {} secrets",
        seen.0.len(),
        SECRETS.len()
    );
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}
