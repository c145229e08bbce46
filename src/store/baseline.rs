//! The map's baseline: a topology snapshot the user saved (web view, admin
//! token), which "what changed" compares the current topology with. Kept in
//! `topology_snapshots` like any other, its row id in `store_meta` under
//! [`BASELINE_KEY`]; pruning keeps that row whatever its age.
use super::Store;
use super::error::{SqlContext, StoreError};
use crate::topology::Topology;
use crate::types::UnixMillis;
use rusqlite::{OptionalExtension, params};

/// The `store_meta` key holding the baseline snapshot's row id.
pub(super) const BASELINE_KEY: &str = "map_baseline_snapshot";

impl Store {
    /// Stores `topology` as the baseline taken at `taken`, replacing (and
    /// deleting) the previous one, in one transaction.
    pub fn save_baseline(
        &mut self,
        taken: UnixMillis,
        topology: &Topology,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(topology)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin baseline save")?;
        tx.execute(
            "DELETE FROM topology_snapshots WHERE id = (SELECT value FROM store_meta WHERE key = ?1)",
            [BASELINE_KEY],
        )
        .sql("delete old baseline")?;
        tx.execute(
            "INSERT INTO topology_snapshots (taken_ms, json) VALUES (?1, ?2)",
            params![taken.0, json],
        )
        .sql("insert baseline snapshot")?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![BASELINE_KEY, id],
        )
        .sql("record baseline")?;
        tx.commit().sql("commit baseline save")
    }

    /// The saved baseline and when it was taken, if any.
    pub fn baseline(&self) -> Result<Option<(UnixMillis, Topology)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT s.taken_ms, s.json FROM topology_snapshots s
                 JOIN store_meta m ON m.key = ?1 AND m.value = s.id",
                [BASELINE_KEY],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .sql("read baseline")?;
        match row {
            Some((taken, json)) => Ok(Some((UnixMillis(taken), serde_json::from_str(&json)?))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use crate::topology::Device;

    fn topo(ids: &[&str]) -> Topology {
        let mut t = Topology::default();
        t.devices = ids.iter().map(|i| Device::for_test(i, false)).collect();
        t
    }

    #[test]
    fn the_baseline_is_replaced_survives_reopening_and_pruning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let mut s = Store::open(&path, StoreConfig::default()).unwrap();
        assert!(s.baseline().unwrap().is_none());
        s.save_baseline(UnixMillis(1_000), &topo(&["a"])).unwrap();
        s.save_baseline(UnixMillis(2_000), &topo(&["a", "<b>"]))
            .unwrap();
        s.save_topology(UnixMillis(3_000), &topo(&["c"])).unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM topology_snapshots", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "the old baseline is deleted");
        // The latest snapshot is still the discovered one.
        assert_eq!(s.latest_topology().unwrap().unwrap().0, UnixMillis(3_000));
        // Pruning far in the future keeps the baseline.
        s.prune(UnixMillis(10_000_000_000_000)).unwrap();
        drop(s);
        let s = Store::open(&path, StoreConfig::default()).unwrap();
        let (at, t) = s.baseline().unwrap().unwrap();
        assert_eq!(at, UnixMillis(2_000));
        assert_eq!(t.devices.len(), 2);
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM topology_snapshots", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the other snapshot pruned");
    }
}
