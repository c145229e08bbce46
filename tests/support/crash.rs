//! Helpers of the tests that stop or starve `nocmap serve` under its
//! database (`store_crash_lab`, `store_power_cut_lab`): serve in the lab's noc
//! namespace with its stderr kept, the test's own read-only view of the
//! SQLite file, and ext4 images on loop devices.
use super::noc_get;
use super::serve::ServeCmd;
pub use super::sh;
use nocmap_lab::Lab;
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use super::serve::Serve;

impl Serve {
    /// The crash tests' serve: polls every 3 s, ICMP every 2 s, listening
    /// on `port`, the database `db`, its stderr kept and echoed.
    pub fn start(lab: &Lab, port: u16, prefix: &str, db: &Path) -> Serve {
        ServeCmd::new(lab, prefix)
            .poll(3)
            .icmp(2)
            .listen(port)
            .db(db)
            .start_captured(port)
    }
}

/// `GET path` from the lab's noc namespace (where serve listens); empty
/// when serve does not answer.
pub fn get(lab: &Lab, port: u16, path: &str) -> String {
    noc_get(lab, port, path).unwrap_or_default()
}

pub fn wait_for(what: &str, deadline: Duration, f: impl FnMut() -> bool) -> Duration {
    wait_or(what, deadline, f, String::new)
}

/// Like [`wait_for`]; `diag` says what was seen when it times out.
pub fn wait_or(
    what: &str,
    deadline: Duration,
    mut f: impl FnMut() -> bool,
    diag: impl FnOnce() -> String,
) -> Duration {
    let t0 = Instant::now();
    while t0.elapsed() < deadline {
        if f() {
            return t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "timed out after {deadline:?} waiting for {what}; {}",
        diag()
    );
}

/// One stored sample: device, subject, metric, time.
pub type Row = (String, String, String, i64);

/// A connection of the test's own, read-only.
pub fn read_only(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("opening {} read-only: {e}", db.display()))
}

/// Every sample committed in the file, as a reader sees it now.
pub fn committed(db: &Path) -> BTreeSet<Row> {
    committed_if_any(db).expect("the samples table")
}

/// [`committed`], or None when the file has no samples table (yet, or no
/// longer) or does not exist.
pub fn committed_if_any(db: &Path) -> Option<BTreeSet<Row>> {
    if !db.exists() {
        return None;
    }
    let c = read_only(db);
    let mut st = c
        .prepare(
            "SELECT s.device, s.subject, s.metric, x.t_ms
             FROM samples x JOIN series s ON s.id = x.series_id",
        )
        .ok()?;
    Some(
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect(),
    )
}

pub fn integrity(db: &Path) -> String {
    read_only(db)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// Store-wide gaps with `reason`: (from, to).
pub fn gaps(db: &Path, reason: &str) -> Vec<(i64, i64)> {
    let c = read_only(db);
    let mut st = c
        .prepare(
            "SELECT from_ms, to_ms FROM gaps WHERE series_id IS NULL AND reason = ?1 ORDER BY id",
        )
        .unwrap();
    st.query_map([reason], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn samples_written(lab: &Lab, port: u16) -> f64 {
    super::metric(&get(lab, port, "/metrics"), "nocmap_samples_written_total").unwrap_or(0.0)
}

pub struct Mounted(pub PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        for _ in 0..3 {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `program` in the mount namespace of process `pid` (serve runs in its
/// own: `ip netns exec` makes one, and mounts do not propagate here), or in
/// ours.
pub fn in_mount_ns(pid: Option<u32>, program: &str) -> Command {
    match pid {
        Some(pid) => {
            let mut c = Command::new("nsenter");
            c.args(["--target", &pid.to_string(), "--mount", "--", program]);
            c
        }
        None => Command::new(program),
    }
}

/// Attaches `img` to a new loop device (autoclear) and mounts it at `dir`
/// with the ext4 options `opts`, here and in the mount namespace of
/// `serve`; returns the device name (`loopN`).
pub fn mount_image(img: &Path, dir: &Path, serve: Option<u32>, opts: &str) -> String {
    let dev = sh(Command::new("losetup").args(["-f", "--show"]).arg(img));
    let mut ok = true;
    for ns in [None].into_iter().chain(serve.map(Some)) {
        let st = in_mount_ns(ns, "mount")
            .args(["-t", "ext4", "-o", opts])
            .arg(&dev)
            .arg(dir)
            .status()
            .unwrap();
        ok &= st.success();
    }
    // Detach once unmounted (also on failure).
    let _ = Command::new("losetup").args(["-d", &dev]).status();
    assert!(ok, "mount {dev} at {}", dir.display());
    dev.trim_start_matches("/dev/").to_string()
}

/// Panics, naming the package, unless every tool is on PATH (`.ci/run`
/// installs them; a fault test that skipped itself would prove nothing).
pub fn need_tools(tools: &[&str]) {
    for tool in tools {
        let found = Command::new("which")
            .arg(tool)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(found, "{tool} missing: install e2fsprogs and util-linux");
    }
}

/// A new ext4 image file of `size` (e.g. "64M") at `img`.
pub fn make_ext4_image(img: &Path, size: &str) {
    sh(Command::new("truncate").args(["-s", size]).arg(img));
    sh(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(img));
}
