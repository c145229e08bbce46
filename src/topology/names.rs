//! The names people type for a device, and the names shown back to them.
//! A device can be given by its id, its sysName or any address it is known
//! by; the match is exact before it is loose (sysName without case), and a
//! name that fits several devices is an error that lists them all, never a
//! guess. Human output calls a device by its sysName, made unique with its
//! address where names repeat; ids appear only in `--json`. Pure: no I/O.
use super::model::{Device, DeviceId, Link, Topology};
use std::collections::HashMap;
use std::net::IpAddr;

/// Why a name given by a user did not pick exactly one device or link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("no device {given:?} in the topology (give a sysName, an address or a device id)")]
    NoDevice { given: String },
    #[error("{given:?} names {} devices: {}", .candidates.len(), .candidates.join("; "))]
    AmbiguousDevice {
        given: String,
        candidates: Vec<String>,
    },
    #[error("no link {given:?} in the topology (give a link id or DEVICE:INTERFACE of one end)")]
    NoLink { given: String },
    #[error("{given:?} names {} links: {}", .candidates.len(), .candidates.join("; "))]
    AmbiguousLink {
        given: String,
        candidates: Vec<String>,
    },
}

/// How a given text matched a device, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    Id,
    SysName,
    Address,
    SysNameAnyCase,
}

fn how(device: &Device, given: &str, address: Option<IpAddr>) -> Option<Match> {
    if device.id.0 == given {
        return Some(Match::Id);
    }
    let name = device.sys_name.as_deref();
    if name == Some(given) {
        return Some(Match::SysName);
    }
    if let Some(addr) = address
        && (device.mgmt_addr == Some(addr) || device.addresses.contains(&addr))
    {
        return Some(Match::Address);
    }
    if name.is_some_and(|n| n.eq_ignore_ascii_case(given)) {
        return Some(Match::SysNameAnyCase);
    }
    None
}

/// The one device `given` names: the devices matched at the strongest level
/// any device matches at; more than one there is ambiguous.
pub fn resolve_device(topology: &Topology, given: &str) -> Result<DeviceId, NameError> {
    let address = given.trim().parse::<IpAddr>().ok();
    let matches: Vec<(Match, &Device)> = topology
        .devices
        .iter()
        .filter_map(|d| how(d, given, address).map(|m| (m, d)))
        .collect();
    let Some(best) = matches.iter().map(|(m, _)| *m).min() else {
        return Err(NameError::NoDevice {
            given: given.to_owned(),
        });
    };
    let found: Vec<&Device> = matches
        .into_iter()
        .filter(|(m, _)| *m == best)
        .map(|(_, d)| d)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.id.clone()),
        many => Err(NameError::AmbiguousDevice {
            given: given.to_owned(),
            candidates: many.iter().map(|d| describe(d)).collect(),
        }),
    }
}

/// The one link `given` names: a link id, or `DEVICE:INTERFACE` of one of
/// its ends (the device named as [`resolve_device`] takes it). Device ids,
/// addresses and interface names may hold colons themselves, so every split
/// is tried.
pub fn resolve_link(topology: &Topology, given: &str) -> Result<String, NameError> {
    if topology.links.iter().any(|l| l.id == given) {
        return Ok(given.to_owned());
    }
    let mut found: Vec<&Link> = Vec::new();
    for (at, _) in given.match_indices(':') {
        let (device, if_name) = (&given[..at], &given[at + 1..]);
        let device = match resolve_device(topology, device) {
            Ok(device) => device,
            Err(NameError::NoDevice { .. }) => continue,
            Err(other) => return Err(other),
        };
        let ends = |l: &&Link| {
            [&l.a, &l.b]
                .into_iter()
                .any(|e| e.device == device && e.if_name.as_deref() == Some(if_name))
        };
        for link in topology.links.iter().filter(ends) {
            if !found.iter().any(|f| f.id == link.id) {
                found.push(link);
            }
        }
    }
    match found.as_slice() {
        [] => Err(NameError::NoLink {
            given: given.to_owned(),
        }),
        [one] => Ok(one.id.clone()),
        many => Err(NameError::AmbiguousLink {
            given: given.to_owned(),
            candidates: many.iter().map(|l| l.id.clone()).collect(),
        }),
    }
}

/// A device for a list of candidates: its sysName, address and id.
fn describe(device: &Device) -> String {
    let mut out = device
        .sys_name
        .clone()
        .unwrap_or_else(|| "(no name)".into());
    if let Some(addr) = device.mgmt_addr {
        out.push_str(&format!(" {addr}"));
    }
    out.push_str(&format!(" [{}]", device.id.0));
    out
}

/// What human output calls each device: its sysName where that is unique
/// (ignoring case), the sysName with the management address where names
/// repeat, the address where there is no name, and the id only when nothing
/// else tells the device apart.
#[derive(Debug, Clone, Default)]
pub struct DeviceLabels {
    labels: HashMap<DeviceId, String>,
}

impl DeviceLabels {
    pub fn new(topology: &Topology) -> Self {
        let mut count: HashMap<String, usize> = HashMap::new();
        for d in &topology.devices {
            if let Some(n) = &d.sys_name {
                *count.entry(n.to_lowercase()).or_default() += 1;
            }
        }
        let labels = topology
            .devices
            .iter()
            .map(|d| {
                let unique = |n: &String| count.get(&n.to_lowercase()) == Some(&1);
                let label = match (&d.sys_name, d.mgmt_addr) {
                    (Some(n), _) if !n.is_empty() && unique(n) => n.clone(),
                    (Some(n), Some(addr)) if !n.is_empty() => format!("{n} ({addr})"),
                    (Some(n), None) if !n.is_empty() => format!("{n} ({})", d.id.0),
                    (_, Some(addr)) => addr.to_string(),
                    _ => d.id.0.clone(),
                };
                (d.id.clone(), label)
            })
            .collect();
        Self { labels }
    }

    /// The label of `id`; the id itself for a device the topology lacks.
    pub fn of<'a>(&'a self, id: &'a DeviceId) -> &'a str {
        self.labels.get(id).map_or(id.0.as_str(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::Endpoint;

    fn dev(id: &str, name: Option<&str>, addr: Option<&str>) -> Device {
        let json = serde_json::json!({
            "id": id, "sys_name": name, "sys_descr": null,
            "mgmt_addr": addr, "chassis_id": null, "vendor": null,
            "interfaces": [],
        });
        let mut d: Device = serde_json::from_value(json).unwrap();
        d.addresses = d.mgmt_addr.into_iter().collect();
        d
    }

    fn link(id: &str, a: (&str, &str), b: (&str, &str)) -> Link {
        let end = |(d, i): (&str, &str)| Endpoint {
            device: DeviceId(d.into()),
            if_name: Some(i.into()),
        };
        Link {
            id: id.into(),
            a: end(a),
            b: end(b),
            evidence: Vec::new(),
            confidence: 1.0,
            lag: None,
        }
    }

    fn sample() -> Topology {
        Topology {
            devices: vec![
                dev(
                    "chassis-02:00:00:00:00:01",
                    Some("core1"),
                    Some("127.0.1.1"),
                ),
                dev(
                    "chassis-02:00:00:00:00:02",
                    Some("switch"),
                    Some("127.0.1.2"),
                ),
                dev(
                    "chassis-02:00:00:00:00:03",
                    Some("switch"),
                    Some("127.0.1.3"),
                ),
                dev("chassis-02:00:00:00:00:04", None, Some("127.0.1.4")),
                dev("chassis-02:00:00:00:00:05", Some("Core1"), None),
                dev("host-9", None, None),
            ],
            links: vec![
                link(
                    "l1",
                    ("chassis-02:00:00:00:00:01", "eth1"),
                    ("chassis-02:00:00:00:00:02", "eth0"),
                ),
                link(
                    "l2",
                    ("chassis-02:00:00:00:00:01", "eth1"),
                    ("chassis-02:00:00:00:00:03", "eth0"),
                ),
            ],
        }
    }

    #[test]
    fn a_device_by_id_name_or_address() {
        let t = sample();
        let id = |s: &str| Ok(DeviceId(s.into()));
        assert_eq!(
            resolve_device(&t, "chassis-02:00:00:00:00:04"),
            id("chassis-02:00:00:00:00:04")
        );
        assert_eq!(resolve_device(&t, "core1"), id("chassis-02:00:00:00:00:01"));
        assert_eq!(
            resolve_device(&t, "127.0.1.3"),
            id("chassis-02:00:00:00:00:03")
        );
        assert_eq!(resolve_device(&t, "host-9"), id("host-9"));
    }

    #[test]
    fn exact_case_wins_and_loose_case_is_ambiguous() {
        let t = sample();
        assert_eq!(
            resolve_device(&t, "Core1"),
            Ok(DeviceId("chassis-02:00:00:00:00:05".into()))
        );
        let err = resolve_device(&t, "CORE1").unwrap_err();
        assert!(
            matches!(&err, NameError::AmbiguousDevice { candidates, .. } if candidates.len() == 2)
        );
    }

    #[test]
    fn a_repeated_name_is_an_error_that_lists_every_candidate() {
        let err = resolve_device(&sample(), "switch").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"switch\" names 2 devices: switch 127.0.1.2 [chassis-02:00:00:00:00:02]; \
             switch 127.0.1.3 [chassis-02:00:00:00:00:03]"
        );
        assert_eq!(
            resolve_device(&sample(), "nothing"),
            Err(NameError::NoDevice {
                given: "nothing".into()
            })
        );
    }

    #[test]
    fn a_link_by_id_or_by_one_end() {
        let t = sample();
        assert_eq!(resolve_link(&t, "l2"), Ok("l2".into()));
        assert_eq!(resolve_link(&t, "127.0.1.3:eth0"), Ok("l2".into()));
        assert_eq!(
            resolve_link(&t, "chassis-02:00:00:00:00:02:eth0"),
            Ok("l1".into())
        );
        let err = resolve_link(&t, "core1:eth1").unwrap_err();
        assert!(
            matches!(&err, NameError::AmbiguousLink { candidates, .. } if candidates.len() == 2)
        );
        assert!(matches!(
            resolve_link(&t, "core1:eth9"),
            Err(NameError::NoLink { .. })
        ));
        let mut colons = sample();
        colons.links[0].b.if_name = Some("xe-0/0/1:2".into());
        assert_eq!(
            resolve_link(&colons, "127.0.1.2:xe-0/0/1:2"),
            Ok("l1".into())
        );
        assert!(matches!(
            resolve_link(&t, "nolink"),
            Err(NameError::NoLink { .. })
        ));
    }

    #[test]
    fn labels_are_names_made_unique() {
        let t = sample();
        let labels = DeviceLabels::new(&t);
        let of = |s: &str| labels.of(&DeviceId(s.into())).to_owned();
        assert_eq!(of("chassis-02:00:00:00:00:02"), "switch (127.0.1.2)");
        assert_eq!(of("chassis-02:00:00:00:00:04"), "127.0.1.4");
        assert_eq!(of("host-9"), "host-9");
        // core1 and Core1 differ only in case: both get told apart.
        assert_eq!(of("chassis-02:00:00:00:00:01"), "core1 (127.0.1.1)");
        assert_eq!(
            of("chassis-02:00:00:00:00:05"),
            "Core1 (chassis-02:00:00:00:00:05)"
        );
        assert_eq!(of("unknown"), "unknown");
    }
}
