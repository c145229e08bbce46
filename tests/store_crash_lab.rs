//! Crash and storage faults of the whole `nocmap serve` process, polling real
//! snmpd agents in a lab, on a real SQLite file:
//!
//! - `kill_9_and_sigterm_lose_nothing_committed` (lab `kc`): serve is killed
//!   with SIGKILL while it is still discovering (the first link carries
//!   150 ms of delay then) and at several random moments while it polls.
//!   Before each kill the test reads what is committed through its own
//!   read-only connection; after the restart on the same file
//!   `integrity_check` is ok, every committed sample is still there, a
//!   restart gap starts at the last sample the file held, polling resumes,
//!   and the topology is saved by the first run that finishes discovery. At
//!   the end a SIGTERM: serve exits 0 and the samples of the last rounds the
//!   API showed before the signal are in the file.
//! - `a_file_system_turning_read_only_under_serve` (lab `kcro`): the
//!   database lives on an ext4 image on a loop device mounted with
//!   `errors=remount-ro`; the test raises an ext4 error through
//!   `/sys/fs/ext4/<loop>/trigger_fs_error` while serve writes. Serve says so
//!   in `/metrics` (store down, the error naming the read-only file system),
//!   keeps polling in memory, and writes its backlog once the file is
//!   writable again. An ext4 that went read-only after an error does not go
//!   back to read-write without a check (this kernel keeps it
//!   `emergency_ro` after `remount,rw`), so the test tries the remount,
//!   then recovers the way an operator would: unmount, `e2fsck`, mount the
//!   image again at the same place — serve reopens the file by its path.
//!
//! Timing figures are printed, never asserted beyond generous deadlines.
#[macro_use]
mod support;
use nocmap_lab::Lab;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::crash::{
    Mounted, Row, Serve, committed, gaps, get, in_mount_ns, integrity, make_ext4_image,
    mount_image, need_tools, read_only, samples_written, sh, wait_for, wait_or,
};
use support::lab::Routers;
use support::metric;

const LAB: Routers = Routers::new(
    "kc",
    "10.87.0.0/17",
    "noc:eth0 ~ r1:eth0, r1:eth1 - r2:eth1",
);
const PORT: u16 = 18087;

const LAB_RO: Routers = Routers::new("kcro", "10.87.128.0/17", "noc:eth0 - r1:eth0");
const PORT_RO: u16 = 18088;

/// A random number below `max` (the sub-second clock is random enough for
/// picking kill moments; no seed to reproduce, the moments are printed).
fn jitter_ms(max: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (u64::from(nanos) / 1_000) % max.max(1)
}

/// `nocmap serve` in the lab's noc namespace; its stderr is kept (and
/// echoed) so the test can see where it is and that it never panicked.
fn devices(lab: &Lab, port: u16) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(&get(lab, port, "/api/devices"))
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// Topology snapshots stored, and the sysNames in the newest.
fn topology_saved(db: &Path) -> (i64, Vec<String>) {
    if !db.exists() {
        return (0, vec![]);
    }
    let c = read_only(db);
    let n: i64 = c
        .query_row("SELECT count(*) FROM topology_snapshots", [], |r| r.get(0))
        .unwrap_or(0);
    let json: Option<String> = c
        .query_row(
            "SELECT json FROM topology_snapshots ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let mut names: Vec<String> = json
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .and_then(|v| v["devices"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d["sys_name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    (n, names)
}

/// Rows of `set` newer than `t` with metric `metric`.
fn newer(set: &BTreeSet<Row>, metric: &str, t: i64) -> usize {
    set.iter().filter(|r| r.2 == metric && r.3 > t).count()
}

/// The lab's routers as `/api/devices` shows them (the noc host is a
/// device too).
fn routers(lab: &Lab) -> Vec<serde_json::Value> {
    devices(lab, PORT)
        .into_iter()
        .filter(|d| matches!(d["sys_name"].as_str(), Some("r1" | "r2")))
        .collect()
}

#[test]
fn kill_9_and_sigterm_lose_nothing_committed() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("nocmap.db");

    // 1. kill -9 while discovering: the first link slow, so a crawl takes
    //    seconds; kill at a random moment after serve said it discovers.
    lab.set_delay("noc:eth0", Duration::from_millis(150), Duration::ZERO)
        .unwrap();
    let mut in_discovery = 0;
    for round in 0..3 {
        let snaps_before = topology_saved(&db).0;
        let mut serve = Serve::start(&lab, PORT, LAB.prefix, &db);
        wait_for(
            "serve to start discovering",
            Duration::from_secs(30),
            || serve.log().contains("discovering"),
        );
        let delay = 200 + jitter_ms(2_000);
        std::thread::sleep(Duration::from_millis(delay));
        let still_discovering = !serve.log().contains("monitoring");
        serve.kill_9();
        let (snaps, _) = topology_saved(&db);
        let ok = integrity(&db);
        eprintln!(
            "discovery kill {round}: {delay} ms after 'discovering', still discovering: {still_discovering}, integrity {ok}, topology snapshots {snaps_before} -> {snaps}"
        );
        assert_eq!(ok, "ok", "discovery kill {round}");
        if still_discovering {
            in_discovery += 1;
            assert_eq!(snaps, snaps_before, "a snapshot from a killed crawl");
        }
    }
    assert!(in_discovery > 0, "no kill landed during discovery");

    // SIGTERM during the first discovery: an orderly exit 0, no panic.
    let serve = Serve::start(&lab, PORT, LAB.prefix, &db);
    wait_for(
        "serve to start discovering",
        Duration::from_secs(30),
        || serve.log().contains("discovering"),
    );
    std::thread::sleep(Duration::from_millis(200 + jitter_ms(500)));
    let still_discovering = !serve.log().contains("monitoring");
    let log = serve.log.clone();
    let (status, took) = serve.term(Duration::from_secs(20));
    // The reader thread may still be taking the last lines.
    std::thread::sleep(Duration::from_millis(200));
    let log = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    eprintln!(
        "SIGTERM during discovery (still discovering: {still_discovering}): {status:?} after {} ms",
        took.as_millis()
    );
    assert!(status.is_some_and(|s| s.success()), "{status:?}: {log}");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(integrity(&db), "ok");

    lab.set_delay("noc:eth0", Duration::ZERO, Duration::ZERO)
        .unwrap();

    // The next run finishes discovery and saves the topology.
    let t_start = Instant::now();
    let mut serve = Serve::start(&lab, PORT, LAB.prefix, &db);
    wait_for("samples written", Duration::from_secs(60), || {
        samples_written(&lab, PORT) > 0.0
    });
    let (snaps, names) = topology_saved(&db);
    eprintln!(
        "after the discovery kills: first samples written {:.1} s after start; {snaps} topology snapshot(s), devices {names:?}",
        t_start.elapsed().as_secs_f64()
    );
    assert!(snaps >= 1);
    // The host serve runs on is in the topology too.
    assert!(
        ["r1", "r2"].iter().all(|n| names.iter().any(|m| m == n)),
        "{names:?}"
    );

    // 2. kill -9 at random moments while polling.
    for round in 0..4 {
        let wait = 2_500 + jitter_ms(4_000);
        std::thread::sleep(Duration::from_millis(wait));
        let before = committed(&db);
        // A random position relative to the writer's 1 s commits.
        std::thread::sleep(Duration::from_millis(jitter_ms(1_000)));
        let t_kill = now_ms();
        serve.kill_9();
        let at_kill = committed(&db);
        let last_at_kill = at_kill.iter().map(|r| r.3).max().unwrap();
        assert!(
            before.is_subset(&at_kill),
            "round {round}: {} committed samples gone right after the kill",
            before.difference(&at_kill).count()
        );

        serve = Serve::start(&lab, PORT, LAB.prefix, &db);
        let resumed = wait_for("new samples after restart", Duration::from_secs(60), || {
            let now = committed(&db);
            newer(&now, "loss_pct", t_kill) > 0 && newer(&now, "oper_up", t_kill) > 0
        });
        let after = committed(&db);
        assert_eq!(integrity(&db), "ok", "round {round}");
        let lost: Vec<&Row> = at_kill.difference(&after).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} committed samples lost, e.g. {:?}",
            lost.len(),
            at_kill.len(),
            lost.first()
        );
        // The restart gap runs from the last sample the file held.
        let restart = gaps(&db, "restart");
        let gap = restart
            .iter()
            .find(|g| g.1 >= t_kill)
            .unwrap_or_else(|| panic!("round {round}: no restart gap after {t_kill}: {restart:?}"));
        assert_eq!(gap.0, last_at_kill, "round {round}: restart gap {gap:?}");
        eprintln!(
            "polling kill {round}: after {wait} ms; committed {} samples before, {} at the kill (newest {} ms before it), all {} present after restart (file now {}); restart gap {} ms; new samples {:.1} s after restart",
            before.len(),
            at_kill.len(),
            t_kill - last_at_kill,
            at_kill.len(),
            after.len(),
            gap.1 - gap.0,
            resumed.as_secs_f64()
        );
    }

    // 3. SIGTERM: the last rounds the API showed are flushed.
    wait_for(
        "a fresh poll of every device",
        Duration::from_secs(30),
        || {
            let d = routers(&lab);
            d.len() == 2
                && d.iter().all(|d| {
                    d["health"]["last_icmp_ms"].is_i64() && d["health"]["last_snmp_ms"].is_i64()
                })
        },
    );
    std::thread::sleep(Duration::from_millis(jitter_ms(2_000)));
    let seen = routers(&lab);
    let t_seen = now_ms();
    let (status, took) = serve.term(Duration::from_secs(30));
    eprintln!("SIGTERM: exit {status:?} after {} ms", took.as_millis());
    let status = status.expect("serve still running 30 s after SIGTERM");
    assert!(status.success(), "serve exited with {status}");
    let stored = committed(&db);
    assert_eq!(integrity(&db), "ok");
    let mut checked = 0;
    for d in &seen {
        let id = d["id"].as_str().unwrap().to_string();
        let icmp = d["health"]["last_icmp_ms"].as_i64().unwrap();
        let key = (id.clone(), String::new(), "loss_pct".to_string(), icmp);
        assert!(
            stored.contains(&key),
            "the last ICMP round shown is not stored: {key:?}"
        );
        checked += 1;
        for (ifname, h) in d["interface_health"].as_object().unwrap() {
            if let (Some(_), Some(at)) = (h["oper_status"].as_str(), h["updated_ms"].as_i64()) {
                let key = (id.clone(), ifname.clone(), "oper_up".to_string(), at);
                assert!(
                    stored.contains(&key),
                    "the last SNMP poll shown is not stored: {key:?}"
                );
                checked += 1;
            }
        }
    }
    eprintln!(
        "SIGTERM: {checked} last-shown samples all stored; {} samples newer than the API read flushed too",
        stored.iter().filter(|r| r.3 > t_seen).count()
    );
}

/// Unmounts (lazily) what the test mounted, on every exit.
/// Whether a new file can be written in `dir`.
fn writable(dir: &Path) -> Result<(), std::io::Error> {
    let p = dir.join("probe");
    std::fs::write(&p, b"x")?;
    std::fs::remove_file(&p)
}

fn store_metrics(lab: &Lab) -> String {
    get(lab, PORT_RO, "/metrics")
}

#[test]
fn a_file_system_turning_read_only_under_serve() {
    require_root!();
    need_tools(&["mkfs.ext4", "e2fsck", "losetup"]);
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("ext4.img");
    let dir = tmp.path().join("fs");
    std::fs::create_dir(&dir).unwrap();
    make_ext4_image(&img, "64M");
    let _mounted = Mounted(dir.clone());
    let dev = mount_image(&img, &dir, None, "errors=remount-ro");
    // Only ever a loop device of our own image: never the host's disk.
    assert!(dev.starts_with("loop"), "{dev}");
    let trigger = PathBuf::from(format!("/sys/fs/ext4/{dev}/trigger_fs_error"));
    if !trigger.exists() {
        eprintln!("SKIPPED: {} missing on this kernel", trigger.display());
        return;
    }
    let db = dir.join("nocmap.db");
    let lab = support::lab_up_toml(&LAB_RO.toml());
    let serve = Serve::start(&lab, PORT_RO, LAB_RO.prefix, &db);
    wait_for("samples in the store", Duration::from_secs(60), || {
        samples_written(&lab, PORT_RO) > 0.0
    });
    std::thread::sleep(Duration::from_secs(6));

    // What is committed, made durable, then the ext4 error.
    let durable = committed(&db);
    sh(Command::new("sync").arg("-f").arg(&db));
    // A commit or two more that are only in the page cache at the error
    // (synchronous=NORMAL does not fsync a commit).
    std::thread::sleep(Duration::from_millis(1_500));
    let cached = committed(&db);
    std::fs::write(&trigger, "1").unwrap();
    let t_err = now_ms();
    let t0 = Instant::now();
    assert!(
        writable(&dir).is_err(),
        "the file system still takes writes after the ext4 error"
    );
    let down = wait_for("store_up 0", Duration::from_secs(30), || {
        metric(&store_metrics(&lab), "nocmap_store_up") == Some(0.0)
    });
    let clear = wait_for(
        "an error naming the read-only file system",
        Duration::from_secs(30),
        || {
            let m = store_metrics(&lab);
            m.lines()
                .any(|l| l.starts_with("nocmap_store_last_error_info") && l.contains("read-only"))
        },
    );
    let m = store_metrics(&lab);
    let err_line = m
        .lines()
        .find(|l| l.starts_with("nocmap_store_last_error_info"))
        .unwrap_or_default()
        .to_string();
    eprintln!(
        "read-only: store_up 0 after {} ms, the read-only error shown after {} ms: {err_line}",
        down.as_millis(),
        (down + clear).as_millis()
    );

    // The monitor keeps polling in memory: new ICMP rounds and SNMP polls
    // reach the API; remember what it showed.
    let mut shown = BTreeSet::new();
    let rounds_before = metric(&m, "nocmap_icmp_rounds_total").unwrap();
    let polls_before = metric(&m, "nocmap_snmp_polls_total").unwrap_or(0.0);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(2));
        for d in devices(&lab, PORT_RO) {
            if let (Some(id), Some(t)) = (d["id"].as_str(), d["health"]["last_icmp_ms"].as_i64())
                && t > t_err
            {
                shown.insert((id.to_string(), String::new(), "loss_pct".to_string(), t));
            }
        }
    }
    let m = store_metrics(&lab);
    assert!(
        metric(&m, "nocmap_icmp_rounds_total").unwrap() > rounds_before,
        "ICMP stopped"
    );
    let polls_now = metric(&m, "nocmap_snmp_polls_total").unwrap_or(0.0);
    let held = metric(&m, "nocmap_store_backlog_samples").unwrap();
    assert!(
        !shown.is_empty(),
        "the API showed no ICMP round during the fault"
    );
    assert!(held > 0.0, "nothing held in memory: {m}");
    assert!(!serve.log().contains("panicked"));
    eprintln!(
        "read-only: {} ICMP rounds shown by the API during the fault, SNMP polls {polls_before} -> {polls_now}, {held} samples held in memory",
        shown.len()
    );

    // Writable again: remount read-write, else unmount, check, mount again.
    let pid = serve.child.id();
    let remount = in_mount_ns(Some(pid), "mount")
        .args(["-o", "remount,rw"])
        .arg(&dir)
        .output()
        .unwrap();
    let how = if remount.status.success() && writable(&dir).is_ok() {
        "remount,rw".to_string()
    } else {
        eprintln!(
            "read-only: remount,rw {} ({}), file system still read-only: {:?}",
            remount.status,
            String::from_utf8_lossy(&remount.stderr).trim(),
            writable(&dir).err()
        );
        sh(Command::new("umount").arg("-l").arg(&dir));
        sh(in_mount_ns(Some(pid), "umount").arg("-l").arg(&dir));
        let fsck = Command::new("e2fsck")
            .args(["-fy"])
            .arg(&img)
            .output()
            .unwrap();
        // 0: clean, 1: errors corrected.
        assert!(
            matches!(fsck.status.code(), Some(0 | 1)),
            "e2fsck: {}{}",
            String::from_utf8_lossy(&fsck.stdout),
            String::from_utf8_lossy(&fsck.stderr)
        );
        let dev2 = mount_image(&img, &dir, Some(pid), "errors=remount-ro");
        writable(&dir).unwrap();
        format!(
            "unmount, e2fsck (exit {:?}), mount on {dev2}",
            fsck.status.code()
        )
    };
    let t_writable = now_ms();
    let up = wait_or(
        "store_up 1",
        Duration::from_secs(90),
        || metric(&store_metrics(&lab), "nocmap_store_up") == Some(1.0),
        || {
            let m = store_metrics(&lab);
            let e: Vec<&str> = m
                .lines()
                .filter(|l| l.starts_with("nocmap_store"))
                .collect();
            format!("{e:#?}")
        },
    );
    let m = store_metrics(&lab);
    eprintln!(
        "read-only: writable again by {how} after {:.1} s of fault; store_up 1 {} ms later; backlog {:?}, dropped {:?}",
        (t_writable - t_err) as f64 / 1000.0,
        up.as_millis(),
        metric(&m, "nocmap_store_backlog_samples"),
        metric(&m, "nocmap_store_dropped_samples_total")
    );
    assert_eq!(metric(&m, "nocmap_store_backlog_samples"), Some(0.0));
    assert_eq!(metric(&m, "nocmap_store_dropped_samples_total"), Some(0.0));
    std::thread::sleep(Duration::from_secs(4));
    let (status, took) = serve.term(Duration::from_secs(30));
    eprintln!(
        "read-only: SIGTERM exit {status:?} after {} ms",
        took.as_millis()
    );
    assert!(status.expect("serve still running after SIGTERM").success());

    let stored = committed(&db);
    assert_eq!(integrity(&db), "ok");
    let missing_durable = durable.difference(&stored).count();
    let missing_shown: Vec<&Row> = shown.difference(&stored).collect();
    let lost_cached: Vec<&Row> = cached.difference(&stored).collect();
    eprintln!(
        "read-only: {} samples durable before the fault, {missing_durable} missing after; {} committed but only in the page cache at the error, {} of them lost; {} of {} rounds shown during the fault stored; fault lasted {:.1} s",
        durable.len(),
        cached.len() - durable.len().min(cached.len()),
        lost_cached.len(),
        shown.len() - missing_shown.len(),
        shown.len(),
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(
        missing_durable, 0,
        "samples synced before the fault are gone"
    );
    // Commits the file system lost are not a silent hole: serve found the
    // reopened file older than what it had written and recorded a gap.
    let lost_gaps = gaps(&db, "store_lost");
    eprintln!("read-only: store_lost gaps {lost_gaps:?}");
    for r in &lost_cached {
        assert!(
            lost_gaps.iter().any(|g| g.0 < r.3 && r.3 <= g.1),
            "a lost commit without a gap: {r:?}, gaps {lost_gaps:?}"
        );
    }
    if lost_cached.is_empty() {
        eprintln!("read-only: no commit was lost this run; the store_lost gap was not exercised");
    }
    assert!(
        missing_shown.is_empty(),
        "rounds measured during the fault not stored: {missing_shown:?}"
    );
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
