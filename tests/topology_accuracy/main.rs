//! Topology accuracy on real-device recordings (PyPI snmpsim-data 1.0.1,
//! fetched by tests/fetch-recordings.sh, never committed).
//!
//! - `oracle`, `fdb`: what each recording's own LLDP, CDP and forwarding
//!   tables say, read against the MIB definitions without the production
//!   parser;
//! - `compare`: nocmap's `discover --json` against that, row by row;
//! - `measure`: every such recording served by snmpsim on loopback in a
//!   namespace, discovered and scored; the table of TOPOLOGY-ACCURACY.md.
//!
//! The oracle's own checks run in the normal suite (they skip loudly
//! without the recordings). The measurement is one explicit command:
//! `tests/fetch-recordings.sh --serve && cargo test --locked --test topology_accuracy -- --ignored --nocapture`
#[path = "../support/mod.rs"]
#[macro_use]
mod support;

mod compare;
mod fdb;
mod measure;
mod oracle;
#[cfg(test)]
mod oracle_tests;

use oracle::{Local, Oracle};

fn read(rel: &str) -> Oracle {
    Oracle::read(&support::recordings::load(rel).varbinds)
}

fn local_name(o: &Oracle, l: &Local) -> String {
    match l {
        Local::If(i, _) => o.ifs[i]
            .name
            .clone()
            .or(o.ifs[i].descr.clone())
            .unwrap_or_default(),
        Local::Undecidable(_) => "?".into(),
    }
}

/// A look at the oracle's reading of one recording:
/// `ORACLE_DUMP=network/switch/cisco-n5000 cargo test --locked --test topology_accuracy -- --ignored --nocapture dump_oracle`
#[test]
#[ignore = "prints the oracle's rows of the recording named by ORACLE_DUMP"]
fn dump_oracle() {
    require_recordings!();
    let rel = std::env::var("ORACLE_DUMP").expect("ORACLE_DUMP=<recording path>");
    let o = read(&rel);
    for r in &o.rows {
        println!(
            "{:?} key={} local={} ({:?}) name={:?} chassis={:?} port={:?} desc={:?} copies={}",
            r.proto,
            r.local_key,
            local_name(&o, &r.local),
            r.local,
            r.name,
            r.chassis,
            r.port_id,
            r.port_desc,
            r.copies
        );
    }
    println!(
        "fdb: {} macs, {} unmapped, uplinks {:?}",
        o.fdb.learned.len(),
        o.fdb.unmapped,
        o.fdb.uplinks
    );
}

/// The measurement itself: see TOPOLOGY-ACCURACY.md.
#[test]
#[ignore = "the full measurement: needs root, the recordings and snmpsim (tests/fetch-recordings.sh --serve)"]
fn measure_topology_accuracy() {
    require_recordings!();
    require_root!();
    let venv = support::recordings::recordings_root().join("venv");
    assert!(
        venv.join(".complete").exists(),
        "snmpsim not installed; run tests/fetch-recordings.sh --serve"
    );
    let mut cands = measure::candidates();
    if let Ok(only) = std::env::var("ACCURACY_ONLY") {
        cands.retain(|c| only.split(',').any(|o| c.name == o));
    }
    let mut names: Vec<&str> = cands.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        cands.len(),
        "two recordings share a file name (= community)"
    );
    let outcomes = measure::run(&cands);
    let (table, details, total) = measure::render(&cands, &outcomes);
    let dir = measure::out_dir();
    std::fs::write(dir.join("table.md"), &table).unwrap();
    std::fs::write(dir.join("details.md"), &details).unwrap();
    println!("{table}");
    println!("details: {}", dir.join("details.md").display());
    // The measurement reports; with ACCURACY_STRICT=1 it is also the check
    // of the target (nothing wrong, dropped or unexplained, no host
    // on an uplink, every recording discovered).
    if std::env::var_os("ACCURACY_STRICT").is_some() {
        let failed = outcomes.iter().filter(|o| o.score.is_none()).count();
        let bad = [
            ("wrong", total.wrong),
            ("dropped", total.dropped),
            ("unresolved without a reason", total.unresolved_silent),
            ("extra links", total.extra),
            ("FDB wrong", total.fdb_wrong),
            ("FDB on uplinks", total.fdb_uplink),
            (
                "FDB hosts missed without a reason",
                total.fdb_missed - total.fdb_missed_listed,
            ),
            ("recordings not discovered", failed),
        ];
        let bad: Vec<String> = bad
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        assert!(bad.is_empty(), "accuracy target missed: {}", bad.join(", "));
    }
}
