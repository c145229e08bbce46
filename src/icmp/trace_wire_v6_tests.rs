//! IPv6 cases of the tracer's wire format: ICMPv6 time exceeded (type 3)
//! and destination unreachable (type 1, port unreachable code 4) quoting
//! the IPv6 header and 8 bytes of an echo, UDP or TCP probe, built the way
//! a Linux router builds them; the Paris echo of IPv6 whose checksum over
//! the pseudo-header is the one asked for; TCP answers without an IP
//! header; and hostile quotes (cut short, another IP version, extension
//! headers, lying lengths) that give a typed error or "not ours", never a
//! panic or a guess.
use super::*;
use proptest::prelude::*;

fn src() -> Ipv6Addr {
    "fd13:6:1::2".parse().unwrap()
}
fn dst() -> Ipv6Addr {
    "fd13:6:9::9".parse().unwrap()
}

/// An IPv6 header (no extension headers) in front of `payload`.
fn ipv6(next: u8, hops: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, hops]);
    h.extend_from_slice(&src().octets());
    h.extend_from_slice(&dst().octets());
    h.extend_from_slice(payload);
    h
}

/// An ICMPv6 error as a raw ICMPv6 socket delivers it (no IPv6 header; the
/// kernel has checked the checksum, so it is left 0): `quote` bytes of the
/// datagram after the ICMPv6 header.
fn icmp6_error(icmp_type: u8, code: u8, datagram: &[u8], quote: usize) -> Vec<u8> {
    let mut icmp = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&datagram[..quote.min(datagram.len())]);
    icmp
}

fn udp6(ports: (u16, u16), want: u16, hops: u8) -> Vec<u8> {
    let mut seg = Vec::new();
    emit_paris_udp(src().into(), dst().into(), ports, want, 12, &mut seg);
    ipv6(PROTO_UDP, hops, &seg)
}

fn error_of(bytes: &[u8]) -> QuotedProbe {
    match parse_trace(Family::V6, Framing::Bare, bytes) {
        Ok(TraceMessage::Error(q)) => q,
        other => panic!("want a quoted error, got {other:?}"),
    }
}

#[test]
fn time_exceeded_quoting_an_echo_names_ident_sequence_and_checksum() {
    let mut echo = Vec::new();
    emit_paris_echo_v6((src(), dst()), 0x4242, 9, 0x7777, 32, &mut echo);
    // Linux quotes as much of the datagram as fits in 1280 bytes.
    let q = error_of(&icmp6_error(3, 0, &ipv6(PROTO_ICMPV6, 1, &echo), 1280));
    assert_eq!(q.kind, ErrorKind::TimeExceeded(0));
    assert_eq!((q.src, q.dst), (src().into(), dst().into()));
    assert_eq!((q.ttl, q.ip_id), (1, 0));
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
fn port_unreachable_code_4_quoting_a_udp_probe() {
    let q = error_of(&icmp6_error(1, 4, &udp6((40001, 33434), 0x0abc, 3), 1280));
    assert_eq!(q.kind, ErrorKind::DestinationUnreachable(4));
    assert_eq!(q.ttl, 3);
    assert_eq!(
        q.transport,
        QuotedTransport::Udp {
            src_port: 40001,
            dst_port: 33434,
            checksum: 0x0abc
        }
    );
}

#[test]
fn time_exceeded_quoting_a_tcp_syn_names_its_sequence() {
    let mut syn = Vec::new();
    emit_tcp_syn(
        src().into(),
        dst().into(),
        (40100, 443),
        0xdead_0007,
        &mut syn,
    );
    let mut all = pseudo_header(src().into(), dst().into(), PROTO_TCP, syn.len());
    all.extend_from_slice(&syn);
    assert_eq!(
        checksum(&all),
        0,
        "the SYN's checksum covers the v6 pseudo-header"
    );
    let q = error_of(&icmp6_error(3, 0, &ipv6(PROTO_TCP, 1, &syn), 48));
    assert_eq!(
        q.transport,
        QuotedTransport::Tcp {
            src_port: 40100,
            dst_port: 443,
            seq: 0xdead_0007
        }
    );
}

#[test]
fn an_echo_reply_is_told_from_an_echo_request_and_other_types() {
    let reply = [129, 0, 0, 0, 0x12, 0x34, 0, 7];
    assert_eq!(
        parse_trace(Family::V6, Framing::Bare, &reply),
        Ok(TraceMessage::EchoReply {
            ident: 0x1234,
            seq: 7
        })
    );
    // Our own echo request, a packet too big (2) and a parameter problem
    // (4) are not answers to a probe.
    for ty in [128u8, 2, 4, 135] {
        let bytes = icmp6_error(ty, 0, &udp6((1, 2), 3, 1), 48);
        assert_eq!(
            parse_trace(Family::V6, Framing::Bare, &bytes),
            Ok(TraceMessage::Other {
                icmp_type: ty,
                code: 0
            })
        );
    }
}

#[test]
fn a_quote_cut_inside_the_ipv6_header_or_the_transport_is_an_error() {
    let datagram = udp6((40001, 33434), 5, 1);
    for quote in [0, 1, 39] {
        let bytes = icmp6_error(3, 0, &datagram, quote);
        assert!(
            matches!(
                parse_trace(Family::V6, Framing::Bare, &bytes),
                Err(WireError::Truncated { .. })
            ),
            "quote of {quote} bytes"
        );
    }
    for quote in [40, 44, 47] {
        let bytes = icmp6_error(3, 0, &datagram, quote);
        assert_eq!(
            parse_trace(Family::V6, Framing::Bare, &bytes),
            Err(WireError::Truncated {
                what: "quoted transport header",
                needed: 8,
                have: quote - 40
            })
        );
    }
    assert!(matches!(
        parse_trace(Family::V6, Framing::Bare, &[3, 0, 0]),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn a_quoted_ipv4_header_or_an_extension_header_is_not_one_of_our_probes() {
    let mut datagram = udp6((40001, 33434), 5, 1);
    datagram[0] = 0x45;
    let bytes = icmp6_error(3, 0, &datagram, 1280);
    assert_eq!(
        parse_trace(Family::V6, Framing::Bare, &bytes),
        Err(WireError::WrongIpVersion(4, 6))
    );
    // Hop-by-hop options, routing, fragment: we send none, so a quote
    // behind one is someone else's datagram, never read as UDP.
    for next in [0u8, 43, 44, 60] {
        let mut datagram = udp6((40001, 33434), 5, 1);
        datagram[6] = next;
        let q = error_of(&icmp6_error(3, 0, &datagram, 1280));
        assert_eq!(q.transport, QuotedTransport::Other { protocol: next });
    }
}

#[test]
fn a_quoted_payload_length_that_lies_is_never_followed() {
    // The quoted header names the original datagram's length: longer than
    // the quote (65535) or zero; only the bytes present are read.
    for len in [0u16, 8, 65535] {
        let mut datagram = udp6((40001, 33434), 0x0101, 2);
        datagram[4..6].copy_from_slice(&len.to_be_bytes());
        let q = error_of(&icmp6_error(3, 0, &datagram, 48));
        assert!(matches!(
            q.transport,
            QuotedTransport::Udp {
                checksum: 0x0101,
                ..
            }
        ));
    }
}

#[test]
fn a_bare_tcp_answer_is_read_and_a_short_one_refused() {
    let mut seg = vec![0u8; 20];
    seg[0..2].copy_from_slice(&443u16.to_be_bytes());
    seg[2..4].copy_from_slice(&40100u16.to_be_bytes());
    seg[8..12].copy_from_slice(&0xdead_0008u32.to_be_bytes());
    seg[13] = TCP_RST | TCP_ACK;
    let t = parse_tcp_v6(dst(), src(), &seg).unwrap();
    assert_eq!((t.src, t.dst), (IpAddr::V6(dst()), IpAddr::V6(src())));
    assert_eq!((t.src_port, t.dst_port, t.ack), (443, 40100, 0xdead_0008));
    assert_eq!(t.flags, TCP_RST | TCP_ACK);
    assert_eq!(
        parse_tcp_v6(dst(), src(), &seg[..19]),
        Err(WireError::Truncated {
            what: "TCP header",
            needed: 20,
            have: 19
        })
    );
}

proptest! {
    #[test]
    fn the_v6_paris_echo_has_the_checksum_asked_for_whatever_the_sequence(
        ident in any::<u16>(),
        seq in any::<u16>(),
        want in 1u16..=0xfffe,
        len in 2usize..64,
        a in any::<[u8; 16]>(),
        b in any::<[u8; 16]>(),
    ) {
        let (s, d) = (Ipv6Addr::from(a), Ipv6Addr::from(b));
        let mut echo = Vec::new();
        emit_paris_echo_v6((s, d), ident, seq, want, len, &mut echo);
        prop_assert_eq!(echo.len(), ICMP_HEADER_LEN + len);
        prop_assert_eq!(u16::from_be_bytes([echo[2], echo[3]]), want);
        // What the kernel computes: the field taken as zero, the pseudo-header in.
        let mut zeroed = echo.clone();
        zeroed[2..4].copy_from_slice(&[0, 0]);
        let mut all = pseudo_header(s.into(), d.into(), PROTO_ICMPV6, zeroed.len());
        all.extend_from_slice(&zeroed);
        prop_assert_eq!(checksum(&all), want);
        prop_assert_eq!(&echo[..2], &[V6_ECHO_REQUEST, 0][..]);
    }

    #[test]
    fn any_v6_quote_round_trips(
        sport in any::<u16>(),
        want in 1u16..=0xfffe,
        hops in any::<u8>(),
        quote in 48usize..200,
        code in any::<u8>(),
    ) {
        let q = error_of(&icmp6_error(1, code, &udp6((sport, 33434), want, hops), quote));
        prop_assert_eq!(q.kind, ErrorKind::DestinationUnreachable(code));
        prop_assert_eq!(q.ttl, hops);
        prop_assert_eq!(q.transport, QuotedTransport::Udp {
            src_port: sport, dst_port: 33434, checksum: want,
        });
    }

    #[test]
    fn cutting_or_scribbling_a_v6_error_never_panics(
        cut in 0usize..120,
        at in 0usize..120,
        byte in any::<u8>(),
    ) {
        let mut bytes = icmp6_error(3, 0, &udp6((40000, 33434), 5, 1), 1280);
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        let cut = cut.min(bytes.len());
        if let Ok(TraceMessage::Error(q)) = parse_trace(Family::V6, Framing::Bare, &bytes[..cut]) {
            prop_assert!(cut >= 48, "a quote without a whole IPv6 header read: {q:?}");
            if !matches!(q.transport, QuotedTransport::Other { .. }) {
                prop_assert!(cut >= 56);
            }
        }
        let _ = parse_tcp_v6(dst(), src(), &bytes[..cut]);
    }
}

#[test]
fn the_quoted_flow_label_is_read_from_the_quoted_header() {
    let mut echo = Vec::new();
    emit_paris_echo_v6((src(), dst()), 1, 1, 0x1234, 32, &mut echo);
    let mut datagram = ipv6(PROTO_ICMPV6, 1, &echo);
    // Traffic class 0xab, flow label 0x8c0de.
    datagram[..4].copy_from_slice(&(0x6ab8_c0de_u32).to_be_bytes());
    let q = error_of(&icmp6_error(3, 0, &datagram, 1280));
    assert_eq!(q.flow_label, 0x8_c0de);
}

#[test]
fn each_flow_has_its_own_stateless_flow_label() {
    for base in [0, 1, 0x7_ffff, 0x8_0000, u32::MAX] {
        let labels: Vec<u32> = (0..64).map(|i| flow_label(base, i)).collect();
        let distinct: std::collections::BTreeSet<u32> = labels.iter().copied().collect();
        assert_eq!(distinct.len(), 64, "base {base:#x}: {labels:x?}");
        for l in labels {
            assert!((0x8_0000..=0xf_ffff).contains(&l), "base {base:#x}: {l:#x}");
        }
    }
}
