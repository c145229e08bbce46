//! The syslog receiver's counters, shared with `/metrics`: messages
//! received by transport, dropped by reason, parse errors by reason,
//! messages without a device. Totals only grow while serve runs.
use super::parse::ParseError;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Tls];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

/// Why a message or a connection was dropped (one label value each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The store writer fell behind (its queue was full).
    QueueFull,
    /// A stream's framing broke (bad octet count, frame too long): the
    /// connection was closed.
    Framing,
    /// A connection over the limit of open ones, closed at once.
    ConnectionLimit,
    /// A TLS handshake that failed or took too long.
    TlsHandshake,
}

impl DropReason {
    pub const ALL: [DropReason; 4] = [
        DropReason::QueueFull,
        DropReason::Framing,
        DropReason::ConnectionLimit,
        DropReason::TlsHandshake,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Framing => "framing",
            DropReason::ConnectionLimit => "connection_limit",
            DropReason::TlsHandshake => "tls_handshake",
        }
    }
}

const PARSE_ERRORS: [ParseError; 2] = [ParseError::Empty, ParseError::BadPri];

#[derive(Debug, Default)]
pub struct SyslogStats {
    received: [AtomicU64; 3],
    dropped: [AtomicU64; 4],
    parse_errors: [AtomicU64; 2],
    unmatched: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyslogStatsSnapshot {
    /// Messages parsed, by transport (queued or dropped after).
    pub received: Vec<(Transport, u64)>,
    pub dropped: Vec<(DropReason, u64)>,
    pub parse_errors: Vec<(ParseError, u64)>,
    /// Messages whose sender matched no device (stored without one).
    pub unmatched: u64,
}

fn bump<T: PartialEq>(all: &[T], counters: &[AtomicU64], which: &T) {
    if let Some(i) = all.iter().position(|x| x == which) {
        counters[i].fetch_add(1, Ordering::Relaxed);
    }
}

fn load<T: Copy>(all: &[T], counters: &[AtomicU64]) -> Vec<(T, u64)> {
    all.iter()
        .zip(counters)
        .map(|(t, n)| (*t, n.load(Ordering::Relaxed)))
        .collect()
}

impl SyslogStats {
    pub fn received(&self, t: Transport) {
        bump(&Transport::ALL, &self.received, &t);
    }

    pub fn dropped(&self, r: DropReason) {
        bump(&DropReason::ALL, &self.dropped, &r);
    }

    pub fn parse_error(&self, e: ParseError) {
        bump(&PARSE_ERRORS, &self.parse_errors, &e);
    }

    pub fn unmatched(&self) {
        self.unmatched.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> SyslogStatsSnapshot {
        SyslogStatsSnapshot {
            received: load(&Transport::ALL, &self.received),
            dropped: load(&DropReason::ALL, &self.dropped),
            parse_errors: load(&PARSE_ERRORS, &self.parse_errors),
            unmatched: self.unmatched.load(Ordering::Relaxed),
        }
    }
}
