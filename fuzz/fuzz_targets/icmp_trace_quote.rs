//! Fuzz target: the tracer's parsers (ICMP errors quoting a UDP, TCP or
//! echo probe; TCP answers of a destination) must return a value or a typed
//! error for any bytes, under every family and framing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::icmp::trace_wire::{self, QuotedTransport, TraceMessage};
use nocmap::icmp::wire::{Family, Framing};

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
                | QuotedTransport::Tcp { .. }
                | QuotedTransport::Other { .. } => {}
            }
        }
    }
    let _ = trace_wire::parse_tcp_v4(data);
});
