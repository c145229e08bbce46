//! The input of the counter arithmetic: one poll of one interface's counters,
//! stamped by the caller. Plain data; nothing here reads a clock.
use super::refresh::{InexactReason, Taken};
use crate::types::IfIndex;

/// A monotonic timestamp in milliseconds, taken by the poller when the
/// response arrived. Only differences between two of them mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonoMillis(pub u64);

/// sysUpTime / ifCounterDiscontinuityTime: hundredths of a second, wrapping
/// at 2^32 (about 497 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticks(pub u32);

/// One counter value together with its width, since the width decides where
/// it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Counter32 (ifInOctets, ifInUcastPkts, ifInErrors, ...).
    C32(u32),
    /// Counter64 (ifHCInOctets, ifHCInUcastPkts, ...).
    C64(u64),
}

/// What identifies the interface behind an ifIndex. When it changes between
/// two samples of the same ifIndex, the index was reused by another interface
/// and the counters cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceIdentity {
    /// ifName, or ifDescr where the agent has no ifName.
    pub name: String,
    /// ifPhysAddress (empty for interfaces without one).
    pub phys_address: Vec<u8>,
}

/// The interface counters of one poll; `None` where the agent did not return
/// the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub in_octets: Option<Counter>,
    pub out_octets: Option<Counter>,
    pub in_ucast_pkts: Option<Counter>,
    pub out_ucast_pkts: Option<Counter>,
    pub in_mcast_pkts: Option<Counter>,
    pub out_mcast_pkts: Option<Counter>,
    pub in_bcast_pkts: Option<Counter>,
    pub out_bcast_pkts: Option<Counter>,
    pub in_errors: Option<Counter>,
    pub out_errors: Option<Counter>,
    pub in_discards: Option<Counter>,
    pub out_discards: Option<Counter>,
}

/// One poll of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSample {
    /// When the response arrived (caller's monotonic clock).
    pub at: MonoMillis,
    /// sysUpTime from the same response.
    pub sys_uptime: Ticks,
    /// ifCounterDiscontinuityTime, when the agent supports it.
    pub discontinuity_time: Option<Ticks>,
    pub if_index: IfIndex,
    pub identity: InterfaceIdentity,
    /// Interface speed in bits/s; see [`speed_from_mib`]. None when unknown.
    pub speed_bps: Option<u64>,
    pub counters: Counters,
    /// When the agent took these values (see `refresh`), or why unknown.
    pub taken: Result<Taken, InexactReason>,
}

/// The interface speed in bits/s from ifHighSpeed (Mb/s, preferred) and
/// ifSpeed (b/s). ifSpeed saturates at 4,294,967,295 on fast interfaces and 0
/// means "unknown" for both, so those values give nothing.
pub fn speed_from_mib(if_speed: Option<u32>, if_high_speed_mbps: Option<u32>) -> Option<u64> {
    match (if_high_speed_mbps, if_speed) {
        (Some(high), _) if high > 0 => Some(u64::from(high) * 1_000_000),
        (_, Some(speed)) if speed > 0 && speed != u32::MAX => Some(u64::from(speed)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_speed_is_preferred_and_saturated_speed_ignored() {
        assert_eq!(
            speed_from_mib(Some(u32::MAX), Some(10_000)),
            Some(10_000_000_000)
        );
        assert_eq!(
            speed_from_mib(Some(100_000_000), Some(0)),
            Some(100_000_000)
        );
        assert_eq!(speed_from_mib(Some(u32::MAX), None), None);
        assert_eq!(speed_from_mib(Some(0), Some(0)), None);
        assert_eq!(speed_from_mib(None, None), None);
        assert_eq!(speed_from_mib(Some(10_000_000), None), Some(10_000_000));
    }
}
