//! A headless Chromium for tests: `tests/browser/driver.mjs` (playwright-core
//! driving Debian's /usr/bin/chromium) started inside a lab's noc namespace,
//! JSON commands on its stdin, one JSON answer per line. Screenshots go to
//! `target/test-artifacts/<test>/`.
#![allow(dead_code)]
use nocmap_lab::Lab;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, Instant};

pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `target/test-artifacts/<test>/`, made if missing.
pub fn artifacts(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-artifacts")
        .join(test);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `artifacts(test)` emptied of an earlier run's files (screenshots,
/// exports), so they cannot pass for this run's.
pub fn fresh_artifacts(test: &str) -> PathBuf {
    let _ = std::fs::remove_dir_all(artifacts(test));
    artifacts(test)
}

/// Screenshots of an earlier run must not pass for this run's.
pub fn clear_artifacts(test: &str) {
    if let Ok(entries) = std::fs::read_dir(artifacts(test)) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "png") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Chromium and playwright-core must be there when the test runs as root:
/// a missing browser is a failure, not a skip.
pub fn require_browser() {
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing: apt-get install chromium (.ci/run does)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `npm ci` in tests/browser (.ci/run does)"
    );
}

/// `tests/browser/driver.mjs` running in the lab's noc namespace.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
    /// Where screenshots go.
    artifacts: PathBuf,
}

impl Browser {
    /// Screenshots go to `artifacts(test)`.
    pub fn start(lab: &Lab, test: &str) -> Browser {
        Browser::start_with_args(lab, test, &[])
    }

    /// The same with more Chromium arguments (`NOCMAP_CHROMIUM_ARGS`).
    pub fn start_with_args(lab: &Lab, test: &str, args: &[&str]) -> Browser {
        let mut cmd = lab.command_in("noc", "node").unwrap();
        cmd.env("NOCMAP_CHROMIUM_ARGS", args.join(" "));
        Browser::spawn(cmd, test)
    }

    /// The driver in this host's namespace, for a page served on 127.0.0.1
    /// by an in-process server (no lab).
    pub fn start_local(test: &str) -> Browser {
        Browser::spawn(std::process::Command::new("node"), test)
    }

    fn spawn(mut cmd: std::process::Command, test: &str) -> Browser {
        let mut child = cmd
            .arg(browser_dir().join("driver.mjs"))
            .current_dir(browser_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        Browser {
            child,
            stdin,
            out,
            artifacts: artifacts(test),
        }
    }

    pub fn try_cmd(&mut self, c: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{c}").expect("driver stdin");
        loop {
            let mut line = String::new();
            let n = self.out.read_line(&mut line).expect("driver stdout");
            assert!(n > 0, "the browser driver exited (command {c})");
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                eprintln!("driver: {}", line.trim_end());
                continue;
            };
            return match v.get("error") {
                Some(e) => Err(e.as_str().unwrap_or("?").to_string()),
                None => Ok(v["ok"].clone()),
            };
        }
    }

    pub fn cmd(&mut self, c: Value) -> Value {
        let what = c.to_string();
        match self.try_cmd(c) {
            Ok(v) => v,
            Err(e) => {
                self.screenshot("failed-command");
                panic!("browser command {what} failed: {e}")
            }
        }
    }

    pub fn eval(&mut self, expr: &str) -> Value {
        self.cmd(json!({"cmd": "eval", "expr": expr}))
    }

    /// Polls `expr` in the page until it is truthy (its value), or panics
    /// with `what` and the page's `state` expression after `secs`.
    pub fn wait(&mut self, expr: &str, secs: u64, what: &str, state: &str) -> Value {
        match self.try_cmd(json!({"cmd": "wait", "expr": expr, "timeout_ms": secs * 1000})) {
            Ok(v) => v,
            Err(e) => {
                let now = self.eval(state);
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
                panic!("{what}: not seen within {secs} s ({e}); page state: {now}");
            }
        }
    }

    pub fn screenshot(&mut self, name: &str) {
        let path = self.artifacts.join(format!("{name}.png"));
        let _ = self.try_cmd(json!({"cmd": "screenshot", "path": path}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "close"}));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
