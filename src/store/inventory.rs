//! Devices and interfaces from the topology model, and topology snapshots
//! (the whole model as JSON with the time it was taken).
use super::Store;
use super::error::{SqlContext, StoreError};
use crate::topology::Topology;
use crate::types::IfIndex;
use crate::types::UnixMillis;
use rusqlite::{OptionalExtension, params};

impl Store {
    /// Upserts the inventory of `topology` and stores it as a snapshot, in
    /// one transaction.
    pub fn save_topology(
        &mut self,
        taken: UnixMillis,
        topology: &Topology,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(topology)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin topology save")?;
        {
            let mut device = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO devices (id, sys_name, mgmt_addr, vendor, managed, seen_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .sql("prepare device upsert")?;
            let mut interface = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO interfaces
                     (device_id, if_index, name, descr, alias, speed_bps, mac, seen_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .sql("prepare interface upsert")?;
            for d in &topology.devices {
                device
                    .execute(params![
                        d.id.0,
                        d.sys_name,
                        d.mgmt_addr.map(|a| a.to_string()),
                        d.vendor,
                        d.managed,
                        taken.0
                    ])
                    .sql("upsert device")?;
                for i in &d.interfaces {
                    interface
                        .execute(params![
                            d.id.0,
                            i.if_index.0,
                            i.name,
                            i.descr,
                            i.alias,
                            i.speed_bps.map(|s| s.min(i64::MAX as u64) as i64),
                            i.mac,
                            taken.0
                        ])
                        .sql("upsert interface")?;
                }
            }
        }
        tx.execute(
            "INSERT INTO topology_snapshots (taken_ms, json) VALUES (?1, ?2)",
            params![taken.0, json],
        )
        .sql("insert topology snapshot")?;
        tx.commit().sql("commit topology save")
    }

    /// The newest topology snapshot.
    pub fn latest_topology(&self) -> Result<Option<(UnixMillis, Topology)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT taken_ms, json FROM topology_snapshots ORDER BY taken_ms DESC, id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .sql("read latest topology snapshot")?;
        match row {
            Some((taken, json)) => Ok(Some((UnixMillis(taken), serde_json::from_str(&json)?))),
            None => Ok(None),
        }
    }

    /// (device id, if_index, ifName) of every stored interface, in order.
    pub fn interfaces(&self) -> Result<Vec<(String, IfIndex, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT device_id, if_index, name FROM interfaces ORDER BY device_id, if_index",
            )
            .sql("prepare interface list")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, IfIndex(r.get(1)?), r.get(2)?)))
            .sql("list interfaces")?;
        rows.collect::<Result<_, _>>().sql("list interfaces")
    }
}
