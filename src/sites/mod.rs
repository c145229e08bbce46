//! Multi-site over NATS JetStream (`[nats]`). A site poller keeps polling
//! into its own store, which journals every sample (`store::site_journal`),
//! and [`publisher`] sends the journal to the central's stream, live
//! samples first and what a WAN cut held back at a bounded pace
//! ([`backfill`], pure), with its topology after each discovery and its
//! devices' verdicts. The central's [`central`] consumer writes every
//! site's samples into its own store, hands each site's topology to
//! `serve` to merge into its one map ([`merge`], pure), keeps the site
//! devices' health from their verdicts, tells which sites went silent
//! ([`liveness`], pure) — the expected ones too, configured or known from
//! the stream, when silent since the central started — and raises one
//! [`site_alert`] per silent site, handed to the alerting task; [`delay`]
//! (pure) counts how late each site's samples reached its store.
//!
//! Who notifies for what: a site poller evaluates its own rules for its
//! own devices and tells its own receivers, during a WAN cut too; the
//! central's rules skip the site devices (`alert::observe`) and it
//! notifies only for its own devices and the site alerts. Each box's
//! notification ids carry its site name (`alert::payload`).
//! [`wire`] (pure) is what travels, with [`wire_interfaces`] the site's
//! link interfaces (their state and rates) inside the verdicts and
//! [`wire_events`] its events (traps, syslog, path and discovery changes);
//! [`connect`] the connection and the stream. In a poller group
//! (`group = true`) several pollers of one site share its devices through
//! leases in the site's key-value bucket: [`lease`] (pure) decides,
//! [`group`] reads and writes the bucket and tells `serve` which devices
//! it holds. Without `[nats]` nothing here runs.
pub mod backfill;
mod central;
pub mod central_lease;
mod connect;
pub mod delay;
pub mod group;
pub mod lease;
pub mod liveness;
pub mod merge;
mod publisher;
pub mod site_alert;
pub mod wire;
pub mod wire_events;
pub mod wire_gaps;
pub mod wire_interfaces;
pub mod wire_parts;

pub use connect::{NatsStats, SitesError, stats};

use crate::config::{NatsConfig, NatsRole, Secret};
use crate::live::Live;
use crate::store::StoreConfig;
use crate::topology::Topology;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Central: whether each site's poller is heard now (`/metrics`'
/// `nocmap_site_up`); a site appears at its first live heartbeat. And how
/// late each site's samples reached the store ([`delay`], `/metrics`'
/// `nocmap_site_delay_seconds`); a site appears at its first batch.
#[derive(Debug, Default)]
pub struct SiteStatus {
    up: std::sync::Mutex<std::collections::BTreeMap<String, bool>>,
    delays: std::sync::Mutex<delay::SiteDelays>,
}

impl SiteStatus {
    pub fn set(&self, site: &str, up: bool) {
        self.up
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(site.to_string(), up);
    }

    /// Every site known, in name order, with whether it is heard.
    pub fn snapshot(&self) -> Vec<(String, bool)> {
        self.up
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(s, up)| (s.clone(), *up))
            .collect()
    }

    /// Counts a batch of `site`'s samples committed at `committed`
    /// ([`delay::SiteDelays::observe_batch`]).
    pub fn observe_delays(
        &self,
        site: &str,
        arrival: delay::Arrival,
        sample_times: impl IntoIterator<Item = i64>,
        committed: crate::types::UnixMillis,
    ) {
        self.delays
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe_batch(site, arrival, sample_times, committed);
    }

    /// Counts how late the devices' new verdicts of `sender` reached the
    /// map ([`delay::SiteDelays::observe_verdicts`]).
    pub fn observe_verdicts(
        &self,
        site: &str,
        sender: &str,
        verdicts: &[wire::WireVerdict],
        taken: crate::types::UnixMillis,
    ) {
        self.delays
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe_verdicts(
                site,
                sender,
                verdicts
                    .iter()
                    .map(|v| (v.device.as_str(), v.newest_poll())),
                taken,
            );
    }

    /// Every site's delay histograms, by site then arrival.
    pub fn delays(&self) -> Vec<(String, delay::Arrival, delay::Histogram)> {
        self.delays
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot()
    }
}

/// What the sites' task shares with the rest of `serve`.
pub struct Wiring {
    /// The live picture: a poller sends its topology and verdicts from
    /// it; the central writes its site devices' health into it.
    pub live: Arc<Live>,
    /// Central: each site's newest topology, for `serve` to merge into the
    /// map it monitors ([`merge::merge`]).
    pub topologies: mpsc::UnboundedSender<(String, Topology)>,
    /// Central: where a site poller's alert goes (the alerting task, which
    /// records it, tells every receiver and lists it as firing).
    pub alerts: mpsc::UnboundedSender<crate::store::AlertEvent>,
    /// Central: which sites are heard, for `/metrics`.
    pub status: Arc<SiteStatus>,
    /// A poller group's member: where the devices it holds go.
    pub held: Option<watch::Sender<std::collections::BTreeSet<crate::topology::DeviceId>>>,
    /// A central of a pair: whether it is the active one now.
    pub active: Option<watch::Sender<bool>>,
}

/// How this box authenticates to the NATS server.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    UserPassword { user: String, password: Secret },
    Nkey(Secret),
}

/// The sites' own settings, from `[nats]` (secrets already resolved).
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub url: String,
    pub site: String,
    pub role: NatsRole,
    pub auth: Auth,
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub backfill_per_s: u32,
    pub heartbeat: Duration,
    /// Central: the sites configured as expected (`[nats] sites`).
    pub expect: Vec<String>,
    /// A poller group's member (`group = true`).
    pub group: Option<group::GroupSettings>,
    /// A central of a pair (`central_id`).
    pub central: Option<central_lease::CentralPair>,
}

impl SiteSettings {
    pub fn from_config(c: &NatsConfig) -> SiteSettings {
        let auth = match (&c.user, &c.password, &c.nkey_seed) {
            (Some(user), Some(password), _) => Auth::UserPassword {
                user: user.clone(),
                password: password.clone(),
            },
            (_, _, Some(seed)) => Auth::Nkey(seed.clone()),
            _ => Auth::None,
        };
        SiteSettings {
            url: c.url.clone(),
            site: c.site.clone(),
            role: c.role,
            auth,
            ca_file: c.ca_file.clone(),
            client_cert: c.client_cert.clone().zip(c.client_key.clone()),
            backfill_per_s: c.backfill_per_s,
            heartbeat: Duration::from_secs(c.heartbeat_s.max(1)),
            expect: c.sites.clone(),
            group: (c.group && c.role == NatsRole::Poller).then(|| {
                group::GroupSettings::new(
                    c.poller_id.as_deref(),
                    Duration::from_secs(c.lease_s.max(1)),
                )
            }),
            central: c
                .central_id
                .clone()
                .filter(|_| c.role == NatsRole::Central)
                .map(|id| central_lease::CentralPair {
                    id,
                    lease: Duration::from_secs(c.lease_s.max(1)),
                }),
        }
    }

    /// The store settings this role needs: a poller journals its samples.
    pub fn store_config(&self, base: StoreConfig) -> StoreConfig {
        StoreConfig {
            site_journal: self.role == NatsRole::Poller,
            ..base
        }
    }
}

/// Starts the publisher (poller) or the consumer (central) on the store at
/// `db`; it ends when `stop` turns true.
pub fn spawn(
    settings: SiteSettings,
    db: &Path,
    store_config: StoreConfig,
    wiring: Wiring,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let db = db.to_path_buf();
    match settings.role {
        NatsRole::Poller => {
            let leases = match (&settings.group, wiring.held) {
                (Some(g), Some(held)) => Some(tokio::spawn(group::run(
                    settings.clone(),
                    g.clone(),
                    wiring.live.clone(),
                    held,
                    stop.clone(),
                ))),
                _ => None,
            };
            let publisher = publisher::run(settings, db, store_config, wiring.live, stop);
            tokio::spawn(async move {
                publisher.await;
                if let Some(l) = leases {
                    let _ = l.await;
                }
            })
        }
        NatsRole::Central => {
            let lease = match (&settings.central, wiring.active.clone()) {
                (Some(pair), Some(active)) => Some(tokio::spawn(central_lease::run(
                    settings.clone(),
                    pair.clone(),
                    active,
                    stop.clone(),
                ))),
                _ => None,
            };
            let central = central::run(settings, db, store_config, wiring, stop);
            tokio::spawn(async move {
                central.await;
                if let Some(l) = lease {
                    let _ = l.await;
                }
            })
        }
    }
}
