//! Gaps between a site poller and the central, like its events
//! ([`super::site_events`]): at the site, the gaps table read in id order
//! after a cursor moved only once the central's stream acknowledged what
//! it covers; at the central, a site's gaps written with the newest site
//! gap id taken, in one transaction, so a batch delivered twice is written
//! once. A gap of one series keeps its series; a site's store-wide gap
//! (its poller restarted, lost commits, dropped samples) holds for that
//! site's devices only: one row per device, its reason naming the site.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::types::{GapRecord, SeriesKey};
use crate::types::UnixMillis;
use rusqlite::params;

/// The `store_meta` key of the newest gap id the central acknowledged.
const CURSOR_KEY: &str = "site_gaps_acked";

/// One stored gap with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedGap {
    pub id: i64,
    pub gap: GapRecord,
}

/// The central's `store_meta` key of the newest gap id taken from `sender`.
fn taken_key(sender: &str) -> String {
    format!("site_gaps_taken:{sender}")
}

impl Store {
    /// The newest gap id the central acknowledged (0: none yet).
    pub fn site_gaps_cursor(&self) -> Result<i64, StoreError> {
        Ok(super::meta::get(&self.conn, CURSOR_KEY)?.unwrap_or(0))
    }

    /// Records that the central acknowledged every gap up to `id`.
    pub fn set_site_gaps_cursor(&mut self, id: i64) -> Result<(), StoreError> {
        super::meta::put(&self.conn, CURSOR_KEY, id)
    }

    /// Gaps (of a series, or store-wide) with an id above `after`, oldest first, at most `limit`; when `after` is above
    /// every id (the table pruned empty and numbered anew), from the first.
    pub fn gaps_after(&self, after: i64, limit: usize) -> Result<Vec<NumberedGap>, StoreError> {
        let newest: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM gaps", [], |r| r.get(0))
            .sql("read the newest gap id")?;
        let after = if newest.is_some_and(|n| n < after) {
            0
        } else {
            after
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT g.id, s.device, s.subject, s.metric, g.from_ms, g.to_ms, g.reason
                 FROM gaps g LEFT JOIN series s ON s.id = g.series_id
                 WHERE g.id > ?1 AND g.device IS NULL ORDER BY g.id LIMIT ?2",
            )
            .sql("prepare gaps after")?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                let device: Option<String> = r.get(1)?;
                let series = match device {
                    Some(device) => Some(SeriesKey {
                        device,
                        subject: r.get(2)?,
                        metric: r.get(3)?,
                    }),
                    None => None,
                };
                Ok(NumberedGap {
                    id: r.get(0)?,
                    gap: GapRecord {
                        series,
                        from: UnixMillis(r.get(4)?),
                        to: UnixMillis(r.get(5)?),
                        reason: r.get(6)?,
                    },
                })
            })
            .sql("read gaps after")?;
        rows.collect::<Result<_, _>>().sql("read gaps after")
    }

    /// Central: writes the gaps of `sender` (a site, or one member of its
    /// poller group) of site `site` whose ids are above the newest taken
    /// from it before, and records the newest; one transaction. A
    /// store-wide gap becomes one row per device of `devices` (the site's),
    /// its reason `site <site>: <reason>`. Returns the rows written.
    pub fn insert_site_gaps(
        &mut self,
        sender: &str,
        site: &str,
        gaps: &[NumberedGap],
        devices: &[String],
    ) -> Result<usize, StoreError> {
        let key = taken_key(sender);
        let taken = super::meta::get(&self.conn, &key)?.unwrap_or(0);
        let Some(newest) = gaps.iter().map(|g| g.id).max().filter(|n| *n > taken) else {
            return Ok(0);
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin site gaps")?;
        let mut written = 0;
        for g in gaps.iter().filter(|g| g.id > taken) {
            let gap = &g.gap;
            match &gap.series {
                Some(series) => {
                    let id = super::write::series_id_in(&tx, series)?;
                    tx.execute(
                        "INSERT INTO gaps (series_id, from_ms, to_ms, reason) VALUES (?1, ?2, ?3, ?4)",
                        params![id, gap.from.0, gap.to.0, gap.reason],
                    )
                    .sql("insert a site gap")?;
                    written += 1;
                }
                None => {
                    let reason = format!("site {site}: {}", gap.reason);
                    for device in devices {
                        tx.execute(
                            "INSERT INTO gaps (device, from_ms, to_ms, reason) VALUES (?1, ?2, ?3, ?4)",
                            params![device, gap.from.0, gap.to.0, reason],
                        )
                        .sql("insert a site's device gap")?;
                        written += 1;
                    }
                }
            }
        }
        super::meta::put(&tx, &key, newest)?;
        tx.commit().sql("commit site gaps")?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, Sample, StoreConfig};

    fn key(device: &str) -> SeriesKey {
        SeriesKey::interface(device, "eth0", "in_bps")
    }

    #[test]
    fn a_sites_gaps_travel_once_and_a_store_wide_one_holds_for_its_devices_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut site = Store::open(&dir.path().join("s.db"), StoreConfig::default()).unwrap();
        let gap = |series: Option<SeriesKey>, from: i64, reason: &str| GapRecord {
            series,
            from: UnixMillis(from),
            to: UnixMillis(from + 5_000),
            reason: reason.into(),
        };
        site.write_batch(&Batch {
            samples: vec![],
            gaps: vec![
                gap(Some(key("r1")), 10_000, "counter reset"),
                gap(None, 20_000, "restart"),
            ],
        })
        .unwrap();
        assert_eq!(site.site_gaps_cursor().unwrap(), 0);
        let all = site.gaps_after(0, 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].gap.series, Some(key("r1")));
        assert_eq!(all[1].gap.series, None);
        site.set_site_gaps_cursor(all[0].id).unwrap();
        let cursor = site.site_gaps_cursor().unwrap();
        assert_eq!(site.gaps_after(cursor, 10).unwrap(), all[1..]);

        let mut central = Store::open(&dir.path().join("c.db"), StoreConfig::default()).unwrap();
        // The central's own device, and the site's two.
        central
            .write_batch(&Batch {
                samples: ["hq1", "r1", "r2"]
                    .iter()
                    .map(|d| Sample {
                        key: key(d),
                        at: UnixMillis(1_000),
                        value: 1.0,
                    })
                    .collect(),
                gaps: vec![],
            })
            .unwrap();
        let devices = vec!["r1".to_string(), "r2".to_string()];
        assert_eq!(
            central
                .insert_site_gaps("east", "east", &all, &devices)
                .unwrap(),
            3
        );
        assert_eq!(
            central
                .insert_site_gaps("east", "east", &all, &devices)
                .unwrap(),
            0,
            "a batch delivered twice is written once"
        );
        let reasons = |d: &str| -> Vec<String> {
            central
                .series(&key(d), UnixMillis(0), UnixMillis(100_000))
                .unwrap()
                .gaps
                .into_iter()
                .map(|g| g.reason)
                .collect()
        };
        assert_eq!(reasons("r1"), ["counter reset", "site east: restart"]);
        assert_eq!(reasons("r2"), ["site east: restart"]);
        assert!(
            reasons("hq1").is_empty(),
            "the central's own device has no site gap"
        );
    }
}
