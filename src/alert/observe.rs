//! What the evaluator sees: one value per device and per interface, taken
//! from a live snapshot, with stale data left out (a stale value neither
//! fires nor resolves an alert). A device's reachability, RTT and loss age
//! with its own ICMP verdict (`live::aged`: three of its rounds); SNMP
//! values with the snapshot's `stale_after_ms`. A central's site devices
//! (`from_site`) are left out with their interfaces: their own site poller
//! evaluates its rules for them and tells its receivers, so the central
//! never notifies for them a second time (it has the site alert for a
//! silent site). Pure: the caller passes the time and the tag lookup.
use super::isolation::PollerLink;
use super::scope::DeviceFacts;
use crate::counters::{InterfaceRates, Metric};
use crate::live::{LiveView, Reachability, aged};
use crate::topology::{DeviceId, Topology};
use crate::types::OperStatus;
use crate::types::UnixMillis;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceObs {
    pub id: DeviceId,
    /// sysName, else the id.
    pub name: String,
    pub mgmt_addr: Option<IpAddr>,
    pub tags: Vec<String>,
    /// The last ICMP verdict while it stands; unknown once it is stale.
    pub reachability: Reachability,
    /// The last ICMP verdict even once it is stale (unknown: never measured).
    /// Only the dependency search reads it: a device last seen down whose
    /// rounds stopped still stands between the poller and what is behind it.
    pub last_verdict: Reachability,
    /// When `reachability` was last measured (the last ICMP round).
    pub reach_ms: Option<UnixMillis>,
    /// None when the last ICMP verdict is stale or its round had no answer.
    pub rtt_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    /// CPU, memory, storage and sensors while the last read stands.
    pub vitals: VitalsObs,
}

impl DeviceObs {
    /// What scopes and maintenance windows match a device by.
    pub fn facts(&self) -> DeviceFacts<'_> {
        DeviceFacts {
            id: &self.id.0,
            name: &self.name,
            mgmt_addr: self.mgmt_addr,
            tags: &self.tags,
        }
    }
}

/// What the vitals rule kinds look at; all None when the device gave no
/// vitals or the last read is stale (older than three of its intervals).
/// The vitals figures the rule kinds compare (one copy, in `vitals`).
pub type VitalsObs = crate::vitals::Summary;

impl DeviceObs {
    /// A device with nothing measured (no verdict, no round, no tags).
    pub fn unmeasured(id: DeviceId, name: String, mgmt_addr: Option<IpAddr>) -> DeviceObs {
        DeviceObs {
            id,
            name,
            mgmt_addr,
            tags: Vec::new(),
            reachability: Reachability::Unknown,
            last_verdict: Reachability::Unknown,
            reach_ms: None,
            rtt_ms: None,
            loss_pct: None,
            vitals: VitalsObs::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IfObs {
    pub device: DeviceId,
    pub name: String,
    pub oper_status: Option<OperStatus>,
    /// The interface was administratively down at discovery.
    pub admin_down: bool,
    /// The live state's rates of the last interval, copied whole; None
    /// when stale or never polled.
    pub rates: Option<InterfaceRates>,
    /// When these values were measured (p95 windows take each once).
    pub updated_ms: Option<UnixMillis>,
}

impl IfObs {
    /// The rate of `metric`; None when stale, a gap or not a finite number.
    pub fn rate(&self, metric: Metric) -> Option<f64> {
        self.rates?.value(metric).filter(|x| x.is_finite())
    }
}

impl Default for IfObs {
    fn default() -> Self {
        IfObs {
            device: DeviceId(String::new()),
            name: String::new(),
            oper_status: None,
            admin_down: false,
            rates: None,
            updated_ms: None,
        }
    }
}

/// A device's tags from its name and addresses.
pub type TagsOf = dyn Fn(Option<&str>, &[IpAddr]) -> Vec<String> + Send + Sync;

/// Everything one evaluation step looks at.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub devices: BTreeMap<DeviceId, DeviceObs>,
    pub interfaces: Vec<IfObs>,
    /// The device nocmap runs on, when discovery recognised it.
    pub poller: Option<DeviceId>,
    pub topology: Topology,
    /// The poller's own interfaces that carry topology links, with their
    /// state read on this host (filled in by the runner; empty: unknown).
    pub poller_links: Vec<PollerLink>,
}

impl Observations {
    /// Builds the observations from a live snapshot at `now_ms`. ICMP values
    /// of a stale verdict and SNMP values older than the snapshot's
    /// `stale_after_ms` are left out. `tags` gives a device's tags from its
    /// name and addresses.
    pub fn from_live(snap: &LiveView<'_>, now_ms: UnixMillis, tags: &TagsOf) -> Observations {
        let fresh = |t: Option<UnixMillis>| t.is_some_and(|t| now_ms - t <= snap.stale_after_ms);
        let mut devices = BTreeMap::new();
        let mut poller = None;
        for d in &snap.topology.devices {
            if d.poller {
                poller = Some(d.id.clone());
                continue;
            }
            if d.from_site.is_some() {
                continue;
            }
            let h = snap.devices.get(&d.id);
            let verdict = h.map(|h| aged(h, now_ms));
            let icmp_fresh = verdict.is_some_and(|v| v.fresh());
            let mut addrs = d.addresses.clone();
            if let Some(a) = d.mgmt_addr
                && !addrs.contains(&a)
            {
                addrs.push(a);
            }
            devices.insert(
                d.id.clone(),
                DeviceObs {
                    id: d.id.clone(),
                    name: d.sys_name.clone().unwrap_or_else(|| d.id.0.clone()),
                    mgmt_addr: d.mgmt_addr,
                    tags: tags(d.sys_name.as_deref(), &addrs),
                    reachability: verdict.map_or(Reachability::Unknown, |v| v.reachability),
                    last_verdict: h.map_or(Reachability::Unknown, |h| h.reachability),
                    reach_ms: h.and_then(|h| h.last_icmp_ms),
                    rtt_ms: h.filter(|_| icmp_fresh).and_then(|h| h.rtt_avg_ms),
                    loss_pct: h.filter(|_| icmp_fresh).and_then(|h| h.loss_pct),
                    vitals: h
                        .filter(|h| {
                            h.last_vitals_ms
                                .zip(h.vitals_stale_after_ms)
                                .is_some_and(|(at, life)| now_ms.0.saturating_sub(at.0) <= life)
                        })
                        .and_then(|h| h.vitals.as_ref())
                        .map(crate::vitals::Vitals::summary)
                        .unwrap_or_default(),
                },
            );
        }
        let mut interfaces = Vec::new();
        for ((dev, name), h) in snap.interfaces {
            if !devices.contains_key(dev) {
                continue;
            }
            let admin_down = snap.topology.device(dev).is_some_and(|d| {
                d.interfaces
                    .iter()
                    .any(|i| &i.name == name && i.admin_status == Some(OperStatus::Down))
            });
            let ok = fresh(h.updated_ms);
            interfaces.push(IfObs {
                device: dev.clone(),
                name: name.clone(),
                oper_status: h.oper_status.filter(|_| ok),
                admin_down,
                rates: h.rates.filter(|_| ok),
                updated_ms: h.updated_ms.filter(|_| ok),
            });
        }
        Observations {
            devices,
            interfaces,
            poller,
            topology: snap.topology.clone(),
            poller_links: Vec::new(),
        }
    }
}
