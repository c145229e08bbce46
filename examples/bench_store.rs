//! Store benchmark: write samples/s for batches of 1,000 and 10,000 over
//! 2,000 series, CPU time of the writes, the database size per million
//! samples, and the latency of raw reads of one series over 1 hour and over
//! 2 days. Run in release:
//! `cargo run --release --example bench_store [total_samples] [dir]`
//! (`dir` defaults to a temporary directory; it must be on the disk to
//! measure, not on tmpfs).
use nocmap::store::{Batch, Resolution, Sample, SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use std::path::Path;
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000;
const STEP_MS: i64 = 10_000;

fn keys(count: usize) -> Vec<SeriesKey> {
    (0..count)
        .map(|n| {
            SeriesKey::interface(
                &format!("dev{}", n / 20),
                &format!("ge-0/0/{}", n % 20),
                "in_bps",
            )
        })
        .collect()
}

/// Samples `first..first + size` of a poller writing every series once per
/// 10 s step, series after series.
fn batch(keys: &[SeriesKey], first: u64, size: usize) -> Batch {
    let samples = (0..size as u64)
        .map(|i| {
            let n = first + i;
            let k = (n % keys.len() as u64) as usize;
            let poll = (n / keys.len() as u64) as i64;
            Sample {
                key: keys[k].clone(),
                at: UnixMillis(T0 + poll * STEP_MS),
                value: (n % 1_000_003) as f64 * 1234.5,
            }
        })
        .collect();
    Batch {
        samples,
        gaps: vec![],
    }
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Writes `total` samples over `keys` in batches of `size`; returns samples/s.
fn write(path: &Path, keys: &[SeriesKey], total: u64, size: usize) -> anyhow::Result<f64> {
    let mut store = Store::open(path, StoreConfig::default())?;
    let batches = total / size as u64;
    // Batches are built outside the timed section.
    let prepared: Vec<Batch> = (0..batches)
        .map(|b| batch(keys, b * size as u64, size))
        .collect();
    let (start, cpu) = (Instant::now(), cpu_time());
    for b in &prepared {
        store.write_batch(b)?;
    }
    let (secs, cpu) = (
        start.elapsed().as_secs_f64(),
        (cpu_time() - cpu).as_secs_f64(),
    );
    drop(store); // checkpoints the WAL into the main file
    let bytes = file_size(path);
    let written = batches * size as u64;
    println!(
        "write batch {size:>6}: {written} samples in {secs:.2} s ({cpu:.2} s CPU) = {:.0} samples/s; \
         db {:.1} MB = {:.1} MB per million samples",
        written as f64 / secs,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / (written as f64 / 1e6),
    );
    Ok(written as f64 / secs)
}

/// Latency of raw reads of single series over `span_ms` ending at `end`:
/// the first (cold store, warm OS cache) and the median of 20 series.
fn read_latency(
    path: &Path,
    keys: &[SeriesKey],
    end: i64,
    span_ms: i64,
    label: &str,
) -> anyhow::Result<()> {
    let store = Store::open(path, StoreConfig::default())?;
    let mut times = Vec::new();
    let mut points = 0;
    for k in keys.iter().step_by(keys.len() / 20).take(20) {
        let start = Instant::now();
        let data = store.series_at(
            k,
            UnixMillis(end - span_ms),
            UnixMillis(end),
            Resolution::Raw,
        )?;
        times.push(start.elapsed());
        points = data.points.len();
    }
    let first = times[0];
    times.sort();
    println!(
        "read raw {label}: {points} points; first {:.2} ms, median {:.2} ms, max {:.2} ms",
        first.as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000_000);
    let tmp = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    // Writes: 2,000 series (100 devices x 20 interfaces x 1 metric).
    let write_keys = keys(2_000);
    for size in [1_000usize, 10_000] {
        let path = tmp.path().join(format!("write{size}.db"));
        write(&path, &write_keys, total, size)?;
        std::fs::remove_file(&path)?;
    }
    // Reads: 100 series with a little over 2 days of 10 s samples (1.73 M
    // samples, a whole number of batches).
    let read_keys = keys(100);
    let polls = 17_300;
    let path = tmp.path().join("read.db");
    write(&path, &read_keys, polls as u64 * 100, 10_000)?;
    let end = T0 + polls * STEP_MS;
    read_latency(&path, &read_keys, end, 3_600_000, "1 h")?;
    read_latency(&path, &read_keys, end, 2 * 86_400_000, "2 d")?;
    Ok(())
}
