use super::*;
use crate::types::syslog::SyslogSeverity as Severity;
use crate::util::time::parse_rfc3339_ms;
use proptest::prelude::*;

fn at(s: &str) -> UnixMillis {
    parse_rfc3339_ms(s).unwrap()
}

const NOW: &str = "2026-12-06T10:30:00Z";

fn p(b: &[u8]) -> SyslogMessage {
    parse(b, at(NOW)).unwrap()
}

#[test]
fn rfc5424_as_logger_sends_it() {
    let m = p(b"<13>1 2026-12-06T10:29:59.123456+01:00 r1 alice - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] hello world\n");
    assert_eq!(m.format, Format::Rfc5424);
    assert_eq!(m.facility.as_str(), "user");
    assert_eq!(m.severity, Severity::Notice);
    assert_eq!(m.timestamp, Some(at("2026-12-06T09:29:59.123Z")));
    assert_eq!(m.host.as_deref(), Some("r1"));
    assert_eq!(m.app.as_deref(), Some("alice"));
    assert_eq!(m.procid, None);
    assert_eq!(m.msgid, None);
    assert_eq!(
        m.structured_data.as_deref(),
        Some("[timeQuality tzKnown=\"1\" isSynced=\"0\"]")
    );
    assert_eq!(m.message, "hello world");
}

#[test]
fn rfc5424_fields_structured_data_escapes_and_bom() {
    let m = p(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\\"]\"][b x=\"]\"] \xEF\xBB\xBFAn application event");
    assert_eq!(m.facility.as_str(), "local4");
    assert_eq!(m.severity, Severity::Notice);
    assert_eq!(m.procid.as_deref(), Some("42"));
    assert_eq!(m.msgid.as_deref(), Some("ID47"));
    assert_eq!(
        m.structured_data.as_deref(),
        Some("[exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\\"]\"][b x=\"]\"]")
    );
    assert_eq!(m.message, "An application event");
    // All NILVALUEs, no MSG.
    let m = p(b"<0>1 - - - - - -");
    assert_eq!(m.severity, Severity::Emergency);
    assert_eq!(m.facility.as_str(), "kern");
    assert_eq!((m.timestamp, m.host, m.app), (None, None, None));
    assert_eq!(m.message, "");
}

#[test]
fn rfc3164_classic_with_and_without_hostname() {
    let m = p(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
    assert_eq!(m.format, Format::Rfc3164);
    assert_eq!(m.facility.as_str(), "auth");
    assert_eq!(m.severity, Severity::Critical);
    assert_eq!(m.timestamp, Some(at("2026-10-11T22:14:15Z")));
    assert_eq!(m.host.as_deref(), Some("mymachine"));
    assert_eq!(m.app.as_deref(), Some("su"));
    assert_eq!(m.message, "'su root' failed for lonvick on /dev/pts/8");
    // No hostname: the TAG follows the time.
    let m = p(b"<30>Dec  6 10:29:00 sshd[4242]: Accepted publickey");
    assert_eq!(m.host, None);
    assert_eq!(m.app.as_deref(), Some("sshd"));
    assert_eq!(m.procid.as_deref(), Some("4242"));
    assert_eq!(m.message, "Accepted publickey");
    // logger --rfc3164.
    let m = p(b"<13>Dec  6 10:29:59 r1 root: storm 17");
    assert_eq!(m.host.as_deref(), Some("r1"));
    assert_eq!(m.app.as_deref(), Some("root"));
    assert_eq!(m.message, "storm 17");
}

#[test]
fn rfc3164_year_is_the_closest_one() {
    // Received on 2 January: a 31 December time is last year's.
    let jan = at("2027-01-02T00:00:00Z");
    let m = parse(b"<13>Dec 31 23:59:00 h app: x", jan).unwrap();
    assert_eq!(m.timestamp, Some(at("2026-12-31T23:59:00Z")));
    let m = parse(b"<13>Jan  1 00:00:01 h app: x", at("2026-12-31T23:59:00Z")).unwrap();
    assert_eq!(m.timestamp, Some(at("2027-01-01T00:00:01Z")));
}

#[test]
fn real_world_deviations() {
    // ISO timestamp in 3164 (rsyslog's RFC3339 template).
    let m = p(b"<14>2026-12-06T10:00:00.5+00:00 sw1 kernel: eth0 down");
    assert_eq!(m.format, Format::Rfc3164);
    assert_eq!(m.timestamp, Some(at("2026-12-06T10:00:00.500Z")));
    assert_eq!(m.host.as_deref(), Some("sw1"));
    assert_eq!(m.app.as_deref(), Some("kernel"));
    // Cisco: sequence number, `*` for an unsynchronised clock, ms, `:`.
    let m = p(
        b"<189>123: *Dec  6 10:00:00.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
    );
    assert_eq!(m.facility.as_str(), "local7");
    assert_eq!(m.severity, Severity::Notice);
    assert_eq!(m.timestamp, Some(at("2026-12-06T10:00:00.123Z")));
    assert_eq!(m.host, None);
    assert_eq!(m.app, None);
    assert_eq!(
        m.message,
        "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down"
    );
    // A year before or after the time (some switches).
    let m = p(b"<11>Dec  6 2025 10:00:00 core1 app: y");
    assert_eq!(m.timestamp, Some(at("2025-12-06T10:00:00Z")));
    assert_eq!(m.host.as_deref(), Some("core1"));
    let m = p(b"<11>Dec  6 10:00:00 2025 core1 app: y");
    assert_eq!(m.timestamp, Some(at("2025-12-06T10:00:00Z")));
    assert_eq!(m.host.as_deref(), Some("core1"));
    // No PRI at all: user.notice, all of it content.
    let m = p(b"just text");
    assert_eq!(
        (m.facility.as_str(), m.severity),
        ("user", Severity::Notice)
    );
    assert_eq!(m.message, "just text");
    // No timestamp: no hostname, a TAG still read.
    let m = p(b"<13>myapp: hello");
    assert_eq!((m.timestamp, m.host.as_deref()), (None, None));
    assert_eq!(m.app.as_deref(), Some("myapp"));
    // BOM and bytes that are not UTF-8.
    let m = p(b"<13>Dec  6 10:00:00 h app: \xEF\xBB\xBFcaf\xE9 \xFF<script>");
    assert_eq!(m.message, "caf\u{FFFD} \u{FFFD}<script>");
    // IPv6 sender address as hostname.
    let m = p(b"<13>Dec  6 10:00:00 2001:db8::1 app: v6");
    assert_eq!(m.host.as_deref(), Some("2001:db8::1"));
    // A 5424-looking header with a bad time falls back to 3164.
    let m = p(b"<13>1 yesterday host app - - - msg");
    assert_eq!(m.format, Format::Rfc3164);
}

#[test]
fn refusals() {
    let now = at(NOW);
    assert_eq!(parse(b"", now), Err(ParseError::Empty));
    assert_eq!(parse(b" \r\n\0", now), Err(ParseError::Empty));
    assert_eq!(parse(b"<192>x", now), Err(ParseError::BadPri));
    assert_eq!(parse(b"<1a>x", now), Err(ParseError::BadPri));
    assert_eq!(parse(b"<>x", now), Err(ParseError::BadPri));
    assert_eq!(parse(b"<0013>x", now), Err(ParseError::BadPri));
}

#[test]
fn long_fields_are_cut_on_character_boundaries() {
    let mut b = b"<13>1 - ".to_vec();
    b.extend("é".repeat(300).as_bytes());
    b.extend(b" app - - - ");
    b.extend("€".repeat(5000).as_bytes());
    let m = p(&b);
    let host = m.host.unwrap();
    assert!(host.len() <= MAX_FIELD_BYTES && host.len() >= MAX_FIELD_BYTES - 1);
    assert!(m.message.len() <= MAX_MESSAGE_BYTES && m.message.len() > MAX_MESSAGE_BYTES - 3);
}

proptest! {
    #[test]
    fn any_bytes_parse_or_are_refused_without_panic(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        now in -10_000_000_000_000i64..10_000_000_000_000,
    ) {
        if let Ok(m) = parse(&data, UnixMillis(now)) {
            prop_assert!(m.message.len() <= MAX_MESSAGE_BYTES);
            prop_assert!(m.host.as_ref().is_none_or(|h| h.len() <= MAX_FIELD_BYTES));
            prop_assert!(m.structured_data.as_ref().is_none_or(|s| s.len() <= MAX_SD_BYTES));
        }
    }

    #[test]
    fn headers_of_any_shape_never_panic(
        pri in 0u8..=191,
        head in "[ -~]{0,60}",
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut b = format!("<{pri}>{head}").into_bytes();
        b.extend(tail);
        let m = parse(&b, UnixMillis(0)).unwrap();
        prop_assert_eq!(m.severity.code(), pri & 7);
        prop_assert_eq!(m.facility.code(), pri >> 3);
    }
}
