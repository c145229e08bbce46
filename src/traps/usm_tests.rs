//! `usm.rs` against messages built with async-snmp's own primitives: the
//! accepted levels, each refusal with its Report, the inform's Response
//! read back with the user's keys, replays, and no panic on mutations.
use super::*;
use async_snmp::{AuthProtocol, NotificationPdu, Pdu};

const AUTH: &str = "auth-pass-1";
const PRIV: &str = "priv-pass-1";
const SENDER: &[u8] = b"\x80\x00\x1f\x88\x04sender-1";

fn master(auth: &str, privacy: Option<&str>) -> MasterKeys {
    let k = MasterKeys::new(AuthProtocol::Sha1, auth.as_bytes()).unwrap();
    match privacy {
        Some(p) => k.with_privacy(PrivProtocol::Aes128, p.as_bytes()).unwrap(),
        None => k,
    }
}

fn usm() -> Usm {
    let engine = LocalEngine {
        id: b"\x80\x00\x00\x00\x05nocmap-rx".to_vec(),
        boots: 3,
        started: Instant::now(),
    };
    Usm::new(
        engine,
        vec![
            UsmUser {
                name: b"secret".to_vec(),
                min_level: SecurityLevel::AuthPriv,
                keys: Some(master(AUTH, Some(PRIV))),
            },
            UsmUser {
                name: b"signed".to_vec(),
                min_level: SecurityLevel::AuthNoPriv,
                keys: Some(master(AUTH, None)),
            },
        ],
    )
}

fn pdu(inform: bool) -> Pdu {
    let link_down = Oid::from_slice(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
    let vbs = vec![VarBind::new(
        Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 7]),
        Value::Integer(7),
    )];
    let p = if inform {
        NotificationPdu::inform(Version::V3, 55, 42, &link_down, vbs)
    } else {
        NotificationPdu::trap_v2(Version::V3, 55, 42, &link_down, vbs)
    };
    p.unwrap().into()
}

#[allow(clippy::too_many_arguments)]
fn message(
    level: SecurityLevel,
    engine: &[u8],
    (boots, time): (u32, u32),
    user: &str,
    (auth, privacy): (&str, Option<&str>),
    inform: bool,
) -> Vec<u8> {
    let (a, p) = master(auth, privacy).localize(engine).unwrap();
    let keys = Keys {
        auth: a,
        privacy: p,
    };
    let head = Head {
        msg_id: 9,
        level,
        reportable: inform,
        engine_id: engine,
        boots,
        time,
        user: Bytes::copy_from_slice(user.as_bytes()),
    };
    let scoped = ScopedPdu::new(Bytes::copy_from_slice(engine), Bytes::new(), pdu(inform));
    let salt = SaltCounter::new().unwrap();
    encode(&head, scoped, Some(&keys), (Some(&salt), None)).unwrap()
}

fn trap(level: SecurityLevel, user: &str, auth: &str) -> Vec<u8> {
    message(level, SENDER, (5, 100), user, (auth, Some(PRIV)), false)
}

fn refused(u: &mut Usm, m: &[u8]) -> Refusal {
    u.process(m, Instant::now()).unwrap_err()
}

#[test]
fn auth_priv_and_auth_no_priv_traps_from_any_engine_id_become_notifications() {
    let mut u = usm();
    let a = u
        .process(
            &trap(SecurityLevel::AuthPriv, "secret", AUTH),
            Instant::now(),
        )
        .unwrap();
    let n = a.notification;
    assert_eq!((n.version, n.kind), (TrapVersion::V3, TrapKind::Trap));
    assert_eq!(n.trap_oid, [1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
    assert_eq!((n.uptime, n.varbinds.len()), (42, 1));
    assert_eq!(n.community, b"secret");
    assert!(a.response.is_none());
    // A trap's engine ids, for attributing it to its device.
    assert_eq!(n.sender_engine_id.as_deref(), Some(SENDER));
    assert_eq!(n.context_engine_id.as_deref(), Some(SENDER));
    let other = b"\x80\x00\x1f\x88\x04sender-2";
    let m = message(
        SecurityLevel::AuthNoPriv,
        other,
        (1, 9),
        "signed",
        (AUTH, None),
        false,
    );
    assert!(u.process(&m, Instant::now()).is_ok());
    // Below the user's level: refused even with the right keys.
    let low = trap(SecurityLevel::AuthNoPriv, "secret", AUTH);
    assert_eq!(refused(&mut u, &low).why, UsmRefusal::UnsupportedSecLevel);
}

#[test]
fn a_wrong_passphrase_an_unknown_user_and_a_bad_engine_id_are_refused() {
    let mut u = usm();
    let wrong = trap(SecurityLevel::AuthPriv, "secret", "not-the-pass");
    let r = refused(&mut u, &wrong);
    assert_eq!(r.why, UsmRefusal::WrongDigest);
    assert!(r.report.is_none(), "a trap is not reportable");
    let m = trap(SecurityLevel::AuthPriv, "nobody", AUTH);
    assert_eq!(refused(&mut u, &m).why, UsmRefusal::UnknownUser);
    // A flipped ciphertext byte fails the HMAC first.
    let mut m = trap(SecurityLevel::AuthPriv, "secret", AUTH);
    let last = m.len() - 1;
    m[last] ^= 1;
    assert_eq!(refused(&mut u, &m).why, UsmRefusal::WrongDigest);
    // An inform sent to another engine than ours.
    let m = message(
        SecurityLevel::AuthPriv,
        SENDER,
        (5, 100),
        "secret",
        (AUTH, Some(PRIV)),
        true,
    );
    assert_eq!(refused(&mut u, &m).why, UsmRefusal::UnknownEngineId);
}

#[test]
fn discovery_is_answered_with_our_engine_id_boots_and_time() {
    let mut u = usm();
    let probe = V3Message::discovery_request(4, max_size())
        .unwrap()
        .encode()
        .unwrap();
    let r = refused(&mut u, &probe);
    assert_eq!(r.why, UsmRefusal::Discovery);
    let report = r.report.unwrap();
    // Little to reflect at a spoofed source.
    assert!(
        report.len() < 2 * probe.len(),
        "{} vs {}",
        report.len(),
        probe.len()
    );
    let report = RawV3Message::decode(Bytes::from(report), DecodeConfig::default())
        .unwrap()
        .value;
    let params =
        UsmSecurityParams::decode(report.security_params().clone(), DecodeConfig::default())
            .unwrap()
            .value;
    assert_eq!(params.engine_id().as_ref(), u.engine().id.as_slice());
    assert_eq!(params.engine_boots(), 3);
    assert_eq!(report.global_data().msg_id(), 4);
}

#[test]
fn an_inform_to_our_engine_is_answered_with_an_encrypted_signed_response() {
    let mut u = usm();
    let ours = u.engine().id.clone();
    let m = message(
        SecurityLevel::AuthPriv,
        &ours,
        (3, 1),
        "secret",
        (AUTH, Some(PRIV)),
        true,
    );
    let a = u.process(&m, Instant::now()).unwrap();
    assert_eq!(a.notification.kind, TrapKind::Inform);
    // An inform's authoritative engine is ours: it names no sender.
    assert_eq!(a.notification.sender_engine_id, None);
    let resp = a.response.unwrap();
    let (auth, privacy) = master(AUTH, Some(PRIV)).localize(&ours).unwrap();
    let (at, len) = UsmSecurityParams::find_auth_params_offset(&resp).unwrap();
    assert!(verify_message(&auth, &resp, at, len).unwrap());
    let raw = RawV3Message::decode(Bytes::from(resp), DecodeConfig::default())
        .unwrap()
        .value;
    let params = UsmSecurityParams::decode(raw.security_params().clone(), DecodeConfig::default())
        .unwrap()
        .value;
    let RawMsgData::Encrypted(ct) = raw.msg_data() else {
        panic!("a plaintext response to an authPriv inform")
    };
    let plain = privacy
        .unwrap()
        .decrypt(
            ct,
            params.engine_boots(),
            params.engine_time(),
            params.priv_params(),
        )
        .unwrap();
    let scoped = ScopedPdu::decode(&mut Decoder::new(plain)).unwrap();
    assert_eq!(scoped.pdu.pdu_type(), PduType::Response);
    assert_eq!(scoped.pdu.request_id(), 55);
    assert_eq!(scoped.pdu.varbinds().len(), 3);
}

#[test]
fn an_inform_out_of_our_time_window_gets_a_signed_report_and_replays_are_refused() {
    let mut u = usm();
    let ours = u.engine().id.clone();
    let m = message(
        SecurityLevel::AuthPriv,
        &ours,
        (0, 0),
        "secret",
        (AUTH, Some(PRIV)),
        true,
    );
    let r = refused(&mut u, &m);
    assert_eq!(r.why, UsmRefusal::NotInTimeWindow);
    let report = r.report.unwrap();
    let (auth, _) = master(AUTH, None).localize(&ours).unwrap();
    let (at, len) = UsmSecurityParams::find_auth_params_offset(&report).unwrap();
    assert!(verify_message(&auth, &report, at, len).unwrap());
    // A sender's engine: boots 5 seen, then a message of boots 4.
    assert!(
        u.process(
            &trap(SecurityLevel::AuthPriv, "secret", AUTH),
            Instant::now()
        )
        .is_ok()
    );
    let old = message(
        SecurityLevel::AuthPriv,
        SENDER,
        (4, 100),
        "secret",
        (AUTH, Some(PRIV)),
        false,
    );
    assert_eq!(refused(&mut u, &old).why, UsmRefusal::NotInTimeWindow);
    // ... and one 200 s behind the engine's clock.
    let late = message(
        SecurityLevel::AuthPriv,
        SENDER,
        (5, 1_000),
        "secret",
        (AUTH, Some(PRIV)),
        false,
    );
    assert!(u.process(&late, Instant::now()).is_ok());
    let behind = message(
        SecurityLevel::AuthPriv,
        SENDER,
        (5, 800),
        "secret",
        (AUTH, Some(PRIV)),
        false,
    );
    assert_eq!(refused(&mut u, &behind).why, UsmRefusal::NotInTimeWindow);
}

#[test]
fn truncations_and_mutations_are_refused_never_a_panic() {
    let mut u = usm();
    let ours = u.engine().id.clone();
    let inform = message(
        SecurityLevel::AuthPriv,
        &ours,
        (3, 1),
        "secret",
        (AUTH, Some(PRIV)),
        true,
    );
    for m in [trap(SecurityLevel::AuthPriv, "secret", AUTH), inform] {
        for cut in 0..m.len() {
            assert!(u.process(&m[..cut], Instant::now()).is_err(), "cut {cut}");
        }
        let mut x: u32 = 11;
        for _ in 0..2_000 {
            let mut b = m.clone();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let at = (x as usize >> 8) % b.len();
            b[at] = (x >> 20) as u8;
            let _ = u.process(&b, Instant::now());
        }
    }
}
