//! Text rendering of varbinds in net-snmp's `snmpwalk -On` style (no MIBs
//! loaded), so our output can be compared line for line with net-snmp's.
//! Pure functions; no I/O.
use async_snmp::{Value, VarBind};
use std::fmt::Write;

/// `.1.3.6.1.2.1.1.5.0 = STRING: "name"`
pub fn format_varbind(vb: &VarBind) -> String {
    format!(".{} = {}", vb.oid, format_value(&vb.value))
}

/// The right-hand side of a varbind line: `TYPE: value`.
pub fn format_value(v: &Value) -> String {
    match v {
        Value::Integer(i) => format!("INTEGER: {i}"),
        Value::OctetString(b) => octets(b),
        Value::Null => "NULL".to_string(),
        Value::ObjectIdentifier(o) => format!("OID: .{o}"),
        Value::IpAddress(a) => format!("IpAddress: {}.{}.{}.{}", a[0], a[1], a[2], a[3]),
        Value::Counter32(n) => format!("Counter32: {n}"),
        Value::Gauge32(n) => format!("Gauge32: {n}"),
        Value::UInteger32(n) => format!("UInteger32: {n}"),
        Value::TimeTicks(t) => format!("Timeticks: ({t}) {}", uptime(*t)),
        Value::Opaque(b) => format!("OPAQUE: {}", hex(b)),
        Value::Nsap(b) => format!("NsapAddress: {}", hex(b)),
        Value::Counter64(n) => format!("Counter64: {n}"),
        Value::NoSuchObject => "No Such Object available on this agent at this OID".to_string(),
        Value::NoSuchInstance => "No Such Instance currently exists at this OID".to_string(),
        Value::EndOfMibView => {
            "No more variables left in this MIB View (It is past the end of the MIB tree)"
                .to_string()
        }
        Value::Unknown { tag, data } => format!("Unknown(tag 0x{tag:02X}): {}", hex(data)),
        // The library's enum is non-exhaustive; name whatever a newer version adds.
        other => format!("{:?}", other.kind()),
    }
}

fn printable(c: u8) -> bool {
    // C's isprint() || isspace() in the "C" locale.
    (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn octets(b: &[u8]) -> String {
    if b.is_empty() {
        return "\"\"".to_string();
    }
    if !b.iter().all(|&c| printable(c)) {
        return format!("Hex-STRING: {}", hex(b));
    }
    let mut s = String::with_capacity(b.len() + 10);
    s.push_str("STRING: \"");
    for &c in b {
        match c {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(c as char);
            }
            0x20..=0x7e => s.push(c as char),
            _ => s.push('.'),
        }
    }
    s.push('"');
    s
}

/// Upper-case hex pairs, each followed by a space, a newline after every 16.
fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3 + b.len() / 16);
    for (i, c) in b.iter().enumerate() {
        if i > 0 && i % 16 == 0 {
            s.push('\n');
        }
        let _ = write!(s, "{c:02X} ");
    }
    s
}

fn uptime(ticks: u32) -> String {
    let cs = ticks % 100;
    let mut t = ticks / 100;
    let days = t / 86_400;
    t %= 86_400;
    let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60);
    match days {
        0 => format!("{h}:{m:02}:{sec:02}.{cs:02}"),
        1 => format!("1 day, {h}:{m:02}:{sec:02}.{cs:02}"),
        d => format!("{d} days, {h}:{m:02}:{sec:02}.{cs:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn like_net_snmp() {
        assert_eq!(
            format_value(&Value::OctetString(Bytes::from_static(b"lo"))),
            "STRING: \"lo\""
        );
        assert_eq!(format_value(&Value::OctetString(Bytes::new())), "\"\"");
        assert_eq!(
            format_value(&Value::OctetString(Bytes::from_static(&[
                0x5a, 0x31, 0x53, 0x34, 0x6b, 0x9a
            ]))),
            "Hex-STRING: 5A 31 53 34 6B 9A "
        );
        let seventeen: Vec<u8> = (0..17).map(|i| if i == 0 { 0x80 } else { 0 }).collect();
        assert_eq!(
            format_value(&Value::OctetString(Bytes::from(seventeen))),
            "Hex-STRING: 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \n00 "
        );
        assert_eq!(
            format_value(&Value::TimeTicks(105)),
            "Timeticks: (105) 0:00:01.05"
        );
        assert_eq!(
            format_value(&Value::TimeTicks(8_640_000 + 366)),
            "Timeticks: (8640366) 1 day, 0:00:03.66"
        );
        assert_eq!(
            format_value(&Value::TimeTicks(3 * 8_640_000)),
            "Timeticks: (25920000) 3 days, 0:00:00.00"
        );
        assert_eq!(format_value(&Value::Gauge32(10)), "Gauge32: 10");
        assert_eq!(
            format_value(&Value::OctetString(Bytes::from_static(b"a\"b"))),
            "STRING: \"a\\\"b\""
        );
    }
}
