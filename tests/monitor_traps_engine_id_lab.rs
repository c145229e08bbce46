//! Traps attributed by what they carry when their source address names no
//! device (a relay, a NAT, a trap sent from another interface). r1's snmpd
//! has a fixed engine id (`engineID r1-fixed`), r2 and r3 share one
//! (`engineID clone`, as cloned images do). `nocmap serve` discovers them
//! and keeps each engine id on its device (`/api/topology`). Then, from an
//! address of the noc's namespace that no device owns:
//! - `snmptrap -v3 -e <r1's engine id>` is stored on r1, matched by
//!   `engine_id`;
//! - the same from r2's and r3's shared engine id stays unattributed, and
//!   says so (`unattributed: engine id ... is shared by 2 devices`);
//! - a v2c trap carrying snmpTrapAddress.0 = r1's address is stored on r1,
//!   matched by `snmp_trap_address`.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::time::{Duration, Instant};
use support::lab::LabToml;
use support::serve::{ServeCmd, wait_api};
use support::{noc_json, run_in};

const PREFIX: &str = "10.110.0.0/16";
const PORT: u16 = 18110;
const TRAP_PORT: u16 = 11110;
/// An address of the noc's namespace no device owns, added after discovery.
const ELSEWHERE: &str = "10.110.254.77";
const LINK_DOWN: &str = ".1.3.6.1.6.3.1.1.5.3";
const COLD_START: &str = ".1.3.6.1.6.3.1.1.5.1";
const SNMP_TRAP_ADDRESS_0: &str = ".1.3.6.1.6.3.18.1.3.0";

const CONFIG: &str = r#"
[[credentials]]
name = "traps-auth"
version = "3"
user = "noc-eid"
security_level = "authNoPriv"
auth_protocol = "SHA"
auth_password = "auth-pass-110"
"#;

fn lab_toml() -> String {
    LabToml::new("trapeid", PREFIX)
        .node("r1", "router", "engine_id = \"r1-fixed\"")
        .node("r2", "router", "engine_id = \"clone\"")
        .node("r3", "router", "engine_id = \"clone\"")
        .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1, r1:eth2 - r3:eth1")
        .build()
}

/// net-snmp's engine id for `engineID TEXT`: enterprise 8072, format 4
/// (text), then the text.
fn netsnmp_text_engine_id(text: &str) -> String {
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    format!("80001f8804{hex}")
}

fn run(lab: &Lab, node: &str, program: &str, args: &[&str]) -> (bool, String) {
    let out = run_in(lab, node, program, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A notification from the noc's namespace, sent from [`ELSEWHERE`].
fn send(lab: &Lab, flags: &[&str], oid: &str, varbinds: &[&str]) {
    let noc = lab.link_addrs("noc:eth0").unwrap().0.unwrap();
    let to = format!("{noc}:{TRAP_PORT}");
    let client = format!("--clientaddr={ELSEWHERE}");
    let mut args: Vec<&str> = vec![&client];
    args.extend(flags);
    args.extend(["-r", "0", "-t", "3", &to, "", oid]);
    args.extend(varbinds);
    let (ok, out) = run(lab, "noc", "snmptrap", &args);
    assert!(ok, "snmptrap {args:?}: {out}");
}

/// The newest event whose trap OID is `oid`, waited for.
fn newest(lab: &Lab, oid: &str, seen: usize) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let page = noc_json(lab, PORT, "/api/events?limit=100");
        let events: Vec<serde_json::Value> = page["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["trap_oid"] == oid.trim_start_matches('.'))
            .collect();
        if events.len() > seen {
            return events[0].clone();
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no new {oid} event: {page}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn device<'a>(topo: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["sys_name"] == name)
        .unwrap_or_else(|| panic!("{name} in the topology"))
}

#[test]
fn a_trap_from_an_unknown_address_is_attributed_by_engine_id_unless_shared() {
    require_root!();
    let lab = support::lab_up_toml(&lab_toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nocmap.toml");
    std::fs::write(
        &config,
        format!("{CONFIG}[traps]\nlisten = \"0.0.0.0:{TRAP_PORT}\"\nv3_users = [\"traps-auth\"]\n"),
    )
    .unwrap();
    let cmd = ServeCmd::new(&lab, PREFIX)
        .poll(60)
        .args(["--no-icmp"])
        .listen(PORT)
        .config(&config)
        .db(&dir.path().join("eid.db"));
    let mut serve = cmd.start_captured("trapeid");
    wait_api(
        &lab,
        &mut serve.child,
        PORT,
        "/api/topology",
        None,
        Duration::from_secs(90),
    );

    // Discovery kept each agent's snmpEngineID.
    let r1_engine = netsnmp_text_engine_id("r1-fixed");
    let clone_engine = netsnmp_text_engine_id("clone");
    let topo = noc_json(&lab, PORT, "/api/topology");
    let r1 = device(&topo, "r1");
    assert_eq!(r1["engine_id"], r1_engine.as_str(), "{r1}");
    for name in ["r2", "r3"] {
        assert_eq!(device(&topo, name)["engine_id"], clone_engine.as_str());
    }
    let r1_id = r1["id"].as_str().unwrap().to_string();
    let r1_addr = r1["mgmt_addr"].as_str().unwrap().to_string();
    let holders = topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["addresses"]
                .as_array()
                .unwrap()
                .contains(&ELSEWHERE.into())
        })
        .count();
    assert_eq!(holders, 0, "{ELSEWHERE} must be no device's address");
    let (ok, out) = run(
        &lab,
        "noc",
        "ip",
        &["addr", "add", &format!("{ELSEWHERE}/32"), "dev", "lo"],
    );
    assert!(ok, "ip addr add: {out}");

    let v3 = |engine: &str| -> Vec<String> {
        [
            "-v",
            "3",
            "-e",
            engine,
            "-u",
            "noc-eid",
            "-l",
            "authNoPriv",
            "-a",
            "SHA",
            "-A",
            "auth-pass-110",
        ]
        .map(String::from)
        .to_vec()
    };

    // v3 from r1's engine id, sent from an address that is not r1's.
    let flags = v3(&r1_engine);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    send(&lab, &flags, COLD_START, &[]);
    let e = newest(&lab, COLD_START, 0);
    assert_eq!(e["source"], ELSEWHERE, "{e}");
    assert_eq!(e["version"], "3", "{e}");
    assert_eq!(e["device"], r1_id.as_str(), "not attributed to r1: {e}");
    assert_eq!(e["matched_by"], "engine_id", "{e}");

    // The engine id r2 and r3 share names neither: unattributed, and why.
    let flags = v3(&clone_engine);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    send(&lab, &flags, COLD_START, &[]);
    let e = newest(&lab, COLD_START, 1);
    assert_eq!(e["device"], serde_json::Value::Null, "{e}");
    let why = e["matched_by"].as_str().unwrap_or_default();
    assert!(
        why.starts_with(&format!(
            "unattributed: engine id {clone_engine} is shared by 2 devices"
        )),
        "{e}"
    );

    // v2c through a relay: snmpTrapAddress.0 names r1.
    let flags = ["-v", "2c", "-c", "public"];
    send(
        &lab,
        &flags,
        LINK_DOWN,
        &[SNMP_TRAP_ADDRESS_0, "a", &r1_addr],
    );
    let e = newest(&lab, LINK_DOWN, 0);
    assert_eq!(e["source"], ELSEWHERE, "{e}");
    assert_eq!(e["device"], r1_id.as_str(), "{e}");
    assert_eq!(e["matched_by"], "snmp_trap_address", "{e}");
    serve.stop();
}
