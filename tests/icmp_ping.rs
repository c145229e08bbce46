//! `nocmap ping` run inside a namespace of its own: loopback statistics,
//! an unreachable target, DGRAM ping sockets, the unprivileged error, and
//! argument errors.
mod support;

use support::icmp::{Netns, assert_exit_0, need_root, stdout_json};

fn f(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn loopback_ping_statistics_are_sane() {
    if !need_root("loopback_ping_statistics_are_sane") {
        return;
    }
    let ns = Netns::new("ping");
    let out = ns.nocmap(&["ping", "-c", "5", "-i", "50", "--json", "127.0.0.1", "::1"]);
    assert_exit_0(&out);
    let rows = stdout_json(&out);
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    for (row, target) in rows.iter().zip(["127.0.0.1", "::1"]) {
        assert_eq!(row["target"], target);
        assert_eq!(row["sent"], 5);
        assert_eq!(row["received"], 5);
        assert_eq!(row["duplicates"], 0);
        assert_eq!(f(row, "loss_pct"), 0.0);
        let (min, avg, max) = (
            f(row, "rtt_min_ms"),
            f(row, "rtt_avg_ms"),
            f(row, "rtt_max_ms"),
        );
        assert!(min > 0.0 && min <= avg && avg <= max, "{row}");
        assert!(max < 50.0, "loopback RTT should be far below 50 ms: {row}");
        let jitter = f(row, "jitter_ms");
        assert!(jitter >= 0.0 && jitter <= max - min, "{row}");
        assert_eq!(row["rtts_ms"].as_array().map(Vec::len), Some(5));
    }
}

#[test]
fn human_output_and_unreachable_target() {
    if !need_root("human_output_and_unreachable_target") {
        return;
    }
    let ns = Netns::new("unreach");
    // 10.99.9.0/24 on a veth whose peer has no address: routed, nobody answers.
    ns.silent_segment("d0");
    ns.ip(&["addr", "add", "10.99.9.1/24", "dev", "d0"]);
    let out = ns.nocmap(&[
        "ping",
        "-c",
        "2",
        "-i",
        "50",
        "-W",
        "200",
        "10.99.9.1",
        "10.99.9.2",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one target is silent: {text}");
    assert!(
        text.contains(
            "--- 10.99.9.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "--- 10.99.9.2 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss"
        ),
        "{text}"
    );
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");

    let out = ns.nocmap(&["ping", "-c", "1", "-W", "200", "--json", "10.99.9.2"]);
    assert_eq!(out.status.code(), Some(1));
    let row = &stdout_json(&out)[0];
    assert_eq!(row["received"], 0);
    assert_eq!(f(row, "loss_pct"), 100.0);
    for key in ["rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "jitter_ms"] {
        assert!(row[key].is_null(), "{key} should be null: {row}");
    }
}

#[test]
fn prefix_target_expands_to_hosts() {
    if !need_root("prefix_target_expands_to_hosts") {
        return;
    }
    let ns = Netns::new("pfx");
    ns.ip(&["route", "add", "local", "10.99.4.0/24", "dev", "lo"]);
    let out = ns.nocmap(&["ping", "-c", "1", "--json", "10.99.4.0/29"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = stdout_json(&out);
    let targets: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "10.99.4.1",
            "10.99.4.2",
            "10.99.4.3",
            "10.99.4.4",
            "10.99.4.5",
            "10.99.4.6"
        ]
    );
}

#[test]
fn dgram_ping_socket_works_when_group_range_allows() {
    if !need_root("dgram_ping_socket_works_when_group_range_allows") {
        return;
    }
    let ns = Netns::new("dgram");
    ns.exec(&[
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.ping_group_range=0 2147483647",
    ]);
    let out = ns.nocmap(&[
        "ping",
        "--socket",
        "dgram",
        "-c",
        "3",
        "-i",
        "20",
        "--json",
        "--engine-counters",
        "127.0.0.1",
        "::1",
    ]);
    assert_exit_0(&out);
    for row in stdout_json(&out).as_array().unwrap() {
        assert_eq!(row["received"], 3, "{row}");
    }
    let counters = support::icmp::engine_counters(&out);
    assert_eq!(counters["received"], 6);
    assert_eq!(counters["spoofed"], 0);
}

#[test]
fn unprivileged_user_gets_the_fix_named() {
    if !need_root("unprivileged_user_gets_the_fix_named") {
        return;
    }
    let ns = Netns::new("noperm");
    // ping_group_range "1 0" (the default) refuses DGRAM ping sockets too.
    ns.exec(&["sysctl", "-q", "-w", "net.ipv4.ping_group_range=1 0"]);
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            env!("CARGO_BIN_EXE_nocmap"),
            "ping",
            "-c",
            "1",
            "127.0.0.1",
        ])
        .output()
        .expect("run setpriv");
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("Permission denied") && err.contains("setpriv") {
        eprintln!("SKIPPED: binary not executable by nobody here: {err}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    assert!(err.starts_with("nocmap: error: "), "{err}");
    assert!(err.contains("setcap cap_net_raw+ep"), "{err}");
    assert!(err.contains("ping_group_range"), "{err}");
}

#[test]
fn bad_arguments_give_one_error_line() {
    if !need_root("bad_arguments_give_one_error_line") {
        return;
    }
    let ns = Netns::new("badarg");
    for (args, needle) in [
        (
            &["ping", "10.99.0.0/33"][..],
            "invalid prefix '10.99.0.0/33'",
        ),
        (
            &["ping", "no-such-host.invalid"][..],
            "cannot resolve host 'no-such-host.invalid'",
        ),
        (
            &["sweep", "10.99.0.0/40"][..],
            "invalid prefix '10.99.0.0/40'",
        ),
        (&["sweep", "10.99.0.0/7"][..], "too large"),
    ] {
        let out = ns.nocmap(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("nocmap: error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}
