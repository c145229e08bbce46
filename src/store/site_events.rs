//! Events between a site poller and the central. At the site: the events
//! table read in id order after a cursor, and the cursor itself
//! (`store_meta`), advanced only once the central's stream acknowledged
//! what it covers. Events are the site's own rows (its retention applies),
//! so nothing but the cursor is kept for them. Ids only grow while the
//! table holds any row; a cursor above the newest id (the table emptied by
//! retention and numbered anew) starts again from the beginning. At the
//! central: a site's events written with, in the same transaction, the
//! newest site event id taken, so a batch delivered twice is written once.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::events::{COLUMNS, EventRow, from_row};
use rusqlite::params;

/// The `store_meta` key of the newest event id the central acknowledged.
const CURSOR_KEY: &str = "site_events_acked";

impl Store {
    /// The newest event id the central acknowledged (0: none yet).
    pub fn site_events_cursor(&self) -> Result<i64, StoreError> {
        Ok(super::meta::get(&self.conn, CURSOR_KEY)?.unwrap_or(0))
    }

    /// Records that the central acknowledged every event up to `id`.
    pub fn set_site_events_cursor(&mut self, id: i64) -> Result<(), StoreError> {
        super::meta::put(&self.conn, CURSOR_KEY, id)
    }

    /// Events with an id above `after`, oldest first, at most `limit`; when
    /// `after` is above every stored id, from the first.
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<EventRow>, StoreError> {
        let newest: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM events", [], |r| r.get(0))
            .sql("read the newest event id")?;
        let after = if newest.is_some_and(|n| n < after) {
            0
        } else {
            after
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .sql("prepare events after")?;
        let rows = stmt
            .query_map(params![after, limit as i64], from_row)
            .sql("read events after")?;
        rows.collect::<Result<_, _>>().sql("read events after")
    }
}

/// The central's `store_meta` key of the newest event id taken from
/// `sender` (a site, or a site's poller group member `<site>.<poller>`).
fn taken_key(sender: &str) -> String {
    format!("site_events_taken:{sender}")
}

impl Store {
    /// Central: writes the events of `sender` (a site, or one member of a
    /// site's poller group: each numbers its own) whose ids (`id`) are
    /// above the newest taken from it before, and records the newest; one
    /// transaction. Returns how many were written.
    pub fn insert_site_events(
        &mut self,
        sender: &str,
        events: &[EventRow],
    ) -> Result<usize, StoreError> {
        let key = taken_key(sender);
        let taken = super::meta::get(&self.conn, &key)?.unwrap_or(0);
        let new: Vec<EventRow> = events
            .iter()
            .filter(|e| e.id > taken)
            .map(|e| EventRow { id: 0, ..e.clone() })
            .collect();
        let Some(newest) = events.iter().map(|e| e.id).max().filter(|n| *n > taken) else {
            return Ok(0);
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin site events")?;
        super::events::insert_rows(&tx, &new)?;
        super::meta::put(&tx, &key, newest)?;
        tx.commit().sql("commit site events")?;
        Ok(new.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use crate::types::UnixMillis;

    fn ev(at: i64, name: &str) -> EventRow {
        EventRow::observed(UnixMillis(at), "r1", "nocmap", "path", name, vec![])
    }

    #[test]
    fn events_come_after_the_cursor_in_id_order_and_the_cursor_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path, StoreConfig::default()).unwrap();
        assert_eq!(s.site_events_cursor().unwrap(), 0);
        assert!(s.events_after(0, 10).unwrap().is_empty());
        s.insert_events(&[ev(3_000, "a"), ev(1_000, "b"), ev(2_000, "c")])
            .unwrap();
        let all = s.events_after(0, 10).unwrap();
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"], "id order, not time order");
        let first_two = s.events_after(0, 2).unwrap();
        s.set_site_events_cursor(first_two[1].id).unwrap();
        drop(s);
        let s = Store::open(&path, StoreConfig::default()).unwrap();
        let cursor = s.site_events_cursor().unwrap();
        let rest = s.events_after(cursor, 10).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].name, "c");
        // A cursor past every id (the table numbered anew): from the start.
        assert_eq!(s.events_after(cursor + 100, 10).unwrap().len(), 3);
    }

    #[test]
    fn the_central_writes_a_sites_batch_once_even_when_delivered_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Store::open(&dir.path().join("c.db"), StoreConfig::default()).unwrap();
        let batch: Vec<EventRow> = (1..=3)
            .map(|i| EventRow {
                id: i,
                ..ev(i * 1_000, &format!("e{i}"))
            })
            .collect();
        assert_eq!(c.insert_site_events("east", &batch).unwrap(), 3);
        assert_eq!(c.insert_site_events("east", &batch).unwrap(), 0, "again");
        // Another site's ids are its own.
        assert_eq!(c.insert_site_events("west", &batch[..1]).unwrap(), 1);
        // A poller group's member numbers its own: the same ids from
        // another member are new.
        assert_eq!(c.insert_site_events("east.p2", &batch).unwrap(), 3);
        let more = vec![
            batch[2].clone(),
            EventRow {
                id: 4,
                ..ev(4_000, "e4")
            },
        ];
        assert_eq!(c.insert_site_events("east", &more).unwrap(), 1);
        let stored = c.events(None, UnixMillis(0), 100).unwrap();
        assert_eq!(stored.len(), 8);
        let mut names: Vec<&str> = stored.iter().map(|e| e.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["e1", "e1", "e1", "e2", "e2", "e3", "e3", "e4"]);
    }
}
