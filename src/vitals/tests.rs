use super::*;
use async_snmp::{Oid, Value};

fn vb(arcs: &[u32], value: Value) -> VarBind {
    VarBind::new(Oid::from_slice(arcs), value)
}

fn col(entry: &[u32], col: u32, index: &[u32], value: Value) -> VarBind {
    let mut arcs = entry.to_vec();
    arcs.push(col);
    arcs.extend_from_slice(index);
    vb(&arcs, value)
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec().into())
}

fn hr_type(n: u32) -> Value {
    let mut arcs = HR_STORAGE_TYPES.to_vec();
    arcs.push(n);
    Value::ObjectIdentifier(Oid::from_slice(&arcs))
}

#[test]
fn cpu_is_the_mean_of_the_processors() {
    let mut w = Walked::default();
    for (i, load) in [(196608, 10), (196609, 30)] {
        let mut arcs = HR_PROCESSOR_LOAD.to_vec();
        arcs.push(i);
        w.processor_load.push(vb(&arcs, Value::Integer(load)));
    }
    let v = Vitals::from_walks(&w);
    assert_eq!(v.cpu_load_pct, Some(20.0));
    assert_eq!(v.cpu_loads_pct, [10, 30]);
    assert_eq!(Vitals::from_walks(&Walked::default()).cpu_load_pct, None);
}

#[test]
fn storage_in_bytes_with_its_kind() {
    let e = HR_STORAGE_ENTRY;
    let w = Walked {
        storage: vec![
            col(e, 2, &[1], hr_type(2)),
            col(e, 3, &[1], text("Physical memory")),
            col(e, 4, &[1], Value::Integer(1024)),
            col(e, 5, &[1], Value::Integer(2_000_000)),
            col(e, 6, &[1], Value::Integer(500_000)),
            col(e, 2, &[31], hr_type(4)),
            col(e, 3, &[31], text("/")),
            col(e, 4, &[31], Value::Integer(4096)),
            col(e, 5, &[31], Value::Integer(1000)),
            col(e, 6, &[31], Value::Integer(250)),
            // No size: unusable, with its reason.
            col(e, 3, &[40], text("/broken")),
        ],
        ..Default::default()
    };
    let v = Vitals::from_walks(&w);
    assert_eq!(v.storage.len(), 2);
    assert_eq!(v.storage[0].kind, StorageKind::Ram);
    assert_eq!(v.storage[0].size_bytes, 2_048_000_000);
    assert_eq!(v.storage[0].used_ratio(), 0.25);
    assert_eq!(v.storage[1].kind, StorageKind::FixedDisk);
    assert_eq!(v.storage[1].used_bytes, 1_024_000);
    assert_eq!(v.unusable.len(), 1);
    assert!(v.unusable[0].contains("/broken"), "{:?}", v.unusable);
}

#[test]
fn sensors_scaled_to_base_units_and_named() {
    let e = ENT_PHY_SENSOR_ENTRY;
    let p = ENT_PHYSICAL_ENTRY;
    let sensor = |index: u32, kind: i32, scale: i32, precision: i32, value: i32, status: i32| {
        vec![
            col(e, 1, &[index], Value::Integer(kind)),
            col(e, 2, &[index], Value::Integer(scale)),
            col(e, 3, &[index], Value::Integer(precision)),
            col(e, 4, &[index], Value::Integer(value)),
            col(e, 5, &[index], Value::Integer(status)),
        ]
    };
    let mut sensors = Vec::new();
    sensors.extend(sensor(10, 8, 9, 1, 415, 1)); // 41.5 °C
    sensors.extend(sensor(11, 4, 8, 0, 3300, 1)); // 3300 mV = 3.3 V
    sensors.extend(sensor(12, 10, 9, 0, 6000, 3)); // a fan, failed
    sensors.extend(sensor(13, 6, 10, -2, 12, 1)); // 12 kW, 2 accurate digits
    sensors.extend(sensor(14, 8, 99, 0, 1, 1)); // scale out of range
    let w = Walked {
        sensors,
        physical: vec![
            col(p, 7, &[10], text("CPU temp")),
            col(p, 2, &[11], text("3.3V rail")),
            col(p, 7, &[11], text("")),
        ],
        ..Default::default()
    };
    let v = Vitals::from_walks(&w);
    let got: Vec<(&str, SensorKind, f64, SensorStatus)> = v
        .sensors
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.value, s.status))
        .collect();
    assert_eq!(
        got,
        [
            ("CPU temp", SensorKind::Celsius, 41.5, SensorStatus::Ok),
            ("3.3V rail", SensorKind::VoltsDc, 3.3, SensorStatus::Ok),
            (
                "sensor 12",
                SensorKind::Rpm,
                6000.0,
                SensorStatus::Nonoperational
            ),
            ("sensor 13", SensorKind::Watts, 12000.0, SensorStatus::Ok),
        ]
    );
    assert_eq!(v.unusable.len(), 1, "{:?}", v.unusable);
}

#[test]
fn exa_and_peta_follow_their_names_not_their_codes() {
    assert_eq!(scale_exponent(14), Some(18));
    assert_eq!(scale_exponent(15), Some(15));
    assert_eq!(scale_exponent(9), Some(0));
    assert_eq!(scale_exponent(0), None);
}
