//! The evaluator's event rules (`trap`, `syslog`): received events taken
//! into their hits, each hit's value stepped through the same state
//! machine as polled values (firing, holds, flapping, notifications), and
//! firing event alerts given a fresh quiet period after a restart. Pure,
//! like the rest of `eval`.
use super::Evaluator;
use crate::alert::event_hits::Hit;
use crate::alert::observe::{DeviceObs, Observations};
use crate::alert::state::{AlertKey, Transition};
use crate::alert::suppress::Suppressed;
use crate::store::EventRow;
use crate::types::UnixMillis;
use std::collections::BTreeSet;

impl Evaluator {
    /// Takes received events for the event rules; the next [`step`]
    /// fires and resolves their alerts.
    ///
    /// [`step`]: Evaluator::step
    pub fn take_events(&mut self, events: &[EventRow], obs: &Observations) {
        for e in events {
            self.hits.take(&self.rules, e, obs);
        }
    }

    /// Firing event alerts restored after a restart get a fresh quiet
    /// period from `now` (their last match before the restart is not
    /// known); call after [`Evaluator::restore`].
    pub fn restore_event_hits(&mut self, now: UnixMillis) {
        for (key, t) in &self.tracked {
            let rule = &self.rules[t.rule];
            if rule.kind.is_event() && t.st.firing() && self.hits.get(key).is_none() {
                let hit = Hit {
                    rule: t.rule,
                    device: t.device.clone(),
                    interface: t.interface.clone(),
                    last_match: now,
                    resolved: false,
                    count: t.st.last_value.map_or(1, |v| v.max(1.0) as u64),
                    text: "(firing before a restart)".into(),
                    recent: Default::default(),
                };
                self.hits.restore(key.clone(), hit);
            }
        }
    }

    /// One step of event rule `ri`: each of its hits is an alert whose
    /// value is the match count while active, 0 once quiet or resolved;
    /// its transitions carry the newest match's text.
    pub(super) fn step_event_rule(
        &mut self,
        ri: usize,
        obs: &Observations,
        behind: &Suppressed,
        now: UnixMillis,
        seen: &mut BTreeSet<AlertKey>,
        out: &mut Vec<Transition>,
    ) {
        let hits: Vec<(AlertKey, Hit)> = self
            .hits
            .of_rule(ri)
            .map(|(k, h)| (k.clone(), h.clone()))
            .collect();
        for (key, hit) in hits {
            let d = obs.devices.get(&hit.device).cloned().unwrap_or_else(|| {
                DeviceObs::unmeasured(hit.device.clone(), hit.device.0.clone(), None)
            });
            let value = Some(hit.value(&self.rules[ri], now));
            seen.insert(key.clone());
            let from = out.len();
            let iface = hit.interface.as_deref();
            self.advance(ri, key, &d, iface, value, behind, now, out);
            for t in &mut out[from..] {
                t.detail = Some(hit.text.clone());
            }
        }
    }
}

#[cfg(test)]
#[path = "eval_events_tests.rs"]
mod tests;
