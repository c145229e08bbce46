//! `nocmap topo path|spof|blast|diff`: ask questions of a topology file and
//! print the answer for a human or, with `--json`, for a program. Printing
//! only: the queries live in `topology`. Device-provided text is shown with
//! control characters escaped, so it cannot drive the terminal.
use super::export::load_topology;
use crate::topology::{DeviceId, Failure, Route, TopologyDiff, TopologyGraph, diff};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TopoArgs {
    #[command(subcommand)]
    pub command: TopoCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TopoCommand {
    /// Shortest path (by hops) between two devices, with the links of each
    /// hop. Exit code 1 when there is none.
    Path(PathArgs),
    /// Devices and links whose single failure splits the network.
    Spof(SpofArgs),
    /// What becomes unreachable from one device when a device or link fails.
    Blast(BlastArgs),
    /// Devices and links added, removed or changed between two topology files.
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
pub struct PathArgs {
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Device id to start from.
    pub a: String,
    /// Device id to reach.
    pub b: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SpofArgs {
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("failure").required(true).args(["fail_device", "fail_link"])))]
pub struct BlastArgs {
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Device id where the poller is attached.
    #[arg(long)]
    pub from: String,
    /// Device id that fails.
    #[arg(long, value_name = "DEVICE")]
    pub fail_device: Option<String>,
    /// Link id that fails.
    #[arg(long, value_name = "LINK")]
    pub fail_link: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The older topology file.
    pub old: PathBuf,
    /// The newer topology file.
    pub new: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: TopoArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TopoCommand::Path(a) => path(a),
        TopoCommand::Spof(a) => spof(a),
        TopoCommand::Blast(a) => blast(a),
        TopoCommand::Diff(a) => diff_files(a),
    }
}

fn load_graph(input: &std::path::Path) -> anyhow::Result<TopologyGraph> {
    let topology = load_topology(input)?;
    TopologyGraph::build(&topology).with_context(|| format!("{}", input.display()))
}

fn path(args: PathArgs) -> anyhow::Result<ExitCode> {
    let graph = load_graph(&args.input)?;
    let (a, b) = (DeviceId(args.a), DeviceId(args.b));
    let route = graph.route(&a, &b)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&route)?);
    } else if let Some(route) = &route {
        print_route(route);
    } else {
        println!("no path from {} to {}", plain(&a.0), plain(&b.0));
    }
    Ok(if route.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_route(route: &Route) {
    let chain: Vec<String> = route.devices.iter().map(|d| plain(&d.0)).collect();
    println!("{} ({} hops)", chain.join(" -> "), route.hops.len());
    for hop in &route.hops {
        let links: Vec<String> = hop.links.iter().map(|l| plain(l)).collect();
        println!(
            "  {} -- {}: {}",
            plain(&hop.from.0),
            plain(&hop.to.0),
            links.join(", ")
        );
    }
}

fn spof(args: SpofArgs) -> anyhow::Result<ExitCode> {
    let found = load_graph(&args.input)?.single_points_of_failure();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} device(s) and {} link(s) are single points of failure",
        found.devices.len(),
        found.links.len()
    );
    for device in &found.devices {
        println!("device {}", plain(&device.0));
    }
    for link in &found.links {
        println!("link   {}", plain(link));
    }
    Ok(ExitCode::SUCCESS)
}

fn blast(args: BlastArgs) -> anyhow::Result<ExitCode> {
    let graph = load_graph(&args.input)?;
    let failure = match (args.fail_device, args.fail_link) {
        (Some(device), None) => Failure::Device(DeviceId(device)),
        (None, Some(link)) => Failure::Link(link),
        _ => anyhow::bail!("give exactly one of --fail-device and --fail-link"),
    };
    let from = DeviceId(args.from);
    let lost = graph.blast_radius(&from, &failure)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lost)?);
        return Ok(ExitCode::SUCCESS);
    }
    let what = match &failure {
        Failure::Device(id) => format!("device {}", plain(&id.0)),
        Failure::Link(id) => format!("link {}", plain(id)),
    };
    println!(
        "failure of {what} cuts {} device(s) off from {}",
        lost.len(),
        plain(&from.0)
    );
    for device in &lost {
        println!("  {}", plain(&device.0));
    }
    Ok(ExitCode::SUCCESS)
}

fn diff_files(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let old = load_topology(&args.old)?;
    let new = load_topology(&args.new)?;
    let changes = diff(&old, &new);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&changes)?);
    } else {
        print_diff(&changes);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_diff(changes: &TopologyDiff) {
    if changes.is_empty() {
        println!("no changes");
        return;
    }
    for id in &changes.devices_added {
        println!("+ device {}", plain(&id.0));
    }
    for id in &changes.devices_removed {
        println!("- device {}", plain(&id.0));
    }
    for key in &changes.links_added {
        println!("+ link {}", plain(&key.to_string()));
    }
    for key in &changes.links_removed {
        println!("- link {}", plain(&key.to_string()));
    }
    for change in &changes.links_changed {
        let evidence = |e: &[crate::topology::Evidence]| {
            e.iter()
                .map(|e| format!("{e:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "~ link {}: evidence {} -> {}, confidence {} -> {}",
            plain(&change.key.to_string()),
            evidence(&change.old_evidence),
            evidence(&change.new_evidence),
            change.old_confidence,
            change.new_confidence
        );
    }
}

use super::topology_text::plain;
