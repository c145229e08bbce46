//! The lab's state directory (`<root>/<lab>/`): the recorded spec and
//! namespace list, pidfiles, and removing the leftovers of a lab.
//!
//! Knows file layout and teardown order only; it builds nothing.
use super::LabError;
use super::build;
use super::daemons;
use super::spec::LabSpec;
use super::sys;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const NAMESPACES_FILE: &str = "namespaces";
pub const SPEC_FILE: &str = "spec.toml";

pub fn mkdir(p: &Path) -> Result<(), LabError> {
    std::fs::create_dir_all(p).map_err(|source| LabError::Io {
        op: "create",
        path: p.to_owned(),
        source,
    })
}

/// Every `*.pid` file under `dir/nodes/*/` and `dir/wires/`.
fn pidfiles(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![dir.join("wires")];
    if let Ok(nodes) = std::fs::read_dir(dir.join("nodes")) {
        dirs.extend(nodes.flatten().map(|e| e.path()));
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pid"))
        .collect()
}

pub fn recorded_namespaces(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(NAMESPACES_FILE))
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the namespaces recorded in `dir` plus `planned` (with every
/// process inside them and every process named by a pidfile in `dir`), and
/// `dir` itself.
pub fn remove_leftovers(dir: &Path, planned: &[String]) -> Result<(), LabError> {
    let pids: Vec<i32> = pidfiles(dir)
        .iter()
        .filter_map(|p| daemons::read_pid(p))
        .filter(|&p| sys::alive(p))
        .collect();
    sys::kill_all(&pids, Duration::from_millis(1500));
    let mut all = recorded_namespaces(dir);
    all.extend(planned.iter().cloned());
    all.sort();
    all.dedup();
    build::teardown(&all)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|source| LabError::Io {
            op: "remove",
            path: dir.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// Refuses a prefix that overlaps another lab whose namespaces still exist.
pub fn check_prefix_free(spec: &LabSpec, root: &Path) -> Result<(), LabError> {
    let mine = spec.prefix_net()?;
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(());
    };
    let existing = sys::namespaces()?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == spec.name {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path().join(SPEC_FILE)) else {
            continue;
        };
        let Ok(other) = LabSpec::from_toml(&text) else {
            continue;
        };
        let alive = recorded_namespaces(&e.path())
            .iter()
            .any(|n| existing.contains(n));
        let Ok(theirs) = other.prefix_net() else {
            continue;
        };
        if alive && (mine.contains(&theirs) || theirs.contains(&mine)) {
            return Err(LabError::PrefixInUse {
                lab: spec.name.clone(),
                prefix: spec.prefix.clone(),
                other: name,
                other_prefix: other.prefix,
            });
        }
    }
    Ok(())
}
