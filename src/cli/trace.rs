//! `nocmap trace TARGET`: the path to a host, hop by hop, with loss and RTT
//! per hop over several cycles (like mtr), Paris-style flows that ECMP
//! routers hash alike, and `--flows N` to discover the paths of several
//! flows. Printed as a table or one JSON object. Exit code 0 when the
//! destination answered, 1 otherwise.
//!
//! Owns argument parsing, name resolution and output; the probing is
//! `crate::icmp::trace`'s.
use std::fmt::Write;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::icmp::{HopReport, MAX_FLOWS, ProbeProto, TraceOptions, TraceReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtoChoice {
    Icmp,
    Udp,
    Tcp,
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Probe protocol.
    #[arg(long, value_enum, default_value = "udp")]
    pub proto: ProtoChoice,
    /// Destination port of UDP and TCP probes (default 33434 for UDP, 80 for TCP).
    #[arg(long)]
    pub port: Option<u16>,
    /// Probes per hop and flow (one cycle sends one to every hop).
    #[arg(short = 'c', long, default_value_t = 10)]
    pub cycles: u32,
    /// Highest TTL probed.
    #[arg(short = 'm', long = "max-ttl", default_value_t = 30)]
    pub max_ttl: u8,
    /// Flows (UDP/TCP source ports, echo identifiers; over IPv6 also flow
    /// labels): several discover the paths through ECMP; each flow keeps
    /// its fields constant (Paris).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_FLOWS)))]
    pub flows: u16,
    /// Milliseconds from one cycle to the next.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "INTERVAL_MS",
        default_value_t = 1000
    )]
    pub interval_ms: u64,
    #[command(flatten)]
    pub timeout: super::ping::ReplyTimeout,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Address or hostname (IPv4 or IPv6; a name's IPv4 address first).
    #[arg(value_name = "TARGET")]
    pub target: String,
}

pub async fn run(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let target = resolve(&args.target).await?;
    let proto = match args.proto {
        ProtoChoice::Icmp => ProbeProto::Icmp,
        ProtoChoice::Udp => ProbeProto::Udp,
        ProtoChoice::Tcp => ProbeProto::Tcp,
    };
    let port = args.port.unwrap_or(match proto {
        ProbeProto::Tcp => 80,
        _ => 33434,
    });
    let opts = TraceOptions {
        target,
        proto,
        port,
        cycles: args.cycles,
        max_ttl: args.max_ttl,
        flows: args.flows,
        interval: Duration::from_millis(args.interval_ms),
        timeout: args.timeout.duration(),
    };
    let report = tokio::task::spawn_blocking(move || crate::icmp::trace(&opts))
        .await
        .context("the trace thread ended")?
        .with_context(|| format!("trace to {target}"))?;
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render(&report, args.cycles)
    };
    print!("{text}");
    Ok(if report.reached {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn resolve(arg: &str) -> anyhow::Result<IpAddr> {
    if let Ok(addr) = arg.parse::<IpAddr>() {
        return Ok(addr);
    }
    tokio::net::lookup_host((arg, 0))
        .await
        .with_context(|| format!("cannot resolve host '{arg}'"))?
        .map(|s| s.ip())
        .min_by_key(IpAddr::is_ipv6)
        .with_context(|| format!("cannot resolve host '{arg}': no address"))
}

/// The mtr-like table, then each flow's path when there are several.
pub fn render(r: &TraceReport, cycles: u32) -> String {
    let mut out = String::new();
    let proto = match (r.proto, r.port) {
        (ProbeProto::Icmp, _) | (_, None) => "icmp".to_owned(),
        (ProbeProto::Udp, Some(p)) => format!("udp port {p}"),
        (ProbeProto::Tcp, Some(p)) => format!("tcp port {p}"),
    };
    let _ = writeln!(
        out,
        "trace to {} ({proto}, {cycles} cycles, {} flow(s)){}",
        r.target,
        r.paths.len(),
        if r.reached {
            ""
        } else {
            ": destination not reached"
        }
    );
    // The address column fits the longest address (IPv6), at least 16.
    let w = r
        .hops
        .iter()
        .flat_map(|h| &h.responders)
        .map(|x| x.addr.to_string().len())
        .fold(16, usize::max);
    let _ = writeln!(
        out,
        "{:>4}  {:<w$} {:>6} {:>5} {:>5} {:>8} {:>8} {:>8}",
        "hop", "address", "loss%", "sent", "recv", "min", "avg", "max"
    );
    for hop in &r.hops {
        row(&mut out, hop, w);
    }
    if r.paths.len() > 1 {
        let _ = writeln!(out, "paths by flow:");
        for p in &r.paths {
            let hops: Vec<String> = p
                .hops
                .iter()
                .map(|h| {
                    h.responders
                        .first()
                        .map_or("*".into(), |r| r.addr.to_string())
                })
                .collect();
            let _ = writeln!(
                out,
                "  flow {} ({}): {}",
                p.flow.index,
                p.flow.flow_field,
                hops.join(" ")
            );
        }
    }
    out
}

fn row(out: &mut String, hop: &HopReport, w: usize) {
    let ms = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let first = hop
        .responders
        .first()
        .map_or("???".to_owned(), |r| r.addr.to_string());
    let _ = writeln!(
        out,
        "{:>4}. {:<w$} {:>6.1} {:>5} {:>5} {:>8} {:>8} {:>8}",
        hop.ttl,
        first,
        hop.loss_pct,
        hop.sent,
        hop.received,
        ms(hop.rtt_min_ms),
        ms(hop.rtt_avg_ms),
        ms(hop.rtt_max_ms)
    );
    for other in hop.responders.iter().skip(1) {
        let _ = writeln!(out, "      {:<w$} ({} replies)", other.addr, other.replies);
    }
}
