//! The evaluation step: rules × observations × time → transitions. Keeps
//! each alert's state (pending with its `for`, firing, flap history, what
//! receivers were told) and the p95 windows. Decides holds in this order:
//! dependency suppression, maintenance, flapping. Pure: the caller passes
//! the time; nothing here reads a clock or does I/O.
//!
//! Notification model: receivers are told an alert fires when it fires and
//! nothing holds it; a held alert that is still firing when its hold has
//! been over for the rule's `for` is told late (`catch_up`). A resolution is told when receivers were told it
//! fired, except while flapping. So receivers never see two firings of one
//! alert without a resolution between them.
//!
//! Flapping: when an alert starts flapping and nothing else holds it,
//! receivers get one `flapping_started` notice carrying its state then;
//! its further changes are held. When it stops, they get one
//! `flapping_stopped` notice carrying its state then (a firing state only
//! once it could be told as a catch-up), and its ordinary notifications
//! resume from that state. Either notice counts as telling the state it
//! carries. See [`flap::notice`].
use super::event_hits::EventHits;
use super::flap;
use super::isolation;
use super::maintenance::Window;
use super::observe::{DeviceObs, Observations};
use super::rule::Rule;
pub use super::state::{ActiveAlert, Restored};
use super::state::{AlertKey, AlertMemory, Hold, Phase, Transition};
use super::suppress::{self, Suppressed};
use crate::config::RuleKind;
use crate::live::Reachability;
use crate::topology::DeviceId;
use crate::types::AlertEventKind;
use crate::types::UnixMillis;
use crate::util::stats::nearest_rank;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Samples kept per p95 window at most (older ones are dropped first).
const MAX_P95_SAMPLES: usize = 20_000;

#[derive(Debug, Clone)]
struct Tracked {
    rule: usize,
    device: DeviceId,
    device_name: String,
    interface: Option<String>,
    /// When it last fired.
    started_ms: UnixMillis,
    st: AlertMemory,
}

#[derive(Debug, Clone, Default)]
struct P95Window {
    last_update: Option<UnixMillis>,
    samples: VecDeque<(UnixMillis, Option<f64>, Option<f64>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Evaluator {
    rules: Vec<Rule>,
    windows: Vec<Window>,
    tracked: BTreeMap<AlertKey, Tracked>,
    p95: BTreeMap<AlertKey, P95Window>,
    /// The poller was cut off at the last step.
    was_isolated: bool,
    /// When the poller stopped being cut off, while some device is still
    /// known only from a measurement older than that.
    isolation_ended: Option<UnixMillis>,
    /// Recent state changes read back after a restart for alerts not
    /// tracked yet (resolved ones): their flap history once they are.
    restored_changes: BTreeMap<AlertKey, VecDeque<UnixMillis>>,
    /// The recent matches of event rules (`trap`, `syslog`).
    hits: EventHits,
}

/// The id of the subject of `poller_isolated` alerts when discovery did not
/// recognise the poller.
pub const UNKNOWN_POLLER: &str = "poller";

/// The poller as the subject of `poller_isolated` alerts.
fn poller_obs(obs: &Observations) -> DeviceObs {
    let id = obs
        .poller
        .clone()
        .unwrap_or_else(|| DeviceId(UNKNOWN_POLLER.into()));
    let dev = obs.topology.device(&id);
    let name = dev
        .and_then(|d| d.sys_name.clone())
        .unwrap_or_else(|| "nocmap poller".into());
    DeviceObs::unmeasured(id, name, dev.and_then(|d| d.mgmt_addr))
}

impl Evaluator {
    pub fn new(rules: Vec<Rule>, windows: Vec<Window>) -> Evaluator {
        Evaluator {
            rules,
            windows,
            ..Default::default()
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Takes back firing alerts saved before a restart, so they neither fire
    /// again nor go unresolved. Alerts of rules no longer configured are
    /// returned (they are forgotten). Their flap history comes back with
    /// [`Evaluator::restore_changes`]; without it an alert restored as
    /// flapping stops flapping at the next step, with its stop notice when
    /// receivers were told it started.
    pub fn restore(&mut self, alerts: Vec<Restored>) -> Vec<Restored> {
        let mut dropped = Vec::new();
        for a in alerts {
            let Some(ri) = self.rules.iter().position(|r| r.name == a.rule) else {
                dropped.push(a);
                continue;
            };
            let key = AlertKey::new(&a.rule, &a.device, a.interface.as_deref());
            let phase = if a.firing {
                Phase::Firing { since: a.since_ms }
            } else {
                Phase::Inactive
            };
            let mut st = AlertMemory::new(phase);
            st.notified = a.notified;
            st.flapping = a.flapping;
            st.flap_told = a.flap_told;
            st.last_value = a.value;
            self.tracked.insert(
                key,
                Tracked {
                    rule: ri,
                    device: a.device,
                    device_name: a.device_name,
                    interface: a.interface,
                    started_ms: a.since_ms,
                    st,
                },
            );
        }
        dropped
    }

    /// Takes back the times alerts changed between firing and resolved
    /// before a restart (read from the alert history, oldest first), as
    /// their flap history: an alert that flapped when the monitor stopped
    /// still flaps after it, and one a change short of flapping is still
    /// that close. Call after [`Evaluator::restore`]; changes older than a
    /// rule's flap window fall out at the next step.
    pub fn restore_changes(&mut self, changes: impl IntoIterator<Item = (AlertKey, UnixMillis)>) {
        for (key, at) in changes {
            let list = match self.tracked.get_mut(&key) {
                Some(t) => &mut t.st.changes,
                None => self.restored_changes.entry(key).or_default(),
            };
            if list.back().is_none_or(|last| *last <= at) {
                list.push_back(at);
            }
        }
    }

    /// One evaluation at `now`.
    pub fn step(&mut self, obs: &Observations, now: UnixMillis) -> Vec<Transition> {
        // Not reached: down now, or last seen down and stale since (its own
        // alerts hold, but it still stands between the poller and what is
        // behind it: a device further out must not become a root cause just
        // because this one's rounds stopped).
        let unreachable: BTreeSet<DeviceId> = obs
            .devices
            .values()
            .filter(|d| {
                d.reachability == Reachability::Down
                    || (d.reachability == Reachability::Unknown
                        && d.last_verdict == Reachability::Down)
            })
            .map(|d| d.id.clone())
            .collect();
        // The poller cut off: with a `poller_isolated` rule, that one alert
        // stands for everything, and every device is behind the poller.
        let isolated = isolation::cut_off(obs);
        let poller = poller_obs(obs);
        let has_isolation_rule = self
            .rules
            .iter()
            .any(|r| r.kind == RuleKind::PollerIsolated);
        if has_isolation_rule && self.was_isolated && isolated.is_none() {
            self.isolation_ended = Some(now);
        }
        self.was_isolated = has_isolation_rule && isolated.is_some();
        let behind = if self.was_isolated {
            obs.devices
                .keys()
                .map(|d| (d.clone(), vec![poller.id.clone()]))
                .collect()
        } else {
            let mut behind =
                suppress::behind_unreachable(&obs.topology, obs.poller.as_ref(), &unreachable);
            // Back from being cut off: a device last measured before that
            // ended says nothing yet; it stays behind the poller until its
            // next round (rounds can be slower than a rule's `for`).
            if let Some(ended) = self.isolation_ended {
                let stale: Vec<&DeviceId> = obs
                    .devices
                    .values()
                    .filter(|d| d.reachability == Reachability::Down)
                    .filter(|d| d.reach_ms.is_none_or(|t| t < ended))
                    .map(|d| &d.id)
                    .collect();
                if stale.is_empty() {
                    self.isolation_ended = None;
                }
                for d in stale {
                    behind.insert(d.clone(), vec![poller.id.clone()]);
                }
            }
            behind
        };
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for ri in 0..self.rules.len() {
            let rule = self.rules[ri].clone();
            if rule.kind == RuleKind::PollerIsolated {
                let key = AlertKey::new(&rule.name, &poller.id, None);
                let value = Some(if isolated.is_some() { 1.0 } else { 0.0 });
                seen.insert(key.clone());
                let none = Suppressed::new();
                self.advance(ri, key, &poller, None, value, &none, now, &mut out);
            } else if rule.kind.is_event() {
                self.step_event_rule(ri, obs, &behind, now, &mut seen, &mut out);
            } else if rule.kind.per_interface() {
                for i in &obs.interfaces {
                    let Some(d) = obs.devices.get(&i.device) else {
                        continue;
                    };
                    if !rule.scope.covers(&d.facts(), Some(&i.name)) {
                        continue;
                    }
                    let key = AlertKey::new(&rule.name, &d.id, Some(&i.name));
                    let value = if rule.kind.is_p95() {
                        let pair = rule.interface_pair(i);
                        self.p95_value(ri, &key, i.updated_ms, pair, now)
                    } else {
                        rule.interface_value(i)
                    };
                    seen.insert(key.clone());
                    self.advance(ri, key, d, Some(&i.name), value, &behind, now, &mut out);
                }
            } else {
                for d in obs.devices.values() {
                    if !rule.scope.covers(&d.facts(), None) {
                        continue;
                    }
                    let key = AlertKey::new(&rule.name, &d.id, None);
                    let value = rule.device_value(d);
                    seen.insert(key.clone());
                    self.advance(ri, key, d, None, value, &behind, now, &mut out);
                }
            }
        }
        // Alerts whose subject is gone from the observations (or out of
        // scope): their state stands, but time still moves their holds.
        let rest: Vec<AlertKey> = self
            .tracked
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for key in rest {
            let t = &self.tracked[&key];
            let (ri, dev, name, iface) = (
                t.rule,
                t.device.clone(),
                t.device_name.clone(),
                t.interface.clone(),
            );
            let d = obs
                .devices
                .get(&dev)
                .cloned()
                .unwrap_or_else(|| DeviceObs::unmeasured(dev, name, None));
            // An event alert without matches is quiet.
            let value = self.rules[ri].kind.is_event().then_some(0.0);
            self.advance(ri, key, &d, iface.as_deref(), value, &behind, now, &mut out);
        }
        self.tracked.retain(|_, t| !t.st.forgettable());
        let (rules, tracked) = (&self.rules, &self.tracked);
        self.hits
            .retain(|k, h| h.active(rules[h.rule].clear_after_ms, now) || tracked.contains_key(k));
        let live_p95: BTreeSet<&AlertKey> = seen.iter().collect();
        self.p95.retain(|k, _| live_p95.contains(k));
        out
    }

    /// Every firing or flapping alert (or one whose stop notice is still
    /// owed), by key.
    pub fn active(&self) -> Vec<ActiveAlert> {
        self.tracked
            .iter()
            .filter(|(_, t)| t.st.firing() || t.st.flapping || t.st.flap_told)
            .map(|(k, t)| {
                let rule = &self.rules[t.rule];
                ActiveAlert {
                    key: k.clone(),
                    rule: rule.name.clone(),
                    severity: rule.severity,
                    device: t.device.clone(),
                    device_name: t.device_name.clone(),
                    interface: t.interface.clone(),
                    since_ms: t.started_ms,
                    firing: t.st.firing(),
                    value: t.st.last_value,
                    caused_by: t.st.suppressed_by.clone(),
                    maintenance: t.st.maintenance.clone(),
                    flapping: t.st.flapping,
                    notified: t.st.notified,
                    flap_told: t.st.flap_told,
                }
            })
            .collect()
    }

    /// Adds the newest sample (once per measurement) and returns the p95
    /// over the rule's window, in the rule's direction.
    fn p95_value(
        &mut self,
        ri: usize,
        key: &AlertKey,
        updated: Option<UnixMillis>,
        pair: (Option<f64>, Option<f64>),
        now: UnixMillis,
    ) -> Option<f64> {
        let rule = &self.rules[ri];
        let w = self.p95.entry(key.clone()).or_default();
        if let Some(at) = updated
            && w.last_update != Some(at)
        {
            w.last_update = Some(at);
            w.samples.push_back((at, pair.0, pair.1));
            if w.samples.len() > MAX_P95_SAMPLES {
                w.samples.pop_front();
            }
        }
        while w
            .samples
            .front()
            .is_some_and(|s| now - s.0 > rule.window_ms)
        {
            w.samples.pop_front();
        }
        let ins: Vec<f64> = w.samples.iter().filter_map(|s| s.1).collect();
        let outs: Vec<f64> = w.samples.iter().filter_map(|s| s.2).collect();
        rule.directed((nearest_rank(&ins, 95), nearest_rank(&outs, 95)))
    }

    #[allow(clippy::too_many_arguments)]
    fn advance(
        &mut self,
        ri: usize,
        key: AlertKey,
        d: &DeviceObs,
        iface: Option<&str>,
        value: Option<f64>,
        behind: &Suppressed,
        now: UnixMillis,
        out: &mut Vec<Transition>,
    ) {
        let rule = &self.rules[ri];
        if !self.tracked.contains_key(&key) {
            if !value.is_some_and(|v| rule.breached(v, false)) {
                return;
            }
            let mut st = AlertMemory::new(Phase::Inactive);
            if let Some(changes) = self.restored_changes.remove(&key) {
                st.changes = changes;
            }
            self.tracked.insert(
                key.clone(),
                Tracked {
                    rule: ri,
                    device: d.id.clone(),
                    device_name: d.name.clone(),
                    interface: iface.map(str::to_string),
                    started_ms: now,
                    st,
                },
            );
        }
        let Some(t) = self.tracked.get_mut(&key) else {
            return;
        };
        let st = &mut t.st;
        if value.is_some() {
            st.last_value = value;
        }
        let breach = value.map(|v| rule.breached(v, st.firing()));
        let (mut fired, mut resolved) = (false, false);
        let started_before = t.started_ms;
        match (st.phase, breach) {
            (Phase::Inactive, Some(true)) if rule.for_ms == 0 => {
                st.phase = Phase::Firing { since: now };
                fired = true;
            }
            (Phase::Inactive, Some(true)) => st.phase = Phase::Pending { since: now },
            (Phase::Pending { since }, Some(true)) if now - since >= rule.for_ms => {
                st.phase = Phase::Firing { since: now };
                fired = true;
            }
            (Phase::Pending { .. }, Some(false)) => st.phase = Phase::Inactive,
            (Phase::Firing { .. }, Some(false)) => {
                st.phase = Phase::Inactive;
                resolved = true;
            }
            _ => {}
        }
        if fired {
            t.started_ms = now;
        }
        if fired || resolved {
            st.changes.push_back(now);
        }
        let was_flapping = st.flapping;
        st.flapping = flap::update(&mut st.changes, now, rule.flap_window_ms, rule.flap_changes);
        let caused_by = behind.get(&d.id).cloned().unwrap_or_default();
        let newly_suppressed = !caused_by.is_empty() && st.suppressed_by.is_empty();
        st.suppressed_by = caused_by;
        st.maintenance = self
            .windows
            .iter()
            .find(|w| w.covers(&d.facts(), iface, now))
            .map(|w| w.name.clone());
        let hold = if !st.suppressed_by.is_empty() {
            Some(Hold::Suppressed {
                caused_by: st.suppressed_by.clone(),
            })
        } else if let Some(w) = &st.maintenance {
            Some(Hold::Maintenance { window: w.clone() })
        } else if st.flapping {
            Some(Hold::Flapping)
        } else {
            None
        };
        if hold.is_some() {
            st.unheld_since = None;
        } else if st.unheld_since.is_none() {
            st.unheld_since = Some(now);
        }
        // A late notification waits until nothing has held the alert for the
        // rule's `for`: devices behind a root cause come back a round after
        // it, and must not be told as new root causes in between.
        let unheld_long_enough = st.unheld_since.is_some_and(|t| now - t >= rule.for_ms);
        let mut emit = |event: AlertEventKind,
                        notify: bool,
                        catch_up: bool,
                        started: UnixMillis,
                        st: &AlertMemory| {
            // A told notice was held by nothing; an untold one by the
            // hold at hand.
            let held = if notify && event.is_notice() {
                None
            } else {
                hold.clone()
            };
            out.push(Transition {
                key: key.clone(),
                rule: rule.name.clone(),
                kind: rule.kind,
                severity: rule.severity,
                device: t.device.clone(),
                device_name: t.device_name.clone(),
                interface: t.interface.clone(),
                event,
                firing: st.firing(),
                at_ms: now,
                started_ms: started,
                value: st.last_value,
                threshold: rule.shown_threshold(),
                notify,
                catch_up,
                held,
                flapping: st.flapping,
                receivers: rule.receivers.clone(),
                detail: None,
            })
        };
        // While receivers wait for the stop notice, it alone tells them the
        // state.
        let told_flapping = st.flap_told;
        if fired {
            // Receivers may still believe it fires (its resolution was held
            // while flapping): then there is nothing new to tell them.
            let notify = hold.is_none() && !st.notified && !told_flapping;
            st.notified |= notify;
            let event = if st.suppressed_by.is_empty() {
                AlertEventKind::Fired
            } else {
                AlertEventKind::Suppressed
            };
            emit(event, notify, false, now, st);
        } else if resolved {
            let notify = st.notified && !st.flapping && !told_flapping;
            if notify {
                st.notified = false;
            }
            emit(AlertEventKind::Resolved, notify, false, started_before, st);
        } else if st.firing() {
            if hold.is_none() && !st.notified && unheld_long_enough && !told_flapping {
                st.notified = true;
                emit(AlertEventKind::Fired, true, true, started_before, st);
            } else if newly_suppressed {
                emit(AlertEventKind::Suppressed, false, false, started_before, st);
            }
        } else if st.phase == Phase::Inactive && st.notified && !st.flapping && !told_flapping {
            st.notified = false;
            emit(AlertEventKind::Resolved, true, true, started_before, st);
        }
        let notice = flap::notice(flap::NoticeInput {
            was_flapping,
            flapping: st.flapping,
            told: st.flap_told,
            other_hold: !st.suppressed_by.is_empty() || st.maintenance.is_some(),
            firing: st.firing(),
            firing_may_be_told: hold.is_none() && unheld_long_enough,
        });
        let started = t.started_ms;
        match notice {
            Some(flap::Notice::Started { notify, late }) => {
                if notify {
                    st.flap_told = true;
                    st.notified = st.firing();
                }
                emit(AlertEventKind::FlappingStarted, notify, late, started, st);
            }
            Some(flap::Notice::Stopped { notify, late }) => {
                if notify {
                    st.flap_told = false;
                    st.notified = st.firing();
                }
                emit(AlertEventKind::FlappingStopped, notify, late, started, st);
            }
            None => {}
        }
    }
}

#[path = "eval_events.rs"]
mod events;

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
