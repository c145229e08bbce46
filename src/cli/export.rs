//! `nocmap export`: read a topology JSON file and write it as JSON, GraphML,
//! DOT or NetBox CSV. The only place these formats touch the file system;
//! the conversions themselves live in `topology::export`.
use crate::topology::Topology;
use crate::topology::export::{netbox_csv, to_dot, to_graphml, to_json};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Topology JSON file (as written by `nocmap discover --json`).
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Output file; for netbox-csv a directory that receives devices.csv,
    /// interfaces.csv and cables.csv (import them in that order). Without
    /// it everything goes to stdout (netbox-csv: the three tables, each after
    /// a `# devices` / `# interfaces` / `# cables` line).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Graphml,
    Dot,
    NetboxCsv,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let topology = load_topology(&args.input)?;
    let text = match args.format {
        Format::Json => to_json(&topology).context("cannot encode the topology as JSON")?,
        Format::Graphml => to_graphml(&topology),
        Format::Dot => to_dot(&topology),
        Format::NetboxCsv => {
            let tables = netbox_csv(&topology);
            for skipped in &tables.skipped {
                eprintln!(
                    "nocmap: warning: link {:?} is not a NetBox cable: {}",
                    skipped.link, skipped.reason
                );
            }
            if let Some(dir) = &args.out {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create directory {}", dir.display()))?;
                for (file, text) in [
                    ("devices.csv", &tables.devices),
                    ("interfaces.csv", &tables.interfaces),
                    ("cables.csv", &tables.cables),
                ] {
                    super::output::write_file(&dir.join(file), text)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            tables.combined()
        }
    };
    super::output::emit(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads and parses a topology file; each failure is one line naming the file.
pub fn load_topology(path: &Path) -> anyhow::Result<Topology> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read topology file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a topology JSON file", path.display()))
}
