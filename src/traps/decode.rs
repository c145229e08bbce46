//! One received trap datagram → a [`Notification`] value, or the reason it
//! is not one; and the Response an inform is acknowledged with. Pure: no
//! I/O, no clock; every byte comes from the network and is decoded by
//! async-snmp's message decoder (fuzzed, `fuzz/fuzz_targets/trap_decode.rs`),
//! never indexed here. SNMPv3 datagrams are recognised and handed back
//! ([`Refused::V3`]): their USM processing needs the receiver's users and
//! clocks (`usm.rs`), which then reads the scoped PDU with [`from_pdu`].
use async_snmp::message::{CommunityMessage, CommunityPdu, Message, RawV3Message};
use async_snmp::{
    DecodeConfig, OutboundErrorStatus, Pdu, PduType, ResponsePdu, Value, VarBind, Version,
};
use bytes::Bytes;
use std::net::Ipv4Addr;

/// Varbinds kept per notification (the rest are counted in `more`).
pub const MAX_VARBINDS: usize = 64;

/// sysUpTime.0 and snmpTrapOID.0, the two varbinds every SNMPv2 notification
/// starts with (RFC 3416 §4.2.6).
const SYS_UPTIME_0: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const SNMP_TRAP_OID_0: [u32; 11] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// SNMP version of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrapVersion {
    V1,
    V2c,
    V3,
}

impl TrapVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TrapVersion::V1 => "1",
            TrapVersion::V2c => "2c",
            TrapVersion::V3 => "3",
        }
    }
}

/// Unconfirmed trap or acknowledged inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrapKind {
    Trap,
    Inform,
}

impl TrapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Trap => "trap",
            TrapKind::Inform => "inform",
        }
    }
}

/// A decoded notification, before it is matched to a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub version: TrapVersion,
    pub kind: TrapKind,
    /// The community as sent (cleartext, unverified beyond the allowlist);
    /// for SNMPv3 the USM user name (authenticated by its keys).
    pub community: Vec<u8>,
    /// The request id (informs are answered with it).
    pub request_id: i32,
    /// snmpTrapOID.0, or for v1 its RFC 3584 translation.
    pub trap_oid: Vec<u32>,
    /// v1 only: the agent-addr field.
    pub agent_addr: Option<Ipv4Addr>,
    /// sysUpTime.0 (v2c) or time-stamp (v1), hundredths of a second.
    pub uptime: u32,
    /// The varbinds after sysUpTime.0 and snmpTrapOID.0, at most
    /// [`MAX_VARBINDS`].
    pub varbinds: Vec<VarBind>,
    /// Varbinds beyond [`MAX_VARBINDS`], not kept.
    pub more: usize,
    /// SNMPv3 only: the scoped PDU's contextEngineID (the engine whose
    /// context it speaks of; a proxy keeps the originator's).
    pub context_engine_id: Option<Vec<u8>>,
    /// SNMPv3 traps only: msgAuthoritativeEngineID, the sending engine's
    /// own id (an inform's is the receiver's, ours: not kept).
    pub sender_engine_id: Option<Vec<u8>>,
}

/// Why a datagram gave no notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a decodable SNMP message (random bytes, truncated BER, ...).
    Malformed(String),
    /// A well-formed SNMP message that is no notification (a GET, a Response).
    NotNotification,
    /// An SNMPv3 message: its USM processing is the receiver's (`usm.rs`).
    V3,
}

/// Decodes one datagram.
pub fn decode(datagram: &[u8]) -> Result<Notification, Refused> {
    let data = Bytes::copy_from_slice(datagram);
    let outcome = match Message::decode(data.clone(), DecodeConfig::default()) {
        Ok(o) => o,
        // An encrypted or otherwise v3-only envelope: USM decides.
        Err(_) if RawV3Message::decode(data, DecodeConfig::default()).is_ok() => {
            return Err(Refused::V3);
        }
        Err(e) => return Err(Refused::Malformed(e.to_string())),
    };
    let msg = match outcome.value {
        Message::V3(_) => return Err(Refused::V3),
        Message::Community(m) => m,
    };
    let version = match msg.version() {
        Version::V1 => TrapVersion::V1,
        Version::V2c => TrapVersion::V2c,
        _ => return Err(Refused::V3),
    };
    let (_, community, pdu) = msg.into_parts();
    let community = community.as_bytes().to_vec();
    match pdu {
        CommunityPdu::TrapV1(t) => {
            let trap_oid = t
                .v2_trap_oid()
                .map_err(|e| Refused::Malformed(format!("v1 trap: {e}")))?;
            let (varbinds, more) = keep(t.varbinds().iter());
            Ok(Notification {
                version,
                kind: TrapKind::Trap,
                community,
                request_id: 0,
                trap_oid: trap_oid.arcs().to_vec(),
                agent_addr: Some(Ipv4Addr::from(t.agent_addr())),
                uptime: t.time_stamp(),
                varbinds,
                more,
                context_engine_id: None,
                sender_engine_id: None,
            })
        }
        CommunityPdu::Standard(p) => {
            let kind = match p.pdu_type() {
                PduType::TrapV2 => TrapKind::Trap,
                PduType::InformRequest => TrapKind::Inform,
                _ => return Err(Refused::NotNotification),
            };
            if version == TrapVersion::V1 {
                return Err(Refused::Malformed(
                    "an SNMPv2 notification in an SNMPv1 message".into(),
                ));
            }
            let mut n = from_pdu(version, kind, &p)?;
            n.community = community;
            Ok(n)
        }
    }
}

/// An SNMPv2 notification PDU (v2c, or v3's scoped PDU once USM let it
/// through) → a [`Notification`] without a community.
pub fn from_pdu(version: TrapVersion, kind: TrapKind, p: &Pdu) -> Result<Notification, Refused> {
    let vbs = p.varbinds();
    let (uptime, trap_oid) = match vbs {
        [
            VarBind {
                oid: u,
                value: Value::TimeTicks(t),
            },
            VarBind {
                oid: o,
                value: Value::ObjectIdentifier(trap),
            },
            ..,
        ] if u.arcs() == SYS_UPTIME_0 && o.arcs() == SNMP_TRAP_OID_0 => (*t, trap.arcs().to_vec()),
        _ => {
            return Err(Refused::Malformed(
                "a notification must start with sysUpTime.0 and snmpTrapOID.0".into(),
            ));
        }
    };
    let (varbinds, more) = keep(vbs.iter().skip(2));
    Ok(Notification {
        version,
        kind,
        community: Vec::new(),
        request_id: p.request_id(),
        trap_oid,
        agent_addr: None,
        uptime,
        varbinds,
        more,
        context_engine_id: None,
        sender_engine_id: None,
    })
}

fn keep<'a>(vbs: impl ExactSizeIterator<Item = &'a VarBind>) -> (Vec<VarBind>, usize) {
    let n = vbs.len();
    let kept: Vec<VarBind> = vbs.take(MAX_VARBINDS).cloned().collect();
    let more = n - kept.len();
    (kept, more)
}

/// The Response acknowledging an inform (RFC 3416 §4.2.7: same request id,
/// the inform's varbinds); `None` for a trap. The varbinds are answered
/// from the datagram again, so a Response never exceeds what was received
/// plus a few bytes; one that will not encode is answered with none.
pub fn inform_response(datagram: &[u8], n: &Notification) -> Option<Vec<u8>> {
    if n.kind != TrapKind::Inform {
        return None;
    }
    let outcome =
        Message::decode(Bytes::copy_from_slice(datagram), DecodeConfig::default()).ok()?;
    let Message::Community(msg) = outcome.value else {
        return None;
    };
    let (_, community, pdu) = msg.into_parts();
    let CommunityPdu::Standard(p) = pdu else {
        return None;
    };
    let encode = |vbs: Vec<VarBind>| {
        let r = ResponsePdu::new(
            Version::V2c,
            p.request_id(),
            OutboundErrorStatus::NoError,
            None,
            vbs,
        )
        .ok()?;
        CommunityMessage::v2c(community.clone(), r)
            .ok()?
            .encode()
            .ok()
    };
    encode(p.varbinds().to_vec())
        .or_else(|| encode(Vec::new()))
        .map(|b| b.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::{GenericTrap, NotificationPdu, Oid, TrapV1Pdu};

    fn v2(kind: PduType) -> Vec<u8> {
        let vbs = vec![VarBind::new(
            Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 7]),
            Value::Integer(7),
        )];
        let link_down = Oid::from_slice(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
        let pdu = match kind {
            PduType::InformRequest => {
                NotificationPdu::inform(Version::V2c, 99, 42, &link_down, vbs)
            }
            _ => NotificationPdu::trap_v2(Version::V2c, 99, 42, &link_down, vbs),
        }
        .unwrap();
        CommunityMessage::v2c(&b"public"[..], pdu)
            .unwrap()
            .encode()
            .unwrap()
            .to_vec()
    }

    #[test]
    fn a_v2c_trap_and_an_inform_decode_with_their_oid_and_varbinds() {
        let n = decode(&v2(PduType::TrapV2)).unwrap();
        assert_eq!((n.version, n.kind), (TrapVersion::V2c, TrapKind::Trap));
        assert_eq!(n.trap_oid, [1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
        assert_eq!(n.uptime, 42);
        assert_eq!(n.varbinds.len(), 1);
        assert_eq!(n.community, b"public");
        assert!(inform_response(&v2(PduType::TrapV2), &n).is_none());
        let raw = v2(PduType::InformRequest);
        let i = decode(&raw).unwrap();
        assert_eq!(i.kind, TrapKind::Inform);
        let ack = inform_response(&raw, &i).unwrap();
        let Message::Community(m) = Message::decode(Bytes::from(ack), DecodeConfig::default())
            .unwrap()
            .value
        else {
            panic!("not a community message")
        };
        let p = m.pdu().standard().unwrap();
        assert_eq!((p.pdu_type(), p.request_id()), (PduType::Response, 99));
        assert_eq!(p.varbinds().len(), 3);
    }

    #[test]
    fn a_v1_link_down_becomes_the_v2_link_down_oid_with_its_agent_addr() {
        let t = TrapV1Pdu::from_raw_parts(
            Oid::from_slice(&[1, 3, 6, 1, 4, 1, 8072]),
            [10, 121, 0, 1],
            GenericTrap::LinkDown,
            0,
            5,
            vec![],
        );
        let raw = CommunityMessage::v1_trap(&b"public"[..], t)
            .unwrap()
            .encode()
            .unwrap();
        let n = decode(&raw).unwrap();
        assert_eq!(n.version, TrapVersion::V1);
        assert_eq!(n.trap_oid, [1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
        assert_eq!(n.agent_addr, Some(Ipv4Addr::new(10, 121, 0, 1)));
    }

    #[test]
    fn garbage_truncations_and_requests_are_refused_never_a_panic() {
        assert!(matches!(decode(b""), Err(Refused::Malformed(_))));
        assert!(matches!(decode(&[0xff; 40]), Err(Refused::Malformed(_))));
        let raw = v2(PduType::InformRequest);
        for cut in 0..raw.len() {
            assert!(decode(&raw[..cut]).is_err(), "cut at {cut}");
        }
        let mut x: u32 = 7;
        for _ in 0..2000 {
            let mut m = raw.clone();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let at = (x as usize >> 8) % m.len();
            m[at] = (x >> 20) as u8;
            if let Ok(n) = decode(&m) {
                let _ = inform_response(&m, &n);
            }
        }
    }
}
