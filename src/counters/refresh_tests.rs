//! The refresh tracking against simulated agents: counters refreshed every
//! 1-30 s at random phases, with and without jitter, polled at 5-60 s
//! intervals through the same plan / watch / taken steps the poller runs.
//! Every rate must be within 5 % of the traffic, or flagged inexact.
use super::*;
use proptest::prelude::*;

/// An agent whose counters hold `bytes_per_ms * r` for the last refresh
/// r at or before the read; refreshes at `phase + k*period + jitter_k`.
struct Agent {
    refreshes: Vec<u64>,
    bytes_per_ms: u64,
}

impl Agent {
    fn new(period: u64, phase: u64, jitter: u64, seed: u64, until: u64) -> Agent {
        let mut refreshes = Vec::new();
        let mut x = seed | 1;
        let mut k = 0;
        loop {
            // xorshift: a jitter in [0, jitter] per refresh.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let j = if jitter == 0 { 0 } else { x % (jitter + 1) };
            let r = phase + k * period + j;
            if r > until {
                break;
            }
            refreshes.push(r);
            k += 1;
        }
        Agent {
            refreshes,
            bytes_per_ms: 25_000,
        }
    }

    /// The value answered to a read the agent handles at `t`.
    fn value(&self, t: u64) -> u64 {
        let r = self.refreshes.iter().rev().find(|r| **r <= t).copied();
        r.map_or(0, |r| r * self.bytes_per_ms)
    }
}

const RTT: u64 = 2;

/// Runs a watch on `agent` from `start`: what it saw and when its last
/// answer came.
fn watch_agent(agent: &Agent, w: &mut Watcher, start: u64) -> (WatchResult, u64) {
    let mut at = start;
    loop {
        let v = agent.value(at + RTT / 2);
        match w.read(MonoMillis(at), MonoMillis(at + RTT), vec![v]) {
            WatchStep::ReadAt(next) => at = next.max(at + RTT),
            WatchStep::Done(r) => return (r, at + RTT),
        }
    }
}

struct Outcome {
    /// (rate error in %, exact?) of every rate after the first sample.
    rates: Vec<(f64, bool)>,
    /// Watch reads per poll.
    reads_per_poll: f64,
}

/// Polls `agent` every `interval` ms from `start` for `polls` polls, as
/// the poller does: plan, watch, main read, taken, rate over the span.
fn run(agent: &Agent, interval: u64, start: u64, polls: u64) -> Outcome {
    let mut model = RefreshModel::default();
    let mut prev: Option<(u64, Result<Taken, InexactReason>, u64)> = None;
    let mut rates = Vec::new();
    let mut reads = 0u32;
    for k in 0..polls {
        let due = start + k * interval;
        let mut now = due;
        let plan = model.plan(due, interval);
        let watch = plan.watcher().map(|(start, mut w)| {
            let (result, end) = watch_agent(agent, &mut w, start);
            reads += w.reads();
            now = end;
            model.observe(&result, false);
            (result, w)
        });
        let value = agent.value(now + RTT / 2);
        let taken = model.taken_for(
            watch.as_ref().map(|w| &w.0),
            MonoMillis(now),
            MonoMillis(now + RTT),
        );
        if let Some((WatchResult::Seen(_), first)) = &watch
            && let Some(mut w) = plan.follow(now + RTT, due + interval - 500)
        {
            w.continue_from(first);
            let (result, _) = watch_agent(agent, &mut w, now + RTT);
            reads += w.reads();
            if matches!(result, WatchResult::Seen(_)) {
                model.observe(&result, true);
            }
        }
        if std::env::var("REFRESH_DEBUG").is_ok() {
            eprintln!(
                "{k} due {due} now {now} taken {taken:?} watch {:?} model {model:?}",
                watch.as_ref().map(|w| &w.0)
            );
        }
        if let Some((pv, ptaken, pnow)) = prev {
            let (span, exact) = match (ptaken, taken) {
                (Ok(a), Ok(b)) => {
                    let (s, e) = Exactness::of_span(a, b);
                    (s, e.is_exact())
                }
                _ => (now - pnow, false),
            };
            if span > 0 {
                let rate = (value - pv) as f64 / span as f64;
                let err = (rate / agent.bytes_per_ms as f64 - 1.0) * 100.0;
                rates.push((err, exact));
            }
        }
        prev = Some((value, taken, now));
    }
    Outcome {
        rates,
        reads_per_poll: f64::from(reads) / polls as f64,
    }
}

fn check(o: &Outcome, what: &str) {
    for (i, (err, exact)) in o.rates.iter().enumerate() {
        assert!(
            !exact || err.abs() <= 5.0,
            "{what}: rate {i} is {err:+.1} % off and called exact"
        );
    }
}

#[test]
fn net_snmp_at_5_and_10_s_is_exact_after_the_first_poll() {
    // The case: a 3 s cache read every 5 s was +20/+20/-35 %.
    for interval in [5_000, 10_000, 15_000, 20_000] {
        let agent = Agent::new(3_000, 1_234, 0, 7, 2_000_000);
        let o = run(&agent, interval, 10_000, 40);
        check(&o, &format!("{interval} ms"));
        let exact = o.rates.iter().filter(|r| r.1).count();
        assert_eq!(exact, o.rates.len(), "{interval} ms: {:?}", o.rates);
        assert!(o.reads_per_poll < 6.0, "{}", o.reads_per_poll);
    }
}

#[test]
fn plain_interval_rates_were_wrong_here() {
    // What the interval alone gives on the same agent: the fault the
    // tracking corrects (the test above fails without it).
    let agent = Agent::new(3_000, 1_234, 0, 7, 200_000);
    let worst = (1..30)
        .map(|k| {
            let (a, b) = (10_000 + (k - 1) * 5_000, 10_000 + k * 5_000);
            let rate = (agent.value(b) - agent.value(a)) as f64 / 5_000.0;
            (rate / 25_000.0 - 1.0).abs() * 100.0
        })
        .fold(0.0, f64::max);
    assert!(worst >= 19.0, "{worst}");
}

#[test]
fn a_10_s_refresh_at_15_and_60_s_polls() {
    for (jitter, interval) in [(0, 15_000), (0, 60_000), (1_500, 15_000), (1_500, 60_000)] {
        let agent = Agent::new(10_000, 4_321, jitter, 99, 5_000_000);
        let o = run(&agent, interval, 30_000, 30);
        check(&o, &format!("jitter {jitter} interval {interval}"));
        let exact = o.rates.iter().filter(|r| r.1).count();
        assert!(exact + 1 >= o.rates.len(), "{:?}", o.rates);
    }
}

#[test]
fn a_refresh_slower_than_the_interval_is_flagged() {
    let agent = Agent::new(30_000, 500, 0, 3, 3_000_000);
    let o = run(&agent, 10_000, 1_000, 40);
    check(&o, "30 s refresh, 10 s polls");
    assert!(o.rates.iter().skip(3).all(|r| !r.1), "{:?}", o.rates);
    // Unflagged rates would be 0 or +200 %.
    assert!(o.rates.iter().any(|r| r.0.abs() > 50.0));
}

#[test]
fn live_counters_cost_nothing_after_the_first_check() {
    let mut m = RefreshModel::default();
    let mut w = Watcher::new(100, 10_000, true);
    let mut step = w.read(MonoMillis(0), MonoMillis(1), vec![1]);
    for (i, t) in [100u64, 200].iter().enumerate() {
        assert_eq!(step, WatchStep::ReadAt(*t));
        step = w.read(MonoMillis(*t), MonoMillis(t + 1), vec![i as u64 + 2]);
    }
    assert_eq!(step, WatchStep::Done(WatchResult::Live));
    m.observe(&WatchResult::Live, false);
    for k in 1..RECHECK_POLLS {
        assert_eq!(
            m.plan(u64::from(k) * 10_000, 10_000),
            Plan::ReadNow { live: true }
        );
    }
    assert!(matches!(m.plan(999_000, 10_000), Plan::Watch { .. }));
    let t = m.taken_for(None, MonoMillis(50), MonoMillis(54));
    assert_eq!(
        t,
        Ok(Taken {
            at: MonoMillis(52),
            uncertainty_ms: 2
        })
    );
}

#[test]
fn idle_counters_back_off() {
    let mut m = RefreshModel::default();
    m.observe(&WatchResult::Unseen, false);
    assert!(matches!(m.plan(0, 10_000), Plan::Watch { .. }));
    m.observe(&WatchResult::Unseen, false);
    assert_eq!(m.plan(10_000, 10_000), Plan::ReadNow { live: false });
    assert_eq!(
        m.taken_for(None, MonoMillis(1), MonoMillis(2)),
        Err(InexactReason::RefreshUnknown)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Periods 1-30 s, any phase, jitter up to 20 % of the period, polls
    /// every 5-60 s: never a rate off by more than 5 % that is called exact.
    #[test]
    fn never_silently_wrong(
        period in 1_000u64..30_000,
        phase_frac in 0.0f64..1.0,
        jitter_frac in 0.0f64..0.2,
        interval in prop::sample::select(vec![5_000u64, 10_000, 15_000, 20_000, 30_000, 60_000]),
        seed in any::<u64>(),
    ) {
        let phase = (period as f64 * phase_frac) as u64;
        let jitter = (period as f64 * jitter_frac) as u64;
        let polls = 12;
        let agent = Agent::new(period, phase, jitter, seed, 60_000 + (polls + 2) * interval * 2);
        let o = run(&agent, interval, 40_000, polls);
        for (i, (err, exact)) in o.rates.iter().enumerate() {
            prop_assert!(!exact || err.abs() <= 5.0, "rate {} {:+.2} % exact", i, err);
        }
        // Where the watch fits in the interval and the refresh is regular,
        // rates are exact (all but the first, which may follow the
        // learning watch's cut-off). With jitter the model can be lost and
        // relearnt, which flags rates inexact (safe, not exact): a known
        // limit, covered above only by the first assertion.
        if jitter_frac < 0.02 && period + 1_000 + 3 * jitter < interval * 7 / 10 {
            let exact = o.rates.iter().filter(|r| r.1).count();
            prop_assert!(exact + 2 >= o.rates.len(), "{:?}", o.rates);
        }
    }
}
