//! The values of the live picture: each device's, interface's and the
//! poller's own health, an owned snapshot of all of it, and a borrowed
//! view that the pure readers (API shapes, `/metrics`, alert observations,
//! link health) take. No locks and no I/O here.
use super::discovery::DiscoveryStatus;
use crate::counters::{GapReason, InterfaceRates, Metric};
use crate::topology::{DeviceId, Topology};
use crate::types::{OperStatus, UnixMillis};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    Up,
    Down,
    Unknown,
}

/// Latest ICMP and SNMP view of one device. The reachability shown at a
/// given time is [`aged`] from the verdict, its round time and lifetime.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceHealth {
    /// The verdict of the last ICMP round that gave one (unknown before the
    /// first); serialised as `icmp_verdict` (the API's `reachability` is
    /// the aged one).
    #[serde(rename = "icmp_verdict")]
    pub reachability: Reachability,
    /// When the verdict last changed.
    pub since_ms: Option<UnixMillis>,
    pub rtt_min_ms: Option<f64>,
    pub rtt_avg_ms: Option<f64>,
    pub rtt_median_ms: Option<f64>,
    pub rtt_max_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    /// When the round that gave the verdict ended.
    pub last_icmp_ms: Option<UnixMillis>,
    /// How long after `last_icmp_ms` the verdict stands
    /// ([`verdict_lifetime_ms`] of the device's own ICMP settings).
    pub icmp_stale_after_ms: Option<i64>,
    /// Why the last ICMP round gave no verdict (cleared by one that does).
    pub icmp_error: Option<String>,
    pub snmp_ok: Option<bool>,
    pub last_snmp_ms: Option<UnixMillis>,
    /// Why the last SNMP poll failed (never contains a secret).
    pub snmp_error: Option<String>,
    /// Datagrams from the device's address the SNMP transport could not
    /// use (late, wrong request id, not SNMP), since start.
    pub snmp_unusable_datagrams: u64,
    /// CPU, storage and sensors as last read (`[poll] vitals_interval_s`).
    pub vitals: Option<crate::vitals::Vitals>,
    pub last_vitals_ms: Option<UnixMillis>,
    /// How long after `last_vitals_ms` the vitals stand (three intervals).
    pub vitals_stale_after_ms: Option<i64>,
    /// Why the last vitals read failed (never contains a secret).
    pub vitals_error: Option<String>,
    /// The path from the poller (`[poll] path_interval_s`), served on its
    /// own route (`/api/devices/:id/path`), not with the device.
    #[serde(skip)]
    pub path: Option<super::path::DevicePath>,
}

impl Default for DeviceHealth {
    fn default() -> Self {
        DeviceHealth {
            reachability: Reachability::Unknown,
            since_ms: None,
            rtt_min_ms: None,
            rtt_avg_ms: None,
            rtt_median_ms: None,
            rtt_max_ms: None,
            jitter_ms: None,
            loss_pct: None,
            last_icmp_ms: None,
            icmp_stale_after_ms: None,
            icmp_error: None,
            snmp_ok: None,
            last_snmp_ms: None,
            snmp_error: None,
            snmp_unusable_datagrams: 0,
            vitals: None,
            last_vitals_ms: None,
            vitals_stale_after_ms: None,
            vitals_error: None,
            path: None,
        }
    }
}

/// Latest state of one interface: its oper status, speed and the rates of
/// its last poll interval.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InterfaceHealth {
    pub oper_status: Option<OperStatus>,
    pub speed_bps: Option<u64>,
    /// The counter arithmetic's own value (None before any poll). Served
    /// flat as `in_bps` ... `out_discards_per_s` (null where the interval
    /// is a gap) and `gap` (why, first sample, reboot, ...).
    #[serde(flatten, serialize_with = "rate_fields")]
    pub rates: Option<InterfaceRates>,
    pub updated_ms: Option<UnixMillis>,
    /// The raw counter values of the last poll, as the agent gave them
    /// (`/metrics` serves them as `_total` counters); not in the JSON.
    #[serde(skip)]
    pub counters: Option<crate::counters::Counters>,
}

impl InterfaceHealth {
    /// The last interval's rate of `metric`; None when it is a gap or
    /// nothing was polled yet.
    pub fn rate(&self, metric: Metric) -> Option<f64> {
        self.rates.as_ref()?.value(metric)
    }

    /// Why the last interval lacks a rate (see [`InterfaceRates::first_gap`]).
    pub fn gap(&self) -> Option<GapReason> {
        self.rates.as_ref()?.first_gap()
    }
}

/// The served fields of an interface's rates, in their order.
#[derive(Serialize)]
struct RateFields {
    in_bps: Option<f64>,
    out_bps: Option<f64>,
    in_util_pct: Option<f64>,
    out_util_pct: Option<f64>,
    in_errors_per_s: Option<f64>,
    out_errors_per_s: Option<f64>,
    in_discards_per_s: Option<f64>,
    out_discards_per_s: Option<f64>,
    gap: Option<&'static str>,
    /// Whether the rates are over a span known within 5 % (the agent's
    /// counter refreshes were seen), the most they can be off in percent
    /// where known, and why they are not exact (`counters::refresh`).
    rate_exact: Option<bool>,
    rate_uncertainty_pct: Option<f64>,
    rate_inexact_reason: Option<&'static str>,
}

fn rate_fields<S: serde::Serializer>(
    rates: &Option<InterfaceRates>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let v = |m: Metric| rates.as_ref().and_then(|r| r.value(m));
    RateFields {
        in_bps: v(Metric::InBitsPerSec),
        out_bps: v(Metric::OutBitsPerSec),
        in_util_pct: v(Metric::InUtilisationPct),
        out_util_pct: v(Metric::OutUtilisationPct),
        in_errors_per_s: v(Metric::InErrorsPerSec),
        out_errors_per_s: v(Metric::OutErrorsPerSec),
        in_discards_per_s: v(Metric::InDiscardsPerSec),
        out_discards_per_s: v(Metric::OutDiscardsPerSec),
        gap: rates
            .as_ref()
            .and_then(|r| r.first_gap())
            .map(GapReason::as_str),
        rate_exact: rates.as_ref().map(|r| r.exactness().is_exact()),
        rate_uncertainty_pct: rates.as_ref().and_then(|r| r.exactness().uncertainty_pct),
        rate_inexact_reason: rates
            .as_ref()
            .and_then(|r| r.exactness().inexact)
            .map(|r| r.as_str()),
    }
    .serialize(s)
}

/// Counters of the poller itself, for `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct PollerHealth {
    pub icmp_rounds: u64,
    /// Rounds that gave no verdict (the engine failed, or this host
    /// refused every probe).
    pub icmp_rounds_without_verdict: u64,
    pub snmp_polls: u64,
    pub snmp_failures: u64,
    pub snmp_timeouts: u64,
    /// Polls skipped because the previous poll of the same target overran.
    pub skipped_polls: u64,
    pub poll_seconds_sum: f64,
    pub poll_seconds_max: f64,
    /// Largest delay between a poll's deadline and its start.
    pub lag_seconds_max: f64,
    pub samples_written: u64,
    pub store_errors: u64,
    /// False while store writes fail (samples wait in memory).
    pub store_ok: bool,
    /// Samples waiting in memory for the store.
    pub store_backlog_samples: u64,
    /// Samples dropped because the backlog was full (a gap records them).
    pub store_dropped_samples: u64,
    /// The last store error (a path and an OS reason, never a secret).
    pub store_last_error: Option<String>,
    pub discoveries: u64,
    /// Datagrams the SNMP transports received that matched no request
    /// (wrong request id, another source, late or duplicate), and those
    /// with no readable request id.
    pub snmp_datagrams_discarded: u64,
    pub snmp_datagrams_malformed: u64,
    /// Shared SNMP sockets found closed and bound anew.
    pub snmp_transport_renewals: u64,
    /// GETs sent to watch agents' counter refreshes (on top of the polls).
    pub snmp_refresh_watch_requests: u64,
    /// The ICMP engine's counters as of its last round.
    pub icmp_engine: crate::icmp::EngineCounters,
}

impl Default for PollerHealth {
    fn default() -> Self {
        PollerHealth {
            icmp_rounds: 0,
            icmp_rounds_without_verdict: 0,
            snmp_polls: 0,
            snmp_failures: 0,
            snmp_timeouts: 0,
            skipped_polls: 0,
            poll_seconds_sum: 0.0,
            poll_seconds_max: 0.0,
            lag_seconds_max: 0.0,
            samples_written: 0,
            store_errors: 0,
            store_ok: true,
            store_backlog_samples: 0,
            store_dropped_samples: 0,
            store_last_error: None,
            discoveries: 0,
            snmp_datagrams_discarded: 0,
            snmp_datagrams_malformed: 0,
            snmp_transport_renewals: 0,
            snmp_refresh_watch_requests: 0,
            icmp_engine: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveSnapshot {
    pub topology: Topology,
    pub devices: BTreeMap<DeviceId, DeviceHealth>,
    /// Keyed by (device, ifName).
    #[serde(skip)]
    pub interfaces: BTreeMap<(DeviceId, String), InterfaceHealth>,
    pub poller: PollerHealth,
    /// How old data may be before it is shown as stale.
    pub stale_after_ms: i64,
    /// The last discovery run and what it could not reach.
    pub discovery: DiscoveryStatus,
}

/// Every part of the live picture at one moment, borrowed: from the locks
/// of [`super::Live::read`], or from an owned [`LiveSnapshot`] with
/// [`LiveSnapshot::view`].
#[derive(Debug, Clone, Copy)]
pub struct LiveView<'a> {
    pub topology: &'a Topology,
    pub devices: &'a BTreeMap<DeviceId, DeviceHealth>,
    /// Keyed by (device, ifName).
    pub interfaces: &'a BTreeMap<(DeviceId, String), InterfaceHealth>,
    pub poller: &'a PollerHealth,
    /// How old data may be before it is shown as stale.
    pub stale_after_ms: i64,
    /// The last discovery run and what it could not reach.
    pub discovery: &'a DiscoveryStatus,
}

impl LiveSnapshot {
    pub fn view(&self) -> LiveView<'_> {
        LiveView {
            topology: &self.topology,
            devices: &self.devices,
            interfaces: &self.interfaces,
            poller: &self.poller,
            stale_after_ms: self.stale_after_ms,
            discovery: &self.discovery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Rate;

    /// The served text is the one of the struct with a field per rate (its
    /// order, its names, null for a gap, `gap` the first gap's name).
    #[test]
    fn interface_health_serves_the_rate_fields_flat() {
        let h = InterfaceHealth {
            oper_status: Some(OperStatus::LowerLayerDown),
            speed_bps: Some(1_000_000_000),
            rates: Some(
                InterfaceRates::all_gap(GapReason::IndexReused)
                    .with(Metric::InBitsPerSec, 2_000_000.0)
                    .with(Metric::OutUtilisationPct, 0.05)
                    .with(Metric::OutDiscardsPerSec, 1.5),
            ),
            updated_ms: Some(UnixMillis(42)),
            counters: None,
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"oper_status":"lowerLayerDown","speed_bps":1000000000,"in_bps":2000000.0,"out_bps":null,"in_util_pct":null,"out_util_pct":0.05,"in_errors_per_s":null,"out_errors_per_s":null,"in_discards_per_s":null,"out_discards_per_s":1.5,"gap":"index_reused","rate_exact":true,"rate_uncertainty_pct":null,"rate_inexact_reason":null,"updated_ms":42}"#
        );
        let none = r#"{"oper_status":null,"speed_bps":null,"in_bps":null,"out_bps":null,"in_util_pct":null,"out_util_pct":null,"in_errors_per_s":null,"out_errors_per_s":null,"in_discards_per_s":null,"out_discards_per_s":null,"gap":null,"rate_exact":null,"rate_uncertainty_pct":null,"rate_inexact_reason":null,"updated_ms":null}"#;
        assert_eq!(
            serde_json::to_string(&InterfaceHealth::default()).unwrap(),
            none
        );
        let mut idle = InterfaceRates::zero();
        idle.set(Metric::OutBcastPktsPerSec, Rate::Gap(GapReason::Reboot));
        let h = InterfaceHealth {
            rates: Some(idle),
            ..Default::default()
        };
        let text = serde_json::to_string(&h).unwrap();
        assert!(
            text.contains(r#""out_discards_per_s":0.0,"gap":"reboot","#),
            "a gap of an unserved metric still names the interval's gap: {text}"
        );
    }
}
