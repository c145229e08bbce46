//! What the writer holds while the store cannot take writes (disk full,
//! read-only file system, a broken connection): batches in arrival order
//! up to a sample cap. Past the cap the oldest samples are dropped and the
//! span they covered is remembered, so that once the store is back a
//! store-wide gap says exactly which time was lost. Retries back off
//! exponentially. Pure: the caller passes the times.
use crate::store::{Batch, GapRecord};
use crate::types::UnixMillis;
use std::collections::VecDeque;
use std::time::Duration;

/// Samples held at most (about 150 bytes each in memory).
pub const DEFAULT_CAP: usize = 1_000_000;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// The gap reason recorded for samples dropped while the store was down.
pub const DROPPED_REASON: &str = "store_unavailable";

/// The gap reason recorded when a reopened store lacks samples the writer
/// had committed before a fault.
pub const LOST_REASON: &str = "store_lost";

/// After the store was reopened following a failed write: when the newest
/// sample it holds (`stored_last`) is older than the newest this writer had
/// committed (`written`: first and last time of the samples it committed),
/// the file lost commits — a file system that failed before writing back
/// commits not yet synced (synchronous=NORMAL does not sync each commit).
/// The lost span becomes a store-wide gap, so the hole is explicit.
pub fn lost_commits(
    stored_last: Option<UnixMillis>,
    written: Option<(UnixMillis, UnixMillis)>,
) -> Option<GapRecord> {
    let (first, last) = written?;
    let from = match stored_last {
        Some(s) if s >= last => return None,
        Some(s) => s.max(first.min(last)),
        None => first,
    };
    Some(GapRecord {
        series: None,
        from,
        to: last,
        reason: LOST_REASON.into(),
    })
}

#[derive(Debug)]
pub struct Backlog {
    batches: VecDeque<Batch>,
    samples: usize,
    cap: usize,
    /// Time span of the samples dropped so far (first, last).
    dropped: Option<(UnixMillis, UnixMillis)>,
    pub dropped_samples: u64,
    retry_in: Duration,
    next_try: UnixMillis,
}

impl Backlog {
    pub fn new(cap: usize) -> Backlog {
        Backlog {
            batches: VecDeque::new(),
            samples: 0,
            cap: cap.max(1),
            dropped: None,
            dropped_samples: 0,
            retry_in: FIRST_RETRY,
            next_try: UnixMillis(i64::MIN),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty() && self.dropped.is_none()
    }

    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Whether a write should be tried at `now` (always when empty).
    pub fn due(&self, now: UnixMillis) -> bool {
        self.is_empty() || now >= self.next_try
    }

    /// Adds a batch that could not be written (or arrived while waiting).
    pub fn push(&mut self, batch: Batch) {
        self.samples += batch.samples.len();
        self.batches.push_back(batch);
        while self.samples > self.cap {
            let Some(front) = self.batches.front_mut() else {
                break;
            };
            let over = self.samples - self.cap;
            let n = over.min(front.samples.len());
            for s in front.samples.drain(..n) {
                let t = s.at;
                self.dropped = Some(match self.dropped {
                    None => (t, t),
                    Some((a, b)) => (a.min(t), b.max(t)),
                });
            }
            self.samples -= n;
            self.dropped_samples += n as u64;
            if front.samples.is_empty() {
                // Its gaps are kept: move them to the next batch.
                let gaps = std::mem::take(&mut front.gaps);
                self.batches.pop_front();
                match self.batches.front_mut() {
                    Some(next) => next.gaps.splice(0..0, gaps).for_each(drop),
                    None => self.batches.push_back(Batch {
                        samples: vec![],
                        gaps,
                    }),
                }
            }
        }
    }

    /// Everything held, in order, as one batch to write, with the gap of
    /// the dropped samples. Put it back with [`Backlog::failed`] if the
    /// write fails.
    pub fn take(&mut self) -> Batch {
        let mut out = Batch::default();
        for b in self.batches.drain(..) {
            out.samples.extend(b.samples);
            out.gaps.extend(b.gaps);
        }
        if let Some((from, to)) = self.dropped.take() {
            out.gaps.push(GapRecord {
                series: None,
                from,
                to,
                reason: DROPPED_REASON.into(),
            });
        }
        self.samples = 0;
        out
    }

    /// The write of `batch` (from [`Backlog::take`]) failed at `now`:
    /// hold it again and wait longer before the next try.
    pub fn failed(&mut self, mut batch: Batch, now: UnixMillis) {
        if let Some(pos) = batch
            .gaps
            .iter()
            .position(|g| g.series.is_none() && g.reason == DROPPED_REASON)
        {
            let g = batch.gaps.remove(pos);
            self.dropped = Some(match self.dropped {
                None => (g.from, g.to),
                Some((a, b)) => (a.min(g.from), b.max(g.to)),
            });
        }
        self.batches.push_front(batch);
        self.samples = self.batches.iter().map(|b| b.samples.len()).sum();
        self.push(Batch::default());
        self.next_try = now.plus(self.retry_in);
        self.retry_in = (self.retry_in * 2).min(MAX_RETRY);
    }

    /// The write succeeded: the next failure starts the backoff afresh.
    pub fn succeeded(&mut self) {
        self.retry_in = FIRST_RETRY;
        self.next_try = UnixMillis(i64::MIN);
    }
}

/// For the poller's tests: a batch of r1's loss series, one sample at each
/// of `times` (ms), its value the time.
#[cfg(test)]
pub(super) fn test_batch(times: std::ops::Range<i64>) -> Batch {
    use crate::store::{Sample, SeriesKey};
    Batch {
        samples: times
            .map(|t| Sample {
                key: SeriesKey::probe("r1", "loss_pct"),
                at: UnixMillis(t),
                value: t as f64,
            })
            .collect(),
        gaps: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::test_batch as batch;
    use super::*;

    #[test]
    fn failed_writes_are_kept_in_order_and_retried_with_backoff() {
        let mut b = Backlog::new(100);
        assert!(b.due(UnixMillis(0)));
        b.push(batch(0..10));
        let first = b.take();
        b.failed(first, UnixMillis(1_000));
        assert!(!b.due(UnixMillis(1_500)));
        assert!(b.due(UnixMillis(2_000)));
        b.push(batch(10..20));
        let again = b.take();
        let times: Vec<i64> = again.samples.iter().map(|s| s.at.0).collect();
        assert_eq!(times, (0..20).collect::<Vec<_>>());
        b.failed(again, UnixMillis(2_000));
        // 1 s, then 2 s.
        assert!(!b.due(UnixMillis(3_999)) && b.due(UnixMillis(4_000)));
        let last = b.take();
        assert_eq!(last.samples.len(), 20);
        assert!(last.gaps.is_empty());
        b.succeeded();
        assert!(b.is_empty() && b.due(UnixMillis(0)));
    }

    #[test]
    fn a_reopened_store_missing_commits_gets_a_gap_over_them() {
        // Nothing written yet, or the store has everything: no gap.
        assert_eq!(lost_commits(None, None), None);
        assert_eq!(
            lost_commits(
                Some(UnixMillis(5_000)),
                Some((UnixMillis(1_000), UnixMillis(5_000)))
            ),
            None
        );
        assert_eq!(
            lost_commits(
                Some(UnixMillis(6_000)),
                Some((UnixMillis(1_000), UnixMillis(5_000)))
            ),
            None
        );
        // The last commits are gone: from the newest stored to the newest written.
        let g = lost_commits(
            Some(UnixMillis(3_000)),
            Some((UnixMillis(1_000), UnixMillis(5_000))),
        )
        .unwrap();
        assert_eq!(
            (g.series, g.from.0, g.to.0, g.reason.as_str()),
            (None, 3_000, 5_000, LOST_REASON)
        );
        // Older history only (from before this writer): from its first commit.
        let g = lost_commits(
            Some(UnixMillis(500)),
            Some((UnixMillis(1_000), UnixMillis(5_000))),
        )
        .unwrap();
        assert_eq!((g.from.0, g.to.0), (1_000, 5_000));
        // An empty file: everything this writer wrote.
        let g = lost_commits(None, Some((UnixMillis(1_000), UnixMillis(5_000)))).unwrap();
        assert_eq!((g.from.0, g.to.0), (1_000, 5_000));
    }

    #[test]
    fn past_the_cap_the_oldest_go_and_their_span_becomes_a_gap() {
        let mut b = Backlog::new(25);
        b.push(batch(0..10));
        b.push(Batch {
            samples: vec![],
            gaps: vec![GapRecord {
                series: None,
                from: UnixMillis(5),
                to: UnixMillis(6),
                reason: "restart".into(),
            }],
        });
        b.push(batch(10..40));
        assert_eq!(b.samples(), 25);
        assert_eq!(b.dropped_samples, 15);
        let out = b.take();
        assert_eq!(out.samples.first().unwrap().at.0, 15);
        assert_eq!(out.samples.len(), 25);
        let reasons: Vec<&str> = out.gaps.iter().map(|g| g.reason.as_str()).collect();
        assert_eq!(reasons, ["restart", DROPPED_REASON]);
        let lost = out.gaps.last().unwrap();
        assert_eq!((lost.from.0, lost.to.0), (0, 14));
        // A failed write keeps the lost span for the next try.
        b.failed(out, UnixMillis(0));
        let out = b.take();
        assert_eq!(
            out.gaps
                .iter()
                .filter(|g| g.reason == DROPPED_REASON)
                .count(),
            1
        );
        assert_eq!(out.samples.len(), 25);
    }
}
