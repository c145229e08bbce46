//! The lab description file: plain serde data, its defaults and one
//! `validate()` that reports every problem at once.
//!
//! Owns parsing and checking only; it must not touch the system (no
//! namespaces, no processes) and must not compute addresses (see `plan`).
use super::LabError;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The reserved node name of the namespace the tool under test runs in.
pub const NOC: &str = "noc";

/// A whole lab: `name` prefixes every namespace, `prefix` holds every address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSpec {
    /// Short name, `[a-z0-9]{1,12}`; namespaces are `<name>-<node>`.
    pub name: String,
    /// IPv4 prefix, length 8..=22, e.g. "10.61.0.0/16".
    pub prefix: String,
    #[serde(default)]
    pub credentials: Credentials,
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub links: Vec<LinkSpec>,
}

/// SNMP credentials every managed node of the lab accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Credentials {
    pub community: String,
    pub v3_user: String,
    /// SHA-256 authentication pass phrase (at least 8 characters).
    pub auth_pass: String,
    /// AES-128 privacy pass phrase (at least 8 characters).
    pub priv_pass: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            community: defaults::COMMUNITY.into(),
            v3_user: defaults::V3_USER.into(),
            auth_pass: defaults::AUTH_PASS.into(),
            priv_pass: defaults::PRIV_PASS.into(),
        }
    }
}

/// Default values of the description file, in one place.
pub mod defaults {
    pub const COMMUNITY: &str = "public";
    pub const V3_USER: &str = "nocadmin";
    pub const AUTH_PASS: &str = "authpass123";
    pub const PRIV_PASS: &str = "privpass123";
    /// Interface name given to a node attached with `attach = "switch"`.
    pub const ATTACH_IF: &str = "eth0";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Forwards between its interfaces; management address on a loopback /32.
    Router,
    /// A namespace with one Linux bridge `br0`; management address on it.
    Switch,
    /// An end system: does not forward.
    Host,
}

/// What lldpd sends as port id: the MAC (subtype 3) or the ifName (subtype 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LldpPortId {
    #[default]
    Mac,
    Ifname,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    pub kind: NodeKind,
    /// Run snmpd; default true for router and switch, false for host.
    pub snmp: Option<bool>,
    /// Run lldpd; default: same as `snmp`.
    pub lldp: Option<bool>,
    /// sysName and hostname; default: the node name. `[A-Za-z0-9._-]`.
    pub sys_name: Option<String>,
    /// Any printable text (hostile strings welcome), no line breaks.
    pub sys_descr: Option<String>,
    pub sys_location: Option<String>,
    pub sys_contact: Option<String>,
    #[serde(default)]
    pub lldp_portid: LldpPortId,
    /// Percentage of frames dropped on the node's input (nftables).
    #[serde(default)]
    pub loss_pct: u8,
    /// Interface whose address is the management address (default: the
    /// loopback for routers, the bridge for switches, the first link for hosts).
    pub mgmt_if: Option<String>,
    /// Switch only: attach this node's `eth0` to that switch (shorthand for a
    /// link `<node>:eth0` <-> `<switch>:<node>`).
    pub attach: Option<String>,
    /// Switch only: an out-of-band management network; routers never route
    /// transit traffic over it, only hosts and the noc use it as first hop.
    #[serde(default)]
    pub oob: bool,
    /// The agent serves only 32-bit interface counters (ifXTable hidden by
    /// an snmpd view), like many older devices: for counter-wrap tests.
    #[serde(default)]
    pub counters32: bool,
    /// ifSpeed the agent reports for the node's link interfaces (snmpd's
    /// `interface` directive), in Mbit/s.
    pub if_speed_mbit: Option<u64>,
    /// sysName the agent reports when it must differ from `sys_name` (which
    /// stays the hostname and the LLDP name): any printable text, hostile
    /// strings welcome.
    #[serde(default)]
    pub agent_sys_name: Option<String>,
    /// LLDP system name lldpd announces (default: `sys_name`); printable,
    /// no `"` or `\`.
    #[serde(default)]
    pub lldp_sys_name: Option<String>,
    /// LLDP system description lldpd announces (default: lldpd's own).
    #[serde(default)]
    pub lldp_sys_descr: Option<String>,
    /// ifAlias the agent reports, by interface name (snmpd `override` of
    /// ifAlias.<ifIndex>); printable text.
    #[serde(default)]
    pub if_alias: BTreeMap<String, String>,
    /// snmpd's `engineID` text (1-27 of `[A-Za-z0-9._-]`): the agent's
    /// snmpEngineID is then net-snmp's `80001f8804` followed by the text's
    /// bytes, fixed across restarts. Nodes given one text share an engine
    /// id, as cloned images do.
    #[serde(default)]
    pub engine_id: Option<String>,
    /// Routers only: link aggregates, each an aggregate interface name and
    /// its member interfaces (interfaces of the node's links), e.g.
    /// `lag = { bond0 = ["eth1", "eth2"] }`. This kernel has no bonding or
    /// team driver, so the aggregate is an empty bridge of that name (an
    /// interface in the agent's ifTable) and the agent serves the
    /// ifStackTable rows that stack the members under it, as a switch
    /// reports its LAG; traffic still runs on each member by itself.
    #[serde(default)]
    pub lag: BTreeMap<String, Vec<String>>,
}

impl NodeSpec {
    pub fn snmp(&self) -> bool {
        self.snmp.unwrap_or(self.kind != NodeKind::Host)
    }
    pub fn lldp(&self) -> bool {
        self.lldp.unwrap_or_else(|| self.snmp())
    }
    pub fn sys_name(&self) -> &str {
        self.sys_name.as_deref().unwrap_or(&self.name)
    }
}

/// A cable between two `node:ifname` end points. A switch end becomes a port
/// of that switch's bridge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub a: String,
    pub b: String,
    /// One-way delay added by the userspace wire, milliseconds.
    #[serde(default)]
    pub delay_ms: f64,
    /// Uniform jitter (+/-) added by the wire, milliseconds.
    #[serde(default)]
    pub jitter_ms: f64,
    /// Force a wire even with zero delay, so delay can be set at run time.
    /// Default: true when delay_ms or jitter_ms is non-zero.
    pub wire: Option<bool>,
    /// Token-bucket rate limit on both ends, Mbit/s.
    pub rate_mbit: Option<f64>,
}

impl LinkSpec {
    pub fn has_wire(&self) -> bool {
        self.wire
            .unwrap_or(self.delay_ms > 0.0 || self.jitter_ms > 0.0)
    }
}

/// One side of a link, parsed from `node:ifname`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub node: String,
    pub ifname: String,
}

impl Endpoint {
    pub fn parse(s: &str) -> Option<Endpoint> {
        let (node, ifname) = s.split_once(':')?;
        if node.is_empty() || ifname.is_empty() {
            return None;
        }
        Some(Endpoint {
            node: node.into(),
            ifname: ifname.into(),
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.node, self.ifname)
    }
}

impl LabSpec {
    /// Parses and validates a description file.
    pub fn from_path(path: &Path) -> Result<LabSpec, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::Io {
            op: "read lab file",
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            LabError::Parse { message, .. } => LabError::Parse {
                origin: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates a description given as text.
    pub fn from_toml(text: &str) -> Result<LabSpec, LabError> {
        let mut spec: LabSpec = toml::from_str(text).map_err(|e| LabError::Parse {
            origin: "<text>".into(),
            message: e.to_string(),
        })?;
        spec.expand_attach();
        spec.validate()?;
        Ok(spec)
    }

    pub fn prefix_net(&self) -> Result<Ipv4Net, LabError> {
        self.prefix
            .parse::<Ipv4Net>()
            .map(|n| n.trunc())
            .map_err(|e| LabError::Invalid(vec![format!("prefix `{}`: {e}", self.prefix)]))
    }

    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Turns every `attach = "sw"` into an explicit link (idempotent).
    pub fn expand_attach(&mut self) {
        let mut extra = Vec::new();
        for n in &mut self.nodes {
            if let Some(sw) = n.attach.take() {
                extra.push(LinkSpec {
                    a: format!("{}:{}", n.name, defaults::ATTACH_IF),
                    b: format!("{sw}:{}", n.name),
                    delay_ms: 0.0,
                    jitter_ms: 0.0,
                    wire: None,
                    rate_mbit: None,
                });
            }
        }
        self.links.extend(extra);
    }

    /// Every problem of the description, or Ok.
    pub fn validate(&self) -> Result<(), LabError> {
        let mut errs = Vec::new();
        let name_ok = |s: &str, max: usize| {
            !s.is_empty()
                && s.len() <= max
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        if !name_ok(&self.name, 12) {
            errs.push(format!("name `{}`: must be 1-12 of [a-z0-9]", self.name));
        }
        match self.prefix.parse::<Ipv4Net>() {
            Err(e) => errs.push(format!("prefix `{}`: {e}", self.prefix)),
            Ok(p) if !(8..=22).contains(&p.prefix_len()) => {
                errs.push(format!("prefix `{}`: length must be 8..=22", self.prefix))
            }
            Ok(p)
                if !Ipv4Net::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 8)
                    .is_ok_and(|ten| ten.contains(&p)) =>
            {
                errs.push(format!(
                    "prefix `{}`: must lie inside 10.0.0.0/8",
                    self.prefix
                ))
            }
            Ok(_) => {}
        }
        let c = &self.credentials;
        if c.auth_pass.len() < 8 || c.priv_pass.len() < 8 {
            errs.push("credentials: pass phrases need at least 8 characters".into());
        }
        for (what, v) in [("community", &c.community), ("v3_user", &c.v3_user)] {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                errs.push(format!("credentials.{what} `{v}`: use [A-Za-z0-9_]"));
            }
        }
        for (what, v) in [("auth_pass", &c.auth_pass), ("priv_pass", &c.priv_pass)] {
            if !v
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            {
                errs.push(format!(
                    "credentials.{what}: printable, no quotes or backslashes"
                ));
            }
        }

        let mut kinds: BTreeMap<&str, NodeKind> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let at = format!("nodes[{i}] `{}`", n.name);
            if !name_ok(&n.name, 12) || n.name == NOC {
                errs.push(format!("{at}: name must be 1-12 of [a-z0-9] and not `noc`"));
            }
            if kinds.insert(&n.name, n.kind).is_some() {
                errs.push(format!("{at}: duplicate node name"));
            }
            let sys = n.sys_name();
            if sys.is_empty()
                || sys.len() > 63
                || !sys
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                errs.push(format!("{at}: sys_name must be 1-63 of [A-Za-z0-9._-]"));
            }
            for (what, v) in [
                ("sys_descr", &n.sys_descr),
                ("sys_location", &n.sys_location),
                ("sys_contact", &n.sys_contact),
                ("agent_sys_name", &n.agent_sys_name),
            ] {
                if let Some(v) = v
                    && (v.len() > 250 || v.chars().any(char::is_control))
                {
                    errs.push(format!("{at}: {what}: at most 250 bytes, no control chars"));
                }
            }
            if let Some(e) = &n.engine_id
                && (e.is_empty()
                    || e.len() > 27
                    || !e
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
            {
                errs.push(format!("{at}: engine_id must be 1-27 of [A-Za-z0-9._-]"));
            }
            for (what, v) in [
                ("lldp_sys_name", &n.lldp_sys_name),
                ("lldp_sys_descr", &n.lldp_sys_descr),
            ] {
                if let Some(v) = v
                    && (v.is_empty()
                        || v.len() > 250
                        || v.chars().any(|c| c.is_control() || c == '"' || c == '\\'))
                {
                    errs.push(format!(
                        "{at}: {what}: 1-250 bytes, no control chars, quotes or backslashes"
                    ));
                }
            }
            for (ifname, alias) in &n.if_alias {
                let name_ok = !ifname.is_empty()
                    && ifname.len() <= 15
                    && ifname
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                if !name_ok || alias.len() > 64 || alias.chars().any(|c| c.is_control() || c == '"')
                {
                    errs.push(format!(
                        "{at}: if_alias `{ifname}`: an interface name and at most 64 bytes, no control chars or quotes"
                    ));
                }
            }
            if n.loss_pct > 100 {
                errs.push(format!("{at}: loss_pct must be 0..=100"));
            }
            if n.oob && n.kind != NodeKind::Switch {
                errs.push(format!("{at}: oob is for switches only"));
            }
        }

        let mut seen_ifs: BTreeSet<Endpoint> = BTreeSet::new();
        let mut noc_links = 0;
        for (i, l) in self.links.iter().enumerate() {
            let at = format!("links[{i}] `{}` <-> `{}`", l.a, l.b);
            for side in [&l.a, &l.b] {
                let Some(ep) = Endpoint::parse(side) else {
                    errs.push(format!("{at}: `{side}` is not node:ifname"));
                    continue;
                };
                if ep.node == NOC {
                    noc_links += 1;
                } else if !kinds.contains_key(ep.node.as_str()) {
                    errs.push(format!("{at}: unknown node `{}`", ep.node));
                }
                if ep.ifname.len() > 15
                    || ep.ifname == "lo"
                    || ep.ifname == "br0"
                    || !ep
                        .ifname
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    errs.push(format!("{at}: bad interface name `{}`", ep.ifname));
                }
                if !seen_ifs.insert(ep.clone()) {
                    errs.push(format!("{at}: interface `{ep}` used twice"));
                }
            }
            if l.a.split(':').next() == l.b.split(':').next() {
                errs.push(format!("{at}: a link must join two different nodes"));
            }
            if !(0.0..=10_000.0).contains(&l.delay_ms) || !(0.0..=10_000.0).contains(&l.jitter_ms) {
                errs.push(format!("{at}: delay_ms/jitter_ms must be 0..=10000"));
            }
            if l.rate_mbit.is_some_and(|r| !(r > 0.0 && r <= 100_000.0)) {
                errs.push(format!("{at}: rate_mbit must be > 0"));
            }
        }
        if noc_links == 0 {
            errs.push("the `noc` must appear in at least one link".to_string());
        }
        for n in &self.nodes {
            if let Some(m) = &n.mgmt_if {
                let ep = Endpoint {
                    node: n.name.clone(),
                    ifname: m.clone(),
                };
                if !seen_ifs.contains(&ep) {
                    errs.push(format!(
                        "node `{}`: mgmt_if `{m}` is not one of its links",
                        n.name
                    ));
                }
            }
        }
        for n in &self.nodes {
            super::spec_lag::lag_errors(n, &seen_ifs, &mut errs);
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(LabError::Invalid(errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
        name = "t"
        prefix = "10.99.0.0/16"
        [[nodes]]
        name = "r1"
        kind = "router"
        [[links]]
        a = "noc:eth0"
        b = "r1:eth0"
    "#;

    #[test]
    fn minimal_file_gets_defaults() {
        let s = LabSpec::from_toml(MIN).unwrap();
        assert_eq!(s.credentials.community, "public");
        assert_eq!(s.credentials.v3_user, "nocadmin");
        let r1 = s.node("r1").unwrap();
        assert!(r1.snmp() && r1.lldp());
        assert_eq!(r1.sys_name(), "r1");
        assert!(!s.links[0].has_wire());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = MIN.replace("kind = \"router\"", "kind = \"router\"\ncolour = 1");
        let e = LabSpec::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn every_problem_is_reported() {
        let text = r#"
            name = "Bad-Name"
            prefix = "192.168.0.0/16"
            [[nodes]]
            name = "h1"
            kind = "host"
            sys_descr = "line\nbreak"
            [[links]]
            a = "h1:eth0"
            b = "ghost:eth0"
        "#;
        let LabError::Invalid(errs) = LabSpec::from_toml(text).unwrap_err() else {
            panic!("expected Invalid");
        };
        let all = errs.join("\n");
        for needle in ["name `Bad-Name`", "10.0.0.0/8", "sys_descr", "ghost", "noc"] {
            assert!(all.contains(needle), "missing {needle} in {all}");
        }
    }

    #[test]
    fn attach_expands_to_a_switch_port() {
        let text = format!(
            "{MIN}\n[[nodes]]\nname = \"sw\"\nkind = \"switch\"\n[[nodes]]\nname = \"h1\"\nkind = \"host\"\nattach = \"sw\"\n"
        );
        let s = LabSpec::from_toml(&text).unwrap();
        let l = s.links.last().unwrap();
        assert_eq!((l.a.as_str(), l.b.as_str()), ("h1:eth0", "sw:h1"));
    }
}
