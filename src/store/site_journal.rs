//! A site poller's journal: the samples the central has not acknowledged
//! yet, numbered by a sequence that is never reused. Rows are appended in
//! the same transaction as the samples themselves (`write_batch`, when
//! `StoreConfig::site_journal` is on) and deleted once the central's stream
//! acknowledged them, so the journal is exactly what is still owed and a
//! restart resumes where the acknowledgements stopped. The order of the
//! sequence is the order the writer committed, which per series is time
//! order.
use super::Store;
use super::error::{SqlContext, StoreError};
use super::types::SeriesKey;
use crate::types::UnixMillis;
use rusqlite::{Transaction, params};

/// One journalled sample with its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub seq: u64,
    pub key: SeriesKey,
    pub at: UnixMillis,
    pub value: f64,
}

/// Appends the rows `(bucket, series_id, t_ms, value)` of a batch.
pub(super) fn append(tx: &Transaction, rows: &[(i64, i64, i64, f64)]) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached("INSERT INTO site_journal (series_id, t_ms, value) VALUES (?1, ?2, ?3)")
        .sql("prepare journal insert")?;
    for row in rows {
        insert
            .execute(params![row.1, row.2, row.3])
            .sql("insert journal row")?;
    }
    Ok(())
}

impl Store {
    /// Journalled entries with `after < seq <= upto` (either bound open when
    /// `None`), oldest first, at most `limit`.
    pub fn journal_pending(
        &self,
        after: Option<u64>,
        upto: Option<u64>,
        limit: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let after = after.map_or(-1, |s| s as i64);
        let upto = upto.map_or(i64::MAX, |s| s as i64);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT j.seq, s.device, s.subject, s.metric, j.t_ms, j.value
                 FROM site_journal j JOIN series s ON s.id = j.series_id
                 WHERE j.seq > ?1 AND j.seq <= ?2 ORDER BY j.seq LIMIT ?3",
            )
            .sql("prepare journal read")?;
        let rows = stmt
            .query_map(params![after, upto, limit as i64], |r| {
                Ok(JournalEntry {
                    seq: r.get::<_, i64>(0)? as u64,
                    key: SeriesKey {
                        device: r.get(1)?,
                        subject: r.get(2)?,
                        metric: r.get(3)?,
                    },
                    at: r.get(4)?,
                    value: r.get(5)?,
                })
            })
            .sql("read journal")?;
        rows.collect::<Result<Vec<_>, _>>().sql("read journal row")
    }

    /// The newest journalled sequence still owed, if any.
    pub fn journal_max_seq(&self) -> Result<Option<u64>, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM site_journal", [], |r| r.get(0))
            .sql("read journal max")?;
        Ok(max.map(|m| m as u64))
    }

    /// How many entries are still owed.
    pub fn journal_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM site_journal", [], |r| r.get(0))
            .sql("count journal")?;
        Ok(n as u64)
    }

    /// Forgets acknowledged entries, in one transaction.
    pub fn journal_acked(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .sql("begin journal ack")?;
        {
            let mut del = tx
                .prepare_cached("DELETE FROM site_journal WHERE seq = ?1")
                .sql("prepare journal delete")?;
            for s in seqs {
                del.execute([*s as i64]).sql("delete journal row")?;
            }
        }
        tx.commit().sql("commit journal ack")
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Batch, Sample, SeriesKey, Store, StoreConfig};
    use crate::types::UnixMillis;

    fn batch(metric: &str, times: &[i64]) -> Batch {
        Batch {
            samples: times
                .iter()
                .map(|&t| Sample {
                    key: SeriesKey::interface("d1", "eth0", metric),
                    at: UnixMillis(t),
                    value: t as f64 / 10.0,
                })
                .collect(),
            gaps: vec![],
        }
    }

    #[test]
    fn a_site_store_journals_every_sample_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            site_journal: true,
            ..StoreConfig::default()
        };
        let mut store = Store::open(&dir.path().join("s.db"), config).unwrap();
        store
            .write_batch(&batch("in_bps", &[2_000, 1_000]))
            .unwrap();
        store.write_batch(&batch("out_bps", &[3_000])).unwrap();
        let all = store.journal_pending(None, None, 100).unwrap();
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        // Per series in time order, whatever the batch's order.
        assert_eq!(all[0].at, UnixMillis(1_000));
        assert_eq!(all[2].key.metric, "out_bps");
        assert_eq!(store.journal_max_seq().unwrap(), Some(3));
        assert_eq!(
            store.journal_pending(Some(1), Some(2), 100).unwrap().len(),
            1
        );
        store.journal_acked(&[1, 2, 3]).unwrap();
        assert_eq!(store.journal_len().unwrap(), 0);
        // A sequence is never reused, even after the journal emptied.
        store.write_batch(&batch("in_bps", &[4_000])).unwrap();
        assert_eq!(store.journal_max_seq().unwrap(), Some(4));
    }

    #[test]
    fn a_store_without_the_journal_keeps_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db"), StoreConfig::default()).unwrap();
        store.write_batch(&batch("in_bps", &[1_000])).unwrap();
        assert_eq!(store.journal_len().unwrap(), 0);
    }
}
