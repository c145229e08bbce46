//! Syslog received by `serve`: RFC 5424 and RFC 3164 messages over UDP,
//! TCP (RFC 6587) and TLS (RFC 5425), each stored as an event
//! (`store::events`) on the device that sent it. `message.rs`, `parse.rs`,
//! `framing.rs` and `event.rs` are pure (the first three fuzzed by
//! `fuzz/fuzz_targets/syslog_parse.rs`); `receiver.rs` owns the sockets,
//! the queue and the writer's store connection, `stream.rs` the TCP and
//! TLS connections; `stats.rs` the counters `/metrics` shows.
pub mod event;
pub mod framing;
pub mod message;
pub mod parse;
pub mod receiver;
pub mod stats;
mod stream;

pub use framing::{Deframer, FrameError, MAX_FRAME_BYTES};
pub use message::{Facility, Format, SyslogMessage, SyslogSeverity, UnknownSeverity};
pub use parse::{ParseError, parse};
pub use receiver::{
    BoundSyslog, SyslogError, SyslogReceiver, SyslogSettings, TlsListen, bind, start,
};
pub use stats::{DropReason, SyslogStats, SyslogStatsSnapshot, Transport};
