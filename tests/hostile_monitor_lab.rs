//! The whole monitor against hostile agents: the real `nocmap serve` binary,
//! in a network namespace with only `lo` (no route out), polls a real
//! net-snmp snmpd beside eleven hand-rolled agents on 127.0.0.2-12, each with
//! its own fault: a 100,000-row ifTable/ifXTable, hostile strings (HTML/JS,
//! control characters, invalid UTF-8, 65,000-byte values), wrong request
//! ids, answers from another address of the device and from a stranger's
//! address, garbled/truncated datagrams,
//! oversized responses, answers after most of the timeout, a looping walk,
//! an endless walk, and silence. The agents that must show a fault while
//! polled answer properly during discovery and turn hostile once the API is
//! up (discovery done), so each is a device in `/api/devices`.
//!
//! Checked over the run: serve answers `/healthz` and stays alive; its RSS
//! stays under a bound (printed); the snmpd device's data equals what
//! snmpget/snmpwalk say; every hostile device reports its own fault (a
//! partial-walk reason from discovery or the poller's `snmp_error`) and the
//! healthy one none; hostile strings come back through the JSON API as valid,
//! escaped JSON, capped in length; SIGTERM still ends serve cleanly.
mod netns;
use async_snmp::message::CommunityMessage;
use async_snmp::{DecodeConfig, Oid, Pdu, PduBody, StandardPduType, Value, VarBind};
use netns::Netns;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::net::UdpSocket;
use std::ops::Bound;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NS: &str = "hzhostile";
const API: &str = "127.0.0.1:18089";
const HUGE_ROWS: u32 = 100_000;
/// The agents' "slow" delay against serve's 2 s timeout.
const SLOW_MS: u64 = 1_300;
/// What serve's walks are capped at (`SnmpSettings::max_walk_varbinds`).
const WALK_CAP: usize = 500_000;
/// The cap on device strings (`discovery::table::MAX_TEXT_BYTES`).
const TEXT_CAP: usize = nocmap::discovery::table::MAX_TEXT_BYTES;
/// Interfaces kept per device (`discovery::parse_device::MAX_INTERFACES`).
const MAX_INTERFACES: usize = nocmap::discovery::parse_device::MAX_INTERFACES;
/// Bounds on serve's resident memory (debug build). Peak: discovery holds
/// the endless walk's 500,000 rows (measured with only that agent: 218 MiB
/// peak) and the huge table's 900,000 varbinds (only that agent: 327 MiB)
/// at once; measured together 504 MiB. 768 MiB leaves half again for the
/// allocator and timing, and fails the code before table rows were made
/// compact (902-1,004 MiB). After discovery its memory is handed back
/// (`malloc_trim`): the monitor then runs on its topology (10,000
/// interfaces of the huge device polled every 5 s; measured: 268-341 MiB
/// after 40 s), so 512 MiB (without the trim: 798 MiB right after discovery).
const RSS_PEAK_BOUND_KIB: u64 = 768 * 1024;
const RSS_POLLING_BOUND_KIB: u64 = 512 * 1024;

const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
/// The address the other-source agent answers from: one of its own,
/// outside loopback (a router answering from another interface), put on
/// this namespace's `lo` (the namespace has no route out).
const OTHER_ADDR: [u8; 4] = [10, 93, 0, 50];
/// The address the stranger agent answers from: not one of its own (NAT
/// rewriting the source, or a spoofer), also on this namespace's `lo`.
const STRANGER_ADDR: [u8; 4] = [10, 93, 0, 51];
const IFX_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
const IF_COLS: &[u32] = &[1, 2, 3, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20];
const IFX_COLS: &[u32] = &[1, 6, 7, 8, 9, 10, 11, 12, 13, 15, 18, 19];
const LLDP_REM_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Huge,
    Strings,
    WrongId,
    OtherSource,
    Stranger,
    Garbled,
    Oversized,
    Slow,
    Loop,
    Endless,
    Silent,
}

const AGENTS: [(Fault, u8); 11] = [
    (Fault::Huge, 2),
    (Fault::Strings, 3),
    (Fault::WrongId, 4),
    (Fault::OtherSource, 5),
    (Fault::Garbled, 6),
    (Fault::Oversized, 7),
    (Fault::Slow, 8),
    (Fault::Loop, 9),
    (Fault::Endless, 10),
    (Fault::Silent, 11),
    (Fault::Stranger, 12),
];

fn addr(octet: u8) -> String {
    format!("127.0.0.{octet}")
}

/// The hostile strings: script and markup, every C0 control character
/// (NUL, ESC, CR, LF, ...), DEL, invalid UTF-8 (a lone continuation byte, a
/// truncated sequence, an overlong encoding, 0xFF), and a 65,000-byte run.
fn hostile_name() -> Vec<u8> {
    let mut b = b"<script>window.__xss=1</script><img src=x onerror=alert(1)>\"'&".to_vec();
    b.extend(0u8..0x20);
    b.extend([0x7f, 0x80, 0xe2, 0x82, 0xc0, 0xaf, 0xff, b'!']);
    b.extend("\u{202e}rtl\u{2028}".as_bytes());
    b
}

fn long_string(fill: u8) -> Vec<u8> {
    let mut b = b"<b>".to_vec();
    b.resize(65_000, fill);
    b
}

/// A small MIB as a sorted map, plus (for the huge agent) a virtual
/// ifTable/ifXTable of `huge_rows` rows computed on demand.
struct Mib {
    map: BTreeMap<Vec<u32>, Value>,
    huge_rows: u32,
}

fn huge_value(ifx: bool, col: u32, i: u32) -> Value {
    let mac = |i: u32| {
        let b = i.to_be_bytes();
        bytes::Bytes::from(vec![0x02, 0x89, 0x01, b[1], b[2], b[3]])
    };
    match (ifx, col) {
        (false, 1) => Value::Integer(i as i32),
        (false, 2) => Value::OctetString(format!("huge-port-{i}").into()),
        (false, 3) => Value::Integer(6),
        (false, 5) => Value::Gauge32(1_000_000_000),
        (false, 6) => Value::OctetString(mac(i)),
        (false, 7 | 8) => Value::Integer(1),
        (false, _) => Value::Counter32(i.wrapping_mul(7)),
        (true, 1) => Value::OctetString(format!("hp{i}").into()),
        (true, 15) => Value::Gauge32(1000),
        (true, 18) => Value::OctetString(bytes::Bytes::new()),
        (true, 19) => Value::TimeTicks(0),
        (true, _) => Value::Counter64(u64::from(i) * 11),
    }
}

/// The first OID of a virtual `rows`-row table under `entry` after `o`.
fn virtual_next(entry: &[u32], cols: &[u32], rows: u32, o: &[u32]) -> Option<Vec<u32>> {
    let at = |c: u32, i: u32| [entry, &[c, i]].concat();
    if let Some(rest) = o.strip_prefix(entry) {
        let (col, idx) = match rest {
            [] => (0, 0),
            [c] => (*c, 0),
            [c, i, ..] => (*c, *i),
        };
        if cols.contains(&col) && idx < rows {
            return Some(at(col, idx + 1));
        }
        let c = cols.iter().find(|&&c| c > col)?;
        Some(at(*c, 1))
    } else if o < entry {
        Some(at(cols[0], 1))
    } else {
        None
    }
}

impl Mib {
    fn get(&self, o: &[u32]) -> Option<Value> {
        if let Some(v) = self.map.get(o) {
            return Some(v.clone());
        }
        for (ifx, entry) in [(false, IF_ENTRY), (true, IFX_ENTRY)] {
            let cols = if ifx { IFX_COLS } else { IF_COLS };
            if let Some([c, i]) = o.strip_prefix(entry)
                && cols.contains(c)
                && (1..=self.huge_rows).contains(i)
            {
                return Some(huge_value(ifx, *c, *i));
            }
        }
        None
    }

    fn next(&self, o: &[u32]) -> Option<(Vec<u32>, Value)> {
        let mut best = self
            .map
            .range::<[u32], _>((Bound::Excluded(o), Bound::Unbounded))
            .next()
            .map(|(k, v)| (k.clone(), v.clone()));
        if self.huge_rows > 0 {
            for (ifx, entry, cols) in [(false, IF_ENTRY, IF_COLS), (true, IFX_ENTRY, IFX_COLS)] {
                if let Some(k) = virtual_next(entry, cols, self.huge_rows, o)
                    && best.as_ref().is_none_or(|(b, _)| k < *b)
                {
                    let [c, i] = k[entry.len()..] else {
                        unreachable!()
                    };
                    best = Some((k, huge_value(ifx, c, i)));
                }
            }
        }
        best
    }
}

fn oid(a: &[u32]) -> Oid {
    Oid::from_slice(a)
}

/// A device's own small MIB: system group, `ifs` interfaces with unique
/// MACs, and the given strings in sysName/sysDescr/ifDescr/ifAlias.
fn small_mib(octet: u8, name: &[u8], descr: &[u8], if_descr: &[u8], alias: &[u8]) -> Mib {
    let s = |b: &[u8]| Value::OctetString(bytes::Bytes::copy_from_slice(b));
    let mut m = BTreeMap::new();
    let sys = |n: u32| vec![1, 3, 6, 1, 2, 1, 1, n, 0];
    m.insert(sys(1), s(descr));
    m.insert(
        sys(2),
        Value::ObjectIdentifier(oid(&[1, 3, 6, 1, 4, 1, 8072, 3, 2, 10])),
    );
    m.insert(sys(3), Value::TimeTicks(4242));
    m.insert(sys(4), s(b"noc@example.net"));
    m.insert(sys(5), s(name));
    m.insert(sys(6), s(b"rack 9"));
    m.insert(vec![1, 3, 6, 1, 2, 1, 2, 1, 0], Value::Integer(2));
    for i in 1..=2u32 {
        let col = |c: u32| [IF_ENTRY, &[c, i]].concat();
        let xcol = |c: u32| [IFX_ENTRY, &[c, i]].concat();
        let mut d = if_descr.to_vec();
        d.extend(format!("-{i}").as_bytes());
        m.insert(col(1), Value::Integer(i as i32));
        m.insert(col(2), s(&d));
        m.insert(col(3), Value::Integer(6));
        m.insert(col(5), Value::Gauge32(100_000_000));
        m.insert(col(6), s(&[0x02, 0x89, 0x00, 0x00, octet, i as u8]));
        m.insert(col(7), Value::Integer(1));
        m.insert(col(8), Value::Integer(1));
        for c in [10, 11, 13, 14, 16, 17, 19, 20] {
            m.insert(col(c), Value::Counter32(1000 * i));
        }
        m.insert(xcol(1), s(&d));
        for c in [6, 7, 8, 9, 10, 11, 12, 13] {
            m.insert(xcol(c), Value::Counter64(u64::from(5000 * i)));
        }
        m.insert(xcol(15), Value::Gauge32(100));
        m.insert(xcol(18), s(alias));
        m.insert(xcol(19), Value::TimeTicks(0));
    }
    Mib {
        map: m,
        huge_rows: 0,
    }
}

fn mib_for(fault: Fault, octet: u8) -> Mib {
    match fault {
        Fault::Huge => {
            let mut m = small_mib(octet, b"huge", b"huge table", b"", b"");
            m.map
                .retain(|k, _| !k.starts_with(IF_ENTRY) && !k.starts_with(IFX_ENTRY));
            m.huge_rows = HUGE_ROWS;
            m
        }
        Fault::Strings => {
            let mut name = hostile_name();
            name.extend(b"-strings");
            small_mib(
                octet,
                &name,
                &long_string(b'D'),
                &hostile_name(),
                &long_string(b'A'),
            )
        }
        f => {
            let name = format!("{f:?}").to_lowercase();
            let mut m = small_mib(
                octet,
                name.as_bytes(),
                format!("agent {name}").as_bytes(),
                b"eth",
                b"",
            );
            if f == Fault::OtherSource {
                // The address its answers come from is one of its own (a
                // router answering from another interface's address).
                for (a, if_index) in [([127, 0, 0, octet], 1), (OTHER_ADDR, 2)] {
                    let mut row = vec![1, 3, 6, 1, 2, 1, 4, 20, 1, 0];
                    row.extend(a.iter().map(|b| u32::from(*b)));
                    for (c, v) in [
                        (1, Value::IpAddress(a)),
                        (2, Value::Integer(if_index)),
                        (3, Value::IpAddress([255, 255, 255, 0])),
                    ] {
                        row[9] = c;
                        m.map.insert(row.clone(), v);
                    }
                }
            }
            m
        }
    }
}

/// Rough encoded size of a varbind (enough to keep answers inside one
/// UDP datagram).
fn approx_size(vb: &VarBind) -> usize {
    let v = match &vb.value {
        Value::OctetString(b) => b.len(),
        _ => 10,
    };
    vb.oid.arcs().len() * 3 + v + 8
}

/// Room for varbinds in one response: under the 65,507-byte UDP payload.
const BUDGET: usize = 65_300;

/// The agent's normal answer to a request.
fn answer(mib: &Mib, body: &PduBody, asked: &[VarBind]) -> Vec<VarBind> {
    let next = |o: &Oid| match mib.next(o.arcs()) {
        Some((k, v)) => VarBind::new(oid(&k), v),
        None => VarBind::new(o.clone(), Value::EndOfMibView),
    };
    match body {
        PduBody::Standard {
            pdu_type: StandardPduType::GetRequest,
            ..
        } => asked
            .iter()
            .map(|v| {
                VarBind::new(
                    v.oid.clone(),
                    mib.get(v.oid.arcs()).unwrap_or(Value::NoSuchInstance),
                )
            })
            .collect(),
        PduBody::GetBulk {
            non_repeaters,
            max_repetitions,
        } => {
            let nr = (*non_repeaters as usize).min(asked.len());
            let mut out: Vec<VarBind> = asked[..nr].iter().map(|v| next(&v.oid)).collect();
            let mut cursors: Vec<Oid> = asked[nr..].iter().map(|v| v.oid.clone()).collect();
            let mut size: usize = out.iter().map(approx_size).sum();
            'reps: for _ in 0..*max_repetitions {
                for c in cursors.iter_mut() {
                    let vb = next(c);
                    size += approx_size(&vb);
                    if size > BUDGET && !out.is_empty() {
                        break 'reps;
                    }
                    let end = matches!(vb.value, Value::EndOfMibView);
                    *c = vb.oid.clone();
                    out.push(vb);
                    if end {
                        break 'reps;
                    }
                }
            }
            out
        }
        _ => asked.iter().map(|v| next(&v.oid)).collect(),
    }
}

fn encode(community: &[u8], rid: i32, vbs: Vec<VarBind>) -> Option<Vec<u8>> {
    let pdu = Pdu::from_raw_parts(
        rid,
        PduBody::Standard {
            pdu_type: StandardPduType::Response,
            error_status: 0,
            error_index: 0,
        },
        vbs,
    );
    CommunityMessage::v2c(community.to_vec(), pdu)
        .and_then(|m| m.encode())
        .ok()
        .map(|b| b.to_vec())
}

/// One agent on `127.0.0.<octet>:161`. `armed` turns the poll-time faults
/// on; `served` counts requests answered.
fn run_agent(fault: Fault, octet: u8, armed: Arc<AtomicBool>, served: Arc<AtomicU64>) {
    let sock = Arc::new(UdpSocket::bind(format!("{}:161", addr(octet))).unwrap());
    // Answers from another address of the namespace.
    let other = UdpSocket::bind((std::net::Ipv4Addr::from(OTHER_ADDR), 0)).unwrap();
    let stranger = UdpSocket::bind((std::net::Ipv4Addr::from(STRANGER_ADDR), 0)).unwrap();
    let mib = mib_for(fault, octet);
    let mut buf = vec![0u8; 65535];
    let mut n_req: u64 = 0;
    while let Ok((n, peer)) = sock.recv_from(&mut buf) {
        let Ok(msg) = CommunityMessage::decode(
            bytes::Bytes::copy_from_slice(&buf[..n]),
            DecodeConfig::default(),
        ) else {
            continue;
        };
        let msg = msg.value;
        let community = msg.community().as_bytes().to_vec();
        let Some(pdu) = msg.into_pdu() else { continue };
        let (rid, body, asked) = pdu.into_raw_parts();
        n_req += 1;
        let hostile = armed.load(Ordering::Relaxed);
        let first = asked
            .first()
            .map(|v| v.oid.arcs().to_vec())
            .unwrap_or_default();
        let is_get = matches!(
            body,
            PduBody::Standard {
                pdu_type: StandardPduType::GetRequest,
                ..
            }
        );
        let mut vbs = answer(&mib, &body, &asked);
        let mut rid_out = rid;
        match fault {
            Fault::Loop if !is_get && first.starts_with(IF_ENTRY) => {
                // First row of a column, then that same OID again, forever.
                let o = if first.len() > IF_ENTRY.len() + 1 {
                    first.clone()
                } else {
                    vbs.truncate(1);
                    vbs[0].oid.arcs().to_vec()
                };
                vbs = vec![VarBind::new(oid(&o), Value::Integer(1))];
            }
            Fault::Endless if !is_get && first.starts_with(LLDP_REM_ENTRY) => {
                // Always more rows: lldpRemSysName.0.k for ever larger k.
                let k = match first.get(LLDP_REM_ENTRY.len()..) {
                    Some([9, 0, k]) => *k,
                    _ => 0,
                };
                let reps = match body {
                    PduBody::GetBulk {
                        max_repetitions, ..
                    } => max_repetitions.max(1),
                    _ => 1,
                };
                vbs = (1..=reps)
                    .map(|j| {
                        VarBind::new(
                            oid(&[LLDP_REM_ENTRY, &[9, 0, k + j]].concat()),
                            Value::OctetString("x".into()),
                        )
                    })
                    .collect();
            }
            Fault::WrongId if hostile => rid_out = rid.wrapping_add(7),
            Fault::Silent if hostile => continue,
            Fault::Oversized if hostile => {
                // The right answer, then filler up to a full datagram.
                let mut size: usize = vbs.iter().map(approx_size).sum();
                let mut k = 0;
                while size < 60_000 {
                    k += 1;
                    let vb = VarBind::new(
                        oid(&[1, 3, 6, 1, 4, 1, 99, k]),
                        Value::OctetString(vec![b'z'; 100].into()),
                    );
                    size += approx_size(&vb);
                    vbs.push(vb);
                }
            }
            _ => {}
        }
        let Some(mut reply) = encode(&community, rid_out, vbs) else {
            continue;
        };
        if fault == Fault::Garbled && hostile {
            reply = match n_req % 4 {
                // Truncated halfway.
                0 => reply[..reply.len() / 2].to_vec(),
                // A SEQUENCE claiming 2 GiB.
                1 => vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
                // Bytes flipped inside the PDU.
                2 => {
                    let mut r = reply.clone();
                    let at = r.len().saturating_sub(12);
                    for b in &mut r[at..] {
                        *b ^= 0x5a;
                    }
                    r
                }
                _ => vec![0xde, 0xad, 0xbe, 0xef],
            };
        }
        served.fetch_add(1, Ordering::Relaxed);
        match fault {
            Fault::Slow => {
                let sock = sock.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(SLOW_MS));
                    let _ = sock.send_to(&reply, peer);
                });
            }
            Fault::OtherSource if hostile => {
                let _ = other.send_to(&reply, peer);
            }
            Fault::Stranger if hostile => {
                let _ = stranger.send_to(&reply, peer);
            }
            _ => {
                let _ = sock.send_to(&reply, peer);
            }
        }
    }
}

/// VmRSS and VmHWM of a process, in KiB.
fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// GET `path` from serve's API inside the namespace: (status, body).
fn http_get(ns: &Netns, path: &str) -> Option<(u16, Vec<u8>)> {
    let out = ns
        .cmd("curl")
        .args(["-s", "-m", "60", "-o", "-", "-w", "\n%{http_code}"])
        .arg(format!("http://{API}{path}"))
        .output()
        .ok()?;
    let body = out.stdout;
    let cut = body.iter().rposition(|b| *b == b'\n')?;
    let code = std::str::from_utf8(&body[cut + 1..]).ok()?.parse().ok()?;
    Some((code, body[..cut].to_vec()))
}

fn snmp_text(ns: &Netns, tool: &str, oid: &str) -> String {
    let out = ns
        .cmd(tool)
        .args(["-v2c", "-c", "public", "-On", "-Oqv", "-r1", "-t2"])
        .args(["-Ox", "127.0.0.1", oid])
        .output()
        .unwrap();
    assert!(out.status.success(), "{tool} {oid}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An `-Ox` hex value (`"61 62 ... "`) as text, the way nocmap reads it.
fn hex_to_text(s: &str) -> String {
    let s = s.trim().trim_matches('"');
    let bytes: Vec<u8> = s
        .split_whitespace()
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(&bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn by_addr<'a>(devices: &'a [Json], a: &str) -> &'a Json {
    devices
        .iter()
        .find(|d| d["mgmt_addr"].as_str() == Some(a))
        .unwrap_or_else(|| panic!("no device with mgmt_addr {a} in /api/devices"))
}

fn partial_of(d: &Json) -> String {
    d["partial"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

#[test]
fn serve_survives_hostile_agents_with_bounded_memory() {
    require_root!();
    let ns = Netns::new(NS);
    ns.add_veths(2);
    for a in ["10.93.0.50/32", "10.93.0.51/32"] {
        let out = ns
            .cmd("ip")
            .args(["addr", "add", a, "dev", "lo"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ns.start_snmpd("healthy-ref");
    // What net-snmp itself says of the healthy agent.
    let sys_name = hex_to_text(&snmp_text(&ns, "snmpget", "1.3.6.1.2.1.1.5.0"));
    let sys_descr = hex_to_text(&snmp_text(&ns, "snmpget", "1.3.6.1.2.1.1.1.0"));
    let if_names: BTreeSet<String> = snmp_text(&ns, "snmpwalk", "1.3.6.1.2.1.31.1.1.1.1")
        .lines()
        .map(hex_to_text)
        .filter(|s| !s.is_empty())
        .collect();
    assert!(if_names.len() >= 3, "snmpd ifName: {if_names:?}");
    assert_eq!(sys_name, "healthy-ref");

    let armed = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    for (fault, octet) in AGENTS {
        let (armed, served) = (armed.clone(), served.clone());
        ns.spawn_inside(move || run_agent(fault, octet, armed, served));
    }
    // Let the agents bind their sockets before serve sends its first probe.
    std::thread::sleep(Duration::from_millis(300));

    let db = ns.dir.join("hostile.db");
    let mut cmd = ns.cmd(env!("CARGO_BIN_EXE_nocmap"));
    cmd.args(["serve", "--seed", "127.0.0.1"]);
    for (_, octet) in AGENTS {
        cmd.args(["--seed", &addr(octet)]);
    }
    let t0 = Instant::now();
    let child = cmd
        .args([
            "--prefix",
            "127.0.0.0/24",
            "-c",
            "public",
            "-t",
            "2",
            "-r",
            "1",
        ])
        .args(["--poll-interval", "5", "--icmp-interval", "5"])
        .args(["--rediscover-interval", "0", "--listen", API, "--db"])
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let mut serve = Serve(child);
    let pid = serve.0.id();
    // VmRSS every 200 ms, from a thread (the API does not answer during
    // discovery, which is when most is allocated).
    let samples: Arc<std::sync::Mutex<Vec<(f64, u64)>>> = Default::default();
    let sampling = Arc::new(AtomicBool::new(true));
    {
        let (samples, sampling) = (samples.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                if let Some((now, _)) = rss_kib(pid) {
                    samples
                        .lock()
                        .unwrap()
                        .push((t0.elapsed().as_secs_f64(), now));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }
    let alive = |serve: &mut Serve| {
        let st = serve.0.try_wait().unwrap();
        assert!(st.is_none(), "serve exited: {st:?}");
    };

    // Discovery: the API answers once it is done (the listener is bound
    // before, so a request waits: short timeouts, retried).
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        alive(&mut serve);
        let out = ns
            .cmd("curl")
            .args(["-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{API}/healthz"))
            .output()
            .unwrap();
        if out.stdout == b"200" {
            break;
        }
        assert!(Instant::now() < deadline, "serve never finished discovery");
        std::thread::sleep(Duration::from_millis(500));
    }
    let discovered_s = t0.elapsed().as_secs_f64();
    let discovery_peak = samples
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or(0);
    let after_discovery = rss_kib(pid).unwrap().0;
    armed.store(true, Ordering::Relaxed);
    eprintln!(
        "discovery done after {discovered_s:.1} s; RSS {} MiB (peak during discovery {} MiB); {} agent requests so far",
        after_discovery / 1024,
        discovery_peak / 1024,
        served.load(Ordering::Relaxed)
    );

    // Polling with the faults on: the API keeps answering throughout.
    let poll_for = Duration::from_secs(40);
    let t_armed = Instant::now();
    let mut healthz_ms_max = 0u128;
    while t_armed.elapsed() < poll_for {
        alive(&mut serve);
        let t = Instant::now();
        let h = http_get(&ns, "/healthz");
        healthz_ms_max = healthz_ms_max.max(t.elapsed().as_millis());
        assert!(matches!(h, Some((200, _))), "/healthz failed: {h:?}");
        std::thread::sleep(Duration::from_secs(1));
    }

    let (code, body) = http_get(&ns, "/api/devices").expect("/api/devices");
    alive(&mut serve);
    assert_eq!(code, 200);
    // Valid JSON with no raw control character anywhere in the text.
    let raw_ctl = body.iter().filter(|b| **b < 0x20).count();
    assert_eq!(raw_ctl, 0, "raw control bytes in the JSON answer");
    let text = std::str::from_utf8(&body).expect("the API answers UTF-8");
    let devices: Vec<Json> = serde_json::from_str(text).expect("/api/devices is JSON");
    eprintln!(
        "/api/devices: {} devices, {} bytes",
        devices.len(),
        body.len()
    );
    for d in &devices {
        let h = &d["health"];
        eprintln!(
            "  {:<12} {:<40.40} ifs={:<6} snmp_ok={} error={:.120} partial={:.160}",
            d["mgmt_addr"].as_str().unwrap_or("-"),
            format!("{:?}", d["sys_name"].as_str().unwrap_or("")),
            d["interfaces"].as_array().map_or(0, |a| a.len()),
            h["snmp_ok"],
            h["snmp_error"].as_str().unwrap_or("-"),
            partial_of(d)
        );
    }

    // The healthy reference device: its data equals net-snmp's.
    let healthy = by_addr(&devices, "127.0.0.1");
    assert_eq!(healthy["sys_name"].as_str(), Some(sys_name.as_str()));
    assert_eq!(healthy["sys_descr"].as_str(), Some(sys_descr.as_str()));
    let names: BTreeSet<String> = healthy["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, if_names, "healthy device's interfaces");
    assert_eq!(partial_of(healthy), "", "healthy device read in part");
    assert_eq!(healthy["health"]["snmp_ok"], Json::Bool(true));
    assert!(healthy["health"]["snmp_error"].is_null());
    assert_eq!(healthy["health"]["snmp_unusable_datagrams"], 0);
    let now_ms = nocmap::types::unix_now_ms();
    let last = healthy["health"]["last_snmp_ms"].as_i64().unwrap();
    assert!(
        now_ms - last < 15_000,
        "healthy device's last poll {} ms ago",
        now_ms - last
    );
    for n in &if_names {
        let ih = &healthy["interface_health"][n];
        assert!(
            ih["updated_ms"]
                .as_i64()
                .is_some_and(|t| now_ms - t < 15_000),
            "healthy interface {n} not polled recently: {ih}"
        );
        let rate = ih["in_bps"].as_f64();
        assert!(
            rate.is_some_and(|r| (0.0..1e10).contains(&r)),
            "healthy {n} in_bps {rate:?}: {ih}"
        );
    }

    // Each hostile device, with its own fault.
    let dev = |f: Fault| {
        let octet = AGENTS.iter().find(|(g, _)| *g == f).unwrap().1;
        by_addr(&devices, &addr(octet))
    };
    let ok = |d: &Json| d["health"]["snmp_ok"].as_bool();
    let err = |d: &Json| d["health"]["snmp_error"].as_str().unwrap_or("").to_string();

    let huge = dev(Fault::Huge);
    let huge_ifs = huge["interfaces"].as_array().unwrap().len();
    eprintln!(
        "huge: {huge_ifs} interfaces kept of {HUGE_ROWS}; partial: {:?}; snmp_error: {:?}",
        partial_of(huge),
        err(huge)
    );
    assert_eq!(huge_ifs, MAX_INTERFACES, "the huge table cut to the cap");
    assert!(
        partial_of(huge).contains(&format!(
            "ifTable: {HUGE_ROWS} interfaces, only the first {MAX_INTERFACES}"
        )),
        "huge: {}",
        partial_of(huge)
    );
    assert_eq!(
        ok(huge),
        Some(true),
        "the huge device is polled: {}",
        err(huge)
    );

    let strings = dev(Fault::Strings);
    let sn = strings["sys_name"].as_str().unwrap();
    let expect_name = {
        let mut n = hostile_name();
        n.extend(b"-strings");
        String::from_utf8_lossy(&n).into_owned()
    };
    assert_eq!(sn, expect_name, "sysName comes back as the same text");
    assert!(sn.contains('\u{0}') && sn.contains('\u{1b}') && sn.contains('\n'));
    assert!(sn.contains('\u{fffd}'), "invalid UTF-8 shown as U+FFFD");
    let sd = strings["sys_descr"].as_str().unwrap();
    assert!(sd.starts_with("<b>DDD"), "{:.40}", sd);
    assert!(
        sd.len() <= TEXT_CAP + 3,
        "a 65,000-byte sysDescr came back with {} bytes",
        sd.len()
    );
    for i in strings["interfaces"].as_array().unwrap() {
        let alias = i["alias"].as_str().unwrap_or("");
        assert!(
            alias.len() <= TEXT_CAP + 3,
            "ifAlias of {} bytes",
            alias.len()
        );
        assert!(i["name"].as_str().unwrap().starts_with("<script>"));
    }
    eprintln!(
        "strings: sysName {} bytes of JSON text, sysDescr {} bytes (sent 65000), snmp_ok {:?}",
        sn.len(),
        sd.len(),
        ok(strings)
    );
    assert_eq!(ok(strings), Some(true), "strings device: {}", err(strings));

    for f in [
        Fault::WrongId,
        Fault::OtherSource,
        Fault::Stranger,
        Fault::Garbled,
        Fault::Silent,
    ] {
        let d = dev(f);
        assert_eq!(ok(d), Some(false), "{f:?} must show a failed poll");
        assert!(err(d).contains("no answer"), "{f:?}: {}", err(d));
        assert_eq!(partial_of(d), "", "{f:?} was read whole during discovery");
        // Silence and garbage are told apart: what the agent's address
        // sent that could not be used is named with the error.
        let told = match f {
            Fault::WrongId => Some("matched no request (late, duplicate or a wrong request id)"),
            Fault::Garbled => Some("were not readable SNMP (garbled or truncated)"),
            Fault::OtherSource => Some("came from 10.93.0.50 (an address of this device)"),
            Fault::Stranger => Some("came from 10.93.0.51 (not an address of this device)"),
            _ => None,
        };
        match told {
            Some(t) => assert!(err(d).contains(t), "{f:?}: {}", err(d)),
            None => assert!(!err(d).contains("could not be used"), "{f:?}: {}", err(d)),
        }
        // Counted against the device's own address; the other-source
        // agent's answers count against the address they came from.
        let own = d["health"]["snmp_unusable_datagrams"].as_u64().unwrap();
        match f {
            Fault::WrongId | Fault::Garbled => assert!(own > 0, "{f:?}"),
            _ => assert_eq!(own, 0, "{f:?}"),
        }
    }
    let over = dev(Fault::Oversized);
    assert_eq!(ok(over), Some(false), "oversized answers must be refused");
    assert!(err(over).contains("varbinds"), "oversized: {}", err(over));

    let slow = dev(Fault::Slow);
    assert_eq!(ok(slow), Some(true), "slow agent: {}", err(slow));
    assert_eq!(partial_of(slow), "", "slow agent read in part");
    assert_eq!(slow["interfaces"].as_array().unwrap().len(), 2);

    let lp = dev(Fault::Loop);
    assert!(
        partial_of(lp).contains("non-increasing"),
        "loop: {}",
        partial_of(lp)
    );
    let endless = dev(Fault::Endless);
    assert!(
        partial_of(endless).contains(&format!("more than {WALK_CAP} varbinds")),
        "endless: {}",
        partial_of(endless)
    );
    for d in [lp, endless] {
        assert_eq!(ok(d), Some(true), "{}: {}", d["sys_name"], err(d));
    }

    // The poller's own figures.
    let (code, metrics) = http_get(&ns, "/metrics").expect("/metrics");
    assert_eq!(code, 200);
    for l in String::from_utf8_lossy(&metrics).lines().filter(|l| {
        !l.starts_with('#')
            && [
                "samples_written",
                "store_backlog",
                "polls_skipped",
                "snmp_polls",
                "snmp_failures",
                "poll_duration_seconds_max",
                "poll_lag",
                "dropped",
            ]
            .iter()
            .any(|k| l.contains(k))
    }) {
        eprintln!("  metrics: {l}");
    }
    // The datagrams no request took (wrong ids, another source, garbage)
    // are counted, not lost without a trace.
    let text = String::from_utf8_lossy(&metrics);
    let count = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
    };
    let discarded = count("nocmap_snmp_datagrams_discarded_total");
    let malformed = count("nocmap_snmp_datagrams_malformed_total");
    eprintln!("  datagrams matching no request: {discarded}; without a request id: {malformed}");
    assert!(
        discarded > 0.0,
        "wrong-id and other-source answers not counted"
    );
    assert!(malformed > 0.0, "garbled datagrams not counted");
    // None of it stopped the shared socket (it would be renewed, and counted).
    assert_eq!(count("nocmap_snmp_transport_renewals_total"), 0.0);

    // Memory over the whole run.
    sampling.store(false, Ordering::Relaxed);
    let rss = samples.lock().unwrap().clone();
    let (now_kib, hwm_kib) = rss_kib(pid).unwrap();
    let peak = rss.iter().map(|r| r.1).max().unwrap();
    let first = rss.first().unwrap().1;
    eprintln!(
        "RSS: start {} MiB, after discovery {} MiB, peak sampled {} MiB, VmHWM {} MiB, end {} MiB; \
         /healthz worst {healthz_ms_max} ms; agents answered {} requests",
        first / 1024,
        after_discovery / 1024,
        peak / 1024,
        hwm_kib / 1024,
        now_kib / 1024,
        served.load(Ordering::Relaxed)
    );
    let series: Vec<String> = rss
        .iter()
        .step_by(25)
        .map(|(t, k)| format!("{t:.0}s:{}", k / 1024))
        .collect();
    eprintln!("RSS MiB over the run: {}", series.join(" "));
    assert!(
        hwm_kib < RSS_PEAK_BOUND_KIB,
        "serve's peak RSS {} MiB is above the {} MiB bound",
        hwm_kib / 1024,
        RSS_PEAK_BOUND_KIB / 1024
    );
    let polling_max = rss
        .iter()
        .filter(|r| r.0 > discovered_s + 1.0)
        .map(|r| r.1)
        .max()
        .unwrap();
    assert!(
        polling_max < RSS_POLLING_BOUND_KIB,
        "RSS while polling up to {} MiB, above {} MiB",
        polling_max / 1024,
        RSS_POLLING_BOUND_KIB / 1024
    );
    // Not growing while polling: the last samples are not far above those
    // soon after discovery.
    let late: Vec<u64> = rss
        .iter()
        .filter(|r| r.0 > discovered_s + 25.0)
        .map(|r| r.1)
        .collect();
    let early: Vec<u64> = rss
        .iter()
        .filter(|r| r.0 > discovered_s + 5.0 && r.0 <= discovered_s + 15.0)
        .map(|r| r.1)
        .collect();
    if let (Some(e), Some(l)) = (early.iter().max(), late.iter().max()) {
        eprintln!(
            "RSS while polling: {} MiB early, {} MiB late",
            e / 1024,
            l / 1024
        );
        assert!(
            *l < e + 256 * 1024,
            "RSS grew while polling: {e} -> {l} KiB"
        );
    }

    // SIGTERM still ends it cleanly.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let st = serve.0.wait().unwrap();
    assert!(st.success(), "serve exited with {st}");
}
