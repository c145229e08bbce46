//! The first pass over a configuration file: walks the spanned TOML document
//! key by key, checks every value's type on its own (so one mistake never
//! hides the next), rejects unknown keys, and records where each value sits
//! so later checks can point at a line. Must not print values: a value may
//! be a secret.
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};

/// Byte ranges of every key path seen (`credentials[1].name`,
/// `discovery.seeds[0]`, `credentials[1]` for a whole entry).
pub type SpanMap = HashMap<String, Range<usize>>;

/// A problem found by the walk, at a byte range.
pub type RawError = (Range<usize>, String);

type Check = for<'i> fn(Spanned<DeValue<'i>>) -> Result<(), toml::de::Error>;

fn ty<'i, T: DeserializeOwned>(v: Spanned<DeValue<'i>>) -> Result<(), toml::de::Error> {
    T::deserialize(ValueDeserializer::from(v)).map(|_| ())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Required,
    Secret,
    /// An array whose elements get their own spans.
    List,
}

struct Field {
    key: &'static str,
    check: Check,
    kind: Kind,
}

const fn f(key: &'static str, check: Check, kind: Kind) -> Field {
    Field { key, check, kind }
}

use super::event_rules::VarbindCondition;
use super::model::{AuthProtocol, Prefix, PrivProtocol, SecurityLevel, SnmpVersion};
use super::model_alerts::{Direction, ReceiverFormat, RuleKind, Severity, Timestamp, WeeklySlot};
use crate::types::syslog::{Facility, SyslogSeverity};
use Kind::{List, Plain, Required, Secret};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

const SNMP: &[Field] = &[
    f("timeout_ms", ty::<u64>, Plain),
    f("retries", ty::<u32>, Plain),
    f("max_repetitions", ty::<u32>, Plain),
    f("per_agent_in_flight", ty::<u32>, Plain),
    f("global_in_flight", ty::<u32>, Plain),
    f("port", ty::<u16>, Plain),
    f("mib_dirs", ty::<PathBuf>, List),
];
const CREDENTIAL: &[Field] = &[
    f("name", ty::<String>, Required),
    f("version", ty::<SnmpVersion>, Required),
    f("community", ty::<String>, Secret),
    f("user", ty::<String>, Plain),
    f("security_level", ty::<SecurityLevel>, Plain),
    f("auth_protocol", ty::<AuthProtocol>, Plain),
    f("auth_password", ty::<String>, Secret),
    f("priv_protocol", ty::<PrivProtocol>, Plain),
    f("priv_password", ty::<String>, Secret),
    f("context", ty::<String>, Plain),
];
const ICMP: &[Field] = &[
    f("count", ty::<u32>, Plain),
    f("interval_ms", ty::<u64>, Plain),
    f("timeout_ms", ty::<u64>, Plain),
    f("rate_pps", ty::<u32>, Plain),
];
const DISCOVERY: &[Field] = &[
    f("seeds", ty::<IpAddr>, List),
    f("prefixes", ty::<Prefix>, List),
    f("depth", ty::<u32>, Plain),
];
const POLL: &[Field] = &[
    f("icmp_interval_s", ty::<u64>, Plain),
    f("snmp_interval_s", ty::<u64>, Plain),
    f("vitals_interval_s", ty::<u64>, Plain),
    f("path_interval_s", ty::<u64>, Plain),
    f("counter_refresh", ty::<bool>, Plain),
];
const GROUP: &[Field] = &[
    f("name", ty::<String>, Required),
    f("pattern", ty::<String>, Plain),
    f("prefix", ty::<Prefix>, Plain),
    f("icmp_interval_s", ty::<u64>, Plain),
    f("snmp_interval_s", ty::<u64>, Plain),
    f("credentials", ty::<String>, List),
    f("tags", ty::<String>, List),
];
const DEVICE: &[Field] = &[
    f("name", ty::<String>, Required),
    f("address", ty::<IpAddr>, Required),
    f("group", ty::<String>, Plain),
    f("icmp_interval_s", ty::<u64>, Plain),
    f("snmp_interval_s", ty::<u64>, Plain),
    f("credentials", ty::<String>, List),
    f("tags", ty::<String>, List),
];
const SERVER: &[Field] = &[
    f("listen", ty::<SocketAddr>, Plain),
    f("db", ty::<PathBuf>, Plain),
    f("token", ty::<String>, Secret),
    f("read_only_token", ty::<String>, Secret),
    f("rate_limit_per_s", ty::<f64>, Plain),
    f("rate_limit_burst", ty::<f64>, Plain),
    f("max_streams_per_client", ty::<usize>, Plain),
    f("api_nice", ty::<u8>, Plain),
    f("tls_cert", ty::<PathBuf>, Plain),
    f("tls_key", ty::<PathBuf>, Plain),
    f("hsts_max_age_s", ty::<u64>, Plain),
    f("allowed_hosts", ty::<String>, List),
    f("max_connections_per_client", ty::<usize>, Plain),
    f("max_connections", ty::<usize>, Plain),
];
const STORE: &[Field] = &[
    f("durability", ty::<super::model::StoreDurability>, Plain),
    f("raw_retention_days", ty::<u32>, Plain),
    f("five_min_retention_days", ty::<u32>, Plain),
    f("hour_retention_days", ty::<u32>, Plain),
];
const INVENTORY: &[Field] = &[
    f("file", ty::<PathBuf>, Plain),
    f("discover", ty::<bool>, Plain),
];
const REMOTE_WRITE: &[Field] = &[
    f("url", ty::<String>, Required),
    f("interval_s", ty::<u64>, Plain),
    f("timeout_ms", ty::<u64>, Plain),
    f("queue_len", ty::<u32>, Plain),
    f("bearer_token", ty::<String>, Secret),
    f("basic_auth_user", ty::<String>, Plain),
    f("basic_auth_password", ty::<String>, Secret),
    f("labels", ty::<BTreeMap<String, String>>, Plain),
    f("ca_file", ty::<PathBuf>, Plain),
    f("client_cert", ty::<PathBuf>, Plain),
    f("client_key", ty::<PathBuf>, Plain),
];

const NATS: &[Field] = &[
    f("url", ty::<String>, Required),
    f("site", ty::<String>, Required),
    f("role", ty::<super::model_nats::NatsRole>, Required),
    f("user", ty::<String>, Plain),
    f("password", ty::<String>, Secret),
    f("nkey_seed", ty::<String>, Secret),
    f("ca_file", ty::<PathBuf>, Plain),
    f("client_cert", ty::<PathBuf>, Plain),
    f("client_key", ty::<PathBuf>, Plain),
    f("backfill_per_s", ty::<u32>, Plain),
    f("heartbeat_s", ty::<u64>, Plain),
    f("sites", ty::<String>, List),
    f("group", ty::<bool>, Plain),
    f("poller_id", ty::<String>, Plain),
    f("lease_s", ty::<u64>, Plain),
    f("central_id", ty::<String>, Plain),
];

const TRAPS: &[Field] = &[
    f("listen", ty::<SocketAddr>, Required),
    f("rate_per_s", ty::<f64>, Plain),
    f("burst", ty::<f64>, Plain),
    f("v3_users", ty::<String>, List),
    f("engine_id", ty::<String>, Plain),
];

const SYSLOG: &[Field] = &[
    f("listen_udp", ty::<SocketAddr>, Plain),
    f("listen_tcp", ty::<SocketAddr>, Plain),
    f("listen_tls", ty::<SocketAddr>, Plain),
    f("cert", ty::<PathBuf>, Plain),
    f("key", ty::<PathBuf>, Plain),
];

/// `(key, fields, is array of tables)` for each top-level section.
const SECTIONS: &[(&str, &[Field], bool)] = &[
    ("snmp", SNMP, false),
    ("credentials", CREDENTIAL, true),
    ("icmp", ICMP, false),
    ("discovery", DISCOVERY, false),
    ("poll", POLL, false),
    ("groups", GROUP, true),
    ("devices", DEVICE, true),
    ("server", SERVER, false),
    ("store", STORE, false),
    ("inventory", INVENTORY, false),
    ("remote_write", REMOTE_WRITE, false),
    ("traps", TRAPS, false),
    ("nats", NATS, false),
    ("syslog", SYSLOG, false),
    ("alert", ALERT, true),
    ("maintenance", MAINTENANCE, true),
    ("receiver", RECEIVER, true),
];
const ALERT: &[Field] = &[
    f("name", ty::<String>, Required),
    f("kind", ty::<RuleKind>, Required),
    f("direction", ty::<Direction>, Plain),
    f("threshold", ty::<f64>, Plain),
    f("clear", ty::<f64>, Plain),
    f("for_s", ty::<u64>, Plain),
    f("severity", ty::<Severity>, Plain),
    f("window_s", ty::<u64>, Plain),
    f("devices", ty::<String>, List),
    f("interfaces", ty::<String>, List),
    f("tags", ty::<String>, List),
    f("prefixes", ty::<Prefix>, List),
    f("receivers", ty::<String>, List),
    f("flap_changes", ty::<u32>, Plain),
    f("flap_window_s", ty::<u64>, Plain),
    f("clear_after_s", ty::<u64>, Plain),
    f("min_matches", ty::<u32>, Plain),
    f("within_s", ty::<u64>, Plain),
    f("trap_oid", ty::<String>, Plain),
    f("varbinds", ty::<VarbindCondition>, List),
    f("resolve_trap_oid", ty::<String>, Plain),
    f("min_severity", ty::<SyslogSeverity>, Plain),
    f("facility", ty::<Facility>, Plain),
    f("app", ty::<String>, Plain),
    f("pattern", ty::<String>, Plain),
];
const MAINTENANCE: &[Field] = &[
    f("name", ty::<String>, Required),
    f("start", ty::<Timestamp>, Plain),
    f("end", ty::<Timestamp>, Plain),
    f("weekly", ty::<WeeklySlot>, List),
    f("devices", ty::<String>, List),
    f("interfaces", ty::<String>, List),
    f("tags", ty::<String>, List),
    f("prefixes", ty::<Prefix>, List),
];
const RECEIVER: &[Field] = &[
    f("name", ty::<String>, Required),
    f("url", ty::<String>, Required),
    f("format", ty::<ReceiverFormat>, Plain),
    f("bearer_token", ty::<String>, Secret),
    f("headers", ty::<BTreeMap<String, String>>, Secret),
    f("timeout_ms", ty::<u64>, Plain),
    f("resend_s", ty::<u64>, Plain),
    f("map_url", ty::<String>, Plain),
    f("ca_file", ty::<PathBuf>, Plain),
    f("client_cert", ty::<PathBuf>, Plain),
    f("client_key", ty::<PathBuf>, Plain),
];

/// What the walk found: every problem, where each value sits, and the
/// document with the bad parts removed so later passes can still run.
pub struct Walked<'i> {
    pub errors: Vec<RawError>,
    pub spans: SpanMap,
    /// The document without unknown keys, badly typed values and
    /// `[[...]]` entries that lack a required key.
    pub pruned: Spanned<DeTable<'i>>,
    /// For each `[[...]]` section: the original index of each kept entry.
    pub kept: HashMap<&'static str, Vec<usize>>,
    /// Paths removed from `pruned` (`snmp.timeout_ms`, `credentials[1]`),
    /// plus `credentials[]` etc. when any entry of a section was dropped.
    pub removed: std::collections::HashSet<String>,
}

/// Walks the whole document.
pub fn walk<'i>(doc: &Spanned<DeTable<'i>>) -> Walked<'i> {
    let mut w = Walker::default();
    let mut pruned = DeTable::new();
    let mut kept = HashMap::new();
    for (key, value) in doc.get_ref().iter() {
        let name = key.get_ref().as_ref();
        let Some((section, fields, array)) = SECTIONS.iter().find(|s| s.0 == name) else {
            w.unknown(key.span(), name, "", &section_names());
            continue;
        };
        w.spans.insert(name.to_string(), value.span());
        if *array {
            let Some(items) = value.get_ref().as_array() else {
                w.err(
                    value.span(),
                    format!("`{name}` must be written as [[{name}]] tables"),
                );
                continue;
            };
            let mut good = DeArray::new();
            let mut idx = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("{name}[{i}]");
                w.spans.insert(path.clone(), item.span());
                match item.get_ref().as_table() {
                    Some(t) => {
                        if let Some(t) = w.table(&path, item.span(), t, fields) {
                            good.push(Spanned::new(item.span(), DeValue::Table(t)));
                            idx.push(i);
                        } else {
                            w.removed.insert(path.clone());
                            w.removed.insert(format!("{name}[]"));
                        }
                    }
                    None => w.err(item.span(), format!("{path} must be a table")),
                }
            }
            kept.insert(*section, idx);
            pruned.insert(
                key.clone(),
                Spanned::new(value.span(), DeValue::Array(good)),
            );
        } else {
            match value.get_ref().as_table() {
                Some(t) => {
                    if let Some(t) = w.table(name, value.span(), t, fields) {
                        pruned.insert(key.clone(), Spanned::new(value.span(), DeValue::Table(t)));
                    }
                }
                None => w.err(value.span(), format!("`{name}` must be a [{name}] table")),
            }
        }
    }
    Walked {
        errors: w.errors,
        spans: w.spans,
        pruned: Spanned::new(doc.span(), pruned),
        kept,
        removed: w.removed,
    }
}

fn section_names() -> Vec<&'static str> {
    SECTIONS.iter().map(|s| s.0).collect()
}

#[derive(Default)]
struct Walker {
    errors: Vec<RawError>,
    spans: SpanMap,
    removed: std::collections::HashSet<String>,
}

impl Walker {
    fn err(&mut self, span: Range<usize>, msg: String) {
        self.errors.push((span, msg));
    }

    fn unknown(&mut self, span: Range<usize>, key: &str, at: &str, known: &[&str]) {
        let place = if at.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in {at}")
        };
        self.err(
            span,
            format!(
                "unknown key `{key}` {place}; expected one of: {}",
                known.join(", ")
            ),
        );
    }

    /// Checks one table; returns it without its bad keys, or `None` when a
    /// required key is missing or bad.
    fn table<'i>(
        &mut self,
        path: &str,
        span: Range<usize>,
        t: &DeTable<'i>,
        fields: &[Field],
    ) -> Option<DeTable<'i>> {
        let mut good = DeTable::new();
        let mut complete = true;
        for (key, value) in t.iter() {
            let name = key.get_ref().as_ref();
            let Some(field) = fields.iter().find(|f| f.key == name) else {
                let known: Vec<&str> = fields.iter().map(|f| f.key).collect();
                self.unknown(key.span(), name, path, &known);
                continue;
            };
            let fpath = format!("{path}.{name}");
            self.spans.insert(fpath.clone(), value.span());
            let ok = if field.kind == List {
                self.list(&fpath, value, field.check)
            } else if let Err(e) = (field.check)(value.clone()) {
                let msg = if field.kind == Secret {
                    format!("{fpath}: must be a string (a literal, env:VAR or file:/path)")
                } else {
                    format!("{fpath}: {}", e.message())
                };
                self.err(e.span().unwrap_or(value.span()), msg);
                false
            } else {
                true
            };
            if ok {
                good.insert(key.clone(), value.clone());
            } else {
                self.removed.insert(fpath);
                complete &= field.kind != Required;
            }
        }
        for field in fields.iter().filter(|f| f.kind == Required) {
            if !t.iter().any(|(k, _)| k.get_ref().as_ref() == field.key) {
                self.err(
                    span.clone(),
                    format!("{path}: missing required key `{}`", field.key),
                );
                complete = false;
            }
        }
        complete.then_some(good)
    }

    /// Checks each element of an array; true when all are good.
    fn list(&mut self, path: &str, value: &Spanned<DeValue<'_>>, check: Check) -> bool {
        let Some(items) = value.get_ref().as_array() else {
            self.err(value.span(), format!("{path}: must be an array [...]"));
            return false;
        };
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            self.spans.insert(ipath.clone(), item.span());
            if let Err(e) = check(item.clone()) {
                self.err(
                    e.span().unwrap_or(item.span()),
                    format!("{ipath}: {}", e.message()),
                );
                ok = false;
            }
        }
        ok
    }
}

/// 1-based `(line, column)` of a byte offset; columns count characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn line_and_column_are_one_based() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 4));
        assert_eq!(line_col(t, 999), (3, 1));
    }
}
