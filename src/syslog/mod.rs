//! Syslog received by `serve`: RFC 5424 and RFC 3164 messages. `message.rs`,
//! `parse.rs` and `framing.rs` are pure (fuzzed by
//! `fuzz/fuzz_targets/syslog_parse.rs`).
pub mod framing;
pub mod message;
pub mod parse;

pub use framing::{Deframer, FrameError, MAX_FRAME_BYTES};
pub use message::{Facility, Format, SyslogMessage, SyslogSeverity, UnknownSeverity};
pub use parse::{ParseError, parse};
