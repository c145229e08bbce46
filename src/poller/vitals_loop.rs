//! The vitals read of one managed device: every `[poll] vitals_interval_s`,
//! its processor load, storage and sensors (`crate::vitals`) through the
//! shared SNMP transport, into the live state. Independent of the counter
//! poll: a device without those tables costs four short walks per interval,
//! and a failure only sets `vitals_error`. Each reading's summary figures
//! (`vitals::Summary`) go to the store as device series, so the history
//! and its rollups keep them. The ENTITY-MIB inventory is walked on the
//! first reading and then about hourly; readings between carry the last.
use super::{PollerContext, Ticker};
use crate::live::DeviceHealth;
use crate::snmp::{AgentSession, Credential, SnmpTransport};
use crate::topology::DeviceId;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

pub(super) async fn run(
    shared: Arc<PollerContext>,
    snmp: Arc<dyn SnmpTransport>,
    creds: Arc<Vec<Credential>>,
    device: DeviceId,
    addr: IpAddr,
    every: Duration,
    generation: u64,
) {
    let clock = shared.clock.clone();
    let mut ticker = Ticker::new(
        clock.mono_ms(),
        &format!("vitals {addr}"),
        every.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    let mut session: Option<Box<dyn AgentSession>> = None;
    let inventory_every = inventory_every(every);
    let mut reads_since_inventory = 0u32;
    let mut last_inventory: Option<crate::vitals::Inventory> = None;
    loop {
        tokio::select! {
            _ = clock.sleep_until_mono(ticker.due_ms()) => {}
            _ = stop.changed() => return,
        }
        if !shared.still_has(&device, generation) {
            return;
        }
        if session.is_none() {
            session = match snmp.clone().open(addr, &creds).await {
                Ok(s) => Some(s),
                Err(e) => {
                    record(&shared, &device, Err(e.to_string()), clock.wall_ms(), every);
                    ticker.finish(clock.mono_ms());
                    continue;
                }
            };
        }
        if let Some(s) = &session {
            let walk_inventory =
                last_inventory.is_none() || reads_since_inventory >= inventory_every;
            let mut read = crate::vitals::read::read(&**s, walk_inventory).await;
            match &mut read {
                Ok(v) if walk_inventory => {
                    last_inventory = v.inventory.clone();
                    reads_since_inventory = 1;
                }
                Ok(v) => {
                    v.inventory = last_inventory.clone();
                    reads_since_inventory += 1;
                }
                Err(_) => session = None,
            }
            if let Ok(v) = &read {
                let at = clock.wall_ms();
                let samples = v
                    .summary()
                    .series()
                    .into_iter()
                    .map(|(metric, value)| crate::store::Sample {
                        key: crate::store::SeriesKey::probe(&device.0, metric),
                        at,
                        value,
                    })
                    .collect();
                shared.write(samples, Vec::new());
            }
            record(
                &shared,
                &device,
                read.map_err(|e| e.to_string()),
                clock.wall_ms(),
                every,
            );
        }
        ticker.finish(clock.mono_ms());
    }
}

/// Readings between two inventory walks: about an hour's worth, at least 1.
fn inventory_every(every: Duration) -> u32 {
    let every = every.as_secs().max(1);
    u32::try_from(3600 / every).unwrap_or(u32::MAX).max(1)
}

fn record(
    shared: &PollerContext,
    device: &DeviceId,
    read: Result<crate::vitals::Vitals, String>,
    now: crate::types::UnixMillis,
    every: Duration,
) {
    shared.live.update_devices(|devices| {
        let h = devices
            .entry(device.clone())
            .or_insert_with(DeviceHealth::default);
        match read {
            Ok(v) => {
                h.vitals = Some(v);
                h.last_vitals_ms = Some(now);
                let life = every.as_millis().saturating_mul(3);
                h.vitals_stale_after_ms = Some(i64::try_from(life).unwrap_or(i64::MAX));
                h.vitals_error = None;
            }
            Err(e) => h.vitals_error = Some(e),
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_inventory_is_walked_about_hourly() {
        use std::time::Duration;
        assert_eq!(super::inventory_every(Duration::from_secs(300)), 12);
        assert_eq!(super::inventory_every(Duration::from_secs(2)), 1800);
        assert_eq!(super::inventory_every(Duration::from_secs(7200)), 1);
        assert_eq!(super::inventory_every(Duration::ZERO), 3600);
    }
}
