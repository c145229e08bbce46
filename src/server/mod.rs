//! The monitor's HTTP side: the JSON API (devices, topology with live link
//! health, interface series from the store), Prometheus `/metrics`, and the
//! optional Prometheus remote-write push.
//!
//! Only this module knows about HTTP, JSON shapes and the Prometheus
//! formats. Encoders (`exposition`, `remote_write::proto`) and the shapes
//! (`api`, `series`) are pure; `routes` and `remote_write` own the sockets.
//! Device strings reach clients only through serde (JSON) or the label
//! escaping in `exposition`/protobuf; secrets never reach a response.
mod alerts_api;
mod api;
mod assets;
mod auth;
mod changes_api;
pub mod conn_limit;
mod events_api;
pub mod exposition;
pub mod feed;
pub mod host_check;
mod listener;
mod map_api;
pub mod metrics;
mod metrics_counters;
mod metrics_discovery;
mod metrics_sites;
mod metrics_syslog;
mod metrics_traps;
mod metrics_vitals;
mod path_api;
pub mod rate_limit;
pub mod remote_write;
mod reports_api;
mod routes;
mod series;
pub mod settings;
pub mod tls;
mod x509_time;

pub use api::{DeviceView, LinkView, TopologyView};
pub use auth::{AuthConfig, Denied, Role, authorize};
pub use changes_api::{ChangedLink, Changes, GoneDevice, changes};
pub use listener::{DRAIN_TIMEOUT, HANDSHAKE_TIMEOUT, HEADER_TIMEOUT, tls_handshake_failures};
pub use routes::{CONTENT_SECURITY_POLICY, MAX_BODY_BYTES};
pub use series::{PROBE_METRICS, SeriesOf, SeriesQuery, metric_by_name, parse_query};
// Pure parsers of request input, public only for the fuzz targets.
#[doc(hidden)]
pub use events_api::parse_events_query;
#[doc(hidden)]
pub use map_api::{Positions, check_positions};
#[doc(hidden)]
pub use series::percent_decode;

use crate::live::Live;
use crate::types::UnixMillis;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct AppState {
    pub live: Arc<Live>,
    /// The SQLite store; each series request opens its own connection in
    /// `spawn_blocking`. `None`: series requests answer 503.
    pub db_path: Option<PathBuf>,
    /// `None`: no token is asked for (loopback listen addresses only).
    pub auth: Option<AuthConfig>,
    /// The live feed of `/api/events`; `None`: the route answers 503.
    pub feed: Option<Arc<feed::Feed>>,
    /// Per-client request and stream limits.
    pub limiter: Arc<rate_limit::RateLimiter>,
    /// What reports take from the configuration (maintenance windows and
    /// tags); `None` when started without one.
    pub reports: Option<Arc<crate::report::source::ReportSettings>>,
    /// Host names taken in `Host` when listening beyond loopback (besides
    /// the address the client connected to); see `host_check`.
    pub allowed_hosts: Vec<String>,
    /// Concurrent connections per client and in total (the accept loop).
    pub conn_limits: conn_limit::ConnLimits,
    /// The trap receiver's counters for `/metrics`; `None`: no receiver.
    pub traps: Option<Arc<crate::traps::TrapStats>>,
    /// The syslog receiver's counters for `/metrics`; `None`: no receiver.
    pub syslog: Option<Arc<crate::syslog::SyslogStats>>,
    /// A central's sites for `/metrics`; `None`: not a central.
    pub sites: Option<Arc<crate::sites::SiteStatus>>,
    /// Events the alert rules' queue dropped; `None`: no event rule.
    pub event_tap: Option<crate::store::TapDrops>,
    /// This box's name among several (`[nats] site`), which prefixes its
    /// notification ids; `None`: a box on its own.
    pub origin: Option<String>,
}

impl AppState {
    pub fn new(live: Arc<Live>) -> AppState {
        AppState {
            live,
            db_path: None,
            auth: None,
            feed: None,
            limiter: Arc::new(rate_limit::RateLimiter::new(rate_limit::Limits::default())),
            reports: None,
            allowed_hosts: Vec::new(),
            conn_limits: Default::default(),
            traps: None,
            syslog: None,
            sites: None,
            event_tap: None,
            origin: None,
        }
    }
}

/// Where to listen: an address to bind, or a listener bound by the caller
/// (tests bind `127.0.0.1:0` and read the port first).
#[derive(Debug)]
pub enum Listen {
    Addr(SocketAddr),
    Listener(std::net::TcpListener),
}

impl From<SocketAddr> for Listen {
    fn from(a: SocketAddr) -> Listen {
        Listen::Addr(a)
    }
}

impl From<std::net::TcpListener> for Listen {
    fn from(l: std::net::TcpListener) -> Listen {
        Listen::Listener(l)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("binding the HTTP server to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("starting the web server's threads: {0}")]
    Runtime(std::io::Error),
    #[error("preparing the HTTP listener: {0}")]
    Listener(std::io::Error),
}

/// Worker threads of the web server's own runtime.
const HTTP_WORKERS: usize = 2;
/// Its threads for blocking work (rendering the map, reading the store):
/// few, so that concurrent whole-map requests queue instead of each
/// holding a thread and its allocator arena.
const HTTP_BLOCKING_THREADS: usize = 4;

/// Sets the calling thread's CPU niceness (Linux: per thread). A failure
/// only costs the isolation, so it is logged, not fatal.
fn set_thread_nice(nice: u8) {
    if nice == 0 {
        return;
    }
    // SAFETY: plain syscalls on the calling thread; no memory is shared.
    let rc = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, libc::c_int::from(nice))
    };
    if rc != 0 {
        tracing::warn!(
            nice,
            error = %std::io::Error::last_os_error(),
            "cannot lower the web server threads' CPU priority"
        );
    }
}

/// Runs [`serve`] on a runtime of its own whose threads (named
/// `nocmap-http`) run at CPU niceness `nice`: a burst of API work then
/// neither occupies the pollers' worker threads nor outruns them for the
/// CPU. Returns a future that completes with the server.
pub fn serve_isolated(
    listen: impl Into<Listen> + Send + 'static,
    tls: Option<tls::Https>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    nice: u8,
) -> Result<impl Future<Output = Result<(), ServerError>>, ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(HTTP_WORKERS)
        .max_blocking_threads(HTTP_BLOCKING_THREADS)
        .thread_name("nocmap-http")
        .on_thread_start(move || set_thread_nice(nice))
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("nocmap-http".into())
        .spawn(move || {
            set_thread_nice(nice);
            let result = rt.block_on(serve_tls(listen, tls, state, shutdown));
            // Requests still running after graceful shutdown get 5 s.
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
            let _ = done_tx.send(result);
        })
        .map_err(ServerError::Runtime)?;
    Ok(async move { done_rx.await.unwrap_or(Ok(())) })
}

/// Serves the routes over plain HTTP until `shutdown` completes, then
/// finishes the requests in flight and returns.
pub async fn serve(
    listen: impl Into<Listen>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_tls(listen, None, state, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (see [`tls::acceptor`] and
/// [`tls::Https`]).
pub async fn serve_tls(
    listen: impl Into<Listen>,
    tls: Option<tls::Https>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = match listen.into() {
        Listen::Addr(addr) => tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?,
        Listen::Listener(l) => {
            l.set_nonblocking(true).map_err(ServerError::Listener)?;
            tokio::net::TcpListener::from_std(l).map_err(ServerError::Listener)?
        }
    };
    listener::raise_open_files_limit();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, auth = state.auth.is_some(), tls = tls.is_some(), "HTTP server listening");
    }
    // The live feed ticks while the server runs; closing it on shutdown
    // ends the event streams, which graceful shutdown would wait for.
    let feed = state.feed.clone();
    if let Some(f) = &feed {
        // The first snapshot is never empty.
        f.tick(&state.live, UnixMillis::now());
    }
    let ticking = feed
        .clone()
        .map(|f| tokio::spawn(feed::run(f, state.live.clone(), feed::TICK)));
    let shutdown = async move {
        shutdown.await;
        if let Some(f) = feed {
            f.close();
        }
    };
    listener::run(listener, tls, Arc::new(state), shutdown).await;
    if let Some(t) = ticking {
        t.abort();
    }
    Ok(())
}
