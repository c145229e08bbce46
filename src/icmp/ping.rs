//! `IcmpEngine::ping`: a fixed number of echo requests to one target at an
//! interval, and the summary statistics (loss, min/avg/max/median RTT and
//! iputils-style mdev jitter).
//!
//! The statistics are a pure function of the RTT list (`PingStats::summarize`);
//! the async part only paces sends and collects events.
use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::engine::{IcmpEngine, ProbeEvent};
use super::error::IcmpError;
use super::wire::{ErrorKind, Family, ProbeNumber, TAG_LEN};
use crate::types::RttMicros;

/// How to ping one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingOptions {
    /// Echo requests to send (at least 1).
    pub count: u32,
    /// Time between two requests.
    pub interval: Duration,
    /// How long each request waits for its reply.
    pub timeout: Duration,
    /// ICMP payload bytes (at least the 20-byte tag; 56 like ping by default).
    pub payload_size: usize,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: 3,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            payload_size: 56,
        }
    }
}

/// Largest payload accepted (fits an IPv4 datagram with headers).
pub const MAX_PAYLOAD: usize = 65_507 - 8;

impl PingOptions {
    pub fn validate(&self) -> Result<(), IcmpError> {
        if self.count == 0 {
            return Err(IcmpError::InvalidOptions("count must be at least 1".into()));
        }
        if self.timeout.is_zero() {
            return Err(IcmpError::InvalidOptions("timeout must be above 0".into()));
        }
        if self.payload_size > MAX_PAYLOAD {
            return Err(IcmpError::InvalidOptions(format!(
                "payload size {} is above {MAX_PAYLOAD}",
                self.payload_size
            )));
        }
        Ok(())
    }
}

/// Result of pinging one target.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PingStats {
    pub target: IpAddr,
    pub sent: u32,
    pub received: u32,
    pub duplicates: u32,
    pub late: u32,
    /// ICMP errors (unreachable, time exceeded) received for our requests.
    pub errors: u32,
    pub send_errors: u32,
    /// Of `send_errors`, the probes this host refused to send (`EPERM`,
    /// `EACCES`: a local firewall or policy): they measured nothing.
    pub refused_locally: u32,
    pub last_error: Option<ErrorKind>,
    pub loss_pct: f64,
    pub rtt_min: Option<RttMicros>,
    pub rtt_avg: Option<RttMicros>,
    pub rtt_max: Option<RttMicros>,
    pub rtt_median: Option<RttMicros>,
    /// Mean deviation as iputils ping prints it: sqrt(E[x^2] - E[x]^2).
    pub jitter: Option<RttMicros>,
    /// RTT of each answered request, in the order the replies came.
    pub rtts: Vec<RttMicros>,
}

impl PingStats {
    /// Builds the summary from counts and RTTs; pure.
    pub fn summarize(target: IpAddr, sent: u32, rtts: Vec<RttMicros>) -> PingStats {
        let received = u32::try_from(rtts.len()).unwrap_or(u32::MAX);
        let loss_pct = if sent == 0 {
            0.0
        } else {
            100.0 * f64::from(sent.saturating_sub(received)) / f64::from(sent)
        };
        let (mut min, mut avg, mut max, mut median, mut jitter) = (None, None, None, None, None);
        if !rtts.is_empty() {
            let mut sorted: Vec<u64> = rtts.iter().map(|r| r.0).collect();
            sorted.sort_unstable();
            let n = sorted.len();
            min = sorted.first().copied().map(RttMicros);
            max = sorted.last().copied().map(RttMicros);
            let mid = n / 2;
            median = match (
                n % 2,
                sorted.get(mid),
                mid.checked_sub(1).and_then(|i| sorted.get(i)),
            ) {
                (1, Some(m), _) => Some(RttMicros(*m)),
                (_, Some(hi), Some(lo)) => Some(RttMicros((hi + lo) / 2)),
                _ => None,
            };
            let count = n as f64;
            let mean = sorted.iter().map(|&x| x as f64).sum::<f64>() / count;
            let mean_sq = sorted.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / count;
            avg = Some(RttMicros(mean.round() as u64));
            jitter = Some(RttMicros(
                (mean_sq - mean * mean).max(0.0).sqrt().round() as u64
            ));
        }
        PingStats {
            target,
            sent,
            received,
            duplicates: 0,
            late: 0,
            errors: 0,
            send_errors: 0,
            refused_locally: 0,
            last_error: None,
            loss_pct,
            rtt_min: min,
            rtt_avg: avg,
            rtt_max: max,
            rtt_median: median,
            jitter,
            rtts,
        }
    }
}

impl IcmpEngine {
    /// Pings `target` `count` times, `interval` apart; returns when every
    /// request is answered or timed out. A failed send counts as a lost
    /// request (see `send_errors`); a missing socket family is an error, and
    /// so is a receive loop that was not running for the whole round
    /// ([`IcmpError::ReceiverDown`]: the round measured nothing).
    pub async fn ping(&self, target: IpAddr, options: PingOptions) -> Result<PingStats, IcmpError> {
        options.validate()?;
        let mark = self.shared.mark_receivers(&[Family::of(target)])?;
        let payload = options.payload_size.max(TAG_LEN);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut outstanding = Outstanding {
            engine: self,
            pending: HashSet::new(),
        };
        let mut deadlines: VecDeque<(Instant, ProbeNumber)> = VecDeque::new();
        let mut rtts = Vec::new();
        let (mut sent, mut duplicates, mut late, mut errors, mut send_errors) = (0u32, 0, 0, 0, 0);
        let mut refused_locally = 0;
        let mut last_error = None;
        let mut next_send = Instant::now();
        loop {
            let now = Instant::now();
            if sent < options.count && now >= next_send {
                sent += 1;
                next_send += options.interval;
                match self.send_one(target, payload, &tx).await {
                    Ok(probe) => {
                        outstanding.pending.insert(probe);
                        deadlines.push_back((Instant::now() + options.timeout, probe));
                    }
                    Err(IcmpError::Send { source, .. }) => {
                        send_errors += 1;
                        if refused_by_this_host(&source) {
                            refused_locally += 1;
                        }
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            while let Some(&(deadline, probe)) = deadlines.front() {
                if deadline > now {
                    break;
                }
                deadlines.pop_front();
                // If the reply raced the timeout, its event is already queued.
                if self.expire(probe) {
                    outstanding.pending.remove(&probe);
                }
            }
            if sent >= options.count && outstanding.pending.is_empty() {
                break;
            }
            let mut wake = deadlines.front().map(|d| d.0);
            if sent < options.count {
                wake = Some(wake.map_or(next_send, |w| w.min(next_send)));
            }
            let sleep_until = wake.unwrap_or_else(|| now + Duration::from_millis(10));
            tokio::select! {
                event = rx.recv() => match event {
                    Some(ProbeEvent::Reply { probe, rtt }) => {
                        outstanding.pending.remove(&probe);
                        rtts.push(rtt);
                    }
                    Some(ProbeEvent::Duplicate { .. }) => duplicates += 1,
                    Some(ProbeEvent::Late { .. }) => late += 1,
                    Some(ProbeEvent::Error { probe, kind }) => {
                        outstanding.pending.remove(&probe);
                        errors += 1;
                        last_error = Some(kind);
                    }
                    None => {}
                },
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
        // Count what is already queued (a duplicate right behind its reply).
        while let Ok(event) = rx.try_recv() {
            match event {
                ProbeEvent::Duplicate { .. } => duplicates += 1,
                ProbeEvent::Late { .. } => late += 1,
                _ => {}
            }
        }
        // Replies that came while no receive loop ran were never read: the
        // round's loss would be made up.
        self.shared.check_receivers(&mark)?;
        let mut stats = PingStats::summarize(target, sent, rtts);
        stats.duplicates = duplicates;
        stats.late = late;
        stats.errors = errors;
        stats.send_errors = send_errors;
        stats.refused_locally = refused_locally;
        stats.last_error = last_error;
        Ok(stats)
    }
}

/// A send this host refused by policy (a firewall's output rule, a
/// security module), as opposed to the network having no route.
fn refused_by_this_host(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES))
}

/// Expires whatever is still pending if the ping is cancelled.
struct Outstanding<'a> {
    engine: &'a IcmpEngine,
    pending: HashSet<ProbeNumber>,
}

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.engine.expire_all(self.pending.drain());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(v: &[u64]) -> Vec<RttMicros> {
        v.iter().copied().map(RttMicros).collect()
    }

    #[test]
    fn summary_matches_hand_computation() {
        let s = PingStats::summarize("127.0.0.1".parse().unwrap(), 5, us(&[100, 300, 200, 400]));
        assert_eq!(s.received, 4);
        assert!((s.loss_pct - 20.0).abs() < 1e-9);
        assert_eq!(s.rtt_min, Some(RttMicros(100)));
        assert_eq!(s.rtt_max, Some(RttMicros(400)));
        assert_eq!(s.rtt_avg, Some(RttMicros(250)));
        assert_eq!(s.rtt_median, Some(RttMicros(250)));
        // mdev = sqrt((1+9+4+16)/4 * 1e4 - 250^2) = sqrt(75000 - 62500) = 111.8
        assert_eq!(s.jitter, Some(RttMicros(112)));
    }

    #[test]
    fn summary_with_no_replies_has_no_rtts() {
        let s = PingStats::summarize("::1".parse().unwrap(), 3, Vec::new());
        assert_eq!(s.loss_pct, 100.0);
        assert_eq!(
            (s.rtt_min, s.rtt_avg, s.jitter, s.rtt_median),
            (None, None, None, None)
        );
    }

    #[test]
    fn odd_count_median_is_middle() {
        let s = PingStats::summarize("::1".parse().unwrap(), 3, us(&[9, 1, 5]));
        assert_eq!(s.rtt_median, Some(RttMicros(5)));
        assert_eq!(s.jitter, Some(RttMicros(3)));
    }

    #[test]
    fn zero_count_is_rejected() {
        let o = PingOptions {
            count: 0,
            ..PingOptions::default()
        };
        assert!(o.validate().is_err());
    }
}
