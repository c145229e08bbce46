//! GraphML export for yEd and Gephi: declared keys for every node and edge
//! attribute, a plain `label` attribute (Gephi), and yFiles node/edge
//! graphics with labels (yEd). Must not emit any device-provided string
//! except through [`xml_escape`] (the XML side of `util::markup`).
use super::common::{Node, nodes};
use crate::topology::model::{Link, Topology};
use std::fmt::Write;

/// (key id, for, attr.name, attr.type) of every declared data key.
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("label", "node", "label", "string"),
    ("device_id", "node", "device_id", "string"),
    ("sys_name", "node", "sys_name", "string"),
    ("sys_descr", "node", "sys_descr", "string"),
    ("mgmt_addr", "node", "mgmt_addr", "string"),
    ("vendor", "node", "vendor", "string"),
    ("managed", "node", "managed", "boolean"),
    ("model", "node", "model", "string"),
    ("serial", "node", "serial", "string"),
    ("hardware_rev", "node", "hardware_rev", "string"),
    ("firmware", "node", "firmware", "string"),
    ("elabel", "edge", "label", "string"),
    ("link_id", "edge", "link_id", "string"),
    ("a_if", "edge", "a_if", "string"),
    ("b_if", "edge", "b_if", "string"),
    ("evidence", "edge", "evidence", "string"),
    ("confidence", "edge", "confidence", "double"),
];

/// The node key of snmpEngineID (hex), declared when a device has one.
const ENGINE_ID_KEY: (&str, &str, &str, &str) = ("engine_id", "node", "engine_id", "string");

/// The topology as a GraphML document (UTF-8, undirected, parallel edges
/// kept). Node ids are `n0, n1, ...` and edge ids `e0, e1, ...`; the device
/// and link ids are data. A device a link names but the topology does not
/// list becomes a bare node with `managed` false.
pub fn to_graphml(topology: &Topology) -> String {
    let (nodes, position) = nodes(topology);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:y=\"http://www.yworks.com/xml/graphml\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
         http://www.yworks.com/xml/schema/graphml/1.1/ygraphml.xsd\">\n",
    );
    // The engine id's key only where some device has one, so a topology
    // without engine ids exports as it always did.
    let engine = topology.devices.iter().any(|d| d.engine_id.is_some());
    let engine_key = engine.then_some(ENGINE_ID_KEY);
    for (id, domain, name, kind) in KEYS.iter().chain(engine_key.iter()) {
        let _ = writeln!(
            out,
            "  <key id=\"{id}\" for=\"{domain}\" attr.name=\"{name}\" attr.type=\"{kind}\"/>"
        );
    }
    out.push_str("  <key id=\"ngraphics\" for=\"node\" yfiles.type=\"nodegraphics\"/>\n");
    out.push_str("  <key id=\"egraphics\" for=\"edge\" yfiles.type=\"edgegraphics\"/>\n");
    out.push_str("  <graph id=\"nocmap\" edgedefault=\"undirected\">\n");
    for (i, node) in nodes.iter().enumerate() {
        write_node(&mut out, i, node);
    }
    for (i, link) in topology.links.iter().enumerate() {
        write_edge(
            &mut out,
            i,
            link,
            position[&link.a.device],
            position[&link.b.device],
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

/// Escapes text for XML 1.0 element content and attribute values alike
/// (the crate's one markup escaper; see [`crate::util::markup::xml`]).
pub use crate::util::markup::xml as xml_escape;

fn write_node(out: &mut String, index: usize, node: &Node<'_>) {
    let _ = writeln!(out, "    <node id=\"n{index}\">");
    data(out, "label", node.label());
    data(out, "device_id", &node.id.0);
    if let Some(device) = node.device {
        let mgmt = device.mgmt_addr.map(|a| a.to_string());
        let hw = device.hardware.as_ref();
        let model = hw
            .and_then(|h| h.model.as_deref())
            .or(device.model.as_deref());
        for (key, value) in [
            ("sys_name", device.sys_name.as_deref()),
            ("sys_descr", device.sys_descr.as_deref()),
            ("mgmt_addr", mgmt.as_deref()),
            ("vendor", device.vendor.as_deref()),
            ("model", model),
            ("serial", hw.and_then(|h| h.serial.as_deref())),
            ("hardware_rev", hw.and_then(|h| h.hardware_rev.as_deref())),
            ("firmware", hw.and_then(|h| h.firmware.as_deref())),
            ("engine_id", device.engine_id.as_deref()),
        ] {
            if let Some(value) = value {
                data(out, key, value);
            }
        }
    }
    let managed = node.device.is_some_and(|d| d.managed);
    data(out, "managed", if managed { "true" } else { "false" });
    let label = xml_escape(node.label());
    let width = 30 + 8 * node.label().chars().count().min(40);
    let _ = writeln!(
        out,
        "      <data key=\"ngraphics\"><y:ShapeNode><y:Geometry height=\"30.0\" width=\"{width}.0\"/>\
         <y:Fill color=\"{}\"/><y:Shape type=\"roundrectangle\"/>\
         <y:NodeLabel>{label}</y:NodeLabel></y:ShapeNode></data>",
        if managed { "#CCE5FF" } else { "#EEEEEE" }
    );
    out.push_str("    </node>\n");
}

fn write_edge(out: &mut String, index: usize, link: &Link, source: usize, target: usize) {
    let _ = writeln!(
        out,
        "    <edge id=\"e{index}\" source=\"n{source}\" target=\"n{target}\">"
    );
    let label = edge_label(link);
    data(out, "elabel", &label);
    data(out, "link_id", &link.id);
    if let Some(name) = &link.a.if_name {
        data(out, "a_if", name);
    }
    if let Some(name) = &link.b.if_name {
        data(out, "b_if", name);
    }
    let evidence: Vec<String> = link
        .evidence
        .iter()
        .map(|e| format!("{e:?}").to_lowercase())
        .collect();
    data(out, "evidence", &evidence.join(","));
    data(out, "confidence", &format_double(link.confidence));
    let _ = writeln!(
        out,
        "      <data key=\"egraphics\"><y:PolyLineEdge><y:EdgeLabel>{}</y:EdgeLabel>\
         </y:PolyLineEdge></data>",
        xml_escape(&label)
    );
    out.push_str("    </edge>\n");
}

/// `a_if -- b_if`, with `?` for an unknown interface.
fn edge_label(link: &Link) -> String {
    let a = link.a.if_name.as_deref().unwrap_or("?");
    let b = link.b.if_name.as_deref().unwrap_or("?");
    format!("{a} -- {b}")
}

/// A GraphML `double`: finite values as Rust prints them, NaN and the
/// infinities in the XML Schema spelling.
fn format_double(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "INF" } else { "-INF" }.to_owned()
    } else {
        value.to_string()
    }
}

fn data(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(
        out,
        "      <data key=\"{key}\">{}</data>",
        xml_escape(value)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(engine_id: Option<&str>) -> Topology {
        serde_json::from_value(serde_json::json!({
            "devices": [{"id": "r1", "sys_name": "r1", "managed": true,
                         "engine_id": engine_id, "interfaces": []}],
            "links": []
        }))
        .unwrap()
    }

    #[test]
    fn the_engine_id_key_is_declared_only_where_a_device_has_one() {
        let with = to_graphml(&topology(Some("80001f8880aa000001")));
        assert!(with.contains("<key id=\"engine_id\" for=\"node\""));
        assert!(with.contains("<data key=\"engine_id\">80001f8880aa000001</data>"));
        let without = to_graphml(&topology(None));
        assert!(!without.contains("engine_id"));
    }
}
