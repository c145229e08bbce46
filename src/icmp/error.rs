//! Errors of the ICMP engine. Each names the operation and, where there is
//! one, the address. Timeouts and unreachable hosts are not errors: they are
//! results (loss in `PingStats`, absence from `SweepResult`).
use std::net::IpAddr;

use super::wire::Family;

#[derive(Debug, thiserror::Error)]
pub enum IcmpError {
    #[error(
        "no permission to open an ICMP socket ({family:?}): run as root, or \
         `setcap cap_net_raw+ep $(which nocmap)`, or allow DGRAM ping sockets \
         for your group with `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`"
    )]
    NotPermitted { family: Family },
    #[error("cannot open a {kind} ICMP socket ({family:?}): {source}")]
    Open {
        family: Family,
        kind: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set {op} on the ICMP socket ({family:?}): {source}")]
    SocketOption {
        op: &'static str,
        family: Family,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot register the ICMP socket with the async runtime: {0}")]
    Register(#[source] std::io::Error),
    #[error("the ICMP engine must be created inside a tokio runtime")]
    NoRuntime,
    #[error("no ICMP socket for {family:?} (it could not be opened: {reason})")]
    FamilyUnavailable { family: Family, reason: String },
    #[error("send to {target} failed: {source}")]
    Send {
        target: IpAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the ICMP receive loop ({family:?}) stopped during the round and is being \
         restarted ({restarts} restart(s) so far): replies may have gone unread, so \
         the round measured nothing"
    )]
    ReceiverDown { family: Family, restarts: u64 },
    #[error(
        "no permission to open a raw socket: tracing reads time-exceeded \
         messages, which only raw sockets receive; run as root or \
         `setcap cap_net_raw+ep $(which nocmap)`"
    )]
    TraceNotPermitted,
    #[error("waiting for replies failed: {0}")]
    Receive(#[source] std::io::Error),
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    #[error("invalid prefix {0}: {1}")]
    BadPrefix(String, String),
}
