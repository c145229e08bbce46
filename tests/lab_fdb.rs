//! The switches' BRIDGE-MIB agent (`nocmap-lab bridge-agent`, run by snmpd
//! through pass_persist) on a live star lab: every attached node's MAC is in
//! the forwarding tables on the bridge port that leads to it, getnext and
//! getbulk walks agree, and the agent survives junk on its stdin.
#[macro_use]
mod support;

use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const DOT1D_BRIDGE: &str = ".1.3.6.1.2.1.17";
const BASE_BRIDGE_ADDRESS: &str = ".1.3.6.1.2.1.17.1.1.0";
const BASE_NUM_PORTS: &str = ".1.3.6.1.2.1.17.1.2.0";
const BASE_TYPE: &str = ".1.3.6.1.2.1.17.1.3.0";
const BASE_PORT_IFINDEX: &str = ".1.3.6.1.2.1.17.1.4.1.2";
const TP_FDB_ADDRESS: &str = ".1.3.6.1.2.1.17.4.3.1.1";
const TP_FDB_PORT: &str = ".1.3.6.1.2.1.17.4.3.1.2";
const TP_FDB_STATUS: &str = ".1.3.6.1.2.1.17.4.3.1.3";
const Q_TP_FDB_PORT: &str = ".1.3.6.1.2.1.17.7.1.2.2.1.2";
const Q_TP_FDB_STATUS: &str = ".1.3.6.1.2.1.17.7.1.2.2.1.3";
const IF_DESCR: &str = ".1.3.6.1.2.1.2.2.1.2";

/// A switch, two hosts with snmpd + lldpd, two with neither, and the noc,
/// all on the switch.
fn star(name: &str, prefix: &str) -> String {
    format!(
        r#"
        name = "{name}"
        prefix = "{prefix}"
        [[nodes]]
        name = "sw"
        kind = "switch"
        [[nodes]]
        name = "h1"
        kind = "host"
        snmp = true
        attach = "sw"
        [[nodes]]
        name = "h2"
        kind = "host"
        snmp = true
        attach = "sw"
        [[nodes]]
        name = "h3"
        kind = "host"
        attach = "sw"
        [[nodes]]
        name = "h4"
        kind = "host"
        attach = "sw"
        [[links]]
        a = "noc:eth0"
        b = "sw:noc"
        "#
    )
}

/// Attached nodes: (node, its interface, the switch's port towards it).
const ATTACHED: [(&str, &str, &str); 5] = [
    ("h1", "eth0", "h1"),
    ("h2", "eth0", "h2"),
    ("h3", "eth0", "h3"),
    ("h4", "eth0", "h4"),
    ("noc", "eth0", "noc"),
];

/// `ip -j link show dev IF` in `node`: the one object.
fn link_json(lab: &Lab, node: &str, ifname: &str) -> Value {
    let out = support::ok_stdout(lab, node, "ip", &["-j", "link", "show", "dev", ifname]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    v[0].clone()
}

fn mac_of(lab: &Lab, node: &str, ifname: &str) -> [u8; 6] {
    let v = link_json(lab, node, ifname);
    let s = v["address"].as_str().expect("address");
    let bytes: Vec<u8> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).expect("hex"))
        .collect();
    bytes.try_into().expect("6 bytes")
}

fn ifindex_of(lab: &Lab, node: &str, ifname: &str) -> u64 {
    link_json(lab, node, ifname)["ifindex"]
        .as_u64()
        .expect("ifindex")
}

fn mac_index(mac: &[u8; 6]) -> String {
    mac.iter().map(|b| format!(".{b}")).collect()
}

fn mac_hex(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `TOOL -v2c -On -Ox ADDR .1.3.6.1.2.1.17` from the noc, as lines.
fn walk(lab: &Lab, tool: &str, addr: &str) -> Vec<String> {
    let c = &lab.spec().credentials.community;
    support::ok_stdout(
        lab,
        "noc",
        tool,
        &[
            "-v2c",
            "-c",
            c,
            "-r1",
            "-t3",
            "-On",
            "-Ox",
            addr,
            DOT1D_BRIDGE,
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// `OID = TYPE: value` lines as OID -> value (type prefix removed).
fn by_oid(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| {
            let (oid, rest) = l.split_once(" = ")?;
            let value = rest.split_once(": ").map_or(rest, |(_, v)| v);
            Some((oid.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

#[test]
fn fdb_walk_shows_every_node_on_its_bridge_port() {
    require_root!();
    let lab = support::lab_up_toml(&star("fdwalk", "10.80.0.0/16"));
    let sw = lab.mgmt_addr("sw").unwrap().to_string();

    let lines = walk(&lab, "snmpwalk", &sw);
    let bulk = walk(&lab, "snmpbulkwalk", &sw);
    assert_eq!(lines, bulk, "getnext and getbulk walks differ");
    let mib = by_oid(&lines);
    assert!(
        lines.iter().all(|l| l.starts_with(DOT1D_BRIDGE)),
        "{lines:#?}"
    );

    let br0 = mac_of(&lab, "sw", "br0");
    assert_eq!(mib[BASE_BRIDGE_ADDRESS], mac_hex(&br0));
    assert_eq!(mib[BASE_NUM_PORTS], ATTACHED.len().to_string());
    assert_eq!(mib[BASE_TYPE], "2");

    // ifIndex -> bridge port, from dot1dBasePortIfIndex.
    let port_of_ifindex: BTreeMap<String, String> = mib
        .iter()
        .filter_map(|(oid, v)| {
            let port = oid.strip_prefix(BASE_PORT_IFINDEX)?.strip_prefix('.')?;
            Some((v.clone(), port.to_owned()))
        })
        .collect();
    assert_eq!(port_of_ifindex.len(), ATTACHED.len(), "{port_of_ifindex:?}");

    let community = &lab.spec().credentials.community;
    for (node, ifname, sw_port) in ATTACHED {
        let mac = mac_of(&lab, node, ifname);
        let ifindex = ifindex_of(&lab, "sw", sw_port);
        // dot1dBasePortIfIndex is net-snmp's ifIndex: ifDescr names the port.
        let descr = support::ok_stdout(
            &lab,
            "noc",
            "snmpget",
            &[
                "-v2c",
                "-c",
                community,
                "-Oqv",
                &sw,
                &format!("{IF_DESCR}.{ifindex}"),
            ],
        );
        assert_eq!(support::unquote(&descr), sw_port);
        let port = port_of_ifindex
            .get(&ifindex.to_string())
            .unwrap_or_else(|| panic!("no bridge port has ifIndex {ifindex} ({sw_port})"));
        let idx = mac_index(&mac);
        let what = format!("{node} ({}) on sw:{sw_port}", mac_hex(&mac));
        assert_eq!(
            mib.get(&format!("{TP_FDB_ADDRESS}{idx}")),
            Some(&mac_hex(&mac)),
            "{what}"
        );
        assert_eq!(
            mib.get(&format!("{TP_FDB_PORT}{idx}")),
            Some(port),
            "{what}"
        );
        assert_eq!(
            mib.get(&format!("{TP_FDB_STATUS}{idx}"))
                .map(String::as_str),
            Some("3"),
            "{what}: learned"
        );
        assert_eq!(
            mib.get(&format!("{Q_TP_FDB_PORT}.1{idx}")),
            Some(port),
            "{what} in Q-BRIDGE"
        );
        assert_eq!(
            mib.get(&format!("{Q_TP_FDB_STATUS}.1{idx}"))
                .map(String::as_str),
            Some("3"),
            "{what} in Q-BRIDGE"
        );
    }
    // The bridge's own address is there too, as self(4).
    assert_eq!(
        mib.get(&format!("{TP_FDB_STATUS}{}", mac_index(&br0)))
            .map(String::as_str),
        Some("4")
    );
}

/// The agent process with a thread that forwards its stdout lines.
struct Agent {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Agent {
    fn start(lab: &Lab) -> Agent {
        let mut child = lab
            .command_in("sw", &support::lab_bin().to_string_lossy())
            .unwrap()
            .args(["bridge-agent", "--bridge", "br0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bridge-agent");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Agent {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to agent");
        stdin.flush().expect("flush");
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(5))
            .expect("the agent answers within 5 s")
    }

    /// Sends a request and reads an answer of `n` lines.
    fn ask(&mut self, req: &str, n: usize) -> Vec<String> {
        self.send(req.as_bytes());
        (0..n).map(|_| self.line()).collect()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn agent_speaks_pass_persist_and_survives_junk() {
    require_root!();
    let lab = support::lab_up_toml(&star("fdproto", "10.81.0.0/16"));
    let mut a = Agent::start(&lab);
    assert_eq!(a.ask("PING\n", 1), ["PONG"]);

    // Junk: unknown commands, bytes that are not UTF-8, a very long line,
    // an OID line that is no OID. Only the last one is answered (NONE).
    a.send(b"hello\n\xff\xfe\x00\n\n");
    a.send(&[b'7'; 20_000]);
    a.send(b"\n");
    assert_eq!(a.ask("get\nnot.an.oid\n", 1), ["NONE"]);
    assert_eq!(a.ask("PING\n", 1), ["PONG"]);

    // Past the subtree, and outside it: NONE.
    assert_eq!(
        a.ask(
            "getnext\n.1.3.6.1.2.1.17.7.1.2.2.1.3.4094.255.255.255.255.255.255\n",
            1
        ),
        ["NONE"]
    );
    assert_eq!(a.ask("getnext\n.1.3.6.1.2.1.18\n", 1), ["NONE"]);
    assert_eq!(a.ask("get\n.1.3.6.1.2.1.1.5.0\n", 1), ["NONE"]);
    assert_eq!(
        a.ask("set\n.1.3.6.1.2.1.17.1.2.0\ninteger 9\n", 1),
        ["not-writable"]
    );

    // The first object is the bridge address; get and getnext agree.
    let br0 = mac_of(&lab, "sw", "br0");
    let want = vec![
        BASE_BRIDGE_ADDRESS.to_owned(),
        "octet".to_owned(),
        mac_hex(&br0).to_lowercase(),
    ];
    assert_eq!(a.ask(&format!("getnext\n{DOT1D_BRIDGE}\n"), 3), want);
    assert_eq!(a.ask(&format!("get\n{BASE_BRIDGE_ADDRESS}\n"), 3), want);
    assert_eq!(
        a.ask(&format!("getnext\n{BASE_BRIDGE_ADDRESS}\n"), 3),
        [BASE_NUM_PORTS, "integer", "5"]
    );

    // End of input ends the agent cleanly.
    drop(a.stdin.take());
    let status = a.child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

#[test]
fn agent_refuses_a_bad_bridge_name() {
    let out = std::process::Command::new(support::lab_bin())
        .args(["bridge-agent", "--bridge", "../../etc"])
        .stdin(Stdio::null())
        .output()
        .expect("run nocmap-lab");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an interface name"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test harness is not `nocmap-lab`: without `lab_bin` a lab with a
/// switch must refuse to start rather than have snmpd run the harness.
#[test]
fn a_switch_lab_without_a_lab_binary_is_refused() {
    require_root!();
    if std::env::var_os("NOCMAP_LAB_BIN").is_some() {
        eprintln!("SKIPPED: $NOCMAP_LAB_BIN is set");
        return;
    }
    let spec = nocmap_lab::LabSpec::from_toml(&star("fdguard", "10.82.0.0/16")).unwrap();
    let err = Lab::up(spec)
        .expect_err("no nocmap-lab binary known")
        .to_string();
    assert!(err.contains("is not nocmap-lab"), "{err}");
    assert!(
        support::lab_namespaces("fdguard").is_empty(),
        "a refused lab leaves nothing behind"
    );
}
