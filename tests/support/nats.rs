//! A real nats-server in a lab namespace, started with a config file, and
//! an audit subscriber that records every message passing it.
use super::Kill;
use nocmap_lab::Lab;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Fails the test unless a `nats-server` binary runs (the sites labs need
/// one; `.ci/run` installs Debian's).
pub fn require_server() {
    let ok = std::process::Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "nats-server is needed (Debian package `nats-server`; .ci/run installs it)"
    );
}

/// `nats-server -c conf -m monitor` in the noc's namespace with `env` (the
/// config's `$VARIABLES`), its log in `log`; returns once `/healthz`
/// answers on the monitor port.
pub fn start_server(
    lab: &Lab,
    conf: &Path,
    monitor: u16,
    env: &[(&str, &str)],
    log: &Path,
) -> Kill {
    let mut cmd = lab.command_in("noc", "nats-server").unwrap();
    cmd.arg("-c").arg(conf).args(["-m", &monitor.to_string()]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start nats-server");
    let server = Kill(child);
    super::wait_until("nats-server ready", Duration::from_secs(20), || {
        super::noc_get(lab, monitor, "/healthz")
    });
    server
}

/// An open nats-server with JetStream (store under `dir/js`, log in
/// `dir/nats.log`) in the noc's namespace on `port`, its monitor on
/// `monitor`; returns once `/healthz` answers.
pub fn start_jetstream(lab: &Lab, dir: &Path, port: u16, monitor: u16) -> Kill {
    let log = std::fs::File::create(dir.join("nats.log")).unwrap();
    let child = lab
        .command_in("noc", "nats-server")
        .unwrap()
        .args(["-js", "-sd"])
        .arg(dir.join("js"))
        .args(["-a", "0.0.0.0", "-p", &port.to_string()])
        .args(["-m", &monitor.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start nats-server");
    let server = Kill(child);
    super::wait_until("nats-server ready", Duration::from_secs(20), || {
        super::noc_get(lab, monitor, "/healthz")
    });
    server
}

/// A WAN cut: nftables table `table` in `node` drops everything to and
/// from `peer`. [`heal`] lifts it.
pub fn cut(lab: &Lab, node: &str, table: &str, peer: &str) {
    super::nft(
        lab,
        node,
        &format!(
            "table inet {table} {{
               chain o {{ type filter hook output priority 0; ip daddr {peer} drop; }}
               chain i {{ type filter hook input priority 0; ip saddr {peer} drop; }}
             }}"
        ),
    );
}

pub fn heal(lab: &Lab, node: &str, table: &str) {
    super::nft(lab, node, &format!("delete table inet {table}"));
}

/// A client on a thread of its own in the noc's namespace, connected by
/// `options` to `url`, subscribed to `>`: (subject, payload) of every
/// message the server let through, until `stop`.
pub fn audit(
    lab: &Lab,
    url: String,
    options: async_nats::ConnectOptions,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(String, Vec<u8>)>> {
    use futures::StreamExt;
    let path = format!("/run/netns/{}", lab.ns("noc").unwrap());
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let ns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a valid namespace fd.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = options
                .connect(url)
                .await
                .expect("the audit client connects");
            let mut sub = client.subscribe(">").await.unwrap();
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let next = tokio::time::timeout(Duration::from_millis(200), sub.next()).await;
                if let Ok(Some(m)) = next {
                    seen.push((m.subject.to_string(), m.payload.to_vec()));
                }
            }
            seen
        })
    })
}

/// Every file under `dir` (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Whether `needle` is somewhere in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// One stored sample: (device, subject, metric, time) → value bits.
pub type Rows = std::collections::BTreeMap<(String, String, String, i64), u64>;

/// Every sample in `db` with a time in `from..=to`.
pub fn sample_rows(db: &Path, from: i64, to: i64) -> Rows {
    let c = super::crash::read_only(db);
    let mut st = c
        .prepare(
            "SELECT s.device, s.subject, s.metric, x.t_ms, x.value
             FROM samples x JOIN series s ON s.id = x.series_id
             WHERE x.t_ms >= ?1 AND x.t_ms <= ?2",
        )
        .unwrap();
    st.query_map([from, to], |r| {
        Ok((
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
            r.get::<_, f64>(4)?.to_bits(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// How `central` differs from `site`: (missing, extra, another value).
pub fn differences(site: &Rows, central: &Rows) -> (usize, usize, usize) {
    let missing = site.keys().filter(|k| !central.contains_key(*k)).count();
    let extra = central.keys().filter(|k| !site.contains_key(*k)).count();
    let differ = site
        .iter()
        .filter(|(k, v)| central.get(*k).is_some_and(|c| c != *v))
        .count();
    (missing, extra, differ)
}

/// Now, wall milliseconds (the stores' sample times).
pub fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}

/// A syslog message (RFC 5424 over UDP, daemon.warning, tag `ifmgr`) from
/// `dev` to a site poller's syslog receiver at `addr`:`port`.
pub fn log_from_dev(lab: &Lab, addr: &str, port: u16, text: &str) {
    let out = lab
        .command_in("dev", "logger")
        .unwrap()
        .args(["--udp", "--rfc5424", "-n", addr, "-P"])
        .arg(port.to_string())
        .args(["-p", "daemon.warning", "-t", "ifmgr", text])
        .output()
        .unwrap();
    assert!(out.status.success(), "logger: {out:?}");
}

/// The syslog messages (their text, sorted) of the last hour stored by
/// the `serve` at `node`:`port` (none while it does not answer).
pub fn syslog_texts(lab: &Lab, node: &str, port: u16) -> Vec<String> {
    let Some(body) = super::get_in(lab, node, port, "/api/events?kind=syslog&since=1h") else {
        return vec![];
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let mut texts: Vec<String> = v["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str().map(String::from))
        .collect();
    texts.sort();
    texts
}
