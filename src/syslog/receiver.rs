//! The syslog receiver's I/O: a UDP socket, a TCP listener and a TLS
//! listener (each optional), one bounded queue and one store writer on its
//! own connection. Per message: the parse (pure), the device match, the
//! event to the queue — or, when the queue is full, dropped and counted,
//! so a storm never waits on the store and never holds up the pollers.
//! Streams are read by `stream.rs`. Nothing a sender writes stops a loop.
use super::event;
use super::parse::parse;
use super::stats::{DropReason, SyslogStats, Transport};
use crate::live::Live;
use crate::store::{EventRow, EventTap, StoreConfig};
use crate::types::UnixMillis;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Events waiting for the store writer; beyond it they are dropped and
/// counted (`queue_full`).
pub const QUEUE_LEN: usize = 20_000;
/// Events one store transaction writes at most.
const BATCH: usize = 2_000;

/// Where to listen (from `[syslog]`).
#[derive(Debug, Clone, Default)]
pub struct SyslogSettings {
    pub listen_udp: Option<SocketAddr>,
    pub listen_tcp: Option<SocketAddr>,
    pub tls: Option<TlsListen>,
}

/// RFC 5425: syslog over TLS, octet-counted.
#[derive(Debug, Clone)]
pub struct TlsListen {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    #[error(
        "cannot receive syslog on {proto} {addr}: ports below 1024, such as 514, need root or CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep` on the binary, AmbientCapabilities=CAP_NET_BIND_SERVICE in a systemd unit, or a port of 1024 or more in [syslog])"
    )]
    Privileged {
        proto: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot receive syslog on {proto} {addr}")]
    Bind {
        proto: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("syslog TLS: {path}: {message}")]
    TlsFile { path: PathBuf, message: String },
    #[error("syslog TLS: the certificate and key do not make a usable pair: {0}")]
    TlsPair(String),
}

/// The sockets, bound before discovery so a refused port fails `serve`
/// at once.
pub struct BoundSyslog {
    udp: Option<tokio::net::UdpSocket>,
    tcp: Option<tokio::net::TcpListener>,
    tls: Option<(tokio::net::TcpListener, tokio_rustls::TlsAcceptor)>,
    /// The bound addresses (the ports the system chose for port 0).
    pub local_udp: Option<SocketAddr>,
    pub local_tcp: Option<SocketAddr>,
    pub local_tls: Option<SocketAddr>,
}

/// Binds every configured socket and reads the TLS pair.
pub fn bind(s: &SyslogSettings) -> Result<BoundSyslog, SyslogError> {
    let mut b = BoundSyslog {
        udp: None,
        tcp: None,
        tls: None,
        local_udp: None,
        local_tcp: None,
        local_tls: None,
    };
    if let Some(addr) = s.listen_udp {
        let sock = bind_udp(addr)?;
        b.local_udp = sock.local_addr().ok();
        b.udp = Some(sock);
    }
    if let Some(addr) = s.listen_tcp {
        let l = bind_tcp("tcp", addr)?;
        b.local_tcp = l.local_addr().ok();
        b.tcp = Some(l);
    }
    if let Some(t) = &s.tls {
        let acceptor = super::stream::tls_acceptor(&t.cert, &t.key)?;
        let l = bind_tcp("tls", t.listen)?;
        b.local_tls = l.local_addr().ok();
        b.tls = Some((l, acceptor));
    }
    Ok(b)
}

fn bind_err(proto: &'static str, addr: SocketAddr) -> impl Fn(std::io::Error) -> SyslogError {
    move |source| {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            SyslogError::Privileged {
                proto,
                addr,
                source,
            }
        } else {
            SyslogError::Bind {
                proto,
                addr,
                source,
            }
        }
    }
}

fn bind_udp(addr: SocketAddr) -> Result<tokio::net::UdpSocket, SyslogError> {
    let err = bind_err("udp", addr);
    let std_sock = std::net::UdpSocket::bind(addr).map_err(&err)?;
    // Room for a burst while the loop is busy (best effort; the kernel
    // caps it at net.core.rmem_max).
    let _ = socket2::SockRef::from(&std_sock).set_recv_buffer_size(8 << 20);
    std_sock.set_nonblocking(true).map_err(&err)?;
    tokio::net::UdpSocket::from_std(std_sock).map_err(err)
}

fn bind_tcp(proto: &'static str, addr: SocketAddr) -> Result<tokio::net::TcpListener, SyslogError> {
    let err = bind_err(proto, addr);
    let std_l = std::net::TcpListener::bind(addr).map_err(&err)?;
    std_l.set_nonblocking(true).map_err(&err)?;
    tokio::net::TcpListener::from_std(std_l).map_err(err)
}

/// A running receiver.
pub struct SyslogReceiver {
    pub stats: Arc<SyslogStats>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    writer: tokio::task::JoinHandle<()>,
}

impl SyslogReceiver {
    /// Waits for the loops (ended by the stop signal) and the writer's
    /// last transaction.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
        let _ = self.writer.await;
    }
}

/// Where every loop hands its messages: parse, match, queue.
#[derive(Clone)]
pub(super) struct Sink {
    live: Arc<Live>,
    pub(super) stats: Arc<SyslogStats>,
    tx: mpsc::Sender<EventRow>,
}

impl Sink {
    pub(super) fn take(&self, bytes: &[u8], source: IpAddr, transport: Transport) {
        let now = UnixMillis::now();
        let m = match parse(bytes, now) {
            Ok(m) => m,
            Err(e) => {
                self.stats.parse_error(e);
                return;
            }
        };
        self.stats.received(transport);
        let matched = self
            .live
            .read_topology(|t| event::match_device(t, source, &m));
        if matched.is_none() {
            self.stats.unmatched();
        }
        if self
            .tx
            .try_send(event::event_row(m, source, matched, now))
            .is_err()
        {
            self.stats.dropped(DropReason::QueueFull);
        }
    }
}

/// Starts the loops and the writer (its own store connection on `db`;
/// what it writes is handed on to `tap` when given).
pub fn start(
    bound: BoundSyslog,
    live: Arc<Live>,
    db: PathBuf,
    store_config: StoreConfig,
    tap: Option<EventTap>,
    stop: watch::Receiver<bool>,
) -> SyslogReceiver {
    let stats = Arc::new(SyslogStats::default());
    let (tx, rx) = mpsc::channel(QUEUE_LEN);
    let writer = tokio::task::spawn_blocking(move || {
        crate::store::write_queued_events(
            db,
            store_config,
            rx,
            BATCH,
            "syslog receiver",
            "messages",
            tap,
        )
    });
    let sink = Sink {
        live,
        stats: stats.clone(),
        tx,
    };
    let mut tasks = Vec::new();
    if let Some(sock) = bound.udp {
        tasks.push(tokio::spawn(receive_udp(sock, sink.clone(), stop.clone())));
    }
    if let Some(l) = bound.tcp {
        tasks.push(tokio::spawn(super::stream::accept(
            l,
            None,
            sink.clone(),
            stop.clone(),
        )));
    }
    if let Some((l, acceptor)) = bound.tls {
        tasks.push(tokio::spawn(super::stream::accept(
            l,
            Some(acceptor),
            sink.clone(),
            stop.clone(),
        )));
    }
    SyslogReceiver {
        stats,
        tasks,
        writer,
    }
}

async fn receive_udp(sock: tokio::net::UdpSocket, sink: Sink, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let got = tokio::select! {
            r = sock.recv_from(&mut buf) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match got {
            Ok((len, from)) => {
                if let Some(d) = buf.get(..len) {
                    sink.take(d, from.ip().to_canonical(), Transport::Udp);
                }
            }
            Err(e) => {
                tracing::warn!("syslog receiver (udp): {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
