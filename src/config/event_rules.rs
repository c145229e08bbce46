//! The event part of an `[[alert]]` rule (`kind = "trap"` or `"syslog"`):
//! what a received event must hold to match, as plain data, and its
//! checks. The two compilations both the checks and the alert engine use
//! live here, so `check-config` refuses exactly what `serve` could not
//! run: an OID as text (numeric, or a name from the bundled MIBs and
//! `[snmp] mib_dirs`) and a message pattern, a `regex` bounded in size so
//! a huge or hostile pattern is refused, never compiled into gigabytes.
//! Pure apart from reading the users' MIB directories.
use super::model::Config;
use super::model_alerts::{AlertRule, RuleKind};
use super::validate::Problems;
use crate::mib::Mibs;
use crate::types::syslog::{Facility, SyslogSeverity};
use serde::Deserialize;

/// Longest pattern text taken, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1_024;
/// The compiled program's size limit (`RegexBuilder::size_limit`).
pub const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// The lazy DFA's cache limit (`RegexBuilder::dfa_size_limit`).
pub const PATTERN_DFA_LIMIT: usize = 1024 * 1024;
/// Default quiet period after which an event alert resolves.
pub const DEFAULT_CLEAR_AFTER_S: u64 = 300;
/// Longest quiet period allowed (a week).
pub const MAX_CLEAR_AFTER_S: u64 = 7 * 86_400;
/// Varbind conditions a rule may have.
pub const MAX_VARBIND_CONDITIONS: usize = 32;
/// Most matches a rule may ask for within its window.
pub const MAX_MIN_MATCHES: u32 = 10_000;

/// The event keys of an `[[alert]]` table (flattened into it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EventMatchConfig {
    /// Seconds without a matching event after which the alert resolves
    /// (default 300).
    pub clear_after_s: Option<u64>,
    /// Fires only once this many matching events arrived within
    /// `within_s` (default 1: the first match fires).
    pub min_matches: Option<u32>,
    /// The window `min_matches` are counted in, seconds.
    pub within_s: Option<u64>,
    /// `trap`: snmpTrapOID.0 is this OID or below it (numeric, or a MIB
    /// name such as `linkDown` or `IF-MIB::linkDown`).
    pub trap_oid: Option<String>,
    /// `trap`: every condition must hold for some varbind of the trap.
    pub varbinds: Vec<VarbindCondition>,
    /// `trap`: a trap with this OID from the same device (and interface)
    /// resolves the alert at once (`linkUp` for a `linkDown` rule).
    pub resolve_trap_oid: Option<String>,
    /// `syslog`: this severity or a more severe one (`err` takes emerg,
    /// alert, crit and err).
    pub min_severity: Option<SyslogSeverity>,
    /// `syslog`: only this facility.
    pub facility: Option<Facility>,
    /// `syslog`: a glob on the APP-NAME (or RFC 3164 tag).
    pub app: Option<String>,
    /// `syslog`: a regular expression (Rust `regex` syntax, no
    /// backtracking) searched in the message.
    pub pattern: Option<String>,
}

/// One varbind condition of a trap rule: a varbind at `oid` or below it
/// whose value (without its `TYPE: ` and quotes) `equals` or `contains`
/// the text (ASCII case ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarbindCondition {
    pub oid: String,
    pub equals: Option<String>,
    pub contains: Option<String>,
}

impl EventMatchConfig {
    /// Whether any key of either event kind is set.
    fn any(&self) -> bool {
        self.clear_after_s.is_some()
            || self.min_matches.is_some()
            || self.within_s.is_some()
            || self.any_trap()
            || self.any_syslog()
    }

    fn any_trap(&self) -> bool {
        self.trap_oid.is_some() || !self.varbinds.is_empty() || self.resolve_trap_oid.is_some()
    }

    fn any_syslog(&self) -> bool {
        self.min_severity.is_some()
            || self.facility.is_some()
            || self.app.is_some()
            || self.pattern.is_some()
    }

    pub fn clear_after_s(&self) -> u64 {
        self.clear_after_s.unwrap_or(DEFAULT_CLEAR_AFTER_S)
    }

    /// How many matches within `within_s` fire the alert (at least 1).
    pub fn min_matches(&self) -> u32 {
        self.min_matches.unwrap_or(1).max(1)
    }
}

/// Compiles a message pattern with the size limits; the error says why
/// it is refused.
pub fn compile_pattern(text: &str) -> Result<regex::Regex, String> {
    if text.len() > MAX_PATTERN_BYTES {
        return Err(format!(
            "is {} bytes; a pattern may have at most {MAX_PATTERN_BYTES}",
            text.len()
        ));
    }
    regex::RegexBuilder::new(text)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .nest_limit(64)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "is refused: compiled it would exceed {limit} bytes (simplify it: fewer or smaller repetitions, `[a-z]` rather than `\\w`)"
            ),
            other => format!("is not a valid regular expression: {other}"),
        })
}

/// The MIBs rule names resolve against — the bundled ones and the users'
/// directories (`[snmp] mib_dirs`) that load — compiled on first use
/// only: rules with numeric OIDs never pay for it.
#[derive(Debug, Default)]
pub struct RuleMibs {
    dirs: Vec<std::path::PathBuf>,
    mibs: Option<Mibs>,
}

impl RuleMibs {
    pub fn new(config: &Config) -> RuleMibs {
        RuleMibs {
            dirs: config.snmp.mib_dirs.clone(),
            mibs: None,
        }
    }

    fn get(&mut self) -> &Mibs {
        self.mibs.get_or_insert_with(|| {
            let mut mibs = Mibs::bundled();
            for dir in &self.dirs {
                let _ = mibs.load_dir(dir);
            }
            mibs
        })
    }
}

/// An OID as rules write it: numeric (a leading dot allowed) or a MIB name
/// (`linkDown`, `IF-MIB::ifOperStatus`), resolved by `mibs` only when not
/// numeric.
pub fn resolve_oid(text: &str, mibs: &mut RuleMibs) -> Result<Vec<u32>, String> {
    let t = text.trim().trim_start_matches('.');
    let numeric = !t.is_empty() && t.split('.').all(|a| a.parse::<u32>().is_ok());
    let arcs: Vec<u32> = if numeric {
        t.split('.').filter_map(|a| a.parse().ok()).collect()
    } else {
        mibs.get()
            .resolve(text.trim())
            .map_err(|e| format!("`{text}` is no OID the MIBs know: {e}"))?
    };
    if arcs.len() < 2 {
        return Err(format!("`{text}`: an OID needs at least two arcs"));
    }
    Ok(arcs)
}

impl Config {
    /// Checks the event keys of rule `r` at `at`.
    pub(super) fn check_event_rule(
        &self,
        v: &mut Problems,
        at: &str,
        r: &AlertRule,
        mibs: &mut RuleMibs,
    ) {
        let e = &r.events;
        let kind = r.kind.as_str();
        if !r.kind.is_event() {
            if e.any() {
                for key in set_keys(e) {
                    v.push(
                        &format!("{at}.{key}"),
                        &format!("applies to kind \"trap\" or \"syslog\" only, not `{kind}`"),
                    );
                }
            }
            return;
        }
        if r.for_s != 0 {
            v.push(
                &format!("{at}.for_s"),
                &format!("kind `{kind}` fires on the first matching event; it takes no `for_s`"),
            );
        }
        if let Some(c) = e.clear_after_s
            && (c == 0 || c > MAX_CLEAR_AFTER_S)
        {
            v.push(
                &format!("{at}.clear_after_s"),
                &format!("must be between 1 and {MAX_CLEAR_AFTER_S}"),
            );
        }
        match (e.min_matches, e.within_s) {
            (Some(n), _) if n == 0 || n > MAX_MIN_MATCHES => v.push(
                &format!("{at}.min_matches"),
                &format!("must be between 1 and {MAX_MIN_MATCHES}"),
            ),
            (Some(n), None) if n > 1 => v.push_dep(
                at,
                "`min_matches` above 1 needs `within_s`, the window they are counted in",
                &[format!("{at}.within_s")],
            ),
            (None | Some(1), Some(_)) => v.push(
                &format!("{at}.within_s"),
                "counts `min_matches` (above 1); without it the first match fires",
            ),
            (_, Some(w)) if w == 0 || w > MAX_CLEAR_AFTER_S => v.push(
                &format!("{at}.within_s"),
                &format!("must be between 1 and {MAX_CLEAR_AFTER_S}"),
            ),
            _ => {}
        }
        let (wrong, wrong_kind) = if r.kind == RuleKind::Trap {
            (syslog_keys(e), "syslog")
        } else {
            (trap_keys(e), "trap")
        };
        for key in wrong {
            v.push(
                &format!("{at}.{key}"),
                &format!("applies to kind \"{wrong_kind}\" only"),
            );
        }
        if r.kind == RuleKind::Trap {
            match &e.trap_oid {
                None => v.push_dep(
                    at,
                    "kind `trap` needs `trap_oid`",
                    &[format!("{at}.trap_oid")],
                ),
                Some(t) => {
                    if let Err(m) = resolve_oid(t, mibs) {
                        v.push(&format!("{at}.trap_oid"), &m);
                    }
                }
            }
            if let Some(t) = &e.resolve_trap_oid
                && let Err(m) = resolve_oid(t, mibs)
            {
                v.push(&format!("{at}.resolve_trap_oid"), &m);
            }
            if e.varbinds.len() > MAX_VARBIND_CONDITIONS {
                v.push(
                    &format!("{at}.varbinds"),
                    &format!("at most {MAX_VARBIND_CONDITIONS} conditions"),
                );
            }
            for (j, c) in e.varbinds.iter().enumerate() {
                let here = format!("{at}.varbinds[{j}]");
                if let Err(m) = resolve_oid(&c.oid, mibs) {
                    v.push(&here, &m);
                }
                if c.equals.is_some() == c.contains.is_some() {
                    v.push(&here, "needs exactly one of `equals` and `contains`");
                }
            }
        } else {
            if !e.any_syslog() {
                v.push_dep(
                    at,
                    "kind `syslog` needs at least one of `min_severity`, `facility`, `app`, `pattern` (or it matches every message)",
                    &[format!("{at}.min_severity"), format!("{at}.pattern")],
                );
            }
            if e.app.as_deref() == Some("") {
                v.push(&format!("{at}.app"), "an empty pattern matches nothing");
            }
            if let Some(p) = &e.pattern
                && let Err(m) = compile_pattern(p)
            {
                v.push(&format!("{at}.pattern"), &m);
            }
        }
    }
}

fn trap_keys(e: &EventMatchConfig) -> Vec<&'static str> {
    [
        ("trap_oid", e.trap_oid.is_some()),
        ("varbinds", !e.varbinds.is_empty()),
        ("resolve_trap_oid", e.resolve_trap_oid.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect()
}

fn syslog_keys(e: &EventMatchConfig) -> Vec<&'static str> {
    [
        ("min_severity", e.min_severity.is_some()),
        ("facility", e.facility.is_some()),
        ("app", e.app.is_some()),
        ("pattern", e.pattern.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect()
}

fn set_keys(e: &EventMatchConfig) -> Vec<&'static str> {
    let mut keys = trap_keys(e);
    keys.extend(syslog_keys(e));
    for (key, set) in [
        ("clear_after_s", e.clear_after_s.is_some()),
        ("min_matches", e.min_matches.is_some()),
        ("within_s", e.within_s.is_some()),
    ] {
        if set {
            keys.push(key);
        }
    }
    keys
}

#[cfg(test)]
#[path = "event_rules_tests.rs"]
mod tests;
