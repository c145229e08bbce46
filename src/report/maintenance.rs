//! The config's `[[maintenance]]` windows as report exclusions: each
//! window's occurrences inside the period (one-off, or every week for
//! weekly windows), for every device when the window has no device scope,
//! else once per device the scope covers. Pure.
use super::window::{ExclusionWindow, Period};
use crate::alert::maintenance::{WEEK_MS, When, Window, slot_span, week_start};
use crate::alert::scope::DeviceFacts;
use crate::types::UnixMillis;

/// A device as the scope sees it.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub mgmt_addr: Option<std::net::IpAddr>,
    pub tags: Vec<String>,
}

/// `[start, end)` spans of `w` that overlap `period`, clipped to it.
pub fn occurrences(w: &Window, period: Period) -> Vec<(UnixMillis, UnixMillis)> {
    let clip = |s: UnixMillis, e: UnixMillis| {
        let (s, e) = (s.max(period.since_ms), e.min(period.until_ms));
        (s < e).then_some((s, e))
    };
    match &w.when {
        When::Once { start_ms, end_ms } => clip(*start_ms, *end_ms).into_iter().collect(),
        When::Weekly(slots) => {
            let mut out = Vec::new();
            // A slot may start late in the week before and run past midnight.
            let mut week = week_start(period.since_ms) - WEEK_MS;
            while week < period.until_ms {
                for s in slots {
                    let (start, end) = slot_span(week, s);
                    out.extend(clip(start, end));
                }
                week += WEEK_MS;
            }
            out.sort_unstable();
            out
        }
    }
}

/// The exclusions of `windows` over `period` for `devices`.
pub fn exclusions(
    windows: &[Window],
    devices: &[DeviceInfo],
    period: Period,
) -> Vec<ExclusionWindow> {
    let mut out = Vec::new();
    for w in windows {
        let spans = occurrences(w, period);
        if spans.is_empty() {
            continue;
        }
        let covered: Vec<&DeviceInfo> = devices
            .iter()
            .filter(|d| {
                w.scope.covers_device(&DeviceFacts {
                    id: &d.id,
                    name: &d.name,
                    mgmt_addr: d.mgmt_addr,
                    tags: &d.tags,
                })
            })
            .collect();
        let everyone = covered.len() == devices.len() && w.scope.is_unscoped();
        for (s, e) in spans {
            if everyone {
                out.push(ExclusionWindow {
                    start_ms: s,
                    end_ms: e,
                    device: None,
                });
            } else {
                out.extend(covered.iter().map(|d| ExclusionWindow {
                    start_ms: s,
                    end_ms: e,
                    device: Some(d.id.clone()),
                }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn windows(toml: &str) -> Vec<Window> {
        let c = Config::from_toml(toml).unwrap();
        c.maintenance.iter().map(Window::from_config).collect()
    }

    fn dev(id: &str, tags: &[&str]) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: id.into(),
            mgmt_addr: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn weekly_windows_repeat_and_are_clipped_to_the_period() {
        // Mondays 2026-11-16 and 2026-11-23; the period is 2026-11-15 12:00
        // to 2026-11-23 01:00, the window Sundays 23:00-02:00.
        let w = windows("[[maintenance]]\nname = \"w\"\nweekly = [\"sun 23:00-02:00\"]\n");
        let since = crate::util::time::parse_rfc3339_ms("2026-11-15T12:00:00Z").unwrap();
        let until = crate::util::time::parse_rfc3339_ms("2026-11-23T01:00:00Z").unwrap();
        let p = Period::new(since, until).unwrap();
        let o = occurrences(&w[0], p);
        let at = |s: &str| crate::util::time::parse_rfc3339_ms(s).unwrap();
        assert_eq!(
            o,
            vec![
                (at("2026-11-15T23:00:00Z"), at("2026-11-16T02:00:00Z")),
                (at("2026-11-22T23:00:00Z"), until),
            ]
        );
        let ex = exclusions(&w, &[dev("r1", &[]), dev("r2", &[])], p);
        assert_eq!(ex.len(), 2);
        assert!(ex.iter().all(|e| e.device.is_none()));
    }

    #[test]
    fn scoped_windows_name_each_device() {
        let w = windows(
            "[[maintenance]]\nname = \"wan\"\nstart = \"2026-11-20T10:00:00Z\"\nend = \"2026-11-20T11:00:00Z\"\ntags = [\"wan\"]\n",
        );
        let p = Period::new(UnixMillis(0), UnixMillis(i64::MAX / 2)).unwrap();
        let ex = exclusions(
            &w,
            &[dev("r1", &["wan"]), dev("r2", &[]), dev("r3", &["wan"])],
            p,
        );
        let ids: Vec<_> = ex.iter().map(|e| e.device.clone().unwrap()).collect();
        assert_eq!(ids, ["r1", "r3"]);
        assert_eq!(ex[0].end_ms - ex[0].start_ms, 3_600_000);
    }
}
