//! UCD-SNMP-MIB's memory group (`.1.3.6.1.4.1.2021.4`) and the idle share
//! of its systemStats (`ssCpuIdle`), as net-snmp and the many appliances
//! built on it serve them. Pure.
//!
//! hrStorageRam counts the kernel's buffers and page cache as used, so an
//! idle Linux box reads 80-90 %; UCD gives total, free, buffers and cached
//! apart, so memory in use by programs is total − free − buffers − cached.
use crate::snmp::table::int;
use async_snmp::VarBind;
use serde::Serialize;

pub const UCD_MEMORY: &[u32] = &[1, 3, 6, 1, 4, 1, 2021, 4];
pub const UCD_SYSTEM_STATS: &[u32] = &[1, 3, 6, 1, 4, 1, 2021, 11];
/// ssCpuIdle.0: percent of the last minute the processors were idle.
const SS_CPU_IDLE: &[u32] = &[1, 3, 6, 1, 4, 1, 2021, 11, 11, 0];

/// The memory scalars, in KiB as the MIB gives them. Where the agent also
/// serves the 64-bit `…X` columns (net-snmp 5.6 and later), those win.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UcdMemory {
    pub total_real_kib: u64,
    /// memAvailReal: free, not counting buffers and cache.
    pub free_real_kib: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffer_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_swap_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_swap_kib: Option<u64>,
}

impl UcdMemory {
    /// Memory in use by programs, buffers and cache excluded.
    pub fn used_kib(&self) -> u64 {
        self.total_real_kib
            .saturating_sub(self.free_real_kib)
            .saturating_sub(self.buffer_kib.unwrap_or(0))
            .saturating_sub(self.cached_kib.unwrap_or(0))
    }

    pub fn used_pct(&self) -> Option<f64> {
        (self.total_real_kib > 0)
            .then(|| self.used_kib() as f64 * 100.0 / self.total_real_kib as f64)
    }
}

/// The scalar `.<column>.0` under the memory group, as a non-negative count.
fn scalar(varbinds: &[VarBind], column: u32) -> Option<u64> {
    let oid: Vec<u32> = UCD_MEMORY.iter().copied().chain([column, 0]).collect();
    varbinds
        .iter()
        .find(|vb| vb.oid.arcs() == oid.as_slice())
        .and_then(|vb| int(Some(&vb.value)))
        .and_then(|v| u64::try_from(v).ok())
}

/// The 64-bit column when present, else the 32-bit one.
fn wide(varbinds: &[VarBind], narrow: u32, x: u32) -> Option<u64> {
    scalar(varbinds, x).or_else(|| scalar(varbinds, narrow))
}

/// The memory group from walked varbinds; None without memTotalReal and
/// memAvailReal, and `Err` with the reason when they contradict each other
/// (more free than there is).
pub fn memory(varbinds: &[VarBind]) -> Result<Option<UcdMemory>, String> {
    let (Some(total), Some(free)) = (wide(varbinds, 5, 20), wide(varbinds, 6, 21)) else {
        return Ok(None);
    };
    if free > total {
        return Err(format!(
            "UCD memory: memAvailReal {free} KiB above memTotalReal {total} KiB"
        ));
    }
    Ok(Some(UcdMemory {
        total_real_kib: total,
        free_real_kib: free,
        buffer_kib: wide(varbinds, 14, 25),
        cached_kib: wide(varbinds, 15, 26),
        total_swap_kib: wide(varbinds, 3, 18),
        free_swap_kib: wide(varbinds, 4, 19),
    }))
}

/// ssCpuIdle as a percentage, when the agent gives a sane one.
pub fn cpu_idle_pct(varbinds: &[VarBind]) -> Option<u8> {
    varbinds
        .iter()
        .find(|vb| vb.oid.arcs() == SS_CPU_IDLE)
        .and_then(|vb| int(Some(&vb.value)))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| *v <= 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::Oid;
    use async_snmp::Value;

    fn vb(arcs: &[u32], v: Value) -> VarBind {
        VarBind::new(Oid::from_slice(arcs), v)
    }

    fn mem(column: u32, v: i32) -> VarBind {
        let oid: Vec<u32> = UCD_MEMORY.iter().copied().chain([column, 0]).collect();
        vb(&oid, Value::Integer(v))
    }

    #[test]
    fn used_excludes_buffers_and_cache() {
        // As net-snmp 5.9 on a 2 GiB box: 1,000 MiB free, 100 in buffers,
        // 500 cached.
        let m = memory(&[
            mem(5, 2_097_152),
            mem(6, 1_024_000),
            mem(14, 102_400),
            mem(15, 512_000),
            mem(3, 1_048_576),
            mem(4, 1_048_576),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(m.used_kib(), 2_097_152 - 1_024_000 - 102_400 - 512_000);
        let pct = m.used_pct().unwrap();
        assert!((pct - 21.875).abs() < 1e-9, "{pct}");
        assert_eq!(m.total_swap_kib, Some(1_048_576));
    }

    #[test]
    fn the_64_bit_columns_win() {
        let oid: Vec<u32> = UCD_MEMORY.iter().copied().chain([20, 0]).collect();
        let m = memory(&[
            mem(5, 1),
            mem(6, 0),
            vb(&oid, Value::Counter64(8_000_000_000)),
            mem(21, 2_000_000_000),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(m.total_real_kib, 8_000_000_000);
        assert_eq!(m.free_real_kib, 2_000_000_000);
        assert_eq!(m.used_pct(), Some(75.0));
    }

    #[test]
    fn missing_or_contradictory_figures() {
        assert_eq!(memory(&[mem(5, 100)]), Ok(None));
        assert_eq!(memory(&[]), Ok(None));
        let err = memory(&[mem(5, 100), mem(6, 200)]).unwrap_err();
        assert!(err.contains("memAvailReal 200"), "{err}");
        // Buffers and cache larger than what is not free: used is 0, not a wrap.
        let m = memory(&[mem(5, 100), mem(6, 50), mem(15, 80)])
            .unwrap()
            .unwrap();
        assert_eq!(m.used_kib(), 0);
    }

    #[test]
    fn cpu_idle_only_when_sane() {
        assert_eq!(
            cpu_idle_pct(&[vb(SS_CPU_IDLE, Value::Integer(97))]),
            Some(97)
        );
        assert_eq!(cpu_idle_pct(&[vb(SS_CPU_IDLE, Value::Integer(101))]), None);
        assert_eq!(cpu_idle_pct(&[vb(SS_CPU_IDLE, Value::Integer(-1))]), None);
        assert_eq!(cpu_idle_pct(&[]), None);
    }
}
