//! Alerts raised outside the rules' evaluator, pure: today the central's
//! "site poller unreachable" alert, one per silent site (built by
//! `sites::site_alert`). The runner records them with the rules'
//! transitions, notifies every receiver, and keeps the firing ones among
//! the saved active alerts, so `/api/alerts` lists them and a restart
//! restores them (the runner rewrites that table whole each time, and
//! would otherwise drop them). A fired event for an alert already firing,
//! or a resolve for one not firing, is dropped: a central that restarts
//! during a silence and raises it again tells nobody twice, and a site
//! heard at start resolves a restored alert once.
use crate::store::{ActiveAlertRow, AlertEvent};
use crate::types::{AlertEventKind, AlertStatus};
use std::collections::BTreeMap;

/// The rule name of the central's site alert.
pub const SITE_POLLER_RULE: &str = "site_poller_unreachable";

/// Whether alerts of `rule` come from outside the evaluator (no `[[alert]]`
/// rule has this name: the configuration refuses it).
pub fn is_external(rule: &str) -> bool {
    rule == SITE_POLLER_RULE
}

/// The firing external alerts, by key.
#[derive(Debug, Clone, Default)]
pub struct External {
    firing: BTreeMap<String, ActiveAlertRow>,
}

impl External {
    /// Takes the external alerts among the saved active ones (firing before
    /// a restart); returns the others, the evaluator's.
    pub fn restore(&mut self, saved: Vec<ActiveAlertRow>) -> Vec<ActiveAlertRow> {
        let (mine, rest): (Vec<_>, Vec<_>) = saved.into_iter().partition(|a| is_external(&a.rule));
        for a in mine {
            self.firing.insert(a.key.clone(), a);
        }
        rest
    }

    /// The event to record for `e`, or None when it changes nothing (fired
    /// while firing, resolved while not firing, or any other kind).
    pub fn take(&mut self, e: AlertEvent) -> Option<AlertEvent> {
        match e.event {
            AlertEventKind::Fired if !self.firing.contains_key(&e.key) => {
                self.firing.insert(e.key.clone(), row(&e));
                Some(e)
            }
            // A resolve starts when the firing one did (a restored alert's
            // resolver may not know).
            AlertEventKind::Resolved => self.firing.remove(&e.key).map(|f| AlertEvent {
                started_ms: f.since_ms,
                ..e
            }),
            _ => None,
        }
    }

    /// The firing ones, as saved active alerts, by key.
    pub fn rows(&self) -> impl Iterator<Item = &ActiveAlertRow> {
        self.firing.values()
    }

    pub fn is_empty(&self) -> bool {
        self.firing.is_empty()
    }
}

fn row(e: &AlertEvent) -> ActiveAlertRow {
    ActiveAlertRow {
        key: e.key.clone(),
        rule: e.rule.clone(),
        severity: e.severity,
        device: e.device.clone(),
        device_name: e.device_name.clone(),
        interface: e.interface.clone(),
        status: AlertStatus::Firing,
        since_ms: e.started_ms,
        value: e.value,
        caused_by: vec![],
        maintenance: None,
        flapping: false,
        notified: e.notified,
        flap_told: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AlertState, UnixMillis};

    fn ev(key: &str, event: AlertEventKind) -> AlertEvent {
        AlertEvent {
            rule: SITE_POLLER_RULE.into(),
            event,
            state: AlertState::from_firing(event == AlertEventKind::Fired),
            ..AlertEvent::fired_for_test(key, UnixMillis(5))
        }
    }

    #[test]
    fn fired_once_resolved_once_and_restored() {
        let mut x = External::default();
        assert!(x.take(ev("a", AlertEventKind::Resolved)).is_none());
        assert!(x.take(ev("a", AlertEventKind::Fired)).is_some());
        assert!(x.take(ev("a", AlertEventKind::Fired)).is_none(), "twice");
        let rows: Vec<_> = x.rows().cloned().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, AlertStatus::Firing);
        assert_eq!(rows[0].rule, SITE_POLLER_RULE);
        // A restart: the saved row comes back as firing; the rules' rows
        // stay the evaluator's.
        let mut other = rows[0].clone();
        other.rule = "unreachable".into();
        other.key = "unreachable/d1".into();
        let mut y = External::default();
        let rest = y.restore(vec![rows[0].clone(), other]);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].rule, "unreachable");
        assert!(y.take(ev("a", AlertEventKind::Fired)).is_none());
        assert!(y.take(ev("a", AlertEventKind::Resolved)).is_some());
        assert!(y.take(ev("a", AlertEventKind::Resolved)).is_none());
        assert!(y.is_empty());
    }
}
