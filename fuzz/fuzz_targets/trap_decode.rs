//! Fuzz target: the trap receiver's decode path on arbitrary datagrams
//! (`nocmap::traps::decode`, then the inform's Response and the stored
//! event's rendering with the bundled MIBs). It must never panic; a decoded
//! notification keeps at most `MAX_VARBINDS` varbinds, an answer exists only
//! for an inform, and every stored value text stays bounded. Seed the corpus
//! with `snmptrap`/`snmpinform` captures (or run on an empty one).
#![no_main]
use libfuzzer_sys::fuzz_target;
use nocmap::traps::decode::{MAX_VARBINDS, TrapKind, decode, inform_response};
use nocmap::traps::event::{MAX_VALUE_BYTES, event_row};
use std::sync::OnceLock;

static MIBS: OnceLock<nocmap::mib::Mibs> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(n) = decode(data) else {
        return;
    };
    assert!(n.varbinds.len() <= MAX_VARBINDS);
    let ack = inform_response(data, &n);
    assert_eq!(ack.is_some(), n.kind == TrapKind::Inform);
    let mibs = MIBS.get_or_init(nocmap::mib::Mibs::bundled);
    let row = event_row(
        &n,
        "127.0.0.1".parse().unwrap(),
        None,
        mibs,
        nocmap::types::UnixMillis(0),
    );
    for vb in &row.varbinds {
        assert!(vb.value.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
    }
});
