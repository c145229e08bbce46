//! The alerting part of the configuration as plain typed data: `[[alert]]`
//! rules, `[[maintenance]]` windows and `[[receiver]]` webhooks. Every
//! struct denies unknown fields. No I/O and no validation here (see
//! `validate_alerts.rs`); the alert engine gets these through
//! `crate::alert::AlertSettings::from_config`.
use super::defaults;
use super::event_rules::EventMatchConfig;
use super::model::Prefix;
use super::secret::Secret;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The closed sets of a rule live below the store, which carries them.
pub use crate::types::{RuleKind, Severity};

/// Which direction of an interface a traffic rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
    /// The larger of the two.
    #[default]
    Either,
}

/// Which devices (and interfaces) a rule or a maintenance window covers.
/// Every given criterion must match; an empty criterion matches everything.
/// Flattened into `[[alert]]` and `[[maintenance]]`; unknown keys are still
/// refused there (serde checks what neither struct took).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ScopeConfig {
    /// Globs on the device's sysName (or id when it has none).
    pub devices: Vec<String>,
    /// Globs on the interface name (interface rules only).
    pub interfaces: Vec<String>,
    /// The device carries at least one of these tags (from `[[groups]]` and
    /// `[[devices]]`).
    pub tags: Vec<String>,
    /// The device's management address lies in one of these.
    pub prefixes: Vec<Prefix>,
}

/// One `[[alert]]` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Unique; the `alertname` label of notifications.
    pub name: String,
    pub kind: RuleKind,
    #[serde(default)]
    pub direction: Direction,
    /// Fires when the value is above this (units per `kind`).
    pub threshold: Option<f64>,
    /// Resolves when the value falls below this; default `threshold`.
    pub clear: Option<f64>,
    /// How long the condition must hold before the alert fires.
    #[serde(default)]
    pub for_s: u64,
    #[serde(default)]
    pub severity: Severity,
    /// The p95 window (p95 kinds only).
    pub window_s: Option<u64>,
    /// `devices`, `interfaces`, `tags`, `prefixes`: the keys sit in the
    /// table itself.
    #[serde(flatten)]
    pub scope: ScopeConfig,
    /// Receiver names to notify; empty = every receiver.
    #[serde(default)]
    pub receivers: Vec<String>,
    /// More than this many fire/resolve changes within `flap_window_s`
    /// mark the alert flapping; its notifications wait until it is stable.
    #[serde(default = "defaults::alert_flap_changes")]
    pub flap_changes: u32,
    #[serde(default = "defaults::alert_flap_window_s")]
    pub flap_window_s: u64,
    /// `trap` and `syslog` kinds: what an event must hold to match (see
    /// `event_rules.rs`). The keys sit in the table itself.
    #[serde(flatten)]
    pub events: EventMatchConfig,
}

/// One `[[maintenance]]` window: alerts of the devices in scope are
/// recorded but not notified while it is open.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub name: String,
    /// A one-off window: both `start` and `end`, RFC 3339.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// A weekly window, UTC: `"sun 02:00-04:00"` (may run past midnight).
    #[serde(default)]
    pub weekly: Vec<WeeklySlot>,
    /// `devices`, `interfaces`, `tags`, `prefixes`: the keys sit in the
    /// table itself.
    #[serde(flatten)]
    pub scope: ScopeConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverFormat {
    /// The Alertmanager webhook payload (version "4").
    Alertmanager,
    /// Alerts POSTed to Alertmanager's own API (`/api/v2/alerts` below
    /// `url`), the way Prometheus sends them: firing alerts again every
    /// `resend_s`, resolved ones with their `endsAt`.
    #[serde(rename = "alertmanager_api")]
    AlertmanagerApi,
    /// nocmap's own flat JSON object.
    #[default]
    Generic,
}

/// One `[[receiver]]`: a webhook, or an Alertmanager (`format =
/// "alertmanager_api"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: String,
    /// `http://` or `https://host:port/path`; for `alertmanager_api` the
    /// Alertmanager's base URL (`http://alertmanager:9093`).
    pub url: String,
    #[serde(default)]
    pub format: ReceiverFormat,
    /// Sent as `Authorization: Bearer ...`; a literal, `env:VAR` or `file:/path`.
    pub bearer_token: Option<Secret>,
    /// Extra headers; values are secrets (`env:`/`file:` allowed).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default = "defaults::receiver_timeout_ms")]
    pub timeout_ms: u64,
    /// `alertmanager_api` only: firing alerts are sent again this often
    /// (Prometheus: every minute), so Alertmanager keeps them across its
    /// own restarts; each is valid for 4 × this.
    pub resend_s: Option<u64>,
    /// `alertmanager_api` only: the map's address as people open it
    /// (`https://nocmap.example:8080/`), for the `map_url` annotation and
    /// the `generatorURL` of every alert.
    pub map_url: Option<String>,
    /// `https://` only: PEM CA certificates trusted instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// `https://` only: a client certificate (PEM chain) with `client_key`.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl Receiver {
    /// The TLS files of the connection.
    pub fn tls_files(&self) -> crate::util::http_tls::TlsFiles {
        crate::util::http_tls::TlsFiles {
            ca_file: self.ca_file.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        }
    }

    /// The resend interval (`alertmanager_api`).
    pub fn resend_s(&self) -> u64 {
        self.resend_s.unwrap_or_else(defaults::receiver_resend_s)
    }
}

/// An RFC 3339 time, read as the wall time it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub crate::types::UnixMillis);

impl std::str::FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        crate::util::time::parse_rfc3339_ms(s)
            .map(Timestamp)
            .ok_or_else(|| format!("`{s}` is not an RFC 3339 time like 2026-11-24T02:00:00Z"))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A weekly window: a weekday (0 = Monday) and minutes of the day, UTC.
/// `end_min <= start_min` means the window runs past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySlot {
    pub weekday: u8,
    pub start_min: u16,
    pub end_min: u16,
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl std::str::FromStr for WeeklySlot {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a weekly window like \"sun 02:00-04:00\" (UTC)");
        let (day, times) = s.trim().split_once(' ').ok_or_else(bad)?;
        let weekday = WEEKDAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(day))
            .ok_or_else(bad)? as u8;
        let (a, b) = times.trim().split_once('-').ok_or_else(bad)?;
        let hm = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            // 24:00 is allowed as an end.
            (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
        };
        let (start_min, end_min) = (hm(a).ok_or_else(bad)?, hm(b).ok_or_else(bad)?);
        if start_min == end_min || start_min >= 24 * 60 {
            return Err(bad());
        }
        Ok(WeeklySlot {
            weekday,
            start_min,
            end_min,
        })
    }
}

impl<'de> Deserialize<'de> for WeeklySlot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The tag rules of a configuration (`[[groups]]` and `[[devices]]` tags),
/// for the parts that tag devices without needing the rest of the config.
#[derive(Debug, Clone, Default)]
pub struct Tagging {
    groups: Vec<super::model::Group>,
    devices: Vec<super::model::Device>,
}

impl super::model::Config {
    /// The tag rules alone.
    pub fn tagging(&self) -> Tagging {
        Tagging {
            groups: self.groups.clone(),
            devices: self.devices.clone(),
        }
    }

    /// The tags of a device (see [`Tagging::tags_for`]).
    pub fn tags_for(&self, name: Option<&str>, addrs: &[std::net::IpAddr]) -> Vec<String> {
        tags_for(&self.groups, &self.devices, name, addrs)
    }
}

impl Tagging {
    /// The tags of a device: those of every `[[groups]]` entry whose pattern
    /// matches its name or whose prefix holds one of its addresses, and of
    /// the `[[devices]]` entry for one of its addresses. Pure.
    pub fn tags_for(&self, name: Option<&str>, addrs: &[std::net::IpAddr]) -> Vec<String> {
        tags_for(&self.groups, &self.devices, name, addrs)
    }
}

fn tags_for(
    groups: &[super::model::Group],
    devices: &[super::model::Device],
    name: Option<&str>,
    addrs: &[std::net::IpAddr],
) -> Vec<String> {
    let mut tags = std::collections::BTreeSet::new();
    for g in groups {
        let by_name = g
            .pattern
            .as_deref()
            .zip(name)
            .is_some_and(|(p, n)| super::intervals::glob_match(p, n));
        let by_prefix = g
            .prefix
            .as_ref()
            .is_some_and(|p| addrs.iter().any(|a| p.0.contains(a)));
        if by_name || by_prefix {
            tags.extend(g.tags.iter().cloned());
        }
    }
    for d in devices.iter().filter(|d| addrs.contains(&d.address)) {
        tags.extend(d.tags.iter().cloned());
    }
    tags.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::UnixMillis;

    #[test]
    fn weekly_slots() {
        let s: WeeklySlot = "sun 02:00-04:00".parse().unwrap();
        assert_eq!((s.weekday, s.start_min, s.end_min), (6, 120, 240));
        let s: WeeklySlot = "Fri 22:30-01:00".parse().unwrap();
        assert_eq!((s.weekday, s.start_min, s.end_min), (4, 1350, 60));
        let s: WeeklySlot = "mon 00:00-24:00".parse().unwrap();
        assert_eq!(s.end_min, 1440);
        for bad in [
            "",
            "sun",
            "sun 2:00-4:00",
            "xyz 02:00-04:00",
            "sun 02:00-02:00",
            "sun 25:00-04:00",
            "sun 24:00-01:00",
            "sun 02:00",
            "sün 02:00-04:00",
        ] {
            assert!(bad.parse::<WeeklySlot>().is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        let t: Timestamp = "1970-01-01T00:00:01Z".parse().unwrap();
        assert_eq!(t.0, UnixMillis(1000));
        assert!("tomorrow".parse::<Timestamp>().is_err());
        assert!("6h".parse::<Timestamp>().is_err());
    }

    #[test]
    fn scope_keys_sit_in_the_table_and_unknown_keys_are_still_refused() {
        let m: Maintenance = toml::from_str(
            "name = \"m\"\nweekly = [\"sun 02:00-04:00\"]\ndevices = [\"sw*\"]\nprefixes = [\"127.0.0.0/8\"]",
        )
        .unwrap();
        assert_eq!(m.scope.devices, ["sw*"]);
        assert_eq!(m.scope.prefixes.len(), 1);
        assert!(m.scope.tags.is_empty());
        let err = toml::from_str::<Maintenance>("name = \"m\"\ndevice = [\"sw*\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `device`"), "{err}");
        let err = toml::from_str::<AlertRule>(
            "name = \"a\"\nkind = \"device_unreachable\"\ntag = [\"x\"]",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `tag`"), "{err}");
    }
}
