//! `nocmap-lab demo`: the one-command tour on the bundled lab network. Brings the
//! demo lab up (real snmpd and lldpd in namespaces, a delayed WAN link, a
//! lossy host), discovers it from the lab's `noc` namespace, measures every
//! device's latency and loss from there, writes the topology and its exports,
//! and keeps the lab up until Ctrl-C. Every probe runs inside the lab's noc
//! namespace, which has no route out of the lab.
//!
//! The lab's wires and bridge agents run this binary; discovery, ping,
//! export and serve run the product binary `nocmap` that cargo builds beside
//! it (`nocmap_exe`), so the tour shows the product itself.
use anyhow::{Context, bail};
use nocmap::cli::topology_text;
use nocmap::topology::Topology;
use nocmap_lab::{Lab, LabOptions, LabSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

const DEMO_LAB: &str = include_str!("../../../examples/labs/demo.toml");

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// A lab description to use instead of the bundled demo network.
    #[arg(long)]
    pub lab: Option<PathBuf>,
    /// Tear the lab down as soon as the tour is done instead of monitoring it.
    #[arg(long)]
    pub no_wait: bool,
    /// Do not generate traffic or take an interface down now and then.
    #[arg(long)]
    pub no_traffic: bool,
    /// Where the monitor's API is offered on this host.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The multi-site tour instead: a central and two sites' pollers over
    /// nats-server (needs the `nats-server` package).
    #[arg(long)]
    pub sites: bool,
}

pub(super) fn require_tools() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the demo builds network namespaces and needs root: run it with sudo");
    }
    let missing: Vec<&str> = ["snmpd", "lldpd", "ip", "nft"]
        .into_iter()
        .filter(|t| {
            !["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .any(|d| std::path::Path::new(d).join(t).exists())
        })
        .collect();
    if !missing.is_empty() {
        bail!(
            "missing {}: on Debian/Ubuntu `apt-get install snmpd snmp lldpd iproute2 nftables iperf3`; elsewhere install net-snmp, lldpd, iproute2 and nftables",
            missing.join(", ")
        );
    }
    Ok(())
}

/// The product binary: `nocmap` in the directory of this one (cargo builds
/// both into the same target directory).
pub(super) fn nocmap_exe() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find the nocmap-lab binary")?;
    let exe = me.with_file_name("nocmap");
    if !exe.is_file() {
        bail!(
            "{} not found: build both binaries (`cargo build --release --locked --bins`)",
            exe.display()
        );
    }
    Ok(exe)
}

fn in_noc(lab: &Lab, exe: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    let mut cmd: Command =
        lab.command_in("noc", exe.to_str().context("binary path is not UTF-8")?)?;
    cmd.args(args)
        .output()
        .context("cannot run nocmap inside the lab")
}

pub async fn run(args: DemoArgs, state_root: &Path) -> anyhow::Result<ExitCode> {
    if args.sites {
        return super::demo_sites::run(args, state_root).await;
    }
    require_tools()?;
    let exe = nocmap_exe()?;
    let spec = match &args.lab {
        Some(p) => LabSpec::from_path(p)?,
        None => LabSpec::from_toml(DEMO_LAB)?,
    };
    let opts = LabOptions {
        lab_bin: Some(std::env::current_exe()?),
        state_root: state_root.to_owned(),
        ..LabOptions::default()
    };
    eprintln!("bringing up lab {} ({}) ...", spec.name, spec.prefix);
    let lab = std::sync::Arc::new(tokio::task::block_in_place(|| Lab::up_with(spec, opts))?);
    eprintln!("waiting for LLDP to settle ...");
    tokio::task::block_in_place(|| lab.wait_lldp_settled(Duration::from_secs(30)))?;

    let seed = lab
        .truth()
        .nodes
        .iter()
        .find(|n| n.managed)
        .and_then(|n| n.mgmt_addr)
        .context("the lab has no managed device")?;
    let prefix = lab.truth().prefix;
    // What `discover` and `serve` both crawl from.
    let seed_text = seed.to_string();
    let crawl = [
        "--seed",
        seed_text.as_str(),
        "--prefix",
        prefix.as_str(),
        "-c",
        "public",
    ];
    let out_dir = lab.state_dir().to_path_buf();
    let topo_path = out_dir.join("topology.json");
    eprintln!("discovering from {seed} inside the lab's noc namespace ...");
    let out = in_noc(
        &lab,
        &exe,
        &[
            &["discover"][..],
            &crawl,
            &["--out", topo_path.to_str().unwrap_or_default()],
        ]
        .concat(),
    )?;
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("discovery failed");
    }
    let topo: Topology = serde_json::from_slice(&std::fs::read(&topo_path)?)?;
    println!(
        "\n{} devices, {} links:",
        topo.devices.len(),
        topo.links.len()
    );
    for line in topology_text::link_lines(&topo) {
        println!("{line}");
    }

    let targets: Vec<String> = topo
        .devices
        .iter()
        .filter(|d| !d.poller)
        .filter_map(|d| d.mgmt_addr)
        .map(|a| a.to_string())
        .collect();
    println!("\nlatency and loss from the poller (20 probes each):");
    let mut ping_args = vec!["ping", "-c", "20", "-i", "50", "--json"];
    ping_args.extend(targets.iter().map(String::as_str));
    let out = in_noc(&lab, &exe, &ping_args)?;
    let stats: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    for s in &stats {
        let target = s["target"].as_str().unwrap_or("?");
        let dev = topo
            .devices
            .iter()
            .find(|d| d.mgmt_addr.map(|a| a.to_string()).as_deref() == Some(target))
            .and_then(|d| d.sys_name.as_deref().map(topology_text::plain))
            .unwrap_or_default();
        let ms = |k: &str| {
            s[k].as_f64()
                .map(|v| format!("{v:7.2}"))
                .unwrap_or_else(|| "      -".into())
        };
        println!(
            "  {dev:<12} {target:<15} loss {:5.1}%  rtt min/avg/max {}/{}/{} ms  jitter {} ms",
            s["loss_pct"].as_f64().unwrap_or(100.0),
            ms("rtt_min_ms"),
            ms("rtt_avg_ms"),
            ms("rtt_max_ms"),
            ms("jitter_ms")
        );
    }

    for (fmt, file) in [("graphml", "topology.graphml"), ("dot", "topology.dot")] {
        let path = out_dir.join(file);
        let out = Command::new(&exe)
            .args(["export", "--in"])
            .arg(&topo_path)
            .args(["--format", fmt, "--out"])
            .arg(&path)
            .output()?;
        if out.status.success() {
            println!("wrote {}", path.display());
        }
    }
    println!("wrote {}", topo_path.display());
    if args.no_wait {
        return Ok(ExitCode::SUCCESS);
    }

    // The monitor runs inside the noc namespace; a relay brings its API to the host.
    let db = out_dir.join("nocmap.db");
    let inner: std::net::SocketAddr = "127.0.0.1:18080".parse()?;
    let mut serve = lab
        .command_in("noc", exe.to_str().context("binary path is not UTF-8")?)?
        .arg("serve")
        .args(crawl)
        .args([
            "--poll-interval",
            "15",
            "--icmp-interval",
            "5",
            "--listen",
            &inner.to_string(),
            "--db",
        ])
        .arg(&db)
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("cannot start the monitor")?;
    let relay = tokio::spawn(super::relay::run(
        args.listen,
        lab.noc_ns().to_string(),
        inner,
    ));
    let traffic = (!args.no_traffic).then(|| {
        eprintln!(
            "generating traffic (iperf3 inside the lab, rates change every {} s; {}:{} goes down for {} s every {} s)",
            super::demo_traffic::STEP.as_secs(),
            super::demo_traffic::FLAP.0,
            super::demo_traffic::FLAP.1,
            super::demo_traffic::FLAP.3.as_secs(),
            super::demo_traffic::FLAP.2.as_secs(),
        );
        super::demo_traffic::start(lab.clone(), &super::demo_traffic::DEMO_FLOWS, true)
    });
    println!(
        "\nthe live map: http://{0}/   (NOC wall screen: http://{0}/wall)\nAPI: http://{0}/api/topology, /api/devices, /api/events, /metrics (the lab's monitor, relayed from its noc namespace)\nthe lab stays up; Ctrl-C stops the monitor and tears the lab down",
        args.listen
    );
    tokio::signal::ctrl_c().await.ok();
    eprintln!("stopping the monitor and tearing the lab down ...");
    relay.abort();
    drop(traffic);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    let _ = serve.wait();
    match std::sync::Arc::try_unwrap(lab) {
        Ok(lab) => drop(lab),
        Err(_) => eprintln!("the lab is still in use; `nocmap-lab down` removes it"),
    }
    Ok(ExitCode::SUCCESS)
}
