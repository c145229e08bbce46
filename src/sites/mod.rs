//! Multi-site over NATS JetStream (`[nats]`). A site poller keeps polling
//! into its own store, which journals every sample (`store::site_journal`),
//! and [`publisher`] sends the journal to the central's stream, live
//! samples first and what a WAN cut held back at a bounded pace
//! ([`backfill`], pure). The central's [`central`] consumer writes every
//! site's samples into its own store and tells which sites went silent
//! ([`liveness`], pure). [`wire`] (pure) is what travels;
//! [`connect`] the connection and the stream. Without `[nats]` nothing
//! here runs.
pub mod backfill;
mod central;
mod connect;
pub mod liveness;
mod publisher;
pub mod wire;

pub use connect::{NatsStats, SitesError, stats};

use crate::config::{NatsConfig, NatsRole, Secret};
use crate::store::StoreConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

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
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let db = db.to_path_buf();
    match settings.role {
        NatsRole::Poller => tokio::spawn(publisher::run(settings, db, store_config, stop)),
        NatsRole::Central => tokio::spawn(central::run(settings, db, store_config, stop)),
    }
}
