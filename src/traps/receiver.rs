//! The trap receiver's I/O: one UDP socket, one receive loop and one store
//! writer. Per datagram: the source's token bucket, the decode (pure,
//! `decode.rs`; a panic inside the library is caught and counted as
//! malformed), the community check — or for SNMPv3 the USM processing
//! (`usm.rs`, its state owned by this loop; a Report sent back when one
//! is due) — the inform's Response, the device
//! (`attribute.rs`), an early poll for a link change, then the event to the writer's
//! bounded queue. Nothing a datagram holds can stop the loop.
use super::attribute;
use super::bucket::SourceBuckets;
use super::decode::{self, Refused};
use super::event;
use super::stats::{DropReason, TrapStats};
use super::usm::{LocalEngine, Usm, UsmRefusal, UsmUser};
use crate::live::Live;
use crate::mib::Mibs;
use crate::poller::PollWaker;
use crate::store::{EventRow, EventTap, StoreConfig};
use crate::types::UnixMillis;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Events waiting for the store writer; beyond it they are dropped and
/// counted (`queue_full`).
pub const QUEUE_LEN: usize = 10_000;
/// Events one store transaction writes at most.
const BATCH: usize = 1_000;

/// The receiver's own settings (from `[traps]`).
#[derive(Debug, Clone)]
pub struct TrapSettings {
    pub listen: SocketAddr,
    /// Notifications a second per source, and the burst allowed at once.
    pub rate_per_s: f64,
    pub burst: f64,
    /// Accepted v1/v2c communities (those of the v1/v2c credentials);
    /// empty: any.
    pub communities: Vec<crate::types::Secret>,
    /// SNMPv3 users (`[traps] v3_users`); none: v3 is dropped as
    /// `v3_unsupported`.
    pub v3_users: Vec<UsmUser>,
    /// Our engine (id, boots; informs and discovery); `None` with no users.
    pub engine: Option<LocalEngine>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrapError {
    #[error(
        "cannot receive traps on {addr}: ports below 1024, such as 162, need root or CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep` on the binary, AmbientCapabilities=CAP_NET_BIND_SERVICE in a systemd unit, or a port of 1024 or more in [traps] listen)"
    )]
    Privileged {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot receive traps on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running receiver.
pub struct TrapReceiver {
    /// The bound address (the port the system chose for port 0).
    pub local: SocketAddr,
    pub stats: Arc<TrapStats>,
    task: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
}

impl TrapReceiver {
    /// Waits for the loop (ended by the stop signal) and the writer's last
    /// transaction.
    pub async fn join(self) {
        let _ = self.task.await;
        let _ = self.writer.await;
    }
}

/// The receiver's socket, bound before discovery so a refused port fails
/// `serve` at once.
pub struct BoundTraps {
    sock: tokio::net::UdpSocket,
    /// The bound address (the port the system chose for port 0).
    pub local: SocketAddr,
}

/// Binds the receiver's UDP socket.
pub fn bind(addr: SocketAddr) -> Result<BoundTraps, TrapError> {
    let sock = bind_socket(addr)?;
    let local = sock
        .local_addr()
        .map_err(|source| TrapError::Bind { addr, source })?;
    Ok(BoundTraps { sock, local })
}

/// Starts the loop and the writer (its own store connection on `db`;
/// what it writes is handed on to `tap` when given).
#[allow(clippy::too_many_arguments)]
pub fn start(
    bound: BoundTraps,
    settings: TrapSettings,
    live: Arc<Live>,
    mibs: Arc<Mibs>,
    db: PathBuf,
    store_config: StoreConfig,
    waker: PollWaker,
    tap: Option<EventTap>,
    stop: watch::Receiver<bool>,
) -> TrapReceiver {
    let stats = Arc::new(TrapStats::default());
    let (tx, rx) = mpsc::channel(QUEUE_LEN);
    let writer = tokio::task::spawn_blocking(move || {
        let who = "trap receiver";
        crate::store::write_queued_events(db, store_config, rx, BATCH, who, "events", tap)
    });
    let task = tokio::spawn(receive(
        bound.sock,
        settings,
        live,
        mibs,
        waker,
        stats.clone(),
        tx,
        stop,
    ));
    TrapReceiver {
        local: bound.local,
        stats,
        task,
        writer,
    }
}

fn bind_socket(addr: SocketAddr) -> Result<tokio::net::UdpSocket, TrapError> {
    let err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            TrapError::Privileged { addr, source }
        } else {
            TrapError::Bind { addr, source }
        }
    };
    let std_sock = std::net::UdpSocket::bind(addr).map_err(err)?;
    // Room for a burst while the loop is busy (best effort).
    let _ = socket2::SockRef::from(&std_sock).set_recv_buffer_size(4 << 20);
    std_sock.set_nonblocking(true).map_err(err)?;
    tokio::net::UdpSocket::from_std(std_sock).map_err(err)
}

#[allow(clippy::too_many_arguments)]
async fn receive(
    sock: tokio::net::UdpSocket,
    settings: TrapSettings,
    live: Arc<Live>,
    mibs: Arc<Mibs>,
    waker: PollWaker,
    stats: Arc<TrapStats>,
    tx: mpsc::Sender<EventRow>,
    mut stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let mut buckets = SourceBuckets::new(settings.rate_per_s, settings.burst);
    let mut usm = match (&settings.engine, settings.v3_users.is_empty()) {
        (Some(e), false) => Some(Usm::new(e.clone(), settings.v3_users.clone())),
        _ => None,
    };
    let mut buf = vec![0u8; 65_536];
    loop {
        let got = tokio::select! {
            r = sock.recv_from(&mut buf) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (len, from) = match got {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("trap receiver: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let source = from.ip().to_canonical();
        let Some(datagram) = buf.get(..len) else {
            continue;
        };
        if !buckets.admit(source, started.elapsed().as_millis() as u64) {
            stats.dropped(DropReason::RateLimited);
            continue;
        }
        let decoded = std::panic::catch_unwind(|| decode::decode(datagram))
            .unwrap_or_else(|_| Err(Refused::Malformed("the decoder panicked".into())));
        let (n, answer) = match (decoded, usm.as_mut()) {
            (Ok(n), _) => {
                // The one place a community is compared with what a datagram says.
                let known =
                    |c: &crate::types::Secret| c.expose().as_bytes() == n.community.as_slice();
                if !settings.communities.is_empty() && !settings.communities.iter().any(known) {
                    stats.dropped(DropReason::UnknownCommunity);
                    continue;
                }
                let ack = decode::inform_response(datagram, &n);
                (n, ack)
            }
            (Err(Refused::V3), Some(usm)) => {
                let now = Instant::now();
                let done = std::panic::AssertUnwindSafe(|| usm.process(datagram, now));
                match std::panic::catch_unwind(done) {
                    Ok(Ok(a)) => (a.notification, a.response),
                    Ok(Err(refusal)) => {
                        stats.dropped(usm_drop(refusal.why));
                        if let Some(report) = refusal.report {
                            let _ = sock.send_to(&report, from).await;
                        }
                        continue;
                    }
                    Err(_) => {
                        stats.dropped(DropReason::Malformed);
                        continue;
                    }
                }
            }
            (Err(r), _) => {
                stats.dropped(match r {
                    Refused::Malformed(_) => DropReason::Malformed,
                    Refused::NotNotification => DropReason::NotNotification,
                    Refused::V3 => DropReason::V3Unsupported,
                });
                continue;
            }
        };
        stats.received(n.version, n.kind);
        if let Some(ack) = answer {
            match sock.send_to(&ack, from).await {
                Ok(_) => stats.acknowledged(),
                Err(e) => tracing::warn!("trap receiver: answering an inform from {from}: {e}"),
            }
        }
        let matched = live.read_topology(|t| attribute::attribute(t, source, &n));
        match matched.device() {
            Some(device) if event::is_link_change(&n) => {
                waker.wake(device);
            }
            Some(_) => {}
            None => stats.unmatched(),
        }
        let row = event::event_row(&n, source, matched, &mibs, UnixMillis::now());
        if tx.try_send(row).is_err() {
            stats.dropped(DropReason::QueueFull);
        }
    }
}

fn usm_drop(why: UsmRefusal) -> DropReason {
    match why {
        UsmRefusal::Malformed => DropReason::Malformed,
        UsmRefusal::NotNotification => DropReason::NotNotification,
        UsmRefusal::Discovery => DropReason::V3Discovery,
        UsmRefusal::UnknownEngineId => DropReason::V3UnknownEngineId,
        UsmRefusal::UnknownUser => DropReason::V3UnknownUser,
        UsmRefusal::UnsupportedSecLevel => DropReason::V3UnsupportedSecLevel,
        UsmRefusal::WrongDigest => DropReason::V3WrongDigest,
        UsmRefusal::NotInTimeWindow => DropReason::V3NotInTimeWindow,
        UsmRefusal::DecryptionError => DropReason::V3DecryptionError,
    }
}
