//! The handles through which the long-running loops reach the outside
//! world: SNMP agents, ICMP rounds, the host's own interfaces and the clock (bandwhich's
//! `OsInputOutput`, trippy's `Network`). `nocmap serve` builds them from
//! the real engines; tests hand in scripted ones. Owns no behaviour.
use crate::discovery::local::{HostInterfaces, SystemInterfaces};
use crate::icmp::{IcmpEngine, Pinger, RawTracer, Tracer};
use crate::snmp::{SnmpEngine, SnmpTransport};
use crate::util::clock::{Clock, SystemClock};
use std::sync::Arc;

#[derive(Clone)]
pub struct Io {
    pub snmp: Arc<dyn SnmpTransport>,
    /// None when this host cannot send ICMP (no verdicts, no RTT).
    pub pinger: Option<Arc<dyn Pinger>>,
    /// Path traces (`[poll] path_interval_s`); None: paths not traced.
    pub tracer: Option<Arc<dyn Tracer>>,
    /// This host's interfaces (the alert runner's isolation check).
    pub host: Arc<dyn HostInterfaces>,
    pub clock: Arc<dyn Clock>,
}

impl Io {
    /// The real engines, the host's interfaces and its clocks.
    pub fn real(snmp: Arc<SnmpEngine>, icmp: Option<Arc<IcmpEngine>>) -> Io {
        Io {
            snmp,
            pinger: icmp.map(|e| e as Arc<dyn Pinger>),
            tracer: Some(Arc::new(RawTracer)),
            host: Arc::new(SystemInterfaces),
            clock: Arc::new(SystemClock::new()),
        }
    }
}
