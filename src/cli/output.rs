//! Where a command's text goes: a file named with `--out`, else stdout.
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes `text` to `path`, or to stdout without one.
pub fn emit(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => write_file(path, text),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")
        }
    }
}

/// Writes `text` to `path`; the error names the file.
pub fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
