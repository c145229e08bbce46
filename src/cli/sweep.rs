//! `nocmap sweep`: placeholder until its owner lands it.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {}

pub async fn run(_args: SweepArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
