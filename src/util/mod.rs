//! The bottom of the crate: small helpers used by more than one subsystem
//! (the clock handle, time text, statistics, the outbound HTTP client,
//! markup escaping, hex text). It imports nothing else of the crate, so every module
//! may use it without making a cycle.
pub mod clock;
pub mod hex;
pub mod http;
pub mod http_tls;
pub mod markup;
pub mod stats;
pub mod time;
