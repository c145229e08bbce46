//! The `nocmap-lab` binary: the lab network (`up`, `down`, `status`, `exec`,
//! `logs`, and the hidden `wire` and `bridge-agent` the lab spawns) and the
//! one-command `demo`, for tests, benchmarks and tours; all need root.
//!
//! It is not the product: only this binary links the `nocmap_lab` crate, and
//! the `nocmap` library never imports it, so the `nocmap` binary holds no lab
//! code. The demo runs that `nocmap` binary from the same directory.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod demo;
mod demo_sites;
mod demo_traffic;
mod lab;
mod relay;

#[derive(Debug, Parser)]
#[command(
    name = "nocmap-lab",
    version,
    about = "nocmap's lab networks in namespaces, and the demo (needs root)"
)]
struct Cli {
    /// State directory root (configs, pidfiles, logs of every lab).
    #[arg(long, global = true, default_value = nocmap_lab::DEFAULT_STATE_ROOT)]
    state_root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bring up the bundled lab network, discover and measure it with nocmap.
    Demo(demo::DemoArgs),
    #[command(flatten)]
    Lab(lab::LabCommand),
}

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): the demo relays HTTP, and a
    // browser that goes away must cost one connection, not the demo.
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nocmap-lab: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let root = cli.state_root;
    let result = rt.block_on(async move {
        match cli.command {
            Command::Demo(a) => demo::run(a, &root).await,
            Command::Lab(c) => lab::run(c, &root).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: `{:#}` joins the context chain with ": ".
            eprintln!("nocmap-lab: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
