//! A site poller's publisher: the journal (the store's `site_journal`) to
//! the central's stream, as [`Backfill`] plans it. Every batch carries a
//! message id made of the site and its journal sequences and is forgotten
//! from the journal only once JetStream acknowledged it; a heartbeat every
//! `heartbeat` doubles as the link probe (every second while the link is
//! down). The central creates the stream (a site's user needs no JetStream
//! API permission): until it exists, publishes fail and the journal keeps
//! everything, as in a cut; so does a publish the server's permissions
//! refuse (no acknowledgement comes). After an acknowledged heartbeat the
//! site's topology (as `serve` monitors it) goes when it changed, and its
//! devices' verdicts when one changed, each also every refresh period and
//! again after a cut, in parts when too big for one message
//! ([`wire_parts`]). The site's events (its own store's, after a cursor
//! kept there) go in batches once the link is up, the cursor moving only
//! on acknowledgement. All store calls are short and run on this task's
//! thread through `block_in_place`.
use super::backfill::{Backfill, Link};
use super::connect::{self, ACK_TIMEOUT, SitesError};
use super::wire::SiteState;
use super::{SiteSettings, wire, wire_events, wire_gaps, wire_interfaces, wire_parts};
use crate::live::{Live, Reachability};
use crate::store::{JournalEntry, Store, StoreConfig};
use crate::types::UnixMillis;
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::block_in_place;

/// The most entries in one message.
const MAX_BATCH: usize = 500;
/// How often the plan is looked at.
const TICK: Duration = Duration::from_millis(100);
/// The probe's period while the link is down.
const PROBE_WHILE_DOWN_MS: u64 = 1_000;
/// The topology is sent again this often even unchanged.
const TOPOLOGY_REFRESH: Duration = Duration::from_secs(600);
/// The verdicts are sent again this often even unchanged.
const VERDICTS_REFRESH: Duration = Duration::from_secs(60);
/// Most events read for one batch each tick.
const EVENTS_PER_TICK: usize = 500;
/// A new round of interface polls is sent at most this often.
const INTERFACES_EVERY: Duration = Duration::from_secs(5);

/// Runs until `stop` turns true.
pub async fn run(
    settings: SiteSettings,
    db: PathBuf,
    store_config: StoreConfig,
    live: Arc<Live>,
    mut stop: watch::Receiver<bool>,
) {
    let store = match block_in_place(|| Store::open(&db, store_config)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "site publisher: cannot open the store; nothing is sent");
            return;
        }
    };
    // Connecting tries until the server takes the connection (each
    // failure logged and counted there); samples are journalled meanwhile.
    let js = tokio::select! {
        _ = stop.wait_for(|s| *s) => return,
        c = connect::connect(&settings) => match c {
            Ok(js) => js,
            Err(e) => {
                tracing::error!(error = %e, "site publisher: nothing is sent");
                return;
            }
        },
    };
    let mut p = Publisher {
        site: settings.site.clone(),
        poller: settings.group.as_ref().map(|g| g.poller_id.clone()),
        heartbeat_ms: settings.heartbeat.as_millis() as u64,
        js,
        store,
        backfill: Backfill::new(settings.backfill_per_s, 0),
        started: Instant::now(),
        next_probe_ms: 0,
        live,
        topology_sent: None,
        verdicts_sent: None,
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            r = p.step() => if let Err(e) = r {
                tracing::warn!(error = %e, "site publisher");
            }
        }
    }
}

struct Publisher {
    site: String,
    /// This member's id in a poller group.
    poller: Option<String>,
    heartbeat_ms: u64,
    js: jetstream::Context,
    store: Store,
    backfill: Backfill,
    started: Instant,
    next_probe_ms: u64,
    live: Arc<Live>,
    /// The last topology acknowledged: its text's hash and when.
    topology_sent: Option<(u64, Instant)>,
    /// The last verdicts acknowledged: each device's, when, and the newest
    /// interface poll they carried.
    verdicts_sent: Option<(Vec<(String, Reachability)>, Instant, Option<i64>)>,
}

impl Publisher {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One tick: the probe when due, then the live entries, then the
    /// backlog's share.
    async fn step(&mut self) -> Result<(), SitesError> {
        let now = self.now_ms();
        if now >= self.next_probe_ms {
            self.probe(now).await?;
        }
        let Some(plan) = self.backfill.plan(self.now_ms()) else {
            return Ok(());
        };
        self.send_events().await?;
        self.send_gaps().await?;
        loop {
            let live =
                block_in_place(|| self.store.journal_pending(plan.live_after, None, MAX_BATCH))?;
            if live.is_empty() {
                break;
            }
            let full = live.len() == MAX_BATCH;
            self.send(&live, false).await?;
            if !full {
                break;
            }
        }
        if let Some(bl) = plan.backlog {
            let mut left = bl.limit;
            while left > 0 {
                let owed = block_in_place(|| {
                    self.store
                        .journal_pending(None, Some(bl.upto), left.min(MAX_BATCH))
                })?;
                if owed.is_empty() {
                    self.backfill.backlog_done();
                    tracing::info!(site = %self.site, "site publisher: backlog sent");
                    break;
                }
                self.send(&owed, true).await?;
                self.backfill.backlog_sent(owed.len());
                left -= owed.len();
            }
        }
        Ok(())
    }

    /// Sends the heartbeat; its acknowledgement (or its absence) sets the link.
    async fn probe(&mut self, now: u64) -> Result<(), SitesError> {
        let owed = block_in_place(|| self.store.journal_len())?;
        let beat = wire::Heartbeat {
            site: self.site.clone(),
            at: crate::types::UnixMillis::now().0,
            owed,
            every_ms: self.heartbeat_ms as i64,
            poller: self.poller.clone(),
        };
        let payload = serde_json::to_vec(&beat).unwrap_or_default();
        let subject = wire::heartbeat_subject(&self.site);
        let was = self.backfill.link();
        match publish(
            &self.js,
            &subject,
            PublishMessage::build().payload(payload.into()),
        )
        .await
        {
            Ok(()) => {
                let max = block_in_place(|| self.store.journal_max_seq())?;
                self.backfill.probe_acked(max, self.now_ms());
                if was == Link::Down {
                    tracing::info!(site = %self.site, owed, "site publisher: central reached");
                }
                self.next_probe_ms = now + self.heartbeat_ms;
                self.send_state().await;
                Ok(())
            }
            Err(e) => {
                self.backfill.failed();
                // Everything again once the central is back.
                self.topology_sent = None;
                self.verdicts_sent = None;
                self.next_probe_ms = now + PROBE_WHILE_DOWN_MS;
                if was == Link::Up {
                    tracing::warn!(site = %self.site, error = %e, "site publisher: central not reached; journalling");
                }
                Ok(())
            }
        }
    }

    /// The topology and the verdicts, each when changed or due; a failure
    /// is logged and tried again at the next heartbeat.
    async fn send_state(&mut self) {
        let now = UnixMillis::now();
        let (topology, verdicts, interfaces) = self.live.read(|v| {
            let verdicts: Vec<wire::WireVerdict> = v
                .topology
                .devices
                .iter()
                .filter_map(|d| Some(wire::WireVerdict::of(&d.id.0, v.devices.get(&d.id)?, now)))
                .collect();
            let interfaces = wire_interfaces::link_ends(v.topology, v.interfaces, now);
            let topology = wire::SiteTopology {
                site: self.site.clone(),
                at: now.0,
                topology: v.topology.clone(),
            };
            (topology, verdicts, interfaces)
        });
        let due =
            |sent: Option<Instant>, every: Duration| sent.is_none_or(|t| t.elapsed() >= every);
        // The text without its time, so an unchanged map hashes the same.
        let hash = topology.topology.content_hash();
        let changed = self.topology_sent.is_none_or(|(h, _)| h != hash);
        if changed || due(self.topology_sent.map(|s| s.1), TOPOLOGY_REFRESH) {
            let subjects = (
                wire::topology_subject(&self.site),
                wire_parts::topology_parts_subject(&self.site),
            );
            match send_packed(&self.js, &subjects, topology.pack()).await {
                Ok(()) => self.topology_sent = Some((hash, Instant::now())),
                Err(e) => {
                    tracing::warn!(site = %self.site, error = %e, "site publisher: topology not sent")
                }
            }
        }
        let states: Vec<(String, Reachability)> = verdicts
            .iter()
            .map(|v| (v.device.clone(), v.reachability))
            .collect();
        let changed = self
            .verdicts_sent
            .as_ref()
            .is_none_or(|(s, _, _)| *s != states);
        // A new round of polls (a device's ICMP round or SNMP poll, a link
        // end's interface poll) goes out too, at most every
        // INTERFACES_EVERY, so the central's map shows live RTTs and
        // utilisation; with only changes and VERDICTS_REFRESH, a device
        // without links reached it up to a minute late (p50 30 s in the
        // scale run).
        let newest_device = verdicts
            .iter()
            .filter_map(wire::WireVerdict::newest_poll)
            .max();
        let newest = wire_interfaces::newest_poll(&interfaces, now).max(newest_device);
        let polled = self
            .verdicts_sent
            .as_ref()
            .is_some_and(|(_, at, sent)| newest > *sent && at.elapsed() >= INTERFACES_EVERY);
        if changed || polled || due(self.verdicts_sent.as_ref().map(|s| s.1), VERDICTS_REFRESH) {
            let msg = wire::SiteVerdicts {
                site: self.site.clone(),
                at: now.0,
                devices: verdicts,
                interfaces,
                poller: self.poller.clone(),
            };
            let subjects = (
                wire::verdicts_subject(&self.site),
                wire_parts::verdicts_parts_subject(&self.site),
            );
            match send_packed(&self.js, &subjects, msg.pack()).await {
                Ok(()) => self.verdicts_sent = Some((states, Instant::now(), newest)),
                Err(e) => {
                    tracing::warn!(site = %self.site, error = %e, "site publisher: verdicts not sent")
                }
            }
        }
    }
}

/// A topology or verdicts, published: whole on the first subject when it
/// fits one message (as before parts existed, so an older central reads
/// it), else in parts of one new generation on the second, each part
/// acknowledged before the next goes. A part not acknowledged fails the
/// whole (sent again at the next heartbeat, as a new generation; the
/// central never takes a set it lacks a part of).
async fn send_packed(
    js: &jetstream::Context,
    (subject, parts_subject): &(String, String),
    packed: Result<Vec<u8>, wire::StateError>,
) -> Result<(), String> {
    let packed = packed.map_err(|e| e.to_string())?;
    if packed.len() <= wire::MAX_STATE_BYTES {
        return publish(js, subject, PublishMessage::build().payload(packed.into()))
            .await
            .map_err(|e| e.to_string());
    }
    // Unique enough: one site's sets a nanosecond apart at least.
    let generation = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let parts = wire_parts::split(&packed, generation)
        .ok_or_else(|| format!("{} packed bytes cannot be sent", packed.len()))?;
    let count = parts.len();
    for (i, part) in parts.into_iter().enumerate() {
        publish(
            js,
            parts_subject,
            PublishMessage::build().payload(part.into()),
        )
        .await
        .map_err(|e| format!("part {} of {count}: {e}", i + 1))?;
    }
    tracing::debug!(subject = %parts_subject, bytes = packed.len(), parts = count,
        "site publisher: sent in parts");
    Ok(())
}

impl Publisher {
    /// Sends the events after the acknowledged cursor, one batch of at most
    /// [`EVENTS_PER_TICK`] per tick (a storm at the site reaches the central
    /// paced, behind nothing else), and moves the cursor once JetStream
    /// acknowledged it; a failure marks the link down like a sample batch.
    async fn send_events(&mut self) -> Result<(), SitesError> {
        let events = block_in_place(|| {
            let cursor = self.store.site_events_cursor()?;
            self.store.events_after(cursor, EVENTS_PER_TICK)
        })?;
        let Some((batch, payload)) =
            wire_events::first_batch(&self.site, self.poller.as_deref(), &events)
        else {
            return Ok(());
        };
        let subject = wire_events::events_subject(&self.site);
        self.publish_once(&subject, payload, batch.message_id())
            .await?;
        if let Some(last) = batch.last_id() {
            block_in_place(|| self.store.set_site_events_cursor(last))?;
        }
        Ok(())
    }

    /// Publishes one message with its id, waiting for JetStream's
    /// acknowledgement; a failure marks the link down like a sample batch.
    async fn publish_once(
        &mut self,
        subject: &str,
        payload: Vec<u8>,
        id: String,
    ) -> Result<(), SitesError> {
        let msg = PublishMessage::build()
            .payload(payload.into())
            .message_id(id);
        if let Err(e) = publish(&self.js, subject, msg).await {
            self.backfill.failed();
            self.next_probe_ms = self.now_ms() + PROBE_WHILE_DOWN_MS;
            return Err(e);
        }
        Ok(())
    }

    /// Sends the gaps after the acknowledged cursor, at most
    /// [`wire_gaps::MAX_GAPS`] a tick, like the events.
    async fn send_gaps(&mut self) -> Result<(), SitesError> {
        let gaps = block_in_place(|| {
            let cursor = self.store.site_gaps_cursor()?;
            self.store.gaps_after(cursor, wire_gaps::MAX_GAPS)
        })?;
        if gaps.is_empty() {
            return Ok(());
        }
        let batch = wire_gaps::GapBatch::new(&self.site, self.poller.as_deref(), &gaps);
        let Ok(payload) = batch.encode() else {
            // Never over the bound at MAX_GAPS; skipped rather than stuck.
            tracing::warn!(
                gaps = batch.gaps.len(),
                "site gaps over the message bound; not sent"
            );
            if let Some(last) = batch.last_id() {
                block_in_place(|| self.store.set_site_gaps_cursor(last))?;
            }
            return Ok(());
        };
        let subject = wire_gaps::gaps_subject(&self.site);
        self.publish_once(&subject, payload, batch.message_id())
            .await?;
        if let Some(last) = batch.last_id() {
            block_in_place(|| self.store.set_site_gaps_cursor(last))?;
        }
        Ok(())
    }

    /// Sends entries as one message (marked `backfill` when from the
    /// backlog) and forgets them once acknowledged; a failure marks the
    /// link down and keeps them owed.
    async fn send(&mut self, entries: &[JournalEntry], backfill: bool) -> Result<(), SitesError> {
        let (first, last) = (entries[0].seq, entries[entries.len() - 1].seq);
        let batch = wire::SampleBatch::new(&self.site, entries, backfill);
        let payload = serde_json::to_vec(&batch).unwrap_or_default();
        let subject = wire::samples_subject(&self.site);
        let msg = PublishMessage::build()
            .payload(payload.into())
            .message_id(wire::message_id(
                &self.site,
                self.poller.as_deref(),
                first,
                last,
            ));
        if let Err(e) = publish(&self.js, &subject, msg).await {
            self.backfill.failed();
            self.next_probe_ms = self.now_ms() + PROBE_WHILE_DOWN_MS;
            return Err(e);
        }
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        block_in_place(|| self.store.journal_acked(&seqs))?;
        Ok(())
    }
}

/// Publishes and waits for JetStream's acknowledgement.
async fn publish(
    js: &jetstream::Context,
    subject: &str,
    msg: PublishMessage,
) -> Result<(), SitesError> {
    let fail = |reason: String| SitesError::Publish {
        subject: subject.to_string(),
        reason,
    };
    let sent = tokio::time::timeout(ACK_TIMEOUT, async {
        let ack = js
            .send_publish(subject.to_string(), msg)
            .await
            .map_err(|e| fail(e.to_string()))?;
        ack.await.map_err(|e| match e.kind() {
            PublishErrorKind::StreamNotFound => SitesError::NoStream {
                subject: subject.to_string(),
            },
            _ => fail(e.to_string()),
        })
    })
    .await;
    match sent {
        Ok(Ok(_ack)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(fail("no acknowledgement in time".into())),
    }
}
