//! Report figures against a real SQLite store written through the store's
//! public API (samples, a monitor restart, rollups and pruning), each figure
//! checked against an independent calculation in this file: a per-second
//! state model for reachability, plain sorting for percentiles. Then the
//! `nocmap report` binary on that store, every format parsed, and the web
//! download (`/api/reports/...`) against the CLI's figures.
mod server_support;

use nocmap::server::{AppState, AuthConfig};
use nocmap::store::{Batch, Sample, SeriesKey, Store, StoreConfig, UnixMillis};
use nocmap::topology::{Device, DeviceId, Endpoint, Interface, Link, Topology};
use nocmap::types::Secret;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// 2023-11-14T22:00:00Z, in seconds: everything below is in whole seconds.
const T0: i64 = 1_699_999_200;
const MIN: i64 = 60;
const DAY: i64 = 86_400;
/// The ICMP window starts here.
const R0: i64 = T0 + 2 * DAY + 20 * 3600;
/// The reachability period.
const SINCE: i64 = R0 + 10 * MIN;
const UNTIL: i64 = R0 + 130 * MIN;
/// The maintenance window given with --exclude.
const M0: i64 = R0 + 80 * MIN;
const M1: i64 = R0 + 90 * MIN;
/// Nothing is written in [QUIET, RESTART); the monitor restarts at RESTART.
const QUIET: i64 = R0 + 60 * MIN;
const RESTART: i64 = R0 + 70 * MIN;
/// Rollup and prune run at this time: raw samples before NOW - 2 days go.
const NOW: i64 = T0 + 3 * DAY + 10 * MIN;
const BW_SINCE: i64 = T0 + 7 * MIN;
const BW_UNTIL: i64 = T0 + 3 * DAY;

const HOSTILE_NAME: &str = "<script>alert(1)</script>";
const HOSTILE_ALIAS: &str = "<img src=x onerror=alert(1)>";
const FORMULA_IF: &str = "=cmd|' /C calc'!A0";

#[derive(Debug, Clone, Copy)]
struct RoundSpec {
    t: i64,
    loss: f64,
    rtt_median: Option<f64>,
    rtt_max: Option<f64>,
}

/// Rounds of one device every `step` seconds from R0 to R0 + 140 min with
/// an irregular jitter on every seventh round, none in the quiet time and
/// none in `silent`; down (100 % loss) where `down(t)`.
fn rounds(
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
type InterfaceSamples = (&'static str, &'static str, Vec<(i64, f64)>, Vec<(i64, f64)>);

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    devices: Vec<(&'static str, Vec<RoundSpec>, i64)>,
    interfaces: Vec<InterfaceSamples>,
    /// The store-wide restart gap.
    gap: (i64, i64),
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

fn device(id: &str, name: &str, ifs: &[(&str, Option<&str>)]) -> Device {
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
                if_index: n as u32 + 1,
                name: name.to_string(),
                descr: None,
                alias: alias.map(str::to_string),
                speed_bps: Some(1_000_000_000),
                mac: None,
                oper_status: Some("up".into()),
                admin_status: Some("up".into()),
                if_type: Some(6),
            })
            .collect(),
        partial: vec![],
    }
}

fn link(id: &str, a: (&str, &str), b: (&str, &str)) -> Link {
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

fn fixture() -> Fixture {
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
enum St {
    Up,
    Down,
    Unknown,
    Excluded,
}

fn per_second(rounds: &[RoundSpec], hold: i64, gap: (i64, i64)) -> Vec<St> {
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
fn runs(states: &[St]) -> Vec<(i64, i64, &'static str, &'static str)> {
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

fn count(states: &[St], s: St) -> i64 {
    states.iter().filter(|x| **x == s).count() as i64
}

fn nearest_rank(v: &[f64], pct: usize) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = (v.len() * pct).div_ceil(100);
    v[rank - 1]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn rfc3339(secs: i64) -> String {
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

fn nocmap(db: &Path, kind: &str, common: &[&str], extra: &[&str]) -> String {
    let args: Vec<&str> = [kind].iter().chain(common).chain(extra).copied().collect();
    let out = Command::new(env!("CARGO_BIN_EXE_nocmap"))
        .arg("report")
        .args(&args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn report_figures_match_an_independent_calculation() {
    let f = fixture();
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    let (since, until) = (rfc3339(SINCE), rfc3339(UNTIL));
    let exclude = format!("{}/{}", rfc3339(M0), rfc3339(M1));
    let common = [
        "--since",
        since.as_str(),
        "--until",
        until.as_str(),
        "--exclude",
        exclude.as_str(),
    ];

    // ---- reachability, JSON ----
    let text = nocmap(&f.db, "reachability", &common, &["--format", "json"]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["report"], "reachability");
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    let mut models: BTreeMap<&str, Vec<St>> = BTreeMap::new();
    for (id, rounds, hold) in &f.devices {
        let d = devices.iter().find(|d| d["device"] == *id).unwrap();
        let model = per_second(rounds, *hold, f.gap);
        let (up, down, unknown, excl) = (
            count(&model, St::Up),
            count(&model, St::Down),
            count(&model, St::Unknown),
            count(&model, St::Excluded),
        );
        assert_eq!(d["up_ms"].as_i64(), Some(up * 1000), "{id} up");
        assert_eq!(d["down_ms"].as_i64(), Some(down * 1000), "{id} down");
        assert_eq!(
            d["unknown_ms"].as_i64(),
            Some(unknown * 1000),
            "{id} unknown"
        );
        assert_eq!(
            d["excluded_ms"].as_i64(),
            Some(excl * 1000),
            "{id} excluded"
        );
        let avail = up as f64 * 100.0 / (up + down) as f64;
        assert!(
            close(d["availability_pct"].as_f64().unwrap(), avail),
            "{id}"
        );
        let want = runs(&model);
        let got: Vec<(i64, i64, String, String)> = d["outages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                assert_eq!(
                    o["duration_ms"].as_i64().unwrap(),
                    o["end_ms"].as_i64().unwrap() - o["start_ms"].as_i64().unwrap()
                );
                (
                    o["start_ms"].as_i64().unwrap() / 1000,
                    o["end_ms"].as_i64().unwrap() / 1000,
                    o["start_edge"].as_str().unwrap().to_string(),
                    o["end_edge"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want_s: Vec<(i64, i64, String, String)> = want
            .iter()
            .map(|(a, b, c, d)| (*a, *b, c.to_string(), d.to_string()))
            .collect();
        assert_eq!(got, want_s, "{id} outages");
        let counted: Vec<&RoundSpec> = rounds
            .iter()
            .filter(|r| (SINCE..UNTIL).contains(&r.t) && !(M0..M1).contains(&r.t))
            .collect();
        let loss = counted.iter().map(|r| r.loss).sum::<f64>() / counted.len() as f64;
        assert!(close(d["loss_pct"].as_f64().unwrap(), loss), "{id} loss");
        assert_eq!(d["rounds"].as_u64(), Some(counted.len() as u64));
        let medians: Vec<f64> = counted.iter().filter_map(|r| r.rtt_median).collect();
        let max = counted
            .iter()
            .filter_map(|r| r.rtt_max)
            .fold(f64::MIN, f64::max);
        // serde_json's default float parsing may be one ulp off: `close`.
        let f64_of = |k: &str| d[k].as_f64().unwrap();
        assert!(close(f64_of("rtt_p50_ms"), nearest_rank(&medians, 50)));
        assert!(close(f64_of("rtt_p95_ms"), nearest_rank(&medians, 95)));
        assert!(close(f64_of("rtt_max_ms"), max), "{id} rtt max");
        assert_eq!(d["resolution"], "raw");
        eprintln!(
            "{id}: availability {avail:.4} % (up {up} s, down {down} s, unknown {unknown} s, excluded {excl} s), loss {loss:.3} %, rtt p50 {} p95 {} max {max} ms, {} rounds, outages {want:?}",
            nearest_rank(&medians, 50),
            nearest_rank(&medians, 95),
            counted.len()
        );
        models.insert(id, model);
    }
    // The scenario is what it says: r1 has five outages (one cut by the
    // period start, one observed on both sides, one ended and one begun by
    // the restart gap, one starting at the end of the maintenance window);
    // r2's outage inside the maintenance window is not counted, its outage
    // at the end runs to the period's end.
    assert_eq!(runs(&models["r1"]).len(), 5);
    assert_eq!(runs(&models["r2"]).len(), 1);
    assert!(count(&models["r2"], St::Unknown) > 5 * 60);

    // Links: down when either end is down.
    let links = v["links"].as_array().unwrap();
    assert_eq!(links.len(), 3);
    let combine = |a: &[St], b: &[St]| -> Vec<St> {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                if *x == St::Excluded || *y == St::Excluded {
                    St::Excluded
                } else if *x == St::Down || *y == St::Down {
                    St::Down
                } else if *x == St::Unknown || *y == St::Unknown {
                    St::Unknown
                } else {
                    St::Up
                }
            })
            .collect()
    };
    let ghost: Vec<St> = (SINCE..UNTIL)
        .map(|s| {
            if (M0..M1).contains(&s) {
                St::Excluded
            } else {
                St::Unknown
            }
        })
        .collect();
    for (id, a, b) in [("l1", "r1", "r2"), ("l2", "r2", "r3")] {
        let l = links.iter().find(|l| l["link"] == id).unwrap();
        let model = combine(&models[a], &models[b]);
        let (up, down) = (count(&model, St::Up), count(&model, St::Down));
        assert_eq!(l["down_ms"].as_i64(), Some(down * 1000), "{id}");
        assert_eq!(
            l["unknown_ms"].as_i64(),
            Some(count(&model, St::Unknown) * 1000),
            "{id}"
        );
        assert!(close(
            l["availability_pct"].as_f64().unwrap(),
            up as f64 * 100.0 / (up + down) as f64
        ));
        let starts: Vec<i64> = l["outages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["start_ms"].as_i64().unwrap() / 1000)
            .collect();
        let want: Vec<i64> = runs(&model).iter().map(|r| r.0).collect();
        assert_eq!(starts, want, "{id}");
        eprintln!(
            "{id}: availability {:.4} %, {} outages",
            up as f64 * 100.0 / (up + down) as f64,
            want.len()
        );
    }
    let l3 = links.iter().find(|l| l["link"] == "l3").unwrap();
    assert!(l3["availability_pct"].is_null());
    assert_eq!(
        l3["unknown_ms"].as_i64(),
        Some(count(&ghost, St::Unknown) * 1000)
    );

    // ---- reachability, CSV and HTML ----
    let csv_text = nocmap(&f.db, "reachability", &common, &["--format", "csv"]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let outage_count: usize = devices
        .iter()
        .chain(links)
        .map(|x| x["outages"].as_array().unwrap().len())
        .sum();
    assert_eq!(rows.len(), devices.len() + links.len() + outage_count);
    assert_eq!(csv_text.matches("\r\n").count(), 1 + rows.len());
    let link_l2 = rows
        .iter()
        .find(|r| &r[0] == "summary" && &r[2] == "l2")
        .unwrap();
    assert_eq!(&link_l2[7], "eth0");
    assert_eq!(&link_l2[5], format!("'{FORMULA_IF}"));
    let r1 = rows
        .iter()
        .find(|r| &r[0] == "summary" && &r[2] == "r1")
        .unwrap();
    assert_eq!(&r1[3], HOSTILE_NAME);

    let html = nocmap(&f.db, "reachability", &common, &["--format", "html"]);
    // NOCMAP_REPORT_KEEP=DIR keeps the pages for a look (or a print to PDF).
    if let Some(dir) = std::env::var_os("NOCMAP_REPORT_KEEP") {
        std::fs::write(Path::new(&dir).join("reachability.html"), &html).unwrap();
        std::fs::write(Path::new(&dir).join("reachability.csv"), &csv_text).unwrap();
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("src=") && !html.contains("href="));
    assert!(html.contains("thead { display: table-header-group; }"));

    // ---- bandwidth ----
    let (bw_since, bw_until) = (rfc3339(BW_SINCE), rfc3339(BW_UNTIL));
    let bw_common = [
        "--since",
        bw_since.as_str(),
        "--until",
        bw_until.as_str(),
        "--top",
        "3",
    ];
    let text = nocmap(&f.db, "bandwidth", &bw_common, &["--format", "json"]);
    let v: Value = serde_json::from_str(&text).unwrap();
    let start = (BW_SINCE + 299) / 300 * 300;
    assert_eq!(v["period"]["since_ms"].as_i64(), Some(start * 1000));
    let cut = NOW - 2 * DAY;
    let mut expected: Vec<(String, f64, f64)> = Vec::new();
    let rows = v["interfaces"].as_array().unwrap();
    assert_eq!(rows.len(), f.interfaces.len());
    for (dev, ifn, inb, outb) in &f.interfaces {
        let row = rows
            .iter()
            .find(|r| r["device"] == *dev && r["if_name"] == *ifn)
            .unwrap();
        let mut billed = f64::MIN;
        let mut peak = f64::MIN;
        for (dir, samples) in [("in", inb), ("out", outb)] {
            let mut buckets: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for (t, val) in samples.iter().filter(|(t, _)| *t >= start && *t < BW_UNTIL) {
                buckets
                    .entry(t.div_euclid(300) * 300)
                    .or_default()
                    .push(*val);
            }
            let mut avgs: Vec<f64> = buckets
                .values()
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
                .collect();
            avgs.sort_by(|a, b| b.partial_cmp(a).unwrap());
            let p95 = avgs[avgs.len() * 5 / 100];
            let dir_peak = samples
                .iter()
                .filter(|(t, _)| *t >= start && *t < BW_UNTIL)
                .map(|s| s.1)
                .fold(f64::MIN, f64::max);
            let got = &row[dir];
            assert!(
                close(got["p95_bps"].as_f64().unwrap(), p95),
                "{dev} {ifn} {dir} p95"
            );
            assert_eq!(
                got["peak_bps"].as_f64(),
                Some(dir_peak),
                "{dev} {ifn} {dir}"
            );
            let rolled = buckets.keys().filter(|b| **b < cut).count() as u64;
            assert_eq!(got["buckets_rollup"].as_u64(), Some(rolled));
            assert_eq!(
                got["buckets_raw"].as_u64(),
                Some(buckets.len() as u64 - rolled)
            );
            billed = billed.max(p95);
            peak = peak.max(dir_peak);
        }
        assert!(close(row["billed_p95_bps"].as_f64().unwrap(), billed));
        expected.push((format!("{dev} {ifn}"), peak, billed));
        eprintln!("{dev} {ifn}: peak {peak} bit/s, billed p95 {billed:.1} bit/s");
    }
    let top = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["device"].as_str().unwrap(),
                    r["if_name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let mut by_peak = expected.clone();
    by_peak.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    let mut by_p95 = expected.clone();
    by_p95.sort_by(|a, b| b.2.partial_cmp(&a.2).unwrap());
    let names =
        |v: &[(String, f64, f64)]| v.iter().take(3).map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(top("top_by_peak"), names(&by_peak));
    assert_eq!(top("top_by_p95"), names(&by_p95));
    eprintln!(
        "top by peak {:?}, top by p95 {:?}",
        names(&by_peak),
        names(&by_p95)
    );
    let resolution = v["resolution"].as_str().unwrap();
    assert!(resolution.contains("5-minute rollup"), "{resolution}");

    let csv_text = nocmap(&f.db, "bandwidth", &bw_common, &["--format", "csv"]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), f.interfaces.len());
    assert_eq!(csv_text.lines().count(), 1 + f.interfaces.len());
    assert!(rows.iter().any(|r| r[2] == format!("'{FORMULA_IF}")));
    assert!(rows.iter().any(|r| &r[3] == "'-2+3"));

    let out = f.db.with_file_name("bw.html");
    let out_arg = out.to_str().unwrap();
    nocmap(
        &f.db,
        "bandwidth",
        &bw_common,
        &["--format", "html", "--out", out_arg],
    );
    let html = std::fs::read_to_string(&out).unwrap();
    if let Some(dir) = std::env::var_os("NOCMAP_REPORT_KEEP") {
        std::fs::write(Path::new(&dir).join("bandwidth.html"), &html).unwrap();
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.to_lowercase().contains("<script") && !html.contains("<img"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_download_matches_the_cli() {
    use server_support::{VIEWER, get, hostile_live, start};
    let f = fixture();
    let (since, until) = (rfc3339(SINCE), rfc3339(UNTIL));
    let exclude = format!("{}/{}", rfc3339(M0), rfc3339(M1));
    let common = [
        "--since",
        since.as_str(),
        "--until",
        until.as_str(),
        "--exclude",
        exclude.as_str(),
    ];
    let cli: Value = serde_json::from_str(&nocmap(
        &f.db,
        "reachability",
        &common,
        &["--format", "json"],
    ))
    .unwrap();
    let srv = start(AppState {
        live: hostile_live(),
        db_path: Some(f.db.clone()),
        auth: Some(AuthConfig {
            admin_token: Secret::new(server_support::ADMIN),
            read_only_token: Some(Secret::new(VIEWER)),
        }),
        feed: None,
        limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
            Default::default(),
        )),
    });
    let q = format!("since={since}&until={until}&exclude={exclude}");
    let path = format!("/api/reports/reachability?{q}&format=json");
    assert_eq!(get(srv.addr, &path, None).await.status, 401);
    let r = get(srv.addr, &path, Some(VIEWER)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"nocmap-reachability-20231117T1810Z-20231117T2010Z.json\"")
    );
    let web = r.json();
    assert_eq!(web["devices"], cli["devices"]);
    assert_eq!(web["links"], cli["links"]);

    let r = get(
        srv.addr,
        &format!("/api/reports/reachability?{q}&format=html"),
        Some(VIEWER),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body.contains("&lt;script&gt;") && !r.body.contains("<script"));

    let r = get(
        srv.addr,
        &format!(
            "/api/reports/bandwidth?since={}&until={}&top=2&format=csv",
            rfc3339(BW_SINCE),
            rfc3339(BW_UNTIL)
        ),
        Some(VIEWER),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.header("content-disposition").unwrap().ends_with(".csv\""));
    assert_eq!(r.body.lines().count(), 1 + f.interfaces.len());

    for bad in [
        "/api/reports/reachability?format=csv",
        "/api/reports/reachability?since=-1h&top=3",
        "/api/reports/bandwidth?since=-1h&top=0",
        "/api/reports/bandwidth?since=soon",
        "/api/reports/bandwidth?since=-1h&format=pdf",
        "/api/reports/bandwidth?since=-1h&exclude=2h/1h",
    ] {
        let r = get(srv.addr, bad, Some(VIEWER)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    assert_eq!(
        get(srv.addr, "/api/reports/other?since=-1h", Some(VIEWER))
            .await
            .status,
        404
    );
    srv.stop().await;

    // A server whose database does not exist yet: 503, and no file made.
    let missing = f.db.with_file_name("none.db");
    let srv = start(AppState {
        live: hostile_live(),
        db_path: Some(missing.clone()),
        auth: None,
        feed: None,
        limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
            Default::default(),
        )),
    });
    let r = get(srv.addr, "/api/reports/bandwidth?since=-1h", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(!missing.exists());
    srv.stop().await;
}
