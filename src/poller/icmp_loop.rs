//! The ICMP round of one device: every interval, several echo requests
//! (SmokePing style: loss and jitter need more than one packet), the
//! results into the live state and the store, reachability changes with
//! their time.
use super::{MonitorSettings, Shared, Ticker};
use crate::icmp::{IcmpEngine, PingOptions, PingStats};
use crate::live::{DeviceHealth, Reachability};
use crate::store::{Sample, SeriesKey, UnixMillis};
use crate::topology::DeviceId;
use std::net::IpAddr;
use std::sync::Arc;

pub(super) async fn run(
    shared: Arc<Shared>,
    icmp: Arc<IcmpEngine>,
    device: DeviceId,
    addr: IpAddr,
    s: MonitorSettings,
) {
    let clock = shared.clock;
    let mut ticker = Ticker::new(
        clock.mono_ms(),
        &format!("icmp {addr}"),
        s.icmp_interval.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(clock.at_mono(ticker.due_ms())) => {}
            _ = stop.changed() => return,
        }
        if !shared.still_has(&device) {
            return;
        }
        let lag = clock.mono_ms().saturating_sub(ticker.due_ms());
        let opts = PingOptions {
            count: s.icmp_count.max(1),
            interval: s.icmp_spacing,
            timeout: s.icmp_timeout,
            ..PingOptions::default()
        };
        let started = clock.mono_ms();
        let result = icmp.ping(addr, opts).await;
        let now = clock.wall_ms();
        match &result {
            Ok(stats) => record(&shared, &device, stats, now),
            Err(e) => tracing::warn!(%addr, error = %e, "ICMP round failed"),
        }
        let took = clock.mono_ms().saturating_sub(started);
        let skipped = ticker.finish(clock.mono_ms());
        shared.live.update(|l| {
            let p = &mut l.poller;
            p.icmp_rounds += 1;
            p.skipped_polls += skipped;
            p.lag_seconds_max = p.lag_seconds_max.max(lag as f64 / 1000.0);
            p.poll_seconds_max = p.poll_seconds_max.max(took as f64 / 1000.0);
        });
    }
}

fn ms(v: Option<crate::types::RttMicros>) -> Option<f64> {
    v.map(|r| r.as_millis_f64())
}

fn record(shared: &Shared, device: &DeviceId, st: &PingStats, now: i64) {
    let state = if st.received > 0 {
        Reachability::Up
    } else {
        Reachability::Down
    };
    shared.live.update(|l| {
        let h = l.devices.entry(device.clone()).or_insert_with(DeviceHealth::default);
        if h.reachability != state {
            tracing::info!(device = %device, from = ?h.reachability, to = ?state, "reachability changed");
            h.since_ms = Some(now);
        }
        h.reachability = state;
        h.rtt_min_ms = ms(st.rtt_min);
        h.rtt_avg_ms = ms(st.rtt_avg);
        h.rtt_median_ms = ms(st.rtt_median);
        h.rtt_max_ms = ms(st.rtt_max);
        h.jitter_ms = ms(st.jitter);
        h.loss_pct = Some(st.loss_pct);
        h.last_icmp_ms = Some(now);
    });
    let at = UnixMillis(now);
    let mut samples = vec![Sample {
        key: SeriesKey::probe(&device.0, "loss_pct"),
        at,
        value: st.loss_pct,
    }];
    for (name, v) in [
        ("rtt_min_ms", st.rtt_min),
        ("rtt_avg_ms", st.rtt_avg),
        ("rtt_median_ms", st.rtt_median),
        ("rtt_max_ms", st.rtt_max),
        ("jitter_ms", st.jitter),
    ] {
        if let Some(v) = ms(v) {
            samples.push(Sample {
                key: SeriesKey::probe(&device.0, name),
                at,
                value: v,
            });
        }
    }
    shared.write(samples, Vec::new());
}
