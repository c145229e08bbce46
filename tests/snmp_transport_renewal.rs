//! The shared SNMP socket stopping under the engine (what a panic in the
//! library's receive task or a fatal socket error leaves behind: every
//! request answers "closed"), against a real snmpd over v2c and v3. Open
//! sessions, new sessions and walks carry on over one new socket, bound once
//! however many requests notice, and the datagram totals never go back.
#[macro_use]
mod support;
use nocmap::snmp::{
    AuthProto, Credential, Oid, PrivProto, SecurityLevel, SnmpEngine, SnmpSettings, WalkEnd,
};
use nocmap::types::Secret;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use support::netns::Netns;

fn creds() -> (Vec<Credential>, Vec<Credential>) {
    let v2c = vec![Credential::V2c {
        name: "lab-v2c".into(),
        community: Secret::new("public"),
    }];
    let v3 = vec![Credential::V3 {
        name: "lab-v3".into(),
        user: "nocadmin".into(),
        level: SecurityLevel::AuthPriv,
        auth: Some((AuthProto::Sha256, Secret::new("authpass123"))),
        privacy: Some((PrivProto::Aes128, Secret::new("privpass123"))),
    }];
    (v2c, v3)
}

#[test]
fn a_closed_shared_socket_is_replaced_once_and_polling_goes_on() {
    require_root!();
    let ns = Netns::new("nmsnmp-renew");
    ns.add_veths(2);
    ns.start_snmpd("renewbox");
    let state = ns.dir.join("state");
    ns.run_inside(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let settings = SnmpSettings {
                timeout: Duration::from_millis(500),
                retries: 1,
                state_dir: state,
                ..Default::default()
            };
            let engine = SnmpEngine::new(settings).await.unwrap();
            let agent = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let (v2c, v3) = creds();
            let sys_name = Oid::from_slice(&[1, 3, 6, 1, 2, 1, 1, 5, 0]);
            let if_descr = Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2]);

            let a = engine.open(agent, &v2c).await.unwrap();
            let b = engine.open(agent, &v3).await.unwrap();
            let before = a.walk(&if_descr).await.unwrap();
            assert_eq!(before.end, WalkEnd::Complete);
            assert!(before.varbinds.len() >= 2, "{}", before.varbinds.len());
            b.get(std::slice::from_ref(&sys_name)).await.unwrap();
            let counted = engine.datagram_stats().correlated;
            assert!(counted >= 1, "{counted}");
            assert_eq!(engine.transport_renewals(), 0);

            engine.fault_close_transports().await;

            // Many requests notice at once: one new socket for all of them.
            let gets = (0..16).map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                let oid = sys_name.clone();
                async move { s.get(std::slice::from_ref(&oid)).await }
            });
            for r in futures::future::join_all(gets).await {
                let vbs = r.expect("a request after the socket closed");
                assert_eq!(vbs.len(), 1);
                assert!(vbs[0].value.to_string().contains("renewbox"), "{vbs:?}");
            }
            assert_eq!(engine.transport_renewals(), 1);

            // The open sessions walk on the new socket, and new ones open.
            let after = a.walk(&if_descr).await.unwrap();
            assert_eq!(after.end, WalkEnd::Complete);
            assert_eq!(
                after
                    .varbinds
                    .iter()
                    .map(|v| v.oid.to_string())
                    .collect::<Vec<_>>(),
                before
                    .varbinds
                    .iter()
                    .map(|v| v.oid.to_string())
                    .collect::<Vec<_>>()
            );
            drop((before, after));
            let c = engine.open(agent, &v3).await.unwrap();
            c.get(std::slice::from_ref(&sys_name)).await.unwrap();
            assert_eq!(c.credential(), "lab-v3");

            // A second failure is noticed and mended the same way.
            engine.fault_close_transports().await;
            let fresh = engine.open(agent, &v2c).await.unwrap();
            fresh.get(std::slice::from_ref(&sys_name)).await.unwrap();
            b.get(std::slice::from_ref(&sys_name)).await.unwrap();
            assert_eq!(engine.transport_renewals(), 2);

            let total = engine.datagram_stats().correlated;
            assert!(
                total > counted,
                "totals kept across sockets: {counted} then {total}"
            );
            eprintln!(
                "renewals {}, correlated datagrams {counted} before, {total} after",
                engine.transport_renewals()
            );
        });
    });
}
