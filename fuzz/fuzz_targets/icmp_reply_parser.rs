//! Fuzz target: the ICMP reply parser must return a value or a typed error
//! for any bytes, under every family and framing, and whatever it accepts
//! must be classifiable by the probe table without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::icmp::wire::{self, Family, Framing, Message, SessionToken};
use nocmap::icmp::{ProbeTable, WallNanos};

fuzz_target!(|data: &[u8]| {
    let mut table: ProbeTable<()> = ProbeTable::new(
        SessionToken(7),
        Some(0x1234),
        std::time::Duration::from_secs(1),
    );
    let src = "127.0.0.1".parse().expect("literal");
    let tag = table.register(src, WallNanos(0), ());
    let _ = table.register(src, WallNanos(0), ());
    table.expire(tag.probe, WallNanos(1));
    for (family, framing) in [
        (Family::V4, Framing::Ipv4Header),
        (Family::V4, Framing::Bare),
        (Family::V6, Framing::Bare),
    ] {
        match wire::parse(family, framing, data) {
            Ok(Message::EchoReply(echo)) => {
                let _ = table.on_reply(src, &echo, WallNanos(2));
            }
            Ok(Message::Error(quoted)) => {
                let _ = table.on_error(&quoted, WallNanos(2));
            }
            Ok(_) | Err(_) => {}
        }
    }
});
