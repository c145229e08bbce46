//! The handles through which the long-running loops reach the outside
//! world: SNMP agents, ICMP rounds and the clock (bandwhich's
//! `OsInputOutput`, trippy's `Network`). `nocmap serve` builds them from
//! the real engines; tests hand in scripted ones. Owns no behaviour.
use crate::icmp::{IcmpEngine, Pinger};
use crate::snmp::{SnmpEngine, SnmpTransport};
use crate::util::clock::{Clock, SystemClock};
use std::sync::Arc;

#[derive(Clone)]
pub struct Io {
    pub snmp: Arc<dyn SnmpTransport>,
    /// None when this host cannot send ICMP (no verdicts, no RTT).
    pub pinger: Option<Arc<dyn Pinger>>,
    pub clock: Arc<dyn Clock>,
}

impl Io {
    /// The real engines and the host's clocks.
    pub fn real(snmp: Arc<SnmpEngine>, icmp: Option<Arc<IcmpEngine>>) -> Io {
        Io {
            snmp,
            pinger: icmp.map(|e| e as Arc<dyn Pinger>),
            clock: Arc::new(SystemClock::new()),
        }
    }
}
