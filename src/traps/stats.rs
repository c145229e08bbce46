//! The receiver's counters, shared with `/metrics`: notifications received
//! by version and kind, datagrams dropped by reason, informs acknowledged,
//! events without a device. Totals only grow while serve runs.
use super::decode::{TrapKind, TrapVersion};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a datagram was dropped (a closed set, one label value each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Over its source's token bucket.
    RateLimited,
    /// Not a decodable SNMP notification message.
    Malformed,
    /// A v1/v2c community not among the accepted ones.
    UnknownCommunity,
    /// SNMPv3 while `[traps]` names no v3 users.
    V3Unsupported,
    /// SNMPv3 engine discovery probes (answered with a Report).
    V3Discovery,
    /// SNMPv3: an engine id that is invalid, or an inform to another
    /// engine than ours.
    V3UnknownEngineId,
    /// SNMPv3: a user not among `[traps] v3_users`.
    V3UnknownUser,
    /// SNMPv3: below the user's security level.
    V3UnsupportedSecLevel,
    /// SNMPv3: the HMAC did not verify (wrong key or tampered).
    V3WrongDigest,
    /// SNMPv3: outside the 150 s time window (a replay or a clock reset).
    V3NotInTimeWindow,
    /// SNMPv3: the scoped PDU did not decrypt.
    V3DecryptionError,
    /// A valid SNMP message that is not a notification.
    NotNotification,
    /// The store writer fell behind (its queue was full).
    QueueFull,
}

impl DropReason {
    pub const ALL: [DropReason; 13] = [
        DropReason::RateLimited,
        DropReason::Malformed,
        DropReason::UnknownCommunity,
        DropReason::V3Unsupported,
        DropReason::V3Discovery,
        DropReason::V3UnknownEngineId,
        DropReason::V3UnknownUser,
        DropReason::V3UnsupportedSecLevel,
        DropReason::V3WrongDigest,
        DropReason::V3NotInTimeWindow,
        DropReason::V3DecryptionError,
        DropReason::NotNotification,
        DropReason::QueueFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::RateLimited => "rate_limited",
            DropReason::Malformed => "malformed",
            DropReason::UnknownCommunity => "unknown_community",
            DropReason::V3Unsupported => "v3_unsupported",
            DropReason::V3Discovery => "v3_discovery",
            DropReason::V3UnknownEngineId => "v3_unknown_engine_id",
            DropReason::V3UnknownUser => "v3_unknown_user",
            DropReason::V3UnsupportedSecLevel => "v3_unsupported_sec_level",
            DropReason::V3WrongDigest => "v3_wrong_digest",
            DropReason::V3NotInTimeWindow => "v3_not_in_time_window",
            DropReason::V3DecryptionError => "v3_decryption_error",
            DropReason::NotNotification => "not_notification",
            DropReason::QueueFull => "queue_full",
        }
    }
}

/// The (version, kind) pairs a notification can arrive as.
pub const RECEIVED_KINDS: [(TrapVersion, TrapKind); 5] = [
    (TrapVersion::V1, TrapKind::Trap),
    (TrapVersion::V2c, TrapKind::Trap),
    (TrapVersion::V2c, TrapKind::Inform),
    (TrapVersion::V3, TrapKind::Trap),
    (TrapVersion::V3, TrapKind::Inform),
];

#[derive(Debug, Default)]
pub struct TrapStats {
    received: [AtomicU64; 5],
    dropped: [AtomicU64; 13],
    acknowledged: AtomicU64,
    unmatched: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrapStatsSnapshot {
    pub received: Vec<(TrapVersion, TrapKind, u64)>,
    pub dropped: Vec<(DropReason, u64)>,
    /// Informs answered with a Response.
    pub acknowledged: u64,
    /// Notifications whose sender matched no device (stored without one).
    pub unmatched: u64,
}

impl TrapStats {
    pub fn received(&self, v: TrapVersion, k: TrapKind) {
        if let Some(i) = RECEIVED_KINDS.iter().position(|p| *p == (v, k)) {
            self.received[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn dropped(&self, r: DropReason) {
        if let Some(i) = DropReason::ALL.iter().position(|x| *x == r) {
            self.dropped[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn acknowledged(&self) {
        self.acknowledged.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unmatched(&self) {
        self.unmatched.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> TrapStatsSnapshot {
        TrapStatsSnapshot {
            received: RECEIVED_KINDS
                .iter()
                .zip(&self.received)
                .map(|((v, k), n)| (*v, *k, n.load(Ordering::Relaxed)))
                .collect(),
            dropped: DropReason::ALL
                .iter()
                .zip(&self.dropped)
                .map(|(r, n)| (*r, n.load(Ordering::Relaxed)))
                .collect(),
            acknowledged: self.acknowledged.load(Ordering::Relaxed),
            unmatched: self.unmatched.load(Ordering::Relaxed),
        }
    }
}
