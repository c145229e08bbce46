//! Scenario test of the real ICMP loop (`icmp_loop::run` under a
//! `Monitor`) with a scripted pinger and tokio's paused clock: a verdict,
//! a change of verdict with its time, and a round that measured nothing.
use super::test_support::{Recorder, WALL_START, device, start};
use super::{MonitorSettings, phase_ms};
use crate::icmp::{EngineCounters, Family, IcmpError, PingOptions, PingStats, Pinger};
use crate::live::Reachability;
use crate::snmp::scripted::Scripted;
use crate::topology::DeviceId;
use crate::types::RttMicros;
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Rounds from a script: how many of the requests are answered (with a
/// 2 ms RTT), or an engine failure.
struct ScriptedPinger {
    rounds: Mutex<VecDeque<Option<u32>>>,
    asked: Mutex<Vec<(IpAddr, u32)>>,
}

impl Pinger for ScriptedPinger {
    fn ping(
        &self,
        target: IpAddr,
        options: PingOptions,
    ) -> BoxFuture<'_, Result<PingStats, IcmpError>> {
        self.asked.lock().unwrap().push((target, options.count));
        let round = self.rounds.lock().unwrap().pop_front().unwrap_or(Some(0));
        Box::pin(async move {
            match round {
                Some(answered) => {
                    let rtts = vec![RttMicros(2_000); answered as usize];
                    Ok(PingStats::summarize(target, options.count, rtts))
                }
                None => Err(IcmpError::ReceiverDown {
                    family: Family::V4,
                    restarts: 1,
                }),
            }
        })
    }

    fn counters(&self) -> EngineCounters {
        EngineCounters::default()
    }
}

#[tokio::test(start_paused = true)]
async fn verdicts_change_with_their_time_and_a_failed_round_keeps_the_last() {
    let a = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10));
    let pinger = Arc::new(ScriptedPinger {
        rounds: Mutex::new(VecDeque::from([Some(5), Some(0), None])),
        asked: Mutex::new(Vec::new()),
    });
    let mut d = device("r1", a);
    d.managed = false;
    let settings = MonitorSettings::default();
    let every = settings.icmp_interval.as_millis() as u64;
    let phase = phase_ms(&format!("icmp {a}"), every);
    let t0 = Instant::now();
    let after = |k: u64| t0 + Duration::from_millis(phase + k * every + 500);
    let rec = Recorder::default();
    let (m, live) = start(
        vec![d],
        Scripted::new(),
        Some(pinger.clone()),
        rec.clone(),
        settings,
    );
    let id = DeviceId("r1".into());
    let mut seen = Vec::new();
    for k in 0..3 {
        tokio::time::sleep_until(after(k)).await;
        seen.push(live.read(|l| (l.devices[&id].clone(), l.poller.clone())));
    }
    m.stop().await;
    let (up, _) = &seen[0];
    assert_eq!(up.reachability, Reachability::Up);
    assert_eq!(up.rtt_avg_ms, Some(2.0));
    assert_eq!(up.loss_pct, Some(0.0));
    let (down, _) = &seen[1];
    assert_eq!(down.reachability, Reachability::Down);
    assert_eq!(down.since_ms, Some(WALL_START + (phase + every) as i64));
    assert_eq!(down.loss_pct, Some(100.0));
    // No verdict: the last one stands (to age), and the reason is told.
    let (failed, poller) = &seen[2];
    assert_eq!(failed.reachability, Reachability::Down);
    assert_eq!(failed.last_icmp_ms, down.last_icmp_ms);
    let why = failed.icmp_error.clone().unwrap_or_default();
    assert!(why.starts_with("ICMP round failed"), "{why}");
    assert_eq!(
        (poller.icmp_rounds, poller.icmp_rounds_without_verdict),
        (3, 1)
    );
    let loss: Vec<f64> = rec
        .samples()
        .iter()
        .filter(|s| s.key.metric == "loss_pct")
        .map(|s| s.value)
        .collect();
    assert_eq!(loss, vec![0.0, 100.0]);
    assert_eq!(pinger.asked.lock().unwrap().len(), 3);
}
