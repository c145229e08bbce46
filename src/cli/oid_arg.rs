//! OID arguments on the command line: numeric always (no MIB work at all),
//! names (`IF-MIB::ifHCInOctets`, `ifHCInOctets.3`) through the bundled MIBs.
use crate::mib::Mibs;
use crate::snmp::Oid;
use anyhow::Context;

pub fn resolve(text: &str) -> anyhow::Result<Oid> {
    let t = text.trim().trim_start_matches('.');
    let numeric = !t.is_empty() && t.split('.').all(|a| a.parse::<u32>().is_ok());
    let arcs = if numeric {
        t.split('.').filter_map(|a| a.parse().ok()).collect()
    } else {
        Mibs::bundled()
            .resolve(text)
            .map_err(|e| anyhow::anyhow!("unknown OID {text:?}: {e}"))?
    };
    anyhow::ensure!(
        arcs.len() >= 2,
        "unknown OID {text:?}: an OID needs at least two arcs"
    );
    Oid::parse(
        &arcs
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
    .with_context(|| format!("unknown OID {text:?}"))
}
