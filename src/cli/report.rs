//! `nocmap report reachability|bandwidth`: a report over the stored history
//! as CSV, JSON or HTML, to stdout or a file. Reads the database named by
//! `--db`, or the `[server] db` of `--config`; the report itself is built in
//! `report`.
use crate::config::Config;
use crate::report::bandwidth::DEFAULT_TOP;
use crate::report::params::{self, Format, ReportParams};
use crate::report::source::{self, Kind};
use crate::types::UnixMillis;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportKind {
    /// Availability, outages, loss and RTT per device and per link.
    Reachability(CommonArgs),
    /// Peak and 95th percentile (burstable billing) per interface, top N.
    Bandwidth(BandwidthArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// SQLite database written by `nocmap serve`.
    #[arg(long, conflicts_with = "config")]
    pub db: Option<PathBuf>,
    /// Take the database from this config file's `[server] db`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Start of the period: a duration back from now (7d, -7d, 12h) or RFC 3339.
    #[arg(long, allow_hyphen_values = true)]
    pub since: String,
    /// End of the period: `now` (default), a duration back from now or RFC 3339.
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Reachability only: time to leave out of availability, as START/END
    /// (RFC 3339 interval, e.g. 2024-05-01T22:00:00Z/2024-05-01T23:30:00Z);
    /// repeatable.
    #[arg(long, allow_hyphen_values = true, value_name = "START/END")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BandwidthArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Interfaces in each top list.
    #[arg(long, default_value_t = DEFAULT_TOP)]
    pub top: usize,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let (kind, common, top) = match args.kind {
        ReportKind::Reachability(c) => (Kind::Reachability, c, DEFAULT_TOP),
        ReportKind::Bandwidth(b) => (Kind::Bandwidth, b.common, params::check_top(b.top)?),
    };
    if kind == Kind::Bandwidth && !common.exclude.is_empty() {
        anyhow::bail!("--exclude applies to the reachability report only");
    }
    let now = UnixMillis::now();
    let period = params::parse_period(&common.since, common.until.as_deref(), now)?;
    let exclusions = common
        .exclude
        .iter()
        .map(|e| params::parse_exclusion(e, now))
        .collect::<Result<Vec<_>, _>>()?;
    // With --config, its [[maintenance]] windows are excluded too.
    let config = match &common.config {
        Some(path) => Some(Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let db = match (&common.db, &config) {
        (Some(db), _) => db.clone(),
        (None, Some(c)) => c.server.db.clone(),
        (None, None) => Config::default().server.db,
    };
    let p = ReportParams {
        period,
        format: common.format,
        top,
        exclusions,
    };
    let settings = config.as_ref().map(source::ReportSettings::from_config);
    let text =
        tokio::task::spawn_blocking(move || source::run(&db, kind, &p, settings.as_ref(), now))
            .await
            .context("the report task failed")??;
    super::output::emit(common.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
