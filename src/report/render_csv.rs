//! The reports as CSV (RFC 4180: CRLF line ends, one header line). Text
//! cells go through [`escape::csv_text`] (quoted, formula-neutralised);
//! numbers are written plainly, empty when unknown. Pure.
//!
//! Reachability: one table, a `summary` row per device and per link and an
//! `outage` row per outage. Bandwidth: one row per interface with its rank
//! in each top list (empty when outside it).
use super::availability::{LinkEnd, ReachabilityReport};
use super::bandwidth::{BandwidthReport, InterfaceBandwidth};
use super::escape::csv_text;
use super::outages::Outage;
use super::timeline::Totals;
use crate::util::time::rfc3339;

const REACHABILITY_HEADER: &[&str] = &[
    "record",
    "kind",
    "subject",
    "name",
    "a_device",
    "a_interface",
    "b_device",
    "b_interface",
    "availability_pct",
    "up_s",
    "down_s",
    "unknown_s",
    "excluded_s",
    "loss_pct",
    "rtt_p50_ms",
    "rtt_p95_ms",
    "rtt_max_ms",
    "rounds",
    "resolution",
    "outage_start",
    "outage_end",
    "outage_duration_s",
    "start_edge",
    "end_edge",
];

const BANDWIDTH_HEADER: &[&str] = &[
    "device",
    "device_name",
    "interface",
    "alias",
    "speed_bps",
    "in_peak_bps",
    "out_peak_bps",
    "in_p95_bps",
    "out_p95_bps",
    "billed_p95_bps",
    "rank_by_peak",
    "rank_by_p95",
    "buckets_raw",
    "buckets_rollup",
    "buckets_in_period",
    "since",
    "until",
];

fn text(s: &str) -> String {
    csv_text(s)
}

fn opt_text(s: Option<&str>) -> String {
    s.map(text).unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x}"))
        .unwrap_or_default()
}

fn secs(ms: i64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

fn line(out: &mut String, cells: &[String]) {
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn header(out: &mut String, names: &[&str]) {
    line(
        out,
        &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
    );
}

fn totals(t: &Totals) -> [String; 4] {
    [
        secs(t.up_ms),
        secs(t.down_ms),
        secs(t.unknown_ms),
        secs(t.excluded_ms),
    ]
}

fn outage_cells(o: &Outage) -> [String; 5] {
    [
        text(&rfc3339(o.start_ms)),
        text(&rfc3339(o.end_ms)),
        secs(o.duration_ms),
        text(o.start_edge.as_str()),
        text(o.end_edge.as_str()),
    ]
}

fn ends(a: &LinkEnd, b: &LinkEnd) -> [String; 4] {
    [
        text(&a.device),
        opt_text(a.if_name.as_deref()),
        text(&b.device),
        opt_text(b.if_name.as_deref()),
    ]
}

pub fn reachability(r: &ReachabilityReport) -> String {
    let mut out = String::new();
    header(&mut out, REACHABILITY_HEADER);
    let blank = || String::new();
    for d in &r.devices {
        let head = [
            text("summary"),
            text("device"),
            text(&d.device),
            opt_text(d.name.as_deref()),
        ];
        let mut cells: Vec<String> = head.to_vec();
        cells.extend(std::iter::repeat_with(blank).take(4));
        cells.push(num(d.availability_pct));
        cells.extend(totals(&d.totals));
        cells.extend([
            num(d.loss_pct),
            num(d.rtt_p50_ms),
            num(d.rtt_p95_ms),
            num(d.rtt_max_ms),
            d.rounds.to_string(),
            text(d.resolution),
        ]);
        cells.extend(std::iter::repeat_with(blank).take(5));
        line(&mut out, &cells);
        for o in &d.outages {
            let mut cells: Vec<String> = vec![
                text("outage"),
                text("device"),
                text(&d.device),
                opt_text(d.name.as_deref()),
            ];
            cells.extend(std::iter::repeat_with(blank).take(15));
            cells.extend(outage_cells(o));
            line(&mut out, &cells);
        }
    }
    for l in &r.links {
        let mut cells = vec![text("summary"), text("link"), text(&l.link), blank()];
        cells.extend(ends(&l.a, &l.b));
        cells.push(num(l.availability_pct));
        cells.extend(totals(&l.totals));
        cells.extend(std::iter::repeat_with(blank).take(11));
        line(&mut out, &cells);
        for o in &l.outages {
            let mut cells = vec![text("outage"), text("link"), text(&l.link), blank()];
            cells.extend(ends(&l.a, &l.b));
            cells.extend(std::iter::repeat_with(blank).take(11));
            cells.extend(outage_cells(o));
            line(&mut out, &cells);
        }
    }
    out
}

pub fn bandwidth(r: &BandwidthReport) -> String {
    let mut out = String::new();
    header(&mut out, BANDWIDTH_HEADER);
    let rank = |list: &[InterfaceBandwidth], i: &InterfaceBandwidth| {
        list.iter()
            .position(|x| x.device == i.device && x.if_name == i.if_name)
            .map(|p| (p + 1).to_string())
            .unwrap_or_default()
    };
    for i in &r.interfaces {
        line(
            &mut out,
            &[
                text(&i.device),
                opt_text(i.device_name.as_deref()),
                text(&i.if_name),
                opt_text(i.alias.as_deref()),
                i.speed_bps.map(|s| s.to_string()).unwrap_or_default(),
                num(i.inbound.peak_bps),
                num(i.outbound.peak_bps),
                num(i.inbound.p95_bps),
                num(i.outbound.p95_bps),
                num(i.billed_p95_bps),
                rank(&r.top_by_peak, i),
                rank(&r.top_by_p95, i),
                (i.inbound.buckets_raw + i.outbound.buckets_raw).to_string(),
                (i.inbound.buckets_rollup + i.outbound.buckets_rollup).to_string(),
                r.buckets_in_period.to_string(),
                text(&rfc3339(r.period.since_ms)),
                text(&rfc3339(r.period.until_ms)),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::availability::{DeviceInput, LinkInput, Round};
    use crate::report::window::Period;
    use crate::types::UnixMillis;

    #[test]
    fn every_row_has_the_header_width_and_hostile_text_stays_text() {
        let round = |at_ms, loss_pct| Round {
            at_ms,
            loss_pct,
            rtt_median_ms: Some(1.5),
            rtt_max_ms: Some(3.0),
            count: 1,
            bucket_ms: None,
        };
        let devices = [DeviceInput {
            id: "=1+1".into(),
            name: Some("a,\"b\"\r\nc".into()),
            rounds: (0..10)
                .map(|i| round(UnixMillis(i * 10), if i == 3 { 100.0 } else { 0.0 }))
                .collect(),
            gaps: vec![],
        }];
        let end = |d: &str, i: &str| LinkEnd {
            device: d.into(),
            device_name: None,
            if_name: Some(i.into()),
        };
        let links = [LinkInput {
            id: "l1".into(),
            a: end("=1+1", "@if"),
            b: end("x", "-3"),
            interface_states: vec![],
        }];
        let r = crate::report::reachability(
            Period::new(UnixMillis(0), UnixMillis(100)).unwrap(),
            UnixMillis(0),
            &devices,
            &links,
            &[],
        );
        let text = reachability(&r);
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(rd.headers().unwrap().len(), REACHABILITY_HEADER.len());
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        // Device summary, its outage, link summary, its outage.
        assert_eq!(rows.len(), 4);
        assert_eq!(&rows[0][2], "'=1+1");
        assert_eq!(&rows[0][3], "a,\"b\"\r\nc");
        assert_eq!(&rows[1][19], "1970-01-01T00:00:00.030Z");
        assert_eq!(&rows[3][5], "'@if");
        assert_eq!(&rows[3][7], "'-3");
    }
}
