//! The operating-system edge of the ICMP engine: opening raw or DGRAM ICMP
//! sockets with the options the engine needs, `recvmsg` with kernel receive
//! timestamps, and batched `sendmmsg`.
//!
//! All `unsafe` of the ICMP module lives here. No protocol logic: bytes in,
//! bytes out.
use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::IcmpError;
use super::probes::WallNanos;
use super::wire::{Family, Framing};

/// Which kind of ICMP socket to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketKind {
    /// Raw first, DGRAM ping socket when raw is not permitted.
    #[default]
    Auto,
    /// Raw ICMP socket only (needs CAP_NET_RAW).
    Raw,
    /// DGRAM ping socket only (needs net.ipv4.ping_group_range).
    Dgram,
}

/// An opened, configured ICMP socket.
#[derive(Debug)]
pub struct OpenedSocket {
    pub socket: Socket,
    /// `Raw` or `Dgram`, never `Auto`.
    pub kind: SocketKind,
    pub framing: Framing,
    /// True when SO_TIMESTAMPNS could be enabled.
    pub kernel_timestamps: bool,
}

/// Opens an ICMP socket for `family`, falling back from raw to DGRAM when
/// `kind` is `Auto` and raw sockets are not permitted.
pub fn open(family: Family, kind: SocketKind, rcvbuf: usize) -> Result<OpenedSocket, IcmpError> {
    let raw = || open_one(family, Type::RAW);
    let dgram = || open_one(family, Type::DGRAM);
    let (socket, kind) = match kind {
        SocketKind::Raw => (
            raw().map_err(|e| denied_or(family, e, "raw"))?,
            SocketKind::Raw,
        ),
        SocketKind::Dgram => (
            dgram().map_err(|e| denied_or(family, e, "dgram"))?,
            SocketKind::Dgram,
        ),
        SocketKind::Auto => match raw() {
            Ok(s) => (s, SocketKind::Raw),
            Err(e) if is_denied(&e) => match dgram() {
                Ok(s) => (s, SocketKind::Dgram),
                Err(e) => return Err(denied_or(family, e, "dgram")),
            },
            Err(e) => return Err(denied_or(family, e, "raw")),
        },
    };
    let socket_err =
        |op: &'static str| move |source| IcmpError::SocketOption { op, family, source };
    socket
        .set_nonblocking(true)
        .map_err(socket_err("O_NONBLOCK"))?;
    if force_rcvbuf(&socket, rcvbuf).is_err() {
        socket
            .set_recv_buffer_size(rcvbuf)
            .map_err(socket_err("SO_RCVBUF"))?;
    }
    let kernel_timestamps = set_int(&socket, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1).is_ok();
    if kind == SocketKind::Raw {
        install_type_filter(&socket, family).map_err(socket_err("ICMP type filter"))?;
    }
    let framing = match (family, kind) {
        (Family::V4, SocketKind::Raw) => Framing::Ipv4Header,
        _ => Framing::Bare,
    };
    Ok(OpenedSocket {
        socket,
        kind,
        framing,
        kernel_timestamps,
    })
}

fn open_one(family: Family, ty: Type) -> io::Result<Socket> {
    match family {
        Family::V4 => Socket::new(Domain::IPV4, ty, Some(Protocol::ICMPV4)),
        Family::V6 => Socket::new(Domain::IPV6, ty, Some(Protocol::ICMPV6)),
    }
}

fn is_denied(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

fn denied_or(family: Family, source: io::Error, kind: &'static str) -> IcmpError {
    if is_denied(&source) {
        IcmpError::NotPermitted { family }
    } else {
        IcmpError::Open {
            family,
            kind,
            source,
        }
    }
}

/// IPV6_FLOWINFO_SEND: the flow label of each send's destination address
/// (`sin6_flowinfo`) goes into the packet's header.
pub fn send_flow_labels(socket: &Socket) -> io::Result<()> {
    set_int(socket, libc::SOL_IPV6, libc::IPV6_FLOWINFO_SEND, 1)
}

fn set_int(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    set_raw(socket, level, name, &value)
}

fn set_raw<T>(socket: &Socket, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// SO_RCVBUFFORCE passes the rmem_max limit; root (CAP_NET_ADMIN) only.
fn force_rcvbuf(socket: &Socket, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    set_int(socket, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, value)
}

/// Lets only echo replies and the errors we parse reach a raw socket, so a
/// sweep of local addresses does not queue our own echo requests as well.
fn install_type_filter(socket: &Socket, family: Family) -> io::Result<()> {
    match family {
        Family::V4 => {
            // struct icmp_filter: bit n set = drop type n.
            const SOL_RAW: libc::c_int = 255;
            const ICMP_FILTER: libc::c_int = 1;
            let pass: u32 = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 11) | (1 << 12);
            set_raw(socket, SOL_RAW, ICMP_FILTER, &!pass)
        }
        Family::V6 => {
            // struct icmp6_filter: 256 bits, bit n set = drop type n.
            const ICMP6_FILTER: libc::c_int = 1;
            let mut filter = [u32::MAX; 8];
            for ty in [1u8, 2, 3, 4, 129] {
                let word = usize::from(ty / 32);
                if let Some(w) = filter.get_mut(word) {
                    *w &= !(1u32 << (ty % 32));
                }
            }
            set_raw(socket, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &filter)
        }
    }
}

/// One datagram taken off a socket.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub src: Option<IpAddr>,
    /// Kernel receive time when SO_TIMESTAMPNS delivered one.
    pub kernel_time: Option<WallNanos>,
}

/// `recvmsg` one datagram (non-blocking) into `buf`, reading the
/// SCM_TIMESTAMPNS control message when present.
pub fn recv(socket: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    let mut addr = socket2::SockAddrStorage::zeroed();
    let mut control = [MaybeUninit::<u64>::uninit(); 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_namelen = addr.size_of();
    // SAFETY: SockAddrStorage is a sockaddr_storage; we only take its address.
    msg.msg_name =
        unsafe { addr.view_as::<libc::sockaddr_storage>() as *mut libc::sockaddr_storage }.cast();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(&control);
    // SAFETY: every pointer in `msg` refers to a live buffer of the stated size.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let len = usize::try_from(n).unwrap_or(0).min(buf.len());
    let mut kernel_time = None;
    // SAFETY: the kernel filled `msg_controllen` bytes of `control`; the CMSG
    // macros stay inside that range.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let hdr = &*cmsg;
            if hdr.cmsg_level == libc::SOL_SOCKET && hdr.cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                let ns = u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000
                    + u64::try_from(ts.tv_nsec).unwrap_or(0);
                kernel_time = Some(WallNanos(ns));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    // SAFETY: the kernel wrote a sockaddr of `msg_namelen` bytes into `addr`.
    let sock_addr = unsafe { SockAddr::new(addr, msg.msg_namelen) };
    let src = sock_addr.as_socket().map(|s: SocketAddr| s.ip());
    Ok(Received {
        len,
        src,
        kernel_time,
    })
}

/// Sends `packets` (destination, bytes) with one `sendmmsg` call; returns how
/// many went out. An error means the first packet could not be sent.
pub fn send_batch(socket: &Socket, packets: &[(SockAddr, &[u8])]) -> io::Result<usize> {
    if packets.is_empty() {
        return Ok(0);
    }
    let mut iovs: Vec<libc::iovec> = packets
        .iter()
        .map(|(_, bytes)| libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = packets
        .iter()
        .zip(iovs.iter_mut())
        .map(|((addr, _), iov)| {
            // SAFETY: all-zero is a valid msghdr.
            let mut msg: libc::msghdr = unsafe { mem::zeroed() };
            msg.msg_name = addr.as_ptr() as *mut libc::c_void;
            msg.msg_namelen = addr.len();
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: msg,
                msg_len: 0,
            }
        })
        .collect();
    let count = libc::c_uint::try_from(headers.len()).unwrap_or(libc::c_uint::MAX);
    // SAFETY: `headers` and the iovecs and addresses they point to outlive the call.
    let n = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            count,
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Hands an owned socket to the tokio reactor.
pub fn register(socket: Socket) -> io::Result<tokio::io::unix::AsyncFd<Socket>> {
    // SAFETY: the AsyncFd takes ownership of the socket, so its descriptor
    // stays open and the same for the AsyncFd's whole life.
    unsafe { tokio::io::unix::AsyncFd::register(socket) }.map_err(io::Error::from)
}

/// The socket's effective receive buffer, for diagnostics.
pub fn recv_buffer_size(socket: &Socket) -> usize {
    socket.recv_buffer_size().unwrap_or(0)
}

/// Waits until one of `sockets` is readable or `timeout` passes (`poll`);
/// returns which are readable. A zero timeout only looks. An interrupted
/// wait returns none readable.
pub fn wait_readable(sockets: &[&Socket], timeout: std::time::Duration) -> io::Result<Vec<bool>> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Rounded up to whole milliseconds; zero only for zero (one look).
    let ms = libc::c_int::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX);
    let count = libc::nfds_t::try_from(fds.len()).unwrap_or(0);
    // SAFETY: `fds` is a live array of `count` pollfd structures.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), count, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(fds.iter().map(|f| f.revents != 0).collect())
}
