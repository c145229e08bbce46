//! The `Secret` newtype for communities, v3 passwords and tokens, and the
//! resolution of `env:VAR` / `file:/path` references. A secret's text never
//! reaches Debug, Display, logs or error messages: only the variable name or
//! the path does.

pub use crate::types::Secret;

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
        let v = std::fs::read_to_string(path).map_err(|e| SecretError::File {
            path: path.to_string(),
            // io::Error text names the OS reason only, not file contents.
            reason: e.kind().to_string(),
        })?;
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
