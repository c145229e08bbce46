//! The schema and its forward migrations. `schema_version` holds one row;
//! migration N takes a database at version N to N + 1 inside one
//! transaction, so a crash mid-migration leaves the old version intact; the
//! transaction takes the write lock before it reads the version, so
//! connections opening a new file at once migrate it once.
//!
//! Raw samples (version 3) are clustered by time, not by series: the key is
//! (bucket, series_id, t_ms) with [`RAW_BUCKET_MS`]-wide buckets. A batch of
//! one poll round then lands on the few pages of the newest bucket instead
//! of on one page per series; a read of one series seeks once per bucket.
use super::error::{SqlContext, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction};
use std::path::{Path, PathBuf};

type Migration = fn(&Transaction) -> rusqlite::Result<()>;

/// Migrations in order: `MIGRATIONS[n]` goes from version n to n + 1.
const MIGRATIONS: [Migration; 10] = [
    v0_to_v1, v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7, v7_to_v8, v8_to_v9,
    v9_to_v10,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: inventory, topology snapshots, series and raw samples.
fn v0_to_v1(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE schema_version (version INTEGER NOT NULL);
         INSERT INTO schema_version (version) VALUES (0);
         CREATE TABLE devices (
             id TEXT PRIMARY KEY, sys_name TEXT, mgmt_addr TEXT, vendor TEXT,
             managed INTEGER NOT NULL, seen_ms INTEGER NOT NULL);
         CREATE TABLE interfaces (
             device_id TEXT NOT NULL, if_index INTEGER NOT NULL, name TEXT NOT NULL,
             descr TEXT, alias TEXT, speed_bps INTEGER, mac TEXT, seen_ms INTEGER NOT NULL,
             PRIMARY KEY (device_id, if_index)) WITHOUT ROWID;
         CREATE TABLE topology_snapshots (
             id INTEGER PRIMARY KEY, taken_ms INTEGER NOT NULL, json TEXT NOT NULL);
         CREATE INDEX topology_snapshots_taken ON topology_snapshots (taken_ms);
         CREATE TABLE series (
             id INTEGER PRIMARY KEY, device TEXT NOT NULL, subject TEXT NOT NULL,
             metric TEXT NOT NULL, UNIQUE (device, subject, metric));
         CREATE TABLE samples (
             series_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, value REAL NOT NULL,
             PRIMARY KEY (series_id, t_ms)) WITHOUT ROWID;
         CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )
}

/// Version 2: rollups with their progress marks, and explicit gaps.
fn v1_to_v2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE rollups (
             series_id INTEGER NOT NULL, resolution_ms INTEGER NOT NULL,
             bucket_ms INTEGER NOT NULL, count INTEGER NOT NULL,
             avg REAL NOT NULL, max REAL NOT NULL, p95 REAL NOT NULL,
             PRIMARY KEY (series_id, resolution_ms, bucket_ms)) WITHOUT ROWID;
         CREATE TABLE rollup_progress (
             resolution_ms INTEGER PRIMARY KEY, done_until_ms INTEGER NOT NULL);
         CREATE TABLE gaps (
             id INTEGER PRIMARY KEY, series_id INTEGER, from_ms INTEGER NOT NULL,
             to_ms INTEGER NOT NULL, reason TEXT NOT NULL);
         CREATE INDEX gaps_by_series ON gaps (series_id, to_ms);",
    )
}

/// Width of the time buckets raw samples are clustered by. Both rollup
/// widths are multiples of it.
pub(super) const RAW_BUCKET_MS: i64 = 300_000;

/// The raw-sample bucket of a time (floor division, also before 1970).
pub(super) fn raw_bucket(t_ms: i64) -> i64 {
    t_ms.div_euclid(RAW_BUCKET_MS)
}

/// Version 3: raw samples keyed by (time bucket, series, time) instead of
/// (series, time); existing samples are copied over.
fn v2_to_v3(tx: &Transaction) -> rusqlite::Result<()> {
    let w = RAW_BUCKET_MS;
    tx.execute_batch(&format!(
        "CREATE TABLE samples_v3 (
             bucket INTEGER NOT NULL, series_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,
             value REAL NOT NULL, PRIMARY KEY (bucket, series_id, t_ms)) WITHOUT ROWID;
         INSERT INTO samples_v3 (bucket, series_id, t_ms, value)
             SELECT (t_ms - ((t_ms % {w}) + {w}) % {w}) / {w}, series_id, t_ms, value
             FROM samples ORDER BY 1, 2, 3;
         DROP TABLE samples;
         ALTER TABLE samples_v3 RENAME TO samples;"
    ))
}

/// Version 4: where users placed devices on the map (kept across restarts).
fn v3_to_v4(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE map_positions (
             device_id TEXT PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL,
             updated_ms INTEGER NOT NULL) WITHOUT ROWID;",
    )
}

/// Version 5: alert history, the firing alerts, and the notification
/// outbox (one row per event and receiver, delivered in id order).
fn v4_to_v5(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE alert_history (
             id INTEGER PRIMARY KEY, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
             rule TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
             event TEXT NOT NULL, device TEXT NOT NULL, device_name TEXT NOT NULL,
             interface TEXT, value REAL, threshold REAL, at_ms INTEGER NOT NULL,
             started_ms INTEGER NOT NULL, notified INTEGER NOT NULL,
             catch_up INTEGER NOT NULL, held TEXT, caused_by TEXT NOT NULL,
             maintenance TEXT, flapping INTEGER NOT NULL, summary TEXT NOT NULL);
         CREATE INDEX alert_history_at ON alert_history (at_ms);
         CREATE TABLE alert_active (
             key TEXT PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL,
             device TEXT NOT NULL, device_name TEXT NOT NULL, interface TEXT,
             status TEXT NOT NULL, since_ms INTEGER NOT NULL, value REAL,
             caused_by TEXT NOT NULL, maintenance TEXT, flapping INTEGER NOT NULL,
             notified INTEGER NOT NULL) WITHOUT ROWID;
         CREATE TABLE alert_outbox (
             id INTEGER PRIMARY KEY, receiver TEXT NOT NULL,
             history_id INTEGER NOT NULL REFERENCES alert_history (id),
             created_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,
             last_error TEXT, done_ms INTEGER, outcome TEXT);
         CREATE INDEX alert_outbox_pending ON alert_outbox (receiver, done_ms, id);",
    )
}

/// Version 6: flapping notices. Every history row says the alert's state
/// it records or tells (`firing` or `resolved`: a notice is neither fired
/// nor resolved but carries one); a saved alert says whether receivers
/// were told it flaps (its stop notice is owed across a restart).
fn v5_to_v6(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE alert_history ADD COLUMN state TEXT NOT NULL DEFAULT 'firing';
         UPDATE alert_history SET state = 'resolved' WHERE event = 'resolved';
         ALTER TABLE alert_active ADD COLUMN flap_told INTEGER NOT NULL DEFAULT 0;",
    )
}

/// Version 7: events on devices (SNMP traps and informs), read newest
/// first by device or by time.
fn v6_to_v7(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE events (
             id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, device TEXT,
             matched_by TEXT, source TEXT NOT NULL, kind TEXT NOT NULL,
             version TEXT NOT NULL, name TEXT NOT NULL, trap_oid TEXT NOT NULL,
             if_index INTEGER, varbinds TEXT NOT NULL);
         CREATE INDEX events_at ON events (at_ms);
         CREATE INDEX events_device_at ON events (device, at_ms);",
    )
}

/// Version 8: a site poller's journal of samples not yet acknowledged by
/// the central (`[nats] role = "poller"`): one row per sample, numbered by
/// a sequence never reused (AUTOINCREMENT), deleted once acknowledged.
fn v7_to_v8(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE site_journal (
             seq INTEGER PRIMARY KEY AUTOINCREMENT, series_id INTEGER NOT NULL,
             t_ms INTEGER NOT NULL, value REAL NOT NULL);",
    )
}

/// Version 9: the events table holds other kinds than traps: a syslog
/// message's severity (0-7) and facility (0-23) as numbers, its host,
/// app, procid, msgid, the sender's timestamp and the message. Trap rows
/// leave them NULL; the kind and the severity have their own index for
/// the API's filters.
fn v8_to_v9(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE events ADD COLUMN severity INTEGER;
         ALTER TABLE events ADD COLUMN facility INTEGER;
         ALTER TABLE events ADD COLUMN host TEXT;
         ALTER TABLE events ADD COLUMN app TEXT;
         ALTER TABLE events ADD COLUMN procid TEXT;
         ALTER TABLE events ADD COLUMN msgid TEXT;
         ALTER TABLE events ADD COLUMN sent_at_ms INTEGER;
         ALTER TABLE events ADD COLUMN message TEXT;
         CREATE INDEX events_kind_at ON events (kind, at_ms);",
    )
}

/// Version 10: a gap of no series may name one device: at a central, a
/// site's store-wide gap (its poller restarted, lost or dropped samples)
/// holds for that site's devices only, one row each.
fn v9_to_v10(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE gaps ADD COLUMN device TEXT;")
}

/// The version stored in the file; 0 for an empty database.
pub(super) fn stored_version(conn: &Connection) -> Result<i64, StoreError> {
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .sql("reading schema version")?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .sql("reading schema version")
}

/// Brings the database to [`SCHEMA_VERSION`].
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    migrate_to(conn, path, SCHEMA_VERSION)
}

fn migrate_to(conn: &mut Connection, path: &Path, target: i64) -> Result<(), StoreError> {
    let newer = |found| StoreError::NewerSchema {
        path: PathBuf::from(path),
        found,
        supported: SCHEMA_VERSION,
    };
    let found = stored_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(newer(found));
    }
    if found >= target {
        return Ok(());
    }
    // Each step holds the write lock from the moment it reads the version
    // (IMMEDIATE): another connection migrating the same file at the same
    // time is waited for (the busy timeout), and its steps are not run
    // again.
    loop {
        let step_err = |to, source| StoreError::Migrate {
            path: PathBuf::from(path),
            to,
            source,
        };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| step_err(found + 1, e))?;
        let version = stored_version(&tx)?;
        if version > SCHEMA_VERSION {
            return Err(newer(version));
        }
        if version >= target {
            return Ok(());
        }
        let migrate_err = |source| step_err(version + 1, source);
        MIGRATIONS[version as usize](&tx).map_err(migrate_err)?;
        tx.execute("UPDATE schema_version SET version = ?1", [version + 1])
            .map_err(migrate_err)?;
        tx.commit().map_err(migrate_err)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreConfig};
    use crate::types::UnixMillis;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_version_1_database_is_migrated_with_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, &path, 1).unwrap();
            assert_eq!(stored_version(&conn).unwrap(), 1);
            assert!(!tables(&conn).contains(&"rollups".to_string()));
            conn.execute_batch(
                "INSERT INTO series (id, device, subject, metric) VALUES (7, 'r1', 'ge-0/0/1', 'in_bps');
                 INSERT INTO samples VALUES (7, 1000, 42.5);",
            )
            .unwrap();
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let names = tables(&store.conn);
        for t in ["rollups", "rollup_progress", "gaps", "samples", "series"] {
            assert!(names.contains(&t.to_string()), "{t} missing in {names:?}");
        }
        let v: f64 = store
            .conn
            .query_row("SELECT value FROM samples WHERE series_id = 7", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(v, 42.5);
    }

    #[test]
    fn a_version_2_database_keeps_its_samples_in_the_time_clustered_layout() {
        use crate::store::{Resolution, SeriesKey};
        use crate::types::UnixMillis;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        // Two series, samples on both sides of bucket edges and before 1970.
        let times: Vec<i64> = vec![-300_001, -300_000, -1, 0, 1, 299_999, 300_000, 3_600_000];
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, &path, 2).unwrap();
            conn.execute_batch(
                "INSERT INTO series (id, device, subject, metric) VALUES
                     (1, 'r1', 'ge-0/0/1', 'in_bps'), (2, 'r1', 'ge-0/0/2', 'in_bps');
                 INSERT INTO rollups VALUES (1, 300000, 0, 2, 1.5, 2.0, 2.0);",
            )
            .unwrap();
            for (i, t) in times.iter().enumerate() {
                conn.execute(
                    "INSERT INTO samples (series_id, t_ms, value) VALUES (1, ?1, ?2), (2, ?1, ?3)",
                    rusqlite::params![t, i as f64, -(i as f64)],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.integrity_check().unwrap(), "ok");
        for (id, sign) in [(1, 1.0), (2, -1.0)] {
            let key = SeriesKey::interface("r1", &format!("ge-0/0/{id}"), "in_bps");
            let all = store
                .series_at(
                    &key,
                    UnixMillis(i64::MIN),
                    UnixMillis(i64::MAX),
                    Resolution::Raw,
                )
                .unwrap();
            let got: Vec<(i64, f64)> = all.points.iter().map(|p| (p.at.0, p.avg)).collect();
            let want: Vec<(i64, f64)> = times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, sign * i as f64))
                .collect();
            assert_eq!(got, want);
            let part = store
                .series_at(
                    &key,
                    UnixMillis(-300_000),
                    UnixMillis(300_000),
                    Resolution::Raw,
                )
                .unwrap();
            assert_eq!(part.points.len(), 5);
        }
        // Every row sits in the bucket of its time.
        let misplaced: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM samples WHERE bucket * ?1 > t_ms OR (bucket + 1) * ?1 <= t_ms",
                [RAW_BUCKET_MS],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(misplaced, 0);
        let five = store
            .series_at(
                &SeriesKey::interface("r1", "ge-0/0/1", "in_bps"),
                UnixMillis(0),
                UnixMillis(300_000),
                Resolution::FiveMinutes,
            )
            .unwrap();
        assert_eq!(five.points.len(), 1);
        assert_eq!(five.points[0].avg, 1.5);
    }

    #[test]
    fn a_version_5_database_keeps_its_alert_history_with_states() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, &path, 5).unwrap();
            for (id, event) in [(1, "fired"), (2, "suppressed"), (3, "resolved")] {
                conn.execute(
                    "INSERT INTO alert_history (id, key, fingerprint, rule, kind, severity, event,
                         device, device_name, at_ms, started_ms, notified, catch_up, caused_by,
                         flapping, summary)
                     VALUES (?1, 'k', 'f', 'r', 'loss', 'info', ?2, 'd', 'd', ?1, 1, 1, 0, '[]',
                         0, 's')",
                    rusqlite::params![id, event],
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO alert_active (key, rule, severity, device, device_name, status,
                     since_ms, caused_by, flapping, notified)
                 VALUES ('k', 'r', 'info', 'd', 'd', 'firing', 1, '[]', 0, 1)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let states: Vec<(&str, &str)> = store
            .alert_history(UnixMillis(0), 10)
            .unwrap()
            .into_iter()
            .map(|e| (e.event.as_str(), e.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("fired", "firing"),
                ("suppressed", "firing"),
                ("resolved", "resolved"),
            ]
        );
        let active = store.active_alerts().unwrap();
        assert_eq!(active.len(), 1);
        assert!(!active[0].flap_told);
    }

    #[test]
    fn a_version_7_database_keeps_its_trap_events_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, &path, 7).unwrap();
            conn.execute(
                "INSERT INTO events (at_ms, device, matched_by, source, kind, version, name,
                     trap_oid, if_index, varbinds)
                 VALUES (5, 'r1', 'source', '127.0.0.1', 'trap', '2c', 'linkDown',
                     '1.3.6.1.6.3.1.1.5.3', 3, '[]')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let rows = store.events(Some("r1"), UnixMillis(0), 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].if_index),
            ("linkDown", Some(3))
        );
        assert_eq!(rows[0].syslog, None);
        // The JSON of a trap row has no syslog field.
        let json = serde_json::to_value(&rows[0]).unwrap();
        assert!(json.get("severity").is_none() && json.get("message").is_none());
    }

    #[test]
    fn a_newer_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(Store::open(&path, StoreConfig::default()).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        let err = Store::open(&path, StoreConfig::default()).err().unwrap();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    found: 99,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("newer than this build supports"));
    }

    #[test]
    fn reopening_a_current_database_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cur.db");
        drop(Store::open(&path, StoreConfig::default()).unwrap());
        let store = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let page_size: i64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, 16_384);
    }
}

#[cfg(test)]
mod race_tests {
    use crate::store::{Store, StoreConfig};

    /// Six connections open one new file at the same moment, ten times
    /// over: each step of the migration is run once, so every open
    /// succeeds (before the step took the write lock first, 50 of these 60
    /// failed with "table schema_version already exists").
    #[test]
    fn connections_opening_a_new_file_at_once_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..10 {
            let path = dir.path().join(format!("race-{round}.db"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path, StoreConfig::default()).map(|_| ())
                    })
                })
                .collect();
            for h in handles {
                let opened = h.join().unwrap();
                assert!(opened.is_ok(), "round {round}: {opened:?}");
            }
            let store = Store::open(&path, StoreConfig::default()).unwrap();
            assert_eq!(
                store.schema_version().unwrap(),
                super::SCHEMA_VERSION,
                "round {round}"
            );
        }
    }
}
