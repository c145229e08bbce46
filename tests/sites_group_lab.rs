//! Two pollers of one site in a poller group, over a real nats-server
//! (Debian's 2.9.10, JetStream and key-value on): the noc runs
//! nats-server and a central; `pa` and `pb` (no snmpd of their own) each
//! run `nocmap serve` as a member of site `grpsite` (`group = true`, the
//! default lease of 15 s) and reach the five routers between them (real
//! snmpd and lldpd in each):
//!
//! ```text
//!   noc ── pa ── d1 ── d2 ── d3 ── d4 ── d5 ── pb ── noc
//! ```
//!
//! Each poller's own database holds exactly what it polled. In steady
//! state every device has samples from exactly one of the two (both
//! polling, as without leases, fails this), and the central holds every
//! sample of both. Then `pa` is killed (SIGKILL): within 30 s every device
//! it polled has a fresh sample from `pb` (the takeover time is printed).
//! `pa` is started again (a new member id): the group rebalances and
//! again no device has samples from both.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};
use support::crash::read_only;
use support::lab::LabToml;
use support::serve::{ServeCmd, files};

const NAME: &str = "natgrp";
const PREFIX: &str = "10.103.0.0/16";
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_280;
const CENTRAL_API: u16 = 18_281;
const POLLER_API: u16 = 18_282;
const SITE: &str = "grpsite";
const DEVICES: usize = 5;
/// What the issue promises for a dead member's devices.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(30);
/// The steady-state window each poller's samples are counted over.
const WINDOW: Duration = Duration::from_secs(16);

fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}

/// Samples per device in `db` with a time in `from..=to`.
fn per_device(db: &Path, from: i64, to: i64) -> BTreeMap<String, usize> {
    if !db.exists() {
        return BTreeMap::new();
    }
    let c = read_only(db);
    let Ok(mut st) = c.prepare(
        "SELECT s.device, count(*) FROM samples x JOIN series s ON s.id = x.series_id
         WHERE x.t_ms >= ?1 AND x.t_ms <= ?2 GROUP BY s.device",
    ) else {
        return BTreeMap::new();
    };
    st.query_map([from, to], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The first sample time of each device in `db` after `after`.
fn first_after(db: &Path, after: i64) -> BTreeMap<String, i64> {
    let c = read_only(db);
    let mut st = c
        .prepare(
            "SELECT s.device, min(x.t_ms) FROM samples x JOIN series s ON s.id = x.series_id
             WHERE x.t_ms > ?1 GROUP BY s.device",
        )
        .unwrap();
    st.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every sample key in `db` in `from..=to`: (device, subject, metric, time).
fn keys(db: &Path, from: i64, to: i64) -> BTreeSet<(String, String, String, i64)> {
    let c = read_only(db);
    let mut st = c
        .prepare(
            "SELECT s.device, s.subject, s.metric, x.t_ms FROM samples x
             JOIN series s ON s.id = x.series_id WHERE x.t_ms >= ?1 AND x.t_ms <= ?2",
        )
        .unwrap();
    st.query_map([from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// `nocmap_poller_leases_held` of the poller in `node` (None: no answer).
fn leases_held(lab: &Lab, node: &str) -> Option<u64> {
    let out = lab
        .command_in(node, "curl")
        .ok()?
        .args([
            "-sf",
            "-m",
            "3",
            &format!("http://127.0.0.1:{POLLER_API}/metrics"),
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("nocmap_poller_leases_held{"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
}

/// Waits until both pollers hold leases that add up to every device, the
/// same for `settle` in a row.
fn wait_shared(lab: &Lab, what: &str) -> (u64, u64) {
    let mut steady: Option<((u64, u64), Instant)> = None;
    support::wait_until(what, Duration::from_secs(90), || {
        let now = (leases_held(lab, "pa")?, leases_held(lab, "pb")?);
        let shared = now.0 > 0 && now.1 > 0 && now.0 + now.1 >= DEVICES as u64;
        match steady {
            Some((was, since)) if was == now && shared => {
                (since.elapsed() >= Duration::from_secs(6)).then_some(now)
            }
            _ => {
                steady = shared.then(|| (now, Instant::now()));
                None
            }
        }
    })
}

/// Over a window of steady state: every device polled, none by both.
/// Returns the devices each poller polled.
fn check_exclusive(a_db: &Path, b_db: &Path, what: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let from = now_ms();
    std::thread::sleep(WINDOW);
    let to = now_ms();
    // What was polled in the window is in each store within a few seconds.
    std::thread::sleep(Duration::from_secs(4));
    let a = per_device(a_db, from, to);
    let b = per_device(b_db, from, to);
    eprintln!("{what}: samples per device over {WINDOW:?}: pa {a:?}, pb {b:?}");
    let both: Vec<&String> = a.keys().filter(|d| b.contains_key(*d)).collect();
    assert!(
        both.is_empty(),
        "{what}: polled by both pollers: {both:?} (pa {a:?}, pb {b:?})"
    );
    let all: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    assert!(
        all.len() >= DEVICES,
        "{what}: only {} devices polled: pa {a:?}, pb {b:?}",
        all.len()
    );
    (a.into_keys().collect(), b.into_keys().collect())
}

/// Until every router's LLDP table names its router neighbours, so both
/// members' discoveries find the whole chain.
fn wait_lldp(lab: &Lab) {
    let routers = [
        ("pa:eth1", 1),
        ("d1:eth2", 2),
        ("d2:eth2", 2),
        ("d3:eth2", 2),
        ("d4:eth2", 1),
    ];
    support::wait_until("LLDP between the routers", Duration::from_secs(60), || {
        for (end, want) in routers {
            let addr = lab.link_addrs(end).unwrap().1.unwrap().to_string();
            let out = support::run_in(
                lab,
                "noc",
                "snmpwalk",
                &[
                    "-v2c",
                    "-c",
                    "public",
                    "-On",
                    &addr,
                    "1.0.8802.1.1.2.1.4.1.1.9",
                ],
            );
            let rows = String::from_utf8_lossy(&out.stdout).lines().count();
            if rows < want {
                return None;
            }
        }
        Some(())
    });
}

#[test]
fn a_poller_group_shares_a_site_and_a_survivor_takes_over_within_30_s() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let toml = LabToml::new(NAME, PREFIX)
        .node("pa", "router", "snmp = false\n")
        .node("pb", "router", "snmp = false\n")
        .links(
            "noc:eth0 - pa:eth0, pa:eth1 - d1:eth1, d1:eth2 - d2:eth1, d2:eth2 - d3:eth1, \
             d3:eth2 - d4:eth1, d4:eth2 - d5:eth1, d5:eth2 - pb:eth1, pb:eth0 - noc:eth1",
        )
        .build();
    let lab = support::lab_up_toml(&toml);
    wait_lldp(&lab);
    let (dir, central_cfg, central_db, _) = files(
        "central",
        &format!(
            "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n"
        ),
    );
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let _central = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&central_cfg)
        .db(&central_db)
        .listen(CENTRAL_API)
        .start_captured("central");
    // Each member: its own config (the NATS server over its own link),
    // database and seed (the router next to it).
    let member = |node: &str, noc_if: &str, seed_if: &str| {
        let nats = lab.link_addrs(noc_if).unwrap().0.unwrap();
        let seed = lab.link_addrs(seed_if).unwrap().1.unwrap();
        let cfg = dir.path().join(format!("{node}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "[nats]\nurl = \"nats://{nats}:{NATS_PORT}\"\nsite = \"{SITE}\"\n\
                 role = \"poller\"\nheartbeat_s = 1\ngroup = true\n"
            ),
        )
        .unwrap();
        let db = dir.path().join(format!("{node}.db"));
        let cmd = ServeCmd::bare(&lab)
            .in_node(node)
            .verbose()
            .args([
                "--seed",
                &seed.to_string(),
                "--prefix",
                PREFIX,
                "-c",
                "public",
            ])
            .args(["--rediscover-interval", "0"])
            .poll(2)
            .icmp(2)
            .config(&cfg)
            .db(&db)
            .listen(POLLER_API);
        (cmd, db)
    };
    let (a_cmd, a_db) = member("pa", "noc:eth0", "pa:eth1");
    let (b_cmd, b_db) = member("pb", "noc:eth1", "pb:eth1");
    let mut a = a_cmd.start_captured("pa");
    let b = b_cmd.start_captured("pb");

    let held = wait_shared(&lab, "the two members sharing the site");
    eprintln!("leases held (pa, pb): {held:?}");
    let from = now_ms();
    let (a_devices, b_devices) = check_exclusive(&a_db, &b_db, "steady state");
    let to = now_ms() - 4_000;
    assert!(!a_devices.is_empty() && !b_devices.is_empty());

    // The central holds every sample of both members (their batches never
    // share a message id, so none is dropped as a duplicate).
    let mut polled = keys(&a_db, from, to);
    polled.extend(keys(&b_db, from, to));
    let mut missing = polled.len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let central = keys(&central_db, from, to);
        missing = polled.difference(&central).count();
        if missing == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        missing,
        0,
        "{missing} of the members' {} samples are not at the central",
        polled.len()
    );

    // kill -9 of pa: its leases expire and pb takes its devices.
    let killed_at = now_ms();
    a.kill_9();
    let fresh = support::wait_until(
        "pb's fresh samples of every device pa polled",
        TAKEOVER_LIMIT + Duration::from_secs(15),
        || {
            let first = first_after(&b_db, killed_at);
            a_devices
                .iter()
                .map(|d| first.get(d).copied())
                .collect::<Option<Vec<i64>>>()
        },
    );
    let takeover_ms = fresh.iter().max().unwrap() - killed_at;
    eprintln!(
        "takeover: every one of pa's {} devices had a fresh sample from pb {:.1} s after the kill -9",
        a_devices.len(),
        takeover_ms as f64 / 1_000.0
    );
    assert!(
        takeover_ms <= TAKEOVER_LIMIT.as_millis() as i64,
        "takeover took {takeover_ms} ms"
    );
    // pb alone polls everything: every device of the site (the routers,
    // and the two members' hosts, which discovery finds through ARP).
    std::thread::sleep(Duration::from_secs(3));
    let (left, all) = check_exclusive(&a_db, &b_db, "after the kill");
    assert!(
        left.is_empty(),
        "the killed pa still wrote samples: {left:?}"
    );
    // In steady state the two together polled every one of them.
    let steady: BTreeSet<String> = a_devices.union(&b_devices).cloned().collect();
    assert_eq!(steady, all, "devices nobody polled in steady state");

    // pa back (a new member): the two share again, none polled twice.
    let a = a_cmd.start_captured("pa, restarted");
    let held = wait_shared(&lab, "the two members sharing again");
    eprintln!("leases held after the restart (pa, pb): {held:?}");
    let (a_again, b_again) = check_exclusive(&a_db, &b_db, "after the restart");
    assert!(!a_again.is_empty() && !b_again.is_empty());
    let again: BTreeSet<String> = a_again.union(&b_again).cloned().collect();
    assert_eq!(again, all, "devices nobody polled after the restart");
    drop(a);
    drop(b);
    eprintln!("test took {:.0} s", t0.elapsed().as_secs_f64());
}
