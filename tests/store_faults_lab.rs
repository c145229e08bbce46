//! The monitor against a store that stops taking writes: `nocmap serve`
//! polls a real snmpd in a lab while its database lives on a small tmpfs
//! that is filled to the last byte (disk full). The monitor keeps running
//! (ICMP rounds go on), says so in `/metrics`, holds the samples in memory,
//! and once the space is back writes them: the rounds measured during the
//! fault are in the file afterwards and the file is sound. A database on a
//! read-only file system is refused at start with a clear error.
#[macro_use]
mod support;
use nocmap::store::{Resolution, SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use nocmap_lab::Lab;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::lab::Routers;
use support::metric;
use support::serve::ServeCmd;

const LAB: Routers = Routers::new("sf", "10.85.0.0/16", "noc:eth0 - r1:eth0");

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// `GET path` from the lab's noc namespace (where serve listens).
fn get(lab: &Lab, path: &str) -> String {
    support::noc_get(lab, 18085, path).unwrap_or_default()
}

fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}");
}

fn sh(cmd: &mut Command) {
    let st = cmd.status().unwrap();
    assert!(st.success(), "{cmd:?}: {st}");
}

/// Fills the file system at `dir` to the last byte.
fn fill(dir: &Path) {
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", dir.join("filler").display()))
        .stderr(Stdio::null())
        .status();
    // The last partial block.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=512"])
        .arg(format!("of={}", dir.join("filler2").display()))
        .stderr(Stdio::null())
        .status();
}

/// Raw `loss_pct` rounds of the device whose address is `addr` in the store.
fn rounds(db: &Path, device: &str, from: i64, to: i64) -> Vec<i64> {
    let store = Store::open(db, StoreConfig::default()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    store
        .series_at(
            &SeriesKey::probe(device, "loss_pct"),
            UnixMillis(from),
            UnixMillis(to),
            Resolution::Raw,
        )
        .unwrap()
        .points
        .iter()
        .map(|p| p.at.0)
        .collect()
}

#[test]
fn a_full_disk_loses_no_samples_and_the_monitor_keeps_running() {
    require_root!();
    let lab = support::lab_up_toml(&LAB.toml());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fs");
    std::fs::create_dir(&dir).unwrap();
    sh(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "nocmap-sf"])
        .arg(&dir));
    let _mount = Mount(dir.clone());
    let db = dir.join("nocmap.db");
    let _serve = ServeCmd::new(&lab, "10.85.0.0/16")
        .poll(6)
        .icmp(2)
        .listen(18085)
        .db(&db)
        .start();
    wait_for("samples in the store", Duration::from_secs(60), || {
        metric(&get(&lab, "/metrics"), "nocmap_samples_written_total").unwrap_or(0.0) > 0.0
    });
    let devices = get(&lab, "/api/devices");
    let v: serde_json::Value = serde_json::from_str(&devices).unwrap();
    let r1 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["sys_name"] == "r1")
        .expect("r1 discovered")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A stretch of normal rounds first, to compare with.
    std::thread::sleep(Duration::from_secs(12));
    // 1. Disk full.
    fill(&dir);
    let full_from = now_ms();
    wait_for(
        "store_up 0 after the disk filled",
        Duration::from_secs(60),
        || metric(&get(&lab, "/metrics"), "nocmap_store_up") == Some(0.0),
    );
    // The monitor keeps measuring: fresh ICMP results keep arriving.
    let icmp_before = metric(&get(&lab, "/metrics"), "nocmap_icmp_rounds_total").unwrap();
    std::thread::sleep(Duration::from_secs(8));
    let m = get(&lab, "/metrics");
    assert!(
        metric(&m, "nocmap_icmp_rounds_total").unwrap() > icmp_before,
        "ICMP stopped"
    );
    let held = metric(&m, "nocmap_store_backlog_samples").unwrap();
    assert!(held > 0.0, "nothing held in memory: {m}");
    eprintln!("disk full: {held} samples held in memory");

    // 2. Space back: the held samples are written.
    std::fs::remove_file(dir.join("filler")).unwrap();
    let _ = std::fs::remove_file(dir.join("filler2"));
    wait_for(
        "store_up 1 after space came back",
        Duration::from_secs(90),
        || metric(&get(&lab, "/metrics"), "nocmap_store_up") == Some(1.0),
    );
    let full_to = now_ms();
    // And a stretch of normal rounds after.
    std::thread::sleep(Duration::from_secs(12));
    let m = get(&lab, "/metrics");
    assert_eq!(metric(&m, "nocmap_store_dropped_samples_total"), Some(0.0));
    assert_eq!(metric(&m, "nocmap_store_backlog_samples"), Some(0.0));

    // The rounds measured during the fault are in the file: the stored
    // rounds around and inside it are as dense as anywhere else.
    let all = rounds(&db, &r1, now_ms() - 3_600_000, now_ms());
    let mut spacing: Vec<i64> = all.windows(2).map(|w| w[1] - w[0]).collect();
    spacing.sort_unstable();
    let median = spacing[spacing.len() / 2];
    let inside = rounds(&db, &r1, full_from - 10_000, full_to + 10_000);
    let worst = inside
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(i64::MAX);
    eprintln!(
        "disk full for {:.0} s: {} rounds stored around it, median spacing {median} ms, worst {worst} ms",
        (full_to - full_from) as f64 / 1000.0,
        inside.len()
    );
    assert!(inside.first().unwrap() - (full_from - 10_000) <= 2 * median);
    assert!((full_to + 10_000) - inside.last().unwrap() <= 3 * median);
    assert!(
        worst <= 2 * median,
        "a {worst} ms hole (median {median} ms)"
    );
}

#[test]
fn a_read_only_database_is_a_clear_error_at_start() {
    require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let (rw, ro) = (tmp.path().join("rw"), tmp.path().join("ro"));
    std::fs::create_dir(&rw).unwrap();
    std::fs::create_dir(&ro).unwrap();
    drop(Store::open(&rw.join("nocmap.db"), StoreConfig::default()).unwrap());
    sh(Command::new("mount").args(["--bind"]).arg(&rw).arg(&ro));
    let _m = Mount(ro.clone());
    sh(Command::new("mount")
        .args(["-o", "remount,ro,bind"])
        .arg(&ro));
    // No lab needed: serve stops at the store before it discovers anything.
    let out = Command::new(support::nocmap_bin())
        .args([
            "serve",
            "--seed",
            "127.0.0.1",
            "--prefix",
            "127.0.0.1/32",
            "--no-icmp",
        ])
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(ro.join("nocmap.db"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("nocmap.db"), "{err}");
    assert!(err.to_lowercase().contains("read"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The wall clock in Unix milliseconds, for arithmetic on the JSON numbers.
fn now_ms() -> i64 {
    nocmap::types::UnixMillis::now().0
}
