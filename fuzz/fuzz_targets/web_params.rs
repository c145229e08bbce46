//! Fuzz target: the pure parsers that take HTTP input in `nocmap serve`.
//! The input is read as a query string (`k=v&k=v`, each part through the
//! server's `percent_decode`) and goes to the series `parse_query` (both
//! interface and probe series), each value to `parse_time`, and the whole
//! input as a `/api/map/positions` JSON body through serde and
//! `check_positions`. Nothing may panic; accepted values must make sense:
//! a query's `since` is before its `until`, a duration lies at or before
//! now, an RFC 3339 time lies within years 0000..=9999 (± a day of offset),
//! positions that pass the check are finite and within bounds, and
//! `percent_decode` inverts a full `%XX` encoding of any UTF-8 text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::server::{Positions, SeriesOf, check_positions, parse_query, percent_decode};
use nocmap::types::UnixMillis;
use nocmap::util::time::parse_time;
use std::collections::HashMap;

/// 0000-01-01T00:00:00Z minus a day and 9999-12-31T23:59:60.999Z plus a day.
const EARLIEST_MS: i64 = -62_167_219_200_000 - 86_400_000;
const LATEST_MS: i64 = 253_402_300_800_999 + 86_400_000;

fn check_time(text: &str, now_ms: UnixMillis) {
    let Ok(t) = parse_time(text, now_ms) else {
        return;
    };
    let bare = text.strip_prefix('-').unwrap_or(text);
    let is_duration = bare.len() > 1
        && bare.ends_with(['s', 'm', 'h', 'd', 'w'])
        && bare[..bare.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if text == "now" {
        assert_eq!(t, now_ms);
    } else if is_duration {
        assert!(t <= now_ms, "{text:?} -> {t:?} after now {now_ms:?}");
    } else {
        assert!(
            (EARLIEST_MS..=LATEST_MS).contains(&t.0),
            "{text:?} -> {t:?}"
        );
    }
}

fn encode_all(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<8>() else {
        return;
    };
    let now_ms = UnixMillis(i64::from_le_bytes(*head));
    let text = String::from_utf8_lossy(body);

    // The positions body, exactly as warp hands it to serde.
    if let Ok(p) = serde_json::from_slice::<Positions>(body)
        && check_positions(&p).is_ok()
    {
        assert!(p.positions.len() <= 10_000);
        for (id, pos) in &p.positions {
            assert!(!id.is_empty() && id.len() <= 512);
            assert!(pos.x.is_finite() && pos.y.is_finite());
            assert!(pos.x.abs() <= 1e7 && pos.y.abs() <= 1e7);
        }
    }

    if let Some(decoded) = percent_decode(&text) {
        assert!(decoded.len() <= text.len());
        assert_eq!(
            percent_decode(&encode_all(&decoded)).as_deref(),
            Some(&*decoded)
        );
    }
    assert_eq!(percent_decode(&encode_all(&text)).as_deref(), Some(&*text));

    check_time(&text, now_ms);
    let mut params = HashMap::new();
    for pair in text.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (percent_decode(k), percent_decode(v)) else {
            continue;
        };
        check_time(&v, now_ms);
        params.insert(k, v);
    }
    for of in [SeriesOf::Interface, SeriesOf::Probe] {
        if let Ok(q) = parse_query(&params, now_ms, of) {
            assert!(q.since_ms < q.until_ms);
            assert!(!q.metric.is_empty());
        }
    }
});
