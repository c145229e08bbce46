//! Command-line front end: argument parsing, logging set-up, and the one place
//! where errors become a single line on stderr and an exit code.
//!
//! Each subcommand lives in its own file and owns its argument struct and its
//! `run` function; this file only dispatches.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod check_config;
pub mod crawl_args;
pub mod discover;
pub mod export;
pub mod gen_docs;
pub mod oid_arg;
pub mod output;
pub mod ping;
pub mod report;
pub mod serve;
pub mod snmp_args;
pub mod sweep;
pub mod topo;
pub mod topology_text;
pub mod trace;
pub mod vitals;
pub mod walk;

#[derive(Debug, Parser)]
#[command(name = "nocmap", version, about = "NOC probe and topology mapper")]
pub struct Cli {
    /// More log output (once: info, twice: debug, three times: trace). RUST_LOG overrides.
    #[arg(long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// ICMP echo to hosts, hostnames or whole prefixes, with loss/RTT/jitter.
    Ping(ping::PingArgs),
    /// Find the live hosts of one or more prefixes.
    Sweep(sweep::SweepArgs),
    /// The path to a host: hops, loss and RTT per hop, ECMP paths by flow (needs CAP_NET_RAW).
    Trace(trace::TraceArgs),
    /// Walk an SNMP subtree and print `OID = TYPE: value` lines.
    Walk(walk::WalkArgs),
    /// One agent's CPU load, storage and sensors (HOST-RESOURCES, ENTITY-SENSOR).
    Vitals(vitals::VitalsArgs),
    /// Crawl the network from seeds and print or write its topology.
    Discover(discover::DiscoverArgs),
    /// Discover, then monitor continuously, keep history and serve the API.
    Serve(serve::ServeArgs),
    /// Validate a configuration file and report every problem with its line.
    CheckConfig(check_config::CheckConfigArgs),
    /// Write a topology file as JSON, GraphML, DOT or NetBox CSV.
    Export(export::ExportArgs),
    /// Query a topology file: path, single points of failure, blast radius, diff.
    Topo(topo::TopoArgs),
    /// Reachability or bandwidth report over the stored history (CSV, JSON, HTML).
    Report(report::ReportArgs),
    /// Write the man pages and shell completions (for packaging).
    #[command(hide = true)]
    GenDocs(gen_docs::GenDocsArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Like other Unix tools, the one-shot commands end quietly when the
    // reader of stdout goes away (`nocmap ... | head`). The long-running
    // one, serve, keeps SIGPIPE ignored: a web client that disconnects while its
    // answer is written must cost an error on that connection, not the
    // monitor (found under load: `serve` died with status 141).
    let long_running = matches!(cli.command, Command::Serve(_));
    if !long_running {
        // SAFETY: setting a signal disposition before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    init_logging(cli.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nocmap: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Ping(a) => ping::run(a).await,
            Command::Sweep(a) => sweep::run(a).await,
            Command::Walk(a) => walk::run(a).await,
            Command::Trace(a) => trace::run(a).await,
            Command::CheckConfig(a) => check_config::run(a).await,
            Command::Discover(a) => discover::run(a).await,
            Command::Serve(a) => serve::run(a).await,
            Command::Export(a) => export::run(a).await,
            Command::Topo(a) => topo::run(a).await,
            Command::Report(a) => report::run(a).await,
            Command::GenDocs(a) => gen_docs::run(a),
            Command::Vitals(a) => vitals::run(a).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: `{:#}` joins the context chain with ": ".
            eprintln!("nocmap: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        // The SNMP library logs every timeout at ERROR level; we report
        // those ourselves, once, so its own logs stay off unless asked for.
        0 => "warn,async_snmp=off",
        1 => "info,async_snmp=warn",
        2 => "debug",
        _ => "trace",
    };
    use tracing_subscriber::prelude::*;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    // Counts the datagrams the SNMP transport drops, per sender, whatever
    // the log level (its own filter).
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(crate::snmp::rejects::layer())
        .try_init();
}
