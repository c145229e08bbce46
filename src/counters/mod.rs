//! Interface counters: successive SNMP counter samples of one interface
//! turned into rates (or explicit gaps). Pure arithmetic only; polling
//! (`poller`, which owns the monitor), clocks and storage live elsewhere.
pub mod arithmetic;
pub mod rate;
pub mod refresh;
pub mod sample;

pub use arithmetic::{MIN_INTERVAL_MS, interface_rates};
pub use rate::{GapReason, InterfaceRates, Metric, Rate};
pub use refresh::{
    Exactness, InexactReason, Plan, RefreshModel, RefreshSeen, Taken, WatchResult, WatchStep,
    Watcher,
};
pub use sample::{
    Counter, CounterSample, Counters, InterfaceIdentity, MonoMillis, Ticks, speed_from_mib,
};
