//! MIB modules and OID <-> name resolution.
//!
//! Owns the bundled modules (`mibs/` at the crate root, compiled in), the
//! loading of users' vendor MIB directories (through `mib-rs`, confined to
//! `compile.rs`), and a precomputed name map + OID trie so lookups are
//! cheap enough to label every varbind of a large walk. It must not do any
//! SNMP I/O, and nothing outside this module sees `mib-rs` types.
mod bundled;
mod compile;
mod error;
mod index;
mod resolve;

pub use error::{MibError, MibWarning};
pub use index::{Access, BaseSyntax, IndexEncoding, IndexPart, MibNode, NodeKind, ObjectMeta};
pub use resolve::format_numeric;

use index::MibIndex;
use resolve::OidText;
use std::path::{Path, PathBuf};

/// A set of loaded MIB modules, ready for resolution.
#[derive(Debug, Clone)]
pub struct Mibs {
    index: MibIndex,
    dirs: Vec<PathBuf>,
}

impl Mibs {
    /// The modules compiled into the binary. Needs no files.
    ///
    /// If the bundled modules ever failed to load (a bug caught by the test
    /// suite), this logs the problem and returns a set that still resolves
    /// numeric OIDs, rather than panicking.
    pub fn bundled() -> Mibs {
        match compile::compile(&[]) {
            Ok((index, _warnings)) => Mibs {
                index,
                dirs: Vec::new(),
            },
            Err(e) => {
                tracing::error!("bundled MIBs failed to load: {e}");
                Mibs::empty()
            }
        }
    }

    /// Names of the modules compiled into the binary.
    pub fn bundled_module_names() -> Vec<&'static str> {
        bundled::BUNDLED.iter().map(|(name, _)| *name).collect()
    }

    /// Knows no names at all; resolves only numeric OIDs.
    pub fn empty() -> Mibs {
        Mibs {
            index: MibIndex::new(),
            dirs: Vec::new(),
        }
    }

    /// Like [`Mibs::bundled`] but reports a load failure instead of logging.
    pub fn try_bundled() -> Result<(Mibs, Vec<MibWarning>), MibError> {
        let (index, warnings) = compile::compile(&[])?;
        Ok((
            Mibs {
                index,
                dirs: Vec::new(),
            },
            warnings,
        ))
    }

    /// One module given as text, parsed and resolved the way
    /// [`Mibs::load_dir`] loads a file, with the bundled modules it imports.
    /// For the fuzz targets.
    #[doc(hidden)]
    pub fn with_module_text(name: &str, text: &[u8]) -> Result<(Mibs, Vec<MibWarning>), MibError> {
        let (index, warnings) = compile::compile_with_text(&[], Some((name, text)))?;
        Ok((
            Mibs {
                index,
                dirs: Vec::new(),
            },
            warnings,
        ))
    }

    /// Adds every MIB module found in `dir` (files whose text holds
    /// `NAME DEFINITIONS ::= BEGIN`). A module there with the name of a
    /// bundled one replaces it. All modules are re-resolved together, so
    /// order of `load_dir` calls does not matter for imports. On error the
    /// set is left as it was.
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<Vec<MibWarning>, MibError> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(MibError::ReadDir {
                path: dir,
                message: "not a directory".to_string(),
            });
        }
        let mut dirs = self.dirs.clone();
        // Newest directory first: it shadows earlier ones and the bundle.
        dirs.insert(0, dir);
        let (index, warnings) = compile::compile(&dirs)?;
        self.index = index;
        self.dirs = dirs;
        Ok(warnings)
    }

    /// Resolves OID text to arcs: numeric (`1.3.6.1.2.1.2.2.1.10`, leading
    /// dot allowed), `IF-MIB::ifHCInOctets`, `ifHCInOctets`, and any of the
    /// named forms followed by an instance suffix (`ifHCInOctets.3`).
    pub fn resolve(&self, text: &str) -> Result<Vec<u32>, MibError> {
        match resolve::parse(text)? {
            OidText::Numeric(arcs) => Ok(arcs),
            OidText::Named {
                module,
                name,
                suffix,
            } => {
                let node = self.lookup(text, module, name)?;
                let mut oid = node.oid.clone();
                oid.extend_from_slice(&suffix);
                Ok(oid)
            }
        }
    }

    /// The node named by `MODULE::name` or `name` (no instance suffix).
    pub fn node(&self, name: &str) -> Option<&MibNode> {
        match resolve::parse(name).ok()? {
            OidText::Named {
                module,
                name: n,
                suffix,
            } if suffix.is_empty() => self.lookup(name, module, n).ok(),
            _ => None,
        }
    }

    /// The named node with the longest OID that prefixes `oid`, and the
    /// rest of `oid` (the instance suffix, possibly empty).
    pub fn node_of<'a>(&self, oid: &'a [u32]) -> Option<(&MibNode, &'a [u32])> {
        self.index
            .longest_prefix(oid)
            .map(|(node, len)| (node, &oid[len..]))
    }

    /// For display: `("IF-MIB::ifHCInOctets", [3])` for `...31.1.1.1.6.3`.
    /// `None` when no prefix of `oid` has a name.
    pub fn name_of(&self, oid: &[u32]) -> Option<(String, Vec<u32>)> {
        self.node_of(oid)
            .map(|(node, suffix)| (node.qualified_name(), suffix.to_vec()))
    }

    /// `IF-MIB::ifHCInOctets.3`, or the numeric form when nothing matches.
    pub fn display(&self, oid: &[u32]) -> String {
        match self.node_of(oid) {
            Some((node, [])) => node.qualified_name(),
            Some((node, suffix)) => {
                format!("{}.{}", node.qualified_name(), format_numeric(suffix))
            }
            None => format_numeric(oid),
        }
    }

    /// Every named node (including each module's view of shared OIDs).
    pub fn nodes(&self) -> impl Iterator<Item = &MibNode> {
        self.index.nodes().iter()
    }

    /// Whether a module of this name is loaded (bundled, base SMI or user).
    pub fn has_module(&self, module: &str) -> bool {
        self.index.has_module(module)
    }

    /// Directories loaded with [`Mibs::load_dir`], newest first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    fn lookup(&self, text: &str, module: Option<&str>, name: &str) -> Result<&MibNode, MibError> {
        if let Some(m) = module {
            if !self.index.has_module(m) {
                return Err(MibError::UnknownModule {
                    text: text.to_string(),
                    module: m.to_string(),
                });
            }
            return self
                .index
                .get_qualified(m, name)
                .ok_or_else(|| MibError::UnknownName {
                    text: text.to_string(),
                    name: name.to_string(),
                });
        }
        let mut found = self.index.get_by_name(name);
        let Some(first) = found.next() else {
            return Err(MibError::UnknownName {
                text: text.to_string(),
                name: name.to_string(),
            });
        };
        let others: Vec<&MibNode> = found.filter(|n| n.oid != first.oid).collect();
        if others.is_empty() {
            return Ok(first);
        }
        let mut modules: Vec<&str> = std::iter::once(first)
            .chain(others)
            .map(|n| n.module.as_str())
            .collect();
        modules.sort_unstable();
        modules.dedup();
        Err(MibError::AmbiguousName {
            text: text.to_string(),
            name: name.to_string(),
            modules: modules.join(", "),
        })
    }
}
