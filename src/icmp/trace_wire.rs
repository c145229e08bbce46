//! Wire format of path tracing: the ICMP errors (time exceeded, destination
//! unreachable) that quote one of our probes — the original IP header and the
//! first 8 bytes of its UDP, TCP or ICMP header — so a reply is matched to its
//! probe by (flow, sequence); the TCP answers of a destination; and the
//! Paris-style probes whose flow fields stay constant while a word of the
//! payload carries the change, so ECMP routers hash every probe of a flow
//! alike.
//!
//! Pure code: no sockets, no clock. Every length is checked before it is
//! read; malformed bytes give a `WireError`, never a panic.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::wire::{
    ErrorKind, Family, Framing, IPV6_HEADER_LEN, WireError, checksum, quoted_v6_header, truncated,
};

/// IP protocol numbers of the probes.
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;
/// Bytes of a TCP header without options, the SYN we send.
pub const TCP_HEADER_LEN: usize = 20;
/// TCP flags of the answers we read.
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

const ICMP_HEADER_LEN: usize = 8;
/// The 20 bits of an IPv6 header's first word that are its flow label.
const FLOW_LABEL_MASK: u32 = 0xf_ffff;
/// Flow labels in the upper half of the space (bit 19 set): the half
/// Linux leaves to stateless labels (`net.ipv6.flowlabel_state_ranges`).
const STATELESS_LABELS: u32 = 0x8_0000;
const V6_ECHO_REQUEST: u8 = 128;

/// The transport header a router quoted back (its first 8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedTransport {
    /// An echo request: identifier, sequence and checksum.
    Echo { ident: u16, seq: u16, checksum: u16 },
    Udp {
        src_port: u16,
        dst_port: u16,
        checksum: u16,
    },
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
    },
    /// Another protocol or ICMP type: not one of our probes.
    Other { protocol: u8 },
}

/// An ICMP error about a datagram, with what it quoted of that datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedProbe {
    pub kind: ErrorKind,
    /// Source and destination of the quoted datagram.
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The TTL (hop limit) left in the quoted header when it expired.
    pub ttl: u8,
    /// IPv4 identification of the quoted datagram (0 for IPv6).
    pub ip_id: u16,
    /// The quoted IPv6 header's flow label (0 for IPv4).
    pub flow_label: u32,
    pub transport: QuotedTransport,
}

/// What an ICMP socket delivered, as a tracer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceMessage {
    /// Time exceeded or destination unreachable with its quote.
    Error(QuotedProbe),
    /// An echo reply: the destination of an ICMP probe answered.
    EchoReply { ident: u16, seq: u16 },
    /// Anything else.
    Other { icmp_type: u8, code: u8 },
}

/// Parses one message of an ICMP socket for the tracer. IPv4 checksums are
/// verified (the kernel checks ICMPv6's over its pseudo-header).
pub fn parse_trace(
    family: Family,
    framing: Framing,
    bytes: &[u8],
) -> Result<TraceMessage, WireError> {
    let icmp = match framing {
        Framing::Ipv4Header => {
            let ip = Ipv4View::parse(bytes)?;
            if ip.protocol != PROTO_ICMP {
                return Err(WireError::NotIcmp(ip.protocol));
            }
            ip.payload
        }
        Framing::Bare => bytes,
    };
    let head =
        icmp.get(..ICMP_HEADER_LEN)
            .ok_or(truncated("ICMP header", ICMP_HEADER_LEN, icmp.len()))?;
    if family == Family::V4 && checksum(icmp) != 0 {
        return Err(WireError::BadChecksum);
    }
    let (icmp_type, code) = (head[0], head[1]);
    let quoted = &icmp[ICMP_HEADER_LEN..];
    let kind = match (family, icmp_type) {
        (Family::V4, 0) | (Family::V6, 129) => {
            return Ok(TraceMessage::EchoReply {
                ident: be16(head, 4),
                seq: be16(head, 6),
            });
        }
        (Family::V4, 3) | (Family::V6, 1) => ErrorKind::DestinationUnreachable(code),
        (Family::V4, 11) | (Family::V6, 3) => ErrorKind::TimeExceeded(code),
        _ => return Ok(TraceMessage::Other { icmp_type, code }),
    };
    let probe = match family {
        Family::V4 => quoted_v4(kind, quoted)?,
        Family::V6 => quoted_v6(kind, quoted)?,
    };
    Ok(TraceMessage::Error(probe))
}

fn quoted_v4(kind: ErrorKind, quoted: &[u8]) -> Result<QuotedProbe, WireError> {
    let ip = Ipv4View::parse(quoted)?;
    Ok(QuotedProbe {
        kind,
        src: IpAddr::V4(ip.src),
        dst: IpAddr::V4(ip.dst),
        ttl: ip.ttl,
        ip_id: ip.id,
        flow_label: 0,
        transport: transport(ip.protocol, ip.payload, 8)?,
    })
}

fn quoted_v6(kind: ErrorKind, quoted: &[u8]) -> Result<QuotedProbe, WireError> {
    let header = quoted_v6_header(quoted)?;
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&header[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    // Extension headers are not followed: our probes carry none.
    Ok(QuotedProbe {
        kind,
        src: addr(8),
        dst: addr(24),
        ttl: header[7],
        ip_id: 0,
        flow_label: be32(header, 0) & FLOW_LABEL_MASK,
        transport: transport(header[6], &quoted[IPV6_HEADER_LEN..], V6_ECHO_REQUEST)?,
    })
}

/// The first 8 bytes of the quoted transport header; `echo_type` is the
/// family's echo request type.
fn transport(protocol: u8, inner: &[u8], echo_type: u8) -> Result<QuotedTransport, WireError> {
    let known = matches!(protocol, PROTO_ICMP | PROTO_ICMPV6 | PROTO_UDP | PROTO_TCP);
    if !known {
        return Ok(QuotedTransport::Other { protocol });
    }
    let h = inner
        .get(..8)
        .ok_or(truncated("quoted transport header", 8, inner.len()))?;
    Ok(match protocol {
        PROTO_UDP => QuotedTransport::Udp {
            src_port: be16(h, 0),
            dst_port: be16(h, 2),
            checksum: be16(h, 6),
        },
        PROTO_TCP => QuotedTransport::Tcp {
            src_port: be16(h, 0),
            dst_port: be16(h, 2),
            seq: be32(h, 4),
        },
        _ if h[0] == echo_type => QuotedTransport::Echo {
            ident: be16(h, 4),
            seq: be16(h, 6),
            checksum: be16(h, 2),
        },
        _ => QuotedTransport::Other { protocol },
    })
}

/// The IPv6 flow label of flow `index` of a trace whose labels start at
/// `base`: one per flow, the same for every probe of it (Paris: the flow
/// label is what Linux's default IPv6 multipath hash reads, with the
/// addresses and the next header), a different one for each flow (so
/// flows spread over the paths such a hash chooses between). Never 0 (the
/// kernel would pick its own, the same for every flow of a socket); always
/// in the stateless half of the label space.
pub fn flow_label(base: u32, index: u16) -> u32 {
    STATELESS_LABELS | (base.wrapping_add(u32::from(index)) % STATELESS_LABELS)
}

/// A TCP segment as a raw TCP socket delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

/// Parses a TCP segment behind its IPv4 header (the checksum is the
/// kernel's to check).
pub fn parse_tcp_v4(bytes: &[u8]) -> Result<TcpSegment, WireError> {
    let ip = Ipv4View::parse(bytes)?;
    if ip.protocol != PROTO_TCP {
        return Err(WireError::NotTcp(ip.protocol));
    }
    tcp_header(IpAddr::V4(ip.src), IpAddr::V4(ip.dst), ip.payload)
}

/// Parses a TCP segment as a raw IPv6 TCP socket delivers it: no IP header
/// (the kernel strips it and checks the checksum); `src` is the address the
/// socket reported, `dst` ours.
pub fn parse_tcp_v6(src: Ipv6Addr, dst: Ipv6Addr, bytes: &[u8]) -> Result<TcpSegment, WireError> {
    tcp_header(IpAddr::V6(src), IpAddr::V6(dst), bytes)
}

fn tcp_header(src: IpAddr, dst: IpAddr, bytes: &[u8]) -> Result<TcpSegment, WireError> {
    let h =
        bytes
            .get(..TCP_HEADER_LEN)
            .ok_or(truncated("TCP header", TCP_HEADER_LEN, bytes.len()))?;
    Ok(TcpSegment {
        src,
        dst,
        src_port: be16(h, 0),
        dst_port: be16(h, 2),
        seq: be32(h, 4),
        ack: be32(h, 8),
        flags: h[13],
    })
}

/// Writes an IPv4 echo request whose checksum is `want_checksum` whatever
/// the sequence: the first payload word compensates (Paris traceroute), so
/// identifier and checksum — what ECMP hashes of an ICMP header — stay
/// constant across the probes of a flow.
pub fn emit_paris_echo(
    ident: u16,
    seq: u16,
    want_checksum: u16,
    payload_len: usize,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(&[8, 0, 0, 0]);
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    filler(payload_len.max(2) - 2, out);
    let word = compensate(out, &[], ICMP_HEADER_LEN, want_checksum);
    out[ICMP_HEADER_LEN..ICMP_HEADER_LEN + 2].copy_from_slice(&word.to_be_bytes());
    let sum = checksum(out);
    out[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// Writes an ICMPv6 echo request whose checksum — over the IPv6
/// pseudo-header from `src` to `dst`, as the kernel fills it in for a raw
/// ICMPv6 socket (which ignores what the field held) — is `want_checksum`
/// whatever the sequence: the Paris echo of IPv6 (see [`emit_paris_echo`]).
/// `src` must be the source the kernel picks, else only the checksum
/// differs from what was asked, never the matching.
pub fn emit_paris_echo_v6(
    (src, dst): (Ipv6Addr, Ipv6Addr),
    ident: u16,
    seq: u16,
    want_checksum: u16,
    payload_len: usize,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(&[V6_ECHO_REQUEST, 0, 0, 0]);
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    filler(payload_len.max(2) - 2, out);
    let pseudo = pseudo_header(src.into(), dst.into(), PROTO_ICMPV6, out.len());
    let word = compensate(out, &pseudo, ICMP_HEADER_LEN, want_checksum);
    out[ICMP_HEADER_LEN..ICMP_HEADER_LEN + 2].copy_from_slice(&word.to_be_bytes());
    let mut all = pseudo;
    all.extend_from_slice(out);
    let sum = checksum(&all);
    out[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// The UDP payload (at least 2 bytes) that gives a datagram from `src:sport`
/// to `dst:dport` the checksum `want_checksum` (1..=0xfffe): fixed ports for
/// ECMP, the checksum telling the probes apart (Paris traceroute).
pub fn paris_udp_payload(
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    want_checksum: u16,
    payload_len: usize,
) -> Vec<u8> {
    let mut payload = vec![0, 0];
    filler(payload_len.max(2) - 2, &mut payload);
    let segment = udp_segment(ports, 0, &payload);
    let pseudo = pseudo_header(src, dst, PROTO_UDP, segment.len());
    let word = compensate(&segment, &pseudo, 8, want_checksum);
    payload[..2].copy_from_slice(&word.to_be_bytes());
    payload
}

/// Writes a whole UDP header and Paris payload (see [`paris_udp_payload`])
/// with its checksum filled in, for a raw socket: a datagram socket's
/// checksum may be left to offload (veth, loopback) and reach routers unset.
pub fn emit_paris_udp(
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    want_checksum: u16,
    payload_len: usize,
    out: &mut Vec<u8>,
) {
    let payload = paris_udp_payload(src, dst, ports, want_checksum, payload_len);
    let sum = udp_checksum(src, dst, ports, &payload);
    *out = udp_segment(ports, sum, &payload);
}

/// The UDP checksum the kernel computes for this datagram (0 sent as 0xffff).
pub fn udp_checksum(src: IpAddr, dst: IpAddr, ports: (u16, u16), payload: &[u8]) -> u16 {
    let segment = udp_segment(ports, 0, payload);
    let mut all = pseudo_header(src, dst, PROTO_UDP, segment.len());
    all.extend_from_slice(&segment);
    match checksum(&all) {
        0 => 0xffff,
        c => c,
    }
}

/// Writes a TCP SYN (no options) with its checksum over the pseudo-header.
pub fn emit_tcp_syn(src: IpAddr, dst: IpAddr, ports: (u16, u16), seq: u32, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&ports.0.to_be_bytes());
    out.extend_from_slice(&ports.1.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 5 << 4, TCP_SYN, 0xfa, 0xf0, 0, 0, 0, 0]);
    let mut all = pseudo_header(src, dst, PROTO_TCP, out.len());
    all.extend_from_slice(out);
    let sum = checksum(&all);
    out[16..18].copy_from_slice(&sum.to_be_bytes());
}

fn udp_segment(ports: (u16, u16), sum: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut s = Vec::with_capacity(8 + payload.len());
    s.extend_from_slice(&ports.0.to_be_bytes());
    s.extend_from_slice(&ports.1.to_be_bytes());
    s.extend_from_slice(&len.to_be_bytes());
    s.extend_from_slice(&sum.to_be_bytes());
    s.extend_from_slice(payload);
    s
}

fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, protocol]);
            p.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        }
        _ => {
            p.extend_from_slice(&v6(src).octets());
            p.extend_from_slice(&v6(dst).octets());
            p.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, protocol]);
        }
    }
    p
}

fn v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// The word to write at `at` in `data` (currently zero there, checksum field
/// zero too) so the checksum over `prefix` + `data` becomes `want`.
fn compensate(data: &[u8], prefix: &[u8], at: usize, want: u16) -> u16 {
    let mut all = prefix.to_vec();
    all.extend_from_slice(data);
    let at = prefix.len() + at;
    // checksum = !(S + X) in ones' complement: X = !want - S = !want + !S.
    let base = checksum(&all);
    let word = fold(u32::from(!want) + u32::from(base));
    // Ones' complement has two zeros; pick the one that gives `want`.
    for candidate in [word, !word] {
        if let Some(slot) = all.get_mut(at..at + 2) {
            slot.copy_from_slice(&candidate.to_be_bytes());
        }
        if checksum(&all) == want {
            return candidate;
        }
    }
    word
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn filler(len: usize, out: &mut Vec<u8>) {
    out.extend((0..len).map(|i| b"NCMP"[i % 4]));
}

/// The IPv4 header fields we need and the payload its lengths delimit.
struct Ipv4View<'a> {
    protocol: u8,
    ttl: u8,
    id: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    payload: &'a [u8],
}

impl<'a> Ipv4View<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Ipv4View<'a>, WireError> {
        let first = *bytes.first().ok_or(truncated("IPv4 header", 20, 0))?;
        let version = first >> 4;
        if version != 4 {
            return Err(WireError::WrongIpVersion(version, 4));
        }
        let header_len = usize::from(first & 0x0f) * 4;
        if header_len < 20 {
            return Err(WireError::BadHeaderLength(header_len));
        }
        let h = bytes
            .get(..header_len)
            .ok_or(truncated("IPv4 header", header_len, bytes.len()))?;
        // A quoted header's total length names the original datagram, longer
        // than the quote: never read past the buffer.
        let total = usize::from(be16(h, 2));
        let end = if total >= header_len && total <= bytes.len() {
            total
        } else {
            bytes.len()
        };
        Ok(Ipv4View {
            protocol: h[9],
            ttl: h[8],
            id: be16(h, 4),
            src: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
            dst: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
            payload: bytes.get(header_len..end).unwrap_or(&[]),
        })
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
#[path = "trace_wire_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "trace_wire_v6_tests.rs"]
mod v6_tests;
