//! The path of one monitored device: every `[poll] path_interval_s`, a
//! trace from this host (ICMP echo, three cycles) through the `Tracer`
//! handle; its hops mapped to topology devices into the live state, and a
//! change of route logged with the hops before and after. Never stored.
use super::{PollerContext, Ticker};
use crate::icmp::{ProbeProto, TraceOptions, Tracer};
use crate::live::{DeviceHealth, PathHop, hops_of};
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
        if !shared.still_has(&device) {
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
        shared.live.update_devices(|devices| {
            let h = devices
                .entry(device.clone())
                .or_insert_with(DeviceHealth::default);
            let path = h.path.get_or_insert_with(Default::default);
            match traced {
                Ok((hops, reached)) => {
                    if let Some(change) = path.record(hops, reached, now) {
                        tracing::warn!(
                            device = %device,
                            before = %text(&change.before),
                            after = %text(&change.after),
                            "path changed"
                        );
                    }
                }
                Err(e) => path.error = Some(e.to_string()),
            }
        });
        ticker.finish(clock.mono_ms());
    }
}

/// Hops as one line: addresses in TTL order, `*` where none answered.
fn text(hops: &[PathHop]) -> String {
    let parts: Vec<String> = hops
        .iter()
        .map(|h| h.addr.map_or("*".to_owned(), |a| a.to_string()))
        .collect();
    parts.join(" ")
}
