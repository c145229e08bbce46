//! Which devices and interfaces a rule or a maintenance window covers:
//! globs on names, tags, management-address prefixes. Pure.
use crate::config::intervals::glob_match;
use crate::config::{Prefix, ScopeConfig};
use std::net::IpAddr;

/// A compiled scope; every non-empty criterion must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    devices: Vec<String>,
    interfaces: Vec<String>,
    tags: Vec<String>,
    prefixes: Vec<Prefix>,
}

/// What a scope looks at of a device.
#[derive(Debug, Clone, Copy)]
pub struct DeviceFacts<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub mgmt_addr: Option<IpAddr>,
    pub tags: &'a [String],
}

impl Scope {
    pub fn new(c: &ScopeConfig) -> Scope {
        Scope {
            devices: c.devices.clone(),
            interfaces: c.interfaces.clone(),
            tags: c.tags.clone(),
            prefixes: c.prefixes.clone(),
        }
    }

    /// Whether the scope names nothing: it covers every device.
    pub fn is_unscoped(&self) -> bool {
        self.devices.is_empty() && self.tags.is_empty() && self.prefixes.is_empty()
    }

    /// Whether the device is covered (interface globs not considered).
    pub fn covers_device(&self, d: &DeviceFacts<'_>) -> bool {
        let by_name = self.devices.is_empty()
            || self
                .devices
                .iter()
                .any(|g| glob_match(g, d.name) || glob_match(g, d.id));
        let by_tag = self.tags.is_empty() || self.tags.iter().any(|t| d.tags.contains(t));
        let by_prefix = self.prefixes.is_empty()
            || d.mgmt_addr
                .is_some_and(|a| self.prefixes.iter().any(|p| p.0.contains(&a)));
        by_name && by_tag && by_prefix
    }

    /// Whether the scope lists interface globs.
    pub fn has_interfaces(&self) -> bool {
        !self.interfaces.is_empty()
    }

    /// Whether an interface of a covered device is covered; `None` (a
    /// device-level subject) is covered whatever the interface globs say.
    pub fn covers_interface(&self, if_name: Option<&str>) -> bool {
        match if_name {
            None => true,
            Some(n) => {
                self.interfaces.is_empty() || self.interfaces.iter().any(|g| glob_match(g, n))
            }
        }
    }

    pub fn covers(&self, d: &DeviceFacts<'_>, if_name: Option<&str>) -> bool {
        self.covers_device(d) && self.covers_interface(if_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(name: &'a str, addr: &str, tags: &'a [String]) -> DeviceFacts<'a> {
        DeviceFacts {
            id: "id-1",
            name,
            mgmt_addr: Some(addr.parse().unwrap()),
            tags,
        }
    }

    #[test]
    fn every_given_criterion_must_match() {
        let wan = vec!["wan".to_string()];
        let none: Vec<String> = vec![];
        let s = Scope::new(&ScopeConfig {
            devices: vec!["core-*".into()],
            interfaces: vec!["eth*".into()],
            tags: vec!["wan".into()],
            prefixes: vec!["10.95.0.0/16".parse().unwrap()],
        });
        assert!(s.covers(&facts("core-1", "10.95.1.1", &wan), Some("eth0")));
        assert!(s.covers(&facts("core-1", "10.95.1.1", &wan), None));
        assert!(!s.covers(&facts("core-1", "10.95.1.1", &wan), Some("lo")));
        assert!(!s.covers(&facts("edge-1", "10.95.1.1", &wan), Some("eth0")));
        assert!(!s.covers(&facts("core-1", "10.96.1.1", &wan), Some("eth0")));
        assert!(!s.covers(&facts("core-1", "10.95.1.1", &none), Some("eth0")));
        let all = Scope::default();
        assert!(all.covers(&facts("x", "10.97.0.1", &none), Some("anything")));
        let by_prefix = Scope::new(&ScopeConfig {
            prefixes: vec!["10.95.0.0/16".parse().unwrap()],
            ..Default::default()
        });
        let no_addr = DeviceFacts {
            id: "d",
            name: "d",
            mgmt_addr: None,
            tags: &none,
        };
        assert!(!by_prefix.covers_device(&no_addr));
    }
}
