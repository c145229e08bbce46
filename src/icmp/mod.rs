//! ICMP echo engine: raw (or DGRAM ping) sockets for IPv4 and IPv6 shared by
//! many concurrent callers, with `ping` (loss, RTT, jitter per target) and
//! `sweep` (live hosts of whole prefixes).
//!
//! Code map: `wire` (pure packet format), `probes` (pure probe matching),
//! `rate` (pure token bucket), `sys` (the only `unsafe`: socket options,
//! recvmsg, sendmmsg), `engine` (sockets, probe table, sends, counters), `receiver` (the
//! supervised receive tasks), `ping`, `pinger` (the trait the monitor polls through),
//! `sweep`; path tracing: `trace_wire` (pure: quoted probes, Paris probes),
//! `trace_state` (pure: matching and per-hop tallies), `trace` (its sockets), `tracer` (the trait the monitor traces through). This module knows nothing of the CLI, SNMP, discovery or storage.
mod engine;
mod error;
mod ping;
mod pinger;
mod probes;
mod rate;
mod receiver;
mod sweep;
mod sys;
mod trace;
mod trace_state;
pub mod trace_wire;
mod tracer;
pub mod wire;

pub use engine::{EngineCounters, FamilyInfo, IcmpConfig, IcmpEngine};
pub use error::IcmpError;
pub use ping::{MAX_PAYLOAD, PingOptions, PingStats};
pub use pinger::Pinger;
pub use probes::{ProbeTable, Verdict, WallNanos};
pub use rate::TokenBucket;
pub use sweep::{
    MAX_SWEEP_HOSTS, SweepOptions, SweepProgress, SweepResult, sweep_targets, target_count,
};
pub use sys::SocketKind;
pub use trace::{MAX_FLOWS, TraceOptions, trace};
pub use trace_state::{Flow, FlowPath, HopReport, ProbeProto, Responder, TraceReport};
pub use tracer::{RawTracer, Tracer};
pub use wire::{ErrorKind, Family};
