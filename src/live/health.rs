//! Link health from the two ends' interface health: utilisation (the busier
//! direction of the busier end), bits/s, errors, and a status of up, down,
//! degraded or unknown, marked stale when the data is old. Pure.
//!
//! It also decides how the map draws a link, so the page only paints:
//! [`LinkState`] (ok, down, degraded, stale) and each direction's
//! [`UtilBand`]. No rule about status, staleness or utilisation lives in
//! the page.
use super::{InterfaceHealth, LiveView};
use crate::counters::Metric;
use crate::topology::{Endpoint, Link};
use crate::types::OperStatus;
use crate::types::UnixMillis;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    Up,
    Down,
    Degraded,
    Unknown,
}

/// How the map draws a link: down (red, dashed) before degraded (amber)
/// before stale (grey, dotted); otherwise `ok`, coloured by utilisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    Ok,
    Stale,
    Degraded,
    Down,
}

impl LinkState {
    pub fn of(status: LinkStatus, stale: bool) -> LinkState {
        match status {
            LinkStatus::Down => LinkState::Down,
            LinkStatus::Degraded => LinkState::Degraded,
            _ if stale => LinkState::Stale,
            _ => LinkState::Ok,
        }
    }
}

/// A utilisation band of the map (weathermap style), by percent; the
/// upper bound is exclusive. Ordered: the busier band is the greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum UtilBand {
    #[serde(rename = "0-1")]
    P0,
    #[serde(rename = "1-10")]
    P1,
    #[serde(rename = "10-25")]
    P10,
    #[serde(rename = "25-40")]
    P25,
    #[serde(rename = "40-55")]
    P40,
    #[serde(rename = "55-70")]
    P55,
    #[serde(rename = "70-85")]
    P70,
    #[serde(rename = "85-100")]
    P85,
}

impl UtilBand {
    /// The band of `pct`; `None` without a finite figure.
    pub fn of(pct: Option<f64>) -> Option<UtilBand> {
        let p = pct.filter(|p| p.is_finite())?;
        Some(match p {
            p if p < 1.0 => UtilBand::P0,
            p if p < 10.0 => UtilBand::P1,
            p if p < 25.0 => UtilBand::P10,
            p if p < 40.0 => UtilBand::P25,
            p if p < 55.0 => UtilBand::P40,
            p if p < 70.0 => UtilBand::P55,
            p if p < 85.0 => UtilBand::P70,
            _ => UtilBand::P85,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkHealth {
    pub utilization_pct: Option<f64>,
    /// Traffic into the `a` end (what `b` sends towards `a`).
    pub in_bps: Option<f64>,
    /// Traffic out of the `a` end.
    pub out_bps: Option<f64>,
    pub errors_per_s: Option<f64>,
    /// Discards per second, both ends and directions summed.
    pub discards_per_s: Option<f64>,
    /// Utilisation of the direction from `a` to `b` (`a`'s output, else
    /// `b`'s input) and back: both directions for the map's two half-links.
    pub a_to_b_util_pct: Option<f64>,
    pub b_to_a_util_pct: Option<f64>,
    /// The bands of the two directions (`null` without a figure).
    pub a_to_b_band: Option<UtilBand>,
    pub b_to_a_band: Option<UtilBand>,
    /// Speed of the link: the lower of the two ends' reported speeds.
    pub speed_bps: Option<u64>,
    pub status: LinkStatus,
    pub stale: bool,
    /// How the map draws it, from `status` and `stale`.
    pub state: LinkState,
    /// Whether the rates of both measured ends are over spans known within
    /// 5 % (`counters::refresh`); null before any rate.
    pub rate_exact: Option<bool>,
    /// The most the ends' rates can be off, in percent, where known.
    pub rate_uncertainty_pct: Option<f64>,
    /// Why a rate is not exact (`refresh_unknown`, ...), else null.
    pub rate_inexact_reason: Option<&'static str>,
}

fn end<'s>(s: &LiveView<'s>, e: &Endpoint) -> Option<&'s InterfaceHealth> {
    s.interfaces.get(&(e.device.clone(), e.if_name.clone()?))
}

fn max_opt(v: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    v.into_iter()
        .flatten()
        .fold(None, |m, x| Some(m.map_or(x, |m: f64| m.max(x))))
}

fn sum_opt(v: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    v.into_iter()
        .flatten()
        .fold(None, |m, x| Some(m.unwrap_or(0.0) + x))
}

/// Errors above this rate make an up link "degraded": any steady error
/// rate is a fault (bad cable, duplex mismatch).
const DEGRADED_ERRORS_PER_S: f64 = 0.01;
/// Discards above this rate make it "degraded". Hosts and bridges discard a
/// trickle of frames they have no use for (unknown protocols, multicast
/// nobody joined: Linux counts half a frame a second on an idle bridge
/// port); congestion drops are far above it.
const DEGRADED_DISCARDS_PER_S: f64 = 1.0;

pub fn link_health(s: &LiveView<'_>, link: &Link, now_ms: UnixMillis) -> LinkHealth {
    let (a, b) = (end(s, &link.a), end(s, &link.b));
    let ends: Vec<&InterfaceHealth> = [a, b].into_iter().flatten().collect();
    // Each end measures the link from its side; prefer `a`'s view, else `b`'s mirrored.
    let in_bps = a
        .and_then(|h| h.rate(Metric::InBitsPerSec))
        .or_else(|| b.and_then(|h| h.rate(Metric::OutBitsPerSec)));
    let out_bps = a
        .and_then(|h| h.rate(Metric::OutBitsPerSec))
        .or_else(|| b.and_then(|h| h.rate(Metric::InBitsPerSec)));
    let utilization_pct = max_opt(ends.iter().flat_map(|h| {
        [
            h.rate(Metric::InUtilisationPct),
            h.rate(Metric::OutUtilisationPct),
        ]
    }));
    let errors_per_s = sum_opt(ends.iter().flat_map(|h| {
        [
            h.rate(Metric::InErrorsPerSec),
            h.rate(Metric::OutErrorsPerSec),
        ]
    }));
    let discards = sum_opt(ends.iter().flat_map(|h| {
        [
            h.rate(Metric::InDiscardsPerSec),
            h.rate(Metric::OutDiscardsPerSec),
        ]
    }));
    let a_to_b_util_pct = a
        .and_then(|h| h.rate(Metric::OutUtilisationPct))
        .or_else(|| b.and_then(|h| h.rate(Metric::InUtilisationPct)));
    let b_to_a_util_pct = a
        .and_then(|h| h.rate(Metric::InUtilisationPct))
        .or_else(|| b.and_then(|h| h.rate(Metric::OutUtilisationPct)));
    let speed_bps = ends
        .iter()
        .filter_map(|h| h.speed_bps)
        .filter(|s| *s > 0)
        .min();
    let exactness: Vec<_> = ends
        .iter()
        .filter_map(|h| h.rates.as_ref().map(|r| r.exactness()))
        .collect();
    let rate_exact = (!exactness.is_empty()).then(|| exactness.iter().all(|e| e.is_exact()));
    let rate_uncertainty_pct = max_opt(exactness.iter().map(|e| e.uncertainty_pct));
    let rate_inexact_reason = exactness.iter().find_map(|e| e.inexact).map(|r| r.as_str());
    let newest = ends.iter().filter_map(|h| h.updated_ms).max();
    let stale = newest.is_none_or(|t| now_ms - t > s.stale_after_ms);
    let down = ends
        .iter()
        .any(|h| h.oper_status.is_some_and(|o| !o.is_up()));
    let up = !ends.is_empty()
        && ends
            .iter()
            .all(|h| h.oper_status.is_some_and(OperStatus::is_up));
    let status = if down {
        LinkStatus::Down
    } else if up
        && (errors_per_s.unwrap_or(0.0) > DEGRADED_ERRORS_PER_S
            || discards.unwrap_or(0.0) > DEGRADED_DISCARDS_PER_S)
    {
        LinkStatus::Degraded
    } else if up {
        LinkStatus::Up
    } else {
        LinkStatus::Unknown
    };
    LinkHealth {
        utilization_pct,
        in_bps,
        out_bps,
        errors_per_s,
        discards_per_s: discards,
        a_to_b_util_pct,
        b_to_a_util_pct,
        a_to_b_band: UtilBand::of(a_to_b_util_pct),
        b_to_a_band: UtilBand::of(b_to_a_util_pct),
        speed_bps,
        status,
        stale,
        state: LinkState::of(status, stale),
        rate_exact,
        rate_uncertainty_pct,
        rate_inexact_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{GapReason, InterfaceRates};
    use crate::live::LiveSnapshot;
    use crate::topology::{DeviceId, Evidence};

    fn link() -> Link {
        let e = |d: &str, i: &str| Endpoint {
            device: DeviceId(d.into()),
            if_name: Some(i.into()),
        };
        Link {
            id: "l".into(),
            a: e("a", "eth0"),
            b: e("b", "eth1"),
            evidence: vec![Evidence::Lldp],
            confidence: 1.0,
            lag: None,
        }
    }

    fn ih(oper: OperStatus, in_bps: f64, util: f64, errs: f64, at: UnixMillis) -> InterfaceHealth {
        InterfaceHealth {
            oper_status: Some(oper),
            rates: Some(
                InterfaceRates::all_gap(GapReason::Missing)
                    .with(Metric::InBitsPerSec, in_bps)
                    .with(Metric::OutBitsPerSec, in_bps / 2.0)
                    .with(Metric::InUtilisationPct, util)
                    .with(Metric::OutUtilisationPct, util / 2.0)
                    .with(Metric::InErrorsPerSec, errs),
            ),
            updated_ms: Some(at),
            ..Default::default()
        }
    }

    fn snap(a: InterfaceHealth, b: InterfaceHealth) -> LiveSnapshot {
        let mut s = LiveSnapshot {
            stale_after_ms: 180_000,
            ..Default::default()
        };
        s.interfaces
            .insert((DeviceId("a".into()), "eth0".into()), a);
        s.interfaces
            .insert((DeviceId("b".into()), "eth1".into()), b);
        s
    }

    #[test]
    fn statuses() {
        let s = snap(
            ih(OperStatus::Up, 1e6, 10.0, 0.0, UnixMillis(1000)),
            ih(OperStatus::Up, 5e5, 40.0, 0.0, UnixMillis(1000)),
        );
        let h = link_health(&s.view(), &link(), UnixMillis(2000));
        assert_eq!(
            (h.status, h.stale, h.utilization_pct, h.in_bps),
            (LinkStatus::Up, false, Some(40.0), Some(1e6))
        );
        // a sends at a's out (5 %), b sends at b's out (20 %).
        assert_eq!(
            (h.a_to_b_util_pct, h.b_to_a_util_pct),
            (Some(5.0), Some(10.0))
        );
        let s = snap(
            ih(OperStatus::Up, 1e6, 10.0, 3.0, UnixMillis(1000)),
            ih(OperStatus::Up, 5e5, 40.0, 0.0, UnixMillis(1000)),
        );
        assert_eq!(
            link_health(&s.view(), &link(), UnixMillis(2000)).status,
            LinkStatus::Degraded
        );
        let with_discards = |d: f64| {
            let mut a = ih(OperStatus::Up, 1e6, 10.0, 0.0, UnixMillis(1000));
            a.rates = a.rates.map(|r| r.with(Metric::InDiscardsPerSec, d));
            link_health(
                &snap(a, ih(OperStatus::Up, 5e5, 40.0, 0.0, UnixMillis(1000))).view(),
                &link(),
                UnixMillis(2000),
            )
            .status
        };
        assert_eq!(
            with_discards(0.5),
            LinkStatus::Up,
            "an idle bridge's trickle"
        );
        assert_eq!(with_discards(5.0), LinkStatus::Degraded);
        let s = snap(
            ih(OperStatus::Down, 0.0, 0.0, 0.0, UnixMillis(1000)),
            ih(OperStatus::Up, 0.0, 0.0, 0.0, UnixMillis(1000)),
        );
        assert_eq!(
            link_health(&s.view(), &link(), UnixMillis(2000)).status,
            LinkStatus::Down
        );
        let h = link_health(&s.view(), &link(), UnixMillis(1000 + 180_001));
        assert!(h.stale);
        assert_eq!(h.state, LinkState::Down, "down before stale");
        let empty = LiveSnapshot::default();
        let h = link_health(&empty.view(), &link(), UnixMillis(0));
        assert_eq!((h.status, h.stale), (LinkStatus::Unknown, true));
        assert_eq!(h.state, LinkState::Stale);
        assert_eq!((h.a_to_b_band, h.b_to_a_band), (None, None));
    }

    #[test]
    fn the_map_state_and_bands_as_the_page_gets_them() {
        let s = snap(
            ih(OperStatus::Up, 1e6, 30.0, 0.0, UnixMillis(1000)),
            ih(OperStatus::Up, 5e5, 0.5, 0.0, UnixMillis(1000)),
        );
        let v = serde_json::to_value(link_health(&s.view(), &link(), UnixMillis(2000))).unwrap();
        // a→b: a's out (15 %); b→a: a's in (30 %).
        assert_eq!(
            (&v["state"], &v["a_to_b_band"], &v["b_to_a_band"]),
            (&"ok".into(), &"10-25".into(), &"25-40".into())
        );
        let v = serde_json::to_value(link_health(&s.view(), &link(), UnixMillis(1000 + 180_001)))
            .unwrap();
        assert_eq!(v["state"], "stale");
        let degraded = LinkState::of(LinkStatus::Degraded, true);
        assert_eq!(degraded, LinkState::Degraded, "degraded before stale");
        assert_eq!(LinkState::of(LinkStatus::Unknown, false), LinkState::Ok);
        let bands: Vec<_> = [0.0, 0.99, 1.0, 9.9, 10.0, 24.9, 25.0, 39.9, 40.0, 54.9]
            .into_iter()
            .chain([55.0, 69.9, 70.0, 84.9, 85.0, 100.0, 140.0])
            .map(|p| serde_json::to_value(UtilBand::of(Some(p))).unwrap())
            .collect();
        let names = [
            "0-1", "0-1", "1-10", "1-10", "10-25", "10-25", "25-40", "25-40", "40-55", "40-55",
            "55-70", "55-70", "70-85", "70-85", "85-100", "85-100", "85-100",
        ];
        assert_eq!(bands, names.map(serde_json::Value::from));
        assert_eq!(UtilBand::of(Some(f64::NAN)), None);
        assert_eq!(UtilBand::of(None), None);
        assert!(UtilBand::P85 > UtilBand::P0);
    }
}
