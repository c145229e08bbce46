//! The event matcher: trap OIDs by prefix and by MIB name, varbind
//! values, syslog severity thresholds, facility, app globs and patterns,
//! an oversized pattern refused, and the text an alert carries.
use super::*;
use crate::config::Config;
use crate::store::{EventVarbind, SyslogFields};
use crate::types::UnixMillis;

fn matcher(rule: &str) -> EventMatcher {
    let text = format!("[[alert]]\nname = \"r\"\n{rule}");
    let c = Config::from_toml(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let mut mibs = RuleMibs::new(&c);
    EventMatcher::compile(&c.alerts[0], &mut mibs)
        .unwrap()
        .expect("an event rule")
}

fn trap(oid: &str, varbinds: &[(&str, &str)]) -> EventRow {
    EventRow {
        id: 0,
        at: UnixMillis(1_000),
        device: Some("d1".into()),
        matched_by: Some("source".into()),
        source: "127.0.0.1".into(),
        kind: "trap".into(),
        version: "2c".into(),
        name: "linkDown".into(),
        trap_oid: oid.into(),
        if_index: Some(3),
        varbinds: varbinds
            .iter()
            .map(|(oid, value)| EventVarbind {
                oid: (*oid).into(),
                name: format!("name-of-{oid}"),
                value: (*value).into(),
            })
            .collect(),
        syslog: None,
    }
}

fn syslog(severity: SyslogSeverity, facility: u8, app: Option<&str>, msg: &str) -> EventRow {
    EventRow {
        kind: "syslog".into(),
        version: "rfc5424".into(),
        name: app.unwrap_or("syslog").into(),
        trap_oid: String::new(),
        if_index: None,
        varbinds: Vec::new(),
        syslog: Some(SyslogFields {
            severity,
            facility: Facility::new(facility).unwrap(),
            host: Some("r1".into()),
            app: app.map(str::to_string),
            procid: None,
            msgid: None,
            sent_at: None,
            message: msg.into(),
        }),
        ..trap("", &[])
    }
}

const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";
const IF_OPER_3: &str = "1.3.6.1.2.1.2.2.1.8.3";
const IF_DESCR_3: &str = "1.3.6.1.2.1.2.2.1.2.3";

#[test]
fn trap_oids_match_by_name_number_and_prefix() {
    let by_name = matcher("kind = \"trap\"\ntrap_oid = \"linkDown\"\n");
    let by_module = matcher("kind = \"trap\"\ntrap_oid = \"IF-MIB::linkDown\"\n");
    let numeric = matcher("kind = \"trap\"\ntrap_oid = \".1.3.6.1.6.3.1.1.5.3\"\n");
    for m in [&by_name, &by_module, &numeric] {
        assert_eq!(m.verdict(&trap(LINK_DOWN, &[])), Verdict::Fires);
        assert_eq!(m.verdict(&trap(LINK_UP, &[])), Verdict::Ignored);
    }
    assert_eq!(by_name, numeric);
    // A prefix takes everything below it, on arc boundaries only.
    let subtree = matcher("kind = \"trap\"\ntrap_oid = \"1.3.6.1.6.3.1.1.5\"\n");
    assert_eq!(subtree.verdict(&trap(LINK_UP, &[])), Verdict::Fires);
    assert_eq!(
        subtree.verdict(&trap(".1.3.6.1.6.3.1.1.50", &[])),
        Verdict::Ignored
    );
    assert_eq!(
        subtree.verdict(&trap("1.3.6.1.6.3.1.1", &[])),
        Verdict::Ignored
    );
    // A syslog message is never a trap, whatever its fields say.
    let mut fake = syslog(SyslogSeverity::Error, 1, None, "x");
    fake.trap_oid = LINK_DOWN.into();
    assert_eq!(by_name.verdict(&fake), Verdict::Ignored);
    let mut inform = trap(LINK_DOWN, &[]);
    inform.kind = "inform".into();
    assert_eq!(by_name.verdict(&inform), Verdict::Fires);
}

#[test]
fn varbind_conditions_test_values_below_their_oid() {
    let m = matcher(
        "kind = \"trap\"\ntrap_oid = \"linkDown\"\nresolve_trap_oid = \"linkUp\"\n\
         varbinds = [{ oid = \"ifOperStatus\", equals = \"2\" }, \
         { oid = \"IF-MIB::ifDescr\", contains = \"UPLINK\" }]\n",
    );
    let down = trap(
        LINK_DOWN,
        &[
            (IF_OPER_3, "INTEGER: 2"),
            (IF_DESCR_3, "STRING: \"core uplink 1\""),
        ],
    );
    assert_eq!(m.verdict(&down), Verdict::Fires);
    let other_port = trap(
        LINK_DOWN,
        &[
            (IF_OPER_3, "INTEGER: 2"),
            (IF_DESCR_3, "STRING: \"access 7\""),
        ],
    );
    assert_eq!(m.verdict(&other_port), Verdict::Ignored);
    let up_value = trap(
        LINK_DOWN,
        &[
            (IF_OPER_3, "INTEGER: 1"),
            (IF_DESCR_3, "STRING: \"uplink\""),
        ],
    );
    assert_eq!(m.verdict(&up_value), Verdict::Ignored);
    // A varbind of another object with the right value does not count.
    let elsewhere = trap(
        LINK_DOWN,
        &[
            ("1.3.6.1.2.1.2.2.1.7.3", "INTEGER: 2"),
            (IF_DESCR_3, "STRING: \"uplink\""),
        ],
    );
    assert_eq!(m.verdict(&elsewhere), Verdict::Ignored);
    // The resolving trap resolves whatever its varbinds say.
    assert_eq!(m.verdict(&trap(LINK_UP, &[])), Verdict::Resolves);
    // `equals` also takes the whole text.
    let whole = matcher(
        "kind = \"trap\"\ntrap_oid = \"linkDown\"\n\
         varbinds = [{ oid = \"1.3.6.1.2.1.2.2.1.8\", equals = \"integer: 2\" }]\n",
    );
    assert_eq!(whole.verdict(&down), Verdict::Fires);
}

#[test]
fn bare_values_lose_their_type_and_quotes_only() {
    assert_eq!(bare_value("INTEGER: 2"), "2");
    assert_eq!(bare_value("STRING: \"a: b\""), "a: b");
    assert_eq!(bare_value("Timeticks: (5) 0:00:00.05"), "(5) 0:00:00.05");
    assert_eq!(bare_value("no type here"), "no type here");
    assert_eq!(bare_value("a b: c"), "a b: c");
}

#[test]
fn syslog_severity_is_a_threshold_and_every_criterion_must_hold() {
    let m = matcher(
        "kind = \"syslog\"\nmin_severity = \"err\"\nfacility = \"local7\"\napp = \"ssh*\"\n\
         pattern = 'failed password for (invalid user )?\\w+'\n",
    );
    let msg = "Failed password for root from 10.0.0.1";
    let hit = |sev, fac, app: Option<&str>, text: &str| {
        m.verdict(&syslog(sev, fac, app, text)) == Verdict::Fires
    };
    // The pattern is case-sensitive: as written it needs lower case.
    assert!(!hit(SyslogSeverity::Error, 23, Some("sshd"), msg));
    let msg = "failed password for invalid user admin";
    assert!(hit(SyslogSeverity::Error, 23, Some("sshd"), msg));
    assert!(hit(SyslogSeverity::Critical, 23, Some("sshd"), msg));
    assert!(hit(SyslogSeverity::Emergency, 23, Some("sshd"), msg));
    assert!(!hit(SyslogSeverity::Warning, 23, Some("sshd"), msg));
    assert!(!hit(SyslogSeverity::Debug, 23, Some("sshd"), msg));
    assert!(!hit(SyslogSeverity::Error, 22, Some("sshd"), msg));
    assert!(!hit(SyslogSeverity::Error, 23, Some("cron"), msg));
    assert!(!hit(SyslogSeverity::Error, 23, None, msg));
    assert!(!hit(
        SyslogSeverity::Error,
        23,
        Some("sshd"),
        "accepted password"
    ));
    // A trap is never a syslog message.
    assert_eq!(m.verdict(&trap(LINK_DOWN, &[])), Verdict::Ignored);
    // Severity alone.
    let any_err = matcher("kind = \"syslog\"\nmin_severity = \"error\"\n");
    assert!(any_err.verdict(&syslog(SyslogSeverity::Error, 1, None, "")) == Verdict::Fires);
    assert!(any_err.verdict(&syslog(SyslogSeverity::Notice, 1, None, "")) == Verdict::Ignored);
}

#[test]
fn an_oversized_pattern_is_refused_with_a_reason() {
    let e = compile_pattern("(\\w{100}){100}").unwrap_err();
    assert!(e.contains("is refused"), "{e}");
    let e = compile_pattern(&"a".repeat(2_000)).unwrap_err();
    assert!(e.contains("at most 1024"), "{e}");
    let e = compile_pattern("(unclosed").unwrap_err();
    assert!(e.contains("not a valid regular expression"), "{e}");
    assert!(compile_pattern("%LINK-3-UPDOWN: Interface \\S+, changed state to down").is_ok());
}

#[test]
fn the_alert_text_is_bounded_and_has_no_control_characters() {
    let t = event_text(&trap(
        LINK_DOWN,
        &[(IF_DESCR_3, "STRING: \"<b>eth\u{1b}[31m\n3</b>\"")],
    ));
    assert_eq!(
        t,
        format!("linkDown (name-of-{IF_DESCR_3} = STRING: \"<b>eth [31m 3</b>\")")
    );
    let long = "x".repeat(5_000);
    let s = event_text(&syslog(SyslogSeverity::Error, 1, Some("app"), &long));
    assert!(s.starts_with("err app: xxx"));
    assert_eq!(s.chars().count(), MAX_TEXT_CHARS + 1);
    assert!(s.ends_with('…'));
    let bare = event_text(&trap(LINK_DOWN, &[]));
    assert_eq!(bare, "linkDown");
}
