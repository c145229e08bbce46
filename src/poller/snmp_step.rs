//! One counter poll's outcome, pure: the previous samples of a device's
//! interfaces, what this poll read, and the wall time it ended give the
//! interfaces' new health, the samples to store (rates and oper state) and
//! the explicit gaps. No I/O, no clock: `snmp_loop` stamps and applies.
use super::collect::PolledInterface;
use crate::counters::{CounterSample, GapReason, Metric, Rate, interface_rates};
use crate::live::InterfaceHealth;
use crate::store::{GapRecord, Sample, SeriesKey};
use crate::topology::DeviceId;
use crate::types::IfIndex;
use crate::types::UnixMillis;
use std::collections::BTreeMap;

/// The stored interface state: 1 when ifOperStatus is up, else 0.
pub const OPER_UP_METRIC: &str = "oper_up";

/// The last sample of each interface (by ifIndex), carried between polls.
pub type Previous = BTreeMap<IfIndex, CounterSample>;

/// What one successful poll produces.
#[derive(Debug, Clone, Default)]
pub struct PollOutcome {
    /// Each polled interface's health, by name.
    pub interfaces: Vec<(String, InterfaceHealth)>,
    pub samples: Vec<Sample>,
    pub gaps: Vec<GapRecord>,
}

/// Steps `prev` over `polled` (one poll of `device` that ended at wall
/// time `now`): rates or gaps per interface against its previous sample,
/// which this poll's sample then replaces.
pub fn counter_step(
    device: &DeviceId,
    prev: &mut Previous,
    polled: Vec<PolledInterface>,
    now: UnixMillis,
) -> PollOutcome {
    let mut out = PollOutcome::default();
    for p in polled {
        let before = prev.get(&p.sample.if_index);
        let rates = interface_rates(before, &p.sample);
        // Interface state history, for link availability reports.
        if let Some(o) = p.oper_status {
            out.samples.push(Sample {
                key: SeriesKey::interface(&device.0, &p.name, OPER_UP_METRIC),
                at: now,
                value: if o.is_up() { 1.0 } else { 0.0 },
            });
        }
        for m in Metric::ALL {
            let key = SeriesKey::interface(&device.0, &p.name, m.as_str());
            match rates.get(m) {
                Rate::Value(v) => out.samples.push(Sample {
                    key,
                    at: now,
                    value: v,
                }),
                // The first sample after a (re)start is not a gap in the
                // data: the restart itself is recorded by the store.
                Rate::Gap(GapReason::FirstSample) => {}
                Rate::Gap(reason) => {
                    let from =
                        before.map_or(now, |q| now - (p.sample.at.0.saturating_sub(q.at.0)) as i64);
                    out.gaps.push(GapRecord {
                        series: Some(key),
                        from,
                        to: now,
                        reason: reason.as_str().into(),
                    });
                }
            }
        }
        let health = InterfaceHealth {
            oper_status: p.oper_status,
            speed_bps: p.sample.speed_bps,
            rates: Some(rates),
            updated_ms: Some(now),
            counters: Some(p.sample.counters),
        };
        out.interfaces.push((p.name, health));
        prev.insert(p.sample.if_index, p.sample);
    }
    out
}
