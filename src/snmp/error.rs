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
    /// The request could not be sent or the host refused it (no route,
    /// ICMP unreachable): nothing about the agent itself.
    #[error("{target}: cannot reach the agent: {detail}")]
    Network { target: SocketAddr, detail: String },
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
            K::Network => SnmpError::Network {
                target,
                detail: network_detail(e),
            },
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

/// The OS reason of a network error, without the library's repetition of
/// the target ("network error communicating with …: No route to host").
fn network_detail(e: &async_snmp::Error) -> String {
    match e {
        async_snmp::Error::Network { source, .. } => source.to_string(),
        async_snmp::Error::Exchange { source, .. } => network_detail(source),
        async_snmp::Error::SharedOperation { source } => network_detail(source),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_error_says_the_agent_cannot_be_reached() {
        let target: SocketAddr = "192.0.2.1:161".parse().unwrap();
        let lib = async_snmp::Error::Network {
            target,
            source: std::io::Error::from_raw_os_error(101),
        };
        let e = SnmpError::from_lib(target, 1000, 2, &lib);
        assert!(matches!(e, SnmpError::Network { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("192.0.2.1:161: cannot reach the agent: Network is unreachable"),
            "{text}"
        );
    }
}
