//! Embedded storage of inventory, topology snapshots, raw samples, rollups,
//! explicit gaps and device events in one SQLite file (WAL). This module owns all SQL; the
//! rest of the crate hands it values and gets values back.
//!
//! Durability: `journal_mode=WAL`, with `synchronous=FULL` by default: the
//! writer commits at most once a second, so syncing each commit costs about
//! one fsync a second and a power cut loses nothing committed
//! (`tests/store_crash_lab.rs` cuts the power under it). [`Durability::Normal`]
//! (`[store] durability = "normal"`) skips that fsync: a commit still
//! survives a crash of the process (kill -9: the WAL frames are in the OS
//! page cache) and the file is never corrupted, but an OS crash or power
//! loss may lose the commits since the last checkpoint.
mod alerts;
mod baseline;
mod error;
mod events;
mod events_search;
mod events_writer;
mod inventory;
mod meta;
mod positions;
mod read;
mod report_read;
mod rollup;
mod schema;
mod site_events;
mod site_gaps;
mod site_journal;
mod types;
mod write;

pub use alerts::{ActiveAlertRow, AlertEvent, Delivery, OutboxItem};
pub use error::StoreError;
pub use events::{EventRow, EventVarbind, MAX_EVENTS_PAGE, SyslogFields};
pub use events_search::{EventFilter, EventKind, EventPage, MAX_SEARCH_BYTES, SEARCH_WINDOW};
pub use events_writer::{EventTap, TapDrops, write_queued_events};
pub use positions::MapPosition;
pub use report_read::InterfaceInfo;
pub use rollup::{PruneReport, RollupReport};
pub use schema::SCHEMA_VERSION;
pub use site_gaps::NumberedGap;
pub use site_journal::JournalEntry;
pub use types::{
    Batch, Durability, GapRecord, Point, Resolution, Sample, SeriesData, SeriesKey, StoreConfig,
};

use error::SqlContext;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Page size of a newly created database file.
const PAGE_SIZE: i64 = 16_384;

/// An open store. One writer per file; readers may open the same file.
pub struct Store {
    conn: Connection,
    config: StoreConfig,
    path: PathBuf,
    /// Series ids already known to be in the `series` table.
    series_ids: HashMap<SeriesKey, i64>,
}

/// Whether the file system holding `path` (or its directory) is read-only:
/// mounted so, or refusing to open the existing file for writing with
/// EROFS (an ext4 that hit an error under `errors=remount-ro` may still
/// show as mounted read-write).
fn read_only_fs(path: &Path) -> bool {
    let refused = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .err()
        .and_then(|e| e.raw_os_error())
        == Some(libc::EROFS);
    refused || read_only_mount(path)
}

/// Whether the mount holding `path`'s directory is flagged read-only.
fn read_only_mount(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statvfs(c.as_ptr(), &mut st) == 0 && st.f_flag & libc::ST_RDONLY != 0 }
}

/// Switches the connection to WAL and returns the journal mode now in
/// force. Changing the mode needs the exclusive lock, and SQLite answers
/// "database is locked" at once, without the busy handler, when another
/// connection holding a read lock wants the same upgrade (its deadlock
/// rule): connections opening one new file together meet that. The switch
/// is retried for up to the busy timeout.
fn set_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// How long a connection waits for another one's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating if needed) the store at `path`, migrating an older
    /// schema forward; a newer schema is [`StoreError::NewerSchema`].
    pub fn open(path: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        let open_err = |source| {
            if read_only_fs(path) {
                StoreError::ReadOnly {
                    path: PathBuf::from(path),
                }
            } else {
                StoreError::Open {
                    path: PathBuf::from(path),
                    source,
                }
            }
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        // SQLite falls back to a read-only connection when the file cannot
        // be opened for writing; every write would then fail with a vaguer
        // "readonly database".
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) && read_only_fs(path) {
            return Err(StoreError::ReadOnly {
                path: PathBuf::from(path),
            });
        }
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // 16 KiB pages for a new file (no effect on an existing one, whose
        // page size stays): measured with time-clustered samples, 1,000-sample
        // batches wrote faster and 2-day raw reads of one series ran about
        // twice as fast as with 4 KiB pages (BENCHMARKS-store2.md).
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(open_err)?;
        let mode = set_wal(&conn).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal {
                path: PathBuf::from(path),
                mode,
            });
        }
        let sync = match config.durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(open_err)?;
        // 64 MiB page cache: raw reads and rollups of recent data come from
        // memory, and a batch's pages of the newest time bucket stay cached.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(open_err)?;
        schema::migrate(&mut conn, path)?;
        Ok(Store {
            conn,
            config,
            path: PathBuf::from(path),
            series_ids: HashMap::new(),
        })
    }

    /// Opens the file again on a fresh connection (after the disk was full
    /// or the file system read-only, a connection may stay broken).
    pub fn reopen(&mut self) -> Result<(), StoreError> {
        *self = Store::open(&self.path.clone(), self.config.clone())?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The result of `PRAGMA integrity_check` ("ok" when sound).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .sql("integrity check")
    }

    /// The schema version stored in the file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::stored_version(&self.conn)
    }
}
