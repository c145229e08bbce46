//! The pollers' settings from the configuration and `serve`'s interval
//! overrides: per-device intervals, ICMP round shape, the address a
//! device's path is traced to, and how old SNMP data may be before it
//! reads stale. Pure.
use crate::config::Config;
use crate::poller::{MonitorSettings, SettingsFor};
use std::sync::Arc;
use std::time::Duration;

/// Each device's monitor settings: its configured intervals (groups,
/// devices) unless `--poll-interval` / `--icmp-interval` override them.
pub fn monitor_settings(
    config: &Config,
    poll_interval_s: Option<u64>,
    icmp_interval_s: Option<u64>,
) -> SettingsFor {
    let base = MonitorSettings {
        icmp_count: config.icmp.count,
        icmp_spacing: Duration::from_millis(config.icmp.interval_ms),
        icmp_timeout: Duration::from_millis(config.icmp.timeout_ms),
        vitals_interval: (config.poll.vitals_interval_s > 0)
            .then(|| Duration::from_secs(config.poll.vitals_interval_s)),
        path_interval: (config.poll.path_interval_s > 0)
            .then(|| Duration::from_secs(config.poll.path_interval_s)),
        counter_refresh: config.poll.counter_refresh,
        ..MonitorSettings::default()
    };
    let cfg = config.clone();
    Arc::new(move |d| {
        let iv = cfg.intervals_for(d.sys_name.as_deref(), d.mgmt_addr);
        MonitorSettings {
            icmp_interval: icmp_interval_s.map_or(iv.icmp, Duration::from_secs),
            snmp_interval: poll_interval_s.map_or(iv.snmp, Duration::from_secs),
            path_target: cfg.listed_address(d.mgmt_addr, &d.addresses),
            ..base.clone()
        }
    })
}

/// SNMP data is stale after three polls missed (`STALE_AFTER_ROUNDS`):
/// `--poll-interval` applies to every device; otherwise the longest
/// interval the config gives any device. (ICMP verdicts age per device,
/// with each one's own interval: `live::verdict_lifetime_ms`.)
pub fn stale_after_ms(config: &Config, poll_interval_s: Option<u64>) -> i64 {
    let every_s = poll_interval_s
        .unwrap_or_else(|| config.longest_snmp_interval_s())
        .max(1);
    i64::try_from(every_s.saturating_mul(u64::from(crate::live::STALE_AFTER_ROUNDS) * 1_000))
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_three_of_the_longest_snmp_interval_unless_overridden() {
        let config = Config::default();
        let longest = config.longest_snmp_interval_s().max(1) as i64;
        assert_eq!(stale_after_ms(&config, None), 3 * longest * 1_000);
        assert_eq!(stale_after_ms(&config, Some(6)), 18_000);
        assert_eq!(stale_after_ms(&config, Some(0)), 3_000);
        assert_eq!(stale_after_ms(&config, Some(u64::MAX)), i64::MAX);
    }
}
