//! Time values in query strings: a duration back from now (`90s`, `15m`,
//! `6h`, `2d`, `1w`), `now`, or an RFC 3339 timestamp
//! (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`). Pure: the
//! caller passes the current time.
use super::calendar::{days_from_civil, days_in_month};
use crate::types::UnixMillis;

/// Why a time value was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a time: use a duration back from now (30s, 15m, 6h, 2d, 1w), `now`, or RFC 3339 (2024-05-01T12:00:00Z)"
)]
pub struct TimeParamError(pub String);

/// `text` as a wall time, durations counted back from `now_ms`.
pub fn parse_time(text: &str, now_ms: UnixMillis) -> Result<UnixMillis, TimeParamError> {
    let err = || TimeParamError(text.chars().take(64).collect());
    if text == "now" {
        return Ok(now_ms);
    }
    // `15m` and `-15m` both mean fifteen minutes ago.
    if let Some(ms) = parse_duration_ms(text.strip_prefix('-').unwrap_or(text)) {
        return Ok(UnixMillis(now_ms.0.saturating_sub(ms)));
    }
    parse_rfc3339_ms(text).ok_or_else(err)
}

/// `<digits><unit>` with unit s, m, h, d or w.
fn parse_duration_ms(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let unit_ms: i64 = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 604_800_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `T` may be `t` or a space.
pub fn parse_rfc3339_ms(text: &str) -> Option<UnixMillis> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse::<i64>().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || ob[3] != b':' {
                return None;
            }
            let sign = match ob[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let two = |r: std::ops::Range<usize>| -> Option<i64> {
                let s = rest.get(r)?;
                s.bytes()
                    .all(|c| c.is_ascii_digit())
                    .then(|| s.parse().ok())?
            };
            let (h, m) = (two(1..3)?, two(4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60;
    Some(UnixMillis(secs * 1_000 + millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMillis = UnixMillis(1_700_000_000_000);

    #[test]
    fn durations_and_now() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("90s", NOW), Ok(NOW - 90_000));
        assert_eq!(parse_time("15m", NOW), Ok(NOW - 900_000));
        assert_eq!(parse_time("2d", NOW), Ok(NOW - 172_800_000));
        assert_eq!(parse_time("-15m", NOW), Ok(NOW - 900_000));
        assert!(parse_time("--15m", NOW).is_err());
        assert_eq!(parse_time("1w", NOW), Ok(NOW - 604_800_000));
        for bad in ["", "m", "5x", "5 m", "1.5h", "99999999999999999999h", "5é"] {
            assert!(parse_time(bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_text() {
        // `date -u -d 2023-11-14T22:13:20Z +%s` = 1700000000
        assert_eq!(parse_time("2023-11-14T22:13:20Z", UnixMillis(0)), Ok(NOW));
        assert_eq!(
            parse_time("2023-11-15T00:13:20.5+02:00", UnixMillis(0)),
            Ok(NOW + 500)
        );
        assert_eq!(
            parse_time("2023-11-14 20:13:20.123456-02:00", UnixMillis(0)),
            Ok(NOW + 123)
        );
        assert_eq!(
            parse_time("1970-01-01T00:00:00Z", UnixMillis(5)),
            Ok(UnixMillis(0))
        );
        assert_eq!(
            parse_time("2024-02-29T00:00:00Z", UnixMillis(0)),
            Ok(UnixMillis(1_709_164_800_000))
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20+0200",
            "2023-11-14T22:13:20.Z",
            "2023-11-14X22:13:20Z",
            "+023-11-14T22:13:20Z",
            "2023-11-14T22:13:20+-1:00",
        ] {
            assert!(parse_time(bad, UnixMillis(0)).is_err(), "{bad}");
        }
    }
}
