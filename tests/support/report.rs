//! The fixture of `report_figures`: a real SQLite store written through
//! the store's public API (samples, a monitor restart, rollups and
//! pruning), and the independent calculation the report's figures are
//! checked against: a per-second state model for reachability, plain
//! sorting for percentiles.
use nocmap::store::{Batch, Sample, SeriesKey, Store, StoreConfig, UnixMillis};
use nocmap::topology::{Device, DeviceId, Endpoint, Interface, Link, Topology};

/// 2023-11-14T22:00:00Z, in seconds: everything below is in whole seconds.
const T0: i64 = 1_699_999_200;
pub const MIN: i64 = 60;
pub const DAY: i64 = 86_400;
/// The ICMP window starts here.
const R0: i64 = T0 + 2 * DAY + 20 * 3600;
/// The reachability period.
pub const SINCE: i64 = R0 + 10 * MIN;
pub const UNTIL: i64 = R0 + 130 * MIN;
/// The maintenance window given with --exclude.
pub const M0: i64 = R0 + 80 * MIN;
pub const M1: i64 = R0 + 90 * MIN;
/// Nothing is written in [QUIET, RESTART); the monitor restarts at RESTART.
const QUIET: i64 = R0 + 60 * MIN;
const RESTART: i64 = R0 + 70 * MIN;
/// Rollup and prune run at this time: raw samples before NOW - 2 days go.
pub const NOW: i64 = T0 + 3 * DAY + 10 * MIN;
pub const BW_SINCE: i64 = T0 + 7 * MIN;
pub const BW_UNTIL: i64 = T0 + 3 * DAY;

pub const HOSTILE_NAME: &str = "<script>alert(1)</script>";
const HOSTILE_ALIAS: &str = "<img src=x onerror=alert(1)>";
pub const FORMULA_IF: &str = "=cmd|' /C calc'!A0";

#[derive(Debug, Clone, Copy)]
pub struct RoundSpec {
    pub t: i64,
    pub loss: f64,
    pub rtt_median: Option<f64>,
    pub rtt_max: Option<f64>,
}

/// Rounds of one device every `step` seconds from R0 to R0 + 140 min with
/// an irregular jitter on every seventh round, none in the quiet time and
/// none in `silent`; down (100 % loss) where `down(t)`.
pub fn rounds(
    step: i64,
    down: impl Fn(i64) -> bool,
    silent: Option<(i64, i64)>,
    seed: i64,
) -> Vec<RoundSpec> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let jitter = if i % 7 == 3 {
            (i * 13 + seed) % 5 - 2
        } else {
            0
        };
        let t = R0 + i * step + jitter;
        i += 1;
        if t >= R0 + 140 * MIN {
            break;
        }
        if (QUIET..RESTART).contains(&t) || silent.is_some_and(|(a, b)| (a..b).contains(&t)) {
            continue;
        }
        if down(t) {
            out.push(RoundSpec {
                t,
                loss: 100.0,
                rtt_median: None,
                rtt_max: None,
            });
        } else {
            let loss = match (i + seed) % 17 {
                0 => 40.0,
                5 => 20.0,
                _ => 0.0,
            };
            let median = seed as f64 * (1.0 + ((i * 37 + seed) % 50) as f64 / 10.0);
            out.push(RoundSpec {
                t,
                loss,
                rtt_median: Some(median),
                rtt_max: Some(median + ((i + seed) % 13) as f64 * 0.7),
            });
        }
    }
    out
}

/// (device, if_name, in samples, out samples)
pub type InterfaceSamples = (&'static str, &'static str, Vec<(i64, f64)>, Vec<(i64, f64)>);

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
    pub devices: Vec<(&'static str, Vec<RoundSpec>, i64)>,
    pub interfaces: Vec<InterfaceSamples>,
    /// The store-wide restart gap.
    pub gap: (i64, i64),
}

fn bw_samples(seed: i64, scale: f64) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let t = T0 + i * MIN + (i * seed) % 7;
        i += 1;
        if t >= T0 + 3 * DAY + 5 * MIN {
            break;
        }
        if (QUIET..RESTART).contains(&t) {
            continue;
        }
        // A daily shape, a few spikes (the top 5 % the billing discards).
        let hour = ((t - T0) / 3600) % 24;
        let base = (1000 + hour * 250 + (i * 7919 + seed) % 400) as f64;
        let spike = if (i + seed) % 97 == 0 { 20.0 } else { 1.0 };
        out.push((t, (base * spike * scale).round()));
    }
    out
}

pub fn device(id: &str, name: &str, ifs: &[(&str, Option<&str>)]) -> Device {
    Device {
        id: DeviceId(id.into()),
        sys_name: Some(name.into()),
        sys_descr: None,
        mgmt_addr: None,
        chassis_id: None,
        vendor: None,
        managed: true,
        poller: false,
        sys_object_id: None,
        sys_location: None,
        sys_contact: None,
        addresses: vec![],
        interfaces: ifs
            .iter()
            .enumerate()
            .map(|(n, (name, alias))| Interface {
                if_index: nocmap::types::IfIndex(n as u32 + 1),
                name: name.to_string(),
                descr: None,
                alias: alias.map(str::to_string),
                speed_bps: Some(1_000_000_000),
                mac: None,
                oper_status: Some(nocmap::types::OperStatus::Up),
                admin_status: Some(nocmap::types::OperStatus::Up),
                if_type: Some(6),
            })
            .collect(),
        partial: vec![],
        unresolved: vec![],
    }
}

pub fn link(id: &str, a: (&str, &str), b: (&str, &str)) -> Link {
    let end = |(d, i): (&str, &str)| Endpoint {
        device: DeviceId(d.into()),
        if_name: Some(i.into()),
    };
    Link {
        id: id.into(),
        a: end(a),
        b: end(b),
        evidence: vec![],
        confidence: 1.0,
        lag: None,
    }
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nocmap.db");
    let r1 = rounds(
        10,
        |t| {
            (R0 + 5 * MIN..R0 + 12 * MIN).contains(&t)
                || (R0 + 20 * MIN..R0 + 25 * MIN).contains(&t)
                || (R0 + 58 * MIN..R0 + 72 * MIN).contains(&t)
                || (R0 + 85 * MIN..R0 + 95 * MIN).contains(&t)
        },
        None,
        1,
    );
    let r2 = rounds(
        10,
        |t| (R0 + 81 * MIN..R0 + 88 * MIN).contains(&t) || t >= R0 + 125 * MIN,
        Some((R0 + 100 * MIN, R0 + 106 * MIN)),
        2,
    );
    let r3 = rounds(20, |_| false, None, 3);
    let devices = vec![("r1", r1, 30), ("r2", r2, 30), ("r3", r3, 60)];
    // r1 eth1: one burst far above everything else, in a raw bucket: the
    // highest peak, yet a low 95th percentile.
    let mut burst = bw_samples(3, 0.5);
    let last = burst.len() - 100;
    burst[last].1 = 9_000_000.0;
    let interfaces = vec![
        ("r1", "eth0", bw_samples(1, 3.0), bw_samples(2, 1.0)),
        ("r1", "eth1", burst, bw_samples(4, 0.7)),
        ("r2", "eth1", bw_samples(5, 2.0), bw_samples(6, 4.0)),
        ("r2", FORMULA_IF, bw_samples(7, 0.1), bw_samples(8, 0.2)),
        ("r3", "eth0", bw_samples(9, 1.5), bw_samples(10, 1.4)),
    ];

    let mut samples: Vec<Sample> = Vec::new();
    let s = |key: SeriesKey, t: i64, value: f64| Sample {
        key,
        at: UnixMillis(t * 1000),
        value,
    };
    for (id, rounds, _) in &devices {
        for r in rounds {
            samples.push(s(SeriesKey::probe(id, "loss_pct"), r.t, r.loss));
            if let (Some(med), Some(max)) = (r.rtt_median, r.rtt_max) {
                samples.push(s(SeriesKey::probe(id, "rtt_median_ms"), r.t, med));
                samples.push(s(SeriesKey::probe(id, "rtt_max_ms"), r.t, max));
                samples.push(s(SeriesKey::probe(id, "rtt_avg_ms"), r.t, med));
            }
        }
    }
    for (dev, ifn, inb, outb) in &interfaces {
        for (t, v) in inb {
            samples.push(s(SeriesKey::interface(dev, ifn, "in_bps"), *t, *v));
        }
        for (t, v) in outb {
            samples.push(s(SeriesKey::interface(dev, ifn, "out_bps"), *t, *v));
        }
    }
    samples.sort_by_key(|s| s.at);
    let last_before = samples
        .iter()
        .filter(|s| s.at.0 < QUIET * 1000)
        .map(|s| s.at.0 / 1000)
        .max()
        .unwrap();

    let mut store = Store::open(&db, StoreConfig::default()).unwrap();
    let topology = Topology {
        devices: vec![
            device(
                "r1",
                HOSTILE_NAME,
                &[("eth0", Some(HOSTILE_ALIAS)), ("eth1", None)],
            ),
            device(
                "r2",
                "edge-2",
                &[("eth1", None), (FORMULA_IF, Some("-2+3"))],
            ),
            device("r3", "core-3", &[("eth0", None), ("eth1", None)]),
        ],
        links: vec![
            link("l1", ("r1", "eth0"), ("r2", "eth1")),
            link("l2", ("r2", FORMULA_IF), ("r3", "eth0")),
            link("l3", ("r3", "eth1"), ("ghost", "ge-0/0/0")),
        ],
    };
    store
        .save_topology(UnixMillis(T0 * 1000), &topology)
        .unwrap();
    let (before, after): (Vec<Sample>, Vec<Sample>) =
        samples.into_iter().partition(|s| s.at.0 < QUIET * 1000);
    for chunk in before.chunks(20_000) {
        store
            .write_batch(&Batch {
                samples: chunk.to_vec(),
                gaps: vec![],
            })
            .unwrap();
    }
    let gap = store
        .mark_restart(UnixMillis(RESTART * 1000))
        .unwrap()
        .unwrap();
    assert_eq!((gap.from.0, gap.to.0), (last_before * 1000, RESTART * 1000));
    for chunk in after.chunks(20_000) {
        store
            .write_batch(&Batch {
                samples: chunk.to_vec(),
                gaps: vec![],
            })
            .unwrap();
    }
    store.rollup(UnixMillis(NOW * 1000)).unwrap();
    let pruned = store.prune(UnixMillis(NOW * 1000)).unwrap();
    assert!(pruned.raw > 10_000, "{pruned:?}");
    drop(store);
    Fixture {
        _dir: dir,
        db,
        devices,
        interfaces,
        gap: (last_before, RESTART),
    }
}

// ---------------------------------------------------------------------
// The independent model: one state per second.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum St {
    Up,
    Down,
    Unknown,
    Excluded,
}

pub fn per_second(rounds: &[RoundSpec], hold: i64, gap: (i64, i64)) -> Vec<St> {
    (SINCE..UNTIL)
        .map(|s| {
            if (M0..M1).contains(&s) {
                return St::Excluded;
            }
            if (gap.0..gap.1).contains(&s) {
                return St::Unknown;
            }
            match rounds.iter().rev().find(|r| r.t <= s) {
                Some(r) if s < r.t + hold => {
                    if r.loss >= 100.0 {
                        St::Down
                    } else {
                        St::Up
                    }
                }
                _ => St::Unknown,
            }
        })
        .collect()
}

/// (start, end, start edge, end edge) of each run of Down, in seconds.
pub fn runs(states: &[St]) -> Vec<(i64, i64, &'static str, &'static str)> {
    let edge = |s: Option<&St>| match s {
        None => "period",
        Some(St::Up) => "observed",
        Some(St::Unknown) => "unknown",
        Some(St::Excluded) => "excluded",
        Some(St::Down) => unreachable!(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < states.len() {
        if states[i] != St::Down {
            i += 1;
            continue;
        }
        let start = i;
        while i < states.len() && states[i] == St::Down {
            i += 1;
        }
        out.push((
            SINCE + start as i64,
            SINCE + i as i64,
            edge(start.checked_sub(1).map(|j| &states[j])),
            edge(states.get(i)),
        ));
    }
    out
}

pub fn count(states: &[St], s: St) -> i64 {
    states.iter().filter(|x| **x == s).count() as i64
}

pub fn nearest_rank(v: &[f64], pct: usize) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = (v.len() * pct).div_ceil(100);
    v[rank - 1]
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

pub fn rfc3339(secs: i64) -> String {
    // Days to civil date (H. Hinnant), written out here for the arguments.
    let (days, sod) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
