//! Unit and property tests of the counter arithmetic, each with concrete numbers.
use super::*;
use crate::counters::refresh::Taken;
use crate::counters::sample::{Counters, InterfaceIdentity, MonoMillis};
use crate::types::IfIndex;
use proptest::prelude::*;

const GIG: u64 = 1_000_000_000;

/// A sample at `at_ms` whose sysUpTime is consistent with `at_ms` (an agent
/// that booted at monotonic 0), with only in_octets set.
fn sample(at_ms: u64, in_octets: Counter, speed: Option<u64>) -> CounterSample {
    CounterSample {
        at: MonoMillis(at_ms),
        sys_uptime: Ticks((at_ms / 10) as u32),
        discontinuity_time: None,
        if_index: IfIndex(3),
        identity: InterfaceIdentity {
            name: "ge-0/0/1".into(),
            phys_address: vec![0, 0x1b, 0x21, 1, 2, 3],
        },
        speed_bps: speed,
        counters: Counters {
            in_octets: Some(in_octets),
            ..Counters::default()
        },
        taken: Ok(Taken {
            at: MonoMillis(at_ms),
            uncertainty_ms: 0,
        }),
    }
}

fn in_bits(prev: &CounterSample, cur: &CounterSample) -> Rate {
    interface_rates(Some(prev), cur).get(Metric::InBitsPerSec)
}

fn assert_all_gap(rates: InterfaceRates, reason: GapReason) {
    for (metric, rate) in rates.iter() {
        assert_eq!(rate, Rate::Gap(reason), "{metric:?}");
    }
}

#[test]
fn first_sample_is_a_gap_for_every_metric() {
    let s = sample(10_000, Counter::C64(5), Some(GIG));
    assert_all_gap(interface_rates(None, &s), GapReason::FirstSample);
}

#[test]
fn plain_counter64_rate_and_utilisation() {
    let a = sample(10_000, Counter::C64(1_000_000), Some(GIG));
    let b = sample(20_000, Counter::C64(126_000_000), Some(GIG));
    let r = interface_rates(Some(&a), &b);
    assert_eq!(r.get(Metric::InBitsPerSec), Rate::Value(100_000_000.0));
    assert_eq!(r.get(Metric::InUtilisationPct), Rate::Value(10.0));
    // out_octets absent in both samples.
    assert_eq!(r.get(Metric::OutBitsPerSec), Rate::Gap(GapReason::Missing));
}

#[test]
fn counter32_wrap_on_a_gigabit_interface() {
    let a = sample(10_000, Counter::C32(4_294_967_000), Some(GIG));
    let b = sample(20_000, Counter::C32(500), Some(GIG));
    // 296 octets to the wrap + 500 after it = 796 octets in 10 s.
    assert_eq!(in_bits(&a, &b), Rate::Value(796.0 / 10.0 * 8.0));
    let util = interface_rates(Some(&a), &b).get(Metric::InUtilisationPct);
    assert_eq!(util, Rate::Value(636.8 * 100.0 / 1e9));
}

#[test]
fn counter32_wrap_without_speed_uses_the_half_range_rule() {
    // Wrapped delta 968,296 < 2^31: a wrap.
    let a = sample(10_000, Counter::C32(4_294_000_000), None);
    let b = sample(20_000, Counter::C32(1_000), None);
    assert_eq!(in_bits(&a, &b), Rate::Value(968_296.0 * 8.0 / 10.0));
    let util = interface_rates(Some(&a), &b).get(Metric::InUtilisationPct);
    assert_eq!(util, Rate::Gap(GapReason::Missing));
    // 1,000,000 -> 10: a wrap would be 4,293,967,306 octets > 2^31: cleared.
    let a = sample(10_000, Counter::C32(1_000_000), None);
    let b = sample(20_000, Counter::C32(10), None);
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::CounterCleared));
}

#[test]
fn counter64_wrap_is_accepted_only_when_plausible() {
    let a = sample(10_000, Counter::C64(u64::MAX - 99), Some(GIG));
    let b = sample(20_000, Counter::C64(900), Some(GIG));
    // 100 octets to the wrap (2^64 - (2^64-100)) + 900 = 1,000 octets.
    assert_eq!(in_bits(&a, &b), Rate::Value(800.0));
    // A 64-bit counter going from 5e9 to 1,000 was cleared.
    let a = sample(10_000, Counter::C64(5_000_000_000), Some(GIG));
    let b = sample(20_000, Counter::C64(1_000), Some(GIG));
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::CounterCleared));
    // Same without a speed: the wrap would be ~2^64, above half the range.
    let a = sample(10_000, Counter::C64(5_000_000_000), None);
    let b = sample(20_000, Counter::C64(1_000), None);
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::CounterCleared));
}

#[test]
fn counter32_reset_that_would_need_an_implausible_wrap_is_cleared() {
    // 3e9 -> 2e9 in 10 s at 1 Gb/s: a wrap would mean 3,294,967,296 octets
    // (2.6 Gb/s), more than 1.1 x speed, so it was a reset, not a wrap.
    let a = sample(10_000, Counter::C32(3_000_000_000), Some(GIG));
    let b = sample(20_000, Counter::C32(2_000_000_000), Some(GIG));
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::CounterCleared));
}

#[test]
fn above_speed_boundary_is_exactly_one_point_one_times_speed() {
    // 1 Gb/s x 10 s x 1.1 / 8 = 1,375,000,000 octets.
    let a = sample(10_000, Counter::C64(0), Some(GIG));
    let ok = sample(20_000, Counter::C64(1_375_000_000), Some(GIG));
    let over = sample(20_000, Counter::C64(1_375_000_001), Some(GIG));
    assert_eq!(in_bits(&a, &ok), Rate::Value(1_100_000_000.0));
    assert_eq!(in_bits(&a, &over), Rate::Gap(GapReason::AboveSpeed));
    let util = interface_rates(Some(&a), &ok).get(Metric::InUtilisationPct);
    assert_eq!(util, Rate::Value(110.0));
    let far = sample(20_000, Counter::C64(2_000_000_000), Some(GIG));
    assert_eq!(in_bits(&a, &far), Rate::Gap(GapReason::AboveSpeed));
}

#[test]
fn counter32_that_may_have_wrapped_more_than_once_is_a_gap() {
    // 10 Gb/s for 10 s can move 13.75e9 octets, three full Counter32 turns:
    // 100 -> 200 may be 100 or 100 + k x 2^32 octets.
    let ten_gig = 10 * GIG;
    let a = sample(10_000, Counter::C32(100), Some(ten_gig));
    let b = sample(20_000, Counter::C32(200), Some(ten_gig));
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::AboveSpeed));
    // 1 Gb/s for 60 s (8.25e9 octets) likewise.
    let a = sample(10_000, Counter::C32(100), Some(GIG));
    let b = sample(70_000, Counter::C32(200), Some(GIG));
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::AboveSpeed));
    // The same on Counter64 is fine: 100 octets in 10 s = 80 b/s.
    let a = sample(10_000, Counter::C64(100), Some(ten_gig));
    let b = sample(20_000, Counter::C64(200), Some(ten_gig));
    assert_eq!(in_bits(&a, &b), Rate::Value(80.0));
}

#[test]
fn uptime_going_back_is_a_reboot() {
    let a = sample(10_000_000, Counter::C64(9_000), Some(GIG));
    let mut b = sample(10_010_000, Counter::C64(10_000), Some(GIG));
    b.sys_uptime = Ticks(500);
    assert_all_gap(interface_rates(Some(&a), &b), GapReason::Reboot);
}

#[test]
fn uptime_advancing_much_less_than_the_interval_is_a_reboot() {
    // An hour between polls, but the agent has been up only 10 minutes.
    let mut a = sample(1_000_000, Counter::C64(9_000), Some(GIG));
    a.sys_uptime = Ticks(1_000);
    let mut b = sample(1_000_000 + 3_600_000, Counter::C64(10_000), Some(GIG));
    b.sys_uptime = Ticks(60_000);
    assert_all_gap(interface_rates(Some(&a), &b), GapReason::Reboot);
}

#[test]
fn uptime_wrap_at_2_pow_32_ticks_is_not_a_reboot() {
    let mut a = sample(10_000, Counter::C64(1_000), Some(GIG));
    a.sys_uptime = Ticks(u32::MAX - 499);
    let mut b = sample(20_000, Counter::C64(2_000), Some(GIG));
    // 500 ticks to the wrap + 500 = 1,000 ticks = 10 s, as the wall clock says.
    b.sys_uptime = Ticks(500);
    assert_eq!(in_bits(&a, &b), Rate::Value(800.0));
}

#[test]
fn small_uptime_drift_is_tolerated() {
    let a = sample(10_000, Counter::C64(1_000), Some(GIG));
    let mut b = sample(20_000, Counter::C64(2_000), Some(GIG));
    b.sys_uptime = Ticks(b.sys_uptime.0 + 300); // agent 3 s ahead
    assert_eq!(in_bits(&a, &b), Rate::Value(800.0));
}

#[test]
fn discontinuity_time_change_is_a_gap() {
    let mut a = sample(10_000, Counter::C64(1_000), Some(GIG));
    let mut b = sample(20_000, Counter::C64(2_000), Some(GIG));
    a.discontinuity_time = Some(Ticks(100));
    b.discontinuity_time = Some(Ticks(1_500));
    assert_all_gap(interface_rates(Some(&a), &b), GapReason::Discontinuity);
    b.discontinuity_time = Some(Ticks(100));
    assert_eq!(in_bits(&a, &b), Rate::Value(800.0));
}

#[test]
fn counter_width_change_is_a_discontinuity() {
    let a = sample(10_000, Counter::C32(1_000), Some(GIG));
    let b = sample(20_000, Counter::C64(2_000), Some(GIG));
    assert_eq!(in_bits(&a, &b), Rate::Gap(GapReason::Discontinuity));
}

#[test]
fn index_reuse_is_detected_by_name_or_mac() {
    let a = sample(10_000, Counter::C64(1_000), Some(GIG));
    let mut b = sample(20_000, Counter::C64(2_000), Some(GIG));
    b.identity.name = "ge-0/0/2".into();
    assert_all_gap(interface_rates(Some(&a), &b), GapReason::IndexReused);
    let mut c = sample(20_000, Counter::C64(2_000), Some(GIG));
    c.identity.phys_address[5] = 4;
    assert_all_gap(interface_rates(Some(&a), &c), GapReason::IndexReused);
}

#[test]
fn zero_short_or_negative_interval_is_too_short() {
    let a = sample(10_000, Counter::C64(1_000), Some(GIG));
    for at in [10_000, 10_499, 9_000] {
        let b = sample(at, Counter::C64(1_000), Some(GIG));
        assert_all_gap(interface_rates(Some(&a), &b), GapReason::TooShort);
    }
    // 500 ms is enough: 100 octets in 0.5 s = 1,600 b/s.
    let b = sample(10_500, Counter::C64(1_100), Some(GIG));
    assert_eq!(in_bits(&a, &b), Rate::Value(1_600.0));
}

#[test]
fn missing_counter_is_a_gap_for_that_metric_only() {
    let a = sample(10_000, Counter::C64(1_000), Some(GIG));
    let mut b = sample(20_000, Counter::C64(2_000), Some(GIG));
    b.counters.in_octets = None;
    let r = interface_rates(Some(&a), &b);
    assert_eq!(r.get(Metric::InBitsPerSec), Rate::Gap(GapReason::Missing));
    assert_eq!(
        r.get(Metric::InUtilisationPct),
        Rate::Gap(GapReason::Missing)
    );
}

#[test]
fn packet_error_and_discard_rates() {
    let mut a = sample(10_000, Counter::C64(0), Some(GIG));
    let mut b = sample(20_000, Counter::C64(0), Some(GIG));
    a.counters.in_ucast_pkts = Some(Counter::C64(1_000));
    b.counters.in_ucast_pkts = Some(Counter::C64(11_000));
    a.counters.out_mcast_pkts = Some(Counter::C32(7));
    b.counters.out_mcast_pkts = Some(Counter::C32(57));
    a.counters.in_errors = Some(Counter::C32(5));
    b.counters.in_errors = Some(Counter::C32(25));
    a.counters.out_discards = Some(Counter::C32(u32::MAX));
    b.counters.out_discards = Some(Counter::C32(2));
    a.counters.in_bcast_pkts = Some(Counter::C64(0));
    // 1 Gb/s x 10 s x 1.1 / 512 bits = 21,484,375 packets at most.
    b.counters.in_bcast_pkts = Some(Counter::C64(21_484_376));
    let r = interface_rates(Some(&a), &b);
    assert_eq!(r.get(Metric::InUcastPktsPerSec), Rate::Value(1_000.0));
    assert_eq!(r.get(Metric::OutMcastPktsPerSec), Rate::Value(5.0));
    assert_eq!(r.get(Metric::InErrorsPerSec), Rate::Value(2.0));
    assert_eq!(r.get(Metric::OutDiscardsPerSec), Rate::Value(0.3));
    assert_eq!(
        r.get(Metric::InBcastPktsPerSec),
        Rate::Gap(GapReason::AboveSpeed)
    );
    assert_eq!(
        r.get(Metric::OutErrorsPerSec),
        Rate::Gap(GapReason::Missing)
    );
}

/// One step of a random history: time advance, what the uptime does, and per
/// counter an increment (or a reset) and a width.
#[derive(Debug, Clone)]
struct Step {
    dt_ms: u64,
    uptime: u8,
    incs: [(u64, bool, bool); 12],
    rename: bool,
    speed: Option<u64>,
}

fn step(speed: Option<u64>) -> impl Strategy<Value = Step> {
    let inc = (
        prop_oneof![0..2_000_000_000u64, any::<u64>()],
        any::<bool>(),
        prop::bool::weighted(0.05),
    );
    (
        prop_oneof![0..2_000u64, 5_000..120_000u64],
        0..6u8,
        prop::array::uniform12(inc),
        prop::bool::weighted(0.03),
        prop::bool::weighted(0.9),
    )
        .prop_map(move |(dt_ms, uptime, incs, rename, keep)| Step {
            dt_ms,
            uptime,
            incs,
            rename,
            speed: if keep { speed } else { None },
        })
}

fn history(speed: Option<u64>) -> impl Strategy<Value = Vec<CounterSample>> {
    (any::<u32>(), prop::collection::vec(step(speed), 1..40)).prop_map(|(boot, steps)| {
        let mut at = 0u64;
        let mut uptime = boot;
        let mut state = [0u64; 12];
        let mut name = 0;
        let mut out = Vec::new();
        for s in steps {
            at += s.dt_ms;
            uptime = match s.uptime {
                0 => uptime.wrapping_sub(1_000),
                1 => uptime.wrapping_mul(7),
                _ => uptime.wrapping_add((s.dt_ms / 10) as u32),
            };
            name += usize::from(s.rename);
            let mut c = [None; 12];
            for (i, (inc, wide, reset)) in s.incs.iter().enumerate() {
                state[i] = if *reset {
                    *inc
                } else {
                    state[i].wrapping_add(*inc)
                };
                c[i] = Some(if *wide {
                    Counter::C64(state[i])
                } else {
                    Counter::C32(state[i] as u32)
                });
            }
            out.push(CounterSample {
                at: MonoMillis(at),
                sys_uptime: Ticks(uptime),
                discontinuity_time: None,
                if_index: IfIndex(1),
                identity: InterfaceIdentity {
                    name: format!("if{name}"),
                    phys_address: vec![],
                },
                speed_bps: s.speed,
                counters: Counters {
                    in_octets: c[0],
                    out_octets: c[1],
                    in_ucast_pkts: c[2],
                    out_ucast_pkts: c[3],
                    in_mcast_pkts: c[4],
                    out_mcast_pkts: c[5],
                    in_bcast_pkts: c[6],
                    out_bcast_pkts: c[7],
                    in_errors: c[8],
                    out_errors: c[9],
                    in_discards: c[10],
                    out_discards: c[11],
                },
                taken: Ok(Taken {
                    at: MonoMillis(at),
                    uncertainty_ms: 0,
                }),
            });
        }
        out
    })
}

fn check_history(samples: &[CounterSample]) -> Result<usize, TestCaseError> {
    let mut values = 0;
    let mut prev: Option<&CounterSample> = None;
    for cur in samples {
        let rates = interface_rates(prev, cur);
        for (metric, rate) in rates.iter() {
            let Rate::Value(v) = rate else { continue };
            values += 1;
            prop_assert!(v.is_finite() && v >= 0.0, "{metric:?} = {v}");
            if let Some(speed) = cur.speed_bps {
                let max_bps = speed as f64 * 1.1 * (1.0 + 1e-12);
                let limit = match metric {
                    Metric::InBitsPerSec | Metric::OutBitsPerSec => max_bps,
                    Metric::InUtilisationPct | Metric::OutUtilisationPct => 110.0 + 1e-9,
                    _ => max_bps / 512.0,
                };
                prop_assert!(v <= limit, "{metric:?} = {v} > {limit} at speed {speed}");
            }
        }
        prev = Some(cur);
    }
    Ok(values)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rates_never_exceed_speed_and_are_never_negative(
        speed in prop_oneof![Just(10_000_000u64), Just(100_000_000), Just(GIG), Just(10 * GIG), 1..u64::MAX],
        samples in history(None),
    ) {
        let with_speed: Vec<_> = samples
            .into_iter()
            .map(|mut s| { s.speed_bps = Some(speed); s })
            .collect();
        check_history(&with_speed)?;
    }

    #[test]
    fn any_history_never_panics_and_never_goes_negative(samples in history(Some(GIG))) {
        check_history(&samples)?;
    }
}

#[test]
fn random_histories_do_produce_values() {
    // Guards the property tests above against vacuity: the generated
    // histories must yield many real values, not only gaps.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut values = 0;
    for _ in 0..200 {
        let samples = history(Some(GIG)).new_tree(&mut runner).unwrap().current();
        values += check_history(&samples).unwrap();
    }
    assert!(values > 1_000, "only {values} values in 200 histories");
}

/// Agent values taken 3 s apart, read 5 s apart (net-snmp's cache): the
/// rate is over the 3 s the counters cover, not the 5 s between polls.
#[test]
fn the_rate_is_over_the_span_the_values_were_taken() {
    let mut a = sample(10_000, Counter::C64(0), Some(GIG));
    let mut b = sample(15_000, Counter::C64(3_000_000), Some(GIG));
    a.taken = Ok(Taken {
        at: MonoMillis(9_500),
        uncertainty_ms: 50,
    });
    b.taken = Ok(Taken {
        at: MonoMillis(12_500),
        uncertainty_ms: 50,
    });
    let r = interface_rates(Some(&a), &b);
    assert_eq!(r.value(Metric::InBitsPerSec), Some(8_000_000.0));
    let e = r.exactness();
    assert!(e.is_exact(), "{e:?}");
    assert!((e.uncertainty_pct.unwrap() - 100.0 / 3_000.0 * 100.0).abs() < 1e-9);
    // Unknown instant: the poll interval, flagged.
    b.taken = Err(crate::counters::InexactReason::RefreshUnknown);
    let r = interface_rates(Some(&a), &b);
    assert_eq!(r.value(Metric::InBitsPerSec), Some(4_800_000.0));
    assert_eq!(
        r.exactness().inexact,
        Some(crate::counters::InexactReason::RefreshUnknown)
    );
}
