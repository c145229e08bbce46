//! Rates true at any poll interval on real snmpd, which refreshes its
//! interface counters every ~3 s: four `nocmap serve` poll the same lab at
//! 5, 10, 15 and 20 s at once while iperf3 sends 200 Mbit/s from r1 to r2
//! for 96 s; every stored rate of r2's eth1 whose span lies inside the run
//! is within 5 % of the rate the kernel's own byte counter shows (read from
//! sysfs every second). Before the refresh watch, 5 s polls read
//! +20/+20/-35 % and 10 s polls up to +23 %.
#[macro_use]
mod support;
use nocmap::store::{SeriesKey, Store, StoreConfig};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::lab::Routers;
use support::monitor::{device_id, raw, rx_bytes};
use support::serve::ServeCmd;

const LAB: Routers = Routers::new(
    "bwr",
    "10.57.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1",
);
const INTERVALS: [u32; 4] = [5, 10, 15, 20];
const RUN_S: u32 = 96;

fn get(lab: &nocmap_lab::Lab, port: u16, path: &str) -> String {
    let out = lab
        .command_in("noc", "curl")
        .unwrap()
        .args(["-s", "-f", &format!("http://127.0.0.1:{port}{path}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "GET {path} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rates_within_5_pct_at_5_10_15_and_20_s_polls() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // BWR_WITHOUT_WATCH=1 runs the same check with the refresh watch off
    // (`poll.counter_refresh = false`): it fails, as the rates were.
    let config = dir.path().join("nocmap.toml");
    let off = std::env::var_os("BWR_WITHOUT_WATCH").is_some();
    std::fs::write(&config, format!("[poll]\ncounter_refresh = {}\n", !off)).unwrap();
    let serves: Vec<_> = INTERVALS
        .iter()
        .map(|s| {
            let db = dir.path().join(format!("bwr{s}.db"));
            let serve = ServeCmd::new(&lab, "10.57.0.0/16")
                .config(&config)
                .poll(*s)
                .icmp(30)
                .listen(18570 + *s as u16)
                .db(&db)
                .start();
            (*s, serve)
        })
        .collect();
    // Discovery and the first (learning) polls.
    std::thread::sleep(Duration::from_secs(14));

    // The kernel's count of r2's received bytes, every second.
    let kernel: Arc<Mutex<Vec<(i64, u64)>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (kernel, stop, lab) = (kernel.clone(), done.clone(), &lab);
        std::thread::scope(|scope| {
            let h = scope.spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let b = rx_bytes(lab);
                    kernel.lock().unwrap().push((now_ms(), b));
                    std::thread::sleep(Duration::from_millis(1_000));
                }
            });
            let (_, r2_addr) = lab.link_addrs("r1:eth1").unwrap();
            let r2_addr = r2_addr.unwrap().to_string();
            let mut server = lab
                .command_in("r2", "iperf3")
                .unwrap()
                .args(["-s", "-1", "-B", &r2_addr, "-p", "5357"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
            let t0 = now_ms();
            let ok = lab
                .command_in("r1", "iperf3")
                .unwrap()
                .args([
                    "-c", &r2_addr, "-p", "5357", "-u", "-b", "200M", "-l", "1400",
                ])
                .args(["-t", &RUN_S.to_string()])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            let t1 = now_ms();
            let _ = server.wait();
            assert!(ok.success(), "iperf3 ran");
            std::thread::sleep(Duration::from_secs(2));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            h.join().unwrap();
            (t0, t1)
        })
    };
    let (t0, t1) = sampler;

    // The API and /metrics of the 10 s poller: the r1-r2 link's rates are
    // flagged exact.
    let topo: serde_json::Value = serde_json::from_str(&get(&lab, 18580, "/api/topology")).unwrap();
    let exact: Vec<String> = topo["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} {}", l["rate_exact"], l["rate_inexact_reason"]))
        .collect();
    eprintln!("links' rate_exact: {exact:?}");
    let metrics = get(&lab, 18580, "/metrics");
    assert!(
        metrics.contains("nocmap_interface_rate_exact{"),
        "rate_exact in /metrics"
    );
    let watch_requests = metrics
        .lines()
        .find(|l| l.starts_with("nocmap_snmp_refresh_watch_requests_total "))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("watch requests in /metrics");
    let polls = metrics
        .lines()
        .find(|l| l.starts_with("nocmap_snmp_polls_total "))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    eprintln!(
        "10 s poller: {watch_requests} watch GETs over {polls} polls ({:.1} per poll)",
        watch_requests / polls.max(1.0)
    );
    for (_, serve) in serves {
        serve.stop();
    }

    // The kernel's rate over the steady part of the run.
    let k = kernel.lock().unwrap().clone();
    let inside: Vec<&(i64, u64)> = k
        .iter()
        .filter(|(t, _)| *t >= t0 + 2_000 && *t <= t1 - 1_000)
        .collect();
    let (a, b) = (inside.first().unwrap(), inside.last().unwrap());
    let kernel_bps = (b.1 - a.1) as f64 * 8.0 * 1000.0 / (b.0 - a.0) as f64;
    eprintln!("kernel: {:.2} Mbit/s into r2 eth1", kernel_bps / 1e6);
    assert!(kernel_bps > 100e6, "the traffic flowed: {kernel_bps}");

    let mut failures = Vec::new();
    for s in INTERVALS {
        let db = dir.path().join(format!("bwr{s}.db"));
        let store = Store::open(&db, StoreConfig::default()).unwrap();
        let r2 = device_id(&store, "r2");
        let key = SeriesKey::interface(&r2, "eth1", "in_bps");
        let points = raw(&store, &key, t0 - 60_000, t1 + 60_000);
        // A rate whose span (previous poll to this one, each just after a
        // refresh) lies inside the steady traffic.
        let errors: Vec<f64> = points
            .windows(2)
            .filter(|w| w[0].0 >= t0 + 2_500 && w[1].0 <= t1 - 500)
            .map(|w| (w[1].1 / kernel_bps - 1.0) * 100.0)
            .collect();
        let worst = errors.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        eprintln!(
            "{s} s polls: {} rates inside the run, worst {worst:.2} %: {}",
            errors.len(),
            errors
                .iter()
                .map(|e| format!("{e:+.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if errors.len() < (RUN_S / s) as usize - 2 {
            failures.push(format!("{s} s: only {} rates: {points:?}", errors.len()));
        }
        if worst > 5.0 {
            failures.push(format!("{s} s: a rate {worst:.2} % off"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
