//! Path tracing (`nocmap trace`): ICMP echo, UDP or TCP SYN probes at
//! increasing TTLs, Paris-style (each flow's ECMP-hashed fields constant),
//! over several cycles and flows. The sockets and the waiting live here;
//! which reply answers which probe, and the tallies, are `trace_state`'s;
//! the bytes are `trace_wire`'s.
//!
//! Needs a raw ICMP (ICMPv6) socket (CAP_NET_RAW) to read time-exceeded
//! messages, and a raw TCP socket for TCP probes. IPv4 and IPv6: a raw
//! ICMPv6 socket delivers no IP header, and the kernel fills in the
//! checksum of what leaves it (over its pseudo-header, whatever the field
//! held), while a raw IPv6 UDP or TCP socket sends our checksum as is
//! (IPV6_CHECKSUM is off for them) and reads TCP segments without their IP
//! header. Over IPv6 each flow also has its own flow label, the same on
//! every probe of it (`trace_wire::flow_label`). Link-local targets (which
//! need a scope) are not supported.
use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::IcmpError;
use super::sys::{self, SocketKind};
use super::trace_state::{Flow, ProbeProto, ProbeToSend, Reply, TraceReport, TraceState};
use super::trace_wire::{self, TraceMessage};
use super::wire::{Family, Framing};

/// Most flows one trace may use.
pub const MAX_FLOWS: u16 = 64;
/// Time between two probes of a cycle.
const PROBE_GAP: Duration = Duration::from_millis(1);
/// Bytes of payload in each UDP or ICMP probe.
const PAYLOAD_LEN: usize = 32;

/// What to trace and how.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    pub target: IpAddr,
    pub proto: ProbeProto,
    /// Destination port of UDP and TCP probes.
    pub port: u16,
    pub cycles: u32,
    pub max_ttl: u8,
    /// Flows (different UDP/TCP source ports or echo identifiers).
    pub flows: u16,
    /// Time from one cycle's start to the next's.
    pub interval: Duration,
    /// How long a probe waits for its answer.
    pub timeout: Duration,
}

impl TraceOptions {
    fn check(&self) -> Result<Family, IcmpError> {
        let bad = |m: &str| Err(IcmpError::InvalidOptions(m.to_owned()));
        if self.cycles == 0 || self.max_ttl == 0 || self.flows == 0 {
            return bad("cycles, max TTL and flows must be at least 1");
        }
        if self.flows > MAX_FLOWS {
            return bad("at most 64 flows");
        }
        if self.proto != ProbeProto::Icmp && self.port == 0 {
            return bad("the destination port must not be 0");
        }
        match self.target {
            IpAddr::V4(_) => Ok(Family::V4),
            IpAddr::V6(a) if a.is_unicast_link_local() => {
                bad("link-local IPv6 targets are not supported (no scope)")
            }
            IpAddr::V6(_) => Ok(Family::V6),
        }
    }
}

/// The sockets of one trace.
struct Sockets {
    family: Family,
    /// Our source address towards the target.
    local: IpAddr,
    icmp: Socket,
    /// UDP and TCP: the raw socket the probes leave by, checksums ours (a
    /// datagram socket's may be left to offload — veth, loopback — and reach
    /// routers unset); for TCP it also reads the destination's answers.
    layer4: Option<Socket>,
    /// True when `layer4` is read (TCP).
    read_layer4: bool,
    /// UDP and TCP: sockets that hold each flow's source port so nothing
    /// else takes it (the kernel answers what arrives there).
    _reserved: Vec<Socket>,
}

/// Runs a whole trace; blocking (call from a blocking thread).
pub fn trace(opts: &TraceOptions) -> Result<TraceReport, IcmpError> {
    let family = opts.check()?;
    let icmp = sys::open(family, SocketKind::Raw, 1 << 20)
        .map_err(not_permitted)?
        .socket;
    let src = source_for(opts.target)?;
    let (sockets, flows) = open_flows(opts, family, icmp, src)?;
    let mut state = TraceState::new(
        opts.proto,
        opts.target,
        opts.port,
        flows,
        rand::random(),
        opts.timeout,
    );
    // Per flow, the constant echo checksum (ICMP's hashed second word);
    // neither ones' complement zero, which a kernel may rewrite.
    let echo_sums: Vec<u16> = (0..opts.flows)
        .map(|_| rand::random::<u16>().clamp(1, 0xfffe))
        .collect();
    let label_base: u32 = rand::random();
    let start = Instant::now();
    let mut buf = Vec::with_capacity(64);
    for cycle in 0..opts.cycles {
        let cycle_start = start + opts.interval * cycle;
        receive_until(&sockets, &mut state, start, cycle_start, false)?;
        for (flow, echo_sum) in echo_sums.iter().enumerate() {
            let label = trace_wire::flow_label(label_base, flow as u16);
            let mut ttl = 1;
            while ttl <= state.ttl_limit(flow, opts.max_ttl) {
                if let Some(probe) = state.register(flow, ttl, start.elapsed()) {
                    let fields = FlowFields {
                        echo_sum: *echo_sum,
                        label,
                    };
                    send(&sockets, opts, src, &probe, fields, &mut buf)?;
                }
                // Paced, reading what came in: once the destination has
                // answered, the TTLs beyond it are not sent (a burst of them
                // would only meet its ICMP rate limit).
                receive_until(
                    &sockets,
                    &mut state,
                    start,
                    Instant::now() + PROBE_GAP,
                    false,
                )?;
                ttl += 1;
            }
        }
    }
    let end = Instant::now() + opts.timeout;
    receive_until(&sockets, &mut state, start, end, true)?;
    Ok(state.report())
}

fn not_permitted(e: IcmpError) -> IcmpError {
    match e {
        IcmpError::NotPermitted { .. } => IcmpError::TraceNotPermitted,
        e => e,
    }
}

/// The source address the kernel picks towards `target` (a connected UDP
/// socket sends nothing).
fn source_for(target: IpAddr) -> Result<IpAddr, IcmpError> {
    let fail = |source| IcmpError::Send { target, source };
    let s = Socket::new(domain(target), Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    s.connect(&SockAddr::from(SocketAddr::new(target, 9)))
        .map_err(fail)?;
    match s.local_addr().map_err(fail)?.as_socket() {
        Some(a) if a.is_ipv4() == target.is_ipv4() => Ok(a.ip()),
        _ => Err(fail(io::Error::other("no source address"))),
    }
}

fn domain(addr: IpAddr) -> Domain {
    match addr {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    }
}

fn open_flows(
    opts: &TraceOptions,
    family: Family,
    icmp: Socket,
    src: IpAddr,
) -> Result<(Sockets, Vec<Flow>), IcmpError> {
    let opt_err = |op: &'static str| move |source| IcmpError::SocketOption { op, family, source };
    let bound_port = |ty: Type, proto: Protocol| -> Result<(Socket, u16), IcmpError> {
        let s = Socket::new(domain(src), ty, Some(proto)).map_err(opt_err("socket"))?;
        s.bind(&SockAddr::from(SocketAddr::new(src, 0)))
            .map_err(opt_err("bind"))?;
        let port = s
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        Ok((s, port))
    };
    let mut sockets = Sockets {
        family,
        local: src,
        icmp,
        layer4: None,
        read_layer4: opts.proto == ProbeProto::Tcp,
        _reserved: Vec::new(),
    };
    let mut flows = Vec::new();
    let ident_base: u16 = rand::random();
    for index in 0..opts.flows {
        let flow_field = match opts.proto {
            ProbeProto::Icmp => ident_base.wrapping_add(index),
            ProbeProto::Udp => {
                let (s, port) = bound_port(Type::DGRAM, Protocol::UDP)?;
                sockets._reserved.push(s);
                port
            }
            ProbeProto::Tcp => {
                let (s, port) = bound_port(Type::STREAM, Protocol::TCP)?;
                sockets._reserved.push(s);
                port
            }
        };
        flows.push(Flow { index, flow_field });
    }
    let raw = |protocol: Protocol| -> Result<Socket, IcmpError> {
        let s = Socket::new(domain(src), Type::RAW, Some(protocol)).map_err(|e| {
            match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => IcmpError::TraceNotPermitted,
                _ => opt_err("raw socket")(e),
            }
        })?;
        s.set_nonblocking(true).map_err(opt_err("O_NONBLOCK"))?;
        Ok(s)
    };
    sockets.layer4 = match opts.proto {
        ProbeProto::Icmp => None,
        ProbeProto::Udp => Some(raw(Protocol::UDP)?),
        ProbeProto::Tcp => Some(raw(Protocol::TCP)?),
    };
    if family == Family::V6 {
        for s in std::iter::once(&sockets.icmp).chain(&sockets.layer4) {
            sys::send_flow_labels(s).map_err(opt_err("IPV6_FLOWINFO_SEND"))?;
        }
    }
    Ok((sockets, flows))
}

/// What a flow keeps constant on every probe besides its ports or
/// identifier: the echo checksum (ICMP) and the IPv6 flow label.
#[derive(Debug, Clone, Copy)]
struct FlowFields {
    echo_sum: u16,
    label: u32,
}

fn send(
    sockets: &Sockets,
    opts: &TraceOptions,
    src: IpAddr,
    probe: &ProbeToSend,
    FlowFields { echo_sum, label }: FlowFields,
    buf: &mut Vec<u8>,
) -> Result<(), IcmpError> {
    let (target, ttl) = (opts.target, u32::from(probe.ttl));
    // IPv6: the flow label rides in sin6_flowinfo, in network byte order.
    let to = |port| match target {
        IpAddr::V6(a) => SockAddr::from(SocketAddrV6::new(a, port, label.to_be(), 0)),
        IpAddr::V4(_) => SockAddr::from(SocketAddr::new(target, port)),
    };
    let (socket, bytes, addr) = match opts.proto {
        ProbeProto::Icmp => {
            let (ident, seq) = (probe.flow.flow_field, probe.seq as u16);
            match (src, target) {
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    trace_wire::emit_paris_echo_v6((s, d), ident, seq, echo_sum, PAYLOAD_LEN, buf)
                }
                _ => trace_wire::emit_paris_echo(ident, seq, echo_sum, PAYLOAD_LEN, buf),
            }
            (Some(&sockets.icmp), &buf[..], to(0))
        }
        ProbeProto::Udp => {
            let ports = (probe.flow.flow_field, opts.port);
            trace_wire::emit_paris_udp(src, target, ports, probe.seq as u16, PAYLOAD_LEN, buf);
            (sockets.layer4.as_ref(), &buf[..], to(0))
        }
        ProbeProto::Tcp => {
            let ports = (probe.flow.flow_field, opts.port);
            trace_wire::emit_tcp_syn(src, target, ports, probe.seq, buf);
            (sockets.layer4.as_ref(), &buf[..], to(0))
        }
    };
    let fail = |source| IcmpError::Send { target, source };
    let socket = socket.unwrap_or(&sockets.icmp);
    match sockets.family {
        Family::V4 => socket.set_ttl_v4(ttl),
        Family::V6 => socket.set_unicast_hops_v6(ttl),
    }
    .map_err(fail)?;
    match socket.send_to(bytes, &addr) {
        Ok(_) => Ok(()),
        // A full queue loses this probe; it is counted as lost.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOBUFS)) => Ok(()),
        Err(e) => Err(fail(e)),
    }
}

/// Reads and matches replies until `deadline` (or, when `early`, until no
/// probe is outstanding).
fn receive_until(
    sockets: &Sockets,
    state: &mut TraceState,
    start: Instant,
    deadline: Instant,
    early: bool,
) -> Result<(), IcmpError> {
    let mut buf = [0u8; 2048];
    let mut watched = vec![&sockets.icmp];
    if sockets.read_layer4 {
        watched.extend(sockets.layer4.as_ref());
    }
    loop {
        state.expire(start.elapsed());
        if early && state.outstanding() == 0 {
            return Ok(());
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let ready = sys::wait_readable(&watched, wait).map_err(IcmpError::Receive)?;
        for (socket, ready) in watched.iter().zip(ready) {
            if !ready {
                continue;
            }
            let is_tcp = !std::ptr::eq(*socket, &sockets.icmp);
            while let Ok(got) = sys::recv(socket, &mut buf) {
                let at = start.elapsed();
                let bytes = &buf[..got.len];
                if let Some(reply) = reply_of(sockets, is_tcp, got.src, bytes) {
                    state.on_reply(&reply, at);
                }
            }
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
    }
}

/// The reply in `bytes` from `src`: IPv4 sockets deliver the IP header,
/// IPv6 ones do not (the sender is the socket's source address then).
fn reply_of(sockets: &Sockets, is_tcp: bool, src: Option<IpAddr>, bytes: &[u8]) -> Option<Reply> {
    let (family, from) = (sockets.family, src?);
    if is_tcp {
        let seg = match (family, from, sockets.local) {
            (Family::V4, _, _) => trace_wire::parse_tcp_v4(bytes),
            (Family::V6, IpAddr::V6(from), IpAddr::V6(us)) => {
                trace_wire::parse_tcp_v6(from, us, bytes)
            }
            _ => return None,
        };
        return seg.ok().map(Reply::Tcp);
    }
    let framing = match family {
        Family::V4 => Framing::Ipv4Header,
        Family::V6 => Framing::Bare,
    };
    match trace_wire::parse_trace(family, framing, bytes).ok()? {
        TraceMessage::Error(probe) => Some(Reply::Quoted { from, probe }),
        TraceMessage::EchoReply { ident, seq } => Some(Reply::Echo { from, ident, seq }),
        TraceMessage::Other { .. } => None,
    }
}
