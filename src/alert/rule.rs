//! A compiled alert rule: its scope, thresholds with hysteresis, and how a
//! value is read from an observation for its kind and direction. Pure.
use super::event_rule::EventMatcher;
use super::observe::{DeviceObs, IfObs};
use super::scope::Scope;
use crate::config::event_rules::RuleMibs;
use crate::config::{AlertRule, Direction, RuleKind, Severity};
use crate::counters::Metric;
use crate::live::Reachability;

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub kind: RuleKind,
    pub direction: Direction,
    /// Fires above this.
    pub threshold: f64,
    /// Resolves below this (<= threshold).
    pub clear: f64,
    pub for_ms: i64,
    pub severity: Severity,
    pub window_ms: i64,
    pub scope: Scope,
    /// Empty: every receiver.
    pub receivers: Vec<String>,
    pub flap_changes: u32,
    pub flap_window_ms: i64,
    /// Event kinds: the quiet time after the last match that resolves.
    pub clear_after_ms: i64,
    /// Event kinds: how many matches within `within_ms` fire (1: the first).
    pub min_matches: u32,
    pub within_ms: i64,
    /// Event kinds: what an event must hold (None for the other kinds, and
    /// for an event rule built without [`Rule::compile`]: it never matches).
    pub matcher: Option<EventMatcher>,
}

/// Boolean kinds read as 1 (bad) or 0 (good) against this threshold.
const BOOLEAN_THRESHOLD: f64 = 0.5;

impl Rule {
    pub fn from_config(r: &AlertRule) -> Rule {
        let min_matches = r.events.min_matches();
        // An event rule's value is its matches (see `event_hits`): it
        // fires at `min_matches` of them and holds while any is recent.
        let threshold = if r.kind.is_event() {
            f64::from(min_matches) - BOOLEAN_THRESHOLD
        } else {
            r.threshold.unwrap_or(BOOLEAN_THRESHOLD)
        };
        let clear = if r.kind.is_event() {
            BOOLEAN_THRESHOLD
        } else {
            r.clear.unwrap_or(threshold).min(threshold)
        };
        Rule {
            name: r.name.clone(),
            kind: r.kind,
            direction: r.direction,
            threshold,
            clear,
            for_ms: (r.for_s.min(u64::MAX / 2000) * 1000) as i64,
            severity: r.severity,
            window_ms: (r.window_s.unwrap_or(0).min(u64::MAX / 2000) * 1000) as i64,
            scope: Scope::new(&r.scope),
            receivers: r.receivers.clone(),
            flap_changes: r.flap_changes,
            flap_window_ms: (r.flap_window_s.min(u64::MAX / 2000) * 1000) as i64,
            clear_after_ms: (r.events.clear_after_s().min(u64::MAX / 2000) * 1000) as i64,
            min_matches,
            within_ms: (r.events.within_s.unwrap_or(0).min(u64::MAX / 2000) * 1000) as i64,
            matcher: None,
        }
    }

    /// The rule with its event matcher compiled (names resolved against
    /// `mibs`); the error names what `check-config` refuses.
    pub fn compile(r: &AlertRule, mibs: &mut RuleMibs) -> Result<Rule, String> {
        Ok(Rule {
            matcher: EventMatcher::compile(r, mibs)?,
            ..Rule::from_config(r)
        })
    }

    /// The threshold shown in notifications (None for boolean kinds).
    pub fn shown_threshold(&self) -> Option<f64> {
        self.kind.has_threshold().then_some(self.threshold)
    }

    /// Whether `value` is a breach: above `threshold` to start, not yet
    /// below `clear` to continue (hysteresis).
    pub fn breached(&self, value: f64, firing: bool) -> bool {
        if firing {
            value >= self.clear
        } else {
            value > self.threshold
        }
    }

    /// The value of a device-level kind; None when unknown or stale.
    pub fn device_value(&self, d: &DeviceObs) -> Option<f64> {
        match self.kind {
            RuleKind::DeviceUnreachable => match d.reachability {
                Reachability::Down => Some(1.0),
                Reachability::Up => Some(0.0),
                Reachability::Unknown => None,
            },
            RuleKind::Rtt => d.rtt_ms,
            RuleKind::Loss => d.loss_pct,
            RuleKind::CpuLoad => d.vitals.cpu_pct,
            RuleKind::MemoryUsed => d.vitals.memory_pct,
            RuleKind::StorageUsed => d.vitals.storage_pct,
            RuleKind::Temperature => d.vitals.max_celsius,
            RuleKind::SensorFailed => d.vitals.sensor_failed,
            _ => None,
        }
    }

    /// The (in, out) pair an interface kind looks at, before the direction
    /// is applied; for p95 kinds, the instantaneous sample.
    pub fn interface_pair(&self, i: &IfObs) -> (Option<f64>, Option<f64>) {
        let (inward, outward) = match self.kind {
            RuleKind::Utilization | RuleKind::P95Utilization => {
                (Metric::InUtilisationPct, Metric::OutUtilisationPct)
            }
            RuleKind::Bps | RuleKind::P95Bps => (Metric::InBitsPerSec, Metric::OutBitsPerSec),
            RuleKind::ErrorRate => (Metric::InErrorsPerSec, Metric::OutErrorsPerSec),
            RuleKind::DiscardRate => (Metric::InDiscardsPerSec, Metric::OutDiscardsPerSec),
            _ => return (None, None),
        };
        (i.rate(inward), i.rate(outward))
    }

    /// Applies the rule's direction to an (in, out) pair.
    pub fn directed(&self, pair: (Option<f64>, Option<f64>)) -> Option<f64> {
        match self.direction {
            Direction::In => pair.0,
            Direction::Out => pair.1,
            Direction::Either => match pair {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// The value of a non-p95 interface kind; None when unknown or stale.
    pub fn interface_value(&self, i: &IfObs) -> Option<f64> {
        match self.kind {
            RuleKind::InterfaceDown => {
                if i.admin_down {
                    return None;
                }
                Some(if i.oper_status?.is_down() { 1.0 } else { 0.0 })
            }
            k if k.is_p95() => None,
            _ => self.directed(self.interface_pair(i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: RuleKind, dir: Direction, t: Option<f64>, c: Option<f64>) -> Rule {
        let toml = format!(
            "[[alert]]\nname = \"r\"\nkind = \"{}\"\n{}{}{}",
            kind.as_str(),
            if kind.has_direction() {
                format!(
                    "direction = \"{}\"\n",
                    match dir {
                        Direction::In => "in",
                        Direction::Out => "out",
                        Direction::Either => "either",
                    }
                )
            } else {
                String::new()
            },
            t.map(|t| format!("threshold = {t:?}\n"))
                .unwrap_or_default(),
            c.map(|c| format!("clear = {c:?}\n")).unwrap_or_default(),
        );
        let cfg = crate::config::Config::from_toml(&toml).unwrap();
        Rule::from_config(&cfg.alerts[0])
    }

    #[test]
    fn hysteresis() {
        let r = rule(
            RuleKind::Utilization,
            Direction::Either,
            Some(80.0),
            Some(60.0),
        );
        assert!(!r.breached(80.0, false));
        assert!(r.breached(80.1, false));
        assert!(r.breached(70.0, true));
        assert!(r.breached(60.0, true));
        assert!(!r.breached(59.9, true));
        let same = rule(RuleKind::Bps, Direction::Either, Some(1e6), None);
        assert_eq!(same.clear, 1e6);
    }

    #[test]
    fn directions_and_kinds() {
        let i = IfObs {
            rates: Some(
                crate::counters::InterfaceRates::all_gap(crate::counters::GapReason::Missing)
                    .with(Metric::InUtilisationPct, 10.0)
                    .with(Metric::OutUtilisationPct, 30.0)
                    .with(Metric::InErrorsPerSec, 2.0),
            ),
            oper_status: Some(crate::types::OperStatus::LowerLayerDown),
            ..Default::default()
        };
        let v = |k, d| rule(k, d, Some(1.0), None).interface_value(&i);
        assert_eq!(v(RuleKind::Utilization, Direction::In), Some(10.0));
        assert_eq!(v(RuleKind::Utilization, Direction::Out), Some(30.0));
        assert_eq!(v(RuleKind::Utilization, Direction::Either), Some(30.0));
        assert_eq!(v(RuleKind::ErrorRate, Direction::Either), Some(2.0));
        assert_eq!(v(RuleKind::Bps, Direction::Either), None);
        let down = rule(RuleKind::InterfaceDown, Direction::Either, None, None);
        assert_eq!(down.interface_value(&i), Some(1.0));
        let admin = IfObs {
            admin_down: true,
            ..i.clone()
        };
        assert_eq!(down.interface_value(&admin), None);
    }
}
