//! The central: one durable pull consumer on every site's subjects. A
//! site's samples are written to the central's own store and acknowledged
//! only after the commit, so a crash in between makes JetStream deliver
//! them again; the store keys samples by series and time, so a batch
//! written twice leaves every sample once. Heartbeats say which sites are
//! alive ([`SiteWatch`]): a site silent for three of its heartbeat periods
//! is logged once as unreachable, and again when it is back.
use super::connect::{self, SitesError};
use super::liveness::{SiteEvent, SiteWatch};
use super::{SiteSettings, wire};
use crate::store::{Batch, Store, StoreConfig};
use crate::types::UnixMillis;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use futures::StreamExt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::block_in_place;

/// A message not acknowledged within this is delivered again.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// Runs until `stop` turns true.
pub async fn run(
    settings: SiteSettings,
    db: PathBuf,
    store_config: StoreConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut store = match block_in_place(|| Store::open(&db, store_config)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "central: cannot open the store; sites are not read");
            return;
        }
    };
    let mut sites = SiteWatch::default();
    loop {
        let consumed = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            r = consume(&settings, &mut store, &mut sites) => r,
        };
        if let Err(e) = consumed {
            tracing::warn!(error = %e, "central: reading the sites' stream; again in 1 s");
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn consume(
    settings: &SiteSettings,
    store: &mut Store,
    sites: &mut SiteWatch,
) -> Result<(), SitesError> {
    let js = connect::connect(settings).await?;
    let stream = connect::ensure_stream(&js).await?;
    let consumer_err = |e: &dyn std::fmt::Display| SitesError::Consumer {
        consumer: wire::CENTRAL_CONSUMER,
        reason: e.to_string(),
    };
    let consumer = stream
        .get_or_create_consumer(
            wire::CENTRAL_CONSUMER,
            pull::Config {
                durable_name: Some(wire::CENTRAL_CONSUMER.to_string()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: 10_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| consumer_err(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| consumer_err(&e))?;
    tracing::info!("central: reading the sites' stream");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let msg = tokio::select! {
            m = messages.next() => m,
            _ = tick.tick() => {
                for event in sites.tick(UnixMillis::now().0) {
                    tell(&event);
                }
                continue;
            }
        };
        let Some(msg) = msg else { break };
        let msg = msg.map_err(|e| consumer_err(&e))?;
        let Some((site, kind)) = wire::parse_subject(msg.subject.as_str()) else {
            tracing::warn!("central: a message on a subject that names no site; dropped");
            let _ = msg.ack().await;
            continue;
        };
        match kind {
            wire::Kind::Samples => {
                match serde_json::from_slice::<wire::SampleBatch>(&msg.payload) {
                    Ok(batch) if batch.site == site => {
                        let batch = Batch {
                            samples: batch.to_samples(),
                            gaps: vec![],
                        };
                        // Acknowledged only once committed; a failed write is
                        // delivered again after ACK_WAIT.
                        block_in_place(|| store.write_batch(&batch))?;
                    }
                    Ok(_) => tracing::warn!(site, "central: a batch naming another site; dropped"),
                    Err(e) => {
                        tracing::warn!(site, error = %e, "central: an unreadable batch; dropped")
                    }
                }
            }
            wire::Kind::Heartbeat => {
                match serde_json::from_slice::<wire::Heartbeat>(&msg.payload) {
                    Ok(beat) if beat.site == site => {
                        let now = UnixMillis::now().0;
                        if let Some(event) = sites.heard(site, beat.at, beat.every_ms, now) {
                            tell(&event);
                        }
                    }
                    Ok(_) => {
                        tracing::warn!(site, "central: a heartbeat naming another site; dropped")
                    }
                    Err(e) => tracing::warn!(site, error = %e, "central: an unreadable heartbeat"),
                }
            }
        }
        let _ = msg.ack().await;
    }
    Ok(())
}

/// The log line of a site's change (the alert of issue 17 is not wired yet).
fn tell(event: &SiteEvent) {
    match event {
        SiteEvent::Heard { site } => tracing::info!(site, "central: site poller heard"),
        SiteEvent::Back { site } => tracing::info!(site, "central: site poller back"),
        SiteEvent::Silent { site, last_ms } => tracing::warn!(
            site,
            last_heard_ms = last_ms,
            "central: site poller unreachable; its devices are stale, not down"
        ),
    }
}
