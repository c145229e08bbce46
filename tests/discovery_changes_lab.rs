//! What a re-discovery finds changed goes into the history as events on
//! the devices concerned (kind `topology`), read back by
//! `/api/events?device=&kind=topology` and shown in the device panel like
//! traps and syslog. Lab `rdc` (10.153.0.0/16): noc - r1 - r2, serve
//! re-discovering every 2 s. r1's eth1 goes down: r2 drops out of r1's
//! LLDP table (lldpd's hold time is 8 s here) and out of reach, and the
//! next run stores the r1-r2 link as removed on r1 and r2 removed; eth1
//! up again: the link comes back as added.
#[macro_use]
mod support;
use serde_json::Value;
use std::time::{Duration, Instant};

const PREFIX: &str = "10.153.0.0/16";
const PORT: u16 = 18_153;

fn get(lab: &nocmap_lab::Lab, path: &str) -> Option<Value> {
    support::noc_get(lab, PORT, path).and_then(|b| serde_json::from_str(&b).ok())
}

/// The id of the device named `name` in `/api/devices`.
fn id_of(lab: &nocmap_lab::Lab, name: &str) -> Option<String> {
    get(lab, "/api/devices")?
        .as_array()?
        .iter()
        .find(|d| d["sys_name"] == name)?["id"]
        .as_str()
        .map(str::to_string)
}

/// Waits up to `secs` for a topology event `name` on `device`.
fn wait_event(
    lab: &nocmap_lab::Lab,
    device: &str,
    name: &str,
    secs: u64,
    log: &dyn Fn() -> String,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let path = format!("/api/events?device={device}&kind=topology&limit=50");
        let events = get(lab, &path).unwrap_or(Value::Null);
        if let Some(e) = events["events"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["name"] == name))
        {
            return e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {name} event on {device} within {secs} s: {events}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_rediscovery_change_becomes_events_on_its_devices() {
    require_root!();
    let lab = support::lab_up_toml(
        &support::lab::LabToml::new("rdc", PREFIX)
            .routers(&["r1", "r2"])
            .links("noc:eth0 - r1:eth0, r1:eth1 - r2:eth1")
            .build(),
    );
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let (_dir, cfg, db, _log) = support::serve::files("rdc", "");
    let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
    let serve = support::serve::ServeCmd::bare(&lab)
        .args(["--seed", &seed, "--prefix", PREFIX, "-c", "public"])
        .args(["--rediscover-interval", "2"])
        .config(&cfg)
        .db(&db)
        .listen(PORT)
        .start_captured("rdc");
    let log = || serve.log();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (r1, r2) = loop {
        if let (Some(r1), Some(r2)) = (id_of(&lab, "r1"), id_of(&lab, "r2")) {
            break (r1, r2);
        }
        assert!(
            Instant::now() < deadline,
            "r1 and r2 not discovered\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // Nothing changed yet: no topology event at all.
    std::thread::sleep(Duration::from_secs(3));
    let none = get(&lab, "/api/events?kind=topology").unwrap();
    assert_eq!(none["events"].as_array().map(Vec::len), Some(0), "{none}");

    lab.set_if_state("r1", "eth1", false).unwrap();
    let removed = wait_event(&lab, &r1, "link_removed", 40, &log);
    let link = removed["varbinds"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.contains(&r1) && link.contains(&r2), "{removed}");
    assert_eq!(removed["kind"], "topology");
    assert_eq!(removed["source"], "discovery");
    wait_event(&lab, &r2, "device_removed", 5, &log);

    lab.set_if_state("r1", "eth1", true).unwrap();
    let added = wait_event(&lab, &r1, "link_added", 40, &log);
    assert_eq!(added["varbinds"][0]["value"], link.as_str(), "{added}");
    wait_event(&lab, &r2, "device_added", 5, &log);
    // The search finds them by name: both ends, removed and added.
    let q = get(&lab, "/api/events?kind=topology&q=link_").unwrap_or(Value::Null);
    assert!(q["events"].as_array().map_or(0, Vec::len) >= 4, "{q}");
    serve.stop();
}
