//! `nocmap export` and `nocmap topo ...` as a user runs them: exit codes,
//! one-line errors, stdout versus `--out`.
mod support;

use nocmap::topology::Topology;
use nocmap::topology::export::{netbox_csv, to_dot, to_graphml};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::topology::*;

fn nocmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nocmap"))
        .args(args)
        .output()
        .expect("run nocmap")
}

/// `nocmap export --in input --format format [--out out]`.
fn export(input: &str, format: &str, out: Option<&Path>) -> Output {
    let mut args = vec!["export", "--in", input, "--format", format];
    if let Some(out) = out {
        args.extend(["--out", out.to_str().unwrap()]);
    }
    nocmap(&args)
}

fn write_topology(dir: &Path, name: &str, t: &Topology) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(t).unwrap()).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn export_to_stdout_and_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_topology(dir.path(), "t.json", &hostile());
    let input = input.to_str().unwrap();
    let out = export(input, "dot", None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), to_dot(&hostile()));

    let file = dir.path().join("t.graphml");
    let out = export(input, "graphml", Some(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        to_graphml(&hostile())
    );

    let out = export(input, "json", None);
    let back: Topology = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back, hostile());
}

#[test]
fn netbox_csv_out_is_a_directory_of_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_topology(dir.path(), "t.json", &hostile());
    let target = dir.path().join("netbox");
    let out = export(input.to_str().unwrap(), "netbox-csv", Some(&target));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tables = netbox_csv(&hostile());
    let read = |f: &str| std::fs::read_to_string(target.join(f)).unwrap();
    assert_eq!(read("devices.csv"), tables.devices);
    assert_eq!(read("interfaces.csv"), tables.interfaces);
    assert_eq!(read("cables.csv"), tables.cables);
    // The two links that cannot be cables are named on stderr.
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("\"l4\"") && err.contains("\"l7\""), "{err}");
}

#[test]
fn missing_or_invalid_input_is_one_error_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let out = export(missing.to_str().unwrap(), "dot", None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("nocmap: error: cannot read topology file "),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"devices\": [}").unwrap();
    let out = nocmap(&["topo", "spof", "--in", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not a topology JSON file"), "{err}");
}

#[test]
fn unknown_format_and_missing_failure_are_usage_errors() {
    let out = nocmap(&["export", "--in", "x.json", "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nocmap(&["topo", "blast", "--in", "x.json", "--from", "a"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nocmap(&[
        "topo",
        "blast",
        "--in",
        "x.json",
        "--from",
        "a",
        "--fail-device",
        "b",
        "--fail-link",
        "c",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn topo_path_found_missing_and_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = parallel();
    t.devices.push(device("island"));
    let input = write_topology(dir.path(), "t.json", &t);
    let input = input.to_str().unwrap();
    let out = nocmap(&["topo", "path", "--in", input, "a", "c"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "a -> b -> c (2 hops)\n  a -- b: to-b-2 -- to-a-2, to-b -- to-a\n  b -- c: to-c -- to-b\n"
    );
    let out = nocmap(&["topo", "path", "--in", input, "a", "island"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "no path from a to island\n");
    let out = nocmap(&["topo", "path", "--in", input, "a", "zz"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "nocmap: error: no device \"zz\" in the topology (give a sysName, an address or a device id)\n"
    );
    let out = nocmap(&["topo", "path", "--in", input, "a", "c", "--json"]);
    let route: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(route["devices"], serde_json::json!(["a", "b", "c"]));
}

#[test]
fn topo_spof_and_blast() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_topology(dir.path(), "t.json", &ring_with_tail());
    let input = input.to_str().unwrap();
    let out = nocmap(&["topo", "spof", "--in", input, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        found,
        serde_json::json!({"devices": ["c", "d"], "links": ["cd", "de"]})
    );
    let out = nocmap(&[
        "topo",
        "blast",
        "--in",
        input,
        "--from",
        "a",
        "--fail-device",
        "d",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "failure of device d cuts 2 device(s) off from a\n  d\n  e\n"
    );
    let out = nocmap(&[
        "topo",
        "blast",
        "--in",
        input,
        "--from",
        "a",
        "--fail-link",
        "ab",
        "--json",
    ]);
    assert_eq!(stdout(&out), "[]\n");
}

#[test]
fn topo_diff_human_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let old = write_topology(dir.path(), "old.json", &chain());
    let mut t = chain();
    t.devices.push(device("e\u{1b}[31m"));
    t.links[0].confidence = 0.5;
    let new = write_topology(dir.path(), "new.json", &t);
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = nocmap(&["topo", "diff", old, new]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "+ device e\\u{1b}[31m\n\
         ~ link a[to-b] -- b[to-a]: evidence lldp -> lldp, confidence 0.9 -> 0.5\n"
    );
    let out = nocmap(&["topo", "diff", old, old]);
    assert_eq!(stdout(&out), "no changes\n");
    let out = nocmap(&["topo", "diff", old, new, "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["devices_added"], serde_json::json!(["e\u{1b}[31m"]));
    assert_eq!(d["links_changed"][0]["new_confidence"], 0.5);
}

#[test]
fn dangling_link_fails_queries_in_one_line_but_still_exports() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = chain();
    t.links.push(link("dx", "d", "nowhere"));
    let input = write_topology(dir.path(), "t.json", &t);
    let input = input.to_str().unwrap();
    let out = nocmap(&["topo", "spof", "--in", input]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.ends_with("link \"dx\": endpoint device \"nowhere\" is not in the topology\n"),
        "{err}"
    );
    let out = export(input, "dot", None);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("label=\"nowhere\""));
}

/// A topology as discovery writes it: chassis ids, sysNames (two devices
/// share one), management addresses.
fn named() -> Topology {
    let mut t = topology(
        &[
            "chassis-02:4b:00:00:00:01",
            "chassis-02:4b:00:00:00:02",
            "chassis-02:4b:00:00:00:03",
        ],
        &[
            (
                "l1",
                "chassis-02:4b:00:00:00:01",
                "chassis-02:4b:00:00:00:02",
            ),
            (
                "l2",
                "chassis-02:4b:00:00:00:02",
                "chassis-02:4b:00:00:00:03",
            ),
        ],
    );
    let names = [
        ("core", "127.0.3.1"),
        ("switch", "127.0.3.2"),
        ("switch", "127.0.3.3"),
    ];
    for (d, (name, addr)) in t.devices.iter_mut().zip(names) {
        d.sys_name = Some(name.into());
        d.mgmt_addr = Some(addr.parse().unwrap());
        d.addresses = vec![addr.parse().unwrap()];
    }
    t
}

#[test]
fn devices_are_given_and_shown_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_topology(dir.path(), "t.json", &named());
    let input = input.to_str().unwrap();
    // By sysName and by address; printed by name, made unique by address.
    let out = nocmap(&["topo", "path", "--in", input, "core", "127.0.3.3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "core -> switch (127.0.3.2) -> switch (127.0.3.3) (2 hops)\n\
         \x20 core -- switch (127.0.3.2): to-chassis-02:4b:00:00:00:02 -- to-chassis-02:4b:00:00:00:01\n\
         \x20 switch (127.0.3.2) -- switch (127.0.3.3): to-chassis-02:4b:00:00:00:03 -- to-chassis-02:4b:00:00:00:02\n"
    );
    // Ids still work, and --json still gives ids.
    let out = nocmap(&[
        "topo",
        "path",
        "--in",
        input,
        "chassis-02:4b:00:00:00:01",
        "CORE",
        "--json",
    ]);
    let route: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        route["devices"],
        serde_json::json!(["chassis-02:4b:00:00:00:01"])
    );
    // A name two devices share is an error listing both.
    let out = nocmap(&["topo", "path", "--in", input, "core", "switch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "nocmap: error: \"switch\" names 2 devices: \
         switch 127.0.3.2 [chassis-02:4b:00:00:00:02]; switch 127.0.3.3 [chassis-02:4b:00:00:00:03]\n"
    );
    // Blast radius by name, a link by one of its ends.
    let out = nocmap(&[
        "topo",
        "blast",
        "--in",
        input,
        "--from",
        "core",
        "--fail-link",
        "127.0.3.3:to-chassis-02:4b:00:00:00:02",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "failure of link switch (127.0.3.2) to-chassis-02:4b:00:00:00:03 -- switch (127.0.3.3) \
         to-chassis-02:4b:00:00:00:02 cuts 1 device(s) off from core\n  switch (127.0.3.3)\n"
    );
    let out = nocmap(&["topo", "spof", "--in", input]);
    assert!(
        stdout(&out).contains("device switch (127.0.3.2)\n"),
        "{}",
        stdout(&out)
    );
}
