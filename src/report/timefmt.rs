//! Times and durations as text for the renderers: RFC 3339 in UTC and
//! `1d 02:03:04` durations. Pure.

/// `2024-05-01T12:00:00Z` (with `.250` when the milliseconds are not zero).
pub fn rfc3339(ms: i64) -> String {
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

/// `20240501T1200Z`: for file names.
pub fn compact(ms: i64) -> String {
    let s = rfc3339(ms);
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

/// Proleptic Gregorian (year, month, day) of days since 1970-01-01
/// (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::parse_time;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_709_164_800_250), "2024-02-29T00:00:00.250Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(compact(1_700_000_000_000), "20231114T2213Z");
        assert_eq!(duration(250), "0.250 s");
        assert_eq!(duration(0), "00:00:00");
        assert_eq!(duration(3_723_000), "01:02:03");
        assert_eq!(duration(90_061_000), "1d 01:01:01");
    }

    #[test]
    fn round_trips_through_the_parser() {
        for ms in [0, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_000] {
            assert_eq!(parse_time(&rfc3339(ms), 0), Ok(ms));
        }
    }
}
