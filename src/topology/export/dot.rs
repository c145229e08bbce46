//! Graphviz DOT export: an undirected graph, nodes labelled with sysName,
//! edges labelled with their interface names. Owns DOT string quoting; must
//! not emit any device-provided string except through [`dot_quote`], and
//! never uses HTML-like `<...>` labels.
use super::common::nodes;
use crate::topology::model::Topology;
use std::fmt::Write;

/// The topology as a DOT `graph`. Node ids are `n0, n1, ...`; the label is
/// the sysName (the device id when there is none) and the tooltip the device
/// id. Unmanaged devices are drawn dashed; so are links below 0.5 confidence.
pub fn to_dot(topology: &Topology) -> String {
    let (nodes, position) = nodes(topology);
    let mut out = String::new();
    out.push_str("graph nocmap {\n");
    out.push_str("  node [shape=box, style=rounded];\n");
    for (i, node) in nodes.iter().enumerate() {
        let managed = node.device.is_some_and(|d| d.managed);
        let _ = writeln!(
            out,
            "  n{i} [label={}, tooltip={}{}];",
            dot_quote(node.label()),
            dot_quote(&node.id.0),
            if managed {
                ""
            } else {
                ", style=\"rounded,dashed\""
            }
        );
    }
    for link in &topology.links {
        let a = link.a.if_name.as_deref().unwrap_or("?");
        let b = link.b.if_name.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "  n{} -- n{} [label={}, tooltip={}{}];",
            position[&link.a.device],
            position[&link.b.device],
            dot_quote(&format!("{a} -- {b}")),
            dot_quote(&link.id),
            if link.confidence < 0.5 {
                ", style=dashed"
            } else {
                ""
            }
        );
    }
    out.push_str("}\n");
    out
}

/// A DOT double-quoted string. Quotes and backslashes are escaped (so no
/// `\N`-style label escape can be smuggled in), a line break becomes DOT's
/// `\n`, and other control characters, which Graphviz would pass into its
/// SVG output where XML forbids them, become U+FFFD.
pub fn dot_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
