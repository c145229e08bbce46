//! `nocmap serve` in a lab's noc namespace, started the way the labs start
//! it: seeded with the noc's first neighbour (the far end of `noc:eth0`),
//! community `public`, no rediscovery, over the lab's prefix; a test adds
//! intervals, a listen port, a config, a database and its own flags.
//! [`wait_api`] waits until it answers, [`terminate`] stops it with SIGTERM
//! and waits for the exit; [`Serve`] is the running process (the one
//! serve handle of the tests, the crash tests' included).
use super::{Kill, noc_get, nocmap_bin};
use nocmap_lab::Lab;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The command line of one `nocmap serve` in `lab`'s noc namespace.
pub struct ServeCmd<'a> {
    lab: &'a Lab,
    node: String,
    verbose: bool,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
}

impl<'a> ServeCmd<'a> {
    /// `serve --seed <noc:eth0's neighbour> --prefix <prefix> -c public
    /// --rediscover-interval 0`.
    pub fn new(lab: &'a Lab, prefix: &str) -> ServeCmd<'a> {
        let seed = lab.link_addrs("noc:eth0").unwrap().1.unwrap().to_string();
        ServeCmd::bare(lab)
            .args(["--seed", &seed, "--prefix", prefix, "-c", "public"])
            .args(["--rediscover-interval", "0"])
    }

    /// `serve` in the noc namespace with no flags at all (a central of
    /// several sites polls nothing of its own).
    pub fn bare(lab: &'a Lab) -> ServeCmd<'a> {
        ServeCmd {
            lab,
            node: "noc".into(),
            verbose: false,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Runs in `node`'s namespace instead of the noc's.
    pub fn in_node(mut self, node: &str) -> ServeCmd<'a> {
        self.node = node.into();
        self
    }

    /// `nocmap --verbose serve`: info-level logs on stderr.
    pub fn verbose(mut self) -> ServeCmd<'a> {
        self.verbose = true;
        self
    }

    /// `--poll-interval` (SNMP counters), seconds.
    pub fn poll(self, secs: u32) -> ServeCmd<'a> {
        self.args(["--poll-interval", &secs.to_string()])
    }

    /// `--icmp-interval`, seconds.
    pub fn icmp(self, secs: u32) -> ServeCmd<'a> {
        self.args(["--icmp-interval", &secs.to_string()])
    }

    /// `--listen 127.0.0.1:<port>` (inside the noc namespace).
    pub fn listen(self, port: u16) -> ServeCmd<'a> {
        self.args(["--listen", &format!("127.0.0.1:{port}")])
    }

    pub fn config(self, path: &Path) -> ServeCmd<'a> {
        self.arg("--config").arg(path)
    }

    pub fn db(self, path: &Path) -> ServeCmd<'a> {
        self.arg("--db").arg(path)
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> ServeCmd<'a> {
        self.args.push(arg.into());
        self
    }

    pub fn args<S: Into<OsString>>(mut self, args: impl IntoIterator<Item = S>) -> ServeCmd<'a> {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> ServeCmd<'a> {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command, stdout to /dev/null; stderr is the caller's to set.
    pub fn command(&self) -> Command {
        let mut cmd = self
            .lab
            .command_in(&self.node, nocmap_bin().to_str().unwrap())
            .unwrap();
        if self.verbose {
            cmd.arg("--verbose");
        }
        cmd.arg("serve").args(&self.args).stdout(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Started with its stderr on the test's.
    pub fn spawn(&self) -> Child {
        self.command()
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts")
    }

    /// Started with its stderr on the test's, as a [`Serve`].
    pub fn start(&self) -> Serve {
        Serve::new(self.spawn())
    }

    /// Started as a [`Serve`] whose stderr is kept for [`Serve::log`] and
    /// echoed on the test's, each line behind `[serve <tag>]`.
    pub fn start_captured(&self, tag: impl std::fmt::Display) -> Serve {
        let mut serve = Serve::new(
            self.command()
                .stderr(Stdio::piped())
                .spawn()
                .expect("serve starts"),
        );
        let stderr = serve.child.stderr.take().unwrap();
        let sink = serve.log.clone();
        let tag = tag.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[serve {tag}] {line}");
                let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        serve
    }

    /// Started with its stderr in the file `log`.
    pub fn spawn_logged(&self, log: &Path) -> Child {
        self.command()
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("serve starts")
    }
}

impl ServeCmd<'_> {
    /// Started verbose, listening on `port`, its stderr in `log`, with the
    /// test faults on (SIGUSR1 injects an ICMP receive-loop panic: the
    /// tests' build has the `test-faults` feature); returns once
    /// `/api/alerts` answers.
    pub fn start_logged(self, port: u16, log: &Path) -> Kill {
        let cmd = self.verbose().env("NOCMAP_TEST_FAULTS", "1").listen(port);
        let mut serve = Kill(cmd.spawn_logged(log));
        wait_api(
            cmd.lab,
            &mut serve.0,
            port,
            "/api/alerts",
            Some(log),
            Duration::from_secs(90),
        );
        serve
    }
}

/// Polls `GET path` on 127.0.0.1:`port` in the noc namespace every second
/// until it answers 2xx; panics after `limit`, or at once (with `log`) when
/// serve exits first.
pub fn wait_api(
    lab: &Lab,
    serve: &mut Child,
    port: u16,
    path: &str,
    log: Option<&Path>,
    limit: Duration,
) {
    let start = Instant::now();
    loop {
        if let Ok(Some(st)) = serve.try_wait() {
            let text = log
                .map(|l| std::fs::read_to_string(l).unwrap_or_default())
                .unwrap_or_default();
            panic!("serve exited with {st}: {text}");
        }
        if noc_get(lab, port, path).is_some() {
            return;
        }
        assert!(start.elapsed() < limit, "timed out waiting for the API");
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// SIGTERM, and wait for serve to exit (it flushes the store first).
pub fn terminate(serve: &mut Child) -> ExitStatus {
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    serve.wait().unwrap()
}

/// A running serve: [`Serve::stop`] is SIGTERM and wait for exit 0,
/// [`Serve::term`] SIGTERM within a bound, [`Serve::kill_9`] SIGKILL;
/// dropping it (also on panic) sends SIGTERM and kills it after 10 s.
/// Started with [`ServeCmd::start_captured`], its stderr is echoed and
/// kept ([`Serve::log`]).
pub struct Serve {
    pub child: Child,
    pub log: Arc<Mutex<String>>,
}

impl Serve {
    fn new(child: Child) -> Serve {
        Serve {
            child,
            log: Arc::default(),
        }
    }

    pub fn stop(mut self) {
        let st = terminate(&mut self.child);
        assert!(st.success(), "serve exited with {st}");
    }

    /// Serve's stderr so far (empty unless started captured).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// SIGKILL and reap; serve must not have panicked before.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        assert!(!self.log().contains("panicked"), "{}", self.log());
    }

    /// SIGTERM; the exit status and how long the exit took (None: still
    /// running after `bound`, then killed).
    pub fn term(mut self, bound: Duration) -> (Option<ExitStatus>, Duration) {
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        while t0.elapsed() < bound {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (Some(st), t0.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = t0.elapsed();
        let _ = self.child.kill();
        let _ = self.child.wait();
        (None, took)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: plain kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while let Ok(None) = self.child.try_wait() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A test's files for serve in a temporary directory (removed when the
/// returned `TempDir` is dropped): the config written as `<name>.toml`,
/// the database `<name>.db` and serve's log `serve.log`.
pub fn files(name: &str, config: &str) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let db = dir.path().join(format!("{name}.db"));
    let log = dir.path().join("serve.log");
    (dir, cfg, db, log)
}

/// `serve` as nobody without capabilities, with `config` (which asks for a
/// port below 1024): it must fail before discovery. Returns whether it
/// succeeded and its stderr.
pub fn unprivileged_with(config: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nocmap.toml");
    std::fs::write(&path, config).unwrap();
    let mut perms = std::fs::metadata(dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(dir.path(), perms).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(super::nocmap_bin())
        .args(["serve", "--config"])
        .arg(&path)
        .arg("--db")
        .arg(dir.path().join("never.db"))
        .args(["--seed", "127.0.0.1", "--prefix", "127.0.0.1/32"])
        .args(["-c", "public", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
