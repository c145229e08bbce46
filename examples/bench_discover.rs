//! Benchmark: `nocmap discover` from one seed on a generated lab of managed
//! routers (real snmpd + lldpd in namespaces), after LLDP has settled. Reports
//! wall time, peak RSS (`/usr/bin/time -v`) and how much of the lab's ground
//! truth (`Lab::truth`) it found: devices by sysName, links by interface pairs,
//! with precision and recall and every difference spelled out.
//!
//! The lab, `ltbench` on 10.73.0.0/16: a core ring of CORE routers (`cNN`,
//! `cNN:eth1` to the next core's `eth2`), each with LEAVES leaf routers
//! (`lNNK`, uplink `eth1` to the core's `eth{3+k}`); the noc hangs off `c01`.
//! Every other router sends its ifName as LLDP port id, the rest their MAC
//! (subtype 3), so both resolutions are exercised. Run as root:
//!   cargo build --release --bins && cargo run --release --example bench_discover -- [CORE] [LEAVES] [RUNS]
//! Defaults 10 4 3: 50 routers, 50 router-router links. `--toml` prints the
//! generated description and exits. The `nocmap` under test is
//! `$NOCMAP_BIN`, else `target/release/nocmap`; the lab's own processes run
//! the `nocmap-lab` beside it.
use nocmap_lab::{Lab, LabOptions, LabSpec, LabTruth};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LAB: &str = "ltbench";
const PREFIX: &str = "10.73.0.0/16";
/// Neighbour hops followed from the seed; the ring needs more than the
/// CLI's default of 3 (farthest leaf: CORE/2 + 1 hops).
const DEPTH: &str = "64";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print_toml = args.iter().any(|a| a == "--toml");
    let nums: Vec<usize> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse().expect("CORE LEAVES RUNS are numbers"))
        .collect();
    let core = nums.first().copied().unwrap_or(10);
    let leaves = nums.get(1).copied().unwrap_or(4);
    let runs = nums.get(2).copied().unwrap_or(3);
    let text = lab_toml(core, leaves);
    if print_toml {
        print!("{text}");
        return;
    }
    let bin = std::env::var_os("NOCMAP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/nocmap"));
    assert!(
        bin.exists(),
        "build first: cargo build --release --bins ({bin:?})"
    );
    let lab_bin = bin.with_file_name("nocmap-lab");

    let spec = LabSpec::from_toml(&text).unwrap_or_else(|e| panic!("generated lab: {e}"));
    let t0 = Instant::now();
    let opts = LabOptions {
        lab_bin: Some(lab_bin),
        snmp_ready_timeout: Duration::from_secs(30),
        ..LabOptions::default()
    };
    let lab = Lab::up_with(spec, opts).unwrap_or_else(|e| panic!("lab up: {e}"));
    let up_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    lab.wait_lldp_settled(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("LLDP: {e}"));
    let truth = lab.truth();
    let managed = truth.nodes.iter().filter(|n| n.managed).count();
    println!(
        "lab {LAB}: {managed} managed routers, {} cables; up in {up_s:.1} s, LLDP settled {:.1} s later",
        truth.links.len(),
        t1.elapsed().as_secs_f64()
    );
    let seed = lab.mgmt_addr("c01").expect("c01").to_string();
    println!(
        "command: ip netns exec {} /usr/bin/time -v {} discover --seed {seed} --prefix {PREFIX} -c public --depth {DEPTH} --json",
        lab.noc_ns(),
        bin.display()
    );
    println!(
        "run  load1  wall_s  maxrss_MB  devices  dev_prec  dev_recall  links  link_prec  link_recall  exit"
    );
    for run in 1..=runs {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load1 = load.split_whitespace().next().unwrap_or("?").to_owned();
        let started = Instant::now();
        let out = lab
            .command_in("noc", "/usr/bin/time")
            .expect("noc")
            .arg("-v")
            .arg(&bin)
            .args(["discover", "--seed", &seed, "--prefix", PREFIX])
            .args(["-c", "public", "--depth", DEPTH, "--json"])
            .output()
            .expect("run nocmap discover");
        let wall = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss_mb = max_rss_kb(&stderr).map_or(f64::NAN, |kb| kb as f64 / 1024.0);
        let topo: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("discover output is not JSON ({e}); stderr:\n{stderr}"));
        let score = Score::compare(&truth, &topo);
        println!(
            "{run:<4} {load1:<6} {wall:<7.2} {rss_mb:<10.1} {:<8} {:<9.3} {:<11.3} {:<6} {:<10.3} {:<12.3} {}",
            score.found_devices.len(),
            score.device_precision(),
            score.device_recall(),
            score.found_links.len(),
            score.link_precision(),
            score.link_recall(),
            out.status.code().map_or("signal".into(), |c| c.to_string()),
        );
        if run == 1 {
            print!("{}", score.differences());
            let warnings: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("nocmap:"))
                .collect();
            println!("discover warnings on stderr: {}", warnings.len());
            for w in warnings.iter().take(20) {
                println!("  {w}");
            }
        }
    }
    let t2 = Instant::now();
    drop(lab);
    println!("lab down in {:.1} s", t2.elapsed().as_secs_f64());
}

/// The lab description: a core ring with leaves, the noc on `c01`.
fn lab_toml(core: usize, leaves: usize) -> String {
    assert!(core >= 3, "a ring needs at least 3 core routers");
    let mut s = format!(
        "# Generated by examples/bench_discover.rs ({core} core routers in a ring, \
         {leaves} leaves each).\nname = \"{LAB}\"\nprefix = \"{PREFIX}\"\n"
    );
    let mut n = 0;
    let mut node = |s: &mut String, name: &str| {
        let portid = if n % 2 == 1 { "ifname" } else { "mac" };
        n += 1;
        let _ = write!(
            s,
            "\n[[nodes]]\nname = \"{name}\"\nkind = \"router\"\nlldp_portid = \"{portid}\"\n"
        );
    };
    for c in 1..=core {
        node(&mut s, &format!("c{c:02}"));
        for k in 1..=leaves {
            node(&mut s, &format!("l{c:02}{k}"));
        }
    }
    let link = |s: &mut String, a: &str, b: &str| {
        let _ = write!(s, "\n[[links]]\na = \"{a}\"\nb = \"{b}\"\n");
    };
    link(&mut s, "noc:eth0", "c01:eth0");
    for c in 1..=core {
        let next = c % core + 1;
        link(
            &mut s,
            &format!("c{c:02}:eth1"),
            &format!("c{next:02}:eth2"),
        );
        for k in 1..=leaves {
            link(
                &mut s,
                &format!("c{c:02}:eth{}", 2 + k),
                &format!("l{c:02}{k}:eth1"),
            );
        }
    }
    s
}

/// `Maximum resident set size (kbytes): N` from `/usr/bin/time -v`.
fn max_rss_kb(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
}

/// One side of a link by names: (sysName, ifName).
type End = (String, String);
/// A link as an unordered pair of ends.
type Pair = (End, End);

fn pair(a: End, b: End) -> Pair {
    if a <= b { (a, b) } else { (b, a) }
}

/// Ground truth against what discovery reported.
struct Score {
    want_devices: BTreeSet<String>,
    found_devices: BTreeSet<String>,
    /// Devices discovery listed that did not answer SNMP (neighbour stubs).
    unmanaged: Vec<String>,
    want_links: BTreeSet<Pair>,
    found_links: BTreeSet<Pair>,
    /// Cables with an end on a node that runs no SNMP (the noc): reported,
    /// not scored.
    unscored_truth: Vec<Pair>,
}

impl Score {
    fn compare(truth: &LabTruth, topo: &Value) -> Score {
        let managed: BTreeMap<&str, &str> = truth
            .nodes
            .iter()
            .filter(|n| n.managed)
            .map(|n| (n.name.as_str(), n.sys_name.as_str()))
            .collect();
        let want_devices = managed.values().map(|s| s.to_string()).collect();
        let mut want_links = BTreeSet::new();
        let mut unscored_truth = Vec::new();
        for l in &truth.links {
            let end = |e: &nocmap_lab::Endpoint| {
                (
                    managed
                        .get(e.node.as_str())
                        .map_or(e.node.clone(), |s| s.to_string()),
                    e.ifname.clone(),
                )
            };
            let p = pair(end(&l.a), end(&l.b));
            if managed.contains_key(l.a.node.as_str()) && managed.contains_key(l.b.node.as_str()) {
                want_links.insert(p);
            } else {
                unscored_truth.push(p);
            }
        }

        let devices = topo["devices"].as_array().cloned().unwrap_or_default();
        // A device without a sysName (a neighbour that runs no SNMP) is named
        // after the lab node whose management address it lists, if any.
        let by_addr: BTreeMap<String, &str> = truth
            .nodes
            .iter()
            .filter_map(|n| n.mgmt_addr.map(|a| (a.to_string(), n.name.as_str())))
            .collect();
        let name_of: BTreeMap<String, String> = devices
            .iter()
            .map(|d| {
                let id = id_text(&d["id"]);
                let addrs = d["addresses"].as_array().cloned().unwrap_or_default();
                let lab_node = std::iter::once(&d["mgmt_addr"])
                    .chain(addrs.iter())
                    .filter_map(|a| a.as_str())
                    .find_map(|a| by_addr.get(a));
                let name = match (d["sys_name"].as_str(), lab_node) {
                    (Some(s), _) => s.to_owned(),
                    (None, Some(n)) => n.to_string(),
                    (None, None) => format!("id:{id}"),
                };
                (id, name)
            })
            .collect();
        let found_devices = devices
            .iter()
            .filter(|d| d["managed"].as_bool() == Some(true))
            .map(|d| name_of[&id_text(&d["id"])].clone())
            .collect();
        let unmanaged = devices
            .iter()
            .filter(|d| d["managed"].as_bool() != Some(true))
            .map(|d| format!("{} (id {})", name_of[&id_text(&d["id"])], id_text(&d["id"])))
            .collect();
        let end = |e: &Value| -> End {
            let id = id_text(&e["device"]);
            (
                name_of.get(&id).cloned().unwrap_or(format!("id:{id}")),
                e["if_name"].as_str().unwrap_or("?").to_owned(),
            )
        };
        let found_links = topo["links"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .map(|l| pair(end(&l["a"]), end(&l["b"])))
                    .collect()
            })
            .unwrap_or_default();
        Score {
            want_devices,
            found_devices,
            unmanaged,
            want_links,
            found_links,
            unscored_truth,
        }
    }

    fn device_precision(&self) -> f64 {
        ratio(
            self.found_devices.intersection(&self.want_devices).count(),
            self.found_devices.len(),
        )
    }
    fn device_recall(&self) -> f64 {
        ratio(
            self.found_devices.intersection(&self.want_devices).count(),
            self.want_devices.len(),
        )
    }
    fn link_precision(&self) -> f64 {
        let scored = self
            .found_links
            .iter()
            .filter(|l| {
                !self
                    .unscored_truth
                    .iter()
                    .any(|t| t == *l || same_cable_far_if_unknown(t, l))
            })
            .count();
        ratio(
            self.found_links.intersection(&self.want_links).count(),
            scored,
        )
    }
    fn link_recall(&self) -> f64 {
        ratio(
            self.found_links.intersection(&self.want_links).count(),
            self.want_links.len(),
        )
    }

    /// Every device and link that differs, expected vs got.
    fn differences(&self) -> String {
        let mut s = String::new();
        let show = |p: &Pair| format!("{}:{} <-> {}:{}", p.0.0, p.0.1, p.1.0, p.1.1);
        for d in self.want_devices.difference(&self.found_devices) {
            let _ = writeln!(s, "MISSING device {d}");
        }
        for d in self.found_devices.difference(&self.want_devices) {
            let _ = writeln!(s, "EXTRA device {d}");
        }
        for d in &self.unmanaged {
            let _ = writeln!(s, "unmanaged device listed: {d}");
        }
        for l in self.want_links.difference(&self.found_links) {
            let _ = writeln!(s, "MISSING link {}", show(l));
        }
        for l in self.found_links.difference(&self.want_links) {
            let tag = if self.unscored_truth.contains(l) {
                "link to an unmanaged node (true, not scored)"
            } else if self
                .unscored_truth
                .iter()
                .any(|t| same_cable_far_if_unknown(t, l))
            {
                "link to an unmanaged node (true cable, its interface unknown; not scored)"
            } else {
                "WRONG link"
            };
            let _ = writeln!(s, "{tag}: {}", show(l));
        }
        for l in &self.unscored_truth {
            let seen = self
                .found_links
                .iter()
                .any(|f| f == l || same_cable_far_if_unknown(l, f));
            if !seen {
                let _ = writeln!(s, "not found (not scored, end without SNMP): {}", show(l));
            }
        }
        s
    }
}

/// `found` is the true cable `truth` with one interface name unknown ("?").
fn same_cable_far_if_unknown(truth: &Pair, found: &Pair) -> bool {
    let end_ok = |t: &End, f: &End| t.0 == f.0 && (t.1 == f.1 || f.1 == "?");
    (end_ok(&truth.0, &found.0) && end_ok(&truth.1, &found.1))
        || (end_ok(&truth.0, &found.1) && end_ok(&truth.1, &found.0))
}

/// A device id as text, whatever JSON shape it has.
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}
