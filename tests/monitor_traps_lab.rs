//! SNMP traps and informs into `nocmap serve` in a lab, sent by net-snmp's
//! own `snmptrap` and `snmpinform` from the routers' namespaces: v2c
//! linkUp/linkDown, a v1 coldStart matched by its agent-addr field, an
//! inform acknowledged (snmpinform exits 0 only on a Response) and one with
//! an unknown community left unanswered. r1's eth1 is set down in its
//! namespace and the linkDown trap turns the r1–r2 link down in
//! `/api/topology` within 2 s although SNMP polls run every 60 s. Then
//! garbage (random bytes from 500 sources, every truncation of a real trap)
//! and a flood of 1,000 traps from one source: counted in `/metrics` as
//! malformed and rate-limited, and the receiver still takes the next trap.
//! SNMPv3: `snmptrap -v3` authPriv (SHA/AES) brings eth1's linkUp back
//! with an early poll like v2c, an authNoPriv linkDown is stored with its
//! varbinds, `snmpinform -v3` is acknowledged after discovering serve's
//! engine, and a trap with a wrong passphrase is counted as
//! `v3_wrong_digest` with no event.
//! Without the capability, a trap port below 1024 stops serve at start
//! with an error that names CAP_NET_BIND_SERVICE.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, wait_api};
use support::{noc_get, noc_json};

const LAB: Routers = Routers::new(
    "trp",
    "10.121.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1",
);
const PORT: u16 = 18121;
const TRAP_PORT: u16 = 11162;

const LINK_DOWN: &str = ".1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = ".1.3.6.1.6.3.1.1.5.4";
const WARM_START: &str = ".1.3.6.1.6.3.1.1.5.2";
const IF_INDEX: &str = ".1.3.6.1.2.1.2.2.1.1";
const IF_OPER: &str = ".1.3.6.1.2.1.2.2.1.8";

/// Two SNMPv3 trap users: one at authPriv (SHA/AES), one at authNoPriv.
const V3_CONFIG: &str = r#"
[[credentials]]
name = "traps-priv"
version = "3"
user = "noc-priv"
security_level = "authPriv"
auth_protocol = "SHA"
auth_password = "auth-pass-121"
priv_protocol = "AES"
priv_password = "priv-pass-121"

[[credentials]]
name = "traps-auth"
version = "3"
user = "noc-auth"
security_level = "authNoPriv"
auth_protocol = "SHA"
auth_password = "auth-pass-122"
"#;

/// net-snmp's USM flags for `user` (`auth`, then priv when given).
fn v3_flags(user: &str, auth: &str, privacy: Option<&str>) -> Vec<String> {
    let mut f: Vec<String> = ["-v", "3", "-u", user, "-a", "SHA", "-A", auth]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match privacy {
        Some(p) => f.extend(["-l", "authPriv", "-x", "AES", "-X", p].map(String::from)),
        None => f.extend(["-l", "authNoPriv"].map(String::from)),
    }
    f
}

/// A v3 notification about `if_index` (ifIndex, ifOperStatus varbinds).
fn notify_v3(
    lab: &Lab,
    tool: &str,
    flags: &[String],
    to: &str,
    oid: &str,
    if_index: u32,
    oper: u32,
) -> (bool, String) {
    let mut args: Vec<String> = flags.to_vec();
    args.extend(["-r", "0", "-t", "3", to, "", oid].map(String::from));
    args.extend([
        format!("{IF_INDEX}.{if_index}"),
        "i".into(),
        if_index.to_string(),
        format!("{IF_OPER}.{if_index}"),
        "i".into(),
        oper.to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(lab, "r1", tool, &args)
}

/// Waits until r1's agent reads eth1's ifOperStatus as `want` (its
/// interface cache is refreshed every 3 s), as a device would before
/// sending its own trap.
fn wait_agent_sees(lab: &Lab, oper: &str, want: &str) {
    let t = Instant::now();
    loop {
        let (_, v) = run(
            lab,
            "r1",
            "snmpget",
            &["-v", "2c", "-c", "public", "-Oqv", "127.0.0.1", oper],
        );
        let numeric = if want == "up" { "1" } else { "2" };
        if v.trim() == want || v.trim() == numeric {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "r1's agent never saw eth1 {want}: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run(lab: &Lab, node: &str, program: &str, args: &[&str]) -> (bool, String) {
    let out = lab
        .command_in(node, program)
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A v2c notification about `if_index` from `node` with net-snmp's tools.
#[allow(clippy::too_many_arguments)]
fn notify(
    lab: &Lab,
    node: &str,
    tool: &str,
    community: &str,
    to: &str,
    oid: &str,
    if_index: u32,
    oper: u32,
) -> (bool, String) {
    let (i, o) = (
        format!("{IF_INDEX}.{if_index}"),
        format!("{IF_OPER}.{if_index}"),
    );
    let (ix, op) = (if_index.to_string(), oper.to_string());
    run(
        lab,
        node,
        tool,
        &[
            "-v", "2c", "-c", community, "-r", "0", "-t", "3", to, "", oid, &i, "i", &ix, &o, "i",
            &op,
        ],
    )
}

fn events(lab: &Lab, query: &str) -> Vec<serde_json::Value> {
    noc_json(lab, PORT, &format!("/api/events?{query}"))["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The device id whose sysName is `name`.
fn device_id(lab: &Lab, name: &str) -> String {
    let topo = noc_json(lab, PORT, "/api/topology");
    topo["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["sys_name"] == name)
        .unwrap_or_else(|| panic!("{name} in the topology"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The status of the link between devices `a` and `b`.
fn link_status(lab: &Lab, a: &str, b: &str) -> String {
    let topo = noc_json(lab, PORT, "/api/topology");
    let link = topo["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            let ends = [&l["a"]["device"], &l["b"]["device"]];
            ends.contains(&&serde_json::json!(a)) && ends.contains(&&serde_json::json!(b))
        })
        .expect("the r1-r2 link")
        .clone();
    link["status"].as_str().unwrap_or("").to_string()
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in /metrics"))
}

/// A real v2c trap's bytes (warmStart), for the truncations and the flood.
fn trap_bytes() -> Vec<u8> {
    use async_snmp::message::CommunityMessage;
    use async_snmp::{NotificationPdu, Oid, Version};
    let oid = Oid::from_slice(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 2]);
    let pdu = NotificationPdu::trap_v2(Version::V2c, 7, 1, &oid, vec![]).unwrap();
    CommunityMessage::v2c(&b"public"[..], pdu)
        .unwrap()
        .encode()
        .unwrap()
        .to_vec()
}

const GARBAGE: &str = r#"
import random, socket, sys, time
valid = bytes.fromhex(sys.argv[1]); port = int(sys.argv[2])
random.seed(121)
def send(src, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
    s.sendto(data, ("127.0.0.1", port)); s.close()
    time.sleep(0.0005)
n = 0
for i in range(500):
    send("127.0.%d.%d" % (10 + i // 200, 1 + i % 200), bytes(random.getrandbits(8) for _ in range(random.randint(0, 300)))); n += 1
for cut in range(len(valid)):
    send("127.0.%d.%d" % (20 + cut // 200, 1 + cut % 200), valid[:cut]); n += 1
flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); flood.bind(("127.0.0.2", 0))
for i in range(1000):
    flood.sendto(valid, ("127.0.0.1", port))
    time.sleep(0.0002)
print(n)
"#;

#[test]
fn traps_and_informs_become_events_and_a_link_down_turns_the_map_at_once() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("traps.db");
    let config = dir.path().join("nocmap.toml");
    std::fs::write(
        &config,
        format!(
            "{V3_CONFIG}[traps]\nlisten = \"0.0.0.0:{TRAP_PORT}\"\nrate_per_s = 5\nburst = 20\n\
             v3_users = [\"traps-priv\", \"traps-auth\"]\n"
        ),
    )
    .unwrap();
    let cmd = ServeCmd::new(&lab, LAB.prefix)
        .poll(60)
        .args(["--no-icmp"])
        .listen(PORT)
        .config(&config)
        .db(&db);
    let mut serve = cmd.start_captured("traps");
    wait_api(
        &lab,
        &mut serve.child,
        PORT,
        "/api/topology",
        None,
        Duration::from_secs(90),
    );
    let (r1, r2) = (device_id(&lab, "r1"), device_id(&lab, "r2"));
    let noc = lab.link_addrs("noc:eth0").unwrap().0.unwrap();
    let r2_addr = lab.link_addrs("r1:eth1").unwrap().1.unwrap();
    let to = format!("{noc}:{TRAP_PORT}");
    let (_, idx) = run(&lab, "r1", "cat", &["/sys/class/net/eth1/ifindex"]);
    let eth1: u32 = idx.trim().parse().unwrap();

    // v2c linkUp from r1: an event on r1, and its early poll gives the
    // interfaces their first state long before the 60 s poll.
    let (ok, out) = notify(&lab, "r1", "snmptrap", "public", &to, LINK_UP, eth1, 1);
    assert!(ok, "snmptrap: {out}");
    let t0 = Instant::now();
    while link_status(&lab, &r1, &r2) != "up" {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the link never read up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let up = events(&lab, &format!("device={r1}&limit=10"));
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["name"], "linkUp");
    assert_eq!(
        (up[0]["version"].as_str(), up[0]["kind"].as_str()),
        (Some("2c"), Some("trap"))
    );
    assert_eq!(up[0]["matched_by"], "source");
    assert_eq!(up[0]["if_index"], eth1);
    assert_eq!(
        up[0]["varbinds"][0]["name"],
        format!("IF-MIB::ifIndex.{eth1}")
    );
    assert_eq!(up[0]["varbinds"][1]["value"], "INTEGER: 1");

    // r1's eth1 down in its namespace, then the linkDown trap: the link
    // reads down within 2 s (the next regular poll is up to 60 s away).
    assert!(run(&lab, "r1", "ip", &["link", "set", "eth1", "down"]).0);
    // A device sends linkDown once its agent sees the change (snmpd's own
    // linkUpDownNotifications read its interface cache, refreshed every
    // 3 s): wait until r1's agent answers down, as the device would.
    let oper = format!("{IF_OPER}.{eth1}");
    let t_cache = Instant::now();
    loop {
        let (_, v) = run(
            &lab,
            "r1",
            "snmpget",
            &["-v", "2c", "-c", "public", "-Oqv", "127.0.0.1", &oper],
        );
        if v.trim() == "down" || v.trim() == "2" {
            break;
        }
        assert!(
            t_cache.elapsed() < Duration::from_secs(10),
            "r1's agent never saw eth1 down: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "r1's agent saw eth1 down after {} ms",
        t_cache.elapsed().as_millis()
    );
    let t0 = Instant::now();
    let (ok, out) = notify(&lab, "r1", "snmptrap", "public", &to, LINK_DOWN, eth1, 2);
    assert!(ok, "snmptrap: {out}");
    while link_status(&lab, &r1, &r2) != "down" {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "the link did not turn down within 2 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "linkDown trap to link down in /api/topology: {} ms",
        t0.elapsed().as_millis()
    );
    let down = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(down[0]["name"], "linkDown");
    assert_eq!(down[0]["varbinds"][1]["value"], "INTEGER: 2");

    // An inform is acknowledged (snmpinform fails without a Response); one
    // with a community serve does not know is not.
    let (ok, out) = notify(&lab, "r1", "snmpinform", "public", &to, LINK_DOWN, eth1, 2);
    assert!(ok, "snmpinform was not acknowledged: {out}");
    let (ok, _) = notify(&lab, "r1", "snmpinform", "nope", &to, LINK_DOWN, eth1, 2);
    assert!(!ok, "an inform with an unknown community was acknowledged");
    let inform = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(
        (inform[0]["kind"].as_str(), inform[0]["name"].as_str()),
        (Some("inform"), Some("linkDown"))
    );

    // SNMPv3. eth1 up again, then an authPriv (SHA/AES) linkUp from r1's
    // own engine id: stored as a v3 trap, and its early poll turns the
    // link up within 2 s as v2c's does.
    let t_v3 = Instant::now();
    let priv_user = v3_flags("noc-priv", "auth-pass-121", Some("priv-pass-121"));
    let auth_user = v3_flags("noc-auth", "auth-pass-122", None);
    assert!(run(&lab, "r1", "ip", &["link", "set", "eth1", "up"]).0);
    wait_agent_sees(&lab, &oper, "up");
    let t0 = Instant::now();
    let (ok, out) = notify_v3(&lab, "snmptrap", &priv_user, &to, LINK_UP, eth1, 1);
    assert!(ok, "snmptrap -v3 authPriv: {out}");
    while link_status(&lab, &r1, &r2) != "up" {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "the v3 linkUp trap did not turn the link up within 2 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v3 = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(
        (
            v3[0]["name"].as_str(),
            v3[0]["version"].as_str(),
            v3[0]["kind"].as_str()
        ),
        (Some("linkUp"), Some("3"), Some("trap")),
        "{v3:?}"
    );
    assert_eq!(v3[0]["if_index"], eth1);
    assert_eq!(v3[0]["varbinds"][1]["value"], "INTEGER: 1");
    // authNoPriv linkDown (eth1 down first, as the device would).
    assert!(run(&lab, "r1", "ip", &["link", "set", "eth1", "down"]).0);
    wait_agent_sees(&lab, &oper, "down");
    let t0 = Instant::now();
    let (ok, out) = notify_v3(&lab, "snmptrap", &auth_user, &to, LINK_DOWN, eth1, 2);
    assert!(ok, "snmptrap -v3 authNoPriv: {out}");
    while link_status(&lab, &r1, &r2) != "down" {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "the v3 linkDown trap did not turn the link down within 2 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v3 = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(
        (v3[0]["name"].as_str(), v3[0]["version"].as_str()),
        (Some("linkDown"), Some("3"))
    );
    assert_eq!(
        v3[0]["varbinds"][0]["name"],
        format!("IF-MIB::ifIndex.{eth1}")
    );
    assert_eq!(v3[0]["varbinds"][1]["value"], "INTEGER: 2");
    // An authPriv inform: snmpinform discovers serve's engine id and exits
    // 0 only on serve's authenticated, encrypted Response.
    let (ok, out) = notify_v3(&lab, "snmpinform", &priv_user, &to, LINK_DOWN, eth1, 2);
    assert!(ok, "snmpinform -v3 was not acknowledged: {out}");
    let inform = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(
        (inform[0]["kind"].as_str(), inform[0]["version"].as_str()),
        (Some("inform"), Some("3"))
    );
    // A wrong passphrase: refused, counted, no event.
    let before = events(&lab, &format!("device={r1}&limit=100")).len();
    let wrong = v3_flags("noc-priv", "not-the-pass", Some("priv-pass-121"));
    let (ok, out) = notify_v3(&lab, "snmptrap", &wrong, &to, LINK_UP, eth1, 1);
    assert!(ok, "snmptrap -v3 (wrong passphrase) did not send: {out}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        events(&lab, &format!("device={r1}&limit=100")).len(),
        before
    );
    let m = noc_get(&lab, PORT, "/metrics").expect("/metrics");
    let digest = metric(&m, "nocmap_traps_dropped_total{reason=\"v3_wrong_digest\"}");
    assert_eq!(digest, 1.0, "v3_wrong_digest");
    let v3_received = (
        metric(
            &m,
            "nocmap_traps_received_total{version=\"3\",kind=\"trap\"}",
        ),
        metric(
            &m,
            "nocmap_traps_received_total{version=\"3\",kind=\"inform\"}",
        ),
    );
    assert_eq!(v3_received, (2.0, 1.0));
    eprintln!("SNMPv3 steps: {} ms", t_v3.elapsed().as_millis());

    // v1 coldStart sent from the noc host itself (no device's address)
    // naming r2 in its agent-addr field.
    let agent = r2_addr.to_string();
    let (ok, out) = run(
        &lab,
        "noc",
        "snmptrap",
        &[
            "-v",
            "1",
            "-c",
            "public",
            &format!("127.0.0.1:{TRAP_PORT}"),
            ".1.3.6.1.4.1.8072.3.2.10",
            &agent,
            "0",
            "0",
            "",
        ],
    );
    assert!(ok, "snmptrap -v 1: {out}");
    std::thread::sleep(Duration::from_millis(500));
    let v1 = events(&lab, &format!("device={r2}&since=1h"));
    assert_eq!(v1.len(), 1, "{v1:?}");
    assert_eq!(
        (v1[0]["name"].as_str(), v1[0]["version"].as_str()),
        (Some("coldStart"), Some("1"))
    );
    assert_eq!(v1[0]["matched_by"], "agent_addr");

    // Garbage and a flood, then one more real trap.
    let valid = trap_bytes();
    let hex: String = valid.iter().map(|b| format!("{b:02x}")).collect();
    let (ok, out) = run(
        &lab,
        "noc",
        "python3",
        &["-c", GARBAGE, &hex, &TRAP_PORT.to_string()],
    );
    assert!(ok, "python3: {out}");
    let (ok, out) = notify(&lab, "r1", "snmptrap", "public", &to, WARM_START, eth1, 2);
    assert!(ok, "snmptrap: {out}");
    std::thread::sleep(Duration::from_millis(1000));
    let last = events(&lab, &format!("device={r1}&limit=1"));
    assert_eq!(
        last[0]["name"], "warmStart",
        "the receiver stopped taking traps"
    );
    let m = noc_get(&lab, PORT, "/metrics").expect("/metrics");
    let malformed = metric(&m, "nocmap_traps_dropped_total{reason=\"malformed\"}");
    let limited = metric(&m, "nocmap_traps_dropped_total{reason=\"rate_limited\"}");
    let unknown = metric(
        &m,
        "nocmap_traps_dropped_total{reason=\"unknown_community\"}",
    );
    let v2c_traps = metric(
        &m,
        "nocmap_traps_received_total{version=\"2c\",kind=\"trap\"}",
    );
    let informs = metric(
        &m,
        "nocmap_traps_received_total{version=\"2c\",kind=\"inform\"}",
    );
    let v1_traps = metric(
        &m,
        "nocmap_traps_received_total{version=\"1\",kind=\"trap\"}",
    );
    let acked = metric(&m, "nocmap_traps_informs_acknowledged_total");
    eprintln!(
        "malformed {malformed}, rate-limited {limited}, unknown community {unknown}, received v2c {v2c_traps} v1 {v1_traps} informs {informs} (acked {acked})"
    );
    // Every truncation and nearly all random datagrams are malformed.
    assert!(
        malformed >= valid.len() as f64 + 450.0,
        "malformed {malformed}"
    );
    // The flood passes its burst of 20 and 5 a second (the sender takes
    // well under a second here; 900 leaves room for a slow machine).
    assert!((900.0..=980.0).contains(&limited), "rate-limited {limited}");
    assert_eq!(unknown, 1.0);
    assert_eq!((informs, acked, v1_traps), (1.0, 2.0, 1.0));
    assert!((23.0..=100.0).contains(&v2c_traps), "v2c traps {v2c_traps}");
    serve.stop();
}

#[test]
fn port_162_without_the_capability_is_an_error_that_says_what_is_needed() {
    require_root!();
    let (ok, err) = support::serve::unprivileged_with("[traps]\nlisten = \"127.0.0.1:162\"\n");
    assert!(!ok, "serve started: {err}");
    assert!(
        err.contains("cannot receive traps on 127.0.0.1:162")
            && err.contains("CAP_NET_BIND_SERVICE")
            && err.contains("Permission denied"),
        "{err}"
    );
}
