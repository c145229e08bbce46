//! The wire side of the hand-rolled SNMP agents (`agents`, and the broken
//! agents of `snmp_hostile_agents` and `discovery_hostile`): a v1/v2c
//! request decoded into its parts, and a Response PDU encoded for a
//! community. What each agent answers (and how it misbehaves) stays its own.
use async_snmp::message::CommunityMessage;
use async_snmp::{DecodeConfig, Oid, Pdu, PduBody, StandardPduType, VarBind};

pub fn oid(arcs: &[u32]) -> Oid {
    Oid::from_slice(arcs)
}

/// A community request as an agent receives it.
pub struct Request {
    pub community: Vec<u8>,
    pub rid: i32,
    pub body: PduBody,
    pub vbs: Vec<VarBind>,
}

impl Request {
    /// `None` for anything that is not a community message with a PDU.
    pub fn decode(datagram: &[u8]) -> Option<Request> {
        let msg = CommunityMessage::decode(
            bytes::Bytes::copy_from_slice(datagram),
            DecodeConfig::default(),
        )
        .ok()?
        .value;
        let community = msg.community().as_bytes().to_vec();
        let (rid, body, vbs) = msg.into_pdu()?.into_raw_parts();
        Some(Request {
            community,
            rid,
            body,
            vbs,
        })
    }

    pub fn is_get(&self) -> bool {
        matches!(
            self.body,
            PduBody::Standard {
                pdu_type: StandardPduType::GetRequest,
                ..
            }
        )
    }
}

/// A v2c Response PDU (no error) with `vbs`, encoded; `None` if it cannot
/// be encoded.
pub fn response(community: &[u8], rid: i32, vbs: Vec<VarBind>) -> Option<Vec<u8>> {
    let pdu = Pdu::from_raw_parts(
        rid,
        PduBody::Standard {
            pdu_type: StandardPduType::Response,
            error_status: 0,
            error_index: 0,
        },
        vbs,
    );
    CommunityMessage::v2c(community.to_vec(), pdu)
        .and_then(|m| m.encode())
        .ok()
        .map(|b| b.to_vec())
}
