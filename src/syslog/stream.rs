//! Syslog over TCP (RFC 6587: octet-counted or LF-framed) and TLS (RFC
//! 5425): the accept loop, at most [`MAX_CONNECTIONS`] open at once (more
//! are closed and counted), and one task per connection that splits the
//! stream with the pure `framing::Deframer` and hands each message to the
//! receiver's sink. A broken frame closes that connection only. TLS is
//! rustls with the ring provider, as the API's server, its pair read by
//! `util::http_tls::read_pem_pair` (read once at start: a renewed pair
//! takes a restart).
use super::framing::Deframer;
use super::receiver::{Sink, SyslogError};
use super::stats::{DropReason, Transport};
use crate::util::http_tls::{PemPairProblem, read_pem_pair};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Stream connections open at once, TCP and TLS each.
pub const MAX_CONNECTIONS: usize = 512;
/// Time a TLS client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS server configuration for syslog from the PEM files.
pub(super) fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, SyslogError> {
    let (chain, key_der) = read_pem_pair(cert, key).map_err(|p| match p {
        PemPairProblem::Cert(message) => SyslogError::TlsFile {
            path: cert.to_path_buf(),
            message,
        },
        PemPairProblem::Key(message) => SyslogError::TlsFile {
            path: key.to_path_buf(),
            message,
        },
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyslogError::TlsPair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| SyslogError::TlsPair(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts until the stop signal; each connection ends with it too.
pub(super) async fn accept(
    listener: tokio::net::TcpListener,
    tls: Option<TlsAcceptor>,
    sink: Sink,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let got = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (conn, peer) = match got {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("syslog receiver (stream): accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if open.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::Relaxed);
            sink.stats.dropped(DropReason::ConnectionLimit);
            continue;
        }
        let (sink, stop, open, tls) = (sink.clone(), stop.clone(), open.clone(), tls.clone());
        tokio::spawn(async move {
            let source = peer.ip().to_canonical();
            match tls {
                None => read_stream(conn, source, Transport::Tcp, &sink, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(conn)).await {
                        Ok(Ok(s)) => read_stream(s, source, Transport::Tls, &sink, stop).await,
                        _ => sink.stats.dropped(DropReason::TlsHandshake),
                    }
                }
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn read_stream<S: AsyncRead + Unpin>(
    mut s: S,
    source: IpAddr,
    transport: Transport,
    sink: &Sink,
    mut stop: watch::Receiver<bool>,
) {
    let mut frames = Deframer::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = s.read(&mut buf) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let n = match n {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        frames.push(&buf[..n]);
        while let Some(f) = frames.next_frame() {
            match f {
                Ok(msg) => sink.take(&msg, source, transport),
                Err(_) => {
                    sink.stats.dropped(DropReason::Framing);
                    return;
                }
            }
        }
    }
    if let Some(last) = frames.finish() {
        sink.take(&last, source, transport);
    }
}
