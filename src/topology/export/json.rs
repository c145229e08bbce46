//! JSON export: the model itself, pretty-printed, as `topology.json` files
//! and `--json` outputs carry it. Escaping is serde_json's.
use crate::topology::model::Topology;

/// The topology as pretty JSON with a final newline; reading it back with
/// serde gives the same value.
pub fn to_json(topology: &Topology) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(topology)?;
    text.push('\n');
    Ok(text)
}
