//! Configuration text for snmpd and lldpd of one lab node.
//!
//! Pure: renders strings from the spec and plan, writes nothing. Values that
//! come from the description file reach snmpd.conf only through `conf_value`.
use super::plan::PlanNode;
use super::spec::{Credentials, LldpPortId, NodeKind, NodeSpec};
use ipnet::Ipv4Net;
use std::path::Path;

/// The subtree the switches' bridge agent serves (BRIDGE-MIB, Q-BRIDGE inside).
pub const BRIDGE_MIB: &str = ".1.3.6.1.2.1.17";

/// The AgentX master socket; loopback is per namespace, so every node has its own.
pub const AGENTX_SOCKET: &str = "tcp:127.0.0.1:705";

/// snmpd.conf for a managed node. `bridge_agent` is the line that serves
/// BRIDGE-MIB (see `bridge_agent_line`), used for switches only.
pub fn snmpd_conf(
    node: &NodeSpec,
    prefix: Ipv4Net,
    creds: &Credentials,
    bridge_agent: Option<&str>,
    ifaces: &[String],
    link_speeds: &[(String, u64)],
) -> String {
    let services = match node.kind {
        NodeKind::Router => 78,
        NodeKind::Switch => 66,
        NodeKind::Host => 72,
    };
    let mut s = String::new();
    s.push_str("# written by nocmap lab; do not edit\n");
    s.push_str("agentaddress udp:161\n");
    let sys_name = node.agent_sys_name.as_deref().unwrap_or(node.sys_name());
    s.push_str(&format!("sysName {}\n", conf_value(sys_name)));
    s.push_str(&format!("sysServices {services}\n"));
    let descr = node
        .sys_descr
        .clone()
        .unwrap_or_else(|| format!("nocmap lab {:?} {}", node.kind, node.name).to_lowercase());
    s.push_str(&format!("sysDescr {}\n", conf_value(&descr)));
    let location = node.sys_location.as_deref().unwrap_or("nocmap lab");
    s.push_str(&format!("sysLocation {}\n", conf_value(location)));
    let contact = node.sys_contact.as_deref().unwrap_or("noc@lab.invalid");
    s.push_str(&format!("sysContact {}\n", conf_value(contact)));
    // A view that hides ifXTable makes the agent a 32-bit-counters-only one.
    let view = if node.counters32 {
        s.push_str("view nohc included .1\nview nohc excluded .1.3.6.1.2.1.31.1.1\n");
        " -V nohc"
    } else {
        ""
    };
    s.push_str(&format!("rocommunity {} {prefix}{view}\n", creds.community));
    s.push_str(&format!(
        "rocommunity {} 127.0.0.1{view}\n",
        creds.community
    ));
    let plain = |i: &str| {
        i.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    };
    // A rate-limited link reports its rate as ifSpeed (like a WAN circuit's
    // configured bandwidth); `if_speed_mbit` covers the node's other links.
    for (i, bps) in link_speeds.iter().filter(|(i, _)| plain(i)) {
        s.push_str(&format!(
            "interface {i} 6 {}\n",
            (*bps).min(u32::MAX as u64)
        ));
    }
    if let Some(mbit) = node.if_speed_mbit {
        for i in ifaces
            .iter()
            .filter(|i| plain(i) && !link_speeds.iter().any(|(l, _)| l == *i))
        {
            s.push_str(&format!(
                "interface {i} 6 {}\n",
                mbit.saturating_mul(1_000_000).min(u32::MAX as u64)
            ));
        }
    }
    // Before createUser: its keys are localized to the engine id.
    if let Some(e) = &node.engine_id {
        s.push_str(&format!("engineID {}\n", conf_value(e)));
    }
    s.push_str(&format!(
        "createUser {} SHA-256 \"{}\" AES \"{}\"\n",
        creds.v3_user, creds.auth_pass, creds.priv_pass
    ));
    s.push_str(&format!("rouser {} priv{view}\n", creds.v3_user));
    s.push_str("master agentx\n");
    s.push_str(&format!("agentXSocket {AGENTX_SOCKET}\n"));
    if node.kind == NodeKind::Switch
        && let Some(line) = bridge_agent
    {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// `pass_persist .1.3.6.1.2.1.17 BIN bridge-agent --bridge BRIDGE`, or
/// None when `bin` cannot stand in a snmpd.conf line (snmpd splits the
/// command at white space and knows no quoting) or `bridge` is not a plain
/// interface name.
pub fn bridge_agent_line(bin: &Path, bridge: &str) -> Option<String> {
    let bin = bin.to_str()?;
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plain(bin) || !bin.starts_with('/') || !super::bridge_agent::valid_ifname(bridge) {
        return None;
    }
    Some(format!(
        "pass_persist {BRIDGE_MIB} {bin} bridge-agent --bridge {bridge}"
    ))
}

/// IF-MIB::ifStackStatus, the ifStackTable's one readable column.
const IF_STACK_STATUS: &str = ".1.3.6.1.2.1.31.1.2.1.3";

/// snmpd `override` lines that serve the ifStackTable of the node's link
/// aggregates (`lag`): `ifStackStatus.<aggregate>.<member> = active(1)` for
/// every member, by ifIndex; an interface without one is left out.
pub fn lag_lines(node: &NodeSpec, if_index: impl Fn(&str) -> Option<u32>) -> String {
    let mut out = String::new();
    for (agg, members) in &node.lag {
        let Some(hi) = if_index(agg) else { continue };
        for lo in members.iter().filter_map(|m| if_index(m)) {
            out.push_str(&format!("override {IF_STACK_STATUS}.{hi}.{lo} integer 1\n"));
        }
    }
    out
}

/// snmpd `override` lines giving interfaces their ifAlias (`if_alias`);
/// `if_index` says the ifIndex of an interface name in the node's
/// namespace. Aliases were validated: no quotes, no control characters.
pub fn if_alias_lines(node: &NodeSpec, if_index: impl Fn(&str) -> Option<u32>) -> String {
    let mut s = String::new();
    for (ifname, alias) in &node.if_alias {
        if let Some(i) = if_index(ifname) {
            let alias: String = alias
                .chars()
                .filter(|c| !c.is_control() && *c != '"')
                .collect();
            s.push_str(&format!(
                "override .1.3.6.1.2.1.31.1.1.1.18.{i} octet_str \"{alias}\"\n"
            ));
        }
    }
    s
}

/// lldpd configuration (lldpcli commands) for a node.
pub fn lldpd_conf(node: &NodeSpec) -> String {
    // lldpcli splits at white space outside double quotes.
    let quoted = |v: &str| {
        let v: String = v
            .chars()
            .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
            .collect();
        format!("\"{v}\"")
    };
    let name = match &node.lldp_sys_name {
        Some(n) => quoted(n),
        None => node.sys_name().to_string(),
    };
    let mut s = format!("configure system hostname {name}\nconfigure lldp tx-interval 2\n");
    if let Some(d) = &node.lldp_sys_descr {
        s.push_str(&format!("configure system description {}\n", quoted(d)));
    }
    if node.lldp_portid == LldpPortId::Ifname {
        s.push_str("configure lldp portidsubtype ifname\n");
    }
    s
}

/// The interfaces lldpd should run on: every link interface of the node
/// (for a switch, its bridge ports), comma separated for `lldpd -I`.
pub fn lldpd_interfaces(node: &PlanNode, link_ifs: &[String]) -> String {
    let mut ifs: Vec<&str> = link_ifs.iter().map(String::as_str).collect();
    ifs.extend(node.bridge_ports.iter().map(String::as_str));
    ifs.sort_unstable();
    ifs.dedup();
    ifs.join(",")
}

/// snmpd takes the rest of the line verbatim for sysDescr & co; the only
/// things that can break that are line breaks, a leading `#` (comment) and
/// surrounding white space, and the literal `""` (means empty). Validation
/// already refused control characters; this keeps the rest safe.
pub fn conf_value(v: &str) -> String {
    let v: String = v
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let t = v.trim();
    if t.is_empty() || t == "\"\"" || t.len() != v.len() || t.starts_with('#') {
        // Guard the value so snmpd keeps it whole: a visible marker beats a
        // silently altered string.
        format!("[{v}]")
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_on_one_line() {
        for v in ["<script>alert(1)</script>", "a\nb", "# c", " x ", "\"\""] {
            let out = conf_value(v);
            assert!(!out.contains('\n'), "{out:?}");
            assert!(!out.starts_with('#') && !out.starts_with(' '), "{out:?}");
        }
        assert_eq!(conf_value("<b>\"'&"), "<b>\"'&");
    }

    #[test]
    fn only_switches_get_the_bridge_agent() {
        let line = bridge_agent_line(Path::new("/opt/x/nocmap-lab"), "br0").unwrap();
        assert_eq!(
            line,
            "pass_persist .1.3.6.1.2.1.17 /opt/x/nocmap-lab bridge-agent --bridge br0"
        );
        for bad in ["/opt/my dir/nocmap", "nocmap", "/a\nb"] {
            assert_eq!(bridge_agent_line(Path::new(bad), "br0"), None, "{bad:?}");
        }
        assert_eq!(bridge_agent_line(Path::new("/x"), "br0 x"), None);
        let node = |kind| NodeSpec {
            name: "n".into(),
            kind,
            snmp: None,
            lldp: None,
            sys_name: None,
            sys_descr: None,
            sys_location: None,
            sys_contact: None,
            lldp_portid: Default::default(),
            loss_pct: 0,
            mgmt_if: None,
            attach: None,
            oob: false,
            counters32: false,
            if_speed_mbit: None,
            agent_sys_name: None,
            lldp_sys_name: None,
            lldp_sys_descr: None,
            if_alias: Default::default(),
            engine_id: None,
            lag: Default::default(),
        };
        let prefix = "10.80.0.0/16".parse().unwrap();
        let creds = Credentials::default();
        let sw = snmpd_conf(
            &node(NodeKind::Switch),
            prefix,
            &creds,
            Some(&line),
            &[],
            &[],
        );
        assert!(sw.lines().any(|l| l == line), "{sw}");
        let r = snmpd_conf(
            &node(NodeKind::Router),
            prefix,
            &creds,
            Some(&line),
            &[],
            &[],
        );
        assert!(!r.contains("pass_persist"), "{r}");
    }

    #[test]
    fn a_fixed_engine_id_comes_before_the_user_localized_to_it() {
        let n: NodeSpec =
            toml::from_str("name = \"x1\"\nkind = \"router\"\nengine_id = \"x1-fixed\"\n").unwrap();
        let prefix = "10.80.0.0/16".parse().unwrap();
        let c = snmpd_conf(&n, prefix, &Credentials::default(), None, &[], &[]);
        let engine = c.find("engineID x1-fixed\n").expect("an engineID line");
        assert!(engine < c.find("createUser").unwrap(), "{c}");
    }

    #[test]
    fn hostile_names_aliases_and_lldp_strings() {
        let mut n: NodeSpec = toml::from_str(
            r#"
            name = "x1"
            kind = "router"
            agent_sys_name = "<script>window.__xss=2</script>"
            lldp_sys_name = "<img src=x onerror=window.__xss=1>"
            lldp_sys_descr = "<b>bold</b> & co"
            if_alias = { eth1 = "<svg onload=window.__xss=3>" }
            "#,
        )
        .unwrap();
        let prefix = "10.80.0.0/16".parse().unwrap();
        let c = snmpd_conf(&n, prefix, &Credentials::default(), None, &[], &[]);
        assert!(
            c.contains("sysName <script>window.__xss=2</script>\n"),
            "{c}"
        );
        let l = lldpd_conf(&n);
        assert!(
            l.starts_with("configure system hostname \"<img src=x onerror=window.__xss=1>\"\n"),
            "{l}"
        );
        assert!(
            l.contains("configure system description \"<b>bold</b> & co\"\n"),
            "{l}"
        );
        let a = if_alias_lines(&n, |i| (i == "eth1").then_some(7));
        assert_eq!(
            a,
            "override .1.3.6.1.2.1.31.1.1.1.18.7 octet_str \"<svg onload=window.__xss=3>\"\n"
        );
        n.lldp_sys_name = None;
        assert!(lldpd_conf(&n).starts_with("configure system hostname x1\n"));
    }

    #[test]
    fn a_lag_stacks_its_members_under_it_by_if_index() {
        let n: NodeSpec = toml::from_str(
            r#"
            name = "r1"
            kind = "router"
            lag = { bond0 = ["eth1", "eth2"], po9 = ["eth3"] }
            "#,
        )
        .unwrap();
        let index = |i: &str| match i {
            "eth1" => Some(3),
            "eth2" => Some(4),
            "bond0" => Some(10),
            // po9 has no ifIndex yet: its row is left out.
            _ => None,
        };
        assert_eq!(
            lag_lines(&n, index),
            "override .1.3.6.1.2.1.31.1.2.1.3.10.3 integer 1\n\
             override .1.3.6.1.2.1.31.1.2.1.3.10.4 integer 1\n"
        );
    }
}
