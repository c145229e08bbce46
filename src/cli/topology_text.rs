//! Topologies as text for a terminal: one line per link with both ends
//! named by sysName, its evidence and confidence. Device strings pass through
//! `plain`, so control characters from a device are shown, never acted on.
use crate::topology::{Endpoint, Topology};

/// Device text for a terminal: control characters (escape sequences, line
/// breaks) are shown escaped instead of acted on.
pub fn plain(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn end_name(t: &Topology, e: &Endpoint) -> String {
    let d = t
        .device(&e.device)
        .and_then(|d| d.sys_name.clone())
        .unwrap_or_else(|| e.device.0.clone());
    plain(&format!("{d}:{}", e.if_name.as_deref().unwrap_or("?")))
}

/// `  a:if <-> b:if [lldp,fdb] 1.0` for every link.
pub fn link_lines(t: &Topology) -> Vec<String> {
    t.links
        .iter()
        .map(|l| {
            let ev: Vec<String> = l
                .evidence
                .iter()
                .map(|e| format!("{e:?}").to_lowercase())
                .collect();
            format!(
                "  {:<32} <-> {:<32} [{}] {:.1}",
                end_name(t, &l.a),
                end_name(t, &l.b),
                ev.join(","),
                l.confidence
            )
        })
        .collect()
}
