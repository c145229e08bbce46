//! Syslog's closed sets (RFC 5424 §6.2.1, the numbers RFC 3164 uses too):
//! a message's severity and facility. They travel from the parser through
//! the store (as their numbers) to the JSON (as their names) and the alert
//! rules; each has one text (`as_str`, serde, `FromStr`).
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A message's severity, 0 (emergency) to 7 (debug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyslogSeverity {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl SyslogSeverity {
    pub const ALL: [SyslogSeverity; 8] = [
        SyslogSeverity::Emergency,
        SyslogSeverity::Alert,
        SyslogSeverity::Critical,
        SyslogSeverity::Error,
        SyslogSeverity::Warning,
        SyslogSeverity::Notice,
        SyslogSeverity::Informational,
        SyslogSeverity::Debug,
    ];

    /// The number on the wire (0..=7).
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<SyslogSeverity> {
        SyslogSeverity::ALL.get(usize::from(code)).copied()
    }

    /// The name syslog.conf and `logger -p` use.
    pub fn as_str(self) -> &'static str {
        match self {
            SyslogSeverity::Emergency => "emerg",
            SyslogSeverity::Alert => "alert",
            SyslogSeverity::Critical => "crit",
            SyslogSeverity::Error => "err",
            SyslogSeverity::Warning => "warning",
            SyslogSeverity::Notice => "notice",
            SyslogSeverity::Informational => "info",
            SyslogSeverity::Debug => "debug",
        }
    }
}

impl fmt::Display for SyslogSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown severity text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown syslog severity `{0}`; expected 0-7 or one of emerg, alert, crit, err, warning, notice, info, debug"
)]
pub struct UnknownSeverity(pub String);

impl FromStr for SyslogSeverity {
    type Err = UnknownSeverity;

    /// The number, the name, or a common long spelling (`error`, `warn`,
    /// `critical`, `emergency`, `informational`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if let Ok(n) = t.parse::<u8>() {
            return SyslogSeverity::from_code(n).ok_or_else(|| UnknownSeverity(short(s)));
        }
        let alias = match t.as_str() {
            "emergency" | "panic" => Some(SyslogSeverity::Emergency),
            "critical" => Some(SyslogSeverity::Critical),
            "error" => Some(SyslogSeverity::Error),
            "warn" => Some(SyslogSeverity::Warning),
            "informational" => Some(SyslogSeverity::Informational),
            _ => None,
        };
        alias
            .or_else(|| SyslogSeverity::ALL.into_iter().find(|v| v.as_str() == t))
            .ok_or_else(|| UnknownSeverity(short(s)))
    }
}

fn short(s: &str) -> String {
    s.chars().take(32).collect()
}

/// A message's facility, 0..=23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Facility(u8);

const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

impl Facility {
    pub fn new(code: u8) -> Option<Facility> {
        (usize::from(code) < FACILITY_NAMES.len()).then_some(Facility(code))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        FACILITY_NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("unknown")
    }
}

impl Serialize for SyslogSeverity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SyslogSeverity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Facility {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Facility {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FACILITY_NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| Facility::new(i as u8))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown syslog facility `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_read_by_number_name_and_alias() {
        assert_eq!(
            "3".parse::<SyslogSeverity>().unwrap(),
            SyslogSeverity::Error
        );
        assert_eq!(
            "err".parse::<SyslogSeverity>().unwrap(),
            SyslogSeverity::Error
        );
        assert_eq!(
            "Warn".parse::<SyslogSeverity>().unwrap(),
            SyslogSeverity::Warning
        );
        assert!("8".parse::<SyslogSeverity>().is_err());
        assert!("loud".parse::<SyslogSeverity>().is_err());
        for s in SyslogSeverity::ALL {
            assert_eq!(s.as_str().parse::<SyslogSeverity>().unwrap(), s);
            assert_eq!(SyslogSeverity::from_code(s.code()), Some(s));
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<SyslogSeverity>(&j).unwrap(), s);
        }
        assert!(SyslogSeverity::Emergency < SyslogSeverity::Debug);
        assert_eq!(Facility::new(23).unwrap().as_str(), "local7");
        assert_eq!(Facility::new(24), None);
    }
}
