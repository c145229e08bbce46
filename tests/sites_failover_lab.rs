//! A pair of centrals over a real nats-server (Debian's 2.9.10): the noc
//! runs nats-server, a webhook receiver reachable from both centrals and
//! central `c1`; the `backup` namespace (another machine) runs central
//! `c2`; the site's namespace runs the site poller of itself and `dev`:
//!
//! ```text
//!   backup (c2) ── noc (nats-server, c1, hook) ──WAN── site (poller) ── dev
//! ```
//!
//! c1 starts first and takes the lease; c2 stands by, reading every site
//! into its own store. A WAN cut raises the site alert at both; the hook
//! is told once, by c1 (c2 marks its copy `standby`). c1 is killed with
//! SIGKILL: c2 takes over within 30 s (measured: the lease, 6 s here, and
//! one round), and the next cut's site alert is told once, by c2. At the
//! end c2's store holds every sample the site stored, value by value,
//! none missing or extra, and each syslog message `dev` sent the site —
//! before, around and after the kill — once.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::nats::{differences, sample_rows};
use support::serve::{ServeCmd, files};

const LAB: Routers = Routers::new(
    "natfo",
    "10.109.0.0/16",
    "noc:eth0 - site:eth0, site:eth1 - dev:eth1, noc:eth1 - backup:eth0",
);
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_300;
const C1_API: u16 = 18_301;
const C2_API: u16 = 18_302;
const SITE_API: u16 = 18_303;
const HOOK_PORT: u16 = 18_304;
const SITE_SYSLOG: u16 = 18_305;
const SITE: &str = "fosite";
const SITE_RULE: &str = "site_poller_unreachable";
/// The suite's lease; `NOCMAP_FAILOVER_LEASE_S` (say 15, the default of
/// `lease_s`) measures another for BENCHMARKS.md.
const SUITE_LEASE_S: u64 = 6;

fn lease_s() -> u64 {
    std::env::var("NOCMAP_FAILOVER_LEASE_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SUITE_LEASE_S)
}

/// The server's configuration: JetStream, and users with exactly the
/// permissions README lists — the centrals `hq` (a pair: each its own
/// consumer, the pair's lease bucket) and the site.
fn server_config(dir: &std::path::Path) -> String {
    let consumer = |id: &str| {
        format!(
            "\"$JS.API.CONSUMER.INFO.NOCMAP_SITES.nocmap-central-{id}\", \
             \"$JS.API.CONSUMER.CREATE.NOCMAP_SITES.nocmap-central-{id}\", \
             \"$JS.API.CONSUMER.MSG.NEXT.NOCMAP_SITES.nocmap-central-{id}\", \
             \"$JS.ACK.NOCMAP_SITES.nocmap-central-{id}.>\""
        )
    };
    format!(
        "listen: 0.0.0.0:{NATS_PORT}\njetstream {{ store_dir: \"{}\" }}\n\
         authorization {{ users: [\n\
         {{ user: hq, password: \"{HQ_PW}\", permissions: {{ publish: {{ allow: [\
         \"$JS.API.STREAM.INFO.NOCMAP_SITES\", \"$JS.API.STREAM.CREATE.NOCMAP_SITES\", \
         \"$JS.API.STREAM.MSG.DELETE.NOCMAP_SITES\", \"$JS.API.STREAM.MSG.GET.NOCMAP_SITES\", \
         {}, {}, \
         \"$JS.API.STREAM.INFO.KV_nocmap_central_hq\", \
         \"$JS.API.STREAM.CREATE.KV_nocmap_central_hq\", \
         \"$JS.API.DIRECT.GET.KV_nocmap_central_hq.>\", \"$KV.nocmap_central_hq.>\"] }}, \
         subscribe: {{ allow: [\"_INBOX.hq.>\"] }} }} }}\n\
         {{ user: {SITE}, password: \"{SITE_PW}\", permissions: {{ \
         publish: {{ allow: [\"nocmap.site.{SITE}.>\"] }}, \
         subscribe: {{ allow: [\"_INBOX.{SITE}.>\"] }} }} }}\n] }}\n",
        dir.join("js").display(),
        consumer("c1"),
        consumer("c2"),
    )
}

const HQ_PW: &str = "hq-failover-pw";
const SITE_PW: &str = "site-failover-pw";

fn central_config(id: &str, nats: &str, hook: &str) -> String {
    format!(
        "[nats]\nurl = \"nats://{nats}:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n\
         user = \"hq\"\npassword = \"env:NOCMAP_HQ_PW\"\n\
         heartbeat_s = 1\ncentral_id = \"{id}\"\nlease_s = {}\n\n\
         [[receiver]]\nname = \"hook\"\nurl = \"http://{hook}:{HOOK_PORT}/hook\"\n\
         format = \"generic\"\ntimeout_ms = 2000\n",
        lease_s()
    )
}

/// `nocmap_central_active` of the central at `node`:`port` (None: no
/// answer).
fn active(lab: &Lab, node: &str, port: u16) -> Option<bool> {
    let text = support::get_in(lab, node, port, "/metrics")?;
    let line = text
        .lines()
        .find(|l| l.starts_with("nocmap_central_active{"))?;
    Some(line.ends_with(" 1"))
}

/// `dev`'s reachability at the central at `node`:`port`.
fn dev_at(lab: &Lab, node: &str, port: u16) -> Option<String> {
    let body = support::get_in(lab, node, port, "/api/topology")?;
    let t: Value = serde_json::from_str(&body).ok()?;
    t["devices"]
        .as_array()?
        .iter()
        .find(|d| d["sys_name"] == "dev")
        .and_then(|d| d["health"]["reachability"].as_str().map(String::from))
}

/// The site alert's notifications the hook got: (event, id text).
fn told(hooks: &support::Hooks) -> Vec<(String, String)> {
    hooks
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.body["rule"] == SITE_RULE)
        .map(|h| {
            (
                h.body["event"].as_str().unwrap_or("").to_string(),
                h.id_text.clone(),
            )
        })
        .collect()
}

/// A WAN cut long enough for the site alert, then the heal; returns once
/// the hook got `want` site-alert notifications.
fn cut_and_heal(lab: &Lab, hooks: &support::Hooks, central_addr: &str, table: &str, want: usize) {
    support::nats::cut(lab, "site", table, central_addr);
    support::wait_until("the site alert told", Duration::from_secs(20), || {
        (told(hooks).len() + 1 >= want).then_some(())
    });
    support::nats::heal(lab, "site", table);
    support::wait_until("the site alert's end told", Duration::from_secs(20), || {
        (told(hooks).len() >= want).then_some(())
    });
}

/// The outcomes of `db`'s outbox rows for the site alert.
fn outcomes(db: &std::path::Path) -> Vec<Option<String>> {
    let c = support::crash::read_only(db);
    let mut st = c
        .prepare(
            "SELECT o.outcome FROM alert_outbox o JOIN alert_history h ON h.id = o.history_id
             WHERE h.rule = ?1 ORDER BY o.id",
        )
        .unwrap();
    st.query_map([SITE_RULE], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_standby_central_takes_over_within_30_s_and_nothing_is_lost_or_told_twice() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let lab = support::lab_up_toml(&LAB.toml());
    let central_addr = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let noc_to_backup = lab.link_addrs("noc:eth1").unwrap().0.unwrap().to_string();
    let site_inner = lab.link_addrs("site:eth1").unwrap().0.unwrap().to_string();
    let (dir, c1_cfg, c1_db, _) = files("c1", &central_config("c1", "127.0.0.1", &noc_to_backup));
    let c2_cfg = dir.path().join("c2.toml");
    let c2_db = dir.path().join("c2.db");
    std::fs::write(
        &c2_cfg,
        central_config("c2", &noc_to_backup, &noc_to_backup),
    )
    .unwrap();
    let site_cfg = dir.path().join("site.toml");
    let site_db = dir.path().join("site.db");
    std::fs::write(
        &site_cfg,
        format!(
            "[nats]\nurl = \"nats://{central_addr}:{NATS_PORT}\"\nsite = \"{SITE}\"\n\
             role = \"poller\"\nheartbeat_s = 1\nuser = \"{SITE}\"\n\
             password = \"env:NOCMAP_SITE_PW\"\n\n\
             [syslog]\nlisten_udp = \"0.0.0.0:{SITE_SYSLOG}\"\n"
        ),
    )
    .unwrap();
    lab.wait_lldp_settled(Duration::from_secs(30)).unwrap();
    let conf = dir.path().join("nats.conf");
    std::fs::write(&conf, server_config(dir.path())).unwrap();
    let _nats =
        support::nats::start_server(&lab, &conf, NATS_MONITOR, &[], &dir.path().join("nats.log"));
    let hooks = support::Hooks::default();
    support::start_webhook_on(
        &lab,
        "noc",
        std::net::Ipv4Addr::UNSPECIFIED,
        HOOK_PORT,
        hooks.clone(),
    );
    let central = |node: &str, cfg: &std::path::Path, db: &std::path::Path, port: u16| {
        ServeCmd::bare(&lab)
            .in_node(node)
            .verbose()
            .args(["--rediscover-interval", "0", "--no-icmp"])
            .config(cfg)
            .db(db)
            .listen(port)
            .env("NOCMAP_HQ_PW", HQ_PW)
            .start_captured(node)
    };
    let mut c1 = central("noc", &c1_cfg, &c1_db, C1_API);
    support::wait_until("c1 active", Duration::from_secs(30), || {
        (active(&lab, "noc", C1_API) == Some(true)).then_some(())
    });
    let c2 = central("backup", &c2_cfg, &c2_db, C2_API);
    let started = support::nats::now_ms();
    let _site = ServeCmd::new(&lab, LAB.prefix)
        .in_node("site")
        .verbose()
        .poll(2)
        .icmp(1)
        .config(&site_cfg)
        .db(&site_db)
        .listen(SITE_API)
        .env("NOCMAP_SITE_PW", SITE_PW)
        .start_captured("site");
    support::wait_until("dev up at both centrals", Duration::from_secs(40), || {
        let up = |node, port| dev_at(&lab, node, port).as_deref() == Some("up");
        (up("noc", C1_API) && up("backup", C2_API)).then_some(())
    });
    assert_eq!(active(&lab, "backup", C2_API), Some(false), "c2 stands by");
    support::nats::log_from_dev(&lab, &site_inner, SITE_SYSLOG, "one: both centrals up");

    // A cut while c1 is active: told once, by c1.
    cut_and_heal(&lab, &hooks, &central_addr, "fowan1", 2);
    let c1_told = told(&hooks);
    assert_eq!(
        c1_told.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["fired", "resolved"]
    );
    assert!(
        c1_told.iter().all(|t| t.1.starts_with("hq.c1:")),
        "{c1_told:?}"
    );

    // The standby's copies of c1's notifications are never sent: past
    // the takeover window they are marked told by the active central.
    support::wait_until(
        "c2's copies of the first site alert marked standby",
        Duration::from_secs(30),
        || {
            let o = outcomes(&c2_db);
            (o.len() == 2 && o.iter().all(|x| x.as_deref() == Some("standby"))).then_some(())
        },
    );

    // kill -9 of the active central.
    support::nats::log_from_dev(&lab, &site_inner, SITE_SYSLOG, "two: just before the kill");
    c1.kill_9();
    let killed = Instant::now();
    support::nats::log_from_dev(&lab, &site_inner, SITE_SYSLOG, "three: c1 dead");
    let took = support::wait_until("c2 active", Duration::from_secs(40), || {
        (active(&lab, "backup", C2_API) == Some(true)).then(|| killed.elapsed())
    });
    eprintln!(
        "takeover: c2 active {:.1} s after the kill -9 of c1 (lease {} s)",
        took.as_secs_f64(),
        lease_s()
    );
    assert!(took <= Duration::from_secs(30), "takeover took {took:?}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(told(&hooks).len(), 2, "nothing told twice at the takeover");

    // A cut after the takeover: told once, by c2.
    support::nats::log_from_dev(&lab, &site_inner, SITE_SYSLOG, "four: c2 active");
    cut_and_heal(&lab, &hooks, &central_addr, "fowan2", 4);
    std::thread::sleep(Duration::from_secs(3));
    let all = told(&hooks);
    assert_eq!(
        all.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["fired", "resolved", "fired", "resolved"],
        "{all:?}"
    );
    assert!(
        all[2..].iter().all(|t| t.1.starts_with("hq.c2:")),
        "{all:?}"
    );

    // Every sample the site stored is in c2's store, once, same value;
    // every syslog message once.
    let to = support::nats::now_ms() - 5_000;
    let site_rows = sample_rows(&site_db, started, to);
    assert!(site_rows.len() > 100, "the site stored {}", site_rows.len());
    let mut diff = (usize::MAX, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        diff = differences(&site_rows, &sample_rows(&c2_db, started, to));
        if diff == (0, 0, 0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        diff,
        (0, 0, 0),
        "of {} site samples: (missing, extra, another value) at c2",
        site_rows.len()
    );
    let want = [
        "four: c2 active",
        "one: both centrals up",
        "three: c1 dead",
        "two: just before the kill",
    ];
    support::wait_until(
        "every syslog message at c2",
        Duration::from_secs(20),
        || (support::nats::syslog_texts(&lab, "backup", C2_API) == want).then_some(()),
    );

    // c1 back on its old store: it stands by (c2 holds the lease) and its
    // own consumer brings it what it missed while dead.
    let c1 = central("noc", &c1_cfg, &c1_db, C1_API);
    support::wait_until("c1 back, standing by", Duration::from_secs(30), || {
        (active(&lab, "noc", C1_API) == Some(false)).then_some(())
    });
    let mut diff1 = (usize::MAX, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        diff1 = differences(&site_rows, &sample_rows(&c1_db, started, to));
        if diff1 == (0, 0, 0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        diff1,
        (0, 0, 0),
        "c1 after its restart: (missing, extra, another value)"
    );
    assert_eq!(
        active(&lab, "backup", C2_API),
        Some(true),
        "c2 keeps the lease"
    );
    assert_eq!(told(&hooks).len(), 4, "the restarted c1 told nothing again");
    eprintln!(
        "{} samples compared, site against c2 and against the restarted c1: 0 missing, 0 extra; run {:.1} s",
        site_rows.len(),
        t0.elapsed().as_secs_f64()
    );
    drop((c1, c2));
}
