//! The monitoring daemon behind `nocmap serve`: the first discovery, the
//! pollers, the store, the HTTP API and map, remote write, alerting, the
//! trap receiver (`traps.rs`), the syslog receiver (`syslog.rs`), and
//! re-discovery on a timer, started together and stopped in order (pollers,
//! then the store's flush, then the server, remote write and alerts).
//!
//! It owns the wiring only: each subsystem gets its own settings from
//! [`settings`] and [`http`]; the CLI (`cli::serve`) parses flags, installs
//! the signal handlers and hands over a stop signal. Discovery comes in
//! through [`Discover`], so the daemon does not know how a crawl reports
//! progress on a terminal.
mod http;
mod rediscovery;
mod settings;
mod syslog;
mod traps;

pub use settings::{monitor_settings, stale_after_ms};

use crate::config::Config;
use crate::discovery::crawl::CrawlResult;
use crate::icmp::{IcmpConfig, IcmpEngine};
use crate::live::Live;
use crate::poller::Monitor;
use crate::snmp::{Credential, SnmpEngine};
use crate::store::Store;
use crate::topology::Topology;
use crate::types::UnixMillis;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A discovery run (a crawl from the seeds), as many times as asked.
pub trait Discover {
    fn discover(&self) -> impl std::future::Future<Output = CrawlResult> + Send;
}

/// What `serve` was asked for beyond the configuration file.
#[derive(Debug, Clone)]
pub struct Options {
    /// The SQLite database.
    pub db: PathBuf,
    /// Where the API and map listen.
    pub listen: SocketAddr,
    /// Overrides of the config's SNMP and ICMP intervals, seconds.
    pub poll_interval_s: Option<u64>,
    pub icmp_interval_s: Option<u64>,
    /// Re-discover every this many seconds (0: never).
    pub rediscover_interval_s: u64,
    /// SNMP only.
    pub no_icmp: bool,
}

/// The SNMP side the crawl already set up, shared with the pollers.
pub struct Snmp {
    pub engine: Arc<SnmpEngine>,
    pub creds: Arc<Vec<Credential>>,
}

/// Runs the daemon until `stop` turns true. A stop during the first
/// discovery ends it at once (nothing is pending: the restart mark is
/// committed); a stop during a re-discovery abandons that run.
pub async fn run<D: Discover>(
    config: Config,
    options: Options,
    discovery: D,
    snmp: Snmp,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let server = http::prepare(&config, options.listen)?;
    let trap_socket = traps::bind(&config)?;
    let syslog_sockets = syslog::bind(&config)?;
    let db = &options.db;
    let sites = config
        .nats
        .as_ref()
        .map(crate::sites::SiteSettings::from_config);
    let store_config = match &sites {
        Some(s) => s.store_config(config.store.store_config()),
        None => config.store.store_config(),
    };
    let mut store = tokio::task::block_in_place(|| Store::open(db, store_config.clone()))
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    if let Some(gap) = store.mark_restart(UnixMillis::now())? {
        tracing::info!(
            from = gap.from.0,
            to = gap.to.0,
            "restart: history continues after a gap"
        );
    }
    eprintln!("nocmap serve: discovering ...");
    let started = UnixMillis::now();
    let result = tokio::select! {
        r = discovery.discover() => r,
        _ = stop.wait_for(|s| *s) => {
            eprintln!("nocmap serve: stopped during the first discovery");
            return Ok(());
        }
    };
    let first_run = rediscovery::summary(started, &result);
    for p in &first_run.unreachable {
        eprintln!("nocmap serve: not reached: {}: {}", p.addr, p.reason);
    }
    let topology = result.topology;
    crate::memory::release_freed();
    store.save_topology(UnixMillis::now(), &topology)?;
    eprintln!(
        "nocmap serve: {} devices, {} links; monitoring (database {})",
        topology.devices.len(),
        topology.links.len(),
        db.display()
    );

    let icmp = if options.no_icmp {
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
    #[cfg(feature = "test-faults")]
    faults::install(icmp.as_ref())?;
    // The central's own topology; each site's newest is merged into it.
    let mut local = topology.clone();
    let mut site_maps: BTreeMap<String, Topology> = BTreeMap::new();
    let live = Arc::new(Live::new(
        topology,
        stale_after_ms(&config, options.poll_interval_s),
    ));
    rediscovery::record(&live, first_run);
    let io = crate::io::Io::real(snmp.engine.clone(), icmp);
    // The pollers' own events (a route change): one writer with its own
    // connection, as the receivers have.
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(POLLER_EVENTS_QUEUE);
    let events_writer = {
        let (db, config) = (db.clone(), store_config.clone());
        tokio::task::spawn_blocking(move || {
            crate::store::write_queued_events(db, config, events_rx, 256, "pollers", "events", None)
        })
    };
    // A poller group's member polls only the devices whose lease it
    // holds: none until the lease loop has taken some.
    let in_group = sites.as_ref().is_some_and(|s| s.group.is_some());
    let (held_tx, mut held_rx) = watch::channel(std::collections::BTreeSet::new());
    let mut monitor = Monitor::start(
        live.clone(),
        io.clone(),
        snmp.creds.clone(),
        Some(store),
        Some(events_tx),
        monitor_settings(&config, options.poll_interval_s, options.icmp_interval_s),
        in_group.then(std::collections::BTreeSet::new),
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    // Alert rules on events: the receivers' writers hand them what they take.
    let (event_tap, events) = crate::alert::runner::event_tap(&config).unzip();
    let trap_receiver = trap_socket.map(|bound| {
        traps::start(
            bound,
            &config,
            &snmp.creds,
            live.clone(),
            db,
            monitor.waker(),
            event_tap.clone(),
            stop_rx.clone(),
        )
    });
    let syslog_receiver = syslog_sockets.map(|bound| {
        let tap = event_tap.clone();
        syslog::start(bound, &config, live.clone(), db, tap, stop_rx.clone())
    });
    let site_status = sites
        .as_ref()
        .filter(|s| s.role == crate::config::NatsRole::Central)
        .map(|_| Arc::new(crate::sites::SiteStatus::default()));
    let (scheme, listen) = (server.scheme(), server.listen);
    let http = server.start(
        &config,
        live.clone(),
        db.clone(),
        stopped(stop_rx.clone()),
        http::Counted {
            traps: trap_receiver.as_ref().map(|t| t.stats.clone()),
            syslog: syslog_receiver.as_ref().map(|s| s.stats.clone()),
            sites: site_status.clone(),
            event_tap: event_tap.as_ref().map(|t| t.drop_counter()),
        },
    )?;
    // A central of a pair: whether it holds the lease (it alone notifies
    // webhooks and writes to Prometheus).
    let pair = sites
        .as_ref()
        .and_then(|s| s.central.clone())
        .map(|pair| (pair, watch::channel(false)));
    let remote = crate::server::settings::remote_write(config.remote_write.as_ref()).map(|rw| {
        tokio::spawn(crate::server::remote_write::run_while(
            rw,
            live.clone(),
            pair.as_ref().map(|(_, (_, rx))| rx.clone()),
            stopped(stop_rx.clone()),
        ))
    });
    // Kept here too, so the receiving end never reads as closed.
    let (site_topologies, mut site_topology) = mpsc::unbounded_channel();
    // A central's site alerts go to the alerting task, which then runs
    // with or without rules.
    let (site_alerts, site_alerts_rx) = mpsc::unbounded_channel();
    let site_alerts_rx = site_status.as_ref().map(|_| site_alerts_rx);
    let sites = sites.map(|s| {
        eprintln!(
            "nocmap serve: site {} as {} over NATS",
            s.site,
            s.role.as_str()
        );
        let wiring = crate::sites::Wiring {
            live: live.clone(),
            topologies: site_topologies.clone(),
            alerts: site_alerts.clone(),
            status: site_status.clone().unwrap_or_default(),
            held: in_group.then(|| held_tx.clone()),
            active: pair.as_ref().map(|(_, (tx, _))| tx.clone()),
        };
        crate::sites::spawn(s, db, store_config.clone(), wiring, stop_rx.clone())
    });
    let alerts = crate::alert::runner::spawn(
        &config,
        live.clone(),
        db,
        &io,
        events,
        site_alerts_rx,
        match &pair {
            Some((p, (_, rx))) => crate::alert::duty::Duty::Pair {
                active: rx.clone(),
                hold_ms: p.hold().as_millis() as i64,
            },
            None => crate::alert::duty::Duty::Always,
        },
        stop_rx.clone(),
    )?;
    println!("nocmap serve: API on {scheme}://{listen}");

    let every = options.rediscover_interval_s;
    let mut rediscover = tokio::time::interval(Duration::from_secs(every.max(1)));
    rediscover.tick().await;
    let mut stop_during_run = stop.clone();
    // The hash of the merged map last stored (a central's).
    let mut saved_merged: Option<u64> = None;
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            Ok(()) = held_rx.changed(), if in_group => {
                let held = held_rx.borrow_and_update().clone();
                monitor.set_held(held);
            }
            Some((site, topology)) = site_topology.recv() => {
                // A central: a site's newest map joins the one map (its
                // devices are not polled from here), and the inventory
                // and the reports' topology when it changed it.
                site_maps.insert(site, topology);
                let merged = crate::sites::merge::merge(&local, &site_maps);
                let hash = merged.content_hash();
                if saved_merged != Some(hash) {
                    let saved = tokio::task::block_in_place(|| {
                        Store::open(db, store_config.clone())
                            .and_then(|mut s| s.save_topology(UnixMillis::now(), &merged))
                    });
                    match saved {
                        Ok(()) => saved_merged = Some(hash),
                        Err(e) => tracing::warn!(error = %e, "central: the map with the sites' devices was not stored"),
                    }
                }
                monitor.set_topology(merged);
            }
            _ = rediscover.tick(), if every > 0 => {
                let started = UnixMillis::now();
                let result = tokio::select! {
                    r = discovery.discover() => r,
                    _ = stop_during_run.wait_for(|s| *s) => break,
                };
                let run = rediscovery::summary(started, &result);
                crate::memory::release_freed();
                rediscovery::record(&live, run);
                local = result.topology;
                let merged = crate::sites::merge::merge(&local, &site_maps);
                let change = rediscovery::log_change(&live, &merged);
                let events = rediscovery::change_events(&change, UnixMillis::now());
                if !events.is_empty() {
                    // Its own connection, as the receivers have; once per run.
                    let written = tokio::task::block_in_place(|| {
                        Store::open(db, store_config.clone())
                            .and_then(|mut s| s.insert_events(&events))
                    });
                    if let Err(e) = written {
                        tracing::warn!(error = %e, "re-discovery: the change was not stored as events");
                    }
                }
                monitor.set_topology(merged);
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
    if let Some(s) = sites {
        let _ = s.await;
    }
    if let Some(t) = trap_receiver {
        t.join().await;
    }
    if let Some(s) = syslog_receiver {
        s.join().await;
    }
    // The monitor is gone, and with it the last sender: the writer drains.
    let _ = events_writer.await;
    Ok(())
}

/// Events the pollers may queue for the history before they are dropped
/// (with a warning): route changes are rare, so this is only a bound.
const POLLER_EVENTS_QUEUE: usize = 1024;

/// The tests' build only (feature `test-faults`), with NOCMAP_TEST_FAULTS
/// set: SIGUSR1 makes the ICMP receive loops panic at their next datagram,
/// so a lab test can show their recovery under serve
/// (`tests/alerts_isolation_lab.rs`).
#[cfg(feature = "test-faults")]
mod faults {
    use crate::icmp::IcmpEngine;
    use anyhow::Context;
    use std::sync::Arc;

    pub fn install(icmp: Option<&Arc<IcmpEngine>>) -> anyhow::Result<()> {
        let (Some(engine), Some(_)) = (icmp, std::env::var_os("NOCMAP_TEST_FAULTS")) else {
            return Ok(());
        };
        use tokio::signal::unix::{SignalKind, signal};
        let engine = engine.clone();
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot handle SIGUSR1")?;
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                tracing::warn!("test fault: the ICMP receive loops panic at their next datagram");
                engine.fault_panic_receivers();
            }
        });
        Ok(())
    }
}
