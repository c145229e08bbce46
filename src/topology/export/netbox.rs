//! NetBox CSV export: the devices, interfaces and cables a NetBox bulk
//! import needs, one CSV table per object type (NetBox imports each type on
//! its own page, in that order). Owns CSV quoting and the ifType/speed to
//! NetBox interface type mapping; must not emit any device-provided string
//! except through [`csv_field`].
//!
//! Before importing, create in NetBox the site `nocmap`, the device role
//! `discovered`, a manufacturer for every `manufacturer` value (the vendor
//! name, or `unknown`) and under it a device type for every `device_type`
//! value: the chassis' ENTITY-MIB model, else the model its sysObjectID
//! registers, else the vendor name again (NetBox 4.x finds a device type by
//! manufacturer and model, and requires both columns). `serial` is the
//! chassis' serial number where the agent gives one. Device names are
//! sysNames, made unique with the
//! device id. A cable needs an interface at both ends and an interface takes
//! one cable, so links missing an interface name, and links reusing an
//! interface already cabled by a more confident link, are left out and
//! listed in [`NetboxCsv::skipped`].
use super::common::{nodes, unique_names};
use crate::topology::model::{Interface, Link, Topology};
use crate::types::OperStatus;
use std::collections::{BTreeSet, HashSet};

/// Placeholder values NetBox requires on every device.
pub const SITE: &str = "nocmap";
pub const ROLE: &str = "discovered";
pub const UNKNOWN_DEVICE_TYPE: &str = "unknown";
/// The header rows, each a subset of the fields NetBox 4.x's bulk import
/// form of that object type takes, with every field it requires.
pub const DEVICE_COLUMNS: &str =
    "name,role,manufacturer,device_type,site,status,serial,description\n";
pub const INTERFACE_COLUMNS: &str = "device,name,type,enabled,speed,description\n";
pub const CABLE_COLUMNS: &str =
    "side_a_device,side_a_type,side_a_name,side_b_device,side_b_type,side_b_name,status\n";
/// NetBox limits descriptions to 200 characters.
const DESCRIPTION_MAX: usize = 200;

/// The three CSV tables, each with its header row and a final newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetboxCsv {
    pub devices: String,
    pub interfaces: String,
    pub cables: String,
    /// Links that could not become cables, and why.
    pub skipped: Vec<SkippedCable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCable {
    pub link: String,
    pub reason: String,
}

impl NetboxCsv {
    /// All three tables in one text: each after a `# devices`,
    /// `# interfaces` or `# cables` line, separated by a blank line. Paste
    /// each block (without its `#` line) into the matching import page.
    pub fn combined(&self) -> String {
        format!(
            "# devices\n{}\n# interfaces\n{}\n# cables\n{}",
            self.devices, self.interfaces, self.cables
        )
    }
}

/// The combined text of [`netbox_csv`].
pub fn to_netbox_csv(topology: &Topology) -> String {
    netbox_csv(topology).combined()
}

/// Builds the three tables.
pub fn netbox_csv(topology: &Topology) -> NetboxCsv {
    let (nodes, position) = nodes(topology);
    let names = unique_names(&nodes);

    let mut devices = String::from(DEVICE_COLUMNS);
    for (node, name) in nodes.iter().zip(&names) {
        let manufacturer = node
            .device
            .and_then(|d| d.vendor.as_deref())
            .filter(|v| !v.trim().is_empty())
            .unwrap_or(UNKNOWN_DEVICE_TYPE);
        let hardware = node.device.and_then(|d| d.hardware.as_ref());
        let device_type = hardware
            .and_then(|h| h.model.as_deref())
            .or(node.device.and_then(|d| d.model.as_deref()))
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(manufacturer);
        let serial = hardware.and_then(|h| h.serial.as_deref()).unwrap_or("");
        let description = node
            .device
            .and_then(|d| d.sys_descr.as_deref())
            .map(|d| d.chars().take(DESCRIPTION_MAX).collect::<String>())
            .unwrap_or_default();
        row(
            &mut devices,
            &[
                name,
                ROLE,
                manufacturer,
                device_type,
                SITE,
                "active",
                serial,
                &description,
            ],
        );
    }

    // Interfaces the devices listed, then those only links mention.
    let mut interfaces = String::from(INTERFACE_COLUMNS);
    let mut listed: HashSet<(usize, &str)> = HashSet::new();
    for (i, node) in nodes.iter().enumerate() {
        for interface in node.device.map(|d| d.interfaces.as_slice()).unwrap_or(&[]) {
            if listed.insert((i, interface.name.as_str())) {
                interface_row(&mut interfaces, &names[i], interface);
            }
        }
    }
    for link in &topology.links {
        for end in [&link.a, &link.b] {
            let i = position[&end.device];
            if let Some(name) = end.if_name.as_deref()
                && listed.insert((i, name))
            {
                row(&mut interfaces, &[&names[i], name, "other", "", "", ""]);
            }
        }
    }

    let (cabled, skipped) =
        choose_cables(topology, |l| (position[&l.a.device], position[&l.b.device]));
    let mut cables = String::from(CABLE_COLUMNS);
    for (index, link) in topology.links.iter().enumerate() {
        if !cabled.contains(&index) {
            continue;
        }
        let (a, b) = (position[&link.a.device], position[&link.b.device]);
        row(
            &mut cables,
            &[
                &names[a],
                "dcim.interface",
                link.a.if_name.as_deref().unwrap_or_default(),
                &names[b],
                "dcim.interface",
                link.b.if_name.as_deref().unwrap_or_default(),
                "connected",
            ],
        );
    }
    NetboxCsv {
        devices,
        interfaces,
        cables,
        skipped,
    }
}

/// Which links become cables: those with both interface names, most
/// confident first, each interface used once. Returns link positions.
fn choose_cables(
    topology: &Topology,
    ends: impl Fn(&Link) -> (usize, usize),
) -> (BTreeSet<usize>, Vec<SkippedCable>) {
    let mut order: Vec<usize> = (0..topology.links.len()).collect();
    order.sort_by(|&x, &y| {
        topology.links[y]
            .confidence
            .total_cmp(&topology.links[x].confidence)
            .then(x.cmp(&y))
    });
    let mut used: HashSet<(usize, &str)> = HashSet::new();
    let mut chosen = BTreeSet::new();
    let mut skipped = Vec::new();
    for index in order {
        let link = &topology.links[index];
        let (a, b) = ends(link);
        let skip = |reason: &str| SkippedCable {
            link: link.id.clone(),
            reason: reason.to_owned(),
        };
        let (Some(a_if), Some(b_if)) = (link.a.if_name.as_deref(), link.b.if_name.as_deref())
        else {
            skipped.push(skip("an end has no interface name"));
            continue;
        };
        if (a, a_if) == (b, b_if) {
            skipped.push(skip("both ends are the same interface"));
            continue;
        }
        if used.contains(&(a, a_if)) || used.contains(&(b, b_if)) {
            skipped.push(skip("an interface already has a more confident cable"));
            continue;
        }
        used.insert((a, a_if));
        used.insert((b, b_if));
        chosen.insert(index);
    }
    skipped.sort_by(|x, y| x.link.cmp(&y.link));
    (chosen, skipped)
}

fn interface_row(out: &mut String, device: &str, interface: &Interface) {
    let enabled = match interface.admin_status {
        Some(OperStatus::Down) => "false",
        Some(OperStatus::Up) => "true",
        _ => "",
    };
    // NetBox counts speed in kbit/s.
    let speed = interface
        .speed_bps
        .filter(|&s| s > 0)
        .map(|s| (s / 1000).to_string())
        .unwrap_or_default();
    let description: String = interface
        .alias
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(DESCRIPTION_MAX)
        .collect();
    row(
        out,
        &[
            device,
            &interface.name,
            interface_type(interface.if_type, interface.speed_bps),
            enabled,
            &speed,
            &description,
        ],
    );
}

/// The NetBox interface type for an IANA ifType and a speed: Ethernet by
/// speed (copper up to 10 Gbit/s only when the ifType says nothing else
/// and the speed is a copper one, the usual optic above), aggregates as
/// `lag`, logical interfaces as `virtual`, the rest `other`.
pub fn interface_type(if_type: Option<u32>, speed_bps: Option<u64>) -> &'static str {
    match if_type {
        // ieee8023adLag
        Some(161) => "lag",
        // softwareLoopback, propVirtual, tunnel, l2vlan, l3ipvlan,
        // mplsTunnel
        Some(24 | 53 | 131 | 135 | 136 | 150) => "virtual",
        // bridge
        Some(209) => "bridge",
        // ethernetCsmacd, fastEther, fastEtherFX, gigabitEthernet, or unknown
        Some(6 | 62 | 69 | 117) | None => ethernet_type(speed_bps),
        Some(_) => "other",
    }
}

fn ethernet_type(speed_bps: Option<u64>) -> &'static str {
    const M: u64 = 1_000_000;
    match speed_bps.unwrap_or(0) / M {
        10 => "10base-t",
        100 => "100base-tx",
        1_000 => "1000base-t",
        2_500 => "2.5gbase-t",
        5_000 => "5gbase-t",
        10_000 => "10gbase-x-sfpp",
        25_000 => "25gbase-x-sfp28",
        40_000 => "40gbase-x-qsfpp",
        50_000 => "50gbase-x-sfp56",
        100_000 => "100gbase-x-qsfp28",
        200_000 => "200gbase-x-qsfp56",
        400_000 => "400gbase-x-qsfpdd",
        _ => "other",
    }
}

fn row(out: &mut String, fields: &[&str]) {
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

/// One RFC 4180 field. Quoted when it holds a comma, quote, line break or
/// leading/trailing space; quotes inside are doubled. NUL and the other
/// control characters except tab and line breaks become U+FFFD (NetBox's
/// database cannot store NUL). Text is otherwise kept as is: a leading `=`
/// is not defused, because NetBox would then store the defused name.
pub fn csv_field(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect();
    let needs_quotes = clean.contains([',', '"', '\n', '\r'])
        || clean.starts_with([' ', '\t'])
        || clean.ends_with([' ', '\t']);
    if needs_quotes {
        format!("\"{}\"", clean.replace('"', "\"\""))
    } else {
        clean
    }
}
