//! What a `trap` or `syslog` rule matches: compiled from its config once
//! (OIDs resolved, the bounded pattern built), then one pure test per
//! received event — does it fire the rule, resolve it, or neither — and
//! the event's text an alert carries. No clock, no I/O: values in, a
//! verdict out.
use crate::config::event_rules::{RuleMibs, compile_pattern, resolve_oid};
use crate::config::intervals::glob_match;
use crate::config::{AlertRule, RuleKind};
use crate::store::{EventRow, EventVarbind};
use crate::types::syslog::{Facility, SyslogSeverity};

/// Characters of an event's text an alert keeps.
pub const MAX_TEXT_CHARS: usize = 400;

/// A compiled event rule.
#[derive(Debug, Clone)]
pub enum EventMatcher {
    Trap(TrapMatch),
    Syslog(SyslogMatch),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrapMatch {
    /// snmpTrapOID.0 is this or below it.
    pub oid: Vec<u32>,
    pub varbinds: Vec<VarbindTest>,
    /// A trap with this OID (or below) resolves the alert.
    pub resolve_oid: Option<Vec<u32>>,
}

/// A varbind at `oid` or below whose value passes `test`.
#[derive(Debug, Clone, PartialEq)]
pub struct VarbindTest {
    pub oid: Vec<u32>,
    pub test: ValueTest,
}

/// Compared with the value without its `TYPE: ` and quotes, ASCII case
/// ignored; `Equals` also takes the whole text (`INTEGER: 2`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTest {
    Equals(String),
    Contains(String),
}

#[derive(Debug, Clone)]
pub struct SyslogMatch {
    /// This severity or a more severe one.
    pub min_severity: Option<SyslogSeverity>,
    pub facility: Option<Facility>,
    /// A glob on the app name.
    pub app: Option<String>,
    pub pattern: Option<regex::Regex>,
}

impl PartialEq for SyslogMatch {
    fn eq(&self, o: &Self) -> bool {
        self.min_severity == o.min_severity
            && self.facility == o.facility
            && self.app == o.app
            && self.pattern.as_ref().map(regex::Regex::as_str)
                == o.pattern.as_ref().map(regex::Regex::as_str)
    }
}

impl PartialEq for EventMatcher {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (EventMatcher::Trap(a), EventMatcher::Trap(b)) => a == b,
            (EventMatcher::Syslog(a), EventMatcher::Syslog(b)) => a == b,
            _ => false,
        }
    }
}

/// What one event does to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It matches: the alert fires (or counts one more match).
    Fires,
    /// It is the rule's resolving trap.
    Resolves,
    /// Nothing.
    Ignored,
}

impl EventMatcher {
    /// The matcher of an event rule (`None` for other kinds); the error
    /// names the key `check-config` would have refused.
    pub fn compile(r: &AlertRule, mibs: &mut RuleMibs) -> Result<Option<EventMatcher>, String> {
        let e = &r.events;
        match r.kind {
            RuleKind::Trap => {
                let text = e.trap_oid.as_deref().ok_or("trap_oid is missing")?;
                let oid = resolve_oid(text, mibs).map_err(|m| format!("trap_oid {m}"))?;
                let resolves = match &e.resolve_trap_oid {
                    Some(t) => {
                        Some(resolve_oid(t, mibs).map_err(|m| format!("resolve_trap_oid {m}"))?)
                    }
                    None => None,
                };
                let mut varbinds = Vec::new();
                for c in &e.varbinds {
                    let oid = resolve_oid(&c.oid, mibs).map_err(|m| format!("varbinds {m}"))?;
                    let test = match (&c.equals, &c.contains) {
                        (Some(v), None) => ValueTest::Equals(v.clone()),
                        (None, Some(v)) => ValueTest::Contains(v.clone()),
                        _ => return Err("a varbind needs one of equals, contains".into()),
                    };
                    varbinds.push(VarbindTest { oid, test });
                }
                Ok(Some(EventMatcher::Trap(TrapMatch {
                    oid,
                    varbinds,
                    resolve_oid: resolves,
                })))
            }
            RuleKind::Syslog => {
                let pattern = match &e.pattern {
                    Some(p) => Some(compile_pattern(p).map_err(|m| format!("pattern {m}"))?),
                    None => None,
                };
                Ok(Some(EventMatcher::Syslog(SyslogMatch {
                    min_severity: e.min_severity,
                    facility: e.facility,
                    app: e.app.clone(),
                    pattern,
                })))
            }
            _ => Ok(None),
        }
    }

    /// What `e` does to the rule.
    pub fn verdict(&self, e: &EventRow) -> Verdict {
        match self {
            EventMatcher::Trap(t) => t.verdict(e),
            EventMatcher::Syslog(s) => {
                if s.matches(e) {
                    Verdict::Fires
                } else {
                    Verdict::Ignored
                }
            }
        }
    }

    /// Whether the alert's subject is the interface the event names
    /// (trap rules: linkDown on eth1 and on eth2 are two alerts).
    pub fn per_interface(&self) -> bool {
        matches!(self, EventMatcher::Trap(_))
    }
}

/// `oid` (dotted numeric text) is `prefix` or below it.
fn under(oid: &str, prefix: &[u32]) -> bool {
    let mut arcs = oid.trim_start_matches('.').split('.');
    prefix
        .iter()
        .all(|p| arcs.next().and_then(|a| a.parse::<u32>().ok()) == Some(*p))
}

impl TrapMatch {
    pub fn verdict(&self, e: &EventRow) -> Verdict {
        if e.syslog.is_some() || (e.kind != "trap" && e.kind != "inform") {
            return Verdict::Ignored;
        }
        if under(&e.trap_oid, &self.oid) && self.varbinds.iter().all(|t| t.holds(&e.varbinds)) {
            return Verdict::Fires;
        }
        match &self.resolve_oid {
            Some(r) if under(&e.trap_oid, r) => Verdict::Resolves,
            _ => Verdict::Ignored,
        }
    }
}

impl VarbindTest {
    fn holds(&self, varbinds: &[EventVarbind]) -> bool {
        varbinds
            .iter()
            .filter(|vb| under(&vb.oid, &self.oid))
            .any(|vb| {
                let bare = bare_value(&vb.value);
                match &self.test {
                    ValueTest::Equals(want) => {
                        bare.eq_ignore_ascii_case(want) || vb.value.eq_ignore_ascii_case(want)
                    }
                    ValueTest::Contains(part) => bare
                        .to_ascii_lowercase()
                        .contains(&part.to_ascii_lowercase()),
                }
            })
    }
}

/// A value's text without net-snmp's `TYPE: ` and the quotes of a string.
fn bare_value(text: &str) -> &str {
    let v = match text.split_once(": ") {
        Some((ty, rest)) if !ty.is_empty() && ty.chars().all(|c| c.is_ascii_alphanumeric()) => rest,
        _ => text,
    };
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

impl SyslogMatch {
    pub fn matches(&self, e: &EventRow) -> bool {
        let Some(s) = &e.syslog else {
            return false;
        };
        self.min_severity.is_none_or(|min| s.severity <= min)
            && self.facility.is_none_or(|f| s.facility == f)
            && self
                .app
                .as_deref()
                .is_none_or(|g| s.app.as_deref().is_some_and(|a| glob_match(g, a)))
            && self.pattern.as_ref().is_none_or(|p| p.is_match(&s.message))
    }
}

/// The event as one line of text for the alert's summary: a trap's name
/// and varbinds, a syslog message with its severity and app. Device text:
/// control characters become spaces and it is cut at [`MAX_TEXT_CHARS`];
/// it reaches receivers and pages only as a JSON string.
pub fn event_text(e: &EventRow) -> String {
    let raw = match &e.syslog {
        Some(s) => match &s.app {
            Some(app) => format!("{} {app}: {}", s.severity.as_str(), s.message),
            None => format!("{}: {}", s.severity.as_str(), s.message),
        },
        None => {
            let vbs: Vec<String> = e
                .varbinds
                .iter()
                .map(|v| format!("{} = {}", v.name, v.value))
                .collect();
            if vbs.is_empty() {
                e.name.clone()
            } else {
                format!("{} ({})", e.name, vbs.join("; "))
            }
        }
    };
    let mut out: String = raw
        .chars()
        .take(MAX_TEXT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if raw.chars().nth(MAX_TEXT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[path = "event_rule_tests.rs"]
mod tests;
