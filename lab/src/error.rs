//! The one error type of the lab driver. Every variant names the operation
//! and its target; no `anyhow` here.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("cannot parse lab description {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("invalid lab description:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("the lab driver needs root (network namespaces)")]
    NotRoot,
    #[error("lab `{lab}` has no node `{node}`")]
    UnknownNode { lab: String, node: String },
    #[error("lab `{lab}` has no link with end point `{endpoint}`")]
    UnknownLink { lab: String, endpoint: String },
    #[error("link `{endpoint}` has no wire (set `wire = true` in the lab file)")]
    NoWire { endpoint: String },
    #[error("lab `{lab}` is not running (no state in {})", dir.display())]
    NotRunning { lab: String, dir: PathBuf },
    #[error("prefix {prefix} of lab `{lab}` overlaps running lab `{other}` ({other_prefix})")]
    PrefixInUse {
        lab: String,
        prefix: String,
        other: String,
        other_prefix: String,
    },
    #[error("{daemon} on node `{node}` is not ready: {detail}\n--- {log} ---\n{tail}")]
    DaemonNotReady {
        daemon: &'static str,
        node: String,
        detail: String,
        log: String,
        tail: String,
    },
    #[error("timed out after {secs:.1} s waiting for {what}")]
    Timeout { what: String, secs: f64 },
    #[error("iperf3 from `{from}` to `{to}`: {detail}")]
    Iperf {
        from: String,
        to: String,
        detail: String,
    },
}
