//! Discovery over the real SNMP transport when an agent's answers come from
//! another address: the agent is named unreachable with the stranger's
//! answers in its reason.
/// An agent whose answers come from an address that is not the one asked
/// (a stranger to the device): the library drops them, and they are put
/// back on the address asked, by request id, when its request times out
/// (real transport, real datagrams on loopback).
#[test]
fn answers_from_a_stranger_are_named_on_the_address_asked_and_in_discovery() {
    use crate::snmp::rejects::{self, with_reject_layer};
    use crate::snmp::{Credential, SnmpEngine, SnmpSettings};
    use crate::types::Secret;
    use async_snmp::message::CommunityMessage;
    use async_snmp::{DecodeConfig, Pdu, PduBody, StandardPduType};
    use std::net::IpAddr;
    use std::sync::Arc;
    use std::time::Duration;
    let asked: IpAddr = "127.0.0.81".parse().unwrap();
    let stranger: IpAddr = "127.0.0.82".parse().unwrap();
    with_reject_layer(async {
        let agent = tokio::net::UdpSocket::bind((asked, 0)).await.unwrap();
        let port = agent.local_addr().unwrap().port();
        let from = tokio::net::UdpSocket::bind((stranger, 0)).await.unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65535];
            while let Ok((n, peer)) = agent.recv_from(&mut buf).await {
                let Ok(msg) = CommunityMessage::decode(
                    bytes::Bytes::copy_from_slice(&buf[..n]),
                    DecodeConfig::default(),
                ) else {
                    continue;
                };
                let Some(pdu) = msg.value.into_pdu() else {
                    continue;
                };
                let (rid, _, varbinds) = pdu.into_raw_parts();
                let reply = Pdu::from_raw_parts(
                    rid,
                    PduBody::Standard {
                        pdu_type: StandardPduType::Response,
                        error_status: 0,
                        error_index: 0,
                    },
                    varbinds,
                );
                let bytes = CommunityMessage::v2c(b"public".to_vec(), reply)
                    .unwrap()
                    .encode()
                    .unwrap();
                let _ = from.send_to(&bytes, peer).await;
            }
        });
        let engine = SnmpEngine::new(SnmpSettings {
            timeout: Duration::from_millis(300),
            retries: 1,
            port,
            ..SnmpSettings::default()
        })
        .await
        .unwrap();
        let creds = [Credential::V2c {
            name: "t".into(),
            community: Secret::new("public"),
        }];
        assert!(rejects::from_elsewhere(asked).is_empty());
        let e = match engine.open(asked, &creds).await {
            Err(e) => e,
            Ok(_) => panic!("an answer from a stranger was taken"),
        };
        assert!(e.is_timeout(), "{e}");
        // Both attempts were answered, from the stranger.
        assert_eq!(rejects::from_elsewhere(asked), vec![(stranger, 2)]);
        assert!(rejects::from_elsewhere(stranger).is_empty());
        // Discovery names it with the agent it could not read.
        let opts = super::crawl::CrawlOptions {
            seeds: vec![asked],
            prefixes: vec![],
            depth: 0,
            concurrency: 1,
            alive: vec![],
        };
        let r = super::crawl::crawl(engine, Arc::new(creds.to_vec()), &opts, &|_, _| {}).await;
        assert_eq!(r.unreachable.len(), 1, "{:?}", r.unreachable);
        let reason = &r.unreachable[0].reason;
        assert!(reason.contains("no answer"), "{reason}");
        assert!(
            reason.contains("answers from another address (2 came from 127.0.0.82)"),
            "{reason}"
        );
    });
}
