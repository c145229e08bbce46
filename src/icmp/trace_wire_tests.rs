//! Unit and property tests for the tracer's wire format: quoted probes of
//! every protocol built the way a router builds them, Paris probes whose
//! checksum is the one asked for, and no panic on any bytes.
use super::*;
use proptest::prelude::*;

const SRC: Ipv4Addr = Ipv4Addr::new(10, 145, 0, 2);
const DST: Ipv4Addr = Ipv4Addr::new(10, 147, 0, 9);
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 146, 0, 1);

/// An IPv4 header (no options) in front of `payload`.
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, ttl: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, ttl, protocol, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// What a router sends back: ICMP `icmp_type`/`code` quoting the datagram's
/// IP header and the first `quote` bytes after it, behind the router's own
/// IPv4 header (a raw socket's framing).
fn icmp_error(icmp_type: u8, code: u8, datagram: &[u8], quote: usize) -> Vec<u8> {
    let header_len = usize::from(datagram[0] & 0x0f) * 4;
    let cut = (header_len + quote).min(datagram.len());
    let mut icmp = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&datagram[..cut]);
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    ipv4(ROUTER, SRC, PROTO_ICMP, 64, 0, &icmp)
}

fn udp_datagram(ports: (u16, u16), want: u16, ttl: u8, id: u16) -> Vec<u8> {
    let mut segment = Vec::new();
    emit_paris_udp(SRC.into(), DST.into(), ports, want, 12, &mut segment);
    assert_eq!(u16::from_be_bytes([segment[6], segment[7]]), want);
    ipv4(SRC, DST, PROTO_UDP, ttl, id, &segment)
}

fn error_of(bytes: &[u8]) -> QuotedProbe {
    match parse_trace(Family::V4, Framing::Ipv4Header, bytes) {
        Ok(TraceMessage::Error(q)) => q,
        other => panic!("want a quoted error, got {other:?}"),
    }
}

#[test]
fn time_exceeded_quoting_a_udp_probe_names_its_ports_and_checksum() {
    let datagram = udp_datagram((40001, 33434), 0x1234, 1, 77);
    let q = error_of(&icmp_error(11, 0, &datagram, 8));
    assert_eq!(q.kind, ErrorKind::TimeExceeded(0));
    assert_eq!((q.src, q.dst), (IpAddr::V4(SRC), IpAddr::V4(DST)));
    assert_eq!((q.ttl, q.ip_id), (1, 77));
    assert_eq!(
        q.transport,
        QuotedTransport::Udp {
            src_port: 40001,
            dst_port: 33434,
            checksum: 0x1234
        }
    );
}

#[test]
fn port_unreachable_quoting_the_whole_datagram_is_read_the_same() {
    // Linux quotes as much as fits; the quoted total length is then exact.
    let datagram = udp_datagram((40001, 33434), 0x0042, 3, 9);
    let q = error_of(&icmp_error(3, 3, &datagram, 500));
    assert_eq!(q.kind, ErrorKind::DestinationUnreachable(3));
    assert!(matches!(
        q.transport,
        QuotedTransport::Udp {
            checksum: 0x0042,
            ..
        }
    ));
}

#[test]
fn time_exceeded_quoting_a_tcp_syn_names_its_sequence() {
    let mut syn = Vec::new();
    emit_tcp_syn(SRC.into(), DST.into(), (40100, 80), 0xdead_0007, &mut syn);
    let datagram = ipv4(SRC, DST, PROTO_TCP, 1, 5, &syn);
    let q = error_of(&icmp_error(11, 0, &datagram, 8));
    assert_eq!(
        q.transport,
        QuotedTransport::Tcp {
            src_port: 40100,
            dst_port: 80,
            seq: 0xdead_0007
        }
    );
}

#[test]
fn time_exceeded_quoting_an_echo_names_ident_sequence_and_checksum() {
    let mut echo = Vec::new();
    emit_paris_echo(0x4242, 9, 0x7777, 16, &mut echo);
    let datagram = ipv4(SRC, DST, PROTO_ICMP, 1, 5, &echo);
    let q = error_of(&icmp_error(11, 0, &datagram, 8));
    assert_eq!(
        q.transport,
        QuotedTransport::Echo {
            ident: 0x4242,
            seq: 9,
            checksum: 0x7777
        }
    );
}

#[test]
fn an_echo_reply_and_other_types_are_told_apart() {
    let mut echo = Vec::new();
    emit_paris_echo(1, 2, 0x1000, 16, &mut echo);
    echo[0] = 0;
    echo[2..4].copy_from_slice(&[0, 0]);
    let sum = checksum(&echo);
    echo[2..4].copy_from_slice(&sum.to_be_bytes());
    let bytes = ipv4(DST, SRC, PROTO_ICMP, 60, 0, &echo);
    assert_eq!(
        parse_trace(Family::V4, Framing::Ipv4Header, &bytes),
        Ok(TraceMessage::EchoReply { ident: 1, seq: 2 })
    );
    let mut redirect = vec![5, 1, 0, 0, 0, 0, 0, 0];
    let sum = checksum(&redirect);
    redirect[2..4].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(
        parse_trace(Family::V4, Framing::Bare, &redirect),
        Ok(TraceMessage::Other {
            icmp_type: 5,
            code: 1
        })
    );
}

#[test]
fn a_quote_shorter_than_eight_transport_bytes_is_an_error_not_a_guess() {
    let datagram = udp_datagram((1, 2), 3, 1, 0);
    let bytes = icmp_error(11, 0, &datagram, 4);
    assert!(matches!(
        parse_trace(Family::V4, Framing::Ipv4Header, &bytes),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn a_corrupted_error_fails_its_checksum() {
    let datagram = udp_datagram((1, 2), 3, 1, 0);
    let mut bytes = icmp_error(11, 0, &datagram, 8);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    assert_eq!(
        parse_trace(Family::V4, Framing::Ipv4Header, &bytes),
        Err(WireError::BadChecksum)
    );
}

#[test]
fn ipv6_time_exceeded_quoting_a_udp_probe() {
    let (src, dst): (Ipv6Addr, Ipv6Addr) = ("fd00::2".parse().unwrap(), "fd00::9".parse().unwrap());
    let payload = paris_udp_payload(src.into(), dst.into(), (40001, 33434), 0x0abc, 10);
    let sum = udp_checksum(src.into(), dst.into(), (40001, 33434), &payload);
    assert_eq!(sum, 0x0abc);
    let segment = udp_segment((40001, 33434), sum, &payload);
    let mut header = vec![0x60, 0, 0, 0];
    header.extend_from_slice(&(segment.len() as u16).to_be_bytes());
    header.extend_from_slice(&[PROTO_UDP, 1]);
    header.extend_from_slice(&src.octets());
    header.extend_from_slice(&dst.octets());
    let mut icmp = vec![3, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&header);
    icmp.extend_from_slice(&segment);
    let q = match parse_trace(Family::V6, Framing::Bare, &icmp) {
        Ok(TraceMessage::Error(q)) => q,
        other => panic!("{other:?}"),
    };
    assert_eq!(q.kind, ErrorKind::TimeExceeded(0));
    assert_eq!((q.src, q.dst, q.ttl), (src.into(), dst.into(), 1));
    assert!(matches!(
        q.transport,
        QuotedTransport::Udp {
            checksum: 0x0abc,
            ..
        }
    ));
}

#[test]
fn a_syn_ack_from_the_destination_is_read() {
    let mut seg = vec![0u8; 20];
    seg[0..2].copy_from_slice(&80u16.to_be_bytes());
    seg[2..4].copy_from_slice(&40100u16.to_be_bytes());
    seg[4..8].copy_from_slice(&5u32.to_be_bytes());
    seg[8..12].copy_from_slice(&0xdead_0008u32.to_be_bytes());
    seg[12] = 5 << 4;
    seg[13] = TCP_SYN | TCP_ACK;
    let t = parse_tcp_v4(&ipv4(DST, SRC, PROTO_TCP, 60, 0, &seg)).unwrap();
    assert_eq!((t.src, t.dst), (IpAddr::V4(DST), IpAddr::V4(SRC)));
    assert_eq!((t.src_port, t.dst_port, t.ack), (80, 40100, 0xdead_0008));
    assert_eq!(t.flags, TCP_SYN | TCP_ACK);
    assert_eq!(
        parse_tcp_v4(&ipv4(DST, SRC, PROTO_UDP, 60, 0, &seg)),
        Err(WireError::NotTcp(PROTO_UDP))
    );
}

#[test]
fn the_syn_checksum_verifies_over_its_pseudo_header() {
    let mut syn = Vec::new();
    emit_tcp_syn(SRC.into(), DST.into(), (40100, 443), 99, &mut syn);
    let mut all = pseudo_header(SRC.into(), DST.into(), PROTO_TCP, syn.len());
    all.extend_from_slice(&syn);
    assert_eq!(checksum(&all), 0);
    assert_eq!(syn[13], TCP_SYN);
}

proptest! {
    #[test]
    fn paris_udp_gives_the_checksum_asked_for(
        want in 1u16..=0xfffe,
        sport in any::<u16>(),
        dport in any::<u16>(),
        len in 2usize..64,
        a in any::<[u8; 4]>(),
        b in any::<[u8; 4]>(),
    ) {
        let (src, dst) = (IpAddr::from(a), IpAddr::from(b));
        let payload = paris_udp_payload(src, dst, (sport, dport), want, len);
        prop_assert_eq!(payload.len(), len);
        prop_assert_eq!(udp_checksum(src, dst, (sport, dport), &payload), want);
    }

    #[test]
    fn paris_echo_keeps_its_checksum_whatever_the_sequence(
        ident in any::<u16>(),
        seq in any::<u16>(),
        want in any::<u16>(),
        len in 2usize..64,
    ) {
        let mut echo = Vec::new();
        emit_paris_echo(ident, seq, want, len, &mut echo);
        prop_assert_eq!(echo.len(), ICMP_HEADER_LEN + len);
        prop_assert_eq!(checksum(&echo), 0, "a valid checksum");
        prop_assert_eq!(u16::from_be_bytes([echo[2], echo[3]]), want);
    }

    #[test]
    fn any_quote_round_trips(
        sport in any::<u16>(),
        want in 1u16..=0xfffe,
        ttl in any::<u8>(),
        id in any::<u16>(),
        quote in 8usize..64,
        code in any::<u8>(),
    ) {
        let datagram = udp_datagram((sport, 33434), want, ttl, id);
        let q = error_of(&icmp_error(11, code, &datagram, quote));
        prop_assert_eq!(q.kind, ErrorKind::TimeExceeded(code));
        prop_assert_eq!((q.ttl, q.ip_id), (ttl, id));
        prop_assert_eq!(q.transport, QuotedTransport::Udp {
            src_port: sport, dst_port: 33434, checksum: want,
        });
    }

    #[test]
    fn no_bytes_make_the_parsers_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for (family, framing) in [
            (Family::V4, Framing::Ipv4Header),
            (Family::V4, Framing::Bare),
            (Family::V6, Framing::Bare),
        ] {
            let _ = parse_trace(family, framing, &bytes);
        }
        let _ = parse_tcp_v4(&bytes);
    }

    #[test]
    fn truncating_an_error_anywhere_never_panics(cut in 0usize..80, sport in any::<u16>()) {
        let datagram = udp_datagram((sport, 33434), 5, 1, 1);
        let bytes = icmp_error(11, 0, &datagram, 8);
        let cut = cut.min(bytes.len());
        let _ = parse_trace(Family::V4, Framing::Ipv4Header, &bytes[..cut]);
        let _ = parse_trace(Family::V4, Framing::Bare, &bytes[20..cut.max(20)]);
    }
}
