//! Benchmark: the size of `/metrics` and the time to build it for a large
//! network, without a network: a `Live` holding DEVICES devices with
//! INTERFACES interfaces each (rates, counters, up), rendered RUNS times
//! the way the route does (`metrics::collect` then `exposition::encode_text`).
//! Prints one JSON line per run and the medians. Usage:
//!   cargo build --release --example bench_metrics
//!   target/release/examples/bench_metrics [DEVICES (2000)] [INTERFACES (50)] [RUNS (5)]
use nocmap::counters::{Counter, Counters, InterfaceRates, Metric};
use nocmap::live::{DeviceHealth, InterfaceHealth, Live, Reachability};
use nocmap::server::exposition::encode_text;
use nocmap::server::metrics::collect;
use nocmap::topology::{Device, Interface, Topology};
use nocmap::types::UnixMillis;
use std::time::Instant;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn device(i: usize, interfaces: usize) -> Device {
    let json = serde_json::json!({
        "id": format!("chassis-02:00:00:{:02x}:{:02x}:{:02x}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
        "sys_name": format!("sw{i:05}"), "sys_descr": null, "mgmt_addr": null,
        "chassis_id": null, "vendor": null, "managed": true, "interfaces": [],
    });
    let mut d: Device = serde_json::from_value(json).unwrap();
    d.interfaces = (1..=interfaces)
        .map(|n| {
            serde_json::from_value::<Interface>(serde_json::json!({
                "if_index": n, "name": format!("Ethernet1/{n}"), "descr": null,
                "alias": null, "mac": null, "speed_bps": 10_000_000_000u64,
                "oper_status": "up", "if_type": 6,
            }))
            .unwrap()
        })
        .collect();
    d
}

fn main() {
    let (devices, per, runs) = (arg(1, 2000), arg(2, 50), arg(3, 5));
    let topology = Topology {
        devices: (0..devices).map(|i| device(i, per)).collect(),
        links: Vec::new(),
    };
    let live = Live::new(topology.clone(), 180_000);
    let now = UnixMillis::now();
    live.update_devices(|m| {
        for d in &topology.devices {
            m.insert(
                d.id.clone(),
                DeviceHealth {
                    reachability: Reachability::Up,
                    rtt_avg_ms: Some(0.4),
                    loss_pct: Some(0.0),
                    last_icmp_ms: Some(now),
                    icmp_stale_after_ms: Some(86_400_000),
                    snmp_ok: Some(true),
                    ..Default::default()
                },
            );
        }
    });
    live.update_interfaces(|m| {
        for d in &topology.devices {
            for (n, i) in d.interfaces.iter().enumerate() {
                let c = |v: u64| Some(Counter::C64(v * 1_000 + n as u64));
                m.insert(
                    (d.id.clone(), i.name.clone()),
                    InterfaceHealth {
                        oper_status: Some(nocmap::types::OperStatus::Up),
                        speed_bps: Some(10_000_000_000),
                        rates: Some(
                            InterfaceRates::zero()
                                .with(Metric::InBitsPerSec, 1.25e8 + n as f64)
                                .with(Metric::OutBitsPerSec, 2.5e8)
                                .with(Metric::InUtilisationPct, 1.25)
                                .with(Metric::OutUtilisationPct, 2.5),
                        ),
                        updated_ms: Some(now),
                        counters: Some(Counters {
                            in_octets: c(9_876_543),
                            out_octets: c(1_234_567),
                            in_ucast_pkts: c(77_777),
                            out_ucast_pkts: c(66_666),
                            in_errors: c(0),
                            out_errors: c(0),
                            in_discards: c(1),
                            out_discards: c(2),
                            ..Default::default()
                        }),
                    },
                );
            }
        }
    });
    let mut times = Vec::new();
    let mut size = 0;
    let mut samples = 0;
    for run in 0..runs {
        let start = Instant::now();
        let families = live.read(|v| collect(v, UnixMillis::now()));
        let collected = start.elapsed().as_secs_f64();
        let text = encode_text(&families);
        let took = start.elapsed().as_secs_f64();
        size = text.len();
        samples = families.iter().map(|f| f.samples.len()).sum::<usize>();
        times.push(took);
        println!(
            "{{\"run\":{run},\"devices\":{devices},\"interfaces\":{},\"samples\":{samples},\"bytes\":{size},\"seconds\":{took:.3},\"under_lock_seconds\":{collected:.3}}}",
            devices * per
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.3} s, {} samples, {:.1} MB of text ({} bytes per interface)",
        times[times.len() / 2],
        samples,
        size as f64 / 1e6,
        size / (devices * per).max(1)
    );
}
