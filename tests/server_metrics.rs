//! `/metrics` from a real server: strict exposition-format check, label
//! escaping round-trips for hostile device strings, missing values left out.
mod support;

use nocmap::server::AppState;
use std::collections::BTreeMap;
use support::server::*;

fn find<'a>(
    samples: &'a [PromSample],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a PromSample> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples.iter().find(|s| s.name == name && s.labels == want)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_strictly_and_round_trip_hostile_labels() {
    let srv = start(AppState::new(hostile_live()));
    let r = get(srv.addr, "/metrics", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let (samples, types) = parse_prometheus(&r.body).unwrap_or_else(|e| panic!("{e}\n{}", r.body));
    let a = [("device", "dev-a"), ("sys_name", EVIL_SYS_NAME)];
    let gi = [a[0], a[1], ("if_name", "Gi0/1")];
    let v = |name: &str, labels: &[(&str, &str)]| {
        find(&samples, name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{}", r.body))
            .value
    };
    assert_eq!(v("nocmap_interface_in_bytes_per_second", &gi), 250_000.0);
    assert_eq!(v("nocmap_interface_out_bytes_per_second", &gi), 62_500.0);
    assert_eq!(v("nocmap_interface_speed_bytes", &gi), 125_000_000.0);
    // The raw counters as `_total` counters: octets, packets (unicast,
    // multicast and broadcast added), errors, discards.
    assert_eq!(v("nocmap_interface_in_bytes_total", &gi), 9_000_000_000.0);
    assert_eq!(v("nocmap_interface_out_bytes_total", &gi), 4_000_000_000.0);
    assert_eq!(v("nocmap_interface_in_packets_total", &gi), 1_000_111.0);
    assert_eq!(v("nocmap_interface_in_errors_total", &gi), 3.0);
    assert_eq!(v("nocmap_interface_out_discards_total", &gi), 4.0);
    assert_eq!(types["nocmap_interface_in_bytes_total"], "counter");
    // No counters polled (dev-b): no samples, never 0.
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "nocmap_interface_in_bytes_total"
                && s.labels.get("device").map(String::as_str) == Some("dev-b"))
    );
    assert_eq!(v("nocmap_interface_in_utilization_ratio", &gi), 0.002);
    assert_eq!(v("nocmap_interface_oper_up", &gi), 1.0);
    assert_eq!(v("nocmap_interface_in_discards_per_second", &gi), 0.0);
    // The ifName with a backslash, a quote and a newline comes back intact.
    let evil = [a[0], a[1], ("if_name", EVIL_IF_NAME)];
    assert_eq!(v("nocmap_interface_in_bytes_per_second", &evil), 42.0 / 8.0);
    // ... and its missing rates are absent, not NaN or 0.
    assert!(find(&samples, "nocmap_interface_out_bytes_per_second", &evil).is_none());
    let b = [
        ("device", "dev-b"),
        ("sys_name", SCRIPT_SYS_NAME),
        ("if_name", "eth0"),
    ];
    assert_eq!(v("nocmap_interface_out_bytes_per_second", &b), 237_500.0);
    assert!(find(&samples, "nocmap_interface_in_errors_per_second", &b).is_none());

    assert_eq!(v("nocmap_device_up", &a), 1.0);
    assert_eq!(
        v("nocmap_rtt_seconds", &[a[0], a[1], ("stat", "avg")]),
        0.00125
    );
    assert_eq!(
        v("nocmap_rtt_seconds", &[a[0], a[1], ("stat", "median")]),
        0.001
    );
    assert_eq!(
        v("nocmap_rtt_seconds", &[a[0], a[1], ("stat", "max")]),
        0.003
    );
    assert_eq!(v("nocmap_rtt_jitter_seconds", &a), 0.00025);
    assert_eq!(v("nocmap_packet_loss_ratio", &a), 0.25);
    // dev-b's reachability is unknown: no nocmap_device_up sample at all.
    assert!(
        !samples
            .iter()
            .any(|s| s.name.starts_with("nocmap_device_up")
                && s.labels.get("device").map(String::as_str) == Some("dev-b"))
    );

    // The chassis as an info gauge; its hostile model name round-trips.
    let hw = [
        a[0],
        a[1],
        ("model", "SW-48 \"x\" <b>"),
        ("serial", "SN123"),
        ("hardware", "A1"),
        ("firmware", "9.1"),
    ];
    assert_eq!(v("nocmap_device_hardware_info", &hw), 1.0);

    assert_eq!(v("nocmap_poll_duration_seconds_sum", &[]), 1.5);
    assert_eq!(v("nocmap_poll_duration_seconds_count", &[]), 4.0);
    assert_eq!(v("nocmap_poll_duration_seconds_max", &[]), 0.75);
    assert_eq!(v("nocmap_snmp_timeouts_total", &[]), 2.0);
    assert_eq!(v("nocmap_polls_skipped_total", &[]), 3.0);
    assert_eq!(v("nocmap_poll_lag_seconds_max", &[]), 0.125);
    assert_eq!(v("nocmap_samples_written_total", &[]), 560.0);
    assert_eq!(v("nocmap_store_errors_total", &[]), 0.0);
    assert_eq!(types["nocmap_poll_duration_seconds"], "summary");
    assert_eq!(types["nocmap_snmp_timeouts_total"], "counter");
    assert_eq!(types["nocmap_device_up"], "gauge");
    assert!(!r.body.contains("NaN"));
    srv.stop().await;
}

#[test]
fn the_parser_refuses_what_the_format_forbids() {
    let ok = "# HELP m h\n# TYPE m gauge\nm{a=\"x\\\\y\\\"z\\n\"} 1\n";
    let (s, _) = parse_prometheus(ok).unwrap();
    assert_eq!(s[0].labels["a"], "x\\y\"z\n");
    for bad in [
        "# TYPE m gauge\nm{a=\"x\"} NaN\n",
        "# TYPE m gauge\nm{a=\"x\\t\"} 1\n",
        "# TYPE m gauge\nm{a=\"x\"\"} 1\n",
        "# TYPE m gauge\nm{a=x} 1\n",
        "m 1\n",
        "# TYPE m gauge\nm 1",
        "# TYPE m gauge\nm 1\n# TYPE m gauge\n",
        "# TYPE m gauge\nm{a=\"x\"} 1 2 3\n",
    ] {
        assert!(parse_prometheus(bad).is_err(), "{bad:?}");
    }
}

/// `promtool check metrics` (Prometheus's own linter, Debian's `prometheus`
/// package) finds nothing to say about `/metrics`: base units, `_total`
/// on counters only, HELP on every family. Before the rename it warned
/// three times ("use base unit \"bytes\" instead of \"bits\"").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_finds_nothing_to_lint() {
    use std::io::Write;
    // With the trap and syslog receivers' families too, and a central's
    // sites (up, and the delay histogram of one live batch).
    let mut state = AppState::new(hostile_live());
    state.traps = Some(std::sync::Arc::new(nocmap::traps::TrapStats::default()));
    state.syslog = Some(std::sync::Arc::new(nocmap::syslog::SyslogStats::default()));
    let sites = nocmap::sites::SiteStatus::default();
    sites.set("b1", true);
    sites.observe_delays(
        "b1",
        nocmap::sites::delay::Arrival::Live,
        [1_000, 1_300],
        nocmap::types::UnixMillis(1_500),
    );
    // r1 polled 0.3 s before its verdict reached the map.
    let verdict = nocmap::sites::wire::WireVerdict {
        device: "r1".into(),
        reachability: nocmap::live::Reachability::Up,
        since_ms: None,
        last_icmp_ms: None,
        rtt_avg_ms: None,
        loss_pct: None,
        snmp_ok: Some(true),
        last_snmp_ms: Some(1_200),
    };
    sites.observe_verdicts("b1", "b1", &[verdict], nocmap::types::UnixMillis(1_500));
    state.sites = Some(std::sync::Arc::new(sites));
    let srv = start(state);
    let r = get(srv.addr, "/metrics", None).await;
    srv.stop().await;
    assert_eq!(r.status, 200);
    for family in [
        "nocmap_traps_received_total",
        "nocmap_syslog_received_total{transport=\"tls\"} 0",
        "nocmap_syslog_dropped_total{reason=\"queue_full\"} 0",
        "nocmap_syslog_parse_errors_total{reason=\"bad_pri\"} 0",
        "nocmap_syslog_unmatched_total 0",
        "nocmap_site_up{site=\"b1\"} 1",
        "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"0.25\"} 1",
        "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"live\",le=\"0.5\"} 2",
        "nocmap_site_delay_seconds_count{site=\"b1\",kind=\"backfill\"} 0",
        "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"verdict\",le=\"0.25\"} 0",
        "nocmap_site_delay_seconds_bucket{site=\"b1\",kind=\"verdict\",le=\"0.5\"} 1",
    ] {
        assert!(r.body.contains(family), "no {family} in\n{}", r.body);
    }
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is needed (Debian package `prometheus`; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(r.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {:?}\n{said}",
        out.status
    );
}
