//! The syslog receiver's wiring: its sockets bound from `[syslog]` before
//! discovery (and its TLS pair read), then the loops and the writer.
use crate::config::Config;
use crate::live::Live;
use crate::syslog::{BoundSyslog, SyslogReceiver, SyslogSettings, TlsListen};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;

/// The receiver's own settings from `[syslog]`.
fn settings(config: &Config) -> Option<SyslogSettings> {
    let s = config.syslog.as_ref()?;
    let tls = match (s.listen_tls, &s.cert, &s.key) {
        (Some(listen), Some(cert), Some(key)) => Some(TlsListen {
            listen,
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    Some(SyslogSettings {
        listen_udp: s.listen_udp,
        listen_tcp: s.listen_tcp,
        tls,
    })
}

/// The bound sockets when `[syslog]` is configured.
pub fn bind(config: &Config) -> anyhow::Result<Option<BoundSyslog>> {
    let Some(s) = settings(config) else {
        return Ok(None);
    };
    let bound = crate::syslog::bind(&s)?;
    for (proto, addr) in [
        ("udp", bound.local_udp),
        ("tcp", bound.local_tcp),
        ("tls", bound.local_tls),
    ] {
        if let Some(a) = addr {
            eprintln!("nocmap serve: receiving syslog on {proto} {a}");
        }
    }
    Ok(Some(bound))
}

pub fn start(
    bound: BoundSyslog,
    config: &Config,
    live: Arc<Live>,
    db: &Path,
    tap: Option<crate::store::EventTap>,
    stop: watch::Receiver<bool>,
) -> SyslogReceiver {
    crate::syslog::start(
        bound,
        live,
        db.to_path_buf(),
        config.store.store_config(),
        tap,
        stop,
    )
}
