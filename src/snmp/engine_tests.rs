//! Unit tests of the SNMP engine that need no agent: a panic in a request,
//! more varbinds than asked.
use super::*;
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

/// Runs `f` on a current-thread runtime with [`rejects::layer`] as this
/// thread's subscriber (spawned tasks run on the same thread, so they are
/// seen too).
fn with_reject_layer(f: impl std::future::Future<Output = ()>) {
    use tracing_subscriber::prelude::*;
    let subscriber = tracing_subscriber::registry().with(super::super::rejects::layer());
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    });
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

/// An agent whose answers come from an address that is not the one asked
/// (a stranger to the device): the library drops them, and they are put
/// back on the address asked, by request id, when its request times out
/// (real transport, real datagrams on loopback).
#[test]
fn answers_from_a_stranger_are_named_on_the_address_asked_and_in_discovery() {
    use super::super::Credential;
    use super::super::rejects;
    use crate::types::Secret;
    use async_snmp::message::CommunityMessage;
    use async_snmp::{DecodeConfig, Pdu, PduBody, StandardPduType};
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
        let opts = crate::discovery::crawl::CrawlOptions {
            seeds: vec![asked],
            prefixes: vec![],
            depth: 0,
            concurrency: 1,
            alive: vec![],
        };
        let r = crate::discovery::crawl::crawl(engine, Arc::new(creds.to_vec()), &opts, &|_, _| {})
            .await;
        assert_eq!(r.unreachable.len(), 1, "{:?}", r.unreachable);
        let reason = &r.unreachable[0].reason;
        assert!(reason.contains("no answer"), "{reason}");
        assert!(
            reason.contains("answers from another address (2 came from 127.0.0.82)"),
            "{reason}"
        );
    });
}
