//! Alerting: rules from the configuration evaluated against the live
//! picture, with `for` durations, hysteresis, flap detection, maintenance
//! windows and dependency suppression derived from the topology, and the
//! notifications that follow, delivered from a SQLite outbox.
//!
//! The core (`scope`, `observe`, `rule`, `event_rule`, `event_hits`,
//! `state`, `flap`, `maintenance`, `suppress`, `isolation`, `eval`,
//! `external`, `payload`) is pure: values in (rules,
//! observations, the time), transitions out; it reads no clock and does no
//! I/O. Only `deliver` (HTTP) and `runner` (the clock, the store, the tasks)
//! touch the outside world. Secrets of receivers reach only the HTTP
//! request headers in `deliver`.
pub mod deliver;
pub mod duty;
pub mod eval;
pub mod event_hits;
pub mod event_rule;
pub mod external;
pub mod flap;
pub mod isolation;
pub mod maintenance;
pub mod observe;
pub mod payload;
pub mod rule;
pub mod runner;
pub mod scope;
pub mod state;
pub mod suppress;

pub use eval::{ActiveAlert, Evaluator, Restored};
pub use observe::{DeviceObs, IfObs, Observations};
pub use rule::Rule;
pub use state::{AlertKey, Hold, Transition};
