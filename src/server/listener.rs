//! The accept loop: HTTP/1.1 on each accepted connection, over TLS when
//! the server has an acceptor (and with HSTS on every answer when set),
//! with the client's address attached to every
//! request ([`ClientAddr`], read by the rate limits). Limits that hold
//! before any route runs: a TLS handshake must finish within
//! [`HANDSHAKE_TIMEOUT`], request headers must arrive within
//! [`HEADER_TIMEOUT`]; on shutdown the listener closes at once and open
//! connections get [`DRAIN_TIMEOUT`] to finish. Before any of that, each
//! accepted connection must fit the connection caps (`conn_limit`): one
//! over them is closed at once (a reset, so it leaves no TIME_WAIT here)
//! and accepting goes on. Accept errors (out of file descriptors, kernel
//! buffers, a connection aborted before it was taken) never end the loop:
//! it backs off briefly, counts them and logs at most once per
//! [`LOG_EVERY`].
use super::AppState;
use super::conn_limit::{ConnGuard, ConnTable, Refused};
use super::host_check::ServerAddr;
use super::metrics::{Family, MetricKind, MetricSample, family, single};
use super::tls::Https;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use warp::Filter;

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// After an accept error for lack of resources (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM), the loop waits this long before accepting again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Accept errors and refused connections are logged at most this often.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Connections whose TLS handshake failed or timed out, since start.
static TLS_HANDSHAKE_FAILURES: AtomicU64 = AtomicU64::new(0);
/// Failed accepts, since start (every server of the process).
static ACCEPT_ERRORS: AtomicU64 = AtomicU64::new(0);
/// Connections closed at once for the per-client and the total cap.
static REFUSED_PER_CLIENT: AtomicU64 = AtomicU64::new(0);
static REFUSED_TOTAL: AtomicU64 = AtomicU64::new(0);
/// Connections open now.
static OPEN: AtomicI64 = AtomicI64::new(0);
/// The soft open-file limit after [`raise_open_files_limit`] (0: unknown).
static OPEN_FILES_LIMIT: AtomicU64 = AtomicU64::new(0);

/// An admitted connection: its place in the caps and in the open gauge.
struct Admitted(#[allow(dead_code)] ConnGuard);

impl Drop for Admitted {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Logs `what` at most once per [`LOG_EVERY`] per kind, with how many
/// were not logged since.
struct Throttled {
    last: Mutex<Option<Instant>>,
    skipped: AtomicU64,
}

impl Throttled {
    const fn new() -> Throttled {
        Throttled {
            last: Mutex::new(None),
            skipped: AtomicU64::new(0),
        }
    }

    /// Whether to log now, and how many were skipped before.
    fn due(&self) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(Instant::now());
        Some(self.skipped.swap(0, Ordering::Relaxed))
    }
}

static ACCEPT_ERROR_LOG: Throttled = Throttled::new();
static REFUSED_LOG: Throttled = Throttled::new();

/// Raises the process's soft open-file limit to its hard limit (once per
/// process) and remembers it for `/metrics`.
pub fn raise_open_files_limit() -> u64 {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit write/read only the struct we pass.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0;
        if !got {
            return;
        }
        if rl.rlim_cur < rl.rlim_max {
            let want = libc::rlimit {
                rlim_cur: rl.rlim_max,
                rlim_max: rl.rlim_max,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
                rl.rlim_cur = rl.rlim_max;
            } else {
                tracing::warn!(
                    soft = rl.rlim_cur,
                    hard = rl.rlim_max,
                    error = %std::io::Error::last_os_error(),
                    "cannot raise the open-file limit"
                );
            }
        }
        OPEN_FILES_LIMIT.store(rl.rlim_cur as u64, Ordering::Relaxed);
        tracing::debug!(limit = rl.rlim_cur, "open-file limit");
    });
    OPEN_FILES_LIMIT.load(Ordering::Relaxed)
}

/// Whether an accept error means the process or the system is out of a
/// resource (back off) rather than one connection's trouble (go on).
fn out_of_resources(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The accept loop's families: errors, refused and open connections, and
/// the open-file limit.
pub(super) fn metric_families(out: &mut Vec<Family>) {
    out.push(single(
        "nocmap_http_accept_errors_total",
        "Failed accepts on the API's listening socket (out of file descriptors or buffers, aborted connections); the loop backs off and goes on.",
        MetricKind::Counter,
        ACCEPT_ERRORS.load(Ordering::Relaxed) as f64,
    ));
    let mut refused = family(
        "nocmap_http_connections_refused_total",
        "Connections to the API closed at once because their client (reason=per_client) or the server (reason=total) held the most allowed.",
        MetricKind::Counter,
    );
    for (reason, n) in [
        (Refused::PerClient, &REFUSED_PER_CLIENT),
        (Refused::Total, &REFUSED_TOTAL),
    ] {
        refused.samples.push(MetricSample::plain(
            vec![("reason", reason.as_str().to_string())],
            n.load(Ordering::Relaxed) as f64,
        ));
    }
    out.push(refused);
    out.push(single(
        "nocmap_http_connections_open",
        "Connections to the API open now.",
        MetricKind::Gauge,
        OPEN.load(Ordering::Relaxed).max(0) as f64,
    ));
    let mut limit = family(
        "nocmap_process_open_files_limit",
        "The process's soft limit of open files, raised to the hard limit when the server starts (no sample before).",
        MetricKind::Gauge,
    );
    let n = OPEN_FILES_LIMIT.load(Ordering::Relaxed);
    if n > 0 {
        limit.samples.push(MetricSample::plain(vec![], n as f64));
    }
    out.push(limit);
}

pub fn tls_handshake_failures() -> u64 {
    TLS_HANDSHAKE_FAILURES.load(Ordering::Relaxed)
}

/// The peer address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The client's address, for filters (None only for requests that did not
/// come through [`run`]).
pub fn client_addr() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>().map(|c: Option<ClientAddr>| c.map(|c| c.0))
}

/// Serves the routes on `listener` until `shutdown` completes, then drains.
pub async fn run(
    listener: TcpListener,
    tls: Option<Https>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let conns = ConnTable::new(state.conn_limits);
    let filter = super::routes::routes(state);
    let listen = listener.local_addr().ok();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    ACCEPT_ERRORS.fetch_add(1, Ordering::Relaxed);
                    if let Some(skipped) = ACCEPT_ERROR_LOG.due() {
                        tracing::warn!(error = %e, not_logged_since = skipped, "HTTP accept failed");
                    }
                    // Out of file descriptors and the like: keep serving
                    // the connections we have, try again shortly.
                    if out_of_resources(&e) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match conns.admit(peer.ip()) {
            Ok(guard) => {
                OPEN.fetch_add(1, Ordering::Relaxed);
                Admitted(guard)
            }
            Err(why) => {
                match why {
                    Refused::PerClient => &REFUSED_PER_CLIENT,
                    Refused::Total => &REFUSED_TOTAL,
                }
                .fetch_add(1, Ordering::Relaxed);
                if let Some(skipped) = REFUSED_LOG.due() {
                    tracing::warn!(client = %peer.ip(), reason = why.as_str(), not_logged_since = skipped, "HTTP connection refused: over the connection cap");
                }
                // A reset: the socket is freed now and leaves no TIME_WAIT.
                let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
                drop(tcp);
                continue;
            }
        };
        let server_addr = match (listen, tcp.local_addr()) {
            (Some(listen), Ok(local)) => Some(ServerAddr { listen, local }),
            _ => None,
        };
        let svc = warp::service(filter.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let hsts = tls.as_ref().and_then(Https::hsts);
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ClientAddr(peer));
                if let Some(a) = server_addr {
                    req.extensions_mut().insert(a);
                }
                let mut svc = svc.clone();
                let answer = tower_service::Service::call(&mut svc, req);
                let hsts = hsts.clone();
                async move {
                    let mut r = answer.await?;
                    if let Some(v) = hsts {
                        r.headers_mut()
                            .insert(warp::http::header::STRICT_TRANSPORT_SECURITY, v);
                    }
                    Ok::<_, Infallible>(r)
                }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let result = match tls {
                None => {
                    watcher
                        .watch(http.serve_connection(TokioIo::new(tcp), svc))
                        .await
                }
                Some(https) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, https.acceptor.accept(tcp)).await
                    {
                        Ok(Ok(stream)) => {
                            watcher
                                .watch(http.serve_connection(TokioIo::new(stream), svc))
                                .await
                        }
                        Ok(Err(e)) => {
                            TLS_HANDSHAKE_FAILURES.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            TLS_HANDSHAKE_FAILURES.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP connections still open after the drain time; closing them");
    }
}
