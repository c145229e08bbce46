//! The "site poller unreachable" alert of a central, pure: one alert per
//! silent site (the poller-isolation idea, per site: the site's devices
//! are behind its poller, so they are stale, not down), fired once when
//! [`super::liveness`] tells the silence and resolved once when the site
//! is back. It is an alert history row like the rules' (kind
//! `poller_isolated`, rule `site_poller_unreachable`, device `site:NAME`),
//! handed to the alerting task (`alert::external`), which records it,
//! tells every receiver and lists it among the firing alerts.
use crate::alert::AlertKey;
use crate::store::AlertEvent;
use crate::topology::DeviceId;
use crate::types::{AlertEventKind, AlertState, RuleKind, Severity, UnixMillis};

/// The rule name the alert carries.
pub const RULE: &str = crate::alert::external::SITE_POLLER_RULE;

/// The alert's event: fired at `at` when `firing`, else resolved; the
/// silence began at `since`.
pub fn event(site: &str, firing: bool, since: UnixMillis, at: UnixMillis) -> AlertEvent {
    let device = DeviceId(format!("site:{site}"));
    let key = AlertKey::new(RULE, &device, None);
    let name = format!("site poller {site}");
    let summary = if firing {
        format!("{name} unreachable: its devices are stale, not down")
    } else {
        format!("resolved: {name} unreachable")
    };
    AlertEvent {
        id: 0,
        fingerprint: key.fingerprint(),
        key: key.0,
        rule: RULE.to_string(),
        kind: RuleKind::PollerIsolated,
        severity: Severity::Critical,
        event: if firing {
            AlertEventKind::Fired
        } else {
            AlertEventKind::Resolved
        },
        state: AlertState::from_firing(firing),
        device: device.0,
        device_name: name,
        interface: None,
        value: None,
        threshold: None,
        at_ms: at,
        started_ms: since,
        notified: true,
        catch_up: false,
        held: None,
        caused_by: vec![],
        maintenance: None,
        flapping: false,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_site_fired_then_resolved() {
        let f = event("b-1", true, UnixMillis(10), UnixMillis(20));
        let r = event("b-1", false, UnixMillis(10), UnixMillis(90));
        assert_eq!(f.key, "site_poller_unreachable/site:b-1");
        assert_eq!(
            (f.key.as_str(), f.fingerprint.as_str()),
            (r.key.as_str(), r.fingerprint.as_str())
        );
        assert_ne!(
            f.fingerprint,
            event("b-2", true, UnixMillis(10), UnixMillis(20)).fingerprint
        );
        assert_eq!(
            (f.event, f.state),
            (AlertEventKind::Fired, AlertState::Firing)
        );
        assert_eq!(
            (r.event, r.state),
            (AlertEventKind::Resolved, AlertState::Resolved)
        );
        assert_eq!(
            f.summary,
            "site poller b-1 unreachable: its devices are stale, not down"
        );
        assert_eq!(r.started_ms, UnixMillis(10));
    }
}
