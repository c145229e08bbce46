//! HTTPS for the API and the map: the certificate chain and private key
//! named by `[server] tls_cert` and `tls_key` (PEM files), in a rustls
//! server configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
//! A problem with either file stops serve at start with the file's path
//! and what is wrong with it; the key's bytes never reach an error or a
//! log.
//!
//! Renewed certificates are picked up without a restart: at a handshake at
//! most every [`RELOAD_CHECK`], the files' modification times and lengths
//! are compared with those read; when they changed, both are read again
//! and, if they make a usable pair, serve the next handshakes. A pair that
//! cannot be used (a half-written renewal, a key of another certificate)
//! is logged once per change and the previous certificate stays in use.
use super::metrics::{Family, MetricKind, MetricSample, family, single};
use crate::util::http_tls::{PemPairProblem, pair_problem, read_pem_pair};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// How often, at most, the files are looked at for a renewal.
pub const RELOAD_CHECK: Duration = Duration::from_secs(10);

static RELOADS: AtomicU64 = AtomicU64::new(0);
/// `notAfter` of the certificate in use, seconds since the epoch; 0: none.
static NOT_AFTER: AtomicI64 = AtomicI64::new(0);

/// When the certificate in use expires (seconds since the Unix epoch), if
/// one is in use and its validity could be read.
pub fn certificate_not_after() -> Option<i64> {
    Some(NOT_AFTER.load(Ordering::Relaxed)).filter(|t| *t != 0)
}

/// A warning when the certificate in use expires within 14 days of `now`
/// or has expired; None otherwise.
pub fn expiry_warning(now: crate::types::UnixMillis) -> Option<String> {
    let t = certificate_not_after()?;
    let now_s = now.0 / 1000;
    let days = (t - now_s) as f64 / 86_400.0;
    (days < 14.0).then(|| {
        let when = if days < 0.0 {
            format!("expired {:.1} days ago", -days)
        } else {
            format!("expires in {days:.1} days")
        };
        format!(
            "the TLS certificate {when} (notAfter {}); renewed files are picked up without a restart",
            crate::util::time::rfc3339(crate::types::UnixMillis(t.saturating_mul(1000)))
        )
    })
}

fn note_in_use(key: &CertifiedKey) {
    let t = key
        .end_entity_cert()
        .ok()
        .and_then(|c| super::x509_time::not_after(c.as_ref()))
        .unwrap_or(0);
    NOT_AFTER.store(t, Ordering::Relaxed);
}
static RELOAD_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Renewed certificates taken into use since start.
pub fn reloads() -> u64 {
    RELOADS.load(Ordering::Relaxed)
}

/// Changed files that could not be used (the previous pair stayed).
pub fn reload_failures() -> u64 {
    RELOAD_FAILURES.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("server.tls_cert {path}: {message}")]
    Cert { path: PathBuf, message: String },
    #[error("server.tls_key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("server.tls_cert and server.tls_key: {0}")]
    Pair(String),
}

/// HTTPS as the server runs it: the acceptor, and the HSTS max-age it
/// announces on every answer (`Strict-Transport-Security`; None: no such
/// header, the default: with a self-signed certificate HSTS would stop
/// browsers from letting users past the certificate warning).
#[derive(Clone)]
pub struct Https {
    pub acceptor: TlsAcceptor,
    pub hsts_max_age_s: Option<u64>,
}

impl From<TlsAcceptor> for Https {
    fn from(acceptor: TlsAcceptor) -> Https {
        Https {
            acceptor,
            hsts_max_age_s: None,
        }
    }
}

impl Https {
    /// The `Strict-Transport-Security` value to send, if any.
    pub fn hsts(&self) -> Option<warp::http::HeaderValue> {
        self.hsts_max_age_s.map(|s| {
            warp::http::HeaderValue::from_str(&format!("max-age={s}"))
                .expect("digits are a valid header value")
        })
    }
}

/// Reads both files and builds the acceptor, which looks for renewed files
/// every [`RELOAD_CHECK`]. The chain is the PEM `CERTIFICATE` blocks of
/// `cert` in order (the server's own first); the key is the first private
/// key block of `key` (PKCS#8, PKCS#1 or SEC1) and must belong to the first
/// certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    acceptor_checking_every(cert, key, RELOAD_CHECK)
}

/// [`acceptor`] with another interval between looks at the files.
pub fn acceptor_checking_every(
    cert: &Path,
    key: &Path,
    every: Duration,
) -> Result<TlsAcceptor, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let stamp = stamp(cert, key);
    let first = load(cert, key, &provider)?;
    note_in_use(&first);
    let resolver = Reloading {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        provider: provider.clone(),
        every,
        current: Mutex::new(Current {
            key: Arc::new(first),
            stamp,
            checked: Instant::now(),
            refused: None,
        }),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Both files read and checked as a pair.
fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let (chain, key_der) = read_pem_pair(cert, key).map_err(|p| match p {
        PemPairProblem::Cert(message) => TlsError::Cert {
            path: cert.to_path_buf(),
            message,
        },
        PemPairProblem::Key(message) => TlsError::Key {
            path: key.to_path_buf(),
            message,
        },
    })?;
    CertifiedKey::from_der(chain, key_der, provider).map_err(|e| TlsError::Pair(pair_problem(&e)))
}

/// What tells a renewal: each file's modification time and length.
type Stamp = [(Option<SystemTime>, u64); 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let one = |p: &Path| std::fs::metadata(p).map_or((None, 0), |m| (m.modified().ok(), m.len()));
    [one(cert), one(key)]
}

#[derive(Debug)]
struct Reloading {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    every: Duration,
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    key: Arc<CertifiedKey>,
    /// The files as they were when `key` was read.
    stamp: Stamp,
    checked: Instant,
    /// The files as they were when they last could not be used (told once).
    refused: Option<Stamp>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut c = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if c.checked.elapsed() >= self.every {
            c.checked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now != c.stamp && c.refused != Some(now) {
                match load(&self.cert, &self.key, &self.provider) {
                    Ok(k) => {
                        note_in_use(&k);
                        c.key = Arc::new(k);
                        c.stamp = now;
                        c.refused = None;
                        RELOADS.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                    }
                    Err(e) => {
                        c.refused = Some(now);
                        RELOAD_FAILURES.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "TLS files changed but cannot be used; the previous certificate stays in use");
                    }
                }
            }
        }
        Some(c.key.clone())
    }
}

/// The HTTP server's own TLS counters and its certificate's expiry (process
/// state, not the snapshot's).
pub(super) fn metric_families(out: &mut Vec<Family>) {
    for (name, help, value) in [
        (
            "nocmap_http_tls_handshake_failures_total",
            "Connections to the API whose TLS handshake failed or timed out (plain HTTP to the HTTPS port, unknown certificate, a silent client); 0 without TLS.",
            super::listener::tls_handshake_failures(),
        ),
        (
            "nocmap_http_tls_certificate_reloads_total",
            "Renewed TLS certificate files taken into use without a restart.",
            reloads(),
        ),
        (
            "nocmap_http_tls_certificate_reload_failures_total",
            "Changes of the TLS files that could not be used (the previous certificate stayed in use).",
            reload_failures(),
        ),
    ] {
        out.push(single(name, help, MetricKind::Counter, value as f64));
    }
    let mut expiry = family(
        "nocmap_http_tls_certificate_not_after_seconds",
        "When the API's TLS certificate in use expires, in seconds since the Unix epoch (no sample without TLS).",
        MetricKind::Gauge,
    );
    if let Some(t) = certificate_not_after() {
        expiry.samples.push(MetricSample::plain(vec![], t as f64));
    }
    out.push(expiry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cert: &Path, key: &Path) -> String {
        match acceptor(cert, key) {
            Ok(_) => panic!("accepted {cert:?} and {key:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn missing_and_empty_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = refused(&cert, &key);
        assert!(
            e.starts_with("server.tls_cert ") && e.contains("cannot read"),
            "{e}"
        );
        std::fs::write(&cert, "not pem\n").unwrap();
        let e = refused(&cert, &key);
        assert!(e.contains("no PEM CERTIFICATE block"), "{e}");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = refused(&cert, &key);
        assert!(e.contains("base64") || e.contains("PEM"), "{e}");
    }
}
