//! The TOML of the small labs the tests build: routers in a chain or a
//! star behind the noc host (`noc:eth0 ── r1:eth0`, `r1:eth1 ── r2:eth1`,
//! ...), written once instead of as a text block in every lab test. The
//! text is what the lab crate reads (`LabSpec::from_toml`), so a test can
//! still add any key with [`LabToml::raw`] or [`LabToml::node`].
use std::fmt::Write;

/// A lab description under construction: name and prefix, then nodes and
/// links in the order given.
pub struct LabToml {
    head: String,
    nodes: String,
    declared: Vec<String>,
    links: String,
}

impl LabToml {
    pub fn new(name: &str, prefix: &str) -> LabToml {
        LabToml {
            head: format!("name = \"{name}\"\nprefix = \"{prefix}\"\n"),
            nodes: String::new(),
            declared: vec!["noc".into()],
            links: String::new(),
        }
    }

    /// Top-level lines (for example a `[credentials]` table), written
    /// after the name and prefix, before the nodes.
    pub fn raw(mut self, toml: &str) -> LabToml {
        self.head.push_str(toml);
        if !toml.ends_with('\n') {
            self.head.push('\n');
        }
        self
    }

    /// Plain routers (snmpd and lldpd), declared in this order.
    pub fn routers(mut self, names: &[&str]) -> LabToml {
        for name in names {
            self = self.node(name, "router", "");
        }
        self
    }

    /// One node of `kind` with `extra` lines (`if_speed_mbit = 1000`, ...).
    pub fn node(mut self, name: &str, kind: &str, extra: &str) -> LabToml {
        let _ = write!(
            self.nodes,
            "[[nodes]]\nname = \"{name}\"\nkind = \"{kind}\"\n{extra}"
        );
        if !extra.is_empty() && !extra.ends_with('\n') {
            self.nodes.push('\n');
        }
        self.declared.push(name.into());
        self
    }

    /// Links written `a - b` (a veth pair) or `a ~ b` (through a
    /// `nocmap-lab wire`, where impairment bites), separated by commas, each
    /// end `node:ifname`. A node not declared yet becomes a plain router
    /// (snmpd and lldpd), in the order the links name them.
    pub fn links(mut self, spec: &str) -> LabToml {
        for link in spec.split(',').map(str::trim).filter(|l| !l.is_empty()) {
            let (a, b, wire) = match (link.split_once(" - "), link.split_once(" ~ ")) {
                (Some((a, b)), None) => (a.trim(), b.trim(), false),
                (None, Some((a, b))) => (a.trim(), b.trim(), true),
                _ => panic!("lab link {link:?}: want `a - b` or `a ~ b`"),
            };
            for end in [a, b] {
                let node = end.split(':').next().unwrap();
                if !self.declared.iter().any(|d| d == node) {
                    self = self.node(node, "router", "");
                }
            }
            self = self.link(a, b, if wire { "wire = true" } else { "" });
        }
        self
    }

    /// One link with `extra` lines (`delay_ms = 20`, ...).
    pub fn link(mut self, a: &str, b: &str, extra: &str) -> LabToml {
        let _ = write!(self.links, "[[links]]\na = \"{a}\"\nb = \"{b}\"\n{extra}");
        if !extra.is_empty() && !extra.ends_with('\n') {
            self.links.push('\n');
        }
        self
    }

    pub fn build(&self) -> String {
        format!("{}{}{}", self.head, self.nodes, self.links)
    }
}

/// The labs' usual shape: plain routers linked as `links` says (see
/// [`LabToml::links`]), e.g. `"noc:eth0 - r1:eth0, r1:eth1 - r2:eth1"`.
pub struct Routers {
    pub name: &'static str,
    pub prefix: &'static str,
    pub links: &'static str,
}

impl Routers {
    pub const fn new(name: &'static str, prefix: &'static str, links: &'static str) -> Routers {
        Routers {
            name,
            prefix,
            links,
        }
    }

    pub fn toml(&self) -> String {
        LabToml::new(self.name, self.prefix)
            .links(self.links)
            .build()
    }
}
