//! The ICMP seam: one round of echo requests to one address and the
//! engine's counters, as a trait the real engine implements, so the
//! monitor's ICMP loop runs against scripted rounds in tests.
use super::engine::{EngineCounters, IcmpEngine};
use super::error::IcmpError;
use super::ping::{PingOptions, PingStats};
use futures::future::BoxFuture;
use std::net::IpAddr;

/// Sends ICMP rounds (see [`IcmpEngine::ping`]).
pub trait Pinger: Send + Sync + 'static {
    /// One round to `target`: `options.count` requests, the verdict of each.
    fn ping(
        &self,
        target: IpAddr,
        options: PingOptions,
    ) -> BoxFuture<'_, Result<PingStats, IcmpError>>;
    /// Engine-wide totals since start.
    fn counters(&self) -> EngineCounters;
}

impl Pinger for IcmpEngine {
    fn ping(
        &self,
        target: IpAddr,
        options: PingOptions,
    ) -> BoxFuture<'_, Result<PingStats, IcmpError>> {
        Box::pin(IcmpEngine::ping(self, target, options))
    }

    fn counters(&self) -> EngineCounters {
        IcmpEngine::counters(self)
    }
}
