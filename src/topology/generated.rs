//! A generated topology of the shape a large site's discovery gives, for
//! the tests and the test build (`test-faults`) only: `n` switches of 50
//! interfaces each, every string a device's own, chained by LLDP links.
use super::Topology;

/// `n` switches `sw00000`.. named `swNNNNN.<site>.example`, the i-th
/// managed at `addr(i)`, each linked to the next (Gi1/0/49 to Gi1/0/50).
pub fn switch_chain(site: &str, n: usize, addr: impl Fn(usize) -> String) -> Topology {
    let devices: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let interfaces: Vec<serde_json::Value> = (1..=50)
                .map(|p| {
                    serde_json::json!({
                        "if_index": 10_100 + p,
                        "name": format!("Gi1/0/{p}"),
                        "descr": format!("GigabitEthernet1/0/{p}"),
                        "alias": format!("access port {p} room {}", i % 97),
                        "speed_bps": 1_000_000_000u64,
                        "mac": format!("00:1b:54:{:02x}:{:02x}:{:02x}", i >> 8, i & 0xff, p),
                        "oper_status": if p % 3 == 0 { "down" } else { "up" },
                        "admin_status": "up",
                        "if_type": 6,
                    })
                })
                .collect();
            serde_json::json!({
                "id": format!("sw{i:05}"),
                "sys_name": format!("sw{i:05}.{site}.example"),
                "sys_descr": "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), \
                              Version 15.2(7)E4, RELEASE SOFTWARE (fc2)",
                "mgmt_addr": addr(i),
                "chassis_id": format!("00:1b:54:{:02x}:{:02x}:00", i >> 8, i & 0xff),
                "vendor": "cisco",
                "managed": true,
                "sys_object_id": "1.3.6.1.4.1.9.1.1208",
                "sys_location": format!("building {} floor {}", i / 40, i % 7),
                "interfaces": interfaces,
            })
        })
        .collect();
    let links: Vec<serde_json::Value> = (1..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("l{i}"),
                "a": {"device": format!("sw{:05}", i - 1), "if_name": "Gi1/0/49"},
                "b": {"device": format!("sw{i:05}"), "if_name": "Gi1/0/50"},
                "evidence": ["lldp"],
                "confidence": 1.0,
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({"devices": devices, "links": links}))
        .expect("a generated topology")
}
