//! `nocmap-lab up|down|status|exec|logs`: bring the bundled lab networks up
//! and down, look at them, run commands inside them, and (hidden) run one
//! userspace wire or one switch's BRIDGE-MIB agent.
//!
//! Only argument handling and printing here; all lab logic is in `nocmap_lab`.
use anyhow::Context;
use clap::Subcommand;
use nocmap_lab::bridge_agent;
use nocmap_lab::wire::{self, WireConfig, WireParams};
use nocmap_lab::{Daemon, Lab, LabOptions, LabSpec};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Build a lab from a description file and leave it running.
    Up {
        file: PathBuf,
        /// Do not wait for LLDP to settle.
        #[arg(long)]
        no_wait: bool,
    },
    /// Tear a lab down (by description file or by name).
    Down { lab: String },
    /// Show a lab's nodes, addresses, links and processes.
    Status {
        lab: String,
        /// Print the ground truth as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a command inside a node's namespace (`noc` for the noc).
    Exec {
        lab: String,
        node: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Print a node's daemon logs.
    Logs { lab: String, node: String },
    /// Run one userspace wire (spawned by the lab driver).
    #[command(hide = true)]
    Wire {
        #[arg(long)]
        ns: Option<String>,
        #[arg(long)]
        a: String,
        #[arg(long)]
        b: String,
        #[arg(long)]
        params: Option<PathBuf>,
        #[arg(long, default_value_t = 0.0)]
        delay_ms: f64,
        #[arg(long, default_value_t = 0.0)]
        jitter_ms: f64,
    },
    /// Serve BRIDGE-MIB of one Linux bridge to snmpd (pass_persist on
    /// stdin/stdout; spawned by the lab's snmpd on switches).
    #[command(hide = true)]
    BridgeAgent {
        #[arg(long)]
        bridge: String,
    },
}

pub async fn run(command: LabCommand, root: &Path) -> anyhow::Result<ExitCode> {
    match command {
        LabCommand::Up { file, no_wait } => up(&file, root, no_wait),
        LabCommand::Down { lab } => {
            let name = lab_name(&lab)?;
            let existed = Lab::down_by_name(&name, root)?;
            let what = if existed {
                "removed"
            } else {
                "was not running"
            };
            println!("lab {name} {what}");
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Status { lab, json } => status(&lab_name(&lab)?, root, json),
        LabCommand::Exec { lab, node, command } => {
            let lab = Lab::attach(&lab_name(&lab)?, root)?;
            let status = lab
                .command_in(&node, &command[0])?
                .args(&command[1..])
                .status()
                .with_context(|| format!("running {:?}", command[0]))?;
            Ok(ExitCode::from(
                status.code().unwrap_or(1).clamp(0, 255) as u8
            ))
        }
        LabCommand::Logs { lab, node } => {
            let lab = Lab::attach(&lab_name(&lab)?, root)?;
            for d in [Daemon::Snmpd, Daemon::Lldpd] {
                println!("===== {d:?} =====\n{}", lab.daemon_log(&node, d));
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Wire {
            ns,
            a,
            b,
            params,
            delay_ms,
            jitter_ms,
        } => {
            let initial = WireParams::parse(&format!("{delay_ms} {jitter_ms}"))
                .context("delay/jitter must be 0..=10000 ms")?;
            let cfg = WireConfig {
                ns,
                a,
                b,
                params,
                initial,
            };
            static NEVER: AtomicBool = AtomicBool::new(false);
            tokio::task::spawn_blocking(move || wire::run(&cfg, &NEVER)).await??;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::BridgeAgent { bridge } => {
            tokio::task::spawn_blocking(move || bridge_agent::run(&bridge)).await??;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A lab is named either directly or by its description file.
fn lab_name(arg: &str) -> anyhow::Result<String> {
    let p = Path::new(arg);
    if p.is_file() {
        Ok(LabSpec::from_path(p)?.name)
    } else {
        Ok(arg.to_owned())
    }
}

fn up(file: &Path, root: &Path, no_wait: bool) -> anyhow::Result<ExitCode> {
    let spec = LabSpec::from_path(file)?;
    let opts = LabOptions {
        state_root: root.to_owned(),
        ..LabOptions::default()
    };
    let lab =
        Lab::up_with(spec, opts).with_context(|| format!("bringing up {}", file.display()))?;
    if !no_wait && let Err(e) = lab.wait_lldp_settled(Duration::from_secs(20)) {
        eprintln!("nocmap-lab: warning: {e}");
    }
    print_summary(&lab);
    lab.detach();
    Ok(ExitCode::SUCCESS)
}

fn status(name: &str, root: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let lab = Lab::attach(name, root)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&lab.truth())?);
        return Ok(ExitCode::SUCCESS);
    }
    print_summary(&lab);
    let mut all_alive = true;
    println!("processes:");
    for (what, pid, alive) in lab.processes() {
        all_alive &= alive;
        let pid = pid.map_or("-".into(), |p| p.to_string());
        println!(
            "  {what:<28} pid {pid:<8} {}",
            if alive { "running" } else { "NOT RUNNING" }
        );
    }
    Ok(if all_alive {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_summary(lab: &Lab) {
    let t = lab.truth();
    println!(
        "lab {} ({}), state in {}",
        t.lab,
        t.prefix,
        lab.state_dir().display()
    );
    println!("nodes:");
    for n in &t.nodes {
        let addr = n.mgmt_addr.map_or("-".into(), |a| a.to_string());
        let ns = lab.ns(&n.name).unwrap_or("?");
        let role = if n.managed { "snmp" } else { "-" };
        println!(
            "  {:<10} {:<7} {:<15} {:<5} ns {ns}",
            n.name,
            format!("{:?}", n.kind).to_lowercase(),
            addr,
            role
        );
    }
    println!("links:");
    for (l, p) in t.links.iter().zip(&lab.plan().links) {
        let extra = match (&p.wire_ns, p.rate_mbit) {
            (Some(_), _) => format!(" (wire {} ms +/- {} ms)", p.delay_ms, p.jitter_ms),
            (None, Some(r)) => format!(" ({r} Mbit/s)"),
            _ => String::new(),
        };
        println!("  {} <-> {}{extra}", l.a, l.b);
    }
}
