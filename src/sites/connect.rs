//! The NATS connection of a site poller or the central, and the stream
//! the central creates. TLS (`tls://`, a private CA in `ca_file`, a client
//! certificate), user/password or an nkey seed. What goes wrong is logged
//! in plain words — the TLS handshake and why, the credentials refused, a
//! publish or subscription the server's permissions refused — and counted
//! ([`NatsStats`], served on `/metrics`); no message ever carries a
//! credential (each is also scrubbed of the secret's text, should a
//! library ever echo it).
use super::wire;
use super::{Auth, SiteSettings};
use async_nats::jetstream::{self, stream};
use async_nats::{ClientError, ConnectError, ConnectErrorKind, Event, ServerError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Waits for a JetStream acknowledgement (and for a JetStream API answer).
pub const ACK_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the stream keeps what the sites sent (the central catches up
/// within it after its own outage).
const STREAM_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// Within this, a batch sent again (its ack lost in a cut) is dropped by
/// the server; beyond it the central's store is idempotent anyway.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// The same complaint is logged again after this (every one is counted).
const RETELL_AFTER: Duration = Duration::from_secs(60);
/// The most distinct complaints remembered (the subjects a server refuses
/// are few; this only bounds the memory).
const MAX_TOLD: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum SitesError {
    #[error("NATS connection to the configured server: {0}")]
    Connect(String),
    #[error("JetStream stream {stream}: {reason}")]
    Stream {
        stream: &'static str,
        reason: String,
    },
    #[error("JetStream consumer {consumer}: {reason}")]
    Consumer { consumer: String, reason: String },
    #[error("publish to {subject}: the server has no stream for it")]
    NoStream { subject: String },
    #[error("publish to {subject}: {reason}")]
    Publish { subject: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static CONNECTED: AtomicBool = AtomicBool::new(false);
static CONNECT_FAILURES: AtomicU64 = AtomicU64::new(0);
static PERMISSION_VIOLATIONS: AtomicU64 = AtomicU64::new(0);

/// The NATS connection's counters, process-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatsStats {
    pub connected: bool,
    /// Connection attempts that failed (refused, TLS, credentials, timeout).
    pub connect_failures: u64,
    /// Publishes and subscriptions the server's permissions refused.
    pub permission_violations: u64,
}

/// The counters, once this process has used NATS (`None` without `[nats]`).
pub fn stats() -> Option<NatsStats> {
    ACTIVE.load(Ordering::Relaxed).then(|| NatsStats {
        connected: CONNECTED.load(Ordering::Relaxed),
        connect_failures: CONNECT_FAILURES.load(Ordering::Relaxed),
        permission_violations: PERMISSION_VIOLATIONS.load(Ordering::Relaxed),
    })
}

/// Connects, trying again until the server takes the connection (a site
/// poller starts during a WAN cut too; the caller selects on its stop
/// signal), and gives a JetStream context. Every failed attempt is counted
/// and logged with what failed, the same failure again only once a minute.
/// Once connected, async-nats reconnects by itself; [`Teller`] logs and
/// counts what it reports.
pub async fn connect(s: &SiteSettings) -> Result<jetstream::Context, SitesError> {
    ACTIVE.store(true, Ordering::Relaxed);
    let teller = Arc::new(Teller::new(s));
    let mut attempts: u64 = 0;
    let client = loop {
        match options(s, teller.clone()).connect(s.url.as_str()).await {
            Ok(client) => break client,
            Err(e) => {
                attempts += 1;
                CONNECT_FAILURES.fetch_add(1, Ordering::Relaxed);
                let why = teller.scrub(&describe(&e));
                // A server out of reach (a WAN cut) heals by itself; a
                // refused certificate or credential needs someone.
                let needs_someone = tls_error(&e).is_some()
                    || matches!(
                        e.kind(),
                        ConnectErrorKind::AuthorizationViolation
                            | ConnectErrorKind::Authentication
                            | ConnectErrorKind::Tls
                    );
                teller.tell("connect", &why, |why| {
                    if needs_someone {
                        tracing::error!(site = %s.site, attempts, error = %why,
                            "NATS: cannot connect; trying again");
                    } else {
                        tracing::warn!(site = %s.site, attempts, error = %why,
                            "NATS: cannot connect; trying again");
                    }
                });
                tokio::time::sleep(retry_delay(attempts)).await;
            }
        }
    };
    // Logged by the teller (async-nats reports the first connection too).
    CONNECTED.store(true, Ordering::Relaxed);
    let mut js = jetstream::new(client);
    js.set_timeout(ACK_TIMEOUT);
    Ok(js)
}

fn retry_delay(attempts: u64) -> Duration {
    Duration::from_millis((attempts * 250).min(2_000))
}

fn options(s: &SiteSettings, teller: Arc<Teller>) -> async_nats::ConnectOptions {
    let mut opts = async_nats::ConnectOptions::new()
        .name(format!("nocmap-{}", s.site))
        // Replies (JetStream acknowledgements, API answers) come to this
        // box's own inboxes, so a site's user needs to subscribe only to
        // `_INBOX.<site>.>` and never sees another site's replies.
        .custom_inbox_prefix(inbox_prefix(&s.site))
        .ping_interval(Duration::from_secs(5))
        .connection_timeout(Duration::from_secs(3))
        .reconnect_delay_callback(|attempts| retry_delay(attempts as u64))
        .event_callback(move |event| {
            let teller = teller.clone();
            async move { teller.event(event) }
        });
    match &s.auth {
        Auth::None => {}
        Auth::UserPassword { user, password } => {
            opts = opts.user_and_password(user.clone(), password.expose().to_string());
        }
        Auth::Nkey(seed) => opts = opts.nkey(seed.expose().to_string()),
    }
    if let Some(ca) = &s.ca_file {
        opts = opts.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &s.client_cert {
        opts = opts.add_client_certificate(cert.clone(), key.clone());
    }
    if s.url.starts_with("tls://") {
        opts = opts.require_tls(true);
    }
    opts
}

/// The subject prefix of this box's reply inboxes.
pub fn inbox_prefix(site: &str) -> String {
    format!("_INBOX.{site}")
}

/// What a failed connection attempt says, in plain words: the TLS
/// handshake and why, the credentials refused, the server not answering.
/// Never a credential: the options are not part of any of these.
fn describe(e: &ConnectError) -> String {
    if let Some(tls) = tls_error(e) {
        use async_nats::rustls::{CertificateError, Error as R};
        let hint = match &tls {
            R::InvalidCertificate(CertificateError::UnknownIssuer) => {
                " (the server's certificate is not signed by a CA this box trusts: \
                 set nats.ca_file to the CA that signed it)"
            }
            R::InvalidCertificate(CertificateError::NotValidForName)
            | R::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
                " (the server's certificate does not name the host or address of nats.url)"
            }
            R::InvalidCertificate(CertificateError::Expired)
            | R::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
                " (the server's certificate has expired)"
            }
            R::AlertReceived(_) => {
                " (the server refused the handshake: does it require a client certificate?)"
            }
            _ => "",
        };
        return format!("TLS handshake failed: {tls}{hint}");
    }
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    match e.kind() {
        ConnectErrorKind::AuthorizationViolation => {
            "the server refused the credentials (authorization violation): check nats.user \
             and nats.password, or nats.nkey_seed"
                .into()
        }
        // The source may be the key library's text about the seed: left out.
        ConnectErrorKind::Authentication => {
            "signing the server's challenge with nats.nkey_seed failed (is it a user seed?)".into()
        }
        ConnectErrorKind::Tls => format!("TLS setup: {source}"),
        ConnectErrorKind::TimedOut => "no answer from the server in time".into(),
        ConnectErrorKind::ServerParse => "nats.url is not a server address".into(),
        kind => format!("{kind}: {source}"),
    }
}

/// The rustls error behind a failed handshake (async-nats reports most of
/// them as I/O errors).
fn tls_error(e: &ConnectError) -> Option<async_nats::rustls::Error> {
    let mut next = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<async_nats::rustls::Error>() {
            return Some(r.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(r) = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<async_nats::rustls::Error>())
        {
            return Some(r.clone());
        }
        next = err.source();
    }
    None
}

/// Logs and counts what the connection reports, each distinct complaint
/// once a minute at most.
struct Teller {
    site: String,
    tls: bool,
    /// The secret's text, scrubbed from anything logged.
    secret: Option<String>,
    /// When each complaint was last told.
    told: Mutex<HashMap<String, Instant>>,
}

impl Teller {
    fn new(s: &SiteSettings) -> Teller {
        let secret = match &s.auth {
            Auth::None => None,
            Auth::UserPassword { password, .. } => Some(password.expose().to_string()),
            Auth::Nkey(seed) => Some(seed.expose().to_string()),
        };
        Teller {
            site: s.site.clone(),
            tls: s.url.starts_with("tls://"),
            secret: secret.filter(|s| !s.is_empty()),
            told: Mutex::new(HashMap::new()),
        }
    }

    fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => text.replace(secret.as_str(), "***"),
            None => text.to_string(),
        }
    }

    /// Runs `log` unless the same `what` and `text` were told within a minute.
    fn tell(&self, what: &str, text: &str, log: impl FnOnce(&str)) {
        let key = format!("{what}: {text}");
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        if told.get(&key).is_some_and(|at| at.elapsed() < RETELL_AFTER) {
            return;
        }
        if told.len() >= MAX_TOLD {
            told.retain(|_, at| at.elapsed() < RETELL_AFTER);
        }
        told.insert(key, Instant::now());
        log(text);
    }

    fn event(&self, event: Event) {
        let site = tracing::field::display(&self.site);
        match event {
            Event::Connected => {
                CONNECTED.store(true, Ordering::Relaxed);
                self.told.lock().unwrap_or_else(|p| p.into_inner()).clear();
                tracing::info!(site, tls = self.tls, "NATS: connected");
            }
            Event::Disconnected => {
                CONNECTED.store(false, Ordering::Relaxed);
                tracing::warn!(site, "NATS: disconnected; reconnecting");
            }
            Event::ServerError(ServerError::AuthorizationViolation) => {
                tracing::error!(
                    site,
                    "NATS: the server refused the credentials (authorization violation)"
                );
            }
            Event::ServerError(ServerError::Other(text)) => {
                let text = self.scrub(&text);
                if is_permission_violation(&text) {
                    PERMISSION_VIOLATIONS.fetch_add(1, Ordering::Relaxed);
                    self.tell("permissions", &text, |text| {
                        tracing::error!(site, refused = %text,
                            "NATS: refused by the server's permissions: this site's user may \
                             use only its own subjects (check nats.site and the credentials); \
                             what is owed stays journalled");
                    });
                } else {
                    self.tell("server", &text, |text| {
                        tracing::warn!(site, error = %text, "NATS: the server reported an error");
                    });
                }
            }
            Event::ServerError(e) => tracing::warn!(site, error = %e, "NATS: server error"),
            Event::ClientError(ClientError::Other(text)) => {
                // A failed reconnect: async-nats gives only the kind.
                CONNECT_FAILURES.fetch_add(1, Ordering::Relaxed);
                let text = self.scrub(&text);
                self.tell("reconnect", &text, |text| {
                    tracing::warn!(site, error = %text, "NATS: reconnecting failed; trying again");
                });
            }
            Event::ClientError(e) => tracing::warn!(site, error = %e, "NATS: client error"),
            Event::SlowConsumer(_) | Event::LameDuckMode | Event::Draining | Event::Closed => {
                tracing::info!(site, event = %event, "NATS");
            }
        }
    }
}

/// Whether a server `-ERR` is a permissions violation ("Permissions
/// Violation for Publish to ..." or "... for Subscription to ...").
fn is_permission_violation(text: &str) -> bool {
    text.to_ascii_lowercase().contains("permissions violation")
}

/// The sites' stream, created when missing. Only the central calls this:
/// a site's user needs no JetStream API permission at all.
pub async fn ensure_stream(js: &jetstream::Context) -> Result<stream::Stream, SitesError> {
    js.get_or_create_stream(stream::Config {
        name: wire::STREAM.to_string(),
        subjects: vec![wire::ALL_SITES.to_string()],
        max_age: STREAM_MAX_AGE,
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| SitesError::Stream {
        stream: wire::STREAM,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{NatsRole, Secret};

    fn settings(auth: Auth) -> SiteSettings {
        SiteSettings {
            url: "tls://127.0.0.1:4222".into(),
            site: "east".into(),
            role: NatsRole::Poller,
            auth,
            ca_file: None,
            client_cert: None,
            backfill_per_s: 10,
            heartbeat: Duration::from_secs(1),
            expect: vec![],
            group: None,
            central: None,
        }
    }

    #[test]
    fn a_permission_refusal_is_recognised_and_a_secret_is_scrubbed() {
        assert!(is_permission_violation(
            "Permissions Violation for Publish to \"nocmap.site.west.heartbeat\""
        ));
        assert!(is_permission_violation(
            "permissions violation for subscription to \"_INBOX.west.x.*\""
        ));
        assert!(!is_permission_violation("Maximum Payload Violation"));
        let t = Teller::new(&settings(Auth::UserPassword {
            user: "east".into(),
            password: Secret::new("hunter2-pw"),
        }));
        assert_eq!(t.scrub("a hunter2-pw b"), "a *** b");
        let mut told = 0;
        t.tell("x", "same", |_| told += 1);
        t.tell("x", "same", |_| told += 1);
        t.tell("x", "other", |_| told += 1);
        t.tell("x", "same", |_| told += 1);
        assert_eq!(told, 2, "a complaint is told once a minute");
    }

    /// A handshake against a server whose certificate no trusted CA signed
    /// says so, with the hint to set `nats.ca_file`.
    #[test]
    fn an_unknown_issuer_is_named() {
        use async_nats::rustls::{CertificateError, Error as R};
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            R::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let e = ConnectError::with_source(ConnectErrorKind::Io, io);
        let text = describe(&e);
        assert!(text.starts_with("TLS handshake failed"), "{text}");
        assert!(text.contains("nats.ca_file"), "{text}");
        let e = ConnectError::new(ConnectErrorKind::AuthorizationViolation);
        assert!(describe(&e).contains("authorization violation"));
    }
}
