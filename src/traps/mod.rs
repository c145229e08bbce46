//! SNMP notifications received by `serve`: v1 traps, v2c traps and informs
//! (acknowledged), and SNMPv3 traps and informs of the configured USM users
//! on a UDP port of `[traps]`, each stored as an event on
//! its device (`store::events`) and, for linkDown/linkUp, an early poll of
//! that device (`poller::PollWaker`). `decode.rs`, `bucket.rs`,
//! `attribute.rs` (which device: source address, agent address, engine
//! id) and `event.rs` are pure; `receiver.rs` owns the socket, the clock and the
//! writer's store connection; `stats.rs` the counters `/metrics` shows.
//! `usm.rs` is the SNMPv3 security (RFC 3414) the loop owns; `engine.rs`
//! our own engine id and boots, kept in a file beside the database.
pub mod attribute;
pub mod bucket;
pub mod decode;
pub mod engine;
pub mod event;
pub mod receiver;
pub mod stats;
pub mod usm;

pub use decode::{Notification, Refused, TrapKind, TrapVersion, decode, inform_response};
pub use receiver::{BoundTraps, TrapError, TrapReceiver, TrapSettings, bind, start};
pub use stats::{DropReason, TrapStats, TrapStatsSnapshot};
