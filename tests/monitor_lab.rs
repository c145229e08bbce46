//! `nocmap serve` against the lab: bandwidth measured from SNMP counters
//! agrees with iperf3, an snmpd restart and an interface going down and up
//! cause gaps but never spikes, and ICMP latency and loss follow impairment
//! changes within two rounds. The monitor runs in the lab's noc namespace;
//! the results are read back from its SQLite database after a SIGTERM (which
//! also shows the flush on shutdown).
#[macro_use]
mod support;
use nocmap::store::{SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use nocmap_lab::Lab;
use std::process::Stdio;
use std::time::Duration;
use support::lab::LabToml;
use support::lab::Routers;
use support::monitor::{bits_over, device_id, raw, rx_bytes};
use support::serve::{Serve, ServeCmd};

// Polls every 6 s: net-snmp refreshes its interface counters on its own every
// 3 s, so a poll interval that is a multiple of 3 s reads caches of the same
// age each time and the intervals come out exact (measured with 5 s polls:
// samples alternated +20 % / +20 % / -35 % around the true rate, a 15 s beat).
const LAB: Routers = Routers::new(
    "mon",
    "10.68.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 ~ r3:eth2",
);

/// `nocmap serve` in the lab's noc namespace, seeded with r1, polling
/// counters every 6 s; `extra` adds flags (ICMP interval, listen address).
fn start_serve(lab: &Lab, db: &std::path::Path, prefix: &str, extra: &[&str]) -> Serve {
    ServeCmd::new(lab, prefix)
        .poll(6)
        .args(extra)
        .db(db)
        .start()
}

/// UDP iperf3 from `from` to `to`'s address on the link between them, with
/// 1400-byte datagrams (one 1442-byte frame each); returns (iperf3's
/// payload bits/s as sent, datagrams sent, start ms, end ms).
fn iperf_udp(
    lab: &Lab,
    from: &str,
    to_addr: &str,
    to: &str,
    rate: &str,
    secs: u32,
    during: impl FnOnce(),
) -> (f64, f64, i64, i64) {
    let mut server = lab
        .command_in(to, "iperf3")
        .unwrap()
        .args(["-s", "-1", "-B", to_addr, "-p", "5301"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t0 = now_ms();
    let out = lab
        .command_in(from, "iperf3")
        .unwrap()
        .args([
            "-c",
            to_addr,
            "-p",
            "5301",
            "-u",
            "-b",
            rate,
            "-l",
            "1400",
            "-t",
            &secs.to_string(),
            "-J",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    during();
    let out = out.wait_with_output().unwrap();
    let t1 = now_ms();
    let _ = server.wait();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("iperf3 JSON");
    let sum = &v["end"]["sum"];
    let packets = sum["packets"].as_f64().expect("packets");
    let lost = sum["lost_packets"].as_f64().unwrap_or(0.0);
    let secs = sum["seconds"].as_f64().expect("seconds");
    eprintln!(
        "iperf3: {packets} datagrams sent, {lost} lost, {secs:.2} s, sender {:.1} Mbit/s",
        sum["bits_per_second"].as_f64().unwrap_or(0.0) / 1e6
    );
    // The interface counts every frame that crossed the link, including
    // datagrams the receiving socket later dropped on this busy machine: the
    // figure to compare is what iperf3 sent (its sender rate).
    (
        sum["bits_per_second"].as_f64().expect("bits_per_second"),
        packets,
        t0,
        t1,
    )
}

/// Waits until serve's `/metrics` on `port` has r2 eth1's first rate:
/// discovery and the first two counter polls done (each poll waits for
/// snmpd's next counter refresh, up to 3 s, before it reads). A fixed
/// sleep here failed on a loaded machine: the load began before the first
/// poll, and no sample stood before it.
fn wait_first_rate(lab: &Lab, port: u16) {
    support::wait_until(
        "r2 eth1's first rate on /metrics",
        Duration::from_secs(90),
        || {
            let m = support::noc_get(lab, port, "/metrics")?;
            m.lines()
                .any(|l| {
                    l.starts_with("nocmap_interface_in_bytes_per_second{")
                        && l.contains("sys_name=\"r2\"")
                        && l.contains("if_name=\"eth1\"")
                })
                .then_some(())
        },
    );
}

/// Halfway through the iperf run: the live API shows the load on the r1-r2
/// link, and /metrics carries the interface's rate with the device's name.
fn api_checks(lab: &Lab) {
    std::thread::sleep(Duration::from_secs(17));
    let get = |path: &str| {
        let out = lab
            .command_in("noc", "curl")
            .unwrap()
            .args(["-s", "-f", &format!("http://127.0.0.1:18068{path}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "GET {path} failed");
        String::from_utf8(out.stdout).unwrap()
    };
    let topo: serde_json::Value = serde_json::from_str(&get("/api/topology")).unwrap();
    let names: std::collections::HashMap<String, String> = topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or("").to_string(),
                d["sys_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let link = topo["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            let mut ends = [
                names[l["a"]["device"].as_str().unwrap()].clone(),
                names[l["b"]["device"].as_str().unwrap()].clone(),
            ];
            ends.sort();
            ends == ["r1".to_string(), "r2".to_string()]
        })
        .expect("the r1-r2 link in /api/topology");
    assert_eq!(link["status"], "up", "{link}");
    assert_eq!(link["stale"], false, "{link}");
    let busiest = link["in_bps"]
        .as_f64()
        .unwrap_or(0.0)
        .max(link["out_bps"].as_f64().unwrap_or(0.0));
    // One live sample: snmpd's 3 s counter cache can stretch or shrink its
    // 6 s interval by half on a loaded machine (bits or bytes mixed up
    // would be 8 times off).
    assert!(
        busiest > 95e6 && busiest < 320e6,
        "the link shows the 200 Mbit/s load: {link}"
    );
    assert!(
        link["utilization_pct"].as_f64().unwrap_or(0.0) > 1.0,
        "{link}"
    );
    let metrics = get("/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("nocmap_interface_in_bytes_per_second{")
                && l.contains("sys_name=\"r2\"")
                && l.contains("if_name=\"eth1\"")),
        "r2 eth1 in /metrics"
    );
    assert!(
        metrics.contains("nocmap_device_up{"),
        "device_up in /metrics"
    );
    // The ICMP engine's own counters: replies matched, none thrown away here.
    let value = |prefix: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} in /metrics"))
    };
    assert!(value("nocmap_icmp_packets_total{kind=\"received\"}") > 0.0);
    assert!(value("nocmap_icmp_packets_total{kind=\"sent\"}") > 0.0);
    assert_eq!(value("nocmap_icmp_packets_total{kind=\"spoofed\"}"), 0.0);
    assert_eq!(value("nocmap_icmp_receiver_restarts_total"), 0.0);
}

#[test]
fn bandwidth_gaps_and_impairment_through_serve() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mon.db");
    let serve = start_serve(
        &lab,
        &db,
        "10.68.0.0/16",
        &["--icmp-interval", "2", "--listen", "127.0.0.1:18068"],
    );
    wait_first_rate(&lab, 18068);

    // 1. Bandwidth: 30 s of UDP at 200 Mbit/s from r1 to r2, with the
    // kernel's own count of r2's received bytes read before and after.
    let (_, r2_addr) = lab.link_addrs("r1:eth1").unwrap();
    let k0 = rx_bytes(&lab);
    let (iperf_bps, iperf_packets, t0, t1) = iperf_udp(
        &lab,
        "r1",
        &r2_addr.unwrap().to_string(),
        "r2",
        "200M",
        30,
        || api_checks(&lab),
    );

    // 2. The r1-r2 link goes down and up (no traffic: the poll after the
    // run closes the bandwidth window before anything else happens).
    lab.set_if_state("r1", "eth1", false).unwrap();
    let t_down = now_ms();
    std::thread::sleep(Duration::from_secs(7));
    lab.set_if_state("r1", "eth1", true).unwrap();
    // Room for a poll after the link is back: it reads at snmpd's next
    // counter refresh, up to 3 s after it is due.
    std::thread::sleep(Duration::from_secs(10));
    let k1 = rx_bytes(&lab);

    // 3. snmpd on r2 restarts (sysUpTime goes back).
    let t_restart = now_ms();
    lab.restart_snmpd("r2").unwrap();
    std::thread::sleep(Duration::from_secs(12));

    // 4. Impairment on the wire to r3: +40 ms each way, then 100 % loss, then healed.
    let t_delay = now_ms();
    lab.set_delay("r1:eth2", Duration::from_millis(40), Duration::ZERO)
        .unwrap();
    std::thread::sleep(Duration::from_secs(7));
    let t_loss = now_ms();
    lab.set_loss("r3", 100).unwrap();
    std::thread::sleep(Duration::from_secs(7));
    lab.set_loss("r3", 0).unwrap();
    let t_heal = now_ms();
    std::thread::sleep(Duration::from_secs(7));
    serve.stop();

    let store = Store::open(&db, StoreConfig::default()).unwrap();
    let r2 = device_id(&store, "r2");
    let r3 = device_id(&store, "r3");
    let in_bps = SeriesKey::interface(&r2, "eth1", "in_bps");

    // 1: the bits nocmap's samples add up to over the whole run, from the
    // last poll before it to the last poll before the restart, against what
    // the kernel counted and what iperf3 sent. No traffic flows at either
    // end of that window, so net-snmp's counter cache (refreshed every 3 s,
    // which shifts each single interval by up to 3 s under a loaded
    // machine's poll jitter) cancels out: the check can be tight.
    let (counted, window) = bits_over(&store, &in_bps, t0, t_restart);
    assert!(
        window.1 >= t1 + 3_500,
        "no poll of r2 after the run ended and before the restart: {window:?}, run ended {t1}"
    );
    let kernel_bits = (k1 - k0) as f64 * 8.0;
    let iperf_frame_bits = iperf_packets * 1442.0 * 8.0;
    eprintln!(
        "bits over the run: nocmap {counted:.0}, kernel {kernel_bits:.0} ({:+.3} %), iperf3 frames {iperf_frame_bits:.0} ({:+.3} %)",
        (counted / kernel_bits - 1.0) * 100.0,
        (counted / iperf_frame_bits - 1.0) * 100.0
    );
    assert!(
        (counted / kernel_bits - 1.0).abs() < 0.01,
        "nocmap counted {counted} bits, the kernel {kernel_bits}"
    );
    assert!(
        (counted / iperf_frame_bits - 1.0).abs() < 0.03,
        "nocmap counted {counted} bits, iperf3 sent {iperf_frame_bits} in frames"
    );

    // The samples wholly inside the run, against iperf3's rate: each one may
    // be off by the 3 s counter cache, their mean much less.
    let inside: Vec<f64> = raw(&store, &in_bps, t0 + 6_500, t1 - 200)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert!(
        inside.len() >= 3,
        "too few samples inside the iperf run: {inside:?}"
    );
    let mean = inside.iter().sum::<f64>() / inside.len() as f64;
    // iperf3 counts payload; the interface counts whole frames: 14 bytes of
    // Ethernet, 20 of IP and 8 of UDP per 1400-byte datagram, 3 % more.
    let expected = iperf_bps * 1442.0 / 1400.0;
    eprintln!(
        "iperf3 {:.1} Mbit/s payload ({:.1} on the wire); nocmap {:.1} Mbit/s from {} samples: {:+.2} % (vs payload {:+.2} %)",
        iperf_bps / 1e6,
        expected / 1e6,
        mean / 1e6,
        inside.len(),
        (mean / expected - 1.0) * 100.0,
        (mean / iperf_bps - 1.0) * 100.0
    );
    assert!(
        (mean / expected - 1.0).abs() < 0.25,
        "measured {mean} vs {expected} bits/s of frames"
    );

    // 2 and 3: no spike anywhere (above the 10 Gbit/s veth speed, or far above the traffic we sent).
    let all = raw(&store, &in_bps, t0 - 60_000, now_ms());
    let peak = all.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    assert!(
        peak < 1.5 * expected,
        "a spike: {peak} bits/s (traffic was {expected})"
    );
    let gaps = store
        .series_at(
            &in_bps,
            UnixMillis(t_restart - 1_000),
            UnixMillis(now_ms()),
            nocmap::store::Resolution::Raw,
        )
        .unwrap()
        .gaps;
    assert!(
        gaps.iter().any(|g| g.reason == "reboot"),
        "the snmpd restart is an explicit gap: {gaps:?}"
    );
    let down = raw(
        &store,
        &SeriesKey::interface(&r2, "eth1", "in_bps"),
        t_down,
        t_down + 7_000,
    );
    assert!(
        down.iter().all(|(_, v)| *v < 1e6),
        "no traffic counted while the link was down: {down:?}"
    );

    // 4: latency and loss follow within two ICMP rounds (2 s each, 5 probes 0.2 s apart).
    let within = 2 * 2_000 + 2_500;
    let rtt = raw(
        &store,
        &SeriesKey::probe(&r3, "rtt_avg_ms"),
        t_delay,
        t_loss,
    );
    let first_slow = rtt.iter().find(|(_, v)| *v >= 75.0).map(|(t, _)| *t);
    assert!(
        first_slow.is_some_and(|t| t - t_delay <= within),
        "RTT did not follow the 80 ms delay in two rounds: {rtt:?}"
    );
    let loss = raw(&store, &SeriesKey::probe(&r3, "loss_pct"), t_loss, t_heal);
    let first_lost = loss.iter().find(|(_, v)| *v >= 100.0).map(|(t, _)| *t);
    assert!(
        first_lost.is_some_and(|t| t - t_loss <= within),
        "loss did not follow in two rounds: {loss:?}"
    );
    let healed = raw(&store, &SeriesKey::probe(&r3, "loss_pct"), t_heal, now_ms());
    let first_ok = healed.iter().find(|(_, v)| *v < 100.0).map(|(t, _)| *t);
    assert!(
        first_ok.is_some_and(|t| t - t_heal <= within),
        "recovery not seen in two rounds: {healed:?}"
    );
}

fn wrap_lab_toml() -> String {
    LabToml::new("mwrap", "10.69.0.0/16")
        .routers(&["r1"])
        .node(
            "r2",
            "router",
            r#"counters32 = true
if_speed_mbit = 1000"#,
        )
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1")
        .build()
}

/// A 32-bit-only agent whose ifInOctets wraps under load: the interval that
/// spans the wrap still gives a plausible rate, and nothing spikes.
#[test]
fn a_32_bit_counter_wrap_gives_the_right_rate() {
    require_root!();
    let lab = support::lab_up_toml(&wrap_lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wrap.db");
    let serve = start_serve(
        &lab,
        &db,
        "10.69.0.0/16",
        &["--no-icmp", "--listen", "127.0.0.1:18069"],
    );
    wait_first_rate(&lab, 18069);
    // Load r1 -> r2 until r2's 32-bit counter wraps (at most ~100 s).
    let (_, r2_link) = lab.link_addrs("r1:eth1").unwrap();
    let r2_link = r2_link.unwrap().to_string();
    let mut server = lab
        .command_in("r2", "iperf3")
        .unwrap()
        .args(["-s", "-B", &r2_link, "-p", "5302"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The kernel's byte count every 250 ms, from before the load to well
    // after it: the truth to check the rates against.
    let mut truth: Vec<(i64, u64)> = vec![(now_ms(), rx_bytes(&lab))];
    let mut client = support::iperf_udp_client(&lab, "r1", &r2_link, "5302", "800M", "110");
    let t_start = now_ms();
    let turn = |b: u64| b >> 32;
    let first = turn(truth[0].1);
    let mut t_wrap = None;
    while now_ms() - t_start < 105_000 && t_wrap.is_none_or(|w| now_ms() - w < 12_000) {
        std::thread::sleep(Duration::from_millis(250));
        let b = rx_bytes(&lab);
        truth.push((now_ms(), b));
        if t_wrap.is_none() && turn(b) != first {
            t_wrap = Some(now_ms());
        }
    }
    let t_wrap = t_wrap.expect("the 32-bit counter wrapped under load");
    let _ = client.kill();
    let _ = client.wait();
    let _ = server.kill();
    let _ = server.wait();
    let t_end = now_ms();
    // Quiet for 10 s (a poll every 6 s, each reading a count up to 3 s old):
    // the last poll of the window below sees the load's whole count.
    while now_ms() - t_end < 10_000 {
        std::thread::sleep(Duration::from_millis(250));
        truth.push((now_ms(), rx_bytes(&lab)));
    }
    let t_quiet = now_ms();
    serve.stop();

    let store = Store::open(&db, StoreConfig::default()).unwrap();
    let r2_id = device_id(&store, "r2");
    let key = SeriesKey::interface(&r2_id, "eth1", "in_bps");

    // Over the whole load (from the last poll before it to the last one
    // after it, no traffic at either end) the rates add up to what the
    // kernel counted, wrap included: a wrap taken for a reset or missed
    // would be 2^32 bytes (34 Gbit) off, or a gap.
    let (counted, window) = bits_over(&store, &key, truth[0].0, t_quiet);
    assert!(
        window.1 >= t_end + 3_500,
        "no poll after the load ended: {window:?}, load ended {t_end}"
    );
    let kernel_bits = (truth.last().unwrap().1 - truth[0].1) as f64 * 8.0;
    eprintln!(
        "bits over the load: nocmap {counted:.0}, kernel {kernel_bits:.0} ({:+.3} %)",
        (counted / kernel_bits - 1.0) * 100.0
    );
    assert!(
        (counted / kernel_bits - 1.0).abs() < 0.01,
        "nocmap counted {counted} bits over the load, the kernel {kernel_bits}"
    );

    let loaded: Vec<(i64, f64)> = raw(&store, &key, t_start + 6_500, t_end - 6_000);
    assert!(loaded.len() >= 3, "{loaded:?}");
    // Bytes at time t, interpolated from the kernel's counts.
    let bytes_at = |t: i64| -> Option<f64> {
        let k = truth.windows(2).find(|w| w[0].0 <= t && t <= w[1].0)?;
        let f = (t - k[0].0) as f64 / (k[1].0 - k[0].0).max(1) as f64;
        Some(k[0].1 as f64 + f * (k[1].1 as f64 - k[0].1 as f64))
    };
    let real =
        |a: i64, b: i64| Some((bytes_at(b)? - bytes_at(a)?) * 8.0 / ((b - a) as f64 / 1000.0));
    for w in loaded.windows(2) {
        if let Some(r) = real(w[0].0, w[1].0) {
            eprintln!(
                "  sample at {}: nocmap {:.1} Mbit/s, kernel {:.1} Mbit/s",
                w[1].0,
                w[1].1 / 1e6,
                r / 1e6
            );
        }
    }
    // The first sample after the wrap covers it. snmpd answers from a count
    // it refreshes every 3 s, so the interval the agent counted may start
    // and end up to 3.2 s before the poll's own times: the rate must lie
    // within what the kernel counted over some such interval.
    let pos = loaded
        .iter()
        .position(|(t, _)| *t > t_wrap)
        .expect("a sample after the wrap");
    assert!(pos > 0, "no sample before the wrap");
    let (t0w, _) = loaded[pos - 1];
    let (t1w, across) = loaded[pos];
    let span_s = (t1w - t0w) as f64 / 1000.0;
    let (mut lo, mut hi) = (f64::MAX, 0.0f64);
    for d0 in (0..=3_200).step_by(100) {
        for d1 in (0..=3_200).step_by(100) {
            let bits = (bytes_at(t1w - d1).expect("kernel counts at the wrap sample")
                - bytes_at(t0w - d0).expect("kernel counts before the wrap sample"))
                * 8.0;
            lo = lo.min(bits / span_s);
            hi = hi.max(bits / span_s);
        }
    }
    let real_across = real(t0w, t1w).expect("kernel counts span the wrap sample");
    eprintln!(
        "32-bit wrap at {t_wrap}: nocmap {:.1} Mbit/s over the interval across it, kernel {:.1} Mbit/s (with snmpd's cache {:.1}-{:.1})",
        across / 1e6,
        real_across / 1e6,
        lo / 1e6,
        hi / 1e6
    );
    assert!(
        across >= lo * 0.98 && across <= hi * 1.02,
        "the interval across the wrap is off: {across} outside {lo}..{hi} (kernel {real_across})"
    );
    let all = raw(&store, &key, t_start - 10_000, t_end + 10_000);
    assert!(
        all.iter().all(|(_, v)| *v <= 1.1e9),
        "a rate above the 1 Gbit/s speed: {all:?}"
    );
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
