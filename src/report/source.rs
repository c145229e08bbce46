//! The one edge of the reports: reads the store (blocking; run it in
//! `spawn_blocking` from async code) and hands plain rounds, samples, gaps
//! and links to the pure core, then renders. [`reachability_report`] and
//! [`bandwidth_report`] take the exclusion windows as a plain slice, so
//! windows from any source (the `--exclude` flag, a configuration file)
//! can be fed in.
use super::availability::{DeviceInput, LinkEnd, LinkInput, ReachabilityReport, Round};
use super::bandwidth::{BandwidthReport, DirectionInput, InterfaceInput, RatePoint, RollupBucket};
use super::params::{Format, ReportParams};
use super::timeline::Observation;
use super::window::{ExclusionWindow, Period};
use super::{ReportError, render_csv, render_html, render_json};
use crate::store::{Resolution, SeriesData, SeriesKey, Store, StoreConfig};
use crate::types::UnixMillis;
use std::collections::HashMap;
use std::path::Path;

/// Rounds are read this far before the period, so the state at its start
/// is known from the last round before it.
pub const LOOKBACK_MS: i64 = 15 * 60_000;
const FIVE_MIN: i64 = 300_000;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reachability,
    Bandwidth,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Reachability => "reachability",
            Kind::Bandwidth => "bandwidth",
        }
    }
}

/// Opens an existing store (never creates one).
pub fn open_store(path: &Path) -> Result<Store, ReportError> {
    if !path.is_file() {
        return Err(ReportError::NoDatabase(path.to_path_buf()));
    }
    Ok(Store::open(path, StoreConfig::default())?)
}

/// What reports take from the configuration: the maintenance windows and
/// the tag rules that scope them.
#[derive(Debug, Clone, Default)]
pub struct ReportSettings {
    pub maintenance: Vec<crate::alert::maintenance::Window>,
    pub tagging: crate::config::Tagging,
}

impl ReportSettings {
    pub fn from_config(config: &crate::config::Config) -> ReportSettings {
        ReportSettings {
            maintenance: config
                .maintenance
                .iter()
                .map(crate::alert::maintenance::Window::from_config)
                .collect(),
            tagging: config.tagging(),
        }
    }
}

/// Opens the store at `db`, builds the report and renders it.
pub fn run(
    db: &Path,
    kind: Kind,
    p: &ReportParams,
    settings: Option<&ReportSettings>,
    now_ms: UnixMillis,
) -> Result<String, ReportError> {
    let store = open_store(db)?;
    Ok(match kind {
        Kind::Reachability => {
            let mut exclusions = p.exclusions.clone();
            if let Some(s) = settings {
                exclusions.extend(config_exclusions(&store, s, p.period)?);
            }
            render_reachability(
                &reachability_report(&store, p.period, &exclusions, now_ms)?,
                p.format,
            )
        }
        Kind::Bandwidth => render_bandwidth(
            &bandwidth_report(&store, p.period, p.top, now_ms)?,
            p.format,
        ),
    })
}

/// The config's maintenance windows over `period`, for the devices of the
/// newest stored topology (their names, addresses and config tags).
pub fn config_exclusions(
    store: &Store,
    settings: &ReportSettings,
    period: Period,
) -> Result<Vec<ExclusionWindow>, ReportError> {
    use super::maintenance::{DeviceInfo, exclusions};
    if settings.maintenance.is_empty() {
        return Ok(vec![]);
    }
    let devices: Vec<DeviceInfo> = match store.latest_topology()? {
        Some((_, t)) => t
            .devices
            .iter()
            .map(|d| DeviceInfo {
                id: d.id.0.clone(),
                name: d.sys_name.clone().unwrap_or_default(),
                mgmt_addr: d.mgmt_addr,
                tags: settings
                    .tagging
                    .tags_for(d.sys_name.as_deref(), &d.addresses),
            })
            .collect(),
        None => vec![],
    };
    Ok(exclusions(&settings.maintenance, &devices, period))
}

/// The file name a report is offered under: `nocmap-KIND-SINCE-UNTIL.EXT`.
pub fn file_name(kind: Kind, p: &ReportParams) -> String {
    format!(
        "nocmap-{}-{}-{}.{}",
        kind.name(),
        crate::util::time::compact(p.period.since_ms),
        crate::util::time::compact(p.period.until_ms),
        p.format.extension()
    )
}

pub fn render_reachability(r: &ReachabilityReport, f: Format) -> String {
    match f {
        Format::Csv => render_csv::reachability(r),
        Format::Json => render_json::reachability(r),
        Format::Html => render_html::reachability(r),
    }
}

pub fn render_bandwidth(r: &BandwidthReport, f: Format) -> String {
    match f {
        Format::Csv => render_csv::bandwidth(r),
        Format::Json => render_json::bandwidth(r),
        Format::Html => render_html::bandwidth(r),
    }
}

/// The reachability report from the store, with `exclusions` left out.
pub fn reachability_report(
    store: &Store,
    period: Period,
    exclusions: &[ExclusionWindow],
    now_ms: UnixMillis,
) -> Result<ReachabilityReport, ReportError> {
    let names: HashMap<String, Option<String>> = store.device_names()?.into_iter().collect();
    let name_of = |id: &str| names.get(id).cloned().flatten();
    let mut devices = Vec::new();
    for id in store.probe_devices("loss_pct")? {
        devices.push(DeviceInput {
            name: name_of(&id),
            rounds: rounds(store, &id, period)?,
            gaps: gaps(store, &id, period)?,
            id,
        });
    }
    let links = match store.latest_topology()? {
        Some((_, topology)) => {
            let mut out = Vec::with_capacity(topology.links.len());
            for l in &topology.links {
                let end = |e: &crate::topology::Endpoint| LinkEnd {
                    device: e.device.0.clone(),
                    device_name: name_of(&e.device.0),
                    if_name: e.if_name.clone(),
                };
                let mut interface_states = Vec::new();
                for e in [&l.a, &l.b] {
                    if let Some(if_name) = &e.if_name {
                        interface_states.push(oper_states(store, &e.device.0, if_name, period)?);
                    }
                }
                out.push(LinkInput {
                    id: l.id.clone(),
                    a: end(&l.a),
                    b: end(&l.b),
                    interface_states,
                });
            }
            out
        }
        None => vec![],
    };
    Ok(super::reachability(
        period, now_ms, &devices, &links, exclusions,
    ))
}

fn read(
    store: &Store,
    key: &SeriesKey,
    from: UnixMillis,
    to: UnixMillis,
    r: Resolution,
) -> Result<SeriesData, ReportError> {
    Ok(store.series_at(key, from, to, r)?)
}

/// Raw rounds from [since - LOOKBACK, until), and 5-minute rollup buckets
/// standing in for rounds where no raw round is left.
/// An interface's stored states (`oper_up`, raw samples only) as
/// observations, each holding for [`super::availability::HOLD_FACTOR`]
/// times the median spacing of the samples.
fn oper_states(
    store: &Store,
    device: &str,
    if_name: &str,
    period: Period,
) -> Result<Vec<Observation>, ReportError> {
    let key = SeriesKey::interface(device, if_name, crate::poller::OPER_UP_METRIC);
    let from = UnixMillis(period.since_ms.0.saturating_sub(LOOKBACK_MS));
    let data = read(store, &key, from, period.until_ms, Resolution::Raw)?;
    let mut at: Vec<i64> = data.points.iter().map(|p| p.at.0).collect();
    at.sort_unstable();
    let mut spacing: Vec<i64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    spacing.sort_unstable();
    let hold = spacing
        .get(spacing.len().saturating_sub(1) / 2)
        .map_or(super::availability::DEFAULT_HOLD_MS * 6, |m| {
            m.saturating_mul(super::availability::HOLD_FACTOR)
        });
    Ok(data
        .points
        .iter()
        .map(|p| Observation {
            at_ms: p.at,
            down: p.avg < 0.5,
            holds_until_ms: UnixMillis(p.at.0.saturating_add(hold)),
        })
        .collect())
}

fn rounds(store: &Store, device: &str, period: Period) -> Result<Vec<Round>, ReportError> {
    let from = UnixMillis(period.since_ms.0.saturating_sub(LOOKBACK_MS));
    let key = |m: &str| SeriesKey::probe(device, m);
    let by_time = |d: SeriesData| -> HashMap<i64, (f64, f64)> {
        d.points.iter().map(|p| (p.at.0, (p.avg, p.max))).collect()
    };
    let raw = |m: &str| read(store, &key(m), from, period.until_ms, Resolution::Raw);
    let loss = raw("loss_pct")?;
    let median = by_time(raw("rtt_median_ms")?);
    let maxima = by_time(raw("rtt_max_ms")?);
    let mut out: Vec<Round> = loss
        .points
        .iter()
        .map(|p| Round {
            at_ms: p.at,
            loss_pct: p.avg,
            rtt_median_ms: median.get(&p.at.0).map(|v| v.0),
            rtt_max_ms: maxima.get(&p.at.0).map(|v| v.1),
            count: 1,
            bucket_ms: None,
        })
        .collect();
    let from5 = UnixMillis(from.0.div_euclid(FIVE_MIN) * FIVE_MIN);
    let rolled = |m: &str| {
        read(
            store,
            &key(m),
            from5,
            period.until_ms,
            Resolution::FiveMinutes,
        )
    };
    let loss5 = rolled("loss_pct")?;
    let median5 = by_time(rolled("rtt_median_ms")?);
    let max5 = by_time(rolled("rtt_max_ms")?);
    let mut raw_buckets: Vec<i64> = out.iter().map(|r| r.at_ms.0.div_euclid(FIVE_MIN)).collect();
    raw_buckets.dedup();
    for b in &loss5.points {
        if raw_buckets
            .binary_search(&b.at.0.div_euclid(FIVE_MIN))
            .is_ok()
        {
            continue;
        }
        out.push(Round {
            at_ms: b.at,
            loss_pct: b.avg,
            rtt_median_ms: median5.get(&b.at.0).map(|v| v.0),
            rtt_max_ms: max5.get(&b.at.0).map(|v| v.1),
            count: u32::try_from(b.count.max(1)).unwrap_or(u32::MAX),
            bucket_ms: Some(FIVE_MIN),
        });
    }
    out.sort_by_key(|r| r.at_ms);
    Ok(out)
}

/// Gaps of the device's loss series and store-wide gaps overlapping the period.
fn gaps(
    store: &Store,
    device: &str,
    period: Period,
) -> Result<Vec<(UnixMillis, UnixMillis)>, ReportError> {
    let key = SeriesKey::probe(device, "loss_pct");
    // The hourly read returns the same gaps with the fewest points.
    let d = store.series_at(&key, period.since_ms, period.until_ms, Resolution::Hour)?;
    Ok(d.gaps.iter().map(|g| (g.from, g.to)).collect())
}

/// The bandwidth report from the store: every interface with `in_bps` or
/// `out_bps` data, top lists of `top`.
pub fn bandwidth_report(
    store: &Store,
    period: Period,
    top: usize,
    now_ms: UnixMillis,
) -> Result<BandwidthReport, ReportError> {
    let names: HashMap<String, Option<String>> = store.device_names()?.into_iter().collect();
    let infos: HashMap<(String, String), crate::store::InterfaceInfo> = store
        .interface_infos()?
        .into_iter()
        .map(|i| ((i.device.clone(), i.name.clone()), i))
        .collect();
    let covered = super::bandwidth::aligned(period).unwrap_or(period);
    let direction =
        |device: &str, if_name: &str, metric: &str| -> Result<DirectionInput, ReportError> {
            let key = SeriesKey::interface(device, if_name, metric);
            let (from, to) = (covered.since_ms, covered.until_ms);
            let raw = read(store, &key, from, to, Resolution::Raw)?;
            let five = read(store, &key, from, to, Resolution::FiveMinutes)?;
            Ok(DirectionInput {
                raw: raw
                    .points
                    .iter()
                    .map(|p| RatePoint {
                        at_ms: p.at,
                        value: p.avg,
                    })
                    .collect(),
                rollups: five
                    .points
                    .iter()
                    .map(|p| RollupBucket {
                        start_ms: p.at,
                        avg: p.avg,
                        max: p.max,
                    })
                    .collect(),
            })
        };
    let mut interfaces = Vec::new();
    for (device, if_name) in store.subjects_with(&["in_bps", "out_bps"])? {
        let info = infos.get(&(device.clone(), if_name.clone()));
        interfaces.push(InterfaceInput {
            device_name: names.get(&device).cloned().flatten(),
            alias: info.and_then(|i| i.alias.clone()).filter(|a| !a.is_empty()),
            speed_bps: info.and_then(|i| i.speed_bps),
            inbound: direction(&device, &if_name, "in_bps")?,
            outbound: direction(&device, &if_name, "out_bps")?,
            device,
            if_name,
        });
    }
    Ok(super::bandwidth(period, now_ms, top, &interfaces))
}
