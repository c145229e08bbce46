//! The processes a lab runs: snmpd and lldpd per managed node, one wire per
//! delayed link. Starts them detached (own process group, logs to files in
//! the lab's state directory) and stops them by pid.
//!
//! Must not create or change network plumbing (see `build`).
use super::LabError;
use super::sys::{self, in_ns};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Children started by this process, kept so they can be reaped.
#[derive(Debug, Default)]
pub struct Procs {
    children: Mutex<Vec<Child>>,
}

impl Procs {
    /// Spawns `c` detached with stdout and stderr appended to `log`; writes
    /// the pid to `pidfile`.
    pub fn spawn(&self, mut c: Command, log: &Path, pidfile: &Path) -> Result<u32, LabError> {
        use std::os::unix::process::CommandExt;
        let open = |p: &Path| {
            File::options()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| LabError::Io {
                    op: "open log",
                    path: p.to_owned(),
                    source,
                })
        };
        let (out, err) = (open(log)?, open(log)?);
        c.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = c.spawn().map_err(|source| LabError::Spawn {
            command: format!("{:?}", c.get_program()),
            source,
        })?;
        let pid = child.id();
        write_file(pidfile, &format!("{pid}\n"))?;
        self.lock().push(child);
        Ok(pid)
    }

    /// Stops the process whose pid is in `pidfile` (if any) and reaps it.
    pub fn stop_pidfile(&self, pidfile: &Path) {
        if let Some(pid) = read_pid(pidfile) {
            sys::kill_all(&[pid], Duration::from_secs(2));
            self.reap();
            let _ = std::fs::remove_file(pidfile);
        }
    }

    /// Collects exit statuses of children that have ended.
    pub fn reap(&self) {
        self.lock().retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Child>> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn read_pid(pidfile: &Path) -> Option<i32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

pub fn write_file(path: &Path, text: &str) -> Result<(), LabError> {
    std::fs::write(path, text).map_err(|source| LabError::Io {
        op: "write",
        path: path.to_owned(),
        source,
    })
}

/// Where one node's daemon files live.
#[derive(Debug, Clone)]
pub struct NodeFiles {
    pub dir: PathBuf,
}

impl NodeFiles {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

/// `ip netns exec NS unshare --uts sh -c 'hostname H && exec "$@"' ...`: the
/// daemon gets its own hostname and keeps the spawned pid.
fn in_ns_with_hostname(ns: &str, hostname: &str, program: &str) -> Command {
    let mut c = in_ns(ns, "unshare");
    c.args([
        "--uts",
        "sh",
        "-c",
        "hostname \"$0\" && exec \"$@\"",
        hostname,
        program,
    ]);
    c
}

pub fn start_snmpd(
    procs: &Procs,
    ns: &str,
    hostname: &str,
    files: &NodeFiles,
    conf: &str,
) -> Result<(), LabError> {
    let persist = files.path("snmp-persist");
    std::fs::create_dir_all(&persist).map_err(|source| LabError::Io {
        op: "create",
        path: persist.clone(),
        source,
    })?;
    let conf_path = files.path("snmpd.conf");
    write_file(&conf_path, conf)?;
    let mut c = in_ns_with_hostname(ns, hostname, "snmpd");
    c.env("SNMP_PERSISTENT_DIR", &persist)
        .env("MIBS", "")
        .arg("-f")
        .arg("-C")
        .arg("-c")
        .arg(&conf_path)
        .arg("-Lf")
        .arg(files.path("snmpd.log"));
    procs.spawn(c, &files.path("snmpd.out"), &files.path("snmpd.pid"))?;
    Ok(())
}

pub struct LldpdArgs<'a> {
    pub ns: &'a str,
    pub hostname: &'a str,
    pub conf: &'a str,
    pub interfaces: &'a str,
    pub mgmt_addr: Option<std::net::Ipv4Addr>,
    pub agentx: bool,
}

pub fn start_lldpd(procs: &Procs, files: &NodeFiles, a: &LldpdArgs<'_>) -> Result<(), LabError> {
    std::fs::create_dir_all("/run/lldpd").map_err(|source| LabError::Io {
        op: "create",
        path: "/run/lldpd".into(),
        source,
    })?;
    let conf_path = files.path("lldpd.conf");
    write_file(&conf_path, a.conf)?;
    let mut c = in_ns_with_hostname(a.ns, a.hostname, "lldpd");
    c.arg("-d")
        .arg("-u")
        .arg(files.path("lldpd.sock"))
        .arg("-p")
        .arg(files.path("lldpd.ownpid"))
        .arg("-O")
        .arg(&conf_path)
        .arg("-I")
        .arg(a.interfaces);
    if let Some(m) = a.mgmt_addr {
        c.arg("-m").arg(m.to_string());
    }
    if a.agentx {
        c.args(["-x", "-X", super::conf::AGENTX_SOCKET]);
    }
    procs.spawn(c, &files.path("lldpd.log"), &files.path("lldpd.pid"))?;
    Ok(())
}

/// Waits until snmpd in `ns` answers a v2c get of sysName.0 on loopback.
pub fn wait_snmpd(
    ns: &str,
    community: &str,
    files: &NodeFiles,
    timeout: Duration,
) -> Result<(), LabError> {
    let t0 = Instant::now();
    let mut last = String::new();
    while t0.elapsed() < timeout {
        let r = sys::run(in_ns(ns, "snmpget").args([
            "-v2c",
            "-c",
            community,
            "-r0",
            "-t0.3",
            "-Oqv",
            "127.0.0.1",
            "1.3.6.1.2.1.1.5.0",
        ]));
        match r {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        if read_pid(&files.path("snmpd.pid")).is_some_and(|p| !sys::alive(p)) {
            last = "snmpd exited".into();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(not_ready(
        "snmpd",
        ns,
        last,
        files,
        &["snmpd.out", "snmpd.log"],
    ))
}

pub fn not_ready(
    daemon: &'static str,
    node: &str,
    detail: String,
    files: &NodeFiles,
    logs: &[&str],
) -> LabError {
    let mut tail = String::new();
    for l in logs {
        tail.push_str(&log_tail(&files.path(l), 20));
    }
    LabError::DaemonNotReady {
        daemon,
        node: node.into(),
        detail,
        log: logs.join(", "),
        tail,
    }
}

/// The last `n` lines of a log file ("" if it does not exist).
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n") + if lines.is_empty() { "" } else { "\n" }
}

pub struct WireArgs<'a> {
    pub bin: &'a Path,
    pub ns: &'a str,
    pub params: &'a Path,
    pub log: &'a Path,
    pub pidfile: &'a Path,
}

/// Starts the wire process of one link and waits until it says it is ready.
pub fn start_wire(procs: &Procs, a: &WireArgs<'_>) -> Result<(), LabError> {
    // Run the whole process inside the wire namespace (not just one thread
    // via --ns), so teardown finds it with `ip netns pids`.
    let mut c = in_ns(a.ns, &a.bin.to_string_lossy());
    c.args(["wire", "--a"])
        .arg(super::plan::WIRE_PORTS[0])
        .arg("--b")
        .arg(super::plan::WIRE_PORTS[1])
        .arg("--params")
        .arg(a.params);
    let pid = procs.spawn(c, a.log, a.pidfile)? as i32;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        if std::fs::read_to_string(a.log).is_ok_and(|s| s.contains(super::wire::READY_LINE)) {
            return Ok(());
        }
        if !sys::alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let files = NodeFiles {
        dir: a.log.parent().unwrap_or(Path::new("/")).to_owned(),
    };
    let name = a
        .log
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Err(not_ready(
        "wire",
        a.ns,
        "did not report ready".into(),
        &files,
        &[&name],
    ))
}
