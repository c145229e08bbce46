//! The central: one durable pull consumer on every site's subjects. A
//! site's samples are written to the central's own store and acknowledged
//! only after the commit, so a crash in between makes JetStream deliver
//! them again; the store keys samples by series and time, so a batch
//! written twice leaves every sample once. A site's newest topology (by
//! stream sequence) goes to `serve`, which merges it into the one map; its
//! verdicts become its devices' health there ([`merge`]). Heartbeats say
//! which sites are alive ([`SiteWatch`]): a site silent for three of its
//! heartbeat periods is logged once as unreachable, its devices turn
//! stale (never down) and its "site poller unreachable" alert fires
//! ([`site_alert`]); at its next heartbeat it is logged back and the
//! alert resolves. The sites it expects — configured (`[nats] sites`) or
//! with heartbeats in the stream — are watched from the start, so one
//! already silent then raises its alert too; the first heartbeat of a site
//! resolves an alert restored from before a restart. The alerts go to the
//! alerting task, which records and tells them. Each committed batch's
//! samples are counted by how late they arrived ([`delay`]: commit time
//! minus poll time, live and backfilled apart).
use super::connect::{self, SitesError};
use super::liveness::{self, SiteEvent, SiteWatch};
use super::wire::SiteState;
use super::{
    SiteSettings, Wiring, delay, merge, site_alert, wire, wire_events, wire_gaps, wire_interfaces,
    wire_parts,
};
use crate::store::{Batch, Store, StoreConfig};
use crate::types::UnixMillis;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use futures::StreamExt;
use std::collections::BTreeMap;
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
    wiring: Wiring,
    mut stop: watch::Receiver<bool>,
) {
    let mut store = match block_in_place(|| Store::open(&db, store_config)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "central: cannot open the store; sites are not read");
            return;
        }
    };
    let mut sites = Sites {
        watch: SiteWatch::default(),
        wiring,
        verdicts: BTreeMap::new(),
        members_heard: BTreeMap::new(),
        topology_seq: BTreeMap::new(),
        verdicts_seq: BTreeMap::new(),
        parts: BTreeMap::new(),
        silent_since: BTreeMap::new(),
        from_stream: false,
    };
    let now = UnixMillis::now().0;
    let window = liveness::window_ms(settings.heartbeat.as_millis() as i64);
    for site in &settings.expect {
        sites.watch.expect(site, None, window, now);
    }
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

/// What the central knows of its sites beyond their samples.
struct Sites {
    watch: SiteWatch,
    wiring: Wiring,
    /// Each site's newest verdicts (in a poller group, each member's), by
    /// [`sender`].
    verdicts: BTreeMap<String, wire::SiteVerdicts>,
    /// A poller group member's last live heartbeat and its period (wall
    /// ms), by [`sender`]: a silent member's verdicts no longer count.
    members_heard: BTreeMap<String, (i64, i64)>,
    /// The stream sequences of each site's newest topology and verdicts
    /// (of each of its parts when it came in parts; the newest last).
    topology_seq: BTreeMap<String, Vec<u64>>,
    verdicts_seq: BTreeMap<String, Vec<u64>>,
    /// The parts of topologies and verdicts being put back together, by
    /// subject (each bounded: [`wire_parts::Parts`]).
    parts: BTreeMap<String, wire_parts::Parts>,
    /// When each silent site was last heard (the alert's start).
    silent_since: BTreeMap<String, UnixMillis>,
    /// The sites with heartbeats in the stream are expected (once).
    from_stream: bool,
}

impl Sites {
    /// The site's newest verdicts into the live picture, standing from
    /// when the site was last heard (nothing while it is silent or was
    /// never heard live).
    /// In a poller group each member's verdicts count (its own devices)
    /// while it is heard: oldest first, so a device a member took over
    /// reads the newer member's verdict.
    fn apply(&self, site: &str) {
        let Some((heard, window)) = self.watch.heard_at(site) else {
            return;
        };
        let now = UnixMillis::now().0;
        let mut all: Vec<&wire::SiteVerdicts> = self
            .verdicts
            .values()
            .filter(|v| v.site == site)
            .filter(|v| match &v.poller {
                None => true,
                Some(p) => self
                    .members_heard
                    .get(&wire::sender(site, Some(p)))
                    .is_some_and(|(at, every)| now - at <= 3 * every),
            })
            .collect();
        if all.is_empty() {
            return;
        }
        all.sort_by_key(|v| v.at);
        let live = &self.wiring.live;
        let members = live.read_topology(|t| merge::site_devices(t, site));
        live.update_devices(|d| {
            for v in all {
                merge::apply_verdicts(d, &members, v, heard, window)
            }
        });
    }

    /// A site's link interfaces, received at `received`, into the live
    /// picture while the site is heard (a silent site's stay stale).
    fn apply_interfaces(
        &self,
        site: &str,
        interfaces: &[wire_interfaces::WireInterface],
        received: UnixMillis,
    ) {
        if self.watch.heard_at(site).is_none() {
            return;
        }
        let live = &self.wiring.live;
        let members = live.read_topology(|t| merge::site_devices(t, site));
        live.update_interfaces(|i| wire_interfaces::apply(i, &members, interfaces, received));
    }

    /// A change of a site's liveness: told in the log, its devices stale
    /// when silent, and the site's alert fired or resolved.
    fn changed(&mut self, event: &SiteEvent) {
        tell(event);
        let now = UnixMillis::now();
        let (site, up) = match event {
            SiteEvent::Heard { site } | SiteEvent::Back { site } => (site, true),
            SiteEvent::Silent { site, .. } => (site, false),
        };
        self.wiring.status.set(site, up);
        let alert = match event {
            SiteEvent::Heard { site } => {
                self.apply(site);
                // Resolves an alert restored from before a restart (the
                // alerting task drops it when none fires).
                Some(site_alert::event(site, false, now, now))
            }
            SiteEvent::Silent { site, last_ms } => {
                let live = &self.wiring.live;
                let members = live.read_topology(|t| merge::site_devices(t, site));
                live.update_devices(|d| merge::silence(d, &members));
                live.update_interfaces(|i| wire_interfaces::silence(i, &members));
                self.silent_since.insert(site.clone(), UnixMillis(*last_ms));
                Some(site_alert::event(site, true, UnixMillis(*last_ms), now))
            }
            SiteEvent::Back { site } => {
                self.apply(site);
                self.silent_since
                    .remove(site)
                    .map(|since| site_alert::event(site, false, since, now))
            }
        };
        if let Some(alert) = alert
            && self.wiring.alerts.send(alert).is_err()
        {
            tracing::error!("central: the alerting task is gone; a site alert is not recorded");
        }
    }
}

/// The sites with heartbeats in the stream, each with its last one (the
/// sites a central restarted during their silence still expects).
async fn stream_sites(stream: &async_nats::jetstream::stream::Stream) -> Vec<wire::Heartbeat> {
    let mut out = Vec::new();
    let Ok(mut info) = stream
        .info_with_subjects(wire::heartbeat_subject("*"))
        .await
    else {
        return out;
    };
    let mut subjects = Vec::new();
    while let Some(Ok((subject, _))) = info.next().await {
        subjects.push(subject);
    }
    for subject in subjects {
        let Some((site, wire::Kind::Heartbeat)) = wire::parse_subject(&subject) else {
            continue;
        };
        let site = site.to_string();
        if let Ok(msg) = stream.get_last_raw_message_by_subject(&subject).await
            && let Ok(beat) = serde_json::from_slice::<wire::Heartbeat>(&msg.payload)
            && beat.site == site
        {
            out.push(beat);
        }
    }
    out
}

async fn consume(
    settings: &SiteSettings,
    store: &mut Store,
    sites: &mut Sites,
) -> Result<(), SitesError> {
    let js = connect::connect(settings).await?;
    let stream = connect::ensure_stream(&js).await?;
    let name = wire::central_consumer(settings.central.as_ref().map(|c| c.id.as_str()));
    let consumer_err = |e: &dyn std::fmt::Display| SitesError::Consumer {
        consumer: name.clone(),
        reason: e.to_string(),
    };
    let consumer = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: 10_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| consumer_err(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| consumer_err(&e))?;
    if !std::mem::replace(&mut sites.from_stream, true) {
        let now = UnixMillis::now().0;
        for beat in stream_sites(&stream).await {
            let window = liveness::window_ms(beat.every_ms);
            tracing::info!(site = %beat.site, "central: a site known from the stream is expected");
            sites.watch.expect(&beat.site, Some(beat.at), window, now);
        }
    }
    tracing::info!("central: reading the sites' stream");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let msg = tokio::select! {
            m = messages.next() => m,
            _ = tick.tick() => {
                let now = UnixMillis::now().0;
                for event in sites.watch.tick(now) {
                    sites.changed(&event);
                }
                let idle = sites.expire_parts(now);
                delete_messages(&stream, idle).await;
                continue;
            }
        };
        let Some(msg) = msg else { break };
        let msg = msg.map_err(|e| consumer_err(&e))?;
        let mut superseded = Vec::new();
        let Some((site, kind)) = wire::parse_subject(msg.subject.as_str()) else {
            tracing::warn!("central: a message on a subject that names no site; dropped");
            let _ = msg.ack().await;
            continue;
        };
        match kind {
            wire::Kind::Samples => {
                match serde_json::from_slice::<wire::SampleBatch>(&msg.payload) {
                    Ok(batch) if batch.site == site => {
                        let written = Batch {
                            samples: batch.to_samples(),
                            gaps: vec![],
                        };
                        // Acknowledged only once committed; a failed write is
                        // delivered again after ACK_WAIT.
                        nak_on_err(&msg, block_in_place(|| store.write_batch(&written))).await?;
                        sites.wiring.status.observe_delays(
                            site,
                            delay::Arrival::of(batch.backfill),
                            batch.samples.iter().map(|s| s.t),
                            UnixMillis::now(),
                        );
                    }
                    Ok(_) => tracing::warn!(site, "central: a batch naming another site; dropped"),
                    Err(e) => {
                        tracing::warn!(site, error = %e, "central: an unreadable batch; dropped")
                    }
                }
            }
            wire::Kind::Events => match wire_events::EventBatch::decode(&msg.payload, site) {
                // Acknowledged only once committed; a batch delivered again
                // is written once (the site's ids are remembered).
                Ok(batch) => {
                    let sender = batch.sender();
                    nak_on_err(
                        &msg,
                        block_in_place(|| store.insert_site_events(&sender, &batch.events)),
                    )
                    .await?;
                }
                Err(e) => tracing::warn!(site, error = %e, "central: site events dropped"),
            },
            wire::Kind::Gaps => match wire_gaps::GapBatch::decode(&msg.payload, site) {
                // Acknowledged only once committed; a batch delivered again
                // is written once. A store-wide gap holds for the site's
                // devices the map knows now.
                Ok(batch) => {
                    let devices: Vec<String> = sites.wiring.live.read_topology(|t| {
                        merge::site_devices(t, site)
                            .into_iter()
                            .map(|d| d.0)
                            .collect()
                    });
                    let gaps = batch.to_gaps();
                    let sender = batch.sender();
                    nak_on_err(
                        &msg,
                        block_in_place(|| store.insert_site_gaps(&sender, site, &gaps, &devices)),
                    )
                    .await?;
                }
                Err(e) => tracing::warn!(site, error = %e, "central: site gaps dropped"),
            },
            wire::Kind::Heartbeat => {
                match serde_json::from_slice::<wire::Heartbeat>(&msg.payload) {
                    Ok(beat) if beat.site == site => {
                        let now = UnixMillis::now().0;
                        if beat.poller.is_some() && now - beat.at <= 3 * beat.every_ms {
                            let key = wire::sender(site, beat.poller.as_deref());
                            // Arrival, on the central's clock (a replayed
                            // old heartbeat says nothing).
                            sites.members_heard.insert(key, (now, beat.every_ms));
                        }
                        match sites.watch.heard(site, beat.at, beat.every_ms, now) {
                            Some(event) => sites.changed(&event),
                            // Stamps the site's verdicts anew.
                            None => sites.apply(site),
                        }
                    }
                    Ok(_) => {
                        tracing::warn!(site, "central: a heartbeat naming another site; dropped")
                    }
                    Err(e) => tracing::warn!(site, error = %e, "central: an unreadable heartbeat"),
                }
            }
            wire::Kind::Topology => match wire::SiteTopology::decode(&msg.payload, site) {
                Ok(t) => superseded = sites.topology(t, vec![seq_of(&msg)]),
                Err(e) => tracing::warn!(site, error = %e, "central: a site topology dropped"),
            },
            wire::Kind::Verdicts => match wire::SiteVerdicts::decode(&msg.payload, site) {
                Ok(v) => superseded = sites.verdicts(site, v, vec![seq_of(&msg)], &msg),
                Err(e) => tracing::warn!(site, error = %e, "central: site verdicts dropped"),
            },
            wire::Kind::TopologyPart | wire::Kind::VerdictsPart => {
                superseded = sites.part(site, &kind, &msg);
            }
        }
        let _ = msg.ack().await;
        // Only a site's newest topology and verdicts matter: the one they
        // replace leaves the stream (a failure only keeps it until max_age),
        // and so do the parts of a set given up.
        delete_messages(&stream, superseded).await;
    }
    Ok(())
}

/// The stream sequence of a message (0 when it has none).
fn seq_of(msg: &async_nats::jetstream::Message) -> u64 {
    msg.info().map(|i| i.stream_sequence).unwrap_or(0)
}

/// Deletes the messages at `seqs` from the stream; one that stays is only
/// kept until the stream's max_age.
async fn delete_messages(stream: &async_nats::jetstream::stream::Stream, seqs: Vec<u64>) {
    for old in seqs {
        let deleted = tokio::time::timeout(connect::ACK_TIMEOUT, stream.delete_message(old)).await;
        if !matches!(deleted, Ok(Ok(_))) {
            tracing::debug!(
                seq = old,
                "central: a superseded site message stays in the stream"
            );
        }
    }
}

/// A failed write's message is given back at once (a negative
/// acknowledgement: delivered again now, not after [`ACK_WAIT`]).
async fn nak_on_err<T>(
    msg: &async_nats::jetstream::Message,
    written: Result<T, crate::store::StoreError>,
) -> Result<T, crate::store::StoreError> {
    if written.is_err() {
        let _ = msg
            .ack_with(async_nats::jetstream::AckKind::Nak(None))
            .await;
    }
    written
}

/// Whether the message(s) at `seqs` (ascending) are the site's newest of
/// their kind; if so they are kept and the ones they replace returned.
fn newer(seqs: &mut BTreeMap<String, Vec<u64>>, key: &str, new: Vec<u64>) -> Option<Vec<u64>> {
    let newest = new.last().copied().unwrap_or(0);
    if seqs
        .get(key)
        .and_then(|b| b.last())
        .is_some_and(|b| newest <= *b)
    {
        return None;
    }
    Some(seqs.insert(key.to_string(), new).unwrap_or_default())
}

/// The log line of a site's change.
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

#[path = "central_state.rs"]
mod state;
