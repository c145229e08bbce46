//! Answers that came from another address than the one asked, put back on
//! the device that was asked.
//!
//! async-snmp takes an answer only from the address its request went to
//! (strict source correlation). A datagram from elsewhere that carries a
//! waiting request's id is dropped with the request id and the sender; when
//! that request then times out, the library says so with the same id and
//! the address asked. Matching the two tells "device X does not answer"
//! apart from "device X's answers come from Y" whatever Y is: another
//! interface of X, a NAT or firewall rewriting the source, or a spoofer.
//!
//! [`Strays`] is the pure matcher; `rejects` feeds it from the library's
//! debug events. Everything in it is bounded: at most [`MAX_PENDING`]
//! request ids wait for their timeout (older than [`PENDING_MAX_AGE`] go
//! first), at most [`MAX_TARGETS`] targets with [`MAX_SOURCES`] senders
//! each are counted; the rest only counts in [`Strays::untracked`].
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Request ids held at most while they wait for their timeout.
pub const MAX_PENDING: usize = 4_096;
/// A held id older than this is forgotten (its request was answered after
/// all, or its timeout event was lost) when room is needed.
pub const PENDING_MAX_AGE: Duration = Duration::from_secs(120);
/// Targets counted at most.
pub const MAX_TARGETS: usize = 4_096;
/// Senders counted per target at most.
pub const MAX_SOURCES: usize = 8;

struct Pending {
    from: Vec<(IpAddr, u64)>,
    first_seen: Instant,
}

/// Dropped answers held by request id, and those matched to a timed-out
/// request counted by the address asked.
#[derive(Default)]
pub struct Strays {
    pending: HashMap<i32, Pending>,
    by_target: HashMap<IpAddr, Vec<(IpAddr, u64)>>,
    untracked: u64,
}

fn bump(list: &mut Vec<(IpAddr, u64)>, source: IpAddr, n: u64) -> bool {
    if let Some(e) = list.iter_mut().find(|(ip, _)| *ip == source) {
        e.1 += n;
        return true;
    }
    if list.len() >= MAX_SOURCES {
        return false;
    }
    list.push((source, n));
    true
}

impl Strays {
    /// An answer to request `request_id` came from `source`, which is not
    /// the address the request went to.
    pub fn rejected(&mut self, request_id: i32, source: IpAddr, now: Instant) {
        if !self.pending.contains_key(&request_id) && self.pending.len() >= MAX_PENDING {
            self.pending
                .retain(|_, p| now.saturating_duration_since(p.first_seen) < PENDING_MAX_AGE);
            if self.pending.len() >= MAX_PENDING {
                self.untracked += 1;
                return;
            }
        }
        let p = self.pending.entry(request_id).or_insert_with(|| Pending {
            from: Vec::new(),
            first_seen: now,
        });
        if !bump(&mut p.from, source, 1) {
            self.untracked += 1;
        }
    }

    /// Request `request_id` to `target` timed out: the answers held for it
    /// are counted on `target`. An id with nothing held is ignored.
    pub fn timed_out(&mut self, request_id: i32, target: IpAddr) {
        let Some(p) = self.pending.remove(&request_id) else {
            return;
        };
        if !self.by_target.contains_key(&target) && self.by_target.len() >= MAX_TARGETS {
            self.untracked += p.from.iter().map(|(_, n)| n).sum::<u64>();
            return;
        }
        let list = self.by_target.entry(target).or_default();
        for (source, n) in p.from {
            if !bump(list, source, n) {
                self.untracked += n;
            }
        }
    }

    /// Answers to requests sent to `target` that came from elsewhere, by
    /// sender, since start (in the order first seen).
    pub fn from_elsewhere(&self, target: IpAddr) -> Vec<(IpAddr, u64)> {
        self.by_target.get(&target).cloned().unwrap_or_default()
    }

    /// Answers not counted on any target because a bound was reached.
    pub fn untracked(&self) -> u64 {
        self.untracked
    }
}

/// What grew from `earlier` to `now` (both from
/// [`Strays::from_elsewhere`]), by sender.
pub fn growth(now: &[(IpAddr, u64)], earlier: &[(IpAddr, u64)]) -> Vec<(IpAddr, u64)> {
    now.iter()
        .map(|(ip, n)| {
            let then = earlier.iter().find(|(e, _)| e == ip).map_or(0, |(_, n)| *n);
            (*ip, n.saturating_sub(then))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The note for a failed request to `polled` whose answers came from
/// elsewhere (`growth` since the last request). `own` are the device's
/// other addresses when known (the poller knows them, discovery does not
/// yet), so a router answering from another interface reads differently
/// from a stranger.
pub fn note(polled: IpAddr, growth: &[(IpAddr, u64)], own: Option<&[IpAddr]>) -> Option<String> {
    let from: Vec<(IpAddr, u64)> = growth
        .iter()
        .copied()
        .filter(|(ip, n)| *n > 0 && *ip != polled)
        .collect();
    if from.is_empty() {
        return None;
    }
    let parts: Vec<String> = from
        .iter()
        .map(|(ip, n)| match own {
            Some(own) if own.contains(ip) => {
                format!("{n} came from {ip} (an address of this device)")
            }
            Some(_) => format!("{n} came from {ip} (not an address of this device)"),
            None => format!("{n} came from {ip}"),
        })
        .collect();
    let hint = match own {
        Some(own) if from.iter().all(|(ip, _)| own.contains(ip)) => {
            "make the agent answer from it, or poll the address it answers from"
        }
        Some(_) => {
            "make the agent answer from the polled address; an address that is not the device's own also points to NAT or a firewall rewriting the source, or to spoofed answers"
        }
        None => "make the agent answer from it, or give discovery the address it answers from",
    };
    Some(format!(
        "answers from another address ({}): only answers from the polled address {polled} are taken; {hint}",
        parts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_dropped_answer_counts_on_the_target_of_the_request_that_timed_out() {
        let mut s = Strays::default();
        let t0 = Instant::now();
        s.rejected(7, ip("10.0.0.9"), t0);
        s.rejected(7, ip("10.0.0.9"), t0);
        s.rejected(8, ip("10.0.0.9"), t0);
        // Nothing counts before the timeout, and a timeout with nothing
        // held (plain silence) counts nothing.
        assert!(s.from_elsewhere(ip("10.0.0.1")).is_empty());
        s.timed_out(99, ip("10.0.0.1"));
        assert!(s.from_elsewhere(ip("10.0.0.1")).is_empty());
        s.timed_out(7, ip("10.0.0.1"));
        assert_eq!(s.from_elsewhere(ip("10.0.0.1")), vec![(ip("10.0.0.9"), 2)]);
        // Counted once: the id is released at its timeout.
        s.timed_out(7, ip("10.0.0.1"));
        assert_eq!(s.from_elsewhere(ip("10.0.0.1")), vec![(ip("10.0.0.9"), 2)]);
        // Request 8 went to another target.
        s.timed_out(8, ip("10.0.0.2"));
        assert_eq!(s.from_elsewhere(ip("10.0.0.2")), vec![(ip("10.0.0.9"), 1)]);
        assert_eq!(s.from_elsewhere(ip("10.0.0.1")), vec![(ip("10.0.0.9"), 2)]);
        assert_eq!(s.untracked(), 0);
    }

    #[test]
    fn a_flood_of_spoofed_ids_stays_bounded() {
        let mut s = Strays::default();
        let t0 = Instant::now();
        for id in 0..(MAX_PENDING as i32 + 10) {
            s.rejected(id, ip("10.0.0.9"), t0);
        }
        assert_eq!(s.pending.len(), MAX_PENDING);
        assert_eq!(s.untracked(), 10);
        // Once the held ids are old they make room.
        s.rejected(-1, ip("10.0.0.9"), t0 + PENDING_MAX_AGE);
        assert_eq!(s.pending.len(), 1);
        // Many senders for one request: the first MAX_SOURCES are named.
        for i in 0..(MAX_SOURCES as u8 + 3) {
            s.rejected(-1, IpAddr::from([10, 1, 0, i]), t0 + PENDING_MAX_AGE);
        }
        s.timed_out(-1, ip("10.0.0.1"));
        assert_eq!(s.from_elsewhere(ip("10.0.0.1")).len(), MAX_SOURCES);
        assert_eq!(s.untracked(), 10 + 4);
    }

    #[test]
    fn growth_is_per_sender() {
        let a = ip("10.0.0.9");
        let b = ip("10.0.0.8");
        assert_eq!(growth(&[(a, 5), (b, 1)], &[(a, 2)]), vec![(a, 3), (b, 1)]);
        assert!(growth(&[(a, 2)], &[(a, 2)]).is_empty());
    }

    #[test]
    fn the_note_says_whose_address_answered() {
        let polled = ip("10.0.0.1");
        let own = ip("10.9.0.1");
        let stranger = ip("10.93.0.51");
        let mine = Some(&[own][..]);
        assert_eq!(note(polled, &[(own, 0)], mine), None);
        assert_eq!(note(polled, &[(polled, 3)], mine), None);
        let n = note(polled, &[(own, 2)], mine).unwrap();
        assert!(
            n.starts_with(
                "answers from another address (2 came from 10.9.0.1 (an address of this device))"
            ),
            "{n}"
        );
        assert!(n.contains("polled address 10.0.0.1"), "{n}");
        assert!(n.contains("poll the address it answers from"), "{n}");
        let n = note(polled, &[(stranger, 4)], mine).unwrap();
        assert!(
            n.contains("4 came from 10.93.0.51 (not an address of this device)"),
            "{n}"
        );
        assert!(n.contains("spoofed"), "{n}");
        // Discovery does not know the device's addresses yet.
        let n = note(polled, &[(stranger, 1)], None).unwrap();
        assert!(n.contains("(1 came from 10.93.0.51)"), "{n}");
        assert!(n.contains("give discovery the address"), "{n}");
    }
}
