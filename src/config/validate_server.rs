//! Semantic checks of `[server]`, `[remote_write]`, `[traps]` and `[syslog]`: token strength and
//! roles, a token whenever the listen address is not loopback, the
//! receiver URL, intervals, auth combinations and extra label names. Pure;
//! messages never include a secret or the URL (it may carry credentials).
use super::model::{Config, SnmpVersion};
use super::validate::Problems;

/// Bearer tokens shorter than this are refused.
pub const MIN_TOKEN_LEN: usize = 16;

/// Labels nocmap sets itself; extra labels may not reuse them.
const OWN_LABELS: [&str; 4] = ["device", "sys_name", "if_name", "stat"];

impl Config {
    /// `[traps]`: a usable rate and burst; v3 users that name version 3
    /// credentials with a security level; an engine id of 5 to 32 octets.
    pub(super) fn check_traps(&self, v: &mut Problems) {
        let Some(t) = &self.traps else { return };
        for (i, name) in t.v3_users.iter().enumerate() {
            let at = format!("traps.v3_users[{i}]");
            match self.credentials.iter().find(|c| &c.name == name) {
                None => v.push_dep(
                    &at,
                    &format!("no credential named `{name}`"),
                    &["credentials[]".to_string()],
                ),
                Some(c) if c.version != SnmpVersion::V3 => {
                    v.push(&at, &format!("credential `{name}` is not version = \"3\""))
                }
                Some(_) => {}
            }
        }
        if let Some(id) = &t.engine_id {
            let ok = crate::util::hex::parse(id)
                .is_some_and(|b| async_snmp::v3::validate_engine_id(&b).is_ok());
            if !ok {
                v.push(
                    "traps.engine_id",
                    "must be 5 to 32 octets in hex (not all 00 or all ff)",
                );
            }
        }
        if !t.rate_per_s.is_finite() || t.rate_per_s <= 0.0 {
            v.push(
                "traps.rate_per_s",
                "must be a number of notifications a second, above 0",
            );
        }
        if !t.burst.is_finite() || t.burst < 1.0 {
            v.push("traps.burst", "must be at least 1");
        }
    }

    /// `[syslog]`: something to listen on; TLS with both of its files.
    pub(super) fn check_syslog(&self, v: &mut Problems) {
        let Some(s) = &self.syslog else { return };
        if s.listen_udp.is_none() && s.listen_tcp.is_none() && s.listen_tls.is_none() {
            v.push(
                "syslog",
                "needs at least one of listen_udp, listen_tcp, listen_tls",
            );
        }
        match (s.listen_tls.is_some(), s.cert.is_some(), s.key.is_some()) {
            (true, true, true) | (false, false, false) => {}
            (true, _, _) => v.push("syslog.listen_tls", "needs both cert and key"),
            (false, _, _) => v.push(
                if s.cert.is_some() {
                    "syslog.cert"
                } else {
                    "syslog.key"
                },
                "is used only with listen_tls",
            ),
        }
    }

    pub(super) fn check_server(&self, v: &mut Problems) {
        let s = &self.server;
        for (path, token) in [
            ("server.token", &s.token),
            ("server.read_only_token", &s.read_only_token),
        ] {
            if let Some(t) = token
                && t.len() < MIN_TOKEN_LEN
            {
                v.push(
                    path,
                    &format!("must be at least {MIN_TOKEN_LEN} characters"),
                );
            }
        }
        match (&s.token, &s.read_only_token) {
            (None, Some(_)) => v.push_dep(
                "server.read_only_token",
                "needs server.token (the admin token) too",
                &["server.token".to_string()],
            ),
            (Some(a), Some(r)) if a == r => {
                v.push("server.read_only_token", "must differ from server.token")
            }
            _ => {}
        }
        match (&s.tls_cert, &s.tls_key) {
            (Some(_), None) => v.push_dep(
                "server.tls_key",
                "must be set with server.tls_cert (the certificate's private key, PEM)",
                &["server.tls_cert".to_string()],
            ),
            (None, Some(_)) => v.push_dep(
                "server.tls_cert",
                "must be set with server.tls_key (the certificate chain, PEM)",
                &["server.tls_key".to_string()],
            ),
            _ => {}
        }
        if s.hsts_max_age_s.is_some() && s.tls_cert.is_none() {
            v.push_dep(
                "server.hsts_max_age_s",
                "needs server.tls_cert and server.tls_key: browsers take HSTS only from an HTTPS server",
                &["server.tls_cert".to_string()],
            );
        }
        for (path, value) in [
            ("server.rate_limit_per_s", s.rate_limit_per_s),
            ("server.rate_limit_burst", s.rate_limit_burst),
        ] {
            if !value.is_finite() || value < 0.0 {
                v.push(path, "must be a number of requests, 0 or more");
            }
        }
        for (i, name) in s.allowed_hosts.iter().enumerate() {
            if !valid_host_name(name) {
                v.push(
                    &format!("server.allowed_hosts[{i}]"),
                    "must be a DNS name (letters, digits, `-`, `.`), without a port or scheme",
                );
            }
        }
        if s.max_connections == 0 {
            v.push("server.max_connections", "must be at least 1");
        }
        if s.max_connections_per_client == 0 || s.max_connections_per_client > s.max_connections {
            v.push(
                "server.max_connections_per_client",
                "must be from 1 to server.max_connections",
            );
        }
        if s.rate_limit_per_s != 0.0 && s.rate_limit_burst < 1.0 {
            v.push(
                "server.rate_limit_burst",
                "must be at least 1 unless rate_limit_per_s is 0",
            );
        }
        let st = &self.store;
        for (path, days) in [
            ("store.raw_retention_days", st.raw_retention_days),
            ("store.five_min_retention_days", st.five_min_retention_days),
            ("store.hour_retention_days", st.hour_retention_days),
        ] {
            if !(1..=36_500).contains(&days) {
                v.push(path, "must be a number of days from 1 to 36500");
            }
        }
        if st.five_min_retention_days < st.raw_retention_days {
            v.push(
                "store.five_min_retention_days",
                "must be at least store.raw_retention_days (rollups are made from raw samples)",
            );
        }
        if st.hour_retention_days < st.five_min_retention_days {
            v.push(
                "store.hour_retention_days",
                "must be at least store.five_min_retention_days",
            );
        }
        if s.api_nice > 19 {
            v.push("server.api_nice", "must be a niceness from 0 to 19");
        }
        if s.token.is_none() && !s.listen.ip().is_loopback() {
            v.push_dep(
                "server.listen",
                &format!(
                    "{} is not a loopback address: set server.token so the API and /metrics need a bearer token",
                    s.listen.ip()
                ),
                &["server.token".to_string()],
            );
        }
    }

    pub(super) fn check_remote_write(&self, v: &mut Problems) {
        let Some(rw) = &self.remote_write else {
            return;
        };
        super::validate_alerts::check_destination(v, "remote_write", &rw.url, &rw.tls_files());
        v.nonzero("remote_write.interval_s", rw.interval_s);
        v.nonzero("remote_write.timeout_ms", rw.timeout_ms);
        v.nonzero("remote_write.queue_len", rw.queue_len.into());
        let basic = rw.basic_auth_user.is_some() || rw.basic_auth_password.is_some();
        if rw.bearer_token.is_some() && basic {
            v.push(
                "remote_write.bearer_token",
                "use either bearer_token or basic_auth_user/basic_auth_password, not both",
            );
        }
        match (&rw.basic_auth_user, &rw.basic_auth_password) {
            (Some(_), None) => v.push_dep(
                "remote_write.basic_auth_user",
                "needs basic_auth_password",
                &["remote_write.basic_auth_password".to_string()],
            ),
            (None, Some(_)) => v.push("remote_write.basic_auth_password", "needs basic_auth_user"),
            (Some(u), Some(_)) if u.contains(':') => {
                v.push("remote_write.basic_auth_user", "must not contain `:`")
            }
            _ => {}
        }
        for (name, value) in &rw.labels {
            let path = format!("remote_write.labels.{name}");
            if !valid_label_name(name) {
                v.push(
                    &path,
                    "label names are lower-case letters, digits and `_`, starting with a letter",
                );
            } else if OWN_LABELS.contains(&name.as_str()) {
                v.push(&path, "nocmap sets this label itself; choose another name");
            }
            if value.is_empty() {
                v.push(&path, "must not be empty");
            }
        }
    }
}

/// `[a-z][a-z0-9_]*`: so `__name__` always sorts first in remote write.
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `name` may be configured in `allowed_hosts`: a DNS name
/// (letters, digits, `-`, `_`, `.`; at most 253 characters) without a port.
fn valid_host_name(name: &str) -> bool {
    let n = name.strip_suffix('.').unwrap_or(name);
    !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_names_are_checked() {
        assert!(valid_host_name("noc.example.net"));
        assert!(valid_host_name("noc"));
        assert!(valid_host_name("noc.example.net."));
        assert!(!valid_host_name(""));
        assert!(!valid_host_name("noc.example.net:8080"));
        assert!(!valid_host_name("noc..example"));
        assert!(!valid_host_name("http://noc"));
        assert!(!valid_host_name("noc example"));
        assert!(!valid_host_name(&"a".repeat(64)));
    }

    #[test]
    fn the_syslog_section_is_read_and_checked() {
        let ok = Config::from_toml(
            "[syslog]\nlisten_udp = \"127.0.0.1:1514\"\nlisten_tcp = \"127.0.0.1:1514\"\n",
        )
        .unwrap();
        let s = ok.syslog.unwrap();
        assert_eq!(s.listen_udp.unwrap().port(), 1514);
        assert!(s.listen_tls.is_none());
        let errs = Config::from_toml("[syslog]\n").unwrap_err();
        assert!(format!("{errs:?}").contains("at least one of"), "{errs:?}");
        let errs =
            Config::from_toml("[syslog]\nlisten_tls = \"127.0.0.1:6514\"\ncert = \"c.pem\"\n")
                .unwrap_err();
        assert!(
            format!("{errs:?}").contains("needs both cert and key"),
            "{errs:?}"
        );
        let errs =
            Config::from_toml("[syslog]\nlisten_udp = \"127.0.0.1:1\"\nkey = \"k\"\n").unwrap_err();
        assert!(
            format!("{errs:?}").contains("only with listen_tls"),
            "{errs:?}"
        );
        assert!(Config::from_toml("[syslog]\nlisten = \"127.0.0.1:1\"\n").is_err());
    }

    #[test]
    fn the_traps_section_is_read_and_checked_with_lines() {
        let ok = Config::from_toml("[traps]\nlisten = \"127.0.0.1:1162\"\n").unwrap();
        let t = ok.traps.unwrap();
        assert_eq!(t.listen.port(), 1162);
        assert_eq!((t.rate_per_s, t.burst), (50.0, 200.0));
        let errs = Config::from_toml(
            "[traps]\nlisten = \"127.0.0.1:1162\"\nrate_per_s = 0\nburst = 0.5\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4], "{errs:?}");
        let errs = Config::from_toml("[traps]\nlisten = \"nowhere\"\nport = 1\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(Config::from_toml("[traps]\nrate_per_s = 1\n").is_err());
    }

    #[test]
    fn traps_v3_users_name_version_3_credentials() {
        let creds = "[[credentials]]\nname = \"c2\"\nversion = \"2c\"\ncommunity = \"x\"\n\
            [[credentials]]\nname = \"t3\"\nversion = \"3\"\nuser = \"tu\"\n\
            security_level = \"authPriv\"\nauth_protocol = \"SHA\"\nauth_password = \"authpass1\"\n\
            priv_protocol = \"AES\"\npriv_password = \"privpass1\"\n";
        let ok = Config::from_toml(&format!(
            "{creds}[traps]\nlisten = \"127.0.0.1:1162\"\nv3_users = [\"t3\"]\nengine_id = \"8000000001020304\"\n"
        ))
        .unwrap();
        assert_eq!(ok.traps.unwrap().v3_users, ["t3"]);
        let errs = Config::from_toml(&format!(
            "{creds}[traps]\nlisten = \"127.0.0.1:1162\"\nv3_users = [\"c2\", \"nope\"]\nengine_id = \"00\"\n"
        ))
        .unwrap_err();
        let text = format!("{errs:?}");
        assert_eq!(errs.len(), 3, "{text}");
        assert!(
            text.contains("not version") && text.contains("nope") && text.contains("engine_id")
        );
        assert!(!text.contains("authpass1"));
    }
}
