//! The accept loop: HTTP/1.1 on each accepted connection, over TLS when
//! the server has an acceptor (and with HSTS on every answer when set),
//! with the client's address attached to every
//! request ([`ClientAddr`], read by the rate limits). Limits that hold
//! before any route runs: a TLS handshake must finish within
//! [`HANDSHAKE_TIMEOUT`], request headers must arrive within
//! [`HEADER_TIMEOUT`]; on shutdown the listener closes at once and open
//! connections get [`DRAIN_TIMEOUT`] to finish.
use super::AppState;
use super::host_check::ServerAddr;
use super::tls::Https;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use warp::Filter;

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections whose TLS handshake failed or timed out, since start.
static TLS_HANDSHAKE_FAILURES: AtomicU64 = AtomicU64::new(0);

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
    let filter = super::routes::routes(state);
    let listen = listener.local_addr().ok();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving
                    // the connections we have, try again shortly.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let server_addr = match (listen, tcp.local_addr()) {
            (Some(listen), Ok(local)) => Some(ServerAddr { listen, local }),
            _ => None,
        };
        let svc = warp::service(filter.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
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
