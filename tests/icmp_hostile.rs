//! Hostile and odd replies against the real engine (the `nocmap` binary in a
//! namespace of its own), with a raw-socket accomplice thread in the same
//! namespace:
//! - a flood of garbage, truncated, bad-checksum, forged-error and
//!   wrong-token echo replies while a live target is pinged;
//! - a user-space responder (kernel echo replies switched off) that answers
//!   some probes twice and one too late, to check duplicate and late counts.
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::icmp::{
    Netns, engine_counters, need_root, raw_icmp4, recv_packet, reply_for, send_icmp4, stdout_json,
};

/// Garbage that reaches every raw ICMP socket of the namespace.
fn garbage(round: u64) -> Vec<Vec<u8>> {
    let mut bad_checksum = vec![0u8, 0, 0x12, 0x34, 0, 1, 0, 1];
    bad_checksum.extend_from_slice(b"NCMP not really a tag");
    let mut random_reply = vec![0u8; 64];
    let mut x = round.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for b in random_reply.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    random_reply[0] = 0;
    let sum = support::icmp::inet_checksum(&{
        let mut c = random_reply.clone();
        c[2] = 0;
        c[3] = 0;
        c
    });
    random_reply[2..4].copy_from_slice(&sum.to_be_bytes());
    // Destination unreachable whose quoted IP header claims IHL 15 with no bytes behind it.
    let mut unreach = vec![3u8, 1, 0, 0, 0, 0, 0, 0, 0x4f, 0, 0, 20];
    let sum = support::icmp::inet_checksum(&unreach);
    unreach[2..4].copy_from_slice(&sum.to_be_bytes());
    vec![
        vec![0],
        vec![0, 0, 0xff],
        vec![0, 0, 0xff, 0xff, 0, 0],
        bad_checksum,
        random_reply,
        unreach,
    ]
}

#[test]
fn flood_of_garbage_and_forged_replies_does_not_disturb_a_live_target() {
    if !need_root("flood_of_garbage_and_forged_replies_does_not_disturb_a_live_target") {
        return;
    }
    let ns = Arc::new(Netns::new("flood"));
    let stop = Arc::new(AtomicBool::new(false));
    let forged = Arc::new(AtomicU64::new(0));
    let accomplice = {
        let (ns, stop, forged) = (Arc::clone(&ns), Arc::clone(&stop), Arc::clone(&forged));
        std::thread::spawn(move || {
            ns.enter_current_thread();
            let sniff = raw_icmp4(Duration::from_millis(2));
            let send = raw_icmp4(Duration::from_millis(2));
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                for g in garbage(round) {
                    send_icmp4(&send, &g);
                }
                // Answer each request we see with a reply whose token is flipped.
                while let Some(packet) = recv_packet(&sniff) {
                    let wrong_token = reply_for(&packet, |r| {
                        if let Some(b) = r.get_mut(8 + 5) {
                            *b ^= 0x5a;
                        }
                    });
                    if let Some(reply) = wrong_token {
                        send_icmp4(&send, &reply);
                        forged.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let out = ns.nocmap(&[
        "ping",
        "-c",
        "20",
        "-i",
        "25",
        "-W",
        "500",
        "--json",
        "--engine-counters",
        "127.0.0.1",
    ]);
    stop.store(true, Ordering::Relaxed);
    accomplice.join().expect("accomplice thread");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no panic, target answered: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let row = &stdout_json(&out)[0];
    assert_eq!(row["sent"], 20, "{row}");
    assert_eq!(row["received"], 20, "forged replies must not count: {row}");
    assert_eq!(
        row["duplicates"], 0,
        "a wrong-token copy is not a duplicate: {row}"
    );
    assert!(row["rtt_max_ms"].as_f64().unwrap() < 100.0, "{row}");
    let c = engine_counters(&out);
    eprintln!("engine counters under flood: {c}");
    assert_eq!(c["received"], 20, "{c}");
    // The forgery for the last request may land after the process exits.
    let forged = forged.load(Ordering::Relaxed);
    assert!(forged >= 20, "accomplice forged {forged} replies");
    assert!(
        c["spoofed"].as_u64().unwrap() >= 19,
        "forged replies counted as spoofed: {c}"
    );
    assert!(
        c["malformed"].as_u64().unwrap() > 0,
        "garbage counted as malformed: {c}"
    );
}

#[test]
fn duplicate_and_late_replies_are_counted_as_such() {
    if !need_root("duplicate_and_late_replies_are_counted_as_such") {
        return;
    }
    let ns = Arc::new(Netns::new("dup"));
    // The kernel stays quiet; the accomplice is the host.
    ns.exec(&["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"]);
    let stop = Arc::new(AtomicBool::new(false));
    let responder = {
        let (ns, stop) = (Arc::clone(&ns), Arc::clone(&stop));
        std::thread::spawn(move || {
            ns.enter_current_thread();
            let sniff = raw_icmp4(Duration::from_millis(10));
            let send = raw_icmp4(Duration::from_millis(10));
            let mut delayed: Vec<(Instant, Vec<u8>)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                while let Some(packet) = recv_packet(&sniff) {
                    let seq = packet
                        .get(20 + 6..20 + 8)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]));
                    if let (Some(seq), Some(reply)) = (seq, reply_for(&packet, |_| {})) {
                        match seq {
                            // Probe 2 is answered after its 200 ms timeout.
                            2 => delayed.push((Instant::now() + Duration::from_millis(350), reply)),
                            // Probes 1 and 5 are answered twice.
                            1 | 5 => {
                                send_icmp4(&send, &reply);
                                send_icmp4(&send, &reply);
                            }
                            _ => send_icmp4(&send, &reply),
                        }
                    }
                }
                let now = Instant::now();
                delayed.retain(|(at, reply)| {
                    if *at <= now {
                        send_icmp4(&send, reply);
                        false
                    } else {
                        true
                    }
                });
            }
        })
    };
    let out = ns.nocmap(&[
        "ping",
        "-c",
        "8",
        "-i",
        "100",
        "-W",
        "200",
        "--json",
        "--engine-counters",
        "127.0.0.1",
    ]);
    stop.store(true, Ordering::Relaxed);
    responder.join().expect("responder thread");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let row = &stdout_json(&out)[0];
    assert_eq!(row["sent"], 8, "{row}");
    assert_eq!(row["received"], 7, "the late reply is not a reply: {row}");
    assert_eq!(row["duplicates"], 2, "{row}");
    assert_eq!(row["late"], 1, "{row}");
    assert_eq!(row["loss_pct"].as_f64(), Some(12.5), "{row}");
    let c = engine_counters(&out);
    assert_eq!(
        (
            c["received"].as_u64(),
            c["duplicates"].as_u64(),
            c["late"].as_u64()
        ),
        (Some(7), Some(2), Some(1)),
        "{c}"
    );
    assert_eq!(c["timeouts"], 1, "{c}");
}
