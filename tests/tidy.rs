//! Tidy checks on the source tree, run inside `cargo test` (rust-analyzer's
//! idea): the structure ARCHITECTURE.md describes is checked, not hoped for.
//!
//! - No import cycle between the crate's top-level modules (`src/<name>.rs`
//!   or `src/<name>/`): every `crate::<name>` path, `use crate::{..}` group
//!   and `super::` path that climbs to the crate root counts, in test code
//!   too; comments do not.
//! - The bottom modules import nothing else of the crate but what lies
//!   below them: `types` nothing, `util` only `types` (the wall-time
//!   instant its clock returns); the engines (`icmp`, `snmp`) import
//!   nothing but the bottom ones.
//! - The product never links the lab: no file of the library (the
//!   `nocmap-lab` binary's own `src/bin/` aside) names the lab crate.
//!
//! A failure names the modules of the cycle and, for each import that
//! closes it, the files that make it.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The bottom modules, each with the only modules it may import.
const BOTTOM: &[(&str, &[&str])] = &[("types", &[]), ("util", &["types"])];
/// The bottom modules' names.
const BOTTOM_NAMES: &[&str] = &["types", "util"];
/// The protocol engines: they may import only the bottom modules.
const ENGINES: &[&str] = &["icmp", "snmp"];

/// Edges between top-level modules: from -> to -> files that import.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = crate_graph(&src_dir());
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "{}", describe_cycles(&graph, &cycles));
}

#[test]
fn bottom_modules_and_engines_import_only_what_is_below_them() {
    let graph = crate_graph(&src_dir());
    let mut wrong = Vec::new();
    for (from, allowed) in BOTTOM
        .iter()
        .copied()
        .chain(ENGINES.iter().map(|m| (*m, BOTTOM_NAMES)))
    {
        for (to, files) in graph.get(from).into_iter().flatten() {
            if !allowed.contains(&to.as_str()) {
                wrong.push(format!("{from} imports {to} in {files:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_library_does_not_use_the_lab_crate() {
    // Spelled in two halves so this file does not find itself.
    const NEEDLE: &str = concat!("nocmap", "_lab");
    let src = src_dir();
    let found: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|rel| !rel.starts_with("bin"))
        .filter(|rel| {
            std::fs::read_to_string(src.join(rel)).is_ok_and(|t| code_only(&t).contains(NEEDLE))
        })
        .map(|rel| rel.display().to_string())
        .collect();
    assert!(
        found.is_empty(),
        "the library uses the lab crate: {found:?}"
    );
}

/// The checks themselves can fail: a made-up tree with a cycle is caught,
/// one without is not.
/// ARCHITECTURE.md's code map names every module: each file of `src/`
/// (tests aside) by its name, or its folder's for a `mod.rs`, as a word
/// (`check_config` may be written `check-config`).
#[test]
fn the_code_map_names_every_module() {
    let src = src_dir();
    let doc = std::fs::read_to_string(src.join("../ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let words: BTreeSet<String> = doc
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map(|w| w.replace('-', "_"))
        .collect();
    let mut missing = Vec::new();
    for f in rust_files(&src) {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        if stem.ends_with("_tests") {
            continue;
        }
        let name = if stem == "mod" {
            f.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        } else {
            stem
        };
        if !words.contains(&name) {
            missing.push(f.strip_prefix(&src).unwrap_or(&f).display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "modules ARCHITECTURE.md's code map does not name: {missing:?}"
    );
}

#[test]
fn the_cycle_check_finds_a_cycle_in_a_made_up_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |rel: &str, text: &str| {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write(
        "a/mod.rs",
        "// crate::c in a comment does not count\nmod x;\n",
    );
    write("a/x.rs", "use crate::{b::One, util};\n");
    write("b.rs", "fn f() { crate::c::two(); }\n");
    write("c.rs", "pub fn two() {}\n");
    let graph = crate_graph(src);
    assert!(cycles(&graph).is_empty(), "{graph:?}");
    assert_eq!(graph["a"]["b"], BTreeSet::from(["a/x.rs".to_string()]));
    assert!(!graph["a"].contains_key("c"), "comments are not imports");
    // c reaches back to a through a super:: path out of a top-level file.
    write("c.rs", "pub fn two() { super::a::f(); }\n");
    let graph = crate_graph(src);
    let found = cycles(&graph);
    assert_eq!(
        found,
        vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]
    );
    let text = describe_cycles(&graph, &found);
    assert!(text.contains("c -> a (c.rs)"), "{text}");
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src`, relative to it.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(src).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to (`None` for `lib.rs`, `main.rs`
/// and `src/bin/`), and how many `super::` steps lead from it to the root.
fn owner(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let first = parts.first()?;
    if parts.len() == 1 {
        let name = first.strip_suffix(".rs")?;
        return (!matches!(name, "lib" | "main")).then(|| (name.to_string(), 1));
    }
    if first == "bin" {
        return None;
    }
    // src/a/mod.rs is module `a` (one step up to the root); src/a/b.rs is
    // `a::b` (two); src/a/b/c.rs three, and so on. `#[path]` test files
    // included by another file sit one level deeper than their name says,
    // which only makes this count too small, never wrong about the owner.
    let last = parts.last().unwrap();
    let depth = if last == "mod.rs" {
        parts.len() - 1
    } else {
        parts.len()
    };
    Some((first.clone(), depth))
}

/// The text of a file without `//` comments (doc comments included) and
/// without `/* */` blocks.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        in_block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else {
                let line_comment = rest.find("//");
                let block = rest.find("/*");
                match (line_comment, block) {
                    (Some(l), Some(b)) if b < l => {
                        kept.push_str(&rest[..b]);
                        in_block += 1;
                        rest = &rest[b + 2..];
                    }
                    (Some(l), _) => {
                        kept.push_str(&rest[..l]);
                        break;
                    }
                    (None, Some(b)) => {
                        kept.push_str(&rest[..b]);
                        in_block += 1;
                        rest = &rest[b + 2..];
                    }
                    (None, None) => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a file's code names.
fn imports(code: &str, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        // `nocmap_crate::x` or `my_crate::x` are not this crate.
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first name of each item
            // at the group's own level.
            let mut level = 0;
            let mut at_item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => break,
                    '}' => level -= 1,
                    ',' if level == 0 => at_item_start = true,
                    c if at_item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        out.insert(ident_at(&group[j..]).to_string());
                        at_item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    // `super::super::x` from a file `depth` steps below the root names x.
    let steps = "super::".repeat(depth);
    for (i, _) in code.match_indices(&steps) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let name = ident_at(&code[i + steps.len()..]);
        if !name.is_empty() && name != "super" {
            out.insert(name.to_string());
        }
    }
    out
}

fn crate_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let files = rust_files(src);
    let tops: BTreeSet<String> = files
        .iter()
        .filter_map(|f| owner(f).map(|(m, _)| m))
        .collect();
    for rel in files {
        let Some((from, depth)) = owner(&rel) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(src.join(&rel)).unwrap());
        for to in imports(&code, depth) {
            if to != from && tops.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan),
/// each sorted, in sorted order.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flat_map(|m| m.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    scc.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    scc.sort();
                    self.found.push(scc);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.found.sort();
    t.found
}

fn describe_cycles(graph: &Graph, cycles: &[Vec<String>]) -> String {
    let mut text = String::new();
    for scc in cycles {
        text.push_str(&format!(
            "import cycle between {} (a helper used by two of them belongs below both, e.g. in util):\n",
            scc.join(", ")
        ));
        for from in scc {
            for (to, files) in &graph[from] {
                if scc.contains(to) {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    text.push_str(&format!("  {from} -> {to} ({})\n", files.join(", ")));
                }
            }
        }
    }
    text
}
