//! Newtypes for domain numbers shared by several modules, so an interface
//! index can never be passed where a VLAN id or a device id is expected,
//! the closed sets of alerting (`alert.rs`) that config, alert, store and
//! server all carry, and an interface's IF-MIB states (`interface.rs`) that
//! discovery, poller, live, alert and server carry. The bottom of the crate:
//! imports nothing else of it.

/// Declares a closed set: the enum as written (attributes and docs kept),
/// `ALL` (every variant, in order), `as_str` (one text each), `FromStr`
/// over those texts and `Display` showing the text.
macro_rules! named_set {
    (
        $(#[$attr:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vattr:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$attr])*
        pub enum $name {
            $( $(#[$vattr])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's text, as stored, sent and served.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = super::UnknownName;
            fn from_str(text: &str) -> Result<Self, super::UnknownName> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(super::UnknownName::new($what, text)),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod alert;
pub mod interface;
pub mod syslog;
pub mod time;

pub use alert::{AlertEventKind, AlertState, AlertStatus, RuleKind, Severity, UnknownName};
pub use interface::OperStatus;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
pub use time::UnixMillis;

/// An SNMP ifIndex (IF-MIB), 1..=2147483647 on a conforming agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IfIndex(pub u32);

/// A round-trip time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RttMicros(pub u64);

impl RttMicros {
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl std::fmt::Display for IfIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A secret string. Debug and Display print `***`; use [`Secret::expose`]
/// at the one place that hands it to a protocol library.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret text itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only a string is accepted; the error must not echo the value.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (literal, env:VAR or file:/path)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}
