//! The receiver's own SNMP engine (RFC 3411): a stable engine id and a
//! boots count that grows on every start, kept in a small file beside the
//! database (`<db>.snmp-engine`: `engine_id HEX` and `boots N` lines).
//! Informs sent to us carry our boots and time; a boots count that did not
//! grow would let an inform recorded before a restart be replayed after it.
use super::usm::LocalEngine;
use crate::util::hex;
use async_snmp::v3::{MAX_ENGINE_TIME, validate_engine_id};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the engine state of the database `db` is kept.
pub fn state_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".snmp-engine");
    PathBuf::from(p)
}

/// Parses the state file's text: `(engine id, boots)`.
pub fn parse(text: &str) -> Option<(Vec<u8>, u32)> {
    let mut id = None;
    let mut boots = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("engine_id", v)) => id = hex::parse(v.trim()),
            Some(("boots", v)) => boots = v.trim().parse::<u32>().ok(),
            _ => {}
        }
    }
    let id = id.filter(|i| validate_engine_id(i).is_ok())?;
    Some((id, boots?))
}

/// The next start's engine: the configured id (else the stored one, else a
/// new random one) with the stored boots plus one (1 for a new id). The
/// new state is written before it is used; a failed write is returned as a
/// warning, and the engine is still served (boots then may repeat).
pub fn start(path: &Path, configured: Option<&[u8]>) -> (LocalEngine, Option<String>) {
    let stored = std::fs::read_to_string(path).ok().and_then(|t| parse(&t));
    let (id, boots) = match (configured, stored) {
        (Some(c), Some((id, b))) if c == id.as_slice() => (id, b.saturating_add(1)),
        (Some(c), _) => (c.to_vec(), 1),
        (None, Some((id, b))) => (id, b.saturating_add(1)),
        (None, None) => {
            let id = async_snmp::generate_engine_id()
                .map(|b| b.to_vec())
                .unwrap_or_else(|_| fallback_id());
            (id, 1)
        }
    };
    let boots = boots.clamp(1, MAX_ENGINE_TIME);
    let text = format!("engine_id {}\nboots {boots}\n", hex::encode(&id));
    let warning = std::fs::write(path, text).err().map(|e| {
        format!(
            "cannot keep the SNMP engine state in {}: {e}",
            path.display()
        )
    });
    let engine = LocalEngine {
        id,
        boots,
        started: Instant::now(),
    };
    (engine, warning)
}

/// An engine id from the clock when the system has no random source
/// (RFC 3411 format 5: enterprise 0x80000000 + octets).
fn fallback_id() -> Vec<u8> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(1);
    let mut id = vec![0x80, 0, 0, 0, 5];
    id.extend_from_slice(&t.to_be_bytes()[4..]);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boots_grow_on_every_start_and_a_new_id_starts_at_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(&dir.path().join("nocmap.db"));
        let (a, w) = start(&path, None);
        assert!(w.is_none());
        assert_eq!(a.boots, 1);
        let (b, _) = start(&path, None);
        assert_eq!((b.id.clone(), b.boots), (a.id.clone(), 2));
        let configured = hex::parse("8000000001020304").unwrap();
        let (c, _) = start(&path, Some(&configured));
        assert_eq!((c.id.clone(), c.boots), (configured.clone(), 1));
        let (d, _) = start(&path, Some(&configured));
        assert_eq!(d.boots, 2);
        assert_eq!(parse("engine_id zz\nboots 3\n"), None);
    }
}
