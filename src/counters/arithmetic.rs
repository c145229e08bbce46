//! Counter arithmetic: rates from two successive samples of one interface,
//! handling Counter32/Counter64 wraps, sysUpTime wraps, reboots, counter
//! discontinuities and ifIndex reuse. Every result is a correct rate or an
//! explicit gap, never a spike. No I/O, no clock: timestamps come in samples.
//!
//! Rules, in order:
//! 1. no previous sample -> `FirstSample`; interval below [`MIN_INTERVAL_MS`]
//!    -> `TooShort`; ifIndex or identity changed -> `IndexReused`;
//! 2. sysUpTime must advance by the wall-clock interval (within 5 s or 10 %);
//!    the advance is taken modulo 2^32, so an uptime wrap passes and a restart
//!    (uptime back, or advanced much less than the interval) is `Reboot`;
//! 3. ifCounterDiscontinuityTime changed -> `Discontinuity`;
//! 4. per counter: a forward delta must fit speed * interval * 1.1 (else
//!    `AboveSpeed`); a counter that went back is a wrap (+2^32 or +2^64) only
//!    when the wrapped delta fits that bound, or, speed unknown, is below half
//!    the counter range; otherwise `CounterCleared`. A Counter32 delta is
//!    `AboveSpeed` when delta + 2^32 would also fit the bound: the number of
//!    wraps is then unknowable.
//!
//! The rate is over the span between the instants the agent took the two
//! samples' values when both are known (`refresh`), else over the poll
//! interval and marked inexact; the bounds above use the poll interval.
//!
//! Packet counters use the same bound with 64-byte frames (speed / 512 pkt/s).
use super::rate::{GapReason, InterfaceRates, Metric, Rate};
use super::refresh::{Exactness, InexactReason};
use super::sample::{Counter, CounterSample, Ticks};

/// Intervals shorter than this give `TooShort` (a rate over a few
/// milliseconds is noise from response timing).
pub const MIN_INTERVAL_MS: u64 = 500;

/// The least sysUpTime drift accepted against the wall clock: 5 s in ticks.
const UPTIME_MIN_TOLERANCE_TICKS: u64 = 500;
/// Bits per unit of an octet counter and (as a lower bound of a frame) of a
/// packet counter.
const OCTET_BITS: u128 = 8;
const MIN_FRAME_BITS: u128 = 64 * 8;

/// The rates for the interval between `prev` and `cur`, two samples of the
/// same interface (the caller keeps the latest sample as the next `prev`,
/// whatever the result).
pub fn interface_rates(prev: Option<&CounterSample>, cur: &CounterSample) -> InterfaceRates {
    let Some(prev) = prev else {
        return InterfaceRates::all_gap(GapReason::FirstSample);
    };
    let interval_ms = match cur.at.0.checked_sub(prev.at.0) {
        Some(ms) if ms >= MIN_INTERVAL_MS => ms,
        _ => return InterfaceRates::all_gap(GapReason::TooShort),
    };
    if prev.if_index != cur.if_index || prev.identity != cur.identity {
        return InterfaceRates::all_gap(GapReason::IndexReused);
    }
    if !uptime_is_continuous(prev.sys_uptime, cur.sys_uptime, interval_ms) {
        return InterfaceRates::all_gap(GapReason::Reboot);
    }
    if let (Some(a), Some(b)) = (prev.discontinuity_time, cur.discontinuity_time)
        && a != b
    {
        return InterfaceRates::all_gap(GapReason::Discontinuity);
    }

    // The rate's divisor: the span between the instants the agent took the
    // two samples' values where both are known, else the poll interval.
    let (span_ms, exactness) = match (prev.taken, cur.taken) {
        (Ok(a), Ok(b)) => match Exactness::of_span(a, b) {
            (span, e) if span >= MIN_INTERVAL_MS => (span, e),
            _ => (interval_ms, inexact(InexactReason::Uncertain)),
        },
        (_, Err(reason)) | (Err(reason), _) => (interval_ms, inexact(reason)),
    };
    let speed = cur.speed_bps.filter(|s| *s > 0);
    let octets = Bound {
        speed_bps: speed,
        interval_ms,
        unit_bits: OCTET_BITS,
    };
    let packets = Bound {
        unit_bits: MIN_FRAME_BITS,
        ..octets
    };
    let (p, c) = (&prev.counters, &cur.counters);
    let per_sec = |delta: Result<u64, GapReason>, factor: f64| match delta {
        Ok(d) => Rate::Value(d as f64 * factor * 1000.0 / span_ms as f64),
        Err(reason) => Rate::Gap(reason),
    };
    let utilisation = |bits: Rate| match (bits, speed) {
        (Rate::Value(bps), Some(s)) => Rate::Value(bps * 100.0 / s as f64),
        (Rate::Value(_), None) => Rate::Gap(GapReason::Missing),
        (gap, _) => gap,
    };

    let mut out = InterfaceRates::all_gap(GapReason::Missing);
    let in_bits = per_sec(counter_delta(p.in_octets, c.in_octets, octets), 8.0);
    let out_bits = per_sec(counter_delta(p.out_octets, c.out_octets, octets), 8.0);
    out.set(Metric::InBitsPerSec, in_bits);
    out.set(Metric::OutBitsPerSec, out_bits);
    out.set(Metric::InUtilisationPct, utilisation(in_bits));
    out.set(Metric::OutUtilisationPct, utilisation(out_bits));
    let packet_metrics = [
        (Metric::InUcastPktsPerSec, p.in_ucast_pkts, c.in_ucast_pkts),
        (
            Metric::OutUcastPktsPerSec,
            p.out_ucast_pkts,
            c.out_ucast_pkts,
        ),
        (Metric::InMcastPktsPerSec, p.in_mcast_pkts, c.in_mcast_pkts),
        (
            Metric::OutMcastPktsPerSec,
            p.out_mcast_pkts,
            c.out_mcast_pkts,
        ),
        (Metric::InBcastPktsPerSec, p.in_bcast_pkts, c.in_bcast_pkts),
        (
            Metric::OutBcastPktsPerSec,
            p.out_bcast_pkts,
            c.out_bcast_pkts,
        ),
        (Metric::InErrorsPerSec, p.in_errors, c.in_errors),
        (Metric::OutErrorsPerSec, p.out_errors, c.out_errors),
        (Metric::InDiscardsPerSec, p.in_discards, c.in_discards),
        (Metric::OutDiscardsPerSec, p.out_discards, c.out_discards),
    ];
    for (metric, old, new) in packet_metrics {
        out.set(metric, per_sec(counter_delta(old, new, packets), 1.0));
    }
    out.with_exactness(exactness)
}

fn inexact(reason: InexactReason) -> Exactness {
    Exactness {
        uncertainty_pct: None,
        inexact: Some(reason),
    }
}

/// True when sysUpTime advanced by the wall-clock interval, modulo 2^32
/// ticks (so its own wrap after ~497 days is not a reboot).
fn uptime_is_continuous(prev: Ticks, cur: Ticks, interval_ms: u64) -> bool {
    let advanced = u64::from(cur.0.wrapping_sub(prev.0));
    let expected = interval_ms / 10;
    let tolerance = UPTIME_MIN_TOLERANCE_TICKS.max(expected / 10);
    advanced + tolerance >= expected && advanced <= expected + tolerance
}

/// The most a counter can plausibly advance in an interval.
#[derive(Debug, Clone, Copy)]
struct Bound {
    speed_bps: Option<u64>,
    interval_ms: u64,
    /// Bits per counted unit: 8 for octets, 512 (a minimal frame) for packets.
    unit_bits: u128,
}

impl Bound {
    /// delta units within speed * interval * 1.1? `None` when speed unknown.
    /// Exact integer arithmetic: delta * bits * 1000 * 10 <= speed * ms * 11.
    fn allows(&self, delta: u128) -> Option<bool> {
        let speed = u128::from(self.speed_bps?);
        Some(delta * self.unit_bits * 10_000 <= speed * u128::from(self.interval_ms) * 11)
    }
}

/// The number of units a counter advanced, or why that is unknowable.
fn counter_delta(
    old: Option<Counter>,
    new: Option<Counter>,
    bound: Bound,
) -> Result<u64, GapReason> {
    let (old, new, modulus) = match (old, new) {
        (Some(Counter::C32(a)), Some(Counter::C32(b))) => (u64::from(a), u64::from(b), 1u128 << 32),
        (Some(Counter::C64(a)), Some(Counter::C64(b))) => (a, b, 1u128 << 64),
        (Some(_), Some(_)) => return Err(GapReason::Discontinuity),
        _ => return Err(GapReason::Missing),
    };
    let delta: u128 = if new >= old {
        u128::from(new - old)
    } else {
        let wrapped = modulus - u128::from(old) + u128::from(new);
        let plausible = bound.allows(wrapped).unwrap_or(wrapped < modulus / 2);
        if !plausible {
            return Err(GapReason::CounterCleared);
        }
        wrapped
    };
    match bound.allows(delta) {
        Some(false) => return Err(GapReason::AboveSpeed),
        // One more full turn of a Counter32 would also fit: ambiguous.
        Some(true) if modulus == 1u128 << 32 && bound.allows(delta + modulus) == Some(true) => {
            return Err(GapReason::AboveSpeed);
        }
        _ => {}
    }
    // delta < modulus <= 2^64, so it fits.
    u64::try_from(delta).map_err(|_| GapReason::AboveSpeed)
}

#[cfg(test)]
#[path = "arithmetic_tests.rs"]
mod tests;
