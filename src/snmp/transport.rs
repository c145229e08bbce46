//! The SNMP seam: the few calls the poller and the crawl make (open a
//! session to an agent, GET several OIDs, walk a subtree, and what the
//! transport dropped from an address), as traits the real engine
//! implements, so their loops run against scripted agents in tests.
//! Nothing here does I/O of its own.
use super::credentials::Credential;
use super::engine::{DatagramStats, SnmpEngine};
use super::error::SnmpError;
use super::rejects::{self, RejectCounts};
use super::session::Session;
use super::walk::WalkResult;
use async_snmp::{Oid, VarBind};
use futures::future::BoxFuture;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A conversation with one agent (see [`Session`]).
pub trait AgentSession: Send + Sync {
    /// The agent's address and port.
    fn target(&self) -> SocketAddr;
    /// One GET of `oids`: every value read together.
    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Vec<VarBind>, SnmpError>>;
    /// The subtree under `root`; an error only when the first request fails.
    fn walk<'a>(&'a self, root: &'a Oid) -> BoxFuture<'a, Result<WalkResult, SnmpError>>;
    /// SNMPv3: the agent's engine id as the engine discovery learned it
    /// (RFC 3414 §4); `None` for community sessions.
    fn discovered_engine_id(&self) -> Option<Vec<u8>> {
        None
    }
}

/// Sessions to agents, and what the shared transport saw (see [`SnmpEngine`]).
pub trait SnmpTransport: Send + Sync + 'static {
    /// A session to `addr` with the first credential set that works.
    fn open<'a>(
        self: Arc<Self>,
        addr: IpAddr,
        creds: &'a [Credential],
    ) -> BoxFuture<'a, Result<Box<dyn AgentSession>, SnmpError>>;
    /// Requests one agent may have in flight at a time.
    fn per_agent_in_flight(&self) -> usize;
    /// Transport-wide datagram totals since start.
    fn datagram_stats(&self) -> DatagramStats;
    /// How many times a shared socket was replaced.
    fn transport_renewals(&self) -> u64;
    /// Unusable datagrams from `addr` since start.
    fn rejected_from(&self, addr: IpAddr) -> RejectCounts;
    /// Answers to requests sent to `addr` that came from other addresses,
    /// by sender, since start (see [`super::strays`]).
    fn answered_from_elsewhere(&self, addr: IpAddr) -> Vec<(IpAddr, u64)>;
}

impl AgentSession for Session {
    fn target(&self) -> SocketAddr {
        Session::target(self)
    }

    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Vec<VarBind>, SnmpError>> {
        Box::pin(Session::get(self, oids))
    }

    fn walk<'a>(&'a self, root: &'a Oid) -> BoxFuture<'a, Result<WalkResult, SnmpError>> {
        Box::pin(Session::walk(self, root))
    }

    fn discovered_engine_id(&self) -> Option<Vec<u8>> {
        Session::discovered_engine_id(self)
    }
}

impl SnmpTransport for SnmpEngine {
    fn open<'a>(
        self: Arc<Self>,
        addr: IpAddr,
        creds: &'a [Credential],
    ) -> BoxFuture<'a, Result<Box<dyn AgentSession>, SnmpError>> {
        Box::pin(async move {
            let s = SnmpEngine::open(&self, addr, creds).await?;
            Ok(Box::new(s) as Box<dyn AgentSession>)
        })
    }

    fn per_agent_in_flight(&self) -> usize {
        self.settings().per_agent_in_flight
    }

    fn datagram_stats(&self) -> DatagramStats {
        SnmpEngine::datagram_stats(self)
    }

    fn transport_renewals(&self) -> u64 {
        SnmpEngine::transport_renewals(self)
    }

    fn rejected_from(&self, addr: IpAddr) -> RejectCounts {
        rejects::counts(addr)
    }

    fn answered_from_elsewhere(&self, addr: IpAddr) -> Vec<(IpAddr, u64)> {
        rejects::from_elsewhere(addr)
    }
}
