//! Test-only helpers for the scenario tests of the monitor's loops: a
//! store that records batches (and fails on demand), devices with SNMP
//! interfaces, an agent's counter table, and a monitor started on scripted
//! handles and tokio's paused clock.
use super::writer::SampleStore;
use super::{Monitor, MonitorSettings, SettingsFor};
use crate::icmp::Pinger;
use crate::io::Io;
use crate::live::Live;
use crate::snmp::scripted::Scripted;
use crate::snmp::{Credential, Value};
use crate::store::{Batch, GapRecord, Sample, StoreError};
use crate::topology::{Device, Interface, Topology};
use crate::types::UnixMillis;
use crate::util::clock::TokioClock;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Wall time at the start of every scenario.
pub const WALL_START: UnixMillis = UnixMillis(1_800_000_000_000);

/// A store that keeps every batch it is given; while `failing`, writes
/// fail like a read-only file system.
#[derive(Clone, Default)]
pub struct Recorder {
    pub batches: Arc<Mutex<Vec<Batch>>>,
    pub failing: Arc<AtomicBool>,
    pub reopens: Arc<Mutex<u32>>,
    /// The `now` of every rollup and retention run.
    pub maintained: Arc<Mutex<Vec<UnixMillis>>>,
    /// The events the pollers queued.
    pub events: Arc<Mutex<Vec<crate::store::EventRow>>>,
}

impl Recorder {
    pub fn samples(&self) -> Vec<Sample> {
        let b = self.batches.lock().unwrap();
        b.iter().flat_map(|b| b.samples.clone()).collect()
    }

    pub fn gaps(&self) -> Vec<GapRecord> {
        let b = self.batches.lock().unwrap();
        b.iter().flat_map(|b| b.gaps.clone()).collect()
    }

    /// Values of one interface metric, in time order.
    pub fn series(&self, device: &str, iface: &str, metric: &str) -> Vec<(i64, f64)> {
        let mut v: Vec<(i64, f64)> = self
            .samples()
            .into_iter()
            .filter(|s| s.key.device == device && s.key.subject == iface && s.key.metric == metric)
            .map(|s| (s.at.0, s.value))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }

    fn fail_if_asked(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::ReadOnly {
                path: PathBuf::from("recorder"),
            });
        }
        Ok(())
    }
}

impl SampleStore for Recorder {
    fn write_batch(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.fail_if_asked()?;
        self.batches.lock().unwrap().push(batch.clone());
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        *self.reopens.lock().unwrap() += 1;
        self.fail_if_asked()
    }

    fn last_sample_time(&self) -> Result<Option<UnixMillis>, StoreError> {
        let s = self.samples();
        Ok(s.iter().map(|s| s.at).max())
    }

    fn maintain(&mut self, now: UnixMillis) -> Result<(), StoreError> {
        self.fail_if_asked()?;
        self.maintained.lock().unwrap().push(now);
        Ok(())
    }
}

const IF: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];

/// ifTable column `col` of interface `idx`.
pub fn if_col(col: u32, idx: u32) -> Vec<u32> {
    [IF, &[col, idx]].concat()
}

pub fn uptime() -> Vec<u32> {
    super::collect::SYS_UPTIME.to_vec()
}

/// An agent with interface 1 ("eth0", up) and 32-bit counters at zero.
pub fn counter_table(uptime_ticks: u32) -> Vec<(Vec<u32>, Value)> {
    let mut t = vec![
        (uptime(), Value::TimeTicks(uptime_ticks)),
        (if_col(2, 1), Value::OctetString("eth0".into())),
        (if_col(8, 1), Value::Integer(1)),
    ];
    for col in [10, 11, 13, 14, 16, 17, 19, 20] {
        t.push((if_col(col, 1), Value::Counter32(0)));
    }
    t
}

/// One poll's changes: sysUpTime and ifInOctets.1.
pub fn tick(uptime_ticks: u32, in_octets: u32) -> Vec<(Vec<u32>, Value)> {
    vec![
        (uptime(), Value::TimeTicks(uptime_ticks)),
        (if_col(10, 1), Value::Counter32(in_octets)),
    ]
}

/// A managed device at `addr` with interface 1 "eth0" at 10 Mbit/s.
pub fn device(id: &str, addr: IpAddr) -> Device {
    let mut d = Device::for_test(id, false);
    d.mgmt_addr = Some(addr);
    d.addresses = vec![addr];
    d.interfaces = vec![Interface {
        if_index: crate::types::IfIndex(1),
        name: "eth0".into(),
        descr: Some("eth0".into()),
        alias: None,
        speed_bps: Some(10_000_000),
        mac: None,
        oper_status: Some(crate::types::OperStatus::Up),
        admin_status: Some(crate::types::OperStatus::Up),
        if_type: Some(6),
    }];
    d
}

/// A monitor of `devices` on `snmp` (and `pinger`), with `settings` for
/// every device, writing to `store`, on a clock that follows tokio's
/// (paused) time.
pub fn start(
    devices: Vec<Device>,
    snmp: Arc<Scripted>,
    pinger: Option<Arc<dyn Pinger>>,
    store: Recorder,
    settings: MonitorSettings,
) -> (Monitor, Arc<Live>) {
    start_tracing(devices, snmp, pinger, None, store, settings)
}

/// [`start`] with a tracer for the path loop.
pub fn start_tracing(
    devices: Vec<Device>,
    snmp: Arc<Scripted>,
    pinger: Option<Arc<dyn Pinger>>,
    tracer: Option<Arc<dyn crate::icmp::Tracer>>,
    store: Recorder,
    settings: MonitorSettings,
) -> (Monitor, Arc<Live>) {
    let topology = Topology {
        devices,
        links: vec![],
    };
    let live = Arc::new(Live::new(topology, 180_000));
    let io = Io {
        snmp,
        pinger,
        tracer,
        host: Arc::new(crate::discovery::local::SystemInterfaces),
        clock: Arc::new(TokioClock::new(WALL_START)),
    };
    let creds: Arc<Vec<Credential>> = Arc::new(Vec::new());
    let settings_for: SettingsFor = Arc::new(move |_| settings.clone());
    let (events_tx, mut events_rx) = tokio::sync::mpsc::channel(64);
    let events = store.events.clone();
    tokio::spawn(async move {
        while let Some(e) = events_rx.recv().await {
            events.lock().unwrap().push(e);
        }
    });
    let m = Monitor::start(
        live.clone(),
        io,
        creds,
        Some(store),
        Some(events_tx),
        settings_for,
        None,
    );
    (m, live)
}
