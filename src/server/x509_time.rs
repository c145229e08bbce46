//! The end of a certificate's validity (`notAfter`), read from its DER
//! bytes: just enough of X.509 (RFC 5280 section 4.1) to walk from the
//! outer SEQUENCE through `tbsCertificate` to `validity`. Pure; anything
//! malformed gives `None`, never a panic.
use crate::util::time::{days_from_civil, days_in_month};

/// One DER element at `at`: its tag, and where its content starts and ends.
fn element(buf: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *buf.get(at)?;
    let first = *buf.get(at + 1)?;
    let (len, start) = if first < 0x80 {
        (usize::from(first), at + 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = buf.get(at + 2..at + 2 + n)?;
        let len = bytes.iter().fold(0usize, |l, b| (l << 8) | usize::from(*b));
        (len, at + 2 + n)
    };
    let end = start.checked_add(len)?;
    (end <= buf.len()).then_some((tag, start, end))
}

/// `notAfter` of a DER certificate, in seconds since the Unix epoch.
pub fn not_after(der: &[u8]) -> Option<i64> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = element(der, 0)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, mut at, tbs_end) = element(der, cert)?;
    if tag != SEQUENCE {
        return None;
    }
    // [0] version (optional), serialNumber, signature, issuer, validity.
    let (tag, _, end) = element(der, at)?;
    if tag == 0xa0 {
        at = end;
    }
    for _ in 0..3 {
        at = element(der, at)?.2;
    }
    let (tag, validity, _) = element(der, at)?;
    if tag != SEQUENCE || at >= tbs_end {
        return None;
    }
    let not_before_end = element(der, validity)?.2;
    let (tag, start, end) = element(der, not_before_end)?;
    parse_time(tag, &der[start..end])
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`, tag 0x18), as RFC 5280 requires them: UTC, seconds,
/// no fraction.
fn parse_time(tag: u8, text: &[u8]) -> Option<i64> {
    let digits = match (tag, text.len()) {
        (0x17, 13) | (0x18, 15) => &text[..text.len() - 1],
        _ => return None,
    };
    if text.last() != Some(&b'Z') || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| s.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    let (year, rest) = if tag == 0x17 {
        let yy = num(&digits[..2]);
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
    } else {
        (num(&digits[..4]), &digits[4..])
    };
    let [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map(|i| num(&rest[i..i + 2]));
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_time_forms() {
        assert_eq!(parse_time(0x17, b"261123194000Z"), Some(1_795_462_800));
        assert_eq!(parse_time(0x18, b"20261123194000Z"), Some(1_795_462_800));
        assert_eq!(parse_time(0x17, b"500101000000Z"), Some(-631_152_000));
        assert_eq!(parse_time(0x17, b"261323194000Z"), None);
        assert_eq!(parse_time(0x17, b"270229000000Z"), None);
        assert_eq!(parse_time(0x18, b"20280229000000Z"), Some(1_835_395_200));
        assert_eq!(parse_time(0x17, b"2611231940Z"), None);
        assert_eq!(parse_time(0x18, b"20261123194000+0100"), None);
    }

    /// A certificate cut down to what the walk reads.
    fn cert(not_after: &[u8]) -> Vec<u8> {
        let tlv = |tag: u8, body: &[u8]| {
            let mut v = vec![tag, body.len() as u8];
            v.extend_from_slice(body);
            v
        };
        let validity = [tlv(0x17, b"261101000000Z"), tlv(0x17, not_after)].concat();
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1, 2, 3]),
            tlv(0x30, &[]),
            tlv(0x30, &tlv(0x31, &[])),
            tlv(0x30, &validity),
        ]
        .concat();
        tlv(0x30, &[tlv(0x30, &tbs), tlv(0x30, &[])].concat())
    }

    #[test]
    fn walks_to_not_after_and_survives_every_cut() {
        let c = cert(b"261123194000Z");
        assert_eq!(not_after(&c), Some(1_795_462_800));
        for n in 0..c.len() {
            assert_eq!(not_after(&c[..n]), None, "cut at {n}");
        }
        let mut bad = c.clone();
        for i in 0..bad.len() {
            let keep = bad[i];
            for b in [0x00, 0x30, 0x7f, 0x80, 0x84, 0xff] {
                bad[i] = b;
                let _ = not_after(&bad);
            }
            bad[i] = keep;
        }
    }
}
