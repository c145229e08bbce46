//! Exports of one small topology full of hostile device strings: byte-for-byte
//! golden files (regenerate with `UPDATE_GOLDEN=1 cargo test --test
//! topology_exports`), and each format read back by an independent parser to
//! prove the escaping holds.
mod support;

use nocmap::topology::Topology;
use nocmap::topology::export::{netbox, netbox_csv, to_dot, to_graphml, to_json, to_netbox_csv};
use quick_xml::events::Event;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use support::topology::*;

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/topology")
        .join(name)
}

fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (regenerate with UPDATE_GOLDEN=1)", path.display()));
    if expected != actual.as_bytes() {
        let scratch = std::env::temp_dir().join(format!("nocmap-actual-{name}"));
        std::fs::write(&scratch, actual).unwrap();
        panic!(
            "{} differs from the output (written to {}); if the change is \
             intended, regenerate with UPDATE_GOLDEN=1",
            path.display(),
            scratch.display()
        );
    }
}

/// What a string becomes when a format cannot carry some characters.
fn replace_chars(text: &str, bad: impl Fn(char) -> bool) -> String {
    text.chars()
        .map(|c| if bad(c) { '\u{FFFD}' } else { c })
        .collect()
}

// ---- golden files ----

#[test]
fn golden_json() {
    check_golden("hostile.json", &to_json(&hostile()).unwrap());
}

#[test]
fn golden_graphml() {
    check_golden("hostile.graphml", &to_graphml(&hostile()));
}

#[test]
fn golden_dot() {
    check_golden("hostile.dot", &to_dot(&hostile()));
}

#[test]
fn golden_netbox_csv() {
    check_golden("hostile.netbox.csv", &to_netbox_csv(&hostile()));
}

// ---- JSON ----

#[test]
fn json_reads_back_to_the_same_topology() {
    let t = hostile();
    let back: Topology = serde_json::from_str(&to_json(&t).unwrap()).unwrap();
    assert_eq!(back, t);
}

// ---- GraphML ----

/// Node or edge: its attributes and its `data` values by key, decoded.
#[derive(Debug, Default)]
struct Element {
    attrs: BTreeMap<String, String>,
    data: BTreeMap<String, String>,
}

/// Parses the document with quick-xml (which checks tag nesting) and checks
/// by hand what it does not: every character is a legal XML 1.0 character
/// and every reference is a predefined entity or a legal character.
fn parse_graphml(xml: &str) -> (BTreeSet<(String, String)>, Vec<Element>, Vec<Element>) {
    let illegal = xml.chars().find(
        |&c| !matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..),
    );
    assert_eq!(illegal, None, "a character XML 1.0 forbids");
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut keys, mut nodes, mut edges) = (BTreeSet::new(), Vec::new(), Vec::new());
    let mut current: Option<(bool, Element)> = None;
    let mut data_key: Option<String> = None;
    let mut text = String::new();
    let attrs_of = |e: &quick_xml::events::BytesStart<'_>| -> BTreeMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(quick_xml::XmlVersion::default())
                        .expect("attribute value")
                        .into_owned(),
                )
            })
            .collect()
    };
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
                let attrs = attrs_of(e);
                match e.name().as_ref() {
                    "key" => {
                        let name = attrs
                            .get("attr.name")
                            .cloned()
                            .or_else(|| attrs.get("yfiles.type").cloned())
                            .unwrap();
                        keys.insert((attrs["for"].clone(), name));
                    }
                    "node" => {
                        current = Some((
                            true,
                            Element {
                                attrs,
                                ..Default::default()
                            },
                        ))
                    }
                    "edge" => {
                        current = Some((
                            false,
                            Element {
                                attrs,
                                ..Default::default()
                            },
                        ))
                    }
                    "data" => {
                        data_key = Some(attrs["key"].clone());
                        text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().expect("char ref") {
                Some(c) => text.push(c),
                None => text.push(match &**r {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("undeclared entity &{other};"),
                }),
            },
            Event::End(e) => {
                depth -= 1;
                match e.name().as_ref() {
                    "data" => {
                        if let (Some(key), Some((_, el))) = (data_key.take(), current.as_mut()) {
                            el.data.insert(key, std::mem::take(&mut text));
                        }
                    }
                    "node" | "edge" => match current.take() {
                        Some((true, el)) => nodes.push(el),
                        Some((false, el)) => edges.push(el),
                        None => panic!("unbalanced"),
                    },
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    (keys, nodes, edges)
}

#[test]
fn graphml_is_well_formed_and_carries_hostile_strings_exactly() {
    let t = hostile();
    let xml = to_graphml(&t);
    let (keys, nodes, edges) = parse_graphml(&xml);
    for (domain, name) in [
        ("node", "sys_name"),
        ("node", "sys_descr"),
        ("node", "mgmt_addr"),
        ("node", "vendor"),
        ("node", "managed"),
        ("edge", "a_if"),
        ("edge", "b_if"),
        ("edge", "evidence"),
        ("edge", "confidence"),
    ] {
        assert!(
            keys.contains(&(domain.to_owned(), name.to_owned())),
            "{domain} {name}"
        );
    }
    // 5 listed devices and the unlisted "ghost"; every link kept.
    assert_eq!(nodes.len(), 6);
    assert_eq!(edges.len(), t.links.len());
    let xml_bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    for device in &t.devices {
        let node = nodes
            .iter()
            .find(|n| n.data["device_id"] == device.id.0)
            .expect("node for every device");
        for (key, value) in [
            ("sys_name", &device.sys_name),
            ("sys_descr", &device.sys_descr),
            ("vendor", &device.vendor),
        ] {
            let want = value.as_deref().map(|v| replace_chars(v, xml_bad));
            assert_eq!(node.data.get(key), want.as_ref(), "{key} of {}", device.id);
        }
        assert_eq!(node.data["managed"], device.managed.to_string());
    }
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n.attrs["id"].as_str()).collect();
    for (edge, link) in edges.iter().zip(&t.links) {
        assert_eq!(edge.data["link_id"], link.id);
        assert_eq!(
            edge.data.get("a_if"),
            link.a
                .if_name
                .as_deref()
                .map(|v| replace_chars(v, xml_bad))
                .as_ref()
        );
        assert_eq!(
            edge.data["confidence"].parse::<f64>().unwrap(),
            link.confidence
        );
        assert!(ids.contains(edge.attrs["source"].as_str()));
        assert!(ids.contains(edge.attrs["target"].as_str()));
    }
    assert_eq!(edges[0].data["evidence"], "lldp,cdp");
}

#[test]
fn graphml_escape_covers_every_markup_and_control_character() {
    use nocmap::topology::export::graphml::xml_escape;
    assert_eq!(
        xml_escape("<a href=\"x\">'&'</a>"),
        "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
    );
    assert_eq!(xml_escape("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    assert_eq!(
        xml_escape("\u{0}\u{1b}[31m\u{fffe}"),
        "\u{fffd}\u{fffd}[31m\u{fffd}"
    );
    assert_eq!(xml_escape("é ✓ 𝄞 \u{85}"), "é ✓ 𝄞 \u{85}");
}

// ---- DOT ----

/// Reads one DOT double-quoted string back (the inverse of `dot_quote` for
/// what Graphviz shows: `\n` is a line break).
fn dot_unquote(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .expect("quoted");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next().expect("dangling backslash") {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            '"' => panic!("unescaped quote inside {quoted}"),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn dot_quote_reads_back() {
    use nocmap::topology::export::dot::dot_quote;
    for text in [
        "<script>alert(1)</script>",
        "say \"hi\", \\N \\G \\",
        "two\nlines\r\nthree\rfour",
        "nul\u{0}esc\u{1b}",
        "",
    ] {
        let quoted = dot_quote(text);
        assert!(!quoted.chars().any(|c| c.is_control()), "{quoted:?}");
        let expected = replace_chars(&text.replace("\r\n", "\n").replace('\r', "\n"), |c| {
            c.is_control() && c != '\n'
        });
        assert_eq!(dot_unquote(&quoted), expected);
    }
}

#[test]
fn dot_has_a_node_per_device_and_an_edge_per_link() {
    let t = hostile();
    let dot = to_dot(&t);
    assert!(dot.starts_with("graph nocmap {\n") && dot.ends_with("}\n"));
    assert_eq!(dot.matches(" -- n").count(), t.links.len());
    assert!(dot.contains("label=\"<script>alert(1)</script>\""));
    assert!(dot.contains("label=\"Gi0/1 -- Gi0/1\""));
}

/// Graphviz itself must accept the file, and its SVG must be well-formed
/// XML (Graphviz copies label text into it). Skipped without `dot`.
#[test]
fn graphviz_accepts_the_dot_output() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("graphviz `dot` not installed: skipping");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(to_dot(&hostile()).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot failed: {stderr}");
    assert!(stderr.trim().is_empty(), "dot warned: {stderr}");
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let mut reader = quick_xml::Reader::from_str(&svg);
    loop {
        match reader.read_event().expect("SVG from dot is well-formed") {
            Event::Eof => break,
            _ => continue,
        }
    }
}

// ---- NetBox CSV ----

fn read_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("valid CSV row with the header's width");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn netbox_tables_read_back_with_a_real_csv_parser() {
    let t = hostile();
    let tables = netbox_csv(&t);
    let devices = read_csv(&tables.devices);
    let names: Vec<&str> = devices.iter().map(|d| d["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "<script>alert(1)</script>",
            "dist-1",
            "edge (dup-a)",
            "edge (dup-b)",
            "weird\"id\n<&>",
            "ghost"
        ]
    );
    // The chassis' ENTITY-MIB model is the device type, its serial the
    // serial; a device without either keeps the vendor (or `unknown`).
    assert_eq!(devices[0]["device_type"], "WS-C3750X-48P");
    assert_eq!(devices[0]["manufacturer"], "Cisco, Inc.");
    assert_eq!(
        devices[0]["serial"],
        replace_chars("FDO\"1234\",<x>\n", |c| c.is_control() && c != '\n')
    );
    assert_eq!(devices[1]["device_type"], "unknown");
    assert_eq!(devices[1]["manufacturer"], "unknown");
    assert_eq!(devices[1]["serial"], "");
    assert_eq!(
        devices[0]["description"],
        replace_chars(t.devices[0].sys_descr.as_deref().unwrap(), |c| c
            .is_control()
            && !matches!(c, '\t' | '\n' | '\r'))
    );
    for d in &devices {
        assert_eq!(
            (d["role"].as_str(), d["site"].as_str(), d["status"].as_str()),
            ("discovered", "nocmap", "active")
        );
    }

    let interfaces = read_csv(&tables.interfaces);
    let find = |dev: &str, name: &str| {
        interfaces
            .iter()
            .find(|i| i["device"] == dev && i["name"] == name)
            .unwrap_or_else(|| panic!("interface {dev} {name}"))
    };
    let core = "<script>alert(1)</script>";
    assert_eq!(find(core, "Gi0/1")["type"], "1000base-t");
    assert_eq!(find(core, "Gi0/1")["speed"], "1000000");
    assert_eq!(
        find(core, "Gi0/1")["description"],
        "uplink, \"to\" dist; ' & <b>"
    );
    assert_eq!(find(core, "Te1/1")["type"], "10gbase-x-sfpp");
    assert_eq!(find(core, "Po1")["type"], "lag");
    assert_eq!(find(core, "Lo0")["type"], "virtual");
    // Mentioned only by links: created as `other`.
    assert_eq!(find("dist-1", "Gi0/3")["type"], "other");
    assert_eq!(find("weird\"id\n<&>", "port \"1\", <x>")["type"], "other");
    assert_eq!(find("ghost", "e1\u{fffd}")["type"], "other");

    // Every cable end names a device and interface that the import creates.
    let cables = read_csv(&tables.cables);
    for c in &cables {
        for side in ["side_a", "side_b"] {
            assert_eq!(c[&format!("{side}_type")], "dcim.interface");
            find(&c[&format!("{side}_device")], &c[&format!("{side}_name")]);
        }
        assert_eq!(c["status"], "connected");
    }
    // l4 has no interface name at one end; l7 reuses dist-1 Gi0/3, which the
    // more confident l3 already cables.
    assert_eq!(cables.len(), t.links.len() - 2);
    let skipped: Vec<&str> = tables.skipped.iter().map(|s| s.link.as_str()).collect();
    assert_eq!(skipped, ["l4", "l7"]);
}

#[test]
fn netbox_columns_are_netbox_4_import_fields() {
    use support::netbox_fields::*;
    let tables = netbox_csv(&hostile());
    let header = |table: &str| -> Vec<String> {
        let first = table.lines().next().unwrap();
        first.split(',').map(str::to_owned).collect()
    };
    for (what, table, known, required) in [
        (
            "devices",
            &tables.devices,
            NETBOX_DEVICE_FIELDS,
            NETBOX_DEVICE_REQUIRED,
        ),
        (
            "interfaces",
            &tables.interfaces,
            NETBOX_INTERFACE_FIELDS,
            NETBOX_INTERFACE_REQUIRED,
        ),
        (
            "cables",
            &tables.cables,
            NETBOX_CABLE_FIELDS,
            NETBOX_CABLE_REQUIRED,
        ),
    ] {
        let columns = header(table);
        for c in &columns {
            assert!(
                known.contains(&c.as_str()),
                "{what}: NetBox 4.x has no import field {c:?}"
            );
        }
        for r in required {
            assert!(
                columns.iter().any(|c| c == r),
                "{what}: NetBox 4.x requires {r:?}"
            );
        }
    }
    // Value forms: the choice values NetBox accepts for what we write.
    let devices = read_csv(&tables.devices);
    assert!(devices.iter().all(|d| d["status"] == "active"));
    let interfaces = read_csv(&tables.interfaces);
    for i in &interfaces {
        assert!(
            ["", "true", "false"].contains(&i["enabled"].as_str()),
            "{i:?}"
        );
        assert!(
            i["speed"].is_empty() || i["speed"].parse::<u64>().is_ok(),
            "{i:?}"
        );
    }
    let cables = read_csv(&tables.cables);
    assert!(cables.iter().all(|c| c["status"] == "connected"));
}

#[test]
fn netbox_combined_output_has_the_three_headed_blocks() {
    let tables = netbox_csv(&hostile());
    let combined = to_netbox_csv(&hostile());
    assert_eq!(
        combined,
        format!(
            "# devices\n{}\n# interfaces\n{}\n# cables\n{}",
            tables.devices, tables.interfaces, tables.cables
        )
    );
}

#[test]
fn csv_field_quotes_only_what_needs_it() {
    use netbox::csv_field;
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_field(" padded"), "\" padded\"");
    assert_eq!(csv_field("nul\u{0}"), "nul\u{fffd}");
}

#[test]
fn netbox_interface_types() {
    use netbox::interface_type;
    const G: u64 = 1_000_000_000;
    assert_eq!(interface_type(Some(6), Some(100_000_000)), "100base-tx");
    assert_eq!(interface_type(Some(6), Some(G)), "1000base-t");
    assert_eq!(interface_type(Some(6), Some(25 * G)), "25gbase-x-sfp28");
    assert_eq!(interface_type(Some(6), Some(100 * G)), "100gbase-x-qsfp28");
    assert_eq!(interface_type(Some(6), None), "other");
    assert_eq!(interface_type(None, Some(10 * G)), "10gbase-x-sfpp");
    assert_eq!(interface_type(Some(161), Some(20 * G)), "lag");
    assert_eq!(interface_type(Some(24), None), "virtual");
    assert_eq!(interface_type(Some(135), None), "virtual");
    assert_eq!(interface_type(Some(209), None), "bridge");
    assert_eq!(interface_type(Some(71), Some(G)), "other");
}

#[test]
fn netbox_names_stay_unique_even_when_a_sys_name_mimics_the_disambiguation() {
    let mut t = topology(&["x", "y", "z"], &[]);
    t.devices[0].sys_name = Some("edge".into());
    t.devices[1].sys_name = Some("edge".into());
    t.devices[2].sys_name = Some("edge (x)".into());
    let names: Vec<String> = read_csv(&netbox_csv(&t).devices)
        .into_iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, ["edge (x)", "edge (y)", "edge (x) #2"]);
}
