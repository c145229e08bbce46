//! `nocmap sweep`: find the live hosts of prefixes. Prints one line per live
//! host, or with `--json` one object `{"probed", "alive", "elapsed_s",
//! "rtt_ms"}`. A progress bar goes to stderr only when stderr is a terminal.
//!
//! Owns argument parsing and output; the sweep itself is `crate::icmp`'s.
use std::io::IsTerminal;
use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::Context;
use ipnet::IpNet;
use serde_json::{Map, Value, json};

use super::ping::{EngineArgs, ReplyTimeout, write_stdout};
use crate::icmp::{SweepOptions, SweepProgress, SweepResult};

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Probes per second over the whole sweep; 0 = as fast as possible.
    #[arg(long = "rate", value_name = "PPS", default_value_t = 0)]
    pub rate_pps: u32,
    /// Most unanswered probes at any time.
    #[arg(long, default_value_t = 2000)]
    pub max_in_flight: usize,
    /// Extra attempts for hosts that did not answer.
    #[arg(long, default_value_t = 1)]
    pub retries: u32,
    #[command(flatten)]
    pub timeout: ReplyTimeout,
    /// Print one JSON object instead of one line per live host.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// CIDR prefixes (a bare address counts as a /32 or /128).
    #[arg(required = true, value_name = "PREFIX")]
    pub prefixes: Vec<String>,
}

/// Parses PREFIX arguments; a bare address is a single-host prefix.
pub fn parse_prefixes(args: &[String]) -> anyhow::Result<Vec<IpNet>> {
    args.iter()
        .map(|arg| {
            if let Ok(addr) = arg.parse::<IpAddr>() {
                return Ok(IpNet::from(addr));
            }
            arg.parse::<IpNet>()
                .with_context(|| format!("invalid prefix '{arg}'"))
        })
        .collect()
}

pub async fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let prefixes = parse_prefixes(&args.prefixes)?;
    let total = crate::icmp::target_count(&prefixes)?;
    let options = SweepOptions {
        rate_pps: args.rate_pps,
        max_in_flight: args.max_in_flight,
        retries: args.retries,
        timeout: args.timeout.duration(),
        ..SweepOptions::default()
    };
    let engine = args.engine.start()?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} hosts settled, {msg} alive, {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let on_progress = |p: SweepProgress| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            bar.set_message(p.alive.to_string());
        }
    };
    let result = engine.sweep(&prefixes, options, on_progress).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if args.json {
        write_stdout(&format!("{}\n", json_result(&result)))?;
    } else {
        let mut text = String::new();
        for (addr, rtt) in &result.alive {
            text.push_str(&format!("{addr} {:.3} ms\n", rtt.as_millis_f64()));
        }
        text.push_str(&format!(
            "# {} of {} addresses alive, {:.3} s\n",
            result.alive.len(),
            result.probed,
            result.elapsed.as_secs_f64()
        ));
        write_stdout(&text)?;
    }
    args.engine.report(&engine);
    Ok(ExitCode::SUCCESS)
}

/// The `--json` shape of a sweep result.
pub fn json_result(result: &SweepResult) -> Value {
    let alive: Vec<String> = result.alive.iter().map(|(a, _)| a.to_string()).collect();
    let rtt: Map<String, Value> = result
        .alive
        .iter()
        .map(|(a, r)| (a.to_string(), json!(r.as_millis_f64())))
        .collect();
    json!({
        "probed": result.probed,
        "alive": alive,
        "elapsed_s": result.elapsed.as_secs_f64(),
        "rtt_ms": rtt,
    })
}
