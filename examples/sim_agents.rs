//! A simulated fleet of SNMPv2c agents for polling benchmarks: AGENTS agents
//! with IFACES interfaces each, all in one process and one tokio runtime, one
//! async-snmp `Agent` (one UDP socket) per address.
//!
//! It binds whatever addresses it is told to in the current network namespace
//! and opens no other socket: run it inside a namespace of its own
//! (`examples/bench_poll.rs` does). Agent `k` (0-based) listens on
//! `127.1.(k / 250).(k % 250 + 1):161`, community `public`; with `--net N`,
//! `127.N.(k / 250).(k % 250 + 1)` instead (several fleets side by side,
//! `examples/bench_sites_scale.sh`).
//!
//! Each agent serves the system group (sysName `simNNNN`, with `--net N`
//! other than 1 `simN-NNNN`, sysUpTime advancing),
//! ifNumber, the full ifTable (columns 1-22) and ifXTable (columns 1-19).
//! Counters advance at a steady rate from process start, so a poller's rates
//! can be checked against the formula (`t` = seconds since start, `a` = agent
//! number from 1, `i` = ifIndex from 1):
//!
//! ```text
//! in octets/s  = 125_000 * i + a        (1 Mbit/s per ifIndex step)
//! out octets/s = 2 * in octets/s
//! ifHCInOctets = 1_000_000 * a + i + in_rate * t   (ifInOctets = that mod 2^32)
//! unicast pkts = octets / 1000, multicast = octets / 100_000,
//! broadcast = octets / 1_000_000, discards = octets / 5_000_000,
//! errors = octets / 10_000_000
//! ```
//!
//! With env `SIM_REFRESH_MS=P`, the interface counters are those of the
//! agent's last refresh, every P ms at a phase of its own (agent `a`:
//! `(a mod 997) / 997 * P`), as net-snmp and switches serve them; sysUpTime
//! stays live.
//!
//! With `--endless-lldp`, every agent also serves the LLDP-MIB remote table
//! (lldpRemTable, `1.0.8802.1.1.2.1.4.1.1`) without end: its rows are
//! lldpRemSysName (column 9) `.0.1.k` (time mark 0, local port 1, remote
//! index `k`) with value `simNNNN-peerK`, for `k` = 1, 2, 3, ... up to
//! 2^32 - 1, so every GETNEXT or GETBULK inside the table returns further
//! rows of it and a walker stops only at a cap of its own. Nothing else of
//! the agent changes (a GET of a row answers it too; lldpLocal and the
//! other LLDP tables stay empty). This is the worst case of a walker's
//! memory budget (`examples/bench_walk_budget.sh`). Without the flag no
//! LLDP object is served.
//!
//! It prints `ready agents=N interfaces=M` once every socket is bound, then
//! (with `--report-secs S`) a line every S seconds and one at exit:
//! `stats t_s=.. cpu_s=.. rss_kb=.. varbinds=..` (CPU of this whole process
//! from getrusage, varbinds = values answered so far). With
//! `--endless-lldp` it also prints, at exit, one line per agent:
//! `lldp addr=A served=N highest=K` (lldpRemTable rows answered, and the
//! highest remote index `k` answered: how far a walker got).
//!
//!   cargo run --release --example sim_agents -- [AGENTS] [IFACES]
//!       [--threads N] [--report-secs S] [--endless-lldp] [--net N]
use async_snmp::agent::Agent;
use async_snmp::handler::{
    BoxFuture, GetNextResult, GetResult, HandlerResult, MibHandler, RequestContext,
};
use async_snmp::{Oid, Value, VarBind, oid};
use bytes::Bytes;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The address of agent `k` (0-based) in `127.net.0.0/16`; `bench_poll.rs`
/// uses the same formula with `net` 1.
fn agent_addr(net: u8, k: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, net, (k / 250) as u8, (k % 250 + 1) as u8)
}

const MIB2: [u32; 6] = [1, 3, 6, 1, 2, 1];
const SYSTEM: [u32; 7] = [1, 3, 6, 1, 2, 1, 1];
const IF_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 2, 2, 1];
const IFX_ENTRY: [u32; 10] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
/// lldpRemEntry (LLDP-MIB), served only with `--endless-lldp`.
const LLDP_REM_ENTRY: [u32; 10] = [1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
/// lldpRemSysName with time mark 0 and local port 1: the endless rows are
/// this followed by the remote index `k`.
const LLDP_ROW_BASE: [u32; 13] = [1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9, 0, 1];

/// The remote index of the endless lldpRemTable row that follows `oid`, or
/// None when `oid` is at or past the last row (index 2^32 - 1).
fn lldp_next(oid: &Oid) -> Option<u32> {
    let arcs = oid.arcs();
    match arcs.strip_prefix(&LLDP_ROW_BASE[..]) {
        // A row, or something below one: the next row.
        Some([k, ..]) => k.checked_add(1),
        // The base itself, or an OID before it.
        _ if arcs <= &LLDP_ROW_BASE[..] => Some(1),
        _ => None,
    }
}

/// One object instance an agent serves; values depend on the agent and time.
#[derive(Clone, Copy)]
enum Obj {
    /// system group column (1..=7), instance .0
    Sys(u32),
    IfNumber,
    /// ifTable column, ifIndex
    If(u32, u32),
    /// ifXTable column, ifIndex
    IfX(u32, u32),
}

/// Every instance of one agent in lexicographic order; shared by all agents
/// since they differ only in values.
struct Schema {
    rows: Vec<(Oid, Obj)>,
}

impl Schema {
    fn new(ifaces: u32) -> Schema {
        let mut rows = Vec::new();
        let with = |base: &[u32], tail: &[u32]| {
            Oid::from_slice(&base.iter().chain(tail).copied().collect::<Vec<_>>())
        };
        for c in 1..=7 {
            rows.push((with(&SYSTEM, &[c, 0]), Obj::Sys(c)));
        }
        rows.push((with(&MIB2, &[2, 1, 0]), Obj::IfNumber));
        for c in 1..=22 {
            for i in 1..=ifaces {
                rows.push((with(&IF_ENTRY, &[c, i]), Obj::If(c, i)));
            }
        }
        for c in 1..=19 {
            for i in 1..=ifaces {
                rows.push((with(&IFX_ENTRY, &[c, i]), Obj::IfX(c, i)));
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Schema { rows }
    }
}

/// Counter values of one interface at one instant.
struct Counters {
    in_octets: u64,
    out_octets: u64,
}

impl Counters {
    fn at(agent: u32, ifindex: u32, t: f64) -> Counters {
        let rate = 125_000.0 * f64::from(ifindex) + f64::from(agent);
        let base = 1_000_000 * u64::from(agent) + u64::from(ifindex);
        Counters {
            in_octets: base + (rate * t) as u64,
            out_octets: base + (2.0 * rate * t) as u64,
        }
    }
}

/// One simulated agent: its number (from 1) and the shared schema and clock.
struct SimAgent {
    number: u32,
    ifaces: u32,
    schema: Arc<Schema>,
    start: Instant,
    varbinds: Arc<AtomicU64>,
    /// The agent also serves the endless lldpRemTable (`EndlessLldp`).
    endless_lldp: bool,
    /// Counters refreshed every this many seconds (0: live), from env
    /// `SIM_REFRESH_MS`, at a phase of the agent's own.
    refresh_s: f64,
    /// sysName's prefix: `sim`, or `simN-` with `--net N` other than 1.
    name_prefix: Arc<str>,
}

impl SimAgent {
    fn value(&self, obj: Obj) -> Value {
        let t = self.start.elapsed().as_secs_f64();
        // The interface counters hold their values as of the last refresh.
        let tc = if self.refresh_s > 0.0 {
            let phase = f64::from(self.number % 997) / 997.0 * self.refresh_s;
            ((t - phase) / self.refresh_s).floor().max(0.0) * self.refresh_s + phase
        } else {
            t
        };
        let a = self.number;
        let s = |text: String| Value::OctetString(Bytes::from(text));
        match obj {
            Obj::Sys(1) => s(format!("nocmap sim_agents, {} interfaces", self.ifaces)),
            Obj::Sys(2) => Value::ObjectIdentifier(oid!(1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
            Obj::Sys(3) => Value::TimeTicks((t * 100.0) as u32 + a * 100),
            Obj::Sys(4) => s("lab@example.invalid".into()),
            Obj::Sys(5) => s(format!("{}{a:04}", self.name_prefix)),
            Obj::Sys(6) => s("simulated rack".into()),
            Obj::Sys(_) => Value::Integer(72),
            Obj::IfNumber => Value::Integer(self.ifaces as i32),
            Obj::If(c, i) => if_column(c, a, i, tc),
            Obj::IfX(c, i) => ifx_column(c, a, i, tc),
        }
    }
}

fn if_column(c: u32, a: u32, i: u32, t: f64) -> Value {
    let n = Counters::at(a, i, t);
    let c32 = |v: u64| Value::Counter32(v as u32);
    match c {
        1 => Value::Integer(i as i32),
        2 => Value::OctetString(Bytes::from(format!("eth{i}"))),
        3 => Value::Integer(6),
        4 => Value::Integer(1500),
        5 => Value::Gauge32(1_000_000_000),
        6 => Value::OctetString(Bytes::from(vec![
            0x02,
            0x00,
            (a >> 8) as u8,
            a as u8,
            (i >> 8) as u8,
            i as u8,
        ])),
        7 | 8 => Value::Integer(1),
        9 => Value::TimeTicks(0),
        10 => c32(n.in_octets),
        11 => c32(n.in_octets / 1000),
        12 => c32(n.in_octets / 100_000 + n.in_octets / 1_000_000),
        13 => c32(n.in_octets / 5_000_000),
        14 => c32(n.in_octets / 10_000_000),
        15 => c32(0),
        16 => c32(n.out_octets),
        17 => c32(n.out_octets / 1000),
        18 => c32(n.out_octets / 100_000 + n.out_octets / 1_000_000),
        19 => c32(n.out_octets / 5_000_000),
        20 => c32(n.out_octets / 10_000_000),
        21 => Value::Gauge32(0),
        _ => Value::ObjectIdentifier(oid!(0, 0)),
    }
}

fn ifx_column(c: u32, a: u32, i: u32, t: f64) -> Value {
    let n = Counters::at(a, i, t);
    let c32 = |v: u64| Value::Counter32(v as u32);
    match c {
        1 => Value::OctetString(Bytes::from(format!("eth{i}"))),
        2 => c32(n.in_octets / 100_000),
        3 => c32(n.in_octets / 1_000_000),
        4 => c32(n.out_octets / 100_000),
        5 => c32(n.out_octets / 1_000_000),
        6 => Value::Counter64(n.in_octets),
        7 => Value::Counter64(n.in_octets / 1000),
        8 => Value::Counter64(n.in_octets / 100_000),
        9 => Value::Counter64(n.in_octets / 1_000_000),
        10 => Value::Counter64(n.out_octets),
        11 => Value::Counter64(n.out_octets / 1000),
        12 => Value::Counter64(n.out_octets / 100_000),
        13 => Value::Counter64(n.out_octets / 1_000_000),
        14 | 17 => Value::Integer(1),
        15 => Value::Gauge32(1000),
        16 => Value::Integer(2),
        18 => Value::OctetString(Bytes::from(format!("sim{a:04} port {i}"))),
        _ => Value::TimeTicks(0),
    }
}

impl MibHandler for SimAgent {
    fn get<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetResult>> {
        Box::pin(async move {
            let rows = &self.schema.rows;
            if let Ok(k) = rows.binary_search_by(|(o, _)| o.cmp(oid)) {
                self.varbinds.fetch_add(1, Ordering::Relaxed);
                return Ok(GetResult::Value(self.value(rows[k].1)));
            }
            // An object we serve, with an instance we do not have?
            let parent = oid.parent();
            let k = rows.partition_point(|(o, _)| o < oid);
            let known = [k.checked_sub(1), Some(k)]
                .into_iter()
                .flatten()
                .filter_map(|k| rows.get(k))
                .any(|(o, _)| o.parent() == parent);
            Ok(if known {
                GetResult::NoSuchInstance
            } else {
                GetResult::NoSuchObject
            })
        })
    }

    fn get_next<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetNextResult>> {
        Box::pin(async move {
            let rows = &self.schema.rows;
            let k = rows.partition_point(|(o, _)| o <= oid);
            // The agent asks every handler for its next OID and answers the
            // lowest: an endless LLDP row, when there is one, wins over ours.
            let ours = !(self.endless_lldp && lldp_next(oid).is_some());
            Ok(match rows.get(k) {
                Some((o, obj)) => {
                    if ours {
                        self.varbinds.fetch_add(1, Ordering::Relaxed);
                    }
                    GetNextResult::Value(VarBind::new(o.clone(), self.value(*obj)))
                }
                None => GetNextResult::EndOfMibView,
            })
        })
    }
}

/// The endless lldpRemTable of one agent (`--endless-lldp`), registered at
/// lldpRemEntry beside the agent's MIB-2 handler.
struct EndlessLldp {
    number: u32,
    addr: Ipv4Addr,
    varbinds: Arc<AtomicU64>,
    /// Rows answered, and the highest remote index answered.
    served: AtomicU64,
    highest: AtomicU32,
}

impl EndlessLldp {
    fn row(&self, k: u32) -> VarBind {
        self.varbinds.fetch_add(1, Ordering::Relaxed);
        self.served.fetch_add(1, Ordering::Relaxed);
        self.highest.fetch_max(k, Ordering::Relaxed);
        let mut arcs = LLDP_ROW_BASE.to_vec();
        arcs.push(k);
        let name = format!("sim{:04}-peer{k}", self.number);
        VarBind::new(
            Oid::from_slice(&arcs),
            Value::OctetString(Bytes::from(name)),
        )
    }

    fn summary(&self) -> String {
        format!(
            "lldp addr={} served={} highest={}",
            self.addr,
            self.served.load(Ordering::Relaxed),
            self.highest.load(Ordering::Relaxed)
        )
    }
}

impl MibHandler for EndlessLldp {
    fn get<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetResult>> {
        Box::pin(async move {
            let arcs = oid.arcs();
            Ok(match arcs.strip_prefix(&LLDP_ROW_BASE[..]) {
                Some([k]) if *k > 0 => GetResult::Value(self.row(*k).value),
                _ if arcs.len() > LLDP_REM_ENTRY.len() && arcs[LLDP_REM_ENTRY.len()] == 9 => {
                    GetResult::NoSuchInstance
                }
                _ => GetResult::NoSuchObject,
            })
        })
    }

    fn get_next<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetNextResult>> {
        Box::pin(async move {
            Ok(match lldp_next(oid) {
                Some(k) => GetNextResult::Value(self.row(k)),
                None => GetNextResult::EndOfMibView,
            })
        })
    }
}

fn cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn report(start: Instant, varbinds: &AtomicU64) {
    println!(
        "stats t_s={:.1} cpu_s={:.3} rss_kb={} varbinds={}",
        start.elapsed().as_secs_f64(),
        cpu_seconds(),
        rss_kb(),
        varbinds.load(Ordering::Relaxed)
    );
}

struct Args {
    agents: u32,
    ifaces: u32,
    threads: usize,
    report_secs: Option<u64>,
    endless_lldp: bool,
    /// The second octet of every agent's address.
    net: u8,
}

fn parse_args() -> Args {
    let mut args = Args {
        agents: 1000,
        ifaces: 50,
        threads: 1,
        report_secs: None,
        endless_lldp: false,
        net: 1,
    };
    let mut it = std::env::args().skip(1);
    let mut positional = 0;
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--threads" => args.threads = num("--threads") as usize,
            "--report-secs" => args.report_secs = Some(num("--report-secs")),
            "--endless-lldp" => args.endless_lldp = true,
            "--net" => {
                args.net = u8::try_from(num("--net"))
                    .ok()
                    .filter(|n| *n >= 1)
                    .expect("--net must be 1..=255")
            }
            n => {
                let v: u32 = n.parse().unwrap_or_else(|_| panic!("bad argument {n}"));
                match positional {
                    0 => args.agents = v,
                    _ => args.ifaces = v,
                }
                positional += 1;
            }
        }
    }
    assert!(
        (1..=250 * 255).contains(&args.agents),
        "AGENTS must be 1..=63750"
    );
    args
}

fn main() {
    let args = parse_args();
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(args.threads);
        b
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    rt.block_on(serve(args));
}

async fn serve(args: Args) {
    let start = Instant::now();
    let schema = Arc::new(Schema::new(args.ifaces));
    let varbinds = Arc::new(AtomicU64::new(0));
    let mut agents = Vec::with_capacity(args.agents as usize);
    let mut lldp_tables = Vec::new();
    let refresh_ms: u64 = std::env::var("SIM_REFRESH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let name_prefix: Arc<str> = match args.net {
        1 => "sim".into(),
        n => format!("sim{n}-").into(),
    };
    for k in 0..args.agents {
        let handler = Arc::new(SimAgent {
            name_prefix: name_prefix.clone(),
            number: k + 1,
            ifaces: args.ifaces,
            schema: schema.clone(),
            start,
            varbinds: varbinds.clone(),
            endless_lldp: args.endless_lldp,
            refresh_s: refresh_ms as f64 / 1000.0,
        });
        let mut builder = Agent::builder()
            .bind(format!("{}:161", agent_addr(args.net, k)))
            .community(b"public")
            .handler(Oid::from_slice(&MIB2), handler);
        if args.endless_lldp {
            let lldp = Arc::new(EndlessLldp {
                number: k + 1,
                addr: agent_addr(args.net, k),
                varbinds: varbinds.clone(),
                served: AtomicU64::new(0),
                highest: AtomicU32::new(0),
            });
            lldp_tables.push(lldp.clone());
            builder = builder.handler(Oid::from_slice(&LLDP_REM_ENTRY), lldp);
        }
        let agent = builder
            .allow_all_access()
            .without_builtin_handlers()
            .build()
            .await
            .unwrap_or_else(|e| panic!("agent {k} on {}: {e}", agent_addr(args.net, k)));
        agents.push(agent);
    }
    let tasks: Vec<_> = agents
        .into_iter()
        .map(|agent| {
            tokio::spawn(async move {
                if let Err(e) = agent.run().await {
                    eprintln!("agent {}: {e}", agent.local_addr());
                }
            })
        })
        .collect();
    println!("ready agents={} interfaces={}", args.agents, args.ifaces);
    let ticker = {
        let varbinds = varbinds.clone();
        async move {
            match args.report_secs {
                Some(s) => {
                    let mut tick = tokio::time::interval(Duration::from_secs(s.max(1)));
                    tick.tick().await;
                    loop {
                        tick.tick().await;
                        report(start, &varbinds);
                    }
                }
                None => std::future::pending::<()>().await,
            }
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ticker => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    report(start, &varbinds);
    for lldp in &lldp_tables {
        println!("{}", lldp.summary());
    }
    for t in tasks {
        t.abort();
    }
}
