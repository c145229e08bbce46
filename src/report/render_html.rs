//! The reports as one self-contained HTML page: inline CSS in one `<style>`
//! element, no scripts, no external resources; print CSS (A4 landscape,
//! a page break between sections, table headers repeated on every page).
//! Every string that is not a literal of this file — device names,
//! interface names and aliases, numbers, times — goes through
//! [`escape::html`]. Pure.
use super::availability::{LinkEnd, ReachabilityReport};
use super::bandwidth::{BandwidthReport, InterfaceBandwidth};
use super::escape::html as esc;
use super::outages::Outage;
use super::timeline::Totals;
use super::window::{ExclusionWindow, Period};
use crate::types::UnixMillis;
use crate::util::time::{duration, rfc3339};

const STYLE: &str = "
@page { size: A4 landscape; margin: 12mm; }
body { font: 10pt/1.35 system-ui, sans-serif; color: #111; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 .3em; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; margin: 1em 0 .4em; }
p.meta { margin: .1em 0; color: #333; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; }
th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bad { color: #a00; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
section { break-before: page; page-break-before: always; }
section.first { break-before: auto; page-break-before: auto; }
footer { break-before: page; page-break-before: always; font-size: 9pt; color: #333; }
@media print { body { margin: 0; } th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
";

/// The page under construction. Only `lit` takes markup, and only string
/// literals of this file are passed to it; everything else is escaped.
struct Page {
    out: String,
}

impl Page {
    fn new(title: &str) -> Page {
        let mut p = Page { out: String::new() };
        p.lit("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        p.text(title);
        p.lit("</title>\n<style>");
        p.lit(STYLE);
        p.lit("</style>\n</head>\n<body>\n");
        p
    }

    fn lit(&mut self, markup: &'static str) {
        self.out.push_str(markup);
    }

    fn text(&mut self, s: &str) {
        self.out.push_str(&esc(s));
    }

    fn element(&mut self, open: &'static str, s: &str, close: &'static str) {
        self.lit(open);
        self.text(s);
        self.lit(close);
    }

    fn table_head(&mut self, columns: &[&str]) {
        self.lit("<table>\n<thead><tr>");
        for c in columns {
            self.element("<th>", c, "</th>");
        }
        self.lit("</tr></thead>\n<tbody>\n");
    }

    fn cell(&mut self, s: &str) {
        self.element("<td>", s, "</td>");
    }

    fn num(&mut self, s: &str) {
        self.element("<td class=\"n\">", s, "</td>");
    }

    fn finish(mut self, definitions: &[&str]) -> String {
        self.lit("<footer>\n<h2>Definitions</h2>\n<ul>\n");
        for d in definitions {
            self.element("<li>", d, "</li>\n");
        }
        self.lit("</ul>\n</footer>\n</body>\n</html>\n");
        self.out
    }

    fn header(&mut self, title: &str, period: Period, generated_ms: UnixMillis) {
        self.element("<h1>", title, "</h1>\n");
        self.element(
            "<p class=\"meta\">",
            &format!(
                "Period {} to {} ({})",
                rfc3339(period.since_ms),
                rfc3339(period.until_ms),
                duration(period.len_ms())
            ),
            "</p>\n",
        );
        self.element(
            "<p class=\"meta\">",
            &format!("Generated {} by nocmap", rfc3339(generated_ms)),
            "</p>\n",
        );
    }
}

fn pct(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "–".to_string(), |x| format!("{x:.digits$} %"))
}

fn ms(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "–".to_string(), |x| format!("{x:.3}"))
}

/// Bits per second with an SI prefix: `12.35 Mbit/s`.
pub fn bps(v: Option<f64>) -> String {
    let Some(x) = v.filter(|x| x.is_finite()) else {
        return "–".to_string();
    };
    let units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
    let mut value = x;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", units[unit])
}

fn named(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != id => format!("{n} ({id})"),
        _ => id.to_string(),
    }
}

fn end_text(e: &LinkEnd) -> String {
    let dev = named(&e.device, e.device_name.as_deref());
    match &e.if_name {
        Some(i) => format!("{dev} {i}"),
        None => dev,
    }
}

fn exclusions(p: &mut Page, windows: &[ExclusionWindow]) {
    if windows.is_empty() {
        p.element("<p class=\"meta\">", "No exclusion windows.", "</p>\n");
        return;
    }
    for w in windows {
        let scope = w.device.as_deref().unwrap_or("all devices");
        p.element(
            "<p class=\"meta\">",
            &format!(
                "Excluded: {} to {} ({scope})",
                rfc3339(w.start_ms),
                rfc3339(w.end_ms)
            ),
            "</p>\n",
        );
    }
}

fn outage_rows(p: &mut Page, subject: &str, outages: &[Outage]) {
    for o in outages {
        p.lit("<tr>");
        p.cell(subject);
        p.cell(&rfc3339(o.start_ms));
        p.cell(&rfc3339(o.end_ms));
        p.num(&duration(o.duration_ms));
        p.cell(o.start_edge.as_str());
        p.cell(o.end_edge.as_str());
        p.lit("</tr>\n");
    }
}

const OUTAGE_COLUMNS: &[&str] = &[
    "Subject",
    "Start",
    "End",
    "Duration",
    "Start edge",
    "End edge",
];

pub fn reachability(r: &ReachabilityReport) -> String {
    let mut p = Page::new("nocmap reachability report");
    p.lit("<section class=\"first\">\n");
    p.header("Reachability report", r.period, r.generated_ms);
    exclusions(&mut p, &r.exclusions);
    p.lit("<h2>Devices</h2>\n");
    p.table_head(
        &[
            &["Device", "Availability"][..],
            &TIME_COLUMNS,
            &[
                "Loss",
                "RTT p50 ms",
                "RTT p95 ms",
                "RTT max ms",
                "Rounds",
                "Data",
            ],
        ]
        .concat(),
    );
    for d in &r.devices {
        p.lit("<tr>");
        p.cell(&named(&d.device, d.name.as_deref()));
        if d.totals.down_ms > 0 {
            p.element("<td class=\"n bad\">", &pct(d.availability_pct, 3), "</td>");
        } else {
            p.num(&pct(d.availability_pct, 3));
        }
        time_cells(&mut p, &d.totals, &d.outages);
        p.num(&pct(d.loss_pct, 2));
        p.num(&ms(d.rtt_p50_ms));
        p.num(&ms(d.rtt_p95_ms));
        p.num(&ms(d.rtt_max_ms));
        p.num(&d.rounds.to_string());
        p.cell(d.resolution);
        p.lit("</tr>\n");
    }
    p.lit("</tbody></table>\n</section>\n<section>\n<h2>Device outages</h2>\n");
    p.table_head(OUTAGE_COLUMNS);
    for d in &r.devices {
        outage_rows(&mut p, &named(&d.device, d.name.as_deref()), &d.outages);
    }
    p.lit("</tbody></table>\n</section>\n<section>\n<h2>Links</h2>\n");
    p.table_head(
        &[
            &["Link", "A end", "B end", "Availability"][..],
            &TIME_COLUMNS,
        ]
        .concat(),
    );
    for l in &r.links {
        p.lit("<tr>");
        p.cell(&l.link);
        p.cell(&end_text(&l.a));
        p.cell(&end_text(&l.b));
        p.num(&pct(l.availability_pct, 3));
        time_cells(&mut p, &l.totals, &l.outages);
        p.lit("</tr>\n");
    }
    p.lit("</tbody></table>\n</section>\n<section>\n<h2>Link outages</h2>\n");
    p.table_head(OUTAGE_COLUMNS);
    for l in &r.links {
        let subject = format!("{}: {} – {}", l.link, end_text(&l.a), end_text(&l.b));
        outage_rows(&mut p, &subject, &l.outages);
    }
    p.lit("</tbody></table>\n</section>\n");
    p.finish(r.definitions)
}

/// The columns [`time_cells`] fills.
const TIME_COLUMNS: [&str; 5] = ["Up", "Down", "Unknown", "Excluded", "Outages"];

/// The Up, Down, Unknown, Excluded and Outages cells of a device or link.
fn time_cells(p: &mut Page, t: &Totals, outages: &[Outage]) {
    for spent in [t.up_ms, t.down_ms, t.unknown_ms, t.excluded_ms] {
        p.num(&duration(spent));
    }
    p.num(&outages.len().to_string());
}

fn interface_rows(p: &mut Page, rows: &[InterfaceBandwidth], ranked: bool) {
    for (n, i) in rows.iter().enumerate() {
        p.lit("<tr>");
        if ranked {
            p.num(&(n + 1).to_string());
        }
        p.cell(&named(&i.device, i.device_name.as_deref()));
        p.cell(&i.if_name);
        p.cell(i.alias.as_deref().unwrap_or(""));
        p.num(&bps(i.speed_bps.map(|s| s as f64)));
        p.num(&bps(i.inbound.peak_bps));
        p.num(&bps(i.outbound.peak_bps));
        p.num(&bps(i.inbound.p95_bps));
        p.num(&bps(i.outbound.p95_bps));
        p.num(&bps(i.billed_p95_bps));
        p.num(&format!(
            "{} / {}",
            i.inbound.buckets_raw + i.outbound.buckets_raw,
            i.inbound.buckets_rollup + i.outbound.buckets_rollup
        ));
        p.lit("</tr>\n");
    }
}

const BANDWIDTH_COLUMNS: &[&str] = &[
    "Device",
    "Interface",
    "Alias",
    "Speed",
    "In peak",
    "Out peak",
    "In p95",
    "Out p95",
    "Billed p95",
    "Buckets raw / 5m",
];

fn ranked_table(p: &mut Page, rows: &[InterfaceBandwidth]) {
    let mut cols = vec!["#"];
    cols.extend_from_slice(BANDWIDTH_COLUMNS);
    p.table_head(&cols);
    interface_rows(p, rows, true);
    p.lit("</tbody></table>\n");
}

pub fn bandwidth(r: &BandwidthReport) -> String {
    let mut p = Page::new("nocmap bandwidth report");
    p.lit("<section class=\"first\">\n");
    p.header("Bandwidth report", r.period, r.generated_ms);
    p.element(
        "<p class=\"meta\">",
        &format!(
            "Resolution: {}. 5-minute buckets in the period: {}.",
            r.resolution, r.buckets_in_period
        ),
        "</p>\n",
    );
    p.element("<h2>", &format!("Top {} by peak", r.top_n), "</h2>\n");
    ranked_table(&mut p, &r.top_by_peak);
    p.lit("</section>\n<section>\n");
    p.element(
        "<h2>",
        &format!("Top {} by 95th percentile", r.top_n),
        "</h2>\n",
    );
    ranked_table(&mut p, &r.top_by_p95);
    p.lit("</section>\n<section>\n<h2>95th percentile per interface (billing)</h2>\n");
    p.table_head(BANDWIDTH_COLUMNS);
    interface_rows(&mut p, &r.interfaces, false);
    p.lit("</tbody></table>\n</section>\n");
    p.finish(r.definitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_second() {
        assert_eq!(bps(Some(999.0)), "999.00 bit/s");
        assert_eq!(bps(Some(12_345_678.0)), "12.35 Mbit/s");
        assert_eq!(bps(None), "–");
        assert_eq!(bps(Some(f64::NAN)), "–");
    }
}
