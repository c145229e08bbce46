//! `nocmap discover`: crawl from seeds inside the allowed prefixes and print
//! or write the topology (devices, interfaces, links with evidence).
use super::snmp_args::SnmpArgs;
use crate::config::Config;
use crate::discovery::crawl::{CrawlOptions, crawl};
use crate::snmp::SnmpEngine;
use anyhow::{Context, bail};
use ipnet::IpNet;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Neighbour hops followed by default: the prefixes are the real bound.
const DEFAULT_DEPTH: u32 = 16;

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// Where to start (repeatable).
    #[arg(long = "seed")]
    pub seeds: Vec<IpAddr>,
    /// The only ranges probed (repeatable). Without any, only the seeds are read.
    #[arg(long = "prefix")]
    pub prefixes: Vec<IpNet>,
    /// Neighbour hops to follow from the seeds (default 16; the prefixes bound the crawl).
    #[arg(long)]
    pub depth: Option<u32>,
    /// Agents read at the same time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Ping-sweep the prefixes first and try every live host over SNMP too;
    /// live hosts that answer no SNMP and no neighbour names appear as nodes.
    #[arg(long)]
    pub sweep: bool,
    /// Probes per second for --sweep (0 = as fast as the engine goes).
    #[arg(long, default_value_t = 20_000)]
    pub sweep_rate: u32,
    /// A config file: credentials, SNMP settings, seeds and prefixes.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub snmp: SnmpArgs,
    /// Print the topology JSON on stdout.
    #[arg(long, conflicts_with = "out")]
    pub json: bool,
    /// Write the topology JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The live hosts of the prefixes (IPv4 prefixes of at most 2^20 addresses).
async fn sweep(prefixes: &[IpNet], rate: u32, tty: bool) -> anyhow::Result<Vec<IpAddr>> {
    if prefixes.is_empty() {
        bail!("--sweep needs --prefix: only the given prefixes are ever probed");
    }
    let total = crate::icmp::target_count(prefixes)?;
    if total > 1 << 20 {
        bail!(
            "--sweep of {total} addresses is more than this command sweeps (2^20); give smaller prefixes"
        );
    }
    let engine = crate::icmp::IcmpEngine::new(crate::icmp::IcmpConfig::default())?;
    let options = crate::icmp::SweepOptions {
        rate_pps: rate,
        ..Default::default()
    };
    let result = engine.sweep(prefixes, options, |_| {}).await?;
    if tty {
        eprintln!(
            "sweep: {} of {} addresses alive in {:.2} s",
            result.alive.len(),
            result.probed,
            result.elapsed.as_secs_f64()
        );
    }
    Ok(result.alive.into_iter().map(|(a, _)| a).collect())
}

pub async fn run(args: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(p) => Some(Config::load(p).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let mut seeds = args.seeds.clone();
    let mut prefixes = args.prefixes.clone();
    let (settings, creds, depth) = match &config {
        Some(c) => {
            seeds.extend(c.discovery.seeds.iter().copied());
            prefixes.extend(c.discovery.prefixes.iter().map(|p| p.0));
            let mut creds = c.snmp_credentials();
            if !args.snmp.community.is_empty() || args.snmp.user.is_some() {
                creds.splice(0..0, args.snmp.credentials()?);
            }
            (
                c.snmp_settings(),
                creds,
                args.depth.unwrap_or(c.discovery.depth),
            )
        }
        None => (
            args.snmp.settings()?,
            args.snmp.credentials()?,
            args.depth.unwrap_or(DEFAULT_DEPTH),
        ),
    };
    if seeds.is_empty() {
        bail!("nothing to discover: give --seed ADDR (or seeds in --config)");
    }
    if creds.is_empty() {
        bail!("no SNMP credentials: give -c COMMUNITY, v3 flags, or credentials in --config");
    }
    if let Some(s) = seeds
        .iter()
        .find(|s| !prefixes.is_empty() && !prefixes.iter().any(|p| p.contains(*s)))
    {
        bail!("seed {s} is outside every --prefix; nothing outside the prefixes is probed");
    }
    if prefixes.is_empty() {
        tracing::warn!("no --prefix given: only the seeds are read, neighbours are not followed");
    }
    let tty = std::io::stderr().is_terminal();
    let alive = if args.sweep {
        sweep(&prefixes, args.sweep_rate, tty).await?
    } else {
        Vec::new()
    };
    let engine = SnmpEngine::new(settings).await?;
    let opts = CrawlOptions {
        seeds,
        prefixes,
        depth,
        concurrency: args.concurrency,
        alive,
    };
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("discovering {bar:30} {pos}/{len} agents read")
        {
            b.set_style(style);
        }
        b
    });
    let progress = |done: usize, pending: usize| {
        if let Some(b) = &bar {
            b.set_length((done + pending) as u64);
            b.set_position(done as u64);
        }
    };
    let result = crawl(engine, Arc::new(creds), &opts, &progress).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    for u in &result.unreachable {
        eprintln!("nocmap: warning: {}: {}", u.addr, u.reason);
    }
    for d in result
        .topology
        .devices
        .iter()
        .filter(|d| !d.partial.is_empty())
    {
        eprintln!(
            "nocmap: warning: {} read in part: {}",
            d.sys_name.as_deref().unwrap_or(&d.id.0),
            d.partial.join("; ")
        );
    }
    let json = serde_json::to_string_pretty(&result.topology)?;
    match &args.out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if args.json => println!("{json}"),
        None => {
            let t = &result.topology;
            let managed = t.devices.iter().filter(|d| d.managed).count();
            println!(
                "{} devices ({managed} answered SNMP), {} links",
                t.devices.len(),
                t.links.len()
            );
            for l in &t.links {
                let name = |e: &crate::topology::Endpoint| {
                    let d = t
                        .device(&e.device)
                        .and_then(|d| d.sys_name.clone())
                        .unwrap_or_else(|| e.device.0.clone());
                    format!("{d}:{}", e.if_name.as_deref().unwrap_or("?"))
                };
                let ev: Vec<String> = l
                    .evidence
                    .iter()
                    .map(|e| format!("{e:?}").to_lowercase())
                    .collect();
                println!(
                    "  {:<32} <-> {:<32} [{}] {:.1}",
                    name(&l.a),
                    name(&l.b),
                    ev.join(","),
                    l.confidence
                );
            }
        }
    }
    let all_seeds_failed = result.topology.devices.iter().all(|d| !d.managed);
    Ok(if all_seeds_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
