//! The SNMP engine against agents that misbehave, side by side with a real
//! snmpd, all on one shared transport: garbage, truncated datagrams, wrong
//! request ids, looping (non-increasing) walks, endless walks, agents that
//! repeat the last row at the end of a table (a normal end), agents that go
//! silent halfway, and dead agents. Nothing panics, every fault is reported per
//! agent, the real agent's walk stays complete and correct, and a dead agent
//! costs its timeout x attempts without delaying anyone else.
#[macro_use]
mod support;
use async_snmp::{Oid, Value, VarBind};
use nocmap::snmp::{Credential, SnmpEngine, SnmpError, SnmpSettings, WalkEnd, WalkStop};
use nocmap::types::Secret;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use support::netns::Netns;
use support::snmp_pdu::{Request, oid, response};

fn v2c(c: &str) -> Vec<Credential> {
    vec![Credential::V2c {
        name: "t".into(),
        community: Secret::new(c),
    }]
}

/// A hand-rolled misbehaving agent on 127.0.0.2:161. The community chooses
/// the misbehaviour, so one socket plays several broken agents.
async fn hostile_agent() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.2:161").await.unwrap();
    let mut buf = vec![0u8; 65535];
    let mut served: std::collections::HashMap<Vec<u8>, u32> = Default::default();
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let Some(req) = Request::decode(&buf[..n]) else {
            continue;
        };
        let (community, rid, vbs) = (&req.community, req.rid, &req.vbs);
        // The engine checks a credential with a GET of sysObjectID.0 before a
        // walk: answer it properly and do not count it as a step of the walk.
        if req.is_get()
            && community != b"garbage"
            && community != b"truncated"
            && community != b"wrongid"
        {
            let sys_object_id = VarBind::new(
                oid(&[1, 3, 6, 1, 2, 1, 1, 2, 0]),
                Value::ObjectIdentifier(oid(&[1, 3, 6, 1, 4, 1, 99])),
            );
            if let Some(b) = response(community, rid, vec![sys_object_id]) {
                let _ = sock.send_to(&b, peer).await;
            }
            continue;
        }
        let count = served.entry(community.clone()).or_default();
        *count += 1;
        let asked = vbs
            .first()
            .map(|v| v.oid.clone())
            .unwrap_or_else(|| Oid::from_slice(&[1, 3]));
        let respond = |rid: i32, vbs: Vec<VarBind>| response(community, rid, vbs).unwrap();
        let next = |o: &Oid| {
            let mut a = o.arcs().to_vec();
            a.push(1);
            Oid::from_slice(&a)
        };
        let reply: Vec<u8> = match community.as_slice() {
            b"garbage" => vec![
                0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef,
            ],
            b"truncated" => {
                respond(rid, vec![VarBind::new(next(&asked), Value::Integer(1))])[..20].to_vec()
            }
            b"wrongid" => respond(
                rid.wrapping_add(7),
                vec![VarBind::new(next(&asked), Value::Integer(1))],
            )
            .to_vec(),
            // Answers the first request properly, then goes back to an OID
            // before it, forever (the same OID again is the end of a table).
            b"loop" => {
                let o = if *count == 1 {
                    next(&asked)
                } else {
                    Oid::from_slice(&[1, 3, 6, 1, 4, 1, 99, 0])
                };
                respond(rid, vec![VarBind::new(o, Value::Integer(1))]).to_vec()
            }
            // Always a new, larger OID: a table without end.
            b"endless" => {
                let o = Oid::from_slice(&[1, 3, 6, 1, 4, 1, 99, *count]);
                respond(rid, vec![VarBind::new(o, Value::Integer(1))]).to_vec()
            }
            // Two rows, then the last row's OID again: with endOfMibView
            // ("lastend") or with its value ("lastagain"), the end of a table.
            b"lastend" | b"lastagain" => {
                let vb = if *count <= 2 {
                    VarBind::new(next(&asked), Value::Integer(1))
                } else if community == b"lastend" {
                    VarBind::new(asked.clone(), Value::EndOfMibView)
                } else {
                    VarBind::new(asked.clone(), Value::Integer(1))
                };
                respond(rid, vec![vb]).to_vec()
            }
            // Two good answers, then silence.
            b"silent" if *count <= 2 => {
                respond(rid, vec![VarBind::new(next(&asked), Value::Integer(1))]).to_vec()
            }
            _ => continue,
        };
        let _ = sock.send_to(&reply, peer).await;
    }
}

/// The engine of these tests: 300 ms timeout, one retry, walks capped at
/// 2,000 varbinds.
fn settings() -> SnmpSettings {
    SnmpSettings {
        timeout: Duration::from_millis(300),
        retries: 1,
        max_walk_varbinds: 2_000,
        ..Default::default()
    }
}

/// net-snmp's own walk of `root` on the real snmpd (v2c, `public`,
/// numeric OIDs, and `flag`), as it prints it.
fn snmpwalk(ns: &Netns, flag: &str, root: &str) -> String {
    let out = ns
        .cmd("snmpwalk")
        .args(["-v2c", "-c", "public", "-On", flag, "127.0.0.1", root])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hostile_and_dead_agents_do_not_hurt_the_healthy_one() {
    require_root!();
    let ns = Netns::new("nmsnmp-hostile");
    ns.add_veths(2);
    ns.start_snmpd("healthy");
    let expected = snmpwalk(&ns, "-Oq", "1.3.6.1.2.1.2.2.1.2").lines().count();
    assert!(expected >= 3);
    ns.block_on_inside(move || async move {
        tokio::spawn(hostile_agent());
        let settings = settings();
        let engine = SnmpEngine::new(settings).await.unwrap();
        let healthy = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let hostile = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let dead = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
        let if_descr = Oid::from_slice(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2]);
        let root = Oid::from_slice(&[1, 3, 6, 1, 4, 1, 99]);

        let walk = |addr: IpAddr, community: &'static str, oid: Oid| {
            let engine = engine.clone();
            async move {
                let t0 = Instant::now();
                let r = match engine.open(addr, &v2c(community)).await {
                    Ok(s) => s.walk(&oid).await,
                    Err(e) => Err(e),
                };
                (community, r, t0.elapsed())
            }
        };
        let healthy_alone = walk(healthy, "public", if_descr.clone()).await;
        let alone = healthy_alone.2;
        let (results, healthy_busy) = tokio::join!(
            futures::future::join_all([
                walk(hostile, "garbage", root.clone()),
                walk(hostile, "truncated", root.clone()),
                walk(hostile, "wrongid", root.clone()),
                walk(hostile, "loop", root.clone()),
                walk(hostile, "endless", root.clone()),
                walk(hostile, "silent", root.clone()),
                walk(hostile, "lastend", root.clone()),
                walk(hostile, "lastagain", root.clone()),
                walk(dead, "public", root.clone()),
            ]),
            walk(healthy, "public", if_descr.clone()),
        );
        // The healthy agent: complete and right, and not held up by the others.
        let (_, hr, took) = healthy_busy;
        let hr = hr.expect("healthy walk");
        assert_eq!(hr.end, WalkEnd::Complete);
        assert_eq!(hr.varbinds.len(), expected);
        assert!(
            took < Duration::from_millis(300),
            "healthy walk waited on the broken ones: {took:?} (alone {alone:?})"
        );

        for (community, r, took) in results {
            match community {
                "garbage" | "truncated" | "wrongid" => {
                    assert!(
                        matches!(r, Err(SnmpError::Timeout { .. })),
                        "{community}: {r:?}"
                    );
                }
                "loop" => {
                    let r = r.unwrap();
                    assert_eq!(r.varbinds.len(), 1, "loop kept only the good row");
                    assert!(
                        matches!(r.end, WalkEnd::Partial(WalkStop::NonIncreasing { .. })),
                        "{:?}",
                        r.end
                    );
                }
                "endless" => {
                    let r = r.unwrap();
                    assert_eq!(
                        r.end,
                        WalkEnd::Partial(WalkStop::TooManyVarbinds { cap: 2_000 })
                    );
                }
                "lastend" | "lastagain" => {
                    let r = r.unwrap();
                    assert_eq!(r.varbinds.len(), 2, "{community}");
                    assert_eq!(r.end, WalkEnd::Complete, "{community}: the end of a table");
                }
                "silent" => {
                    let r = r.unwrap();
                    assert_eq!(r.varbinds.len(), 2);
                    assert_eq!(
                        r.end,
                        WalkEnd::Partial(WalkStop::Timeout { after_varbinds: 2 })
                    );
                }
                _ => {
                    // Dead: at most timeout x attempts (2 x 300 ms), plus scheduling slack.
                    assert!(matches!(r, Err(SnmpError::Timeout { .. })), "dead: {r:?}");
                    assert!(
                        took >= Duration::from_millis(600),
                        "gave up too early: {took:?}"
                    );
                    assert!(
                        took < Duration::from_millis(1000),
                        "dead agent cost {took:?}, more than 2 x 300 ms"
                    );
                }
            }
        }
    });
}

/// Walks of several agents at once share one varbind budget: with room for
/// 3,000 varbinds (2,250 shared, 750 kept for small walks), two endless
/// walks (each capped at 2,000) hold at most 2,250 together, one of them
/// ends with the budget as its reason; a healthy agent's small walk (real
/// snmpd's interfaces group) still completes and equals snmpwalk's; and
/// the budget comes back when the results are dropped.
#[test]
fn concurrent_walks_share_a_bounded_varbind_budget() {
    require_root!();
    let ns = Netns::new("nmsnmp-budget");
    ns.add_veths(2);
    ns.start_snmpd("budgetbox");
    let interfaces = [1, 3, 6, 1, 2, 1, 2];
    let expected = snmpwalk(&ns, "-Cc", "1.3.6.1.2.1.2")
        .lines()
        .filter(|l| l.starts_with(".1.3.6.1.2.1.2."))
        .count();
    assert!(
        expected > 20,
        "snmpwalk of the interfaces group: {expected} rows"
    );
    ns.block_on_inside(move || async move {
        tokio::spawn(hostile_agent());
        let settings = SnmpSettings {
            max_walked_varbinds_total: 3_000,
            ..settings()
        };
        let engine = SnmpEngine::new(settings).await.unwrap();
        let hostile = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let root = Oid::from_slice(&[1, 3, 6, 1, 4, 1, 99]);
        let walk = || {
            let (engine, root) = (engine.clone(), root.clone());
            async move {
                let s = engine.open(hostile, &v2c("endless")).await.unwrap();
                s.walk(&root).await.unwrap()
            }
        };
        let (a, b) = tokio::join!(walk(), walk());
        let held = a.varbinds.len() + b.varbinds.len();
        eprintln!(
            "two endless walks: {} + {} varbinds, ends {:?} / {:?}",
            a.varbinds.len(),
            b.varbinds.len(),
            a.end,
            b.end
        );
        assert!(held <= 2_250, "{held} varbinds held");
        let budget = |w: &nocmap::snmp::WalkResult| {
            w.end
                == WalkEnd::Partial(WalkStop::MemoryBudget {
                    cap: 3_000,
                    kept: w.varbinds.len(),
                })
        };
        assert!(budget(&a) || budget(&b), "{:?} {:?}", a.end, b.end);
        // The shared part is used up; a healthy device's small walk
        // still completes, from the part kept for small walks.
        let healthy = engine
            .open(IpAddr::V4(Ipv4Addr::LOCALHOST), &v2c("public"))
            .await
            .unwrap();
        let h = healthy.walk(&Oid::from_slice(&interfaces)).await.unwrap();
        eprintln!(
            "healthy walk beside them: {} varbinds, {:?}",
            h.varbinds.len(),
            h.end
        );
        assert_eq!(h.end, WalkEnd::Complete);
        assert_eq!(h.varbinds.len(), expected, "as snmpwalk");
        // Another endless walk gets at most what is left of the kept
        // part: everything held stays within the 3,000.
        let c = walk().await;
        let total = held + h.varbinds.len() + c.varbinds.len();
        assert!(total <= 3_000, "{total} held");
        assert!(budget(&c), "{:?}", c.end);
        drop((a, b, c, h));
        // Given back: a walk alone reaches its own cap again.
        let d = walk().await;
        assert_eq!(
            d.end,
            WalkEnd::Partial(WalkStop::TooManyVarbinds { cap: 2_000 })
        );
    });
}
