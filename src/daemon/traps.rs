//! The trap receiver's wiring: its socket bound from `[traps] listen`
//! before discovery, then its settings (the rate, and the communities of
//! the v1/v2c credentials as the accepted ones, the v3 credentials named in
//! `v3_users` as USM users with their master keys, our engine id and
//! boots), the MIBs with the users' directories, and the pollers' waker.
use crate::config::Config;
use crate::live::Live;
use crate::mib::Mibs;
use crate::poller::PollWaker;
use crate::snmp::{Credential, SecurityLevel};
use crate::traps::usm::UsmUser;
use crate::traps::{BoundTraps, TrapReceiver, TrapSettings};
use async_snmp::MasterKeys;
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

#[allow(clippy::too_many_arguments)]
pub fn start(
    bound: BoundTraps,
    config: &Config,
    creds: &[Credential],
    live: Arc<Live>,
    db: &Path,
    waker: PollWaker,
    tap: Option<crate::store::EventTap>,
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
        v3_users: Vec::new(),
        engine: None,
    };
    let mut settings = settings;
    if let Some(t) = t.filter(|t| !t.v3_users.is_empty()) {
        settings.v3_users = usm_users(&t.v3_users, creds);
        let configured = t.engine_id.as_deref().and_then(crate::util::hex::parse);
        let path = crate::traps::engine::state_path(db);
        let (engine, warning) = crate::traps::engine::start(&path, configured.as_deref());
        if let Some(w) = warning {
            eprintln!("nocmap serve: warning: {w}");
        }
        eprintln!(
            "nocmap serve: SNMPv3 traps for {} user(s); our engine id {} (boots {})",
            settings.v3_users.len(),
            crate::util::hex::encode(&engine.id),
            engine.boots
        );
        settings.engine = Some(engine);
    }
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
        tap,
        stop,
    )
}

/// The v3 credentials named in `[traps] v3_users`, in the receiver's terms:
/// their master keys derived once here (the password expansion), localized
/// per engine id later. A credential whose keys cannot be derived (a
/// password under 8 characters) is left out with a warning naming it.
fn usm_users(names: &[String], creds: &[Credential]) -> Vec<UsmUser> {
    use async_snmp::message::SecurityLevel as Level;
    let mut users = Vec::new();
    for c in creds {
        let Credential::V3 {
            name,
            user,
            level,
            auth,
            privacy,
        } = c
        else {
            continue;
        };
        if !names.contains(name) {
            continue;
        }
        let min_level = match level {
            SecurityLevel::NoAuthNoPriv => Level::NoAuthNoPriv,
            SecurityLevel::AuthNoPriv => Level::AuthNoPriv,
            SecurityLevel::AuthPriv => Level::AuthPriv,
        };
        let keys = match auth {
            None => None,
            Some((a, ap)) => {
                let keys =
                    MasterKeys::new(a.lib(), ap.expose().as_bytes()).and_then(|k| match privacy {
                        Some((p, pp)) => k.with_privacy(p.lib(), pp.expose().as_bytes()),
                        None => Ok(k),
                    });
                match keys {
                    Ok(k) => Some(k),
                    Err(e) => {
                        eprintln!(
                            "nocmap serve: warning: v3 trap user of credential {name} left out: {e}"
                        );
                        continue;
                    }
                }
            }
        };
        users.push(UsmUser {
            name: user.as_bytes().to_vec(),
            min_level,
            keys,
        });
    }
    users
}
