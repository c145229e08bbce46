//! Fuzz target: the trap receiver's decode path on arbitrary datagrams
//! (`nocmap::traps::decode`, then the inform's Response and the stored
//! event's device attribution and rendering with the bundled MIBs). It must never panic; a decoded
//! notification keeps at most `MAX_VARBINDS` varbinds, an answer exists only
//! for an inform, and every stored value text stays bounded. A datagram
//! refused as SNMPv3 goes through the receiver's USM processing
//! (`nocmap::traps::usm`) with an authPriv user and a noAuthNoPriv one, so
//! the scoped PDU and the inform's Response are reached without a key.
//! Seed the corpus with `snmptrap`/`snmpinform` captures (or run on an
//! empty one).
#![no_main]
use libfuzzer_sys::fuzz_target;
use async_snmp::message::SecurityLevel;
use async_snmp::{AuthProtocol, MasterKeys, PrivProtocol};
use nocmap::traps::attribute::attribute;
use nocmap::traps::decode::{MAX_VARBINDS, Refused, TrapKind, decode, inform_response};
use nocmap::traps::event::{MAX_VALUE_BYTES, event_row};
use nocmap::traps::usm::{LocalEngine, Usm, UsmUser};
use std::sync::{Mutex, OnceLock};

static MIBS: OnceLock<nocmap::mib::Mibs> = OnceLock::new();
static TOPOLOGY: OnceLock<nocmap::topology::Topology> = OnceLock::new();
static USM: OnceLock<Mutex<Usm>> = OnceLock::new();

fn usm() -> &'static Mutex<Usm> {
    USM.get_or_init(|| {
        let keys = MasterKeys::new(AuthProtocol::Sha1, b"fuzz-auth-1")
            .and_then(|k| k.with_privacy(PrivProtocol::Aes128, b"fuzz-priv-1"))
            .unwrap();
        let engine = LocalEngine {
            id: b"\x80\x00\x00\x00\x05fuzz".to_vec(),
            boots: 1,
            started: std::time::Instant::now(),
        };
        Mutex::new(Usm::new(
            engine,
            vec![
                UsmUser {
                    name: b"secret".to_vec(),
                    min_level: SecurityLevel::AuthPriv,
                    keys: Some(keys),
                },
                UsmUser {
                    name: b"open".to_vec(),
                    min_level: SecurityLevel::NoAuthNoPriv,
                    keys: None,
                },
            ],
        ))
    })
}

/// One device with an address and an engine id the datagrams may name.
fn topology() -> &'static nocmap::topology::Topology {
    TOPOLOGY.get_or_init(|| {
        serde_json::from_str(
            r#"{"devices": [{"id": "r1", "mgmt_addr": "127.0.0.11",
                "engine_id": "80001f8804", "interfaces": []}], "links": []}"#,
        )
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let n = match decode(data) {
        Ok(n) => n,
        Err(Refused::V3) => {
            let mut usm = usm().lock().unwrap();
            if let Ok(a) = usm.process(data, std::time::Instant::now()) {
                assert!(a.notification.varbinds.len() <= MAX_VARBINDS);
                assert!(a.response.is_none() || a.notification.kind == TrapKind::Inform);
                let _ = attribute(topology(), "127.0.0.1".parse().unwrap(), &a.notification);
            }
            return;
        }
        Err(_) => return,
    };
    assert!(n.varbinds.len() <= MAX_VARBINDS);
    let ack = inform_response(data, &n);
    assert_eq!(ack.is_some(), n.kind == TrapKind::Inform);
    let mibs = MIBS.get_or_init(nocmap::mib::Mibs::bundled);
    // The device attribution reads the varbinds (snmpTrapAddress.0) too.
    let source = "127.0.0.1".parse().unwrap();
    let matched = attribute(topology(), source, &n);
    let row = event_row(
        &n,
        source,
        matched,
        mibs,
        nocmap::types::UnixMillis(0),
    );
    for vb in &row.varbinds {
        assert!(vb.value.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
    }
});
