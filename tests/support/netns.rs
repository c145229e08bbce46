//! A throw-away network namespace with loopback up and, optionally, a real
//! net-snmp snmpd on 127.0.0.1:161, for engine tests that need no topology.
//! Removed on drop, also when the test panics. The namespace has only `lo`
//! (and veths that stay inside it): nothing sent there can leave it.
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::Command;

pub fn sh(cmd: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh")
}

pub struct Netns {
    pub name: String,
    pub dir: PathBuf,
}

impl Netns {
    pub fn new(name: &str) -> Netns {
        let _ = sh(&format!(
            "ip netns pids {name} 2>/dev/null | xargs -r kill -9; ip netns del {name} 2>/dev/null"
        ));
        let dir = PathBuf::from(format!("/tmp/nocmap-test-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("persist")).unwrap();
        let out = sh(&format!(
            "ip netns add {name} && ip -n {name} link set lo up"
        ));
        assert!(
            out.status.success(),
            "netns add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Netns {
            name: name.to_string(),
            dir,
        }
    }

    /// A `Command` that runs `program` inside the namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Add `n` veth pairs (both ends inside the namespace) so the agent has
    /// several interfaces with MAC addresses.
    pub fn add_veths(&self, n: usize) {
        for i in 0..n {
            let out = sh(&format!(
                "ip -n {ns} link add t{i}a type veth peer name t{i}b && ip -n {ns} link set t{i}a up && ip -n {ns} link set t{i}b up",
                ns = self.name
            ));
            assert!(
                out.status.success(),
                "veth: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Start snmpd on 127.0.0.1:161 (v2c `public`, v3 `nocadmin`
    /// SHA-256/AES-128) and wait until it answers.
    pub fn start_snmpd(&self, sys_name: &str) {
        self.start_snmpd_with(sys_name, "");
    }

    /// As `start_snmpd`, with extra snmpd.conf lines (more users, communities).
    pub fn start_snmpd_with(&self, sys_name: &str, extra: &str) {
        let conf = self.dir.join("snmpd.conf");
        std::fs::write(
            &conf,
            format!(
                "agentaddress udp:127.0.0.1:161\nsysName {sys_name}\nrocommunity public 127.0.0.0/8\n\
                 createUser nocadmin SHA-256 \"authpass123\" AES \"privpass123\"\nrouser nocadmin priv\n{extra}"
            ),
        )
        .unwrap();
        let status = self
            .cmd("snmpd")
            .env("SNMP_PERSISTENT_DIR", self.dir.join("persist"))
            .args(["-C", "-c"])
            .arg(&conf)
            .arg("-p")
            .arg(self.dir.join("snmpd.pid"))
            .arg("-Lf")
            .arg(self.dir.join("snmpd.log"))
            .status()
            .unwrap();
        assert!(status.success(), "snmpd failed to start");
        for _ in 0..50 {
            let out = self
                .cmd("snmpget")
                .args([
                    "-v2c",
                    "-c",
                    "public",
                    "-t",
                    "0.2",
                    "-r",
                    "0",
                    "127.0.0.1",
                    "1.3.6.1.2.1.1.5.0",
                ])
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("snmpd in {} never answered", self.name);
    }

    /// Start `f` on a fresh thread inside the namespace and return at once
    /// (for a fake agent that must run while a child process talks to it).
    pub fn spawn_inside<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        use std::os::fd::AsRawFd;
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
    }

    /// Run `f` on a fresh thread that has moved into the namespace (for
    /// in-process engine tests on a current-thread runtime). The caller's
    /// thread stays outside, so clean-up on drop is never run from inside.
    pub fn run_inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        match self.spawn_inside(f).join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// [`Netns::run_inside`] on a current-thread tokio runtime: `make` is
    /// called inside and its future run to the end.
    pub fn block_on_inside<T, F>(&self, make: impl FnOnce() -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: std::future::Future<Output = T>,
    {
        self.run_inside(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(make())
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&format!(
            "ip netns pids {n} | xargs -r kill -9; ip netns del {n}",
            n = self.name
        ));
    }
}
