//! `nocmap discover`: crawl from seeds inside the allowed prefixes and print
//! or write the topology (devices, interfaces, links with evidence).
use super::crawl_args::CrawlArgs;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub crawl: CrawlArgs,
    /// Print the topology JSON on stdout.
    #[arg(long, conflicts_with = "out")]
    pub json: bool,
    /// Write the topology JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(args: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let result = args.crawl.prepare().await?.run().await;
    let json = serde_json::to_string_pretty(&result.topology)?;
    match &args.out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if args.json => println!("{json}"),
        None => {
            let t = &result.topology;
            let managed = t.devices.iter().filter(|d| d.managed).count();
            println!(
                "{} devices ({managed} answered SNMP), {} links",
                t.devices.len(),
                t.links.len()
            );
            if !result.depth_cut.is_empty() {
                println!(
                    "{} neighbour address(es) inside the prefixes not read: depth limit reached",
                    result.depth_cut.len()
                );
            }
            for line in super::topology_text::link_lines(t) {
                println!("{line}");
            }
        }
    }
    let all_seeds_failed = result.topology.devices.iter().all(|d| !d.managed);
    Ok(if all_seeds_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
