//! The event keys of `[[alert]]`: a full trap and syslog rule load, and
//! every mistake is named on its line.
use crate::config::{Config, RuleKind};
use crate::types::syslog::SyslogSeverity;

#[test]
fn trap_and_syslog_rules_load() {
    let c = Config::from_toml(
        r#"
[[alert]]
name = "link-down"
kind = "trap"
trap_oid = "linkDown"
resolve_trap_oid = "IF-MIB::linkUp"
varbinds = [{ oid = "ifOperStatus", equals = "2" }]
clear_after_s = 600
severity = "critical"
devices = ["r*"]
[[alert]]
name = "auth"
kind = "syslog"
min_severity = "err"
facility = "auth"
app = "ssh*"
pattern = 'Failed password'
"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let (t, s) = (&c.alerts[0], &c.alerts[1]);
    assert_eq!(t.kind, RuleKind::Trap);
    assert_eq!(t.events.trap_oid.as_deref(), Some("linkDown"));
    assert_eq!(t.events.varbinds[0].equals.as_deref(), Some("2"));
    assert_eq!(t.events.clear_after_s(), 600);
    assert_eq!(s.events.min_severity, Some(SyslogSeverity::Error));
    assert_eq!(s.events.facility.map(|f| f.as_str()), Some("auth"));
    assert_eq!(s.events.clear_after_s(), 300);
}

#[test]
fn every_event_rule_mistake_has_its_line() {
    let text = r#"[[alert]]
name = "t"
kind = "trap"
trap_oid = "noSuchTrapAnywhere"
resolve_trap_oid = "7"
varbinds = [{ oid = "ifOperStatus" }, { oid = "1.3.6", equals = "1", contains = "2" }]
pattern = "x"
for_s = 5
clear_after_s = 0
[[alert]]
name = "s"
kind = "syslog"
pattern = '(\w{100}){100}'
trap_oid = "linkDown"
[[alert]]
name = "s2"
kind = "syslog"
min_severity = "loud"
[[alert]]
name = "s3"
kind = "syslog"
[[alert]]
name = "u"
kind = "utilization"
threshold = 5.0
clear_after_s = 60
app = "x"
[[alert]]
name = "t2"
kind = "trap"
varbinds = [{ oid = "1.3", equal = "1" }]
"#;
    let errs = Config::from_toml(text).unwrap_err();
    let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
    let has = |line: usize, part: &str| {
        assert!(
            lines.iter().any(|(l, m)| *l == line && m.contains(part)),
            "no `{part}` at line {line}: {lines:#?}"
        )
    };
    has(4, "noSuchTrapAnywhere");
    has(5, "at least two arcs");
    has(6, "exactly one of `equals` and `contains`");
    has(7, "applies to kind \"syslog\" only");
    has(8, "takes no `for_s`");
    has(9, "between 1 and");
    has(13, "is refused");
    has(14, "applies to kind \"trap\" only");
    has(18, "unknown syslog severity");
    has(19, "needs at least one of");
    has(26, "applies to kind \"trap\" or \"syslog\" only");
    has(27, "applies to kind \"trap\" or \"syslog\" only");
    has(28, "needs `trap_oid`");
    has(31, "equal");
}

#[test]
fn min_matches_needs_a_window_and_both_are_bounded() {
    let problems = |body: &str| -> Vec<String> {
        let text = format!("[[alert]]\nname = \"x\"\nkind = \"syslog\"\npattern = \"a\"\n{body}");
        match Config::from_toml(&text) {
            Ok(_) => vec![],
            Err(e) => e.iter().map(|e| format!("{e:?}")).collect(),
        }
    };
    assert!(problems("min_matches = 5\nwithin_s = 60\n").is_empty());
    assert!(problems("min_matches = 1\n").is_empty());
    let p = problems("min_matches = 5\n");
    assert!(p.iter().any(|m| m.contains("within_s")), "{p:?}");
    let p = problems("within_s = 60\n");
    assert!(p.iter().any(|m| m.contains("min_matches")), "{p:?}");
    let p = problems("min_matches = 0\nwithin_s = 60\n");
    assert!(p.iter().any(|m| m.contains("between 1 and 10000")), "{p:?}");
    let p = problems("min_matches = 3\nwithin_s = 0\n");
    assert!(p.iter().any(|m| m.contains("between 1 and")), "{p:?}");
    let text = "[[alert]]\nname = \"x\"\nkind = \"cpu_load\"\nthreshold = 90.0\nmin_matches = 3\n";
    let e = format!("{:?}", Config::from_toml(text).unwrap_err());
    assert!(e.contains("min_matches"), "{e}");
}
