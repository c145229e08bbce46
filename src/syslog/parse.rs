//! One syslog message's bytes → [`SyslogMessage`]. Pure: the receive time
//! is handed in (RFC 3164 times carry no year). RFC 5424 when the header
//! says version 1 and reads as one, else RFC 3164 with what devices really
//! send: no hostname, an ISO timestamp, a Cisco sequence number and `*`
//! before the time, milliseconds, no TAG, no PRI at all (then `user.notice`,
//! RFC 3164 §4.3.3). A BOM before MSG is removed, bytes that are not UTF-8
//! are replaced, every field is bounded. Never panics on any bytes.
use super::message::{Facility, Format, SyslogMessage, SyslogSeverity as Severity};
use crate::types::UnixMillis;
use crate::util::time::parse_rfc3339_ms;
use crate::util::time::{civil_from_days, days_from_civil};

/// Bytes of MSG kept (cut at a character boundary).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Bytes of HOSTNAME, APP-NAME, PROCID or MSGID kept.
pub const MAX_FIELD_BYTES: usize = 255;
/// Bytes of STRUCTURED-DATA kept.
pub const MAX_SD_BYTES: usize = 2 * 1024;
/// PRI when a message has none (user.notice).
const DEFAULT_PRI: u8 = 13;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why bytes are no syslog message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("PRI is not <0> to <191>")]
    BadPri,
}

impl ParseError {
    pub fn as_str(self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::BadPri => "bad_pri",
        }
    }
}

/// Parses one message received at `received`.
pub fn parse(bytes: &[u8], received: UnixMillis) -> Result<SyslogMessage, ParseError> {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r' | b'\0'))
        .map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let (pri, rest) = pri(bytes)?;
    let facility = Facility::new(pri >> 3).unwrap_or(Facility::new(1).expect("user"));
    let severity = Severity::from_code(pri & 7).unwrap_or(Severity::Notice);
    let mut m = rest
        .strip_prefix(b"1 ")
        .and_then(rfc5424)
        .unwrap_or_else(|| rfc3164(rest, received));
    m.facility = facility;
    m.severity = severity;
    Ok(m)
}

fn pri(b: &[u8]) -> Result<(u8, &[u8]), ParseError> {
    let Some(after) = b.strip_prefix(b"<") else {
        return Ok((DEFAULT_PRI, b));
    };
    let digits = after.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=3).contains(&digits) || after.get(digits) != Some(&b'>') {
        return Err(ParseError::BadPri);
    }
    let n: u32 = after[..digits]
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d - b'0'));
    let n = u8::try_from(n)
        .ok()
        .filter(|n| *n <= 191)
        .ok_or(ParseError::BadPri)?;
    Ok((n, &after[digits + 1..]))
}

/// Bytes up to the first space, and what follows it.
fn token(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|c| *c == b' ') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

/// Lossy text of at most `max` bytes, cut at a character boundary.
fn text(b: &[u8], max: usize) -> String {
    let mut s = String::from_utf8_lossy(&b[..b.len().min(max + 3)]).into_owned();
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn field(b: &[u8]) -> Option<String> {
    (!b.is_empty() && b != b"-").then(|| text(b, MAX_FIELD_BYTES))
}

fn message(b: &[u8]) -> String {
    text(b.strip_prefix(BOM).unwrap_or(b), MAX_MESSAGE_BYTES)
}

fn empty(format: Format) -> SyslogMessage {
    SyslogMessage {
        format,
        facility: Facility::new(1).expect("user"),
        severity: Severity::Notice,
        timestamp: None,
        host: None,
        app: None,
        procid: None,
        msgid: None,
        structured_data: None,
        message: String::new(),
    }
}

/// RFC 5424 after `1 `: None when the header does not read as one.
fn rfc5424(b: &[u8]) -> Option<SyslogMessage> {
    let (ts, b) = token(b);
    let timestamp = match ts {
        b"-" => None,
        _ => Some(parse_rfc3339_ms(std::str::from_utf8(ts).ok()?)?),
    };
    let mut m = empty(Format::Rfc5424);
    m.timestamp = timestamp;
    let (host, b) = token(b);
    let (app, b) = token(b);
    let (procid, b) = token(b);
    let (msgid, b) = token(b);
    m.host = field(host);
    m.app = field(app);
    m.procid = field(procid);
    m.msgid = field(msgid);
    let rest = match b.first() {
        Some(b'-') => &b[1..],
        Some(b'[') => {
            let n = structured_data_len(b);
            m.structured_data = Some(text(&b[..n], MAX_SD_BYTES));
            &b[n..]
        }
        _ => b,
    };
    m.message = message(rest.strip_prefix(b" ").unwrap_or(rest));
    Some(m)
}

/// The length of the SD-ELEMENTs at the start of `b` (all of it when one
/// is never closed): `]` inside a quoted value, or escaped, closes nothing.
fn structured_data_len(b: &[u8]) -> usize {
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut quoted = false;
        i += 1;
        loop {
            match b.get(i) {
                None => return b.len(),
                Some(b'\\') if quoted => i += 2,
                Some(b'"') => {
                    quoted = !quoted;
                    i += 1;
                }
                Some(b']') if !quoted => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
    }
    i.min(b.len())
}

/// RFC 3164 and its real-world relatives; always gives a message.
fn rfc3164(b: &[u8], received: UnixMillis) -> SyslogMessage {
    let mut m = empty(Format::Rfc3164);
    let mut b = b.strip_prefix(BOM).unwrap_or(b);
    // A Cisco sequence number: `123: `.
    let seq = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if seq > 0 && b[seq..].starts_with(b": ") {
        b = &b[seq + 2..];
    }
    if let Some((t, rest)) = iso_time(b).or_else(|| bsd_time(b, received)) {
        m.timestamp = Some(t);
        b = rest;
        let (host, rest) = token(b);
        if is_hostname(host) && !rest.is_empty() {
            m.host = field(host);
            b = rest;
        }
    }
    if let Some((app, procid, rest)) = tag(b) {
        m.app = field(app);
        m.procid = procid.and_then(field);
        b = rest;
    }
    m.message = message(b);
    m
}

fn iso_time(b: &[u8]) -> Option<(UnixMillis, &[u8])> {
    let (ts, rest) = token(b);
    let t = parse_rfc3339_ms(std::str::from_utf8(ts).ok()?)?;
    Some((t, rest))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// `Mmm dd [yyyy ]hh:mm:ss[.fff][ yyyy][:]`, after an optional `*` or `.`
/// (Cisco's unsynchronised marks); a missing year is the one that puts
/// the time closest to `received`.
fn bsd_time(b: &[u8], received: UnixMillis) -> Option<(UnixMillis, &[u8])> {
    let b = b
        .strip_prefix(b"*")
        .or_else(|| b.strip_prefix(b"."))
        .unwrap_or(b);
    let mon = b.get(..3)?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| m[..] == mon[..])? as i64 + 1;
    let mut c = Cursor(&b[3..]);
    if c.spaces() == 0 {
        return None;
    }
    let day = c.number(1, 2)?;
    if c.spaces() == 0 {
        return None;
    }
    // A year before the time (`Dec  6 2025 10:00:00`, Cisco's `year`).
    let mut year = None;
    if c.0.get(4) == Some(&b' ') {
        year = Some(c.number(4, 4)?);
        c.spaces();
    }
    let hour = c.number(2, 2)?;
    c.byte(b':')?;
    let minute = c.number(2, 2)?;
    c.byte(b':')?;
    let second = c.number(2, 2)?;
    let mut millis = 0;
    if c.byte(b'.').is_some() {
        let digits = c.0.iter().take_while(|d| d.is_ascii_digit()).count();
        let kept = &c.0[..digits.min(3)];
        millis = kept.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'));
        millis *= 10_i64.pow(3 - kept.len() as u32);
        c.0 = &c.0[digits..];
    }
    let save = c.0;
    if year.is_none() && c.spaces() == 1 {
        match c.number(4, 4) {
            Some(y) if matches!(c.0, [] | [b' ', ..] | [b':'] | [b':', b' ', ..]) => year = Some(y),
            _ => c.0 = save,
        }
    } else {
        c.0 = save;
    }
    // Some devices end the time with `:` (`… 00:00:00.123: %LINK-…`).
    let _ = c.byte(b':');
    if hour > 23 || minute > 59 || second > 60 || !(1..=31).contains(&day) {
        return None;
    }
    let at = |y: i64| {
        let days = days_from_civil(y, month, day);
        UnixMillis((days * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000 + millis)
    };
    let t = match year {
        Some(y) => at(y),
        None => {
            let now_year = civil_from_days(received.0.div_euclid(86_400_000)).0;
            [now_year - 1, now_year, now_year + 1]
                .into_iter()
                .map(at)
                .min_by_key(|t| (t.0 - received.0).unsigned_abs())?
        }
    };
    let rest = c.0.strip_prefix(b" ").unwrap_or(c.0);
    Some((t, rest))
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn spaces(&mut self) -> usize {
        let n = self.0.iter().take_while(|c| **c == b' ').count();
        self.0 = &self.0[n..];
        n
    }

    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let n = self
            .0
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let v = self.0[..n]
            .iter()
            .fold(0, |v, d| v * 10 + i64::from(d - b'0'));
        self.0 = &self.0[n..];
        Some(v)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[want])?;
        self.0 = rest;
        Some(())
    }
}

/// A HOSTNAME as RFC 3164 senders write one: a name or an address, not a
/// TAG (`sshd[12]:`, `kernel:`) and not a Cisco mnemonic (`%LINK-3-…`).
fn is_hostname(t: &[u8]) -> bool {
    !t.is_empty()
        && t.len() <= MAX_FIELD_BYTES
        && !t.ends_with(b":")
        && t.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':'))
}

/// A TAG read: the app, the pid if any, and the bytes after `: `.
type Tag<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

/// `TAG[PID]: ` or `TAG: ` (TAG at most 48 name characters).
fn tag(b: &[u8]) -> Option<Tag<'_>> {
    let n = b
        .iter()
        .take(49)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
        .count();
    if n == 0 || n > 48 {
        return None;
    }
    let (app, mut rest) = b.split_at(n);
    let mut procid = None;
    if let Some(after) = rest.strip_prefix(b"[") {
        let close = after.iter().take(129).position(|c| *c == b']')?;
        procid = Some(&after[..close]);
        rest = &after[close + 1..];
    }
    let rest = rest.strip_prefix(b":")?;
    Some((app, procid, rest.strip_prefix(b" ").unwrap_or(rest)))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
