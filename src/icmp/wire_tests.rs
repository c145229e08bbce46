//! Unit and property tests for the ICMP wire format.
use super::*;
use proptest::prelude::*;

fn tag(session: u64, probe: u64) -> ProbeTag {
    ProbeTag {
        session: SessionToken(session),
        probe: ProbeNumber(probe),
    }
}

/// A minimal IPv4 header (no options) carrying `payload` as ICMP.
fn ipv4_wrap(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, PROTO_ICMP, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// Turns an encoded IPv4 echo request into the reply a host would send.
fn as_v4_reply(request: &[u8]) -> Vec<u8> {
    let mut reply = request.to_vec();
    reply[0] = V4_ECHO_REPLY;
    reply[2] = 0;
    reply[3] = 0;
    let sum = checksum(&reply);
    reply[2..4].copy_from_slice(&sum.to_be_bytes());
    reply
}

#[test]
fn checksum_matches_rfc1071_example() {
    // RFC 1071 section 3 example: sum 0xddf2, checksum is its complement.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(checksum(&data), !0xddf2);
}

#[test]
fn checksum_of_odd_length_pads_with_zero() {
    assert_eq!(checksum(&[0xab]), checksum(&[0xab, 0x00]));
}

#[test]
fn encoded_v4_request_has_valid_checksum_and_fields() {
    let mut out = Vec::new();
    emit_echo_request(Family::V4, 0x1234, &tag(7, 0x1_0005), 56, &mut out);
    assert_eq!(out.len(), ECHO_HEADER_LEN + 56);
    assert_eq!(checksum(&out), 0);
    assert_eq!(&out[4..8], &[0x12, 0x34, 0x00, 0x05]);
    match parse(Family::V4, Framing::Bare, &out) {
        Ok(Message::EchoRequest(echo)) => assert_eq!(echo.tag(), Some(tag(7, 0x1_0005))),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn payload_shorter_than_tag_is_padded_to_tag() {
    let mut out = Vec::new();
    emit_echo_request(Family::V6, 1, &tag(1, 2), 0, &mut out);
    assert_eq!(out.len(), ECHO_HEADER_LEN + TAG_LEN);
    assert_eq!(out[0], V6_ECHO_REQUEST);
    assert_eq!(&out[2..4], &[0, 0], "ICMPv6 checksum is left to the kernel");
}

#[test]
fn v4_reply_with_ip_header_parses() {
    let mut req = Vec::new();
    emit_echo_request(Family::V4, 99, &tag(0xdead_beef, 3), 32, &mut req);
    let packet = ipv4_wrap([127, 0, 0, 1], [127, 0, 0, 1], &as_v4_reply(&req));
    match parse(Family::V4, Framing::Ipv4Header, &packet) {
        Ok(Message::EchoReply(echo)) => {
            assert_eq!((echo.ident, echo.seq), (99, 3));
            assert_eq!(echo.tag(), Some(tag(0xdead_beef, 3)));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn corrupted_v4_reply_fails_checksum() {
    let mut req = Vec::new();
    emit_echo_request(Family::V4, 99, &tag(1, 3), 32, &mut req);
    let mut reply = as_v4_reply(&req);
    reply[20] ^= 0x40;
    assert_eq!(
        parse(Family::V4, Framing::Bare, &reply),
        Err(WireError::BadChecksum)
    );
}

#[test]
fn v4_dest_unreachable_quotes_our_request() {
    let mut req = Vec::new();
    emit_echo_request(Family::V4, 0x4242, &tag(5, 17), 56, &mut req);
    let original = ipv4_wrap([10, 99, 0, 1], [10, 99, 3, 4], &req);
    let mut err = vec![V4_DEST_UNREACHABLE, 1, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&original);
    let sum = checksum(&err);
    err[2..4].copy_from_slice(&sum.to_be_bytes());
    let packet = ipv4_wrap([10, 99, 0, 254], [10, 99, 0, 1], &err);
    let expected = QuotedError {
        kind: ErrorKind::DestinationUnreachable(1),
        original_dst: "10.99.3.4".parse().unwrap(),
        original_ident: 0x4242,
        original_seq: 17,
        original_tag: Some(tag(5, 17)),
    };
    assert_eq!(
        parse(Family::V4, Framing::Ipv4Header, &packet),
        Ok(Message::Error(expected))
    );
}

#[test]
fn v4_error_quoting_only_eight_bytes_has_no_tag() {
    let mut req = Vec::new();
    emit_echo_request(Family::V4, 1, &tag(5, 17), 56, &mut req);
    let original = ipv4_wrap([10, 99, 0, 1], [10, 99, 3, 4], &req[..8]);
    let mut err = vec![V4_TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&original);
    let sum = checksum(&err);
    err[2..4].copy_from_slice(&sum.to_be_bytes());
    match parse(Family::V4, Framing::Bare, &err) {
        Ok(Message::Error(q)) => {
            assert_eq!(q.kind, ErrorKind::TimeExceeded(0));
            assert_eq!(q.original_seq, 17);
            assert_eq!(q.original_tag, None);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn v6_error_quotes_request() {
    let mut req = Vec::new();
    emit_echo_request(Family::V6, 7, &tag(9, 65_536 + 2), 24, &mut req);
    let mut ip6 = vec![0x60, 0, 0, 0];
    ip6.extend_from_slice(&(req.len() as u16).to_be_bytes());
    ip6.extend_from_slice(&[PROTO_ICMPV6, 64]);
    ip6.extend_from_slice(&[0u8; 16]);
    let dst: Ipv6Addr = "::ffff:10.99.0.99".parse().unwrap();
    ip6.extend_from_slice(&dst.octets());
    ip6.extend_from_slice(&req);
    let mut err = vec![V6_DEST_UNREACHABLE, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&ip6);
    match parse(Family::V6, Framing::Bare, &err) {
        Ok(Message::Error(q)) => {
            assert_eq!(q.original_dst, IpAddr::V6(dst));
            assert_eq!((q.original_ident, q.original_seq), (7, 2));
            assert_eq!(q.original_tag, Some(tag(9, 65_538)));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn non_icmp_ip_packet_is_rejected() {
    let mut packet = ipv4_wrap([1, 1, 1, 1], [1, 1, 1, 1], &[0; 8]);
    packet[9] = 17;
    assert_eq!(
        parse(Family::V4, Framing::Ipv4Header, &packet),
        Err(WireError::NotIcmp(17))
    );
}

#[test]
fn short_and_bad_headers_are_typed_errors() {
    assert!(matches!(
        parse(Family::V4, Framing::Ipv4Header, &[]),
        Err(WireError::Truncated { .. })
    ));
    assert_eq!(
        parse(Family::V4, Framing::Ipv4Header, &[0x41; 30]),
        Err(WireError::BadHeaderLength(4))
    );
    assert_eq!(
        parse(Family::V4, Framing::Ipv4Header, &[0x65; 30]),
        Err(WireError::WrongIpVersion(6, 4))
    );
    assert!(matches!(
        parse(Family::V6, Framing::Bare, &[129, 0, 0]),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn tag_requires_magic() {
    let mut bytes = [0u8; TAG_LEN];
    tag(1, 2).emit(&mut bytes);
    assert!(ProbeTag::parse(&bytes).is_some());
    bytes[0] = b'X';
    assert_eq!(ProbeTag::parse(&bytes), None);
    assert_eq!(ProbeTag::parse(&bytes[..TAG_LEN - 1]), None);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(Family::V4, Framing::Ipv4Header, &bytes);
        let _ = parse(Family::V4, Framing::Bare, &bytes);
        let _ = parse(Family::V6, Framing::Bare, &bytes);
    }

    #[test]
    fn ipv4_shaped_bytes_never_panic(
        ihl in 0u8..16, total in any::<u16>(), proto in prop_oneof![Just(1u8), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = vec![0x40 | ihl, 0];
        bytes.extend_from_slice(&total.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 64, proto]);
        bytes.extend_from_slice(&rest);
        let _ = parse(Family::V4, Framing::Ipv4Header, &bytes);
    }

    #[test]
    fn v4_request_roundtrips(
        ident in any::<u16>(), session in any::<u64>(), probe in any::<u64>(), len in 0usize..1500,
    ) {
        let mut out = Vec::new();
        emit_echo_request(Family::V4, ident, &tag(session, probe), len, &mut out);
        prop_assert_eq!(checksum(&out), 0);
        let reply = as_v4_reply(&out);
        let packet = ipv4_wrap([10, 99, 0, 2], [10, 99, 0, 1], &reply);
        match parse(Family::V4, Framing::Ipv4Header, &packet) {
            Ok(Message::EchoReply(echo)) => {
                prop_assert_eq!(echo.ident, ident);
                prop_assert_eq!(echo.seq, (probe & 0xffff) as u16);
                prop_assert_eq!(echo.tag(), Some(tag(session, probe)));
                prop_assert_eq!(echo.payload.len(), len.max(TAG_LEN));
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn single_bit_flip_breaks_v4_checksum(
        payload in proptest::collection::vec(any::<u8>(), 8..100), bit in 0usize..800,
    ) {
        let mut msg = payload.clone();
        msg[2] = 0;
        msg[3] = 0;
        let sum = checksum(&msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        prop_assert_eq!(checksum(&msg), 0);
        let bit = bit % (msg.len() * 8);
        msg[bit / 8] ^= 1 << (bit % 8);
        prop_assert_ne!(checksum(&msg), 0);
    }
}
