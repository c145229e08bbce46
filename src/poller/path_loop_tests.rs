//! Scenario test of the real path loop (`path_loop::run` under a
//! `Monitor`) with a scripted tracer and tokio's paused clock: hops mapped
//! to topology devices, a hop outside the topology, one change of route
//! with the hops before and after, and a failed trace that keeps the path;
//! a device listed under an IPv6 address traced there, its hops mapped to
//! devices by their IPv6 interface addresses.
use super::test_support::{Recorder, WALL_START, device, start_tracing};
use super::{MonitorSettings, phase_ms};
use crate::icmp::{
    Flow, FlowPath, HopReport, IcmpError, ProbeProto, Responder, TraceOptions, TraceReport, Tracer,
};
use crate::live::DevicePath;
use crate::snmp::scripted::Scripted;
use crate::topology::DeviceId;
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Traces of `TARGET` from a script (the hops' addresses, or a failure);
/// every other target fails.
struct ScriptedTracer {
    traces: Mutex<VecDeque<Option<Vec<u8>>>>,
}

const TARGET: u8 = 30;

fn report(target: IpAddr, hops: &[IpAddr]) -> TraceReport {
    let hops: Vec<HopReport> = hops
        .iter()
        .enumerate()
        .map(|(i, addr)| HopReport {
            ttl: i as u8 + 1,
            responders: vec![Responder {
                addr: *addr,
                replies: 3,
            }],
            sent: 3,
            received: 3,
            loss_pct: 0.0,
            rtt_min_ms: Some(1.0),
            rtt_avg_ms: Some(1.0),
            rtt_max_ms: Some(1.0),
        })
        .collect();
    TraceReport {
        target,
        proto: ProbeProto::Icmp,
        port: None,
        reached: true,
        paths: vec![FlowPath {
            flow: Flow {
                index: 0,
                flow_field: 1,
            },
            reached: true,
            hops: hops.clone(),
        }],
        hops,
        unmatched_replies: 0,
    }
}

impl Tracer for ScriptedTracer {
    fn trace(&self, options: TraceOptions) -> BoxFuture<'_, Result<TraceReport, IcmpError>> {
        let target = options.target;
        let next = if target == ip(TARGET) {
            self.traces.lock().unwrap().pop_front().flatten()
        } else {
            None
        };
        Box::pin(async move {
            next.map(|hops| report(target, &hops.into_iter().map(ip).collect::<Vec<_>>()))
                .ok_or(IcmpError::TraceNotPermitted)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn hops_map_to_devices_and_a_route_change_is_kept_with_both_routes() {
    let tracer = Arc::new(ScriptedTracer {
        traces: Mutex::new(VecDeque::from([
            Some(vec![1, 2, TARGET]),
            Some(vec![1, 2, TARGET]),
            Some(vec![1, 9, TARGET]),
            None,
        ])),
    });
    // r1 answers from 127.0.0.1, r2 from 127.0.0.2; nobody has .9.
    let mut r1 = device("r1", ip(10));
    r1.addresses.push(ip(1));
    let mut r2 = device("r2", ip(20));
    r2.addresses.push(ip(2));
    let mut h = device("h", ip(TARGET));
    for d in [&mut r1, &mut r2, &mut h] {
        d.managed = false;
    }
    let every_s = 60;
    let settings = MonitorSettings {
        path_interval: Some(Duration::from_secs(every_s)),
        ..MonitorSettings::default()
    };
    let every = every_s * 1000;
    let phase = phase_ms(&format!("path {}", ip(TARGET)), every);
    let t0 = Instant::now();
    let after = |k: u64| t0 + Duration::from_millis(phase + k * every + 500);
    let store = Recorder::default();
    let events = store.events.clone();
    let (m, live) = start_tracing(
        vec![r1, r2, h],
        Scripted::new(),
        None,
        Some(tracer),
        store,
        settings,
    );
    let id = DeviceId("h".into());
    let mut seen: Vec<DevicePath> = Vec::new();
    for k in 0..4 {
        tokio::time::sleep_until(after(k)).await;
        seen.push(live.read_devices(|m| m[&id].path.clone().expect("a path")));
    }
    m.stop().await;
    let devices = |p: &DevicePath| -> Vec<Option<String>> {
        p.hops
            .iter()
            .map(|h| h.device.as_ref().map(|d| d.0.clone()))
            .collect()
    };
    let first = &seen[0];
    assert_eq!(
        devices(first),
        vec![Some("r1".into()), Some("r2".into()), Some("h".into())]
    );
    assert_eq!(first.traced_ms, Some(WALL_START + phase as i64));
    assert!(first.reached && first.last_change.is_none());
    assert_eq!(seen[1].changes, 0, "the same route is no change");
    let moved = &seen[2];
    assert_eq!(
        devices(moved),
        vec![Some("r1".into()), None, Some("h".into())]
    );
    assert!(
        !moved.hops[1].in_topology,
        "127.0.0.9 is outside the topology"
    );
    let change = moved.last_change.as_ref().expect("a change");
    assert_eq!(change.before, first.hops);
    assert_eq!(change.after, moved.hops);
    assert_eq!(moved.changes, 1);
    // The change is in the history too, once: both routes as text, with
    // the devices that own their hops.
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (e.kind.as_str(), e.name.as_str(), e.device.as_deref()),
        ("path", "path_changed", Some("h"))
    );
    assert_eq!(e.at, change.at_ms);
    let values: Vec<(&str, &str)> = e
        .varbinds
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            ("before", "127.0.0.1 [r1] 127.0.0.2 [r2] 127.0.0.30 [h]"),
            ("after", "127.0.0.1 [r1] 127.0.0.9 127.0.0.30 [h]")
        ]
    );
    // A failed trace: the reason told, the last path kept.
    let failed = &seen[3];
    assert!(failed.error.as_deref().unwrap_or("").contains("raw socket"));
    assert_eq!(failed.hops, moved.hops);
    assert_eq!(failed.changes, 1);
}

/// Answers traces to one address with fixed hops, and notes every target
/// it was asked for.
struct OneTarget {
    target: IpAddr,
    hops: Vec<IpAddr>,
    asked: Mutex<Vec<IpAddr>>,
}

impl Tracer for OneTarget {
    fn trace(&self, options: TraceOptions) -> BoxFuture<'_, Result<TraceReport, IcmpError>> {
        self.asked.lock().unwrap().push(options.target);
        let r = (options.target == self.target).then(|| report(self.target, &self.hops));
        Box::pin(async move { r.ok_or(IcmpError::TraceNotPermitted) })
    }
}

#[tokio::test(start_paused = true)]
async fn a_device_listed_by_an_ipv6_address_is_traced_there_and_its_hops_mapped_by_ipv6() {
    let v6 = |link: u16, end: u16| IpAddr::V6(Ipv6Addr::new(0xfd13, 7, 0, link, 0, 0, 0, end));
    let target = v6(4, 2);
    let tracer = Arc::new(OneTarget {
        target,
        hops: vec![v6(1, 2), v6(2, 2), target],
        asked: Mutex::new(Vec::new()),
    });
    // The routers are known by their interfaces' addresses only (no
    // management address: no pollers of their own); h is managed over
    // IPv4 and has the IPv6 address it is listed under.
    let mut r1 = device("r1", ip(10));
    r1.addresses = vec![ip(10), v6(1, 2)];
    let mut r2 = device("r2", ip(20));
    r2.addresses = vec![ip(20), v6(2, 2)];
    for r in [&mut r1, &mut r2] {
        r.mgmt_addr = None;
    }
    let mut h = device("h", ip(TARGET));
    h.addresses.push(target);
    for d in [&mut r1, &mut r2, &mut h] {
        d.managed = false;
    }
    let settings = MonitorSettings {
        path_interval: Some(Duration::from_secs(60)),
        path_target: Some(target),
        ..MonitorSettings::default()
    };
    let (m, live) = start_tracing(
        vec![r1, r2, h],
        Scripted::new(),
        None,
        Some(tracer.clone()),
        Recorder::default(),
        settings,
    );
    tokio::time::sleep(Duration::from_secs(61)).await;
    let path = live.read_devices(|m| m[&DeviceId("h".into())].path.clone().expect("a path"));
    m.stop().await;
    let asked = tracer.asked.lock().unwrap().clone();
    assert_eq!(asked, vec![target], "traced at the listed address only");
    let hops: Vec<(Option<IpAddr>, Option<String>)> = path
        .hops
        .iter()
        .map(|h| (h.addr, h.device.as_ref().map(|d| d.0.clone())))
        .collect();
    assert_eq!(
        hops,
        vec![
            (Some(v6(1, 2)), Some("r1".into())),
            (Some(v6(2, 2)), Some("r2".into())),
            (Some(target), Some("h".into())),
        ],
        "{path:?}"
    );
    assert!(path.reached && path.error.is_none());
}
