//! Where users placed devices on the map. Saved by the web view (admin
//! token) and read back when the page loads, so a hand-tuned layout
//! survives reloads and restarts. Positions of devices that later vanish
//! are kept: a device that comes back returns to its place.
use super::Store;
use super::error::{SqlContext, StoreError};
use crate::types::UnixMillis;
use rusqlite::params;
use std::collections::BTreeMap;

/// A point in the map's model coordinates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapPosition {
    pub x: f64,
    pub y: f64,
}

impl Store {
    /// Inserts or replaces the given positions in one transaction.
    pub fn save_positions(
        &mut self,
        positions: &BTreeMap<String, MapPosition>,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin positions save")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO map_positions (device_id, x, y, updated_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (device_id) DO UPDATE SET x = ?2, y = ?3, updated_ms = ?4",
                )
                .sql("prepare positions save")?;
            for (id, p) in positions {
                stmt.execute(params![id, p.x, p.y, now.0])
                    .sql("save position")?;
            }
        }
        tx.commit().sql("commit positions save")
    }

    /// Forgets the saved positions (back to the automatic layout).
    pub fn clear_positions(&mut self) -> Result<usize, StoreError> {
        self.conn
            .execute("DELETE FROM map_positions", [])
            .sql("clear positions")
    }

    /// Every saved position by device id.
    pub fn positions(&self) -> Result<BTreeMap<String, MapPosition>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device_id, x, y FROM map_positions")
            .sql("prepare positions read")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    MapPosition {
                        x: r.get(1)?,
                        y: r.get(2)?,
                    },
                ))
            })
            .sql("read positions")?;
        rows.collect::<Result<_, _>>().sql("read position row")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    #[test]
    fn positions_survive_reopening_and_update_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut m = BTreeMap::new();
        m.insert("r1".to_string(), MapPosition { x: 10.5, y: -3.0 });
        m.insert("<script>".to_string(), MapPosition { x: 0.0, y: 1e6 });
        {
            let mut s = Store::open(&path, StoreConfig::default()).unwrap();
            s.save_positions(&m, UnixMillis(1)).unwrap();
            let mut moved = BTreeMap::new();
            moved.insert("r1".to_string(), MapPosition { x: 20.0, y: 30.0 });
            s.save_positions(&moved, UnixMillis(2)).unwrap();
        }
        let s = Store::open(&path, StoreConfig::default()).unwrap();
        let got = s.positions().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["r1"], MapPosition { x: 20.0, y: 30.0 });
        assert_eq!(got["<script>"], MapPosition { x: 0.0, y: 1e6 });
    }
}
