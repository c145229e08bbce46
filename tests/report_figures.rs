//! Report figures against a real SQLite store written through the store's
//! public API (samples, a monitor restart, rollups and pruning), each figure
//! checked against an independent calculation (`tests/support/report.rs`): a per-second
//! state model for reachability, plain sorting for percentiles. Then the
//! `nocmap report` binary on that store, every format parsed, and the web
//! download (`/api/reports/...`) against the CLI's figures.
mod support;

use nocmap::server::{AppState, AuthConfig};
use nocmap::types::Secret;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::report::*;

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

/// The reachability reports' period and maintenance exclusion, as text.
struct ReachPeriod {
    since: String,
    until: String,
    exclude: String,
}

impl ReachPeriod {
    fn new() -> ReachPeriod {
        ReachPeriod {
            since: rfc3339(SINCE),
            until: rfc3339(UNTIL),
            exclude: format!("{}/{}", rfc3339(M0), rfc3339(M1)),
        }
    }

    /// `--since … --until … --exclude …`.
    fn args(&self) -> [&str; 6] {
        [
            "--since",
            &self.since,
            "--until",
            &self.until,
            "--exclude",
            &self.exclude,
        ]
    }
}

#[test]
fn report_figures_match_an_independent_calculation() {
    let f = fixture();
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    let period = ReachPeriod::new();
    let common = period.args();

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
    use support::server::{VIEWER, get, hostile_live, start};
    let f = fixture();
    let period = ReachPeriod::new();
    let common = period.args();
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
            admin_token: Secret::new(support::server::ADMIN),
            read_only_token: Some(Secret::new(VIEWER)),
        }),
        reports: None,
        allowed_hosts: Vec::new(),
        conn_limits: Default::default(),
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
        feed: None,
        limiter: std::sync::Arc::new(nocmap::server::rate_limit::RateLimiter::new(
            Default::default(),
        )),
    });
    let ReachPeriod {
        since,
        until,
        exclude,
    } = &period;
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
        reports: None,
        allowed_hosts: Vec::new(),
        conn_limits: Default::default(),
        traps: None,
        syslog: None,
        sites: None,
        origin: None,
        event_tap: None,
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
