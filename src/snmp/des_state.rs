//! The durable sender state DES privacy needs: DES salts start from a local
//! "boots" epoch that must never repeat for the same key, so the epoch is
//! kept in a small file and advanced (atomically, by rename) every time an
//! engine first uses DES. Only DES credentials touch this file.
use async_snmp::{DesSaltState, PersistedDesSaltState};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the epoch file lives unless the settings say otherwise:
/// `$NOCMAP_STATE_DIR`, else /var/lib/nocmap for root, else the XDG state dir.
pub fn default_state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NOCMAP_STATE_DIR") {
        return PathBuf::from(d);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/nocmap");
    }
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) => PathBuf::from(d).join("nocmap"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
            .join(".local/state/nocmap"),
    }
}

fn write_epoch(path: &Path, boots: u32, create_new: bool) -> std::io::Result<()> {
    if create_new {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        writeln!(f, "{boots}")?;
        return f.sync_all();
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "{boots}")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Load the epoch file under `dir` and advance it, or create it at epoch 1.
pub fn load_or_install(dir: &Path) -> Result<DesSaltState, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create DES state directory {}: {e}", dir.display()))?;
    let path = dir.join("des-engine-boots");
    let fail = |e: String| format!("DES state file {}: {e}", path.display());
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let boots: u32 = text
                .trim()
                .parse()
                .map_err(|_| fail("not a number".into()))?;
            let previous = PersistedDesSaltState::new(boots).map_err(|e| fail(e.to_string()))?;
            DesSaltState::restart(previous, |next: &PersistedDesSaltState| {
                write_epoch(&path, next.engine_boots(), false)
            })
            .map_err(|e| fail(e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DesSaltState::install(|s: &PersistedDesSaltState| {
                write_epoch(&path, s.engine_boots(), true)
            })
            .map_err(|e| fail(e.to_string()))
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_advances_on_every_load() {
        let dir = tempfile::tempdir().unwrap();
        super::load_or_install(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("des-engine-boots"))
                .unwrap()
                .trim(),
            "1"
        );
        super::load_or_install(dir.path()).unwrap();
        super::load_or_install(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("des-engine-boots"))
                .unwrap()
                .trim(),
            "3"
        );
        std::fs::write(dir.path().join("des-engine-boots"), "garbage").unwrap();
        assert!(
            super::load_or_install(dir.path())
                .unwrap_err()
                .contains("not a number")
        );
    }
}
