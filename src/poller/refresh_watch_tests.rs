//! Scenario tests of the refresh watch in the real poll loop, on a
//! scripted agent of ours whose counters hold the traffic up to its last
//! refresh (every 10 s, with or without jitter), on tokio's paused clock:
//! at 15 s and 60 s polls every rate is within 5 % of the traffic or
//! flagged inexact; without the watch the same agent reads +/-33 % off.
use super::MonitorSettings;
use super::test_support::{Recorder, counter_table, device, start};
use crate::counters::Metric;
use crate::snmp::Value;
use crate::snmp::scripted::Scripted;
use crate::topology::DeviceId;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// 4 Mbit/s of traffic into eth0 (speed 10 Mbit/s).
const BYTES_PER_MS: u64 = 500;

/// Refresh instants (ms after `t0`): `phase + k*period + jitter_k`.
fn refreshes(period: u64, phase: u64, jitter: u64, until: u64) -> Vec<u64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            phase + k * period + if jitter == 0 { 0 } else { x % (jitter + 1) }
        })
        .take_while(|r| *r <= until)
        .collect()
}

/// What the monitor showed for eth0 over the run: (in_bps, exact) per poll.
async fn run(
    period: u64,
    jitter: u64,
    interval_s: u64,
    polls: u64,
    watch: bool,
) -> Vec<(f64, bool)> {
    let a = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 40));
    let snmp = Scripted::new();
    snmp.agent(a, counter_table(0));
    let t0 = Instant::now();
    let until = (polls + 3) * interval_s * 1_000;
    let grid = refreshes(period, 1_700, jitter, until);
    snmp.compute(
        a,
        Arc::new(move |oid| {
            let now = t0.elapsed().as_millis() as u64;
            match oid {
                [1, 3, 6, 1, 2, 1, 1, 3, 0] => Some(Value::TimeTicks((now / 10) as u32)),
                [1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1] => {
                    let r = grid.iter().rev().find(|r| **r <= now).copied().unwrap_or(0);
                    Some(Value::Counter32((r * BYTES_PER_MS) as u32))
                }
                _ => None,
            }
        }),
    );
    let settings = MonitorSettings {
        snmp_interval: Duration::from_secs(interval_s),
        counter_refresh: watch,
        ..MonitorSettings::default()
    };
    let (m, live) = start(
        vec![device("r1", a)],
        snmp,
        None,
        Recorder::default(),
        settings,
    );
    let key = (DeviceId("r1".into()), "eth0".to_string());
    let mut seen = Vec::new();
    let mut last = None;
    let end = t0 + Duration::from_secs(polls * interval_s);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let h = live.read(|l| l.interfaces.get(&key).cloned());
        let Some(h) = h else { continue };
        if h.updated_ms == last {
            continue;
        }
        last = h.updated_ms;
        if let (Some(v), Some(r)) = (h.rate(Metric::InBitsPerSec), h.rates) {
            seen.push((v, r.exactness().is_exact()));
        }
    }
    m.stop().await;
    seen
}

fn err_pct(bps: f64) -> f64 {
    (bps / (BYTES_PER_MS as f64 * 8_000.0) - 1.0) * 100.0
}

async fn check(period: u64, jitter: u64, interval_s: u64, polls: u64) {
    let seen = run(period, jitter, interval_s, polls, true).await;
    let what = format!("refresh {period} ms +{jitter} ms jitter, {interval_s} s polls");
    assert!(seen.len() as u64 >= polls - 3, "{what}: {seen:?}");
    for (v, exact) in &seen {
        let e = err_pct(*v);
        assert!(
            !exact || e.abs() <= 5.0,
            "{what}: {e:+.1} % called exact: {seen:?}"
        );
    }
    // All but the first rate or two (learning) are exact here.
    let exact = seen.iter().filter(|x| x.1).count();
    assert!(exact + 2 >= seen.len(), "{what}: {seen:?}");
}

#[tokio::test(start_paused = true)]
async fn a_10_s_refresh_at_15_s_polls() {
    check(10_000, 0, 15, 24).await;
}

#[tokio::test(start_paused = true)]
async fn a_10_s_refresh_at_60_s_polls() {
    check(10_000, 0, 60, 14).await;
}

#[tokio::test(start_paused = true)]
async fn a_jittery_10_s_refresh_at_15_and_60_s_polls() {
    check(10_000, 2_000, 15, 24).await;
    check(10_000, 2_000, 60, 14).await;
}

#[tokio::test(start_paused = true)]
async fn without_the_watch_the_same_agent_reads_a_third_off() {
    let seen = run(10_000, 0, 15, 12, false).await;
    let worst = seen.iter().map(|x| err_pct(x.0).abs()).fold(0.0, f64::max);
    assert!(worst >= 30.0, "{seen:?}");
    assert!(seen.iter().all(|x| !x.1), "never called exact: {seen:?}");
}
