//! The closed sets of alerting, from the config file to the JSON answer:
//! what a rule watches ([`RuleKind`]), how bad it is ([`Severity`]), what
//! happened to an alert ([`AlertEventKind`]), the state an event records
//! ([`AlertState`]) and how a saved alert is listed ([`AlertStatus`]).
//!
//! Each has one text per variant: `as_str` gives it (the store's TEXT
//! columns and the webhook bodies), `FromStr` reads it back (an unknown
//! text is an [`UnknownName`] error, never a panic or a default), and serde
//! writes the same text. Pure data; nothing else of the crate is imported.
use serde::{Deserialize, Serialize};
use std::fmt;

named_set! {
    /// What a rule watches. Interface kinds are evaluated per interface, the
    /// others per device.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RuleKind ("rule kind") {
        /// Utilisation in % of the interface speed.
        Utilization = "utilization",
        /// Traffic in bits/s.
        Bps = "bps",
        /// Errors per second.
        ErrorRate = "error_rate",
        /// Discards per second.
        DiscardRate = "discard_rate",
        /// ifOperStatus is down / lowerLayerDown (no threshold).
        InterfaceDown = "interface_down",
        /// The ICMP round got no answer (no threshold).
        DeviceUnreachable = "device_unreachable",
        /// Average round-trip time of an ICMP round, milliseconds.
        Rtt = "rtt",
        /// Loss of an ICMP round, %.
        Loss = "loss",
        /// 95th percentile of utilisation (%) over `window_s`.
        P95Utilization = "p95_utilization",
        /// 95th percentile of bits/s over `window_s`.
        P95Bps = "p95_bps",
        /// The poller itself is cut off: its own links are down, or no device
        /// answers and no single first hop explains it (no threshold, no scope).
        /// While it holds, every other alert is suppressed behind the poller.
        PollerIsolated = "poller_isolated",
        /// Mean processor load, % (hrProcessorLoad).
        CpuLoad = "cpu_load",
        /// RAM in use, % of its size (hrStorageRam).
        MemoryUsed = "memory_used",
        /// The fullest fixed disk or flash, % used (hrStorageFixedDisk, ...).
        StorageUsed = "storage_used",
        /// The hottest temperature sensor, degrees Celsius (ENTITY-SENSOR).
        Temperature = "temperature",
        /// A sensor reports nonoperational (no threshold).
        SensorFailed = "sensor_failed",
        /// An SNMP trap or inform matching `trap_oid` and `varbinds` (no
        /// threshold): fires on the first, resolves after `clear_after_s`
        /// without one or on a `resolve_trap_oid` trap.
        Trap = "trap",
        /// A syslog message matching `min_severity`, `facility`, `app` and
        /// `pattern` (no threshold): fires on the first, resolves after
        /// `clear_after_s` without one.
        Syslog = "syslog",
    }
}

impl RuleKind {
    pub fn per_interface(self) -> bool {
        !matches!(
            self,
            RuleKind::DeviceUnreachable
                | RuleKind::Rtt
                | RuleKind::Loss
                | RuleKind::PollerIsolated
                | RuleKind::CpuLoad
                | RuleKind::MemoryUsed
                | RuleKind::StorageUsed
                | RuleKind::Temperature
                | RuleKind::SensorFailed
                | RuleKind::Trap
                | RuleKind::Syslog
        )
    }

    pub fn has_threshold(self) -> bool {
        !matches!(
            self,
            RuleKind::InterfaceDown
                | RuleKind::DeviceUnreachable
                | RuleKind::PollerIsolated
                | RuleKind::SensorFailed
                | RuleKind::Trap
                | RuleKind::Syslog
        )
    }

    /// Fed by received events (traps, syslog) rather than polled values.
    pub fn is_event(self) -> bool {
        matches!(self, RuleKind::Trap | RuleKind::Syslog)
    }

    pub fn has_direction(self) -> bool {
        matches!(
            self,
            RuleKind::Utilization
                | RuleKind::Bps
                | RuleKind::ErrorRate
                | RuleKind::DiscardRate
                | RuleKind::P95Utilization
                | RuleKind::P95Bps
        )
    }

    pub fn is_p95(self) -> bool {
        matches!(self, RuleKind::P95Utilization | RuleKind::P95Bps)
    }
}

named_set! {
    /// How bad an alert is (the `severity` label of notifications).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Deserialize, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Severity ("severity") {
        Info = "info",
        #[default]
        Warning = "warning",
        Critical = "critical",
    }
}

named_set! {
    /// What an alert's state did in one step (a history row's `event`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AlertEventKind ("alert event") {
        /// Fired (or, with `catch_up`, notified late after a hold ended).
        Fired = "fired",
        /// Fired while its device is behind an unreachable device, or a firing
        /// alert's device went behind one.
        Suppressed = "suppressed",
        Resolved = "resolved",
        /// A notice: the alert started flapping; further state changes are
        /// held until it stops. Carries the alert's state at that moment.
        FlappingStarted = "flapping_started",
        /// A notice: the alert stopped flapping. Carries its state then, so
        /// receivers are brought up to date.
        FlappingStopped = "flapping_stopped",
    }
}

impl AlertEventKind {
    /// A flapping notice rather than a change of the alert's state.
    pub fn is_notice(self) -> bool {
        matches!(
            self,
            AlertEventKind::FlappingStarted | AlertEventKind::FlappingStopped
        )
    }
}

named_set! {
    /// The alert's state an event records or (for a flapping notice) tells:
    /// the `status` of a notification.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum AlertState ("alert state") {
        Firing = "firing",
        Resolved = "resolved",
    }
}

impl AlertState {
    pub fn from_firing(firing: bool) -> AlertState {
        if firing {
            AlertState::Firing
        } else {
            AlertState::Resolved
        }
    }

    pub fn is_firing(self) -> bool {
        self == AlertState::Firing
    }
}

named_set! {
    /// How a saved (firing or flapping) alert is listed: firing, firing
    /// behind an unreachable device, or resolved (listed only while it
    /// flaps or its stop notice is owed).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum AlertStatus ("alert status") {
        Firing = "firing",
        Suppressed = "suppressed",
        Resolved = "resolved",
    }
}

impl AlertStatus {
    /// Firing, suppressed or not.
    pub fn is_firing(self) -> bool {
        self != AlertStatus::Resolved
    }
}

/// A text that names no variant of a closed set (say, a row of a database
/// written by another version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// Which set: "rule kind", "severity", "alert event", ...
    pub what: &'static str,
    /// The text, at most [`UnknownName::MAX_CHARS`] characters of it.
    pub text: String,
}

impl UnknownName {
    /// Longer texts are cut in the error.
    pub const MAX_CHARS: usize = 64;

    pub(super) fn new(what: &'static str, text: &str) -> UnknownName {
        UnknownName {
            what,
            text: text.chars().take(Self::MAX_CHARS).collect(),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.text)
    }
}

impl std::error::Error for UnknownName {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Every variant: its text parses back to it, serde writes and reads
    /// the same text, and the texts are distinct.
    fn round_trips<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr<Err = UnknownName>,
        T: Serialize + for<'de> Deserialize<'de>,
    {
        let mut seen = std::collections::BTreeSet::new();
        for &v in all {
            let text = as_str(v);
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(text.parse::<T>(), Ok(v));
            assert_eq!(v.to_string(), text);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{text}\""), "serde of {v:?}");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    fn every_variant_round_trips_through_its_text() {
        round_trips(RuleKind::ALL, RuleKind::as_str);
        round_trips(Severity::ALL, Severity::as_str);
        round_trips(AlertEventKind::ALL, AlertEventKind::as_str);
        round_trips(AlertState::ALL, AlertState::as_str);
        round_trips(AlertStatus::ALL, AlertStatus::as_str);
    }

    /// The texts of today's databases, webhooks and API answers.
    #[test]
    fn the_texts_are_the_stored_ones() {
        let texts = |all: Vec<&'static str>| all.join(" ");
        assert_eq!(
            texts(RuleKind::ALL.iter().map(|k| k.as_str()).collect()),
            "utilization bps error_rate discard_rate interface_down device_unreachable \
             rtt loss p95_utilization p95_bps poller_isolated cpu_load memory_used \
             storage_used temperature sensor_failed trap syslog"
        );
        assert_eq!(
            texts(Severity::ALL.iter().map(|k| k.as_str()).collect()),
            "info warning critical"
        );
        assert_eq!(
            texts(AlertEventKind::ALL.iter().map(|k| k.as_str()).collect()),
            "fired suppressed resolved flapping_started flapping_stopped"
        );
        assert_eq!(
            texts(AlertState::ALL.iter().map(|k| k.as_str()).collect()),
            "firing resolved"
        );
        assert_eq!(
            texts(AlertStatus::ALL.iter().map(|k| k.as_str()).collect()),
            "firing suppressed resolved"
        );
        assert_eq!(Severity::default(), Severity::Warning);
    }

    #[test]
    fn unknown_texts_are_errors_that_name_the_set() {
        let e = "flappingstarted".parse::<AlertEventKind>().unwrap_err();
        assert_eq!(e.to_string(), "unknown alert event \"flappingstarted\"");
        assert!("Firing".parse::<AlertState>().is_err());
        assert!("".parse::<Severity>().is_err());
        assert!(" loss".parse::<RuleKind>().is_err());
        let long = "x".repeat(1000);
        let e = long.parse::<AlertStatus>().unwrap_err();
        assert_eq!(e.text.len(), UnknownName::MAX_CHARS);
        let e = "bad\nline".parse::<RuleKind>().unwrap_err();
        assert_eq!(e.to_string(), "unknown rule kind \"bad\\nline\"");
    }

    #[test]
    fn notices_and_states() {
        let notices: Vec<_> = AlertEventKind::ALL
            .iter()
            .filter(|e| e.is_notice())
            .collect();
        assert_eq!(
            notices,
            [
                &AlertEventKind::FlappingStarted,
                &AlertEventKind::FlappingStopped
            ]
        );
        assert_eq!(AlertState::from_firing(true), AlertState::Firing);
        assert_eq!(AlertState::from_firing(false), AlertState::Resolved);
        assert!(AlertStatus::Suppressed.is_firing());
        assert!(!AlertStatus::Resolved.is_firing());
    }
}
