//! The table of outstanding probes: assigns probe numbers, matches replies
//! and errors to probes by identifier, sequence, tag and source address, and
//! classifies each arrival as fresh, duplicate, late, spoofed or foreign.
//!
//! Pure state: no sockets, and no clock reads (every timestamp is passed
//! in). The engine owns one table per process behind a mutex.
use std::collections::HashMap;
use std::net::IpAddr;

use super::wire::{Echo, ErrorKind, ProbeNumber, ProbeTag, QuotedError, SessionToken};
use crate::types::RttMicros;

/// Wall-clock time in nanoseconds since the Unix epoch (CLOCK_REALTIME, the
/// clock of kernel receive timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallNanos(pub u64);

impl WallNanos {
    /// Reads the system clock; the only clock read of the ICMP module, kept
    /// here so callers hand the value to the pure code.
    pub fn now() -> WallNanos {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        WallNanos(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn plus(self, d: std::time::Duration) -> WallNanos {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        WallNanos(self.0.saturating_add(add))
    }

    /// Time from `earlier` to `self`, zero if the clock went backwards.
    pub fn micros_since(self, earlier: WallNanos) -> RttMicros {
        RttMicros(self.0.saturating_sub(earlier.0) / 1_000)
    }
}

/// A probe still pending after this long has lost its caller.
pub const MAX_PENDING_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// What happened to an arrival, with the caller's sink when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<S> {
    /// The first valid reply to a pending probe.
    Fresh {
        sink: S,
        probe: ProbeNumber,
        rtt: RttMicros,
    },
    /// Another valid reply to a probe that already had one.
    Duplicate { sink: S, probe: ProbeNumber },
    /// A valid reply to a probe whose timeout had passed (sink is `None`
    /// once the probe has been forgotten).
    Late { sink: Option<S>, probe: ProbeNumber },
    /// An ICMP error about a pending probe.
    Error {
        sink: S,
        probe: ProbeNumber,
        kind: ErrorKind,
    },
    /// Looks like ours (our identifier, or on our own ping socket) but the
    /// tag, token, sequence or source address does not match a probe.
    Spoofed,
    /// Not addressed to this engine (another program's identifier).
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Answered { until: WallNanos },
    Expired { until: WallNanos },
    Failed { until: WallNanos },
}

#[derive(Debug)]
struct Entry<S> {
    target: IpAddr,
    sent_at: WallNanos,
    state: State,
    sink: S,
}

/// Outstanding and recently finished probes of one engine.
#[derive(Debug)]
pub struct ProbeTable<S> {
    session: SessionToken,
    /// Echo identifier to require; `None` for DGRAM sockets, where the
    /// kernel rewrites it and filters replies by socket.
    ident: Option<u16>,
    /// How long a finished probe is remembered to recognise duplicates and
    /// late replies.
    linger: std::time::Duration,
    next: u64,
    entries: HashMap<u64, Entry<S>>,
}

impl<S: Clone> ProbeTable<S> {
    pub fn new(session: SessionToken, ident: Option<u16>, linger: std::time::Duration) -> Self {
        ProbeTable {
            session,
            ident,
            linger,
            next: 0,
            entries: HashMap::new(),
        }
    }

    /// Registers a probe about to be sent at `sent_at`; returns its tag.
    pub fn register(&mut self, target: IpAddr, sent_at: WallNanos, sink: S) -> ProbeTag {
        let probe = ProbeNumber(self.next);
        self.next = self.next.wrapping_add(1);
        self.entries.insert(
            probe.0,
            Entry {
                target,
                sent_at,
                state: State::Pending,
                sink,
            },
        );
        ProbeTag {
            session: self.session,
            probe,
        }
    }

    /// Marks a pending probe as timed out; returns true if it was pending.
    pub fn expire(&mut self, probe: ProbeNumber, now: WallNanos) -> bool {
        let until = now.plus(self.linger);
        match self.entries.get_mut(&probe.0) {
            Some(entry) if entry.state == State::Pending => {
                entry.state = State::Expired { until };
                true
            }
            _ => false,
        }
    }

    /// Forgets a probe that was never sent (the send failed).
    pub fn remove(&mut self, probe: ProbeNumber) {
        self.entries.remove(&probe.0);
    }

    /// Drops finished probes whose linger time has passed, and pending ones
    /// older than `MAX_PENDING_AGE` (their caller was cancelled mid-send).
    pub fn purge(&mut self, now: WallNanos) {
        let max_age = u64::try_from(MAX_PENDING_AGE.as_nanos()).unwrap_or(u64::MAX);
        self.entries.retain(|_, e| match e.state {
            State::Pending => now.0.saturating_sub(e.sent_at.0) < max_age,
            State::Answered { until } | State::Expired { until } | State::Failed { until } => {
                until > now
            }
        });
    }

    /// Probes still waiting for an answer.
    pub fn pending(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.state == State::Pending)
            .count()
    }

    /// Entries held, pending or lingering.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Classifies an echo reply from `src` received at `rx`.
    pub fn on_reply(&mut self, src: IpAddr, echo: &Echo<'_>, rx: WallNanos) -> Verdict<S> {
        let tag = echo.tag();
        if let Some(ident) = self.ident
            && echo.ident != ident
        {
            // A valid token under a foreign identifier is forged, not foreign.
            return match tag {
                Some(t) if t.session == self.session => Verdict::Spoofed,
                _ => Verdict::Foreign,
            };
        }
        let Some(tag) = tag else {
            return Verdict::Spoofed;
        };
        if tag.session != self.session || tag.probe.sequence() != echo.seq {
            return Verdict::Spoofed;
        }
        let until = rx.plus(self.linger);
        let Some(entry) = self.entries.get_mut(&tag.probe.0) else {
            // Ours (the token is secret) but forgotten: a very late reply.
            return if tag.probe.0 < self.next {
                Verdict::Late {
                    sink: None,
                    probe: tag.probe,
                }
            } else {
                Verdict::Spoofed
            };
        };
        if entry.target != src {
            return Verdict::Spoofed;
        }
        match entry.state {
            State::Pending => {
                entry.state = State::Answered { until };
                Verdict::Fresh {
                    sink: entry.sink.clone(),
                    probe: tag.probe,
                    rtt: rx.micros_since(entry.sent_at),
                }
            }
            State::Answered { .. } | State::Failed { .. } => Verdict::Duplicate {
                sink: entry.sink.clone(),
                probe: tag.probe,
            },
            State::Expired { .. } => Verdict::Late {
                sink: Some(entry.sink.clone()),
                probe: tag.probe,
            },
        }
    }

    /// Classifies an ICMP error quoting one of our requests, received at `now`.
    pub fn on_error(&mut self, error: &QuotedError, now: WallNanos) -> Verdict<S> {
        let probe = match (error.original_tag, self.ident) {
            (Some(tag), _) if tag.session == self.session => tag.probe,
            (Some(_), _) => return Verdict::Foreign,
            (None, Some(ident)) if ident == error.original_ident => {
                self.latest_with_sequence(error.original_seq)
            }
            (None, _) => return Verdict::Foreign,
        };
        if probe.sequence() != error.original_seq {
            return Verdict::Spoofed;
        }
        let until = now.plus(self.linger);
        match self.entries.get_mut(&probe.0) {
            Some(entry) if entry.target == error.original_dst => match entry.state {
                State::Pending => {
                    entry.state = State::Failed { until };
                    Verdict::Error {
                        sink: entry.sink.clone(),
                        probe,
                        kind: error.kind,
                    }
                }
                _ => Verdict::Late {
                    sink: Some(entry.sink.clone()),
                    probe,
                },
            },
            _ => Verdict::Foreign,
        }
    }

    /// The most recent probe number whose low 16 bits are `seq`.
    fn latest_with_sequence(&self, seq: u16) -> ProbeNumber {
        let last = self.next.wrapping_sub(1);
        let back = (last.wrapping_sub(u64::from(seq))) & 0xffff;
        ProbeNumber(last.wrapping_sub(back))
    }
}

#[cfg(test)]
#[path = "probes_tests.rs"]
mod tests;
