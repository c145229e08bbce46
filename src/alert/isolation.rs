//! Whether the poller itself is cut off from the network, so that one
//! `poller_isolated` alert stands for every device it can no longer reach.
//! Pure: the caller reads the poller's own interfaces (see
//! [`PollerLink`]) and passes them in the observations.
//!
//! The poller is cut off when either
//! - **its own links are down**: every interface of the poller that carries
//!   a link of the topology is known locally and none of them is up (no
//!   carrier or administratively down), while at least one device was
//!   monitored; or
//! - **nothing answers**: every device with a known reachability (at least
//!   two) is unreachable, and no single first hop explains it — the poller
//!   has two or more neighbours in the topology, or the poller is not in the
//!   topology at all. With one first hop, that device is the root cause
//!   ([`super::suppress`]), not the poller.
use super::observe::Observations;
use crate::live::Reachability;
use crate::topology::{DeviceId, Topology};
use serde::Serialize;
use std::collections::BTreeSet;

/// One interface of the poller that carries a topology link, with its state
/// as this host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerLink {
    pub name: String,
    /// None: no interface of that name here (the state is unknown).
    pub up: Option<bool>,
}

/// Why the poller is cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Every interface carrying its links is down.
    LinksDown,
    /// No device answers and no single first hop explains it.
    NothingAnswers,
}

impl Isolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::LinksDown => "its own links are down",
            Isolation::NothingAnswers => "no device answers",
        }
    }
}

/// The names of the poller's interfaces that carry topology links (sorted,
/// without repeats).
pub fn poller_link_names(topology: &Topology, poller: &DeviceId) -> Vec<String> {
    let names: BTreeSet<String> = topology
        .links
        .iter()
        .flat_map(|l| [&l.a, &l.b])
        .filter(|e| &e.device == poller)
        .filter_map(|e| e.if_name.clone())
        .collect();
    names.into_iter().collect()
}

/// The devices one link away from the poller.
fn first_hops(topology: &Topology, poller: &DeviceId) -> BTreeSet<DeviceId> {
    topology
        .links
        .iter()
        .filter_map(|l| {
            if &l.a.device == poller && &l.b.device != poller {
                Some(l.b.device.clone())
            } else if &l.b.device == poller && &l.a.device != poller {
                Some(l.a.device.clone())
            } else {
                None
            }
        })
        .collect()
}

/// Whether (and why) the poller is cut off in these observations.
pub fn cut_off(obs: &Observations) -> Option<Isolation> {
    let known: Vec<Reachability> = obs
        .devices
        .values()
        .map(|d| d.reachability)
        .filter(|r| *r != Reachability::Unknown)
        .collect();
    if known.is_empty() {
        return None;
    }
    let links: Vec<bool> = obs.poller_links.iter().filter_map(|l| l.up).collect();
    if !links.is_empty() && links.iter().all(|up| !up) {
        return Some(Isolation::LinksDown);
    }
    let all_down = known.len() >= 2 && known.iter().all(|r| *r == Reachability::Down);
    if !all_down {
        return None;
    }
    let explained = obs
        .poller
        .as_ref()
        .is_some_and(|p| first_hops(&obs.topology, p).len() == 1);
    (!explained).then_some(Isolation::NothingAnswers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::observe::DeviceObs;
    use crate::topology::{Device, Endpoint, Evidence, Link};
    use proptest::prelude::*;

    fn dev(id: &str, poller: bool) -> Device {
        Device::for_test(id, poller)
    }

    fn link(k: usize, a: &str, ai: Option<&str>, b: &str) -> Link {
        Link {
            id: format!("l{k}"),
            a: Endpoint {
                device: DeviceId(a.into()),
                if_name: ai.map(str::to_string),
            },
            b: Endpoint {
                device: DeviceId(b.into()),
                if_name: Some("eth0".into()),
            },
            evidence: vec![Evidence::Lldp],
            confidence: 1.0,
            lag: None,
        }
    }

    /// The poller `p` with first hops `hops` (on p's eth0, eth1, ...) and
    /// `n` managed devices d1..dn; `down` lists the unreachable ones,
    /// `unknown` those without a known reachability.
    fn obs(hops: &[&str], n: usize, down: &[&str], unknown: &[&str]) -> Observations {
        let mut devices = vec![dev("p", true)];
        let mut map = std::collections::BTreeMap::new();
        for i in 1..=n {
            let id = format!("d{i}");
            devices.push(dev(&id, false));
            let reachability = if unknown.contains(&id.as_str()) {
                Reachability::Unknown
            } else if down.contains(&id.as_str()) {
                Reachability::Down
            } else {
                Reachability::Up
            };
            map.insert(
                DeviceId(id.clone()),
                DeviceObs {
                    id: DeviceId(id.clone()),
                    name: id,
                    mgmt_addr: None,
                    tags: vec![],
                    reachability,
                    last_verdict: reachability,
                    reach_ms: None,
                    rtt_ms: None,
                    loss_pct: None,
                    vitals: Default::default(),
                },
            );
        }
        let links = hops
            .iter()
            .enumerate()
            .map(|(k, h)| link(k, "p", Some(&format!("eth{k}")), h))
            .collect();
        Observations {
            devices: map,
            interfaces: vec![],
            poller: Some(DeviceId("p".into())),
            topology: Topology { devices, links },
            poller_links: vec![],
        }
    }

    fn with_links(mut o: Observations, states: &[Option<bool>]) -> Observations {
        o.poller_links = states
            .iter()
            .enumerate()
            .map(|(k, up)| PollerLink {
                name: format!("eth{k}"),
                up: *up,
            })
            .collect();
        o
    }

    #[test]
    fn own_links_down() {
        let o = with_links(obs(&["d1"], 3, &[], &[]), &[Some(false)]);
        assert_eq!(cut_off(&o), Some(Isolation::LinksDown));
        // One of two links still up: not cut off.
        let o = with_links(obs(&["d1", "d2"], 3, &[], &[]), &[Some(false), Some(true)]);
        assert_eq!(cut_off(&o), None);
        // A link whose state is unknown does not count either way.
        let o = with_links(obs(&["d1", "d2"], 3, &[], &[]), &[Some(false), None]);
        assert_eq!(cut_off(&o), Some(Isolation::LinksDown));
        let o = with_links(obs(&["d1"], 3, &[], &[]), &[None]);
        assert_eq!(cut_off(&o), None);
        // Nothing monitored yet: nothing to say.
        let o = with_links(obs(&["d1"], 2, &[], &["d1", "d2"]), &[Some(false)]);
        assert_eq!(cut_off(&o), None);
    }

    #[test]
    fn nothing_answers_only_without_a_single_first_hop() {
        // One first hop: it is the root cause, not the poller.
        let o = with_links(obs(&["d1"], 3, &["d1", "d2", "d3"], &[]), &[Some(true)]);
        assert_eq!(cut_off(&o), None);
        // Two first hops, both and everything behind them down.
        let o = obs(&["d1", "d2"], 3, &["d1", "d2", "d3"], &[]);
        assert_eq!(cut_off(&o), Some(Isolation::NothingAnswers));
        // Something still answers.
        let o = obs(&["d1", "d2"], 3, &["d1", "d2"], &[]);
        assert_eq!(cut_off(&o), None);
        // Unknown devices are left out; one known device is not enough.
        let o = obs(&["d1", "d2"], 3, &["d1"], &["d2", "d3"]);
        assert_eq!(cut_off(&o), None);
        // No poller in the topology: everything down is the poller's view.
        let mut o = obs(&["d1"], 2, &["d1", "d2"], &[]);
        o.poller = None;
        assert_eq!(cut_off(&o), Some(Isolation::NothingAnswers));
    }

    #[test]
    fn link_names_of_the_poller() {
        let o = obs(&["d1", "d2"], 2, &[], &[]);
        assert_eq!(
            poller_link_names(&o.topology, &DeviceId("p".into())),
            ["eth0", "eth1"]
        );
        assert_eq!(
            poller_link_names(&o.topology, &DeviceId("d1".into())),
            ["eth0"]
        );
        assert!(poller_link_names(&o.topology, &DeviceId("d9".into())).is_empty());
    }

    proptest! {
        /// Cut off only when nothing known answers or every known local
        /// link is down; never while a first hop is the single explanation
        /// and a local link is up.
        #[test]
        fn cut_off_needs_silence_or_dead_links(
            n in 1usize..8,
            hops in 1usize..4,
            states in proptest::collection::vec(0u8..3, 8),
            links in proptest::collection::vec(proptest::option::of(any::<bool>()), 0..4),
        ) {
            let names: Vec<String> = (1..=n).map(|i| format!("d{i}")).collect();
            let hop_names: Vec<&str> = names.iter().take(hops.min(n)).map(String::as_str).collect();
            let down: Vec<&str> = names.iter().enumerate().filter(|(i, _)| states[*i] == 1).map(|(_, s)| s.as_str()).collect();
            let unknown: Vec<&str> = names.iter().enumerate().filter(|(i, _)| states[*i] == 2).map(|(_, s)| s.as_str()).collect();
            let o = with_links(obs(&hop_names, n, &down, &unknown), &links);
            let known = n - unknown.len();
            let any_up = known > down.len();
            let links_known: Vec<bool> = links.iter().filter_map(|l| *l).collect();
            let links_dead = !links_known.is_empty() && links_known.iter().all(|u| !u);
            match cut_off(&o) {
                Some(Isolation::LinksDown) => prop_assert!(links_dead && known > 0),
                Some(Isolation::NothingAnswers) => {
                    prop_assert!(!any_up && known >= 2 && hop_names.len() >= 2);
                }
                None => prop_assert!(known == 0 || (!links_dead && (any_up || known < 2 || hop_names.len() < 2))),
            }
        }
    }
}
