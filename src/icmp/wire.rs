//! ICMP and ICMPv6 wire format for echo probing: encode echo requests, parse
//! what an ICMP socket hands back (echo replies, echo requests seen on the
//! same host, and errors quoting one of our requests), the probe tag carried
//! in the payload, and the Internet checksum.
//!
//! Pure code: no sockets, no clock, no allocation on the parse path. Every
//! length is checked before it is read; malformed bytes give a `WireError`.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes of an ICMP echo header (type, code, checksum, identifier, sequence).
pub const ECHO_HEADER_LEN: usize = 8;
/// Bytes of the probe tag at the start of every payload we send.
pub const TAG_LEN: usize = 20;
/// The first four bytes of every tag: "NCMP".
pub const TAG_MAGIC: [u8; 4] = *b"NCMP";

const V4_ECHO_REPLY: u8 = 0;
const V4_DEST_UNREACHABLE: u8 = 3;
const V4_SOURCE_QUENCH: u8 = 4;
const V4_ECHO_REQUEST: u8 = 8;
const V4_TIME_EXCEEDED: u8 = 11;
const V4_PARAMETER_PROBLEM: u8 = 12;
const V6_DEST_UNREACHABLE: u8 = 1;
const V6_PACKET_TOO_BIG: u8 = 2;
const V6_TIME_EXCEEDED: u8 = 3;
const V6_PARAMETER_PROBLEM: u8 = 4;
const V6_ECHO_REQUEST: u8 = 128;
const V6_ECHO_REPLY: u8 = 129;
const PROTO_ICMP: u8 = 1;
const PROTO_ICMPV6: u8 = 58;
pub(super) const IPV6_HEADER_LEN: usize = 40;

/// Address family of a socket or packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// What a socket delivers in front of the ICMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// IPv4 raw socket: the IPv4 header comes first.
    Ipv4Header,
    /// IPv6 raw sockets and all DGRAM ping sockets: the ICMP message only.
    Bare,
}

/// Random per-engine value that makes our replies hard to forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken(pub u64);

/// Engine-wide number of one probe; its low 16 bits are the echo sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeNumber(pub u64);

impl ProbeNumber {
    pub fn sequence(self) -> u16 {
        (self.0 & 0xffff) as u16
    }
}

/// The tag at the start of each echo payload: magic, session token, probe number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeTag {
    pub session: SessionToken,
    pub probe: ProbeNumber,
}

impl ProbeTag {
    pub fn emit(&self, out: &mut [u8; TAG_LEN]) {
        out[..4].copy_from_slice(&TAG_MAGIC);
        out[4..12].copy_from_slice(&self.session.0.to_be_bytes());
        out[12..20].copy_from_slice(&self.probe.0.to_be_bytes());
    }

    /// Reads a tag from the start of `payload`; `None` when absent or not ours in shape.
    pub fn parse(payload: &[u8]) -> Option<ProbeTag> {
        let tag = payload.get(..TAG_LEN)?;
        if tag.get(..4)? != TAG_MAGIC {
            return None;
        }
        let session = u64::from_be_bytes(tag.get(4..12)?.try_into().ok()?);
        let probe = u64::from_be_bytes(tag.get(12..20)?.try_into().ok()?);
        Some(ProbeTag {
            session: SessionToken(session),
            probe: ProbeNumber(probe),
        })
    }
}

/// An echo request or reply, borrowing its payload from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo<'a> {
    pub ident: u16,
    pub seq: u16,
    pub payload: &'a [u8],
}

impl Echo<'_> {
    pub fn tag(&self) -> Option<ProbeTag> {
        ProbeTag::parse(self.payload)
    }
}

/// Which ICMP error a router or host sent back about one of our requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum ErrorKind {
    DestinationUnreachable(u8),
    TimeExceeded(u8),
    ParameterProblem(u8),
    PacketTooBig,
    SourceQuench,
}

/// An ICMP error that quotes an echo request: what went wrong and which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedError {
    pub kind: ErrorKind,
    /// Destination of the quoted request (the host we tried to reach).
    pub original_dst: IpAddr,
    pub original_ident: u16,
    pub original_seq: u16,
    /// Present when the error quoted enough of the payload.
    pub original_tag: Option<ProbeTag>,
}

/// One parsed message from an ICMP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    EchoReply(Echo<'a>),
    /// Requests are visible on raw sockets when probing the local host.
    EchoRequest(Echo<'a>),
    /// An error that quotes an ICMP echo request.
    Error(QuotedError),
    /// Anything else (other types, errors about non-echo traffic).
    Other {
        icmp_type: u8,
        code: u8,
    },
}

/// Why bytes could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated {what}: need {needed} bytes, have {have}")]
    Truncated {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    #[error("IP version {0} where {1} was expected")]
    WrongIpVersion(u8, u8),
    #[error("IPv4 header length {0} is invalid")]
    BadHeaderLength(usize),
    #[error("IP protocol {0} is not ICMP")]
    NotIcmp(u8),
    #[error("ICMP checksum mismatch")]
    BadChecksum,
    #[error("IP protocol {0} is not TCP")]
    NotTcp(u8),
}

/// Internet checksum (RFC 1071) over `data`, as stored in the header.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for pair in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([pair[0], pair[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes an echo request into `out` (cleared first). The payload is the tag
/// followed by a filler pattern up to `payload_len` (at least `TAG_LEN`).
///
/// For IPv4 the checksum is filled in; for IPv6 it is left zero because the
/// kernel computes it over the pseudo-header for ICMPv6 sockets.
pub fn emit_echo_request(
    family: Family,
    ident: u16,
    tag: &ProbeTag,
    payload_len: usize,
    out: &mut Vec<u8>,
) {
    let payload_len = payload_len.max(TAG_LEN);
    out.clear();
    let icmp_type = match family {
        Family::V4 => V4_ECHO_REQUEST,
        Family::V6 => V6_ECHO_REQUEST,
    };
    out.extend_from_slice(&[icmp_type, 0, 0, 0]);
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&tag.probe.sequence().to_be_bytes());
    let mut tag_bytes = [0u8; TAG_LEN];
    tag.emit(&mut tag_bytes);
    out.extend_from_slice(&tag_bytes);
    out.extend((TAG_LEN..payload_len).map(|i| (i & 0xff) as u8));
    if family == Family::V4 {
        let sum = checksum(out);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Parses what an ICMP socket of `family` delivered with the given `framing`.
///
/// IPv4 checksums are verified; ICMPv6 checksums cover a pseudo-header that
/// the kernel has already checked, so they are not re-verified here.
pub fn parse(family: Family, framing: Framing, bytes: &[u8]) -> Result<Message<'_>, WireError> {
    let icmp = match framing {
        Framing::Ipv4Header => strip_ipv4_header(bytes)?,
        Framing::Bare => bytes,
    };
    if icmp.len() < ECHO_HEADER_LEN {
        return Err(truncated("ICMP header", ECHO_HEADER_LEN, icmp.len()));
    }
    if family == Family::V4 && checksum(icmp) != 0 {
        return Err(WireError::BadChecksum);
    }
    let icmp_type = icmp[0];
    let code = icmp[1];
    let echo = || Echo {
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: &icmp[ECHO_HEADER_LEN..],
    };
    let quoted = &icmp[ECHO_HEADER_LEN..];
    let other = Message::Other { icmp_type, code };
    let message = match (family, icmp_type) {
        (Family::V4, V4_ECHO_REPLY) | (Family::V6, V6_ECHO_REPLY) => Message::EchoReply(echo()),
        (Family::V4, V4_ECHO_REQUEST) | (Family::V6, V6_ECHO_REQUEST) => {
            Message::EchoRequest(echo())
        }
        (Family::V4, V4_DEST_UNREACHABLE) => {
            quoted_v4(ErrorKind::DestinationUnreachable(code), other, quoted)?
        }
        (Family::V4, V4_TIME_EXCEEDED) => quoted_v4(ErrorKind::TimeExceeded(code), other, quoted)?,
        (Family::V4, V4_PARAMETER_PROBLEM) => {
            quoted_v4(ErrorKind::ParameterProblem(code), other, quoted)?
        }
        (Family::V4, V4_SOURCE_QUENCH) => quoted_v4(ErrorKind::SourceQuench, other, quoted)?,
        (Family::V6, V6_DEST_UNREACHABLE) => {
            quoted_v6(ErrorKind::DestinationUnreachable(code), other, quoted)?
        }
        (Family::V6, V6_PACKET_TOO_BIG) => quoted_v6(ErrorKind::PacketTooBig, other, quoted)?,
        (Family::V6, V6_TIME_EXCEEDED) => quoted_v6(ErrorKind::TimeExceeded(code), other, quoted)?,
        (Family::V6, V6_PARAMETER_PROBLEM) => {
            quoted_v6(ErrorKind::ParameterProblem(code), other, quoted)?
        }
        _ => other,
    };
    Ok(message)
}

pub(super) fn truncated(what: &'static str, needed: usize, have: usize) -> WireError {
    WireError::Truncated { what, needed, have }
}

/// The fixed IPv6 header an ICMPv6 error quotes, checked to be whole and
/// of version 6 (for echo replies here and for trace's probes).
pub(super) fn quoted_v6_header(quoted: &[u8]) -> Result<&[u8], WireError> {
    let header = quoted.get(..IPV6_HEADER_LEN).ok_or(truncated(
        "quoted IPv6 header",
        IPV6_HEADER_LEN,
        quoted.len(),
    ))?;
    let version = header[0] >> 4;
    if version != 6 {
        return Err(WireError::WrongIpVersion(version, 6));
    }
    Ok(header)
}

/// Validated IPv4 header fields we need.
struct Ipv4Header {
    header_len: usize,
    protocol: u8,
    dst: Ipv4Addr,
}

fn ipv4_header(bytes: &[u8]) -> Result<Ipv4Header, WireError> {
    let first = *bytes.first().ok_or(truncated("IPv4 header", 20, 0))?;
    let version = first >> 4;
    if version != 4 {
        return Err(WireError::WrongIpVersion(version, 4));
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 {
        return Err(WireError::BadHeaderLength(header_len));
    }
    let header =
        bytes
            .get(..header_len)
            .ok_or(truncated("IPv4 header", header_len, bytes.len()))?;
    Ok(Ipv4Header {
        header_len,
        protocol: header[9],
        dst: Ipv4Addr::new(header[16], header[17], header[18], header[19]),
    })
}

/// Skips the IPv4 header a raw socket puts in front, honouring total length.
fn strip_ipv4_header(bytes: &[u8]) -> Result<&[u8], WireError> {
    let header = ipv4_header(bytes)?;
    if header.protocol != PROTO_ICMP {
        return Err(WireError::NotIcmp(header.protocol));
    }
    let total = bytes
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .unwrap_or(0);
    // Trust the buffer, not the header, when they disagree (some stacks
    // report lengths in host order or omit them); never read past either.
    let end = if total >= header.header_len && total <= bytes.len() {
        total
    } else {
        bytes.len()
    };
    Ok(bytes.get(header.header_len..end).unwrap_or(&[]))
}

fn quoted_v4<'a>(
    kind: ErrorKind,
    other: Message<'a>,
    quoted: &'a [u8],
) -> Result<Message<'a>, WireError> {
    let header = ipv4_header(quoted)?;
    if header.protocol != PROTO_ICMP {
        return Ok(other);
    }
    let inner = quoted.get(header.header_len..).unwrap_or(&[]);
    quoted_echo(kind, other, IpAddr::V4(header.dst), V4_ECHO_REQUEST, inner)
}

fn quoted_v6<'a>(
    kind: ErrorKind,
    other: Message<'a>,
    quoted: &'a [u8],
) -> Result<Message<'a>, WireError> {
    let header = quoted_v6_header(quoted)?;
    // Extension headers in front of the quoted ICMPv6 are not followed: we
    // never send any, so such an error is not about one of our probes.
    if header[6] != PROTO_ICMPV6 {
        return Ok(other);
    }
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&header[24..40]);
    let inner = quoted.get(IPV6_HEADER_LEN..).unwrap_or(&[]);
    quoted_echo(
        kind,
        other,
        IpAddr::V6(Ipv6Addr::from(dst)),
        V6_ECHO_REQUEST,
        inner,
    )
}

fn quoted_echo<'a>(
    kind: ErrorKind,
    other: Message<'a>,
    original_dst: IpAddr,
    request_type: u8,
    inner: &[u8],
) -> Result<Message<'a>, WireError> {
    let head = inner.get(..ECHO_HEADER_LEN).ok_or(truncated(
        "quoted ICMP header",
        ECHO_HEADER_LEN,
        inner.len(),
    ))?;
    if head[0] != request_type {
        return Ok(other);
    }
    Ok(Message::Error(QuotedError {
        kind,
        original_dst,
        original_ident: u16::from_be_bytes([head[4], head[5]]),
        original_seq: u16::from_be_bytes([head[6], head[7]]),
        original_tag: inner.get(ECHO_HEADER_LEN..).and_then(ProbeTag::parse),
    }))
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
