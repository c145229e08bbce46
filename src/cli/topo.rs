//! `nocmap topo path|spof|blast|diff`: ask questions of a topology file and
//! print the answer for a human or, with `--json`, for a program. Printing
//! only: the queries live in `topology`. Device-provided text is shown with
//! control characters escaped, so it cannot drive the terminal. A device is
//! given by its sysName, an address or its id; human output names devices
//! (see `topology::names`), `--json` gives ids.
use super::export::load_topology;
use crate::topology::{
    DeviceLabels, Failure, Route, Topology, TopologyDiff, TopologyGraph, diff, resolve_device,
    resolve_link,
};
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
    /// Device to start from: sysName, address or id.
    pub a: String,
    /// Device to reach: sysName, address or id.
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
    /// Device where the poller is attached: sysName, address or id.
    #[arg(long)]
    pub from: String,
    /// Device that fails: sysName, address or id.
    #[arg(long, value_name = "DEVICE")]
    pub fail_device: Option<String>,
    /// Link that fails: its id, or DEVICE:INTERFACE of one of its ends.
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

/// The topology file, its graph and the labels human output uses.
struct Loaded {
    topology: Topology,
    graph: TopologyGraph,
    labels: DeviceLabels,
}

fn load(input: &std::path::Path) -> anyhow::Result<Loaded> {
    let topology = load_topology(input)?;
    let graph = TopologyGraph::build(&topology).with_context(|| format!("{}", input.display()))?;
    let labels = DeviceLabels::new(&topology);
    Ok(Loaded {
        topology,
        graph,
        labels,
    })
}

fn path(args: PathArgs) -> anyhow::Result<ExitCode> {
    let t = load(&args.input)?;
    let a = resolve_device(&t.topology, &args.a)?;
    let b = resolve_device(&t.topology, &args.b)?;
    let route = t.graph.route(&a, &b)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&route)?);
    } else if let Some(route) = &route {
        print_route(&t, route);
    } else {
        println!(
            "no path from {} to {}",
            plain(t.labels.of(&a)),
            plain(t.labels.of(&b))
        );
    }
    Ok(if route.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A link as a human reads it from one of its devices: `eth1 -- eth0`, the
/// near end first; the id where the topology lacks the link.
fn link_ends(t: &Loaded, id: &str, near: Option<&crate::topology::DeviceId>) -> String {
    let Some(link) = t.topology.links.iter().find(|l| l.id == id) else {
        return plain(id);
    };
    let (first, second) = if near == Some(&link.b.device) {
        (&link.b, &link.a)
    } else {
        (&link.a, &link.b)
    };
    let end = |e: &crate::topology::Endpoint| {
        let name = e.if_name.as_deref().unwrap_or("?");
        if near.is_some() {
            plain(name)
        } else {
            format!("{} {}", plain(t.labels.of(&e.device)), plain(name))
        }
    };
    format!("{} -- {}", end(first), end(second))
}

fn print_route(t: &Loaded, route: &Route) {
    let chain: Vec<String> = route
        .devices
        .iter()
        .map(|d| plain(t.labels.of(d)))
        .collect();
    println!("{} ({} hops)", chain.join(" -> "), route.hops.len());
    for hop in &route.hops {
        let links: Vec<String> = hop
            .links
            .iter()
            .map(|l| link_ends(t, l, Some(&hop.from)))
            .collect();
        println!(
            "  {} -- {}: {}",
            plain(t.labels.of(&hop.from)),
            plain(t.labels.of(&hop.to)),
            links.join(", ")
        );
    }
}

fn spof(args: SpofArgs) -> anyhow::Result<ExitCode> {
    let t = load(&args.input)?;
    let found = t.graph.single_points_of_failure();
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
        println!("device {}", plain(t.labels.of(device)));
    }
    for link in &found.links {
        println!("link   {}", link_ends(&t, link, None));
    }
    Ok(ExitCode::SUCCESS)
}

fn blast(args: BlastArgs) -> anyhow::Result<ExitCode> {
    let t = load(&args.input)?;
    let failure = match (args.fail_device, args.fail_link) {
        (Some(device), None) => Failure::Device(resolve_device(&t.topology, &device)?),
        (None, Some(link)) => Failure::Link(resolve_link(&t.topology, &link)?),
        _ => anyhow::bail!("give exactly one of --fail-device and --fail-link"),
    };
    let from = resolve_device(&t.topology, &args.from)?;
    let lost = t.graph.blast_radius(&from, &failure)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lost)?);
        return Ok(ExitCode::SUCCESS);
    }
    let what = match &failure {
        Failure::Device(id) => format!("device {}", plain(t.labels.of(id))),
        Failure::Link(id) => format!("link {}", link_ends(&t, id, None)),
    };
    println!(
        "failure of {what} cuts {} device(s) off from {}",
        lost.len(),
        plain(t.labels.of(&from))
    );
    for device in &lost {
        println!("  {}", plain(t.labels.of(device)));
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
        // Names from the newer file, and from the older one for devices
        // that are gone.
        let mut both = new.clone();
        let known: std::collections::HashSet<_> = new.devices.iter().map(|d| &d.id).collect();
        let gone = old.devices.iter().filter(|d| !known.contains(&d.id));
        both.devices.extend(gone.cloned());
        print_diff(&DeviceLabels::new(&both), &changes);
    }
    Ok(ExitCode::SUCCESS)
}

fn key_text(labels: &DeviceLabels, key: &crate::topology::LinkKey) -> String {
    let end = |e: &crate::topology::Endpoint| match &e.if_name {
        Some(name) => format!("{}[{}]", plain(labels.of(&e.device)), plain(name)),
        None => plain(labels.of(&e.device)),
    };
    format!("{} -- {}", end(&key.a), end(&key.b))
}

fn print_diff(labels: &DeviceLabels, changes: &TopologyDiff) {
    if changes.is_empty() {
        println!("no changes");
        return;
    }
    for id in &changes.devices_added {
        println!("+ device {}", plain(labels.of(id)));
    }
    for id in &changes.devices_removed {
        println!("- device {}", plain(labels.of(id)));
    }
    for key in &changes.links_added {
        println!("+ link {}", key_text(labels, key));
    }
    for key in &changes.links_removed {
        println!("- link {}", key_text(labels, key));
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
            key_text(labels, &change.key),
            evidence(&change.old_evidence),
            evidence(&change.new_evidence),
            change.old_confidence,
            change.new_confidence
        );
    }
}

use super::topology_text::plain;
