//! Typed errors of the SNMP engine. Every variant names the agent; none can
//! carry a community or a v3 password (the library's errors never include
//! them, and ours are built from addresses and statuses only).
use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum SnmpError {
    #[error("{target}: no answer within {timeout_ms} ms x {attempts} attempt(s)")]
    Timeout {
        target: SocketAddr,
        timeout_ms: u64,
        attempts: u32,
    },
    #[error("{target}: authentication failed ({detail})")]
    Auth { target: SocketAddr, detail: String },
    #[error("{target}: none of the credential sets worked (tried {tried})")]
    NoCredential { target: SocketAddr, tried: String },
    #[error("{target}: agent returned error status {status}")]
    Agent { target: SocketAddr, status: String },
    #[error("{target}: malformed or unexpected response: {detail}")]
    Protocol { target: SocketAddr, detail: String },
    #[error("cannot open the SNMP transport on {bind}: {detail}")]
    Transport { bind: String, detail: String },
    #[error("bad SNMP settings: {0}")]
    Config(String),
}

impl SnmpError {
    /// Map a library error to ours, keeping the target named.
    pub(crate) fn from_lib(
        target: SocketAddr,
        settings_timeout_ms: u64,
        attempts: u32,
        e: &async_snmp::Error,
    ) -> Self {
        use async_snmp::ErrorKind as K;
        match e.kind() {
            K::Timeout | K::ConstructionTimeout => SnmpError::Timeout {
                target,
                timeout_ms: settings_timeout_ms,
                attempts,
            },
            K::Auth | K::Privacy => SnmpError::Auth {
                target,
                detail: e.to_string(),
            },
            K::Report => SnmpError::Auth {
                target,
                detail: e.to_string(),
            },
            K::Snmp => SnmpError::Agent {
                target,
                status: e.to_string(),
            },
            K::Config | K::InvalidOid => SnmpError::Config(e.to_string()),
            _ => SnmpError::Protocol {
                target,
                detail: e.to_string(),
            },
        }
    }

    /// True when the agent (or the path to it) did not answer at all.
    pub fn is_timeout(&self) -> bool {
        matches!(self, SnmpError::Timeout { .. })
    }
}
