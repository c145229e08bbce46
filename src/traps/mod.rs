//! SNMP notifications received by `serve`: v1 traps, v2c traps and informs
//! (acknowledged) on a UDP port of `[traps]`, each stored as an event on
//! its device (`store::events`) and, for linkDown/linkUp, an early poll of
//! that device (`poller::PollWaker`). `decode.rs`, `bucket.rs` and
//! `event.rs` are pure; `receiver.rs` owns the socket, the clock and the
//! writer's store connection; `stats.rs` the counters `/metrics` shows.
//! SNMPv3 notifications are counted and dropped (`v3_unsupported`).
pub mod bucket;
pub mod decode;
pub mod event;
pub mod receiver;
pub mod stats;

pub use decode::{Notification, Refused, TrapKind, TrapVersion, decode, inform_response};
pub use receiver::{BoundTraps, TrapError, TrapReceiver, TrapSettings, bind, start};
pub use stats::{DropReason, TrapStats, TrapStatsSnapshot};
