//! The NATS connection of a site poller or the central, and the stream
//! both use. Errors name the operation, never a credential.
use super::SiteSettings;
use super::wire;
use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// Waits for a JetStream acknowledgement (and for a JetStream API answer).
pub const ACK_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the stream keeps what the sites sent (the central catches up
/// within it after its own outage).
const STREAM_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// Within this, a batch sent again (its ack lost in a cut) is dropped by
/// the server; beyond it the central's store is idempotent anyway.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

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
    Consumer {
        consumer: &'static str,
        reason: String,
    },
    #[error("publish to {subject}: the server has no stream for it")]
    NoStream { subject: String },
    #[error("publish to {subject}: {reason}")]
    Publish { subject: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Connects (in the background when the server cannot be reached yet: a
/// site poller starts during a WAN cut too) and gives a JetStream context.
pub async fn connect(s: &SiteSettings) -> Result<jetstream::Context, SitesError> {
    let mut opts = async_nats::ConnectOptions::new()
        .name(format!("nocmap-{}", s.site))
        .ping_interval(Duration::from_secs(5))
        .connection_timeout(Duration::from_secs(3))
        .retry_on_initial_connect()
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 250).min(2_000))
        });
    match &s.auth {
        super::Auth::None => {}
        super::Auth::UserPassword { user, password } => {
            opts = opts.user_and_password(user.clone(), password.expose().to_string());
        }
        super::Auth::Nkey(seed) => opts = opts.nkey(seed.expose().to_string()),
    }
    if let Some(ca) = &s.ca_file {
        opts = opts.add_root_certificates(ca.clone()).require_tls(true);
    }
    let client = opts
        .connect(s.url.as_str())
        .await
        // The error's text names the kind of failure, not the options.
        .map_err(|e| SitesError::Connect(e.kind().to_string()))?;
    let mut js = jetstream::new(client);
    js.set_timeout(ACK_TIMEOUT);
    Ok(js)
}

/// The sites' stream, created when missing.
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
