//! The site a device belongs to, which the map groups devices by: a
//! configured site first (a `site:NAME` tag, from `[[devices]]`,
//! `[[groups]]` or the inventory file's Site column), else the device's
//! sysLocation, trimmed; none when both are empty. Pure.
use super::model::{Device, DeviceId, Topology};
use std::collections::HashMap;

/// The tag prefix that names a configured site.
pub const SITE_TAG: &str = "site:";

/// Sites longer than this are cut (at a character boundary): a
/// sysLocation is whatever the agent says.
pub const MAX_SITE_CHARS: usize = 120;

/// A device's site from its tags (the first `site:NAME` with a non-empty
/// name, in tag order) or else its sysLocation, both trimmed.
pub fn site_of(tags: &[String], sys_location: Option<&str>) -> Option<String> {
    let configured = tags
        .iter()
        .filter_map(|t| t.strip_prefix(SITE_TAG))
        .map(str::trim)
        .find(|s| !s.is_empty());
    let site = configured.or_else(|| sys_location.map(str::trim).filter(|s| !s.is_empty()))?;
    Some(site.chars().take(MAX_SITE_CHARS).collect())
}

/// The site of every device of `topology` that has one; `tags` gives a
/// device's configured tags.
pub fn sites(
    topology: &Topology,
    tags: impl Fn(&Device) -> Vec<String>,
) -> HashMap<DeviceId, String> {
    topology
        .devices
        .iter()
        .filter_map(|d| Some((d.id.clone(), site_of(&tags(d), d.sys_location.as_deref())?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_site_tag_wins_over_the_location() {
        assert_eq!(
            site_of(&tags(&["role:edge", "site: Paris-1 "]), Some("Berlin")),
            Some("Paris-1".into())
        );
    }

    #[test]
    fn the_location_trimmed_when_no_site_tag() {
        assert_eq!(
            site_of(&tags(&["role:edge", "site:  "]), Some("  Lab rack 4\n")),
            Some("Lab rack 4".into())
        );
        assert_eq!(site_of(&[], Some(" \t")), None);
        assert_eq!(site_of(&[], None), None);
        assert_eq!(site_of(&tags(&["sites:x", "xsite:y"]), None), None);
    }

    #[test]
    fn a_long_location_is_cut_at_a_character() {
        let long = "é".repeat(500);
        let s = site_of(&[], Some(&long)).unwrap();
        assert_eq!(s.chars().count(), MAX_SITE_CHARS);
    }

    #[test]
    fn sites_of_a_topology_by_tags_then_location() {
        let mut t = Topology::default();
        for (id, loc) in [("a", Some("Hall A")), ("b", None), ("c", Some("x"))] {
            let mut d = Device::for_test(id, false);
            d.sys_location = loc.map(String::from);
            t.devices.push(d);
        }
        let s = sites(&t, |d| {
            if d.id.0 == "c" {
                tags(&["site:Configured"])
            } else {
                vec![]
            }
        });
        assert_eq!(s.len(), 2);
        assert_eq!(s[&DeviceId("a".into())], "Hall A");
        assert_eq!(s[&DeviceId("c".into())], "Configured");
    }
}
