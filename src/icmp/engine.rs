//! `IcmpEngine`: one ICMP socket per address family, one receive task per
//! socket, and the shared table of outstanding probes. Many callers (pings,
//! sweeps) share one engine; replies reach each caller through its own
//! channel.
//!
//! This file owns the sockets, the probe table and the sends; the receive
//! tasks and their supervision are in `receiver.rs`. It does not decide what
//! a ping or a sweep is (see `ping.rs`, `sweep.rs`) and does no wire parsing
//! of its own (see `wire.rs`).
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use socket2::{SockAddr, Socket};
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::error::IcmpError;
use super::probes::{ProbeTable, Verdict, WallNanos};
use super::receiver::{self, ReceiverState};
use super::sys::{self, SocketKind};
use super::wire::{self, ErrorKind, Family, Framing, Message, ProbeNumber, SessionToken};
use crate::types::RttMicros;

/// Engine settings; plain data with defaults that suit a sweep of a /16.
#[derive(Debug, Clone)]
pub struct IcmpConfig {
    /// Raw, DGRAM ping socket, or raw with DGRAM fallback.
    pub socket_kind: SocketKind,
    /// Receive buffer per socket (SO_RCVBUFFORCE as root, else capped by rmem_max).
    pub recv_buffer_bytes: usize,
    /// How long answered or timed-out probes are remembered, so that a second
    /// reply counts as a duplicate and a slow one as late.
    pub linger: Duration,
    pub ipv4: bool,
    pub ipv6: bool,
}

impl Default for IcmpConfig {
    fn default() -> Self {
        IcmpConfig {
            socket_kind: SocketKind::Auto,
            recv_buffer_bytes: 4 << 20,
            linger: Duration::from_secs(10),
            ipv4: true,
            ipv6: true,
        }
    }
}

/// What a caller hears about its probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeEvent {
    Reply { probe: ProbeNumber, rtt: RttMicros },
    Duplicate { probe: ProbeNumber },
    Late { probe: ProbeNumber },
    Error { probe: ProbeNumber, kind: ErrorKind },
}

pub(crate) type Sink = mpsc::UnboundedSender<ProbeEvent>;

/// Engine-wide counters, for health metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EngineCounters {
    pub sent: u64,
    pub send_errors: u64,
    pub received: u64,
    pub duplicates: u64,
    pub late: u64,
    /// Our identifier or socket, but a wrong tag, token, sequence or source.
    pub spoofed: u64,
    /// Echo replies for other programs (another identifier).
    pub foreign: u64,
    /// Bytes that did not parse as ICMP.
    pub malformed: u64,
    /// ICMP errors (unreachable, time exceeded, ...) about our probes.
    pub icmp_errors: u64,
    pub timeouts: u64,
    pub recv_errors: u64,
    /// Times a receive loop stopped and was started again (all families).
    pub receiver_restarts: u64,
    /// Probes waiting for an answer right now.
    pub pending: u64,
}

impl EngineCounters {
    /// Folds in a snapshot taken elsewhere: each total keeps the larger
    /// value (snapshots of concurrent rounds may arrive out of order, and a
    /// total must never go back), `pending` is the newer one's.
    pub fn merge(&mut self, newer: EngineCounters) {
        let EngineCounters {
            sent,
            send_errors,
            received,
            duplicates,
            late,
            spoofed,
            foreign,
            malformed,
            icmp_errors,
            timeouts,
            recv_errors,
            receiver_restarts,
            pending,
        } = newer;
        for (mine, theirs) in [
            (&mut self.sent, sent),
            (&mut self.send_errors, send_errors),
            (&mut self.received, received),
            (&mut self.duplicates, duplicates),
            (&mut self.late, late),
            (&mut self.spoofed, spoofed),
            (&mut self.foreign, foreign),
            (&mut self.malformed, malformed),
            (&mut self.icmp_errors, icmp_errors),
            (&mut self.timeouts, timeouts),
            (&mut self.recv_errors, recv_errors),
            (&mut self.receiver_restarts, receiver_restarts),
        ] {
            *mine = (*mine).max(theirs);
        }
        self.pending = pending;
    }
}

/// How each address family is served.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FamilyInfo {
    pub kind: Option<SocketKind>,
    pub kernel_timestamps: bool,
    pub recv_buffer_bytes: usize,
    pub unavailable: Option<String>,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    send_errors: AtomicU64,
    received: AtomicU64,
    duplicates: AtomicU64,
    late: AtomicU64,
    spoofed: AtomicU64,
    foreign: AtomicU64,
    malformed: AtomicU64,
    icmp_errors: AtomicU64,
    timeouts: AtomicU64,
    recv_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(super) struct FamilySocket {
    pub(super) fd: AsyncFd<Socket>,
    kind: SocketKind,
    pub(super) framing: Framing,
    kernel_timestamps: bool,
}

pub(crate) struct EngineState {
    v4: Result<FamilySocket, String>,
    v6: Result<FamilySocket, String>,
    ident: u16,
    table: Mutex<ProbeTable<Sink>>,
    counters: Counters,
    receivers: [ReceiverState; 2],
}

/// The shared ICMP prober. Create once, hold in an `Arc`, use from any task.
pub struct IcmpEngine {
    pub(crate) shared: Arc<EngineState>,
    tasks: Vec<JoinHandle<()>>,
}

impl IcmpEngine {
    /// Opens the sockets and starts the receive tasks; must run inside a tokio
    /// runtime. Fails only if no enabled family could be opened.
    pub fn new(config: IcmpConfig) -> Result<Arc<IcmpEngine>, IcmpError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| IcmpError::NoRuntime)?;
        let open = |family, enabled: bool| -> Result<Result<FamilySocket, String>, IcmpError> {
            if !enabled {
                return Ok(Err("disabled in the configuration".into()));
            }
            match sys::open(family, config.socket_kind, config.recv_buffer_bytes) {
                Ok(opened) => {
                    let fd = sys::register(opened.socket).map_err(IcmpError::Register)?;
                    Ok(Ok(FamilySocket {
                        fd,
                        kind: opened.kind,
                        framing: opened.framing,
                        kernel_timestamps: opened.kernel_timestamps,
                    }))
                }
                Err(e @ IcmpError::NotPermitted { .. }) => Err(e),
                Err(e) => Ok(Err(e.to_string())),
            }
        };
        let _guard = handle.enter();
        let v4 = open(Family::V4, config.ipv4)?;
        let v6 = open(Family::V6, config.ipv6)?;
        if let (Err(r4), Err(r6)) = (&v4, &v6) {
            return Err(IcmpError::FamilyUnavailable {
                family: Family::V4,
                reason: format!("IPv4: {r4}; IPv6: {r6}"),
            });
        }
        // DGRAM ping sockets get their identifier from the kernel.
        let raw = matches!(&v4, Ok(s) if s.kind == SocketKind::Raw)
            || matches!(&v6, Ok(s) if s.kind == SocketKind::Raw);
        let ident: u16 = rand::random();
        let session = SessionToken(rand::random());
        let table = ProbeTable::new(session, raw.then_some(ident), config.linger);
        let shared = Arc::new(EngineState {
            v4,
            v6,
            ident,
            table: Mutex::new(table),
            counters: Counters::default(),
            receivers: Default::default(),
        });
        let mut tasks = Vec::new();
        for family in [Family::V4, Family::V6] {
            if shared.socket(family).is_ok() {
                shared.receiver(family).starting();
                tasks.push(handle.spawn(receiver::supervise(Arc::clone(&shared), family)));
            }
        }
        Ok(Arc::new(IcmpEngine { shared, tasks }))
    }

    /// Test hook: the next datagram each receive loop reads makes it panic,
    /// as a bug reached by a hostile packet would (the loop is restarted).
    /// Only with the `test-faults` feature (the tests' build).
    #[cfg(feature = "test-faults")]
    #[doc(hidden)]
    pub fn fault_panic_receivers(&self) {
        for r in &self.shared.receivers {
            r.inject_panic();
        }
    }

    /// A snapshot of the engine's counters.
    pub fn counters(&self) -> EngineCounters {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EngineCounters {
            sent: get(&c.sent),
            send_errors: get(&c.send_errors),
            received: get(&c.received),
            duplicates: get(&c.duplicates),
            late: get(&c.late),
            spoofed: get(&c.spoofed),
            foreign: get(&c.foreign),
            malformed: get(&c.malformed),
            icmp_errors: get(&c.icmp_errors),
            timeouts: get(&c.timeouts),
            recv_errors: get(&c.recv_errors),
            receiver_restarts: self.shared.receivers.iter().map(|r| r.restarts()).sum(),
            pending: self.shared.lock_table().pending() as u64,
        }
    }

    /// How a family is served (socket kind, timestamps, buffer size).
    pub fn family_info(&self, family: Family) -> FamilyInfo {
        match self.shared.socket(family) {
            Ok(s) => FamilyInfo {
                kind: Some(s.kind),
                kernel_timestamps: s.kernel_timestamps,
                recv_buffer_bytes: sys::recv_buffer_size(s.fd.get_ref()),
                unavailable: None,
            },
            Err(e) => FamilyInfo {
                kind: None,
                kernel_timestamps: false,
                recv_buffer_bytes: 0,
                unavailable: Some(e.to_string()),
            },
        }
    }

    /// Sends one echo request; the reply or error arrives on `sink`.
    pub(crate) async fn send_one(
        &self,
        target: IpAddr,
        payload_len: usize,
        sink: &Sink,
    ) -> Result<ProbeNumber, IcmpError> {
        let results = self.send_batch(&[target], payload_len, sink).await?;
        match results.into_iter().next() {
            Some((_, Ok(probe))) => Ok(probe),
            Some((_, Err(source))) => Err(IcmpError::Send { target, source }),
            None => Err(IcmpError::InvalidOptions("nothing to send".into())),
        }
    }

    /// Sends one echo request to each of `targets` (all of one family) with
    /// as few system calls as the kernel allows.
    pub(crate) async fn send_batch(
        &self,
        targets: &[IpAddr],
        payload_len: usize,
        sink: &Sink,
    ) -> Result<Vec<(IpAddr, std::io::Result<ProbeNumber>)>, IcmpError> {
        let Some(first) = targets.first() else {
            return Ok(Vec::new());
        };
        let family = Family::of(*first);
        let socket = self.shared.socket(family)?;
        let mut packet = Vec::new();
        let mut buffer = Vec::with_capacity(targets.len() * (payload_len + 8));
        let mut probes = Vec::with_capacity(targets.len());
        {
            let mut table = self.shared.lock_table();
            let sent_at = WallNanos::now();
            for target in targets {
                let tag = table.register(*target, sent_at, sink.clone());
                wire::emit_echo_request(family, self.shared.ident, &tag, payload_len, &mut packet);
                buffer.extend_from_slice(&packet);
                probes.push(tag.probe);
            }
        }
        let stride = packet.len();
        let addrs: Vec<SockAddr> = targets
            .iter()
            .map(|t| SockAddr::from(SocketAddr::new(*t, 0)))
            .collect();
        let mut outcome: Vec<(IpAddr, std::io::Result<ProbeNumber>)> = Vec::new();
        let mut next = 0;
        let mut nobufs_retries = 0;
        while next < targets.len() {
            let batch: Vec<(SockAddr, &[u8])> = (next..targets.len())
                .map(|i| {
                    let bytes = buffer.get(i * stride..(i + 1) * stride).unwrap_or(&[]);
                    (addrs[i].clone(), bytes)
                })
                .collect();
            let mut guard = socket.fd.writable().await.map_err(IcmpError::Register)?;
            match guard.try_io(|fd| sys::send_batch(fd.get_ref(), &batch)) {
                Err(_would_block) => continue,
                Ok(Ok(n)) if n > 0 => {
                    for i in next..next + n {
                        outcome.push((targets[i], Ok(probes[i])));
                    }
                    self.shared
                        .counters
                        .sent
                        .fetch_add(n as u64, Ordering::Relaxed);
                    next += n;
                    nobufs_retries = 0;
                }
                Ok(Ok(_)) => continue,
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) && nobufs_retries < 100 => {
                    nobufs_retries += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => {
                    bump(&self.shared.counters.send_errors);
                    self.shared.lock_table().remove(probes[next]);
                    outcome.push((targets[next], Err(e)));
                    next += 1;
                }
            }
        }
        Ok(outcome)
    }

    /// Gives up on a probe at its timeout; true if it was still unanswered.
    pub(crate) fn expire(&self, probe: ProbeNumber) -> bool {
        let expired = self.shared.lock_table().expire(probe, WallNanos::now());
        if expired {
            bump(&self.shared.counters.timeouts);
        }
        expired
    }

    /// Expires many probes with one lock (sweep cancellation).
    pub(crate) fn expire_all(&self, probes: impl IntoIterator<Item = ProbeNumber>) {
        let now = WallNanos::now();
        let mut table = self.shared.lock_table();
        for probe in probes {
            table.expire(probe, now);
        }
    }
}

impl Drop for IcmpEngine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl EngineState {
    pub(super) fn receiver(&self, family: Family) -> &ReceiverState {
        match family {
            Family::V4 => &self.receivers[0],
            Family::V6 => &self.receivers[1],
        }
    }

    pub(super) fn count_recv_error(&self) {
        bump(&self.counters.recv_errors);
    }

    pub(super) fn socket(&self, family: Family) -> Result<&FamilySocket, IcmpError> {
        let slot = match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        slot.as_ref()
            .map_err(|reason| IcmpError::FamilyUnavailable {
                family,
                reason: reason.clone(),
            })
    }

    pub(super) fn lock_table(&self) -> MutexGuard<'_, ProbeTable<Sink>> {
        // A panic while holding the lock cannot leave the table half-updated
        // in a way that matters more than losing the engine: keep going.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Parses one datagram and tells the owning caller what it means.
    pub(super) fn handle(
        &self,
        family: Family,
        framing: Framing,
        bytes: &[u8],
        src: Option<IpAddr>,
        rx: WallNanos,
    ) {
        let c = &self.counters;
        let verdict = match wire::parse(family, framing, bytes) {
            Err(_) => return bump(&c.malformed),
            Ok(Message::EchoReply(echo)) => match src {
                Some(src) => self.lock_table().on_reply(src, &echo, rx),
                None => return bump(&c.malformed),
            },
            Ok(Message::Error(quoted)) => self.lock_table().on_error(&quoted, rx),
            Ok(Message::EchoRequest(_)) | Ok(Message::Other { .. }) => return,
        };
        match verdict {
            Verdict::Fresh { sink, probe, rtt } => {
                bump(&c.received);
                let _ = sink.send(ProbeEvent::Reply { probe, rtt });
            }
            Verdict::Duplicate { sink, probe } => {
                bump(&c.duplicates);
                let _ = sink.send(ProbeEvent::Duplicate { probe });
            }
            Verdict::Late { sink, probe } => {
                bump(&c.late);
                if let Some(sink) = sink {
                    let _ = sink.send(ProbeEvent::Late { probe });
                }
            }
            Verdict::Error { sink, probe, kind } => {
                bump(&c.icmp_errors);
                let _ = sink.send(ProbeEvent::Error { probe, kind });
            }
            Verdict::Spoofed => bump(&c.spoofed),
            Verdict::Foreign => bump(&c.foreign),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EngineCounters;

    #[test]
    fn merged_totals_never_go_back() {
        let mut held = EngineCounters {
            sent: 10,
            received: 9,
            pending: 4,
            ..Default::default()
        };
        // An older snapshot arriving late: totals stay, pending follows it.
        held.merge(EngineCounters {
            sent: 8,
            received: 7,
            spoofed: 1,
            pending: 2,
            ..Default::default()
        });
        assert_eq!((held.sent, held.received, held.spoofed), (10, 9, 1));
        assert_eq!(held.pending, 2);
        held.merge(EngineCounters {
            sent: 12,
            receiver_restarts: 1,
            ..Default::default()
        });
        assert_eq!(
            (held.sent, held.received, held.receiver_restarts),
            (12, 9, 1)
        );
    }
}
