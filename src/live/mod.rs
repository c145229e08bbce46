//! The monitor's in-memory picture of the network: the current topology and
//! the latest health of every device, interface and link, plus the poller's
//! own health and the last discovery's summary. Pollers write it; the HTTP
//! API, `/metrics` and the alert evaluator read it. Link health is derived
//! here, purely, from both ends' interfaces.
//!
//! Each part has its own lock, so a reader or writer of one part never
//! waits on another part's writer: an ICMP round updating devices does not
//! hold up the feed reading interfaces. A writer holds exactly one lock, for
//! as long as it copies values in; [`Live::read`] takes every part's read
//! lock in one fixed order (topology, devices, interfaces, poller,
//! discovery) for a consistent view. Nothing calls back into `Live` while
//! holding one of its locks.
mod discovery;
mod health;
mod path;
mod state;
mod verdict;

pub use discovery::{AgentProblem, DiscoveryRun, DiscoveryStatus, MAX_LISTED_OUT_OF_SCOPE};
pub use health::{LinkHealth, LinkStatus, link_health};
pub use path::{DevicePath, PathChange, PathHop, hops_of, same_route};
pub use verdict::{
    AgedVerdict, STALE_AFTER_ROUNDS, aged, measured_loss_pct, round_verdict, verdict_lifetime_ms,
};

pub use state::{
    DeviceHealth, InterfaceHealth, LiveSnapshot, LiveView, PollerHealth, Reachability,
};

use crate::topology::{DeviceId, Topology};
use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Interface health by (device, ifName).
pub type InterfaceMap = BTreeMap<(DeviceId, String), InterfaceHealth>;
/// Device health by device.
pub type DeviceMap = BTreeMap<DeviceId, DeviceHealth>;

/// Shared live state, one lock per part. Writers hold a part's lock only to
/// copy values in; readers borrow a part, or all of them with [`Live::read`].
#[derive(Debug, Default)]
pub struct Live {
    topology: RwLock<Topology>,
    devices: RwLock<DeviceMap>,
    interfaces: RwLock<InterfaceMap>,
    poller: RwLock<PollerHealth>,
    discovery: RwLock<DiscoveryStatus>,
    stale_after_ms: i64,
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl Live {
    pub fn new(topology: Topology, stale_after_ms: i64) -> Live {
        Live {
            topology: RwLock::new(topology),
            stale_after_ms,
            ..Default::default()
        }
    }

    /// How old data may be before it is shown as stale.
    pub fn stale_after_ms(&self) -> i64 {
        self.stale_after_ms
    }

    /// An owned copy of every part.
    pub fn snapshot(&self) -> LiveSnapshot {
        self.read(|v| LiveSnapshot {
            topology: v.topology.clone(),
            devices: v.devices.clone(),
            interfaces: v.interfaces.clone(),
            poller: v.poller.clone(),
            stale_after_ms: v.stale_after_ms,
            discovery: v.discovery.clone(),
        })
    }

    /// Reads every part at one moment: the read locks are taken in one
    /// fixed order and held while `f` runs (keep it short).
    pub fn read<R>(&self, f: impl FnOnce(&LiveView<'_>) -> R) -> R {
        let topology = read(&self.topology);
        let devices = read(&self.devices);
        let interfaces = read(&self.interfaces);
        let poller = read(&self.poller);
        let discovery = read(&self.discovery);
        f(&LiveView {
            topology: &topology,
            devices: &devices,
            interfaces: &interfaces,
            poller: &poller,
            stale_after_ms: self.stale_after_ms,
            discovery: &discovery,
        })
    }

    pub fn read_topology<R>(&self, f: impl FnOnce(&Topology) -> R) -> R {
        f(&read(&self.topology))
    }

    pub fn read_devices<R>(&self, f: impl FnOnce(&DeviceMap) -> R) -> R {
        f(&read(&self.devices))
    }

    pub fn read_interfaces<R>(&self, f: impl FnOnce(&InterfaceMap) -> R) -> R {
        f(&read(&self.interfaces))
    }

    pub fn read_poller<R>(&self, f: impl FnOnce(&PollerHealth) -> R) -> R {
        f(&read(&self.poller))
    }

    pub fn read_discovery<R>(&self, f: impl FnOnce(&DiscoveryStatus) -> R) -> R {
        f(&read(&self.discovery))
    }

    pub fn update_topology<R>(&self, f: impl FnOnce(&mut Topology) -> R) -> R {
        f(&mut write(&self.topology))
    }

    pub fn update_devices<R>(&self, f: impl FnOnce(&mut DeviceMap) -> R) -> R {
        f(&mut write(&self.devices))
    }

    pub fn update_interfaces<R>(&self, f: impl FnOnce(&mut InterfaceMap) -> R) -> R {
        f(&mut write(&self.interfaces))
    }

    pub fn update_poller<R>(&self, f: impl FnOnce(&mut PollerHealth) -> R) -> R {
        f(&mut write(&self.poller))
    }

    pub fn update_discovery<R>(&self, f: impl FnOnce(&mut DiscoveryStatus) -> R) -> R {
        f(&mut write(&self.discovery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A writer holding one part (here devices, for as long as the test
    /// wants) does not hold up readers and writers of the other parts.
    #[test]
    fn a_writer_of_one_part_does_not_block_the_others() {
        let live = std::sync::Arc::new(Live::new(Topology::default(), 1_000));
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let writer = {
            let live = live.clone();
            std::thread::spawn(move || {
                live.update_devices(|d| {
                    d.insert(DeviceId("r1".into()), DeviceHealth::default());
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                })
            })
        };
        held_rx.recv().unwrap();
        let (done_tx, done_rx) = mpsc::channel();
        let other = {
            let live = live.clone();
            std::thread::spawn(move || {
                live.update_interfaces(|i| {
                    i.insert(
                        (DeviceId("r1".into()), "eth0".into()),
                        InterfaceHealth::default(),
                    );
                });
                live.update_poller(|p| p.snmp_polls += 1);
                let seen = (
                    live.read_interfaces(|i| i.len()),
                    live.read_poller(|p| p.snmp_polls),
                    live.read_topology(|t| t.devices.len()),
                );
                done_tx.send(seen).unwrap();
            })
        };
        let seen = done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("other parts were blocked by the devices writer");
        assert_eq!(seen, (1, 1, 0));
        release_tx.send(()).unwrap();
        writer.join().unwrap();
        other.join().unwrap();
        assert_eq!(live.read(|v| (v.devices.len(), v.interfaces.len())), (1, 1));
    }
}
