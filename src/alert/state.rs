//! The values the evaluator produces and keeps: stable alert keys, the
//! per-alert state (pending, firing, what receivers were told), and the
//! transitions of one step. Pure data.
use crate::topology::DeviceId;
use crate::types::UnixMillis;
use crate::types::{AlertEventKind, RuleKind, Severity};
use serde::Serialize;
use std::collections::VecDeque;

/// `rule/device` or `rule/device/interface`: the same alert keeps its key
/// across steps and restarts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AlertKey(pub String);

impl AlertKey {
    pub fn new(rule: &str, device: &DeviceId, interface: Option<&str>) -> AlertKey {
        match interface {
            Some(i) => AlertKey(format!("{rule}/{}/{i}", device.0)),
            None => AlertKey(format!("{rule}/{}", device.0)),
        }
    }

    /// A stable 64-bit FNV-1a hash of the key, as 16 hex digits (the
    /// Alertmanager `fingerprint`).
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.0.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not breaching (kept only for flap history or an unsent resolution).
    Inactive,
    /// Breaching since this time, waiting for the rule's `for`.
    Pending { since: UnixMillis },
    /// Fired at this time.
    Firing { since: UnixMillis },
}

/// Why a notification is held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Hold {
    /// The device is behind these unreachable devices (the root causes).
    Suppressed { caused_by: Vec<DeviceId> },
    /// A maintenance window (by name) covers the alert.
    Maintenance { window: String },
    /// The alert changed state too often recently.
    Flapping,
}

/// One recorded change; `notify` says whether receivers are told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub key: AlertKey,
    pub rule: String,
    pub kind: RuleKind,
    pub severity: Severity,
    pub device: DeviceId,
    pub device_name: String,
    pub interface: Option<String>,
    pub event: AlertEventKind,
    /// The alert's state at this step (true: firing). For a notice, the
    /// state receivers are told.
    pub firing: bool,
    pub at_ms: UnixMillis,
    /// When the alert fired (for a resolution: when it had fired).
    pub started_ms: UnixMillis,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub notify: bool,
    /// A late notification after a hold ended.
    pub catch_up: bool,
    pub held: Option<Hold>,
    pub flapping: bool,
    /// Receiver names; empty = all.
    pub receivers: Vec<String>,
    /// Event rules: the matching event's text (device-provided; see
    /// `event_rule::event_text`).
    pub detail: Option<String>,
}

impl Transition {
    /// The root causes when suppressed.
    pub fn caused_by(&self) -> &[DeviceId] {
        match &self.held {
            Some(Hold::Suppressed { caused_by }) => caused_by,
            _ => &[],
        }
    }

    pub fn maintenance(&self) -> bool {
        matches!(self.held, Some(Hold::Maintenance { .. }))
    }
}

/// One firing or flapping alert, for the API and the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAlert {
    pub key: AlertKey,
    pub rule: String,
    pub severity: Severity,
    pub device: DeviceId,
    pub device_name: String,
    pub interface: Option<String>,
    pub since_ms: UnixMillis,
    /// Firing (false: listed only because it flaps).
    pub firing: bool,
    pub value: Option<f64>,
    /// Behind these unreachable devices (empty: not suppressed).
    pub caused_by: Vec<DeviceId>,
    pub maintenance: Option<String>,
    pub flapping: bool,
    /// Receivers were told it fires.
    pub notified: bool,
    /// Receivers were told it flaps and not yet that it stopped.
    pub flap_told: bool,
}

/// A firing or flapping alert read back after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub rule: String,
    pub device: DeviceId,
    pub device_name: String,
    pub interface: Option<String>,
    pub since_ms: UnixMillis,
    pub firing: bool,
    pub value: Option<f64>,
    pub notified: bool,
    pub flapping: bool,
    pub flap_told: bool,
}

/// The evaluator's memory of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMemory {
    pub phase: Phase,
    /// Receivers were told it fires (and not yet that it resolved).
    pub notified: bool,
    /// Times of recent fire/resolve changes (flap detection).
    pub changes: VecDeque<UnixMillis>,
    pub flapping: bool,
    /// Receivers were told it started flapping and not yet that it
    /// stopped: its ordinary notifications wait for the stop notice.
    pub flap_told: bool,
    pub last_value: Option<f64>,
    /// Root causes when the device is currently behind unreachable ones.
    pub suppressed_by: Vec<DeviceId>,
    pub maintenance: Option<String>,
    /// Since when nothing holds it (None while held).
    pub unheld_since: Option<UnixMillis>,
}

impl AlertMemory {
    pub fn new(phase: Phase) -> AlertMemory {
        AlertMemory {
            phase,
            notified: false,
            changes: VecDeque::new(),
            flapping: false,
            flap_told: false,
            last_value: None,
            suppressed_by: Vec::new(),
            maintenance: None,
            unheld_since: None,
        }
    }

    pub fn firing(&self) -> bool {
        matches!(self.phase, Phase::Firing { .. })
    }

    /// Nothing left to remember: inactive, nothing owed to receivers, no
    /// flap history.
    pub fn forgettable(&self) -> bool {
        self.phase == Phase::Inactive
            && !self.notified
            && !self.flap_told
            && !self.flapping
            && self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_fingerprints_are_stable() {
        let d = DeviceId("lldp-aa".into());
        let k = AlertKey::new("hot", &d, Some("eth0"));
        assert_eq!(k.0, "hot/lldp-aa/eth0");
        assert_eq!(AlertKey::new("hot", &d, None).0, "hot/lldp-aa");
        assert_eq!(
            k.fingerprint(),
            AlertKey::new("hot", &d, Some("eth0")).fingerprint()
        );
        assert_ne!(
            k.fingerprint(),
            AlertKey::new("hot", &d, None).fingerprint()
        );
        assert_eq!(AlertKey(String::new()).fingerprint(), "cbf29ce484222325");
    }
}
