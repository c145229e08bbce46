//! Semantic checks of `[[alert]]`, `[[maintenance]]` and `[[receiver]]`:
//! thresholds where a kind needs one (and none where it cannot use one), a
//! clear threshold on the right side, p95 windows, globs, references to
//! receivers, windows that end after they start, and webhook URLs. Pure;
//! messages never include a secret.
use super::model::Config;
use super::model_alerts::ReceiverFormat;
use super::model_alerts::RuleKind;
use super::validate::Problems;
use crate::util::http::{Destination, DestinationError};
use crate::util::http_tls::TlsFiles;
use std::collections::HashSet;

/// The rule name of a central's site alert (`alert::external`), which no
/// configured rule may take.
const RESERVED_RULE: &str = "site_poller_unreachable";

/// Checks a receiver's URL and, for `https://`, that its TLS files load
/// (the CA file, the client certificate and key): each problem under the
/// key it belongs to, `at.url` or `at.ca_file`, `at.client_cert`,
/// `at.client_key`.
pub(super) fn check_destination(v: &mut Problems, at: &str, url: &str, files: &TlsFiles) {
    use crate::util::http_tls::TlsFileError as T;
    let e = match Destination::new(url, files) {
        Ok(_) => return,
        Err(e) => e,
    };
    let key = match &e {
        DestinationError::Url(_) => "url",
        DestinationError::TlsFilesWithoutHttps => "url",
        DestinationError::Tls(T::Ca { .. } | T::NoSystemBundle) => "ca_file",
        DestinationError::Tls(T::Key { .. }) => "client_key",
        DestinationError::Tls(_) => "client_cert",
    };
    let text = match &e {
        DestinationError::Url(u) => u.to_string(),
        other => other.to_string(),
    };
    v.push(&format!("{at}.{key}"), &text);
}

/// A p95 needs a few samples; a day of 1-minute polls is plenty.
const MAX_P95_WINDOW_S: u64 = 7 * 86_400;

impl Config {
    pub(super) fn check_alerts(&self, v: &mut Problems) {
        let mut receivers = HashSet::new();
        for (i, r) in self.receivers.iter().enumerate() {
            let at = format!("receiver[{i}]");
            v.unique_name(&at, "receiver", &r.name, &mut receivers);
            check_destination(v, &at, &r.url, &r.tls_files());
            v.nonzero(&format!("{at}.timeout_ms"), r.timeout_ms);
            let api = r.format == ReceiverFormat::AlertmanagerApi;
            for (key, present) in [
                ("resend_s", r.resend_s.is_some()),
                ("map_url", r.map_url.is_some()),
            ] {
                if present && !api {
                    v.push(
                        &format!("{at}.{key}"),
                        "applies to format = \"alertmanager_api\" only",
                    );
                }
            }
            if let Some(s) = r.resend_s {
                v.nonzero(&format!("{at}.resend_s"), s);
            }
            if let Some(m) = &r.map_url
                && !(m.starts_with("http://") || m.starts_with("https://"))
            {
                v.push(
                    &format!("{at}.map_url"),
                    "must be an http:// or https:// URL",
                );
            }
            for name in r.headers.keys() {
                let token = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b));
                if !token {
                    v.push(
                        &format!("{at}.headers"),
                        &format!("`{name}` is not a valid HTTP header name"),
                    );
                } else if name.eq_ignore_ascii_case("authorization") && r.bearer_token.is_some() {
                    v.push(
                        &format!("{at}.headers"),
                        "Authorization is set twice (bearer_token and headers)",
                    );
                }
            }
        }
        let mut rules = HashSet::new();
        let mut mibs = super::event_rules::RuleMibs::new(self);
        for (i, r) in self.alerts.iter().enumerate() {
            let at = format!("alert[{i}]");
            v.unique_name(&at, "alert rule", &r.name, &mut rules);
            if r.name == RESERVED_RULE {
                v.push(
                    &format!("{at}.name"),
                    &format!(
                        "`{RESERVED_RULE}` is the central's own site alert; choose another name"
                    ),
                );
            }
            self.check_event_rule(v, &at, r, &mut mibs);
            let kind = r.kind.as_str();
            if r.kind.has_threshold() {
                match r.threshold {
                    None => v.push_dep(
                        &at,
                        &format!("kind `{kind}` needs `threshold`"),
                        &[format!("{at}.threshold")],
                    ),
                    Some(t) if !t.is_finite() || t < 0.0 => v.push(
                        &format!("{at}.threshold"),
                        "must be a finite number, 0 or more",
                    ),
                    Some(t) => {
                        if let Some(c) = r.clear
                            && (!c.is_finite() || c > t || c < 0.0)
                        {
                            v.push(
                                &format!("{at}.clear"),
                                "must be between 0 and `threshold` (the alert resolves below it)",
                            );
                        }
                        let pct = matches!(
                            r.kind,
                            RuleKind::Utilization
                                | RuleKind::P95Utilization
                                | RuleKind::Loss
                                | RuleKind::CpuLoad
                                | RuleKind::MemoryUsed
                                | RuleKind::StorageUsed
                        );
                        if pct && t > 100.0 {
                            v.push(&format!("{at}.threshold"), "is a percentage: at most 100");
                        }
                    }
                }
            } else {
                for (key, present) in [
                    ("threshold", r.threshold.is_some()),
                    ("clear", r.clear.is_some()),
                ] {
                    if present {
                        v.push(
                            &format!("{at}.{key}"),
                            &format!("kind `{kind}` has no threshold"),
                        );
                    }
                }
            }
            if r.kind.is_p95() {
                match r.window_s {
                    None => v.push_dep(
                        &at,
                        &format!("kind `{kind}` needs `window_s`"),
                        &[format!("{at}.window_s")],
                    ),
                    Some(w) if w == 0 || w > MAX_P95_WINDOW_S => v.push(
                        &format!("{at}.window_s"),
                        &format!("must be between 1 and {MAX_P95_WINDOW_S}"),
                    ),
                    Some(_) => {}
                }
            } else if r.window_s.is_some() {
                v.push(
                    &format!("{at}.window_s"),
                    "only p95_utilization and p95_bps use a window",
                );
            }
            if !r.kind.has_direction() && r.direction != Default::default() {
                v.push(
                    &format!("{at}.direction"),
                    &format!("kind `{kind}` has no direction"),
                );
            }
            // A trap rule's alert is per interface when the trap names one.
            if !r.kind.per_interface() && r.kind != RuleKind::Trap && !r.scope.interfaces.is_empty()
            {
                v.push(
                    &format!("{at}.interfaces"),
                    &format!("kind `{kind}` is about devices, not interfaces"),
                );
            }
            if r.kind == RuleKind::PollerIsolated {
                for (key, present) in [
                    ("devices", !r.scope.devices.is_empty()),
                    ("tags", !r.scope.tags.is_empty()),
                    ("prefixes", !r.scope.prefixes.is_empty()),
                ] {
                    if present {
                        v.push(
                            &format!("{at}.{key}"),
                            "kind `poller_isolated` is about the poller itself: it takes no scope",
                        );
                    }
                }
            }
            v.nonzero(&format!("{at}.flap_changes"), r.flap_changes.into());
            v.nonzero(&format!("{at}.flap_window_s"), r.flap_window_s);
            for (j, name) in r.receivers.iter().enumerate() {
                if !receivers.contains(name.as_str()) {
                    v.push_dep(
                        &format!("{at}.receivers[{j}]"),
                        &format!("no receiver named `{name}`"),
                        &["receiver[]".to_string()],
                    );
                }
            }
            globs(v, &at, "devices", &r.scope.devices);
            globs(v, &at, "interfaces", &r.scope.interfaces);
        }
        for (i, m) in self.maintenance.iter().enumerate() {
            let at = format!("maintenance[{i}]");
            match (m.start, m.end, m.weekly.is_empty()) {
                (Some(s), Some(e), true) => {
                    if e <= s {
                        v.push(&format!("{at}.end"), "must be after `start`");
                    }
                }
                (None, None, false) => {}
                (None, None, true) => v.push_dep(
                    &at,
                    "a window needs `start` and `end`, or `weekly`",
                    &[
                        format!("{at}.start"),
                        format!("{at}.end"),
                        format!("{at}.weekly"),
                    ],
                ),
                (Some(_), Some(_), false) => v.push(
                    &format!("{at}.weekly"),
                    "use either `start`/`end` or `weekly`, not both",
                ),
                _ => v.push_dep(
                    &at,
                    "`start` and `end` go together",
                    &[format!("{at}.start"), format!("{at}.end")],
                ),
            }
            globs(v, &at, "devices", &m.scope.devices);
            globs(v, &at, "interfaces", &m.scope.interfaces);
        }
        for (kind, list) in [("groups", &self.groups)] {
            for (i, g) in list.iter().enumerate() {
                tags(v, &format!("{kind}[{i}]"), &g.tags);
            }
        }
        for (i, d) in self.devices.iter().enumerate() {
            tags(v, &format!("devices[{i}]"), &d.tags);
        }
    }
}

fn globs(v: &mut Problems, at: &str, key: &str, list: &[String]) {
    for (j, g) in list.iter().enumerate() {
        if g.is_empty() {
            v.push(
                &format!("{at}.{key}[{j}]"),
                "an empty pattern matches nothing",
            );
        }
    }
}

fn tags(v: &mut Problems, at: &str, list: &[String]) {
    for (j, t) in list.iter().enumerate() {
        if t.trim().is_empty() {
            v.push(&format!("{at}.tags[{j}]"), "must not be empty");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ReceiverFormat, RuleKind, Severity};

    #[test]
    fn a_full_alerting_section_loads() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("hook.token");
        std::fs::write(&token, "tok-123\n").unwrap();
        let c = Config::from_toml(
            &r#"
[[groups]]
name = "wan"
pattern = "edge-*"
tags = ["wan"]
[[devices]]
name = "e1"
address = "10.95.0.1"
tags = ["core"]
[[receiver]]
name = "ops"
url = "http://127.0.0.1:9095/hook"
format = "alertmanager"
bearer_token = "file:TOKEN_PATH"
headers = { "X-Team" = "noc" }
[[alert]]
name = "hot"
kind = "utilization"
direction = "out"
threshold = 80.0
clear = 70.0
for_s = 30
severity = "critical"
tags = ["wan"]
interfaces = ["eth*"]
prefixes = ["10.95.0.0/16"]
receivers = ["ops"]
[[alert]]
name = "p95"
kind = "p95_bps"
threshold = 1e9
window_s = 3600
[[maintenance]]
name = "sunday"
weekly = ["sun 02:00-04:00"]
devices = ["edge-*"]
[[maintenance]]
name = "once"
start = "2026-11-24T01:00:00Z"
end = "2026-11-24T03:00:00+01:00"
"#
            .replace("TOKEN_PATH", &token.display().to_string()),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.alerts.len(), 2);
        assert_eq!(c.alerts[0].kind, RuleKind::Utilization);
        assert_eq!(c.alerts[0].severity, Severity::Critical);
        assert_eq!(c.alerts[1].severity, Severity::Warning);
        assert_eq!(c.receivers[0].format, ReceiverFormat::Alertmanager);
        assert_eq!(
            c.receivers[0].bearer_token.as_ref().unwrap().expose(),
            "tok-123"
        );
        assert_eq!(c.maintenance.len(), 2);
        let addr = ["10.95.0.1".parse().unwrap()];
        assert_eq!(c.tags_for(Some("edge-7"), &addr), ["core", "wan"]);
        assert_eq!(c.tags_for(Some("x"), &[]), Vec::<String>::new());
    }

    #[test]
    fn every_mistake_has_its_line() {
        let text = r#"[[alert]]
name = "a"
kind = "utilisation"
[[alert]]
name = "b"
kind = "utilization"
clear = 90.0
threshold = 80.0
colour = "red"
[[alert]]
name = "c"
kind = "interface_down"
threshold = 3.0
receivers = ["nobody"]
[[alert]]
name = "d"
kind = "p95_bps"
threshold = 5.0
[[maintenance]]
name = "m"
start = "2026-11-24T05:00:00Z"
end = "2026-11-24T03:00:00Z"
[[maintenance]]
name = "w"
weekly = ["someday 02:00-03:00"]
[[receiver]]
name = "r"
url = "ftp://example.invalid/x"
bearer_token = 5
"#;
        let errs = Config::from_toml(text).unwrap_err();
        let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
        let has = |line: usize, part: &str| {
            assert!(
                lines.iter().any(|(l, m)| *l == line && m.contains(part)),
                "no `{part}` at line {line}: {lines:#?}"
            )
        };
        has(3, "unknown variant `utilisation`");
        has(7, "between 0 and `threshold`");
        has(9, "unknown key `colour`");
        has(13, "has no threshold");
        has(14, "no receiver named `nobody`");
        has(15, "needs `window_s`");
        has(22, "must be after `start`");
        has(25, "not a weekly window");
        has(28, "only http:// and https://");
        has(29, "must be a string");
        for e in &errs {
            assert!(e.column >= 1);
        }
    }

    /// The Alertmanager API receiver and the TLS keys: each mistake under
    /// its own key and line, a missing file named, no secret in a message.
    #[test]
    fn alertmanager_and_tls_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not-a-key-but-secret-looking\n").unwrap();
        let text = format!(
            r#"[[receiver]]
name = "am"
url = "https://127.0.0.1:9093"
format = "alertmanager_api"
resend_s = 0
map_url = "noc.example"
ca_file = "{missing}"
[[receiver]]
name = "hook"
url = "http://127.0.0.1:9000/hook"
resend_s = 30
ca_file = "{junk}"
[[receiver]]
name = "pair"
url = "https://127.0.0.1:9001/hook"
client_cert = "{junk}"
[remote_write]
url = "https://127.0.0.1:9090/api/v1/write"
ca_file = "{junk}"
"#,
            missing = dir.path().join("missing.pem").display(),
            junk = junk.display()
        );
        let errs = Config::from_toml(&text).unwrap_err();
        let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
        let has = |line: usize, part: &str| {
            assert!(
                lines.iter().any(|(l, m)| *l == line && m.contains(part)),
                "no `{part}` at line {line}: {lines:#?}"
            )
        };
        has(5, "greater than 0");
        has(6, "http:// or https://");
        has(7, "missing.pem");
        has(11, "alertmanager_api\" only");
        has(10, "apply to https:// URLs only");
        has(16, "client_cert and client_key go together");
        has(19, "junk.pem");
        for (_, m) in &lines {
            assert!(!m.contains("secret-looking"), "{m}");
        }
        let ok = Config::from_toml(
            "[[receiver]]\nname = \"am\"\nurl = \"http://127.0.0.1:9093\"\nformat = \"alertmanager_api\"\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.receivers[0].format, ReceiverFormat::AlertmanagerApi);
        assert_eq!(ok.receivers[0].resend_s(), 60);
    }

    #[test]
    fn poller_isolated_takes_neither_threshold_nor_scope() {
        let ok = Config::from_toml(
            "[[alert]]\nname = \"cut-off\"\nkind = \"poller_isolated\"\nfor_s = 10\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.alerts[0].kind, RuleKind::PollerIsolated);
        let text = r#"[[alert]]
name = "cut-off"
kind = "poller_isolated"
threshold = 1.0
devices = ["r1"]
interfaces = ["eth0"]
tags = ["core"]
prefixes = ["10.0.0.0/8"]
"#;
        let errs = Config::from_toml(text).unwrap_err();
        let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
        for (line, part) in [
            (4, "has no threshold"),
            (5, "takes no scope"),
            (6, "is about devices"),
            (7, "takes no scope"),
            (8, "takes no scope"),
        ] {
            assert!(
                lines.iter().any(|(l, m)| *l == line && m.contains(part)),
                "no `{part}` at line {line}: {lines:#?}"
            );
        }
    }

    /// A central's site alert has its own rule name; a configured rule
    /// may not take it (the alerting task would take its alerts for the
    /// site alert's).
    #[test]
    fn the_site_alerts_rule_name_is_reserved() {
        let text = "[[alert]]\nname = \"site_poller_unreachable\"\nkind = \"device_unreachable\"\n";
        let e = Config::from_toml(text).unwrap_err();
        assert!(
            e.iter().any(|e| e.message.contains("alert[0].name")
                && e.message.contains("the central's own site alert")),
            "{e:?}"
        );
    }
}
