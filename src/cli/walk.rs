//! `nocmap walk`: placeholder until its owner lands it.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct WalkArgs {}

pub async fn run(_args: WalkArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
