//! The server's own settings from its sections of the configuration: the
//! API tokens (`[server]`) and remote write (`[remote_write]`). The server
//! is handed these, never the whole `Config`.
use super::AuthConfig;
use super::remote_write::{RemoteAuth, Settings};
use crate::config::{RemoteWriteConfig, ServerConfig};
use crate::util::http::Destination;
use std::time::Duration;

/// The HTTP server's tokens; `None` when no token is configured.
pub fn auth(server: &ServerConfig) -> Option<AuthConfig> {
    Some(AuthConfig {
        admin_token: server.token.clone()?,
        read_only_token: server.read_only_token.clone(),
    })
}

/// Remote-write settings; `None` without a `[remote_write]` section or
/// (only possible for a config that failed validation) a bad URL.
pub fn remote_write(rw: Option<&RemoteWriteConfig>) -> Option<Settings> {
    let rw = rw?;
    let auth = match (
        &rw.bearer_token,
        &rw.basic_auth_user,
        &rw.basic_auth_password,
    ) {
        (Some(t), _, _) => Some(RemoteAuth::Bearer(t.clone())),
        (None, Some(user), Some(password)) => Some(RemoteAuth::Basic {
            user: user.clone(),
            password: password.clone(),
        }),
        _ => None,
    };
    Some(Settings {
        endpoint: Destination::new(&rw.url, &rw.tls_files()).ok()?,
        interval: Duration::from_secs(rw.interval_s.max(1)),
        timeout: Duration::from_millis(rw.timeout_ms.max(1)),
        queue_len: rw.queue_len.max(1) as usize,
        auth,
        labels: rw
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}
