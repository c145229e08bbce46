//! Device vitals as gauges: processor load, storage size and use, UCD
//! memory by use, and each
//! sensor's value in its kind's base unit with its status, and the
//! chassis' inventory as an info gauge. Labelled by
//! device id and sysName like the device gauges; storage and sensor names
//! are device strings, escaped by the exposition like every label. Pure.
use super::metrics::{Family, MetricKind, MetricSample, family};
use crate::live::LiveView;
use crate::vitals::SensorStatus;

pub(super) fn vitals_families(s: &LiveView<'_>, out: &mut Vec<Family>) {
    use MetricKind::Gauge;
    let mut cpu = family(
        "nocmap_device_cpu_load_ratio",
        "Mean processor load over the last minute (hrProcessorLoad), 0 to 1.",
        Gauge,
    );
    let mut size = family(
        "nocmap_device_storage_size_bytes",
        "Size of a storage area (hrStorageTable: RAM, virtual memory, disks).",
        Gauge,
    );
    let mut used = family(
        "nocmap_device_storage_used_bytes",
        "Space used in a storage area (hrStorageTable).",
        Gauge,
    );
    let mut memory = family(
        "nocmap_device_memory_bytes",
        "Memory by use from UCD-SNMP-MIB (state: total, free, buffers, cached, used = what programs use, buffers and cache excluded).",
        Gauge,
    );
    let mut sensor = family(
        "nocmap_device_sensor_value",
        "A physical sensor's reading (ENTITY-SENSOR-MIB) in its kind's base unit: celsius, volts, amperes, watts, hertz, rpm, percent RH.",
        Gauge,
    );
    let mut sensor_ok = family(
        "nocmap_device_sensor_ok",
        "1 when the sensor reports ok, 0 when unavailable or nonoperational.",
        Gauge,
    );
    let mut hardware = family(
        "nocmap_device_hardware_info",
        "The chassis' model, serial, hardware and firmware revision (ENTITY-MIB entPhysicalTable); always 1.",
        Gauge,
    );
    let names = super::metrics::sys_names(s);
    for (id, h) in s.devices {
        let Some(v) = &h.vitals else { continue };
        let base = || {
            vec![
                ("device", id.0.clone()),
                ("sys_name", names.get(id).unwrap_or(&"").to_string()),
            ]
        };
        if let Some(load) = v.cpu_load_pct {
            cpu.samples.push(MetricSample::plain(base(), load / 100.0));
        }
        for st in &v.storage {
            let mut l = base();
            l.push(("storage", st.descr.clone()));
            l.push(("kind", format!("{:?}", st.kind).to_lowercase()));
            size.samples
                .push(MetricSample::plain(l.clone(), st.size_bytes as f64));
            used.samples
                .push(MetricSample::plain(l, st.used_bytes as f64));
        }
        if let Some(m) = &v.memory {
            let states = [
                ("total", Some(m.total_real_kib)),
                ("free", Some(m.free_real_kib)),
                ("buffers", m.buffer_kib),
                ("cached", m.cached_kib),
                ("used", Some(m.used_kib())),
            ];
            for (state, kib) in states {
                let Some(kib) = kib else { continue };
                let mut l = base();
                l.push(("state", state.to_string()));
                let bytes = kib.saturating_mul(1024) as f64;
                memory.samples.push(MetricSample::plain(l, bytes));
            }
        }
        for se in &v.sensors {
            let mut l = base();
            l.push(("sensor", se.name.clone()));
            l.push(("index", se.index.to_string()));
            l.push(("kind", se.kind.as_str().to_string()));
            sensor
                .samples
                .push(MetricSample::plain(l.clone(), se.value));
            let ok = f64::from(u8::from(se.status == SensorStatus::Ok));
            sensor_ok.samples.push(MetricSample::plain(l, ok));
        }
        if let Some(inv) = &v.inventory
            && let Some(c) = &inv.chassis
        {
            let text = |v: Option<&str>| v.unwrap_or("").to_string();
            let mut l = base();
            l.push(("model", text(c.model.as_deref())));
            l.push(("serial", text(c.serial.as_deref())));
            l.push(("hardware", text(c.hardware_rev.as_deref())));
            l.push(("firmware", text(inv.firmware())));
            hardware.samples.push(MetricSample::plain(l, 1.0));
        }
    }
    out.extend([cpu, size, used, memory, sensor, sensor_ok, hardware]);
}
