//! `nocmap check-config FILE`: loads a configuration, prints every problem
//! as `FILE:LINE:COL: message` and exits 1, or prints a short summary (no
//! secrets) and exits 0. Owns only presentation; all checks live in
//! `nocmap::config`.
use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// Configuration file to check.
    pub file: PathBuf,
}

pub async fn run(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&args.file) {
        Ok(config) => {
            // The TLS files are read as serve would read them at start.
            if let (Some(cert), Some(key)) = (&config.server.tls_cert, &config.server.tls_key)
                && let Err(e) = crate::server::tls::acceptor(cert, key)
            {
                println!("{}: {e}", args.file.display());
                eprintln!("nocmap: 1 problem(s) in {}", args.file.display());
                return Ok(ExitCode::from(1));
            }
            println!("{}", summary(&args.file, &config));
            for w in refresh_warnings(&config) {
                eprintln!("nocmap: warning: {w}");
            }
            if !config.server.listen.ip().is_loopback() && config.server.tls_cert.is_none() {
                eprintln!(
                    "nocmap: warning: {} listens on {} over plain HTTP: tokens and data cross the network in clear; set [server] tls_cert and tls_key, or put a TLS proxy in front",
                    args.file.display(),
                    config.server.listen
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            println!("{errors}");
            eprintln!(
                "nocmap: {} problem(s) in {}",
                errors.errors.len(),
                args.file.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn summary(file: &std::path::Path, c: &Config) -> String {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    let creds = c.credential_names().into_iter().map(String::from).collect();
    let prefixes = c.discovery.prefixes.iter().map(|p| p.to_string()).collect();
    let seeds = c.discovery.seeds.iter().map(|s| s.to_string()).collect();
    let mut inventory = String::new();
    if let Some(path) = &c.inventory.file {
        inventory = format!(
            "\n  inventory: {} (discover: {})",
            path.display(),
            if c.inventory.discover { "yes" } else { "no" }
        );
        for s in &c.inventory_skipped {
            inventory.push_str(&format!(
                "\n    line {} `{}` not polled: {}",
                s.line,
                super::topology_text::plain(&s.name),
                s.reason
            ));
        }
    }
    // The URL carries no credentials (check-config refuses one that does);
    // the password or seed is never shown, only which kind is set.
    let nats = c.nats.as_ref().map_or(String::new(), |n| {
        let auth = match (&n.user, &n.nkey_seed) {
            (Some(u), _) => format!("user {u}"),
            (None, Some(_)) => "nkey".to_string(),
            (None, None) => "no credentials".to_string(),
        };
        let tls = match (n.url.starts_with("tls://"), &n.ca_file) {
            (false, _) => "no TLS".to_string(),
            (true, Some(ca)) => format!("TLS, CA {}", ca.display()),
            (true, None) => "TLS, the system's CAs".to_string(),
        };
        let cert = n.client_cert.as_ref().map_or(String::new(), |c| {
            format!(", client certificate {}", c.display())
        });
        let group = if n.group {
            format!(
                ", poller group (member {}, lease {} s)",
                n.poller_id.as_deref().unwrap_or("<host>-<pid>"),
                n.lease_s
            )
        } else {
            String::new()
        };
        format!(
            "\n  nats: site {} as {} via {} ({auth}; {tls}{cert}), backfill {}/s{group}",
            n.site,
            n.role.as_str(),
            n.url,
            n.backfill_per_s
        )
    });
    format!(
        "{}: ok\n  credentials: {}\n  prefixes: {}\n  seeds: {}\n  groups: {}, devices: {}{inventory}{nats}\n  listen: {} ({})",
        file.display(),
        list(creds),
        list(prefixes),
        list(seeds),
        c.groups.len(),
        c.devices.len(),
        c.server.listen,
        if c.server.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    )
}

/// Agents seen so far (the refresh periods `serve` learnt and stored in
/// the database, if there is one) whose counters refresh too seldom for
/// their configured poll interval: their rates cannot be exact.
fn refresh_warnings(c: &Config) -> Vec<String> {
    use crate::counters::refresh::{REFRESH_PERIOD_METRIC, refresh_fits};
    use crate::store::{Resolution, SeriesKey, Store, StoreConfig};
    use crate::types::UnixMillis;
    if !c.server.db.exists() {
        return Vec::new();
    }
    let Ok(store) = Store::open(&c.server.db, StoreConfig::default()) else {
        return Vec::new();
    };
    let Ok(Some((_, topology))) = store.latest_topology() else {
        return Vec::new();
    };
    let now = UnixMillis::now();
    let mut out = Vec::new();
    for d in &topology.devices {
        let key = SeriesKey::probe(&d.id.0, REFRESH_PERIOD_METRIC);
        let week = 7 * 24 * 3_600_000;
        let Ok(series) = store.series_at(&key, now - week, now, Resolution::Raw) else {
            continue;
        };
        let Some(period_s) = series.points.last().map(|p| p.avg) else {
            continue;
        };
        let interval = c.intervals_for(d.sys_name.as_deref(), d.mgmt_addr).snmp;
        if !refresh_fits(period_s * 1000.0, interval.as_millis() as u64) {
            out.push(format!(
                "{} refreshes its counters every {period_s:.1} s: its rates at the {} s poll interval cannot be exact (flagged inexact); {:.0} s or more would be",
                d.sys_name.as_deref().unwrap_or(&d.id.0),
                interval.as_secs(),
                (period_s / 0.8).ceil()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, Sample, SeriesKey, Store, StoreConfig};
    use crate::topology::{Device, Topology};
    use crate::types::UnixMillis;

    /// serve learnt that r9 refreshes every 10 s; check-config warns for a
    /// 10 s interval (10 > 0.8 x 10) and not for a 15 s one.
    #[test]
    fn warns_for_an_agent_that_refreshes_too_seldom_for_its_interval() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("seen.db");
        let mut store = Store::open(&db, StoreConfig::default()).unwrap();
        let mut d = Device::for_test("r9", false);
        d.sys_name = Some("r9".into());
        let topology = Topology {
            devices: vec![d],
            links: vec![],
        };
        let now = UnixMillis::now();
        store.save_topology(now, &topology).unwrap();
        store
            .write_batch(&Batch {
                samples: vec![Sample {
                    key: SeriesKey::probe("r9", crate::counters::refresh::REFRESH_PERIOD_METRIC),
                    at: now - 1_000,
                    value: 10.0,
                }],
                gaps: vec![],
            })
            .unwrap();
        drop(store);
        let mut c = Config::default();
        c.server.db = db;
        c.poll.snmp_interval_s = 10;
        let w = refresh_warnings(&c);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("r9 refreshes its counters every 10.0 s"),
            "{w:?}"
        );
        assert!(w[0].contains("13 s or more"), "{w:?}");
        c.poll.snmp_interval_s = 15;
        assert!(refresh_warnings(&c).is_empty());
    }
}
