//! The few figures of a device's vitals that alert rules compare and the
//! history keeps: processor load, memory in use, the fullest fixed disk or flash, the
//! hottest sensor that reports ok, and whether any sensor has failed. Pure.
use super::{SensorKind, SensorStatus, StorageKind, Vitals};

/// One reading's figures; `None` where the device gave nothing to compute
/// one from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub cpu_pct: Option<f64>,
    /// UCD's memory in use without buffers and cache where the agent
    /// serves it, else hrStorageRam's used share.
    pub memory_pct: Option<f64>,
    /// Whether `memory_pct` left buffers and cache out (it came from UCD).
    pub memory_excludes_cache: bool,
    pub storage_pct: Option<f64>,
    pub max_celsius: Option<f64>,
    /// 1 when a sensor reports nonoperational, 0 when none does.
    pub sensor_failed: Option<f64>,
}

/// How the map rings a device by its vitals: `failed` when a sensor
/// reports nonoperational, `warn` at [`CPU_WARN_PCT`], [`STORAGE_WARN_PCT`],
/// [`TEMPERATURE_WARN_CELSIUS`] or [`MEMORY_WARN_PCT`] and above, else
/// `ok`. Memory counts only when buffers and cache were left out of it
/// (UCD): hrStorageRam counts them as used (80-90 % on an idle Linux box),
/// so a ring from it would be noise; alert rules can still use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Ok,
    Warn,
    Failed,
}

pub const CPU_WARN_PCT: f64 = 90.0;
pub const STORAGE_WARN_PCT: f64 = 90.0;
pub const TEMPERATURE_WARN_CELSIUS: f64 = 70.0;
pub const MEMORY_WARN_PCT: f64 = 90.0;

/// The device series the history keeps of each reading, by name.
pub const CPU_LOAD_METRIC: &str = "cpu_load_pct";
pub const MEMORY_USED_METRIC: &str = "memory_used_pct";
pub const STORAGE_USED_METRIC: &str = "storage_used_pct";
pub const TEMPERATURE_METRIC: &str = "temperature_max_celsius";
pub const SENSOR_FAILED_METRIC: &str = "sensor_failed";

impl Summary {
    /// The worst of the figures, as the map rings it.
    pub fn state(&self) -> HealthState {
        let at_least = |v: Option<f64>, limit: f64| v.is_some_and(|v| v >= limit);
        if self.sensor_failed == Some(1.0) {
            HealthState::Failed
        } else if at_least(self.cpu_pct, CPU_WARN_PCT)
            || at_least(self.storage_pct, STORAGE_WARN_PCT)
            || at_least(self.max_celsius, TEMPERATURE_WARN_CELSIUS)
            || (self.memory_excludes_cache && at_least(self.memory_pct, MEMORY_WARN_PCT))
        {
            HealthState::Warn
        } else {
            HealthState::Ok
        }
    }

    /// Each figure present, with its series name.
    pub fn series(&self) -> Vec<(&'static str, f64)> {
        [
            (CPU_LOAD_METRIC, self.cpu_pct),
            (MEMORY_USED_METRIC, self.memory_pct),
            (STORAGE_USED_METRIC, self.storage_pct),
            (TEMPERATURE_METRIC, self.max_celsius),
            (SENSOR_FAILED_METRIC, self.sensor_failed),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.filter(|v| v.is_finite()).map(|v| (name, v)))
        .collect()
    }
}

impl Vitals {
    pub fn summary(&self) -> Summary {
        let pct = |used: u64, size: u64| (size > 0).then(|| used as f64 * 100.0 / size as f64);
        let ram = self.storage.iter().find(|s| s.kind == StorageKind::Ram);
        let ucd_memory = self.memory.and_then(|m| m.used_pct());
        let disks = self
            .storage
            .iter()
            .filter(|s| matches!(s.kind, StorageKind::FixedDisk | StorageKind::FlashMemory));
        let ok_celsius = self
            .sensors
            .iter()
            .filter(|s| s.kind == SensorKind::Celsius && s.status == SensorStatus::Ok);
        Summary {
            cpu_pct: self.cpu_load_pct,
            memory_pct: ucd_memory.or_else(|| ram.and_then(|r| pct(r.used_bytes, r.size_bytes))),
            memory_excludes_cache: ucd_memory.is_some(),
            storage_pct: disks
                .filter_map(|d| pct(d.used_bytes, d.size_bytes))
                .reduce(f64::max),
            max_celsius: ok_celsius.map(|s| s.value).reduce(f64::max),
            sensor_failed: (!self.sensors.is_empty()).then(|| {
                let failed = self
                    .sensors
                    .iter()
                    .any(|s| s.status == SensorStatus::Nonoperational);
                f64::from(u8::from(failed))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vitals::{Sensor, Storage};

    #[test]
    fn ram_the_fullest_disk_the_hottest_ok_sensor() {
        let storage = |kind, used, size| Storage {
            descr: "x".into(),
            kind,
            size_bytes: size,
            used_bytes: used,
        };
        let sensor = |kind, value, status| Sensor {
            index: 1,
            name: "s".into(),
            kind,
            value,
            status,
            units: None,
        };
        let v = Vitals {
            cpu_load_pct: Some(42.0),
            storage: vec![
                storage(StorageKind::Ram, 3, 4),
                storage(StorageKind::VirtualMemory, 4, 4),
                storage(StorageKind::FixedDisk, 1, 10),
                storage(StorageKind::FlashMemory, 9, 10),
            ],
            sensors: vec![
                sensor(SensorKind::Celsius, 41.0, SensorStatus::Ok),
                sensor(SensorKind::Celsius, 99.0, SensorStatus::Unavailable),
                sensor(SensorKind::Rpm, 0.0, SensorStatus::Nonoperational),
            ],
            ..Default::default()
        };
        let o = v.summary();
        assert_eq!(o.cpu_pct, Some(42.0));
        assert_eq!(o.memory_pct, Some(75.0));
        assert_eq!(o.storage_pct, Some(90.0));
        // An unavailable sensor's reading is not a temperature.
        assert_eq!(o.max_celsius, Some(41.0));
        assert_eq!(o.sensor_failed, Some(1.0));
        assert_eq!(
            o.series(),
            [
                (CPU_LOAD_METRIC, 42.0),
                (MEMORY_USED_METRIC, 75.0),
                (STORAGE_USED_METRIC, 90.0),
                (TEMPERATURE_METRIC, 41.0),
                (SENSOR_FAILED_METRIC, 1.0)
            ]
        );
        assert_eq!(o.state(), HealthState::Failed);
        let warm = |cpu, disk, celsius| Summary {
            cpu_pct: Some(cpu),
            storage_pct: Some(disk),
            max_celsius: Some(celsius),
            memory_pct: Some(99.0),
            memory_excludes_cache: false,
            sensor_failed: Some(0.0),
        };
        assert_eq!(warm(89.9, 89.9, 69.9).state(), HealthState::Ok);
        assert_eq!(warm(90.0, 10.0, 20.0).state(), HealthState::Warn);
        assert_eq!(warm(10.0, 95.0, 20.0).state(), HealthState::Warn);
        assert_eq!(warm(10.0, 10.0, 71.0).state(), HealthState::Warn);
        assert_eq!(Summary::default().state(), HealthState::Ok);
        assert_eq!(Vitals::default().summary(), Summary::default());
        assert!(Summary::default().series().is_empty());
    }

    #[test]
    fn ucd_memory_wins_over_hr_storage_ram_and_rings() {
        let mut v = Vitals {
            storage: vec![Storage {
                descr: "Physical memory".into(),
                kind: StorageKind::Ram,
                size_bytes: 100,
                used_bytes: 89,
            }],
            ..Default::default()
        };
        // hrStorageRam alone: 89 %, caches counted, no ring from it.
        let s = v.summary();
        assert_eq!((s.memory_pct, s.memory_excludes_cache), (Some(89.0), false));
        v.storage[0].used_bytes = 99;
        assert_eq!(v.summary().state(), HealthState::Ok);
        // UCD: 1,000 KiB, 100 free, 300 buffers + cache: 60 % in use.
        v.memory = Some(crate::vitals::UcdMemory {
            total_real_kib: 1000,
            free_real_kib: 100,
            buffer_kib: Some(100),
            cached_kib: Some(200),
            ..Default::default()
        });
        let s = v.summary();
        assert_eq!((s.memory_pct, s.memory_excludes_cache), (Some(60.0), true));
        assert_eq!(s.state(), HealthState::Ok);
        v.memory.as_mut().unwrap().cached_kib = Some(0);
        v.memory.as_mut().unwrap().buffer_kib = Some(0);
        v.memory.as_mut().unwrap().free_real_kib = 50;
        assert_eq!(v.summary().memory_pct, Some(95.0));
        assert_eq!(v.summary().state(), HealthState::Warn);
    }
}
