//! The listings reports need besides series reads: which devices have ICMP
//! rounds, which interfaces have traffic series, and the names and aliases
//! the inventory holds for them. Read-only; the series themselves are read
//! with [`Store::series_at`].
use super::Store;
use super::error::{SqlContext, StoreError};
use rusqlite::params;

/// An interface as the inventory last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub device: String,
    pub name: String,
    pub alias: Option<String>,
    pub speed_bps: Option<u64>,
}

impl Store {
    /// Device ids of every series with subject `""` and metric `metric`
    /// (probe series, e.g. `loss_pct`), in order.
    pub fn probe_devices(&self, metric: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT device FROM series WHERE subject = '' AND metric = ?1 ORDER BY device")
            .sql("prepare probe device list")?;
        let rows = stmt
            .query_map(params![metric], |r| r.get(0))
            .sql("list probe devices")?;
        rows.collect::<Result<_, _>>().sql("list probe devices")
    }

    /// (device, subject) of every non-probe series with one of `metrics`,
    /// each pair once, in order.
    pub fn subjects_with(&self, metrics: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT DISTINCT device, subject FROM series
                 WHERE subject <> '' AND metric = ?1 ORDER BY device, subject",
            )
            .sql("prepare subject list")?;
        let mut out: Vec<(String, String)> = Vec::new();
        for metric in metrics {
            let rows = stmt
                .query_map(params![metric], |r| Ok((r.get(0)?, r.get(1)?)))
                .sql("list subjects")?;
            for row in rows {
                out.push(row.sql("list subjects")?);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// (device id, sysName) of every device in the inventory.
    pub fn device_names(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, sys_name FROM devices ORDER BY id")
            .sql("prepare device names")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .sql("list device names")?;
        rows.collect::<Result<_, _>>().sql("list device names")
    }

    /// Every interface of the inventory with its alias and speed.
    pub fn interface_infos(&self) -> Result<Vec<InterfaceInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT device_id, name, alias, speed_bps FROM interfaces
                 ORDER BY device_id, if_index",
            )
            .sql("prepare interface infos")?;
        let rows = stmt
            .query_map([], |r| {
                let speed: Option<i64> = r.get(3)?;
                Ok(InterfaceInfo {
                    device: r.get(0)?,
                    name: r.get(1)?,
                    alias: r.get(2)?,
                    speed_bps: speed.and_then(|s| u64::try_from(s).ok()),
                })
            })
            .sql("list interface infos")?;
        rows.collect::<Result<_, _>>().sql("list interface infos")
    }
}
