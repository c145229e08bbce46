//! The daemon's HTTP side: which tokens are asked for (`[server]` tokens,
//! else `NOCMAP_API_TOKEN`), HTTPS when a certificate is configured, the
//! listening socket bound before discovery starts (so a taken port fails at
//! once), and the server's state from its own settings.
use crate::config::Config;
use crate::live::Live;
use crate::server::{AppState, AuthConfig, tls};
use crate::types::UnixMillis;
use anyhow::Context;
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

/// A bound listener with its tokens and TLS, ready to serve.
pub struct Prepared {
    listener: TcpListener,
    auth: Option<AuthConfig>,
    tls: Option<tls::Https>,
    /// The bound address (the port the system chose for port 0).
    pub listen: SocketAddr,
}

/// Checks the security settings against the address and binds it.
pub fn prepare(config: &Config, listen: SocketAddr) -> anyhow::Result<Prepared> {
    let auth = crate::server::settings::auth(&config.server).or_else(|| {
        let token = std::env::var("NOCMAP_API_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())?;
        Some(AuthConfig {
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
        (Some(cert), Some(key)) => Some(tls::Https {
            acceptor: tls::acceptor(cert, key)?,
            hsts_max_age_s: config.server.hsts_max_age_s,
        }),
        _ => None,
    };
    if let Some(w) = tls::expiry_warning(UnixMillis::now()) {
        eprintln!("nocmap serve: warning: {w}");
    }
    if !listen.ip().is_loopback() && tls.is_none() {
        eprintln!(
            "nocmap serve: warning: the API listens on {listen} over plain HTTP: tokens and data cross the network in clear; set [server] tls_cert and tls_key, or put a TLS proxy in front"
        );
    }
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    deepen_backlog(&listener);
    let listen = listener.local_addr()?;
    Ok(Prepared {
        listener,
        auth,
        tls,
        listen,
    })
}

/// Connections the kernel completes and queues for the accept loop
/// (capped by `net.core.somaxconn`, 4096 by default). std's `bind` queues
/// 128: a client holding a few hundred connection attempts at once filled
/// that queue and the kernel dropped every other client's SYNs with it
/// (each one resent after 1 s; `tests/server_flood_lab.rs`).
pub const LISTEN_BACKLOG: i32 = 4096;

/// Raises the listening socket's queue to [`LISTEN_BACKLOG`] (`listen`
/// again on a listening socket only changes its backlog); on failure the
/// queue stays as it was.
fn deepen_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: listen(2) on a socket this function borrows, still open.
    if unsafe { libc::listen(listener.as_raw_fd(), LISTEN_BACKLOG) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot deepen the listen queue");
    }
}

/// What else `/metrics` counts: the receivers' counters and a central's
/// sites (each `None` when not running).
pub struct Counted {
    pub traps: Option<Arc<crate::traps::TrapStats>>,
    pub syslog: Option<Arc<crate::syslog::SyslogStats>>,
    pub sites: Option<Arc<crate::sites::SiteStatus>>,
    pub event_tap: Option<crate::store::TapDrops>,
}

impl Prepared {
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves the API and map on their own runtime until `shutdown`.
    pub fn start<S>(
        self,
        config: &Config,
        live: Arc<Live>,
        db: PathBuf,
        shutdown: S,
        counted: Counted,
    ) -> anyhow::Result<impl Future<Output = Result<(), crate::server::ServerError>> + use<S>>
    where
        S: Future<Output = ()> + Send + 'static,
    {
        let server = &config.server;
        let state = AppState {
            live,
            db_path: Some(db),
            auth: self.auth,
            feed: Some(crate::server::feed::Feed::with_tagging(config.tagging())),
            limiter: Arc::new(crate::server::rate_limit::RateLimiter::new(
                crate::server::rate_limit::Limits {
                    per_second: server.rate_limit_per_s,
                    burst: server.rate_limit_burst,
                    streams_per_client: server.max_streams_per_client,
                },
            )),
            allowed_hosts: server.allowed_hosts.clone(),
            conn_limits: crate::server::conn_limit::ConnLimits {
                per_client: server.max_connections_per_client,
                total: server.max_connections,
            },
            reports: Some(Arc::new(
                crate::report::source::ReportSettings::from_config(config),
            )),
            traps: counted.traps,
            syslog: counted.syslog,
            sites: counted.sites,
            event_tap: counted.event_tap,
            origin: crate::alert::payload::origin(config),
        };
        Ok(crate::server::serve_isolated(
            self.listener,
            self.tls,
            state,
            shutdown,
            server.api_nice,
        )?)
    }
}
