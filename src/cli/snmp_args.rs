//! SNMP flags shared by every subcommand that talks to agents, spelled like
//! net-snmp's (`-v -c -u -l -a -A -x -X -t -r`), and their conversion to the
//! engine's credential and settings types.
use crate::snmp::{AuthProto, Credential, PrivProto, SecurityLevel, SnmpSettings};
use crate::types::Secret;
use anyhow::{Context, bail};
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct SnmpArgs {
    /// SNMP version: 1, 2c or 3.
    #[arg(short = 'v', long = "snmp-version", default_value = "2c")]
    pub version: String,
    /// Community (v1/v2c); repeat to try several in order. Also NOCMAP_COMMUNITY.
    #[arg(
        short = 'c',
        long = "community",
        env = "NOCMAP_COMMUNITY",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub community: Vec<String>,
    /// v3 security name.
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// v3 security level: noAuthNoPriv, authNoPriv or authPriv.
    #[arg(short = 'l', long = "level")]
    pub level: Option<String>,
    /// v3 authentication protocol: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512.
    #[arg(short = 'a', long = "auth-protocol")]
    pub auth_protocol: Option<String>,
    /// v3 authentication passphrase. Also NOCMAP_AUTH_PASS.
    #[arg(
        short = 'A',
        long = "auth-pass",
        env = "NOCMAP_AUTH_PASS",
        hide_env_values = true
    )]
    pub auth_pass: Option<String>,
    /// v3 privacy protocol: DES, AES, AES-192, AES-256.
    #[arg(short = 'x', long = "priv-protocol")]
    pub priv_protocol: Option<String>,
    /// v3 privacy passphrase. Also NOCMAP_PRIV_PASS.
    #[arg(
        short = 'X',
        long = "priv-pass",
        env = "NOCMAP_PRIV_PASS",
        hide_env_values = true
    )]
    pub priv_pass: Option<String>,
    /// Timeout per attempt, in seconds.
    #[arg(short = 't', long = "timeout", default_value_t = 1.0)]
    pub timeout_s: f64,
    /// Retransmissions after the first attempt.
    #[arg(short = 'r', long = "retries", default_value_t = 1)]
    pub retries: u32,
    /// GETBULK max-repetitions.
    #[arg(long = "max-repetitions", default_value_t = 25)]
    pub max_repetitions: u32,
    /// Agent UDP port.
    #[arg(long = "port", default_value_t = 161)]
    pub port: u16,
}

impl SnmpArgs {
    pub fn settings(&self) -> anyhow::Result<SnmpSettings> {
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0 && self.timeout_s <= 600.0) {
            bail!(
                "timeout must be between 0 and 600 seconds, got {}",
                self.timeout_s
            );
        }
        Ok(SnmpSettings {
            timeout: Duration::from_secs_f64(self.timeout_s),
            retries: self.retries,
            max_repetitions: self.max_repetitions.max(1),
            port: self.port,
            ..SnmpSettings::default()
        })
    }

    /// The credential sets these flags describe, in the order to try them.
    pub fn credentials(&self) -> anyhow::Result<Vec<Credential>> {
        match self.version.as_str() {
            "1" | "2c" | "2" => {
                let communities = if self.community.is_empty() {
                    vec!["public".to_string()]
                } else {
                    self.community.clone()
                };
                Ok(communities
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let name = format!("cli-community-{}", i + 1);
                        if self.version == "1" {
                            Credential::V1 {
                                name,
                                community: Secret::new(c),
                            }
                        } else {
                            Credential::V2c {
                                name,
                                community: Secret::new(c),
                            }
                        }
                    })
                    .collect())
            }
            "3" => {
                let user = self.user.clone().context("SNMPv3 needs a user (-u)")?;
                let auth = match (&self.auth_protocol, &self.auth_pass) {
                    (Some(p), Some(pass)) => Some((
                        AuthProto::parse(p).with_context(|| format!("unknown auth protocol {p:?} (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512)"))?,
                        Secret::new(pass.clone()),
                    )),
                    (None, Some(pass)) => Some((AuthProto::Md5, Secret::new(pass.clone()))),
                    _ => None,
                };
                let privacy = match (&self.priv_protocol, &self.priv_pass) {
                    (Some(p), Some(pass)) => Some((
                        PrivProto::parse(p).with_context(|| {
                            format!("unknown privacy protocol {p:?} (DES, AES, AES-192, AES-256)")
                        })?,
                        Secret::new(pass.clone()),
                    )),
                    (None, Some(pass)) => Some((PrivProto::Des, Secret::new(pass.clone()))),
                    _ => None,
                };
                let level = match &self.level {
                    Some(l) => SecurityLevel::parse(l).with_context(|| {
                        format!("unknown security level {l:?} (noAuthNoPriv, authNoPriv, authPriv)")
                    })?,
                    None if privacy.is_some() => SecurityLevel::AuthPriv,
                    None if auth.is_some() => SecurityLevel::AuthNoPriv,
                    None => SecurityLevel::NoAuthNoPriv,
                };
                if matches!(level, SecurityLevel::AuthNoPriv | SecurityLevel::AuthPriv)
                    && auth.is_none()
                {
                    bail!("security level {level:?} needs an auth passphrase (-A)");
                }
                if level == SecurityLevel::AuthPriv && privacy.is_none() {
                    bail!("security level authPriv needs a privacy passphrase (-X)");
                }
                Ok(vec![Credential::V3 {
                    name: "cli-v3".into(),
                    user,
                    level,
                    auth,
                    privacy,
                }])
            }
            other => bail!("unknown SNMP version {other:?} (use 1, 2c or 3)"),
        }
    }
}

/// Resolve a host argument (address or name) to one IP address.
pub async fn resolve_host(host: &str) -> anyhow::Result<std::net::IpAddr> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let mut addrs = tokio::net::lookup_host((host, 0))
        .await
        .with_context(|| format!("cannot resolve host {host:?}"))?;
    addrs
        .next()
        .map(|a| a.ip())
        .with_context(|| format!("host {host:?} has no address"))
}
