//! `[nats]`: multi-site over NATS JetStream. A site poller publishes its
//! samples under its site's subjects; a central consumes every site's.
//! Plain data and its checks (pure); the client lives in `sites`. Without
//! the section nocmap is one box, as before.
use super::secret::Secret;
use super::validate::Problems;
use serde::Deserialize;
use std::path::PathBuf;

/// What this `nocmap serve` is in a multi-site setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NatsRole {
    /// Polls its site, journals, publishes to the central.
    Poller,
    /// Consumes every site's stream into its own store.
    Central,
}

impl NatsRole {
    /// The config's text for the role.
    pub fn as_str(self) -> &'static str {
        match self {
            NatsRole::Poller => "poller",
            NatsRole::Central => "central",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// `nats://host:port` or `tls://host:port`.
    pub url: String,
    /// This site's name: letters, digits, `-` and `_` (a subject token).
    pub site: String,
    pub role: NatsRole,
    /// User and password (`env:`/`file:` for the password), or...
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// ... an nkey seed (`env:VAR` or `file:/path`, never printed).
    pub nkey_seed: Option<Secret>,
    /// PEM CA certificates for a `tls://` server (the system's roots when
    /// unset).
    pub ca_file: Option<PathBuf>,
    /// A client certificate (PEM) and its key, for a server that verifies
    /// its clients (`tls { verify: true }`); `tls://` only.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// The most journalled samples a second a poller sends when it catches
    /// up after a cut (live samples go first and are not counted).
    #[serde(default = "default_backfill_per_s")]
    pub backfill_per_s: u32,
    /// A poller's heartbeat period.
    #[serde(default = "default_heartbeat_s")]
    pub heartbeat_s: u64,
    /// A central: the sites it expects. One silent when the central starts
    /// (never heard since) raises its site alert after three heartbeat
    /// periods, as do the sites the stream knows.
    #[serde(default)]
    pub sites: Vec<String>,
    /// A poller group: several pollers with this site share its devices
    /// through leases in the server's key-value store (`sites::lease`).
    #[serde(default)]
    pub group: bool,
    /// This poller's name in its group (a subject token); default the
    /// host's name and the process id.
    pub poller_id: Option<String>,
    /// How long a lease lives without renewal: a dead member's devices are
    /// taken over after this (renewed every third of it); at a pair of
    /// centrals, the active one's lease.
    #[serde(default = "default_lease_s")]
    pub lease_s: u64,
    /// A central of a pair (or more) sharing one NATS server: its name
    /// among them (a subject token). Each reads every site into its own
    /// store through its own durable consumer; the one holding the lease
    /// (`sites::central_lease`) notifies, the others stand by and take
    /// over when its lease runs out.
    pub central_id: Option<String>,
}

fn default_backfill_per_s() -> u32 {
    500
}

fn default_heartbeat_s() -> u64 {
    5
}

fn default_lease_s() -> u64 {
    15
}

/// The shortest and longest lease (a lease is renewed every third of it).
const LEASE_S: std::ops::RangeInclusive<u64> = 3..=300;

/// The longest site name (it is a subject token and part of message ids).
const MAX_SITE_LEN: usize = 64;

/// Whether `site` can be one subject token.
pub fn valid_site(site: &str) -> bool {
    !site.is_empty()
        && site.len() <= MAX_SITE_LEN
        && site
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl NatsConfig {
    /// Every problem of the section (pure; never quotes a secret or the URL).
    pub(super) fn check(&self, v: &mut Problems) {
        let scheme = self.url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("nats" | "tls") => {}
            _ => v.push("nats.url", "must be nats://HOST:PORT or tls://HOST:PORT"),
        }
        if self.url.contains('@') {
            v.push(
                "nats.url",
                "must not carry credentials: use nats.user/nats.password or nats.nkey_seed",
            );
        }
        if !valid_site(&self.site) {
            v.push(
                "nats.site",
                &format!(
                    "must be 1 to {MAX_SITE_LEN} letters, digits, `-` or `_` (it names the site's subjects)"
                ),
            );
        }
        match (&self.user, &self.password) {
            (Some(_), None) => v.push("nats.password", "must be set with nats.user"),
            (None, Some(_)) => v.push("nats.user", "must be set with nats.password"),
            _ => {}
        }
        if self.user.is_some() && self.nkey_seed.is_some() {
            v.push(
                "nats.nkey_seed",
                "give either nats.user/nats.password or nats.nkey_seed, not both",
            );
        }
        if let Some(seed) = &self.nkey_seed
            && !seed.expose().starts_with('S')
        {
            v.push("nats.nkey_seed", "is not an nkey seed (it starts with S)");
        }
        if self.ca_file.is_some() && scheme != Some("tls") {
            v.push("nats.ca_file", "applies to a tls:// url only");
        }
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => v.push("nats.client_key", "must be set with nats.client_cert"),
            (None, Some(_)) => v.push("nats.client_cert", "must be set with nats.client_key"),
            (Some(_), Some(_)) if scheme != Some("tls") => {
                v.push("nats.client_cert", "applies to a tls:// url only")
            }
            _ => {}
        }
        for (key, path) in [
            ("nats.ca_file", &self.ca_file),
            ("nats.client_cert", &self.client_cert),
            ("nats.client_key", &self.client_key),
        ] {
            if let Some(path) = path
                && !path.is_file()
            {
                v.push(key, &format!("{} is not a file", path.display()));
            }
        }
        for (i, site) in self.sites.iter().enumerate() {
            if !valid_site(site) {
                v.push(
                    &format!("nats.sites[{i}]"),
                    &format!("must be 1 to {MAX_SITE_LEN} letters, digits, `-` or `_`"),
                );
            }
        }
        if !self.sites.is_empty() && self.role != NatsRole::Central {
            v.push(
                "nats.sites",
                "applies to a central (role = \"central\") only",
            );
        }
        v.nonzero("nats.backfill_per_s", self.backfill_per_s.into());
        v.nonzero("nats.heartbeat_s", self.heartbeat_s);
        if self.group && self.role != NatsRole::Poller {
            v.push("nats.group", "applies to role = \"poller\" only");
        }
        if let Some(id) = &self.poller_id {
            if !self.group {
                v.push("nats.poller_id", "applies with group = true only");
            }
            if !valid_site(id) {
                v.push(
                    "nats.poller_id",
                    &format!("must be 1 to {MAX_SITE_LEN} letters, digits, `-` or `_`"),
                );
            }
        }
        if let Some(id) = &self.central_id {
            if self.role != NatsRole::Central {
                v.push("nats.central_id", "applies to role = \"central\" only");
            }
            if !valid_site(id) {
                v.push(
                    "nats.central_id",
                    &format!("must be 1 to {MAX_SITE_LEN} letters, digits, `-` or `_`"),
                );
            }
        }
        if !LEASE_S.contains(&self.lease_s) {
            v.push(
                "nats.lease_s",
                &format!("must be {} to {} seconds", LEASE_S.start(), LEASE_S.end()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn errors(text: &str) -> String {
        match Config::from_toml(text) {
            Ok(_) => String::new(),
            Err(e) => e
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn a_poller_section_loads() {
        let c = Config::from_toml(
            "[nats]\nurl = \"nats://127.0.0.1:4222\"\nsite = \"branch-1\"\nrole = \"poller\"\nbackfill_per_s = 20\n",
        )
        .unwrap();
        let n = c.nats.unwrap();
        assert_eq!(n.role, super::NatsRole::Poller);
        assert_eq!(n.backfill_per_s, 20);
        assert_eq!(n.heartbeat_s, 5);
        assert!(n.sites.is_empty());
        assert!(!n.group);
        assert_eq!(n.lease_s, 15);
        assert!(Config::from_toml("").unwrap().nats.is_none());
    }

    #[test]
    fn a_central_lists_the_sites_it_expects() {
        let head = "[nats]\nurl = \"nats://127.0.0.1:4222\"\nsite = \"hq\"\n";
        let c = Config::from_toml(&format!(
            "{head}role = \"central\"\nsites = [\"b-1\", \"b_2\"]\n"
        ))
        .unwrap();
        assert_eq!(c.nats.unwrap().sites, ["b-1", "b_2"]);
        let e = errors(&format!("{head}role = \"central\"\nsites = [\"a.b\"]\n"));
        assert!(e.contains("nats.sites[0]: must be 1 to 64"), "{e}");
        let e = errors(&format!("{head}role = \"poller\"\nsites = [\"b1\"]\n"));
        assert!(e.contains("nats.sites: applies to a central"), "{e}");
    }

    #[test]
    fn group_keys_are_checked() {
        let base = "[nats]\nurl = \"nats://127.0.0.1:4222\"\nsite = \"b\"\n";
        let ok =
            format!("{base}role = \"poller\"\ngroup = true\npoller_id = \"p-1\"\nlease_s = 9\n");
        let n = Config::from_toml(&ok).unwrap().nats.unwrap();
        assert!(n.group);
        assert_eq!(n.poller_id.as_deref(), Some("p-1"));
        let e = errors(&format!(
            "{base}role = \"central\"\ngroup = true\nlease_s = 2\n"
        ));
        assert!(e.contains("nats.group: applies to role"), "{e}");
        assert!(e.contains("nats.lease_s: must be 3 to 300"), "{e}");
        let e = errors(&format!("{base}role = \"poller\"\npoller_id = \"a.b\"\n"));
        assert!(
            e.contains("nats.poller_id: applies with group = true"),
            "{e}"
        );
        assert!(e.contains("nats.poller_id: must be 1 to 64"), "{e}");
    }

    #[test]
    fn central_id_is_checked() {
        let base = "[nats]\nurl = \"nats://127.0.0.1:4222\"\nsite = \"noc\"\n";
        let n = Config::from_toml(&format!("{base}role = \"central\"\ncentral_id = \"c-2\"\n"))
            .unwrap()
            .nats
            .unwrap();
        assert_eq!(n.central_id.as_deref(), Some("c-2"));
        let e = errors(&format!("{base}role = \"poller\"\ncentral_id = \"a.b\"\n"));
        assert!(e.contains("nats.central_id: applies to role"), "{e}");
        assert!(e.contains("nats.central_id: must be 1 to 64"), "{e}");
    }

    #[test]
    fn bad_values_are_named_and_secrets_never_shown() {
        let e = errors(
            "[nats]\nurl = \"http://u:hunter2@x\"\nsite = \"a.b\"\nrole = \"central\"\nuser = \"u\"\nbackfill_per_s = 0\n",
        );
        assert!(e.contains("nats.url: must be nats://"), "{e}");
        assert!(e.contains("nats.site: must be 1 to 64"), "{e}");
        assert!(
            e.contains("nats.password: must be set with nats.user"),
            "{e}"
        );
        assert!(e.contains("nats.backfill_per_s"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = errors("[nats]\nurl = \"nats://x:4222\"\nsite = \"a\"\nrole = \"boss\"\n");
        assert!(e.contains("boss") || e.contains("variant"), "{e}");
        let e = errors(
            "[nats]\nurl = \"nats://x:4222\"\nsite = \"a\"\nrole = \"poller\"\nnkey_seed = \"env:NOCMAP_TEST_UNSET_SEED_VAR\"\n",
        );
        assert!(e.contains("NOCMAP_TEST_UNSET_SEED_VAR"), "{e}");
        let e = errors(
            "[nats]\nurl = \"nats://x:4222\"\nsite = \"a\"\nrole = \"poller\"\nnkey_seed = \"Xsecretseedtext\"\n",
        );
        assert!(e.contains("not an nkey seed"), "{e}");
        assert!(!e.contains("secretseedtext"), "{e}");
    }

    #[test]
    fn tls_files_are_named_when_missing_and_come_in_pairs() {
        let e = errors(
            "[nats]\nurl = \"tls://x:4222\"\nsite = \"a\"\nrole = \"poller\"\n\
             ca_file = \"/nonexistent/ca.pem\"\nclient_cert = \"/nonexistent/c.pem\"\n",
        );
        assert!(
            e.contains("nats.ca_file: /nonexistent/ca.pem is not a file"),
            "{e}"
        );
        assert!(
            e.contains("nats.client_key: must be set with nats.client_cert"),
            "{e}"
        );
        assert!(e.contains("/nonexistent/c.pem is not a file"), "{e}");
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let pair = format!("client_cert = \"{file}\"\nclient_key = \"{file}\"\n");
        let e = errors(&format!(
            "[nats]\nurl = \"nats://x:4222\"\nsite = \"a\"\nrole = \"poller\"\n{pair}"
        ));
        assert!(
            e.contains("nats.client_cert: applies to a tls:// url only"),
            "{e}"
        );
        let e = errors(&format!(
            "[nats]\nurl = \"tls://x:4222\"\nsite = \"a\"\nrole = \"poller\"\n{pair}"
        ));
        assert_eq!(e, "");
    }
}
