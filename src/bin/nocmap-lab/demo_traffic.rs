//! Traffic for the demo lab, so its map is alive: a few iperf3 flows between
//! lab nodes whose rates step through a cycle (the WAN link's utilisation
//! climbs through the map's colour buckets and falls back), and an
//! interface that goes down now and then. Every flow starts and ends inside
//! the lab's namespaces. The processes are children of this one and are
//! killed when the [`Traffic`] handle drops.
use nocmap_lab::{Lab, LabError};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One flow: iperf3 from `from` to `to`'s management address, at each rate
/// of `mbit` in turn for `step` each.
#[derive(Debug, Clone)]
pub struct Flow {
    pub from: &'static str,
    pub to: &'static str,
    pub mbit: &'static [u32],
    pub port: u16,
}

/// The demo lab's flows: across the 50 Mbit/s WAN link (branch ↔ core1),
/// from the lossy host, and over the core link.
pub const DEMO_FLOWS: [Flow; 3] = [
    Flow {
        from: "web1",
        to: "core1",
        mbit: &[6, 18, 30, 42, 47, 24, 10],
        port: 5301,
    },
    Flow {
        from: "db1",
        to: "core2",
        mbit: &[2, 5, 1, 8],
        port: 5302,
    },
    Flow {
        from: "core2",
        to: "core1",
        mbit: &[300, 900, 1500, 600],
        port: 5303,
    },
];

/// The sites demo's flows: inside each site, towards its router (the WAN
/// links carry only nocmap's own messages).
pub const SITES_FLOWS: [Flow; 2] = [
    Flow {
        from: "eastweb",
        to: "east",
        mbit: &[5, 20, 60, 85, 40],
        port: 5311,
    },
    Flow {
        from: "westdb",
        to: "westdist",
        mbit: &[150, 400, 800, 300],
        port: 5312,
    },
];

/// How long each rate of a flow lasts.
pub const STEP: Duration = Duration::from_secs(30);

/// An interface the demo takes down for a while every few minutes, so the
/// map shows a red link: (node, interface, up for, down for).
pub const FLAP: (&str, &str, Duration, Duration) = (
    "core2",
    "eth2",
    Duration::from_secs(240),
    Duration::from_secs(45),
);

/// Running traffic; dropping it stops every flow.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    servers: Vec<Child>,
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Sleeps `d` in short slices; false when asked to stop.
fn nap(stop: &AtomicBool, d: Duration) -> bool {
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    !stop.load(Ordering::SeqCst)
}

/// Starts the flows (and the flapping interface, if `flap`). Flows whose
/// nodes the lab does not have are skipped with a message.
pub fn start(lab: Arc<Lab>, flows: &[Flow], flap: bool) -> Traffic {
    let stop = Arc::new(AtomicBool::new(false));
    let mut servers = Vec::new();
    let mut threads = Vec::new();
    for f in flows.iter().cloned() {
        let (Ok(addr), Ok(_)) = (lab.mgmt_addr(f.to), lab.ns(f.from)) else {
            eprintln!(
                "traffic: the lab has no {} -> {}, flow skipped",
                f.from, f.to
            );
            continue;
        };
        let server = lab.command_in(f.to, "iperf3").and_then(|mut c| {
            c.args(["-s", "-B", &addr.to_string(), "-p", &f.port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|source| LabError::Spawn {
                    command: "iperf3 -s".into(),
                    source,
                })
        });
        match server {
            Ok(s) => servers.push(s),
            Err(e) => {
                eprintln!("traffic: {e}; flow {} -> {} skipped", f.from, f.to);
                continue;
            }
        }
        let (lab, stop) = (lab.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            nap(&stop, Duration::from_secs(1));
            for mbit in f.mbit.iter().cycle() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let client = lab.command_in(f.from, "iperf3").and_then(|mut c| {
                    c.args([
                        "-c",
                        &addr.to_string(),
                        "-p",
                        &f.port.to_string(),
                        "-t",
                        &STEP.as_secs().to_string(),
                        "-b",
                        &format!("{mbit}M"),
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|source| LabError::Spawn {
                        command: "iperf3 -c".into(),
                        source,
                    })
                });
                let Ok(mut child) = client else {
                    if !nap(&stop, STEP) {
                        return;
                    }
                    continue;
                };
                // Wait for the step to end (or the stop), then the next rate.
                loop {
                    match child.try_wait() {
                        Ok(Some(_)) | Err(_) => break,
                        Ok(None) if stop.load(Ordering::SeqCst) => {
                            let _ = child.kill();
                            let _ = child.wait();
                            return;
                        }
                        Ok(None) => std::thread::sleep(Duration::from_millis(200)),
                    }
                }
                // A refused connection returns at once: do not spin.
                nap(&stop, Duration::from_secs(1));
            }
        }));
    }
    if flap {
        let (node, ifname, up_for, down_for) = FLAP;
        if lab.ns(node).is_ok() {
            let (lab, stop) = (lab.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                while nap(&stop, up_for) {
                    let _ = lab.set_if_state(node, ifname, false);
                    let more = nap(&stop, down_for);
                    let _ = lab.set_if_state(node, ifname, true);
                    if !more {
                        return;
                    }
                }
            }));
        }
    }
    Traffic {
        stop,
        threads,
        servers,
    }
}
