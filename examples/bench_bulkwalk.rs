//! Benchmark: client CPU per varbind for bulk walks of IF-MIB (ifTable +
//! ifXTable) from many agents, nocmap's engine against net-snmp's
//! `snmpbulkwalk`, in one run, on the same agents.
//!
//! Builds its own namespace `nmbench-walk` (loopback only, no route out) with
//! AGENTS real snmpd processes on 127.0.0.{1..AGENTS} and IFACES veth pairs, so
//! every agent serves the same large IF-MIB. Run as root:
//!   cargo run --release --example bench_bulkwalk -- [AGENTS] [IFACES] [ROUNDS] [MAX_REPS]
use nocmap::snmp::{Credential, Oid, SnmpEngine, SnmpSettings};
use nocmap::types::Secret;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::{Duration, Instant};

const NS: &str = "nmbench-walk";

fn sh(cmd: &str) {
    let st = Command::new("sh").arg("-c").arg(cmd).status().expect("sh");
    assert!(st.success(), "failed: {cmd}");
}

fn cpu_time(who: i32) -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn setup(agents: u32, ifaces: u32) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ip netns pids {NS} 2>/dev/null | xargs -r kill -9; ip netns del {NS} 2>/dev/null"
        ))
        .status();
    sh(&format!("ip netns add {NS} && ip -n {NS} link set lo up"));
    for i in 0..ifaces {
        sh(&format!(
            "ip -n {NS} link add b{i}a type veth peer name b{i}b && ip -n {NS} link set b{i}a up"
        ));
    }
    for a in 1..=agents {
        let dir = format!("/tmp/nmbench-walk/{a}");
        sh(&format!("rm -rf {dir} && mkdir -p {dir}/persist"));
        std::fs::write(
            format!("{dir}/snmpd.conf"),
            format!("agentaddress udp:127.0.0.{a}:161\nsysName agent{a}\nrocommunity public 127.0.0.0/8\n"),
        )
        .unwrap();
        sh(&format!(
            "SNMP_PERSISTENT_DIR={dir}/persist ip netns exec {NS} snmpd -C -c {dir}/snmpd.conf -p {dir}/pid -Lf {dir}/log"
        ));
    }
    std::thread::sleep(Duration::from_secs(2));
}

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(10);
    let ifaces = args.get(1).copied().unwrap_or(50);
    let rounds = args.get(2).copied().unwrap_or(3);
    let reps = args.get(3).copied().unwrap_or(25);
    setup(agents, ifaces);
    let roots = ["1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"];

    // net-snmp: one snmpbulkwalk per agent and table, as a poller script would.
    let mut ns_vb = 0usize;
    let c0 = cpu_time(libc::RUSAGE_CHILDREN);
    let t0 = Instant::now();
    for _ in 0..rounds {
        for a in 1..=agents {
            for r in roots {
                let out = Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        NS,
                        "snmpbulkwalk",
                        "-v2c",
                        "-c",
                        "public",
                        "-On",
                    ])
                    .arg(format!("-Cr{reps}"))
                    .arg(format!("127.0.0.{a}"))
                    .arg(r)
                    .output()
                    .unwrap();
                ns_vb += String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| l.starts_with(".1.3"))
                    .count();
            }
        }
    }
    let ns_wall = t0.elapsed();
    let ns_cpu = cpu_time(libc::RUSAGE_CHILDREN) - c0;

    // nocmap: one engine, one shared socket, every agent walked concurrently.
    let f = std::fs::File::open(format!("/run/netns/{NS}")).unwrap();
    assert_eq!(
        unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&f), libc::CLONE_NEWNET) },
        0
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (our_vb, our_wall, our_cpu) = rt.block_on(async {
        let engine = SnmpEngine::new(SnmpSettings {
            max_repetitions: reps,
            ..Default::default()
        })
        .await
        .unwrap();
        let creds = vec![Credential::V2c {
            name: "bench".into(),
            community: Secret::new("public"),
        }];
        let c0 = cpu_time(libc::RUSAGE_SELF);
        let t0 = Instant::now();
        let mut total = 0usize;
        for _ in 0..rounds {
            let jobs = (1..=agents)
                .flat_map(|a| roots.iter().map(move |r| (a, *r)))
                .map(|(a, r)| {
                    let engine = engine.clone();
                    let creds = creds.clone();
                    async move {
                        let s = engine
                            .open(IpAddr::V4(Ipv4Addr::new(127, 0, 0, a as u8)), &creds)
                            .await
                            .unwrap();
                        let w = s.walk(&Oid::parse(r).unwrap()).await.unwrap();
                        assert!(w.is_complete());
                        w.varbinds.len()
                    }
                });
            total += futures::future::join_all(jobs)
                .await
                .into_iter()
                .sum::<usize>();
        }
        (total, t0.elapsed(), cpu_time(libc::RUSAGE_SELF) - c0)
    });

    let per = |cpu: Duration, n: usize| cpu.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "agents={agents} interfaces={} rounds={rounds} max-repetitions={reps}",
        ifaces * 2 + 1
    );
    println!("| client | varbinds | wall s | client CPU s | CPU us/varbind |");
    println!("|---|---|---|---|---|");
    println!(
        "| nocmap (1 shared socket, concurrent) | {our_vb} | {:.2} | {:.3} | {:.2} |",
        our_wall.as_secs_f64(),
        our_cpu.as_secs_f64(),
        per(our_cpu, our_vb)
    );
    println!(
        "| snmpbulkwalk (one process per walk) | {ns_vb} | {:.2} | {:.3} | {:.2} |",
        ns_wall.as_secs_f64(),
        ns_cpu.as_secs_f64(),
        per(ns_cpu, ns_vb)
    );
    // This process sits in the namespace too: kill the agents, not ourselves.
    let me = std::process::id();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ip netns pids {NS} | grep -vx {me} | xargs -r kill -9; ip netns del {NS}"
        ))
        .status();
}
