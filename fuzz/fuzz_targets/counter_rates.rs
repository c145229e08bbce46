//! Fuzz target: the counter arithmetic (`counters::interface_rates`) on two
//! arbitrary samples of one interface. It must never panic, and every rate it
//! returns must hold the invariants `counters::arithmetic` documents: finite,
//! not negative, and (speed known) bits/s within speed * 1.1, utilisation
//! within 110 %, packets/s within speed / 512 * 1.1. Without a previous
//! sample every metric is a `FirstSample` gap; below `MIN_INTERVAL_MS` a
//! `TooShort` gap. Half the inputs keep sysUpTime in step with the wall
//! clock so the fuzzer gets past the reboot check into the counter rules.
#![no_main]
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use nocmap::counters::{
    Counter, CounterSample, Counters, GapReason, InterfaceIdentity, MIN_INTERVAL_MS, Metric,
    MonoMillis, Rate, Ticks, interface_rates, speed_from_mib,
};
use nocmap::types::IfIndex;

fn counter(u: &mut Unstructured) -> Result<Option<Counter>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => None,
        1 => Some(Counter::C32(u.arbitrary()?)),
        // Near the top of the range, where the wraps are.
        2 => Some(Counter::C32(u32::MAX - u32::from(u.arbitrary::<u16>()?))),
        _ => Some(Counter::C64(u.arbitrary()?)),
    })
}

fn counters(u: &mut Unstructured) -> Result<Counters> {
    Ok(Counters {
        in_octets: counter(u)?,
        out_octets: counter(u)?,
        in_ucast_pkts: counter(u)?,
        out_ucast_pkts: counter(u)?,
        in_mcast_pkts: counter(u)?,
        out_mcast_pkts: counter(u)?,
        in_bcast_pkts: counter(u)?,
        out_bcast_pkts: counter(u)?,
        in_errors: counter(u)?,
        out_errors: counter(u)?,
        in_discards: counter(u)?,
        out_discards: counter(u)?,
    })
}

fn speed(u: &mut Unstructured) -> Result<Option<u64>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => None,
        1 => speed_from_mib(u.arbitrary()?, u.arbitrary()?),
        2 => Some(u.arbitrary()?),
        _ => Some(10u64.pow(u.int_in_range(6..=11u32)?)),
    })
}

fn sample(u: &mut Unstructured, at: u64, uptime: u32) -> Result<CounterSample> {
    Ok(CounterSample {
        at: MonoMillis(at),
        sys_uptime: Ticks(uptime),
        discontinuity_time: if u.arbitrary()? {
            Some(Ticks(u.int_in_range(0..=2u32)?))
        } else {
            None
        },
        if_index: IfIndex(u.int_in_range(1..=2u32)?),
        identity: InterfaceIdentity {
            name: if u.ratio(1, 8)? { "b" } else { "a" }.to_string(),
            phys_address: Vec::new(),
        },
        speed_bps: speed(u)?,
        counters: counters(u)?,
    })
}

fn check(prev: Option<&CounterSample>, cur: &CounterSample) {
    let rates = interface_rates(prev, cur);
    assert_eq!(rates, interface_rates(prev, cur), "not deterministic");
    let Some(p) = prev else {
        assert!(
            rates
                .iter()
                .all(|(_, r)| r == Rate::Gap(GapReason::FirstSample))
        );
        return;
    };
    if cur
        .at
        .0
        .checked_sub(p.at.0)
        .is_none_or(|ms| ms < MIN_INTERVAL_MS)
    {
        assert!(
            rates
                .iter()
                .all(|(_, r)| r == Rate::Gap(GapReason::TooShort))
        );
        return;
    }
    let speed = cur.speed_bps.filter(|&s| s > 0).map(|s| s as f64);
    // Relative slack for float rounding only; the bound itself is exact.
    let slack = 1.0 + 1e-9;
    for (metric, rate) in rates.iter() {
        let Rate::Value(v) = rate else { continue };
        assert!(v.is_finite() && v >= 0.0, "{metric:?} = {v}");
        let Some(s) = speed else {
            assert!(
                !matches!(metric, Metric::InUtilisationPct | Metric::OutUtilisationPct),
                "utilisation without a speed"
            );
            continue;
        };
        let limit = match metric {
            Metric::InBitsPerSec | Metric::OutBitsPerSec => s * 1.1,
            Metric::InUtilisationPct | Metric::OutUtilisationPct => 110.0,
            _ => s / 512.0 * 1.1,
        };
        assert!(v <= limit * slack, "{metric:?} = {v} above {limit}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(in_step) = u.arbitrary::<bool>() else {
        return;
    };
    let Ok(at0) = u.arbitrary::<u64>() else {
        return;
    };
    let Ok(up0) = u.arbitrary::<u32>() else {
        return;
    };
    let (at1, up1) = if in_step {
        // An interval of up to ~50 days, uptime advanced by it +- jitter.
        let Ok(ms) = u.int_in_range(0..=4_300_000_000u64) else {
            return;
        };
        let Ok(jitter) = u.int_in_range(-2000i64..=2000) else {
            return;
        };
        let ticks = (ms / 10) as i64 + jitter;
        (at0.wrapping_add(ms), up0.wrapping_add(ticks as u32))
    } else {
        let (Ok(a), Ok(b)) = (u.arbitrary(), u.arbitrary()) else {
            return;
        };
        (a, b)
    };
    let (Ok(prev), Ok(cur)) = (sample(&mut u, at0, up0), sample(&mut u, at1, up1)) else {
        return;
    };
    check(None, &cur);
    check(Some(&prev), &cur);
});
