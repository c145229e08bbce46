//! Scenario tests of the real crawl over scripted agents (no sockets, no
//! root): neighbours' management addresses are followed inside the
//! prefixes and up to the depth, an address outside them is never sent a
//! request, and a silent agent is reported with its reason (naming the
//! address its answers came from, when they came from another).
use super::{CrawlOptions, crawl};
use crate::snmp::Value;
use crate::snmp::scripted::{Scripted, Step};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
const IP_ADDRESS_IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 34, 1, 3];
const LLDP_LOC: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3];
const LLDP_REM: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
const LLDP_REM_MAN_ADDR_IF_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3];

fn ip(c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, c, d)
}

fn oid(parts: &[&[u32]]) -> Vec<u32> {
    parts.concat()
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec().into())
}

fn chassis(n: u8) -> Vec<u8> {
    vec![2, 0, 0, 0, 0, n]
}

/// An agent named `name` (chassis MAC ending in `n`) at `addr`, with one
/// interface per neighbour, each neighbour seen over LLDP advertising its
/// management address.
fn agent(
    name: &str,
    n: u8,
    addr: Ipv4Addr,
    neighbours: &[(&str, u8, Ipv4Addr)],
) -> Vec<(Vec<u32>, Value)> {
    let mut t = vec![
        (SYS_DESCR.to_vec(), text("scripted agent")),
        (SYS_NAME.to_vec(), text(name)),
        (oid(&[LLDP_LOC, &[1, 0]]), Value::Integer(4)),
        (
            oid(&[LLDP_LOC, &[2, 0]]),
            Value::OctetString(chassis(n).into()),
        ),
        (oid(&[LLDP_LOC, &[3, 0]]), text(name)),
    ];
    let [a, b, c, d] = addr.octets().map(u32::from);
    t.push((
        oid(&[IP_ADDRESS_IF_INDEX, &[1, 4, a, b, c, d]]),
        Value::Integer(1),
    ));
    for (i, (peer, pn, peer_addr)) in neighbours.iter().enumerate() {
        let port = i as u32 + 1;
        t.push((oid(&[IF_ENTRY, &[2, port]]), text(&format!("eth{port}"))));
        t.push((oid(&[IF_ENTRY, &[3, port]]), Value::Integer(6)));
        let rem = |col: u32| oid(&[LLDP_REM, &[col, 0, port, 1]]);
        t.push((rem(4), Value::Integer(4)));
        t.push((rem(5), Value::OctetString(chassis(*pn).into())));
        t.push((rem(6), Value::Integer(5)));
        t.push((rem(7), text("eth1")));
        t.push((rem(9), text(peer)));
        let [a, b, c, d] = peer_addr.octets().map(u32::from);
        t.push((
            oid(&[
                LLDP_REM_MAN_ADDR_IF_SUBTYPE,
                &[0, port, 1, 1, 4, a, b, c, d],
            ]),
            Value::Integer(2),
        ));
    }
    t
}

/// a -- b -- c (silent) and d (answers from another address); a also
/// sees x, outside the prefixes.
fn network() -> Arc<Scripted> {
    let s = Scripted::new();
    let (a, b, c, d, x) = (ip(1, 1), ip(1, 2), ip(1, 3), ip(1, 4), ip(9, 9));
    s.agent(a.into(), agent("a", 1, a, &[("b", 2, b), ("x", 9, x)]));
    let b_sees = [("a", 1, a), ("c", 3, c), ("d", 4, d)];
    s.agent(b.into(), agent("b", 2, b, &b_sees));
    s.agent(d.into(), agent("d", 4, d, &[]));
    s.script(d.into(), [Step::Stranger(ip(1, 99).into())]);
    s
}

fn options(depth: u32) -> CrawlOptions {
    CrawlOptions {
        seeds: vec![ip(1, 1).into()],
        prefixes: vec!["127.0.1.0/24".parse().unwrap()],
        depth,
        concurrency: 4,
        alive: vec![],
    }
}

fn names(r: &super::CrawlResult) -> Vec<String> {
    let mut v: Vec<String> = r
        .topology
        .devices
        .iter()
        .filter(|d| d.managed)
        .filter_map(|d| d.sys_name.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn the_crawl_follows_neighbours_inside_the_prefixes_to_the_depth() {
    let snmp = network();
    let r = crawl(snmp.clone(), Arc::new(Vec::new()), &options(2), &|_, _| {}).await;
    assert_eq!(names(&r), vec!["a", "b"]);
    // c and d are named by b's LLDP and tried; c answers nothing, d's
    // answer comes from another address.
    let mut unreachable = r.unreachable.clone();
    unreachable.sort_by_key(|u| u.addr);
    assert_eq!(unreachable.len(), 2, "{unreachable:?}");
    assert_eq!(unreachable[0].addr, IpAddr::from(ip(1, 3)));
    assert!(
        unreachable[0].reason.contains("no answer"),
        "{unreachable:?}"
    );
    assert!(
        !unreachable[0].reason.contains("came from"),
        "{unreachable:?}"
    );
    assert_eq!(unreachable[1].addr, IpAddr::from(ip(1, 4)));
    assert!(
        unreachable[1].reason.contains("no answer")
            && unreachable[1].reason.contains("1 came from 127.0.1.99"),
        "{unreachable:?}"
    );
    // x is outside the prefixes: listed, never sent a request.
    assert_eq!(r.skipped_out_of_scope, vec![IpAddr::from(ip(9, 9))]);
    let log = snmp.log();
    assert!(
        log.iter().all(|(a, _)| *a != IpAddr::from(ip(9, 9))),
        "{log:?}"
    );
    // a and b see each other: one link between them.
    let ids: Vec<_> = r
        .topology
        .devices
        .iter()
        .filter(|d| d.managed)
        .map(|d| d.id.clone())
        .collect();
    let between = r
        .topology
        .links
        .iter()
        .filter(|l| ids.contains(&l.a.device) && ids.contains(&l.b.device))
        .count();
    assert_eq!(between, 1, "{:?}", r.topology.links);
}

#[tokio::test(start_paused = true)]
async fn the_crawl_stops_at_its_depth() {
    let snmp = network();
    let r = crawl(snmp.clone(), Arc::new(Vec::new()), &options(1), &|_, _| {}).await;
    assert_eq!(names(&r), vec!["a", "b"]);
    // c is two hops from the seed: not tried at depth 1.
    assert!(r.unreachable.is_empty(), "{:?}", r.unreachable);
    let tried: Vec<IpAddr> = snmp
        .log()
        .iter()
        .filter(|(_, w)| *w == "open")
        .map(|(a, _)| *a)
        .collect();
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert!(!tried.contains(&IpAddr::from(ip(1, 3))));
    assert!(!tried.contains(&IpAddr::from(ip(1, 4))));
}

/// A ring of `n` agents at 127.0.1.1 ..= 127.0.1.n, each seeing the one
/// before and the one after over LLDP.
fn ring(n: u8) -> Arc<Scripted> {
    let s = Scripted::new();
    for i in 1..=n {
        let prev = if i == 1 { n } else { i - 1 };
        let next = if i == n { 1 } else { i + 1 };
        let name = |k: u8| format!("r{k}");
        let (pn, nn) = (name(prev), name(next));
        let sees = [
            (pn.as_str(), prev, ip(1, prev)),
            (nn.as_str(), next, ip(1, next)),
        ];
        s.agent(ip(1, i).into(), agent(&name(i), i, ip(1, i), &sees));
    }
    s
}

#[tokio::test(start_paused = true)]
async fn a_ring_longer_than_any_fixed_depth_is_read_whole_by_default() {
    // 40 agents: the farthest is 20 hops from the seed, beyond the old
    // default depth of 16.
    let snmp = ring(40);
    let opts = options(super::DEFAULT_DEPTH);
    let r = crawl(snmp.clone(), Arc::new(Vec::new()), &opts, &|_, _| {}).await;
    assert_eq!(names(&r).len(), 40, "{:?}", names(&r));
    assert!(r.depth_cut.is_empty(), "{:?}", r.depth_cut);
    assert!(r.unreachable.is_empty(), "{:?}", r.unreachable);
}

#[tokio::test(start_paused = true)]
async fn a_depth_limit_that_cuts_the_ring_names_every_address_left_unread() {
    let snmp = ring(40);
    let r = crawl(snmp.clone(), Arc::new(Vec::new()), &options(16), &|_, _| {}).await;
    // 16 hops each way from r1, and r1 itself.
    assert_eq!(names(&r).len(), 33, "{:?}", names(&r));
    // r18 and r24 are 17 hops away: named by r17 and r25, never asked, and
    // not counted as agents that did not answer.
    assert_eq!(
        r.depth_cut,
        vec![IpAddr::from(ip(1, 18)), IpAddr::from(ip(1, 24))]
    );
    assert!(r.unreachable.is_empty(), "{:?}", r.unreachable);
    let opened: Vec<IpAddr> = snmp
        .log()
        .iter()
        .filter(|(_, w)| *w == "open")
        .map(|(a, _)| *a)
        .collect();
    assert!(
        !opened.iter().any(|a| r.depth_cut.contains(a)),
        "{opened:?}"
    );
}

/// A host the ping sweep found alive (or a listed device) that answers no
/// SNMP and that no neighbour table names is drawn as a node without links;
/// one a neighbour already names is not drawn twice, and one outside the
/// prefixes is not drawn at all. (Before, the sweep's hosts were tried over
/// SNMP and then forgotten: no node.)
#[tokio::test(start_paused = true)]
async fn silent_alive_hosts_are_drawn_once() {
    let snmp = network();
    let mut opts = options(2);
    opts.alive = vec![ip(1, 50).into(), ip(1, 3).into(), ip(9, 50).into()];
    let r = crawl(snmp, Arc::new(Vec::new()), &opts, &|_, _| {}).await;
    let holding = |addr: IpAddr| {
        r.topology
            .devices
            .iter()
            .filter(|d| d.addresses.contains(&addr) || d.mgmt_addr == Some(addr))
            .count()
    };
    assert_eq!(holding(ip(1, 50).into()), 1, "{:?}", r.topology.devices);
    let silent = r
        .topology
        .devices
        .iter()
        .find(|d| d.id.0 == "ip-127.0.1.50");
    assert!(silent.is_some_and(|d| !d.managed));
    assert!(holding(ip(1, 3).into()) <= 1);
    assert_eq!(holding(ip(9, 50).into()), 0);
}
