//! `[server]` tokens and `[remote_write]`: parsing, defaults, secrets from
//! env/file, validation with lines, and the bridge to the server's types.
use nocmap::config::Config;
use nocmap::server::remote_write::RemoteAuth;
use nocmap::server::{Role, authorize, settings};

const ADMIN: &str = "admin-token-0123456789";
const VIEWER: &str = "viewer-token-0123456789";

#[test]
fn tokens_and_remote_write_load_with_defaults_and_bridge() {
    let text = format!(
        r#"
[server]
listen = "0.0.0.0:8080"
token = "{ADMIN}"
read_only_token = "{VIEWER}"

[remote_write]
url = "http://127.0.0.1:9090/api/v1/write"
basic_auth_user = "nocmap"
basic_auth_password = "rw-password-123"
labels = {{ site = "lab", env = "test" }}
"#
    );
    let c = Config::from_toml(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let auth = settings::auth(&c.server).unwrap();
    assert_eq!(
        authorize(
            Some(&auth),
            Some(format!("Bearer {VIEWER}").as_bytes()),
            Role::ReadOnly
        ),
        Ok(())
    );
    assert!(
        authorize(
            Some(&auth),
            Some(format!("Bearer {VIEWER}").as_bytes()),
            Role::Admin
        )
        .is_err()
    );
    assert_eq!(
        authorize(
            Some(&auth),
            Some(format!("Bearer {ADMIN}").as_bytes()),
            Role::Admin
        ),
        Ok(())
    );
    let rw = settings::remote_write(c.remote_write.as_ref()).unwrap();
    assert_eq!(rw.endpoint.endpoint.authority, "127.0.0.1:9090");
    assert_eq!(rw.endpoint.endpoint.path, "/api/v1/write");
    assert_eq!(rw.interval.as_secs(), 30);
    assert_eq!(rw.timeout.as_millis(), 5000);
    assert_eq!(rw.queue_len, 64);
    assert_eq!(
        rw.labels,
        [
            ("env".to_string(), "test".to_string()),
            ("site".into(), "lab".into())
        ]
    );
    match rw.auth {
        Some(RemoteAuth::Basic { user, password }) => {
            assert_eq!(
                (user.as_str(), password.expose()),
                ("nocmap", "rw-password-123")
            )
        }
        other => panic!("{other:?}"),
    }
    // Debug output of the whole config never shows a secret.
    let dbg = format!("{c:?}");
    for s in [ADMIN, VIEWER, "rw-password-123"] {
        assert!(!dbg.contains(s));
    }
    let none = Config::from_toml("").unwrap();
    assert!(
        settings::auth(&none.server).is_none()
            && settings::remote_write(none.remote_write.as_ref()).is_none()
    );
}

#[test]
fn token_secrets_resolve_from_files_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("token");
    std::fs::write(&p, format!("{ADMIN}\n")).unwrap();
    let c = Config::from_toml(&format!("[server]\ntoken = \"file:{}\"\n", p.display())).unwrap();
    assert_eq!(c.server.token.unwrap().expose(), ADMIN);
    let e = Config::from_toml("[server]\ntoken = \"env:NOCMAP_TEST_SURELY_UNSET_TOKEN\"\n")
        .unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, 2);
    assert!(e[0].message.contains("NOCMAP_TEST_SURELY_UNSET_TOKEN"));
}

#[test]
fn every_problem_is_reported_with_its_line_and_no_secret() {
    let text = r#"[server]
listen = "0.0.0.0:8080"
read_only_token = "short-token"
rate_limit_per_s = -3
rate_limit_burst = 0.5
api_nice = 25

[remote_write]
url = "https://user:hunter2@prom/write"
interval_s = 0
bearer_token = "rw-bearer-abcdef"
basic_auth_user = "a:b"
labels = { device = "x", "Bad-Name" = "y", empty = "" }
"#;
    let errs = Config::from_toml(text).unwrap_err();
    let shown: Vec<String> = errs
        .iter()
        .map(|e| format!("{}: {}", e.line, e.message))
        .collect();
    let has = |line: usize, s: &str| {
        assert!(
            errs.iter().any(|e| e.line == line && e.message.contains(s)),
            "no `{s}` on line {line} in {shown:#?}"
        )
    };
    has(2, "not a loopback address");
    has(3, "at least 16 characters");
    has(3, "needs server.token");
    has(4, "0 or more");
    has(5, "at least 1 unless rate_limit_per_s is 0");
    has(6, "niceness from 0 to 19");
    // https:// is taken now; the credentials in it are not (and not shown).
    has(9, "credentials in the URL are not allowed");
    has(10, "must be greater than 0");
    has(11, "either bearer_token or basic_auth_user");
    has(12, "needs basic_auth_password");
    has(13, "nocmap sets this label itself");
    has(13, "label names are lower-case");
    has(13, "must not be empty");
    for s in ["short-token", "hunter2", "rw-bearer-abcdef"] {
        assert!(
            !shown.iter().any(|l| l.contains(s)),
            "{s} leaked: {shown:#?}"
        );
    }
    // Unknown keys in the new sections are errors too.
    let errs = Config::from_toml("[remote_write]\nurl = \"http://p/w\"\nfoo = 1\n").unwrap_err();
    assert!(errs[0].message.contains("unknown key `foo`"), "{errs:?}");
    let errs = Config::from_toml("[remote_write]\ninterval_s = 5\n").unwrap_err();
    assert!(
        errs[0].message.contains("missing required key `url`"),
        "{errs:?}"
    );
}

#[test]
fn the_store_section_defaults_to_full_durability_and_checks_retention() {
    use nocmap::store::Durability;
    let c = Config::from_toml("").unwrap();
    let sc = c.store.store_config();
    assert_eq!(sc.durability, Durability::Full);
    assert_eq!(sc.raw_retention.as_secs(), 2 * 86_400);
    assert_eq!(sc.hour_retention.as_secs(), 365 * 86_400);
    let c = Config::from_toml(
        "[store]\ndurability = \"normal\"\nraw_retention_days = 7\nfive_min_retention_days = 90\nhour_retention_days = 730\n",
    )
    .unwrap();
    let sc = c.store.store_config();
    assert_eq!(sc.durability, Durability::Normal);
    assert_eq!(sc.raw_retention.as_secs(), 7 * 86_400);
    assert_eq!(sc.five_min_retention.as_secs(), 90 * 86_400);
    assert_eq!(sc.hour_retention.as_secs(), 730 * 86_400);

    let text = "[store]\ndurability = \"sometimes\"\n";
    let errs = Config::from_toml(text).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.line == 2 && e.message.contains("unknown variant")),
        "{errs:?}"
    );
    let text =
        "[store]\nraw_retention_days = 0\nfive_min_retention_days = 10\nhour_retention_days = 5\n";
    let errs = Config::from_toml(text).unwrap_err();
    let has = |line: usize, s: &str| {
        assert!(
            errs.iter().any(|e| e.line == line && e.message.contains(s)),
            "no `{s}` on line {line} in {errs:?}"
        )
    };
    has(2, "from 1 to 36500");
    has(4, "at least store.five_min_retention_days");
}

#[test]
fn allowed_hosts_take_dns_names_only() {
    let c =
        Config::from_toml("[server]\nallowed_hosts = [\"noc.example.net\", \"noc\"]\n").unwrap();
    assert_eq!(c.server.allowed_hosts, ["noc.example.net", "noc"]);
    assert!(
        Config::from_toml("[server]\n")
            .unwrap()
            .server
            .allowed_hosts
            .is_empty()
    );
    let text = "[server]\nallowed_hosts = [\"noc.example.net\", \"noc.example.net:8080\", \"http://noc\"]\n";
    let errs = Config::from_toml(text).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:#?}");
    for e in &errs {
        assert_eq!(e.line, 2);
        assert!(e.message.contains("must be a DNS name"), "{}", e.message);
    }
}

#[test]
fn connection_caps_are_checked() {
    let c = Config::from_toml("[server]\n").unwrap();
    assert_eq!(
        (
            c.server.max_connections_per_client,
            c.server.max_connections
        ),
        (256, 4096)
    );
    let c = Config::from_toml("[server]\nmax_connections_per_client = 8\nmax_connections = 64\n")
        .unwrap();
    assert_eq!(
        (
            c.server.max_connections_per_client,
            c.server.max_connections
        ),
        (8, 64)
    );
    for (text, line, msg) in [
        ("[server]\nmax_connections = 0\n", 2, "at least 1"),
        (
            "[server]\nmax_connections_per_client = 0\n",
            2,
            "from 1 to server.max_connections",
        ),
        (
            "[server]\nmax_connections = 10\nmax_connections_per_client = 11\n",
            3,
            "from 1 to server.max_connections",
        ),
    ] {
        let errs = Config::from_toml(text).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.line == line && e.message.contains(msg)),
            "{text}: {errs:#?}"
        );
    }
}
