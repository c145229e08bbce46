//! `nocmap check-config`: placeholder until its owner lands it.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {}

pub async fn run(_args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
