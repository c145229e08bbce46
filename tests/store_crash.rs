//! Crash safety: a child process writes batches in a loop and is killed with
//! SIGKILL at a random moment; after reopening, the database is sound, every
//! batch the child reported committed is there completely, no batch is
//! partial, and a restart records a gap from the last sample.
//!
//! The child is this same test binary, run with `CHILD_ENV` set to the
//! database path: the test then writes instead of supervising.
use nocmap::store::{Batch, Resolution, Sample, SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CHILD_ENV: &str = "NOCMAP_STORE_CRASH_CHILD_DB";
const TEST_NAME: &str = "killed_writer_loses_no_committed_batch";
const SERIES: i64 = 5;
const PER_SERIES: i64 = 100;
/// Batch n holds, for each series, times n * 1000 + 0..PER_SERIES.
const BATCH_SPAN_MS: i64 = 1_000;

fn key(s: i64) -> SeriesKey {
    SeriesKey::interface("crash", &format!("if{s}"), "in_bps")
}

fn child_writes_forever(db: &str) -> ! {
    let mut store = Store::open(db.as_ref(), StoreConfig::default()).unwrap();
    let mut out = std::io::stdout();
    for n in 0i64.. {
        let samples = (0..SERIES)
            .flat_map(|s| {
                (0..PER_SERIES).map(move |i| Sample {
                    key: key(s),
                    at: UnixMillis(n * BATCH_SPAN_MS + i),
                    value: (n * 1_000 + i) as f64,
                })
            })
            .collect();
        store
            .write_batch(&Batch {
                samples,
                gaps: vec![],
            })
            .unwrap();
        writeln!(out, "committed {n}").unwrap();
        out.flush().unwrap();
    }
    unreachable!()
}

fn jitter_ms(max: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(nanos) % max
}

#[test]
fn killed_writer_loses_no_committed_batch() {
    if let Ok(db) = std::env::var(CHILD_ENV) {
        child_writes_forever(&db);
    }
    for (round, base_delay) in [200u64, 450, 700, 1_000, 1_400].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crash.db");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    l.strip_prefix("committed ")
                        .and_then(|n| n.parse::<i64>().ok())
                })
                .max()
        });
        let delay = base_delay + jitter_ms(250);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let reported = reader.join().unwrap();
        let reported =
            reported.unwrap_or_else(|| panic!("round {round}: no batch committed in {delay} ms"));

        let mut store = Store::open(&db, StoreConfig::default()).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        let mut per_batch = std::collections::BTreeMap::<i64, i64>::new();
        for s in 0..SERIES {
            let data = store
                .series_at(
                    &key(s),
                    UnixMillis(0),
                    UnixMillis(i64::MAX),
                    Resolution::Raw,
                )
                .unwrap();
            for p in data.points {
                *per_batch.entry(p.at.0 / BATCH_SPAN_MS).or_default() += 1;
            }
        }
        let present = *per_batch.keys().last().unwrap();
        assert!(
            present >= reported,
            "round {round}: reported {reported}, present up to {present}"
        );
        for n in 0..=present {
            assert_eq!(
                per_batch.get(&n).copied(),
                Some(SERIES * PER_SERIES),
                "round {round}: batch {n} incomplete (reported up to {reported})"
            );
        }
        assert_eq!(per_batch.len() as i64, present + 1);

        let now = UnixMillis(1_000_000_000_000);
        let gap = store.mark_restart(now).unwrap().unwrap();
        let last = UnixMillis(present * BATCH_SPAN_MS + PER_SERIES - 1);
        assert_eq!(
            (gap.from, gap.to, gap.reason.as_str()),
            (last, now, "restart")
        );
        let data = store.series(&key(0), last, now).unwrap();
        assert!(
            data.gaps
                .iter()
                .any(|g| g.reason == "restart" && g.from == last)
        );
        eprintln!("round {round}: killed after {delay} ms, reported {reported}, present {present}");
    }
}
