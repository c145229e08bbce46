//! How a device's up/down verdict ages. A verdict comes from one ICMP round
//! and carries that round's time and its lifetime: [`STALE_AFTER_ROUNDS`]
//! of the device's own round period. Past it the verdict is stale and
//! reads as unknown (the map shows it grey, `/metrics` drops it, alerts
//! neither fire nor resolve on it). Also which rounds give a verdict at
//! all: one whose every probe this host refused to send measured nothing.
//! Pure: the caller passes the time.
use super::{DeviceHealth, Reachability};
use crate::icmp::PingStats;
use crate::types::UnixMillis;
use std::time::Duration;

/// Rounds (or SNMP polls) a value may miss before it is stale. The same
/// three for a device's ICMP verdict, per device, and for SNMP data, over
/// the longest SNMP interval (`cli::serve`).
pub const STALE_AFTER_ROUNDS: u32 = 3;

/// How long a verdict stands: [`STALE_AFTER_ROUNDS`] × the device's round
/// period. The period is the ICMP interval, or the round's own length when
/// that is longer (the poller skips deadlines a round overran): probes
/// `(count - 1) × spacing` apart, then `timeout` for the last answer.
/// Missing two rounds in a row therefore never makes a verdict stale;
/// missing three does, within one more round's length.
pub fn verdict_lifetime_ms(
    interval: Duration,
    count: u32,
    spacing: Duration,
    timeout: Duration,
) -> i64 {
    let round = spacing
        .saturating_mul(count.max(1) - 1)
        .saturating_add(timeout);
    let period = interval.max(round).max(Duration::from_millis(1));
    let ms = period
        .saturating_mul(STALE_AFTER_ROUNDS)
        .as_millis()
        .min(i64::MAX as u128);
    ms as i64
}

/// The verdict one ICMP round gives: up when anything answered, down when
/// probes left this host and nothing came back, none when this host
/// refused every probe (a local firewall: `EPERM`/`EACCES` on send). That
/// measured nothing about the device, so its last verdict ages instead.
/// Other send failures (no route from here) are the device being
/// unreachable from the poller and count as down.
pub fn round_verdict(st: &PingStats) -> Option<Reachability> {
    if st.received > 0 {
        Some(Reachability::Up)
    } else if st.sent > 0 && st.refused_locally >= st.sent {
        None
    } else {
        Some(Reachability::Down)
    }
}

/// A round's loss over the probes that left this host: one this host
/// refused was never on the network, so it is not a lost packet. None when
/// none left.
pub fn measured_loss_pct(st: &PingStats) -> Option<f64> {
    let left = st.sent.saturating_sub(st.refused_locally);
    let answered = st.received.min(left);
    (left > 0).then(|| 100.0 * f64::from(left - answered) / f64::from(left))
}

/// A device's reachability at some time, from its last verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgedVerdict {
    /// The last verdict while it stands; unknown once stale or never measured.
    pub reachability: Reachability,
    /// There is a verdict but it is older than its lifetime (or carries no
    /// round time or lifetime, so its age cannot be told).
    pub stale: bool,
}

impl AgedVerdict {
    /// The verdict stands: ICMP values of its round may be used.
    pub fn fresh(self) -> bool {
        self.reachability != Reachability::Unknown
    }
}

/// `h`'s verdict at `now_ms`: it stands until `last_icmp_ms +
/// icmp_stale_after_ms`, inclusive; after that it is stale.
pub fn aged(h: &DeviceHealth, now_ms: UnixMillis) -> AgedVerdict {
    if h.reachability == Reachability::Unknown {
        return AgedVerdict {
            reachability: Reachability::Unknown,
            stale: false,
        };
    }
    let stands = h
        .last_icmp_ms
        .zip(h.icmp_stale_after_ms)
        .is_some_and(|(at, life)| now_ms.since(at) <= life);
    if stands {
        AgedVerdict {
            reachability: h.reachability,
            stale: false,
        }
    } else {
        AgedVerdict {
            reachability: Reachability::Unknown,
            stale: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::RttMicros;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn health(r: Reachability, at: Option<UnixMillis>, life: Option<i64>) -> DeviceHealth {
        DeviceHealth {
            reachability: r,
            last_icmp_ms: at,
            icmp_stale_after_ms: life,
            ..Default::default()
        }
    }

    fn stats(sent: u32, received: u32, refused: u32) -> PingStats {
        let rtts = vec![RttMicros(500); received as usize];
        let mut st = PingStats::summarize("127.0.0.1".parse().unwrap(), sent, rtts);
        st.send_errors = refused;
        st.refused_locally = refused;
        st
    }

    #[test]
    fn lifetime_is_three_of_the_devices_own_rounds() {
        // The defaults: 5 probes 200 ms apart, 1 s timeout, every 10 s.
        assert_eq!(verdict_lifetime_ms(s(10), 5, ms(200), s(1)), 30_000);
        // Pinged every 5 minutes: 15 minutes, whatever SNMP does.
        assert_eq!(verdict_lifetime_ms(s(300), 5, ms(200), s(1)), 900_000);
        // A round longer than the interval (10 probes 1 s apart, 2 s
        // timeout = 11 s, every 5 s): the round's length is the period.
        assert_eq!(verdict_lifetime_ms(s(5), 10, s(1), s(2)), 33_000);
        // A count of 0 is one probe; nothing is below 1 ms.
        assert_eq!(verdict_lifetime_ms(s(2), 0, s(1), ms(500)), 6_000);
        assert_eq!(verdict_lifetime_ms(s(0), 1, s(0), s(0)), 3);
        // No overflow on absurd settings.
        assert_eq!(
            verdict_lifetime_ms(Duration::MAX, u32::MAX, Duration::MAX, Duration::MAX),
            i64::MAX
        );
    }

    #[test]
    fn a_verdict_stands_for_its_lifetime_then_reads_unknown() {
        let life = verdict_lifetime_ms(s(10), 5, ms(200), s(1));
        for r in [Reachability::Up, Reachability::Down] {
            let h = health(r, Some(UnixMillis(1_000_000)), Some(life));
            let at = |t| aged(&h, t);
            assert_eq!(at(UnixMillis(1_000_000)).reachability, r);
            assert_eq!(
                at(UnixMillis(1_000_000 + life)).reachability,
                r,
                "inclusive"
            );
            let late = at(UnixMillis(1_000_000 + life + 1));
            assert_eq!(
                (late.reachability, late.stale),
                (Reachability::Unknown, true)
            );
            assert!(!late.fresh() && at(UnixMillis(1_000_000)).fresh());
            // A clock stepped back reads the verdict as fresh, not stale.
            assert_eq!(at(UnixMillis(0)).reachability, r);
        }
    }

    #[test]
    fn never_measured_is_unknown_but_not_stale() {
        let v = aged(&DeviceHealth::default(), UnixMillis(5));
        assert_eq!((v.reachability, v.stale), (Reachability::Unknown, false));
    }

    #[test]
    fn a_verdict_without_its_round_time_or_lifetime_cannot_stand() {
        for h in [
            health(Reachability::Up, None, Some(30_000)),
            health(Reachability::Down, Some(UnixMillis(0)), None),
        ] {
            let v = aged(&h, UnixMillis(0));
            assert_eq!((v.reachability, v.stale), (Reachability::Unknown, true));
        }
    }

    /// The case the SNMP threshold got wrong: SNMP every 60 s (stale after
    /// 180 s), ICMP every 300 s. Between two rounds the device stays up.
    #[test]
    fn a_device_pinged_less_often_than_snmp_stays_up_between_rounds() {
        let snmp_stale_ms: i64 = 3 * 60_000;
        let life = verdict_lifetime_ms(s(300), 5, ms(200), s(1));
        let mut h = health(Reachability::Up, Some(UnixMillis(0)), Some(life));
        // Rounds every 300 s, each result up to a round's length late.
        let mut t = 0;
        while t <= 3_600_000 {
            if t % 300_000 == 0 {
                h.last_icmp_ms = Some(UnixMillis(t + 1_800));
            }
            let v = aged(&h, UnixMillis(t + 1_800));
            assert_eq!(v.reachability, Reachability::Up, "at {t} ms");
            t += 1_000;
        }
        // Right after the SNMP threshold the verdict still stands.
        let h = health(Reachability::Up, Some(UnixMillis(0)), Some(life));
        assert_eq!(
            aged(&h, UnixMillis(snmp_stale_ms + 1)).reachability,
            Reachability::Up
        );
        assert_eq!(aged(&h, UnixMillis(299_999)).reachability, Reachability::Up);
        // Two rounds missed: still up; three: stale.
        assert_eq!(
            aged(&h, UnixMillis(2 * 300_000 + 1_800)).reachability,
            Reachability::Up
        );
        assert!(aged(&h, UnixMillis(3 * 300_000 + 1)).stale);
    }

    /// Found in the lab: the round the firewall cut in two (1 probe out
    /// and answered, 2 refused) read as 66.7 % loss.
    #[test]
    fn refused_probes_are_not_lost_packets() {
        assert_eq!(measured_loss_pct(&stats(3, 1, 2)), Some(0.0));
        assert_eq!(measured_loss_pct(&stats(3, 0, 2)), Some(100.0));
        assert_eq!(measured_loss_pct(&stats(4, 1, 0)), Some(75.0));
        assert_eq!(measured_loss_pct(&stats(5, 5, 0)), Some(0.0));
        assert_eq!(measured_loss_pct(&stats(3, 0, 3)), None);
        assert_eq!(measured_loss_pct(&stats(0, 0, 0)), None);
    }

    #[test]
    fn rounds_give_up_down_or_nothing() {
        assert_eq!(round_verdict(&stats(5, 5, 0)), Some(Reachability::Up));
        assert_eq!(round_verdict(&stats(5, 1, 0)), Some(Reachability::Up));
        assert_eq!(round_verdict(&stats(5, 0, 0)), Some(Reachability::Down));
        // This host refused every probe: no verdict.
        assert_eq!(round_verdict(&stats(5, 0, 5)), None);
        // Some left the host and got nothing back: down.
        assert_eq!(round_verdict(&stats(5, 0, 3)), Some(Reachability::Down));
        // Send errors that are not local refusals (no route): down.
        let mut st = stats(5, 0, 0);
        st.send_errors = 5;
        assert_eq!(round_verdict(&st), Some(Reachability::Down));
        // Nothing sent at all (count 0 is never asked for): down, as before.
        assert_eq!(round_verdict(&stats(0, 0, 0)), Some(Reachability::Down));
    }
}
