//! Fuzz target: SNMP messages off the wire, through the async-snmp
//! `=0.18.1` decode path our engine's client runs on every datagram
//! (`Message::decode`, with the default and the strict `DecodeConfig`; the
//! v3 envelope `RawV3Message::decode`, its USM parameters, engine discovery
//! and report classification; DES and AES decryption of an encrypted scoped
//! PDU with fixed keys, then the scoped-PDU decode of the plaintext), then
//! everything of ours that interprets the varbinds a response carries:
//! `snmp::format` (net-snmp `-On` text), the walk rules
//! (`snmp::classify_step`: an accepted OID is inside the root and strictly
//! after the previous one; a non-increasing one is reported as such) for
//! both roots our walks use, and the discovery parsers
//! (`discovery::report_from_varbinds`). Also the DES epoch-file value
//! (`PersistedDesSaltState::new`) and the credential spellings
//! (`AuthProto`/`PrivProto`/`SecurityLevel::parse`). Nothing may panic.
#![no_main]
use async_snmp::ber::Decoder;
use async_snmp::message::{Message, RawMsgData, RawV3Message, ScopedPdu};
use async_snmp::v3::{
    PersistedDesSaltState, PrivKey, PrivProtocol, UsmSecurityParams, classify_report,
    parse_discovery_response,
};
use async_snmp::{DecodeConfig, Oid, VarBind};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nocmap::discovery::report_from_varbinds;
use nocmap::snmp::{AuthProto, PrivProto, SecurityLevel, WalkStep, classify_step, format_varbind};

fn walk(root: &Oid, vbs: &[VarBind]) {
    let mut last = root.clone();
    for vb in vbs {
        match classify_step(root, &last, vb) {
            WalkStep::Accept => {
                assert!(vb.oid.starts_with(root), "{} outside {root}", vb.oid);
                assert!(vb.oid.arcs() > last.arcs(), "{} not after {last}", vb.oid);
                last = vb.oid.clone();
            }
            WalkStep::NonIncreasing => {
                assert!(vb.oid.arcs() <= last.arcs(), "{} after {last}", vb.oid);
                return;
            }
            WalkStep::Done => return,
        }
    }
}

fn ours(vbs: &[VarBind]) {
    for vb in vbs {
        let line = format_varbind(vb);
        assert!(line.starts_with('.'));
    }
    for root in [&[1u32, 3][..], &[1, 0, 8802]] {
        walk(&Oid::from_slice(root), vbs);
    }
    let _ = report_from_varbinds(None, vbs);
}

fn keys() -> &'static [PrivKey] {
    static KEYS: std::sync::OnceLock<Vec<PrivKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        [PrivProtocol::Des, PrivProtocol::Aes128]
            .into_iter()
            .map(|p| PrivKey::from_bytes(p, vec![0x5a; 32]).expect("key"))
            .collect()
    })
}

fn scoped(plain: Bytes, config: DecodeConfig) {
    let mut d = Decoder::new(plain).with_decode_config(config);
    if let Ok(s) = ScopedPdu::decode(&mut d) {
        ours(s.pdu.varbinds());
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = (AuthProto::parse(text), PrivProto::parse(text));
        let _ = SecurityLevel::parse(text);
        if let Ok(boots) = text.trim().parse::<u32>() {
            let _ = PersistedDesSaltState::new(boots);
        }
    }
    let bytes = Bytes::copy_from_slice(data);
    for config in [DecodeConfig::DEFAULT, DecodeConfig::STRICT] {
        if let Ok(m) = Message::decode(bytes.clone(), config)
            && let Some(pdu) = m.value.pdu()
        {
            ours(pdu.varbinds());
            let _ = classify_report(pdu);
        }
        let Ok(raw) = RawV3Message::decode(bytes.clone(), config) else {
            continue;
        };
        let raw = raw.value;
        let _ = parse_discovery_response(raw.security_params());
        let usm = UsmSecurityParams::decode(raw.security_params().clone(), config);
        match (raw.msg_data(), usm) {
            (RawMsgData::Plaintext { data, .. }, _) => scoped(data.clone(), config),
            (RawMsgData::Encrypted(ct), Ok(usm)) => {
                let usm = usm.value;
                for key in keys() {
                    if let Ok(plain) =
                        key.decrypt(ct, usm.engine_boots(), usm.engine_time(), usm.priv_params())
                    {
                        scoped(plain, config);
                    }
                }
            }
            (RawMsgData::Encrypted(_), Err(_)) => {}
        }
    }
});
