//! The recent matches of event rules (`trap`, `syslog`), one per alert:
//! when it last matched, how often since it became active, the times of
//! the newest matches for rules that count `min_matches` within a window,
//! the event's text, and whether a resolving trap came after. The evaluator reads an
//! event alert's value from here (the match count while active, 0 once
//! quiet for the rule's `clear_after_s` or resolved), so event alerts go
//! through the same firing, holds and notifications as polled ones.
//! Pure: events, rules and observations in; the time is the events' own.
use super::event_rule::{Verdict, event_text};
use super::observe::Observations;
use super::rule::Rule;
use super::state::AlertKey;
use crate::store::EventRow;
use crate::topology::{DeviceId, Topology};
use crate::types::UnixMillis;
use std::collections::{BTreeMap, VecDeque};

/// One event alert's matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rule: usize,
    pub device: DeviceId,
    pub interface: Option<String>,
    /// When the newest match was received.
    pub last_match: UnixMillis,
    /// A resolving trap came after the newest match.
    pub resolved: bool,
    /// Matches since the alert last became active.
    pub count: u64,
    /// The newest match's text (see [`event_text`]).
    pub text: String,
    /// The times of the newest matches, at most the rule's `min_matches`
    /// (empty for rules that fire on the first match).
    pub recent: VecDeque<UnixMillis>,
}

impl Hit {
    /// Matched within the quiet period and not resolved since.
    pub fn active(&self, clear_after_ms: i64, now: UnixMillis) -> bool {
        !self.resolved && now - self.last_match < clear_after_ms
    }

    /// The value the evaluator compares against the rule: 0 once quiet
    /// or resolved; while active, the count since it became active, or,
    /// for a rule counting `min_matches` within a window, the matches in
    /// the window (at least 1, so a firing alert holds until it is quiet
    /// for `clear_after`).
    pub fn value(&self, rule: &Rule, now: UnixMillis) -> f64 {
        if !self.active(rule.clear_after_ms, now) {
            0.0
        } else if rule.min_matches <= 1 {
            self.count as f64
        } else {
            let within = self
                .recent
                .iter()
                .filter(|t| now - **t < rule.within_ms)
                .count();
            within.max(1) as f64
        }
    }
}

/// Every event alert's matches, by alert key.
#[derive(Debug, Clone, Default)]
pub struct EventHits {
    hits: BTreeMap<AlertKey, Hit>,
}

/// The interface a trap names: its name in the topology, else `ifIndex N`.
fn interface_name(topology: &Topology, device: &DeviceId, if_index: u32) -> String {
    topology
        .device(device)
        .and_then(|d| d.interfaces.iter().find(|i| i.if_index.0 == if_index))
        .map_or_else(|| format!("ifIndex {if_index}"), |i| i.name.clone())
}

impl EventHits {
    /// Takes one received event for every event rule whose scope covers
    /// its device. An event on no device, or on one the observations do
    /// not hold (the poller itself), matches nothing.
    pub fn take(&mut self, rules: &[Rule], e: &EventRow, obs: &Observations) {
        let Some(dev) = &e.device else {
            return;
        };
        let Some(d) = obs.devices.get(&DeviceId(dev.clone())) else {
            return;
        };
        for (ri, rule) in rules.iter().enumerate() {
            let Some(m) = &rule.matcher else {
                continue;
            };
            if !rule.scope.covers_device(&d.facts()) {
                continue;
            }
            let verdict = m.verdict(e);
            if verdict == Verdict::Ignored {
                continue;
            }
            let interface = if m.per_interface() {
                e.if_index.map(|i| interface_name(&obs.topology, &d.id, i))
            } else {
                None
            };
            // A trap rule with interface globs takes only traps naming a
            // covered interface (one naming none is not about them).
            if rule.scope.has_interfaces()
                && !interface
                    .as_deref()
                    .is_some_and(|i| rule.scope.covers_interface(Some(i)))
            {
                continue;
            }
            let key = AlertKey::new(&rule.name, &d.id, interface.as_deref());
            match verdict {
                Verdict::Fires => {
                    let hit = self.hits.entry(key).or_insert_with(|| Hit {
                        rule: ri,
                        device: d.id.clone(),
                        interface,
                        last_match: e.at,
                        resolved: true,
                        count: 0,
                        text: String::new(),
                        recent: VecDeque::new(),
                    });
                    if !hit.active(rule.clear_after_ms, e.at) {
                        hit.count = 0;
                    }
                    hit.count += 1;
                    hit.resolved = false;
                    hit.last_match = hit.last_match.max(e.at);
                    hit.text = event_text(e);
                    if rule.min_matches > 1 {
                        hit.recent.push_back(e.at);
                        hit.recent.make_contiguous().sort();
                        while hit.recent.len() > rule.min_matches as usize {
                            hit.recent.pop_front();
                        }
                    }
                }
                Verdict::Resolves => {
                    if let Some(h) = self.hits.get_mut(&key)
                        && e.at >= h.last_match
                    {
                        h.resolved = true;
                    }
                }
                Verdict::Ignored => {}
            }
        }
    }

    /// A firing event alert restored after a restart: active again, its
    /// quiet period starting at `now`.
    pub fn restore(&mut self, key: AlertKey, hit: Hit) {
        self.hits.insert(key, hit);
    }

    /// The hits of rule `ri`.
    pub fn of_rule(&self, ri: usize) -> impl Iterator<Item = (&AlertKey, &Hit)> {
        self.hits.iter().filter(move |(_, h)| h.rule == ri)
    }

    pub fn get(&self, key: &AlertKey) -> Option<&Hit> {
        self.hits.get(key)
    }

    /// Forgets the hits `keep` refuses (quiet ones whose alert is gone).
    pub fn retain(&mut self, mut keep: impl FnMut(&AlertKey, &Hit) -> bool) {
        self.hits.retain(|k, h| keep(k, h));
    }

    pub fn len(&self) -> usize {
        self.hits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }
}
