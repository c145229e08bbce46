//! The userspace wire: a delay line between two interfaces, standing in for
//! `tc netem` (absent from this kernel). Two AF_PACKET sockets, one per
//! port; each frame received on one port is sent out of the other after
//! `delay +/- jitter`, in arrival order (no reordering).
//!
//! The `DelayLine` is pure (takes `now`, never reads the clock); `run` owns
//! the sockets and the clock. Runs as the hidden `nocmap-lab wire`; it must
//! not know about lab specs or plans: it only gets two interface names.
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Printed on stderr once both ports are open; the driver waits for it.
pub const READY_LINE: &str = "nocmap wire ready";
/// At most this many frames wait in one direction; more are dropped.
pub const QUEUE_LIMIT: usize = 20_000;
const PARAMS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("{op} `{target}`: {source}")]
    Sys {
        op: &'static str,
        target: String,
        source: std::io::Error,
    },
}

fn sys_err(op: &'static str, target: &str) -> WireError {
    WireError::Sys {
        op,
        target: target.into(),
        source: std::io::Error::last_os_error(),
    }
}

/// Delay and jitter of the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WireParams {
    pub delay: Duration,
    pub jitter: Duration,
}

impl WireParams {
    /// Parses the parameter file: `DELAY_MS JITTER_MS` (decimals allowed).
    pub fn parse(text: &str) -> Option<WireParams> {
        let mut it = text.split_whitespace().map(|t| t.parse::<f64>());
        let d = it.next()?.ok()?;
        let j = it.next().unwrap_or(Ok(0.0)).ok()?;
        let ok = |v: f64| v.is_finite() && (0.0..=10_000.0).contains(&v);
        (ok(d) && ok(j)).then(|| WireParams {
            delay: Duration::from_secs_f64(d / 1000.0),
            jitter: Duration::from_secs_f64(j / 1000.0),
        })
    }

    /// The text `parse` reads back.
    pub fn render(&self) -> String {
        format!(
            "{} {}\n",
            self.delay.as_secs_f64() * 1000.0,
            self.jitter.as_secs_f64() * 1000.0
        )
    }
}

/// Frames of one direction, each with the instant it is due.
#[derive(Debug, Default)]
pub struct DelayLine {
    queue: VecDeque<(Instant, Vec<u8>)>,
    rng: u64,
}

impl DelayLine {
    pub fn new(seed: u64) -> DelayLine {
        DelayLine {
            queue: VecDeque::new(),
            rng: seed | 1,
        }
    }

    /// Queues `frame`, received at `now`. Returns false when it was dropped
    /// because the queue is full.
    pub fn push(&mut self, now: Instant, frame: Vec<u8>, p: WireParams) -> bool {
        if self.queue.len() >= QUEUE_LIMIT {
            return false;
        }
        let mut due = now + p.delay;
        if !p.jitter.is_zero() {
            // xorshift64: good enough for jitter, no dependency.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let u = (self.rng >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            let offset = p.jitter.as_secs_f64() * (2.0 * u - 1.0);
            let d = (p.delay.as_secs_f64() + offset).max(0.0);
            due = now + Duration::from_secs_f64(d);
        }
        // Keep arrival order: never due before the frame ahead of it.
        if let Some(&(last, _)) = self.queue.back() {
            due = due.max(last);
        }
        self.queue.push_back((due, frame));
        true
    }

    /// The instant the next frame is due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|(t, _)| *t)
    }

    /// Removes and returns the next frame if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_due()? <= now {
            self.queue.pop_front().map(|(_, f)| f)
        } else {
            None
        }
    }
}

/// What `nocmap-lab wire` is told to do.
#[derive(Debug, Clone)]
pub struct WireConfig {
    /// Network namespace to enter first (a name under /run/netns). Only the
    /// calling thread moves, so the lab driver does not use it: it starts the
    /// whole process under `ip netns exec`, where teardown can find it.
    pub ns: Option<String>,
    pub a: String,
    pub b: String,
    /// Parameter file re-read every 100 ms; overrides `initial` when present.
    pub params: Option<PathBuf>,
    pub initial: WireParams,
}

/// Ask for SCHED_FIFO so a busy machine does not add its scheduling delay to
/// the configured one (measured: +4 ms mean and 25 ms spikes at load 9
/// without it). Best effort: without the privilege the wire still runs.
fn realtime_priority() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: plain syscall on our own thread with a valid parameter struct.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc != 0 {
        eprintln!(
            "wire: could not get real-time priority ({}); delays may stretch under load",
            std::io::Error::last_os_error()
        );
    }
}

/// Runs the wire until `stop` is set (or the process is killed).
/// Blocking: call it on a thread of its own.
pub fn run(cfg: &WireConfig, stop: &AtomicBool) -> Result<(), WireError> {
    if let Some(ns) = &cfg.ns {
        enter_netns(ns)?;
    }
    let ports = [open_port(&cfg.a)?, open_port(&cfg.b)?];
    realtime_priority();
    eprintln!("{READY_LINE}: {} <-> {}", cfg.a, cfg.b);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let mut lines = [DelayLine::new(seed), DelayLine::new(seed.rotate_left(17))];
    let mut params = cfg.initial;
    let mut params_checked = Instant::now() - PARAMS_EVERY;
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now.duration_since(params_checked) >= PARAMS_EVERY {
            params_checked = now;
            if let Some(p) = cfg
                .params
                .as_ref()
                .and_then(|f| std::fs::read_to_string(f).ok())
                && let Some(p) = WireParams::parse(&p)
            {
                params = p;
            }
        }
        let mut wait = PARAMS_EVERY;
        for l in &lines {
            if let Some(due) = l.next_due() {
                wait = wait.min(due.saturating_duration_since(now));
            }
        }
        poll_readable(&ports, wait);
        for (i, port) in ports.iter().enumerate() {
            // Frames received on port i leave through the other port.
            while let Some(n) = recv_incoming(port, &mut buf) {
                lines[1 - i].push(Instant::now(), buf[..n].to_vec(), params);
            }
        }
        let now = Instant::now();
        for (i, line) in lines.iter_mut().enumerate() {
            while let Some(frame) = line.pop_due(now) {
                // SAFETY: sending an initialised buffer on a bound packet socket.
                unsafe {
                    libc::send(
                        ports[i].as_raw_fd(),
                        frame.as_ptr().cast(),
                        frame.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
            }
        }
    }
    Ok(())
}

fn enter_netns(ns: &str) -> Result<(), WireError> {
    let path = format!("/run/netns/{ns}");
    let f = std::fs::File::open(&path).map_err(|source| WireError::Sys {
        op: "open namespace",
        target: path.clone(),
        source,
    })?;
    // SAFETY: setns on a valid namespace fd; affects only this thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(sys_err("setns", &path));
    }
    Ok(())
}

fn open_port(ifname: &str) -> Result<OwnedFd, WireError> {
    let c = CString::new(ifname).map_err(|_| WireError::Sys {
        op: "interface name",
        target: ifname.into(),
        source: std::io::ErrorKind::InvalidInput.into(),
    })?;
    // SAFETY: c is a valid NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if ifindex == 0 {
        return Err(sys_err("if_nametoindex", ifname));
    }
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            i32::from(proto),
        )
    };
    if fd < 0 {
        return Err(sys_err("socket(AF_PACKET)", ifname));
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let size: libc::c_int = 4 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_SNDBUFFORCE] {
        // SAFETY: setsockopt with a valid int option value.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid start.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: binding with a correctly sized sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(sys_err("bind(AF_PACKET)", ifname));
    }
    Ok(fd)
}

/// Waits until a port is readable or `wait` has passed.
fn poll_readable(ports: &[OwnedFd; 2], wait: Duration) {
    let mut fds = ports.each_ref().map(|p| libc::pollfd {
        fd: p.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    let ts = libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    };
    // SAFETY: fds and ts are valid for the call.
    unsafe { libc::ppoll(fds.as_mut_ptr(), 2, &ts, std::ptr::null()) };
}

/// One received frame that was not sent by this host (PACKET_OUTGOING is
/// skipped); None when nothing is waiting.
fn recv_incoming(port: &OwnedFd, buf: &mut [u8]) -> Option<usize> {
    loop {
        // SAFETY: zeroed sockaddr_ll is valid; lengths match the buffers.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        let n = unsafe {
            libc::recvfrom(
                port.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut sll as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n <= 0 {
            return None;
        }
        if sll.sll_pkttype != libc::PACKET_OUTGOING {
            return Some(n as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(d: u64, j: u64) -> WireParams {
        WireParams {
            delay: Duration::from_millis(d),
            jitter: Duration::from_millis(j),
        }
    }

    #[test]
    fn params_round_trip() {
        assert_eq!(WireParams::parse(&p(20, 3).render()), Some(p(20, 3)));
        assert_eq!(WireParams::parse("15"), Some(p(15, 0)));
        assert_eq!(WireParams::parse("x 1"), None);
        assert_eq!(WireParams::parse("-1 0"), None);
    }

    #[test]
    fn frames_leave_after_the_delay_in_order() {
        let t0 = Instant::now();
        let mut l = DelayLine::new(7);
        assert!(l.push(t0, vec![1], p(20, 0)));
        assert!(l.push(t0 + Duration::from_millis(1), vec![2], p(20, 0)));
        assert_eq!(l.pop_due(t0 + Duration::from_millis(19)), None);
        assert_eq!(l.pop_due(t0 + Duration::from_millis(20)), Some(vec![1]));
        assert_eq!(l.pop_due(t0 + Duration::from_millis(20)), None);
        assert_eq!(l.pop_due(t0 + Duration::from_millis(21)), Some(vec![2]));
    }

    #[test]
    fn jitter_stays_in_bounds_and_never_reorders() {
        let t0 = Instant::now();
        let mut l = DelayLine::new(42);
        for i in 0..1000u32 {
            l.push(
                t0 + Duration::from_micros(u64::from(i) * 100),
                i.to_be_bytes().to_vec(),
                p(10, 5),
            );
        }
        let mut prev = None;
        let mut last_due = t0;
        while let Some(due) = l.next_due() {
            assert!(due >= last_due);
            last_due = due;
            let f = l.pop_due(due).unwrap();
            let i = u32::from_be_bytes(f.try_into().unwrap());
            if let Some(p) = prev {
                assert_eq!(i, p + 1);
            }
            prev = Some(i);
        }
        assert_eq!(prev, Some(999));
        assert!(last_due <= t0 + Duration::from_millis(100 + 15));
        assert!(last_due >= t0 + Duration::from_millis(99 + 5));
    }

    #[test]
    fn a_full_queue_drops() {
        let t0 = Instant::now();
        let mut l = DelayLine::new(1);
        for _ in 0..QUEUE_LIMIT {
            assert!(l.push(t0, vec![0], p(1, 0)));
        }
        assert!(!l.push(t0, vec![0], p(1, 0)));
    }
}
