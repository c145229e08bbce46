//! Link impairments on a running lab: wire delay, nftables loss, iperf3
//! throughput, tbf rate limit and interface state.
#[macro_use]
mod support;

use std::time::Duration;

#[test]
fn wire_delay_gives_the_expected_rtt() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "chain.toml",
        "tidelay",
        "10.221.0.0/16",
    ));
    let r3 = lab.mgmt_addr("r3").unwrap().to_string();
    lab.set_delay("r2:eth2", Duration::from_millis(20), Duration::ZERO)
        .unwrap();
    let s = support::fping(&lab, "noc", &r3, 20, 100, 1000);
    let rtt = s.avg_ms.expect("answers");
    eprintln!("wire 20 ms each way: RTT avg {rtt:.2} ms over {s:?}");
    assert_eq!(s.received, 20, "{s:?}");
    assert!((39.0..50.0).contains(&rtt), "RTT {rtt} ms, want ~40");

    // Changed at run time: 5 ms each way now.
    lab.set_delay("r3:eth2", Duration::from_millis(5), Duration::ZERO)
        .unwrap();
    let s = support::fping(&lab, "noc", &r3, 20, 50, 1000);
    let rtt = s.avg_ms.expect("answers");
    eprintln!("wire 5 ms each way: RTT avg {rtt:.2} ms");
    assert!((9.5..15.0).contains(&rtt), "RTT {rtt} ms, want ~10");

    // A link without a wire refuses.
    assert!(
        lab.set_delay("r1:eth1", Duration::from_millis(1), Duration::ZERO)
            .is_err()
    );

    // TCP works through the wire (offloads are off).
    let bps = lab
        .iperf("noc", "r3", None, 2.0)
        .expect("iperf3 through the wire");
    eprintln!(
        "iperf3 noc -> r3 through a 5 ms wire: {:.1} Mbit/s",
        bps / 1e6
    );
    assert!(bps > 10e6, "{bps}");
}

#[test]
fn loss_and_interface_state() {
    require_root!();
    let lab = support::lab_up(support::example_spec(
        "chain.toml",
        "tiloss",
        "10.222.0.0/16",
    ));
    let r2 = lab.mgmt_addr("r2").unwrap().to_string();

    let s = support::fping(&lab, "noc", &r2, 200, 10, 500);
    assert_eq!(s.received, 200, "no loss before: {s:?}");
    lab.set_loss("r2", 50).unwrap();
    let s = support::fping(&lab, "noc", &r2, 200, 10, 500);
    eprintln!("set_loss(r2, 50): {:.1} % lost of {}", s.loss_pct(), s.sent);
    assert!((27.0..=73.0).contains(&s.loss_pct()), "{s:?}");
    lab.set_loss("r2", 0).unwrap();
    let s = support::fping(&lab, "noc", &r2, 100, 10, 500);
    assert_eq!(s.received, 100, "loss removed: {s:?}");

    // iperf3 over plain veths gives a figure.
    let bps = lab.iperf("noc", "r2", None, 1.0).expect("iperf3");
    eprintln!("iperf3 noc -> r2 over veths: {:.1} Mbit/s", bps / 1e6);
    assert!(bps > 100e6, "{bps}");

    // Interface down: r2 becomes unreachable; up again: reachable.
    lab.set_if_state("r1", "eth1", false).unwrap();
    assert!(
        !lab.noc_can_ping("r2", 2).unwrap(),
        "r2 must be unreachable with r1:eth1 down"
    );
    assert!(
        lab.noc_can_ping("r1", 2).unwrap(),
        "r1 itself still answers"
    );
    lab.set_if_state("r1", "eth1", true).unwrap();
    let back = lab.noc_can_ping("r2", 3).unwrap();
    assert!(back, "r2 reachable again after eth1 up");
}

#[test]
fn tbf_rate_limit_caps_iperf() {
    require_root!();
    let lab = support::lab_up_toml(
        r#"
        name = "tirate"
        prefix = "10.223.0.0/16"
        [[nodes]]
        name = "r1"
        kind = "router"
        snmp = false
        [[nodes]]
        name = "h1"
        kind = "host"
        [[links]]
        a = "noc:eth0"
        b = "r1:eth0"
        [[links]]
        a = "r1:eth1"
        b = "h1:eth0"
        rate_mbit = 20
        "#,
    );
    let bps = lab.iperf("noc", "h1", None, 2.0).expect("iperf3");
    eprintln!("iperf3 through a 20 Mbit/s tbf: {:.2} Mbit/s", bps / 1e6);
    assert!((12e6..=22e6).contains(&bps), "{bps}");
}

#[test]
fn fping_summary_is_parsed() {
    let s = support::parse_fping(
        "10.1.0.1 : xmt/rcv/%loss = 200/97/51%, min/avg/max = 0.02/0.05/0.30\n",
    )
    .unwrap();
    assert_eq!((s.sent, s.received, s.avg_ms), (200, 97, Some(0.05)));
    let s = support::parse_fping("10.1.0.1 : xmt/rcv/%loss = 3/0/100%\n").unwrap();
    assert_eq!((s.received, s.avg_ms), (0, None));
}
