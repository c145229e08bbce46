//! The central: one durable pull consumer on every site's subjects. A
//! site's samples are written to the central's own store and acknowledged
//! only after the commit, so a crash in between makes JetStream deliver
//! them again; the store keys samples by series and time, so a batch
//! written twice leaves every sample once. Heartbeats say which sites are
//! alive (logged when a site appears or comes back).
use super::connect::{self, SitesError};
use super::{SiteSettings, wire};
use crate::store::{Batch, Store, StoreConfig};
use async_nats::jetstream::consumer::{AckPolicy, pull};
use futures::StreamExt;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
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
    let mut sites: HashMap<String, Instant> = HashMap::new();
    let silent_after = settings.heartbeat * 3;
    loop {
        let consumed = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            r = consume(&settings, &mut store, &mut sites, silent_after) => r,
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
    sites: &mut HashMap<String, Instant>,
    silent_after: Duration,
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
    while let Some(msg) = messages.next().await {
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
                let now = Instant::now();
                let back = sites
                    .insert(site.to_string(), now)
                    .is_none_or(|last| now.duration_since(last) > silent_after);
                if back {
                    tracing::info!(site, "central: site poller heard");
                }
            }
        }
        let _ = msg.ack().await;
    }
    Ok(())
}
