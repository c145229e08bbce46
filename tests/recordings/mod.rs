//! Support for the golden tests over real-device recordings: finding the
//! fetched snmpsim-data files, turning `.snmprec` lines (`OID|TYPE|VALUE`)
//! into `async_snmp::VarBind`s, and reading the hand-written `.expected`
//! files. Malformed lines are skipped and counted, never trusted.
#![allow(dead_code)]
use async_snmp::{Oid, Value, VarBind};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where `tests/fetch-recordings.sh` puts the unpacked recordings
/// (`NOCMAP_RECORDINGS` overrides it).
pub fn recordings_root() -> PathBuf {
    match std::env::var_os("NOCMAP_RECORDINGS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/recordings"),
    }
}

pub fn data_dir() -> PathBuf {
    recordings_root().join("data")
}

/// Skip loudly when the recordings were not fetched; CI fetches them first.
#[macro_export]
macro_rules! require_recordings {
    () => {
        if !recordings::data_dir().join(".complete-1.0.1").exists() {
            eprintln!("SKIPPED: recordings not fetched; run tests/fetch-recordings.sh");
            return;
        }
    };
}

/// The recording's path, e.g. `network/switch/cisco-c3750`.
pub fn recording_path(rel: &str) -> PathBuf {
    data_dir().join(format!("{rel}.snmprec"))
}

/// A parsed recording: the varbinds in file order and the lines skipped.
#[derive(Debug, Default)]
pub struct Recording {
    pub varbinds: Vec<VarBind>,
    pub skipped: Vec<String>,
}

pub fn load(rel: &str) -> Recording {
    let path = recording_path(rel);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_snmprec(&String::from_utf8_lossy(&bytes))
}

pub fn parse_snmprec(text: &str) -> Recording {
    let mut r = Recording::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Some(vb) => r.varbinds.push(vb),
            None => r.skipped.push(line.to_string()),
        }
    }
    r
}

/// One `OID|TYPE|VALUE` line. TYPE is the BER tag in decimal, with `x` when
/// the value is hex; a `:module` suffix (snmpsim variation modules) is not a
/// plain value and is rejected, like any other malformed line.
pub fn parse_line(line: &str) -> Option<VarBind> {
    let mut parts = line.splitn(3, '|');
    let (oid, tag, value) = (parts.next()?, parts.next()?, parts.next()?);
    let oid = Oid::parse(oid.trim()).ok()?;
    if oid.arcs().len() < 2 {
        return None;
    }
    let (tag, is_hex) = match tag.strip_suffix('x') {
        Some(t) => (t, true),
        None => (tag, false),
    };
    let tag: u32 = tag.parse().ok()?;
    let raw = || -> Option<Vec<u8>> {
        if is_hex {
            hex(value)
        } else {
            Some(value.as_bytes().to_vec())
        }
    };
    let num = |v: &str| -> Option<u64> { v.trim().parse().ok() };
    let value = match tag {
        2 if !is_hex => Value::Integer(value.trim().parse().ok()?),
        4 => Value::OctetString(Bytes::from(raw()?)),
        5 => Value::Null,
        6 if !is_hex => Value::ObjectIdentifier(Oid::parse(value.trim()).ok()?),
        64 => {
            let b: [u8; 4] = if is_hex {
                hex(value)?.try_into().ok()?
            } else {
                let a: std::net::Ipv4Addr = value.trim().parse().ok()?;
                a.octets()
            };
            Value::IpAddress(b)
        }
        65 if !is_hex => Value::Counter32(u32::try_from(num(value)?).ok()?),
        66 if !is_hex => Value::Gauge32(u32::try_from(num(value)?).ok()?),
        67 if !is_hex => Value::TimeTicks(u32::try_from(num(value)?).ok()?),
        68 => Value::Opaque(Bytes::from(raw()?)),
        70 if !is_hex => Value::Counter64(num(value)?),
        _ => return None,
    };
    Some(VarBind::new(oid, value))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A hand-written expectation file: `key = value` lines for the device, then
/// blocks starting with a bare `lldp` or `cdp` line, each holding the
/// `key = value` fields of one expected neighbour. `#` starts a comment line.
/// Values are trimmed; wrap one in double quotes to keep its edge spaces
/// (the outer pair is removed, nothing inside is unescaped).
#[derive(Debug, Default)]
pub struct Expected {
    pub device: BTreeMap<String, String>,
    pub neighbors: Vec<(String, BTreeMap<String, String>)>,
}

pub fn load_expected(name: &str) -> Expected {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/recordings")
        .join(format!("{name}.expected"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_expected(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn parse_expected(text: &str) -> Result<Expected, String> {
    let mut e = Expected::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "lldp" || line == "cdp" {
            e.neighbors.push((line.to_string(), BTreeMap::new()));
            continue;
        }
        let Some((k, v)) = line.split_once(" = ") else {
            return Err(format!("line {}: expected `key = value`: {line}", n + 1));
        };
        let map = match e.neighbors.last_mut() {
            Some((_, m)) => m,
            None => &mut e.device,
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v);
        if map.insert(k.trim().to_string(), v.to_string()).is_some() {
            return Err(format!("line {}: duplicate key {k}", n + 1));
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_recorded_type() {
        let r = parse_snmprec(
            "1.3.6.1.2.1.1.5.0|4|sw-1\n\
             1.3.6.1.2.1.1.1.0|4x|41420a00\n\
             1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.516\n\
             1.3.6.1.2.1.1.3.0|67|3896978921\n\
             1.3.6.1.2.1.2.2.1.1.1|2|-5\n\
             1.3.6.1.2.1.4.20.1.1.10.3.41.254|64x|0a0329fe\n\
             1.3.6.1.2.1.4.20.1.3.10.3.41.254|64|255.255.255.0\n\
             1.3.6.1.2.1.2.2.1.10.1|65|4294967295\n\
             1.3.6.1.2.1.2.2.1.5.1|66|1000\n\
             1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n\
             1.3.6.1.4.1.2021.10.1.6.1|68x|0906\n\
             1.3.6.1.2.1.1.9.0|5|\n",
        );
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        let v: Vec<&Value> = r.varbinds.iter().map(|v| &v.value).collect();
        assert_eq!(v[0], &Value::OctetString(Bytes::from_static(b"sw-1")));
        assert_eq!(v[1], &Value::OctetString(Bytes::from_static(b"AB\n\0")));
        assert_eq!(v[3], &Value::TimeTicks(3896978921));
        assert_eq!(v[4], &Value::Integer(-5));
        assert_eq!(v[5], &Value::IpAddress([10, 3, 41, 254]));
        assert_eq!(v[6], &Value::IpAddress([255, 255, 255, 0]));
        assert_eq!(v[9], &Value::Counter64(u64::MAX));
        assert_eq!(v[10], &Value::Opaque(Bytes::from_static(&[9, 6])));
        assert_eq!(v[11], &Value::Null);
    }

    #[test]
    fn skips_malformed_lines() {
        let r = parse_snmprec(
            "# header\n\
             1.3.6.1.2.1.1.3.0|67:numeric|rate=100\n\
             1.3.6.1.2.1.1.5.0|4x|abc\n\
             1.3.6.1.2.1.1.5.0|4x|zz\n\
             1.3.6.1.2.1.1.3.0|67|-1\n\
             1.3.6.1.2.1.2.2.1.1.1|2|99999999999\n\
             not-an-oid|4|x\n\
             1.3.6.1.2.1.1.5.0|4\n\
             1.3.6.1.2.1.4.20.1.1.1.2.3.4|64|1.2.3\n\
             1.3.6.1.2.1.1.5.0|99|x\n\
             1.3.6.1.2.1.1.5.0|4|ok|with bar\n",
        );
        assert_eq!(r.skipped.len(), 9, "{:?}", r.skipped);
        assert_eq!(r.varbinds.len(), 1);
        assert_eq!(
            r.varbinds[0].value,
            Value::OctetString(Bytes::from_static(b"ok|with bar"))
        );
    }

    #[test]
    fn expected_files_keep_quoted_spaces_and_reject_junk() {
        let e = parse_expected("# c\nsys_name = sw\n\nlldp\n  port_desc = \"Gi \"\n  x = \"a\n")
            .unwrap();
        assert_eq!(e.device["sys_name"], "sw");
        assert_eq!(e.neighbors[0].1["port_desc"], "Gi ");
        assert_eq!(e.neighbors[0].1["x"], "\"a");
        assert!(parse_expected("sys_name sw\n").is_err());
        assert!(parse_expected("a = 1\na = 2\n").is_err());
    }
}
