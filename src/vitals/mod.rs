//! A device's vitals: processor load and storage (HOST-RESOURCES-MIB
//! hrProcessorTable, hrStorageTable) and its physical sensors
//! (ENTITY-SENSOR-MIB entPhySensorTable, named from ENTITY-MIB
//! entPhysicalName/Descr), from the walked rows to typed values. Pure; the
//! walks are `read.rs`. A row that cannot be used (a sensor whose value
//! cannot be scaled, a storage without a size) is kept in `unusable` with
//! its reason, never dropped silently.
pub mod inventory;
pub mod read;
pub mod summary;
pub mod ucd;

pub use inventory::Inventory;
pub use summary::Summary;
pub use ucd::UcdMemory;

use crate::snmp::table::{Rows, int, rows, text};
use async_snmp::VarBind;
use serde::Serialize;

pub const HR_PROCESSOR_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 25, 3, 3, 1];
pub const HR_PROCESSOR_LOAD: &[u32] = &[1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2];
pub const HR_STORAGE_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 25, 2, 3, 1];
pub const ENT_PHY_SENSOR_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 99, 1, 1, 1];
pub const ENT_PHYSICAL_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1];
/// hrStorageTypes (HOST-RESOURCES-TYPES): `hrStorageRam` is `.2`, ...
const HR_STORAGE_TYPES: &[u32] = &[1, 3, 6, 1, 2, 1, 25, 2, 1];

/// What a device's vitals tables said, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Vitals {
    /// Mean of every processor's hrProcessorLoad (percent over the last
    /// minute); else 100 − UCD's ssCpuIdle; None when the device gives
    /// neither.
    pub cpu_load_pct: Option<f64>,
    /// Each processor's load, in table order.
    pub cpu_loads_pct: Vec<u8>,
    /// Rows of hrProcessorTable. An agent may list its processors before
    /// it has a load to give (net-snmp needs a minute of samples).
    pub processors: usize,
    pub storage: Vec<Storage>,
    /// UCD-SNMP-MIB's memory figures, where the agent serves them: memory
    /// in use without buffers and cache, which hrStorageRam cannot tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<UcdMemory>,
    pub sensors: Vec<Sensor>,
    /// Rows that could not be used, each with its reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unusable: Vec<String>,
    /// ENTITY-MIB's hardware inventory, when this reading walked it (it
    /// changes seldom and may be thousands of rows: read less often).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    Ram,
    VirtualMemory,
    FixedDisk,
    RemovableDisk,
    FlashMemory,
    NetworkDisk,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storage {
    pub descr: String,
    pub kind: StorageKind,
    pub size_bytes: u64,
    pub used_bytes: u64,
}

impl Storage {
    /// Used share, 0..=1 (0 for a storage of size 0).
    pub fn used_ratio(&self) -> f64 {
        if self.size_bytes == 0 {
            0.0
        } else {
            self.used_bytes as f64 / self.size_bytes as f64
        }
    }
}

/// What a sensor measures (EntitySensorDataType, RFC 3433).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    Other,
    Unknown,
    VoltsAc,
    VoltsDc,
    Amperes,
    Watts,
    Hertz,
    Celsius,
    PercentRh,
    Rpm,
    Cmm,
    TruthValue,
}

impl SensorKind {
    fn from_code(code: i64) -> Option<SensorKind> {
        use SensorKind::*;
        Some(match code {
            1 => Other,
            2 => Unknown,
            3 => VoltsAc,
            4 => VoltsDc,
            5 => Amperes,
            6 => Watts,
            7 => Hertz,
            8 => Celsius,
            9 => PercentRh,
            10 => Rpm,
            11 => Cmm,
            12 => TruthValue,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use SensorKind::*;
        match self {
            Other => "other",
            Unknown => "unknown",
            VoltsAc => "volts_ac",
            VoltsDc => "volts_dc",
            Amperes => "amperes",
            Watts => "watts",
            Hertz => "hertz",
            Celsius => "celsius",
            PercentRh => "percent_rh",
            Rpm => "rpm",
            Cmm => "cmm",
            TruthValue => "truth_value",
        }
    }
}

/// entPhySensorOperStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorStatus {
    Ok,
    Unavailable,
    Nonoperational,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensor {
    /// entPhysicalIndex.
    pub index: u32,
    /// entPhysicalName, else entPhysicalDescr, else `sensor N`.
    pub name: String,
    pub kind: SensorKind,
    /// In the kind's base unit (volts, not millivolts): entPhySensorValue
    /// × 10^scale × 10^-precision (precision 1..=9 only).
    pub value: f64,
    pub status: SensorStatus,
    /// entPhySensorUnitsDisplay, as the device writes the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
}

/// The power of ten of an EntitySensorDataScale (RFC 3433 lists exa(14)
/// before peta(15): the names, not the order, give the power).
fn scale_exponent(code: i64) -> Option<i32> {
    Some(match code {
        1 => -24,
        2 => -21,
        3 => -18,
        4 => -15,
        5 => -12,
        6 => -9,
        7 => -6,
        8 => -3,
        9 => 0,
        10 => 3,
        11 => 6,
        12 => 9,
        13 => 12,
        14 => 18,
        15 => 15,
        16 => 21,
        17 => 24,
        _ => return None,
    })
}

/// `value` × 10^`exponent`, dividing for a negative exponent so a fixed-point
/// reading keeps its decimal digits (282 with one place is 28.2, not
/// 28.200000000000003).
fn shifted(value: i64, exponent: i32) -> f64 {
    if exponent >= 0 {
        value as f64 * 10f64.powi(exponent)
    } else {
        value as f64 / 10f64.powi(-exponent)
    }
}

fn storage_kind(type_oid: Option<&async_snmp::Value>) -> StorageKind {
    let Some(async_snmp::Value::ObjectIdentifier(oid)) = type_oid else {
        return StorageKind::Other;
    };
    match oid.arcs().strip_prefix(HR_STORAGE_TYPES) {
        Some([2]) => StorageKind::Ram,
        Some([3]) => StorageKind::VirtualMemory,
        Some([4]) => StorageKind::FixedDisk,
        Some([5]) => StorageKind::RemovableDisk,
        Some([9]) => StorageKind::FlashMemory,
        Some([10]) => StorageKind::NetworkDisk,
        _ => StorageKind::Other,
    }
}

/// The walked subtrees of one device.
#[derive(Debug, Clone, Default)]
pub struct Walked {
    pub processor_load: Vec<VarBind>,
    pub storage: Vec<VarBind>,
    pub sensors: Vec<VarBind>,
    /// entPhysicalTable: every column when `inventory` is set, else only
    /// the names and descriptions the sensors are named from.
    pub physical: Vec<VarBind>,
    /// UCD-SNMP-MIB's memory group and systemStats (empty where the agent
    /// has neither).
    pub ucd: Vec<VarBind>,
    pub inventory: bool,
}

impl Vitals {
    pub fn from_walks(w: &Walked) -> Vitals {
        let mut v = Vitals::default();
        let loads: Vec<u8> = w
            .processor_load
            .iter()
            .filter(|vb| vb.oid.arcs().starts_with(HR_PROCESSOR_LOAD))
            .filter_map(|vb| int(Some(&vb.value)))
            .filter_map(|l| u8::try_from(l).ok().filter(|l| *l <= 100))
            .collect();
        if !loads.is_empty() {
            v.cpu_load_pct =
                Some(loads.iter().map(|l| f64::from(*l)).sum::<f64>() / loads.len() as f64);
        }
        v.cpu_loads_pct = loads;
        if v.cpu_load_pct.is_none() {
            v.cpu_load_pct = ucd::cpu_idle_pct(&w.ucd).map(|idle| f64::from(100 - idle));
        }
        match ucd::memory(&w.ucd) {
            Ok(m) => v.memory = m,
            Err(reason) => v.unusable.push(reason),
        }
        v.processors = rows(HR_PROCESSOR_ENTRY, &w.processor_load).len();
        v.read_storage(&rows(HR_STORAGE_ENTRY, &w.storage));
        let physical = rows(ENT_PHYSICAL_ENTRY, &w.physical);
        v.read_sensors(&rows(ENT_PHY_SENSOR_ENTRY, &w.sensors), &physical);
        if w.inventory {
            v.inventory = Some(Inventory::from_rows(&physical));
        }
        v
    }

    fn read_storage(&mut self, table: &Rows) {
        for (index, row) in table {
            let descr = text(row.get(&3)).unwrap_or_else(|| format!("storage {index:?}"));
            let units = int(row.get(&4)).filter(|u| *u > 0);
            let size = int(row.get(&5)).filter(|s| *s >= 0);
            let used = int(row.get(&6)).filter(|u| *u >= 0);
            let (Some(units), Some(size), Some(used)) = (units, size, used) else {
                self.unusable.push(format!(
                    "hrStorageTable {descr}: no allocation units, size or used value"
                ));
                continue;
            };
            // Sizes are in allocation units; a negative (wrapped Integer32)
            // size is filtered above.
            let bytes = |n: i64| (n as u64).saturating_mul(units as u64);
            self.storage.push(Storage {
                descr,
                kind: storage_kind(row.get(&2)),
                size_bytes: bytes(size),
                used_bytes: bytes(used),
            });
        }
    }

    fn read_sensors(&mut self, table: &Rows, physical: &Rows) {
        for (index, row) in table {
            let [index] = index.as_slice() else {
                continue;
            };
            let name = physical
                .get(&vec![*index])
                .and_then(|p| {
                    text(p.get(&7))
                        .filter(|s| !s.is_empty())
                        .or(text(p.get(&2)))
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("sensor {index}"));
            let kind = int(row.get(&1)).and_then(SensorKind::from_code);
            let scale = int(row.get(&2)).and_then(scale_exponent);
            let precision = int(row.get(&3)).filter(|p| (-8..=9).contains(p));
            let value = int(row.get(&4));
            let status = match int(row.get(&5)) {
                Some(1) => Some(SensorStatus::Ok),
                Some(2) => Some(SensorStatus::Unavailable),
                Some(3) => Some(SensorStatus::Nonoperational),
                _ => None,
            };
            let (Some(kind), Some(scale), Some(value), Some(status)) = (kind, scale, value, status)
            else {
                self.unusable.push(format!(
                    "entPhySensorTable {name}: type, scale, value or status missing or out of range"
                ));
                continue;
            };
            // 1..=9: decimal places of a fixed-point value; -8..=0 count
            // accurate digits and do not move the point (RFC 3433).
            let precision = precision.filter(|p| *p > 0).unwrap_or(0) as i32;
            self.sensors.push(Sensor {
                index: *index,
                name,
                kind,
                value: shifted(value, scale - precision),
                status,
                units: text(row.get(&6)).filter(|s| !s.is_empty()),
            });
        }
    }
}

#[cfg(test)]
mod tests;
