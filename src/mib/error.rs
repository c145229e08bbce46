//! Errors and warnings of the MIB layer. Owns only the types; it must not
//! hold or print anything but names, OIDs, paths and parser messages.
use std::path::PathBuf;

/// Why a name could not be resolved or a MIB directory could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MibError {
    #[error("empty OID or object name")]
    Empty,
    #[error("bad numeric OID {text:?}: arc {arc:?} is not a number in 0..=4294967295")]
    BadNumericOid { text: String, arc: String },
    #[error("bad instance suffix in {text:?}: {suffix:?} is not a dotted list of numbers")]
    BadInstanceSuffix { text: String, suffix: String },
    #[error("unknown MIB module {module:?} in {text:?}")]
    UnknownModule { text: String, module: String },
    #[error("unknown object name {name:?} in {text:?}")]
    UnknownName { text: String, name: String },
    #[error(
        "object name {name:?} in {text:?} is defined differently in {modules}: qualify it as MODULE::{name}"
    )]
    AmbiguousName {
        text: String,
        name: String,
        modules: String,
    },
    #[error("cannot read MIB directory {}: {message}", path.display())]
    ReadDir { path: PathBuf, message: String },
    #[error("no MIB modules (files with `NAME DEFINITIONS ::= BEGIN`) found in {}", path.display())]
    NoModules { path: PathBuf },
    #[error("MIB files in {} have errors: {}", path.display(), problems.join("; "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("MIB loader failed for {}: {message}", path.display())]
    Loader { path: PathBuf, message: String },
}

/// A problem worth showing to the user that did not stop the load (style
/// issues, unresolved imports in modules nobody uses, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MibWarning {
    /// `label:line:col: message` as rendered by the parser, or the bare
    /// message when the parser has no location for it.
    pub message: String,
}

impl std::fmt::Display for MibWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
