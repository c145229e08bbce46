//! `nocmap sweep` inside a namespace of its own: a /24 in which exactly a
//! known set of addresses exists must yield exactly that set.
mod support;

use std::collections::BTreeSet;

use support::icmp::{Netns, assert_exit_0, need_root, stdout_json};

#[test]
fn sweep_finds_exactly_the_addresses_that_exist() {
    if !need_root("sweep_finds_exactly_the_addresses_that_exist") {
        return;
    }
    let ns = Netns::new("sweep");
    ns.silent_segment("d0");
    ns.ip(&["addr", "add", "10.99.1.1/24", "dev", "d0"]);
    let extra = ["10.99.1.7", "10.99.1.42", "10.99.1.200", "10.99.1.254"];
    for a in extra {
        ns.ip(&["addr", "add", &format!("{a}/32"), "dev", "d0"]);
    }
    let out = ns.nocmap(&[
        "sweep",
        "10.99.1.0/24",
        "--json",
        "--timeout",
        "300",
        "--engine-counters",
    ]);
    assert_exit_0(&out);
    let result = stdout_json(&out);
    assert_eq!(
        result["probed"], 254,
        "network and broadcast are skipped: {result}"
    );
    let found: BTreeSet<String> = result["alive"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let mut expected: BTreeSet<String> = extra.iter().map(|s| s.to_string()).collect();
    expected.insert("10.99.1.1".into());
    assert_eq!(found, expected);
    for a in &expected {
        assert!(
            result["rtt_ms"][a].as_f64().is_some(),
            "rtt for {a}: {result}"
        );
    }
    // 249 silent hosts, each tried twice (retries 1).
    let counters = support::icmp::engine_counters(&out);
    assert_eq!(counters["sent"], 5 + 249 * 2, "{counters}");
    assert_eq!(counters["timeouts"], 249 * 2, "{counters}");
    assert_eq!(counters["received"], 5, "{counters}");
}

#[test]
fn sweep_of_a_local_slash_20_misses_nothing_under_a_rate_limit() {
    if !need_root("sweep_of_a_local_slash_20_misses_nothing_under_a_rate_limit") {
        return;
    }
    let ns = Netns::new("sweep20");
    ns.ip(&["route", "add", "local", "10.99.16.0/20", "dev", "lo"]);
    let started = std::time::Instant::now();
    let out = ns.nocmap(&[
        "sweep",
        "10.99.16.0/20",
        "--json",
        "--rate",
        "20000",
        "--max-in-flight",
        "500",
    ]);
    let took = started.elapsed();
    assert_exit_0(&out);
    let result = stdout_json(&out);
    assert_eq!(result["probed"], 4094);
    assert_eq!(result["alive"].as_array().map(Vec::len), Some(4094));
    // 4094 probes at 20,000/s cannot finish in less than ~0.2 s.
    let elapsed = result["elapsed_s"].as_f64().unwrap();
    assert!(elapsed >= 0.18, "rate limit not applied: {elapsed} s");
    assert!(took.as_secs_f64() < 20.0);
}
