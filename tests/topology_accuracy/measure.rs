//! The measurement: every snmpsim-data recording with LLDP, CDP or
//! forwarding tables, served by snmpsim on 127.0.0.1 inside a throw-away
//! namespace, discovered by `nocmap discover --json` as a user runs it, and
//! scored against the oracle. Writes target/accuracy/ (the table, the
//! per-row details, each discover's JSON) and prints the table.
#![allow(dead_code)]
use super::compare::{Score, score};
use super::oracle::{CDP_CACHE, LLDP_REM, Oracle, Proto};
use crate::support;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The enterprise (1.3.6.1.4.1.N) of a sysObjectID, by IANA's registry.
pub fn vendor_of(sys_object_id: Option<&str>, descr: Option<&str>) -> String {
    let n = sys_object_id
        .and_then(|o| o.strip_prefix("1.3.6.1.4.1."))
        .and_then(|r| r.split('.').next())
        .and_then(|n| n.parse::<u32>().ok());
    let name = match n {
        Some(9) => "Cisco",
        Some(11) => "HP",
        Some(171) => "D-Link",
        Some(233) => "NetManage",
        Some(1991) => "Brocade (Foundry)",
        Some(2011) => "Huawei",
        Some(2636) => "Juniper",
        Some(3320) => "BDCOM",
        Some(3902) => "ZTE",
        Some(4881) => "Ruijie",
        Some(5651) => "Maipu",
        Some(6339) => "Digital China (DCN)",
        Some(14823) => "Aruba",
        Some(25506) => "H3C",
        Some(30065) => "Arista",
        Some(31648) => "DPtech",
        Some(n) => return format!("? (enterprise {n})"),
        None => "",
    };
    if !name.is_empty() {
        return name.to_string();
    }
    match descr {
        Some(d) => format!("? ({})", d.chars().take(24).collect::<String>()),
        None => "?".into(),
    }
}

/// A recording chosen for the measurement.
pub struct Candidate {
    pub rel: String,
    pub name: String,
    pub oracle: Oracle,
    pub lldp: usize,
    pub cdp: usize,
}

/// Every recording (path relative to the data dir, without `.snmprec`).
pub fn all_recordings() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if let Some(rel) = p
                .strip_prefix(root)
                .ok()
                .and_then(|r| r.to_str())
                .and_then(|r| r.strip_suffix(".snmprec"))
            {
                out.push(rel.to_string());
            }
        }
    }
    let root = support::recordings::data_dir();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The recordings holding an LLDP remote table, a CDP cache or a bridge
/// forwarding table (even a near-empty one).
pub fn candidates() -> Vec<Candidate> {
    let fdb = [super::fdb::DOT1D_TP_FDB, super::fdb::DOT1Q_TP_FDB];
    all_recordings()
        .into_iter()
        .filter_map(|rel| {
            // A cheap look at the text first: parsing all 116 takes minutes.
            let raw = std::fs::read(support::recordings::recording_path(&rel)).ok()?;
            let raw = String::from_utf8_lossy(&raw);
            let dotted = |p: &[u32]| {
                p.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(".")
                    + "."
            };
            let prefixes: Vec<String> = [LLDP_REM, CDP_CACHE]
                .into_iter()
                .chain(fdb)
                .map(dotted)
                .collect();
            if !raw
                .lines()
                .any(|l| prefixes.iter().any(|p| l.starts_with(p.as_str())))
            {
                return None;
            }
            let vbs = super::oracle::relevant_varbinds(&raw);
            let oracle = Oracle::read(&vbs);
            let count = |p| oracle.rows.iter().filter(|r| r.proto == p).count();
            Some(Candidate {
                name: rel.rsplit('/').next().unwrap().to_string(),
                lldp: count(Proto::Lldp),
                cdp: count(Proto::Cdp),
                rel,
                oracle,
            })
        })
        .collect()
}

/// Kills the snmpsim we started, by its pid, when the measurement ends.
struct Sim(std::process::Child);
impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One recording's outcome.
pub struct Outcome {
    pub score: Option<Score>,
    pub note: String,
}

pub fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/accuracy")
}

/// Serve every candidate and score nocmap's discovery of it.
pub fn run(cands: &[Candidate]) -> Vec<Outcome> {
    let venv = support::recordings::recordings_root().join("venv");
    let ns = support::netns::Netns::new("acc-served");
    let (data, cache) = (ns.dir.join("data"), ns.dir.join("cache"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    for c in cands {
        let text = std::fs::read(support::recordings::recording_path(&c.rel)).unwrap();
        let sorted = support::recordings::sorted_snmprec(&String::from_utf8_lossy(&text));
        std::fs::write(data.join(format!("{}.snmprec", c.name)), sorted).unwrap();
    }
    let out = support::netns::sh(&format!(
        "chown -R nobody:nogroup {d} && chmod -R a+rX {d}",
        d = ns.dir.display()
    ));
    assert!(out.status.success(), "chown: {out:?}");
    let log = ns.dir.join("snmpsim.log");
    let _sim = Sim(ns
        .cmd(venv.join("bin/snmpsim-command-responder").to_str().unwrap())
        .arg(format!("--data-dir={}", data.display()))
        .arg(format!("--cache-dir={}", cache.display()))
        .arg("--agent-udpv4-endpoint=127.0.0.1:1161")
        .args(["--process-user=nobody", "--process-group=nogroup"])
        .arg(format!("--logging-method=file:{}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start snmpsim"));
    // snmpsim indexes every file before it listens: once it says so, all
    // recordings answer.
    let listening = (0..2400).any(|_| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let ok = text.contains("Listening at UDP/IPv4 endpoint 127.0.0.1:1161");
        if !ok {
            std::thread::sleep(Duration::from_millis(250));
        }
        ok
    });
    assert!(
        listening,
        "snmpsim never listened; log in {}",
        log.display()
    );
    let json_dir = out_dir().join("json");
    std::fs::create_dir_all(&json_dir).unwrap();
    let mut outcomes = Vec::new();
    for c in cands {
        let started = Instant::now();
        let out = ns
            .cmd("timeout")
            .arg("900")
            .arg(env!("CARGO_BIN_EXE_nocmap"))
            .args(["discover", "--seed", "127.0.0.1", "--port", "1161"])
            .args(["-c", &c.name, "--json"])
            .output()
            .expect("run nocmap");
        let took = started.elapsed();
        std::fs::write(json_dir.join(format!("{}.json", c.name)), &out.stdout).unwrap();
        let topo: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
        let Some(topo) = topo.filter(|_| out.status.success()) else {
            outcomes.push(Outcome {
                score: None,
                note: format!(
                    "discover failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                ),
            });
            continue;
        };
        let partial: Vec<String> = topo["devices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["managed"] == true)
            .flat_map(|d| d["partial"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let mut note = format!("{:.0?}", took);
        if !partial.is_empty() {
            note += &format!("; partial: {}", partial.join("; "));
        }
        eprintln!("{}: discovered in {took:.1?}", c.name);
        outcomes.push(Outcome {
            score: Some(score(&c.oracle, &topo)),
            note,
        });
    }
    outcomes
}

/// Missed hosts, and how many of them nocmap listed as not placed with a
/// reason.
fn missed(s: &Score) -> String {
    match s.fdb_missed_listed {
        0 => s.fdb_missed.to_string(),
        n => format!("{} ({n} listed, reason)", s.fdb_missed),
    }
}

/// The markdown table, the per-row details and the totals.
pub fn render(cands: &[Candidate], outcomes: &[Outcome]) -> (String, String, Score) {
    let mut t = String::from(
        "| recording | vendor (sysObjectID) | nocmap vendor | LLDP rows | CDP rows | right | unresolved, reason | unresolved, no reason | wrong | dropped | extra links | oracle undecidable | FDB hosts (oracle) | FDB right | FDB on uplink | FDB wrong | FDB missed |\n\
         |---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let mut details = String::new();
    let mut total = Score::default();
    let (mut tl, mut tc) = (0, 0);
    let mut vendors = std::collections::BTreeSet::new();
    let mut neighbour_vendors = std::collections::BTreeSet::new();
    let mut with_rows = 0;
    for (c, o) in cands.iter().zip(outcomes) {
        let vendor = vendor_of(
            c.oracle.sys_object_id.as_deref(),
            c.oracle.sys_descr.as_deref(),
        );
        if !vendor.starts_with('?') {
            vendors.insert(vendor.clone());
            if c.lldp + c.cdp > 0 {
                neighbour_vendors.insert(vendor.clone());
            }
        }
        with_rows += usize::from(c.lldp + c.cdp > 0);
        details += &format!("## {} ({})\n{}\n", c.rel, o.note, "");
        let Some(s) = &o.score else {
            t += &format!(
                "| {} | {vendor} | – | {} | {} | {} ||||||||||||\n",
                c.rel, c.lldp, c.cdp, o.note
            );
            continue;
        };
        for d in &s.details {
            details += &format!("- {d}\n");
        }
        tl += c.lldp;
        tc += c.cdp;
        add(&mut total, s);
        t += &format!(
            "| {} | {vendor} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.rel,
            s.vendor.as_deref().unwrap_or("–"),
            c.lldp,
            c.cdp,
            s.right,
            s.unresolved_reason,
            s.unresolved_silent,
            s.wrong,
            s.dropped,
            s.extra,
            if s.undecidable > 0 {
                format!("{} ({} named)", s.undecidable, s.undecidable_named)
            } else {
                "0".into()
            },
            s.fdb_hosts,
            s.fdb_right,
            s.fdb_uplink,
            s.fdb_wrong,
            missed(&s)
        );
    }
    t += &format!(
        "| **total: {} recordings, {} known vendors** | | | {tl} | {tc} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        cands.len(),
        vendors.len(),
        total.right,
        total.unresolved_reason,
        total.unresolved_silent,
        total.wrong,
        total.dropped,
        total.extra,
        total.undecidable,
        total.fdb_hosts,
        total.fdb_right,
        total.fdb_uplink,
        total.fdb_wrong,
        missed(&total)
    );
    t += &format!(
        "\n{} recordings from {} known vendors; {with_rows} of them with LLDP/CDP rows, \
         from {} known vendors ({}).\n",
        cands.len(),
        vendors.len(),
        neighbour_vendors.len(),
        neighbour_vendors.into_iter().collect::<Vec<_>>().join(", ")
    );
    let sh = |c: &str| {
        std::process::Command::new("sh")
            .args(["-c", c])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    t += &format!(
        "Measured {} on commit {} (snmpsim-data 1.0.1 from PyPI, served by snmpsim 1.2.2).\n",
        sh("date -u +%Y-%m-%dT%H:%MZ"),
        sh("git rev-parse --short HEAD")
    );
    (t, details, total)
}

fn add(t: &mut Score, s: &Score) {
    t.right += s.right;
    t.unresolved_reason += s.unresolved_reason;
    t.unresolved_silent += s.unresolved_silent;
    t.wrong += s.wrong;
    t.dropped += s.dropped;
    t.extra += s.extra;
    t.undecidable += s.undecidable;
    t.fdb_hosts += s.fdb_hosts;
    t.fdb_right += s.fdb_right;
    t.fdb_uplink += s.fdb_uplink;
    t.fdb_wrong += s.fdb_wrong;
    t.fdb_missed += s.fdb_missed;
    t.fdb_missed_listed += s.fdb_missed_listed;
}
