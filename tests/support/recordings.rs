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
/// (Textual scope, like `require_root!`.)
macro_rules! require_recordings {
    () => {
        if !support::recordings::data_dir()
            .join(".complete-1.0.1")
            .exists()
        {
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

/// The lines of a recording in numeric OID order: what an agent must
/// return, and what snmpsim (which answers in file order) needs, since some
/// recordings are not sorted.
pub fn sorted_snmprec(text: &str) -> String {
    let mut lines: Vec<(Vec<u64>, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let oid = l.split('|').next().unwrap_or("");
            (oid.split('.').map(|a| a.parse().unwrap_or(0)).collect(), l)
        })
        .collect();
    lines.sort();
    lines.iter().map(|(_, l)| format!("{l}\n")).collect()
}
