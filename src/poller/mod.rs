//! The monitor's polling engine: per-device ICMP rounds and SNMP counter
//! polls on deadline schedules spread over their intervals, a single store
//! writer that batches samples into transactions, periodic rollup/prune, and
//! periodic re-discovery that adds new devices' pollers (a removed device's
//! pollers end at their next deadline). Owns no protocol logic: it drives the
//! engines, the counter arithmetic and the store.
pub mod backlog;
mod collect;
mod icmp_loop;
#[cfg(test)]
mod icmp_loop_tests;
mod path_loop;
#[cfg(test)]
mod path_loop_tests;
mod refresh_watch;
#[cfg(test)]
mod refresh_watch_tests;
mod schedule;
mod snmp_loop;
#[cfg(test)]
mod snmp_loop_tests;
mod snmp_step;
#[cfg(test)]
mod test_support;
mod vitals_loop;
mod wake;
mod writer;
#[cfg(test)]
mod writer_tests;

pub use collect::{IfStatic, assemble, poll_oids};
pub use schedule::{Ticker, phase_ms};
pub use snmp_step::{OPER_UP_METRIC, PollOutcome, counter_step};
pub use wake::PollWaker;
pub use writer::SampleStore;

use crate::io::Io;
use crate::live::Live;
use crate::snmp::Credential;
use crate::store::{Batch, GapRecord, Sample};
use crate::topology::{DeviceId, Topology};
use crate::types::IfIndex;
use crate::util::clock::Clock;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Other addresses of a device watched for answers it sends from them.
const MAX_OTHER_ADDRESSES: usize = 64;

#[derive(Debug, Clone)]
pub struct MonitorSettings {
    pub icmp_interval: Duration,
    /// Echo requests per round, and the time between them.
    pub icmp_count: u32,
    pub icmp_spacing: Duration,
    pub icmp_timeout: Duration,
    pub snmp_interval: Duration,
    /// CPU, storage and sensors (`vitals_loop`); None: not read.
    pub vitals_interval: Option<Duration>,
    /// The path from this host (`path_loop`); None: not traced.
    pub path_interval: Option<Duration>,
    /// Where the path is traced to (the address the device is listed
    /// under, of either family); None: its management address.
    pub path_target: Option<IpAddr>,
    /// Watch the agent's counter refreshes so rates are over the span
    /// the values really cover (`counters::refresh`).
    pub counter_refresh: bool,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            icmp_interval: Duration::from_secs(10),
            icmp_count: 5,
            icmp_spacing: Duration::from_millis(200),
            icmp_timeout: Duration::from_secs(1),
            snmp_interval: Duration::from_secs(60),
            vitals_interval: None,
            path_interval: None,
            path_target: None,
            counter_refresh: true,
        }
    }
}

/// What every poller task shares: the live state, the clock, the stop
/// signal, the way to the store writer and the devices still monitored.
pub(crate) struct PollerContext {
    pub live: Arc<Live>,
    pub clock: Arc<dyn Clock>,
    pub stop: watch::Receiver<bool>,
    store_tx: Option<mpsc::UnboundedSender<Batch>>,
    /// Where events the pollers see go (a route change); None: not stored.
    events_tx: Option<mpsc::Sender<crate::store::EventRow>>,
    /// Devices polled now, each with the generation of its pollers: a
    /// device dropped (gone from the topology, or its group lease lost)
    /// and taken again gets new pollers, and the old ones end.
    present: Mutex<BTreeMap<DeviceId, u64>>,
    /// Early polls asked for (traps of links going down or up).
    pub wakes: PollWaker,
}

impl PollerContext {
    /// Whether the pollers of `d` started as generation `generation`
    /// still poll it.
    pub fn still_has(&self, d: &DeviceId, generation: u64) -> bool {
        self.present
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(d)
            == Some(&generation)
    }

    pub fn write(&self, samples: Vec<Sample>, gaps: Vec<GapRecord>) {
        if samples.is_empty() && gaps.is_empty() {
            return;
        }
        if let Some(tx) = &self.store_tx {
            let _ = tx.send(Batch { samples, gaps });
        }
    }

    /// Queues an event for the history; when the queue is full it is
    /// dropped with a warning (the pollers never wait on the store).
    pub fn event(&self, event: crate::store::EventRow) {
        if let Some(tx) = &self.events_tx
            && let Err(mpsc::error::TrySendError::Full(e)) = tx.try_send(event)
        {
            tracing::warn!(device = ?e.device, name = %e.name, "event dropped: the events queue is full");
        }
    }
}

/// The polling settings of one device (defaults, group and device overrides).
pub type SettingsFor = Arc<dyn Fn(&crate::topology::Device) -> MonitorSettings + Send + Sync>;

/// A running monitor. Dropping it does not stop the tasks: call `stop`.
pub struct Monitor {
    shared: Arc<PollerContext>,
    stop_tx: watch::Sender<bool>,
    io: Io,
    creds: Arc<Vec<Credential>>,
    settings_for: SettingsFor,
    tasks: tokio::task::JoinSet<()>,
    /// Devices that already have pollers, with their generation.
    polled: BTreeMap<DeviceId, u64>,
    /// The devices this box may poll (a poller group's leases); None: all.
    held: Option<BTreeSet<DeviceId>>,
    /// The topology last set.
    topology: Topology,
    generation: u64,
    /// Pollers started after the first topology poll at once (a device
    /// taken over from a dead group member, or found by a re-discovery),
    /// then on the grid; the first topology's spread over the interval.
    started: bool,
}

impl Monitor {
    /// Start polling every device of `live`'s topology. `store` receives
    /// batches on a writer task; without one, data lives only in memory.
    /// `events` receives the events the pollers see (a route change).
    /// Every poll goes through `io`'s transport and pinger, on its clock.
    /// `held`: the devices it may poll (a poller group's leases,
    /// [`Monitor::set_held`]); None: every device.
    pub fn start<S: SampleStore>(
        live: Arc<Live>,
        io: Io,
        creds: Arc<Vec<Credential>>,
        store: Option<S>,
        events: Option<mpsc::Sender<crate::store::EventRow>>,
        settings_for: SettingsFor,
        held: Option<BTreeSet<DeviceId>>,
    ) -> Monitor {
        let (stop_tx, stop) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        let store_tx = store.map(|st| {
            let (tx, rx) = mpsc::unbounded_channel();
            tasks.spawn(writer::run(
                st,
                rx,
                live.clone(),
                io.clock.clone(),
                stop.clone(),
            ));
            tx
        });
        let shared = Arc::new(PollerContext {
            live,
            clock: io.clock.clone(),
            stop,
            store_tx,
            events_tx: events,
            present: Mutex::new(BTreeMap::new()),
            wakes: PollWaker::default(),
        });
        let mut m = Monitor {
            shared,
            stop_tx,
            io,
            creds,
            settings_for,
            tasks,
            polled: BTreeMap::new(),
            held,
            topology: Topology::default(),
            generation: 0,
            started: false,
        };
        let topo = m.shared.live.read_topology(Topology::clone);
        m.set_topology(topo);
        m
    }

    /// Replace the topology (after a re-discovery): new devices get pollers,
    /// removed ones' pollers end at their next deadline.
    pub fn set_topology(&mut self, topology: Topology) {
        let ids: BTreeSet<DeviceId> = topology.devices.iter().map(|d| d.id.clone()).collect();
        let held = &self.held;
        self.polled
            .retain(|d, _| ids.contains(d) && held.as_ref().is_none_or(|h| h.contains(d)));
        // Pollers of devices no longer polled end at their next deadline.
        *self
            .shared
            .present
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = self.polled.clone();
        let first_now = self.started;
        for d in &topology.devices {
            // A site's device at a central is its site poller's to poll;
            // in a poller group, only the devices whose lease this box
            // holds, its own host included (every member leases the same
            // devices; the others poll this host once it is gone).
            let skip = match &self.held {
                None => d.poller,
                Some(h) => !h.contains(&d.id),
            };
            if self.polled.contains_key(&d.id) || skip || d.from_site.is_some() {
                continue;
            }
            let Some(addr) = d.mgmt_addr else { continue };
            self.generation += 1;
            let generation = self.generation;
            self.polled.insert(d.id.clone(), generation);
            // Before its pollers start: their first deadline may be now.
            self.shared
                .present
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(d.id.clone(), generation);
            let settings = (self.settings_for)(d);
            if let Some(pinger) = &self.io.pinger {
                self.tasks.spawn(icmp_loop::run(
                    self.shared.clone(),
                    pinger.clone(),
                    d.id.clone(),
                    addr,
                    settings.clone(),
                    generation,
                    first_now,
                ));
            }
            if let Some(tracer) = &self.io.tracer
                && let Some(every) = settings.path_interval
            {
                self.tasks.spawn(path_loop::run(
                    self.shared.clone(),
                    tracer.clone(),
                    d.id.clone(),
                    settings.path_target.unwrap_or(addr),
                    every,
                    generation,
                ));
            }
            if d.managed
                && let Some(every) = settings.vitals_interval
            {
                self.tasks.spawn(vitals_loop::run(
                    self.shared.clone(),
                    self.io.snmp.clone(),
                    self.creds.clone(),
                    d.id.clone(),
                    addr,
                    every,
                    generation,
                ));
            }
            if d.managed && !d.interfaces.is_empty() {
                let interfaces: BTreeMap<IfIndex, IfStatic> = d
                    .interfaces
                    .iter()
                    .map(|i| {
                        let mac = i
                            .mac
                            .as_deref()
                            .map(|m| {
                                m.split(':')
                                    .filter_map(|x| u8::from_str_radix(x, 16).ok())
                                    .collect()
                            })
                            .unwrap_or_default();
                        (
                            i.if_index,
                            IfStatic {
                                name: i.name.clone(),
                                phys_address: mac,
                                speed_bps: collect::usable_speed(i.if_type, i.speed_bps),
                            },
                        )
                    })
                    .collect();
                let target = snmp_loop::Target {
                    device: d.id.clone(),
                    generation,
                    addr,
                    others: d
                        .addresses
                        .iter()
                        .copied()
                        .filter(|a| *a != addr)
                        .take(MAX_OTHER_ADDRESSES)
                        .collect(),
                    interfaces,
                };
                self.tasks.spawn(snmp_loop::run(
                    self.shared.clone(),
                    self.io.snmp.clone(),
                    self.creds.clone(),
                    target,
                    settings.clone(),
                    first_now,
                ));
            }
        }
        // In a group, the health of a device another member polls is not
        // this box's to show or send.
        let shown = |id: &DeviceId| match &self.held {
            None => ids.contains(id),
            Some(_) => self.polled.contains_key(id),
        };
        self.started = true;
        // The new topology first: a reader in between sees health entries
        // of removed devices, which nothing shows without their device.
        self.topology = topology.clone();
        self.shared.live.update_topology(|t| *t = topology);
        self.shared
            .live
            .update_devices(|d| d.retain(|id, _| shown(id)));
        self.shared
            .live
            .update_interfaces(|i| i.retain(|(id, _), _| shown(id)));
    }

    /// A poller group's leases changed: pollers start for devices taken
    /// and end for devices given up or lost (at their next deadline,
    /// before any further poll).
    pub fn set_held(&mut self, held: BTreeSet<DeviceId>) {
        self.held = Some(held);
        let topology = self.topology.clone();
        self.set_topology(topology);
    }

    /// The handle that wakes a device's SNMP loop for a poll now.
    pub fn waker(&self) -> PollWaker {
        self.shared.wakes.clone()
    }

    /// Stop every poller, let the writer flush, and wait for them.
    pub async fn stop(mut self) {
        let _ = self.stop_tx.send(true);
        // The writer holds the last sender's receiver: dropping ours lets it drain.
        drop(self.shared);
        while self.tasks.join_next().await.is_some() {}
    }
}
