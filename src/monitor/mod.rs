//! Continuous monitoring: turning successive SNMP interface counter samples
//! into rates (or explicit gaps). Pure arithmetic only; polling, clocks and
//! storage live elsewhere.
pub mod counters;
pub mod rate;
pub mod sample;

pub use counters::{MIN_INTERVAL_MS, interface_rates};
pub use rate::{GapReason, InterfaceRates, Metric, Rate};
pub use sample::{
    Counter, CounterSample, Counters, InterfaceIdentity, MonoMillis, Ticks, speed_from_mib,
};
