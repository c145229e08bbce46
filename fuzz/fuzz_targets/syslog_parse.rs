//! Fuzz target: the syslog receiver's pure path on arbitrary bytes — the
//! stream deframer (fed in two chunks split where the first byte says) and
//! the message parser on each frame and on the whole input as a datagram.
//! It must never panic; frames and every parsed field stay bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::syslog::parse::{MAX_FIELD_BYTES, MAX_MESSAGE_BYTES, MAX_SD_BYTES};
use nocmap::syslog::{Deframer, MAX_FRAME_BYTES, parse};
use nocmap::types::UnixMillis;

fn check(bytes: &[u8]) {
    if let Ok(m) = parse(bytes, UnixMillis(1_765_000_000_000)) {
        assert!(m.message.len() <= MAX_MESSAGE_BYTES);
        for f in [&m.host, &m.app, &m.procid, &m.msgid].into_iter().flatten() {
            assert!(f.len() <= MAX_FIELD_BYTES);
        }
        assert!(m.structured_data.as_ref().is_none_or(|s| s.len() <= MAX_SD_BYTES));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut d = Deframer::new();
    for chunk in [&data[..cut], &data[cut..]] {
        d.push(chunk);
        while let Some(f) = d.next_frame() {
            match f {
                Ok(f) => {
                    assert!(f.len() <= MAX_FRAME_BYTES);
                    check(&f);
                }
                Err(_) => return,
            }
        }
    }
    if let Some(f) = d.finish() {
        check(&f);
    }
});
