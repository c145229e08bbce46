//! Semantic checks of a typed [`Config`]: everything a type cannot say
//! (references between sections, required combinations, zero intervals,
//! seeds outside the allowed prefixes). Pure: no I/O. Each problem names the
//! key path so the loader can attach a line; messages never include secrets.
use super::model::{Config, Credential, SecurityLevel, SnmpVersion};
use std::collections::HashSet;

/// One semantic problem, located by key path (`credentials[2].community`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// Key paths this finding follows from; when one of them was already
    /// reported as bad, the finding is a consequence and is not shown.
    /// `credentials[]` stands for "any credentials entry".
    pub depends_on: Vec<String>,
}

/// Minimum USM password length (shorter keys are refused by agents).
const MIN_USM_PASSWORD: usize = 8;

impl Config {
    /// Every problem in the configuration, in file order of sections.
    pub fn validate(&self) -> Vec<Problem> {
        let mut v = Problems::default();
        self.check_snmp(&mut v);
        let names = self.check_credentials(&mut v);
        self.check_icmp_and_poll(&mut v);
        self.check_discovery(&mut v);
        self.check_groups_and_devices(&mut v, &names);
        self.check_server(&mut v);
        self.check_remote_write(&mut v);
        self.check_traps(&mut v);
        self.check_syslog(&mut v);
        self.check_alerts(&mut v);
        if let Some(n) = &self.nats {
            n.check(&mut v);
        }
        v.0
    }

    fn check_snmp(&self, v: &mut Problems) {
        let s = &self.snmp;
        v.nonzero("snmp.timeout_ms", s.timeout_ms);
        v.nonzero("snmp.max_repetitions", s.max_repetitions.into());
        v.nonzero("snmp.per_agent_in_flight", s.per_agent_in_flight.into());
        v.nonzero("snmp.global_in_flight", s.global_in_flight.into());
        v.nonzero("snmp.port", s.port.into());
        if s.retries > 10 {
            v.push("snmp.retries", "must be at most 10");
        }
        if s.global_in_flight < s.per_agent_in_flight {
            v.push(
                "snmp.global_in_flight",
                "must be at least snmp.per_agent_in_flight",
            );
        }
    }

    fn check_credentials(&self, v: &mut Problems) -> HashSet<&str> {
        let mut names = HashSet::new();
        for (i, c) in self.credentials.iter().enumerate() {
            let at = format!("credentials[{i}]");
            v.unique_name(&at, "credential", &c.name, &mut names);
            match c.version {
                SnmpVersion::V1 | SnmpVersion::V2c => check_community(v, &at, c),
                SnmpVersion::V3 => check_usm(v, &at, c),
            }
        }
        names
    }

    fn check_icmp_and_poll(&self, v: &mut Problems) {
        v.nonzero("icmp.count", self.icmp.count.into());
        v.nonzero("icmp.interval_ms", self.icmp.interval_ms);
        v.nonzero("icmp.timeout_ms", self.icmp.timeout_ms);
        v.nonzero("icmp.rate_pps", self.icmp.rate_pps.into());
        v.nonzero("poll.icmp_interval_s", self.poll.icmp_interval_s);
        v.nonzero("poll.snmp_interval_s", self.poll.snmp_interval_s);
    }

    fn check_discovery(&self, v: &mut Problems) {
        let d = &self.discovery;
        if !d.seeds.is_empty() && d.prefixes.is_empty() {
            v.push_dep(
                "discovery.prefixes",
                "seeds are given but no prefixes: nothing may be probed",
                &["discovery.prefixes".to_string()],
            );
            return;
        }
        for (i, seed) in d.seeds.iter().enumerate() {
            if !d.allows(*seed) {
                v.push_dep(
                    &format!("discovery.seeds[{i}]"),
                    &format!("seed {seed} is outside every prefix in discovery.prefixes"),
                    &["discovery.prefixes".to_string()],
                );
            }
        }
    }

    fn check_groups_and_devices(&self, v: &mut Problems, creds: &HashSet<&str>) {
        let mut groups = HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            let at = format!("groups[{i}]");
            if !groups.insert(g.name.as_str()) {
                v.push(
                    &format!("{at}.name"),
                    &format!("duplicate group name `{}`", g.name),
                );
            }
            if g.pattern.is_none() && g.prefix.is_none() {
                v.push_dep(
                    &at,
                    "a group needs `pattern` or `prefix` (or both)",
                    &[format!("{at}.pattern"), format!("{at}.prefix")],
                );
            }
            v.interval(&format!("{at}.icmp_interval_s"), g.icmp_interval_s);
            v.interval(&format!("{at}.snmp_interval_s"), g.snmp_interval_s);
            v.refs(&at, &g.credentials, creds);
        }
        let mut devices = HashSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            let at = format!("devices[{i}]");
            if !devices.insert(d.name.as_str()) {
                v.push(
                    &format!("{at}.name"),
                    &format!("duplicate device name `{}`", d.name),
                );
            }
            if let Some(g) = &d.group
                && !groups.contains(g.as_str())
            {
                v.push_dep(
                    &format!("{at}.group"),
                    &format!("no group named `{g}`"),
                    &["groups[]".to_string()],
                );
            }
            if !self.discovery.prefixes.is_empty() && !self.discovery.allows(d.address) {
                // A listed device is polled like a seed: the same bound holds.
                v.push_dep(
                    &format!("{at}.address"),
                    &format!(
                        "{} is outside every [discovery] prefix; nothing outside the prefixes is probed",
                        d.address
                    ),
                    &["discovery.prefixes".to_string()],
                );
            }
            v.interval(&format!("{at}.icmp_interval_s"), d.icmp_interval_s);
            v.interval(&format!("{at}.snmp_interval_s"), d.snmp_interval_s);
            v.refs(&at, &d.credentials, creds);
        }
    }
}

fn check_community(v: &mut Problems, at: &str, c: &Credential) {
    match &c.community {
        None => v.push_dep(
            at,
            "version 1/2c needs `community`",
            &[format!("{at}.community")],
        ),
        Some(s) if s.is_empty() => v.push(&format!("{at}.community"), "must not be empty"),
        Some(_) => {}
    }
    for (key, present) in [
        ("user", c.user.is_some()),
        ("security_level", c.security_level.is_some()),
        ("auth_protocol", c.auth_protocol.is_some()),
        ("auth_password", c.auth_password.is_some()),
        ("priv_protocol", c.priv_protocol.is_some()),
        ("priv_password", c.priv_password.is_some()),
        ("context", c.context.is_some()),
    ] {
        if present {
            v.push(&format!("{at}.{key}"), "only valid with version = \"3\"");
        }
    }
}

fn check_usm(v: &mut Problems, at: &str, c: &Credential) {
    if c.community.is_some() {
        v.push(
            &format!("{at}.community"),
            "not used with version = \"3\"; use user",
        );
    }
    if c.user.as_deref().is_none_or(|u| u.trim().is_empty()) {
        v.push_dep(
            at,
            "version 3 needs a non-empty `user`",
            &[format!("{at}.user")],
        );
    }
    let Some(level) = c.security_level else {
        v.push_dep(
            at,
            "version 3 needs `security_level` (noAuthNoPriv, authNoPriv or authPriv)",
            &[format!("{at}.security_level")],
        );
        return;
    };
    let wants_auth = level != SecurityLevel::NoAuthNoPriv;
    let wants_priv = level == SecurityLevel::AuthPriv;
    let auth = [
        ("auth_protocol", c.auth_protocol.is_some()),
        ("auth_password", c.auth_password.is_some()),
    ];
    let privacy = [
        ("priv_protocol", c.priv_protocol.is_some()),
        ("priv_password", c.priv_password.is_some()),
    ];
    for (set, wanted) in [(auth, wants_auth), (privacy, wants_priv)] {
        for (key, present) in set {
            if wanted && !present {
                v.push_dep(
                    at,
                    &format!("security_level {} needs `{key}`", level_name(level)),
                    &[format!("{at}.{key}")],
                );
            } else if !wanted && present {
                v.push(
                    &format!("{at}.{key}"),
                    &format!("not used with security_level {}", level_name(level)),
                );
            }
        }
    }
    for (key, pw) in [
        ("auth_password", &c.auth_password),
        ("priv_password", &c.priv_password),
    ] {
        if let Some(pw) = pw
            && pw.len() < MIN_USM_PASSWORD
        {
            v.push(
                &format!("{at}.{key}"),
                &format!("must be at least {MIN_USM_PASSWORD} characters"),
            );
        }
    }
}

fn level_name(l: SecurityLevel) -> &'static str {
    match l {
        SecurityLevel::NoAuthNoPriv => "noAuthNoPriv",
        SecurityLevel::AuthNoPriv => "authNoPriv",
        SecurityLevel::AuthPriv => "authPriv",
    }
}

#[derive(Default)]
pub(super) struct Problems(Vec<Problem>);

impl Problems {
    pub(super) fn push(&mut self, path: &str, message: &str) {
        self.push_dep(path, message, &[]);
    }

    pub(super) fn push_dep(&mut self, path: &str, message: &str, depends_on: &[String]) {
        self.0.push(Problem {
            path: path.to_string(),
            message: message.to_string(),
            depends_on: depends_on.to_vec(),
        });
    }

    /// `{at}.name` must not be empty, nor taken by an earlier entry of the
    /// same kind (`what`: "credential", "receiver", "alert rule").
    pub(super) fn unique_name<'a>(
        &mut self,
        at: &str,
        what: &str,
        name: &'a str,
        seen: &mut HashSet<&'a str>,
    ) {
        if name.trim().is_empty() {
            self.push(&format!("{at}.name"), "must not be empty");
        } else if !seen.insert(name) {
            self.push(
                &format!("{at}.name"),
                &format!("duplicate {what} name `{name}`"),
            );
        }
    }

    pub(super) fn nonzero(&mut self, path: &str, value: u64) {
        if value == 0 {
            self.push(path, "must be greater than 0");
        }
    }

    fn interval(&mut self, path: &str, value: Option<u64>) {
        if value == Some(0) {
            self.push(path, "must be greater than 0");
        }
    }

    fn refs(&mut self, at: &str, names: &[String], known: &HashSet<&str>) {
        for (i, n) in names.iter().enumerate() {
            if !known.contains(n.as_str()) {
                self.push_dep(
                    &format!("{at}.credentials[{i}]"),
                    &format!("no credential named `{n}`"),
                    &["credentials[]".to_string()],
                );
            }
        }
    }
}
