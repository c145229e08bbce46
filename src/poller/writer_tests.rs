//! Scenario test of the real store writer (`writer::run_capped`) against
//! a store that fails on demand, on tokio's paused clock: during an outage
//! samples wait in the backlog, the oldest beyond its cap are dropped, and
//! once the store is back the rest is written with a `store_unavailable`
//! gap over exactly the dropped span. And the writer's timers are the
//! clock handle's: on a clock that stands still nothing is flushed or
//! rolled up, however far tokio's time runs.
use super::backlog::DROPPED_REASON;
use super::backlog::test_batch as batch;
use super::test_support::{Recorder, WALL_START};
use super::writer;
use crate::live::Live;
use crate::topology::Topology;
use crate::util::clock::{Clock, ManualClock, TokioClock};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

fn times(rec: &Recorder) -> Vec<i64> {
    rec.samples().iter().map(|s| s.at.0).collect()
}

#[tokio::test(start_paused = true)]
async fn a_store_outage_holds_samples_and_the_overflow_becomes_a_gap() {
    let rec = Recorder::default();
    let live = Arc::new(Live::new(Topology::default(), 180_000));
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let clock = Arc::new(TokioClock::new(WALL_START));
    let task = tokio::spawn(writer::run_capped(
        rec.clone(),
        rx,
        live.clone(),
        clock,
        stop,
        10,
    ));
    let second = || tokio::time::sleep(Duration::from_millis(1_000));
    // Half-way between the writer's 1 s flushes, so the order of a flush
    // and a look at the result never depends on a tie.
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.send(batch(0..4)).unwrap();
    second().await;
    second().await;
    assert_eq!(times(&rec), vec![0, 1, 2, 3]);

    // The store fails: 15 samples arrive, 10 are held, the 5 oldest dropped.
    rec.failing.store(true, Ordering::SeqCst);
    for start in [10, 15, 20] {
        tx.send(batch(start..start + 5)).unwrap();
        second().await;
    }
    let during = live.read(|l| l.poller.clone());
    assert!(!during.store_ok);
    assert_eq!(during.store_backlog_samples, 10);
    assert_eq!(during.store_dropped_samples, 5);
    assert!(during.store_last_error.is_some());
    assert_eq!(times(&rec).len(), 4, "nothing is written during the outage");

    // Back: the next retry (backoff at most 30 s) writes what was held.
    rec.failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(40)).await;
    let after = live.read(|l| l.poller.clone());
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    assert!(after.store_ok);
    assert_eq!(after.store_backlog_samples, 0);
    let mut expect: Vec<i64> = vec![0, 1, 2, 3];
    expect.extend(15..25);
    assert_eq!(times(&rec), expect);
    let gaps = rec.gaps();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].reason, DROPPED_REASON);
    assert_eq!(gaps[0].series, None);
    assert_eq!((gaps[0].from.0, gaps[0].to.0), (10, 14));
    assert!(*rec.reopens.lock().unwrap() >= 1);
}

#[tokio::test(start_paused = true)]
async fn flushes_and_rollups_wait_on_the_clock_handle() {
    let rec = Recorder::default();
    let live = Arc::new(Live::new(Topology::default(), 180_000));
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let clock = Arc::new(ManualClock::new(WALL_START));
    let task = tokio::spawn(writer::run(
        rec.clone(),
        rx,
        live.clone(),
        clock.clone(),
        stop,
    ));
    // Tokio's time runs ten minutes ahead; the handle's clock stands still.
    tokio::time::sleep(Duration::from_millis(10)).await;
    tx.send(batch(0..4)).unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(times(&rec).is_empty(), "flushed without the clock moving");
    assert!(rec.maintained.lock().unwrap().is_empty());

    // One second on the handle: the flush.
    clock.advance(Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(times(&rec), vec![0, 1, 2, 3]);
    assert!(rec.maintained.lock().unwrap().is_empty());

    // Five minutes on the handle: rollup and retention, as of its wall time.
    clock.advance(Duration::from_secs(299));
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(*rec.maintained.lock().unwrap(), vec![clock.wall_ms()]);
    assert_eq!(clock.wall_ms(), WALL_START + 300_000);
    stop_tx.send(true).unwrap();
    task.await.unwrap();
}
