//! The hand-rolled hostile SNMP agents of `monitor_hostile_lab`: one
//! thread per agent on `127.0.0.<octet>:161`, each with its own fault (see
//! [`Fault`]). They answer properly until `armed` is set (discovery done),
//! then misbehave; `served` counts the requests answered.
use super::snmp_pdu::{Request, oid, response};
use async_snmp::{Oid, PduBody, StandardPduType, Value, VarBind};
use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub const HUGE_ROWS: u32 = 100_000;
/// The agents' "slow" delay against serve's 2 s timeout.
const SLOW_MS: u64 = 1_300;

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
pub enum Fault {
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

pub const AGENTS: [(Fault, u8); 11] = [
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

pub fn addr(octet: u8) -> String {
    format!("127.0.0.{octet}")
}

/// The hostile strings: script and markup, every C0 control character
/// (NUL, ESC, CR, LF, ...), DEL, invalid UTF-8 (a lone continuation byte, a
/// truncated sequence, an overlong encoding, 0xFF), and a 65,000-byte run.
pub fn hostile_name() -> Vec<u8> {
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

/// One agent on `127.0.0.<octet>:161`. `armed` turns the poll-time faults
/// on; `served` counts requests answered.
pub fn run_agent(fault: Fault, octet: u8, armed: Arc<AtomicBool>, served: Arc<AtomicU64>) {
    let sock = Arc::new(UdpSocket::bind(format!("{}:161", addr(octet))).unwrap());
    // Answers from another address of the namespace.
    let other = UdpSocket::bind((std::net::Ipv4Addr::from(OTHER_ADDR), 0)).unwrap();
    let stranger = UdpSocket::bind((std::net::Ipv4Addr::from(STRANGER_ADDR), 0)).unwrap();
    let mib = mib_for(fault, octet);
    let mut buf = vec![0u8; 65535];
    let mut n_req: u64 = 0;
    while let Ok((n, peer)) = sock.recv_from(&mut buf) {
        let Some(req) = Request::decode(&buf[..n]) else {
            continue;
        };
        let is_get = req.is_get();
        let (body, asked) = (&req.body, &req.vbs);
        n_req += 1;
        let hostile = armed.load(Ordering::Relaxed);
        let first = asked
            .first()
            .map(|v| v.oid.arcs().to_vec())
            .unwrap_or_default();
        let mut vbs = answer(&mib, body, asked);
        let mut rid_out = req.rid;
        match fault {
            Fault::Loop if !is_get && first.starts_with(IF_ENTRY) => {
                // First row of a column, then an OID before it (the
                // column's .0), forever.
                let o = if first.len() > IF_ENTRY.len() + 1 {
                    [&first[..=IF_ENTRY.len()], &[0]].concat()
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
                    } => (*max_repetitions).max(1),
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
            Fault::WrongId if hostile => rid_out = req.rid.wrapping_add(7),
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
        let Some(mut reply) = response(&req.community, rid_out, vbs) else {
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
