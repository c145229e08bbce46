//! Whether this box tells its receivers now. A box on its own, a site
//! poller and a central alone always do. A central of a pair
//! (`[nats] central_id`) evaluates and records like the active one, but
//! only the active one tells a webhook receiver: a notification the
//! standby records is held for the takeover window ([`Duty::Pair`]'s
//! `hold_ms`), sent if this central becomes active within it (the active
//! one may have died without telling it), and otherwise marked `standby`
//! in the outbox (the active one was alive and told it). Alertmanager API
//! receivers are told by both, as by a pair of Prometheus servers:
//! Alertmanager merges the same labels into one alert.
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub enum Duty {
    Always,
    Pair {
        /// True while this central holds the lease.
        active: watch::Receiver<bool>,
        hold_ms: i64,
    },
}

/// What to do with the outbox's next notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    Send,
    /// Standing by, the notification still within the takeover window:
    /// look again shortly.
    Hold,
    /// Standing by and older than the window: the active central told it.
    Skip,
}

/// The decision for a notification recorded at `recorded_ms`, now.
pub fn decide(active: bool, recorded_ms: i64, now_ms: i64, hold_ms: i64) -> Outbox {
    if active {
        Outbox::Send
    } else if now_ms - recorded_ms <= hold_ms {
        Outbox::Hold
    } else {
        Outbox::Skip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standby_holds_within_the_window_and_skips_after() {
        assert_eq!(decide(true, 0, 1_000_000, 22_000), Outbox::Send);
        assert_eq!(decide(false, 100_000, 110_000, 22_000), Outbox::Hold);
        assert_eq!(decide(false, 100_000, 122_000, 22_000), Outbox::Hold);
        assert_eq!(decide(false, 100_000, 122_001, 22_000), Outbox::Skip);
        // A clock step back never skips.
        assert_eq!(decide(false, 100_000, 90_000, 22_000), Outbox::Hold);
    }
}
