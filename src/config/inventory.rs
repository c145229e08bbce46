//! A static inventory: devices listed in a CSV file as NetBox exports them
//! (its device table's "Name", "Primary IP", "Site", "Role" and "Tags"
//! columns, or the import field names `name`, `primary_ip4`, ...). Every
//! listed device is polled whether or not discovery finds it; with
//! `discover = false` nothing else is read. The CSV parse is pure; the
//! config pass reads the file and adds each row as a `[[devices]]` entry.
use super::model::{Config, Device};
use super::validate::Problem;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// `[inventory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventorySection {
    /// A CSV of devices (NetBox's device export); relative paths are taken
    /// from the working directory, like the other paths of the file.
    pub file: Option<PathBuf>,
    /// True: the listed devices join the seeds and discovery adds what the
    /// list lacks. False: only the seeds and the listed devices are read,
    /// no neighbour is followed.
    pub discover: bool,
}

impl Default for InventorySection {
    fn default() -> Self {
        InventorySection {
            file: None,
            discover: true,
        }
    }
}

/// One device row of the CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line of the row in the file (for messages).
    pub line: usize,
    pub name: String,
    pub address: IpAddr,
    pub site: Option<String>,
    pub role: Option<String>,
    pub tags: Vec<String>,
}

/// A row that names no address to poll, with its reason: shown, never
/// dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub skipped: Vec<Skipped>,
}

/// The columns we read, by every header NetBox gives them (its export's
/// labels and its import's field names), compared without case.
const NAME: &[&str] = &["name"];
const IPV4: &[&str] = &["primary ipv4", "primary_ip4"];
const IPV6: &[&str] = &["primary ipv6", "primary_ip6"];
const IP: &[&str] = &["primary ip", "primary_ip"];
const SITE: &[&str] = &["site"];
const ROLE: &[&str] = &["role", "device role", "device_role"];
const TAGS: &[&str] = &["tags"];

/// Parses the CSV. An error (with its line) for what cannot be read at all:
/// no header with a name and a primary IP column, a bad address, a broken
/// row. A device without a primary IP is skipped with its reason.
pub fn parse(text: &str) -> Result<Parsed, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| vec![format!("cannot read the header row: {e}")])?
        .clone();
    let column = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let name = column(NAME).ok_or_else(|| vec!["no `Name` column".to_string()])?;
    let ips: Vec<usize> = [IP, IPV4, IPV6].iter().filter_map(|c| column(c)).collect();
    if ips.is_empty() {
        return Err(vec![
            "no `Primary IP` (or `Primary IPv4`/`Primary IPv6`) column".to_string(),
        ]);
    }
    let (site, role, tags) = (column(SITE), column(ROLE), column(TAGS));
    let mut parsed = Parsed::default();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(device) = cell(Some(name)) else {
            errors.push(format!("line {line}: a device without a name"));
            continue;
        };
        let first_ip = ips.iter().find_map(|i| cell(Some(*i)));
        let Some(ip) = first_ip else {
            parsed.skipped.push(Skipped {
                line,
                name: device.to_owned(),
                reason: "no primary IP: nothing to poll".into(),
            });
            continue;
        };
        // NetBox writes an address with its prefix length.
        let bare = ip.split_once('/').map_or(ip, |(a, _)| a);
        let Ok(address) = bare.parse::<IpAddr>() else {
            errors.push(format!(
                "line {line}: device `{device}`: `{ip}` is not an IP address"
            ));
            continue;
        };
        parsed.rows.push(Row {
            line,
            name: device.to_owned(),
            address,
            site: cell(site).map(str::to_owned),
            role: cell(role).map(str::to_owned),
            tags: cell(tags)
                .map(|t| {
                    t.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

impl Row {
    /// The `[[devices]]` entry the row stands for: its tags, with its site
    /// and role as `site:NAME` and `role:NAME` tags for alert scopes.
    fn device(&self) -> Device {
        let mut tags = self.tags.clone();
        tags.extend(self.site.iter().map(|s| format!("site:{s}")));
        tags.extend(self.role.iter().map(|r| format!("role:{r}")));
        Device {
            name: self.name.clone(),
            address: self.address,
            group: None,
            icmp_interval_s: None,
            snmp_interval_s: None,
            credentials: Vec::new(),
            tags,
        }
    }
}

impl Config {
    /// Reads `[inventory] file` and adds its rows to the devices. Runs after
    /// the other checks: a name or address already listed, or an address
    /// outside every discovery prefix, is a problem at the row's line.
    pub(super) fn load_inventory(&mut self) -> Vec<Problem> {
        let Some(path) = self.inventory.file.clone() else {
            return Vec::new();
        };
        let problem = |message: String| Problem {
            path: "inventory.file".into(),
            message,
            depends_on: Vec::new(),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return vec![problem(format!(
                    "cannot read {}: {}",
                    path.display(),
                    e.kind()
                ))];
            }
        };
        let parsed = match parse(&text) {
            Ok(p) => p,
            Err(errors) => {
                let at = |m: String| problem(format!("{}: {m}", path.display()));
                return errors.into_iter().map(at).collect();
            }
        };
        let mut problems = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut addresses: HashMap<IpAddr, String> = HashMap::new();
        for (i, d) in self.devices.iter().enumerate() {
            names.insert(d.name.clone(), format!("devices[{i}]"));
            addresses.insert(d.address, format!("devices[{i}]"));
        }
        for row in &parsed.rows {
            let at = format!("{} line {}", path.display(), row.line);
            let mut fine = true;
            if let Some(first) = names.insert(row.name.clone(), at.clone()) {
                problems.push(problem(format!(
                    "{at}: device name `{}` is also listed at {first}",
                    row.name
                )));
                fine = false;
            }
            if let Some(first) = addresses.insert(row.address, at.clone()) {
                problems.push(problem(format!(
                    "{at}: address {} is also listed at {first}",
                    row.address
                )));
                fine = false;
            }
            if !self.discovery.prefixes.is_empty() && !self.discovery.allows(row.address) {
                problems.push(problem(format!(
                    "{at}: address {} is outside every [discovery] prefix; nothing outside the prefixes is probed",
                    row.address
                )));
                fine = false;
            }
            if fine {
                self.devices.push(row.device());
            }
        }
        self.inventory_skipped = parsed.skipped;
        problems
    }

    /// Every listed device (`[[devices]]` and the inventory file's rows):
    /// name and address, in file order.
    pub fn listed_devices(&self) -> Vec<(String, IpAddr)> {
        self.devices
            .iter()
            .map(|d| (d.name.clone(), d.address))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbox_export_labels_and_import_names_both_read() {
        let export = "\u{feff}ID,Name,Status,Site,Role,Primary IP,Tags\n\
                      1,core-1,Active,hq,core,127.0.2.1/24,\"wan, pci\"\n\
                      2,edge-1,Active,branch,,127.0.2.2/32,\n";
        let parsed = parse(export).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(
            parsed.rows[0],
            Row {
                line: 2,
                name: "core-1".into(),
                address: "127.0.2.1".parse().unwrap(),
                site: Some("hq".into()),
                role: Some("core".into()),
                tags: vec!["wan".into(), "pci".into()],
            }
        );
        assert_eq!(parsed.rows[1].role, None);
        let import = "name,role,site,primary_ip4,primary_ip6\nsw,access,hq,,::1\n";
        let parsed = parse(import).unwrap();
        assert_eq!(parsed.rows[0].address, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_device_without_an_address_is_skipped_with_its_reason() {
        let parsed = parse("Name,Primary IP\npdu-7,\nsw,127.0.2.9\n").unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(
            parsed.skipped,
            [Skipped {
                line: 2,
                name: "pdu-7".into(),
                reason: "no primary IP: nothing to poll".into()
            }]
        );
    }

    #[test]
    fn bad_rows_are_errors_with_their_line() {
        let errors =
            parse("Name,Primary IP\nsw,not-an-ip\n,127.0.2.1\na,127.0.2.2,extra\n").unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("line 2: device `sw`: `not-an-ip`"));
        assert!(errors[1].starts_with("line 3: a device without a name"));
        assert!(errors[2].starts_with("line 4:"), "{errors:?}");
        assert_eq!(
            parse("Name,Site\nsw,hq\n").unwrap_err(),
            ["no `Primary IP` (or `Primary IPv4`/`Primary IPv6`) column"]
        );
        assert!(parse("").is_err());
    }

    #[test]
    fn site_and_role_become_tags() {
        let row = &parse("Name,Primary IP,Site,Role,Tags\nsw,127.0.2.1,hq,core,a\n")
            .unwrap()
            .rows[0];
        assert_eq!(row.device().tags, ["a", "site:hq", "role:core"]);
    }
}
