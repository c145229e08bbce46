//! The ICMP round of one device: every interval, several echo requests
//! (SmokePing style: loss and jitter need more than one packet), the
//! results into the live state and the store, reachability changes with
//! their time. Each verdict carries its round's time and its lifetime from
//! this device's own settings; a round that measured nothing (the engine
//! failed, or this host refused every probe) leaves the last verdict to
//! age (`live::aged`) and says why in `icmp_error`.
use super::{MonitorSettings, PollerContext, Ticker};
use crate::icmp::{PingOptions, PingStats, Pinger};
use crate::live::{
    DeviceHealth, Reachability, measured_loss_pct, round_verdict, verdict_lifetime_ms,
};
use crate::store::{Sample, SeriesKey};
use crate::topology::DeviceId;
use crate::types::UnixMillis;
use std::net::IpAddr;
use std::sync::Arc;

pub(super) async fn run(
    shared: Arc<PollerContext>,
    icmp: Arc<dyn Pinger>,
    device: DeviceId,
    addr: IpAddr,
    s: MonitorSettings,
    generation: u64,
    first_now: bool,
) {
    let clock = shared.clock.clone();
    let start = if first_now {
        Ticker::now_then_grid
    } else {
        Ticker::new
    };
    let mut ticker = start(
        clock.mono_ms(),
        &format!("icmp {addr}"),
        s.icmp_interval.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    let lifetime_ms = verdict_lifetime_ms(
        s.icmp_interval,
        s.icmp_count,
        s.icmp_spacing,
        s.icmp_timeout,
    );
    loop {
        tokio::select! {
            _ = clock.sleep_until_mono(ticker.due_ms()) => {}
            _ = stop.changed() => return,
        }
        if !shared.still_has(&device, generation) {
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
            Ok(stats) => match round_verdict(stats) {
                Some(state) => record(&shared, &device, stats, state, now, lifetime_ms),
                None => {
                    let why = format!(
                        "this host refused all {} probes (EPERM/EACCES: a local firewall?)",
                        stats.sent
                    );
                    no_verdict(&shared, &device, addr, why);
                }
            },
            Err(e) => no_verdict(&shared, &device, addr, format!("ICMP round failed: {e}")),
        }
        let took = clock.mono_ms().saturating_sub(started);
        let skipped = ticker.finish(clock.mono_ms());
        let engine = icmp.counters();
        shared.live.update_poller(|p| {
            p.icmp_engine.merge(engine);
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

/// A round without a verdict: the last one stands until it is stale.
/// Logged when the reason changes, not every round.
fn no_verdict(shared: &PollerContext, device: &DeviceId, addr: IpAddr, why: String) {
    shared
        .live
        .update_poller(|p| p.icmp_rounds_without_verdict += 1);
    let new = shared.live.update_devices(|devices| {
        let h = devices.entry(device.clone()).or_default();
        let new = h.icmp_error.as_deref() != Some(why.as_str());
        h.icmp_error = Some(why.clone());
        new
    });
    if new {
        tracing::warn!(%addr, "ICMP round measured nothing: {why}");
    }
}

fn record(
    shared: &PollerContext,
    device: &DeviceId,
    st: &PingStats,
    state: Reachability,
    now: UnixMillis,
    lifetime_ms: i64,
) {
    // Over the probes that left this host (a refused one is not lost).
    let loss = measured_loss_pct(st);
    shared.live.update_devices(|devices| {
        let h = devices.entry(device.clone()).or_insert_with(DeviceHealth::default);
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
        h.loss_pct = loss;
        h.last_icmp_ms = Some(now);
        h.icmp_stale_after_ms = Some(lifetime_ms);
        h.icmp_error = None;
    });
    let at = now;
    let mut samples: Vec<Sample> = loss
        .map(|value| Sample {
            key: SeriesKey::probe(&device.0, "loss_pct"),
            at,
            value,
        })
        .into_iter()
        .collect();
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
