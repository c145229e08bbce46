//! Newtypes for domain numbers shared by several modules, so an interface
//! index can never be passed where a VLAN id or a device id is expected.
use serde::{Deserialize, Serialize};

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
