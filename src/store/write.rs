//! Writing samples and gaps: one transaction per batch, series ids cached,
//! and the restart gap from the last stored sample to a restart.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::schema::raw_bucket;
use super::types::{Batch, GapRecord, SeriesKey};
use crate::types::UnixMillis;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::HashMap;

const LAST_SAMPLE_KEY: &str = "last_sample_ms";
/// The reason stored for the gap [`Store::mark_restart`] records.
pub const RESTART_REASON: &str = "restart";

impl Store {
    /// Writes a batch in one transaction: all of it is stored or none.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if let Some(bad) = batch.samples.iter().find(|s| !s.value.is_finite()) {
            return Err(StoreError::NotFinite {
                device: bad.key.device.clone(),
                subject: bad.key.subject.clone(),
                metric: bad.key.metric.clone(),
                at_ms: bad.at,
            });
        }
        // IMMEDIATE: the batch reads (series ids) before it writes, and a
        // deferred transaction whose snapshot another connection (the trap
        // or syslog writer) committed past fails at once with "database is
        // locked" instead of waiting out the busy timeout.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql("begin batch")?;
        // Ids of series created in this transaction join the cache only
        // after COMMIT, so a failed batch leaves no stale ids behind.
        let mut created = HashMap::new();
        let mut rows = Vec::with_capacity(batch.samples.len());
        for sample in &batch.samples {
            let id = series_id(&tx, &self.series_ids, &mut created, &sample.key)?;
            rows.push((raw_bucket(sample.at.0), id, sample.at.0, sample.value));
        }
        // In key order each leaf page is visited once; the sort is stable, so
        // of two samples with the same series and time the later one wins.
        rows.sort_by_key(|&(bucket, id, t, _)| (bucket, id, t));
        let last = rows.iter().map(|r| r.2).max();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO samples (bucket, series_id, t_ms, value)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .sql("prepare sample insert")?;
            for row in &rows {
                insert
                    .execute(params![row.0, row.1, row.2, row.3])
                    .sql("insert sample")?;
            }
        }
        if self.config.site_journal {
            super::site_journal::append(&tx, &rows)?;
        }
        for gap in &batch.gaps {
            let id = match &gap.series {
                Some(key) => Some(series_id(&tx, &self.series_ids, &mut created, key)?),
                None => None,
            };
            insert_gap(&tx, id, gap)?;
        }
        if let Some(last) = last {
            tx.execute(
                "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                params![LAST_SAMPLE_KEY, last],
            )
            .sql("update last sample time")?;
        }
        tx.commit().sql("commit batch")?;
        self.series_ids.extend(created);
        Ok(())
    }

    /// The time of the newest sample ever written, if any.
    pub fn last_sample_time(&self) -> Result<Option<UnixMillis>, StoreError> {
        let ms: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = ?1",
                [LAST_SAMPLE_KEY],
                |r| r.get(0),
            )
            .optional()
            .sql("read last sample time")?;
        Ok(ms.map(UnixMillis))
    }

    /// Records that the monitor (re)started at `now`: a store-wide gap from
    /// the last stored sample to `now`, returned; `None` when there is no
    /// earlier sample or it is not older than `now`.
    pub fn mark_restart(&mut self, now: UnixMillis) -> Result<Option<GapRecord>, StoreError> {
        let Some(last) = self.last_sample_time()? else {
            return Ok(None);
        };
        if last >= now {
            return Ok(None);
        }
        let gap = GapRecord {
            series: None,
            from: last,
            to: now,
            reason: RESTART_REASON.to_string(),
        };
        self.write_batch(&Batch {
            samples: vec![],
            gaps: vec![gap.clone()],
        })?;
        Ok(Some(gap))
    }
}

fn insert_gap(tx: &Transaction, series_id: Option<i64>, gap: &GapRecord) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO gaps (series_id, from_ms, to_ms, reason) VALUES (?1, ?2, ?3, ?4)",
    )
    .sql("prepare gap insert")?
    .execute(params![series_id, gap.from.0, gap.to.0, gap.reason])
    .sql("insert gap")?;
    Ok(())
}

/// The id of `key`, creating the series row when it is new.
fn series_id(
    tx: &Transaction,
    known: &HashMap<SeriesKey, i64>,
    created: &mut HashMap<SeriesKey, i64>,
    key: &SeriesKey,
) -> Result<i64, StoreError> {
    if let Some(id) = known.get(key).or_else(|| created.get(key)) {
        return Ok(*id);
    }
    let id = match find_series(tx, key)? {
        Some(id) => id,
        None => {
            tx.prepare_cached("INSERT INTO series (device, subject, metric) VALUES (?1, ?2, ?3)")
                .sql("prepare series insert")?
                .execute(params![key.device, key.subject, key.metric])
                .sql("insert series")?;
            tx.last_insert_rowid()
        }
    };
    created.insert(key.clone(), id);
    Ok(id)
}

/// The id of `key` within `tx`, creating the series row when it is new
/// (no cache: for the few rows a site's gaps need).
pub(super) fn series_id_in(tx: &Transaction, key: &SeriesKey) -> Result<i64, StoreError> {
    series_id(tx, &HashMap::new(), &mut HashMap::new(), key)
}

/// The id of an existing series.
pub(super) fn find_series(
    conn: &rusqlite::Connection,
    key: &SeriesKey,
) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM series WHERE device = ?1 AND subject = ?2 AND metric = ?3")
        .sql("prepare series lookup")?
        .query_row(params![key.device, key.subject, key.metric], |r| r.get(0))
        .optional()
        .sql("look up series")
}
