//! The reports as JSON: the report structs as serde shapes (times in Unix
//! milliseconds), with the kind and the period's edges as RFC 3339 added.
//! Device strings travel as JSON strings (serde escapes them). Pure.
use super::availability::ReachabilityReport;
use super::bandwidth::BandwidthReport;
use super::window::Period;
use crate::util::time::rfc3339;
use serde::Serialize;

pub fn reachability(r: &ReachabilityReport) -> String {
    render("reachability", r.period, r)
}

pub fn bandwidth(r: &BandwidthReport) -> String {
    render("bandwidth", r.period, r)
}

fn render<T: Serialize>(kind: &str, period: Period, report: &T) -> String {
    let mut value = match serde_json::to_value(report) {
        Ok(v) => v,
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("report".into(), kind.into());
        obj.insert("since".into(), rfc3339(period.since_ms).into());
        obj.insert("until".into(), rfc3339(period.until_ms).into());
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
