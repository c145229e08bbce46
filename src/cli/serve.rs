//! `nocmap serve`: its flags, and SIGINT/SIGTERM as the daemon's stop
//! signal (listened for from the start, before the first discovery, so a
//! stop at any moment is an orderly one). The daemon itself — discovery,
//! pollers, store, API, alerting — is `crate::daemon`.
use super::crawl_args::{Crawl, CrawlArgs};
use crate::daemon::{Options, Snmp};
use crate::discovery::crawl::CrawlResult;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub crawl: CrawlArgs,
    /// SQLite database file (history, topology snapshots). Default: the
    /// config's `[server] db`, else `nocmap.db`.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Address of the HTTP API. Default: the config's `[server] listen`, else 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// SNMP counter poll interval in seconds (overrides the config's default).
    #[arg(long = "poll-interval")]
    pub poll_interval: Option<u64>,
    /// ICMP round interval in seconds (overrides the config's default).
    #[arg(long = "icmp-interval")]
    pub icmp_interval: Option<u64>,
    /// Re-discover the network every this many seconds (0 = never).
    #[arg(long = "rediscover-interval", default_value_t = 900)]
    pub rediscover_interval: u64,
    /// Do not send ICMP (SNMP only).
    #[arg(long)]
    pub no_icmp: bool,
}

/// SIGINT and SIGTERM, listened for from the start of `serve` (before the
/// first discovery), so a stop at any moment is an orderly one.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            term: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// The CLI's crawl (progress bar and warnings on a terminal) is how the
/// daemon discovers.
impl crate::daemon::Discover for Crawl {
    fn discover(&self) -> impl std::future::Future<Output = CrawlResult> + Send {
        self.run()
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut signals = StopSignals::install()?;
    let crawl = args.crawl.prepare().await?;
    let config = crawl.config.clone().unwrap_or_default();
    let options = Options {
        db: args.db.clone().unwrap_or_else(|| config.server.db.clone()),
        listen: args.listen.unwrap_or(config.server.listen),
        poll_interval_s: args.poll_interval,
        icmp_interval_s: args.icmp_interval,
        rediscover_interval_s: args.rediscover_interval,
        no_icmp: args.no_icmp,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signals.recv().await;
        let _ = stop_tx.send(true);
    });
    let snmp = Snmp {
        engine: crawl.engine.clone(),
        creds: crawl.creds.clone(),
    };
    crate::daemon::run(config, options, crawl, snmp, stop_rx).await?;
    Ok(ExitCode::SUCCESS)
}
