//! Torn and reordered writes, at the file level: what a power cut can
//! leave of a commit whose fsync had not finished. `store_power_cut_lab` cuts
//! the power under a real serve, but its "disk" (a loop device) never
//! tears a page or writes out of order, and this machine has no
//! device-mapper to make one that does. Here the crashed disk is built by
//! hand from a real store's files:
//!
//! batch A is committed (the store syncs each commit: `durability =
//! "full"`), the database and its WAL are copied (the disk as A's fsync
//! left it); batch B is committed and the WAL copied again. B's new WAL
//! frames are what was in flight. Each crashed disk is A's files plus some
//! of B's frames, cut or torn or out of order, as a power cut can leave
//! them. The store opened on each must be sound (`integrity_check`), hold
//! every sample of A, hold B wholly or not at all (here: not at all, B's
//! commit never completed; or wholly, when every frame reached the disk),
//! and go on taking writes that survive a reopen.
use nocmap::store::{Batch, Resolution, Sample, SeriesKey, Store, StoreConfig};
use nocmap::types::UnixMillis;
use std::path::Path;

/// The store's page size (`src/store/mod.rs`) and SQLite's WAL layout.
const PAGE: usize = 16_384;
const WAL_HEADER: usize = 32;
const FRAME: usize = 24 + PAGE;
const SERIES: i64 = 4;
const PER_SERIES: i64 = 200;

fn key(s: i64) -> SeriesKey {
    SeriesKey::interface("torn", &format!("if{s}"), "in_bps")
}

/// Batch `n`: every series at times n * 10,000 + 0..PER_SERIES.
fn batch(n: i64) -> Batch {
    Batch {
        samples: (0..SERIES)
            .flat_map(|s| {
                (0..PER_SERIES).map(move |i| Sample {
                    key: key(s),
                    at: UnixMillis(n * 10_000 + i),
                    value: (n * 1_000_000 + s * 1_000 + i) as f64,
                })
            })
            .collect(),
        gaps: vec![],
    }
}

/// How many samples of batch `n` the store holds, checking their values.
fn held(store: &Store, n: i64) -> i64 {
    let mut count = 0;
    for s in 0..SERIES {
        let data = store
            .series_at(
                &key(s),
                UnixMillis(n * 10_000),
                UnixMillis(n * 10_000 + PER_SERIES),
                Resolution::Raw,
            )
            .unwrap();
        for p in data.points {
            let i = p.at.0 - n * 10_000;
            assert_eq!(
                p.avg,
                (n * 1_000_000 + s * 1_000 + i) as f64,
                "a changed value"
            );
            count += 1;
        }
    }
    count
}

/// What a disk held before: bytes that are not what was being written.
fn stale(bytes: &mut [u8]) {
    for (k, byte) in bytes.iter_mut().enumerate() {
        *byte = (k as u8).wrapping_mul(31).wrapping_add(7);
    }
}

struct Disk {
    db: Vec<u8>,
    wal: Vec<u8>,
}

fn read_disk(db: &Path) -> Disk {
    Disk {
        db: std::fs::read(db).unwrap(),
        wal: std::fs::read(db.with_extension("db-wal")).unwrap(),
    }
}

/// A's files plus B's frames as `crashed` leaves them, opened as a store:
/// sound, A whole, B held `b_expected` (all or nothing), then writable.
fn check(name: &str, a: &Disk, crashed_wal: Vec<u8>, b_expected: i64) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cut.db");
    std::fs::write(&db, &a.db).unwrap();
    std::fs::write(db.with_extension("db-wal"), crashed_wal).unwrap();
    let mut store = Store::open(&db, StoreConfig::default())
        .unwrap_or_else(|e| panic!("{name}: the store does not open: {e}"));
    assert_eq!(store.integrity_check().unwrap(), "ok", "{name}");
    assert_eq!(held(&store, 1), SERIES * PER_SERIES, "{name}: batch A");
    assert_eq!(held(&store, 2), b_expected, "{name}: batch B");
    store.write_batch(&batch(3)).unwrap();
    drop(store);
    let store = Store::open(&db, StoreConfig::default()).unwrap();
    assert_eq!(
        store.integrity_check().unwrap(),
        "ok",
        "{name} after a write"
    );
    assert_eq!(
        held(&store, 3),
        SERIES * PER_SERIES,
        "{name}: a later write"
    );
    assert_eq!(
        held(&store, 1),
        SERIES * PER_SERIES,
        "{name}: A after a write"
    );
    eprintln!("{name}: sound, A whole, B {b_expected} samples, later writes kept");
}

#[test]
fn torn_and_reordered_wal_writes_lose_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("torn.db");
    let mut store = Store::open(&db, StoreConfig::default()).unwrap();
    store.write_batch(&batch(1)).unwrap();
    let a = read_disk(&db);
    store.write_batch(&batch(2)).unwrap();
    let b = read_disk(&db);
    // Closing checkpoints: the database file as it is once A and B are
    // copied into it.
    drop(store);
    let checkpointed = std::fs::read(&db).unwrap();
    // B went to the WAL only, appended after A's frames (no checkpoint in
    // between): otherwise this test would not be building what it says.
    assert_eq!(a.db, b.db, "the database file changed between A and B");
    assert!(a.wal.len() > WAL_HEADER && b.wal.len() > a.wal.len());
    assert_eq!(&b.wal[..a.wal.len()], &a.wal[..], "B rewrote A's frames");
    assert_eq!(
        (a.wal.len() - WAL_HEADER) % FRAME,
        0,
        "a frame is {FRAME} bytes"
    );
    let new = &b.wal[a.wal.len()..];
    assert_eq!(new.len() % FRAME, 0);
    let frames = new.len() / FRAME;
    assert!(frames >= 2, "B is {frames} frame(s): too few to reorder");
    eprintln!(
        "A: {} frames, B: {frames} frames of {FRAME} bytes",
        (a.wal.len() - WAL_HEADER) / FRAME
    );
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut w = b.wal.clone();
        edit(&mut w);
        w
    };
    let frame_at = |i: usize| a.wal.len() + i * FRAME;
    let last = frames - 1;

    // Every frame of B reached the disk, only the acknowledgement did not.
    check("all of B written", &a, b.wal.clone(), SERIES * PER_SERIES);
    // Cut: the file ends inside a frame of B.
    for cut in [1, FRAME / 2, (frames * FRAME) - 7] {
        check(
            &format!("WAL cut {cut} bytes into B"),
            &a,
            b.wal[..a.wal.len() + cut].to_vec(),
            0,
        );
    }
    // Torn: the commit frame's second half never written (zeros, or what
    // the disk held before: other bytes).
    check(
        "commit frame torn (zeros)",
        &a,
        with(&|w| w[frame_at(last) + FRAME / 2..].fill(0)),
        0,
    );
    check(
        "commit frame torn (stale bytes)",
        &a,
        with(&|w| stale(&mut w[frame_at(last) + FRAME / 2..])),
        0,
    );
    // A torn sector in the middle of an earlier frame of B: the disk kept
    // what it held before there. (Zeros would not do: that part of the
    // page may be free space, zeros already.)
    let sector = frame_at(0) + 4_096..frame_at(0) + 4_608;
    let torn = with(&|w| stale(&mut w[sector.clone()]));
    assert_ne!(
        torn[sector.clone()],
        b.wal[sector],
        "the tear changed nothing"
    );
    check("first frame of B torn in one 512-byte sector", &a, torn, 0);
    // Reordered: later frames (the commit among them) reached the disk,
    // an earlier one did not.
    check(
        "first frame of B missing, the rest written",
        &a,
        with(&|w| w[frame_at(0)..frame_at(1)].fill(0)),
        0,
    );
    check(
        "only the commit frame written",
        &a,
        with(&|w| w[frame_at(0)..frame_at(last)].fill(0)),
        0,
    );
    // Reordered the other way: B's frames swapped on the disk.
    check(
        "B's first and commit frames swapped",
        &a,
        with(&|w| {
            let first = w[frame_at(0)..frame_at(1)].to_vec();
            let commit = w[frame_at(last)..].to_vec();
            w[frame_at(0)..frame_at(1)].copy_from_slice(&commit);
            w[frame_at(last)..].copy_from_slice(&first);
        }),
        0,
    );

    // A checkpoint cut short: some of its page writes into the database
    // file reached the disk, one of them torn, others not at all. The WAL
    // is whole (a checkpoint resets it only after the database file is
    // synced), so B is read from it and nothing is lost.
    let changed: Vec<usize> = (0..checkpointed.len() / PAGE)
        .filter(|p| {
            let r = p * PAGE..(p + 1) * PAGE;
            a.db.get(r.clone()) != Some(&checkpointed[r])
        })
        .collect();
    assert!(changed.len() >= 2, "the checkpoint changed {changed:?}");
    let mut cut_db = a.db.clone();
    cut_db.resize(cut_db.len().max(checkpointed.len()), 0);
    for (k, p) in changed.iter().enumerate() {
        let r = p * PAGE..(p + 1) * PAGE;
        match k % 3 {
            0 => cut_db[r.start..r.start + PAGE / 2]
                .copy_from_slice(&checkpointed[r.start..r.start + PAGE / 2]),
            1 => cut_db[r.clone()].copy_from_slice(&checkpointed[r]),
            _ => {}
        }
    }
    let disk = Disk {
        db: cut_db,
        wal: b.wal.clone(),
    };
    check(
        &format!("checkpoint cut short ({} pages changed)", changed.len()),
        &disk,
        b.wal.clone(),
        SERIES * PER_SERIES,
    );
}
