//! Default values of every optional configuration key, in one place so the
//! documentation (examples/nocmap.toml) and the code can be checked against
//! each other. Values only; no parsing.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub fn snmp_timeout_ms() -> u64 {
    1000
}
pub fn snmp_retries() -> u32 {
    1
}
pub fn snmp_max_repetitions() -> u32 {
    25
}
pub fn snmp_per_agent_in_flight() -> u32 {
    4
}
pub fn snmp_global_in_flight() -> u32 {
    256
}
pub fn snmp_port() -> u16 {
    161
}
pub fn icmp_count() -> u32 {
    3
}
pub fn icmp_interval_ms() -> u64 {
    1000
}
pub fn icmp_timeout_ms() -> u64 {
    1000
}
pub fn icmp_rate_pps() -> u32 {
    1000
}
/// No limit: the prefixes bound the crawl (the same as
/// `discovery::crawl::DEFAULT_DEPTH`, which this layer cannot import).
pub fn discovery_depth() -> u32 {
    u32::MAX
}
pub fn poll_icmp_interval_s() -> u64 {
    10
}
pub fn poll_snmp_interval_s() -> u64 {
    60
}
pub fn poll_vitals_interval_s() -> u64 {
    300
}
pub fn server_listen() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)
}
pub fn server_db() -> PathBuf {
    PathBuf::from("nocmap.db")
}
pub fn remote_write_interval_s() -> u64 {
    30
}
pub fn remote_write_timeout_ms() -> u64 {
    5000
}
pub fn remote_write_queue_len() -> u32 {
    64
}

pub fn server_rate_limit_per_s() -> f64 {
    50.0
}

pub fn server_rate_limit_burst() -> f64 {
    200.0
}

pub fn server_max_streams_per_client() -> usize {
    32
}

pub fn server_max_connections_per_client() -> usize {
    256
}

pub fn server_max_connections() -> usize {
    4096
}

pub fn server_api_nice() -> u8 {
    10
}

pub fn alert_flap_changes() -> u32 {
    6
}
pub fn alert_flap_window_s() -> u64 {
    600
}
pub fn receiver_timeout_ms() -> u64 {
    5000
}

/// Prometheus resends firing alerts to Alertmanager every minute.
pub fn receiver_resend_s() -> u64 {
    60
}

pub fn store_durability() -> super::model::StoreDurability {
    super::model::StoreDurability::Full
}

pub fn store_raw_retention_days() -> u32 {
    2
}

pub fn store_five_min_retention_days() -> u32 {
    30
}

pub fn store_hour_retention_days() -> u32 {
    365
}

pub fn traps_rate_per_s() -> f64 {
    50.0
}

pub fn traps_burst() -> f64 {
    200.0
}
