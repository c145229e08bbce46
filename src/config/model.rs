//! The configuration as plain typed data (what `nocmap.toml` deserializes
//! into). Every struct denies unknown fields and takes its defaults from
//! `defaults`; a section with an `impl Default` is `#[serde(default)]`, so
//! a missing key takes the value that impl gives (each default written
//! once). No I/O and no validation here: see `validate.rs`.
use super::defaults;
use super::secret::Secret;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub snmp: SnmpConfig,
    /// Tried in order against an agent until one answers.
    #[serde(default)]
    pub credentials: Vec<Credential>,
    #[serde(default)]
    pub icmp: IcmpConfig,
    #[serde(default)]
    pub discovery: DiscoveryConfig,
    #[serde(default)]
    pub poll: PollConfig,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub store: StoreSection,
    /// Optional push of the `/metrics` series to a Prometheus remote-write
    /// receiver; absent means no push.
    #[serde(default)]
    pub remote_write: Option<RemoteWriteConfig>,
    /// The SNMP trap and inform receiver of `serve`; absent means none.
    #[serde(default)]
    pub traps: Option<TrapsConfig>,
    /// Multi-site over NATS JetStream; absent means one box, as before.
    #[serde(default)]
    pub nats: Option<super::model_nats::NatsConfig>,
    /// The syslog receiver of `serve`; absent means none.
    #[serde(default)]
    pub syslog: Option<SyslogConfig>,
    /// Alert rules (`[[alert]]`), maintenance windows and webhook receivers.
    #[serde(default, rename = "alert")]
    pub alerts: Vec<super::model_alerts::AlertRule>,
    #[serde(default)]
    pub maintenance: Vec<super::model_alerts::Maintenance>,
    #[serde(default, rename = "receiver")]
    pub receivers: Vec<super::model_alerts::Receiver>,
    /// A static inventory: devices listed in a CSV file.
    #[serde(default)]
    pub inventory: super::inventory::InventorySection,
    /// Inventory rows that name no address, each with its reason (filled
    /// when the file is read).
    #[serde(skip)]
    pub inventory_skipped: Vec<super::inventory::Skipped>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnmpConfig {
    pub timeout_ms: u64,
    pub retries: u32,
    pub max_repetitions: u32,
    pub per_agent_in_flight: u32,
    pub global_in_flight: u32,
    pub port: u16,
    /// Extra MIB directories, loaded after the bundled modules.
    pub mib_dirs: Vec<PathBuf>,
}

impl Default for SnmpConfig {
    fn default() -> Self {
        SnmpConfig {
            timeout_ms: defaults::snmp_timeout_ms(),
            retries: defaults::snmp_retries(),
            max_repetitions: defaults::snmp_max_repetitions(),
            per_agent_in_flight: defaults::snmp_per_agent_in_flight(),
            global_in_flight: defaults::snmp_global_in_flight(),
            port: defaults::snmp_port(),
            mib_dirs: Vec::new(),
        }
    }
}

impl SnmpConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SnmpVersion {
    #[serde(rename = "1")]
    V1,
    #[serde(rename = "2c")]
    V2c,
    #[serde(rename = "3")]
    V3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SecurityLevel {
    #[serde(rename = "noAuthNoPriv")]
    NoAuthNoPriv,
    #[serde(rename = "authNoPriv")]
    AuthNoPriv,
    #[serde(rename = "authPriv")]
    AuthPriv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthProtocol {
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "SHA")]
    Sha1,
    #[serde(rename = "SHA-224")]
    Sha224,
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PrivProtocol {
    #[serde(rename = "DES")]
    Des,
    #[serde(rename = "AES")]
    Aes128,
    #[serde(rename = "AES-192")]
    Aes192,
    #[serde(rename = "AES-256")]
    Aes256,
}

/// One SNMP credential. Secrets are resolved (`env:`/`file:`) at load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub name: String,
    pub version: SnmpVersion,
    /// v1 / v2c only.
    pub community: Option<Secret>,
    /// v3 only: the USM user name (not secret).
    pub user: Option<String>,
    pub security_level: Option<SecurityLevel>,
    pub auth_protocol: Option<AuthProtocol>,
    pub auth_password: Option<Secret>,
    pub priv_protocol: Option<PrivProtocol>,
    pub priv_password: Option<Secret>,
    /// v3 context name, empty by default.
    pub context: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcmpConfig {
    pub count: u32,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// Upper bound on echo requests sent per second, all targets together.
    pub rate_pps: u32,
}

impl Default for IcmpConfig {
    fn default() -> Self {
        IcmpConfig {
            count: defaults::icmp_count(),
            interval_ms: defaults::icmp_interval_ms(),
            timeout_ms: defaults::icmp_timeout_ms(),
            rate_pps: defaults::icmp_rate_pps(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Where discovery starts.
    pub seeds: Vec<IpAddr>,
    /// The only ranges ever probed; every seed must lie inside one.
    pub prefixes: Vec<Prefix>,
    /// How many neighbour hops to follow from the seeds.
    pub depth: u32,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            seeds: Vec::new(),
            prefixes: Vec::new(),
            depth: defaults::discovery_depth(),
        }
    }
}

impl DiscoveryConfig {
    /// Whether `addr` lies inside one of the configured prefixes.
    pub fn allows(&self, addr: IpAddr) -> bool {
        self.prefixes.iter().any(|p| p.0.contains(&addr))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollConfig {
    pub icmp_interval_s: u64,
    pub snmp_interval_s: u64,
    /// CPU, storage and sensors of every managed device (0: never).
    pub vitals_interval_s: u64,
    /// The path (a trace) from this host to every monitored device (0,
    /// the default: never). Needs CAP_NET_RAW.
    pub path_interval_s: u64,
    /// Watch each agent's counter refreshes so rates are over the span
    /// the values cover (a few extra GETs per poll); off: rates over the
    /// poll interval, flagged inexact.
    pub counter_refresh: bool,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            icmp_interval_s: defaults::poll_icmp_interval_s(),
            snmp_interval_s: defaults::poll_snmp_interval_s(),
            vitals_interval_s: defaults::poll_vitals_interval_s(),
            path_interval_s: 0,
            counter_refresh: true,
        }
    }
}

/// Overrides for the devices matching a name pattern and/or a prefix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    /// Glob (`*`, `?`) on the device name.
    pub pattern: Option<String>,
    pub prefix: Option<Prefix>,
    pub icmp_interval_s: Option<u64>,
    pub snmp_interval_s: Option<u64>,
    /// Credential names to try, in order, instead of all of them.
    #[serde(default)]
    pub credentials: Vec<String>,
    /// Labels for alert scopes; every group that matches a device adds its tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Overrides for one device, by address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub name: String,
    pub address: IpAddr,
    pub group: Option<String>,
    pub icmp_interval_s: Option<u64>,
    pub snmp_interval_s: Option<u64>,
    #[serde(default)]
    pub credentials: Vec<String>,
    /// Labels for alert scopes (added to its groups' tags).
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub db: PathBuf,
    /// Admin bearer token: every API route and `/metrics`, and the routes
    /// that change state. Required when `listen` is not a loopback address.
    pub token: Option<Secret>,
    /// Read-only bearer token: every read route, never a write route.
    pub read_only_token: Option<Secret>,
    /// Requests per second one client address may send, sustained (0: no
    /// limit), and the burst an idle client may send at once.
    pub rate_limit_per_s: f64,
    pub rate_limit_burst: f64,
    /// Live-feed (`/api/events`) streams one client address may hold open.
    pub max_streams_per_client: usize,
    /// CPU niceness (0-19) of the web server's threads: under a burst of
    /// API work the pollers' threads (nice 0) run first, so polls keep
    /// their schedule. 0 runs the API at the pollers' priority.
    pub api_nice: u8,
    /// HTTPS: the certificate chain (PEM, the server's own certificate
    /// first) and its private key (PEM). Both or neither; without them the
    /// server speaks plain HTTP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// HTTPS only: announce HSTS (`Strict-Transport-Security: max-age=N`)
    /// so browsers use nothing but HTTPS for the server's name for N
    /// seconds. Off unless set: with a self-signed certificate it would
    /// stop browsers from letting users past the warning.
    pub hsts_max_age_s: Option<u64>,
    /// Host names clients use for this server: when it listens beyond
    /// loopback, a request whose `Host` is neither one of them nor the
    /// address it connected to is refused (421), so a page whose DNS name
    /// was re-pointed at the server (DNS rebinding) cannot use it.
    pub allowed_hosts: Vec<String>,
    /// Connections one client address (an IPv6 client: its /64) may hold
    /// open at once, and the server in total; over either a new connection
    /// is closed at once.
    pub max_connections_per_client: usize,
    pub max_connections: usize,
}

/// `[store]`: how the SQLite file keeps what it is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSection {
    /// `full` (the default): every commit (at most one a second) is synced
    /// to disk, so a power cut loses nothing committed. `normal`: a commit
    /// survives a crash of nocmap but an OS crash or power cut may lose the
    /// last seconds before a checkpoint (saves about one fsync a second).
    pub durability: StoreDurability,
    /// How long raw samples, 5-minute and 1-hour rollups are kept.
    pub raw_retention_days: u32,
    pub five_min_retention_days: u32,
    pub hour_retention_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreDurability {
    Full,
    Normal,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            durability: defaults::store_durability(),
            raw_retention_days: defaults::store_raw_retention_days(),
            five_min_retention_days: defaults::store_five_min_retention_days(),
            hour_retention_days: defaults::store_hour_retention_days(),
        }
    }
}

impl StoreSection {
    /// The store's settings from this section (read spans stay the store's
    /// defaults; validation keeps raw retention above the raw read span).
    pub fn store_config(&self) -> crate::store::StoreConfig {
        const DAY: u64 = 86_400;
        crate::store::StoreConfig {
            raw_retention: Duration::from_secs(u64::from(self.raw_retention_days) * DAY),
            five_min_retention: Duration::from_secs(u64::from(self.five_min_retention_days) * DAY),
            hour_retention: Duration::from_secs(u64::from(self.hour_retention_days) * DAY),
            durability: match self.durability {
                StoreDurability::Full => crate::store::Durability::Full,
                StoreDurability::Normal => crate::store::Durability::Normal,
            },
            ..crate::store::StoreConfig::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: defaults::server_listen(),
            db: defaults::server_db(),
            token: None,
            read_only_token: None,
            rate_limit_per_s: defaults::server_rate_limit_per_s(),
            rate_limit_burst: defaults::server_rate_limit_burst(),
            max_streams_per_client: defaults::server_max_streams_per_client(),
            api_nice: defaults::server_api_nice(),
            tls_cert: None,
            tls_key: None,
            hsts_max_age_s: None,
            allowed_hosts: Vec::new(),
            max_connections_per_client: defaults::server_max_connections_per_client(),
            max_connections: defaults::server_max_connections(),
        }
    }
}

/// `[traps]`: where `serve` receives SNMP notifications. The accepted v1/v2c
/// communities are those of the v1/2c `[[credentials]]` (any, when there
/// are none); the SNMPv3 users are version 3 `[[credentials]]` named in
/// `v3_users` (their user, protocols and `env:`/`file:` passwords).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapsConfig {
    /// UDP address, e.g. `0.0.0.0:162` (ports below 1024 need
    /// CAP_NET_BIND_SERVICE).
    pub listen: SocketAddr,
    /// Notifications a second per sender; more are dropped and counted.
    #[serde(default = "defaults::traps_rate_per_s")]
    pub rate_per_s: f64,
    /// Notifications a sender may send at once before the rate applies.
    #[serde(default = "defaults::traps_burst")]
    pub burst: f64,
    /// Names of version 3 `[[credentials]]` whose traps and informs are
    /// accepted (from any sender engine id; informs go to ours).
    #[serde(default)]
    pub v3_users: Vec<String>,
    /// Our own SNMP engine id in hex (informs, discovery); default: a
    /// random one kept beside the database.
    pub engine_id: Option<String>,
}

/// `[syslog]`: where `serve` receives syslog (RFC 5424 and RFC 3164). At
/// least one listen address; ports below 1024 (514, 6514) need
/// CAP_NET_BIND_SERVICE.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// UDP address, e.g. `0.0.0.0:514`.
    #[serde(default)]
    pub listen_udp: Option<SocketAddr>,
    /// TCP address (octet-counted or LF-framed, RFC 6587).
    #[serde(default)]
    pub listen_tcp: Option<SocketAddr>,
    /// TLS address (RFC 5425, e.g. `0.0.0.0:6514`); needs `cert` and `key`.
    #[serde(default)]
    pub listen_tls: Option<SocketAddr>,
    /// PEM certificate chain for `listen_tls`.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// PEM private key for `listen_tls`.
    #[serde(default)]
    pub key: Option<PathBuf>,
}

/// Where and how to push metrics with the Prometheus remote-write protocol.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// The receiver, `http://` or `https://host:port/path`.
    pub url: String,
    #[serde(default = "defaults::remote_write_interval_s")]
    pub interval_s: u64,
    /// Per request: connect, send and read the answer.
    #[serde(default = "defaults::remote_write_timeout_ms")]
    pub timeout_ms: u64,
    /// Pushes kept while the receiver is failing; the oldest is dropped.
    #[serde(default = "defaults::remote_write_queue_len")]
    pub queue_len: u32,
    pub bearer_token: Option<Secret>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password: Option<Secret>,
    /// Extra labels added to every series (e.g. `site = "lab"`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `https://` only: PEM CA certificates trusted instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// `https://` only: a client certificate (PEM chain) with `client_key`.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl RemoteWriteConfig {
    /// The TLS files of the connection.
    pub fn tls_files(&self) -> crate::util::http_tls::TlsFiles {
        crate::util::http_tls::TlsFiles {
            ca_file: self.ca_file.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        }
    }
}

/// A network prefix in CIDR form with no host bits set (`10.1.0.0/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix(pub IpNet);

impl std::str::FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let net: IpNet = s
            .parse()
            .map_err(|_| format!("`{s}` is not a CIDR prefix like 10.0.0.0/24"))?;
        if net.trunc() != net {
            return Err(format!(
                "`{s}` has host bits set; did you mean {}?",
                net.trunc()
            ));
        }
        Ok(Prefix(net))
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
