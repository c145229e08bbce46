//! `nocmap ping`: placeholder until its owner lands it.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PingArgs {}

pub async fn run(_args: PingArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
