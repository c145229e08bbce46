//! Path tracing (`nocmap trace`): ICMP echo, UDP or TCP SYN probes at
//! increasing TTLs, Paris-style (each flow's ECMP-hashed fields constant),
//! over several cycles and flows. The sockets and the waiting live here;
//! which reply answers which probe, and the tallies, are `trace_state`'s;
//! the bytes are `trace_wire`'s.
//!
//! Needs a raw ICMP socket (CAP_NET_RAW) to read time-exceeded messages,
//! and a raw TCP socket for TCP probes. IPv4 only for now.
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
    fn check(&self) -> Result<Ipv4Addr, IcmpError> {
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
            IpAddr::V4(a) => Ok(a),
            IpAddr::V6(_) => bad("trace supports IPv4 targets only"),
        }
    }
}

/// The sockets of one trace.
struct Sockets {
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
    let target = opts.check()?;
    let icmp = sys::open(Family::V4, SocketKind::Raw, 1 << 20)
        .map_err(not_permitted)?
        .socket;
    let src = source_for(target)?;
    let (sockets, flows) = open_flows(opts, icmp, src)?;
    let mut state = TraceState::new(
        opts.proto,
        opts.target,
        opts.port,
        flows,
        rand::random(),
        opts.timeout,
    );
    // Per flow, the constant echo checksum (ICMP's hashed second word).
    let echo_sums: Vec<u16> = (0..opts.flows).map(|_| rand::random::<u16>()).collect();
    let start = Instant::now();
    let mut buf = Vec::with_capacity(64);
    for cycle in 0..opts.cycles {
        let cycle_start = start + opts.interval * cycle;
        receive_until(&sockets, &mut state, start, cycle_start, false)?;
        for (flow, echo_sum) in echo_sums.iter().enumerate() {
            let mut ttl = 1;
            while ttl <= state.ttl_limit(flow, opts.max_ttl) {
                if let Some(probe) = state.register(flow, ttl, start.elapsed()) {
                    send(&sockets, opts, src, &probe, *echo_sum, &mut buf)?;
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
fn source_for(target: Ipv4Addr) -> Result<Ipv4Addr, IcmpError> {
    let fail = |source| IcmpError::Send {
        target: IpAddr::V4(target),
        source,
    };
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    s.connect(&SockAddr::from(SocketAddr::new(IpAddr::V4(target), 9)))
        .map_err(fail)?;
    match s.local_addr().map_err(fail)?.as_socket() {
        Some(SocketAddr::V4(a)) => Ok(*a.ip()),
        _ => Err(fail(io::Error::other("no IPv4 source address"))),
    }
}

fn open_flows(
    opts: &TraceOptions,
    icmp: Socket,
    src: Ipv4Addr,
) -> Result<(Sockets, Vec<Flow>), IcmpError> {
    let opt_err = |op: &'static str| {
        move |source| IcmpError::SocketOption {
            op,
            family: Family::V4,
            source,
        }
    };
    let bound_port = |ty: Type, proto: Protocol| -> Result<(Socket, u16), IcmpError> {
        let s = Socket::new(Domain::IPV4, ty, Some(proto)).map_err(opt_err("socket"))?;
        s.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(src), 0)))
            .map_err(opt_err("bind"))?;
        let port = s
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        Ok((s, port))
    };
    let mut sockets = Sockets {
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
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(protocol)).map_err(|e| {
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
    Ok((sockets, flows))
}

fn send(
    sockets: &Sockets,
    opts: &TraceOptions,
    src: Ipv4Addr,
    probe: &ProbeToSend,
    echo_sum: u16,
    buf: &mut Vec<u8>,
) -> Result<(), IcmpError> {
    let (target, ttl) = (opts.target, u32::from(probe.ttl));
    let to = |port| SockAddr::from(SocketAddr::new(target, port));
    let (socket, bytes, addr) = match opts.proto {
        ProbeProto::Icmp => {
            trace_wire::emit_paris_echo(
                probe.flow.flow_field,
                probe.seq as u16,
                echo_sum,
                PAYLOAD_LEN,
                buf,
            );
            (Some(&sockets.icmp), &buf[..], to(0))
        }
        ProbeProto::Udp => {
            let ports = (probe.flow.flow_field, opts.port);
            trace_wire::emit_paris_udp(
                IpAddr::V4(src),
                target,
                ports,
                probe.seq as u16,
                PAYLOAD_LEN,
                buf,
            );
            (sockets.layer4.as_ref(), &buf[..], to(0))
        }
        ProbeProto::Tcp => {
            let ports = (probe.flow.flow_field, opts.port);
            trace_wire::emit_tcp_syn(IpAddr::V4(src), target, ports, probe.seq, buf);
            (sockets.layer4.as_ref(), &buf[..], to(0))
        }
    };
    let fail = |source| IcmpError::Send { target, source };
    let socket = socket.unwrap_or(&sockets.icmp);
    socket.set_ttl_v4(ttl).map_err(fail)?;
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
                if let Some(reply) = reply_of(is_tcp, got.src, bytes) {
                    state.on_reply(&reply, at);
                }
            }
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
    }
}

fn reply_of(is_tcp: bool, src: Option<IpAddr>, bytes: &[u8]) -> Option<Reply> {
    if is_tcp {
        return trace_wire::parse_tcp_v4(bytes).ok().map(Reply::Tcp);
    }
    let from = src?;
    match trace_wire::parse_trace(Family::V4, Framing::Ipv4Header, bytes).ok()? {
        TraceMessage::Error(probe) => Some(Reply::Quoted { from, probe }),
        TraceMessage::EchoReply { ident, seq } => Some(Reply::Echo { from, ident, seq }),
        TraceMessage::Other { .. } => None,
    }
}
