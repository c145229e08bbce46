//! Shared by the server_* tests: a hand-built live state with hostile device
//! strings, a server on 127.0.0.1:0, a raw HTTP/1.1 GET over a TcpStream, and
//! a strict Prometheus text-format parser.
#![allow(dead_code)]
use nocmap::counters::{Counter, Counters, GapReason, InterfaceRates, Metric};
use nocmap::live::{DeviceHealth, InterfaceHealth, Live, PollerHealth, Reachability};
use nocmap::server::{AppState, serve};
use nocmap::topology::{Device, DeviceId, Endpoint, Evidence, Interface, Link, Topology};
use nocmap::types::UnixMillis;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

pub const EVIL_SYS_NAME: &str = "x\"} evil{";
pub const SCRIPT_SYS_NAME: &str = "<script>alert(1)</script>";
/// An ifName with every character the exposition format escapes.
pub const EVIL_IF_NAME: &str = "x\\y\"\nz";
pub const ADMIN: &str = "admin-token-0123456789abcdef";
pub const VIEWER: &str = "viewer-token-0123456789abcdef";

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn iface(idx: u32, name: &str) -> Interface {
    Interface {
        if_index: nocmap::types::IfIndex(idx),
        name: name.into(),
        descr: Some(format!("{name} descr")),
        alias: Some("<b>uplink</b>".into()),
        speed_bps: Some(1_000_000_000),
        mac: None,
        oper_status: Some(nocmap::types::OperStatus::Up),
        admin_status: Some(nocmap::types::OperStatus::Up),
        if_type: Some(6),
    }
}

fn device(id: &str, sys_name: &str, ifaces: Vec<Interface>) -> Device {
    Device {
        id: DeviceId(id.into()),
        sys_descr: Some("Linux".into()),
        mgmt_addr: Some("10.0.0.1".parse().unwrap()),
        interfaces: ifaces,
        ..super::topology::device(sys_name)
    }
}

/// dev-a (sys_name `x"} evil{`, Gi0/1 and an evil ifName) linked to dev-b
/// (sys_name `<script>...`, eth0); dev-a up with RTTs, dev-b unknown.
pub fn hostile_live() -> Arc<Live> {
    let topology = Topology {
        devices: vec![
            device(
                "dev-a",
                EVIL_SYS_NAME,
                vec![iface(1, "Gi0/1"), iface(2, EVIL_IF_NAME)],
            ),
            device("dev-b", SCRIPT_SYS_NAME, vec![iface(1, "eth0")]),
        ],
        links: vec![Link {
            id: "dev-a:Gi0/1--dev-b:eth0".into(),
            a: Endpoint {
                device: DeviceId("dev-a".into()),
                if_name: Some("Gi0/1".into()),
            },
            b: Endpoint {
                device: DeviceId("dev-b".into()),
                if_name: Some("eth0".into()),
            },
            evidence: vec![Evidence::Lldp],
            confidence: 1.0,
            lag: None,
        }],
    };
    let live = Live::new(topology, 180_000);
    let now = now_ms();
    live.update_devices(|devices| {
        devices.insert(
            DeviceId("dev-a".into()),
            DeviceHealth {
                reachability: Reachability::Up,
                since_ms: Some(UnixMillis(now - 60_000)),
                rtt_min_ms: Some(0.5),
                rtt_avg_ms: Some(1.25),
                rtt_median_ms: Some(1.0),
                rtt_max_ms: Some(3.0),
                jitter_ms: Some(0.25),
                loss_pct: Some(25.0),
                last_icmp_ms: Some(UnixMillis(now)),
                icmp_stale_after_ms: Some(30_000),
                icmp_error: None,
                snmp_ok: Some(true),
                last_snmp_ms: Some(UnixMillis(now)),
                snmp_error: None,
                snmp_unusable_datagrams: 0,
                vitals: Some(vitals()),
                last_vitals_ms: Some(UnixMillis(now)),
                vitals_stale_after_ms: Some(900_000),
                vitals_error: None,
                path: None,
            },
        );
        devices.insert(DeviceId("dev-b".into()), DeviceHealth::default());
    });
    live.update_interfaces(|interfaces| {
        interfaces.insert(
            (DeviceId("dev-a".into()), "Gi0/1".into()),
            InterfaceHealth {
                oper_status: Some(nocmap::types::OperStatus::Up),
                speed_bps: Some(1_000_000_000),
                rates: Some(
                    InterfaceRates::zero()
                        .with(Metric::InBitsPerSec, 2_000_000.0)
                        .with(Metric::OutBitsPerSec, 500_000.0)
                        .with(Metric::InUtilisationPct, 0.2)
                        .with(Metric::OutUtilisationPct, 0.05),
                ),
                updated_ms: Some(UnixMillis(now)),
                counters: Some(Counters {
                    in_octets: Some(Counter::C64(9_000_000_000)),
                    out_octets: Some(Counter::C32(4_000_000_000)),
                    in_ucast_pkts: Some(Counter::C64(1_000_000)),
                    in_mcast_pkts: Some(Counter::C64(100)),
                    in_bcast_pkts: Some(Counter::C64(11)),
                    in_errors: Some(Counter::C32(3)),
                    out_discards: Some(Counter::C32(4)),
                    ..Counters::default()
                }),
            },
        );
        interfaces.insert(
            (DeviceId("dev-a".into()), EVIL_IF_NAME.into()),
            InterfaceHealth {
                oper_status: Some(nocmap::types::OperStatus::Up),
                rates: Some(
                    InterfaceRates::all_gap(GapReason::Missing).with(Metric::InBitsPerSec, 42.0),
                ),
                updated_ms: Some(UnixMillis(now)),
                ..Default::default()
            },
        );
        interfaces.insert(
            (DeviceId("dev-b".into()), "eth0".into()),
            InterfaceHealth {
                oper_status: Some(nocmap::types::OperStatus::Up),
                rates: Some(
                    InterfaceRates::all_gap(GapReason::Reboot)
                        .with(Metric::InBitsPerSec, 600_000.0)
                        .with(Metric::OutBitsPerSec, 1_900_000.0)
                        .with(Metric::InUtilisationPct, 0.06)
                        .with(Metric::OutUtilisationPct, 0.19),
                ),
                updated_ms: Some(UnixMillis(now)),
                ..Default::default()
            },
        );
    });
    live.update_poller(|p| {
        *p = PollerHealth {
            icmp_rounds: 10,
            snmp_polls: 4,
            snmp_failures: 1,
            snmp_timeouts: 2,
            skipped_polls: 3,
            poll_seconds_sum: 1.5,
            poll_seconds_max: 0.75,
            lag_seconds_max: 0.125,
            samples_written: 560,
            store_errors: 0,
            discoveries: 1,
            ..Default::default()
        };
    });
    Arc::new(live)
}

pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), nocmap::server::ServerError>>>,
}

impl Running {
    /// Stops the server and waits for `serve` to return.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

pub fn start(state: AppState) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task: Some(task),
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One request over a fresh connection (`Connection: close`); extra header
/// lines are written as given.
pub async fn request(addr: SocketAddr, method: &str, path: &str, extra: &[&str]) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).expect("response is UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let resp = Resp {
        status,
        headers,
        body: body.to_string(),
    };
    assert!(
        resp.header("transfer-encoding").is_none(),
        "chunked answers are not expected"
    );
    if let Some(len) = resp.header("content-length") {
        assert_eq!(len.parse::<usize>().unwrap(), resp.body.len());
    }
    resp
}

pub async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Resp {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let extra: Vec<&str> = auth.iter().map(String::as_str).collect();
    request(addr, "GET", path, &extra).await
}

/// One parsed sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses exposition text strictly: every line is `# HELP name text`,
/// `# TYPE name kind` (once per family, before its samples), another
/// comment, or `name{labels} value`; label values may only use the escapes
/// `\\`, `\"` and `\n`; values are finite or ±Inf, never NaN. Returns the
/// samples and the TYPE of each family.
pub fn parse_prometheus(text: &str) -> Result<(Vec<PromSample>, BTreeMap<String, String>), String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    if !text.ends_with('\n') {
        return Err("text must end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let at = |m: &str| format!("line {}: {m}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match parts.next() {
                Some("HELP") => {
                    let name = parts.next().ok_or_else(|| at("HELP without name"))?;
                    check_name(name).map_err(|e| at(&e))?;
                }
                Some("TYPE") => {
                    let name = parts.next().ok_or_else(|| at("TYPE without name"))?;
                    check_name(name).map_err(|e| at(&e))?;
                    let kind = parts.next().ok_or_else(|| at("TYPE without kind"))?;
                    if !["counter", "gauge", "summary", "histogram", "untyped"].contains(&kind) {
                        return Err(at("unknown TYPE"));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(at("second TYPE for a family"));
                    }
                    if samples
                        .iter()
                        .any(|s: &PromSample| family_of(&s.name, &types) == Some(name.to_string()))
                    {
                        return Err(at("TYPE after the family's samples"));
                    }
                }
                _ => {}
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let s = parse_sample(line).map_err(|e| at(&e))?;
        if family_of(&s.name, &types).is_none() {
            return Err(at("sample of a family without TYPE"));
        }
        samples.push(s);
    }
    Ok((samples, types))
}

fn family_of(name: &str, types: &BTreeMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_string());
    }
    for suffix in ["_sum", "_count", "_bucket"] {
        if let Some(stem) = name.strip_suffix(suffix)
            && matches!(
                types.get(stem).map(String::as_str),
                Some("summary" | "histogram")
            )
        {
            return Some(stem.to_string());
        }
    }
    None
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if ok {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<PromSample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        loop {
            // label name
            let mut lname = String::new();
            while let Some((_, c)) = chars.peek().copied() {
                if c == '=' || c == '}' {
                    break;
                }
                lname.push(c);
                chars.next();
            }
            match chars.next() {
                Some((i, '}')) if lname.is_empty() => {
                    rest = &r[i + 1..];
                    break;
                }
                Some((_, '=')) => {}
                _ => return Err("bad label".into()),
            }
            check_name(&lname).map_err(|e| format!("label: {e}"))?;
            if chars.next().map(|x| x.1) != Some('"') {
                return Err("label value must be quoted".into());
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|x| x.1) {
                    Some('\\') => match chars.next().map(|x| x.1) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("bad escape \\{other:?}")),
                    },
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            }
            if labels.insert(lname, value).is_some() {
                return Err("duplicate label".into());
            }
            match chars.next() {
                Some((_, ',')) => {}
                Some((i, '}')) => {
                    rest = &r[i + 1..];
                    break;
                }
                _ => return Err("expected , or }".into()),
            }
        }
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or("expected a space before the value")?;
    let mut fields = rest.split(' ');
    let v = fields.next().ok_or("no value")?;
    if !matches!(v, "+Inf" | "-Inf")
        && v.chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return Err(format!("bad value {v:?}"));
    }
    let value: f64 = match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => v.parse().map_err(|_| format!("bad value {v:?}"))?,
    };
    if value.is_nan() {
        return Err("NaN value".into());
    }
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|_| "bad timestamp")?;
    }
    if fields.next().is_some() {
        return Err("trailing fields".into());
    }
    Ok(PromSample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// dev-a's vitals: one processor load, RAM, and a sensor with a hostile name.
fn vitals() -> nocmap::vitals::Vitals {
    use nocmap::vitals::*;
    Vitals {
        cpu_load_pct: Some(12.5),
        cpu_loads_pct: vec![10, 15],
        processors: 2,
        storage: vec![Storage {
            descr: "Physical memory".into(),
            kind: StorageKind::Ram,
            size_bytes: 4_000_000_000,
            used_bytes: 1_000_000_000,
        }],
        sensors: vec![Sensor {
            index: 7,
            name: "inlet \"temp\" <b>\n".into(),
            kind: SensorKind::Celsius,
            value: 28.5,
            status: SensorStatus::Ok,
            units: None,
        }],
        memory: None,
        unusable: Vec::new(),
        inventory: Some(inventory()),
    }
}

/// dev-a's chassis, with a hostile model name.
fn inventory() -> nocmap::vitals::Inventory {
    use nocmap::vitals::inventory::*;
    let chassis = PhysicalEntity {
        index: 1,
        class: EntityClass::Chassis,
        name: Some("Chassis".into()),
        descr: None,
        model: Some("SW-48 \"x\" <b>".into()),
        serial: Some("SN123".into()),
        hardware_rev: Some("A1".into()),
        firmware_rev: None,
        software_rev: Some("9.1".into()),
        maker: None,
        replaceable: Some(false),
        contained_in: 0,
    };
    Inventory {
        chassis: Some(chassis.clone()),
        parts: vec![chassis],
        entities: 3,
        unusable: Vec::new(),
    }
}

/// A two-thread runtime for a test that serves in-process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The real server with its live feed on 127.0.0.1, serving `live`.
pub fn serve_live(rt: &tokio::runtime::Runtime, live: Arc<Live>) -> Running {
    let mut state = AppState::new(live);
    state.feed = Some(nocmap::server::feed::Feed::new());
    let _in = rt.enter();
    start(state)
}
