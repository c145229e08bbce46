//! Store write benchmark: samples/s for batches of 1,000 and 10,000 and the
//! database size per million samples. Run in release:
//! `cargo run --release --example bench_store [total_samples]`.
use nocmap::store::{Batch, Sample, SeriesKey, Store, StoreConfig, UnixMillis};
use std::time::Instant;

/// 2,000 series: 100 devices x 20 interfaces x 1 metric; a 10 s poll step.
fn batch(keys: &[SeriesKey], first: u64, size: usize) -> Batch {
    let samples = (0..size as u64)
        .map(|i| {
            let n = first + i;
            let k = (n % keys.len() as u64) as usize;
            let poll = (n / keys.len() as u64) as i64;
            Sample {
                key: keys[k].clone(),
                at: UnixMillis(1_700_000_000_000 + poll * 10_000),
                value: (n % 1_000_003) as f64 * 1234.5,
            }
        })
        .collect();
    Batch {
        samples,
        gaps: vec![],
    }
}

fn main() -> anyhow::Result<()> {
    let total: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000_000);
    let keys: Vec<SeriesKey> = (0..100)
        .flat_map(|d| {
            (0..20).map(move |i| {
                SeriesKey::interface(&format!("dev{d}"), &format!("ge-0/0/{i}"), "in_bps")
            })
        })
        .collect();
    for size in [1_000usize, 10_000] {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.db");
        let mut store = Store::open(&path, StoreConfig::default())?;
        let batches = total / size as u64;
        // Batches are built outside the timed section.
        let prepared: Vec<Batch> = (0..batches)
            .map(|b| batch(&keys, b * size as u64, size))
            .collect();
        let start = Instant::now();
        for b in &prepared {
            store.write_batch(b)?;
        }
        let secs = start.elapsed().as_secs_f64();
        drop(store); // checkpoints the WAL into the main file
        let bytes = std::fs::metadata(&path)?.len();
        let written = batches * size as u64;
        println!(
            "batch {size:>6}: {written} samples in {secs:.2} s = {:.0} samples/s; db {:.1} MB = {:.1} MB per million samples",
            written as f64 / secs,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / (written as f64 / 1e6),
        );
    }
    Ok(())
}
