//! `store_meta`: small named integers (cursors, marks, the newest sample's
//! time), read and written on any connection or transaction.
use super::error::{SqlContext, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// The value under `key`, if any.
pub(super) fn get(conn: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
    conn.query_row("SELECT value FROM store_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
    .sql("read store_meta")
}

/// Sets `key` to `value`.
pub(super) fn put(conn: &Connection, key: &str, value: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .sql("write store_meta")?;
    Ok(())
}
