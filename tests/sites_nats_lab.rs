//! A site poller and a central over a real nats-server (Debian's 2.9.10,
//! JetStream on), through a WAN cut. The central's namespace (noc) runs
//! nats-server and `nocmap serve` as central; the site's namespace runs
//! `nocmap serve` as the site poller of itself and of `dev` behind it
//! (real snmpd in both):
//!
//! ```text
//!   noc (nats-server, central) ──WAN── site (poller, snmpd) ── dev (snmpd)
//! ```
//!
//! With polling under way, nftables in the site drops everything to and
//! from the central for 20 s, then lets it through again; half way through
//! the cut the site poller is killed (SIGKILL) and started again on the
//! same database. Afterwards every
//! sample the site stored from before the cut to after it is in the
//! central's store with the same value, and the central holds no sample
//! the site does not; the backlog arrived at no more than the configured
//! `backfill_per_s`, measured from the stream's own arrival times; the
//! central said once that the site's poller was unreachable and once that
//! it was back. Without
//! the journal (or without the backfill) the cut's samples never reach the
//! central and the comparison fails.
#[macro_use]
mod support;
use nocmap::sites::wire;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use support::crash::read_only;
use support::lab::Routers;
use support::nats::{Rows, differences, now_ms, sample_rows};
use support::serve::{ServeCmd, files};

const LAB: Routers = Routers::new(
    "natswan",
    "10.140.0.0/16",
    "noc:eth0 - site:eth0, site:eth1 - dev:eth1",
);
/// The same network under its own name and range, for a long measured
/// cut (`NOCMAP_SITES_CUT_S`) that may run beside the suite — and beside
/// `.ci/run`, whose clean-up of leftover `nats*` labs it must escape.
const LONG_LAB: Routers = Routers::new(
    "longcut",
    "10.141.0.0/16",
    "noc:eth0 - site:eth0, site:eth1 - dev:eth1",
);
const NATS_PORT: u16 = 4222;
const NATS_MONITOR: u16 = 18_240;
const CENTRAL_API: u16 = 18_241;
const SITE_API: u16 = 18_242;
const SITE: &str = "natsbranch";
/// The suite's cut and backfill bound. A measurement sets
/// `NOCMAP_SITES_CUT_S` (say 600, for BENCHMARKS.md) and optionally
/// `NOCMAP_SITES_BACKFILL_PER_S`, and runs on [`LONG_LAB`].
const SUITE_BACKFILL_PER_S: u32 = 60;
const SUITE_CUT: Duration = Duration::from_secs(20);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// (the lab, the cut, the backfill bound) of this run.
fn run_shape() -> (Routers, Duration, u32) {
    match env_u64("NOCMAP_SITES_CUT_S") {
        Some(cut) => (
            LONG_LAB,
            Duration::from_secs(cut.max(2)),
            env_u64("NOCMAP_SITES_BACKFILL_PER_S").map_or(SUITE_BACKFILL_PER_S, |b| b as u32),
        ),
        None => (LAB, SUITE_CUT, SUITE_BACKFILL_PER_S),
    }
}

fn journal_len(db: &Path) -> i64 {
    read_only(db)
        .query_row("SELECT count(*) FROM site_journal", [], |r| r.get(0))
        .unwrap_or(-1)
}

/// Every message on the site's samples subject: (arrival at the server in
/// ms, the journal sequence and time of each of its samples).
fn stream_messages() -> Vec<(i64, Vec<(u64, i64)>)> {
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
        let stream = js.get_stream(wire::STREAM).await.unwrap();
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: wire::samples_subject(SITE),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut out = Vec::new();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(3), messages.next()).await;
            let Ok(Some(Ok(msg))) = next else { break };
            let info = msg.info().unwrap();
            let at = (info.published.unix_timestamp_nanos() / 1_000_000) as i64;
            let pending = info.pending;
            let batch: wire::SampleBatch = serde_json::from_slice(&msg.payload).unwrap();
            out.push((at, batch.samples.iter().map(|s| (s.seq, s.t)).collect()));
            if pending == 0 {
                break;
            }
        }
        out
    })
}

#[test]
fn a_wan_cut_loses_nothing_and_the_backlog_keeps_its_pace() {
    require_root!();
    support::nats::require_server();
    let t0 = Instant::now();
    let (shape, cut_for, backfill_per_s) = run_shape();
    let lab = support::lab_up_toml(&shape.toml());
    let central_addr = lab.link_addrs("noc:eth0").unwrap().0.unwrap().to_string();
    let (dir, central_cfg, central_db, _) = files(
        "central",
        &format!(
            "[nats]\nurl = \"nats://127.0.0.1:{NATS_PORT}\"\nsite = \"hq\"\nrole = \"central\"\n"
        ),
    );
    let site_cfg = dir.path().join("site.toml");
    std::fs::write(
        &site_cfg,
        format!(
            "[nats]\nurl = \"nats://{central_addr}:{NATS_PORT}\"\nsite = \"{SITE}\"\n\
             role = \"poller\"\nbackfill_per_s = {backfill_per_s}\nheartbeat_s = 1\n"
        ),
    )
    .unwrap();
    let site_db = dir.path().join("site.db");
    let _nats = support::nats::start_jetstream(&lab, dir.path(), NATS_PORT, NATS_MONITOR);
    let central = ServeCmd::bare(&lab)
        .verbose()
        .args(["--rediscover-interval", "0", "--no-icmp"])
        .config(&central_cfg)
        .db(&central_db)
        .listen(CENTRAL_API)
        .start_captured("central");
    let site_cmd = ServeCmd::new(&lab, shape.prefix)
        .in_node("site")
        .verbose()
        .poll(2)
        .icmp(2)
        .config(&site_cfg)
        .db(&site_db)
        .listen(SITE_API);
    let mut site = site_cmd.start_captured("site");

    support::wait_until(
        "the site's first samples at the central",
        Duration::from_secs(40),
        || (central_db.exists() && !sample_rows(&central_db, 0, i64::MAX).is_empty()).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(3));
    let cut_at = now_ms();
    support::nats::cut(&lab, "site", "natscut", &central_addr);
    std::thread::sleep(cut_for / 2);
    // kill -9 in the middle of the cut: the journal and what was
    // acknowledged are on disk; the restarted poller owes the same.
    site.kill_9();
    let owed_at_kill = journal_len(&site_db);
    let site = site_cmd.start_captured("site, restarted");
    std::thread::sleep(cut_for / 2);
    let owed_at_heal = journal_len(&site_db);
    // Every entry journalled up to here is backlog (the poller takes the
    // bound only when it hears the central again, after the heal).
    let backlog_max: u64 = read_only(&site_db)
        .query_row("SELECT max(seq) FROM site_journal", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64;
    support::nats::heal(&lab, "site", "natscut");
    let healed_at = now_ms();
    eprintln!(
        "cut {cut_at}..{healed_at}; the site's journal owed {owed_at_kill} samples at the kill -9, \
         {owed_at_heal} at the heal"
    );
    assert!(
        owed_at_heal > 100,
        "the site journalled {owed_at_heal} samples during the cut"
    );

    let drained = Instant::now();
    // The backlog at the bound, with room (40 s for the suite's cut).
    let owed = owed_at_heal.max(0) as u64;
    let drain_limit = Duration::from_secs(40 + 2 * owed / u64::from(backfill_per_s.max(1)));
    support::wait_until("the site's journal drained", drain_limit, || {
        (journal_len(&site_db) == 0).then_some(())
    });
    let drained_in = drained.elapsed();
    // Samples taken 5 s before the journal was seen empty were committed
    // (and so journalled) before it.
    let (from, to) = (cut_at - 5_000, now_ms() - 5_000);
    let site_rows = sample_rows(&site_db, from, to);
    let during_cut = site_rows
        .keys()
        .filter(|k| k.3 > cut_at + 2_000 && k.3 < healed_at - 2_000)
        .count();
    assert!(
        during_cut > 100,
        "the site stored {during_cut} samples during the cut"
    );
    let mut central_rows = Rows::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        central_rows = sample_rows(&central_db, from, to);
        if central_rows == site_rows {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let (missing, extra, differ) = differences(&site_rows, &central_rows);
    assert!(
        missing == 0 && extra == 0 && differ == 0,
        "of {} site samples: {missing} missing at the central, {extra} extra, {differ} with another value",
        site_rows.len()
    );

    // The site poller's restart (the kill -9) is a store-wide gap at the
    // site; the central holds it for each of the site's devices, so its
    // reports tell why those seconds have no data.
    let restart: (i64, i64) = read_only(&site_db)
        .query_row(
            "SELECT from_ms, to_ms FROM gaps WHERE series_id IS NULL AND reason = 'restart'
             ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the site's restart gap");
    let site_gap_devices = || -> Vec<String> {
        let c = read_only(&central_db);
        let mut st = c
            .prepare(
                "SELECT device FROM gaps WHERE reason = ?1 AND from_ms = ?2 AND to_ms = ?3
                 ORDER BY device",
            )
            .unwrap();
        st.query_map(
            rusqlite::params![format!("site {SITE}: restart"), restart.0, restart.1],
            |r| r.get(0),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    // Every device the site polled in the minute before its restart has the
    // gap at the central, and only the site's devices have it.
    let polled_before: BTreeSet<String> = {
        let c = read_only(&central_db);
        let mut st = c
            .prepare(
                "SELECT DISTINCT s.device FROM samples x JOIN series s ON s.id = x.series_id
                 WHERE x.t_ms < ?1 AND x.t_ms > ?1 - 60000",
            )
            .unwrap();
        st.query_map([restart.0], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!polled_before.is_empty());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got: BTreeSet<String> = site_gap_devices().into_iter().collect();
    while !got.is_superset(&polled_before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        got = site_gap_devices().into_iter().collect();
    }
    assert!(
        got.is_superset(&polled_before),
        "the site's restart gap at the central: {got:?}, the devices polled before it: {polled_before:?}"
    );
    let topology = support::noc_json(&lab, CENTRAL_API, "/api/topology");
    let site_devices: BTreeSet<String> = topology["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["from_site"] == SITE)
        .filter_map(|d| d["id"].as_str().map(String::from))
        .collect();
    assert!(
        got.is_subset(&site_devices),
        "{got:?} beyond {site_devices:?}"
    );

    // The backlog's pace, from the stream's arrival times: the entries
    // journalled before the heal, as they arrived after it (the backlog
    // goes in journal order, so these come first in it).
    let mut messages = support::run_in_ns(&lab, "noc", stream_messages);
    messages.sort_by_key(|m| m.0);
    // An entry can be in the stream twice: a batch in flight when the cut
    // began is resent from the journal in other batches (another message
    // id), and the first copy may still arrive after the heal (the killed
    // poller's kernel retransmits it). The central stores it once; the
    // pace counts each entry once, at its first arrival.
    let mut seen = std::collections::HashSet::new();
    let mut twice = 0;
    let mut backlog: Vec<(i64, usize)> = Vec::new();
    for (at, entries) in &messages {
        let mut new = 0;
        for (seq, _) in entries {
            if !seen.insert(*seq) {
                twice += 1;
            } else if *at >= healed_at && *seq <= backlog_max {
                new += 1;
            }
        }
        if new > 0 {
            backlog.push((*at, new));
        }
    }
    eprintln!("{twice} entries were in the stream twice (stored once at the central)");
    backlog.sort();
    let total: usize = backlog.iter().map(|b| b.1).sum();
    // Paced, the backlog cannot go in a few messages (unpaced, it went in one).
    assert!(
        backlog.len() >= 10,
        "{total} backlog samples arrived in {} messages: not paced",
        backlog.len()
    );
    let (first, last) = (backlog[0], backlog[backlog.len() - 1]);
    let span_s = (last.0 - first.0) as f64 / 1_000.0;
    let rate = (total - first.1) as f64 / span_s;
    eprintln!(
        "backfill: {total} samples in {} messages over {span_s:.1} s = {rate:.1}/s \
         (bound {backfill_per_s}/s); journal drained {:.1} s after the heal; {} samples \
         compared value by value; test took {:.0} s",
        backlog.len(),
        drained_in.as_secs_f64(),
        site_rows.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(total > 100, "{total} backlog samples");
    assert!(
        rate <= f64::from(backfill_per_s) * 1.03,
        "backfill at {rate:.1}/s, above the bound of {backfill_per_s}/s"
    );
    assert!(
        rate >= f64::from(backfill_per_s) * 0.5,
        "backfill at {rate:.1}/s: far below the bound of {backfill_per_s}/s"
    );
    drop(site);
    // The central told the silence once (the kill -9 and restart within
    // the cut changed nothing) and the return once.
    let log = central.log();
    let told = |what: &str| {
        log.lines()
            .filter(|l| l.contains(what) && l.contains(SITE))
            .count()
    };
    assert_eq!(told("site poller unreachable"), 1, "{log}");
    assert_eq!(told("site poller back"), 1, "{log}");
}
