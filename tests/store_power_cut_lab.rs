//! Power cuts under `nocmap serve` (lab `pc`, 10.91.0.0/16): the database
//! lives on an ext4 image on a loop device, and a cut keeps only what had
//! reached that "disk" — what was synced — and drops everything still in
//! the page cache, as a real power loss does.
//!
//! How: while the test runs, the kernel's periodic writeback is switched
//! off (`vm.dirty_writeback_centisecs = 0`, restored afterwards) and the
//! file system is mounted with a one-hour journal commit interval, so dirty
//! pages reach the image only through an fsync. At a random moment serve
//! is killed (SIGKILL) and the image file is copied at once: the copy is
//! the disk as the power cut leaves it. The original is then unmounted and
//! thrown away, and the copy mounted in its place (ext4 replays its
//! journal, SQLite recovers its WAL) for the next run of serve.
//!
//! Checked at each of several cuts, some during discovery and most while
//! polling: `integrity_check` is ok, and every sample the test's own
//! read-only connection saw committed just before the cut is in the
//! database after it (the store syncs each commit: `[store] durability`
//! defaults to `full`). At the end serve runs once more on the last copy:
//! polling resumes and a restart gap is recorded.
#[macro_use]
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::crash::{
    Mounted, Serve, committed_if_any, gaps, integrity, make_ext4_image, mount_image, need_tools,
    samples_written, sh,
};
use support::lab::Routers;

const LAB: Routers = Routers::new(
    "pc",
    "10.91.0.0/16",
    "noc:eth0 - r1:eth0, r1:eth1 - r2:eth1",
);
const PORT: u16 = 18111;
const MOUNT_OPTS: &str = "commit=3600";
const CUTS: usize = 5;

/// Sets a sysctl for the test and puts the old value back on drop (also
/// when the test fails).
struct Sysctl {
    path: PathBuf,
    old: String,
}

impl Sysctl {
    fn set(name: &str, value: &str) -> Sysctl {
        let path = PathBuf::from("/proc/sys").join(name.replace('.', "/"));
        let old = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, value).unwrap();
        Sysctl { path, old }
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.path, self.old.trim());
    }
}

fn jitter_ms(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos / 1_000) % max.max(1)
}

fn umount(dir: &Path) {
    let _ = Command::new("umount")
        .arg(dir)
        .stderr(Stdio::null())
        .status();
}

#[test]
fn a_power_cut_loses_nothing_committed() {
    require_root!();
    need_tools(&["mkfs.ext4", "losetup"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fs");
    std::fs::create_dir(&dir).unwrap();
    let mut img = tmp.path().join("disk-0.img");
    make_ext4_image(&img, "128M");
    let _writeback = Sysctl::set("vm.dirty_writeback_centisecs", "0");
    let _expire = Sysctl::set("vm.dirty_expire_centisecs", "360000");
    let _mounted = Mounted(dir.clone());
    let dev = mount_image(&img, &dir, None, MOUNT_OPTS);
    // Only ever a loop device of our own image: never the host's disk.
    assert!(dev.starts_with("loop"), "{dev}");
    let db = dir.join("nocmap.db");
    let lab = support::lab_up_toml(&LAB.toml());

    let mut while_polling = 0;
    let mut kept_total = 0;
    for cut in 0..CUTS {
        let mut serve = Serve::start(&lab, PORT, LAB.prefix, &db);
        // The first cut lands early (discovery or the first rounds), the
        // others once samples are being written.
        if cut > 0 {
            let t0 = Instant::now();
            while samples_written(&lab, PORT) == 0.0 {
                assert!(t0.elapsed() < Duration::from_secs(60), "no samples written");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let wait = 300 + jitter_ms(if cut == 0 { 1_500 } else { 6_000 });
        std::thread::sleep(Duration::from_millis(wait));
        let polling = serve.log().contains("monitoring");
        let before = committed_if_any(&db);
        // The cut: serve dies, and the disk keeps only what reached it.
        serve.kill_9();
        let next = tmp.path().join(format!("disk-{}.img", cut + 1));
        sh(Command::new("cp")
            .arg("--sparse=always")
            .arg(&img)
            .arg(&next));
        umount(&dir);
        std::fs::remove_file(&img).unwrap();
        img = next;
        mount_image(&img, &dir, None, MOUNT_OPTS);

        let ok = if db.exists() {
            integrity(&db)
        } else {
            "ok (no file yet)".into()
        };
        let after = committed_if_any(&db);
        // A schema that was there before the cut and is gone after it is a
        // loss too: every sample counts as lost then.
        let (before, after) = (before.unwrap_or_default(), after.unwrap_or_default());
        let lost = before.difference(&after).count();
        eprintln!(
            "cut {cut}: {wait} ms after {}, {} samples committed before, {} after, {lost} lost; integrity {ok}",
            if cut == 0 {
                "start"
            } else {
                "the first sample"
            },
            before.len(),
            after.len()
        );
        assert!(ok.starts_with("ok"), "cut {cut}: integrity {ok}");
        assert_eq!(lost, 0, "cut {cut}: committed samples lost");
        if polling {
            while_polling += 1;
        }
        kept_total += before.len();
    }
    assert!(
        while_polling >= 3,
        "only {while_polling} cuts while polling"
    );
    assert!(kept_total > 0, "no cut had samples to lose");

    // Serve on the last copy: it resumes and marks the restart.
    let restarts = gaps(&db, "restart").len();
    let serve = Serve::start(&lab, PORT, LAB.prefix, &db);
    let t0 = Instant::now();
    while samples_written(&lab, PORT) == 0.0 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "serve wrote nothing after the last cut: {}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(gaps(&db, "restart").len() > restarts, "no restart gap");
    let (status, took) = serve.term(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?} after {took:?}"
    );
    assert_eq!(integrity(&db), "ok");
}
