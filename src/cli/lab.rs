//! `nocmap lab`: placeholder until its owner lands it.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LabArgs {}

pub async fn run(_args: LabArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
