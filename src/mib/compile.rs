//! Runs the `mib-rs` parser/resolver over the bundled modules plus the
//! user's directories and flattens the result into a [`MibIndex`]. This is
//! the only file that knows the `mib-rs` API; it must not be called per
//! lookup (it is the slow path, run once per load).
use super::bundled::BUNDLED;
use super::error::{MibError, MibWarning};
use super::index::{
    Access, BaseSyntax, IndexEncoding, IndexPart, MibIndex, MibNode, NodeKind, ObjectMeta,
};
use mib_rs::{DiagnosticConfig, Loader, Severity};
use std::path::{Path, PathBuf};

/// Parses the bundled modules and every module in `dirs` (a user's copy of
/// a module shadows the bundled one of the same name). Problems of severity
/// "error" or worse fail the load; lesser ones come back as warnings.
pub fn compile(dirs: &[PathBuf]) -> Result<(MibIndex, Vec<MibWarning>), MibError> {
    compile_with_text(dirs, None)
}

/// [`compile`] with one more module given as `(name, text)`, which shadows
/// the directories and the bundle (the fuzz target's way in, without files);
/// then only that module and its imports are loaded.
pub fn compile_with_text(
    dirs: &[PathBuf],
    module: Option<(&str, &[u8])>,
) -> Result<(MibIndex, Vec<MibWarning>), MibError> {
    let mut sources: Vec<Box<dyn mib_rs::Source>> = Vec::new();
    if let Some((name, text)) = module {
        sources.push(mib_rs::source::memory(name, text));
    }
    for dir in dirs {
        let src = mib_rs::source::dir(dir).map_err(|e| MibError::ReadDir {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        let listed = src.list_modules().map_err(|e| MibError::ReadDir {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        if listed.is_empty() {
            return Err(MibError::NoModules { path: dir.clone() });
        }
        sources.push(src);
    }
    sources.push(mib_rs::source::memory_modules(
        BUNDLED.iter().map(|(name, text)| (*name, text.as_bytes())),
    ));
    let label = dirs
        .last()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("<bundled>"));
    let config = DiagnosticConfig {
        // Never fail inside the loader: we sort diagnostics ourselves so the
        // error lists every problem, not just the first over a threshold.
        fail_at: Severity::Fatal,
        ..DiagnosticConfig::default()
    };
    let mut loader = Loader::new()
        .source(mib_rs::source::chain(sources))
        .diagnostic_config(config);
    if let Some((name, _)) = module {
        // The given module and what it imports, in this thread: the same
        // parse, lowering and resolution, without loading every unrelated
        // bundled module per call (the fuzz target's speed).
        loader = loader.modules([name]).parallelism(1);
    }
    let mib = loader.load().map_err(|e| loader_error(&label, e))?;

    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let report = mib.diagnostic_report();
    for entry in report.iter() {
        let d = entry.diagnostic();
        let text = entry.render().unwrap_or_else(|_| d.to_string());
        if d.severity.at_least(Severity::Error) {
            problems.push(text);
        } else {
            warnings.push(MibWarning { message: text });
        }
    }
    if !problems.is_empty() {
        return Err(MibError::Invalid {
            path: label,
            problems,
        });
    }
    Ok((flatten(&mib), warnings))
}

fn loader_error(path: &Path, e: mib_rs::LoadError) -> MibError {
    match e {
        mib_rs::LoadError::DiagnosticThreshold { report } => MibError::Invalid {
            path: path.to_path_buf(),
            problems: report
                .iter()
                .map(|en| en.render().unwrap_or_else(|_| en.diagnostic().to_string()))
                .collect(),
        },
        other => MibError::Loader {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    }
}

fn flatten(mib: &mib_rs::Mib) -> MibIndex {
    let mut index = MibIndex::new();
    // Owners first, so the trie answers with the module that owns each OID.
    for node in mib.nodes() {
        let Some(module) = node.module() else {
            continue;
        };
        if node.name().is_empty() {
            continue;
        }
        index.insert_owner(convert(node, module.name()));
    }
    // Then every module's own view of its names (aliases for shared OIDs).
    for module in mib.modules() {
        index.add_module(module.name());
        for node in module.nodes() {
            if !node.name().is_empty() {
                index.insert_alias(convert(node, module.name()));
            }
        }
    }
    index
}

fn convert(node: mib_rs::Node<'_>, module: &str) -> MibNode {
    let object = node.object();
    let kind = match node.kind() {
        mib_rs::Kind::Scalar => NodeKind::Scalar,
        mib_rs::Kind::Table => NodeKind::Table,
        mib_rs::Kind::Row => NodeKind::Row,
        mib_rs::Kind::Column => NodeKind::Column,
        mib_rs::Kind::Notification => NodeKind::Notification,
        mib_rs::Kind::Node
        | mib_rs::Kind::Internal
        | mib_rs::Kind::ModuleIdentity
        | mib_rs::Kind::ObjectIdentity => NodeKind::Node,
        _ => NodeKind::Other,
    };
    MibNode {
        module: module.to_string(),
        name: node.name().to_string(),
        oid: node.oid().to_vec(),
        kind,
        object: object.map(object_meta),
    }
}

fn object_meta(obj: mib_rs::Object<'_>) -> ObjectMeta {
    let ty = obj.ty();
    let base = ty
        .map(|t| base_syntax(t.effective_base()))
        .unwrap_or(BaseSyntax::Unknown);
    let type_name = ty.map(|t| t.name().to_string()).unwrap_or_default();
    let row = if obj.is_row() {
        Some(obj)
    } else if obj.is_column() || obj.is_table() {
        obj.row()
    } else {
        None
    };
    let indexes = row
        .map(|r| r.effective_indexes().map(index_part).collect())
        .unwrap_or_default();
    ObjectMeta {
        type_name,
        base,
        access: access(obj.access()),
        indexes,
        enums: named(obj.effective_enums()),
        bits: named(obj.effective_bits()),
        display_hint: obj.effective_display_hint().to_string(),
        units: obj.units().to_string(),
    }
}

fn named(values: &[mib_rs::mib::NamedValue]) -> Vec<(i64, String)> {
    values.iter().map(|v| (v.value, v.label.clone())).collect()
}

fn index_part(ix: mib_rs::Index<'_>) -> IndexPart {
    let base = ix
        .ty()
        .map(|t| base_syntax(t.effective_base()))
        .unwrap_or(BaseSyntax::Unknown);
    let encoding = match ix.encoding() {
        mib_rs::IndexEncoding::Integer => IndexEncoding::Integer,
        mib_rs::IndexEncoding::FixedString => match ix.fixed_size() {
            (n, true) => IndexEncoding::FixedOctets(n),
            _ => IndexEncoding::Unknown,
        },
        mib_rs::IndexEncoding::LengthPrefixed => IndexEncoding::LengthPrefixed,
        mib_rs::IndexEncoding::Implied => IndexEncoding::Implied,
        mib_rs::IndexEncoding::IpAddress => IndexEncoding::IpAddress,
        _ => IndexEncoding::Unknown,
    };
    IndexPart {
        name: ix.name().to_string(),
        base,
        encoding,
    }
}

fn base_syntax(b: mib_rs::BaseType) -> BaseSyntax {
    use mib_rs::BaseType as B;
    match b {
        B::Integer32 | B::Integer64 => BaseSyntax::Integer32,
        B::Unsigned32 | B::Unsigned64 => BaseSyntax::Unsigned32,
        B::Counter32 => BaseSyntax::Counter32,
        B::Counter64 => BaseSyntax::Counter64,
        B::Gauge32 => BaseSyntax::Gauge32,
        B::TimeTicks => BaseSyntax::TimeTicks,
        B::IpAddress => BaseSyntax::IpAddress,
        B::OctetString => BaseSyntax::OctetString,
        B::ObjectIdentifier => BaseSyntax::ObjectIdentifier,
        B::Bits => BaseSyntax::Bits,
        B::Opaque => BaseSyntax::Opaque,
        B::Sequence => BaseSyntax::Sequence,
        _ => BaseSyntax::Unknown,
    }
}

fn access(a: mib_rs::Access) -> Access {
    use mib_rs::Access as A;
    match a {
        A::NotAccessible => Access::NotAccessible,
        A::AccessibleForNotify => Access::AccessibleForNotify,
        A::ReadOnly => Access::ReadOnly,
        A::ReadWrite => Access::ReadWrite,
        A::ReadCreate => Access::ReadCreate,
        A::WriteOnly => Access::WriteOnly,
        _ => Access::Unknown,
    }
}
