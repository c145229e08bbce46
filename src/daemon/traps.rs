//! The trap receiver's wiring: its socket bound from `[traps] listen`
//! before discovery, then its settings (the rate, and the communities of
//! the v1/v2c credentials as the accepted ones), the MIBs with the users'
//! directories, and the pollers' waker.
use crate::config::Config;
use crate::live::Live;
use crate::mib::Mibs;
use crate::poller::PollWaker;
use crate::snmp::Credential;
use crate::traps::{BoundTraps, TrapReceiver, TrapSettings};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;

/// The bound socket when `[traps]` is configured.
pub fn bind(config: &Config) -> anyhow::Result<Option<BoundTraps>> {
    let Some(t) = &config.traps else {
        return Ok(None);
    };
    let bound = crate::traps::bind(t.listen)?;
    eprintln!("nocmap serve: receiving SNMP traps on udp {}", bound.local);
    Ok(Some(bound))
}

pub fn start(
    bound: BoundTraps,
    config: &Config,
    creds: &[Credential],
    live: Arc<Live>,
    db: &Path,
    waker: PollWaker,
    stop: watch::Receiver<bool>,
) -> TrapReceiver {
    let t = config.traps.as_ref();
    let communities = creds
        .iter()
        .filter_map(|c| match c {
            Credential::V1 { community, .. } | Credential::V2c { community, .. } => {
                Some(community.clone())
            }
            Credential::V3 { .. } => None,
        })
        .collect();
    let settings = TrapSettings {
        listen: bound.local,
        rate_per_s: t.map_or_else(crate::config::defaults::traps_rate_per_s, |t| t.rate_per_s),
        burst: t.map_or_else(crate::config::defaults::traps_burst, |t| t.burst),
        communities,
    };
    let mut mibs = Mibs::bundled();
    for dir in &config.snmp.mib_dirs {
        if let Err(e) = mibs.load_dir(dir) {
            eprintln!(
                "nocmap serve: warning: traps are named without {}: {e}",
                dir.display()
            );
        }
    }
    crate::traps::start(
        bound,
        settings,
        live,
        Arc::new(mibs),
        db.to_path_buf(),
        config.store.store_config(),
        waker,
        stop,
    )
}
