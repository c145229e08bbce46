//! `nocmap vitals HOST`: one agent's processor load, storage and sensors,
//! read now, as a table or `--json`.
use super::snmp_args::{SnmpArgs, resolve_host};
use super::topology_text::plain;
use crate::snmp::SnmpEngine;
use crate::vitals::Vitals;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VitalsArgs {
    #[command(flatten)]
    pub snmp: SnmpArgs,
    /// Agent address or host name.
    pub host: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: VitalsArgs) -> anyhow::Result<ExitCode> {
    let creds = args.snmp.credentials()?;
    let addr = resolve_host(&args.host).await?;
    let engine = SnmpEngine::new(args.snmp.settings()?).await?;
    let session = engine.open(addr, &creds).await?;
    let vitals = crate::vitals::read::read(&session, true).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&vitals)?);
    } else {
        print!("{}", render(&vitals));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(v: &Vitals) -> String {
    let mut out = String::new();
    match v.cpu_load_pct {
        Some(load) => out.push_str(&format!(
            "cpu      {load:.0} % ({} processors)\n",
            v.cpu_loads_pct.len()
        )),
        None if v.processors > 0 => out.push_str(&format!(
            "cpu      {} processors, no load given yet\n",
            v.processors
        )),
        None => out.push_str("cpu      (no hrProcessorTable)\n"),
    }
    if let Some(m) = &v.memory {
        let mib = |kib: u64| kib / 1024;
        out.push_str(&format!(
            "memory   {} MiB used of {} MiB ({:.0} %), {} free, {} buffers, {} cached (UCD)\n",
            mib(m.used_kib()),
            mib(m.total_real_kib),
            m.used_pct().unwrap_or(0.0),
            mib(m.free_real_kib),
            mib(m.buffer_kib.unwrap_or(0)),
            mib(m.cached_kib.unwrap_or(0)),
        ));
    }
    for s in &v.storage {
        out.push_str(&format!(
            "storage  {:<24} {:>14} of {:>14} bytes ({:.0} %) {:?}\n",
            plain(&s.descr),
            s.used_bytes,
            s.size_bytes,
            s.used_ratio() * 100.0,
            s.kind
        ));
    }
    for s in &v.sensors {
        let units = s.units.as_deref().map(plain).unwrap_or_default();
        out.push_str(&format!(
            "sensor   {:<24} {:>12} {} {} ({:?})\n",
            plain(&s.name),
            format!("{:.3}", s.value),
            s.kind.as_str(),
            units,
            s.status
        ));
    }
    if let Some(inv) = &v.inventory {
        render_inventory(&mut out, inv);
    }
    for u in v
        .unusable
        .iter()
        .chain(v.inventory.iter().flat_map(|i| &i.unusable))
    {
        out.push_str(&format!("unusable {}\n", plain(u)));
    }
    out
}

fn render_inventory(out: &mut String, inv: &crate::vitals::Inventory) {
    let show = |v: &Option<String>| v.as_deref().map(plain).unwrap_or_else(|| "-".into());
    if let Some(c) = &inv.chassis {
        out.push_str(&format!(
            "chassis  model {} serial {} hardware {} firmware {}\n",
            show(&c.model),
            show(&c.serial),
            show(&c.hardware_rev),
            inv.firmware().map(plain).unwrap_or_else(|| "-".into()),
        ));
    }
    for p in &inv.parts {
        let name = p.name.as_ref().or(p.descr.as_ref());
        out.push_str(&format!(
            "part     {:<24} {:<13} model {} serial {}\n",
            show(&name.cloned()),
            format!("{:?}", p.class),
            show(&p.model),
            show(&p.serial),
        ));
    }
    out.push_str(&format!(
        "entities {} in entPhysicalTable, {} listed\n",
        inv.entities,
        inv.parts.len()
    ));
}
