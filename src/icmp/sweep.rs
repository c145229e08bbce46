//! `IcmpEngine::sweep`: find the live hosts of one or more prefixes with at
//! most `max_in_flight` probes outstanding, an optional global rate limit,
//! retries for hosts that did not answer, and batched sends.
//!
//! Host expansion (`sweep_targets`) is pure; the async loop only paces,
//! sends through the engine and collects events. It does not parse packets.
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::engine::{IcmpEngine, ProbeEvent};
use super::error::IcmpError;
use super::rate::TokenBucket;
use super::wire::{Family, ProbeNumber, TAG_LEN};
use crate::types::RttMicros;

/// Largest number of addresses one sweep accepts.
pub const MAX_SWEEP_HOSTS: u64 = 1 << 24;
/// Probes handed to the kernel per `sendmmsg`.
const BATCH: usize = 64;

/// How to sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepOptions {
    /// Global send rate in probes per second; 0 = as fast as possible.
    pub rate_pps: u32,
    /// Upper bound on unanswered probes at any time.
    pub max_in_flight: usize,
    /// Extra attempts for a host that did not answer.
    pub retries: u32,
    /// How long each probe waits for its reply.
    pub timeout: Duration,
    /// ICMP payload bytes (at least the 20-byte tag).
    pub payload_size: usize,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            rate_pps: 0,
            max_in_flight: 2000,
            retries: 1,
            timeout: Duration::from_millis(1000),
            payload_size: TAG_LEN,
        }
    }
}

/// Progress reported to the caller while the sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepProgress {
    /// Hosts whose fate is known (answered or out of attempts).
    pub done: u64,
    pub total: u64,
    pub alive: u64,
}

/// Outcome of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SweepResult {
    /// Distinct addresses probed.
    pub probed: u64,
    /// Hosts that answered, with the RTT of their first answer, in address order.
    pub alive: Vec<(IpAddr, RttMicros)>,
    pub elapsed: Duration,
}

/// Number of addresses `sweep_targets` yields for `prefixes` (before dedup).
pub fn target_count(prefixes: &[IpNet]) -> Result<u64, IcmpError> {
    let mut total: u64 = 0;
    for net in prefixes {
        let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
        if host_bits >= 25 {
            return Err(too_large(net));
        }
        let mut n = 1u64 << host_bits;
        if matches!(net, IpNet::V4(_)) && net.prefix_len() < 31 {
            n -= 2;
        }
        total += n;
        if total > MAX_SWEEP_HOSTS {
            return Err(too_large(net));
        }
    }
    Ok(total)
}

fn too_large(net: &IpNet) -> IcmpError {
    IcmpError::InvalidOptions(format!(
        "prefix {net} is too large to sweep (at most {MAX_SWEEP_HOSTS} addresses)"
    ))
}

/// The addresses to probe: hosts of each prefix, skipping network and
/// broadcast addresses of IPv4 prefixes shorter than /31; repeats dropped.
pub fn sweep_targets(prefixes: &[IpNet]) -> impl Iterator<Item = IpAddr> + '_ {
    let mut seen = HashSet::new();
    let overlapping = prefixes.len() > 1;
    prefixes
        .iter()
        .flat_map(|net| net.hosts())
        .filter(move |addr| !overlapping || seen.insert(*addr))
}

impl IcmpEngine {
    /// Sweeps `prefixes`; `progress` is called at most every 100 ms and once
    /// at the end.
    pub async fn sweep(
        &self,
        prefixes: &[IpNet],
        options: SweepOptions,
        mut progress: impl FnMut(SweepProgress),
    ) -> Result<SweepResult, IcmpError> {
        if options.max_in_flight == 0 {
            return Err(IcmpError::InvalidOptions(
                "max_in_flight must be at least 1".into(),
            ));
        }
        if options.timeout.is_zero() {
            return Err(IcmpError::InvalidOptions("timeout must be above 0".into()));
        }
        let total = target_count(prefixes)?;
        let mut families: Vec<Family> = Vec::new();
        for net in prefixes {
            let f = Family::of(net.addr());
            if !families.contains(&f) {
                families.push(f);
            }
        }
        let mark = self.shared.mark_receivers(&families)?;
        let started = Instant::now();
        let payload = options.payload_size.max(TAG_LEN);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut fresh = sweep_targets(prefixes).peekable();
        let mut retry: VecDeque<(IpAddr, u32)> = VecDeque::new();
        let mut in_flight = InFlight {
            engine: self,
            probes: HashMap::new(),
        };
        let mut deadlines: VecDeque<(Instant, ProbeNumber)> = VecDeque::new();
        let mut alive: Vec<(IpAddr, RttMicros)> = Vec::new();
        let mut bucket = TokenBucket::new(options.rate_pps);
        let (mut probed, mut done) = (0u64, 0u64);
        let mut last_progress = started;
        let mut batch: Vec<IpAddr> = Vec::with_capacity(BATCH);
        let mut attempts: Vec<u32> = Vec::with_capacity(BATCH);
        loop {
            // 1. Send as much as the window and the bucket allow, in batches
            //    of one address family.
            loop {
                let room = options
                    .max_in_flight
                    .saturating_sub(in_flight.probes.len())
                    .min(BATCH);
                if room == 0 {
                    break;
                }
                let now_ns = nanos_since(started);
                let granted = bucket.take(room, now_ns);
                batch.clear();
                attempts.clear();
                let mut family = None;
                while batch.len() < granted {
                    let next = match retry.front() {
                        Some(&(addr, attempt)) => Some((addr, attempt, true)),
                        None => fresh.peek().map(|&addr| (addr, 0, false)),
                    };
                    let Some((addr, attempt, is_retry)) = next else {
                        break;
                    };
                    let f = Family::of(addr);
                    if *family.get_or_insert(f) != f {
                        break;
                    }
                    if is_retry {
                        retry.pop_front();
                    } else {
                        fresh.next();
                        probed += 1;
                    }
                    batch.push(addr);
                    attempts.push(attempt);
                }
                if batch.is_empty() {
                    break;
                }
                let sent = self.send_batch(&batch, payload, &tx).await?;
                let deadline = Instant::now() + options.timeout;
                for ((addr, result), attempt) in sent.into_iter().zip(attempts.iter()) {
                    match result {
                        Ok(probe) => {
                            in_flight.probes.insert(probe, (addr, *attempt));
                            deadlines.push_back((deadline, probe));
                        }
                        Err(e) => {
                            tracing::debug!("sweep: send to {addr} failed: {e}");
                            done += 1;
                        }
                    }
                }
                if batch.len() < room {
                    break;
                }
            }
            // 2. Collect answers already queued.
            while let Ok(event) = rx.try_recv() {
                done += record(event, &mut in_flight.probes, &mut alive);
            }
            // 3. Time out probes whose deadline passed.
            let now = Instant::now();
            while let Some(&(deadline, probe)) = deadlines.front() {
                if deadline > now {
                    break;
                }
                deadlines.pop_front();
                if !in_flight.probes.contains_key(&probe) || !self.expire(probe) {
                    continue;
                }
                if let Some((addr, attempt)) = in_flight.probes.remove(&probe) {
                    if attempt < options.retries {
                        retry.push_back((addr, attempt + 1));
                    } else {
                        done += 1;
                    }
                }
            }
            if now.duration_since(last_progress) >= Duration::from_millis(100) {
                last_progress = now;
                progress(SweepProgress {
                    done,
                    total,
                    alive: alive.len() as u64,
                });
            }
            let more_to_send = !retry.is_empty() || fresh.peek().is_some();
            if !more_to_send && in_flight.probes.is_empty() {
                break;
            }
            // 4. Sleep until an answer, a deadline, or a token.
            let window_open = in_flight.probes.len() < options.max_in_flight;
            let mut wake = deadlines.front().map(|d| d.0);
            if more_to_send && window_open {
                let wait = bucket.wait_for_one(nanos_since(started));
                let at = Instant::now() + wait;
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
            let wake = wake.unwrap_or_else(|| Instant::now() + Duration::from_millis(10));
            tokio::select! {
                event = rx.recv() => {
                    if let Some(event) = event {
                        done += record(event, &mut in_flight.probes, &mut alive);
                    }
                }
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
        progress(SweepProgress {
            done,
            total,
            alive: alive.len() as u64,
        });
        // A host that answered while no receive loop ran would be missed.
        self.shared.check_receivers(&mark)?;
        alive.sort();
        Ok(SweepResult {
            probed,
            alive,
            elapsed: started.elapsed(),
        })
    }
}

/// Applies one event; returns 1 if it settled a host.
fn record(
    event: ProbeEvent,
    in_flight: &mut HashMap<ProbeNumber, (IpAddr, u32)>,
    alive: &mut Vec<(IpAddr, RttMicros)>,
) -> u64 {
    match event {
        ProbeEvent::Reply { probe, rtt } => match in_flight.remove(&probe) {
            Some((addr, _)) => {
                alive.push((addr, rtt));
                1
            }
            None => 0,
        },
        // An unreachable host is settled: retrying would get the same answer.
        ProbeEvent::Error { probe, .. } => u64::from(in_flight.remove(&probe).is_some()),
        ProbeEvent::Duplicate { .. } | ProbeEvent::Late { .. } => 0,
    }
}

fn nanos_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Probes still in flight; expired in the engine if the sweep is cancelled.
struct InFlight<'a> {
    engine: &'a IcmpEngine,
    probes: HashMap<ProbeNumber, (IpAddr, u32)>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.probes.is_empty() {
            self.engine
                .expire_all(self.probes.drain().map(|(probe, _)| probe));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn ipv4_skips_network_and_broadcast_below_31() {
        let n = nets(&["10.99.1.0/30"]);
        let hosts: Vec<IpAddr> = sweep_targets(&n).collect();
        assert_eq!(
            hosts,
            vec![
                "10.99.1.1".parse::<IpAddr>().unwrap(),
                "10.99.1.2".parse().unwrap()
            ]
        );
        assert_eq!(target_count(&n).unwrap(), 2);
    }

    #[test]
    fn slash_31_and_32_keep_every_address() {
        let n = nets(&["10.99.1.0/31", "10.99.2.7/32"]);
        assert_eq!(sweep_targets(&n).count(), 3);
        assert_eq!(target_count(&n).unwrap(), 3);
    }

    #[test]
    fn overlapping_prefixes_are_probed_once() {
        let n = nets(&["10.99.1.0/24", "10.99.1.128/25"]);
        assert_eq!(sweep_targets(&n).count(), 254);
    }

    #[test]
    fn huge_prefixes_are_refused() {
        assert!(target_count(&nets(&["10.99.0.0/7"])).is_err());
        assert!(target_count(&nets(&["::ffff:10.99.0.0/64"])).is_err());
        assert_eq!(target_count(&nets(&["::ffff:10.99.0.0/120"])).unwrap(), 256);
    }
}
