//! Discovery against a broken agent beside a healthy snmpd: an agent that
//! answers garbage for some tables, loops (non-increasing OIDs) in another and
//! goes silent halfway through a third is reported as read in part, each table
//! with its reason; the healthy agent is read completely; nothing crashes or hangs.
#[macro_use]
mod support;
use async_snmp::{Value, VarBind};
use nocmap::topology::Topology;
use std::time::{Duration, Instant};
use support::netns::Netns;
use support::snmp_pdu::{Request, oid, response};

/// A broken agent on 127.0.0.2:161, misbehaving by table.
fn broken_agent() {
    let sock = std::net::UdpSocket::bind("127.0.0.2:161").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buf = vec![0u8; 65535];
    let mut lldp_requests = 0;
    while let Ok((n, peer)) = sock.recv_from(&mut buf) {
        let Some(req) = Request::decode(&buf[..n]) else {
            continue;
        };
        let Some(asked) = req.vbs.first().map(|v| v.oid.clone()) else {
            continue;
        };
        let a = asked.arcs();
        let system = [1, 3, 6, 1, 2, 1, 1];
        let if_descr = [1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
        let if_type = [1, 3, 6, 1, 2, 1, 2, 2, 1, 3];
        let lldp_rem = [1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
        let reply: Vec<VarBind> = if a.starts_with(&system) {
            if a.len() <= 9 && a <= &[1, 3, 6, 1, 2, 1, 1, 5, 0][..] {
                vec![
                    VarBind::new(
                        oid(&[1, 3, 6, 1, 2, 1, 1, 5, 0]),
                        Value::OctetString("broken".into()),
                    ),
                    VarBind::new(oid(&[1, 3, 6, 1, 2, 1, 2, 1, 0]), Value::Integer(1)),
                ]
            } else {
                vec![VarBind::new(
                    oid(&[1, 3, 6, 1, 2, 1, 2, 1, 0]),
                    Value::Integer(1),
                )]
            }
        } else if a.starts_with(&if_descr) {
            // First row fine, then back to an OID before it: a looping
            // agent (the same OID again would be the end of the table).
            let row = if a == if_descr { 1 } else { 0 };
            vec![VarBind::new(
                oid(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2, row]),
                Value::OctetString("eth0".into()),
            )]
        } else if a.starts_with(&if_type) {
            let _ = sock.send_to(&[0x30, 0x03, 0x02, 0x01], peer); // garbage
            continue;
        } else if a.starts_with(&lldp_rem) {
            lldp_requests += 1;
            if lldp_requests > 1 {
                continue; // silent halfway through the table
            }
            vec![VarBind::new(
                oid(&[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9, 0, 2, 1]),
                Value::OctetString("peer".into()),
            )]
        } else {
            req.vbs
                .iter()
                .map(|v| VarBind::new(v.oid.clone(), Value::EndOfMibView))
                .collect()
        };
        // A GET is answered with as many varbinds as asked: the engine
        // refuses more (an oversized response), and this agent's faults
        // are meant to be in its tables, not in the credential probe.
        let mut reply = reply;
        if req.is_get() {
            reply.truncate(req.vbs.len());
        }
        if let Some(b) = response(&req.community, req.rid, reply) {
            let _ = sock.send_to(&b, peer);
        }
    }
}

#[test]
fn a_broken_agent_is_read_in_part_with_reasons() {
    require_root!();
    let ns = Netns::new("nmdisc-hostile");
    ns.add_veths(1);
    ns.start_snmpd("healthy");
    let _agent = ns.spawn_inside(broken_agent);
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    let out = ns
        .cmd(env!("CARGO_BIN_EXE_nocmap"))
        .args([
            "discover",
            "--seed",
            "127.0.0.1",
            "--seed",
            "127.0.0.2",
            "--prefix",
            "127.0.0.0/29",
            "-c",
            "public",
            "-t",
            "0.3",
            "-r",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    let took = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "discover failed: {stderr}");
    assert!(took < Duration::from_secs(20), "discovery took {took:?}");
    let topo: Topology = serde_json::from_slice(&out.stdout).unwrap();
    let healthy = topo
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("healthy"))
        .expect("healthy device");
    assert!(
        healthy.partial.is_empty(),
        "healthy agent read in part: {:?}",
        healthy.partial
    );
    assert!(healthy.interfaces.len() >= 3);
    let broken = topo
        .devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some("broken"))
        .expect("broken device is still on the map");
    let reasons = broken.partial.join("\n");
    assert!(
        reasons.contains("ifTable: agent returned non-increasing OID"),
        "{reasons}"
    );
    assert!(
        reasons.contains("ifTable: 127.0.0.2:161: no answer"),
        "{reasons}"
    );
    assert!(
        reasons.contains("lldpRemTable: agent stopped answering after 1 varbinds"),
        "{reasons}"
    );
    assert!(
        stderr.contains("broken read in part"),
        "the fault is reported per device: {stderr}"
    );
}
