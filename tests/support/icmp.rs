//! Shared helpers for the ICMP integration tests: root check, namespaces
//! that delete themselves, running the built binary inside a namespace, and
//! threads that live in a namespace (for raw-socket accomplices).
#![allow(dead_code)]
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};

/// True when running as root; otherwise prints a loud skip notice.
pub fn need_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    eprintln!("SKIPPED: needs root ({test})");
    false
}

/// A network namespace with loopback up and no default route; deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("nmicmp-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip -n NS ARGS`, panicking with its stderr on failure.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["ip", "-n", self.name.as_str()];
        full.extend_from_slice(args);
        sh(&full);
    }

    /// A veth pair `NAME`/`NAME-p`, both up, where the peer has no address:
    /// addresses put on `NAME` answer, every other one of its subnet is silent
    /// (ARP goes unanswered). Stands in for a dummy interface, which this
    /// kernel lacks.
    pub fn silent_segment(&self, name: &str) {
        let peer = format!("{name}-p");
        self.ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        self.ip(&["link", "set", name, "up"]);
        self.ip(&["link", "set", &peer, "up"]);
    }

    /// Runs a command inside the namespace, panicking on failure.
    pub fn exec(&self, args: &[&str]) {
        let mut full = vec!["ip", "netns", "exec", self.name.as_str()];
        full.extend_from_slice(args);
        sh(&full);
    }

    /// Runs the nocmap binary inside the namespace.
    pub fn nocmap(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_nocmap")])
            .args(args)
            .output()
            .expect("run ip netns exec nocmap")
    }

    /// Starts the nocmap binary inside the namespace without waiting.
    pub fn spawn_nocmap(&self, args: &[&str]) -> std::process::Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, env!("CARGO_BIN_EXE_nocmap")])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn nocmap")
    }

    /// Moves the calling thread into the namespace (sockets it opens live there).
    pub fn enter_current_thread(&self) {
        let f = File::open(format!("/run/netns/{}", self.name)).expect("open netns file");
        // SAFETY: setns on a valid namespace fd; affects only this thread.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

pub fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts the command exited 0 (showing its stderr if not).
pub fn assert_exit_0(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn stdout_json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The engine counters line printed by `--engine-counters` (last stderr line).
pub fn engine_counters(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no counters line on stderr: {text}"));
    serde_json::from_str(line).expect("counters JSON")
}

/// Internet checksum, written independently of the crate's for cross-checking.
pub fn inet_checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for (i, b) in data.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(*b) << 8
        } else {
            u32::from(*b)
        };
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A raw ICMPv4 socket in the current thread's namespace with a read timeout.
pub fn raw_icmp4(read_timeout: std::time::Duration) -> socket2::Socket {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::RAW,
        Some(socket2::Protocol::ICMPV4),
    )
    .expect("raw ICMP socket");
    s.set_read_timeout(Some(read_timeout))
        .expect("read timeout");
    s
}

/// Receives one datagram (IPv4 header included) or None on timeout.
pub fn recv_packet(s: &socket2::Socket) -> Option<Vec<u8>> {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
    match s.recv(&mut buf) {
        // SAFETY: recv initialised the first n bytes.
        Ok(n) => Some(
            buf[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect(),
        ),
        Err(_) => None,
    }
}

/// Sends an ICMP message (no IP header) to 127.0.0.1.
pub fn send_icmp4(s: &socket2::Socket, icmp: &[u8]) {
    let dst: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let _ = s.send_to(icmp, &dst.into());
}

/// Turns an IPv4 echo request packet (with IP header) into the ICMP bytes of
/// its echo reply; `mangle` may alter the reply payload before the checksum.
pub fn reply_for(request_packet: &[u8], mangle: impl FnOnce(&mut Vec<u8>)) -> Option<Vec<u8>> {
    let ihl = usize::from(request_packet.first()? & 0x0f) * 4;
    let icmp = request_packet.get(ihl..)?;
    if icmp.len() < 8 || icmp.first() != Some(&8) {
        return None;
    }
    let mut reply = icmp.to_vec();
    reply[0] = 0;
    mangle(&mut reply);
    reply[2] = 0;
    reply[3] = 0;
    let sum = inet_checksum(&reply);
    reply[2..4].copy_from_slice(&sum.to_be_bytes());
    Some(reply)
}
