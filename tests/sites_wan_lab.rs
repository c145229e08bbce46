//! Links between sites at the central, over a real nats-server (Debian's
//! 2.9.10): the noc runs nats-server and `nocmap serve` as central, which
//! polls nothing; site `wana`'s poller runs in ra and polls ra and sa,
//! site `wanb`'s in rb and polls rb and sb, each given only its own two
//! devices (seeds and /32 prefixes of their loopbacks):
//!
//! ```text
//!        ┌──── noc (nats-server, central) ────┐
//!        ra ══════════ WAN /30, LLDP ══════════ rb
//!        │                                     │
//!        sa ════ WAN /30, no LLDP agent ════ sb
//! ```
//!
//! Each site alone sees the other's router only as an unmanaged LLDP
//! neighbour (its address is outside the site's prefixes) and sa–sb not at
//! all. The central's `/api/topology` draws ra–rb from LLDP (and the
//! shared /30), each router in its own site, no unmanaged copy of either,
//! and sa–sb from the shared /30 alone. Without the merge's links between
//! sites the first wait fails.
#[macro_use]
mod support;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::lab::LabToml;
use support::serve::{ServeCmd, files};

const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_260;
const CENTRAL_API: u16 = 18_261;
const A_API: u16 = 18_262;
const B_API: u16 = 18_263;

/// The central's map: devices by sysName (site, managed, how many share
/// the name) and links as (sorted sysName pair, evidence).
struct Map {
    devices: BTreeMap<String, (Option<String>, bool, usize)>,
    links: Vec<((String, String), Vec<String>)>,
}

fn central_map(lab: &nocmap_lab::Lab) -> Option<Map> {
    let body = support::noc_get(lab, CENTRAL_API, "/api/topology")?;
    let t: Value = serde_json::from_str(&body).ok()?;
    let mut devices: BTreeMap<String, (Option<String>, bool, usize)> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for d in t["devices"].as_array()? {
        let name = d["sys_name"].as_str().unwrap_or("?").to_string();
        names.insert(d["id"].as_str()?.to_string(), name.clone());
        let e = devices.entry(name).or_insert((None, false, 0));
        e.2 += 1;
        if d["managed"] == true {
            e.0 = d["site"].as_str().map(String::from);
            e.1 = true;
        }
    }
    let links = t["links"]
        .as_array()?
        .iter()
        .filter_map(|l| {
            let end = |e: &str| names.get(l[e]["device"].as_str()?).cloned();
            let (a, b) = (end("a")?, end("b")?);
            let ev = l["evidence"]
                .as_array()?
                .iter()
                .filter_map(|e| e.as_str().map(String::from))
                .collect();
            Some((if a <= b { (a, b) } else { (b, a) }, ev))
        })
        .collect();
    Some(Map { devices, links })
}

impl Map {
    fn link(&self, a: &str, b: &str) -> Option<&Vec<String>> {
        self.links
            .iter()
            .find(|(ends, _)| ends == &(a.to_string(), b.to_string()))
            .map(|(_, ev)| ev)
    }
}

#[test]
fn the_central_links_two_sites_routers_from_lldp_and_a_shared_subnet() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let toml = LabToml::new("natwan", "10.111.0.0/16")
        .routers(&["ra", "rb"])
        .node("sa", "router", "lldp = false")
        .node("sb", "router", "lldp = false")
        .links(
            "noc:eth0 - ra:eth0, noc:eth1 - rb:eth0, ra:eth1 - rb:eth1, \
             ra:eth2 - sa:eth0, rb:eth2 - sb:eth0, sa:eth1 - sb:eth1",
        )
        .build();
    let lab = support::lab_up_toml(&toml);
    let (dir, central_cfg, central_db, _) = files(
        "central",
        &format!(
            "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n"
        ),
    );
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let central = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&central_cfg)
        .db(&central_db)
        .listen(CENTRAL_API)
        .start_captured("central");
    // ra and rb must hear each other before their sites discover.
    lab.wait_lldp_settled(Duration::from_secs(20)).unwrap();
    let mut sites = Vec::new();
    for (site, router, stub, noc_if, api) in [
        ("wana", "ra", "sa", "noc:eth0", A_API),
        ("wanb", "rb", "sb", "noc:eth1", B_API),
    ] {
        let noc = lab.link_addrs(noc_if).unwrap().0.unwrap();
        let cfg = dir.path().join(format!("{site}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "[nats]\nurl = \"nats://{noc}:{NATS_PORT}\"\nsite = \"{site}\"\n\
                 role = \"poller\"\nheartbeat_s = 1\n"
            ),
        )
        .unwrap();
        let mut cmd = ServeCmd::bare(&lab)
            .in_node(router)
            .verbose()
            // A rediscovery within the wait in case a loaded machine made
            // the first one miss a device.
            .args(["-c", "public", "--rediscover-interval", "15", "--no-icmp"])
            .poll(5);
        for node in [router, stub] {
            let a = lab.mgmt_addr(node).unwrap().to_string();
            cmd = cmd.args(["--seed", &a, "--prefix", &format!("{a}/32")]);
        }
        sites.push(
            cmd.config(&cfg)
                .db(&dir.path().join(format!("{site}.db")))
                .listen(api)
                .start_captured(site),
        );
    }

    let waited = Instant::now();
    let map = support::wait_until(
        "ra–rb and sa–sb between the sites at the central",
        Duration::from_secs(30),
        || {
            // What the central has, printed once the wait is nearly over.
            if waited.elapsed() > Duration::from_secs(28) {
                eprintln!(
                    "the central's map: {:?}",
                    support::noc_get(&lab, CENTRAL_API, "/api/topology")
                );
            }
            let m = central_map(&lab)?;
            let lldp = m.link("ra", "rb")?.contains(&"lldp".to_string());
            (lldp && m.link("sa", "sb").is_some()).then_some(m)
        },
    );
    for (name, site) in [
        ("ra", "wana"),
        ("sa", "wana"),
        ("rb", "wanb"),
        ("sb", "wanb"),
    ] {
        assert_eq!(
            map.devices.get(name),
            Some(&(Some(site.to_string()), true, 1)),
            "{name} once, managed, in its site: {:?}",
            map.devices
        );
    }
    assert_eq!(
        map.link("ra", "rb"),
        Some(&vec!["lldp".to_string(), "subnet".to_string()]),
        "ra–rb from LLDP and the shared /30"
    );
    assert_eq!(
        map.link("sa", "sb"),
        Some(&vec!["subnet".to_string()]),
        "sa–sb from the shared /30 alone"
    );
    let between = map
        .links
        .iter()
        .filter(|((a, b), _)| (a, b) == (&"ra".to_string(), &"rb".to_string()))
        .count();
    assert_eq!(between, 1, "one ra–rb link: {:?}", map.links);
    drop(sites);
    drop(central);
    eprintln!(
        "links between sites at the central after {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}
