//! Alerts while cut off, over a real nats-server (Debian's 2.9.10): the
//! central's namespace (noc) runs nats-server, the central's webhook
//! receiver and `nocmap serve` as central (an `unreachable` rule of its
//! own); the site's namespace runs `nocmap serve` as the site poller of
//! itself and of `dev` behind it, with the same rule and a webhook
//! receiver reachable only inside the site:
//!
//! ```text
//!   noc (nats-server, central, hook) ──WAN── site (poller, site hook) ── dev
//! ```
//!
//! nftables cuts the WAN, then `dev` from the site: the site's rule fires
//! and its own receiver is told during the cut; the central lists its
//! site alert in `/api/alerts` (firing) while cut. The WAN heals with
//! `dev` still down: the central sees `dev` down from the site's verdicts
//! but its own rule never fires for it (the site notified; without
//! `alert::observe` leaving site devices out it does), and its site alert
//! resolves and leaves `/api/alerts`. Notification ids are `hq:N` at the
//! central and `natalsite:N` at the site, never the same. Then the
//! central stops, the WAN is cut again and a new central with no
//! `[[alert]]` rule and an empty database starts: the site it knows only
//! from the stream's heartbeats raises its alert, told to the receiver and
//! listed, and resolves after the heal.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::serve::{ServeCmd, files};

const LAB: Routers = Routers::new(
    "natal",
    "10.104.0.0/16",
    "noc:eth0 - site:eth0, site:eth1 - dev:eth1",
);
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_270;
const CENTRAL_API: u16 = 18_271;
const SITE_API: u16 = 18_272;
const HOOK_PORT: u16 = 18_273;
const SITE_HOOK_PORT: u16 = 18_274;
const SITE: &str = "natalsite";
const SITE_RULE: &str = "site_poller_unreachable";

fn central_config(rules: bool, hook_port: u16) -> String {
    let rule = if rules {
        "[[alert]]\nname = \"unreachable\"\nkind = \"device_unreachable\"\nfor_s = 2\n\
         severity = \"critical\"\n"
    } else {
        ""
    };
    format!(
        "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n\
         heartbeat_s = 1\n\n\
         [[receiver]]\nname = \"hook\"\nurl = \"http://127.0.0.1:{hook_port}/hook\"\n\
         format = \"generic\"\ntimeout_ms = 2000\n\n{rule}"
    )
}

/// The central's reachability of `dev` (None: not on its map yet).
fn dev_at_central(lab: &Lab) -> Option<String> {
    let body = support::noc_get(lab, CENTRAL_API, "/api/topology")?;
    let t: Value = serde_json::from_str(&body).ok()?;
    t["devices"]
        .as_array()?
        .iter()
        .find(|d| d["sys_name"] == "dev")
        .and_then(|d| d["health"]["reachability"].as_str().map(String::from))
}

/// The central's firing site alerts in `/api/alerts` (their keys; none
/// while the central does not answer).
fn listed_site_alerts(lab: &Lab) -> Vec<String> {
    let body = support::noc_get(lab, CENTRAL_API, "/api/alerts").unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    v["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["rule"] == SITE_RULE && a["firing"] == true)
        .map(|a| a["key"].as_str().unwrap_or("").to_string())
        .collect()
}

/// What a receiver got: (rule, event, device, header id, body id).
fn got(hooks: &support::Hooks) -> Vec<(String, String, String, String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    hooks
        .lock()
        .unwrap()
        .iter()
        .map(|h| {
            (
                text(&h.body["rule"]),
                text(&h.body["event"]),
                text(&h.body["device"]),
                h.id_text.clone(),
                text(&h.body["notification_id"]),
            )
        })
        .collect()
}

fn events(hooks: &support::Hooks, rule: &str) -> Vec<String> {
    got(hooks)
        .into_iter()
        .filter(|g| g.0 == rule)
        .map(|g| g.1)
        .collect()
}

#[test]
fn a_cut_off_site_notifies_its_own_receiver_and_the_central_lists_its_site_alert() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    let central_addr = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let site_inner = lab.link_addrs("site:eth1").unwrap().0.unwrap().to_string();
    let (dir, central_cfg, central_db, _) = files("central", &central_config(true, HOOK_PORT));
    let site_cfg = dir.path().join("site.toml");
    std::fs::write(
        &site_cfg,
        format!(
            "[nats]\nurl = \"nats://{central_addr}:{NATS_PORT}\"\nsite = \"{SITE}\"\n\
             role = \"poller\"\nheartbeat_s = 1\n\n\
             [[receiver]]\nname = \"site-hook\"\nurl = \"http://127.0.0.1:{SITE_HOOK_PORT}/hook\"\n\
             format = \"generic\"\ntimeout_ms = 2000\n\n\
             [[alert]]\nname = \"unreachable\"\nkind = \"device_unreachable\"\nfor_s = 2\n\
             severity = \"critical\"\n"
        ),
    )
    .unwrap();
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let hooks = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT, hooks.clone());
    let site_hooks = support::Hooks::default();
    support::start_webhook_in(&lab, "site", SITE_HOOK_PORT, site_hooks.clone());
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
    support::wait_until("dev up at the central", Duration::from_secs(40), || {
        (dev_at_central(&lab).as_deref() == Some("up")).then_some(())
    });
    assert!(listed_site_alerts(&lab).is_empty());

    // The WAN cut, then dev cut off from the site.
    support::nats::cut(&lab, "site", "alwan", &central_addr);
    support::nats::cut(&lab, "dev", "aldev", &site_inner);
    let key = support::wait_until(
        "the site alert listed as firing at the central",
        Duration::from_secs(20),
        || listed_site_alerts(&lab).pop(),
    );
    assert_eq!(key, format!("{SITE_RULE}/site:{SITE}"));
    support::wait_until(
        "the site's rule told its own receiver during the cut",
        Duration::from_secs(20),
        || (events(&site_hooks, "unreachable") == ["fired"]).then_some(()),
    );
    assert_eq!(listed_site_alerts(&lab).len(), 1, "still listed while cut");
    support::wait_until(
        "the central's receiver told the site alert",
        Duration::from_secs(10),
        || (events(&hooks, SITE_RULE) == ["fired"]).then_some(()),
    );

    // The WAN back, dev still down: the central hears dev down and lets
    // the site's notification stand alone.
    support::nats::heal(&lab, "site", "alwan");
    support::wait_until(
        "dev down at the central and the site alert resolved",
        Duration::from_secs(30),
        || {
            let down = dev_at_central(&lab).as_deref() == Some("down");
            (down && listed_site_alerts(&lab).is_empty()).then_some(())
        },
    );
    // The central's rule (for_s 2) would have fired within this.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(dev_at_central(&lab).as_deref(), Some("down"));
    let central_rule = support::alert_history(&lab, CENTRAL_API)
        .iter()
        .filter(|e| e["rule"] == "unreachable")
        .count();
    assert_eq!(central_rule, 0, "the central alerted for the site's device");
    assert!(
        events(&hooks, "unreachable").is_empty(),
        "the central notified for the site's device: {:?}",
        got(&hooks)
    );
    support::wait_until(
        "the central's receiver told the resolve",
        Duration::from_secs(10),
        || (events(&hooks, SITE_RULE) == ["fired", "resolved"]).then_some(()),
    );
    support::nats::heal(&lab, "dev", "aldev");
    support::wait_until(
        "the site told its receiver dev is back",
        Duration::from_secs(20),
        || (events(&site_hooks, "unreachable") == ["fired", "resolved"]).then_some(()),
    );

    // Ids: the header and the body agree; each box its own prefix.
    let (central_ids, site_ids): (Vec<String>, Vec<String>) = (
        got(&hooks).into_iter().map(|g| g.3).collect(),
        got(&site_hooks).into_iter().map(|g| g.3).collect(),
    );
    for g in got(&hooks).into_iter().chain(got(&site_hooks)) {
        assert_eq!(g.3, g.4, "header and body ids differ: {g:?}");
    }
    assert!(
        central_ids.iter().all(|i| i.starts_with("hq:")),
        "{central_ids:?}"
    );
    assert!(
        site_ids.iter().all(|i| i.starts_with(&format!("{SITE}:"))),
        "{site_ids:?}"
    );
    assert!(
        central_ids.iter().all(|i| !site_ids.contains(i)),
        "{central_ids:?} {site_ids:?}"
    );
    let rows = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|i| i.rsplit(':').next().unwrap().to_string())
            .collect()
    };
    let same_rows = rows(&central_ids)
        .iter()
        .any(|r| rows(&site_ids).contains(r));
    let history = support::alert_history(&lab, CENTRAL_API);
    assert!(
        history
            .iter()
            .all(|e| e["notification_id"] == format!("hq:{}", e["id"])),
        "{history:?}"
    );
    let first_part = t0.elapsed();
    central.stop();

    // A new central, no rules, an empty database, started during a cut:
    // the site known from the stream raises its alert after the window.
    support::nats::cut(&lab, "site", "alwan", &central_addr);
    let (dir2, cfg2, db2, _) = files("central2", &central_config(false, HOOK_PORT + 10));
    let hooks2 = support::Hooks::default();
    support::start_webhook(&lab, HOOK_PORT + 10, hooks2.clone());
    let restarted = Instant::now();
    let central2 = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&cfg2)
        .db(&db2)
        .listen(CENTRAL_API)
        .start_captured("central2");
    support::wait_until(
        "the silent site's alert at the new central",
        Duration::from_secs(30),
        || listed_site_alerts(&lab).pop(),
    );
    let raised_after = restarted.elapsed();
    assert!(support::noc_get(&lab, CENTRAL_API, "/api/alerts").is_some());
    support::wait_until(
        "the new central's receiver told it",
        Duration::from_secs(10),
        || (events(&hooks2, SITE_RULE) == ["fired"]).then_some(()),
    );
    support::nats::heal(&lab, "site", "alwan");
    support::wait_until(
        "resolved at the new central after the heal",
        Duration::from_secs(20),
        || {
            let told = events(&hooks2, SITE_RULE) == ["fired", "resolved"];
            (told && listed_site_alerts(&lab).is_empty()).then_some(())
        },
    );
    assert_eq!(
        central2
            .log()
            .lines()
            .filter(|l| l.contains("known from the stream") && l.contains(SITE))
            .count(),
        1,
        "{}",
        central2.log()
    );
    drop(dir2);
    eprintln!(
        "ids central {central_ids:?} site {site_ids:?} (same row numbers: {same_rows}); \
         first part {:.1} s; silent site raised {:.1} s after the new central started; \
         test took {:.1} s",
        first_part.as_secs_f64(),
        raised_after.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}
