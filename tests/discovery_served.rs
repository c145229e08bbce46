//! Served recordings: snmpsim answers for real-device recordings (PyPI
//! snmpsim-data 1.0.1, fetched by tests/fetch-recordings.sh, never
//! committed) on loopback inside a namespace, and `nocmap discover` reads
//! them: the topology it builds must equal the direct parse of the same
//! recording (`report_from_varbinds`), and the chassis' ENTITY-MIB row is
//! read through discovery's column walks and GET. The direct parse alone is
//! tests/discovery_golden.rs.
#[macro_use]
mod support;

use nocmap::discovery::report_from_varbinds;

/// The recordings served, by file name (= the community snmpsim answers to).
const SERVED: [&str; 7] = [
    "network/switch/cisco-c3750",
    "network/switch/cisco-c3560",
    "network/router/juniper-mx960-13-3r9-13",
    "cloud/arista-dcs-7150s-52-cl",
    "network/switch/hpe-procurve-516733-b21",
    "network/router/ruijie-n18010",
    "network/switch/h3c-e528-1",
];

const UNSORTED: &str = "network/router/ruijie-n18010";
const SORTED_COMMUNITY: &str = "ruijie-n18010-sorted";

/// A topology as JSON with the managed device's id replaced by `SELF` and
/// its engine id left out: the served agent answers snmpEngineID.0 with
/// snmpsim's own engine id (one for every recording it serves), which the
/// recording does not hold, and its id comes from it, so only those may
/// differ.
fn normalised(t: &nocmap::topology::Topology) -> serde_json::Value {
    let mut t = t.clone();
    for d in &mut t.devices {
        d.engine_id = None;
    }
    let t = &t;
    let managed: Vec<&str> = t
        .devices
        .iter()
        .filter(|d| d.managed)
        .map(|d| d.id.0.as_str())
        .collect();
    assert_eq!(managed.len(), 1, "one managed device: {managed:?}");
    let text = serde_json::to_string(t).unwrap();
    let text = text.replace(&format!("\"{}", managed[0]), "\"SELF");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn served_recordings_discover_like_the_direct_parse() {
    use nocmap::discovery::{identity::merge_same_devices, links::build_topology};
    require_recordings!();
    require_root!();
    let venv = support::recordings::recordings_root().join("venv");
    if !venv.join(".complete").exists() {
        eprintln!("SKIPPED: snmpsim not installed; run tests/fetch-recordings.sh --serve");
        return;
    }
    let ns = support::netns::Netns::new("gd-served");
    let data = ns.dir.join("data");
    let cache = ns.dir.join("cache");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    for rel in SERVED {
        let name = rel.rsplit('/').next().unwrap();
        std::fs::copy(
            support::recordings::recording_path(rel),
            data.join(format!("{name}.snmprec")),
        )
        .unwrap();
    }
    // The Ruijie recording is not in OID order (lldpRemTable rows follow the
    // local port, not the time mark), so snmpsim serves a walk that goes
    // backwards. A sorted copy is served as well, under its own community.
    let text = std::fs::read_to_string(support::recordings::recording_path(UNSORTED)).unwrap();
    std::fs::write(
        data.join(format!("{SORTED_COMMUNITY}.snmprec")),
        support::recordings::sorted_snmprec(&text),
    )
    .unwrap();
    // snmpsim refuses to run as root; it drops to nobody, who must read the
    // data and write the index cache.
    let out = support::netns::sh(&format!(
        "chown -R nobody:nogroup {d} && chmod -R a+rX {d}",
        d = ns.dir.display()
    ));
    assert!(out.status.success(), "chown: {out:?}");
    let log = ns.dir.join("snmpsim.log");
    // The snmpsim we started, killed by its pid when the test ends.
    let _sim = support::Kill(
        ns.cmd(venv.join("bin/snmpsim-command-responder").to_str().unwrap())
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg("--agent-udpv4-endpoint=127.0.0.1:1161")
            .args(["--process-user=nobody", "--process-group=nogroup"])
            .arg(format!("--logging-method=file:{}", log.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start snmpsim"),
    );

    let mut failures = Vec::new();
    let served_as: Vec<(&str, &str)> = SERVED
        .iter()
        .map(|rel| (*rel, rel.rsplit('/').next().unwrap()))
        .chain([(UNSORTED, SORTED_COMMUNITY)])
        .collect();
    for (rel, name) in served_as {
        // Wait until this recording answers (snmpsim indexes files first).
        let ready = (0..240).any(|_| {
            let ok = ns
                .cmd("snmpget")
                .args(["-v2c", "-c", name, "-t", "1", "-r", "0"])
                .args(["127.0.0.1:1161", "1.3.6.1.2.1.1.5.0"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !ok {
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            ok
        });
        assert!(
            ready,
            "snmpsim never answered for {name}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let started = std::time::Instant::now();
        let out = ns
            .cmd(env!("CARGO_BIN_EXE_nocmap"))
            .args(["discover", "--seed", "127.0.0.1", "--port", "1161"])
            .args(["-c", name, "--json"])
            .output()
            .expect("run nocmap");
        assert!(
            out.status.success(),
            "{name}: nocmap discover failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let served: nocmap::topology::Topology = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: discover --json is not a topology: {e}"));

        let rec = support::recordings::load(rel);
        let direct = report_from_varbinds(Some("127.0.0.1".parse().unwrap()), &rec.varbinds);
        let expected = build_topology(&merge_same_devices(vec![direct]));
        if rel == UNSORTED && name != SORTED_COMMUNITY {
            // Served in file order: the walk must stop where the recording
            // goes backwards (…4.1.1.4.389983000.3.1 is followed by
            // …4.1.1.4.232938000.4.1) and say so, with the rest intact.
            let me = served.devices.iter().find(|d| d.managed).unwrap();
            let stop = "lldpRemTable: agent returned non-increasing OID \
                        1.0.8802.1.1.2.1.4.1.1.4.232938000.4.1 after \
                        1.0.8802.1.1.2.1.4.1.1.4.389983000.3.1";
            assert!(
                me.partial.iter().any(|p| p == stop),
                "{name}: expected partial {stop:?}, got {:?}",
                me.partial
            );
            let want = expected.devices.iter().find(|d| d.managed).unwrap();
            assert_eq!(me.interfaces, want.interfaces, "{name}: interfaces");
            assert_eq!(me.sys_name, want.sys_name, "{name}: sysName");
            eprintln!("{name}: served unsorted: stopped at the backwards OID, as expected");
            continue;
        }
        let (got, want) = (normalised(&served), normalised(&expected));
        let me = served.devices.iter().find(|d| d.managed).unwrap();
        if name == "arista-dcs-7150s-52-cl" {
            // The chassis row (entPhysicalClass chassis, contained in
            // nothing), read by two column walks and one GET; its values
            // as the recording's own hex lines decode.
            let hw = me.hardware.clone().unwrap_or_default();
            assert_eq!(
                (
                    hw.model.as_deref(),
                    hw.serial.as_deref(),
                    hw.hardware_rev.as_deref(),
                    hw.firmware.as_deref()
                ),
                (
                    Some("DCS-7150S-52-CL"),
                    Some("JPE15151458"),
                    Some("02.02"),
                    Some("Aboot-norcal2-2.0.10-1458058")
                ),
                "{name}: {:?}",
                me.hardware
            );
        }
        eprintln!("{name}: hardware {:?}", me.hardware);
        let links = served.links.len();
        eprintln!(
            "{name}: served discover in {:.1?}: {} devices, {links} links",
            started.elapsed(),
            served.devices.len()
        );
        if got != want {
            let list = |v: &serde_json::Value, k: &str| -> Vec<String> {
                v[k].as_array()
                    .map(|a| a.iter().map(|x| x.to_string()).collect())
                    .unwrap_or_default()
            };
            let mut diff = Vec::new();
            for k in ["devices", "links"] {
                let (g, w) = (list(&got, k), list(&want, k));
                diff.extend(
                    g.iter()
                        .filter(|x| !w.contains(x))
                        .map(|x| format!("served only: {x}")),
                );
                diff.extend(
                    w.iter()
                        .filter(|x| !g.contains(x))
                        .map(|x| format!("direct only: {x}")),
                );
            }
            failures.push(format!("{name}:\n  {}", diff.join("\n  ")));
        }
        assert!(
            links > 0 || name == "none",
            "{name}: served topology has no link"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
