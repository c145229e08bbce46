//! A poller group's lease loop: every third of the lease time it reads the
//! site's bucket (the leases of the devices it knows and the member
//! slots), asks [`lease::plan`] what to write, stops polling what it lost
//! or gives back before writing, and hands `serve` the devices it holds.
//! The bucket is behind [`LeaseBucket`] (JetStream key-value in
//! [`JetStreamBucket`]), so the loop runs on a scripted one in tests.
//!
//! A renewal refused by its revision (another poller took the key) ends
//! that device's polling at once. A bucket that cannot be reached (a cut
//! to the NATS server) changes nothing: the poller keeps what it held, so
//! a site cut off with all its members keeps polling as before; one
//! member cut off alone while the others are not may poll beside the one
//! that took its devices until it reaches the bucket again.
use super::lease::{self, Lease, SlotStep, Step, View};
use super::{SiteSettings, connect};
use crate::live::Live;
use crate::topology::DeviceId;
use async_nats::jetstream::kv;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The member slots read (members beyond these count themselves only).
pub const MAX_MEMBERS: usize = 16;

/// A group's settings (`[nats] group = true`).
#[derive(Debug, Clone)]
pub struct GroupSettings {
    pub poller_id: String,
    /// The bucket's `max_age`: a lease not renewed within it is gone.
    pub lease: Duration,
}

impl GroupSettings {
    /// `poller_id`, or the host's name and the process id.
    pub fn new(poller_id: Option<&str>, lease: Duration) -> GroupSettings {
        let poller_id = poller_id.map(str::to_string).unwrap_or_else(|| {
            let host: String = crate::discovery::local::hostname()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(40)
                .collect();
            format!("{host}-{}", std::process::id())
        });
        GroupSettings { poller_id, lease }
    }
}

static SITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static HELD: AtomicU64 = AtomicU64::new(0);
static MEMBERS: AtomicU64 = AtomicU64::new(0);

/// A group member's figures for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    pub site: String,
    /// Devices whose lease this poller holds (the devices it polls).
    pub leases_held: u64,
    /// Live members of its group, itself included, at the last round.
    pub members: u64,
}

/// This process's group figures; None outside a group.
pub fn stats() -> Option<GroupStats> {
    SITE.get().map(|site| GroupStats {
        site: site.clone(),
        leases_held: HELD.load(Ordering::Relaxed),
        members: MEMBERS.load(Ordering::Relaxed),
    })
}

/// Why a bucket operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// The key's revision was not the one expected (or it exists, for a
    /// create): another poller wrote it.
    Conflict,
    /// No answer, or another failure: nothing is known.
    Other(String),
}

/// The key-value operations the lease loop needs.
pub trait LeaseBucket {
    /// The key's live value (None: absent, deleted or expired).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Lease>, KvError>> + Send;
    /// Writes `holder` if the key is absent; its new revision.
    fn create(&self, key: &str, holder: &str) -> impl Future<Output = Result<u64, KvError>> + Send;
    /// Writes `holder` if the key is still at `revision`.
    fn update(
        &self,
        key: &str,
        holder: &str,
        revision: u64,
    ) -> impl Future<Output = Result<u64, KvError>> + Send;
    /// Deletes the key if still at `revision`.
    fn delete(&self, key: &str, revision: u64) -> impl Future<Output = Result<(), KvError>> + Send;
}

/// One round: read, plan, write. Returns the devices held afterwards (and
/// sends every change on `held_tx` as soon as it is known: losses and
/// releases before any write).
pub async fn round<B: LeaseBucket + Sync>(
    bucket: &B,
    me: &str,
    devices: &BTreeSet<DeviceId>,
    held: &mut BTreeSet<DeviceId>,
    held_tx: &watch::Sender<BTreeSet<DeviceId>>,
) -> Result<lease::Plan, KvError> {
    let view = read(bucket, devices, held).await?;
    let plan = lease::plan(me, devices, &view, held);
    let publish = |held: &BTreeSet<DeviceId>| {
        held_tx.send_if_modified(|h| {
            let changed = h != held;
            *h = held.clone();
            changed
        });
    };
    for d in &plan.lost {
        held.remove(d);
    }
    for s in &plan.steps {
        if let Step::Release { device, .. } = s {
            held.remove(device);
        }
    }
    publish(held);
    match plan.slot {
        SlotStep::Renew { slot, revision } => {
            let _ = bucket.update(&lease::slot_key(slot), me, revision).await;
        }
        SlotStep::Create { slot } => {
            let _ = bucket.create(&lease::slot_key(slot), me).await;
        }
        SlotStep::Full => {}
    }
    for s in &plan.steps {
        match s {
            Step::Release { device, revision } => {
                let _ = bucket.delete(&lease::device_key(device), *revision).await;
            }
            Step::Renew { device, revision } => {
                match bucket
                    .update(&lease::device_key(device), me, *revision)
                    .await
                {
                    Ok(_) => {
                        held.insert(device.clone());
                    }
                    Err(KvError::Conflict) => {
                        held.remove(device);
                        // At once, before the next write.
                        publish(held);
                    }
                    // Unknown: kept (it is ours or expires by itself).
                    Err(KvError::Other(_)) => {}
                }
            }
            Step::Create { device } => {
                if bucket.create(&lease::device_key(device), me).await.is_ok() {
                    held.insert(device.clone());
                }
            }
        }
    }
    publish(held);
    Ok(plan)
}

/// The bucket's view of `devices`, the `held` ones and the member slots.
async fn read<B: LeaseBucket + Sync>(
    bucket: &B,
    devices: &BTreeSet<DeviceId>,
    held: &BTreeSet<DeviceId>,
) -> Result<View, KvError> {
    let wanted: Vec<&DeviceId> = devices.union(held).collect();
    let keys: Vec<String> = wanted.iter().map(|d| lease::device_key(d)).collect();
    let leases = futures::future::join_all(keys.iter().map(|k| bucket.get(k))).await;
    let slot_keys: Vec<String> = (0..MAX_MEMBERS).map(lease::slot_key).collect();
    let slots = futures::future::join_all(slot_keys.iter().map(|k| bucket.get(k))).await;
    let mut view = View::default();
    for (d, l) in wanted.into_iter().zip(leases) {
        if let Some(l) = l? {
            view.leases.insert(d.clone(), l);
        }
    }
    for s in slots {
        view.slots.push(s?);
    }
    Ok(view)
}

/// Runs the lease loop until `stop`: connects, opens (or creates) the
/// site's bucket, then a round every third of the lease time over the
/// pollable devices of `live`'s topology.
pub async fn run(
    settings: SiteSettings,
    group: GroupSettings,
    live: Arc<Live>,
    held_tx: watch::Sender<BTreeSet<DeviceId>>,
    mut stop: watch::Receiver<bool>,
) {
    let site = settings.site.clone();
    let _ = SITE.set(site.clone());
    let name = lease::bucket(&site);
    let bucket = tokio::select! {
        _ = stop.wait_for(|s| *s) => return,
        b = open_bucket(&settings, &name, group.lease,
            "poller group (nothing is polled until the bucket opens)") => b,
    };
    tracing::info!(site = %site, poller_id = %group.poller_id,
        lease_s = group.lease.as_secs(), "poller group: joined");
    let mut held = BTreeSet::new();
    let mut every = tokio::time::interval((group.lease / 3).max(Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = every.tick() => {}
        }
        let devices: BTreeSet<DeviceId> = live.read_topology(|t| {
            t.devices
                .iter()
                // Its own host too: every member leases the same devices.
                .filter(|d| d.mgmt_addr.is_some() && d.from_site.is_none())
                .map(|d| d.id.clone())
                .collect()
        });
        let before = held.len();
        let r = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            r = round(&bucket, &group.poller_id, &devices, &mut held, &held_tx) => r,
        };
        match r {
            Ok(plan) => {
                if failing {
                    tracing::info!(site = %site, "poller group: the lease bucket answers again");
                }
                failing = false;
                MEMBERS.store(plan.members as u64, Ordering::Relaxed);
                if held.len() != before {
                    tracing::info!(site = %site, held = held.len(), devices = devices.len(),
                        members = plan.members, "poller group: leases changed");
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(site = %site, error = ?e,
                        "poller group: the lease bucket does not answer; polling what is held");
                }
                failing = true;
            }
        }
        HELD.store(held.len() as u64, Ordering::Relaxed);
    }
    // A stop (serve's pollers stop with it) hands the devices over now
    // rather than after the lease time.
    let _ = tokio::time::timeout(
        connect::ACK_TIMEOUT,
        release_all(&bucket, &group.poller_id, &held),
    )
    .await;
    HELD.store(0, Ordering::Relaxed);
}

/// Deletes every key of `held` and every member slot still `me`'s.
pub async fn release_all<B: LeaseBucket + Sync>(bucket: &B, me: &str, held: &BTreeSet<DeviceId>) {
    let keys = held
        .iter()
        .map(lease::device_key)
        .chain((0..MAX_MEMBERS).map(lease::slot_key));
    for key in keys {
        if let Ok(Some(l)) = bucket.get(&key).await
            && l.holder == me
        {
            let _ = bucket.delete(&key, l.revision).await;
        }
    }
}

/// A lease bucket (`name`, for `what` in the log): opened, or created
/// with `max_age` = `lease` when missing; tried until it works.
pub(super) async fn open_bucket(
    settings: &SiteSettings,
    name: &str,
    lease: Duration,
    what: &str,
) -> JetStreamBucket {
    let js = loop {
        match connect::connect(settings).await {
            Ok(js) => break js,
            Err(e) => {
                tracing::warn!(error = %e, "{what}: no connection; trying again");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let mut told = false;
    loop {
        let kv = match js.get_key_value(name).await {
            Ok(kv) => Ok(kv),
            Err(_) => create(&js, name, lease).await,
        };
        match kv {
            Ok(kv) => return JetStreamBucket(kv),
            Err(e) => {
                if !told {
                    tracing::warn!(bucket = %name, error = %e,
                        "{what}: cannot open or create the lease bucket; trying again");
                    told = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Creates the bucket's stream as async-nats' `create_key_value` would
/// (one value per key, rollups, direct gets, deletes only as markers),
/// without the account query that 2.9 servers answer in a shape the
/// client does not read.
async fn create(
    js: &async_nats::jetstream::Context,
    bucket: &str,
    lease: Duration,
) -> Result<kv::Store, String> {
    use async_nats::jetstream::stream;
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{bucket}"),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age: lease,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    js.get_key_value(bucket).await.map_err(|e| e.to_string())
}

/// The JetStream key-value bucket.
pub struct JetStreamBucket(kv::Store);

fn other(e: impl std::fmt::Display) -> KvError {
    KvError::Other(e.to_string())
}

impl LeaseBucket for JetStreamBucket {
    async fn get(&self, key: &str) -> Result<Option<Lease>, KvError> {
        let entry = tokio::time::timeout(connect::ACK_TIMEOUT, self.0.entry(key))
            .await
            .map_err(|_| other("no answer in time"))?
            .map_err(other)?;
        Ok(entry
            .filter(|e| e.operation == kv::Operation::Put)
            .map(|e| Lease {
                holder: String::from_utf8_lossy(&e.value).into_owned(),
                revision: e.revision,
            }))
    }

    async fn create(&self, key: &str, holder: &str) -> Result<u64, KvError> {
        let value = holder.as_bytes().to_vec().into();
        match tokio::time::timeout(connect::ACK_TIMEOUT, self.0.create(key, value)).await {
            Err(_) => Err(other("no answer in time")),
            Ok(Ok(revision)) => Ok(revision),
            Ok(Err(e)) if e.kind() == kv::CreateErrorKind::AlreadyExists => Err(KvError::Conflict),
            Ok(Err(e)) => Err(other(e)),
        }
    }

    async fn update(&self, key: &str, holder: &str, revision: u64) -> Result<u64, KvError> {
        let value = holder.as_bytes().to_vec().into();
        match tokio::time::timeout(connect::ACK_TIMEOUT, self.0.update(key, value, revision)).await
        {
            Err(_) => Err(other("no answer in time")),
            Ok(Ok(revision)) => Ok(revision),
            Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                Err(KvError::Conflict)
            }
            Ok(Err(e)) => Err(other(e)),
        }
    }

    async fn delete(&self, key: &str, revision: u64) -> Result<(), KvError> {
        match tokio::time::timeout(
            connect::ACK_TIMEOUT,
            self.0.delete_expect_revision(key, Some(revision)),
        )
        .await
        {
            Err(_) => Err(other("no answer in time")),
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                Err(KvError::Conflict)
            }
            Ok(Err(e)) => Err(other(e)),
        }
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
pub(crate) mod tests;
