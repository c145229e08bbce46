//! One map across sites, over a real nats-server (Debian's 2.9.10): the
//! central's namespace (noc) runs nats-server, a webhook receiver and
//! `nocmap serve` as central, which polls nothing; the site's namespace
//! runs `nocmap serve` as the site poller of itself and of `dev` behind
//! it (snmpd and lldpd in both):
//!
//! ```text
//!   noc (nats-server, central) ──WAN── site (poller) ── dev
//! ```
//!
//! After the site's discovery the central's `/api/topology` holds the
//! site's two devices with `site` = the site's name and their LLDP link,
//! and `dev` up from the site's verdicts. nftables in the site then cuts
//! the WAN for 8 s: the central shows the site's devices stale/unknown
//! (never down), records one "site poller unreachable" alert and its
//! receiver is told once, and `nocmap_site_up` is 0. After the heal `dev`
//! is up again, the alert resolved (told once more) and the gauge 1.
//! The site's link at the central is drawn from the site's interface polls:
//! ok with a rate while the site is heard, stale during the cut. Without
//! the site's topology and verdicts on the wire the central's map has no
//! site device and the first wait fails; without the site alert the alert
//! waits fail; without the site's interfaces the link wait fails.
//! Syslog messages `dev` sends the site poller, one before the cut and
//! three during it, are at the central after the heal, each once.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, files};

const LAB: Routers = Routers::new(
    "natmap",
    "10.172.0.0/16",
    "noc:eth0 - site:eth0, site:eth1 - dev:eth1",
);
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_250;
const CENTRAL_API: u16 = 18_251;
const SITE_API: u16 = 18_252;
const HOOK_PORT: u16 = 18_253;
const SITE: &str = "mapbranch";
const RULE: &str = "site_poller_unreachable";
const CUT: Duration = Duration::from_secs(8);
const SITE_SYSLOG: u16 = 15_172;

/// The central's map: the site's devices by sysName (id, site, the
/// reachability and whether it is stale) and its links as sysName pairs.
struct Map {
    devices: BTreeMap<String, (String, Option<String>, Option<String>, bool)>,
    links: Vec<(String, String)>,
}

fn central_map(lab: &Lab) -> Option<Map> {
    let body = support::noc_get(lab, CENTRAL_API, "/api/topology")?;
    let t: Value = serde_json::from_str(&body).ok()?;
    let mut devices = BTreeMap::new();
    let mut names = BTreeMap::new();
    for d in t["devices"].as_array()? {
        let name = d["sys_name"].as_str().unwrap_or("?").to_string();
        let id = d["id"].as_str()?.to_string();
        names.insert(id.clone(), name.clone());
        let h = &d["health"];
        devices.insert(
            name,
            (
                id,
                d["site"].as_str().map(String::from),
                h["reachability"].as_str().map(String::from),
                h["reachability_stale"].as_bool().unwrap_or(false),
            ),
        );
    }
    let links = t["links"]
        .as_array()?
        .iter()
        .filter_map(|l| {
            let end = |e: &str| names.get(l[e]["device"].as_str()?).cloned();
            Some((end("a")?, end("b")?))
        })
        .collect();
    Some(Map { devices, links })
}

/// The central's state of the site's link `site`–`dev` (`ok`, `stale`, ...)
/// and whether it has a rate, from the site's interface polls.
fn site_link(lab: &Lab) -> Option<(String, bool)> {
    let body = support::noc_get(lab, CENTRAL_API, "/api/topology")?;
    let t: Value = serde_json::from_str(&body).ok()?;
    let name = |id: &Value| {
        t["devices"].as_array()?.iter().find(|d| &d["id"] == id)?["sys_name"]
            .as_str()
            .map(String::from)
    };
    let l = t["links"].as_array()?.iter().find(|l| {
        let ends = [name(&l["a"]["device"]), name(&l["b"]["device"])];
        ends.contains(&Some("site".into())) && ends.contains(&Some("dev".into()))
    })?;
    Some((l["state"].as_str()?.to_string(), l["in_bps"].is_number()))
}

/// The history's events of the site alert: (event, device).
fn site_alerts(lab: &Lab) -> Vec<(String, String)> {
    support::alert_history(lab, CENTRAL_API)
        .iter()
        .filter(|e| e["rule"] == RULE)
        .map(|e| {
            (
                e["event"].as_str().unwrap_or("").to_string(),
                e["device"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// How many messages the stream holds on `subject` (read from the noc).
fn stream_count(lab: &Lab, subject: String) -> usize {
    support::run_in_ns(lab, "noc", move || {
        use async_nats::jetstream::consumer::pull::OrderedConfig;
        use futures::StreamExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = async_nats::connect(format!("127.0.0.1:{NATS_PORT}"))
                .await
                .unwrap();
            let js = async_nats::jetstream::new(client);
            let stream = js.get_stream(nocmap::sites::wire::STREAM).await.unwrap();
            let consumer = stream
                .create_consumer(OrderedConfig {
                    filter_subject: subject,
                    ..Default::default()
                })
                .await
                .unwrap();
            let mut messages = consumer.messages().await.unwrap();
            let mut n = 0;
            while let Ok(Some(Ok(msg))) =
                tokio::time::timeout(Duration::from_secs(2), messages.next()).await
            {
                n += 1;
                if msg.info().unwrap().pending == 0 {
                    break;
                }
            }
            n
        })
    })
}

/// The central's `nocmap_site_up` of the site.
fn site_up(lab: &Lab) -> Option<f64> {
    let text = support::noc_get(lab, CENTRAL_API, "/metrics")?;
    let name = format!("nocmap_site_up{{site=\"{SITE}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(name.as_str()))
        .and_then(|v| v.trim().parse().ok())
}

/// The central's `nocmap_site_delay_seconds{kind="verdict"}` of the site:
/// how many new verdicts reached its map, and their delays' sum.
fn verdict_delays(lab: &Lab) -> Option<(f64, f64)> {
    let text = support::noc_get(lab, CENTRAL_API, "/metrics")?;
    let value = |suffix: &str| {
        let name =
            format!("nocmap_site_delay_seconds_{suffix}{{site=\"{SITE}\",kind=\"verdict\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(name.as_str()))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some((value("count")?, value("sum")?))
}

/// The notifications the receiver got of the site alert: their status.
fn told(hooks: &support::Hooks) -> Vec<String> {
    hooks
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.body.to_string().contains(RULE))
        .map(|h| h.body["status"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn the_central_maps_a_sites_devices_and_a_silent_site_is_stale_not_down() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    let central_addr = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let (dir, central_cfg, central_db, _) = files(
        "central",
        &format!(
            "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n\n\
             [[receiver]]\nname = \"hook\"\nurl = \"http://127.0.0.1:{HOOK_PORT}/hook\"\n\
             format = \"alertmanager\"\ntimeout_ms = 2000\n\n\
             [[alert]]\nname = \"unreachable\"\nkind = \"device_unreachable\"\nfor_s = 2\n\
             severity = \"critical\"\n"
        ),
    );
    let site_cfg = dir.path().join("site.toml");
    std::fs::write(
        &site_cfg,
        format!(
            "[nats]\nurl = \"nats://{central_addr}:{NATS_PORT}\"\nsite = \"{SITE}\"\n\
             role = \"poller\"\nheartbeat_s = 1\n\n\
             [syslog]\nlisten_udp = \"0.0.0.0:{SITE_SYSLOG}\"\n"
        ),
    )
    .unwrap();
    // The site's discovery finds dev through LLDP.
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let hooks = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, hooks.clone());
    let central = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&central_cfg)
        .db(&central_db)
        .listen(CENTRAL_API)
        .start_captured("central");
    let _site = ServeCmd::new(&lab, LAB.prefix)
        .in_node("site")
        .verbose()
        .poll(2)
        .icmp(1)
        .config(&site_cfg)
        .db(&dir.path().join("site.db"))
        .listen(SITE_API)
        .start_captured("site");

    // The site's map at the central, dev up from the site's verdict.
    let map = support::wait_until(
        "the site's devices, their link and dev up at the central",
        Duration::from_secs(40),
        || {
            let m = central_map(&lab)?;
            let dev = m.devices.get("dev")?;
            (m.devices.contains_key("site") && dev.2.as_deref() == Some("up")).then_some(m)
        },
    );
    for name in ["site", "dev"] {
        assert_eq!(
            map.devices[name].1.as_deref(),
            Some(SITE),
            "{name}'s site at the central"
        );
    }
    assert!(
        map.links
            .iter()
            .any(|(a, b)| (a == "site" && b == "dev") || (a == "dev" && b == "site")),
        "the site's link at the central: {:?}",
        map.links
    );
    let up_at = t0.elapsed();
    // The site's link is drawn from the site's own interface polls: live,
    // with a rate (without them it reads stale at the central).
    support::wait_until(
        "the site's link ok with a rate at the central",
        Duration::from_secs(20),
        || (site_link(&lab)? == ("ok".to_string(), true)).then_some(()),
    );
    assert_eq!(site_up(&lab), Some(1.0), "nocmap_site_up before the cut");
    // How late the map is: each new verdict (the site polls every 2 s, its
    // ICMP rounds every 1 s, verdicts sent every few seconds) counted once,
    // from its poll on the site to the central's map, within seconds.
    let (count, sum) = support::wait_until(
        "verdicts counted in nocmap_site_delay_seconds{kind=\"verdict\"}",
        Duration::from_secs(20),
        || verdict_delays(&lab).filter(|(n, _)| *n >= 4.0),
    );
    let mean = sum / count;
    eprintln!("poll-to-map delay: {count} new verdicts, mean {mean:.2} s");
    assert!(
        (0.0..10.0).contains(&mean),
        "poll-to-map delay: mean {mean:.2} s over {count} verdicts"
    );
    assert!(site_alerts(&lab).is_empty());

    // The site's events reach the central: one before the cut, three
    // during it (kept at the site, sent after the heal).
    let site_addr = lab.link_addrs("dev:eth1").unwrap().1.unwrap().to_string();
    support::nats::log_from_dev(&lab, &site_addr, SITE_SYSLOG, "before the cut");
    support::wait_until(
        "the site's syslog at the central",
        Duration::from_secs(15),
        || {
            (support::nats::syslog_texts(&lab, "noc", CENTRAL_API) == ["before the cut"])
                .then_some(())
        },
    );
    support::nats::cut(&lab, "site", "mapcut", &central_addr);
    for i in 1..=3 {
        support::nats::log_from_dev(
            &lab,
            &site_addr,
            SITE_SYSLOG,
            &format!("during the cut {i}"),
        );
    }
    let cut_at = Instant::now();
    // Every second of the cut: no site device is ever down at the central.
    let mut stale_seen = false;
    let mut link_stale_seen = false;
    while cut_at.elapsed() < CUT {
        let m = central_map(&lab).expect("the central answers during the cut");
        for (name, d) in &m.devices {
            assert_ne!(d.2.as_deref(), Some("down"), "{name} down at the central");
        }
        let dev = &m.devices["dev"];
        stale_seen |= dev.2.as_deref() == Some("unknown") && dev.3;
        link_stale_seen |= site_link(&lab).is_some_and(|l| l.0 == "stale");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(stale_seen, "dev never read stale/unknown during the cut");
    assert!(
        link_stale_seen,
        "the site's link never read stale during the cut"
    );
    let during = site_alerts(&lab);
    assert_eq!(
        during,
        [("fired".to_string(), format!("site:{SITE}"))],
        "one site alert during the cut"
    );
    support::wait_until("the receiver told once", Duration::from_secs(5), || {
        (told(&hooks).len() == 1).then_some(())
    });
    assert_eq!(site_up(&lab), Some(0.0), "nocmap_site_up during the cut");

    support::nats::heal(&lab, "site", "mapcut");
    support::wait_until(
        "dev up again and the site alert resolved",
        Duration::from_secs(20),
        || {
            let m = central_map(&lab)?;
            let resolved = site_alerts(&lab).iter().any(|e| e.0 == "resolved");
            (m.devices["dev"].2.as_deref() == Some("up") && resolved).then_some(())
        },
    );
    support::wait_until(
        "the receiver told the resolve",
        Duration::from_secs(5),
        || (told(&hooks).len() == 2).then_some(()),
    );
    assert_eq!(told(&hooks), ["firing", "resolved"]);
    support::wait_until(
        "the events of the cut at the central, each once",
        Duration::from_secs(15),
        || {
            let got = support::nats::syslog_texts(&lab, "noc", CENTRAL_API);
            (got.len() >= 4).then_some(got)
        },
    );
    assert_eq!(
        support::nats::syslog_texts(&lab, "noc", CENTRAL_API),
        [
            "before the cut",
            "during the cut 1",
            "during the cut 2",
            "during the cut 3"
        ],
        "the site's events at the central"
    );
    assert_eq!(site_up(&lab), Some(1.0), "nocmap_site_up after the heal");
    support::wait_until(
        "the site's link ok again after the heal",
        Duration::from_secs(20),
        || (site_link(&lab)? == ("ok".to_string(), true)).then_some(()),
    );
    let all = site_alerts(&lab);
    let events: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(events, ["fired", "resolved"]);
    // No device alert for the site's devices: stale is not down.
    let device_alerts = support::alert_history(&lab, CENTRAL_API)
        .iter()
        .filter(|e| e["rule"] == "unreachable")
        .count();
    assert_eq!(device_alerts, 0, "a site device alerted as unreachable");
    // The site sent its topology and verdicts again after the cut; the
    // stream keeps only the newest of each.
    use nocmap::sites::wire::{topology_subject, verdicts_subject};
    support::wait_until(
        "one topology and one verdicts message in the stream",
        Duration::from_secs(10),
        || {
            let n = (
                stream_count(&lab, topology_subject(SITE)),
                stream_count(&lab, verdicts_subject(SITE)),
            );
            (n == (1, 1)).then_some(())
        },
    );
    // The central's reachability report names the site's devices and
    // holds its link (the merged map is the central's inventory).
    let report = support::noc_get(&lab, CENTRAL_API, "/api/reports/reachability?since=1h")
        .expect("the central's reachability report");
    for name in ["\"site\"", "\"dev\""] {
        assert!(
            report.contains(name),
            "{name} in the central's report: {report}"
        );
    }
    let log = central.log();
    let lines = |what: &str| {
        log.lines()
            .filter(|l| l.contains(what) && l.contains(SITE))
            .count()
    };
    assert_eq!(lines("site poller unreachable"), 1, "{log}");
    eprintln!(
        "site map at the central after {:.1} s; cut {:.0} s; test took {:.1} s",
        up_at.as_secs_f64(),
        CUT.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}
