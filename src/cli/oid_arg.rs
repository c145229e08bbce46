//! OID arguments on the command line: numeric always; names through the
//! bundled MIBs once they are wired in.
use crate::snmp::Oid;
use anyhow::Context;

pub fn resolve(text: &str) -> anyhow::Result<Oid> {
    let t = text.trim().trim_start_matches('.');
    Oid::parse(t)
        .ok()
        .filter(|o| o.arcs().len() >= 2)
        .with_context(|| format!("unknown OID {text:?}"))
}
