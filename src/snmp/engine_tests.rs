//! Unit tests of the SNMP engine that need no agent: a panic in a request,
//! more varbinds than asked.
use super::*;
use crate::snmp::rejects::with_reject_layer;
use crate::snmp::session::check_count;

fn target() -> SocketAddr {
    "192.0.2.1:161".parse().unwrap()
}

#[tokio::test]
async fn a_panic_in_a_request_is_this_agents_error() {
    let r = contained(target(), async {
        if target().port() == 161 {
            panic!("decoder bug");
        }
        1
    })
    .await;
    match r {
        Err(SnmpError::Protocol { target: t, detail }) => {
            assert_eq!(t, target());
            assert!(detail.contains("panicked"), "{detail}");
            assert!(
                !detail.contains("decoder bug"),
                "the panic text is not passed on"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(contained(target(), async { 7 }).await.unwrap(), 7);
}

#[test]
fn more_varbinds_than_asked_is_refused() {
    assert!(check_count(target(), 25, 25).is_ok());
    assert!(check_count(target(), 25, 3).is_ok());
    let e = check_count(target(), 3, 612).unwrap_err();
    assert!(
        e.to_string()
            .contains("oversized response: 612 varbinds for 3 asked"),
        "{e}"
    );
}

/// The datagrams the library drops are counted per sender through the
/// tracing layer (real transport, real datagrams on loopback).
#[test]
fn dropped_datagrams_are_counted_per_sender() {
    use super::super::rejects;
    use async_snmp::message::CommunityMessage;
    use async_snmp::{Pdu, PduBody, StandardPduType};
    with_reject_layer(async {
        let engine = SnmpEngine::new(SnmpSettings::default()).await.unwrap();
        let port = lock(&engine.v4).transport.local_addr().port();
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        let from: IpAddr = "127.0.0.77".parse().unwrap();
        let sock = tokio::net::UdpSocket::bind((from, 0)).await.unwrap();
        assert_eq!(rejects::counts(from), rejects::RejectCounts::default());
        sock.send_to(&[0xde, 0xad, 0xbe, 0xef], to).await.unwrap();
        let pdu = Pdu::from_raw_parts(
            424_242,
            PduBody::Standard {
                pdu_type: StandardPduType::Response,
                error_status: 0,
                error_index: 0,
            },
            vec![],
        );
        let answer = CommunityMessage::v2c(b"public".to_vec(), pdu)
            .unwrap()
            .encode()
            .unwrap();
        sock.send_to(&answer, to).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while rejects::counts(from).total() < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = rejects::counts(from);
        assert_eq!((c.malformed, c.unmatched), (1, 1), "{c:?}");
        assert_eq!(
            rejects::counts("127.0.0.78".parse().unwrap()).total(),
            0,
            "counted against its sender only"
        );
    });
}
