//! `nocmap serve`: discover, then monitor continuously (ICMP rounds, SNMP
//! counters, periodic re-discovery), store history in SQLite, and serve the
//! API. SIGINT/SIGTERM stop the pollers and flush the store before exit.
use super::crawl_args::CrawlArgs;
use crate::icmp::{IcmpConfig, IcmpEngine};
use crate::live::Live;
use crate::poller::{Monitor, MonitorSettings, SettingsFor};
use crate::store::{Store, UnixMillis};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut signals = StopSignals::install()?;
    let crawl = args.crawl.prepare().await?;
    let config = crawl.config.clone().unwrap_or_default();
    let db = args.db.clone().unwrap_or_else(|| config.server.db.clone());
    let listen = args.listen.unwrap_or(config.server.listen);
    let auth = crate::server::settings::auth(&config.server).or_else(|| {
        let token = std::env::var("NOCMAP_API_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())?;
        Some(crate::server::AuthConfig {
            admin_token: crate::types::Secret::new(token),
            read_only_token: None,
        })
    });
    if !listen.ip().is_loopback() && auth.is_none() {
        anyhow::bail!(
            "listening on {listen} beyond loopback needs an API token: set [server] token in the config or NOCMAP_API_TOKEN"
        );
    }
    let tls = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => Some(crate::server::tls::Https {
            acceptor: crate::server::tls::acceptor(cert, key)?,
            hsts_max_age_s: config.server.hsts_max_age_s,
        }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    if let Some(w) = crate::server::tls::expiry_warning(crate::types::unix_now_ms() / 1000) {
        eprintln!("nocmap serve: warning: {w}");
    }
    if !listen.ip().is_loopback() && tls.is_none() {
        eprintln!(
            "nocmap serve: warning: the API listens on {listen} over plain HTTP: tokens and data cross the network in clear; set [server] tls_cert and tls_key, or put a TLS proxy in front"
        );
    }
    let listener = std::net::TcpListener::bind(listen)
        .with_context(|| format!("cannot listen on {listen}"))?;
    let listen = listener.local_addr()?;

    let mut store = tokio::task::block_in_place(|| Store::open(&db, config.store.store_config()))
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    if let Some(gap) = store.mark_restart(UnixMillis(crate::types::unix_now_ms()))? {
        tracing::info!(
            from = gap.from.0,
            to = gap.to.0,
            "restart: history continues after a gap"
        );
    }
    eprintln!("nocmap serve: discovering ...");
    let started = crate::types::unix_now_ms();
    let result = tokio::select! {
        r = crawl.run() => r,
        _ = signals.recv() => {
            // Nothing is pending yet: the restart mark is committed.
            eprintln!("nocmap serve: stopped during the first discovery");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let first_run = discovery_run(started, &result);
    for p in &first_run.unreachable {
        eprintln!("nocmap serve: not reached: {}: {}", p.addr, p.reason);
    }
    let topology = result.topology;
    crate::memory::release_freed();
    store.save_topology(UnixMillis(crate::types::unix_now_ms()), &topology)?;
    eprintln!(
        "nocmap serve: {} devices, {} links; monitoring (database {})",
        topology.devices.len(),
        topology.links.len(),
        db.display()
    );

    let icmp = if args.no_icmp {
        None
    } else {
        match IcmpEngine::new(IcmpConfig::default()) {
            Ok(e) => Some(e),
            Err(e) => {
                eprintln!("nocmap: warning: no ICMP monitoring: {e}");
                None
            }
        }
    };
    // The tests' build only (feature `test-faults`), with NOCMAP_TEST_FAULTS
    // set: SIGUSR1 makes the ICMP receive loops panic at their next
    // datagram, so a lab test can show their recovery under serve
    // (`tests/alerts_isolation_lab.rs`).
    #[cfg(feature = "test-faults")]
    if let (Some(engine), Some(_)) = (&icmp, std::env::var_os("NOCMAP_TEST_FAULTS")) {
        use tokio::signal::unix::{SignalKind, signal};
        let engine = engine.clone();
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot handle SIGUSR1")?;
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                tracing::warn!("test fault: the ICMP receive loops panic at their next datagram");
                engine.fault_panic_receivers();
            }
        });
    }
    let base = MonitorSettings {
        icmp_count: config.icmp.count,
        icmp_spacing: Duration::from_millis(config.icmp.interval_ms),
        icmp_timeout: Duration::from_millis(config.icmp.timeout_ms),
        ..MonitorSettings::default()
    };
    let (poll, icmp_every) = (args.poll_interval, args.icmp_interval);
    let cfg = config.clone();
    let settings_for: SettingsFor = Arc::new(move |d| {
        let iv = cfg.intervals_for(d.sys_name.as_deref(), d.mgmt_addr);
        MonitorSettings {
            icmp_interval: icmp_every.map_or(iv.icmp, Duration::from_secs),
            snmp_interval: poll.map_or(iv.snmp, Duration::from_secs),
            ..base.clone()
        }
    });
    // SNMP data is stale after three polls missed (`STALE_AFTER_ROUNDS`):
    // `--poll-interval` applies to every device; otherwise the longest
    // interval the config gives any device. ICMP verdicts age per device,
    // with each one's own interval (`live::verdict_lifetime_ms`).
    let snmp_every_s = args
        .poll_interval
        .unwrap_or_else(|| config.longest_snmp_interval_s())
        .max(1);
    let stale_after = i64::try_from(
        snmp_every_s.saturating_mul(u64::from(crate::live::STALE_AFTER_ROUNDS) * 1_000),
    )
    .unwrap_or(i64::MAX);
    let live = Arc::new(Live::new(topology, stale_after));
    live.update(|l| {
        l.poller.discoveries += 1;
        l.discovery.runs += 1;
        l.discovery.last = Some(first_run);
    });
    let mut monitor = Monitor::start(
        live.clone(),
        crate::io::Io::real(crawl.engine.clone(), icmp),
        crawl.creds.clone(),
        Some(store),
        settings_for,
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let state = crate::server::AppState {
        live: live.clone(),
        db_path: Some(db.clone()),
        auth,
        feed: Some(crate::server::feed::Feed::new()),
        limiter: Arc::new(crate::server::rate_limit::RateLimiter::new(
            crate::server::rate_limit::Limits {
                per_second: config.server.rate_limit_per_s,
                burst: config.server.rate_limit_burst,
                streams_per_client: config.server.max_streams_per_client,
            },
        )),
        reports: Some(Arc::new(
            crate::report::source::ReportSettings::from_config(&config),
        )),
    };
    let http = crate::server::serve_isolated(
        listener,
        tls,
        state,
        stopped(stop_rx.clone()),
        config.server.api_nice,
    )?;
    let remote = crate::server::settings::remote_write(config.remote_write.as_ref()).map(|rw| {
        tokio::spawn(crate::server::remote_write::run(
            rw,
            live.clone(),
            stopped(stop_rx.clone()),
        ))
    });
    let alerts = crate::alert::runner::spawn(&config, live.clone(), &db, stop_rx.clone())?;
    println!("nocmap serve: API on {scheme}://{listen}");

    let mut rediscover =
        tokio::time::interval(Duration::from_secs(args.rediscover_interval.max(1)));
    rediscover.tick().await;
    loop {
        tokio::select! {
            _ = signals.recv() => break,
            _ = rediscover.tick(), if args.rediscover_interval > 0 => {
                // A stop during a re-discovery abandons it (it stores nothing).
                let started = crate::types::unix_now_ms();
                let result = tokio::select! {
                    r = crawl.run() => r,
                    _ = signals.recv() => break,
                };
                let run = discovery_run(started, &result);
                let new = result.topology;
                crate::memory::release_freed();
                live.update(|l| {
                    l.poller.discoveries += 1;
                    l.discovery.runs += 1;
                    l.discovery.last = Some(run);
                });
                let old = live.read(|l| l.topology.clone());
                let change = crate::topology::diff(&old, &new);
                tracing::info!(added = change.devices_added.len(), removed = change.devices_removed.len(), links_added = change.links_added.len(), links_removed = change.links_removed.len(), "re-discovery");
                monitor.set_topology(new);
            }
        }
    }
    eprintln!("nocmap serve: stopping; flushing the database ...");
    let _ = stop_tx.send(true);
    monitor.stop().await;
    if let Err(e) = http.await {
        eprintln!("nocmap: warning: HTTP server: {e}");
    }
    if let Some(r) = remote {
        let _ = r.await;
    }
    if let Some(a) = alerts {
        let _ = a.await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The live summary of a finished crawl (what `/api/discovery` shows).
fn discovery_run(
    started_ms: i64,
    result: &crate::discovery::crawl::CrawlResult,
) -> crate::live::DiscoveryRun {
    let problems = result
        .unreachable
        .iter()
        .map(|u| crate::live::AgentProblem {
            addr: u.addr,
            reason: u.reason.clone(),
        })
        .collect();
    crate::live::DiscoveryRun::summarise(
        started_ms,
        crate::types::unix_now_ms(),
        &result.topology,
        problems,
        result.skipped_out_of_scope.clone(),
    )
}
