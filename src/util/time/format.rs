//! Times and durations as text: RFC 3339 in UTC (with milliseconds only
//! when they are not zero, for reports and the API; always with
//! milliseconds, for notification payloads), compact stamps for file
//! names and `1d 02:03:04` durations. Pure.
use super::calendar::civil_from_days;
use crate::types::UnixMillis;

/// `2024-05-01T12:00:00Z` (with `.250` when the milliseconds are not zero).
pub fn rfc3339(t: UnixMillis) -> String {
    let ms = t.0;
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod % 3600 / 60, sod % 60);
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
    }
}

/// RFC 3339 in UTC, always with milliseconds (`2026-11-23T04:30:00.000Z`).
pub fn rfc3339_ms(t: UnixMillis) -> String {
    let ms = t.0;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// `20240501T1200Z`: for file names.
pub fn compact(t: UnixMillis) -> String {
    let s = rfc3339(t);
    let digits: String = s
        .chars()
        .take(16)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}Z")
}

/// `3d 04:05:06`, `04:05:06` under a day, `0.250 s` under a second.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms > 0 && ms < 1000 {
        return format!("{:.3} s", ms as f64 / 1000.0);
    }
    let s = ms / 1000;
    let (d, h, m, s) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_time;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        assert_eq!(
            rfc3339(UnixMillis(1_700_000_000_000)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            rfc3339(UnixMillis(1_709_164_800_250)),
            "2024-02-29T00:00:00.250Z"
        );
        assert_eq!(rfc3339(UnixMillis(-1)), "1969-12-31T23:59:59.999Z");
        assert_eq!(compact(UnixMillis(1_700_000_000_000)), "20231114T2213Z");
        assert_eq!(duration(250), "0.250 s");
        assert_eq!(duration(0), "00:00:00");
        assert_eq!(duration(3_723_000), "01:02:03");
        assert_eq!(duration(90_061_000), "1d 01:01:01");
    }

    #[test]
    fn round_trips_through_the_parser() {
        for ms in [0, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_000] {
            let t = UnixMillis(ms);
            assert_eq!(parse_time(&rfc3339(t), UnixMillis(0)), Ok(t));
        }
    }

    #[test]
    fn always_with_milliseconds() {
        assert_eq!(rfc3339_ms(UnixMillis(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_ms(UnixMillis(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(rfc3339_ms(UnixMillis(-1)), "1969-12-31T23:59:59.999Z");
    }

    proptest! {
        #[test]
        fn both_forms_round_trip_through_the_parser(ms in -60_000_000_000_000i64..250_000_000_000_000) {
            let t = UnixMillis(ms);
            let text = rfc3339_ms(t);
            if text.len() == 24 {
                prop_assert_eq!(super::super::parse_rfc3339_ms(&text), Some(t));
                prop_assert_eq!(super::super::parse_rfc3339_ms(&rfc3339(t)), Some(t));
            }
        }
    }
}
