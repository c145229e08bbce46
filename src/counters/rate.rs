//! The output of the counter arithmetic: per metric either a rate or the
//! reason there is none. A gap is a value, never an error.
use super::refresh::Exactness;
use serde::{Deserialize, Serialize};

/// Why a metric has no rate for an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// No earlier sample to compare with.
    FirstSample,
    /// sysUpTime went back (or advanced far less than the wall clock): the
    /// agent restarted, its counters with it.
    Reboot,
    /// ifCounterDiscontinuityTime changed, or the counter changed width
    /// (Counter32 <-> Counter64) between the two samples.
    Discontinuity,
    /// The ifIndex now names another interface (ifName/ifPhysAddress changed).
    IndexReused,
    /// The counter went back and a wrap is implausible: it was cleared.
    CounterCleared,
    /// The delta means more than the interface speed * 1.1 (a reset mistaken
    /// for a wrap, or a Counter32 that wrapped more than once); for a
    /// Counter32 also when one wrap fits in the interval at that speed, so the
    /// number of wraps cannot be known.
    AboveSpeed,
    /// The interval is (nearly) zero or negative.
    TooShort,
    /// The counter (or, for utilisation, the speed) is missing in a sample.
    Missing,
}

impl GapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::FirstSample => "first_sample",
            GapReason::Reboot => "reboot",
            GapReason::Discontinuity => "discontinuity",
            GapReason::IndexReused => "index_reused",
            GapReason::CounterCleared => "counter_cleared",
            GapReason::AboveSpeed => "above_speed",
            GapReason::TooShort => "too_short",
            GapReason::Missing => "missing",
        }
    }
}

/// A per-second rate (or a percentage for utilisation), or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Rate {
    Value(f64),
    Gap(GapReason),
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        match self {
            Rate::Value(v) => Some(v),
            Rate::Gap(_) => None,
        }
    }

    pub fn gap(self) -> Option<GapReason> {
        match self {
            Rate::Value(_) => None,
            Rate::Gap(reason) => Some(reason),
        }
    }
}

/// The metrics computed for every interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    InBitsPerSec,
    OutBitsPerSec,
    InUtilisationPct,
    OutUtilisationPct,
    InUcastPktsPerSec,
    OutUcastPktsPerSec,
    InMcastPktsPerSec,
    OutMcastPktsPerSec,
    InBcastPktsPerSec,
    OutBcastPktsPerSec,
    InErrorsPerSec,
    OutErrorsPerSec,
    InDiscardsPerSec,
    OutDiscardsPerSec,
}

impl Metric {
    pub const ALL: [Metric; 14] = [
        Metric::InBitsPerSec,
        Metric::OutBitsPerSec,
        Metric::InUtilisationPct,
        Metric::OutUtilisationPct,
        Metric::InUcastPktsPerSec,
        Metric::OutUcastPktsPerSec,
        Metric::InMcastPktsPerSec,
        Metric::OutMcastPktsPerSec,
        Metric::InBcastPktsPerSec,
        Metric::OutBcastPktsPerSec,
        Metric::InErrorsPerSec,
        Metric::OutErrorsPerSec,
        Metric::InDiscardsPerSec,
        Metric::OutDiscardsPerSec,
    ];

    /// The stable metric id used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::InBitsPerSec => "in_bps",
            Metric::OutBitsPerSec => "out_bps",
            Metric::InUtilisationPct => "in_util_pct",
            Metric::OutUtilisationPct => "out_util_pct",
            Metric::InUcastPktsPerSec => "in_ucast_pps",
            Metric::OutUcastPktsPerSec => "out_ucast_pps",
            Metric::InMcastPktsPerSec => "in_mcast_pps",
            Metric::OutMcastPktsPerSec => "out_mcast_pps",
            Metric::InBcastPktsPerSec => "in_bcast_pps",
            Metric::OutBcastPktsPerSec => "out_bcast_pps",
            Metric::InErrorsPerSec => "in_errors_ps",
            Metric::OutErrorsPerSec => "out_errors_ps",
            Metric::InDiscardsPerSec => "in_discards_ps",
            Metric::OutDiscardsPerSec => "out_discards_ps",
        }
    }

    /// Index into [`Metric::ALL`] (the declaration order).
    fn position(self) -> usize {
        self as usize
    }
}

/// Every metric of one interface for one interval: the one value the
/// poller stores, `live::InterfaceHealth` holds and the alert
/// observations read (never copied field by field).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterfaceRates {
    rates: [Rate; 14],
    /// How well the span the rates are over is known (see `refresh`).
    exactness: Exactness,
}

impl InterfaceRates {
    /// All metrics the same gap (first sample, reboot, ...).
    pub fn all_gap(reason: GapReason) -> InterfaceRates {
        InterfaceRates {
            rates: [Rate::Gap(reason); 14],
            exactness: Exactness::EXACT,
        }
    }

    /// Every metric 0: an idle interval.
    pub fn zero() -> InterfaceRates {
        InterfaceRates {
            rates: [Rate::Value(0.0); 14],
            exactness: Exactness::EXACT,
        }
    }

    /// The same rates with `metric` at `value`.
    pub fn with(mut self, metric: Metric, value: f64) -> InterfaceRates {
        self.set(metric, Rate::Value(value));
        self
    }

    /// The same rates with this exactness.
    pub fn with_exactness(mut self, exactness: Exactness) -> InterfaceRates {
        self.exactness = exactness;
        self
    }

    pub fn exactness(&self) -> Exactness {
        self.exactness
    }

    pub fn get(&self, metric: Metric) -> Rate {
        self.rates[metric.position()]
    }

    /// The metric's rate; None when the interval is a gap for it.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.get(metric).value()
    }

    /// Why the interval lacks a rate: the first gap in [`Metric::ALL`]
    /// order; None when every metric has one.
    pub fn first_gap(&self) -> Option<GapReason> {
        self.rates.iter().find_map(|r| r.gap())
    }

    pub fn set(&mut self, metric: Metric, rate: Rate) {
        self.rates[metric.position()] = rate;
    }

    pub fn iter(&self) -> impl Iterator<Item = (Metric, Rate)> + '_ {
        Metric::ALL.iter().map(|m| (*m, self.get(*m)))
    }
}
