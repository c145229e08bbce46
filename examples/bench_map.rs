//! Benchmark: the live map page in headless Chromium against a large
//! synthetic network.
//!
//! Starts the real HTTP server (`nocmap::server::serve`) on 127.0.0.1 (HTTP
//! on loopback only; nothing is probed) with a `Live` holding DEVICES
//! devices and LINKS links, and changes a tenth of the interface rates every
//! second so the live feed carries changes. Then runs
//! `tests/browser/bench_map.mjs` RUNS times: each run opens the page in a
//! fresh headless Chromium, measures the time from navigation until the map
//! is laid out and drawn, then watches WATCH_S seconds of live updates
//! (long tasks, frame gaps, time to apply each update) and prints one JSON
//! line. Usage:
//!   cargo build --release --example bench_map
//!   target/release/examples/bench_map [DEVICES (1000)] [LINKS (2000)] [RUNS (3)] [WATCH_S (20)]
//!       [--serve-only PORT]
use nocmap::counters::{InterfaceRates, Metric};
use nocmap::live::{DeviceHealth, InterfaceHealth, Live, Reachability};
use nocmap::server::{AppState, serve};
use nocmap::topology::{Device, DeviceId, Endpoint, Evidence, Interface, Link, Topology};
use nocmap::types::UnixMillis;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A small deterministic generator (xorshift), so every run draws the same map.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}

/// DEVICES devices: 2 % core routers in a ring, the rest hanging off them
/// and off each other until there are LINKS links.
fn synthetic(devices: usize, links: usize) -> Topology {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut devs: Vec<Device> = (0..devices)
        .map(|i| Device {
            id: DeviceId(format!("dev{i:05}")),
            sys_name: Some(format!("d{i}.site{}", i % 17)),
            sys_descr: Some(if i % 50 == 0 {
                "synthetic core router".to_string()
            } else if i % 5 == 0 {
                "synthetic access switch".to_string()
            } else {
                "synthetic host".to_string()
            }),
            mgmt_addr: Some(std::net::IpAddr::V4(Ipv4Addr::new(
                10,
                90,
                (i / 250) as u8,
                (i % 250 + 1) as u8,
            ))),
            chassis_id: None,
            vendor: None,
            model: None,
            placement: Vec::new(),
            point_to_point: Vec::new(),
            from_site: None,
            hardware: None,
            managed: i % 7 != 3,
            poller: false,
            sys_object_id: None,
            sys_location: Some(format!("site{}", i % 17)),
            sys_contact: None,
            engine_id: None,
            addresses: vec![],
            interfaces: vec![],
            partial: vec![],
            unresolved: vec![],
        })
        .collect();
    let cores: Vec<usize> = (0..devices).step_by(50).collect();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for w in 0..cores.len() {
        pairs.push((cores[w], cores[(w + 1) % cores.len()]));
    }
    for i in 0..devices {
        if i % 50 != 0 {
            pairs.push((cores[rng.below(cores.len())], i));
        }
    }
    while pairs.len() < links {
        let (a, b) = (rng.below(devices), rng.below(devices));
        if a != b {
            pairs.push((a, b));
        }
    }
    pairs.truncate(links);
    let mut topo_links = Vec::new();
    for (k, (a, b)) in pairs.into_iter().enumerate() {
        let mut end = |d: usize| {
            let dev = &mut devs[d];
            let name = format!("eth{}", dev.interfaces.len());
            dev.interfaces.push(Interface {
                if_index: nocmap::types::IfIndex(dev.interfaces.len() as u32 + 1),
                name: name.clone(),
                descr: None,
                alias: None,
                speed_bps: Some(1_000_000_000),
                mac: None,
                oper_status: Some(nocmap::types::OperStatus::Up),
                admin_status: Some(nocmap::types::OperStatus::Up),
                if_type: Some(6),
            });
            Endpoint {
                device: dev.id.clone(),
                if_name: Some(name),
            }
        };
        let (ea, eb) = (end(a), end(b));
        topo_links.push(Link {
            id: format!("link{k:05}"),
            a: ea,
            b: eb,
            evidence: vec![Evidence::Lldp],
            confidence: 1.0,
            lag: None,
        });
    }
    Topology {
        devices: devs,
        links: topo_links,
    }
}

/// Fills device and interface health; `share` of the interfaces get new rates.
fn churn(live: &Live, rng: &mut Rng, share: usize) {
    let now = now_ms();
    let (ids, devices): (Vec<(DeviceId, String)>, Vec<DeviceId>) = live.read_topology(|t| {
        (
            t.devices
                .iter()
                .flat_map(|d| d.interfaces.iter().map(|i| (d.id.clone(), i.name.clone())))
                .collect(),
            t.devices.iter().map(|d| d.id.clone()).collect(),
        )
    });
    live.update_devices(|health| {
        for id in devices {
            health.entry(id).or_insert_with(|| DeviceHealth {
                reachability: Reachability::Up,
                rtt_avg_ms: Some(0.5),
                loss_pct: Some(0.0),
                // Up for the whole run (a verdict needs its round time).
                last_icmp_ms: Some(UnixMillis(now)),
                icmp_stale_after_ms: Some(86_400_000),
                ..Default::default()
            });
        }
    });
    live.update_interfaces(|interfaces| {
        let first = interfaces.is_empty();
        for key in ids {
            if !first && rng.below(share) != 0 {
                continue;
            }
            let pct = |r: &mut Rng| (r.below(10_000) as f64) / 100.0;
            let (inp, outp) = (pct(rng), pct(rng));
            interfaces.insert(
                key,
                InterfaceHealth {
                    oper_status: Some(nocmap::types::OperStatus::Up),
                    speed_bps: Some(1_000_000_000),
                    rates: Some(
                        InterfaceRates::zero()
                            .with(Metric::InBitsPerSec, inp * 1e7)
                            .with(Metric::OutBitsPerSec, outp * 1e7)
                            .with(Metric::InUtilisationPct, inp)
                            .with(Metric::OutUtilisationPct, outp),
                    ),
                    updated_ms: Some(UnixMillis(now)),
                    counters: None,
                },
            );
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve_only = args
        .iter()
        .position(|a| a == "--serve-only")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse::<u16>().expect("--serve-only PORT"));
    let num: Vec<usize> = args
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .map(|a| a.parse().expect("a number"))
        .collect();
    let devices = num.first().copied().unwrap_or(1000);
    let links = num.get(1).copied().unwrap_or(2000);
    let runs = num.get(2).copied().unwrap_or(3);
    let watch_s = num.get(3).copied().unwrap_or(20);

    let live = Arc::new(Live::new(synthetic(devices, links), 180_000));
    let mut rng = Rng(42);
    churn(&live, &mut rng, 10);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let listener = std::net::TcpListener::bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        serve_only.unwrap_or(0),
    )))
    .expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local addr").port();
    let mut state = AppState::new(live.clone());
    state.feed = Some(nocmap::server::feed::Feed::new());
    rt.spawn(async move {
        if let Err(e) = serve(listener, state, std::future::pending()).await {
            eprintln!("server: {e}");
        }
    });
    let churner = live.clone();
    rt.spawn(async move {
        let mut rng = Rng(7);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            churn(&churner, &mut rng, 10);
        }
    });
    let url = format!("http://127.0.0.1:{port}/");
    eprintln!("{devices} devices, {links} links at {url}");
    if serve_only.is_some() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/bench_map.mjs");
    for run in 1..=runs {
        let out = Command::new("node")
            .arg(&script)
            .arg(&url)
            .arg(watch_s.to_string())
            .output()
            .expect("node runs");
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            panic!("run {run} failed");
        }
        println!("run {run}: {}", String::from_utf8_lossy(&out.stdout).trim());
    }
}
