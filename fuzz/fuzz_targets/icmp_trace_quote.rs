//! Fuzz target: the tracer's parsers (ICMP and ICMPv6 errors quoting a UDP,
//! TCP or echo probe; TCP answers of a destination, behind an IPv4 header
//! or bare as a raw IPv6 socket delivers them) must return a value or a
//! typed error for any bytes, under every family and framing; an accepted
//! ICMPv6 error about one of our probes held its whole quoted IPv6 header
//! and 8 transport bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::icmp::trace_wire::{self, QuotedTransport, TraceMessage};
use nocmap::icmp::wire::{Family, Framing};
use std::net::Ipv6Addr;

fuzz_target!(|data: &[u8]| {
    for (family, framing) in [
        (Family::V4, Framing::Ipv4Header),
        (Family::V4, Framing::Bare),
        (Family::V6, Framing::Bare),
    ] {
        if let Ok(TraceMessage::Error(quoted)) = trace_wire::parse_trace(family, framing, data) {
            // Whatever was accepted names a transport the matcher can read.
            match quoted.transport {
                QuotedTransport::Echo { .. }
                | QuotedTransport::Udp { .. }
                | QuotedTransport::Tcp { .. } => {
                    if family == Family::V6 {
                        assert!(data.len() >= 8 + 40 + 8, "a short quote accepted");
                        assert!(quoted.src.is_ipv6() && quoted.dst.is_ipv6());
                    }
                }
                QuotedTransport::Other { .. } => {}
            }
        }
    }
    let _ = trace_wire::parse_tcp_v4(data);
    if let Ok(seg) = trace_wire::parse_tcp_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED, data) {
        assert!(data.len() >= 20, "a short TCP header accepted");
        assert_eq!(u16::from_be_bytes([data[0], data[1]]), seg.src_port);
    }
});
