//! The `Secret` newtype for communities, v3 passwords and tokens, and the
//! resolution of `env:VAR` / `file:/path` references. A secret's text never
//! reaches Debug, Display, logs or error messages: only the variable name or
//! the path does.

pub use crate::types::Secret;
use std::io::Read;

/// Why a secret reference could not be resolved. Names the variable or the
/// file, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set or not valid UTF-8")]
    EnvMissing(String),
    #[error("environment variable {0} is empty")]
    EnvEmpty(String),
    #[error("cannot read secret file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("secret file {0} is empty")]
    FileEmpty(String),
}

/// The largest secret file read; anything longer is refused.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Turns `env:VAR` and `file:/path` into the secret they point at; any other
/// text is the secret itself. A file's trailing newline is dropped.
pub fn resolve(raw: &Secret) -> Result<Secret, SecretError> {
    let text = raw.expose();
    if let Some(var) = text.strip_prefix("env:") {
        let v = std::env::var(var).map_err(|_| SecretError::EnvMissing(var.to_string()))?;
        if v.is_empty() {
            return Err(SecretError::EnvEmpty(var.to_string()));
        }
        return Ok(Secret::new(v));
    }
    if let Some(path) = text.strip_prefix("file:") {
        let fail = |reason: String| SecretError::File {
            path: path.to_string(),
            reason,
        };
        // Bounded: `file:/dev/zero` must not eat all memory.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut bytes))
            // io::Error text names the OS reason only, not file contents.
            .map_err(|e| fail(e.kind().to_string()))?;
        if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
            return Err(fail(format!("larger than {MAX_SECRET_FILE_BYTES} bytes")));
        }
        let v = String::from_utf8(bytes).map_err(|_| fail("not valid UTF-8".into()))?;
        let v = v.trim_end_matches(['\n', '\r']).to_string();
        if v.is_empty() {
            return Err(SecretError::FileEmpty(path.to_string()));
        }
        return Ok(Secret::new(v));
    }
    Ok(raw.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_text() {
        let s = Secret::new("hunter2hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2hunter2");
    }

    /// Found by the `config_toml` fuzz target: `file:/dev/zero` read
    /// without end until the process ran out of memory.
    #[test]
    fn secret_file_read_is_bounded() {
        let e = resolve(&Secret::new("file:/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn literal_env_and_file() {
        assert_eq!(resolve(&Secret::new("plain")).unwrap().expose(), "plain");
        let e = resolve(&Secret::new("env:NOCMAP_TEST_SURELY_UNSET_VAR")).unwrap_err();
        assert!(e.to_string().contains("NOCMAP_TEST_SURELY_UNSET_VAR"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "from-file\n").unwrap();
        let r = resolve(&Secret::new(format!("file:{}", p.display()))).unwrap();
        assert_eq!(r.expose(), "from-file");
        let e = resolve(&Secret::new("file:/nonexistent/nocmap/pw")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/nocmap/pw"));
    }
}
