//! A real Prometheus (Debian's 2.42) scrapes `nocmap serve` in the lab
//! (noc → r1 → r2) every second while iperf3 sends UDP from r1 to r2 at
//! 200 Mbit/s, and PromQL's `rate(nocmap_interface_in_bytes_total[1m])` on
//! r2's eth1 gives the rate iperf3 sent, within 5 %.
//!
//! The interface counts frames: each 1400-byte datagram crosses the link
//! as 1442 bytes (UDP 8, IPv4 20, Ethernet 14), so the rate compared is
//! iperf3's sender rate × 1442 / 1400. net-snmp refreshes its counters
//! every ~3 s and serve polls every 2 s, so a single 1-minute window's
//! ends are each up to ~5 s stale: the figure asserted is the mean of the
//! 1-minute rate evaluated every second over the last 20 s of the load
//! (each evaluation printed, with its worst deviation).
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::process::Stdio;
use std::time::Duration;
use support::Kill;
use support::lab::Routers;
use support::serve::{self, ServeCmd};

const LAB: Routers = Routers::new(
    "prlab",
    "10.177.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1",
);
const API_PORT: u16 = 18_186;
const PROM_PORT: u16 = 18_187;
const LOAD_SECS: u64 = 85;
const PAYLOAD: f64 = 1400.0;
const FRAME: f64 = 1400.0 + 8.0 + 20.0 + 14.0;

fn now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn start_prometheus(lab: &Lab, dir: &std::path::Path) -> Kill {
    let conf = dir.join("prometheus.yml");
    std::fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: nocmap\n    static_configs:\n      - targets: ['127.0.0.1:{API_PORT}']\n"
        ),
    )
    .unwrap();
    let child = lab
        .command_in("noc", "prometheus")
        .unwrap()
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{PROM_PORT}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus is needed (Debian package `prometheus`; .ci/run installs it)");
    let prom = Kill(child);
    support::wait_until("Prometheus ready", Duration::from_secs(30), || {
        support::noc_get(lab, PROM_PORT, "/-/ready")
    });
    prom
}

/// `rate(...[1m])` of r2's eth1 in bytes/s, evaluated every second over
/// [`from`, `to`] (Unix seconds).
fn rates(lab: &Lab, from: f64, to: f64) -> Vec<f64> {
    let q = r#"rate(nocmap_interface_in_bytes_total{sys_name="r2",if_name="eth1"}[1m])"#;
    let path = format!(
        "/api/v1/query_range?query={}&start={from:.3}&end={to:.3}&step=1",
        percent_encode(q)
    );
    let text = support::noc_get(lab, PROM_PORT, &path).expect("query_range answers");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(result.len(), 1, "one series: {v}");
    result[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p[1].as_str()?.parse().ok())
        .collect()
}

#[test]
fn prometheus_rate_of_the_byte_counter_matches_iperf3() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (dir, cfg, db, log) = serve::files("prom", "");
    let _serve = ServeCmd::new(&lab, LAB.prefix)
        .poll(2)
        .icmp(2)
        .config(&cfg)
        .db(&db)
        .start_logged(API_PORT, &log);
    let _prom = start_prometheus(&lab, dir.path());
    let mut looks = 0;
    support::wait_until("r2 eth1's counter scraped", Duration::from_secs(60), || {
        looks += 1;
        if looks % 20 == 0 {
            eprintln!(
                "targets: {:?}",
                support::noc_get(&lab, PROM_PORT, "/api/v1/targets")
            );
        }
        let q = percent_encode(r#"nocmap_interface_in_bytes_total{sys_name="r2",if_name="eth1"}"#);
        let t = support::noc_get(&lab, PROM_PORT, &format!("/api/v1/query?query={q}"))?;
        t.contains("\"value\"").then_some(())
    });

    let (_, r2_addr) = lab.link_addrs("r1:eth1").unwrap();
    let r2_addr = r2_addr.unwrap().to_string();
    let server = lab
        .command_in("r2", "iperf3")
        .unwrap()
        .args(["-s", "-1", "-B", &r2_addr, "-p", "5331"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Kill(server);
    std::thread::sleep(Duration::from_millis(400));
    let t0 = now_s();
    let client = lab
        .command_in("r1", "iperf3")
        .unwrap()
        .args([
            "-c", &r2_addr, "-p", "5331", "-u", "-b", "200M", "-l", "1400",
        ])
        .args(["-t", &LOAD_SECS.to_string(), "-J"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = client.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("iperf3 JSON");
    let sent_bps = v["end"]["sum"]["bits_per_second"]
        .as_f64()
        .expect("iperf3 sender rate");
    let wire_bytes = sent_bps / 8.0 * FRAME / PAYLOAD;
    // The last 20 s of the load: every 1-minute window lies inside it.
    let (from, to) = (t0 + LOAD_SECS as f64 - 22.0, t0 + LOAD_SECS as f64 - 2.0);
    std::thread::sleep(Duration::from_secs(3));
    let r = rates(&lab, from, to);
    assert!(r.len() >= 15, "evaluations: {r:?}");
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let worst = r
        .iter()
        .map(|x| x / wire_bytes - 1.0)
        .fold(0.0f64, |w, d| if d.abs() > w.abs() { d } else { w });
    eprintln!(
        "iperf3 sent {:.2} Mbit/s of payload = {:.3} MB/s on the wire; Prometheus \
         rate(nocmap_interface_in_bytes_total[1m]) over {} evaluations: mean {:.3} MB/s \
         ({:+.2} %), worst single evaluation {:+.2} %, vs the payload rate {:+.2} %",
        sent_bps / 1e6,
        wire_bytes / 1e6,
        r.len(),
        mean / 1e6,
        (mean / wire_bytes - 1.0) * 100.0,
        worst * 100.0,
        (mean * 8.0 / sent_bps - 1.0) * 100.0,
    );
    assert!(
        (mean / wire_bytes - 1.0).abs() < 0.05,
        "rate() {mean:.0} B/s vs iperf3 {wire_bytes:.0} B/s on the wire: {r:?}"
    );
}
