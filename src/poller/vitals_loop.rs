//! The vitals read of one managed device: every `[poll] vitals_interval_s`,
//! its processor load, storage and sensors (`crate::vitals`) through the
//! shared SNMP transport, into the live state. Independent of the counter
//! poll: a device without those tables costs four short walks per interval,
//! and a failure only sets `vitals_error`.
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
) {
    let clock = shared.clock.clone();
    let mut ticker = Ticker::new(
        clock.mono_ms(),
        &format!("vitals {addr}"),
        every.as_millis() as u64,
    );
    let mut stop = shared.stop.clone();
    let mut session: Option<Box<dyn AgentSession>> = None;
    loop {
        tokio::select! {
            _ = clock.sleep_until_mono(ticker.due_ms()) => {}
            _ = stop.changed() => return,
        }
        if !shared.still_has(&device) {
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
            let read = crate::vitals::read::read(&**s).await;
            if read.is_err() {
                session = None;
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
