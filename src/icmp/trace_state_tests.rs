//! Scenarios of the tracer's core: replies matched by what they quote, in
//! any order; loss per hop; the path's end; foreign, late and duplicate
//! replies counted and never credited.
use super::*;
use crate::icmp::trace_wire::QuotedTransport;
use std::net::Ipv4Addr;

const TARGET4: Ipv4Addr = Ipv4Addr::new(10, 147, 0, 9);
const TARGET: IpAddr = IpAddr::V4(TARGET4);
const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 145, 0, 2));

fn router(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 146, n, 1))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn udp_state(flows: u16) -> TraceState {
    let flows = (0..flows)
        .map(|i| Flow {
            index: i,
            flow_field: 40000 + i,
        })
        .collect();
    TraceState::new(ProbeProto::Udp, TARGET, 33434, flows, 0, ms(1000))
}

fn time_exceeded(from: IpAddr, p: &ProbeToSend) -> Reply {
    Reply::Quoted {
        from,
        probe: QuotedProbe {
            kind: ErrorKind::TimeExceeded(0),
            src: SRC,
            dst: TARGET,
            ttl: 1,
            ip_id: 0,
            flow_label: 0,
            transport: QuotedTransport::Udp {
                src_port: p.flow.flow_field,
                dst_port: 33434,
                checksum: p.seq as u16,
            },
        },
    }
}

fn port_unreachable(p: &ProbeToSend) -> Reply {
    match time_exceeded(TARGET, p) {
        Reply::Quoted { from, mut probe } => {
            probe.kind = ErrorKind::DestinationUnreachable(3);
            Reply::Quoted { from, probe }
        }
        r => r,
    }
}

#[test]
fn replies_out_of_order_land_on_their_own_hops() {
    let mut s = udp_state(1);
    let probes: Vec<_> = (1..=3)
        .map(|ttl| s.register(0, ttl, ms(0)).unwrap())
        .collect();
    // The destination answers first, then hop 2, then hop 1.
    assert!(s.on_reply(&port_unreachable(&probes[2]), ms(3)));
    assert!(s.on_reply(&time_exceeded(router(2), &probes[1]), ms(5)));
    assert!(s.on_reply(&time_exceeded(router(1), &probes[0]), ms(7)));
    let r = s.report();
    assert!(r.reached);
    let addrs: Vec<IpAddr> = r.hops.iter().map(|h| h.responders[0].addr).collect();
    assert_eq!(addrs, vec![router(1), router(2), TARGET]);
    assert_eq!(r.hops[0].rtt_avg_ms, Some(7.0));
    assert_eq!(r.hops[2].rtt_avg_ms, Some(3.0));
}

#[test]
fn a_reply_quoting_another_sequence_or_port_is_not_credited() {
    let mut s = udp_state(1);
    let p = s.register(0, 1, ms(0)).unwrap();
    let mut wrong_seq = p;
    wrong_seq.seq += 1;
    assert!(!s.on_reply(&time_exceeded(router(1), &wrong_seq), ms(1)));
    let mut wrong_port = p;
    wrong_port.flow.flow_field += 1;
    assert!(!s.on_reply(&time_exceeded(router(1), &wrong_port), ms(1)));
    assert!(s.on_reply(&time_exceeded(router(1), &p), ms(2)));
    assert!(
        !s.on_reply(&time_exceeded(router(1), &p), ms(3)),
        "duplicate"
    );
    assert_eq!(s.unmatched, 3);
    assert_eq!(s.report().hops[0].received, 1);
}

#[test]
fn loss_at_one_hop_shows_there_only() {
    let mut s = udp_state(1);
    for cycle in 0..4u64 {
        let t = ms(cycle * 100);
        let p: Vec<_> = (1..=3).map(|ttl| s.register(0, ttl, t).unwrap()).collect();
        assert!(s.on_reply(&time_exceeded(router(1), &p[0]), t + ms(1)));
        if cycle % 2 == 0 {
            assert!(s.on_reply(&time_exceeded(router(2), &p[1]), t + ms(1)));
        }
        assert!(s.on_reply(&port_unreachable(&p[2]), t + ms(1)));
    }
    let r = s.report();
    let loss: Vec<f64> = r.hops.iter().map(|h| h.loss_pct).collect();
    assert_eq!(loss, vec![0.0, 50.0, 0.0]);
    assert_eq!(r.hops[1].sent, 4);
}

#[test]
fn the_path_ends_where_the_destination_answered() {
    let mut s = udp_state(1);
    let p: Vec<_> = (1..=5)
        .map(|ttl| s.register(0, ttl, ms(0)).unwrap())
        .collect();
    assert!(s.on_reply(&port_unreachable(&p[3]), ms(1)));
    assert!(s.on_reply(&port_unreachable(&p[2]), ms(1)));
    assert!(s.on_reply(&port_unreachable(&p[4]), ms(1)));
    assert_eq!(s.ttl_limit(0, 30), 3);
    let r = s.report();
    assert_eq!(r.hops.len(), 3);
    assert_eq!(r.paths[0].hops.last().unwrap().ttl, 3);
}

#[test]
fn a_late_reply_is_loss() {
    let mut s = udp_state(1);
    let p = s.register(0, 1, ms(0)).unwrap();
    assert!(!s.on_reply(&time_exceeded(router(1), &p), ms(1500)));
    let p2 = s.register(0, 1, ms(2000)).unwrap();
    s.expire(ms(3500));
    assert_eq!(s.outstanding(), 0);
    assert!(!s.on_reply(&time_exceeded(router(1), &p2), ms(3600)));
    assert_eq!(s.report().paths[0].hops, vec![]);
}

#[test]
fn flows_keep_their_own_paths_and_merge_per_hop() {
    let mut s = udp_state(2);
    let a = s.register(0, 1, ms(0)).unwrap();
    let b = s.register(1, 1, ms(0)).unwrap();
    assert!(s.on_reply(&time_exceeded(router(1), &a), ms(1)));
    assert!(s.on_reply(&time_exceeded(router(2), &b), ms(1)));
    let r = s.report();
    assert_eq!(r.paths[0].hops[0].responders[0].addr, router(1));
    assert_eq!(r.paths[1].hops[0].responders[0].addr, router(2));
    assert_eq!(r.hops[0].responders.len(), 2);
    assert_eq!(r.hops[0].sent, 2);
}

#[test]
fn icmp_echo_replies_and_tcp_answers_end_the_path() {
    let flows = vec![Flow {
        index: 0,
        flow_field: 0x4242,
    }];
    let mut s = TraceState::new(ProbeProto::Icmp, TARGET, 0, flows.clone(), 0, ms(1000));
    let p = s.register(0, 4, ms(0)).unwrap();
    let echo = Reply::Echo {
        from: TARGET,
        ident: 0x4242,
        seq: p.seq as u16,
    };
    assert!(s.on_reply(&echo, ms(2)));
    assert_eq!(s.ttl_limit(0, 30), 4);

    let mut t = TraceState::new(ProbeProto::Tcp, TARGET, 80, flows, 7 << 20, ms(1000));
    let p = t.register(0, 2, ms(0)).unwrap();
    let mut seg = TcpSegment {
        src: TARGET,
        dst: SRC,
        src_port: 80,
        dst_port: 0x4242,
        seq: 1,
        ack: p.seq.wrapping_add(1),
        flags: TCP_SYN,
    };
    assert!(
        !t.on_reply(&Reply::Tcp(seg), ms(1)),
        "a bare SYN answers nothing"
    );
    seg.flags = TCP_RST | TCP_ACK;
    assert!(t.on_reply(&Reply::Tcp(seg), ms(1)));
    assert!(t.report().reached);
}

#[test]
fn an_ipv6_path_ends_at_the_targets_port_unreachable_and_tcp_answers_match() {
    let target: IpAddr = "fd13:6:9::9".parse().unwrap();
    let (us, router6): (IpAddr, IpAddr) = (
        "fd13:6:1::2".parse().unwrap(),
        "fd13:6:2::1".parse().unwrap(),
    );
    let flows = vec![Flow {
        index: 0,
        flow_field: 40000,
    }];
    let mut s = TraceState::new(ProbeProto::Udp, target, 33434, flows.clone(), 0, ms(1000));
    let quoted = |p: &ProbeToSend, kind| QuotedProbe {
        kind,
        src: us,
        dst: target,
        ttl: 1,
        ip_id: 0,
        flow_label: 0,
        transport: QuotedTransport::Udp {
            src_port: p.flow.flow_field,
            dst_port: 33434,
            checksum: p.seq as u16,
        },
    };
    let p1 = s.register(0, 1, ms(0)).unwrap();
    let p2 = s.register(0, 2, ms(0)).unwrap();
    let p3 = s.register(0, 3, ms(0)).unwrap();
    let te = Reply::Quoted {
        from: router6,
        probe: quoted(&p1, ErrorKind::TimeExceeded(0)),
    };
    let unreach = Reply::Quoted {
        from: target,
        probe: quoted(&p2, ErrorKind::DestinationUnreachable(4)),
    };
    // The same error quoting a datagram to another IPv6 host is not ours.
    let mut foreign = quoted(&p3, ErrorKind::TimeExceeded(0));
    foreign.dst = "fd13:6:9::8".parse().unwrap();
    assert!(s.on_reply(&te, ms(1)));
    assert!(s.on_reply(&unreach, ms(2)));
    assert!(!s.on_reply(
        &Reply::Quoted {
            from: router6,
            probe: foreign
        },
        ms(2)
    ));
    assert_eq!(s.ttl_limit(0, 30), 2, "the path ends at TTL 2");
    let r = s.report();
    assert!(r.reached);
    let addrs: Vec<IpAddr> = r.hops.iter().map(|h| h.responders[0].addr).collect();
    assert_eq!(addrs, [router6, target]);

    let mut t = TraceState::new(ProbeProto::Tcp, target, 443, flows, 5 << 20, ms(1000));
    let p = t.register(0, 3, ms(0)).unwrap();
    let seg = TcpSegment {
        src: target,
        dst: us,
        src_port: 443,
        dst_port: 40000,
        seq: 1,
        ack: p.seq.wrapping_add(1),
        flags: TCP_SYN | TCP_ACK,
    };
    assert!(t.on_reply(&Reply::Tcp(seg), ms(1)));
    assert_eq!(t.ttl_limit(0, 30), 3);
}
