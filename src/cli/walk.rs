//! `nocmap walk`: walk one subtree and print net-snmp `-On` style lines.
use super::snmp_args::{SnmpArgs, resolve_host};
use crate::snmp::{Oid, SnmpEngine, WalkEnd, format_varbind};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct WalkArgs {
    #[command(flatten)]
    pub snmp: SnmpArgs,
    /// Agent address or host name.
    pub host: String,
    /// Subtree to walk: numeric (1.3.6.1.2.1.2) or by name (IF-MIB::ifTable).
    #[arg(default_value = "1.3.6.1.2.1")]
    pub oid: String,
}

pub async fn run(args: WalkArgs) -> anyhow::Result<ExitCode> {
    let root: Oid = super::oid_arg::resolve(&args.oid)?;
    let creds = args.snmp.credentials()?;
    let addr = resolve_host(&args.host).await?;
    let engine = SnmpEngine::new(args.snmp.settings()?).await?;
    let session = engine.open(addr, &creds).await?;
    let result = session.walk(&root).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if result.varbinds.is_empty() && result.is_complete() {
        // Like snmpwalk: an empty subtree may still be a leaf; GET it.
        for vb in session.get(std::slice::from_ref(&root)).await? {
            writeln!(out, "{}", format_varbind(&vb))?;
        }
    }
    for vb in &result.varbinds {
        writeln!(out, "{}", format_varbind(vb))?;
    }
    out.flush()?;
    match result.end {
        WalkEnd::Complete => Ok(ExitCode::SUCCESS),
        WalkEnd::Partial(stop) => {
            eprintln!(
                "nocmap: warning: walk of {} from {} is partial: {stop}",
                root,
                session.target()
            );
            Ok(ExitCode::from(1))
        }
    }
}
