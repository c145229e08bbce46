//! Scenario tests of the real SNMP poll loop (`snmp_loop::run` under a
//! `Monitor`) on a scripted transport and tokio's paused clock: counter
//! wrap, agent reboot, timeouts, a stranger's answer, an overrun, and a
//! re-discovery that replaces the device. No sockets, no root; each runs
//! in milliseconds.
use super::test_support::{Recorder, WALL_START, counter_table, device, start, tick};
use super::{MonitorSettings, phase_ms};
use crate::counters::{GapReason, Metric};
use crate::snmp::scripted::{Scripted, Step};
use crate::topology::{DeviceId, Topology};
use crate::types::UnixMillis;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::time::Instant;

const INTERVAL_MS: u64 = 60_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

fn settings() -> MonitorSettings {
    MonitorSettings {
        snmp_interval: Duration::from_millis(INTERVAL_MS),
        // These scenarios play one scripted step per GET of the poll;
        // the refresh watch has scenarios of its own.
        counter_refresh: false,
        ..MonitorSettings::default()
    }
}

/// The deadlines of `addr`'s SNMP loop, on the test's paused time.
struct Polls {
    t0: Instant,
    phase: u64,
    t0_wall: UnixMillis,
}

impl Polls {
    fn new(addr: IpAddr) -> Polls {
        Polls {
            t0: Instant::now(),
            phase: phase_ms(&format!("snmp {addr}"), INTERVAL_MS),
            t0_wall: WALL_START,
        }
    }

    fn due_ms(&self, k: u64) -> u64 {
        self.phase + k * INTERVAL_MS
    }

    /// Wall time of poll `k` (an instant answer ends when it is due).
    fn wall(&self, k: u64) -> i64 {
        (self.t0_wall + self.due_ms(k) as i64).0
    }

    /// Waits until 5 s after poll `k` (0: the first) was due: past a
    /// scripted timeout, well before the next poll.
    async fn after(&self, k: u64) {
        let at = self.t0 + Duration::from_millis(self.due_ms(k) + 5_000);
        tokio::time::sleep_until(at).await;
    }
}

/// r1 at 127.0.0.10 with a counter table, answering `steps` in turn, polled
/// by a started monitor that records what it stores.
struct OneAgent {
    snmp: std::sync::Arc<Scripted>,
    rec: Recorder,
    polls: Polls,
    m: super::Monitor,
    live: std::sync::Arc<crate::live::Live>,
}

fn one_agent(steps: impl IntoIterator<Item = Step>) -> OneAgent {
    let a = ip(10);
    let snmp = Scripted::new();
    snmp.agent(a, counter_table(0));
    snmp.script(a, steps);
    let rec = Recorder::default();
    let polls = Polls::new(a);
    let (m, live) = start(
        vec![device("r1", a)],
        snmp.clone(),
        None,
        rec.clone(),
        settings(),
    );
    OneAgent {
        snmp,
        rec,
        polls,
        m,
        live,
    }
}

#[tokio::test(start_paused = true)]
async fn a_counter32_wrap_gives_a_rate_not_a_gap() {
    // 7,500,000 bytes in 60 s across the 2^32 wrap: 1 Mbit/s.
    let after_wrap = (4_294_000_000u64 + 7_500_000 - (1u64 << 32)) as u32;
    let a = one_agent([
        Step::Answer(tick(100_000, 4_294_000_000)),
        Step::Answer(tick(106_000, after_wrap)),
    ]);
    a.polls.after(1).await;
    let h = a
        .live
        .read(|l| l.interfaces[&(DeviceId("r1".into()), "eth0".into())].clone());
    a.m.stop().await;
    let rate = h
        .rate(Metric::InBitsPerSec)
        .expect("a rate across the wrap");
    assert!((rate - 1_000_000.0).abs() < 1.0, "{rate}");
    let stored = a.rec.series("r1", "eth0", "in_bps");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, a.polls.wall(1));
    assert!(
        a.rec
            .gaps()
            .iter()
            .all(|g| !g.series.as_ref().is_some_and(|k| k.metric == "in_bps"))
    );
}

#[tokio::test(start_paused = true)]
async fn an_agent_reboot_is_a_gap_then_rates_resume() {
    let a = one_agent([
        Step::Answer(tick(500_000, 1_000_000)),
        // sysUpTime went back: the agent restarted, counters with it.
        Step::Answer(tick(3_000, 20_000)),
        Step::Answer(tick(9_000, 770_000)),
    ]);
    a.polls.after(1).await;
    let key = (DeviceId("r1".into()), "eth0".to_string());
    let during = a.live.read(|l| l.interfaces[&key].clone());
    a.polls.after(2).await;
    let after = a.live.read(|l| l.interfaces[&key].clone());
    a.m.stop().await;
    assert_eq!(during.gap(), Some(GapReason::Reboot));
    assert_eq!(during.rate(Metric::InBitsPerSec), None);
    let gap = a
        .rec
        .gaps()
        .into_iter()
        .find(|g| g.series.as_ref().is_some_and(|k| k.metric == "in_bps"))
        .expect("an in_bps gap");
    assert_eq!(gap.reason, "reboot");
    assert_eq!((gap.from.0, gap.to.0), (a.polls.wall(0), a.polls.wall(1)));
    // 750,000 bytes in 60 s after the restart: 100 kbit/s.
    let rate = after.rate(Metric::InBitsPerSec).expect("rates resume");
    assert!((rate - 100_000.0).abs() < 1.0, "{rate}");
    assert_eq!(a.rec.series("r1", "eth0", "in_bps").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_fails_the_poll_reopens_and_the_next_rate_spans_both_intervals() {
    let a = one_agent([
        Step::Answer(tick(100_000, 0)),
        Step::Silent,
        Step::Answer(tick(112_000, 1_500_000)),
    ]);
    a.polls.after(1).await;
    let id = DeviceId("r1".into());
    let (failed, poller) = a.live.read(|l| (l.devices[&id].clone(), l.poller.clone()));
    a.polls.after(2).await;
    let ok = a.live.read(|l| l.devices[&id].clone());
    let h = a
        .live
        .read(|l| l.interfaces[&(id.clone(), "eth0".into())].clone());
    a.m.stop().await;
    assert_eq!(failed.snmp_ok, Some(false));
    let text = failed.snmp_error.unwrap_or_default();
    assert!(text.contains("no answer within 1000 ms"), "{text}");
    assert_eq!((poller.snmp_timeouts, poller.snmp_failures), (1, 1));
    assert_eq!(ok.snmp_ok, Some(true));
    // 1,500,000 bytes over the 120 s since the last good sample: 100 kbit/s.
    let rate = h.rate(Metric::InBitsPerSec).expect("a rate");
    assert!((rate - 100_000.0).abs() < 1.0, "{rate}");
    // The session is opened again after the failure.
    let opens = a.snmp.log().iter().filter(|(_, w)| *w == "open").count();
    assert_eq!(opens, 2);
}

#[tokio::test(start_paused = true)]
async fn an_answer_from_a_stranger_is_named_with_the_failure() {
    let (a, own, stranger) = (ip(10), ip(11), ip(99));
    let snmp = Scripted::new();
    snmp.agent(a, counter_table(0));
    snmp.script(
        a,
        [
            Step::Answer(tick(100_000, 0)),
            Step::Stranger(stranger),
            Step::Stranger(own),
        ],
    );
    let mut d = device("r1", a);
    d.addresses.push(own);
    let rec = Recorder::default();
    let polls = Polls::new(a);
    let (m, live) = start(vec![d], snmp.clone(), None, rec, settings());
    let id = DeviceId("r1".into());
    polls.after(1).await;
    let first = live.read(|l| l.devices[&id].snmp_error.clone().unwrap_or_default());
    polls.after(2).await;
    let second = live.read(|l| l.devices[&id].snmp_error.clone().unwrap_or_default());
    m.stop().await;
    assert!(first.contains("no answer"), "{first}");
    assert!(
        first.contains("1 came from 127.0.0.99 (not an address of this device)"),
        "{first}"
    );
    // Only what grew since the last poll is told.
    assert!(!second.contains("127.0.0.99"), "{second}");
    assert!(
        second.contains("1 came from 127.0.0.11 (an address of this device)"),
        "{second}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_overrun_skips_the_missed_deadlines_and_counts_them() {
    let a = one_agent([
        Step::Answer(tick(100_000, 0)),
        // Poll 1 takes 150 s: the deadlines of polls 2 and 3 pass.
        Step::Slow(Duration::from_secs(150), tick(121_000, 0)),
        Step::Answer(tick(124_000, 0)),
    ]);
    a.polls.after(3).await;
    let gets_by_3 = a.snmp.log().iter().filter(|(_, w)| *w == "get").count();
    a.polls.after(4).await;
    let p = a.live.read(|l| l.poller.clone());
    let gets_by_4 = a.snmp.log().iter().filter(|(_, w)| *w == "get").count();
    a.m.stop().await;
    assert_eq!(p.skipped_polls, 2);
    assert_eq!((gets_by_3, gets_by_4), (2, 3));
    assert!(
        (p.poll_seconds_max - 150.0).abs() < 0.01,
        "{}",
        p.poll_seconds_max
    );
    assert_eq!(a.snmp.steps_left(ip(10)), 0);
}

#[tokio::test(start_paused = true)]
async fn rediscovery_replaces_a_device_and_its_pollers() {
    let (a, b) = (ip(10), ip(20));
    let snmp = Scripted::new();
    snmp.agent(a, counter_table(1_000));
    snmp.agent(b, counter_table(1_000));
    let rec = Recorder::default();
    let polls_a = Polls::new(a);
    let (mut m, live) = start(vec![device("r1", a)], snmp.clone(), None, rec, settings());
    polls_a.after(1).await;
    m.set_topology(Topology {
        devices: vec![device("r2", b)],
        links: vec![],
    });
    let gone = live.read(|l| {
        !l.devices.contains_key(&DeviceId("r1".into()))
            && !l.interfaces.keys().any(|(d, _)| d.0 == "r1")
    });
    tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
    let log = snmp.log();
    let (r2_ok, polls) = live.read(|l| {
        let ok = l
            .devices
            .get(&DeviceId("r2".into()))
            .and_then(|h| h.snmp_ok);
        (ok, l.poller.snmp_polls)
    });
    m.stop().await;
    assert!(gone, "r1's state stays in the live picture");
    // r1 was polled twice, then its loop ended at its next deadline.
    let to_a = log.iter().filter(|(ip, w)| *ip == a && *w == "get").count();
    let to_b = log.iter().filter(|(ip, w)| *ip == b && *w == "get").count();
    assert_eq!(to_a, 2, "{log:?}");
    assert!(to_b >= 2, "{log:?}");
    assert_eq!(r2_ok, Some(true));
    assert_eq!(polls as usize, to_a + to_b);
}

#[tokio::test(start_paused = true)]
async fn a_wake_polls_at_once_and_leaves_the_schedule_as_it_was() {
    let a = one_agent([
        Step::Answer(tick(100_000, 1_000)),
        Step::Answer(tick(100_500, 2_000)),
        Step::Answer(tick(106_000, 3_000)),
    ]);
    let polls = |a: &OneAgent| {
        a.live
            .read(|l| (l.poller.snmp_polls, l.poller.skipped_polls))
    };
    a.polls.after(0).await;
    assert_eq!(polls(&a), (1, 0));
    let waker = a.m.waker();
    assert!(!waker.wake(&DeviceId("nobody".into())));
    assert!(waker.wake(&DeviceId("r1".into())));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(polls(&a), (2, 0), "the wake gave no poll at once");
    // The regular poll still comes when due, once.
    a.polls.after(1).await;
    assert_eq!(polls(&a), (3, 0));
    a.m.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_device_added_while_monitoring_is_polled_at_once_then_on_its_grid() {
    let (a, b) = (ip(10), ip(20));
    let snmp = Scripted::new();
    snmp.agent(a, counter_table(1_000));
    snmp.agent(b, counter_table(1_000));
    let polls_a = Polls::new(a);
    let (mut m, _live) = start(
        vec![device("r1", a)],
        snmp.clone(),
        None,
        Recorder::default(),
        settings(),
    );
    polls_a.after(0).await;
    // r2 arrives (a re-discovery, or a lease taken from a dead member):
    // its first poll comes now, not at its phase in the interval.
    m.set_topology(Topology {
        devices: vec![device("r1", a), device("r2", b)],
        links: vec![],
    });
    let added = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let gets_b =
        |log: &[(IpAddr, &str)]| log.iter().filter(|(ip, w)| *ip == b && *w == "get").count();
    assert_eq!(gets_b(&snmp.log()), 1, "r2 polled at once");
    // Then on r2's own grid: one poll per interval from its phase on.
    let phase_b = phase_ms(&format!("snmp {b}"), INTERVAL_MS);
    let since = added.duration_since(polls_a.t0).as_millis() as u64;
    let next = (since / INTERVAL_MS) * INTERVAL_MS + phase_b;
    let next = if next <= since {
        next + INTERVAL_MS
    } else {
        next
    };
    tokio::time::sleep_until(polls_a.t0 + Duration::from_millis(next + 1_000)).await;
    assert_eq!(gets_b(&snmp.log()), 2, "the next poll on r2's grid");
    tokio::time::sleep(Duration::from_millis(INTERVAL_MS)).await;
    assert_eq!(gets_b(&snmp.log()), 3);
    m.stop().await;
}
