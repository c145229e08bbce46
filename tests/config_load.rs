//! Tests of `nocmap::config`: a good file, a file with several mistakes,
//! secret resolution and secret hygiene in Debug/Display and errors.
use nocmap::config::{AuthProtocol, Config, ConfigErrors, PrivProtocol, SnmpVersion};
use std::fs;
use std::path::Path;

const COMMUNITY: &str = "c0mmunity-SECRET-1";
const AUTH: &str = "auth-SECRET-pass-2";
const PRIV: &str = "priv-SECRET-pass-3";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn good_config(dir: &Path) -> String {
    let auth = write(dir, "auth", &format!("{AUTH}\n"));
    format!(
        r#"
[snmp]
timeout_ms = 800
mib_dirs = ["{mibs}"]

[[credentials]]
name = "lab"
version = "2c"
community = "{COMMUNITY}"

[[credentials]]
name = "core"
version = "3"
user = "nocmap"
security_level = "authPriv"
auth_protocol = "SHA-256"
auth_password = "file:{auth}"
priv_protocol = "AES-256"
priv_password = "{PRIV}"

[discovery]
prefixes = ["10.20.0.0/16", "2001:db8::/32"]
seeds = ["10.20.0.1", "2001:db8::1"]

[[groups]]
name = "core"
pattern = "core-*"
credentials = ["core"]

[[devices]]
name = "edge"
address = "10.20.5.1"
group = "core"
credentials = ["lab", "core"]
"#,
        mibs = dir.display(),
        auth = auth.display()
    )
}

#[test]
fn good_config_loads_with_defaults_and_resolved_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "good.toml", &good_config(dir.path()));
    let c = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.snmp.timeout_ms, 800);
    assert_eq!(c.snmp.retries, 1);
    assert_eq!(c.snmp.max_repetitions, 25);
    assert_eq!(c.snmp.per_agent_in_flight, 4);
    assert_eq!(c.snmp.global_in_flight, 256);
    assert_eq!(c.poll.icmp_interval_s, 10);
    assert_eq!(c.poll.snmp_interval_s, 60);
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.credential_names(), ["lab", "core"]);
    let core = &c.credentials[1];
    assert_eq!(core.version, SnmpVersion::V3);
    assert_eq!(core.auth_protocol, Some(AuthProtocol::Sha256));
    assert_eq!(core.priv_protocol, Some(PrivProtocol::Aes256));
    // file: was read, trailing newline dropped.
    assert_eq!(core.auth_password.as_ref().unwrap().expose(), AUTH);
    assert_eq!(
        c.credentials[0].community.as_ref().unwrap().expose(),
        COMMUNITY
    );
    assert!(c.discovery.allows("10.20.9.9".parse().unwrap()));
    assert!(!c.discovery.allows("10.21.0.1".parse().unwrap()));

    // No secret in Debug output of the whole config.
    let dbg = format!("{c:?}");
    for s in [COMMUNITY, AUTH, PRIV] {
        assert!(!dbg.contains(s), "Debug leaks a secret");
    }
    assert!(dbg.contains("***"));
}

#[test]
fn empty_file_is_all_defaults() {
    let c = Config::from_toml("").unwrap();
    assert_eq!(c.icmp.count, 3);
    assert!(c.credentials.is_empty());
}

/// Six mistakes of different kinds; each must be reported on its line.
const SIX_MISTAKES: &str = r#"[snmp]
timeout_ms = "fast"
retires = 3

[[credentials]]
name = "a"
version = "2c"
community = "c0mmunity-SECRET-1"

[[credentials]]
name = "a"
version = "3"
user = "u"
security_level = "authNoPriv"
auth_protocol = "SHA-1"
auth_password = "auth-SECRET-pass-2"

[discovery]
prefixes = ["10.0.0.0/33"]
seeds = ["10.250.1.1"]

[poll]
snmp_interval_s = 0
"#;

#[test]
fn six_mistakes_are_all_reported_with_their_lines() {
    let errs = Config::from_toml(SIX_MISTAKES).unwrap_err();
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
    let lines: Vec<usize> = got.iter().map(|g| g.0).collect();
    // 2: wrong type; 3: unknown key; 11: duplicate name; 15: unknown auth
    // protocol; 19: bad CIDR; 23: zero interval.
    assert_eq!(lines, [2, 3, 11, 15, 19, 23], "{got:#?}");
    assert!(got[0].1.contains("snmp.timeout_ms"), "{}", got[0].1);
    assert!(got[1].1.contains("unknown key `retires`"), "{}", got[1].1);
    assert!(
        got[2].1.contains("duplicate credential name `a`"),
        "{}",
        got[2].1
    );
    assert!(got[3].1.contains("SHA-1"), "{}", got[3].1);
    assert!(got[4].1.contains("10.0.0.0/33"), "{}", got[4].1);
    assert!(got[5].1.contains("poll.snmp_interval_s"), "{}", got[5].1);
    for e in &errs {
        assert!(e.column >= 1);
        for s in [COMMUNITY, AUTH] {
            assert!(
                !e.message.contains(s),
                "error leaks a secret: {}",
                e.message
            );
        }
    }
}

#[test]
fn semantic_mistakes_each_get_a_line() {
    let text = r#"[[credentials]]
name = "v2"
version = "2c"

[[credentials]]
name = "v3"
version = "3"
user = "u"
security_level = "authPriv"
auth_protocol = "SHA"
auth_password = "short"

[discovery]
prefixes = ["10.0.0.0/8"]
seeds = ["10.1.1.1", "192.0.2.1"]

[[groups]]
name = "g"
credentials = ["nope"]

[icmp]
count = 0
"#;
    let errs = Config::from_toml(text).unwrap_err();
    let got: Vec<(usize, String)> = errs.iter().map(|e| (e.line, e.message.clone())).collect();
    let has = |line: usize, needle: &str| {
        assert!(
            got.iter().any(|(l, m)| *l == line && m.contains(needle)),
            "no `{needle}` at line {line} in {got:#?}"
        )
    };
    has(1, "needs `community`");
    has(5, "needs `priv_protocol`");
    has(5, "needs `priv_password`");
    has(11, "at least 8 characters");
    has(15, "192.0.2.1 is outside");
    has(17, "needs `pattern` or `prefix`");
    has(19, "no credential named `nope`");
    has(22, "icmp.count");
    assert_eq!(got.len(), 8, "{got:#?}");
}

#[test]
fn secret_errors_name_the_source_not_the_secret() {
    let text = r#"[[credentials]]
name = "x"
version = "2c"
community = "env:NOCMAP_TEST_DEFINITELY_UNSET_41"

[[credentials]]
name = "y"
version = "1"
community = "file:/nonexistent/nocmap-secret"

[[credentials]]
name = "z"
version = "2c"
community = 123456789
"#;
    let errs = Config::from_toml(text).unwrap_err();
    let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errs.len(), 3, "{msgs:#?}");
    assert_eq!(errs[0].line, 4);
    assert!(msgs[0].contains("NOCMAP_TEST_DEFINITELY_UNSET_41"));
    assert_eq!(errs[1].line, 9);
    assert!(msgs[1].contains("/nonexistent/nocmap-secret"));
    assert_eq!(errs[2].line, 14);
    assert!(!msgs[2].contains("123456789"), "{}", msgs[2]);
}

#[test]
fn syntax_errors_do_not_quote_the_line() {
    let text = "[[credentials]]\nname = \"x\"\ncommunity = \"c0mmunity-SECRET-1\n";
    let errs = Config::from_toml(text).unwrap_err();
    assert!(!errs.is_empty());
    assert_eq!(errs[0].line, 3);
    for e in &errs {
        assert!(!e.message.contains(COMMUNITY), "{}", e.message);
    }
}

#[test]
fn errors_display_as_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.toml", SIX_MISTAKES);
    let errs: ConfigErrors = Config::load(&path).unwrap_err();
    let shown = errs.to_string();
    let first = shown.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}:2:", path.display())),
        "{first}"
    );
    assert_eq!(shown.lines().count(), 6);
    for s in [COMMUNITY, AUTH] {
        assert!(!shown.contains(s));
        assert!(!format!("{errs:?}").contains(s));
    }
    let missing = Config::load(dir.path().join("nope.toml")).unwrap_err();
    assert_eq!(missing.errors.len(), 1);
    assert!(missing.to_string().contains("nope.toml"));
}

#[test]
fn the_documented_example_has_only_its_unresolvable_secrets_wrong() {
    let text = include_str!("../examples/nocmap.toml");
    let errs = Config::from_toml(text).unwrap_err();
    // Its secrets point at env vars / files that do not exist here; every
    // other line of the example must be valid.
    for e in &errs {
        assert!(
            e.message.contains("environment variable") || e.message.contains("secret file"),
            "{}:{}: {}",
            e.line,
            e.column,
            e.message
        );
    }
}
