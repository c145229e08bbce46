//! Unit tests for probe matching and classification.
use super::*;
use crate::icmp::wire::{ProbeTag, TAG_LEN};
use std::time::Duration;

const TOKEN: SessionToken = SessionToken(0x5eed);
const IDENT: u16 = 0x0bad;

fn table() -> ProbeTable<u32> {
    ProbeTable::new(TOKEN, Some(IDENT), Duration::from_secs(5))
}

fn payload(tag: &ProbeTag) -> [u8; TAG_LEN] {
    let mut out = [0u8; TAG_LEN];
    tag.emit(&mut out);
    out
}

/// The echo reply our own probe `tag` would get back, carrying `payload`.
fn reply_to<'a>(tag: &ProbeTag, payload: &'a [u8]) -> Echo<'a> {
    Echo {
        ident: IDENT,
        seq: tag.probe.sequence(),
        payload,
    }
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn fresh_then_duplicate() {
    let mut t = table();
    let tag = t.register(addr("127.0.0.1"), WallNanos(1_000_000), 7);
    let p = payload(&tag);
    let echo = reply_to(&tag, &p);
    assert_eq!(
        t.on_reply(addr("127.0.0.1"), &echo, WallNanos(1_250_000)),
        Verdict::Fresh {
            sink: 7,
            probe: tag.probe,
            rtt: RttMicros(250)
        }
    );
    assert_eq!(
        t.on_reply(addr("127.0.0.1"), &echo, WallNanos(1_300_000)),
        Verdict::Duplicate {
            sink: 7,
            probe: tag.probe
        }
    );
    assert_eq!(t.pending(), 0);
}

#[test]
fn late_after_expiry_and_after_purge() {
    let mut t = table();
    let tag = t.register(addr("10.99.0.2"), WallNanos(0), 1);
    assert!(t.expire(tag.probe, WallNanos(10)));
    assert!(!t.expire(tag.probe, WallNanos(11)), "expires once");
    let p = payload(&tag);
    let echo = reply_to(&tag, &p);
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &echo, WallNanos(20)),
        Verdict::Late {
            sink: Some(1),
            probe: tag.probe
        }
    );
    t.purge(WallNanos(10 + 5_000_000_001));
    assert!(t.is_empty());
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &echo, WallNanos(6_000_000_000)),
        Verdict::Late {
            sink: None,
            probe: tag.probe
        }
    );
}

#[test]
fn wrong_token_source_or_sequence_is_spoofed() {
    let mut t = table();
    let tag = t.register(addr("10.99.0.2"), WallNanos(0), 1);
    let forged = ProbeTag {
        session: SessionToken(1),
        probe: tag.probe,
    };
    let p = payload(&forged);
    let echo = reply_to(&tag, &p);
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &echo, WallNanos(5)),
        Verdict::Spoofed
    );
    let good = payload(&tag);
    let wrong_src = reply_to(&tag, &good);
    assert_eq!(
        t.on_reply(addr("10.99.0.3"), &wrong_src, WallNanos(5)),
        Verdict::Spoofed
    );
    let wrong_seq = Echo {
        seq: tag.probe.sequence().wrapping_add(1),
        ..reply_to(&tag, &good)
    };
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &wrong_seq, WallNanos(5)),
        Verdict::Spoofed
    );
    let no_tag = Echo {
        ident: IDENT,
        seq: 0,
        payload: &[1, 2, 3],
    };
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &no_tag, WallNanos(5)),
        Verdict::Spoofed
    );
    assert_eq!(t.pending(), 1, "the real probe is still waiting");
}

#[test]
fn other_identifier_is_foreign_unless_token_matches() {
    let mut t = table();
    let tag = t.register(addr("10.99.0.2"), WallNanos(0), 1);
    let p = payload(&tag);
    let mut echo = Echo {
        ident: IDENT ^ 1,
        seq: tag.probe.sequence(),
        payload: &[0u8; 4],
    };
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &echo, WallNanos(5)),
        Verdict::Foreign
    );
    echo.payload = &p;
    assert_eq!(
        t.on_reply(addr("10.99.0.2"), &echo, WallNanos(5)),
        Verdict::Spoofed
    );
}

#[test]
fn dgram_mode_ignores_identifier() {
    let mut t: ProbeTable<u8> = ProbeTable::new(TOKEN, None, Duration::from_secs(1));
    let tag = t.register(addr("::1"), WallNanos(0), 3);
    let p = payload(&tag);
    let echo = Echo {
        ident: 4711,
        ..reply_to(&tag, &p)
    };
    assert!(matches!(
        t.on_reply(addr("::1"), &echo, WallNanos(9)),
        Verdict::Fresh { sink: 3, .. }
    ));
}

#[test]
fn error_without_tag_matches_by_sequence_and_destination() {
    let mut t = table();
    for _ in 0..70_000 {
        let tag = t.register(addr("10.99.0.9"), WallNanos(0), 0);
        t.expire(tag.probe, WallNanos(0));
    }
    let tag = t.register(addr("10.99.0.2"), WallNanos(0), 5);
    let mut err = QuotedError {
        kind: ErrorKind::DestinationUnreachable(1),
        original_dst: addr("10.99.0.2"),
        original_ident: IDENT,
        original_seq: tag.probe.sequence(),
        original_tag: None,
    };
    assert_eq!(
        t.on_error(&err, WallNanos(3)),
        Verdict::Error {
            sink: 5,
            probe: tag.probe,
            kind: ErrorKind::DestinationUnreachable(1)
        }
    );
    err.original_dst = addr("10.99.0.3");
    assert_eq!(t.on_error(&err, WallNanos(3)), Verdict::Foreign);
}

#[test]
fn rtt_never_negative() {
    assert_eq!(WallNanos(5).micros_since(WallNanos(9_000)), RttMicros(0));
}

#[test]
fn purge_keeps_pending_probes_until_they_are_abandoned() {
    let mut t = table();
    t.register(addr("10.99.0.2"), WallNanos(0), 1);
    t.purge(WallNanos(60_000_000_000));
    assert_eq!(t.pending(), 1);
    t.purge(WallNanos(601_000_000_000));
    assert!(t.is_empty());
}
