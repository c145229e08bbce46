//! The parameters of a report request, shared by the CLI and the web API:
//! period (`since`, `until`), format, top N and exclusion windows, checked
//! from text. Pure: the caller passes the current time.
use super::ReportError;
use super::window::{ExclusionWindow, Period};
use crate::types::UnixMillis;
use crate::util::time::parse_time;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Html,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    pub period: Period,
    pub format: Format,
    pub top: usize,
    pub exclusions: Vec<ExclusionWindow>,
}

/// 9999-12-31T23:59:59.999Z: the latest time a period may reach, so that
/// no arithmetic on report times can overflow.
pub const LATEST_MS: i64 = 253_402_300_799_999;

/// The largest `top` accepted.
pub const MAX_TOP: usize = 10_000;

/// A time as [`parse_time`] takes it (`7d`, `-7d`, `now`, RFC 3339).
pub fn parse_instant(
    what: &str,
    text: &str,
    now_ms: UnixMillis,
) -> Result<UnixMillis, ReportError> {
    parse_time(text, now_ms).map_err(|e| ReportError::BadParameter(format!("{what}: {e}")))
}

/// The period from `since` and `until` (default `now`).
pub fn parse_period(
    since: &str,
    until: Option<&str>,
    now_ms: UnixMillis,
) -> Result<Period, ReportError> {
    let since_ms = parse_instant("since", since, now_ms)?;
    let until_ms = parse_instant("until", until.unwrap_or("now"), now_ms)?;
    for (what, t) in [("since", since_ms), ("until", until_ms)] {
        if !(0..=LATEST_MS).contains(&t.0) {
            return Err(ReportError::BadParameter(format!(
                "{what}: must lie between 1970 and 9999"
            )));
        }
    }
    Period::new(since_ms, until_ms)
        .ok_or_else(|| ReportError::BadParameter("`since` must be before `until`".to_string()))
}

/// `START/END` (RFC 3339 interval; each side anything [`parse_instant`]
/// takes) as a window for every device.
pub fn parse_exclusion(text: &str, now_ms: UnixMillis) -> Result<ExclusionWindow, ReportError> {
    let bad = || {
        ReportError::BadParameter(format!(
            "exclude: `{}` is not START/END (e.g. 2024-05-01T22:00:00Z/2024-05-01T23:30:00Z)",
            text.chars().take(80).collect::<String>()
        ))
    };
    let (a, b) = text.split_once('/').ok_or_else(bad)?;
    let start_ms = parse_instant("exclude start", a, now_ms)?;
    let end_ms = parse_instant("exclude end", b, now_ms)?;
    if start_ms >= end_ms {
        return Err(bad());
    }
    Ok(ExclusionWindow {
        start_ms,
        end_ms,
        device: None,
    })
}

/// The top N (1..=[`MAX_TOP`]) from text.
pub fn parse_top(text: &str) -> Result<usize, ReportError> {
    text.parse::<usize>()
        .map_or_else(|_| check_top(0), check_top)
}

/// `n` when it is a valid top N (1..=[`MAX_TOP`]).
pub fn check_top(n: usize) -> Result<usize, ReportError> {
    if (1..=MAX_TOP).contains(&n) {
        Ok(n)
    } else {
        Err(ReportError::BadParameter(format!(
            "top: must be a number from 1 to {MAX_TOP}"
        )))
    }
}

/// The query parameters of `/api/reports/...`: `since` (required), `until`,
/// `format` (default json), and for bandwidth (`with_top`) `top`, for
/// reachability one `exclude` (`START/END`). Unknown parameters are refused.
pub fn from_query(
    q: &HashMap<String, String>,
    now_ms: UnixMillis,
    with_top: bool,
) -> Result<ReportParams, ReportError> {
    let allowed: &[&str] = if with_top {
        &["since", "until", "format", "top"]
    } else {
        &["since", "until", "format", "exclude"]
    };
    let mut unknown: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        let shown: Vec<String> = unknown
            .iter()
            .map(|k| k.chars().take(40).collect())
            .collect();
        return Err(ReportError::BadParameter(format!(
            "unknown parameter(s) {}; expected: {}",
            shown.join(", "),
            allowed.join(", ")
        )));
    }
    let since = q.get("since").ok_or_else(|| {
        ReportError::BadParameter("missing parameter `since` (e.g. since=-7d)".into())
    })?;
    let period = parse_period(since, q.get("until").map(String::as_str), now_ms)?;
    let format = match q.get("format") {
        None => Format::Json,
        Some(f) => Format::parse(f).ok_or_else(|| {
            ReportError::BadParameter("format: one of csv, json, html".to_string())
        })?,
    };
    let top = match q.get("top") {
        None => super::bandwidth::DEFAULT_TOP,
        Some(t) => parse_top(t)?,
    };
    let exclusions = match q.get("exclude") {
        None => vec![],
        Some(e) => vec![parse_exclusion(e, now_ms)?],
    };
    Ok(ReportParams {
        period,
        format,
        top,
        exclusions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text is a value or an error, never a panic; accepted periods
        /// stay within 1970..=9999.
        #[test]
        fn any_text_is_checked(a in ".{0,40}", b in ".{0,40}", n in any::<i64>()) {
            if let Ok(p) = parse_period(&a, Some(&b), UnixMillis(n)) {
                prop_assert!(p.since_ms >= UnixMillis(0) && p.until_ms <= UnixMillis(LATEST_MS));
            }
            let _ = parse_exclusion(&format!("{a}/{b}"), UnixMillis(n));
            let _ = parse_top(&a);
            let m = [("since".to_string(), a.clone()), (b.clone(), a.clone())];
            let _ = from_query(&m.into_iter().collect(), UnixMillis(n), true);
        }
    }

    const NOW: UnixMillis = UnixMillis(1_700_000_000_000);

    fn q(pairs: &[(&str, &str)]) -> Result<ReportParams, ReportError> {
        let m = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_query(&m, NOW, true)
    }

    #[test]
    fn instants_periods_and_windows() {
        assert_eq!(
            parse_instant("since", "-7d", NOW).unwrap(),
            NOW - 7 * 86_400_000
        );
        assert_eq!(
            parse_instant("since", "7d", NOW).unwrap(),
            NOW - 7 * 86_400_000
        );
        assert!(parse_instant("since", "-2023-11-14T22:13:20Z", NOW).is_err());
        assert!(parse_period("now", None, NOW).is_err());
        assert!(parse_period("999999999h", None, NOW).is_err());
        assert!(parse_period("1h", Some("9999-12-31T23:59:59Z"), NOW).is_ok());
        assert!(parse_period("1h", Some("9999-12-31T23:59:60Z"), NOW).is_err());
        let w = parse_exclusion("2023-11-14T22:00:00Z/2023-11-14T22:13:20Z", NOW).unwrap();
        assert_eq!((w.start_ms, w.end_ms), (NOW - 800_000, NOW));
        for bad in ["", "2023-11-14T22:00:00Z", "now/1h", "x/y"] {
            assert!(parse_exclusion(bad, NOW).is_err(), "{bad}");
        }
        assert_eq!(parse_top("5").unwrap(), 5);
        for bad in ["0", "-1", "x", "10001"] {
            assert!(parse_top(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn queries() {
        let p = q(&[("since", "-7d"), ("format", "csv"), ("top", "3")]).unwrap();
        assert_eq!(p.period.until_ms, NOW);
        assert_eq!((p.format, p.top), (Format::Csv, 3));
        let p = q(&[("since", "1h")]).unwrap();
        assert_eq!((p.format, p.top), (Format::Json, 10));
        assert!(q(&[]).unwrap_err().to_string().contains("since"));
        assert!(q(&[("since", "1h"), ("format", "pdf")]).is_err());
        assert!(q(&[("since", "1h"), ("exclude", "2h/1h")]).is_err());
        assert!(
            q(&[("since", "1h"), ("token", "x")])
                .unwrap_err()
                .to_string()
                .contains("token")
        );
        let m = [
            ("since".to_string(), "1h".to_string()),
            ("top".to_string(), "3".to_string()),
        ];
        assert!(from_query(&m.into_iter().collect(), NOW, false).is_err());
    }
}
