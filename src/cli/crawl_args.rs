//! The discovery flags shared by `discover` and `serve` (seeds, prefixes,
//! depth, sweep, config file, SNMP credentials) and the crawl they drive,
//! with its progress bar and per-agent warnings.
use super::snmp_args::SnmpArgs;
use crate::config::Config;
use crate::discovery::crawl::{CrawlOptions, CrawlResult, DEFAULT_DEPTH, crawl};
use crate::discovery::listed::{self, Listed};
use crate::snmp::{Credential, SnmpEngine};
use crate::topology::UnresolvedReason;
use anyhow::bail;
use ipnet::IpNet;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, clap::Args)]
pub struct CrawlArgs {
    /// Where to start (repeatable).
    #[arg(long = "seed")]
    pub seeds: Vec<IpAddr>,
    /// The only ranges probed (repeatable). Without any, only the seeds are read.
    #[arg(long = "prefix")]
    pub prefixes: Vec<IpNet>,
    /// Neighbour hops to follow from the seeds (default: no limit, the
    /// prefixes bound the crawl; addresses a limit leaves unread are reported).
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
}

/// Everything a crawl needs, resolved from flags and the config file.
pub struct Crawl {
    pub config: Option<Config>,
    pub engine: Arc<SnmpEngine>,
    pub creds: Arc<Vec<Credential>>,
    pub opts: CrawlOptions,
    /// Devices the config lists (`[[devices]]`, the inventory file): read
    /// whether or not a neighbour names them.
    pub listed: Vec<Listed>,
    /// False when `[inventory] discover = false`: no neighbour is followed.
    pub discover: bool,
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

impl CrawlArgs {
    /// Resolve flags + config into engines and options (sweeping first when asked).
    pub async fn prepare(&self) -> anyhow::Result<Crawl> {
        let config = match &self.config {
            Some(p) => Some(Config::load(p).map_err(|e| anyhow::anyhow!("{e}"))?),
            None => None,
        };
        let mut seeds = self.seeds.clone();
        let mut prefixes = self.prefixes.clone();
        let (settings, creds, depth) = match &config {
            Some(c) => {
                seeds.extend(c.discovery.seeds.iter().copied());
                prefixes.extend(c.discovery.prefixes.iter().map(|p| p.0));
                let mut creds = c.snmp_credentials();
                if !self.snmp.community.is_empty() || self.snmp.user.is_some() {
                    creds.splice(0..0, self.snmp.credentials()?);
                }
                (
                    c.snmp_settings(),
                    creds,
                    self.depth.unwrap_or(c.discovery.depth),
                )
            }
            None => (
                self.snmp.settings()?,
                self.snmp.credentials()?,
                self.depth.unwrap_or(DEFAULT_DEPTH),
            ),
        };
        let listed: Vec<Listed> = config
            .iter()
            .flat_map(|c| c.listed_devices())
            .map(|(name, addr)| Listed { name, addr })
            .collect();
        for l in &listed {
            if !seeds.contains(&l.addr) {
                seeds.push(l.addr);
            }
        }
        let discover = config.as_ref().is_none_or(|c| c.inventory.discover);
        let depth = if discover { depth } else { 0 };
        for s in config.iter().flat_map(|c| &c.inventory_skipped) {
            eprintln!(
                "nocmap: warning: inventory line {}: `{}`: {}",
                s.line, s.name, s.reason
            );
        }
        // A central of several sites may poll nothing of its own.
        let central = config
            .as_ref()
            .and_then(|c| c.nats.as_ref())
            .is_some_and(|n| n.role == crate::config::NatsRole::Central);
        if seeds.is_empty() && !central {
            bail!(
                "nothing to discover: give --seed ADDR (or seeds, [[devices]] or an [inventory] file in --config)"
            );
        }
        if creds.is_empty() && !seeds.is_empty() {
            bail!("no SNMP credentials: give -c COMMUNITY, v3 flags, or credentials in --config");
        }
        if let Some(s) = seeds
            .iter()
            .find(|s| !prefixes.is_empty() && !prefixes.iter().any(|p| p.contains(*s)))
        {
            bail!("seed {s} is outside every --prefix; nothing outside the prefixes is probed");
        }
        if prefixes.is_empty() && discover {
            tracing::warn!(
                "no --prefix given: only the seeds are read, neighbours are not followed"
            );
        }
        let tty = std::io::stderr().is_terminal();
        let mut alive = if self.sweep && discover {
            sweep(&prefixes, self.sweep_rate, tty).await?
        } else {
            Vec::new()
        };
        // A listed device that answers no SNMP is still drawn (and pinged).
        for l in &listed {
            if !alive.contains(&l.addr) {
                alive.push(l.addr);
            }
        }
        let engine = SnmpEngine::new(settings).await?;
        let opts = CrawlOptions {
            seeds,
            prefixes,
            depth,
            concurrency: self.concurrency,
            alive,
        };
        Ok(Crawl {
            config,
            engine,
            creds: Arc::new(creds),
            opts,
            listed,
            discover,
        })
    }
}

impl Crawl {
    /// Run the crawl with a progress bar on a terminal; warnings per agent on stderr.
    pub async fn run(&self) -> CrawlResult {
        let tty = std::io::stderr().is_terminal();
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "discovering {bar:30} {pos}/{len} agents read",
            ) {
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
        let result = crawl(
            self.engine.clone(),
            self.creds.clone(),
            &self.opts,
            &progress,
        )
        .await;
        let mut result = result;
        listed::apply(&mut result, &self.listed);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        for u in &result.unreachable {
            match &u.name {
                Some(name) => eprintln!(
                    "nocmap: warning: listed device `{}` ({}): {}",
                    super::topology_text::plain(name),
                    u.addr,
                    u.reason
                ),
                None => eprintln!("nocmap: warning: {}: {}", u.addr, u.reason),
            }
        }
        if !self.discover {
            if !result.depth_cut.is_empty() {
                eprintln!(
                    "nocmap: note: [inventory] discover = false: {} neighbour address(es) not followed",
                    result.depth_cut.len()
                );
            }
        } else if let Some(first) = result.depth_cut.first() {
            eprintln!(
                "nocmap: warning: depth limit {} reached: {} neighbour address(es) inside the prefixes not followed (first {first}); raise --depth or leave it unset",
                self.opts.depth,
                result.depth_cut.len(),
            );
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
        for d in &result.topology.devices {
            for u in &d.unresolved {
                let what = match u.reason {
                    UnresolvedReason::LearnedBehindUplink
                    | UnresolvedReason::LearnedOnSeveralPorts => {
                        "forwarding-table MACs not placed as hosts"
                    }
                    _ => "neighbour row not used in full",
                };
                eprintln!(
                    "nocmap: warning: {}: {what}: {u}",
                    d.sys_name.as_deref().unwrap_or(&d.id.0),
                );
            }
        }
        result
    }
}
