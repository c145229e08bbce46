//! Device vitals against real agents: net-snmp's HOST-RESOURCES tables in a
//! namespace (`nocmap vitals`, checked against the kernel's own figures),
//! and the ENTITY-SENSOR tables of real-device recordings (an Arista
//! switch, a Palo Alto firewall) turned into sensors in base units.
#[macro_use]
mod support;
use nocmap::vitals::{SensorKind, StorageKind, Vitals, Walked};
use support::netns::Netns;

#[test]
fn vitals_of_a_real_snmpd_match_the_kernel() {
    require_root!();
    let ns = Netns::new("nmvitals");
    ns.start_snmpd("vitalsbox");
    let out = ns
        .cmd(support::nocmap_bin().to_str().unwrap())
        .args(["vitals", "-c", "public", "127.0.0.1", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // One hrProcessorTable row per processor; net-snmp gives their load
    // only after a minute of samples, so a fresh agent may give none yet.
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(v["processors"], cpus, "{v}");
    let loads = v["cpu_loads_pct"].as_array().unwrap().len();
    assert!(loads == 0 || loads == cpus, "{v}");
    // hrStorageRam is the kernel's MemTotal.
    let mem_total_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let storage = v["storage"].as_array().unwrap();
    let ram = storage
        .iter()
        .find(|s| s["kind"] == "ram")
        .unwrap_or_else(|| panic!("no RAM row: {v}"));
    let size = ram["size_bytes"].as_u64().unwrap();
    assert_eq!(size, mem_total_kib * 1024, "{ram}");
    assert!(ram["used_bytes"].as_u64().unwrap() <= size);
    assert!(storage.iter().any(|s| s["kind"] == "fixed_disk"), "{v}");
    // UCD's memory group is the kernel's MemTotal too, with free, buffers
    // and cache apart: what programs use is within a few percent of what
    // /proc/meminfo says now (the box keeps running between the reads).
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let field = |name: &str| -> f64 {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    let m = &v["memory"];
    assert_eq!(m["total_real_kib"], mem_total_kib, "{v}");
    let used = |free: f64, buffers: f64, cached: f64| {
        (mem_total_kib as f64 - free - buffers - cached) * 100.0 / mem_total_kib as f64
    };
    let ours = used(
        m["free_real_kib"].as_f64().unwrap(),
        m["buffer_kib"].as_f64().unwrap(),
        m["cached_kib"].as_f64().unwrap(),
    );
    let kernel = used(field("MemFree:"), field("Buffers:"), field("Cached:"));
    assert!(
        (ours - kernel).abs() < 5.0,
        "UCD {ours:.1} % vs /proc/meminfo {kernel:.1} %: {m}"
    );
    let hr_ram = ram["used_bytes"].as_f64().unwrap() * 100.0 / size as f64;
    assert!(
        ours < hr_ram,
        "UCD {ours:.1} % vs hrStorageRam {hr_ram:.1} %"
    );
    // The table form names the same rows.
    let out = ns
        .cmd(support::nocmap_bin().to_str().unwrap())
        .args(["vitals", "-c", "public", "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("cpu "), "{text}");
    assert!(text.contains("Physical memory"), "{text}");
    assert!(
        text.contains("\nmemory   ") && text.contains("(UCD)"),
        "{text}"
    );
}

fn recorded_vitals(rel: &str) -> Vitals {
    let rec = support::recordings::load(rel);
    let under = |root: &[u32]| {
        rec.varbinds
            .iter()
            .filter(|vb| vb.oid.arcs().starts_with(root))
            .cloned()
            .collect::<Vec<_>>()
    };
    Vitals::from_walks(&Walked {
        processor_load: under(nocmap::vitals::HR_PROCESSOR_ENTRY),
        storage: under(nocmap::vitals::HR_STORAGE_ENTRY),
        sensors: under(nocmap::vitals::ENT_PHY_SENSOR_ENTRY),
        physical: under(nocmap::vitals::ENT_PHYSICAL_ENTRY),
        ucd: [
            under(nocmap::vitals::ucd::UCD_MEMORY),
            under(nocmap::vitals::ucd::UCD_SYSTEM_STATS),
        ]
        .concat(),
        inventory: true,
    })
}

#[test]
fn sensors_of_real_switches_and_firewalls() {
    require_recordings!();
    let arista = recorded_vitals("cloud/arista-dcs-7150s-52-cl");
    assert_eq!(
        arista.sensors.len(),
        95,
        "every sensor row: {:?}",
        arista.unusable
    );
    assert!(arista.unusable.is_empty(), "{:?}", arista.unusable);
    let temps: Vec<f64> = arista
        .sensors
        .iter()
        .filter(|s| s.kind == SensorKind::Celsius)
        .map(|s| s.value)
        .collect();
    assert_eq!(temps.len(), 17);
    // Tenths of a degree (precision 1): 282 is 28.2 °C.
    assert!(temps.iter().all(|t| (0.0..=120.0).contains(t)), "{temps:?}");
    assert!(temps.contains(&28.2), "{temps:?}");
    // Volts in volts whatever the scale (milli or units).
    for s in arista
        .sensors
        .iter()
        .filter(|s| s.kind == SensorKind::VoltsDc)
    {
        assert!((0.0..=60.0).contains(&s.value), "{s:?}");
    }
    assert!(arista.sensors.iter().all(|s| !s.name.is_empty()));
    // The chassis as the recording's entPhysicalTable row 1 gives it (hex
    // strings decoded by hand from the .snmprec lines).
    let inv = arista.inventory.as_ref().unwrap();
    assert_eq!(inv.entities, 280);
    let chassis = inv.chassis.as_ref().unwrap();
    assert_eq!(chassis.index, 1);
    assert_eq!(chassis.model.as_deref(), Some("DCS-7150S-52-CL"));
    assert_eq!(chassis.serial.as_deref(), Some("JPE15151458"));
    assert_eq!(chassis.hardware_rev.as_deref(), Some("02.02"));
    assert_eq!(
        chassis.firmware_rev.as_deref(),
        Some("Aboot-norcal2-2.0.10-1458058")
    );
    assert_eq!(chassis.software_rev.as_deref(), Some("4.20.5F"));
    assert!(inv.unusable.is_empty(), "{:?}", inv.unusable);
    // Counted from the recording's class and serial columns by a separate
    // reading: 18 chassis, power supply, fan and module rows, and 43
    // containers with a serial (the transceiver bays).
    assert_eq!(inv.parts.len(), 61);
    assert_eq!(inv.parts.iter().filter(|p| p.serial.is_some()).count(), 46);

    let palo = recorded_vitals("network/firewall/paloalto-pa-5000");
    assert_eq!(palo.sensors.len(), 14, "{:?}", palo.unusable);
    assert!(
        palo.storage.iter().all(|s| s.used_bytes <= s.size_bytes),
        "{:?}",
        palo.storage
    );
    let _ = StorageKind::Ram;

    // Processor load as real agents give it: a Gauge32 from one, Integer32
    // per core from another.
    let bdcom = recorded_vitals("network/switch/bdcom-s5612");
    assert_eq!(bdcom.cpu_load_pct, Some(76.0));
    let ruckus = recorded_vitals("network/wifi/ruckus-smartcell-gateway");
    assert!(ruckus.processors > 1, "{ruckus:?}");
    assert_eq!(ruckus.cpu_loads_pct.len(), ruckus.processors);
    let mean = ruckus
        .cpu_loads_pct
        .iter()
        .map(|l| f64::from(*l))
        .sum::<f64>()
        / ruckus.processors as f64;
    assert_eq!(ruckus.cpu_load_pct, Some(mean));
    assert!(
        ruckus.storage.iter().any(|s| s.kind == StorageKind::Ram),
        "{:?}",
        ruckus.storage
    );
}

#[test]
fn ucd_memory_and_cpu_idle_of_real_agents() {
    require_recordings!();
    // A Vyatta router's UCD memory group: 7,844,796 KiB in all, 416,276
    // free, 826,980 buffers, 4,166,748 cached; programs use the rest.
    let vyatta = recorded_vitals("network/router/vyatta-unknown");
    let m = vyatta.memory.expect("vyatta serves UCD memory");
    assert_eq!(
        (
            m.total_real_kib,
            m.free_real_kib,
            m.buffer_kib,
            m.cached_kib
        ),
        (7_844_796, 416_276, Some(826_980), Some(4_166_748))
    );
    assert_eq!(m.used_kib(), 2_434_792);
    let s = vyatta.summary();
    assert!(s.memory_excludes_cache);
    assert!((s.memory_pct.unwrap() - 31.037).abs() < 0.001, "{s:?}");
    // Its hrStorageRam counts the cache as used: a different, larger share.
    let ram = vyatta
        .storage
        .iter()
        .find(|s| s.kind == StorageKind::Ram)
        .expect("hrStorageRam");
    assert!(ram.used_ratio() * 100.0 > 80.0, "{ram:?}");
    // An HP Onboard Administrator has no hrProcessorTable: its load is
    // 100 − ssCpuIdle (79).
    let oa = recorded_vitals("bmc/hp-onboard-administrator");
    assert_eq!(oa.processors, 0);
    assert_eq!(oa.cpu_load_pct, Some(21.0));
    let m = oa.memory.expect("the OA serves UCD memory");
    assert_eq!(m.used_kib(), 1_036_016 - 911_900 - 16_956 - 47_024);
}

/// serve reads every managed device's vitals on `[poll] vitals_interval_s`
/// and shows them in /api/devices and /metrics.
#[test]
fn serve_reads_vitals_into_the_api_and_metrics() {
    require_root!();
    let prefix = "10.119.0.0/16";
    let lab = support::lab_up_toml(
        &support::lab::LabToml::new("vit", prefix)
            .routers(&["r1"])
            .links("noc:eth0 - r1:eth0")
            .build(),
    );
    lab.wait_lldp_settled(std::time::Duration::from_secs(30))
        .unwrap();
    // RAM in use is above 1 % on any Linux: the rule fires from the
    // agent's own hrStorageRam row.
    let config = "[poll]\nvitals_interval_s = 2\n\n\
                  [[alert]]\nname = \"ram\"\nkind = \"memory_used\"\nthreshold = 1\nfor_s = 0\n";
    let (_dir, cfg, db, _log) = support::serve::files("vit", config);
    let port = 18472;
    let serve = support::serve::ServeCmd::new(&lab, prefix)
        .config(&cfg)
        .db(&db)
        .listen(port)
        .start_captured("vit");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    let r1 = loop {
        let devices = support::noc_get(&lab, port, "/api/devices")
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok());
        let r1 = devices.as_ref().and_then(|d| {
            d.as_array()?
                .iter()
                .find(|d| d["sys_name"] == "r1" && !d["health"]["vitals"].is_null())
                .cloned()
        });
        if let Some(r1) = r1 {
            break r1;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no vitals for r1: {devices:?}\n{}",
            serve.log()
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    let vitals = &r1["health"]["vitals"];
    assert!(vitals["processors"].as_u64().unwrap() > 0, "{vitals}");
    assert!(
        vitals["storage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "ram"),
        "{vitals}"
    );
    assert!(r1["health"]["last_vitals_ms"].as_i64().is_some(), "{r1}");
    let metrics = support::noc_get(&lab, port, "/metrics").unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("nocmap_device_storage_size_bytes{")
                && l.contains("sys_name=\"r1\"")
                && l.contains("kind=\"ram\"")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("nocmap_device_memory_bytes{")
                && l.contains("sys_name=\"r1\"")
                && l.contains("state=\"used\"")),
        "{metrics}"
    );
    // The history keeps each read's summary: r1's memory in use as a
    // device series, equal to what its UCD memory group says (within a
    // read): total − free − buffers − cached.
    let id = r1["id"].as_str().unwrap().to_string();
    let m = &vitals["memory"];
    let kib = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("no {k}: {vitals}"));
    let ram_pct =
        (kib("total_real_kib") - kib("free_real_kib") - kib("buffer_kib") - kib("cached_kib"))
            * 100.0
            / kib("total_real_kib");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let points = loop {
        let path =
            format!("/api/devices/{id}/series?metric=memory_used_pct&since=-1h&resolution=raw");
        let pts = support::noc_get(&lab, port, &path)
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| v["points"].as_array().cloned())
            .unwrap_or_default();
        if pts.len() >= 2 {
            break pts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no memory_used_pct history for r1: {pts:?}"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    assert!(
        points
            .iter()
            .any(|p| (p["avg"].as_f64().unwrap() - ram_pct).abs() < 5.0),
        "{points:?} vs {ram_pct}"
    );
    // net-snmp on Linux has no ENTITY-MIB: the inventory was walked and is empty.
    assert_eq!(vitals["inventory"]["entities"], 0, "{vitals}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let active = support::active_alerts(&lab, port);
        if active
            .iter()
            .any(|a| a["rule"] == "ram" && a["device"]["name"] == "r1")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the memory_used rule did not fire for r1: {active:?}"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    serve.stop();
}
