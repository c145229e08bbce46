//! The chassis' hardware as discovery records it (ENTITY-MIB): which
//! entPhysicalTable row is the chassis, from two walked columns (class and
//! containedIn), then that one row's model, serial, revisions and maker by
//! a GET, so a chassis of thousands of entities costs two column walks, not
//! the whole table. Pure but for the OIDs the reader asks for.
use crate::snmp::Oid;
use crate::snmp::table::rows;
use crate::topology::Hardware;
use crate::vitals::ENT_PHYSICAL_ENTRY;
use crate::vitals::inventory::{EntityClass, Inventory, PhysicalEntity};
use async_snmp::VarBind;

/// entPhysicalContainedIn and entPhysicalClass: the columns walked whole.
pub const WALKED_COLUMNS: [u32; 2] = [4, 5];
/// Descr, hardware, firmware and software revision, serial, maker, model:
/// read for the chassis row only.
const CHASSIS_COLUMNS: [u32; 7] = [2, 8, 9, 10, 11, 12, 13];

/// The top-level chassis (the first chassis contained in nothing, else the
/// first chassis) as the inventory reads it, with its firmware.
fn chassis(vbs: &[VarBind]) -> Option<(PhysicalEntity, Option<String>)> {
    let inventory = Inventory::from_rows(&rows(ENT_PHYSICAL_ENTRY, vbs));
    let firmware = inventory.firmware().map(str::to_string);
    let c = inventory
        .chassis
        .filter(|c| c.class == EntityClass::Chassis)?;
    Some((c, firmware))
}

/// The chassis' index, from the walked columns.
pub fn chassis_index(vbs: &[VarBind]) -> Option<u32> {
    chassis(vbs).map(|(c, _)| c.index)
}

/// The chassis row's OIDs to GET.
pub fn chassis_oids(index: u32) -> Vec<Oid> {
    CHASSIS_COLUMNS
        .iter()
        .map(|c| {
            let mut oid = ENT_PHYSICAL_ENTRY.to_vec();
            oid.extend([*c, index]);
            Oid::from_slice(&oid)
        })
        .collect()
}

/// The chassis' hardware, when the agent names anything of it.
pub fn hardware(vbs: &[VarBind]) -> Option<Hardware> {
    let (c, firmware) = chassis(vbs)?;
    let hw = Hardware {
        model: c.model,
        serial: c.serial,
        hardware_rev: c.hardware_rev,
        firmware,
        software_rev: c.software_rev,
        maker: c.maker,
    };
    (hw != Hardware::default()).then_some(hw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::{Value, VarBind};
    use bytes::Bytes;

    fn col(c: u32, index: u32, v: Value) -> VarBind {
        let mut oid = ENT_PHYSICAL_ENTRY.to_vec();
        oid.extend([c, index]);
        VarBind::new(Oid::from_slice(&oid), v)
    }

    fn text(s: &str) -> Value {
        Value::OctetString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn the_top_chassis_row_then_its_columns() {
        // A stack: a container (1), two chassis members contained in it
        // (2, 3), a top-level chassis (7), a module (8).
        let mut vbs = vec![
            col(4, 1, Value::Integer(0)),
            col(5, 1, Value::Integer(5)),
            col(4, 2, Value::Integer(1)),
            col(5, 2, Value::Integer(3)),
            col(4, 7, Value::Integer(0)),
            col(5, 7, Value::Integer(3)),
            col(4, 8, Value::Integer(7)),
            col(5, 8, Value::Integer(9)),
        ];
        assert_eq!(chassis_index(&vbs), Some(7));
        assert_eq!(hardware(&vbs), None, "a chassis that names nothing");
        let oids = chassis_oids(7);
        assert_eq!(oids.len(), 7);
        assert_eq!(oids[4].arcs(), [1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11, 7]);
        vbs.extend([
            col(13, 7, text("WS-C3750X-48P ")),
            col(11, 7, text("FDO1234X0YZ\0")),
            col(8, 7, text("V02")),
            col(10, 7, text("15.2(4)E10")),
            col(12, 7, text("")),
        ]);
        let hw = hardware(&vbs).unwrap();
        assert_eq!(hw.model.as_deref(), Some("WS-C3750X-48P"));
        assert_eq!(hw.serial.as_deref(), Some("FDO1234X0YZ"));
        assert_eq!(hw.hardware_rev.as_deref(), Some("V02"));
        // No firmware revision: the software revision stands for it.
        assert_eq!(hw.firmware.as_deref(), Some("15.2(4)E10"));
        assert_eq!(hw.maker, None);
    }

    #[test]
    fn no_entity_table_or_no_chassis() {
        assert_eq!(chassis_index(&[]), None);
        let vbs = [col(4, 1, Value::Integer(0)), col(5, 1, Value::Integer(9))];
        assert_eq!(chassis_index(&vbs), None);
        assert_eq!(hardware(&vbs), None);
    }
}
