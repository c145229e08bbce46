//! Discovery of a network wider than the old default crawl depth (16), from
//! one seed: a ring of routers (snmpd + lldpd each) behind the noc, whose
//! diameter is half the ring. With default flags every router is read;
//! with `--depth 16` the crawl stops there and says how many neighbour
//! addresses inside the prefixes it did not follow and why, and never
//! counts them as agents that did not answer.
//!
//! 120 routers (diameter 60), lab `big`: about 35 s on two shared cores
//! (lab up 17 s, LLDP settled at 21 s, the whole discover 9 s); `--nocapture`
//! prints the figures.
#[macro_use]
mod support;

use nocmap_lab::Lab;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A ring of `n` routers `rNNN`, `rI:e1 ── rI+1:e0`, the noc on r001.
fn ring_toml(name: &str, prefix: &str, n: usize) -> String {
    let r = |i: usize| format!("r{:03}", (i % n) + 1);
    let mut links = String::from("noc:eth0 - r001:noc");
    for i in 0..n {
        links += &format!(", {}:e1 - {}:e0", r(i), r(i + 1));
    }
    support::lab::LabToml::new(name, prefix)
        .links(&links)
        .build()
}

struct Run {
    topology: Value,
    stderr: String,
    secs: f64,
}

fn discover(lab: &Lab, prefix: &str, extra: &[&str]) -> Run {
    let seed = lab.mgmt_addr("r001").unwrap().to_string();
    let t0 = Instant::now();
    let out = lab
        .command_in("noc", support::nocmap_bin().to_str().unwrap())
        .unwrap()
        .args([
            "discover", "--seed", &seed, "--prefix", prefix, "-c", "public", "--json",
        ])
        .args(extra)
        .output()
        .expect("run discover");
    let secs = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "discover failed: {stderr}");
    Run {
        topology: serde_json::from_slice(&out.stdout).expect("topology JSON"),
        stderr,
        secs,
    }
}

/// The sysNames of the routers read over SNMP.
fn managed_routers(t: &Value) -> Vec<String> {
    let mut v: Vec<String> = t["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["managed"] == true)
        .filter_map(|d| d["sys_name"].as_str())
        .filter(|n| n.starts_with('r'))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn ring(name: &str, prefix: &str, n: usize) {
    require_root!();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&ring_toml(name, prefix, n));
    let up = t0.elapsed();
    lab.wait_lldp_settled(Duration::from_secs(120))
        .expect("LLDP settles");
    let settled = t0.elapsed();

    // Default flags: the whole ring, from one seed.
    let all = discover(&lab, prefix, &[]);
    let want: Vec<String> = (1..=n).map(|i| format!("r{i:03}")).collect();
    assert_eq!(managed_routers(&all.topology), want, "{}", all.stderr);
    assert!(
        !all.stderr.contains("depth limit"),
        "no cut by default: {}",
        all.stderr
    );
    let links = all.topology["links"].as_array().unwrap();
    let lldp = links
        .iter()
        .filter(|l| {
            l["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == "lldp")
        })
        .count();
    assert!(lldp >= n, "{lldp} LLDP links for a ring of {n}");

    // At the old default depth: every router within 16 hops of the seed,
    // the two named at the limit reported as cut, none as not answering.
    let cut = discover(&lab, prefix, &["--depth", "16"]);
    let got = managed_routers(&cut.topology);
    assert_eq!(got.len(), 33, "{got:?}");
    assert!(
        cut.stderr.contains(
            "depth limit 16 reached: 2 neighbour address(es) inside the prefixes not followed"
        ),
        "{}",
        cut.stderr
    );
    assert!(
        !cut.stderr.contains("did not answer") && !cut.stderr.contains("no answer"),
        "{}",
        cut.stderr
    );
    eprintln!(
        "ring of {n}: lab up {:.1} s, LLDP settled at {:.1} s, discover {:.1} s \
         (default, {} devices, {} links), {:.1} s at depth 16; total {:.1} s",
        up.as_secs_f64(),
        settled.as_secs_f64(),
        all.secs,
        all.topology["devices"].as_array().unwrap().len(),
        links.len(),
        cut.secs,
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn a_ring_of_120_is_read_whole_from_one_seed_and_a_depth_limit_says_what_it_cut() {
    ring("big", "10.162.0.0/15", 120);
}
