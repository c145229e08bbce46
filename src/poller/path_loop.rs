//! The path of one monitored device: every `[poll] path_interval_s`, a
//! trace from this host (ICMP echo, three cycles) through the `Tracer`
//! handle; its hops mapped to topology devices into the live state, and a
//! change of route logged and stored as an event (kind `path`, name
//! `path_changed`) with the hops before and after. The hops themselves live
//! only in the live state.
use super::{PollerContext, Ticker};
use crate::icmp::{ProbeProto, TraceOptions, Tracer};
use crate::live::{DeviceHealth, PathChange, PathHop, hops_of};
use crate::store::EventRow;
use crate::topology::DeviceId;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The shape of one path trace.
pub(super) fn options(target: IpAddr) -> TraceOptions {
    TraceOptions {
        target,
        proto: ProbeProto::Icmp,
        port: 0,
        cycles: 3,
        max_ttl: 30,
        flows: 1,
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(1),
    }
}

pub(super) async fn run(
    shared: Arc<PollerContext>,
    tracer: Arc<dyn Tracer>,
    device: DeviceId,
    addr: IpAddr,
    every: Duration,
    generation: u64,
) {
    let clock = shared.clock.clone();
    let mut ticker = Ticker::new(
        clock.mono_ms(),
        &format!("path {addr}"),
        every.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    loop {
        tokio::select! {
            _ = clock.sleep_until_mono(ticker.due_ms()) => {}
            _ = stop.changed() => return,
        }
        if !shared.still_has(&device, generation) {
            return;
        }
        let traced = tokio::select! {
            r = tracer.trace(options(addr)) => r,
            _ = stop.changed() => return,
        };
        let now = clock.wall_ms();
        let traced = traced.map(|report| {
            let hops = shared.live.read_topology(|t| hops_of(&report, t));
            (hops, report.reached)
        });
        let change = shared.live.update_devices(|devices| {
            let h = devices
                .entry(device.clone())
                .or_insert_with(DeviceHealth::default);
            let path = h.path.get_or_insert_with(Default::default);
            match traced {
                Ok((hops, reached)) => path.record(hops, reached, now),
                Err(e) => {
                    path.error = Some(e.to_string());
                    None
                }
            }
        });
        if let Some(change) = change {
            tracing::warn!(
                device = %device,
                before = %text(&change.before),
                after = %text(&change.after),
                "path changed"
            );
            shared.event(change_event(&device, &change));
        }
        ticker.finish(clock.mono_ms());
    }
}

/// Hops as one line: addresses in TTL order, each with the topology
/// device that has it in brackets, `*` where none answered.
pub(super) fn text(hops: &[PathHop]) -> String {
    let parts: Vec<String> = hops
        .iter()
        .map(|h| match (h.addr, &h.device) {
            (None, _) => "*".to_owned(),
            (Some(a), Some(d)) => format!("{a} [{}]", d.0),
            (Some(a), None) => a.to_string(),
        })
        .collect();
    parts.join(" ")
}

/// The history's record of a route change on `device`: kind `path`, name
/// `path_changed`, the routes before and after as its two values. Pure.
pub(super) fn change_event(device: &DeviceId, change: &PathChange) -> EventRow {
    EventRow::observed(
        change.at_ms,
        &device.0,
        "poller",
        "path",
        "path_changed",
        vec![
            ("before", text(&change.before)),
            ("after", text(&change.after)),
        ],
    )
}
