//! `nocmap ping`: echo requests to addresses, hostnames or whole prefixes,
//! printed as ping-style summaries or one JSON array. Exit code 0 when every
//! target answered at least once, 1 otherwise (like fping).
//!
//! Owns argument parsing, name resolution and output shapes; the probing is
//! `crate::icmp`'s.
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use ipnet::IpNet;
use serde_json::{Value, json};

use crate::icmp::{IcmpConfig, IcmpEngine, PingOptions, PingStats, SocketKind};
use crate::types::RttMicros;

/// Pings run at the same time when a prefix expands to many hosts.
const MAX_CONCURRENT_TARGETS: usize = 1024;

#[derive(Debug, clap::Args)]
pub struct PingArgs {
    /// Echo requests per target.
    #[arg(short = 'c', long, default_value_t = 3)]
    pub count: u32,
    /// Milliseconds between requests to one target.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "INTERVAL_MS",
        default_value_t = 1000
    )]
    pub interval_ms: u64,
    #[command(flatten)]
    pub timeout: ReplyTimeout,
    /// ICMP payload bytes (at least 20, the probe tag).
    #[arg(short = 's', long = "size", default_value_t = 56)]
    pub payload_size: usize,
    /// Print one JSON array instead of ping-style summaries.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Addresses, hostnames or CIDR prefixes (a prefix expands to its hosts).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
}

/// `-W/--timeout`, shared by `ping` and `sweep`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ReplyTimeout {
    /// Milliseconds each probe waits for its reply.
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "TIMEOUT_MS",
        default_value_t = 1000
    )]
    pub timeout_ms: u64,
}

impl ReplyTimeout {
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// Engine options shared by `ping` and `sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// ICMP socket: raw, DGRAM ping socket, or raw falling back to DGRAM.
    #[arg(long = "socket", value_enum, default_value = "auto")]
    pub socket: SocketChoice,
    /// After the run, print the engine's counters as one JSON line on stderr.
    #[arg(long)]
    pub engine_counters: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SocketChoice {
    Auto,
    Raw,
    Dgram,
}

impl EngineArgs {
    pub fn start(&self) -> anyhow::Result<Arc<IcmpEngine>> {
        let socket_kind = match self.socket {
            SocketChoice::Auto => SocketKind::Auto,
            SocketChoice::Raw => SocketKind::Raw,
            SocketChoice::Dgram => SocketKind::Dgram,
        };
        let config = IcmpConfig {
            socket_kind,
            ..IcmpConfig::default()
        };
        Ok(IcmpEngine::new(config)?)
    }

    pub fn report(&self, engine: &IcmpEngine) {
        if self.engine_counters {
            let counters = serde_json::to_string(&engine.counters()).unwrap_or_default();
            eprintln!("{counters}");
        }
    }
}

/// One thing to ping: an address, and the name it came from if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: IpAddr,
    pub name: Option<String>,
}

/// Turns TARGET arguments into addresses: literal addresses, prefixes
/// (expanded like a sweep), or hostnames (first address of the lookup).
pub async fn resolve_targets(args: &[String]) -> anyhow::Result<Vec<Target>> {
    let mut out = Vec::new();
    for arg in args {
        if let Ok(addr) = arg.parse::<IpAddr>() {
            out.push(Target { addr, name: None });
        } else if arg.contains('/') {
            let net: IpNet = arg
                .parse()
                .with_context(|| format!("invalid prefix '{arg}'"))?;
            crate::icmp::target_count(&[net]).with_context(|| format!("prefix '{arg}'"))?;
            out.extend(crate::icmp::sweep_targets(&[net]).map(|addr| Target { addr, name: None }));
        } else {
            let addr = tokio::net::lookup_host((arg.as_str(), 0))
                .await
                .with_context(|| format!("cannot resolve host '{arg}'"))?
                .map(|s| s.ip())
                .next()
                .with_context(|| format!("cannot resolve host '{arg}': no address"))?;
            out.push(Target {
                addr,
                name: Some(arg.clone()),
            });
        }
    }
    Ok(out)
}

pub async fn run(args: PingArgs) -> anyhow::Result<ExitCode> {
    let targets = resolve_targets(&args.targets).await?;
    let options = PingOptions {
        count: args.count,
        interval: Duration::from_millis(args.interval_ms),
        timeout: args.timeout.duration(),
        payload_size: args.payload_size,
    };
    options.validate()?;
    let engine = args.engine.start()?;
    let results: Vec<anyhow::Result<PingStats>> = futures::stream::iter(targets.iter())
        .map(|t| {
            let engine = Arc::clone(&engine);
            async move {
                engine
                    .ping(t.addr, options)
                    .await
                    .with_context(|| format!("ping {}", t.addr))
            }
        })
        .buffered(MAX_CONCURRENT_TARGETS)
        .collect()
        .await;
    let mut stats = Vec::with_capacity(results.len());
    for r in results {
        stats.push(r?);
    }
    if args.json {
        let rows: Vec<Value> = targets
            .iter()
            .zip(&stats)
            .map(|(t, s)| json_row(t, s))
            .collect();
        write_stdout(&format!("{}\n", Value::Array(rows)))?;
    } else {
        let text: String = targets
            .iter()
            .zip(&stats)
            .map(|(t, s)| human_summary(t, s))
            .collect();
        write_stdout(&text)?;
    }
    args.engine.report(&engine);
    let all_answered = stats.iter().all(|s| s.received > 0);
    Ok(if all_answered {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}

fn ms(r: Option<RttMicros>) -> Value {
    r.map_or(Value::Null, |r| json!(r.as_millis_f64()))
}

/// The JSON object for one target.
pub fn json_row(t: &Target, s: &PingStats) -> Value {
    json!({
        "target": s.target.to_string(),
        "name": t.name,
        "sent": s.sent,
        "received": s.received,
        "duplicates": s.duplicates,
        "late": s.late,
        "errors": s.errors,
        "send_errors": s.send_errors,
        "loss_pct": s.loss_pct,
        "rtt_min_ms": ms(s.rtt_min),
        "rtt_avg_ms": ms(s.rtt_avg),
        "rtt_max_ms": ms(s.rtt_max),
        "rtt_median_ms": ms(s.rtt_median),
        "jitter_ms": ms(s.jitter),
        "rtts_ms": s.rtts.iter().map(|r| r.as_millis_f64()).collect::<Vec<_>>(),
    })
}

/// ping(8)-style summary lines for one target.
pub fn human_summary(t: &Target, s: &PingStats) -> String {
    let who = match &t.name {
        Some(name) => format!("{name} ({})", s.target),
        None => s.target.to_string(),
    };
    let mut line = format!("{} packets transmitted, {} received", s.sent, s.received);
    if s.duplicates > 0 {
        line.push_str(&format!(", +{} duplicates", s.duplicates));
    }
    if s.late > 0 {
        line.push_str(&format!(", +{} late", s.late));
    }
    if s.errors > 0 {
        line.push_str(&format!(", +{} errors", s.errors));
    }
    line.push_str(&format!(", {}% packet loss", trim(s.loss_pct)));
    let mut out = format!("--- {who} ping statistics ---\n{line}\n");
    if let (Some(min), Some(avg), Some(max), Some(mdev)) =
        (s.rtt_min, s.rtt_avg, s.rtt_max, s.jitter)
    {
        out.push_str(&format!(
            "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms\n",
            min.as_millis_f64(),
            avg.as_millis_f64(),
            max.as_millis_f64(),
            mdev.as_millis_f64()
        ));
    }
    out
}

fn trim(pct: f64) -> String {
    let s = format!("{pct:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}
