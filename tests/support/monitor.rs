//! What `tests/monitor_lab.rs` reads back and compares: series from the
//! store serve wrote (raw points, the bits a rate series adds up to over a
//! window) and the kernel's own byte count of the measured interface.
use nocmap::store::{SeriesKey, Store};
use nocmap::types::UnixMillis;
use nocmap_lab::Lab;

/// The id of the device discovery saved with this sysName.
pub fn device_id(store: &Store, sys_name: &str) -> String {
    let (_, topo) = store
        .latest_topology()
        .unwrap()
        .expect("a topology was saved");
    topo.devices
        .iter()
        .find(|d| d.sys_name.as_deref() == Some(sys_name))
        .unwrap_or_else(|| panic!("{sys_name} discovered"))
        .id
        .0
        .clone()
}

/// The bits a rate series adds up to between its last sample at or before
/// `from` and its last sample before `to` (each sample's rate times the time
/// since the one before it), and that window. Panics if the store has a gap
/// ending in it (a gap runs from one poll to the next that gave no rate):
/// then the samples do not add up to what the counter moved.
pub fn bits_over(store: &Store, key: &SeriesKey, from: i64, to: i64) -> (f64, (i64, i64)) {
    let series = store
        .series_at(
            key,
            UnixMillis(from - 60_000),
            UnixMillis(to),
            nocmap::store::Resolution::Raw,
        )
        .unwrap();
    let points: Vec<(i64, f64)> = series
        .points
        .iter()
        .map(|p| (p.at.0, p.avg))
        .filter(|(t, _)| *t < to)
        .collect();
    let first = points
        .iter()
        .rposition(|(t, _)| *t <= from)
        .expect("a sample before the window");
    let window = (points[first].0, points.last().unwrap().0);
    assert!(
        !series
            .gaps
            .iter()
            .any(|g| g.to.0 > window.0 && g.to.0 <= window.1),
        "a gap inside {window:?}: {:?}",
        series.gaps
    );
    let bits = points[first..]
        .windows(2)
        .map(|w| w[1].1 * (w[1].0 - w[0].0) as f64 / 1000.0)
        .sum();
    (bits, window)
}

/// The raw points of `key` in `from..to`: (time, value).
pub fn raw(store: &Store, key: &SeriesKey, from: i64, to: i64) -> Vec<(i64, f64)> {
    let data = store
        .series_at(
            key,
            UnixMillis(from),
            UnixMillis(to),
            nocmap::store::Resolution::Raw,
        )
        .unwrap();
    data.points.iter().map(|p| (p.at.0, p.avg)).collect()
}

/// r2's eth1 received bytes from the kernel (what snmpd reports as
/// ifInOctets, before it is cut to 32 bits). Read from sysfs, not over SNMP:
/// another reader would refresh snmpd's counter cache between our polls.
pub fn rx_bytes(lab: &Lab) -> u64 {
    let out = lab
        .command_in("r2", "cat")
        .unwrap()
        .arg("/sys/class/net/eth1/statistics/rx_bytes")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("rx_bytes")
}
